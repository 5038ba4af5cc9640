-- A body whose message the store refuses is retried a few times, then set
-- aside (status 'failed', kept for the admin) so the bodies after it flow.
ALTER TABLE webhook_journal ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
