-- Same as migrations/sqlite. WhatsApp: delivery receipts, reactions, value-level errors, media downloads,
-- and channel-specific outbound content (templates, buttons).
ALTER TABLE outbox ADD COLUMN payload TEXT;

CREATE TABLE delivery_receipts (
    message_external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    recipient TEXT,
    error_code BIGINT,
    error TEXT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (message_external_id, status)
);

CREATE TABLE reactions (
    target_external_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    emoji TEXT NOT NULL,
    external_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (target_external_id, sender)
);

CREATE TABLE channel_errors (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    code BIGINT,
    title TEXT NOT NULL,
    details TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE media_jobs (
    id BIGSERIAL PRIMARY KEY,
    attachment_id BIGINT NOT NULL UNIQUE REFERENCES attachments (id),
    endpoint TEXT NOT NULL,
    media_id TEXT NOT NULL,
    expected_sha256 TEXT,
    content_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX media_jobs_due ON media_jobs (status, next_attempt_at);
CREATE INDEX outbox_external ON outbox (external_id);
