-- Same as migrations/sqlite. Knowledge entries written from validated intervention reports: a draft a
-- supervisor edits, then publishes (it joins the FAQ matcher) or retires.
CREATE TABLE knowledge_entries (
    id TEXT PRIMARY KEY,
    conversation_id BIGINT REFERENCES conversations (id),
    status TEXT NOT NULL,
    draft TEXT NOT NULL,
    created_by BIGINT REFERENCES agents (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_by BIGINT REFERENCES agents (id),
    published_at BIGINT
);
CREATE INDEX conversation_events_detail ON conversation_events (kind, detail);
