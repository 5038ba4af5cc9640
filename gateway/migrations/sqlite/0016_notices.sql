-- Notices that belong to no conversation — the weekly summary mail, account
-- alerts to the supervisor webhook — queued once under their key (whichever
-- node gets there first) and retried with the outbox's backoff until
-- delivered or given up. The outbox proper carries conversations' messages.
CREATE TABLE notices (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX notices_due ON notices (status, next_attempt_at);
