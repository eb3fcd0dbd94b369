//! Monitoring: rule sets (versioned, never edited) and the warnings a screening run raises.
//!
//! - [`add_rule_set`] saves a checked rule set as the next version of its year and jurisdiction;
//!   the table refuses `UPDATE` and `DELETE` (triggers), like the audit trail.
//!   [`ensure_builtin_rule_sets`] saves the built-in ones when the table is empty.
//! - [`load_households`] and [`load_members`] stream just the columns the rules read, from two
//!   plain scans (no join), and the caller assembles its own snapshot (see the
//!   `zhenxing-engine` crate). On SQLite they read on the connection directly
//!   (`sqlite_direct::for_each_row`), borrowing each row: through sqlx the full registry took
//!   10.7 s to load, directly 1.6 to 2.0 s (scale 1, release); they then run one after the
//!   other, blocking the task that awaits them for that time.
//! - [`apply_screening`] writes the outcome of a run idempotently, in one write transaction
//!   with one audit operation: a household gets at most one active warning per source; a warning
//!   whose category, risk types and reasons (its fingerprint) are unchanged is left alone; a
//!   changed one is updated; the active warnings of households that no longer trigger anything
//!   are closed. An interrupted run leaves the warnings as they were before it.

use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::bulk::{Batch, ColType};
use crate::warnings::{due_when_new, fingerprint, reason_json, risk_codes};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use zhenxing_core::china_time::now_stored;
use zhenxing_core::monitoring::{Assessment, RiskType, RuleSet};
use zhenxing_core::warning::{InboxPolicy, WarningStatus};
use zhenxing_core::{DivisionCode, MonitoringCategory, Text, text};

/// The source of the warnings `monitor run` raises.
pub const SOURCE_SCREENING: &str = "screening";

/// A saved rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRuleSet {
    pub id: i64,
    pub rules: RuleSet,
    pub created_at: String,
    pub created_by: String,
}

/// Reads a rule set file (JSON); a malformed one gets a bilingual message with the line and
/// column.
pub fn parse_rule_set_json(input: &str) -> std::result::Result<RuleSet, Text> {
    serde_json::from_str::<RuleSet>(input).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        text!(
            "规则集文件有误（第{line}行第{column}列）：{e}",
            "the rule set file is not valid (line {line}, column {column}): {e}"
        )
    })
}

fn to_stored(
    (id, year, jurisdiction, version, parameters, created_at, created_by): (
        i64,
        i64,
        String,
        i64,
        String,
        String,
        String,
    ),
) -> Result<StoredRuleSet> {
    let mut rules: RuleSet = serde_json::from_str(&parameters)
        .map_err(|e| StoreError::Corrupt(format!("rule set {id}: {e}")))?;
    rules.year = u16::try_from(year).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    rules.jurisdiction = jurisdiction;
    rules.version = u32::try_from(version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(StoredRuleSet {
        id,
        rules,
        created_at,
        created_by,
    })
}

const RULE_SET_COLUMNS: &str =
    "id, year, jurisdiction, version, parameters, created_at, created_by";

/// Every saved rule set, by year, jurisdiction and version.
pub async fn rule_sets(db: &Db) -> Result<Vec<StoredRuleSet>> {
    let sql =
        format!("SELECT {RULE_SET_COLUMNS} FROM rule_sets ORDER BY year, jurisdiction, version");
    let rows: Vec<(i64, i64, String, i64, String, String, String)> =
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?);
    rows.into_iter().map(to_stored).collect()
}

/// The rule set in force in `year` for a jurisdiction: the latest version of the latest year
/// not after `year`.
pub async fn current_rule_set(
    db: &Db,
    jurisdiction: &str,
    year: u16,
) -> Result<Option<StoredRuleSet>> {
    let sql = format!(
        "SELECT {RULE_SET_COLUMNS} FROM rule_sets WHERE jurisdiction = $1 AND year <= $2 \
         ORDER BY year DESC, version DESC LIMIT 1"
    );
    let row: Option<(i64, i64, String, i64, String, String, String)> = on_pool!(db, pool =>
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(jurisdiction).bind(i64::from(year))
            .fetch_optional(pool).await?);
    row.map(to_stored).transpose()
}

async fn insert_rule_set(tx: &mut Tx, rules: &RuleSet, actor: &str) -> Result<StoredRuleSet> {
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM rule_sets")
        .fetch_one(conn).await?);
    let parameters =
        serde_json::to_string(rules).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let created_at = now_stored();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO rule_sets (id, year, jurisdiction, version, parameters, assumed, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(id).bind(i64::from(rules.year)).bind(&rules.jurisdiction)
        .bind(i64::from(rules.version)).bind(&parameters).bind(rules.assumed)
        .bind(&created_at).bind(actor).execute(conn).await.map(drop)?);
    Ok(StoredRuleSet {
        id,
        rules: rules.clone(),
        created_at,
        created_by: actor.to_owned(),
    })
}

fn rule_set_object_id(rules: &RuleSet) -> String {
    format!("{}/{}/v{}", rules.year, rules.jurisdiction, rules.version)
}

/// Saves the built-in rule sets (`zhenxing_core::monitoring::builtin`) when there is none yet,
/// as one audited operation; returns how many were saved.
pub async fn ensure_builtin_rule_sets(db: &Db, actor: &str) -> Result<usize> {
    let any: i64 = on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM rule_sets")
        .fetch_one(pool).await?);
    if any > 0 {
        return Ok(0);
    }
    let mut tx = db.begin_write().await?;
    let any: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar("SELECT COUNT(*) FROM rule_sets")
        .fetch_one(conn).await?);
    if any > 0 {
        tx.rollback().await?;
        return Ok(0);
    }
    let builtin = zhenxing_core::monitoring::builtin();
    let mut saved = Vec::new();
    for rules in &builtin {
        saved.push(rule_set_object_id(rules));
        insert_rule_set(&mut tx, rules, actor).await?;
    }
    crate::audit::append(
        &mut tx,
        vec![AuditEntry {
            actor: actor.to_owned(),
            action: "rules.builtin".into(),
            object_type: "rule_set".into(),
            after: Some(json!({ "rule_sets": saved })),
            ..Default::default()
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(builtin.len())
}

/// Saves a rule set as the next version of its year and jurisdiction (whatever version the
/// file named: a saved version is never replaced). A rule set with missing or contradictory
/// parameters is refused with every reason, and nothing is written.
pub async fn add_rule_set(
    db: &Db,
    mut rules: RuleSet,
    actor: &str,
) -> Result<std::result::Result<StoredRuleSet, Vec<Text>>> {
    rules.version = 1;
    if let Err(problems) = rules.check() {
        return Ok(Err(problems));
    }
    let mut tx = db.begin_write().await?;
    let last: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM rule_sets WHERE year = $1 AND jurisdiction = $2")
        .bind(i64::from(rules.year)).bind(&rules.jurisdiction).fetch_one(conn).await?);
    rules.version = u32::try_from(last + 1).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let stored = insert_rule_set(&mut tx, &rules, actor).await?;
    let after = serde_json::to_value(&rules).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    crate::audit::append(
        &mut tx,
        vec![AuditEntry {
            actor: actor.to_owned(),
            action: "rules.add".into(),
            object_type: "rule_set".into(),
            object_id: Some(rule_set_object_id(&rules)),
            division_code: Some(rules.jurisdiction.clone()),
            after: Some(after),
            ..Default::default()
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(stored))
}

/// The household columns the rules read.
#[derive(Debug, Clone, Copy)]
pub struct HouseholdRow<'a> {
    pub id: i64,
    pub county_code: &'a str,
    pub household_no: &'a str,
    pub division_code: &'a str,
    pub household_type: &'a str,
    pub member_count: i64,
    pub per_capita_net_income: i64,
    pub out_of_pocket: i64,
    pub housing_safe: Option<bool>,
    pub water_safe: Option<bool>,
    /// The per-capita net income of the year asked for (`household_incomes`), if recorded.
    pub previous_per_capita_net_income: Option<i64>,
}

/// The member columns the rules read.
#[derive(Debug, Clone, Copy)]
pub struct MemberRow<'a> {
    pub household_id: i64,
    pub county_code: &'a str,
    pub birth_date: &'a str,
    pub school_status: Option<&'a str>,
    pub health: &'a str,
    pub labor: &'a str,
    pub medical_insurance: bool,
}

fn scope_prefix(scope: Option<&DivisionCode>) -> Option<String> {
    scope.map(|c| format!("{}%", c.prefix()))
}

/// Runs a query on SQLite on a pooled connection directly (see `sqlite_direct::for_each_row`),
/// binding `params` to `$1`, `$2`, … in order.
pub(crate) async fn sqlite_rows(
    pool: &sqlx::SqlitePool,
    sql: &str,
    params: &[&str],
    each: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
) -> Result<u64> {
    let mut connection = pool.acquire().await?;
    let mut handle = connection.lock_handle().await?;
    let mut sql = sql.to_owned();
    for n in (1..=params.len()).rev() {
        sql = sql.replace(&format!("${n}"), &format!("?{n}"));
    }
    crate::sqlite_direct::for_each_row(&mut handle, &sql, params, each)
}

/// Streams the households of a division (all when `None`), in no particular order; returns how
/// many. Values are borrowed from the database's row: nothing is allocated per row. With
/// `previous_year`, each household comes with its per-capita net income of that year from
/// `household_incomes` (the screening passes last year, for `income_drop`), joined in the same
/// scan on the table's key: no second pass, no query per household.
pub async fn load_households(
    db: &Db,
    scope: Option<&DivisionCode>,
    previous_year: Option<i32>,
    mut each: impl FnMut(HouseholdRow<'_>) + Send,
) -> Result<u64> {
    let prefix = scope_prefix(scope);
    // The year is a number, written into the statement: both dialects compare it with the
    // INTEGER column without a cast.
    let (previous, join) = match previous_year {
        Some(year) => (
            "i.per_capita_net".to_owned(),
            format!(
                " LEFT JOIN household_incomes i ON i.county_code = h.county_code \
                 AND i.household_no = h.household_no AND i.year = {year}"
            ),
        ),
        None => ("CAST(NULL AS BIGINT)".to_owned(), String::new()),
    };
    let sql = format!(
        "SELECT h.id, h.county_code, h.household_no, h.division_code, h.household_type, \
         h.member_count, h.per_capita_net_income, h.out_of_pocket, h.housing_safe, h.water_safe, \
         {previous} FROM households h{join}{}",
        if prefix.is_some() {
            " WHERE h.division_code LIKE $1"
        } else {
            ""
        }
    );
    if let Db::Sqlite(pool) = db {
        return sqlite_rows(
            pool,
            &sql,
            &prefix.as_deref().into_iter().collect::<Vec<_>>(),
            |row| {
                use crate::sqlite_direct::text;
                each(HouseholdRow {
                    id: row.get(0)?,
                    county_code: text(row, 1)?,
                    household_no: text(row, 2)?,
                    division_code: text(row, 3)?,
                    household_type: text(row, 4)?,
                    member_count: row.get(5)?,
                    per_capita_net_income: row.get(6)?,
                    out_of_pocket: row.get(7)?,
                    housing_safe: row.get(8)?,
                    water_safe: row.get(9)?,
                    previous_per_capita_net_income: row.get(10)?,
                });
                Ok(())
            },
        )
        .await;
    }
    let mut n = 0u64;
    on_pool!(db, pool => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(p) = &prefix {
            q = q.bind(p.as_str());
        }
        let mut rows = q.fetch(pool);
        while let Some(row) = rows.try_next().await? {
            each(HouseholdRow {
                id: row.try_get(0)?,
                county_code: row.try_get(1)?,
                household_no: row.try_get(2)?,
                division_code: row.try_get(3)?,
                household_type: row.try_get(4)?,
                member_count: row.try_get(5)?,
                per_capita_net_income: row.try_get(6)?,
                out_of_pocket: row.try_get(7)?,
                housing_safe: row.try_get(8)?,
                water_safe: row.try_get(9)?,
                previous_per_capita_net_income: row.try_get(10)?,
            });
            n += 1;
        }
    });
    Ok(n)
}

/// Streams the members of the households of a division (all when `None`), in no particular
/// order; returns how many.
pub async fn load_members(
    db: &Db,
    scope: Option<&DivisionCode>,
    mut each: impl FnMut(MemberRow<'_>) + Send,
) -> Result<u64> {
    let prefix = scope_prefix(scope);
    let sql = format!(
        "SELECT household_id, county_code, birth_date, school_status, health, labor, \
         medical_insurance FROM members{}",
        if prefix.is_some() {
            " WHERE (county_code, household_id) IN \
              (SELECT county_code, id FROM households WHERE division_code LIKE $1)"
        } else {
            ""
        }
    );
    if let Db::Sqlite(pool) = db {
        return sqlite_rows(
            pool,
            &sql,
            &prefix.as_deref().into_iter().collect::<Vec<_>>(),
            |row| {
                use crate::sqlite_direct::{text, text_opt};
                each(MemberRow {
                    household_id: row.get(0)?,
                    county_code: text(row, 1)?,
                    birth_date: text(row, 2)?,
                    school_status: text_opt(row, 3)?,
                    health: text(row, 4)?,
                    labor: text(row, 5)?,
                    medical_insurance: row.get(6)?,
                });
                Ok(())
            },
        )
        .await;
    }
    let mut n = 0u64;
    on_pool!(db, pool => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(p) = &prefix {
            q = q.bind(p.as_str());
        }
        let mut rows = q.fetch(pool);
        while let Some(row) = rows.try_next().await? {
            each(MemberRow {
                household_id: row.try_get(0)?,
                county_code: row.try_get(1)?,
                birth_date: row.try_get(2)?,
                school_status: row.try_get(3)?,
                health: row.try_get(4)?,
                labor: row.try_get(5)?,
                medical_insurance: row.try_get(6)?,
            });
            n += 1;
        }
    });
    Ok(n)
}

/// The outcome of the rules for one household that raises a warning, as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningResult {
    pub household_no: String,
    pub county_code: String,
    pub division_code: String,
    pub category: Option<MonitoringCategory>,
    pub risk_types: Vec<RiskType>,
    /// JSON array: one object per reason with `rule`, `risk`, `zh`, `en`, `rule_set_year`,
    /// `rule_set_version`.
    pub reasons: String,
    /// SHA-256 of category, risk types and reasons.
    pub fingerprint: String,
}

impl ScreeningResult {
    /// `None` when the assessment raises no warning.
    pub fn new(
        household_no: &str,
        division_code: &str,
        assessment: &Assessment,
    ) -> Option<ScreeningResult> {
        if !assessment.raises_warning() {
            return None;
        }
        let reasons: Vec<serde_json::Value> = assessment.reasons.iter().map(reason_json).collect();
        let reasons = serde_json::Value::Array(reasons).to_string();
        let risk_types = assessment.risk_types.clone();
        let category = assessment.category;
        let fingerprint = fingerprint(category, &risk_codes(&risk_types), &reasons);
        Some(ScreeningResult {
            household_no: household_no.to_owned(),
            county_code: division_code.get(..6).unwrap_or(division_code).to_owned(),
            division_code: division_code.to_owned(),
            category,
            risk_types,
            reasons,
            fingerprint,
        })
    }
}

/// What a run changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub evaluated: u64,
    pub opened: u64,
    pub updated: u64,
    pub closed: u64,
    pub unchanged: u64,
    /// Not raised again: a person already verified or dismissed the same warning.
    pub settled: u64,
    /// The audit operation of the run.
    pub audit_seq: i64,
}

/// An active warning as the run finds it.
struct OpenWarning {
    id: i64,
    status: String,
    county_code: String,
    division_code: String,
    category: Option<String>,
    risk_types: String,
    fingerprint: String,
    rule_set_id: i64,
}

const WARNING_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("division_code", ColType::Text),
    ("source", ColType::Text),
    ("status", ColType::Text),
    ("category", ColType::Text),
    ("risk_types", ColType::Text),
    ("reasons", ColType::Text),
    ("fingerprint", ColType::Text),
    ("rule_set_id", ColType::Int),
    ("rule_set_version", ColType::Int),
    ("opened_at", ColType::Text),
    ("closed_at", ColType::Text),
    ("updated_at", ColType::Text),
    ("opened_seq", ColType::Int),
    ("updated_seq", ColType::Int),
    ("due_on", ColType::Text),
];

/// A run's input besides its results.
pub struct ScreeningRun<'a> {
    pub rule_set: &'a StoredRuleSet,
    /// The division the run covered (all when `None`): open warnings outside it are left alone.
    pub scope: Option<&'a DivisionCode>,
    /// How many households were evaluated.
    pub evaluated: u64,
    pub actor: &'a str,
}

/// Writes a run's outcome: `results` holds one entry per household in scope that raises a
/// warning (at most one per household). All in one write transaction with one audit
/// operation (`monitor.run`, with the counts); updates and closes are itemised, openings are
/// not (the warning's `opened_seq` names the run).
pub async fn apply_screening(
    db: &Db,
    run: &ScreeningRun<'_>,
    results: Vec<ScreeningResult>,
) -> Result<RunSummary> {
    let mut tx = db.begin_write().await?;
    match apply_in_transaction(&mut tx, run, results).await {
        Ok(summary) => {
            tx.commit().await?;
            Ok(summary)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

async fn apply_in_transaction(
    tx: &mut Tx,
    run: &ScreeningRun<'_>,
    results: Vec<ScreeningResult>,
) -> Result<RunSummary> {
    let rules = &run.rule_set.rules;
    let prefix = scope_prefix(run.scope);
    let sql = format!(
        "SELECT id, status, county_code, household_no, division_code, category, risk_types, \
         fingerprint, rule_set_id FROM warnings WHERE source = $1 AND status IN ('new', 'assigned'){}",
        if prefix.is_some() {
            " AND division_code LIKE $2"
        } else {
            ""
        }
    );
    type OpenRow = (
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        i64,
    );
    let rows: Vec<OpenRow> = on_tx!(tx, conn => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(SOURCE_SCREENING);
        if let Some(p) = &prefix {
            q = q.bind(p.as_str());
        }
        q.fetch_all(conn).await?
    });
    let mut open: HashMap<String, OpenWarning> = rows
        .into_iter()
        .map(
            |(
                id,
                status,
                county_code,
                no,
                division_code,
                category,
                risk_types,
                fingerprint,
                rule_set_id,
            )| {
                (
                    no,
                    OpenWarning {
                        id,
                        status,
                        county_code,
                        division_code,
                        category,
                        risk_types,
                        fingerprint,
                        rule_set_id,
                    },
                )
            },
        )
        .collect();
    let mut next_id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM warnings")
        .fetch_one(conn).await?);
    // Warnings a person already verified or dismissed are not raised again while the screening
    // says the same thing (same fingerprint); a changed signal opens a new warning.
    let settled_sql = format!(
        "SELECT household_no, fingerprint FROM warnings WHERE source = $1 \
         AND status IN ('verified', 'dismissed'){}",
        if prefix.is_some() {
            " AND division_code LIKE $2"
        } else {
            ""
        }
    );
    let settled: HashSet<(String, String)> = on_tx!(tx, conn => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(settled_sql)).bind(SOURCE_SCREENING);
        if let Some(p) = &prefix {
            q = q.bind(p.as_str());
        }
        q.fetch_all(conn).await?
    })
    .into_iter()
    .collect();
    let due = due_when_new(
        zhenxing_core::china_time::today_in_china(),
        &InboxPolicy::default(),
    );

    let mut operation = Operation::begin(
        tx,
        AuditEntry {
            actor: run.actor.to_owned(),
            action: "monitor.run".into(),
            object_type: "rule_set".into(),
            object_id: Some(rule_set_object_id(rules)),
            division_code: run.scope.map(|c| c.as_str().to_owned()),
            ..Default::default()
        },
    )
    .await?;
    let seq = operation.seq();
    let now = now_stored();
    let mut summary = RunSummary {
        evaluated: run.evaluated,
        audit_seq: seq,
        ..Default::default()
    };
    let mut inserts = Batch::new("warnings", WARNING_COLUMNS);
    let mut to_close: Vec<(String, OpenWarning)> = Vec::new();
    for r in results {
        let category = r.category.map(|c| c.code().to_owned());
        let risk_types = risk_codes(&r.risk_types);
        match open.remove(&r.household_no) {
            Some(w) if w.county_code == r.county_code => {
                if w.fingerprint == r.fingerprint && w.rule_set_id == run.rule_set.id {
                    summary.unchanged += 1;
                    continue;
                }
                on_tx!(tx, conn => sqlx::query(
                    "UPDATE warnings SET category = $1, risk_types = $2, reasons = $3, fingerprint = $4, \
                     rule_set_id = $5, rule_set_version = $6, division_code = $7, updated_at = $8, \
                     updated_seq = $9, row_version = row_version + 1 WHERE county_code = $10 AND id = $11")
                    .bind(&category).bind(&risk_types).bind(&r.reasons).bind(&r.fingerprint)
                    .bind(run.rule_set.id).bind(i64::from(rules.version)).bind(&r.division_code)
                    .bind(&now).bind(seq).bind(&w.county_code).bind(w.id)
                    .execute(conn).await.map(drop)?);
                operation
                    .item(
                        tx,
                        AuditItem {
                            action: "warning.update",
                            object_type: "warning",
                            object_id: r.household_no.clone(),
                            county_code: Some(r.county_code.clone()),
                            division_code: Some(r.division_code.clone()),
                            before: Some(
                                json!({"category": w.category, "risk_types": w.risk_types, "fingerprint": w.fingerprint})
                                    .to_string(),
                            ),
                            after: Some(
                                json!({"category": category, "risk_types": risk_types, "fingerprint": r.fingerprint})
                                    .to_string(),
                            ),
                        },
                    )
                    .await?;
                summary.updated += 1;
            }
            other
                if other.is_none()
                    && settled.contains(&(r.household_no.clone(), r.fingerprint.clone())) =>
            {
                summary.settled += 1;
            }
            other => {
                // A household that moved to another county: its old warning closes and a new
                // one opens where it lives now.
                if let Some(w) = other {
                    to_close.push((r.household_no.clone(), w));
                }
                inserts
                    .row()
                    .int(Some(next_id))
                    .text(Some(r.county_code))
                    .text(Some(r.household_no))
                    .text(Some(r.division_code))
                    .text(Some(SOURCE_SCREENING))
                    .text(Some(WarningStatus::New.code()))
                    .text(category)
                    .text(Some(risk_types))
                    .text(Some(r.reasons))
                    .text(Some(r.fingerprint))
                    .int(Some(run.rule_set.id))
                    .int(Some(i64::from(rules.version)))
                    .text(Some(now.as_str()))
                    .text(None::<String>)
                    .text(Some(now.as_str()))
                    .int(Some(seq))
                    .int(Some(seq))
                    .text(Some(due.as_str()));
                next_id += 1;
                summary.opened += 1;
                if inserts.len() >= 10_000 {
                    inserts.flush(tx).await?;
                }
            }
        }
    }
    inserts.flush(tx).await?;
    crate::warnings::decide_kinds_opened_by(tx, seq).await?;
    to_close.extend(open);
    to_close.sort_by_key(|(_, w)| w.id);
    for (household_no, w) in to_close {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE warnings SET status = 'closed', closed_at = $1, updated_at = $1, updated_seq = $2, \
             row_version = row_version + 1 \
             WHERE county_code = $3 AND id = $4")
            .bind(&now).bind(seq).bind(&w.county_code).bind(w.id)
            .execute(conn).await.map(drop)?);
        operation
            .item(
                tx,
                AuditItem {
                    action: "warning.close",
                    object_type: "warning",
                    object_id: household_no,
                    county_code: Some(w.county_code),
                    division_code: Some(w.division_code),
                    before: Some(
                        json!({"status": w.status, "category": w.category, "risk_types": w.risk_types})
                            .to_string(),
                    ),
                    after: Some(json!({"status": "closed"}).to_string()),
                },
            )
            .await?;
        summary.closed += 1;
    }
    let after = json!({
        "rule_set": {"id": run.rule_set.id, "year": rules.year, "jurisdiction": rules.jurisdiction, "version": rules.version},
        "scope": run.scope.map(|c| c.as_str()),
        "evaluated": summary.evaluated,
        "opened": summary.opened,
        "updated": summary.updated,
        "closed": summary.closed,
        "unchanged": summary.unchanged,
        "settled": summary.settled,
    });
    operation.finish(tx, Some(after)).await?;
    Ok(summary)
}

/// A stored warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct WarningRecord {
    pub id: i64,
    pub county_code: String,
    pub household_no: String,
    pub division_code: String,
    pub source: String,
    pub status: String,
    pub category: Option<String>,
    pub risk_types: String,
    pub reasons: String,
    pub fingerprint: String,
    pub rule_set_id: Option<i64>,
    pub rule_set_version: Option<i64>,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub updated_at: String,
    pub opened_seq: i64,
    pub updated_seq: i64,
}

/// The warnings of a division (all when `None`), open ones only if asked, by id.
pub async fn warnings(
    db: &Db,
    scope: Option<&DivisionCode>,
    open_only: bool,
) -> Result<Vec<WarningRecord>> {
    let prefix = scope_prefix(scope).unwrap_or_else(|| "%".to_owned());
    let sql = format!(
        "SELECT id, county_code, household_no, division_code, source, status, category, risk_types, \
         reasons, fingerprint, rule_set_id, rule_set_version, opened_at, closed_at, updated_at, \
         opened_seq, updated_seq FROM warnings WHERE division_code LIKE $1{} ORDER BY id",
        if open_only {
            " AND status IN ('new', 'assigned')"
        } else {
            ""
        }
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&prefix)
        .fetch_all(pool).await?),
    )
}
