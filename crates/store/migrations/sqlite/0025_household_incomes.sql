-- Issue 17 item 1: a household's income by completed year, so that the screening rule
-- `income_drop` can compare this year's per-capita net income (the income items of
-- `households`) with last year's. One row per household and completed year; the current year's
-- figure stays in `households`. Amounts are integer fen: `net_income` the year's household net
-- income, `per_capita_net` that divided by `members` (rounded half away from zero, as
-- `Fen::per_capita`); `dibao_members` the members who received rural dibao that year.
-- `recorded_seq` names the audit operation that wrote the row. A household is referred to by
-- its number, as warnings, pairings and measures do; the write path moves its rows with it
-- when it changes county. The monitoring pass joins it to `households` on (county_code,
-- household_no, year): the primary key, which on SQLite is the table itself (WITHOUT ROWID), so
-- that the join reads `per_capita_net` in one seek.
CREATE TABLE household_incomes (
    county_code     TEXT NOT NULL,
    household_no    TEXT NOT NULL,
    year            INTEGER NOT NULL,
    net_income      BIGINT NOT NULL,
    per_capita_net  BIGINT NOT NULL,
    members         INTEGER NOT NULL CHECK (members > 0),
    dibao_members   INTEGER NOT NULL CHECK (dibao_members >= 0 AND dibao_members <= members),
    recorded_seq    BIGINT NOT NULL,
    PRIMARY KEY (county_code, household_no, year)
) WITHOUT ROWID;
