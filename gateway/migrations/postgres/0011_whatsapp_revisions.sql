-- A customer may edit or delete a WhatsApp message they sent. The message
-- keeps its latest text; every earlier version stays here for the record.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
CREATE TABLE message_versions (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    body TEXT NOT NULL,
    replaced_at BIGINT NOT NULL,
    source_id TEXT NOT NULL UNIQUE
);
CREATE INDEX message_versions_message ON message_versions (message_id, id);

-- What channels report is an error (something failed) or information (a
-- webhook field recorded but not acted on).
ALTER TABLE channel_errors ADD COLUMN kind TEXT NOT NULL DEFAULT 'error';
