-- Issue 15, integrity and backups (see the SQLite migration of the same number for why).
ALTER TABLE audit_log ADD COLUMN hash_alg TEXT NOT NULL DEFAULT 'sha256';

CREATE TABLE registry_identity (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    registry_id TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
INSERT INTO registry_identity (id, registry_id, created_at)
VALUES (1, md5(random()::text || clock_timestamp()::text),
        to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));

-- Retention: see the SQLite migration of the same number.
CREATE TABLE audit_pruned (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    through_seq    BIGINT NOT NULL,
    through_hash   TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    pruned_at      TEXT NOT NULL
);
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.seq <= COALESCE((SELECT through_seq FROM audit_pruned WHERE id = 1), 0) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
