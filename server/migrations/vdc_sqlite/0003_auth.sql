-- Who may do what (the same tables as the vdc's catalogue): users, browser sessions, API tokens,
-- sign-in throttling, and the audit log. Secrets are stored only as SHA-256 digests, passwords as
-- argon2id hashes.

CREATE TABLE users (
    username      TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    username     TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- The absolute end of the session, however active it stays.
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (username);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    username     TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (username);

-- Failed sign-ins per user (`user:<name>`) and per source address (`addr:<ip>`).
CREATE TABLE login_failures (
    key            TEXT PRIMARY KEY NOT NULL,
    failures       BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until   BIGINT NOT NULL
);

CREATE TABLE audit (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       BIGINT NOT NULL,
    username TEXT,
    source   TEXT,
    action   TEXT NOT NULL,
    target   TEXT,
    outcome  TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (at);
