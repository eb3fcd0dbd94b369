-- Issue 14. A password set by anyone but the account itself (an administrator, the CLI) must be
-- changed at the next sign-in: until then the account reaches only the change-password page
-- and its API tokens open nothing. API tokens expire; tokens made before expiry existed get
-- 90 days from their creation.
ALTER TABLE accounts ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET expires_at = to_char((created_at::timestamptz + interval '90 days')
    AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
