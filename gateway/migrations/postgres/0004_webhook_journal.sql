-- Same as migrations/sqlite, plus the webhook journal table, which SQLite keeps
-- in a file of its own. Verified webhook bodies are committed here before the
-- 200 and processed afterwards.
ALTER TABLE channel_errors ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX channel_errors_source ON channel_errors (source_key);

CREATE TABLE webhook_journal (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    processed_at BIGINT
);
CREATE INDEX webhook_journal_pending ON webhook_journal (status, id);
