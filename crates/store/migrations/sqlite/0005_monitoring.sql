-- Monitoring (issue 4): rule sets as versioned data, and the warnings the screening raises.

-- A rule set is never edited: a change is a new version of the same year and jurisdiction.
-- `parameters` is the JSON of zhenxing_core::monitoring::RuleSet (amounts in yuan).
CREATE TABLE rule_sets (
    id           INTEGER PRIMARY KEY,
    year         INTEGER NOT NULL,
    jurisdiction TEXT NOT NULL,
    version      INTEGER NOT NULL,
    parameters   TEXT NOT NULL,
    assumed      INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    UNIQUE (year, jurisdiction, version)
);
CREATE TRIGGER rule_sets_no_update BEFORE UPDATE ON rule_sets
BEGIN SELECT RAISE(ABORT, 'rule_sets are never edited: add a new version'); END;
CREATE TRIGGER rule_sets_no_delete BEFORE DELETE ON rule_sets
BEGIN SELECT RAISE(ABORT, 'rule_sets are never edited: add a new version'); END;

-- One open warning per household and source ('screening' for `monitor run`; other sources come
-- with department files, self-declarations and visits). status: 'open' or 'closed' (the inbox
-- adds its own states). `fingerprint` is the SHA-256 of category, risk types and reasons: a
-- re-run with the same outcome leaves the row alone. opened_seq / updated_seq name the audit
-- operations that opened and last changed the warning.
CREATE TABLE warnings (
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
    rule_set_id      INTEGER NOT NULL REFERENCES rule_sets (id),
    rule_set_version INTEGER NOT NULL,
    opened_at        TEXT NOT NULL,
    closed_at        TEXT,
    updated_at       TEXT NOT NULL,
    opened_seq       BIGINT NOT NULL,
    updated_seq      BIGINT NOT NULL
);
CREATE UNIQUE INDEX warnings_open ON warnings (household_no, source) WHERE status = 'open';
CREATE INDEX warnings_division ON warnings (division_code, status);
CREATE INDEX warnings_household ON warnings (household_no);
