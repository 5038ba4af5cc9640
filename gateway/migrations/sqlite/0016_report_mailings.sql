-- The weekly summary mail: one row per week (its Monday), queued once by
-- whichever node gets there first, retried until sent or given up.
CREATE TABLE report_mailings (
    week TEXT PRIMARY KEY,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
