-- Intervention reports: the current state of each conversation's report, and
-- every version saved (who, when, draft or validated), never rewritten.
CREATE TABLE intervention_reports (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_by BIGINT REFERENCES agents (id),
    updated_at BIGINT NOT NULL,
    validated_by BIGINT REFERENCES agents (id),
    validated_at BIGINT
);
CREATE TABLE intervention_report_versions (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    content TEXT NOT NULL,
    agent_id BIGINT REFERENCES agents (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, version)
);
