-- An admin can disable an account: its sessions end and it cannot log in.
ALTER TABLE agents ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;

-- Keys the gateway signs with (visitor tokens it issued, file links), shared
-- by every node on the same store.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX uploads_created ON uploads (created_at);
CREATE INDEX uploads_owner ON uploads (owner_key, created_at);

-- The upload sweeper removes a blob only when nothing names it any more.
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX messages_raw_ref ON messages (raw_ref);
