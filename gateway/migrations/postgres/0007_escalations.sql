-- Same as migrations/sqlite. Escalations of a conversation: a callback task (number, preferred slot, call
-- outcome) or a video-assistance room. The conversation stays the record.
CREATE TABLE escalations (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    phone TEXT,
    preferred_slot TEXT,
    room_url TEXT,
    outcome TEXT,
    notes TEXT,
    agent_id BIGINT REFERENCES agents (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX escalations_open ON escalations (status, created_at);
CREATE INDEX escalations_conversation ON escalations (conversation_id);
