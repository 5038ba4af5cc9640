-- Customer messages translated for the agents: beside the original, never
-- replacing it. `text` is NULL when the provider refused this one (`error`).
CREATE TABLE message_translations (
    message_id BIGINT NOT NULL REFERENCES messages (id),
    language TEXT NOT NULL,
    text TEXT,
    error TEXT,
    provider TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, language)
);

-- What a provider already translated: a text is never paid for twice.
-- `key` is the SHA-256 of provider, source and target languages and the text.
CREATE TABLE translation_cache (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- How far the translation worker has read the messages, per target language.
CREATE TABLE translation_progress (
    target TEXT PRIMARY KEY,
    last_message_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
