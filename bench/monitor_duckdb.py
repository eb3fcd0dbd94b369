#!/usr/bin/env python3
"""The DuckDB peer of `zhenxing monitor run` (issue 4, "Speed"): the built-in 2021 rule set
written as SQL, over the same registry, timed, and checked household by household against the
warnings zhenxing wrote.

Called by bench/monitor.sh; see bench/README.md. Two modes:

  monitor_duckdb.py tables --households H.csv --members M.csv --today YYYY-MM-DD ...
      (a) DuckDB over its own in-memory tables. The households and members (the columns the
      rules read, dumped from the SQLite registry with sqlite3) are loaded first, untimed; then
      the rules query runs RUNS times and the best time counts. The what-if count at a
      threshold is timed the same way.

  monitor_duckdb.py csv --export full.csv --today YYYY-MM-DD ...
      (b) DuckDB loading the registry export (`zhenxing export registry`, one row per member,
      the household columns repeated, labels in Chinese) into a table and running the same
      rules over it, from an empty in-memory database, RUNS times (a new database each time).

Both modes then compare DuckDB's result with zhenxing's (--ours: household number, category,
risk types and the rules that fired, one line per open screening warning (status new or
assigned), dumped from the warnings table) and exit with status 1, printing the first differences, unless every household
agrees on all four. A benchmark of a different computation is worthless.

The rules are those of crates/core/src/monitoring.rs `Prepared::classify` under the built-in
rule set (`builtin()`), whose parameters are the constants below. What a household's row needs:

- income:   per-capita net income <= 6,000 yuan (600,000 fen): a warning rule, no risk type.
- medical:  out-of-pocket spending >= 5,000 yuan (lifted-out households) or >= 20,000 (others):
            a warning rule, risk type illness, "sudden" (category 突发严重困难户 above the income
            threshold).
- school:   one reason per member aged 7 to 15 on the run day (born after the day 16 years
            before it, and on or before the day 7 years before it; 29 February falls back to 28
            February, as Rust's `years_before`) whose school status is empty or "below school
            age" (`preschool_age`); every other status, kindergarten included, is enrolled.
            Risk type schooling.
- housing / water: recorded as not safe (`false`, 否); blank is unknown, not unsafe.
- insurance: at least one member without basic medical insurance; risk type illness.
- context rules (never a warning alone, only added to one): every member without labour ability
  (`lost` or `none`, and at least one member): lack_of_labor; members with a disability:
  disability; members with a serious illness: illness.
- A household raises a warning when a rule other than a context rule fired. Its category:
  at or below the income threshold, 脱贫不稳定户 (`unstable_lifted_out`) for lifted-out
  households and 边缘易致贫户 (`marginal_at_risk`) for others; else `sudden_hardship` when the
  medical rule fired; else none.
- Risk types: in the order of the reasons (medical, school, housing, water, insurance, labour,
  disability, illness), each type once, at most five; `other` when none.
- The income-drop and disaster-loss rules are off in the built-in rule sets (no data for them).
"""

import argparse
import datetime as dt
import json
import sys
import time

try:
    import duckdb
except ImportError:  # bench/monitor.sh installs it first
    sys.exit("monitor_duckdb.py: the Python package 'duckdb' is missing: pip install duckdb")

# The built-in 2021 rule set (crates/core/src/monitoring.rs `builtin`), in fen and years.
THRESHOLD_FEN = 600_000
MEDICAL_LIFTED_OUT_FEN = 500_000
MEDICAL_OTHERS_FEN = 2_000_000
SCHOOL_MIN_AGE = 7
SCHOOL_MAX_AGE = 15


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` years before; 28 February for 29 February (Rust's years_before)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return dt.date(day.year - years, 2, 28)


# ------------------------------------------------------------------------------------------
# The rules, over one row per household with these columns (the "facts"):
#   household_no, lifted_out BOOLEAN, per_capita BIGINT (fen), out_of_pocket BIGINT (fen),
#   housing_safe BOOLEAN (NULL = unknown), water_safe BOOLEAN (NULL = unknown),
#   members, uninsured, out_of_school, without_labor (members without labour ability),
#   disabled, ill: counts of members.
# The facts come from the tables (FACTS_FROM_TABLES) or the export (FACTS_FROM_CSV).
RULES = """
flags AS (
    SELECT
        household_no,
        lifted_out,
        per_capita <= {threshold}                                     AS income,
        out_of_pocket >= CASE WHEN lifted_out THEN {medical_lifted} ELSE {medical_others} END
                                                                      AS medical,
        out_of_school,
        housing_safe IS NOT DISTINCT FROM false                       AS unsafe_housing,
        water_safe IS NOT DISTINCT FROM false                         AS unsafe_water,
        uninsured > 0                                                 AS uninsured,
        members > 0 AND without_labor = members                       AS no_labor,
        disabled > 0                                                  AS disabled,
        ill > 0                                                       AS ill
    FROM facts
)
SELECT
    household_no,
    CASE
        WHEN income AND lifted_out THEN 'unstable_lifted_out'
        WHEN income THEN 'marginal_at_risk'
        WHEN medical THEN 'sudden_hardship'
    END AS category,
    -- Each risk type at the position of the first reason that carries it (a one-digit prefix
    -- to sort by), in the order classify pushes its reasons; at most five; 'other' if none.
    coalesce(nullif(array_to_string(list_transform(list_sort(list_filter([
        CASE WHEN medical THEN '2illness' WHEN uninsured THEN '6illness' WHEN ill THEN '9illness' END,
        CASE WHEN out_of_school > 0 THEN '3schooling' END,
        CASE WHEN unsafe_housing THEN '4unsafe_housing' END,
        CASE WHEN unsafe_water THEN '5unsafe_water' END,
        CASE WHEN no_labor THEN '7lack_of_labor' END,
        CASE WHEN disabled THEN '8disability' END
    ], lambda r: r IS NOT NULL)), lambda r: r[2:])[1:5], ','), ''), 'other') AS risk_types,
    -- The rules that fired, in classify's order (one child_out_of_school per member).
    concat_ws(',',
        CASE WHEN income THEN 'income' END,
        CASE WHEN medical THEN 'medical_out_of_pocket' END,
        CASE WHEN out_of_school > 0
             THEN rtrim(repeat('child_out_of_school,', out_of_school::BIGINT), ',') END,
        CASE WHEN unsafe_housing THEN 'unsafe_housing' END,
        CASE WHEN unsafe_water THEN 'unsafe_water' END,
        CASE WHEN uninsured THEN 'no_medical_insurance' END,
        CASE WHEN no_labor THEN 'no_labor_ability' END,
        CASE WHEN disabled THEN 'disabled_member' END,
        CASE WHEN ill THEN 'seriously_ill_member' END
    ) AS rules
FROM flags
-- A warning needs a rule other than the context rules (labour, disability, illness).
WHERE income OR medical OR out_of_school > 0 OR unsafe_housing OR unsafe_water OR uninsured
"""

# (a) Over DuckDB's own tables, typed as zhenxing stores them (codes, 0/1, fen, dates).
FACTS_FROM_TABLES = """
WITH per_household AS (
    SELECT
        household_id,
        count(*)                                                        AS members,
        count(*) FILTER (WHERE NOT medical_insurance)                   AS uninsured,
        count(*) FILTER (WHERE birth_date > DATE '{born_after}'
                           AND birth_date <= DATE '{born_on_or_before}'
                           AND coalesce(school_status, 'preschool_age') = 'preschool_age')
                                                                        AS out_of_school,
        count(*) FILTER (WHERE labor IN ('lost', 'none'))               AS without_labor,
        count(*) FILTER (WHERE contains(health, 'disabled'))            AS disabled,
        count(*) FILTER (WHERE contains(health, 'serious_illness'))     AS ill
    FROM members
    GROUP BY household_id
),
facts AS (
    SELECT
        h.household_no,
        h.household_type = 'lifted_out'       AS lifted_out,
        h.per_capita_net_income               AS per_capita,
        h.out_of_pocket,
        h.housing_safe,
        h.water_safe,
        coalesce(m.members, 0)                AS members,
        coalesce(m.uninsured, 0)              AS uninsured,
        coalesce(m.out_of_school, 0)          AS out_of_school,
        coalesce(m.without_labor, 0)          AS without_labor,
        coalesce(m.disabled, 0)               AS disabled,
        coalesce(m.ill, 0)                    AS ill
    FROM households h LEFT JOIN per_household m ON m.household_id = h.id
),
"""

# (b) Over the export: one row per member, household columns repeated, Chinese labels,
# amounts in yuan with two decimals, the birth date inside the ID number (digits 7 to 14 of
# the 18-digit number, which the 20-digit disability certificate number starts with; the
# 15-digit legacy form has a two-digit year after 19).
FACTS_FROM_CSV = """
WITH rows AS (
    SELECT
        *,
        CASE WHEN length(id_number) = 15 THEN '19' || substr(id_number, 7, 6)
             ELSE substr(id_number, 7, 8) END AS born
    FROM registry
),
facts AS (
    SELECT
        household_no,
        any_value(household_type) = '脱贫户'                            AS lifted_out,
        -- Net income in fen over the members, rounded half away from zero (Fen::per_capita).
        sign(any_value(net)) * ((abs(any_value(net)) * 2 + count(*)) // (2 * count(*)))
                                                                        AS per_capita,
        any_value(out_of_pocket)                                        AS out_of_pocket,
        any_value(housing_safe)                                         AS housing_safe,
        any_value(water_safe)                                           AS water_safe,
        count(*)                                                        AS members,
        count(*) FILTER (WHERE NOT medical_insurance)                   AS uninsured,
        count(*) FILTER (WHERE born > '{born_after_digits}'
                           AND born <= '{born_on_or_before_digits}'
                           AND coalesce(school_status, '学龄前儿童') = '学龄前儿童')
                                                                        AS out_of_school,
        count(*) FILTER (WHERE labor IN ('丧失劳动力', '无劳动力'))        AS without_labor,
        count(*) FILTER (WHERE contains(health, '残疾'))                  AS disabled,
        count(*) FILTER (WHERE contains(health, '患有大病'))              AS ill
    FROM rows
    GROUP BY household_no
),
"""

# The export's 27 columns, in order (data/formats/registry-columns.csv); the header line is
# skipped and these names used instead.
EXPORT_COLUMNS = [
    ("division_code", "VARCHAR"),
    ("household_no", "VARCHAR"),
    ("household_type", "VARCHAR"),
    ("lifted_out_year", "VARCHAR"),
    ("monitoring_category", "VARCHAR"),
    ("phone", "VARCHAR"),
    ("address", "VARCHAR"),
    ("wage_income", "DECIMAL(18,2)"),
    ("business_income", "DECIMAL(18,2)"),
    ("property_income", "DECIMAL(18,2)"),
    ("transfer_income", "DECIMAL(18,2)"),
    ("business_expense", "DECIMAL(18,2)"),
    ("out_of_pocket", "DECIMAL(18,2)"),
    ("housing_safe", "VARCHAR"),
    ("water_safe", "VARCHAR"),
    ("name", "VARCHAR"),
    ("id_number", "VARCHAR"),
    ("relation", "VARCHAR"),
    ("sex", "VARCHAR"),
    ("ethnicity", "VARCHAR"),
    ("education", "VARCHAR"),
    ("school_status", "VARCHAR"),
    ("health", "VARCHAR"),
    ("labor", "VARCHAR"),
    ("work_months", "VARCHAR"),
    ("medical_insurance", "VARCHAR"),
    ("dibao", "VARCHAR"),
]

# Loading the export: the text read as it is, then the columns the rules need converted (fen,
# booleans); the other columns are kept, as a real load would.
LOAD_CSV = """
CREATE TABLE registry AS
SELECT
    * EXCLUDE (wage_income, business_income, property_income, transfer_income,
               business_expense, out_of_pocket, housing_safe, water_safe, medical_insurance),
    CAST((wage_income + business_income + property_income + transfer_income
          - business_expense) * 100 AS BIGINT)                      AS net,
    CAST(out_of_pocket * 100 AS BIGINT)                             AS out_of_pocket,
    CASE housing_safe WHEN '是' THEN true WHEN '否' THEN false END   AS housing_safe,
    CASE water_safe WHEN '是' THEN true WHEN '否' THEN false END     AS water_safe,
    medical_insurance = '是'                                         AS medical_insurance
FROM read_csv('{path}', header = true, delim = ',', quote = '"', escape = '"',
              columns = {columns})
"""

WHATIF = """
SELECT count(*) AS households, coalesce(sum(member_count), 0) AS members
FROM households WHERE per_capita_net_income <= {threshold}
"""


def rules_sql(facts: str, today: dt.date) -> str:
    born_after = years_before(today, SCHOOL_MAX_AGE + 1)
    born_on_or_before = years_before(today, SCHOOL_MIN_AGE)
    return (facts + RULES).format(
        threshold=THRESHOLD_FEN,
        medical_lifted=MEDICAL_LIFTED_OUT_FEN,
        medical_others=MEDICAL_OTHERS_FEN,
        born_after=born_after.isoformat(),
        born_on_or_before=born_on_or_before.isoformat(),
        born_after_digits=born_after.strftime("%Y%m%d"),
        born_on_or_before_digits=born_on_or_before.strftime("%Y%m%d"),
    )


def sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def timed(con, sql: str) -> float:
    """Runs a statement to completion; seconds."""
    t0 = time.perf_counter()
    con.execute(sql)
    return time.perf_counter() - t0


def summary(con) -> dict:
    """Counts of the result table: warnings, by category, by rule (households)."""
    out = {"warnings": con.execute("SELECT count(*) FROM result").fetchone()[0]}
    out["by_category"] = {
        (c or "none"): n
        for c, n in con.execute(
            "SELECT category, count(*) FROM result GROUP BY ALL ORDER BY ALL").fetchall()
    }
    out["by_rule"] = {
        r: n
        for r, n in con.execute(
            "SELECT rule, count(DISTINCT household_no) FROM "
            "(SELECT household_no, unnest(string_split(rules, ',')) AS rule FROM result) "
            "GROUP BY ALL ORDER BY ALL").fetchall()
    }
    return out


def compare(con, ours: str) -> dict:
    """Compares the result table with zhenxing's warnings, household by household."""
    con.execute(
        "CREATE OR REPLACE TABLE ours AS SELECT * FROM read_csv(" + sql_string(ours) + ", "
        "header = true, columns = {'household_no': 'VARCHAR', 'category': 'VARCHAR', "
        "'risk_types': 'VARCHAR', 'rules': 'VARCHAR'})")
    diff_sql = """
        SELECT coalesce(o.household_no, r.household_no) AS household_no,
               o.category AS our_category, r.category AS duckdb_category,
               o.risk_types AS our_risk_types, r.risk_types AS duckdb_risk_types,
               o.rules AS our_rules, r.rules AS duckdb_rules
        FROM ours o FULL OUTER JOIN result r ON r.household_no = o.household_no
        WHERE o.household_no IS NULL OR r.household_no IS NULL
           OR o.category IS DISTINCT FROM r.category
           OR o.risk_types IS DISTINCT FROM r.risk_types
           OR o.rules IS DISTINCT FROM r.rules
        ORDER BY 1"""
    differing = con.execute("SELECT count(*) FROM (" + diff_sql + ")").fetchone()[0]
    sample = con.execute(diff_sql + " LIMIT 10").fetchall()
    ours_total = con.execute("SELECT count(*) FROM ours").fetchone()[0]
    ours_by_category = {
        (c or "none"): n
        for c, n in con.execute(
            "SELECT category, count(*) FROM ours GROUP BY ALL ORDER BY ALL").fetchall()
    }
    return {
        "ours_warnings": ours_total,
        "ours_by_category": ours_by_category,
        "differing_households": differing,
        "sample": [list(map(str, row)) for row in sample],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["tables", "csv"])
    p.add_argument("--households", help="tables: CSV dump of the households' columns")
    p.add_argument("--members", help="tables: CSV dump of the members' columns")
    p.add_argument("--export", help="csv: the registry export (zhenxing export registry)")
    p.add_argument("--today", required=True, help="the run day (China), YYYY-MM-DD")
    p.add_argument("--ours", required=True, help="CSV of zhenxing's open screening warnings")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--whatif-threshold-fen", type=int, default=750_000)
    p.add_argument("--results", help="write DuckDB's result (one row per warning) here")
    p.add_argument("--json", required=True, help="write the figures here")
    args = p.parse_args()
    today = dt.date.fromisoformat(args.today)
    threads = None
    out = {"duckdb_version": duckdb.__version__, "mode": args.mode, "today": args.today}

    if args.mode == "tables":
        if not (args.households and args.members):
            p.error("tables needs --households and --members")
        con = duckdb.connect()
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        # Untimed: DuckDB's own in-memory tables, typed as zhenxing stores the columns.
        t0 = time.perf_counter()
        con.execute(
            "CREATE TABLE households AS SELECT * FROM read_csv(" + sql_string(args.households)
            + ", header = true, columns = {'id': 'BIGINT', 'household_no': 'VARCHAR', "
            "'division_code': 'VARCHAR', 'household_type': 'VARCHAR', 'member_count': 'BIGINT', "
            "'per_capita_net_income': 'BIGINT', 'out_of_pocket': 'BIGINT', "
            "'housing_safe': 'BOOLEAN', 'water_safe': 'BOOLEAN'})")
        con.execute(
            "CREATE TABLE members AS SELECT * FROM read_csv(" + sql_string(args.members)
            + ", header = true, columns = {'household_id': 'BIGINT', 'birth_date': 'DATE', "
            "'school_status': 'VARCHAR', 'health': 'VARCHAR', 'labor': 'VARCHAR', "
            "'medical_insurance': 'BOOLEAN'})")
        out["load_untimed_s"] = time.perf_counter() - t0
        out["households"] = con.execute("SELECT count(*) FROM households").fetchone()[0]
        out["members"] = con.execute("SELECT count(*) FROM members").fetchone()[0]
        sql = "CREATE OR REPLACE TABLE result AS " + rules_sql(FACTS_FROM_TABLES, today)
        runs = [timed(con, sql) for _ in range(args.runs)]
        out["query_runs_s"] = runs
        out["query_best_s"] = min(runs)
        # What-if at a threshold: households and members at or below it (by member_count,
        # as zhenxing counts people), compared by bench/monitor.sh with `monitor whatif`.
        whatif = WHATIF.format(threshold=args.whatif_threshold_fen)
        wruns = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            households, members = con.execute(whatif).fetchone()
            wruns.append(time.perf_counter() - t0)
        out["whatif_runs_s"] = wruns
        out["whatif_best_s"] = min(wruns)
        out["whatif_households"] = households
        out["whatif_members"] = int(members)
    else:
        if not args.export:
            p.error("csv needs --export")
        columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in EXPORT_COLUMNS) + "}"
        load = LOAD_CSV.format(path=args.export.replace("'", "''"), columns=columns)
        query = "CREATE OR REPLACE TABLE result AS " + rules_sql(FACTS_FROM_CSV, today)
        loads, queries = [], []
        for i in range(args.runs):
            # A new in-memory database each time: nothing cached from the previous run.
            if i > 0:
                con.close()
            con = duckdb.connect()
            loads.append(timed(con, load))
            queries.append(timed(con, query))
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        out["rows"] = con.execute("SELECT count(*) FROM registry").fetchone()[0]
        totals = [a + b for a, b in zip(loads, queries)]
        best = min(range(len(totals)), key=lambda i: totals[i])
        out["load_runs_s"] = loads
        out["query_runs_s"] = queries
        out["total_runs_s"] = totals
        out["best"] = {"load_s": loads[best], "query_s": queries[best], "total_s": totals[best]}

    out["threads"] = threads
    out["result"] = summary(con)
    out["check"] = compare(con, args.ours)
    if args.results:
        con.execute("COPY (SELECT * FROM result ORDER BY household_no) TO "
                    + sql_string(args.results) + " (HEADER)")
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
    check = out["check"]
    if check["differing_households"] != 0 or check["ours_warnings"] != out["result"]["warnings"]:
        print(f"monitor_duckdb.py ({args.mode}): DuckDB's result differs from zhenxing's warnings "
              f"on {check['differing_households']} households (zhenxing "
              f"{check['ours_warnings']} warnings, DuckDB {out['result']['warnings']}); first "
              "differences (household, category ours/DuckDB, risk types ours/DuckDB, rules "
              "ours/DuckDB):", file=sys.stderr)
        for row in check["sample"]:
            print("  " + " | ".join(row), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
