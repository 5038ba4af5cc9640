-- Triage rules edited in the inbox: every saved version, never changed
-- afterwards; the newest one is in force. A version without source means
-- "back to the configured file (or the built-in rules)"; a restore copies an
-- older version into a new one, so the history reads in order.
CREATE TABLE rule_versions (
    id BIGSERIAL PRIMARY KEY,
    source TEXT,
    note TEXT NOT NULL,
    agent_id BIGINT REFERENCES agents (id),
    restored_from BIGINT,
    created_at BIGINT NOT NULL
);
