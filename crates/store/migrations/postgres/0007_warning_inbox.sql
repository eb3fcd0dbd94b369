-- The warnings inbox (issue 4 item 5): a warning is new, assigned to a village cadre for home
-- verification with a deadline, then verified (a lead for identification) or dismissed with a
-- reason; the screening closes a new or assigned warning whose signal went away.
-- Warnings from self-declarations and visits carry no rule set. `origin` (JSON) says where a
-- warning came from beyond its source: the upload and rows of a department file, the account
-- and date of a visit. `row_version` guards concurrent steps. `due_on` (YYYY-MM-DD) is the day an active warning
-- becomes overdue: the deadline once assigned, a few days after opening before (InboxPolicy).
ALTER TABLE warnings ALTER COLUMN rule_set_id DROP NOT NULL;
ALTER TABLE warnings ALTER COLUMN rule_set_version DROP NOT NULL;
ALTER TABLE warnings ADD COLUMN origin TEXT;
ALTER TABLE warnings ADD COLUMN assignee TEXT;
ALTER TABLE warnings ADD COLUMN deadline TEXT;
ALTER TABLE warnings ADD COLUMN due_on TEXT;
ALTER TABLE warnings ADD COLUMN assigned_at TEXT;
ALTER TABLE warnings ADD COLUMN resolution TEXT;
ALTER TABLE warnings ADD COLUMN resolved_by TEXT;
ALTER TABLE warnings ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
UPDATE warnings SET status = 'new',
    due_on = to_char(CAST(substr(opened_at, 1, 10) AS date) + 3, 'YYYY-MM-DD')
    WHERE status = 'open';
DROP INDEX warnings_open;
-- At most one active (new or assigned) warning per household and source.
CREATE UNIQUE INDEX warnings_active ON warnings (county_code, household_no, source)
    WHERE status IN ('new', 'assigned');
CREATE INDEX warnings_assignee ON warnings (assignee, status) WHERE assignee IS NOT NULL;
CREATE INDEX warnings_due ON warnings (status, due_on, id);
