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
