-- Issue 15, item 4: personal data encrypted at rest (crate::keys). ID and phone numbers are
-- stored sealed (`zx1:<key>:<base64>`, AES-256-GCM or SM4-GCM); the keys are in a key file or
-- the environment, never here. The database keeps only what recognises them: a check per data
-- key, the suite and the index key's check, so that a wrong or missing key is refused at open.
CREATE TABLE encryption_keys (
    id         BIGINT PRIMARY KEY,
    key_check  TEXT NOT NULL,
    added_at   TEXT NOT NULL
);
CREATE TABLE encryption_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    suite           TEXT NOT NULL,
    index_key_check TEXT NOT NULL
);

-- Exact lookups by full ID number go through a blind index (HMAC under the index key), unique
-- where the ID number itself was; the sealed value is random and cannot be indexed. Values
-- stored before this migration get theirs when they are encrypted at the first open.
ALTER TABLE members ADD COLUMN id_number_index TEXT;
DROP INDEX members_id_number;
CREATE UNIQUE INDEX members_id_number_index ON members (id_number_index);
