//! Monthly snapshots of the key figures (migration 0011), so that trends over months exist:
//! the registry itself only knows today.
//!
//! [`take`] writes one row per division for the municipality, its counties and their
//! townships (about 1,070 rows a month for Chongqing; villages are left out), in one write
//! transaction with one audit operation (`snapshot.take`). Taking a month again deletes its
//! rows and writes them anew in that same transaction and operation, so a month is always one
//! consistent picture.
//!
//! The figures are read inside the write transaction, under the registry write lock, with one
//! `GROUP BY` per table at township granularity (the first nine digits of the division code),
//! summed up to counties and the municipality in Rust (docs/decisions/0013, Citus readiness: leaf
//! `GROUP BY`s, never `ROLLUP`). They are the same figures as [`crate::rollups`] (a test compares
//! them division by division).

use crate::audit::{AuditEntry, Operation};
use crate::{Db, Result, StoreError, on_pool, on_tx};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use time::Date;
use zhenxing_core::warning::WarningStatus;
use zhenxing_core::{DivisionCode, Text, text};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Month {
    pub year: i32,
    pub month: u8,
}

impl Month {
    /// `YYYY-MM` (years 2000 to 2999); anything else is refused with the reason in both
    /// languages.
    pub fn parse(input: &str) -> std::result::Result<Month, Text> {
        let bad = || {
            text!(
                "月份“{input}”格式不对：应为 YYYY-MM，例如 2026-11",
                "the month '{input}' is malformed: write it as YYYY-MM, e.g. 2026-11"
            )
        };
        let s = input.trim();
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(2000..=2999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    /// The month `day` falls in.
    pub fn of(day: Date) -> Month {
        Month {
            year: day.year(),
            month: u8::from(day.month()),
        }
    }

    pub fn first_day(self) -> Option<Date> {
        let m = time::Month::try_from(self.month).ok()?;
        Date::from_calendar_date(self.year, m, 1).ok()
    }

    /// The last day of the month.
    pub fn last_day(self) -> Option<Date> {
        let m = time::Month::try_from(self.month).ok()?;
        Date::from_calendar_date(self.year, m, m.length(self.year)).ok()
    }

    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Refuses a month after the one `today` falls in, in both languages.
    pub fn check_not_future(self, today: Date) -> std::result::Result<(), Text> {
        if self > Month::of(today) {
            return Err(text!(
                "月份 {self} 尚未到来（今天是 {today}）",
                "the month {self} has not begun yet (today is {today})"
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The key figures of one division in one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct KeyFigures {
    pub households: i64,
    pub members: i64,
    pub lifted_out_households: i64,
    pub lifted_out_members: i64,
    pub monitored_households: i64,
    pub monitored_members: i64,
    pub not_eliminated_households: i64,
    pub not_eliminated_members: i64,
    pub eliminated_households: i64,
    pub eliminated_members: i64,
    pub warnings_active: i64,
    pub cases_open: i64,
    pub cases_overdue: i64,
    pub measures_implemented: i64,
}

impl KeyFigures {
    fn add(&mut self, o: &KeyFigures) {
        self.households += o.households;
        self.members += o.members;
        self.lifted_out_households += o.lifted_out_households;
        self.lifted_out_members += o.lifted_out_members;
        self.monitored_households += o.monitored_households;
        self.monitored_members += o.monitored_members;
        self.not_eliminated_households += o.not_eliminated_households;
        self.not_eliminated_members += o.not_eliminated_members;
        self.eliminated_households += o.eliminated_households;
        self.eliminated_members += o.eliminated_members;
        self.warnings_active += o.warnings_active;
        self.cases_open += o.cases_open;
        self.cases_overdue += o.cases_overdue;
        self.measures_implemented += o.measures_implemented;
    }

    /// The same figures from the live roll-ups.
    pub fn from_figures(f: &crate::rollups::Figures) -> KeyFigures {
        let eliminated = f.risk_status.eliminated();
        KeyFigures {
            households: f.lifted_out.households + f.ordinary.households,
            members: f.lifted_out.members + f.ordinary.members,
            lifted_out_households: f.lifted_out.households,
            lifted_out_members: f.lifted_out.members,
            monitored_households: f.monitored.households,
            monitored_members: f.monitored.members,
            not_eliminated_households: f.risk_status.not_eliminated.households,
            not_eliminated_members: f.risk_status.not_eliminated.members,
            eliminated_households: eliminated.households,
            eliminated_members: eliminated.members,
            warnings_active: f.active_warnings(),
            cases_open: f.open_cases_total(),
            cases_overdue: f.overdue_cases,
            measures_implemented: f
                .measures_with_status(zhenxing_core::assistance::MeasureStatus::Implemented)
                .0,
        }
    }
}

const FIGURE_COLUMNS: &str = "households, members, lifted_out_households, lifted_out_members, \
    monitored_households, monitored_members, not_eliminated_households, not_eliminated_members, \
    eliminated_households, eliminated_members, warnings_active, cases_open, cases_overdue, \
    measures_implemented";

/// What [`take`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub month: Month,
    pub as_of: Date,
    /// Rows written (divisions).
    pub rows: usize,
    /// Rows of an earlier snapshot of the same month that were replaced.
    pub replaced: u64,
    pub seq: i64,
}

/// Takes the snapshot of `month` with the figures of `today` (China time), replacing an
/// earlier one of the same month: one transaction, one audit operation. `month` must be the
/// month of `today` or the one before (closing a month just after it ended); other months are
/// refused with the reason, since the registry cannot tell what their figures were.
pub async fn take(
    db: &Db,
    actor: &str,
    month: Month,
    today: Date,
) -> Result<std::result::Result<Taken, Text>> {
    if let Err(why) = month.check_not_future(today) {
        return Ok(Err(why));
    }
    let current = Month::of(today);
    if month != current && month != current.previous() {
        return Ok(Err(text!(
            "只能记录本月（{current}）或上月的快照：登记库只有当前数据，无法还原 {month} 的数字",
            "only this month ({current}) or the last one can be taken: the registry holds today's figures and cannot tell what {month}'s were"
        )));
    }
    let mut tx = db.begin_write().await?;
    let op = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.to_owned(),
            action: "snapshot.take".into(),
            object_type: "snapshot".into(),
            object_id: Some(month.to_string()),
            ..AuditEntry::default()
        },
    )
    .await?;
    let seq = op.seq();
    let figures = township_figures(&mut tx, today).await?;
    let divisions: Vec<(String, String)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT code, level FROM divisions WHERE level IN ('province', 'county', 'township') \
         ORDER BY code")
        .fetch_all(conn).await?);
    let month_text = month.to_string();
    let replaced = on_tx!(&mut tx, conn => sqlx::query("DELETE FROM snapshots WHERE month = $1")
        .bind(&month_text).execute(conn).await?.rows_affected());
    let sql = format!(
        "INSERT INTO snapshots (month, division_code, level, as_of, taken_seq, {FIGURE_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    let as_of = today.to_string();
    for (code, level) in &divisions {
        let prefix = match level.as_str() {
            "province" => code.get(..2),
            "county" => code.get(..6),
            _ => code.get(..9),
        }
        .ok_or_else(|| StoreError::Corrupt(format!("division code '{code}'")))?;
        let mut k = KeyFigures::default();
        for (_, f) in figures
            .range(prefix.to_owned()..)
            .take_while(|(p, _)| p.starts_with(prefix))
        {
            k.add(f);
        }
        on_tx!(&mut tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&month_text).bind(code).bind(level).bind(&as_of).bind(seq)
            .bind(k.households).bind(k.members).bind(k.lifted_out_households)
            .bind(k.lifted_out_members).bind(k.monitored_households).bind(k.monitored_members)
            .bind(k.not_eliminated_households).bind(k.not_eliminated_members)
            .bind(k.eliminated_households).bind(k.eliminated_members).bind(k.warnings_active)
            .bind(k.cases_open).bind(k.cases_overdue).bind(k.measures_implemented)
            .execute(conn).await.map(drop)?);
    }
    op.finish(
        &mut tx,
        Some(json!({"month": month_text, "as_of": as_of, "rows": divisions.len(), "replaced": replaced})),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Taken {
        month,
        as_of: today,
        rows: divisions.len(),
        replaced,
        seq,
    }))
}

/// The key figures per township prefix (nine digits), read in the caller's transaction.
async fn township_figures(tx: &mut crate::Tx, today: Date) -> Result<BTreeMap<String, KeyFigures>> {
    let mut out: BTreeMap<String, KeyFigures> = BTreeMap::new();
    let counts: Vec<(String, i64, i64, i64, i64, i64, i64)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT substr(division_code, 1, 9), CAST(SUM(households) AS BIGINT), \
         CAST(SUM(members) AS BIGINT), CAST(SUM(lifted_out_households) AS BIGINT), \
         CAST(SUM(lifted_out_members) AS BIGINT), CAST(SUM(monitored_households) AS BIGINT), \
         CAST(SUM(monitored_members) AS BIGINT) FROM village_counts GROUP BY substr(division_code, 1, 9)")
        .fetch_all(conn).await?);
    for (p, h, m, lh, lm, mh, mm) in counts {
        let k = out.entry(p).or_default();
        k.households += h;
        k.members += m;
        k.lifted_out_households += lh;
        k.lifted_out_members += lm;
        k.monitored_households += mh;
        k.monitored_members += mm;
    }
    let risk: Vec<(String, i64, i64, i64)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT substr(division_code, 1, 9), \
         CAST(CASE WHEN risk_eliminated_on IS NULL THEN 0 ELSE 1 END AS BIGINT), \
         CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(member_count), 0) AS BIGINT) \
         FROM households WHERE monitoring_category IS NOT NULL \
         GROUP BY substr(division_code, 1, 9), CASE WHEN risk_eliminated_on IS NULL THEN 0 ELSE 1 END")
        .fetch_all(conn).await?);
    for (p, eliminated, h, m) in risk {
        let k = out.entry(p).or_default();
        if eliminated == 1 {
            k.eliminated_households += h;
            k.eliminated_members += m;
        } else {
            k.not_eliminated_households += h;
            k.not_eliminated_members += m;
        }
    }
    let active = code_list(
        WarningStatus::ALL
            .iter()
            .filter(|s| s.is_active())
            .map(|s| s.code()),
    );
    let sql = format!(
        "SELECT substr(division_code, 1, 9), CAST(COUNT(*) AS BIGINT) FROM warnings \
         WHERE status IN ({active}) GROUP BY substr(division_code, 1, 9)"
    );
    let warnings: Vec<(String, i64)> = on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(conn).await?);
    for (p, n) in warnings {
        out.entry(p).or_default().warnings_active += n;
    }
    // The overdue condition of `procedures::inbox_counts`.
    let overdue = crate::procedures::late_condition("", "$1");
    let sql = format!(
        "SELECT substr(division_code, 1, 9), CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM cases WHERE closed_on IS NULL GROUP BY substr(division_code, 1, 9)"
    );
    let cases: Vec<(String, i64, i64)> = on_tx!(tx, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(today.to_string()).fetch_all(conn).await?);
    for (p, open, overdue) in cases {
        let k = out.entry(p).or_default();
        k.cases_open += open;
        k.cases_overdue += overdue;
    }
    let measures: Vec<(String, i64)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT substr(division_code, 1, 9), CAST(COUNT(*) AS BIGINT) FROM measures \
         WHERE status = 'implemented' GROUP BY substr(division_code, 1, 9)")
        .fetch_all(conn).await?);
    for (p, n) in measures {
        out.entry(p).or_default().measures_implemented += n;
    }
    Ok(out)
}

fn code_list<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    codes
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One month of a division's trend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPoint {
    pub month: Month,
    /// The day the figures are from.
    pub as_of: Date,
    pub figures: KeyFigures,
}

#[derive(sqlx::FromRow)]
struct PointRow {
    month: String,
    as_of: String,
    #[sqlx(flatten)]
    figures: KeyFigures,
}

/// The snapshots of `division` for the last `months` months up to and including `until`, oldest
/// first; months without a snapshot are absent (a trend chart shows the gap).
pub async fn series(
    db: &Db,
    division: &DivisionCode,
    until: Month,
    months: u16,
) -> Result<Vec<SnapshotPoint>> {
    let mut from = until;
    for _ in 1..months.max(1) {
        from = from.previous();
    }
    let sql = format!(
        "SELECT month, as_of, {FIGURE_COLUMNS} FROM snapshots \
         WHERE division_code = $1 AND month BETWEEN $2 AND $3 ORDER BY month"
    );
    let rows: Vec<PointRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(division.as_str()).bind(from.to_string()).bind(until.to_string())
        .fetch_all(pool).await?);
    rows.into_iter()
        .map(|r| {
            Ok(SnapshotPoint {
                month: Month::parse(&r.month)
                    .map_err(|_| StoreError::Corrupt(format!("snapshot month '{}'", r.month)))?,
                as_of: crate::coverage::stored_day(&r.as_of)?,
                figures: r.figures,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_parse_and_refuse() {
        assert_eq!(
            Month::parse("2026-11").map(|m| m.to_string()),
            Ok("2026-11".to_owned())
        );
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "2026-1",
            "26-11",
            "2026/11",
            "２０２６-11",
            "1999-12",
            "2026-11-01",
            "abcd-ef",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn month_arithmetic() {
        let jan = Month::parse("2026-01").expect("a month");
        assert_eq!(jan.previous().to_string(), "2025-12");
        assert_eq!(Month::of(date!(2026 - 02 - 14)).to_string(), "2026-02");
        assert_eq!(
            Month::parse("2024-02").ok().and_then(Month::last_day),
            Some(date!(2024 - 02 - 29))
        );
        assert!(
            Month::parse("2026-12")
                .expect("a month")
                .check_not_future(date!(2026 - 12 - 01))
                .is_ok()
        );
        assert!(
            Month::parse("2027-01")
                .expect("a month")
                .check_not_future(date!(2026 - 12 - 31))
                .is_err()
        );
    }
}
