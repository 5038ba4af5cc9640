-- Where an audited action came from (the client's address, behind trusted
-- proxies the real one); NULL for what the gateway did by itself.
ALTER TABLE audit_log ADD COLUMN client TEXT;
CREATE INDEX audit_log_action ON audit_log (action, at);
