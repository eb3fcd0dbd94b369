-- Issue 15. Three separate administrators (三员分立): a security administrator
-- ('security_admin') joins the roles; 'municipal_admin' keeps its code and becomes the system
-- administrator. SQLite cannot change a CHECK constraint, so the accounts table is rebuilt;
-- its sessions and API tokens reference it and are set aside meanwhile (no pragma: this runs
-- inside the migration's transaction with foreign keys on).
--
-- The second factor (TOTP, RFC 6238): the secret (sealed by `store::factor::seal_secret`),
-- when it was confirmed, and the last time step accepted (a code of that step or an earlier
-- one is a replay). `totp_pending_secret` holds a secret shown for enrolment and not yet
-- confirmed. Recovery codes are stored hashed, each used once. A pending sign-in (password
-- right, code not yet given) opens nothing: it is not a session.

CREATE TEMP TABLE keep_sessions AS SELECT * FROM sessions;
CREATE TEMP TABLE keep_api_tokens AS SELECT * FROM api_tokens;
DELETE FROM sessions;
DELETE FROM api_tokens;

CREATE TABLE accounts_new (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    role                 TEXT NOT NULL CHECK (role IN ('municipal_admin', 'security_admin',
                             'county_officer', 'township_officer', 'village_cadre', 'auditor',
                             'department_officer')),
    division_code        TEXT NOT NULL REFERENCES divisions (code),
    password_hash        TEXT NOT NULL,
    lang                 TEXT NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en')),
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins        BIGINT NOT NULL DEFAULT 0,
    locked_until         TEXT,
    created_at           TEXT NOT NULL,
    password_changed_at  TEXT NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret          TEXT,
    totp_enrolled_at     TEXT,
    totp_last_step       BIGINT,
    totp_pending_secret  TEXT
);
INSERT INTO accounts_new (id, name, role, division_code, password_hash, lang, disabled,
    failed_logins, locked_until, created_at, password_changed_at, version, must_change_password)
SELECT id, name, role, division_code, password_hash, lang, disabled, failed_logins,
    locked_until, created_at, password_changed_at, version, must_change_password FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;

INSERT INTO sessions SELECT * FROM keep_sessions;
INSERT INTO api_tokens SELECT * FROM keep_api_tokens;
DROP TABLE keep_sessions;
DROP TABLE keep_api_tokens;

CREATE TABLE recovery_codes (
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    code_hash   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    used_at     TEXT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE pending_sign_ins (
    token_hash  TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX pending_sign_ins_account ON pending_sign_ins (account_id);
