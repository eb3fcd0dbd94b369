-- The statutory procedures (issue 5; zhenxing_core::procedure): identification and risk
-- elimination cases, their steps, the scans and photos attached to them, and the settings that
-- make their time limits configurable.

-- A household's place in monitoring, set only by a completed case (or by a registry import of
-- a household that was monitored before zhenxing): `identified_on` the day the county approved
-- its identification (NULL: before zhenxing kept records), `risk_types` the RiskType codes
-- joined by commas, `risk_eliminated_on` and `elimination_method` once its risk is eliminated
-- (cleared again when a new identification brings it back).
ALTER TABLE households ADD COLUMN identified_on TEXT;
ALTER TABLE households ADD COLUMN risk_types TEXT;
ALTER TABLE households ADD COLUMN risk_eliminated_on TEXT;
ALTER TABLE households ADD COLUMN elimination_method TEXT;

-- One row per case, holding the state the next steps depend on (core::procedure::CaseState);
-- the steps themselves are in case_steps. `closed_on` is set when the stage becomes final:
-- at most one open case per household. `due_on` is the identification's time limit.
-- `objections` is a JSON array of booleans (resolved or not), in order of receipt.
CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    county_code      TEXT NOT NULL,
    household_no     TEXT NOT NULL,
    division_code    TEXT NOT NULL REFERENCES divisions (code),
    kind             TEXT NOT NULL,
    stage            TEXT NOT NULL,
    lead_channel     TEXT,
    warning_id       INTEGER,
    emergency        TEXT,
    opened_on        TEXT NOT NULL,
    due_on           TEXT,
    compared         INTEGER NOT NULL DEFAULT 0,
    appraised_on     TEXT,
    notice_starts_on TEXT,
    notice_ends_on   TEXT,
    objections       TEXT NOT NULL DEFAULT '[]',
    category         TEXT,
    risk_types       TEXT NOT NULL DEFAULT '',
    method           TEXT,
    approved_on      TEXT,
    closed_on        TEXT,
    opened_by        TEXT NOT NULL,
    row_version      INTEGER NOT NULL DEFAULT 1,
    opened_seq       BIGINT NOT NULL,
    updated_seq      BIGINT NOT NULL,
    opened_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_open ON cases (county_code, household_no) WHERE closed_on IS NULL;
CREATE INDEX cases_division ON cases (division_code, closed_on);
CREATE INDEX cases_due ON cases (closed_on, due_on, id);
CREATE INDEX cases_household ON cases (household_no);
CREATE INDEX cases_notice ON cases (stage, notice_ends_on);

-- Every step of a case, signed by the acting account, never edited: a correction is a new step.
-- `happened_on` is the day of the event (the visit, the meeting, the posting), `details` the
-- step's content as JSON, `audit_seq` the audit operation that recorded it.
CREATE TABLE case_steps (
    id           INTEGER PRIMARY KEY,
    county_code  TEXT NOT NULL,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    number       INTEGER NOT NULL,
    step         TEXT NOT NULL,
    stage_before TEXT,
    stage_after  TEXT NOT NULL,
    happened_on  TEXT NOT NULL,
    actor        TEXT NOT NULL,
    actor_role   TEXT NOT NULL,
    note         TEXT NOT NULL,
    details      TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    audit_seq    BIGINT NOT NULL,
    UNIQUE (case_id, number)
);
CREATE TRIGGER case_steps_no_update BEFORE UPDATE ON case_steps
BEGIN SELECT RAISE(ABORT, 'case steps are never edited: record a correction'); END;
CREATE TRIGGER case_steps_no_delete BEFORE DELETE ON case_steps
BEGIN SELECT RAISE(ABORT, 'case steps are never edited: record a correction'); END;

-- Scans and photos (the signed commitment, the appraisal record), kept with the case.
CREATE TABLE case_attachments (
    id           INTEGER PRIMARY KEY,
    county_code  TEXT NOT NULL,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    step_number  INTEGER,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    content      BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL,
    audit_seq    BIGINT NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id);
CREATE TRIGGER case_attachments_no_update BEFORE UPDATE ON case_attachments
BEGIN SELECT RAISE(ABORT, 'attachments are never edited'); END;
CREATE TRIGGER case_attachments_no_delete BEFORE DELETE ON case_attachments
BEGIN SELECT RAISE(ABORT, 'attachments are never edited'); END;

-- What the village is told (a rejection, a completion): shown to its cadres until read.
CREATE TABLE case_notifications (
    id            INTEGER PRIMARY KEY,
    county_code   TEXT NOT NULL,
    division_code TEXT NOT NULL,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    message_zh    TEXT NOT NULL,
    message_en    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    read_by       TEXT,
    read_at       TEXT
);
CREATE INDEX case_notifications_division ON case_notifications (division_code, read_at);

-- Deployment settings changed at run time (the procedures' time limits), each change audited.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    audit_seq  BIGINT NOT NULL
);
