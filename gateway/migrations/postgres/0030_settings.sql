-- Settings an admin changed in the inbox, in force instead of the
-- configuration file's (the service levels' calendars and targets): one JSON
-- document per key, who changed it last and when.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    agent_id BIGINT REFERENCES agents (id),
    updated_at BIGINT NOT NULL
);
