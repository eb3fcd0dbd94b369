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

-- Retention (store::audit_archive::prune): the records up to `through_seq` were deleted after
-- being archived; the chain's verification starts from `through_hash`. The append-only triggers
-- let a delete through only at or below this boundary, which the prune sets in the same
-- transaction as its own audited record (verify checks that the two agree).
CREATE TABLE audit_pruned (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    through_seq    BIGINT NOT NULL,
    through_hash   TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    pruned_at      TEXT NOT NULL
);
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > COALESCE((SELECT through_seq FROM audit_pruned WHERE id = 1), 0)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
DROP TRIGGER audit_items_no_delete;
CREATE TRIGGER audit_items_no_delete BEFORE DELETE ON audit_items
WHEN OLD.seq > COALESCE((SELECT through_seq FROM audit_pruned WHERE id = 1), 0)
BEGIN SELECT RAISE(ABORT, 'audit_items is append-only'); END;
