-- What admins did with personal data (an export, an erasure): who, when,
-- about whom, and counts — never the data itself.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    agent_id BIGINT REFERENCES agents (id),
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
