-- WhatsApp calls with the customer, one row per call (its events update it),
-- for the conversation's escalation panel; the thread keeps a note per event.
CREATE TABLE whatsapp_calls (
    call_id TEXT PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    status TEXT NOT NULL,
    duration_secs BIGINT,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX whatsapp_calls_conversation ON whatsapp_calls (conversation_id);
