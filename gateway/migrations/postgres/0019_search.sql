-- Search. The same facts as migrations/sqlite, through PostgreSQL's own
-- engines: a text search configuration that folds accents (unaccent) over
-- the `simple` dictionary, GIN expression indexes (no stored copy), and
-- trigram indexes for codes. Word forms are the query's business (stems as
-- prefixes), as on SQLite, so both backends find the same messages.
-- Both extensions are trusted: a database owner may create them.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TEXT SEARCH CONFIGURATION sy_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION sy_search ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

-- Separators become spaces first, so `E-301`, `22-0417` and `jane@acme.com`
-- split into words as SQLite's unicode61 splits them (PostgreSQL's parser
-- would read `-301` as a signed number and keep an address whole).
CREATE FUNCTION sy_doc(a TEXT, b TEXT, c TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('sy_search'::regconfig,
        translate(coalesce(a, '') || ' ' || coalesce(b, '') || ' ' || coalesce(c, ''), '-_/@.:+#', '        '))
$$;

-- Stored, not an expression index: a phrase (`e <-> 301`) is checked against
-- the row's vector, which would otherwise be computed again for every candidate.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (sy_doc(subject, body, quoted)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
CREATE INDEX attachments_search ON attachments USING GIN (sy_doc(name, NULL, NULL));
CREATE FUNCTION sy_customer_doc(name TEXT, address TEXT, email TEXT, phone TEXT, company TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sy_doc(coalesce(name, '') || ' ' || coalesce(company, ''), address,
                  coalesce(email, '') || ' ' || coalesce(phone, ''))
$$;
CREATE INDEX customers_search ON conversations USING GIN (
    sy_customer_doc(customer_name, customer_address, customer_email, customer_phone, customer_company)
);

CREATE TABLE fact_mentions (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    message_id BIGINT REFERENCES messages (id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    norm TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX fact_mentions_norm ON fact_mentions (norm, kind);
CREATE INDEX fact_mentions_trgm ON fact_mentions USING GIN (norm gin_trgm_ops);
CREATE INDEX fact_mentions_conversation ON fact_mentions (conversation_id);
INSERT INTO fact_mentions (conversation_id, message_id, kind, value, norm, created_at)
SELECT v.conversation_id, v.message_id, k.kind, j.value,
       upper(regexp_replace(j.value, '[^[:alnum:]]', '', 'g')), v.created_at
FROM verdicts v
CROSS JOIN (VALUES ('serial', 'serials'), ('model', 'models'), ('fault_code', 'fault_codes'), ('firmware', 'firmware')) AS k (kind, field)
CROSS JOIN LATERAL jsonb_array_elements_text((v.detail::jsonb) -> 'fields' -> k.field) AS j (value);

CREATE TABLE customer_merges (
    id BIGSERIAL PRIMARY KEY,
    address TEXT NOT NULL,
    into_address TEXT NOT NULL,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    created_at BIGINT NOT NULL,
    undone_by BIGINT REFERENCES agents (id),
    undone_at BIGINT
);
-- One merge in force per address.
CREATE UNIQUE INDEX customer_merges_active ON customer_merges (address) WHERE undone_at IS NULL;
