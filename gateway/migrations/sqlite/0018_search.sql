-- Search. Messages, attachment names and what identifies a customer are
-- indexed by FTS5 over the tables themselves (external content: the index
-- holds terms, not copies), kept in step by triggers, so a message is
-- findable in the transaction that stores it. Case and accents fold in the
-- tokenizer; word forms are the query's business (stems as prefixes).
CREATE VIRTUAL TABLE messages_fts USING fts5(
    subject, body, quoted,
    content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, subject, body, quoted) VALUES (new.id, new.subject, new.body, new.quoted);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body, quoted ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, body, quoted)
        VALUES ('delete', old.id, old.subject, old.body, old.quoted);
    INSERT INTO messages_fts (rowid, subject, body, quoted) VALUES (new.id, new.subject, new.body, new.quoted);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, body, quoted)
        VALUES ('delete', old.id, old.subject, old.body, old.quoted);
END;

CREATE VIRTUAL TABLE attachments_fts USING fts5(
    name,
    content = 'attachments', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO attachments_fts (attachments_fts) VALUES ('rebuild');
CREATE TRIGGER attachments_fts_insert AFTER INSERT ON attachments BEGIN
    INSERT INTO attachments_fts (rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER attachments_fts_delete AFTER DELETE ON attachments BEGIN
    INSERT INTO attachments_fts (attachments_fts, rowid, name) VALUES ('delete', old.id, old.name);
END;

CREATE VIRTUAL TABLE customers_fts USING fts5(
    customer_name, customer_address, customer_email, customer_phone, customer_company,
    content = 'conversations', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO customers_fts (customers_fts) VALUES ('rebuild');
CREATE TRIGGER customers_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO customers_fts (rowid, customer_name, customer_address, customer_email, customer_phone, customer_company)
        VALUES (new.id, new.customer_name, new.customer_address, new.customer_email, new.customer_phone, new.customer_company);
END;
-- Every customer message sets these columns (COALESCE keeps what was known):
-- the index is only touched when one really changed.
CREATE TRIGGER customers_fts_update
AFTER UPDATE OF customer_name, customer_address, customer_email, customer_phone, customer_company ON conversations
WHEN old.customer_name IS NOT new.customer_name OR old.customer_address IS NOT new.customer_address
  OR old.customer_email IS NOT new.customer_email OR old.customer_phone IS NOT new.customer_phone
  OR old.customer_company IS NOT new.customer_company
BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, customer_name, customer_address, customer_email, customer_phone, customer_company)
        VALUES ('delete', old.id, old.customer_name, old.customer_address, old.customer_email, old.customer_phone, old.customer_company);
    INSERT INTO customers_fts (rowid, customer_name, customer_address, customer_email, customer_phone, customer_company)
        VALUES (new.id, new.customer_name, new.customer_address, new.customer_email, new.customer_phone, new.customer_company);
END;

-- The codes a conversation mentioned (serials, models, fault codes,
-- firmware, phone numbers), as written and normalised (`search::code::
-- normalise`), so `E-301`, `E301` and `e 301` are one code and a machine's
-- history is one indexed lookup. Written with the verdict that found them.
CREATE TABLE fact_mentions (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    message_id BIGINT REFERENCES messages (id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    norm TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX fact_mentions_norm ON fact_mentions (norm, kind);
CREATE INDEX fact_mentions_conversation ON fact_mentions (conversation_id);
INSERT INTO fact_mentions (conversation_id, message_id, kind, value, norm, created_at)
SELECT v.conversation_id, v.message_id, k.kind, j.value,
       upper(replace(replace(replace(replace(replace(j.value, '-', ''), ' ', ''), '.', ''), '/', ''), '_', '')),
       v.created_at
FROM verdicts v
CROSS JOIN (SELECT 'serial' AS kind, '$.fields.serials' AS path UNION ALL SELECT 'model', '$.fields.models'
            UNION ALL SELECT 'fault_code', '$.fields.fault_codes' UNION ALL SELECT 'firmware', '$.fields.firmware') k
CROSS JOIN json_each(v.detail, k.path) j;

-- Two customer records found to be one person: `address` now counts as
-- `into_address`. Never deleted; an undone merge keeps its row.
CREATE TABLE customer_merges (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    into_address TEXT NOT NULL,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    created_at BIGINT NOT NULL,
    undone_by BIGINT REFERENCES agents (id),
    undone_at BIGINT
);
-- One merge in force per address.
CREATE UNIQUE INDEX customer_merges_active ON customer_merges (address) WHERE undone_at IS NULL;
