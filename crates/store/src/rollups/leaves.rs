//! The figures of every village under a division, each source table read once with a
//! `GROUP BY division_code` (households, monitored households, warnings, cases, measures, the
//! coverage facts). Everything above a village is a sum of these leaves ([`Figures::add`]):
//! `division_figures` sums them at once, `figure_cache` keeps them and sums them upwards.

use super::{Count, Figures, INCOME_EDGES_YUAN, age_band, corrupt};
use crate::browse::code_range;
use crate::coverage::{self, parse_risk_types};
use crate::monitoring::current_rule_set;
use crate::{Db, Result, on_pool, procedures};
use futures_util::TryStreamExt;
use std::collections::BTreeMap;
use time::Date;
use zhenxing_core::Fen;
use zhenxing_core::assistance::{MeasureCategory, MeasureStatus};
use zhenxing_core::coverage::findings;
use zhenxing_core::elimination::EliminationMethod;
use zhenxing_core::monitoring::CHONGQING;
use zhenxing_core::poverty::{AfSpec, HouseholdProfile};
use zhenxing_core::procedure::{CaseKind, Stage};
use zhenxing_core::warning::{WarningKind, WarningStatus};
use zhenxing_core::{DivisionCode, MonitoringCategory};

/// The figures of each village, by village code.
pub type Leaves = BTreeMap<String, Figures>;

/// Which parts to read: the report tables need only some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parts {
    All,
    Monitored,
    Measures,
}

/// The threshold of per-capita net income in force on `today` (fen), if a rule set is.
pub(crate) async fn threshold(db: &Db, today: Date) -> Result<Option<i64>> {
    let year = u16::try_from(today.year()).unwrap_or(0);
    Ok(current_rule_set(db, CHONGQING, year)
        .await?
        .and_then(|s| s.rules.threshold)
        .map(|f| f.0))
}

struct Builder {
    today: Date,
    threshold: Option<i64>,
    leaves: Leaves,
}

impl Builder {
    /// Puts back a leaf taken out with a clone (the income pass works on one village at a time).
    fn put(&mut self, village: String, leaf: Figures) {
        self.leaves.insert(village, leaf);
    }

    fn leaf(&mut self, village: &str) -> Result<&mut Figures> {
        if !self.leaves.contains_key(village) {
            let code =
                DivisionCode::parse(village).map_err(|_| corrupt("division code", village))?;
            self.leaves.insert(
                village.to_owned(),
                Figures::empty(code, self.today, self.threshold),
            );
        }
        self.leaves
            .get_mut(village)
            .ok_or_else(|| corrupt("division code", village))
    }
}

/// The figures of every village under `division` (the division itself when it is a village)
/// on `today`, villages without any household included.
pub async fn village_figures(db: &Db, division: &DivisionCode, today: Date) -> Result<Leaves> {
    read(db, division, today, Parts::All).await
}

pub(crate) async fn read(
    db: &Db,
    division: &DivisionCode,
    today: Date,
    parts: Parts,
) -> Result<Leaves> {
    let (lo, hi) = code_range(division);
    let mut b = Builder {
        today,
        threshold: if parts == Parts::All {
            threshold(db, today).await?
        } else {
            None
        },
        leaves: Leaves::new(),
    };
    match parts {
        Parts::Monitored => return monitored(db, &lo, &hi, &mut b).await.map(|()| b.leaves),
        Parts::Measures => return measures(db, &lo, &hi, &mut b).await.map(|()| b.leaves),
        Parts::All => {}
    }
    villages(db, &lo, &hi, &mut b).await?;
    monitored(db, &lo, &hi, &mut b).await?;
    let large = matches!(
        division.level(),
        zhenxing_core::DivisionLevel::Province | zhenxing_core::DivisionLevel::County
    );
    income(db, &lo, &hi, large, &mut b).await?;
    warnings(db, &lo, &hi, &mut b).await?;
    cases(db, &lo, &hi, &mut b).await?;
    measures(db, &lo, &hi, &mut b).await?;
    coverage(db, division, &mut b).await?;
    Ok(b.leaves)
}

/// Every village of the division table with its seed flag, and the leaf counts that
/// `registry` keeps in the write transaction.
async fn villages(db: &Db, lo: &str, hi: &str, b: &mut Builder) -> Result<()> {
    let rows: Vec<(String, bool)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT code, former_poverty_village FROM divisions \
         WHERE level = 'village' AND code BETWEEN $1 AND $2")
        .bind(lo).bind(hi).fetch_all(pool).await?);
    for (code, former_poverty) in rows {
        b.leaf(&code)?.seed.former_poverty_villages = i64::from(former_poverty);
    }
    let counts: Vec<(String, i64, i64, i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT division_code, CAST(households AS BIGINT), CAST(members AS BIGINT), \
         CAST(lifted_out_households AS BIGINT), CAST(lifted_out_members AS BIGINT) \
         FROM village_counts WHERE division_code BETWEEN $1 AND $2")
        .bind(lo).bind(hi).fetch_all(pool).await?);
    for (code, households, members, lifted_h, lifted_m) in counts {
        let f = b.leaf(&code)?;
        f.seed.lifted_out_members = lifted_m;
        f.lifted_out = Count {
            households: lifted_h,
            members: lifted_m,
        };
        f.ordinary = Count {
            households: households - lifted_h,
            members: members - lifted_m,
        };
    }
    Ok(())
}

/// Monitored households by category, risk status and risk types: one `GROUP BY` over the
/// monitored few per cent of the registry (`households_monitored`).
async fn monitored(db: &Db, lo: &str, hi: &str, b: &mut Builder) -> Result<()> {
    let rows: Vec<(String, String, String, String, i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT division_code, monitoring_category, \
           CASE WHEN risk_eliminated_on IS NULL THEN '' ELSE COALESCE(elimination_method, '?') END, \
           COALESCE(risk_types, ''), CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(member_count), 0) AS BIGINT) \
         FROM households WHERE division_code BETWEEN $1 AND $2 AND monitoring_category IS NOT NULL \
         GROUP BY division_code, monitoring_category, \
           CASE WHEN risk_eliminated_on IS NULL THEN '' ELSE COALESCE(elimination_method, '?') END, \
           COALESCE(risk_types, '')")
        .bind(lo).bind(hi).fetch_all(pool).await?);
    for (code, category, method, risks, households, members) in rows {
        let f = b.leaf(&code)?;
        let category = MonitoringCategory::from_code(&category)
            .ok_or_else(|| corrupt("category", &category))?;
        if let Some(slot) = f.monitored_by_category.iter_mut().find(|c| c.0 == category) {
            slot.1.add(households, members);
        }
        f.monitored.add(households, members);
        let s = &mut f.risk_status;
        let status = match method.as_str() {
            "" => &mut s.not_eliminated,
            "?" => &mut s.eliminated_method_unknown,
            code => match EliminationMethod::from_code(code) {
                Some(EliminationMethod::ByAssistance) => &mut s.eliminated_by_assistance,
                Some(EliminationMethod::Natural) => &mut s.eliminated_naturally,
                None => return Err(corrupt("elimination method", code)),
            },
        };
        status.add(households, members);
        let parsed = parse_risk_types(Some(&risks))?;
        if parsed.is_empty() {
            f.risk_types_unrecorded.add(households, members);
        }
        for risk in parsed {
            if let Some(slot) = f.risk_types.iter_mut().find(|r| r.0 == risk) {
                slot.1.add(households, members);
            }
        }
    }
    Ok(())
}

/// Per-capita net income in buckets, at or below the threshold, and the FGT sums
/// (`core::poverty`, one copy of its rules). This is the one part that reads every household
/// (the `households_division` range), streamed and folded village by village; the figure cache
/// reads it for one village at a time after a write.
async fn income(db: &Db, lo: &str, hi: &str, large: bool, b: &mut Builder) -> Result<()> {
    let threshold = b.threshold.map(Fen);
    let spec = AfSpec::domain();
    // "A member without basic medical insurance": over a county or more, one pass over the
    // members collects the few uninsured households (under a second at full scale; asking per
    // household reads every member's row and took several); over a township or a village,
    // asking per household through `members_household` reads only theirs.
    let uninsured = if large {
        "h.id IN (SELECT household_id FROM members WHERE NOT medical_insurance)"
    } else {
        "EXISTS (SELECT 1 FROM members m WHERE m.county_code = h.county_code \
         AND m.household_id = h.id AND NOT m.medical_insurance)"
    };
    let sql = format!(
        "SELECT h.division_code, h.per_capita_net_income, CAST(h.member_count AS BIGINT), \
         h.housing_safe, h.water_safe, {uninsured} \
         FROM households h WHERE h.division_code BETWEEN $1 AND $2 ORDER BY h.division_code"
    );
    let mut current: Option<(String, Figures)> = None;
    let mut fold = |row: IncomeRow, b: &mut Builder| -> Result<()> {
        if current.as_ref().is_none_or(|(c, _)| *c != row.0) {
            if let Some((done, leaf)) = current.take() {
                b.put(done, leaf);
            }
            let leaf = b.leaf(&row.0)?.clone();
            current = Some((row.0.clone(), leaf));
        }
        if let Some((_, leaf)) = current.as_mut() {
            add_income(leaf, threshold, &spec, &row);
        }
        Ok(())
    };
    match db {
        // Every household of the division passes here: through sqlx each row costs a copy and
        // a hand-off between threads, several seconds at full scale; read directly, as the
        // monitoring pass does.
        Db::Sqlite(pool) => {
            let mut failed = None;
            crate::monitoring::sqlite_rows(pool, &sql, &[lo, hi], |row| {
                let parsed: IncomeRow = (
                    crate::sqlite_direct::text(row, 0)?.to_owned(),
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                );
                if failed.is_none()
                    && let Err(e) = fold(parsed, b)
                {
                    failed = Some(e);
                }
                Ok(())
            })
            .await?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Db::Postgres(pool) => {
            let mut rows = sqlx::query_as::<_, IncomeRow>(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(lo)
                .bind(hi)
                .fetch(pool);
            while let Some(row) = rows.try_next().await? {
                fold(row, b)?;
            }
        }
    }
    if let Some((done, leaf)) = current {
        b.put(done, leaf);
    }
    Ok(())
}

/// A household as the income pass reads it: village, per-capita net income, members, housing
/// and water safety, and whether a member lacks basic medical insurance.
type IncomeRow = (String, i64, i64, Option<bool>, Option<bool>, bool);

/// Counts one household into a leaf: its income bucket, and against the threshold, the FGT
/// sums and the domain's multidimensional index. The registry records neither food and
/// clothing (a home verification's finding) nor which child is out of school (the rule set's
/// ages decide it, in the monitoring pass): both are unknown here, which the index counts as
/// not deprived and reports as `people_with_unknown` (docs/poverty-measures.md).
fn add_income(f: &mut Figures, threshold: Option<Fen>, spec: &AfSpec, row: &IncomeRow) {
    let (_, income, members, housing_safe, water_safe, uninsured) = *row;
    // Bucket 0 is below the first edge; bucket i is [edge i-1, edge i).
    let bucket = INCOME_EDGES_YUAN
        .iter()
        .position(|edge| income < edge * 100)
        .unwrap_or(INCOME_EDGES_YUAN.len());
    if let Some(slot) = f.income.buckets.get_mut(bucket) {
        slot.count.add(1, members);
    }
    let Some(z) = threshold else {
        return;
    };
    if income <= z.0 {
        f.income.at_or_below_threshold.add(1, members);
    }
    let profile = HouseholdProfile {
        per_capita_net_income: Fen(income),
        members: u32::try_from(members).unwrap_or(0),
        food_and_clothing_assured: None,
        water_safe,
        child_out_of_school: None,
        member_without_medical_insurance: Some(uninsured),
        housing_safe,
    };
    f.poverty
        .add(z, profile.per_capita_net_income, profile.members);
    // The vector has the spec's length by construction; a mismatch would only skip the unit.
    let _ = f
        .multidimensional
        .add(spec, 0, &profile.deprivations(z), profile.members);
}

/// Warnings by status, and active ones by the day they were opened (their age on `today`). The
/// UTC hour is kept (13 characters) because the China day of an instant depends on it.
async fn warnings(db: &Db, lo: &str, hi: &str, b: &mut Builder) -> Result<()> {
    let rows: Vec<(String, String, String, String, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT division_code, status, kind, substr(opened_at, 1, 13), CAST(COUNT(*) AS BIGINT) FROM warnings \
         WHERE division_code BETWEEN $1 AND $2 GROUP BY division_code, status, kind, substr(opened_at, 1, 13)")
        .bind(lo).bind(hi).fetch_all(pool).await?);
    let today = b.today;
    for (code, status, kind, day, n) in rows {
        let f = b.leaf(&code)?;
        let s =
            WarningStatus::from_code(&status).ok_or_else(|| corrupt("warning status", &status))?;
        let k = WarningKind::from_code(&kind).ok_or_else(|| corrupt("warning kind", &kind))?;
        if let Some(slot) = f.warnings_by_status.iter_mut().find(|x| x.0 == s) {
            slot.1 += n;
        }
        if let Some(slot) = f.warnings_by_kind.iter_mut().find(|x| x.0 == k) {
            slot.1 += n;
            if s.is_active() {
                slot.2 += n;
            }
        }
        if s.is_active() {
            let opened = coverage::stored_day(&day)?;
            f.active_warnings_by_age[age_band((today - opened).whole_days())] += n;
        }
    }
    Ok(())
}

/// Open cases by kind and stage, and the overdue ones (the inboxes' figure).
async fn cases(db: &Db, lo: &str, hi: &str, b: &mut Builder) -> Result<()> {
    let rows: Vec<(String, String, String, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT division_code, kind, stage, CAST(COUNT(*) AS BIGINT) FROM cases \
         WHERE division_code BETWEEN $1 AND $2 AND closed_on IS NULL GROUP BY division_code, kind, stage")
        .bind(lo).bind(hi).fetch_all(pool).await?);
    for (code, kind, stage, n) in rows {
        let (Some(k), Some(s)) = (CaseKind::from_code(&kind), Stage::from_code(&stage)) else {
            return Err(corrupt("case kind and stage", &format!("{kind}/{stage}")));
        };
        let f = b.leaf(&code)?;
        if let Some(slot) = f.open_cases.iter_mut().find(|c| c.0 == k && c.1 == s) {
            slot.2 += n;
        }
    }
    for (code, n) in procedures::overdue_by_village(db, lo, hi, b.today).await? {
        b.leaf(&code)?.overdue_cases += n;
    }
    Ok(())
}

/// Measures by category and status, with the sum of their amounts in fen.
async fn measures(db: &Db, lo: &str, hi: &str, b: &mut Builder) -> Result<()> {
    let rows: Vec<(String, String, String, i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT division_code, category, status, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(amount), 0) AS BIGINT) \
         FROM measures WHERE division_code BETWEEN $1 AND $2 GROUP BY division_code, category, status")
        .bind(lo).bind(hi).fetch_all(pool).await?);
    for (code, category, status, n, amount) in rows {
        let c = MeasureCategory::from_code(&category)
            .ok_or_else(|| corrupt("measure category", &category))?;
        let s =
            MeasureStatus::from_code(&status).ok_or_else(|| corrupt("measure status", &status))?;
        let f = b.leaf(&code)?;
        if let Some(slot) = f.measures.iter_mut().find(|m| m.0 == c && m.1 == s) {
            slot.2 += n;
            slot.3 += amount;
        }
    }
    Ok(())
}

/// The coverage checks of every monitored household (the rules are `core::coverage`'s).
async fn coverage(db: &Db, division: &DivisionCode, b: &mut Builder) -> Result<()> {
    let today = b.today;
    for h in coverage::load_facts(db, division, today).await? {
        let found = findings(&h.facts, today);
        b.leaf(&h.division_code)?.coverage.add(&found);
    }
    Ok(())
}
