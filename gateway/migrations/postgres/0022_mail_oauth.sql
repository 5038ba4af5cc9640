-- A mailbox connected through OAuth 2 by an admin: its refresh token, sealed
-- with SWITCHYARD_SECRET_KEY (never stored in clear), who connected it and when.
CREATE TABLE mail_oauth (
    mailbox TEXT PRIMARY KEY,
    refresh_token TEXT NOT NULL,
    connected_as TEXT,
    connected_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Connections under way: the authorization request's state and its PKCE
-- verifier, taken once by the callback (any node may receive it).
CREATE TABLE oauth_pending (
    state TEXT PRIMARY KEY,
    mailbox TEXT NOT NULL,
    verifier TEXT NOT NULL,
    admin TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
