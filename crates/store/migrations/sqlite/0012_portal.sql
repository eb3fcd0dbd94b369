-- The public portal (issue 7; zhenxing_core::portal, zhenxing_store::portal).
--
-- `announcements`: the bureau's announcements and policy documents, in Chinese and English.
-- A draft is edited freely; publishing sets `publish_on` (a day, possibly in the future: the
-- public sees it from that day); withdrawing hides it again. Citus: a small reference table.
--
-- `declarations`: self-declarations (农户自主申报) from the public, each raising a lead in the
-- warnings inbox (`warning_id`) in the same transaction. `tickets`: the questions, reports,
-- complaints and suggestions of the line that took over from 12317. Both are distributed by
-- `county_code` like households and warnings (the county of the chosen division), so the key
-- and every unique constraint include it. The tracking code is never stored: `code_hash` is its
-- SHA-256. The consent (`consent_version` of the texts agreed, `consent_at`) is kept with the
-- submission. ID and phone numbers are personal data: shown masked in the back office, never
-- written to the audit trail or the logs.
--
-- `report_designations`: the county officers designated to read reports about a person
-- (reference table: one row per designated account).
CREATE TABLE announcements (
    id            BIGINT PRIMARY KEY,
    kind          TEXT NOT NULL,
    title_zh      TEXT NOT NULL,
    title_en      TEXT NOT NULL,
    body_zh       TEXT NOT NULL,
    body_en       TEXT NOT NULL,
    status        TEXT NOT NULL,
    publish_on    TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    updated_seq   BIGINT NOT NULL,
    row_version   BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX announcements_published ON announcements (status, publish_on);

CREATE TABLE declarations (
    county_code      TEXT NOT NULL,
    id               BIGINT NOT NULL,
    division_code    TEXT NOT NULL REFERENCES divisions (code),
    code_hash        TEXT NOT NULL,
    applicant        TEXT NOT NULL,
    id_number        TEXT NOT NULL,
    phone            TEXT NOT NULL,
    events           TEXT NOT NULL,
    account          TEXT NOT NULL,
    household_no     TEXT NOT NULL,
    warning_id       BIGINT NOT NULL,
    consent_version  TEXT NOT NULL,
    consent_at       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    created_seq      BIGINT NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX declarations_code ON declarations (county_code, code_hash);
CREATE INDEX declarations_code_hash ON declarations (code_hash);
CREATE INDEX declarations_warning ON declarations (county_code, warning_id);

CREATE TABLE tickets (
    county_code      TEXT NOT NULL,
    id               BIGINT NOT NULL,
    division_code    TEXT NOT NULL REFERENCES divisions (code),
    code_hash        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    category         TEXT NOT NULL,
    about_person     BOOLEAN NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    requester        TEXT,
    phone            TEXT,
    status           TEXT NOT NULL,
    assignee         TEXT,
    answer           TEXT,
    answered_by      TEXT,
    answered_at      TEXT,
    closed_at        TEXT,
    due_on           TEXT NOT NULL,
    consent_version  TEXT NOT NULL,
    consent_at       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    created_seq      BIGINT NOT NULL,
    updated_seq      BIGINT NOT NULL,
    row_version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX tickets_code ON tickets (county_code, code_hash);
CREATE INDEX tickets_code_hash ON tickets (code_hash);
CREATE INDEX tickets_division ON tickets (division_code, status, due_on);

CREATE TABLE report_designations (
    account_name   TEXT PRIMARY KEY,
    county_code    TEXT NOT NULL,
    designated_by  TEXT NOT NULL,
    designated_at  TEXT NOT NULL,
    audit_seq      BIGINT NOT NULL
);
