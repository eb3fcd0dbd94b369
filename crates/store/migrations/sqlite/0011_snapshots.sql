-- Monthly snapshots of the key figures (issue 6 item 3: trends over months), written by
-- `zhenxing_store::snapshots::take`. One row per (month, division) for the municipality, its
-- counties and their townships: about 1,070 rows a month for Chongqing (1 + 38 + ~1,030),
-- some 13,000 a year. Villages are left out (11,270 more rows a month); their trend is read
-- from their township's.
--
-- Citus: a small reference table (like `divisions`), not distributed. Its rows are rolled up
-- across counties (the municipality's row spans all of them), it is read by every county's
-- dashboard and joined to `divisions`, and it grows by about a thousand rows a month.
--
-- `month` is YYYY-MM; `as_of` the day (China time) the figures are from; `taken_seq` the audit
-- operation that wrote the month (taking a month again replaces all its rows in one operation).
CREATE TABLE snapshots (
    month                      TEXT NOT NULL,
    division_code              TEXT NOT NULL REFERENCES divisions (code),
    level                      TEXT NOT NULL,
    as_of                      TEXT NOT NULL,
    taken_seq                  BIGINT NOT NULL,
    households                 BIGINT NOT NULL,
    members                    BIGINT NOT NULL,
    lifted_out_households      BIGINT NOT NULL,
    lifted_out_members         BIGINT NOT NULL,
    monitored_households       BIGINT NOT NULL,
    monitored_members          BIGINT NOT NULL,
    not_eliminated_households  BIGINT NOT NULL,
    not_eliminated_members     BIGINT NOT NULL,
    eliminated_households      BIGINT NOT NULL,
    eliminated_members         BIGINT NOT NULL,
    warnings_active            BIGINT NOT NULL,
    cases_open                 BIGINT NOT NULL,
    cases_overdue              BIGINT NOT NULL,
    measures_implemented       BIGINT NOT NULL,
    PRIMARY KEY (month, division_code)
);
CREATE INDEX snapshots_division ON snapshots (division_code, month);
