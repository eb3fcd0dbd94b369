-- Issue 15, integrity and backups.
--
-- Which algorithm made each audit record's hash: 'sha256' (SHA-256 of the previous hash and the
-- record, every record before the chain was keyed), 'hmac-sha256' or 'hmac-sm3' (an HMAC under
-- the audit key kept outside the database). Existing records keep verifying as they were made;
-- once a keyed record exists every later one must be keyed (store::audit::verify).
ALTER TABLE audit_log ADD COLUMN hash_alg TEXT NOT NULL DEFAULT 'sha256';

-- This registry's identity, made once: a backup names it, and a restore into a database that
-- already holds another registry is refused.
CREATE TABLE registry_identity (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    registry_id TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
INSERT INTO registry_identity (id, registry_id, created_at)
VALUES (1, lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
