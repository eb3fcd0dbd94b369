-- Assistance (issue 5 item 3; zhenxing_core::assistance): responsible cadres paired with
-- households (DOMAIN.md 5.4) and the assistance measures recorded for them (DOMAIN.md 1.8).
-- Nothing is deleted: a pairing ends by setting `ends_on`; a measure goes from planned to
-- implemented (`implemented_on`), or is cancelled with `cancel_reason` (entered by mistake, or
-- a plan dropped). `row_version` guards concurrent changes; `created_seq` and `updated_seq`
-- name the audit operations that created and last changed a row. Dates are YYYY-MM-DD, amounts
-- integer fen, enumerations their code names. Independent of the procedures (0009): a
-- household is referred to by its number, as warnings do.
CREATE TABLE pairings (
    id              INTEGER PRIMARY KEY,
    county_code     TEXT NOT NULL,
    household_no    TEXT NOT NULL,
    division_code   TEXT NOT NULL REFERENCES divisions (code),
    cadre_name      TEXT NOT NULL,
    sex             TEXT,
    political_status TEXT,
    unit            TEXT NOT NULL,
    phone           TEXT NOT NULL,
    starts_on       TEXT NOT NULL,
    ends_on         TEXT,
    row_version     INTEGER NOT NULL DEFAULT 1,
    created_seq     BIGINT NOT NULL,
    updated_seq     BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX pairings_household ON pairings (household_no);
CREATE INDEX pairings_division ON pairings (division_code);

CREATE TABLE measures (
    id              INTEGER PRIMARY KEY,
    county_code     TEXT NOT NULL,
    household_no    TEXT NOT NULL,
    division_code   TEXT NOT NULL REFERENCES divisions (code),
    category        TEXT NOT NULL,
    content         TEXT NOT NULL,
    amount          BIGINT,
    starts_on       TEXT NOT NULL,
    ends_on         TEXT,
    status          TEXT NOT NULL CHECK (status IN ('planned', 'implemented', 'cancelled')),
    implemented_on  TEXT,
    risk_type       TEXT,
    cancel_reason   TEXT,
    row_version     INTEGER NOT NULL DEFAULT 1,
    created_seq     BIGINT NOT NULL,
    updated_seq     BIGINT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (amount IS NULL OR amount >= 0)
);
CREATE INDEX measures_household ON measures (household_no);
CREATE INDEX measures_division ON measures (division_code);
