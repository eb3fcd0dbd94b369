//! Assistance (issue 5 item 3): responsible cadres paired with households, and the measures
//! recorded for them (`zhenxing_core::assistance` checks the values; this module stores them).
//!
//! - Every write is one transaction from [`Db::begin_write`] with one audited operation (the
//!   household is the operation's object; the pairing or measure is its item). Phone numbers
//!   reach the audit trail masked only.
//! - An account acts only on households in its scope (outside: [`Outcome::NotFound`], exactly
//!   as for a household that does not exist) and only with `Action::ManageAssistance`.
//! - Changes name the `row_version` the person's page showed; the `UPDATE … WHERE row_version`
//!   is the real guard ([`Outcome::Stale`] otherwise).
//! - Nothing is deleted: a pairing ends with an end date; a measure goes from planned to
//!   implemented, or is cancelled with a reason.
//! - **Who may get measures**: a monitored household (`monitoring_category IS NOT NULL`), or
//!   one with an open emergency identification case (`procedures::allows_measures_first`;
//!   DOMAIN.md 1.7: emergency cases may get measures first and finish the procedure after).
//!   Pairings may be recorded for any household in scope (lifted-out households have
//!   responsible cadres too, DOMAIN.md 5.4).

use crate::accounts::Account;
use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::keys;
use crate::outcome::{Outcome, Written};
use crate::{Db, Result, StoreError, on_pool, on_tx, placeholders};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use time::Date;
use zhenxing_core::assistance::{
    Measure, MeasureCategory, MeasureFact, MeasureStatus, Pairing, check_cancel_reason,
    check_implemented_on, check_pairing_end,
};
use zhenxing_core::china_time::now_stored;
use zhenxing_core::mask::mask_phone;
use zhenxing_core::monitoring::{RiskType, parse_stored_date};
use zhenxing_core::{Action, DivisionCode, Scope, text};

/// A stored pairing. `phone` is the full number: show it through [`PairingRow::masked_phone`]
/// unless the viewer revealed it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PairingRow {
    pub id: i64,
    pub county_code: String,
    pub household_no: String,
    pub division_code: String,
    pub cadre_name: String,
    pub sex: Option<String>,
    pub political_status: Option<String>,
    pub unit: String,
    #[serde(skip)]
    pub phone: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub row_version: i64,
}

impl PairingRow {
    /// The row as read, its sealed phone number opened.
    fn opened(mut self) -> Result<PairingRow> {
        keys::open_in_place(&keys::PAIRINGS_PHONE, &mut self.phone)?;
        Ok(self)
    }

    pub fn masked_phone(&self) -> String {
        mask_phone(&self.phone)
    }

    /// Paired on `today`: started, and not ended before today.
    pub fn is_active(&self, today: Date) -> bool {
        let today = today.to_string();
        self.starts_on <= today && self.ends_on.as_ref().is_none_or(|e| *e >= today)
    }
}

/// A stored measure.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MeasureRow {
    pub id: i64,
    pub county_code: String,
    pub household_no: String,
    pub division_code: String,
    pub category: String,
    pub content: String,
    pub amount: Option<i64>,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub status: String,
    pub implemented_on: Option<String>,
    pub risk_type: Option<String>,
    pub cancel_reason: Option<String>,
    pub row_version: i64,
}

impl MeasureRow {
    pub fn status(&self) -> Option<MeasureStatus> {
        MeasureStatus::from_code(&self.status)
    }

    pub fn category(&self) -> Option<MeasureCategory> {
        MeasureCategory::from_code(&self.category)
    }

    pub fn fact(&self) -> Result<MeasureFact> {
        measure_fact(
            &self.category,
            &self.status,
            self.implemented_on.as_deref(),
            self.risk_type.as_deref(),
        )
    }
}

/// A measure's facts from its stored columns; an unknown code is data changed outside zhenxing.
pub fn measure_fact(
    category: &str,
    status: &str,
    implemented_on: Option<&str>,
    risk: Option<&str>,
) -> Result<MeasureFact> {
    let corrupt =
        |what: &str, value: &str| StoreError::Corrupt(format!("measure {what} '{value}'"));
    Ok(MeasureFact {
        category: MeasureCategory::from_code(category)
            .ok_or_else(|| corrupt("category", category))?,
        status: MeasureStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
        implemented_on: implemented_on.and_then(parse_stored_date),
        risk: match risk {
            None | Some("") => None,
            Some(r) => Some(RiskType::from_code(r).ok_or_else(|| corrupt("risk type", r))?),
        },
    })
}

/// The columns of a measure that the checks read, for set-based loads.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeasureFactRow {
    pub household_no: String,
    pub category: String,
    pub status: String,
    pub implemented_on: Option<String>,
    pub risk_type: Option<String>,
}

/// The select list of [`MeasureFactRow`].
pub const MEASURE_FACT_COLUMNS: &str = "household_no, category, status, implemented_on, risk_type";

impl MeasureFactRow {
    pub fn fact(&self) -> Result<MeasureFact> {
        measure_fact(
            &self.category,
            &self.status,
            self.implemented_on.as_deref(),
            self.risk_type.as_deref(),
        )
    }
}

/// A household with its pairings and measures, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdAssistance {
    pub household_no: String,
    pub county_code: String,
    pub division_code: String,
    pub monitored: bool,
    pub pairings: Vec<PairingRow>,
    pub measures: Vec<MeasureRow>,
}

const PAIRING_COLUMNS: &str = "id, county_code, household_no, division_code, cadre_name, sex, \
    political_status, unit, phone, starts_on, ends_on, CAST(row_version AS BIGINT) AS row_version";
const MEASURE_COLUMNS: &str = "id, county_code, household_no, division_code, category, content, \
    amount, starts_on, ends_on, status, implemented_on, risk_type, cancel_reason, \
    CAST(row_version AS BIGINT) AS row_version";

/// Where a household is: `(county_code, division_code, monitored)`, if it lies in `scope`.
async fn locate(
    db: &Db,
    scope: &Scope,
    household_no: &str,
) -> Result<Option<(String, String, bool)>> {
    let row: Option<(String, String, Option<String>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT county_code, division_code, monitoring_category FROM households \
         WHERE household_no = $1")
        .bind(household_no).fetch_optional(pool).await?);
    Ok(row
        .filter(|(_, division, _)| scope.contains_code(division))
        .map(|(county, division, category)| (county, division, category.is_some())))
}

/// A household's pairings and measures, if it lies in `scope`.
pub async fn household_assistance(
    db: &Db,
    scope: &Scope,
    household_no: &str,
) -> Result<Option<HouseholdAssistance>> {
    let Some((county_code, division_code, monitored)) = locate(db, scope, household_no).await?
    else {
        return Ok(None);
    };
    let pairings_sql = format!(
        "SELECT {PAIRING_COLUMNS} FROM pairings WHERE county_code = $1 AND household_no = $2 \
         ORDER BY starts_on, id"
    );
    let measures_sql = format!(
        "SELECT {MEASURE_COLUMNS} FROM measures WHERE county_code = $1 AND household_no = $2 \
         ORDER BY starts_on, id"
    );
    let pairings: Vec<PairingRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(pairings_sql))
        .bind(&county_code).bind(household_no).fetch_all(pool).await?);
    let pairings = pairings
        .into_iter()
        .map(PairingRow::opened)
        .collect::<Result<Vec<_>>>()?;
    let measures: Vec<MeasureRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(measures_sql))
        .bind(&county_code).bind(household_no).fetch_all(pool).await?);
    Ok(Some(HouseholdAssistance {
        household_no: household_no.to_owned(),
        county_code,
        division_code,
        monitored,
        pairings,
        measures,
    }))
}

/// One pairing, if it lies in `scope`.
pub async fn pairing(db: &Db, scope: &Scope, id: i64) -> Result<Option<PairingRow>> {
    let sql = format!("SELECT {PAIRING_COLUMNS} FROM pairings WHERE id = $1");
    let row: Option<PairingRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(pool).await?);
    row.filter(|p| scope.contains_code(&p.division_code))
        .map(PairingRow::opened)
        .transpose()
}

/// Whose 帮扶责任人 [`responsible_cadres`] reads.
#[derive(Debug, Clone, Copy)]
pub enum CadresOf<'a> {
    /// Every household under a division (all with `None`): an export.
    Division(Option<&'a DivisionCode>),
    /// These households: an import's check.
    Households(&'a [&'a str]),
}

/// The names of each household's cadres in force on `today` (paired, and the pairing not
/// ended before today, as [`PairingRow::is_active`]), in the order they were paired: the
/// registry format's 帮扶责任人. Names only: no phone number leaves this query.
pub async fn responsible_cadres(
    db: &Db,
    of: CadresOf<'_>,
    today: Date,
) -> Result<HashMap<String, Vec<String>>> {
    const IN_FORCE: &str = "SELECT household_no, cadre_name FROM pairings \
        WHERE starts_on <= $1 AND (ends_on IS NULL OR ends_on >= $1)";
    let today = today.to_string();
    let mut rows: Vec<(String, String)> = Vec::new();
    match of {
        CadresOf::Division(division) => {
            let prefix = format!("{}%", division.map_or("", |d| d.prefix()));
            let sql = format!("{IN_FORCE} AND division_code LIKE $2 ORDER BY starts_on, id");
            rows = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&today).bind(&prefix).fetch_all(pool).await?);
        }
        CadresOf::Households(households) => {
            for chunk in households.chunks(500) {
                let sql = format!(
                    "{IN_FORCE} AND household_no IN ({}) ORDER BY starts_on, id",
                    placeholders(chunk.len(), 2)
                );
                let found: Vec<(String, String)> = on_pool!(db, pool => {
                    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&today);
                    for no in chunk {
                        q = q.bind(*no);
                    }
                    q.fetch_all(pool).await?
                });
                rows.extend(found);
            }
        }
    }
    let mut cadres: HashMap<String, Vec<String>> = HashMap::new();
    for (household_no, name) in rows {
        cadres.entry(household_no).or_default().push(name);
    }
    Ok(cadres)
}

/// One measure, if it lies in `scope`.
pub async fn measure(db: &Db, scope: &Scope, id: i64) -> Result<Option<MeasureRow>> {
    let sql = format!("SELECT {MEASURE_COLUMNS} FROM measures WHERE id = $1");
    let row: Option<MeasureRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(pool).await?);
    Ok(row.filter(|m| scope.contains_code(&m.division_code)))
}

fn refused_role(actor: &Account) -> Option<Outcome<Written>> {
    (!actor.may(Action::ManageAssistance)).then(|| {
        Outcome::Refused(text!(
            "只有区县、乡镇工作人员和村干部可以登记帮扶责任人和帮扶措施",
            "only county and township officers and village cadres record responsible cadres and measures"
        ))
    })
}

/// A new row: where it goes, its columns and values, and what the audit trail records.
struct Insert<'a> {
    table: &'static str,
    object: &'static str,
    action: &'static str,
    household_no: &'a str,
    county_code: String,
    division_code: String,
    /// Column names after the common ones, with their values.
    columns: &'static str,
    values: Vec<Bind>,
    audit: Value,
}

/// A value bound to a statement.
enum Bind {
    Text(Option<String>),
    Int(Option<i64>),
}

macro_rules! bind_all {
    ($query:expr, $values:expr) => {{
        let mut q = $query;
        for v in $values {
            q = match v {
                Bind::Text(t) => q.bind(t.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

async fn insert(db: &Db, actor: &Account, row: Insert<'_>) -> Result<Outcome<Written>> {
    let mut tx = db.begin_write().await?;
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: row.action.to_owned(),
            object_type: "household".into(),
            object_id: Some(row.household_no.to_owned()),
            county_code: Some(row.county_code.clone()),
            division_code: Some(row.division_code.clone()),
            after: Some(row.audit.clone()),
            ..Default::default()
        },
    )
    .await?;
    let seq = operation.seq();
    let now = now_stored();
    let max_sql = format!(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM {}",
        row.table
    );
    let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(max_sql))
        .fetch_one(conn).await?);
    let n = row.values.len();
    let placeholders: Vec<String> = (7..7 + n).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} (id, county_code, household_no, division_code, created_seq, updated_seq, \
         created_at, updated_at, row_version, {}) VALUES ($1, $2, $3, $4, $5, $5, $6, $6, 1, {})",
        row.table,
        row.columns,
        placeholders.join(", ")
    );
    on_tx!(&mut tx, conn => {
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(&row.county_code)
            .bind(row.household_no).bind(&row.division_code).bind(seq).bind(&now);
        bind_all!(q, &row.values).execute(conn).await.map(drop)?
    });
    operation
        .item(
            &mut tx,
            AuditItem {
                action: row.action,
                object_type: row.object,
                object_id: id.to_string(),
                county_code: Some(row.county_code),
                division_code: Some(row.division_code),
                before: None,
                after: Some(row.audit.to_string()),
            },
        )
        .await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Written { id, version: 1 }))
}

fn date_text(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// Pairs a responsible cadre with a household in the actor's scope.
pub async fn add_pairing(
    db: &Db,
    actor: &Account,
    household_no: &str,
    p: &Pairing,
) -> Result<Outcome<Written>> {
    if let Some(refused) = refused_role(actor) {
        return Ok(refused);
    }
    let Some((county_code, division_code, _)) = locate(db, &actor.scope(), household_no).await?
    else {
        return Ok(Outcome::NotFound);
    };
    let audit = json!({
        "cadre_name": p.name.as_str(), "sex": p.sex.map(|s| s.code()),
        "political_status": p.political_status.map(|s| s.code()), "unit": p.unit,
        "phone": p.phone.masked(), "starts_on": p.starts_on.to_string(),
        "ends_on": date_text(p.ends_on),
    });
    insert(
        db,
        actor,
        Insert {
            table: "pairings",
            object: "pairing",
            action: "assistance.pairing.add",
            household_no,
            county_code,
            division_code,
            columns: "cadre_name, sex, political_status, unit, phone, starts_on, ends_on",
            values: vec![
                Bind::Text(Some(p.name.as_str().to_owned())),
                Bind::Text(p.sex.map(|s| s.code().to_owned())),
                Bind::Text(p.political_status.map(|s| s.code().to_owned())),
                Bind::Text(Some(p.unit.clone())),
                Bind::Text(Some(keys::seal(&keys::PAIRINGS_PHONE, p.phone.as_str())?)),
                Bind::Text(Some(p.starts_on.to_string())),
                Bind::Text(date_text(p.ends_on)),
            ],
            audit,
        },
    )
    .await
}

/// Records a measure for a household in the actor's scope: a monitored household, or one with
/// an open emergency identification
/// ([`crate::procedures::allows_measures_first`]; DOMAIN.md 1.7, measures first, procedure after).
pub async fn add_measure(
    db: &Db,
    actor: &Account,
    household_no: &str,
    m: &Measure,
) -> Result<Outcome<Written>> {
    if let Some(refused) = refused_role(actor) {
        return Ok(refused);
    }
    let Some((county_code, division_code, monitored)) =
        locate(db, &actor.scope(), household_no).await?
    else {
        return Ok(Outcome::NotFound);
    };
    if !monitored && !crate::procedures::allows_measures_first(db, household_no).await? {
        return Ok(Outcome::Refused(text!(
            "该户不是监测对象，也没有进行中的紧急识别案件，不能登记帮扶措施；请先启动识别程序",
            "the household is not monitored and has no open emergency case, so measures cannot be recorded; start its identification first"
        )));
    }
    let audit = json!({
        "category": m.category.code(), "content": m.content, "amount": m.amount.map(|a| a.0),
        "starts_on": m.starts_on.to_string(), "ends_on": date_text(m.ends_on),
        "status": m.status.code(), "implemented_on": date_text(m.implemented_on),
        "risk_type": m.risk.map(|r| r.code()),
    });
    insert(
        db,
        actor,
        Insert {
            table: "measures",
            object: "measure",
            action: "assistance.measure.add",
            household_no,
            county_code,
            division_code,
            columns: "category, content, amount, starts_on, ends_on, status, implemented_on, risk_type",
            values: vec![
                Bind::Text(Some(m.category.code().to_owned())),
                Bind::Text(Some(m.content.clone())),
                Bind::Int(m.amount.map(|a| a.0)),
                Bind::Text(Some(m.starts_on.to_string())),
                Bind::Text(date_text(m.ends_on)),
                Bind::Text(Some(m.status.code().to_owned())),
                Bind::Text(date_text(m.implemented_on)),
                Bind::Text(m.risk.map(|r| r.code().to_owned())),
            ],
            audit,
        },
    )
    .await
}

/// A change to an existing row, already allowed.
struct Change {
    table: &'static str,
    object: &'static str,
    action: &'static str,
    id: i64,
    county_code: String,
    division_code: String,
    household_no: String,
    expected_version: i64,
    /// `column = $1, …`, numbered from 1.
    set: &'static str,
    values: Vec<Bind>,
    reason: Option<String>,
    before: Value,
    after: Value,
}

async fn apply(db: &Db, actor: &Account, c: Change) -> Result<Outcome<Written>> {
    let mut tx = db.begin_write().await?;
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: c.action.to_owned(),
            object_type: "household".into(),
            object_id: Some(c.household_no.clone()),
            county_code: Some(c.county_code.clone()),
            division_code: Some(c.division_code.clone()),
            reason: c.reason.clone(),
            before: Some(c.before.clone()),
            after: Some(c.after.clone()),
        },
    )
    .await?;
    let seq = operation.seq();
    let n = c.values.len();
    let sql = format!(
        "UPDATE {} SET {}, updated_at = ${}, updated_seq = ${}, row_version = row_version + 1 \
         WHERE county_code = ${} AND id = ${} AND row_version = ${}",
        c.table,
        c.set,
        n + 1,
        n + 2,
        n + 3,
        n + 4,
        n + 5
    );
    let changed: u64 = on_tx!(&mut tx, conn => {
        let q = bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql)), &c.values);
        q.bind(now_stored()).bind(seq).bind(&c.county_code).bind(c.id)
            .bind(c.expected_version).execute(conn).await?.rows_affected()
    });
    if changed != 1 {
        tx.rollback().await?;
        return Ok(Outcome::Stale);
    }
    operation
        .item(
            &mut tx,
            AuditItem {
                action: c.action,
                object_type: c.object,
                object_id: c.id.to_string(),
                county_code: Some(c.county_code),
                division_code: Some(c.division_code),
                before: Some(c.before.to_string()),
                after: Some(c.after.to_string()),
            },
        )
        .await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Written {
        id: c.id,
        version: c.expected_version + 1,
    }))
}

/// Ends a pairing on `ends_on` (not before it started, not after `today`).
pub async fn end_pairing(
    db: &Db,
    actor: &Account,
    id: i64,
    expected_version: i64,
    ends_on: Date,
    today: Date,
) -> Result<Outcome<Written>> {
    if let Some(refused) = refused_role(actor) {
        return Ok(refused);
    }
    let Some(p) = pairing(db, &actor.scope(), id).await? else {
        return Ok(Outcome::NotFound);
    };
    if p.row_version != expected_version {
        return Ok(Outcome::Stale);
    }
    // An end date still ahead (the planned end of a term) may be brought forward.
    if let Some(ended) = p
        .ends_on
        .as_deref()
        .filter(|e| *e <= today.to_string().as_str())
    {
        return Ok(Outcome::Refused(text!(
            "该结对已于{ended}结束",
            "this pairing already ended on {ended}"
        )));
    }
    let Some(starts_on) = parse_stored_date(&p.starts_on) else {
        return Err(StoreError::Corrupt(format!("pairing {id} starts_on")));
    };
    if let Err(why) = check_pairing_end(starts_on, ends_on, today) {
        return Ok(Outcome::Refused(why));
    }
    apply(
        db,
        actor,
        Change {
            table: "pairings",
            object: "pairing",
            action: "assistance.pairing.end",
            id,
            county_code: p.county_code,
            division_code: p.division_code,
            household_no: p.household_no,
            expected_version,
            set: "ends_on = $1",
            values: vec![Bind::Text(Some(ends_on.to_string()))],
            reason: None,
            before: json!({"ends_on": p.ends_on}),
            after: json!({"ends_on": ends_on.to_string()}),
        },
    )
    .await
}

/// Marks a planned measure implemented on `on` (not before it started, not after `today`).
pub async fn mark_implemented(
    db: &Db,
    actor: &Account,
    id: i64,
    expected_version: i64,
    on: Date,
    today: Date,
) -> Result<Outcome<Written>> {
    let m = match changeable_measure(db, actor, id, expected_version).await? {
        Ok(m) => m,
        Err(outcome) => return Ok(outcome),
    };
    if m.status() != Some(MeasureStatus::Planned) {
        return Ok(Outcome::Refused(text!(
            "只有“尚未实施”的措施可以标记为已实施",
            "only a measure not yet implemented can be marked implemented"
        )));
    }
    let Some(starts_on) = parse_stored_date(&m.starts_on) else {
        return Err(StoreError::Corrupt(format!("measure {id} starts_on")));
    };
    if let Err(why) = check_implemented_on(starts_on, on, today) {
        return Ok(Outcome::Refused(why));
    }
    apply(
        db,
        actor,
        Change {
            table: "measures",
            object: "measure",
            action: "assistance.measure.implement",
            id,
            county_code: m.county_code,
            division_code: m.division_code,
            household_no: m.household_no,
            expected_version,
            set: "status = 'implemented', implemented_on = $1",
            values: vec![Bind::Text(Some(on.to_string()))],
            reason: None,
            before: json!({"status": m.status}),
            after: json!({"status": "implemented", "implemented_on": on.to_string()}),
        },
    )
    .await
}

/// Cancels a planned or implemented measure with a reason (recorded by mistake, or the plan
/// dropped). The measure stays, marked cancelled, and counts for nothing.
pub async fn cancel_measure(
    db: &Db,
    actor: &Account,
    id: i64,
    expected_version: i64,
    reason: &str,
) -> Result<Outcome<Written>> {
    let m = match changeable_measure(db, actor, id, expected_version).await? {
        Ok(m) => m,
        Err(outcome) => return Ok(outcome),
    };
    if m.status() == Some(MeasureStatus::Cancelled) {
        return Ok(Outcome::Refused(text!(
            "该措施已取消",
            "this measure is already cancelled"
        )));
    }
    let reason = match check_cancel_reason(reason) {
        Ok(r) => r,
        Err(why) => return Ok(Outcome::Refused(why)),
    };
    apply(
        db,
        actor,
        Change {
            table: "measures",
            object: "measure",
            action: "assistance.measure.cancel",
            id,
            county_code: m.county_code,
            division_code: m.division_code,
            household_no: m.household_no,
            expected_version,
            set: "status = 'cancelled', cancel_reason = $1",
            values: vec![Bind::Text(Some(reason.clone()))],
            reason: Some(reason),
            before: json!({"status": m.status}),
            after: json!({"status": "cancelled"}),
        },
    )
    .await
}

/// The measure, if the actor may change it and the page was current; otherwise the outcome.
async fn changeable_measure(
    db: &Db,
    actor: &Account,
    id: i64,
    expected_version: i64,
) -> Result<Result<MeasureRow, Outcome<Written>>> {
    if let Some(refused) = refused_role(actor) {
        return Ok(Err(refused));
    }
    let Some(m) = measure(db, &actor.scope(), id).await? else {
        return Ok(Err(Outcome::NotFound));
    };
    if m.row_version != expected_version {
        return Ok(Err(Outcome::Stale));
    }
    Ok(Ok(m))
}
