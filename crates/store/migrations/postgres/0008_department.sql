-- Department data screening (issue 4 item 3): the uploads of other departments' files and the
-- records they brought. A rejected file writes nothing, so every upload here was accepted.
-- `uploaded_by` is the account's name (or cli:USER), `account_id` the account (NULL for the
-- CLI without --as), `division_code` the uploader's division, which bounds the matching.
-- `report` (JSON) keeps the unmatched rows (row, masked ID number, reason) and the rows that
-- raised warnings, for the sender to read back; `audit_seq` is the upload's audit operation.
-- Uploads are a small reference table; records carry county_code (the distribution column)
-- first in their key, like households. Ids are assigned by the store under the registry write
-- lock, which also makes the natural key unique across counties (a person who moved).
CREATE TABLE department_uploads (
    id               BIGINT PRIMARY KEY,
    kind             TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    uploaded_by      TEXT NOT NULL,
    account_id       BIGINT,
    division_code    TEXT NOT NULL,
    row_count        BIGINT NOT NULL,
    matched          BIGINT NOT NULL,
    unmatched        BIGINT NOT NULL,
    repeated         BIGINT NOT NULL,
    warnings_opened  BIGINT NOT NULL,
    warnings_merged  BIGINT NOT NULL,
    report           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    audit_seq        BIGINT NOT NULL
);
CREATE INDEX department_uploads_account ON department_uploads (uploaded_by, id);
CREATE INDEX department_uploads_sha256 ON department_uploads (sha256);

CREATE TABLE department_records (
    id            BIGINT NOT NULL,
    county_code   TEXT NOT NULL,
    upload_id     BIGINT NOT NULL REFERENCES department_uploads (id),
    kind          TEXT NOT NULL,
    natural_key   TEXT NOT NULL,
    row_number    BIGINT NOT NULL,
    id_number     TEXT NOT NULL,
    household_no  TEXT NOT NULL,
    record_date   TEXT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, kind, natural_key)
);
CREATE INDEX department_records_key ON department_records (kind, natural_key);
CREATE INDEX department_records_household ON department_records (household_no);
CREATE INDEX department_records_upload ON department_records (upload_id);
