-- Accounts, sessions and API tokens (issue 3). Small reference tables: on a distributed
-- PostgreSQL they are reference tables, replicated to every node.

CREATE TABLE accounts (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    role                 TEXT NOT NULL CHECK (role IN ('municipal_admin', 'county_officer',
                             'township_officer', 'village_cadre', 'auditor', 'department_officer')),
    division_code        TEXT NOT NULL REFERENCES divisions (code),
    -- argon2id, PHC string format; never the password.
    password_hash        TEXT NOT NULL,
    lang                 TEXT NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en')),
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins        BIGINT NOT NULL DEFAULT 0,
    locked_until         TEXT,
    created_at           TEXT NOT NULL,
    password_changed_at  TEXT NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1
);

-- A session cookie holds a random 256-bit token; only its SHA-256 is stored, so a copy of the
-- database opens no session.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

-- The auditor's queries: by person, by date.
CREATE INDEX audit_actor ON audit_log (actor, seq);
CREATE INDEX audit_at ON audit_log (at);
