-- Level 1's questions to the customer, one conversation a row: what is known,
-- the question waiting for an answer, what was asked before, how many went
-- unanswered, and why the questions stopped. Facts are comma-separated names.
CREATE TABLE qualifications (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id),
    known TEXT NOT NULL,
    asked TEXT,
    asked_before TEXT NOT NULL,
    unanswered BIGINT NOT NULL,
    stopped TEXT,
    updated_at BIGINT NOT NULL
);
