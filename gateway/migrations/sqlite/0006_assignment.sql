-- Dispatch: which queues an agent works, how many open conversations they
-- may hold, whether they are there; when a conversation was offered to its
-- assignee (automatic assignments only) and the history of offers.
ALTER TABLE agents ADD COLUMN max_open BIGINT NOT NULL DEFAULT 5;
ALTER TABLE agents ADD COLUMN presence TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE agents ADD COLUMN presence_at BIGINT;
CREATE TABLE agent_queues (
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    queue TEXT NOT NULL,
    PRIMARY KEY (agent_id, queue)
);
ALTER TABLE conversations ADD COLUMN assigned_at BIGINT;
CREATE TABLE assignment_log (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    offered_at BIGINT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX assignment_log_conversation ON assignment_log (conversation_id, agent_id);
