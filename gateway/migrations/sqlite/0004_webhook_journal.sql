-- Verified webhook bodies, committed before the 200 and processed afterwards
-- (messages through the pipeline; receipts, reactions and errors applied).
CREATE TABLE webhook_journal (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    processed_at BIGINT
);
CREATE INDEX webhook_journal_pending ON webhook_journal (status, id);
