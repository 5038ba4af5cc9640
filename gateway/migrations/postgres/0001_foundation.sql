-- Same schema as migrations/sqlite; ids are BIGSERIAL here.
CREATE TABLE agents (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    chat_key TEXT UNIQUE,
    customer_address TEXT NOT NULL,
    customer_name TEXT,
    customer_email TEXT,
    customer_phone TEXT,
    customer_company TEXT,
    machine_serial TEXT,
    subject TEXT,
    language TEXT,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    queue TEXT NOT NULL,
    escalation TEXT NOT NULL,
    assignee_id BIGINT REFERENCES agents (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_customer_at BIGINT NOT NULL,
    first_response_at BIGINT,
    resolved_at BIGINT
);
CREATE INDEX conversations_customer ON conversations (customer_address, status);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_agent_id BIGINT REFERENCES agents (id),
    author_name TEXT,
    channel TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    external_id TEXT,
    client_id TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    quoted TEXT,
    html TEXT,
    raw_ref TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (channel, endpoint, external_id)
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    name TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    name TEXT,
    content_type TEXT NOT NULL,
    size BIGINT,
    sha256 TEXT,
    remote_handle TEXT
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE verdicts (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    message_id BIGINT NOT NULL REFERENCES messages (id),
    priority TEXT NOT NULL,
    queue TEXT NOT NULL,
    escalation TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX verdicts_conversation ON verdicts (conversation_id, id);

-- One row per open conversation; waiting_since is the oldest unanswered customer message.
CREATE TABLE queue_entries (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id),
    queue TEXT NOT NULL,
    priority_rank BIGINT NOT NULL,
    waiting_since BIGINT
);
CREATE INDEX queue_entries_order ON queue_entries (queue, priority_rank, waiting_since);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL UNIQUE REFERENCES messages (id),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    external_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_conversation ON outbox (conversation_id, status);
