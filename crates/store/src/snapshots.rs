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
//! `GROUP BY` per table at township granularity (the first nine digits of the division code) and
//! by the days that matter (identified, eliminated, opened, closed, due, implemented), counted
//! for a day and summed up to counties and the municipality in Rust (docs/decisions/0013, Citus
//! readiness: leaf `GROUP BY`s, never `ROLLUP`). On today they are the same figures as
//! [`crate::rollups`] (a test compares them division by division); [`backfill`] counts the same
//! records at the end of each past month, for a registry that comes with its history.

use crate::audit::{AuditEntry, Operation};
use crate::bulk::{Batch, ColType};
use crate::{Db, Result, StoreError, on_pool, on_tx};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use time::Date;
use zhenxing_core::procedure::Stage;
use zhenxing_core::warning::WarningStatus;
use zhenxing_core::{DivisionCode, Text, text};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Month {
    pub year: i32,
    pub month: u8,
}

impl Month {
    /// The first month of the transition period (DOMAIN.md 0: 2021 to 2025, and after): where
    /// trends begin.
    pub const TRANSITION_BEGAN: Month = Month {
        year: 2021,
        month: 1,
    };

    /// How many months from `self` through `until`, both included (at least 1).
    pub fn count_through(self, until: Month) -> u16 {
        let index = |m: Month| i64::from(m.year) * 12 + i64::from(m.month);
        u16::try_from((index(until) - index(self) + 1).max(1)).unwrap_or(u16::MAX)
    }

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
    let figures = DatedRecords::read(&mut tx).await?.figures_on(today);
    let divisions = summarised_divisions(&mut tx).await?;
    let month_text = month.to_string();
    let replaced = on_tx!(&mut tx, conn => sqlx::query("DELETE FROM snapshots WHERE month = $1")
        .bind(&month_text).execute(conn).await?.rows_affected());
    let as_of = today.to_string();
    write_month(&mut tx, month, today, seq, &figures, &divisions).await?;
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

/// The divisions a month's snapshot has a row for (the municipality, counties, townships), with
/// the prefix of the codes they sum up.
async fn summarised_divisions(tx: &mut crate::Tx) -> Result<Vec<(String, String, String)>> {
    let divisions: Vec<(String, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT code, level FROM divisions WHERE level IN ('province', 'county', 'township') \
         ORDER BY code")
        .fetch_all(conn).await?);
    divisions
        .into_iter()
        .map(|(code, level)| {
            let prefix = match level.as_str() {
                "province" => code.get(..2),
                "county" => code.get(..6),
                _ => code.get(..9),
            }
            .ok_or_else(|| StoreError::Corrupt(format!("division code '{code}'")))?
            .to_owned();
            Ok((code, level, prefix))
        })
        .collect()
}

const SNAPSHOT_COLUMNS: &[(&str, ColType)] = &[
    ("month", ColType::Text),
    ("division_code", ColType::Text),
    ("level", ColType::Text),
    ("as_of", ColType::Text),
    ("taken_seq", ColType::Int),
    ("households", ColType::Int),
    ("members", ColType::Int),
    ("lifted_out_households", ColType::Int),
    ("lifted_out_members", ColType::Int),
    ("monitored_households", ColType::Int),
    ("monitored_members", ColType::Int),
    ("not_eliminated_households", ColType::Int),
    ("not_eliminated_members", ColType::Int),
    ("eliminated_households", ColType::Int),
    ("eliminated_members", ColType::Int),
    ("warnings_active", ColType::Int),
    ("cases_open", ColType::Int),
    ("cases_overdue", ColType::Int),
    ("measures_implemented", ColType::Int),
];

/// Writes one month's rows, summing the townships' figures up to each division, in bulk.
async fn write_month(
    tx: &mut crate::Tx,
    month: Month,
    as_of: Date,
    seq: i64,
    figures: &BTreeMap<String, KeyFigures>,
    divisions: &[(String, String, String)],
) -> Result<()> {
    let mut batch = Batch::new("snapshots", SNAPSHOT_COLUMNS);
    let month_text = month.to_string();
    let as_of = as_of.to_string();
    for (code, level, prefix) in divisions {
        let mut k = KeyFigures::default();
        for (_, f) in figures
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(prefix.as_str()))
        {
            k.add(f);
        }
        batch
            .row()
            .text(Some(&month_text))
            .text(Some(code))
            .text(Some(level))
            .text(Some(&as_of))
            .int(Some(seq))
            .int(Some(k.households))
            .int(Some(k.members))
            .int(Some(k.lifted_out_households))
            .int(Some(k.lifted_out_members))
            .int(Some(k.monitored_households))
            .int(Some(k.monitored_members))
            .int(Some(k.not_eliminated_households))
            .int(Some(k.not_eliminated_members))
            .int(Some(k.eliminated_households))
            .int(Some(k.eliminated_members))
            .int(Some(k.warnings_active))
            .int(Some(k.cases_open))
            .int(Some(k.cases_overdue))
            .int(Some(k.measures_implemented));
    }
    batch.flush(tx).await
}

/// The dated records the key figures are counted from, read once in the caller's transaction
/// with one leaf `GROUP BY` per table (by township and by the days that matter), and counted for
/// any day with [`DatedRecords::figures_on`]: the same definitions for this month's snapshot and
/// for the months a generated or imported history lived through ([`backfill`]).
struct DatedRecords {
    /// Households, members and lifted-out ones per township, from the village counts: the
    /// registry keeps no day on which a household came to it, so past months count today's.
    registry: BTreeMap<String, KeyFigures>,
    /// (township, identified on, risk eliminated on, households, members) of monitored
    /// households; a household identified again after an elimination counts from its latest
    /// identification, the one the registry keeps (like the national system's 风险识别时间).
    monitored: Vec<MonitoredDays>,
    /// (township, opened at, closed at, status, warnings): stored instants (UTC).
    warnings: Vec<(String, String, Option<String>, String, i64)>,
    /// (township, opened on, closed on, due on, approved on, stage, cases).
    cases: Vec<CaseDays>,
    /// (township, implemented on, measures).
    measures: Vec<(String, Option<String>, i64)>,
}

#[derive(sqlx::FromRow)]
struct MonitoredDays {
    township: String,
    identified_on: Option<String>,
    risk_eliminated_on: Option<String>,
    households: i64,
    members: i64,
}

#[derive(sqlx::FromRow)]
struct CaseDays {
    township: String,
    opened_on: String,
    closed_on: Option<String>,
    due_on: Option<String>,
    approved_on: Option<String>,
    stage: String,
    cases: i64,
}

impl DatedRecords {
    async fn read(tx: &mut crate::Tx) -> Result<DatedRecords> {
        let mut registry: BTreeMap<String, KeyFigures> = BTreeMap::new();
        let counts: Vec<(String, i64, i64, i64, i64)> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT substr(division_code, 1, 9), CAST(SUM(households) AS BIGINT), \
             CAST(SUM(members) AS BIGINT), CAST(SUM(lifted_out_households) AS BIGINT), \
             CAST(SUM(lifted_out_members) AS BIGINT) FROM village_counts \
             GROUP BY substr(division_code, 1, 9)")
            .fetch_all(conn).await?);
        for (p, h, m, lh, lm) in counts {
            let k = registry.entry(p).or_default();
            k.households += h;
            k.members += m;
            k.lifted_out_households += lh;
            k.lifted_out_members += lm;
        }
        let monitored = on_tx!(tx, conn => sqlx::query_as(
            "SELECT substr(division_code, 1, 9) AS township, identified_on, risk_eliminated_on, \
             CAST(COUNT(*) AS BIGINT) AS households, \
             CAST(COALESCE(SUM(member_count), 0) AS BIGINT) AS members \
             FROM households WHERE monitoring_category IS NOT NULL \
             GROUP BY substr(division_code, 1, 9), identified_on, risk_eliminated_on")
            .fetch_all(conn).await?);
        let warnings = on_tx!(tx, conn => sqlx::query_as(
            "SELECT substr(division_code, 1, 9), opened_at, closed_at, status, \
             CAST(COUNT(*) AS BIGINT) FROM warnings \
             GROUP BY substr(division_code, 1, 9), opened_at, closed_at, status")
            .fetch_all(conn).await?);
        let cases = on_tx!(tx, conn => sqlx::query_as(
            "SELECT substr(division_code, 1, 9) AS township, opened_on, closed_on, due_on, \
             approved_on, stage, CAST(COUNT(*) AS BIGINT) AS cases FROM cases \
             GROUP BY substr(division_code, 1, 9), opened_on, closed_on, due_on, approved_on, stage")
            .fetch_all(conn).await?);
        let measures = on_tx!(tx, conn => sqlx::query_as(
            "SELECT substr(division_code, 1, 9), implemented_on, CAST(COUNT(*) AS BIGINT) \
             FROM measures WHERE status = 'implemented' \
             GROUP BY substr(division_code, 1, 9), implemented_on")
            .fetch_all(conn).await?);
        Ok(DatedRecords {
            registry,
            monitored,
            warnings,
            cases,
            measures,
        })
    }

    /// The key figures per township prefix (nine digits) at the end of `day` (China time):
    /// monitored once identified, eliminated once eliminated; a warning active from its
    /// opening to its settling, a case open from its opening to its closing and overdue while
    /// undecided past its due day (the condition of `procedures::inbox_counts`); a measure
    /// counted once implemented. On today these are the live roll-ups' figures (a test
    /// compares them division by division).
    fn figures_on(&self, day: Date) -> BTreeMap<String, KeyFigures> {
        let on = day.to_string();
        let on = on.as_str();
        // The stored instant at which the next day begins in China (UTC+8).
        let next_day_begins = format!("{on}T16:00:00");
        let by = |d: &Option<String>| d.as_deref().is_some_and(|d| d <= on);
        let mut out = self.registry.clone();
        for r in &self.monitored {
            if r.identified_on.as_deref().is_some_and(|d| d > on) {
                continue;
            }
            let (h, m) = (r.households, r.members);
            let k = out.entry(r.township.clone()).or_default();
            k.monitored_households += h;
            k.monitored_members += m;
            if by(&r.risk_eliminated_on) {
                k.eliminated_households += h;
                k.eliminated_members += m;
            } else {
                k.not_eliminated_households += h;
                k.not_eliminated_members += m;
            }
        }
        for (p, opened, closed, status, n) in &self.warnings {
            // Settled warnings carry the instant they were settled; one without it counts by
            // its status.
            let active = opened.as_str() < next_day_begins.as_str()
                && match closed {
                    Some(c) => c.as_str() >= next_day_begins.as_str(),
                    None => WarningStatus::ALL
                        .iter()
                        .any(|s| s.is_active() && s.code() == status),
                };
            if active {
                out.entry(p.clone()).or_default().warnings_active += n;
            }
        }
        for c in &self.cases {
            if c.opened_on.as_str() > on || by(&c.closed_on) {
                continue;
            }
            let undecided = match c.closed_on {
                // Decided when approved (or when it closed without an approval, after `day`).
                Some(_) => !by(&c.approved_on),
                None => Stage::ALL
                    .iter()
                    .any(|s| s.is_undecided() && s.code() == c.stage),
            };
            let late = undecided && c.due_on.as_deref().is_some_and(|d| d < on);
            let k = out.entry(c.township.clone()).or_default();
            k.cases_open += c.cases;
            if late {
                k.cases_overdue += c.cases;
            }
        }
        for (p, implemented, n) in &self.measures {
            if implemented.is_none() || by(implemented) {
                out.entry(p.clone()).or_default().measures_implemented += n;
            }
        }
        out
    }
}

/// What [`backfill`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfilled {
    pub months: usize,
    pub rows: usize,
}

/// Writes the snapshot of every month from `from` through the month of `today` that has none,
/// each counted from the dated records as they stood at the month's end (`today` for the
/// current month): for a registry that comes with its history (`generate`: decision 0019), so
/// that the trend has a line for every month it lived through. In the caller's transaction, as
/// one audit operation (`snapshot.backfill`).
pub async fn backfill(
    tx: &mut crate::Tx,
    actor: &str,
    from: Month,
    today: Date,
) -> Result<Backfilled> {
    let taken: Vec<(String,)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT DISTINCT month FROM snapshots").fetch_all(conn).await?);
    let taken: std::collections::HashSet<String> = taken.into_iter().map(|(m,)| m).collect();
    let mut months = Vec::new();
    let mut month = Month::of(today);
    while month >= from {
        if !taken.contains(&month.to_string()) {
            let end = month.last_day().map_or(today, |d| d.min(today));
            months.push((month, end));
        }
        month = month.previous();
    }
    months.reverse();
    if months.is_empty() {
        return Ok(Backfilled { months: 0, rows: 0 });
    }
    let op = Operation::begin(
        tx,
        AuditEntry {
            actor: actor.to_owned(),
            action: "snapshot.backfill".into(),
            object_type: "snapshot".into(),
            ..AuditEntry::default()
        },
    )
    .await?;
    let records = DatedRecords::read(tx).await?;
    let divisions = summarised_divisions(tx).await?;
    for &(month, end) in &months {
        write_month(
            tx,
            month,
            end,
            op.seq(),
            &records.figures_on(end),
            &divisions,
        )
        .await?;
    }
    let written = Backfilled {
        months: months.len(),
        rows: months.len() * divisions.len(),
    };
    let (first, last) = (
        months[0].0.to_string(),
        months[months.len() - 1].0.to_string(),
    );
    op.finish(
        tx,
        Some(
            json!({"from": first, "through": last, "months": written.months, "rows": written.rows}),
        ),
    )
    .await?;
    Ok(written)
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
        assert_eq!(Month::TRANSITION_BEGAN.count_through(jan), 61);
        assert_eq!(jan.count_through(jan), 1);
        assert_eq!(jan.count_through(jan.previous()), 1);
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
