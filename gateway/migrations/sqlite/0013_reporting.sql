-- Reporting facts the conversation row cannot keep: every resolution and
-- reopening (the row holds only the last state), and each knowledge answer
-- sent. Written in the transaction of their cause. Conversations resolved
-- before this table existed get their last resolution.
CREATE TABLE conversation_events (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    agent_id BIGINT REFERENCES agents (id),
    detail TEXT
);
CREATE INDEX conversation_events_conversation ON conversation_events (conversation_id, at);
CREATE INDEX conversations_created ON conversations (created_at);
INSERT INTO conversation_events (conversation_id, kind, at)
    SELECT id, 'resolved', resolved_at FROM conversations WHERE status = 'resolved' AND resolved_at IS NOT NULL;
