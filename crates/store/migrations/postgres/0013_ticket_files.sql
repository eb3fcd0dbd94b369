-- Files sent with a ticket from the public portal (photos of a noticeboard, receipts, a scanned
-- letter): JPEG, PNG or PDF by their first bytes, at most 5 MB each (zhenxing_store::files),
-- stored with the ticket in the same transaction. Distributed by `county_code` with the
-- tickets. Never edited: what the public sent stays as it was sent.
CREATE TABLE ticket_files (
    county_code  TEXT NOT NULL,
    ticket_id    BIGINT NOT NULL,
    number       BIGINT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    content      BYTEA NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (county_code, ticket_id, number),
    FOREIGN KEY (county_code, ticket_id) REFERENCES tickets (county_code, id)
);
CREATE FUNCTION ticket_files_never_edited() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the files sent with a ticket are never edited';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ticket_files_no_update BEFORE UPDATE OR DELETE ON ticket_files
    FOR EACH ROW EXECUTE FUNCTION ticket_files_never_edited();
