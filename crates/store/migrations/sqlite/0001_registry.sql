-- The registry on SQLite. Amounts are integer fen; dates and times are ISO-8601 text (sortable);
-- enumerations are stored as their code names (zhenxing-core enums' `code()`).

CREATE TABLE divisions (
    code                   TEXT PRIMARY KEY CHECK (length(code) = 12),
    parent_code            TEXT,
    level                  TEXT NOT NULL CHECK (level IN ('province', 'county', 'township', 'village')),
    kind                   TEXT NOT NULL,
    name_zh                TEXT NOT NULL,
    name_en                TEXT NOT NULL,
    former_poverty_county  TEXT CHECK (former_poverty_county IN ('national', 'municipal')),
    former_poverty_village INTEGER NOT NULL DEFAULT 0,
    version_year           INTEGER NOT NULL
);
CREATE INDEX divisions_parent ON divisions (parent_code);

CREATE TABLE households (
    id                    INTEGER PRIMARY KEY,
    county_code           TEXT NOT NULL,
    household_no          TEXT NOT NULL,
    division_code         TEXT NOT NULL REFERENCES divisions (code),
    household_type        TEXT NOT NULL,
    lifted_out_year       INTEGER,
    monitoring_category   TEXT,
    phone                 TEXT,
    address               TEXT,
    wage_income           INTEGER NOT NULL,
    business_income       INTEGER NOT NULL,
    property_income       INTEGER NOT NULL,
    transfer_income       INTEGER NOT NULL,
    business_expense      INTEGER NOT NULL,
    out_of_pocket         INTEGER NOT NULL,
    net_income            INTEGER NOT NULL,
    member_count          INTEGER NOT NULL,
    per_capita_net_income INTEGER NOT NULL,
    housing_safe          INTEGER,
    water_safe            INTEGER,
    version               INTEGER NOT NULL DEFAULT 1,
    created_at            TEXT NOT NULL,
    -- The audit operation that created the household (who, when, from which file) and the one
    -- that last changed it; changes are itemised in audit_items.
    created_seq           BIGINT NOT NULL,
    updated_seq           BIGINT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE UNIQUE INDEX households_no ON households (household_no);
CREATE INDEX households_division ON households (division_code, household_type, monitoring_category);
CREATE INDEX households_income ON households (per_capita_net_income);

CREATE TABLE members (
    id                  INTEGER PRIMARY KEY,
    county_code         TEXT NOT NULL,
    household_id        INTEGER NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    name                TEXT NOT NULL,
    id_number           TEXT NOT NULL,
    disability_category INTEGER,
    disability_level    INTEGER,
    relation            TEXT NOT NULL,
    sex                 TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    ethnicity           TEXT,
    education           TEXT,
    school_status       TEXT,
    health              TEXT NOT NULL,
    labor               TEXT NOT NULL,
    work_months         INTEGER,
    medical_insurance   INTEGER NOT NULL,
    dibao               INTEGER
);
CREATE UNIQUE INDEX members_id_number ON members (id_number);
CREATE INDEX members_household ON members (household_id, position);
CREATE INDEX members_name ON members (name);

-- Leaf counts per village, maintained in the same transaction as every registry write, so that
-- figures for any division are a SUM over at most a few thousand rows.
CREATE TABLE village_counts (
    division_code        TEXT PRIMARY KEY,
    households           INTEGER NOT NULL,
    members              INTEGER NOT NULL,
    lifted_out_households INTEGER NOT NULL,
    lifted_out_members   INTEGER NOT NULL,
    monitored_households INTEGER NOT NULL,
    monitored_members    INTEGER NOT NULL
);

-- Append-only and hash-chained: hash = SHA-256(prev_hash || canonical record).
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT,
    county_code   TEXT,
    division_code TEXT,
    reason        TEXT,
    before_data   TEXT,
    after_data    TEXT,
    item_count    BIGINT NOT NULL DEFAULT 0,
    items_digest  TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_log (object_type, object_id);
CREATE INDEX audit_division ON audit_log (division_code);


-- The records one audited operation changed (an import changes many households): each with its
-- action and the fields before and after; creations are not itemised (households.created_seq
-- names the creating operation). Their SHA-256 digest is part of the
-- operation's hashed record, so an altered or deleted item breaks the chain too.
CREATE TABLE audit_items (
    seq           BIGINT NOT NULL,
    item          BIGINT NOT NULL,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    county_code   TEXT,
    division_code TEXT,
    before_data   TEXT,
    after_data    TEXT,
    PRIMARY KEY (seq, item)
);
CREATE INDEX audit_items_object ON audit_items (object_type, object_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_items_no_update BEFORE UPDATE ON audit_items
BEGIN SELECT RAISE(ABORT, 'audit_items is append-only'); END;
CREATE TRIGGER audit_items_no_delete BEFORE DELETE ON audit_items
BEGIN SELECT RAISE(ABORT, 'audit_items is append-only'); END;

-- The head of the audit chain, updated with every append: deleting records from the end of the
-- chain (which the chain alone cannot show) leaves the head pointing past the last record.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
