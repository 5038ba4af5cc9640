-- Same as migrations/sqlite. Email: mailbox checkpoints, Message-IDs for threading, conversation participants,
-- why a message was threaded where it was, and automatic-mail markers.
ALTER TABLE messages ADD COLUMN auto TEXT;
ALTER TABLE messages ADD COLUMN thread_reason TEXT;
ALTER TABLE conversations ADD COLUMN subject_key TEXT;
CREATE INDEX conversations_subject ON conversations (customer_address, subject_key);

CREATE TABLE mailbox_state (
    mailbox TEXT PRIMARY KEY,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Message-IDs of incoming mail (ours are in outbox.external_id).
CREATE TABLE mail_ids (
    mail_id TEXT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    message_id BIGINT NOT NULL REFERENCES messages (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_ids_id ON mail_ids (mail_id);
CREATE INDEX mail_ids_conversation ON mail_ids (conversation_id, created_at);

-- From, To and Cc of a mail conversation; agents can leave someone out of replies.
CREATE TABLE participants (
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    address TEXT NOT NULL,
    name TEXT,
    role TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, address)
);
