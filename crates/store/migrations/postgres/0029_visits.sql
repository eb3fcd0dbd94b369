-- Issue 19 item 1: the home visit as a record of its own (the cadre's monthly 走访), not a
-- warning. A visit names its household and village, the day, who visited, whether the cadre
-- confirmed "no change", what she saw (`food_clothing`: 吃穿不愁, an observation of the visit,
-- not a registry field), the changes she made (JSON `[{field, was, now}]`, zhenxing_core::visit),
-- the risks reported and the note; `declared`: the household itself declared those risks
-- to the cadre (a self-declaration taken on the visit, raised as one) rather than the cadre
-- seeing them.
--
-- `idempotency_key`: chosen by the phone for each visit it queues, so that a visit sent twice
-- (a lost answer, a replay) is recorded once: unique within the county, the distribution column.
-- `outcome`: `recorded` (no change), `applied` (its changes written to the registry), `conflict`
-- (a change met a change made in the office meanwhile: nothing written, `conflicts` holds both
-- values, the township or the cadre chooses), `kept_office` or `applied_visit` (a conflict
-- decided, by `decided_by` at `decided_at`). `warning_id`: the warning the visit raised, if any.
-- `audit_seq`: the audit operation that recorded it.
CREATE TABLE visits (
    county_code      TEXT NOT NULL,
    id               BIGINT NOT NULL,
    household_no     TEXT NOT NULL,
    division_code    TEXT NOT NULL,
    visited_on       TEXT NOT NULL,
    visitor          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    form_version     BIGINT NOT NULL,
    no_change        BOOLEAN NOT NULL,
    food_clothing    BOOLEAN NOT NULL,
    changes          TEXT NOT NULL,
    risk_types       TEXT NOT NULL,
    declared         BOOLEAN NOT NULL,
    note             TEXT NOT NULL,
    outcome          TEXT NOT NULL CHECK (outcome IN
                         ('recorded', 'applied', 'conflict', 'kept_office', 'applied_visit')),
    conflicts        TEXT,
    warning_id       BIGINT,
    decided_by       TEXT,
    decided_at       TEXT,
    created_at       TEXT NOT NULL,
    audit_seq        BIGINT NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, idempotency_key)
);
CREATE INDEX visits_household ON visits (county_code, household_no, visited_on);
CREATE INDEX visits_village_day ON visits (county_code, division_code, visited_on);
CREATE INDEX visits_open_conflicts ON visits (county_code, outcome) WHERE outcome = 'conflict';

-- A visit's photo and the household's signature: JPEG or PNG by their first bytes, at most
-- 5 MB (the phone resizes a photo to at most 1,600 pixels before it queues it), stored with the
-- visit in the same transaction and never edited.
CREATE TABLE visit_files (
    county_code     TEXT NOT NULL,
    visit_id        BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'signature')),
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    content         BYTEA NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (county_code, visit_id, kind),
    FOREIGN KEY (county_code, visit_id) REFERENCES visits (county_code, id) ON UPDATE CASCADE
);
CREATE FUNCTION visit_files_never_edited() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (NEW.visit_id, NEW.kind, NEW.content_type, NEW.size_bytes,
            NEW.sha256, NEW.content, NEW.created_at)
        IS DISTINCT FROM (OLD.visit_id, OLD.kind, OLD.content_type, OLD.size_bytes,
            OLD.sha256, OLD.content, OLD.created_at) THEN
        RAISE EXCEPTION 'the files of a visit are never edited';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER visit_files_no_update BEFORE UPDATE OR DELETE ON visit_files
    FOR EACH ROW EXECUTE FUNCTION visit_files_never_edited();
