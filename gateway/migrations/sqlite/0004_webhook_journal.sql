-- Value-level errors replayed from the webhook journal are recorded once.
-- (The journal itself lives in its own SQLite file, created by the store:
-- its writes never wait for the pipeline's transactions.)
ALTER TABLE channel_errors ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX channel_errors_source ON channel_errors (source_key);
