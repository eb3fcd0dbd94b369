-- Issue 18 item 9: a lost tracking code recovered with the ID and phone numbers given with the
-- declaration, and photos sent with a self-declaration.
--
-- `declarations.id_number_index`: the blind index of the declarant's ID number (HMAC under the
-- index key, `zhenxing_store::keys::blind_id_number`, the members' own), so that a recovery
-- finds the declarations of an ID number without opening every sealed value. The key is not
-- available to SQL: rows stored before this migration get theirs when the registry is next
-- opened (`keys::fill_missing_indexes`). Not unique: one person may declare several times.
ALTER TABLE declarations ADD COLUMN id_number_index TEXT;
CREATE INDEX declarations_id_number_index ON declarations (id_number_index);

-- Files sent with a self-declaration (photos of the damage, a hospital bill): JPEG, PNG or PDF
-- by their first bytes, at most 5 MB each (zhenxing_store::files, the ticket files' rule),
-- stored with the declaration in the same transaction. Never edited; they follow their
-- declaration when its lead moves to another county (`warnings::raise` merging), the one
-- change allowed.
CREATE TABLE declaration_files (
    county_code     TEXT NOT NULL,
    declaration_id  BIGINT NOT NULL,
    number          BIGINT NOT NULL,
    file_name       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    content         BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (county_code, declaration_id, number),
    FOREIGN KEY (county_code, declaration_id) REFERENCES declarations (county_code, id)
        ON UPDATE CASCADE
);
CREATE TRIGGER declaration_files_no_update BEFORE UPDATE ON declaration_files
WHEN NEW.declaration_id IS NOT OLD.declaration_id OR NEW.number IS NOT OLD.number
    OR NEW.file_name IS NOT OLD.file_name OR NEW.content_type IS NOT OLD.content_type
    OR NEW.size_bytes IS NOT OLD.size_bytes OR NEW.sha256 IS NOT OLD.sha256
    OR NEW.content IS NOT OLD.content OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'the files sent with a declaration are never edited'); END;
CREATE TRIGGER declaration_files_no_delete BEFORE DELETE ON declaration_files
BEGIN SELECT RAISE(ABORT, 'the files sent with a declaration are never edited'); END;
