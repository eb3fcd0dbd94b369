-- Monitoring (issue 4): rule sets as versioned data, and the warnings the screening raises.
-- rule_sets is a small reference table; warnings carry county_code (the distribution column)
-- first in their primary key and unique index, like households (see 0001_registry.sql).

-- A rule set is never edited: a change is a new version of the same year and jurisdiction.
-- `parameters` is the JSON of zhenxing_core::monitoring::RuleSet (amounts in yuan).
CREATE TABLE rule_sets (
    id           BIGINT PRIMARY KEY,
    year         BIGINT NOT NULL,
    jurisdiction TEXT NOT NULL,
    version      BIGINT NOT NULL,
    parameters   TEXT NOT NULL,
    assumed      BOOLEAN NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    UNIQUE (year, jurisdiction, version)
);
CREATE FUNCTION rule_sets_never_edited() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rule_sets are never edited: add a new version';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rule_sets_no_change BEFORE UPDATE OR DELETE ON rule_sets
    FOR EACH ROW EXECUTE FUNCTION rule_sets_never_edited();
CREATE TRIGGER rule_sets_no_truncate BEFORE TRUNCATE ON rule_sets
    FOR EACH STATEMENT EXECUTE FUNCTION rule_sets_never_edited();

-- One open warning per household and source ('screening' for `monitor run`; other sources come
-- with department files, self-declarations and visits). status: 'open' or 'closed' (the inbox
-- adds its own states). `fingerprint` is the SHA-256 of category, risk types and reasons: a
-- re-run with the same outcome leaves the row alone. opened_seq / updated_seq name the audit
-- operations that opened and last changed the warning. Ids are assigned by the store under the
-- registry write lock, as for households.
CREATE TABLE warnings (
    id               BIGINT NOT NULL,
    county_code      TEXT NOT NULL,
    household_no     TEXT NOT NULL,
    division_code    TEXT NOT NULL REFERENCES divisions (code),
    source           TEXT NOT NULL,
    status           TEXT NOT NULL,
    category         TEXT,
    risk_types       TEXT NOT NULL,
    reasons          TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    rule_set_id      BIGINT NOT NULL REFERENCES rule_sets (id),
    rule_set_version BIGINT NOT NULL,
    opened_at        TEXT NOT NULL,
    closed_at        TEXT,
    updated_at       TEXT NOT NULL,
    opened_seq       BIGINT NOT NULL,
    updated_seq      BIGINT NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX warnings_open ON warnings (county_code, household_no, source) WHERE status = 'open';
CREATE INDEX warnings_division ON warnings (division_code, status);
CREATE INDEX warnings_household ON warnings (household_no);
