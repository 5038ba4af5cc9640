-- Template states as Meta reports them (a paused or rejected template cannot
-- be sent), and customers' marketing opt-outs.
CREATE TABLE whatsapp_template_states (
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (name, language)
);
ALTER TABLE whatsapp_customers ADD COLUMN marketing_opt_out_at BIGINT;
