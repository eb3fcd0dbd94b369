-- The registry on PostgreSQL, laid out for a distributed PostgreSQL (Citus) at national scale:
-- every household-level table carries county_code (the distribution column) and includes it in
-- its primary key and unique constraints; divisions are a small reference table. Registry-wide
-- uniqueness of household numbers and ID numbers, which a distributed unique constraint cannot
-- express, is enforced by the store under the registry write lock (see ARCHITECTURE.md).

CREATE TABLE divisions (
    code                   TEXT PRIMARY KEY CHECK (length(code) = 12),
    parent_code            TEXT,
    level                  TEXT NOT NULL CHECK (level IN ('province', 'county', 'township', 'village')),
    kind                   TEXT NOT NULL,
    name_zh                TEXT NOT NULL,
    name_en                TEXT NOT NULL,
    former_poverty_county  TEXT CHECK (former_poverty_county IN ('national', 'municipal')),
    former_poverty_village BOOLEAN NOT NULL DEFAULT FALSE,
    version_year           BIGINT NOT NULL
);
CREATE INDEX divisions_parent ON divisions (parent_code);

CREATE TABLE households (
    id                    BIGINT NOT NULL,
    county_code           TEXT NOT NULL,
    household_no          TEXT NOT NULL,
    division_code         TEXT NOT NULL REFERENCES divisions (code),
    household_type        TEXT NOT NULL,
    lifted_out_year       BIGINT,
    monitoring_category   TEXT,
    phone                 TEXT,
    address               TEXT,
    wage_income           BIGINT NOT NULL,
    business_income       BIGINT NOT NULL,
    property_income       BIGINT NOT NULL,
    transfer_income       BIGINT NOT NULL,
    business_expense      BIGINT NOT NULL,
    out_of_pocket         BIGINT NOT NULL,
    net_income            BIGINT NOT NULL,
    member_count          BIGINT NOT NULL,
    per_capita_net_income BIGINT NOT NULL,
    housing_safe          BOOLEAN,
    water_safe            BOOLEAN,
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            TEXT NOT NULL,
    -- The audit operation that created the household (who, when, from which file) and the one
    -- that last changed it; changes are itemised in audit_items.
    created_seq           BIGINT NOT NULL,
    updated_seq           BIGINT NOT NULL,
    updated_at            TEXT NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, household_no)
);
CREATE INDEX households_id ON households (id);
CREATE INDEX households_no ON households (household_no);
CREATE INDEX households_division ON households (division_code, household_type, monitoring_category);
CREATE INDEX households_income ON households (per_capita_net_income);

CREATE TABLE members (
    id                  BIGINT NOT NULL,
    county_code         TEXT NOT NULL,
    household_id        BIGINT NOT NULL,
    position            BIGINT NOT NULL,
    name                TEXT NOT NULL,
    id_number           TEXT NOT NULL,
    disability_category BIGINT,
    disability_level    BIGINT,
    relation            TEXT NOT NULL,
    sex                 TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    ethnicity           TEXT,
    education           TEXT,
    school_status       TEXT,
    health              TEXT NOT NULL,
    labor               TEXT NOT NULL,
    work_months         BIGINT,
    medical_insurance   BOOLEAN NOT NULL,
    dibao               BOOLEAN,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, id_number),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id) ON DELETE CASCADE
);
CREATE INDEX members_household ON members (household_id, position);
CREATE INDEX members_id_number ON members (id_number);
CREATE INDEX members_name ON members (name);

CREATE TABLE village_counts (
    division_code         TEXT PRIMARY KEY,
    households            BIGINT NOT NULL,
    members               BIGINT NOT NULL,
    lifted_out_households BIGINT NOT NULL,
    lifted_out_members    BIGINT NOT NULL,
    monitored_households  BIGINT NOT NULL,
    monitored_members     BIGINT NOT NULL
);

CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
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

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_items_no_change BEFORE UPDATE OR DELETE ON audit_items
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_items_no_truncate BEFORE TRUNCATE ON audit_items
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The head of the audit chain, updated with every append: deleting records from the end of the
-- chain (which the chain alone cannot show) leaves the head pointing past the last record.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
