//! The warnings inbox: warnings raised by any channel, listed per division, and the steps people
//! take on them (assign, verify, dismiss; see `zhenxing_core::warning`).
//!
//! - [`raise`] opens a warning for a household and source, or merges new reasons into the
//!   active one (a second department record, a second visit): at most one active warning per
//!   household and source (the `warnings_active` index). A registered household's warning is
//!   stored in the household's own village, whatever division the caller named. The screening has its own writer,
//!   [`crate::monitoring::apply_screening`], which replaces rather than merges.
//! - [`inbox`] pages the warnings of a scope, due first; [`warning`] reads one.
//! - [`take_step`] applies a step after the core's policy allows it, with optimistic
//!   concurrency on `row_version` (two people acting at once: one succeeds, the other is told),
//!   and audits it.
//! - [`report`] records a cadre's visit or a self-declaration as a warning.
//! - Every warning has a kind ([`WarningKind`]), decided when it is raised from its household's
//!   standing ([`decide_kind`], in the raising transaction): a lead for identification, or a
//!   new risk of a monitored household. Verifying a new risk adds its risk types to the
//!   household's (audited as `household.monitoring`, in the step's transaction), for the
//!   responsible cadre to meet them with measures.

use crate::accounts::Account;
use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::browse::code_range;
use crate::{Db, Outcome, Result, Tx, on_pool, on_tx};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::{Date, Duration};
use zhenxing_core::china_time::now_stored;
use zhenxing_core::monitoring::{MAX_RISK_TYPES, Reason, RiskType};
use zhenxing_core::warning::{
    Actor, InboxPolicy, WarningChannel, WarningKind, WarningStatus, WarningStep, is_overdue,
    merged_risk_types, plan_step,
};
use zhenxing_core::{DivisionCode, Lang, MonitoringCategory, Role, Scope, Text, text};

/// A reason as stored in `warnings.reasons`: the rule, the risk type, the words in both
/// languages and the rule set that holds the rule.
pub fn reason_json(r: &Reason) -> Value {
    let words = r.text();
    json!({
        "rule": r.rule().code(),
        "risk": r.risk.map(RiskType::code),
        "zh": words.zh,
        "en": words.en,
        "rule_set_year": r.rule_set_year,
        "rule_set_version": r.rule_set_version,
    })
}

/// Risk types as stored: codes joined by commas.
pub fn risk_codes(risks: &[RiskType]) -> String {
    risks.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

/// SHA-256 of what a warning says: category, risk types and reasons. Equal fingerprints mean
/// nothing new to tell anyone.
pub fn fingerprint(
    category: Option<MonitoringCategory>,
    risk_types: &str,
    reasons: &str,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(category.map(MonitoringCategory::code).unwrap_or("-"));
    hasher.update(b"\n");
    hasher.update(risk_types);
    hasher.update(b"\n");
    hasher.update(reasons);
    hex::encode(hasher.finalize())
}

/// The day a new warning becomes overdue when nobody assigns it.
pub fn due_when_new(opened_on: Date, policy: &InboxPolicy) -> String {
    (opened_on + Duration::days(policy.unassigned_days)).to_string()
}

/// A warning to open or merge.
#[derive(Debug, Clone)]
pub struct NewWarning {
    pub household_no: String,
    pub division_code: String,
    /// `department:<kind>`, `self_declaration`, `visit`.
    pub source: String,
    pub category: Option<MonitoringCategory>,
    pub risk_types: Vec<RiskType>,
    /// Objects as [`reason_json`] makes them (or with `rule: "report"` for a person's report).
    pub reasons: Vec<Value>,
    /// The rule set (id, version) whose rules fired, if any.
    pub rule_set: Option<(i64, i64)>,
    /// Where it came from: an upload and its rows, a visit's account and date.
    pub origin: Option<Value>,
}

/// What [`raise`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    Opened(i64),
    /// New reasons merged into the active warning.
    Merged(i64),
    /// The active warning already says all of it.
    Unchanged(i64),
}

#[derive(sqlx::FromRow)]
struct Active {
    id: i64,
    county_code: String,
    division_code: String,
    category: Option<String>,
    risk_types: String,
    reasons: String,
    fingerprint: String,
    origin: Option<String>,
}

/// Where a warning on `household_no` belongs, as `(county, village)`: a registered household's
/// own, read from the registry whatever division the caller named (a declaration names the
/// village the declarant chose, which may be another county's); else the caller's (a
/// provisional number `SB-…` of a declarant not in the registry).
async fn home(tx: &mut Tx, household_no: &str, named_division: &str) -> Result<(String, String)> {
    let registered: Option<(String, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT county_code, division_code FROM households WHERE household_no = $1")
        .bind(household_no).fetch_optional(conn).await?);
    Ok(registered.unwrap_or_else(|| {
        let county = named_division.get(..6).unwrap_or(named_division);
        (county.to_owned(), named_division.to_owned())
    }))
}

/// Sets the kind ([`WarningKind`]) of warnings just raised from their household's standing in
/// the same transaction: a new risk of a monitored household (identified, risk not eliminated),
/// else a lead. `which` is the SQL condition naming the warnings, with its binds from `$1`.
const DECIDE_KIND: &str = "UPDATE warnings SET kind = CASE WHEN EXISTS (\
     SELECT 1 FROM households h WHERE h.household_no = warnings.household_no \
     AND h.monitoring_category IS NOT NULL AND h.risk_eliminated_on IS NULL) \
     THEN 'monitored_risk' ELSE 'lead' END WHERE ";

/// Decides the kind of one warning (raised, or carried over to a registered household).
pub(crate) async fn decide_kind(tx: &mut Tx, county_code: &str, id: i64) -> Result<()> {
    let sql = format!("{DECIDE_KIND}county_code = $1 AND id = $2");
    on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(county_code).bind(id).execute(conn).await.map(drop)?);
    Ok(())
}

/// Decides the kind of every warning an audited operation opened (a screening run's batch).
pub(crate) async fn decide_kinds_opened_by(tx: &mut Tx, seq: i64) -> Result<()> {
    let sql = format!("{DECIDE_KIND}opened_seq = $1");
    on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(seq).execute(conn).await.map(drop)?);
    Ok(())
}

/// Opens a warning, or merges `w` into the household's active warning from the same source,
/// inside the caller's write transaction and audit operation. A registered household's warning
/// is always stored in the household's own county and village ([`home`]), whichever division
/// the caller named, and its active warning is found in whatever county it stands (one left
/// elsewhere, by an older version or a household that moved, is moved home with this merge).
pub async fn raise(
    tx: &mut Tx,
    operation: &mut Operation,
    mut w: NewWarning,
    policy: &InboxPolicy,
) -> Result<Raised> {
    let (county_code, division_code) = home(tx, &w.household_no, &w.division_code).await?;
    w.division_code = division_code;
    let row: Option<Active> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, county_code, division_code, category, risk_types, reasons, fingerprint, \
         origin FROM warnings WHERE household_no = $1 AND source = $2 \
         AND status IN ('new', 'assigned') \
         ORDER BY CASE WHEN county_code = $3 THEN 0 ELSE 1 END, id LIMIT 1")
        .bind(&w.household_no).bind(&w.source).bind(&county_code)
        .fetch_optional(conn).await?);
    let now = now_stored();
    let seq = operation.seq();
    let Some(active) = row else {
        let risks = risk_codes(&w.risk_types[..w.risk_types.len().min(MAX_RISK_TYPES)]);
        let reasons = Value::Array(w.reasons).to_string();
        let fp = fingerprint(w.category, &risks, &reasons);
        let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM warnings")
            .fetch_one(conn).await?);
        let origin = w.origin.map(|o| Value::Array(vec![o]).to_string());
        let due = due_when_new(zhenxing_core::china_time::today_in_china(), policy);
        let category = w.category.map(|c| c.code());
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO warnings (id, county_code, household_no, division_code, source, status, \
             category, risk_types, reasons, fingerprint, rule_set_id, rule_set_version, opened_at, \
             updated_at, opened_seq, updated_seq, origin, due_on, row_version) \
             VALUES ($1, $2, $3, $4, $5, 'new', $6, $7, $8, $9, $10, $11, $12, $12, $13, $13, $14, $15, 1)")
            .bind(id).bind(&county_code).bind(&w.household_no).bind(&w.division_code)
            .bind(&w.source).bind(category).bind(&risks).bind(&reasons).bind(&fp)
            .bind(w.rule_set.map(|r| r.0)).bind(w.rule_set.map(|r| r.1)).bind(&now).bind(seq)
            .bind(&origin).bind(&due)
            .execute(conn).await.map(drop)?);
        decide_kind(tx, &county_code, id).await?;
        operation
            .item(
                tx,
                AuditItem {
                    action: "warning.open",
                    object_type: "warning",
                    object_id: id.to_string(),
                    county_code: Some(county_code),
                    division_code: Some(w.division_code),
                    before: None,
                    after: Some(
                        json!({"household_no": w.household_no, "source": w.source,
                               "category": category, "risk_types": risks})
                        .to_string(),
                    ),
                },
            )
            .await?;
        return Ok(Raised::Opened(id));
    };
    merge(tx, operation, active, w, &county_code, &now).await
}

/// Merges `w` into the active warning `a`, and moves `a` (with the declarations behind it)
/// to `w`'s county and village when it stands elsewhere.
async fn merge(
    tx: &mut Tx,
    operation: &mut Operation,
    a: Active,
    w: NewWarning,
    county_code: &str,
    now: &str,
) -> Result<Raised> {
    let mut reasons: Vec<Value> = serde_json::from_str(&a.reasons).unwrap_or_default();
    for r in w.reasons {
        if !reasons.contains(&r) {
            reasons.push(r);
        }
    }
    let mut risks: Vec<RiskType> = a
        .risk_types
        .split(',')
        .filter_map(RiskType::from_code)
        .collect();
    for r in w.risk_types {
        if !risks.contains(&r) && risks.len() < MAX_RISK_TYPES {
            risks.push(r);
        }
    }
    let category = a
        .category
        .as_deref()
        .and_then(MonitoringCategory::from_code)
        .or(w.category);
    let risk_text = risk_codes(&risks);
    let reasons_text = Value::Array(reasons).to_string();
    let fp = fingerprint(category, &risk_text, &reasons_text);
    let moved = a.county_code != county_code || a.division_code != w.division_code;
    if fp == a.fingerprint && !moved {
        return Ok(Raised::Unchanged(a.id));
    }
    let mut origins: Vec<Value> = a
        .origin
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    origins.extend(w.origin);
    let origin = (!origins.is_empty()).then(|| Value::Array(origins).to_string());
    let seq = operation.seq();
    let category_code = category.map(|c| c.code());
    on_tx!(tx, conn => sqlx::query(
        "UPDATE warnings SET category = $1, risk_types = $2, reasons = $3, fingerprint = $4, \
         origin = $5, updated_at = $6, updated_seq = $7, row_version = row_version + 1, \
         county_code = $8, division_code = $9 WHERE county_code = $10 AND id = $11")
        .bind(category_code).bind(&risk_text).bind(&reasons_text).bind(&fp).bind(&origin)
        .bind(now).bind(seq).bind(county_code).bind(&w.division_code).bind(&a.county_code)
        .bind(a.id)
        .execute(conn).await.map(drop)?);
    if moved {
        // The declarations behind a lead are read by the officers of the lead's village.
        on_tx!(tx, conn => sqlx::query(
            "UPDATE declarations SET county_code = $1, division_code = $2 \
             WHERE county_code = $3 AND warning_id = $4")
            .bind(county_code).bind(&w.division_code).bind(&a.county_code).bind(a.id)
            .execute(conn).await.map(drop)?);
        // An item on the village it left, so that the village's figures are read again too.
        operation
            .item(
                tx,
                AuditItem {
                    action: "warning.move",
                    object_type: "warning",
                    object_id: a.id.to_string(),
                    county_code: Some(a.county_code.clone()),
                    division_code: Some(a.division_code.clone()),
                    before: Some(json!({"division_code": a.division_code}).to_string()),
                    after: Some(json!({"division_code": w.division_code}).to_string()),
                },
            )
            .await?;
    }
    operation
        .item(
            tx,
            AuditItem {
                action: "warning.update",
                object_type: "warning",
                object_id: a.id.to_string(),
                county_code: Some(county_code.to_owned()),
                division_code: Some(w.division_code.clone()),
                before: Some(
                    json!({"category": a.category, "risk_types": a.risk_types,
                           "fingerprint": a.fingerprint, "division_code": a.division_code})
                    .to_string(),
                ),
                after: Some(
                    json!({"category": category_code, "risk_types": risk_text,
                           "fingerprint": fp, "division_code": w.division_code})
                    .to_string(),
                ),
            },
        )
        .await?;
    Ok(Raised::Merged(a.id))
}

/// Which warnings a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// New and assigned.
    #[default]
    Active,
    /// Active and past their due day.
    Overdue,
    Only(WarningStatus),
    All,
}

/// A page request of the inbox.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    pub status: StatusFilter,
    pub channel: Option<WarningChannel>,
    pub kind: Option<WarningKind>,
    /// Only warnings assigned to this account.
    pub assignee: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// One line of the inbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InboxRow {
    pub id: i64,
    pub household_no: String,
    pub division_code: String,
    pub source: String,
    pub status: String,
    pub kind: String,
    pub category: Option<String>,
    pub risk_types: String,
    pub opened_at: String,
    pub due_on: Option<String>,
    pub deadline: Option<String>,
    pub assignee: Option<String>,
    pub head_name: Option<String>,
    /// What a step from the list (a batch assignment) expects.
    pub row_version: i64,
}

impl InboxRow {
    pub fn status(&self) -> Option<WarningStatus> {
        WarningStatus::from_code(&self.status)
    }

    pub fn kind(&self) -> Option<WarningKind> {
        WarningKind::from_code(&self.kind)
    }

    /// Active and past its due day.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.status().is_some_and(WarningStatus::is_active)
            && self
                .due_on
                .as_deref()
                .is_some_and(|d| d < today.to_string().as_str())
    }
}

/// How many warnings of a scope stand where: the inbox's tabs.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct InboxCounts {
    pub new: i64,
    pub assigned: i64,
    pub overdue: i64,
    pub verified: i64,
    pub dismissed: i64,
    pub closed: i64,
    /// Active (new, assigned) warnings of each kind: leads for identification, and new risks of
    /// monitored households for their responsible cadres.
    pub active_leads: i64,
    pub active_monitored_risks: i64,
}

const INBOX_COLUMNS: &str = "w.id, w.household_no, w.division_code, w.source, w.status, w.kind, \
    w.category, w.risk_types, w.opened_at, w.due_on, w.deadline, w.assignee, w.row_version, \
    (SELECT m.name FROM members m WHERE m.county_code = h.county_code AND m.household_id = h.id \
     AND m.relation = 'head' \
     ORDER BY m.position LIMIT 1) AS head_name";

/// A page of the warnings in `scope`, the most urgent first (by due day, then id); settled
/// warnings newest first.
/// The most rows one call of [`inbox`] returns (a page of an export).
pub const INBOX_MOST: i64 = 5_000;

/// The condition, its bound values and the order of the inbox's filters.
fn inbox_condition(
    scope: &Scope,
    q: &InboxQuery,
    today: Date,
) -> (String, Vec<String>, &'static str) {
    let (low, high) = code_range(scope.division());
    let mut conditions = vec!["w.division_code BETWEEN $1 AND $2".to_owned()];
    let mut binds: Vec<String> = vec![low, high];
    let mut order = "w.due_on, w.id";
    match q.status {
        StatusFilter::Active => conditions.push("w.status IN ('new', 'assigned')".into()),
        StatusFilter::Overdue => {
            binds.push(today.to_string());
            conditions.push(format!(
                "w.status IN ('new', 'assigned') AND w.due_on < ${}",
                binds.len()
            ));
        }
        StatusFilter::Only(s) => {
            binds.push(s.code().to_owned());
            conditions.push(format!("w.status = ${}", binds.len()));
            if !s.is_active() {
                order = "w.id DESC";
            }
        }
        StatusFilter::All => order = "w.id DESC",
    }
    if let Some(channel) = q.channel {
        binds.push(channel.code().to_owned());
        let n = binds.len();
        binds.push(format!("{}:%", channel.code()));
        conditions.push(format!("(w.source = ${n} OR w.source LIKE ${})", n + 1));
    }
    if let Some(kind) = q.kind {
        binds.push(kind.code().to_owned());
        conditions.push(format!("w.kind = ${}", binds.len()));
    }
    if let Some(a) = &q.assignee {
        binds.push(a.clone());
        conditions.push(format!("w.assignee = ${}", binds.len()));
    }
    (conditions.join(" AND "), binds, order)
}

/// A page of the warnings of `scope` that the query's filters select (at most [`INBOX_MOST`]).
pub async fn inbox(db: &Db, scope: &Scope, q: &InboxQuery, today: Date) -> Result<Vec<InboxRow>> {
    let (condition, binds, order) = inbox_condition(scope, q, today);
    let sql = format!(
        "SELECT {INBOX_COLUMNS} FROM warnings w \
         LEFT JOIN households h ON h.county_code = w.county_code AND h.household_no = w.household_no \
         WHERE {condition} ORDER BY {order} LIMIT {} OFFSET {}",
        q.limit.clamp(1, INBOX_MOST),
        q.offset.max(0)
    );
    Ok(on_pool!(db, pool => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            query = query.bind(b);
        }
        query.fetch_all(pool).await?
    }))
}

/// How many warnings [`inbox`] lists over all its pages.
pub async fn inbox_total(db: &Db, scope: &Scope, q: &InboxQuery, today: Date) -> Result<i64> {
    let (condition, binds, _) = inbox_condition(scope, q, today);
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM warnings w WHERE {condition}");
    Ok(on_pool!(db, pool => {
        let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            query = query.bind(b);
        }
        query.fetch_one(pool).await?
    }))
}

/// The inbox's counts for `scope`.
pub async fn inbox_counts(db: &Db, scope: &Scope, today: Date) -> Result<InboxCounts> {
    let (low, high) = code_range(scope.division());
    let rows: Vec<(String, String, i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT status, kind, CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(CASE WHEN due_on < $3 AND status IN ('new', 'assigned') THEN 1 ELSE 0 END) AS BIGINT) \
         FROM warnings WHERE division_code BETWEEN $1 AND $2 GROUP BY status, kind")
        .bind(&low).bind(&high).bind(today.to_string())
        .fetch_all(pool).await?);
    let mut c = InboxCounts::default();
    for (status, kind, n, overdue) in rows {
        c.overdue += overdue;
        let status = WarningStatus::from_code(&status);
        match status {
            Some(WarningStatus::New) => c.new += n,
            Some(WarningStatus::Assigned) => c.assigned += n,
            Some(WarningStatus::Verified) => c.verified += n,
            Some(WarningStatus::Dismissed) => c.dismissed += n,
            Some(WarningStatus::Closed) => c.closed += n,
            None => {}
        }
        if status.is_some_and(WarningStatus::is_active) {
            match WarningKind::from_code(&kind) {
                Some(WarningKind::Lead) => c.active_leads += n,
                Some(WarningKind::MonitoredRisk) => c.active_monitored_risks += n,
                None => {}
            }
        }
    }
    Ok(c)
}

/// One warning with everything its page shows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WarningDetail {
    pub id: i64,
    pub county_code: String,
    pub household_no: String,
    pub division_code: String,
    pub source: String,
    pub status: String,
    pub kind: String,
    pub category: Option<String>,
    pub risk_types: String,
    pub reasons: String,
    pub rule_set_id: Option<i64>,
    pub rule_set_version: Option<i64>,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub updated_at: String,
    pub origin: Option<String>,
    pub assignee: Option<String>,
    pub deadline: Option<String>,
    pub assigned_at: Option<String>,
    pub due_on: Option<String>,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub row_version: i64,
    pub head_name: Option<String>,
}

impl WarningDetail {
    pub fn status(&self) -> Option<WarningStatus> {
        WarningStatus::from_code(&self.status)
    }

    pub fn kind(&self) -> Option<WarningKind> {
        WarningKind::from_code(&self.kind)
    }

    pub fn is_overdue(&self, today: Date, policy: &InboxPolicy) -> bool {
        let parse = zhenxing_core::china_time::china_day;
        match (self.status(), parse(&self.opened_at)) {
            (Some(s), Some(opened)) => is_overdue(
                s,
                opened,
                self.deadline.as_deref().and_then(parse),
                today,
                policy,
            ),
            _ => false,
        }
    }

    /// The reasons as stored: `(rule code, words)`.
    pub fn reason_texts(&self) -> Vec<(String, Text)> {
        let reasons: Vec<Value> = serde_json::from_str(&self.reasons).unwrap_or_default();
        reasons
            .iter()
            .map(|r| {
                let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                (s("rule"), Text::new(s("zh"), s("en")))
            })
            .collect()
    }
}

/// One warning, if it lies in `scope`.
const DETAIL_SELECT: &str = "SELECT w.id, w.county_code, w.household_no, w.division_code, \
    w.source, w.status, w.kind, w.category, w.risk_types, w.reasons, w.rule_set_id, w.rule_set_version, \
    w.opened_at, w.closed_at, w.updated_at, w.origin, w.assignee, w.deadline, w.assigned_at, \
    w.due_on, w.resolution, w.resolved_by, CAST(w.row_version AS BIGINT) AS row_version, \
    (SELECT m.name FROM members m WHERE m.county_code = h.county_code AND m.household_id = h.id \
     AND m.relation = 'head' ORDER BY m.position LIMIT 1) AS head_name \
    FROM warnings w LEFT JOIN households h \
    ON h.county_code = w.county_code AND h.household_no = w.household_no";

pub async fn warning(db: &Db, scope: &Scope, id: i64) -> Result<Option<WarningDetail>> {
    let sql = format!("{DETAIL_SELECT} WHERE w.id = $1");
    let row: Option<WarningDetail> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id).fetch_optional(pool).await?);
    Ok(row.filter(|w| scope.contains_code(&w.division_code)))
}

/// Every warning of a household in `scope` (for its timeline), oldest first.
pub async fn household_warnings(
    db: &Db,
    scope: &Scope,
    household_no: &str,
) -> Result<Vec<WarningDetail>> {
    let sql = format!("{DETAIL_SELECT} WHERE w.household_no = $1 ORDER BY w.opened_at, w.id");
    let rows: Vec<WarningDetail> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(household_no).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .filter(|w| scope.contains_code(&w.division_code))
        .collect())
}

/// The village cadres a warning can be assigned to: active accounts of its village.
pub async fn assignable_cadres(db: &Db, division_code: &str) -> Result<Vec<Account>> {
    let Ok(village) = DivisionCode::parse(division_code) else {
        return Ok(Vec::new());
    };
    let accounts = db.accounts(Some(&Scope::new(village))).await?;
    Ok(accounts
        .into_iter()
        .filter(|a| a.role == Role::VillageCadre && !a.disabled && a.division == village)
        .collect())
}

/// A step as a person asks for it.
#[derive(Debug, Clone)]
pub struct StepRequest {
    pub warning_id: i64,
    /// The `row_version` the person's page showed.
    pub expected_version: i64,
    pub step: WarningStep,
    /// For [`WarningStep::Assign`]: the village cadre's account name.
    pub assignee: Option<String>,
}

/// A step taken: the warning's new status and `row_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stepped {
    pub status: WarningStatus,
    pub version: i64,
}

/// Applies a step by `actor` to a warning in the actor's scope, audited with the note.
pub async fn take_step(
    db: &Db,
    actor: &Account,
    req: &StepRequest,
    policy: &InboxPolicy,
) -> Result<Outcome<Stepped>> {
    let today = zhenxing_core::china_time::today_in_china();
    let Some(w) = warning(db, &actor.scope(), req.warning_id).await? else {
        return Ok(Outcome::NotFound);
    };
    if w.row_version != req.expected_version {
        return Ok(Outcome::Stale);
    }
    let Some(status) = w.status() else {
        return Ok(Outcome::NotFound);
    };
    let who = Actor {
        role: actor.role,
        is_assignee: w.assignee.as_deref() == Some(actor.name.as_str()),
    };
    let target = match plan_step(status, &req.step, who, today, policy) {
        Ok(t) => t,
        Err(reason) => return Ok(Outcome::Refused(reason)),
    };
    let assignee = match &req.step {
        WarningStep::Assign { .. } => {
            let name = req.assignee.as_deref().unwrap_or("");
            let cadres = assignable_cadres(db, &w.division_code).await?;
            if !cadres.iter().any(|a| a.name == name) {
                return Ok(Outcome::Refused(text!(
                    "“{name}”不是本村在用的村干部账号；请从列表中选择",
                    "'{name}' is not an active village cadre account of this village; choose one from the list"
                )));
            }
            Some(name.to_owned())
        }
        _ => None,
    };
    let now = now_stored();
    let mut tx = db.begin_write().await?;
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: format!("warning.{}", req.step.code()),
            object_type: "warning".into(),
            object_id: Some(w.id.to_string()),
            county_code: Some(w.county_code.clone()),
            division_code: Some(w.division_code.clone()),
            reason: match &req.step {
                WarningStep::Verify { note } | WarningStep::Dismiss { reason: note } => {
                    Some(note.trim().to_owned())
                }
                WarningStep::Assign { .. } => None,
            },
            before: Some(
                json!({"status": w.status, "assignee": w.assignee, "deadline": w.deadline}),
            ),
            after: None,
        },
    )
    .await?;
    let seq = operation.seq();
    let changed: u64 = match &req.step {
        WarningStep::Assign { deadline } => {
            let name = assignee.as_deref().unwrap_or_default();
            let deadline = deadline.to_string();
            write_assignment(
                &mut tx,
                &w,
                req.expected_version,
                name,
                &deadline,
                &now,
                seq,
            )
            .await?
        }
        WarningStep::Verify { note } | WarningStep::Dismiss { reason: note } => {
            on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE warnings SET status = $1, resolution = $2, resolved_by = $3, closed_at = $4, \
             updated_at = $4, updated_seq = $5, row_version = row_version + 1 \
             WHERE county_code = $6 AND id = $7 AND row_version = $8")
            .bind(target.code()).bind(note.trim()).bind(&actor.name).bind(&now).bind(seq)
            .bind(&w.county_code).bind(w.id).bind(req.expected_version)
            .execute(conn).await?.rows_affected())
        }
    };
    if changed != 1 {
        tx.rollback().await?;
        return Ok(Outcome::Stale);
    }
    if target == WarningStatus::Verified && w.kind() == Some(WarningKind::MonitoredRisk) {
        add_new_risk(&mut tx, &mut operation, &w).await?;
    }
    let after = json!({"status": target.code(), "assignee": assignee.or(w.assignee.clone()),
                       "deadline": match &req.step { WarningStep::Assign { deadline } => Some(deadline.to_string()), _ => w.deadline.clone() }});
    operation
        .item(
            &mut tx,
            AuditItem {
                action: "warning.step",
                object_type: "warning",
                object_id: w.id.to_string(),
                county_code: Some(w.county_code.clone()),
                division_code: Some(w.division_code.clone()),
                before: Some(json!({"status": w.status}).to_string()),
                after: Some(json!({"status": target.code()}).to_string()),
            },
        )
        .await?;
    operation.finish(&mut tx, Some(after)).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Stepped {
        status: target,
        version: w.row_version + 1,
    }))
}

/// Assigns `w` to `name` until `deadline` (also its due day), if its version is still
/// `expected`: the one write of an assignment, one by one or in a batch. The rows changed.
async fn write_assignment(
    tx: &mut Tx,
    w: &WarningDetail,
    expected: i64,
    name: &str,
    deadline: &str,
    now: &str,
    seq: i64,
) -> Result<u64> {
    Ok(on_tx!(tx, conn => sqlx::query(
        "UPDATE warnings SET status = 'assigned', assignee = $1, deadline = $2, due_on = $2, \
         assigned_at = $3, updated_at = $3, updated_seq = $4, row_version = row_version + 1 \
         WHERE county_code = $5 AND id = $6 AND row_version = $7")
        .bind(name).bind(deadline).bind(now).bind(seq)
        .bind(&w.county_code).bind(w.id).bind(expected)
        .execute(conn).await?.rows_affected()))
}

/// "预警12：…": a problem of one warning of a batch.
fn about(id: i64, reason: &Text) -> Text {
    Text::new(
        format!("预警{id}：{}", reason.get(Lang::Zh)),
        format!("warning {id}: {}", reason.get(Lang::En)),
    )
}

/// Who the warnings of a batch are assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAssignee {
    /// This village cadre (every warning must be of the cadre's village).
    Named(String),
    /// Each warning's village cadre, where the village has exactly one active cadre account.
    EachVillagesCadre,
}

/// Many warnings assigned at once ("分派所选" / "分派本页全部"), with one deadline.
#[derive(Debug, Clone)]
pub struct BatchAssign {
    /// (warning id, the `row_version` the person's page showed).
    pub warnings: Vec<(i64, i64)>,
    pub assignee: BatchAssignee,
    pub deadline: Date,
}

/// The most warnings one batch assigns.
pub const BATCH_MOST: usize = 500;

/// Assigns every warning of the batch, or none: each must be in the actor's division, as the
/// page showed it, new, and have a cadre to go to; otherwise the answer lists every warning
/// that cannot be assigned and why, and nothing changes. One audited operation
/// (`warning.assign_batch`) with one item per warning. The assignee of each warning.
pub async fn assign_many(
    db: &Db,
    actor: &Account,
    req: &BatchAssign,
    policy: &InboxPolicy,
) -> Result<Outcome<Vec<(i64, String)>>> {
    if req.warnings.is_empty() {
        return Ok(Outcome::Refused(text!(
            "没有选择预警：请勾选要分派的预警",
            "no warning is selected: tick the warnings to assign"
        )));
    }
    if req.warnings.len() > BATCH_MOST {
        let (n, most) = (req.warnings.len(), BATCH_MOST);
        return Ok(Outcome::Refused(text!(
            "一次最多分派{most}条预警，本次选择了{n}条",
            "at most {most} warnings are assigned at once; {n} are selected"
        )));
    }
    let today = zhenxing_core::china_time::today_in_china();
    let step = WarningStep::Assign {
        deadline: req.deadline,
    };
    let scope = actor.scope();
    let mut cadres: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut planned = Vec::with_capacity(req.warnings.len());
    let mut problems: Vec<Text> = Vec::new();
    for &(id, version) in &req.warnings {
        let Some(w) = warning(db, &scope, id).await? else {
            problems.push(text!("预警{id}：不存在", "warning {id}: it does not exist"));
            continue;
        };
        if w.row_version != version {
            return Ok(Outcome::Stale);
        }
        let who = Actor {
            role: actor.role,
            is_assignee: w.assignee.as_deref() == Some(actor.name.as_str()),
        };
        let planned_step = w
            .status()
            .ok_or_else(|| text!("状态无法识别", "its status is not recognised"))
            .and_then(|status| plan_step(status, &step, who, today, policy));
        if let Err(reason) = planned_step {
            problems.push(about(id, &reason));
            continue;
        }
        if !cadres.contains_key(&w.division_code) {
            let names = assignable_cadres(db, &w.division_code)
                .await?
                .into_iter()
                .map(|a| a.name)
                .collect();
            cadres.insert(w.division_code.clone(), names);
        }
        let of_village = &cadres[&w.division_code];
        let assignee = match &req.assignee {
            BatchAssignee::Named(name) if of_village.contains(name) => Ok(name.clone()),
            BatchAssignee::Named(name) => Err(text!(
                "“{name}”不是该户所在村的在用村干部账号",
                "'{name}' is not an active village cadre account of its household's village"
            )),
            BatchAssignee::EachVillagesCadre => match of_village.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(text!(
                    "该村没有在用的村干部账号",
                    "its village has no active village cadre account"
                )),
                _ => Err(text!(
                    "该村有多名村干部，请指定分派给谁",
                    "its village has several village cadres: choose one"
                )),
            },
        };
        match assignee {
            Ok(name) => planned.push((w, name)),
            Err(reason) => problems.push(about(id, &reason)),
        }
    }
    if !problems.is_empty() {
        let joined = |lang: Lang, sep: &str| {
            problems
                .iter()
                .map(|t| t.get(lang))
                .collect::<Vec<_>>()
                .join(sep)
        };
        return Ok(Outcome::Refused(Text::new(
            format!("没有分派任何预警：{}", joined(Lang::Zh, "；")),
            format!("no warning was assigned: {}", joined(Lang::En, "; ")),
        )));
    }
    let now = now_stored();
    let deadline = req.deadline.to_string();
    let mut tx = db.begin_write().await?;
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: "warning.assign_batch".into(),
            object_type: "warnings".into(),
            object_id: None,
            county_code: actor.division.county().map(|c| c.as_str().to_owned()),
            division_code: Some(actor.division.as_str().to_owned()),
            reason: None,
            before: None,
            after: Some(json!({"warnings": planned.len(), "deadline": deadline,
            "assignee": match &req.assignee {
                BatchAssignee::Named(n) => n.as_str(),
                BatchAssignee::EachVillagesCadre => "each village's cadre",
            }})),
        },
    )
    .await?;
    let seq = operation.seq();
    let mut assigned = Vec::with_capacity(planned.len());
    for (w, name) in planned {
        let changed =
            write_assignment(&mut tx, &w, w.row_version, &name, &deadline, &now, seq).await?;
        if changed != 1 {
            tx.rollback().await?;
            return Ok(Outcome::Stale);
        }
        operation
            .item(
                &mut tx,
                AuditItem {
                    action: "warning.step",
                    object_type: "warning",
                    object_id: w.id.to_string(),
                    county_code: Some(w.county_code.clone()),
                    division_code: Some(w.division_code.clone()),
                    before: Some(json!({"status": w.status}).to_string()),
                    after: Some(
                        json!({"status": WarningStatus::Assigned.code(), "assignee": name})
                            .to_string(),
                    ),
                },
            )
            .await?;
        assigned.push((w.id, name));
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(assigned))
}

/// A verified new risk of a monitored household: its risk types join the household's (the
/// household's first, at most five), so that the responsible cadre's measures can address them
/// and a risk elimination weighs them. Nothing happens when the household is no longer
/// monitored or already lists them all.
async fn add_new_risk(tx: &mut Tx, operation: &mut Operation, w: &WarningDetail) -> Result<()> {
    let row: Option<(Option<String>, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT risk_types, division_code FROM households WHERE household_no = $1 \
         AND monitoring_category IS NOT NULL AND risk_eliminated_on IS NULL")
        .bind(&w.household_no).fetch_optional(conn).await?);
    let Some((before, division_code)) = row else {
        return Ok(());
    };
    let parse = |codes: &str| -> Vec<RiskType> {
        codes.split(',').filter_map(RiskType::from_code).collect()
    };
    let had = parse(before.as_deref().unwrap_or(""));
    let merged = merged_risk_types(&had, &parse(&w.risk_types));
    if merged == had {
        return Ok(());
    }
    let after = risk_codes(&merged);
    let seq = operation.seq();
    // The version moves on so that an edit form opened before cannot write the old values back.
    on_tx!(tx, conn => sqlx::query(
        "UPDATE households SET risk_types = $1, version = version + 1, updated_seq = $2, \
         updated_at = $3 WHERE household_no = $4")
        .bind(&after).bind(seq).bind(now_stored()).bind(&w.household_no)
        .execute(conn).await.map(drop)?);
    operation
        .item(
            tx,
            AuditItem {
                action: "household.monitoring",
                object_type: "household",
                object_id: w.household_no.clone(),
                county_code: division_code.get(..6).map(str::to_owned),
                division_code: Some(division_code.clone()),
                before: Some(json!({"risk_types": before}).to_string()),
                after: Some(json!({"risk_types": after, "warning": w.id}).to_string()),
            },
        )
        .await
}

/// A cadre's visit or a household's self-declaration, as a village cadre records it.
#[derive(Debug, Clone)]
pub struct Report {
    pub household_no: String,
    pub channel: WarningChannel,
    /// The day of the visit or declaration.
    pub on: Date,
    pub risks: Vec<RiskType>,
    pub category: Option<MonitoringCategory>,
    pub note: String,
}

/// The reason of a warning a person reported (a cadre's visit, a household's declaration), as
/// stored: the channel, the day, who recorded it, what they wrote and the risks reported.
pub fn report_reason(
    channel: WarningChannel,
    on: Date,
    name: &str,
    note: &str,
    risks: &[RiskType],
) -> Value {
    let (channel_zh, channel_en) = (channel.zh(), channel.en());
    let risk_words: Vec<&str> = risks.iter().map(|x| x.zh()).collect();
    let risk_words_en: Vec<&str> = risks.iter().map(|x| x.en()).collect();
    let (rz, re) = (risk_words.join("、"), risk_words_en.join(", "));
    json!({
        "rule": channel.code(),
        "risk": risks.first().map(|x| x.code()),
        "zh": format!("{channel_zh}（{on}，{name}记录）：{note}；反映风险：{rz}"),
        "en": format!("{channel_en} ({on}, recorded by {name}): {note}; risks reported: {re}"),
    })
}

/// Records a report as a warning on the household (merged into its active warning from the
/// same channel), audited. `None` when the household is not in the actor's scope.
pub async fn report(
    db: &Db,
    actor: &Account,
    r: &Report,
    policy: &InboxPolicy,
) -> Result<Option<Raised>> {
    let division: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT division_code FROM households WHERE household_no = $1")
        .bind(&r.household_no).fetch_optional(pool).await?);
    let Some(division) = division.filter(|d| actor.scope().contains_code(d)) else {
        return Ok(None);
    };
    let note = r.note.trim();
    let reason = report_reason(r.channel, r.on, &actor.name, note, &r.risks);
    let source = r.channel.code().to_owned();
    let mut tx = db.begin_write().await?;
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: format!("warning.report.{source}"),
            object_type: "household".into(),
            object_id: Some(r.household_no.clone()),
            county_code: division.get(..6).map(str::to_owned),
            division_code: Some(division.clone()),
            reason: Some(note.to_owned()),
            ..Default::default()
        },
    )
    .await?;
    let raised = raise(
        &mut tx,
        &mut operation,
        NewWarning {
            household_no: r.household_no.clone(),
            division_code: division,
            source,
            category: r.category,
            risk_types: r.risks.clone(),
            reasons: vec![reason],
            rule_set: None,
            origin: Some(json!({"account": actor.name, "on": r.on.to_string()})),
        },
        policy,
    )
    .await?;
    operation
        .finish(&mut tx, Some(json!({"raised": format!("{raised:?}")})))
        .await?;
    tx.commit().await?;
    Ok(Some(raised))
}
