-- The warnings inbox (issue 4 item 5): a warning is new, assigned to a village cadre for home
-- verification with a deadline, then verified (a lead for identification) or dismissed with a
-- reason; the screening closes a new or assigned warning whose signal went away.
-- Warnings from self-declarations and visits carry no rule set, so rule_set_id becomes
-- nullable: SQLite cannot relax a NOT NULL in place, hence the rebuild.
-- `origin` (JSON) says where a warning came from beyond its source: the upload and rows of a
-- department file, the account and date of a visit. `row_version` guards concurrent steps. `due_on` (YYYY-MM-DD) is the day an active warning
-- becomes overdue: the deadline once assigned, a few days after opening before (InboxPolicy).
CREATE TABLE warnings_new (
    id               INTEGER PRIMARY KEY,
    county_code      TEXT NOT NULL,
    household_no     TEXT NOT NULL,
    division_code    TEXT NOT NULL REFERENCES divisions (code),
    source           TEXT NOT NULL,
    status           TEXT NOT NULL,
    category         TEXT,
    risk_types       TEXT NOT NULL,
    reasons          TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    rule_set_id      INTEGER REFERENCES rule_sets (id),
    rule_set_version INTEGER,
    opened_at        TEXT NOT NULL,
    closed_at        TEXT,
    updated_at       TEXT NOT NULL,
    opened_seq       BIGINT NOT NULL,
    updated_seq      BIGINT NOT NULL,
    origin           TEXT,
    assignee         TEXT,
    deadline         TEXT,
    due_on           TEXT,
    assigned_at      TEXT,
    resolution       TEXT,
    resolved_by      TEXT,
    row_version      INTEGER NOT NULL DEFAULT 1
);
INSERT INTO warnings_new (id, county_code, household_no, division_code, source, status, category,
    risk_types, reasons, fingerprint, rule_set_id, rule_set_version, opened_at, closed_at,
    updated_at, opened_seq, updated_seq, due_on)
SELECT id, county_code, household_no, division_code, source,
    CASE status WHEN 'open' THEN 'new' ELSE status END, category, risk_types, reasons,
    fingerprint, rule_set_id, rule_set_version, opened_at, closed_at, updated_at, opened_seq,
    updated_seq, CASE status WHEN 'open' THEN date(opened_at, '+3 days') END
FROM warnings;
DROP TABLE warnings;
ALTER TABLE warnings_new RENAME TO warnings;
-- At most one active (new or assigned) warning per household and source.
CREATE UNIQUE INDEX warnings_active ON warnings (household_no, source)
    WHERE status IN ('new', 'assigned');
CREATE INDEX warnings_division ON warnings (division_code, status);
CREATE INDEX warnings_due ON warnings (status, due_on, id);
CREATE INDEX warnings_household ON warnings (household_no);
CREATE INDEX warnings_assignee ON warnings (assignee, status) WHERE assignee IS NOT NULL;
