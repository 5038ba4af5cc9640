-- Same as migrations/sqlite. SLA timers: one per conversation and kind (first_response, next_response,
-- resolution), counted in business time. `used_ms` is business time consumed
-- before the current run; `running_since` is null while paused.
CREATE TABLE sla_timers (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    kind TEXT NOT NULL,
    calendar TEXT NOT NULL,
    state TEXT NOT NULL,
    budget_ms BIGINT NOT NULL,
    used_ms BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    running_since BIGINT,
    due_at BIGINT,
    met_at BIGINT,
    breached_at BIGINT,
    PRIMARY KEY (conversation_id, kind)
);
CREATE INDEX sla_timers_due ON sla_timers (state, due_at);
-- Set while the conversation waits for the customer: its timers are paused.
ALTER TABLE conversations ADD COLUMN awaiting_customer_since BIGINT;
