-- One row per WhatsApp customer, whichever identifiers Meta gave: the phone
-- number, the business-scoped user id (BSUID), or both once a message carried
-- both. `address` is what their conversations are keyed by (the first
-- identifier seen) and never changes, so history stays in one thread.
CREATE TABLE whatsapp_customers (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    phone TEXT UNIQUE,
    bsuid TEXT UNIQUE,
    parent_bsuid TEXT,
    username TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX whatsapp_customers_address ON whatsapp_customers (address);
