-- Erasure and retention. A conversation under legal hold (a dispute, a
-- warranty claim) is never erased, by a request or by a retention policy,
-- until the hold is lifted. An erased conversation keeps its skeleton
-- (channel, queue, priority, times) for the KPIs, and says when it was erased.
ALTER TABLE conversations ADD COLUMN legal_hold TEXT;
ALTER TABLE conversations ADD COLUMN legal_hold_by BIGINT REFERENCES agents (id);
ALTER TABLE conversations ADD COLUMN legal_hold_at BIGINT;
ALTER TABLE conversations ADD COLUMN erased_at BIGINT;
CREATE INDEX conversations_resolved ON conversations (status, resolved_at);

-- A visitor's request from the widget, waiting for an admin.
CREATE TABLE erasure_requests (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    via TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    done_at BIGINT,
    done_by BIGINT REFERENCES agents (id)
);
CREATE INDEX erasure_requests_open ON erasure_requests (done_at, requested_at);
