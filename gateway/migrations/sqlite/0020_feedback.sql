-- A knowledge answer sent without a human, waiting for the customer's
-- verdict ("did this solve it?"): held from the agents until `hold_until`
-- unless the customer writes again. `message_id` is the answer itself; any
-- customer message after it ends the wait. `outcome`: solved, not_solved.
CREATE TABLE knowledge_checks (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id),
    entry TEXT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    sent_at BIGINT NOT NULL,
    hold_until BIGINT NOT NULL,
    outcome TEXT,
    answered_at BIGINT,
    answered_via TEXT
);

-- The satisfaction question, at most one per conversation: who resolved it,
-- where it went, and the customer's answer (good or bad, with a comment).
CREATE TABLE satisfaction (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id),
    agent_id BIGINT REFERENCES agents (id),
    channel TEXT NOT NULL,
    queue TEXT NOT NULL,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rating TEXT,
    comment TEXT,
    answered_at BIGINT,
    answered_via TEXT
);
CREATE INDEX satisfaction_answered ON satisfaction (answered_at);

-- What a supervisor entered for the worth estimate (phone share, call
-- length…), one row per variable; what Switchyard measures is never stored here.
CREATE TABLE worth_inputs (
    name TEXT PRIMARY KEY,
    value DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES agents (id)
);
