-- Issue 15. Three separate administrators (三员分立): a security administrator
-- ('security_admin') joins the roles; 'municipal_admin' keeps its code and becomes the system
-- administrator.
--
-- The second factor (TOTP, RFC 6238): the secret (sealed by `store::factor::seal_secret`),
-- when it was confirmed, and the last time step accepted (a code of that step or an earlier
-- one is a replay). `totp_pending_secret` holds a secret shown for enrolment and not yet
-- confirmed. Recovery codes are stored hashed, each used once. A pending sign-in (password
-- right, code not yet given) opens nothing: it is not a session.

ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check CHECK (role IN ('municipal_admin',
    'security_admin', 'county_officer', 'township_officer', 'village_cadre', 'auditor',
    'department_officer'));
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_enrolled_at TEXT;
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT;
ALTER TABLE accounts ADD COLUMN totp_pending_secret TEXT;

CREATE TABLE recovery_codes (
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    code_hash   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    used_at     TEXT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE pending_sign_ins (
    token_hash  TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX pending_sign_ins_account ON pending_sign_ins (account_id);
