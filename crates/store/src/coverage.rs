//! Coverage checks over a division (issue 5 item 4): the facts of every monitored household
//! under it, read with four set-based queries (households, their members, active pairings,
//! measures; never one query per household), checked by `zhenxing_core::coverage::findings`,
//! and counted per child division (the counties of the municipality, the townships of a county,
//! the villages of a township) with totals.
//!
//! The household columns of the procedures (`identified_on`, `risk_types`,
//! `risk_eliminated_on`) come from migration 0009; a household without `identified_on` was
//! monitored before zhenxing kept records, and is counted from its registration
//! (`households.created_at`).

use crate::assistance::{MEASURE_FACT_COLUMNS, MeasureFactRow};
use crate::browse::code_range;
use crate::{Db, Result, StoreError, on_pool};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use time::Date;
use zhenxing_core::coverage::{CoverageFacts, CoverageRule, Finding, findings};
use zhenxing_core::monitoring::{MemberFacts, RiskType};
use zhenxing_core::{DivisionCode, DivisionLevel, MonitoringCategory, Scope};

/// The stored risk types (codes joined by commas; empty or NULL: none recorded).
pub fn parse_risk_types(stored: Option<&str>) -> Result<Vec<RiskType>> {
    stored
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|code| {
            RiskType::from_code(code)
                .ok_or_else(|| StoreError::Corrupt(format!("risk type '{code}'")))
        })
        .collect()
}

/// The China day of a stored date or UTC instant (`zhenxing_core::china_time::china_day`).
pub fn stored_day(stored: &str) -> Result<Date> {
    zhenxing_core::china_time::china_day(stored)
        .ok_or_else(|| StoreError::Corrupt(format!("date '{stored}'")))
}

#[derive(sqlx::FromRow)]
struct HouseholdRow {
    id: i64,
    county_code: String,
    household_no: String,
    division_code: String,
    monitoring_category: String,
    identified_on: Option<String>,
    risk_types: Option<String>,
    risk_eliminated_on: Option<String>,
    water_safe: Option<bool>,
    housing_safe: Option<bool>,
    created_at: String,
    head_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    household_id: i64,
    county_code: String,
    birth_date: String,
    school_status: Option<String>,
    health: String,
    labor: String,
    medical_insurance: bool,
    disability_category: Option<i64>,
}

/// The members' part of [`CoverageFacts`], folded member by member.
#[derive(Default, Clone, Copy)]
struct MemberSummary {
    members: usize,
    without_labor: usize,
    any_full_labor: bool,
    any_certificate: bool,
    any_uninsured: bool,
}

/// One monitored household with its facts.
#[derive(Debug, Clone)]
pub struct CoverageHousehold {
    pub division_code: String,
    pub head_name: Option<String>,
    pub facts: CoverageFacts,
}

/// The facts of every monitored household under `division`, in (division, household number)
/// order.
pub async fn load_facts(
    db: &Db,
    division: &DivisionCode,
    today: Date,
) -> Result<Vec<CoverageHousehold>> {
    let (lo, hi) = code_range(division);
    let households: Vec<HouseholdRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT h.id, h.county_code, h.household_no, h.division_code, h.monitoring_category, \
         h.identified_on, h.risk_types, h.risk_eliminated_on, h.water_safe, h.housing_safe, \
         h.created_at, \
         (SELECT m.name FROM members m WHERE m.county_code = h.county_code \
          AND m.household_id = h.id AND m.relation = 'head' ORDER BY m.position LIMIT 1) AS head_name \
         FROM households h WHERE h.division_code BETWEEN $1 AND $2 \
         AND h.monitoring_category IS NOT NULL ORDER BY h.division_code, h.household_no")
        .bind(&lo).bind(&hi).fetch_all(pool).await?);
    if households.is_empty() {
        return Ok(Vec::new());
    }
    let members: Vec<MemberRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT m.household_id, m.county_code, m.birth_date, m.school_status, m.health, m.labor, \
         m.medical_insurance, m.disability_category FROM members m \
         JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id \
         WHERE h.division_code BETWEEN $1 AND $2 AND h.monitoring_category IS NOT NULL")
        .bind(&lo).bind(&hi).fetch_all(pool).await?);
    let paired: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT household_no FROM pairings WHERE division_code BETWEEN $1 AND $2 \
         AND starts_on <= $3 AND (ends_on IS NULL OR ends_on >= $3)")
        .bind(&lo).bind(&hi).bind(today.to_string()).fetch_all(pool).await?);
    let sql = format!(
        "SELECT {MEASURE_FACT_COLUMNS} FROM measures WHERE division_code BETWEEN $1 AND $2"
    );
    let measure_rows: Vec<MeasureFactRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&lo).bind(&hi).fetch_all(pool).await?);

    let mut summaries: HashMap<(String, i64), MemberSummary> = HashMap::new();
    for m in members {
        let facts = MemberFacts::from_stored(
            &m.birth_date,
            m.school_status.as_deref(),
            &m.health,
            &m.labor,
            m.medical_insurance,
        )
        .map_err(|e| StoreError::Corrupt(e.en))?;
        let s = summaries
            .entry((m.county_code, m.household_id))
            .or_default();
        s.members += 1;
        s.without_labor += usize::from(facts.labor.is_without());
        s.any_full_labor |= facts.labor.is_full();
        s.any_certificate |= m.disability_category.is_some();
        s.any_uninsured |= !facts.medical_insurance;
    }
    let paired: HashSet<String> = paired.into_iter().collect();
    let mut measures: HashMap<String, Vec<_>> = HashMap::new();
    for row in measure_rows {
        let fact = row.fact()?;
        measures.entry(row.household_no).or_default().push(fact);
    }

    households
        .into_iter()
        .map(|h| {
            let s = summaries
                .get(&(h.county_code.clone(), h.id))
                .copied()
                .unwrap_or_default();
            let identified_on = h.identified_on.as_deref().map(stored_day).transpose()?;
            let facts = CoverageFacts {
                category: Some(
                    MonitoringCategory::from_code(&h.monitoring_category).ok_or_else(|| {
                        StoreError::Corrupt(format!("category '{}'", h.monitoring_category))
                    })?,
                ),
                risk_eliminated: h.risk_eliminated_on.is_some(),
                identified_on,
                registered_on: stored_day(&h.created_at)?,
                risk_types: parse_risk_types(h.risk_types.as_deref())?,
                has_active_pairing: paired.contains(&h.household_no),
                measures: measures.remove(&h.household_no).unwrap_or_default(),
                any_disability_certificate: s.any_certificate,
                all_without_labor: s.members > 0 && s.without_labor == s.members,
                any_full_labor: s.any_full_labor,
                water_safe: h.water_safe,
                housing_safe: h.housing_safe,
                any_without_medical_insurance: s.any_uninsured,
                household_no: h.household_no,
            };
            Ok(CoverageHousehold {
                division_code: h.division_code,
                head_name: h.head_name,
                facts,
            })
        })
        .collect()
}

/// The counts of one division: monitored households, households with at least one finding,
/// and households per rule (in the order of `CoverageRule::ALL`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub monitored: i64,
    pub with_findings: i64,
    pub by_rule: Vec<i64>,
}

impl Counts {
    pub(crate) fn new() -> Counts {
        Counts {
            by_rule: vec![0; CoverageRule::ALL.len()],
            ..Counts::default()
        }
    }

    /// Adds another division's counts.
    pub(crate) fn add_counts(&mut self, o: &Counts) {
        self.monitored += o.monitored;
        self.with_findings += o.with_findings;
        for (a, b) in self.by_rule.iter_mut().zip(&o.by_rule) {
            *a += b;
        }
    }

    pub(crate) fn add(&mut self, found: &[Finding]) {
        self.monitored += 1;
        self.with_findings += i64::from(!found.is_empty());
        for f in found {
            if let Some(i) = CoverageRule::ALL.iter().position(|r| *r == f.rule) {
                self.by_rule[i] += 1;
            }
        }
    }

    /// Households found by `rule`.
    pub fn of(&self, rule: CoverageRule) -> i64 {
        CoverageRule::ALL
            .iter()
            .position(|r| *r == rule)
            .and_then(|i| self.by_rule.get(i).copied())
            .unwrap_or(0)
    }
}

/// A child division with its counts.
#[derive(Debug, Clone, Serialize)]
pub struct ChildCounts {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub counts: Counts,
}

/// One household with what the checks found.
#[derive(Debug, Clone)]
pub struct HouseholdFindings {
    pub household_no: String,
    pub division_code: String,
    pub head_name: Option<String>,
    pub findings: Vec<Finding>,
}

/// The coverage of a division on a day.
#[derive(Debug, Clone)]
pub struct CoverageReport {
    pub division: DivisionCode,
    pub children: Vec<ChildCounts>,
    pub total: Counts,
    /// The households with at least one finding, in (division, household number) order.
    pub households: Vec<HouseholdFindings>,
}

/// The coverage report of `division` on `today`; `None` when the division lies outside
/// `scope` (the caller answers as for a division that does not exist).
pub async fn report(
    db: &Db,
    scope: &Scope,
    division: &DivisionCode,
    today: Date,
) -> Result<Option<CoverageReport>> {
    if !scope.contains(division) {
        return Ok(None);
    }
    let child_len = match division.level() {
        DivisionLevel::Province => 6,
        DivisionLevel::County => 9,
        DivisionLevel::Township | DivisionLevel::Village => 12,
    };
    let mut children: Vec<ChildCounts> = db
        .child_divisions(division)
        .await?
        .into_iter()
        .map(|c| ChildCounts {
            code: c.division.code,
            name_zh: c.division.name_zh,
            name_en: c.division.name_en,
            counts: Counts::new(),
        })
        .collect();
    let index: HashMap<String, usize> = children
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code[..child_len].to_owned(), i))
        .collect();
    let mut total = Counts::new();
    let mut households = Vec::new();
    for h in load_facts(db, division, today).await? {
        let found = findings(&h.facts, today);
        total.add(&found);
        if let Some(&i) = h.division_code.get(..child_len).and_then(|k| index.get(k)) {
            children[i].counts.add(&found);
        }
        if !found.is_empty() {
            households.push(HouseholdFindings {
                household_no: h.facts.household_no,
                division_code: h.division_code,
                head_name: h.head_name,
                findings: found,
            });
        }
    }
    Ok(Some(CoverageReport {
        division: *division,
        children,
        total,
        households,
    }))
}
