//! Identification and risk-elimination cases (issue 5): opened from a lead, moved step by step
//! as `zhenxing_core::procedure` allows, each step signed by the acting account and audited.
//!
//! - [`open_case`] opens a case on a household in the actor's scope.
//! - [`take_step`] applies a step with optimistic concurrency on `row_version`: of two people
//!   acting on one case at once, one succeeds and the other is told the page is stale. A step
//!   that completes a case writes the household's monitoring fields in the same transaction.
//! - [`inbox`] lists the cases of a scope, the most urgent first; [`case`] reads one with its
//!   steps and attachments; [`notices`] the notices a village has posted.
//! - [`attach`] keeps a scan or photo with a case.
//! - [`policy`] and [`set_policy`] read and change the time limits (the `settings` table).

use crate::accounts::Account;
use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::browse::code_range;
use crate::coverage::parse_risk_types;
use crate::warnings::risk_codes;
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use serde::Serialize;
use serde_json::{Value, json};
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::elimination::{EliminationFacts, Precondition, check_method, preconditions};
use zhenxing_core::procedure::{
    CaseKind, CaseState, DayCounting, EliminationMethod, EmergencyCause, MonitoringStatus,
    ProcedurePolicy, Stage, Step, StepKind, Urgency, apply, check_open,
};
use zhenxing_core::warning::{WarningChannel, WarningStatus};
use zhenxing_core::{MonitoringCategory, Scope, Text, text};

pub use crate::outcome::Outcome;

/// A case as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub county_code: String,
    pub household_no: String,
    pub division_code: String,
    pub kind: String,
    pub stage: String,
    pub lead_channel: Option<String>,
    pub warning_id: Option<i64>,
    pub emergency: Option<String>,
    pub opened_on: String,
    pub due_on: Option<String>,
    pub compared: bool,
    pub appraised_on: Option<String>,
    pub notice_starts_on: Option<String>,
    pub notice_ends_on: Option<String>,
    pub objections: String,
    pub category: Option<String>,
    pub risk_types: String,
    pub method: Option<String>,
    pub approved_on: Option<String>,
    pub closed_on: Option<String>,
    pub opened_by: String,
    pub row_version: i64,
    pub opened_at: String,
    pub updated_at: String,
}

const CASE_COLUMNS: &str = "id, county_code, household_no, division_code, kind, stage, \
    lead_channel, warning_id, emergency, opened_on, due_on, compared, appraised_on, \
    notice_starts_on, notice_ends_on, objections, category, risk_types, method, approved_on, \
    closed_on, opened_by, row_version, opened_at, updated_at";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("case {what} '{value}' does not parse"))
}

fn parse_day(what: &str, value: &str) -> Result<Date> {
    Date::parse(value, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| corrupt(what, value))
}

fn parse_opt_day(what: &str, value: Option<&str>) -> Result<Option<Date>> {
    value.map(|v| parse_day(what, v)).transpose()
}

impl CaseRow {
    pub fn kind(&self) -> Result<CaseKind> {
        CaseKind::from_code(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))
    }

    pub fn stage(&self) -> Result<Stage> {
        Stage::from_code(&self.stage).ok_or_else(|| corrupt("stage", &self.stage))
    }

    /// The state the core's state machine works on.
    pub fn state(&self) -> Result<CaseState> {
        let notice = match (
            parse_opt_day("notice start", self.notice_starts_on.as_deref())?,
            parse_opt_day("notice end", self.notice_ends_on.as_deref())?,
        ) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        Ok(CaseState {
            kind: self.kind()?,
            stage: self.stage()?,
            opened_on: parse_day("opening day", &self.opened_on)?,
            emergency: self
                .emergency
                .as_deref()
                .map(|c| EmergencyCause::from_code(c).ok_or_else(|| corrupt("emergency", c)))
                .transpose()?,
            compared: self.compared,
            appraised_on: parse_opt_day("appraisal day", self.appraised_on.as_deref())?,
            notice,
            objections: serde_json::from_str(&self.objections)
                .map_err(|_| corrupt("objections", &self.objections))?,
            category: self
                .category
                .as_deref()
                .map(|c| MonitoringCategory::from_code(c).ok_or_else(|| corrupt("category", c)))
                .transpose()?,
            risks: parse_risk_types(Some(&self.risk_types))?,
            method: self
                .method
                .as_deref()
                .map(|c| EliminationMethod::from_code(c).ok_or_else(|| corrupt("method", c)))
                .transpose()?,
        })
    }

    /// How the case stands against its time limit on `today`.
    pub fn urgency(&self, today: Date, policy: &ProcedurePolicy) -> Urgency {
        match (
            self.kind(),
            self.stage(),
            parse_day("opening day", &self.opened_on),
        ) {
            (Ok(kind), Ok(stage), Ok(opened)) => policy.urgency(kind, stage, opened, today),
            _ => Urgency::NotTimed,
        }
    }
}

/// One step of a case, as recorded.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StepRecord {
    pub number: i64,
    pub step: String,
    pub stage_before: Option<String>,
    pub stage_after: String,
    pub happened_on: String,
    pub actor: String,
    pub actor_role: String,
    pub note: String,
    pub details: String,
    pub recorded_at: String,
}

/// An attachment's description (its bytes are read by [`attachment`]).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentInfo {
    pub id: i64,
    pub step_number: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// A case with everything recorded on it.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: CaseRow,
    pub steps: Vec<StepRecord>,
    pub attachments: Vec<AttachmentInfo>,
    /// The head of household's name (the public notice shows it).
    pub head_name: Option<String>,
}

async fn case_row(db: &Db, scope: &Scope, id: i64) -> Result<Option<CaseRow>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
    let row: Option<CaseRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?);
    Ok(row.filter(|c| scope.contains_code(&c.division_code)))
}

/// A case in `scope`, with its steps and attachments; `None` outside the scope.
pub async fn case(db: &Db, scope: &Scope, id: i64) -> Result<Option<CaseDetail>> {
    let Some(case) = case_row(db, scope, id).await? else {
        return Ok(None);
    };
    let steps: Vec<StepRecord> = on_pool!(db, pool => sqlx::query_as(
        "SELECT number, step, stage_before, stage_after, happened_on, actor, actor_role, note, \
         details, recorded_at FROM case_steps WHERE county_code = $1 AND case_id = $2 \
         ORDER BY number")
        .bind(&case.county_code).bind(id).fetch_all(pool).await?);
    let attachments: Vec<AttachmentInfo> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, step_number, file_name, content_type, size_bytes, sha256, uploaded_by, \
         uploaded_at FROM case_attachments WHERE county_code = $1 AND case_id = $2 ORDER BY id")
        .bind(&case.county_code).bind(id).fetch_all(pool).await?);
    let head_name = head_name(db, &case.household_no).await?;
    Ok(Some(CaseDetail {
        case,
        steps,
        attachments,
        head_name,
    }))
}

async fn head_name(db: &Db, household_no: &str) -> Result<Option<String>> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT m.name FROM members m JOIN households h ON h.id = m.household_id \
         WHERE h.household_no = $1 AND m.relation = 'head' ORDER BY m.position LIMIT 1")
        .bind(household_no).fetch_optional(pool).await?))
}

/// The cases of a household, newest first (for its timeline), if it lies in `scope`.
pub async fn household_cases(
    db: &Db,
    scope: &Scope,
    household_no: &str,
) -> Result<Vec<CaseDetail>> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE household_no = $1 ORDER BY opened_at DESC, id DESC"
    );
    let rows: Vec<CaseRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(household_no).fetch_all(pool).await?);
    let mut out = Vec::new();
    for row in rows
        .into_iter()
        .filter(|c| scope.contains_code(&c.division_code))
    {
        if let Some(detail) = case(db, scope, row.id).await? {
            out.push(detail);
        }
    }
    Ok(out)
}

/// A household's place in monitoring, as the procedures left it (see migration 0009).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct MonitoringView {
    pub monitoring_category: Option<String>,
    pub risk_types: Option<String>,
    pub identified_on: Option<String>,
    pub risk_eliminated_on: Option<String>,
    pub elimination_method: Option<String>,
}

impl MonitoringView {
    pub fn status(&self) -> MonitoringStatus {
        match (&self.monitoring_category, &self.risk_eliminated_on) {
            (None, _) => MonitoringStatus::NotMonitored,
            (Some(_), None) => MonitoringStatus::Monitored,
            (Some(_), Some(_)) => MonitoringStatus::Eliminated,
        }
    }
}

/// The monitoring fields of a household in `scope`, and its open case if any.
pub async fn monitoring_view(
    db: &Db,
    scope: &Scope,
    household_no: &str,
) -> Result<Option<(MonitoringView, Option<CaseRow>)>> {
    let row: Option<(String, MonitoringView)> = on_pool!(db, pool => sqlx::query_as::<_, (String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>)>(
        "SELECT household_no, division_code, monitoring_category, risk_types, identified_on, \
         risk_eliminated_on, elimination_method FROM households WHERE household_no = $1")
        .bind(household_no).fetch_optional(pool).await?)
    .filter(|r| scope.contains_code(&r.1))
    .map(|(_, division, category, risks, identified, eliminated, method)| {
        (division, MonitoringView {
            monitoring_category: category,
            risk_types: risks,
            identified_on: identified,
            risk_eliminated_on: eliminated,
            elimination_method: method,
        })
    });
    let Some((_, view)) = row else {
        return Ok(None);
    };
    let sql =
        format!("SELECT {CASE_COLUMNS} FROM cases WHERE household_no = $1 AND closed_on IS NULL");
    let open: Option<CaseRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(household_no).fetch_optional(pool).await?);
    Ok(Some((view, open)))
}

/// Where a household stands: its division, its monitoring status, and whether a case is open.
struct HouseholdStanding {
    division_code: String,
    status: MonitoringStatus,
    open_case: Option<i64>,
}

async fn standing(db: &Db, household_no: &str) -> Result<Option<HouseholdStanding>> {
    let row: Option<(String, Option<String>, Option<String>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT division_code, monitoring_category, risk_eliminated_on FROM households \
         WHERE household_no = $1")
        .bind(household_no).fetch_optional(pool).await?);
    let Some((division_code, category, eliminated)) = row else {
        return Ok(None);
    };
    let open_case: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT id FROM cases WHERE household_no = $1 AND closed_on IS NULL")
        .bind(household_no).fetch_optional(pool).await?);
    let status = match (category, eliminated) {
        (None, _) => MonitoringStatus::NotMonitored,
        (Some(_), None) => MonitoringStatus::Monitored,
        (Some(_), Some(_)) => MonitoringStatus::Eliminated,
    };
    Ok(Some(HouseholdStanding {
        division_code,
        status,
        open_case,
    }))
}

/// A lead, as a person records it.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    pub household_no: String,
    pub kind: CaseKind,
    /// Identification: the channel the lead came from.
    pub channel: Option<WarningChannel>,
    /// The verified warning the lead came from, if any.
    pub warning_id: Option<i64>,
    pub found_on: Date,
    pub emergency: Option<EmergencyCause>,
    pub note: String,
}

/// Opens a case on a household in the actor's scope, audited; the case's id. A risk
/// elimination opens only when its preconditions hold (DOMAIN.md 1.9).
pub async fn open_case(
    db: &Db,
    actor: &Account,
    req: &OpenRequest,
    policy: &ProcedurePolicy,
) -> Result<Outcome<i64>> {
    let today = today_in_china();
    let Some(h) = standing(db, &req.household_no).await? else {
        return Ok(Outcome::NotFound);
    };
    if !actor.scope().contains_code(&h.division_code) {
        return Ok(Outcome::NotFound);
    }
    if let Err(why) = check_open(
        req.kind,
        actor.role,
        h.status,
        h.open_case.is_some(),
        req.found_on,
        today,
    ) {
        return Ok(Outcome::Refused(why));
    }
    if req.kind == CaseKind::Elimination
        && let Some(why) =
            elimination_refusal(db, &actor.scope(), &req.household_no, today, None).await?
    {
        return Ok(Outcome::Refused(why));
    }
    if req.kind == CaseKind::Identification && req.channel.is_none() {
        return Ok(Outcome::Refused(text!(
            "请选择线索来源",
            "choose where the lead came from"
        )));
    }
    if let Some(warning_id) = req.warning_id {
        let w: Option<(String, String)> = on_pool!(db, pool => sqlx::query_as(
            "SELECT household_no, status FROM warnings WHERE id = $1")
            .bind(warning_id).fetch_optional(pool).await?);
        let verified = WarningStatus::Verified.code();
        if !w.is_some_and(|(no, status)| no == req.household_no && status == verified) {
            return Ok(Outcome::Refused(text!(
                "线索须来自本户已核实的预警",
                "a lead from a warning needs a verified warning of this household"
            )));
        }
    }
    let note = req.note.trim();
    if note.chars().count() > zhenxing_core::procedure::MAX_NOTE_CHARS {
        return Ok(Outcome::Refused(text!("说明过长", "the note is too long")));
    }
    let county_code = county_of(&h.division_code);
    let due_on = (req.kind == CaseKind::Identification).then(|| policy.due_on(req.found_on));
    let now = now_stored();
    let mut tx = db.begin_write().await?;
    let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM cases")
        .fetch_one(conn).await?);
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: format!("case.open.{}", req.kind.code()),
            object_type: "case".into(),
            object_id: Some(id.to_string()),
            county_code: Some(county_code.clone()),
            division_code: Some(h.division_code.clone()),
            reason: (!note.is_empty()).then(|| note.to_owned()),
            before: None,
            after: Some(
                json!({"household_no": req.household_no, "kind": req.kind.code(),
                               "channel": req.channel.map(WarningChannel::code),
                               "found_on": req.found_on.to_string(),
                               "emergency": req.emergency.map(EmergencyCause::code)}),
            ),
        },
    )
    .await?;
    let seq = operation.seq();
    // The unique index on open cases stops a second case opened at the same moment.
    let inserted = on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO cases (id, county_code, household_no, division_code, kind, stage, \
         lead_channel, warning_id, emergency, opened_on, due_on, opened_by, opened_seq, \
         updated_seq, opened_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $14)")
        .bind(id).bind(&county_code).bind(&req.household_no).bind(&h.division_code)
        .bind(req.kind.code()).bind(Stage::Verification.code())
        .bind(req.channel.map(WarningChannel::code)).bind(req.warning_id)
        .bind(req.emergency.map(EmergencyCause::code)).bind(req.found_on.to_string())
        .bind(due_on.map(|d| d.to_string())).bind(&actor.name).bind(seq).bind(&now)
        .execute(conn).await.map(|_| ()));
    if let Err(e) = inserted {
        tx.rollback().await?;
        return if is_unique_violation(&e) {
            Ok(Outcome::Stale)
        } else {
            Err(e.into())
        };
    }
    let details = json!({"channel": req.channel.map(WarningChannel::code),
                         "warning_id": req.warning_id,
                         "emergency": req.emergency.map(EmergencyCause::code)});
    insert_step(
        &mut tx,
        NewStep {
            county_code: &county_code,
            case_id: id,
            number: 1,
            step: StepKind::Open,
            stage_before: None,
            stage_after: Stage::Verification,
            happened_on: req.found_on,
            actor,
            note,
            details: &details,
            seq,
        },
    )
    .await?;
    operation
        .item(
            &mut tx,
            AuditItem {
                action: "case.open",
                object_type: "case",
                object_id: id.to_string(),
                county_code: Some(county_code.clone()),
                division_code: Some(h.division_code.clone()),
                before: None,
                after: Some(json!({"stage": Stage::Verification.code()}).to_string()),
            },
        )
        .await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(id))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn county_of(division_code: &str) -> String {
    division_code.get(..6).unwrap_or(division_code).to_owned()
}

struct NewStep<'a> {
    county_code: &'a str,
    case_id: i64,
    number: i64,
    step: StepKind,
    stage_before: Option<Stage>,
    stage_after: Stage,
    happened_on: Date,
    actor: &'a Account,
    note: &'a str,
    details: &'a Value,
    seq: i64,
}

async fn insert_step(tx: &mut Tx, s: NewStep<'_>) -> Result<()> {
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM case_steps")
        .fetch_one(conn).await?);
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO case_steps (id, county_code, case_id, number, step, stage_before, \
         stage_after, happened_on, actor, actor_role, note, details, recorded_at, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
        .bind(id).bind(s.county_code).bind(s.case_id).bind(s.number).bind(s.step.code())
        .bind(s.stage_before.map(Stage::code)).bind(s.stage_after.code())
        .bind(s.happened_on.to_string()).bind(&s.actor.name).bind(s.actor.role.code())
        .bind(s.note).bind(s.details.to_string()).bind(now_stored()).bind(s.seq)
        .execute(conn).await.map(|_| ())?);
    Ok(())
}

/// A step as a person asks for it.
#[derive(Debug, Clone)]
pub struct StepRequest {
    pub case_id: i64,
    /// The `row_version` the person's page showed.
    pub expected_version: i64,
    pub step: Step,
}

/// The new `row_version` and stage after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub stage: Stage,
    pub version: i64,
}

/// The step's content for the case's history.
fn step_details(step: &Step) -> Value {
    match step {
        Step::Verify(f) => json!({
            "visited_on": f.visited_on.to_string(),
            "per_capita_income_fen": f.per_capita_income.0,
            "rigid_spending_fen": f.rigid_spending.0,
            "problems": f.problems.listed().iter().map(|(code, ..)| *code).collect::<Vec<_>>(),
            "category": f.category.map(MonitoringCategory::code),
            "risks": risk_codes(&f.risks),
            "commitment_signed": f.commitment_signed,
        }),
        Step::Compare { consistent, .. } => json!({"consistent": consistent}),
        Step::Appraise {
            held_on,
            attendance,
            participants,
            agreed,
            ..
        } => json!({"held_on": held_on.to_string(), "attendance": attendance,
                    "participants": participants.trim(), "agreed": agreed}),
        Step::PostNotice { starts_on, ends_on } => {
            json!({"starts_on": starts_on.to_string(), "ends_on": ends_on.to_string()})
        }
        Step::Object { received_on, .. } => json!({"received_on": received_on.to_string()}),
        Step::ResolveObjection { number, .. } => json!({"objection": number}),
        Step::CountyApprove {
            category,
            risks,
            method,
            ..
        } => json!({"category": category.map(MonitoringCategory::code),
                    "risks": risk_codes(risks), "method": method.map(EliminationMethod::code)}),
        Step::Announce { on, .. } => json!({"on": on.to_string()}),
        Step::CloseNotice { .. }
        | Step::TownshipApprove { .. }
        | Step::Reject { .. }
        | Step::Withdraw { .. }
        | Step::Comment { .. } => json!({}),
    }
}

/// Applies a step by `actor` to a case in the actor's scope, audited with its note. A step that
/// completes the case writes the household's monitoring fields; a rejection tells the village.
pub async fn take_step(
    db: &Db,
    actor: &Account,
    req: &StepRequest,
    policy: &ProcedurePolicy,
) -> Result<Outcome<Moved>> {
    let today = today_in_china();
    let Some(c) = case_row(db, &actor.scope(), req.case_id).await? else {
        return Ok(Outcome::NotFound);
    };
    if c.row_version != req.expected_version {
        return Ok(Outcome::Stale);
    }
    let state = c.state()?;
    let next = match apply(&state, &req.step, actor.role, today, policy) {
        Ok(next) => next,
        Err(why) => return Ok(Outcome::Refused(why)),
    };
    // The county approves a risk elimination only if the preconditions still hold and the
    // method fits the measures taken.
    if let Step::CountyApprove {
        method: Some(method),
        ..
    } = &req.step
        && state.kind == CaseKind::Elimination
        && let Some(why) =
            elimination_refusal(db, &actor.scope(), &c.household_no, today, Some(*method)).await?
    {
        return Ok(Outcome::Refused(why));
    }
    let note = req.step.note().trim();
    let now = now_stored();
    let mut tx = db.begin_write().await?;
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: format!("case.{}", req.step.kind().code()),
            object_type: "case".into(),
            object_id: Some(c.id.to_string()),
            county_code: Some(c.county_code.clone()),
            division_code: Some(c.division_code.clone()),
            reason: (!note.is_empty()).then(|| note.to_owned()),
            before: Some(json!({"stage": c.stage})),
            after: Some(json!({"stage": next.stage.code()})),
        },
    )
    .await?;
    let seq = operation.seq();
    let closed_on = next.stage.is_final().then(|| today.to_string());
    let approved_on = match req.step {
        Step::CountyApprove { .. } => Some(today.to_string()),
        _ => c.approved_on.clone(),
    };
    let (notice_starts, notice_ends) = match next.notice {
        Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
        None => (None, None),
    };
    let objections = serde_json::to_string(&next.objections).unwrap_or_else(|_| "[]".into());
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE cases SET stage = $1, compared = $2, appraised_on = $3, notice_starts_on = $4, \
         notice_ends_on = $5, objections = $6, category = $7, risk_types = $8, method = $9, \
         approved_on = $10, closed_on = $11, updated_seq = $12, updated_at = $13, \
         row_version = row_version + 1 \
         WHERE county_code = $14 AND id = $15 AND row_version = $16")
        .bind(next.stage.code()).bind(next.compared)
        .bind(next.appraised_on.map(|d| d.to_string())).bind(&notice_starts).bind(&notice_ends)
        .bind(&objections).bind(next.category.map(MonitoringCategory::code))
        .bind(risk_codes(&next.risks)).bind(next.method.map(EliminationMethod::code))
        .bind(&approved_on).bind(&closed_on).bind(seq).bind(&now)
        .bind(&c.county_code).bind(c.id).bind(req.expected_version)
        .execute(conn).await?.rows_affected());
    if changed != 1 {
        tx.rollback().await?;
        return Ok(Outcome::Stale);
    }
    let number: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(number), 0) + 1 AS BIGINT) FROM case_steps \
         WHERE county_code = $1 AND case_id = $2")
        .bind(&c.county_code).bind(c.id).fetch_one(conn).await?);
    let details = step_details(&req.step);
    insert_step(
        &mut tx,
        NewStep {
            county_code: &c.county_code,
            case_id: c.id,
            number,
            step: req.step.kind(),
            stage_before: Some(state.stage),
            stage_after: next.stage,
            happened_on: req.step.happened_on().unwrap_or(today),
            actor,
            note,
            details: &details,
            seq,
        },
    )
    .await?;
    operation
        .item(
            &mut tx,
            AuditItem {
                action: "case.step",
                object_type: "case",
                object_id: c.id.to_string(),
                county_code: Some(c.county_code.clone()),
                division_code: Some(c.division_code.clone()),
                before: Some(json!({"stage": c.stage}).to_string()),
                after: Some(json!({"stage": next.stage.code()}).to_string()),
            },
        )
        .await?;
    if next.stage == Stage::Completed {
        complete(&mut tx, &mut operation, &c, &next, approved_on.as_deref()).await?;
    }
    if matches!(next.stage, Stage::Rejected | Stage::Completed) {
        notify_village(&mut tx, &c, &next, note).await?;
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Moved {
        stage: next.stage,
        version: c.row_version + 1,
    }))
}

/// Whether the latest home verification of the household found food or clothing at risk:
/// the registry has no field for it (the elimination preconditions ask).
async fn food_or_clothing_at_risk(db: &Db, household_no: &str) -> Result<bool> {
    let details: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT s.details FROM case_steps s JOIN cases c \
         ON c.county_code = s.county_code AND c.id = s.case_id \
         WHERE c.household_no = $1 AND s.step = 'verify' ORDER BY s.recorded_at DESC, s.id DESC")
        .bind(household_no).fetch_optional(pool).await?);
    let problems: Vec<String> = details
        .and_then(|d| serde_json::from_str::<Value>(&d).ok())
        .and_then(|v| serde_json::from_value(v["problems"].clone()).ok())
        .unwrap_or_default();
    Ok(problems.iter().any(|p| p == "food" || p == "clothing"))
}

/// The preconditions of a risk elimination for a household in `scope` on `today`, each with
/// whether it holds and its figures (DOMAIN.md 1.9); `None` outside the scope.
pub async fn elimination_preconditions(
    db: &Db,
    scope: &Scope,
    household_no: &str,
    today: Date,
) -> Result<Option<(Vec<Precondition>, EliminationFacts)>> {
    let food = food_or_clothing_at_risk(db, household_no).await?;
    let facts = crate::elimination::facts(db, scope, household_no, today, food).await?;
    Ok(facts.map(|f| (preconditions(&f, today), f)))
}

/// Why the household's risk may not be eliminated on `today`: the preconditions that do not
/// hold, with their figures, and (at the county's approval) a method that does not fit the
/// measures; `None` when nothing stands in the way (or the household is outside `scope`).
pub async fn elimination_refusal(
    db: &Db,
    scope: &Scope,
    household_no: &str,
    today: Date,
    method: Option<EliminationMethod>,
) -> Result<Option<Text>> {
    let Some((all, facts)) = elimination_preconditions(db, scope, household_no, today).await?
    else {
        return Ok(None);
    };
    let unmet: Vec<_> = all.into_iter().filter(|p| !p.holds).collect();
    if !unmet.is_empty() {
        let zh: Vec<String> = unmet
            .iter()
            .map(|p| format!("{}（{}）", p.condition.zh(), p.detail.zh))
            .collect();
        let en: Vec<String> = unmet
            .iter()
            .map(|p| format!("{} ({})", p.condition.en(), p.detail.en))
            .collect();
        return Ok(Some(Text::new(
            format!("风险消除条件未全部满足：{}", zh.join("；")),
            format!(
                "not every precondition of risk elimination holds: {}",
                en.join("; ")
            ),
        )));
    }
    Ok(method.and_then(|m| check_method(m, &facts.measures).err()))
}

/// Whether the household has an open emergency identification, which allows measures before
/// the procedure ends (DOMAIN.md 1.7).
pub async fn allows_measures_first(db: &Db, household_no: &str) -> Result<bool> {
    let sql =
        format!("SELECT {CASE_COLUMNS} FROM cases WHERE household_no = $1 AND closed_on IS NULL");
    let open: Option<CaseRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(household_no).fetch_optional(pool).await?);
    Ok(match open {
        Some(c) => c.state()?.allows_measures_first(),
        None => false,
    })
}

/// Writes the outcome of a completed case on the household: monitored with its category and
/// risk types (risk not eliminated, any earlier elimination cleared: a re-entry), or its risk
/// eliminated with the method. The household's `version` moves on, so that an edit form opened
/// before cannot write the old values back.
async fn complete(
    tx: &mut Tx,
    operation: &mut Operation,
    c: &CaseRow,
    state: &CaseState,
    approved_on: Option<&str>,
) -> Result<()> {
    type Fields = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let before: Option<Fields> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT monitoring_category, risk_types, identified_on, risk_eliminated_on, \
         elimination_method, division_code FROM households WHERE household_no = $1")
        .bind(&c.household_no).fetch_optional(conn).await?);
    let Some(before) = before else {
        return Err(StoreError::Corrupt(format!(
            "case {} names household {} which is not in the registry",
            c.id, c.household_no
        )));
    };
    let seq = operation.seq();
    let now = now_stored();
    let after = match state.kind {
        CaseKind::Identification => {
            let category = state.category.map(MonitoringCategory::code);
            let risks = risk_codes(&state.risks);
            on_tx!(tx, conn => sqlx::query(
                "UPDATE households SET monitoring_category = $1, risk_types = $2, \
                 identified_on = $3, risk_eliminated_on = NULL, elimination_method = NULL, \
                 version = version + 1, updated_seq = $4, updated_at = $5 \
                 WHERE household_no = $6")
                .bind(category).bind(&risks).bind(approved_on).bind(seq).bind(&now)
                .bind(&c.household_no).execute(conn).await.map(|_| ())?);
            json!({"monitoring_category": category, "risk_types": risks,
                   "identified_on": approved_on, "risk_eliminated_on": null,
                   "elimination_method": null})
        }
        CaseKind::Elimination => {
            let method = state.method.map(EliminationMethod::code);
            on_tx!(tx, conn => sqlx::query(
                "UPDATE households SET risk_eliminated_on = $1, elimination_method = $2, \
                 version = version + 1, updated_seq = $3, updated_at = $4 \
                 WHERE household_no = $5")
                .bind(approved_on).bind(method).bind(seq).bind(&now)
                .bind(&c.household_no).execute(conn).await.map(|_| ())?);
            json!({"risk_eliminated_on": approved_on, "elimination_method": method})
        }
    };
    // The village's leaf counts (monitored households, on the division page and in `stats`)
    // are kept in the write transaction like every registry write's.
    crate::registry::refresh_village_counts(
        tx,
        &std::collections::HashSet::from([before.5.clone()]),
    )
    .await?;
    operation
        .item(
            tx,
            AuditItem {
                action: "household.monitoring",
                object_type: "household",
                object_id: c.household_no.clone(),
                county_code: Some(c.county_code.clone()),
                division_code: Some(c.division_code.clone()),
                before: Some(
                    json!({"monitoring_category": before.0, "risk_types": before.1,
                           "identified_on": before.2, "risk_eliminated_on": before.3,
                           "elimination_method": before.4})
                    .to_string(),
                ),
                after: Some(after.to_string()),
            },
        )
        .await
}

async fn notify_village(tx: &mut Tx, c: &CaseRow, state: &CaseState, note: &str) -> Result<()> {
    let (kind_zh, kind_en) = (state.kind.zh(), state.kind.en());
    let no = &c.household_no;
    let (zh, en) = match state.stage {
        Stage::Rejected => (
            format!("{no}户的{kind_zh}程序未通过：{note}"),
            format!("the {kind_en} case of household {no} was rejected: {note}"),
        ),
        _ => (
            format!("{no}户的{kind_zh}程序已办结"),
            format!("the {kind_en} case of household {no} is completed"),
        ),
    };
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM case_notifications")
        .fetch_one(conn).await?);
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO case_notifications (id, county_code, division_code, case_id, message_zh, \
         message_en, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id).bind(&c.county_code).bind(&c.division_code).bind(c.id).bind(zh).bind(en)
        .bind(now_stored()).execute(conn).await.map(|_| ())?);
    Ok(())
}

/// A notification to a village, unread until one of its cadres reads it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub case_id: i64,
    pub message_zh: String,
    pub message_en: String,
    pub created_at: String,
}

/// The unread notifications of the divisions in `scope`, newest first.
pub async fn unread_notifications(db: &Db, scope: &Scope) -> Result<Vec<Notification>> {
    let (lo, hi) = code_range(scope.division());
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT id, case_id, message_zh, message_en, created_at FROM case_notifications \
         WHERE division_code BETWEEN $1 AND $2 AND read_at IS NULL \
         ORDER BY id DESC LIMIT 100")
        .bind(&lo).bind(&hi).fetch_all(pool).await?))
}

/// Marks a notification of the actor's scope read.
pub async fn mark_read(db: &Db, actor: &Account, id: i64) -> Result<bool> {
    let (lo, hi) = code_range(actor.scope().division());
    let mut tx = db.begin_write().await?;
    let n = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE case_notifications SET read_by = $1, read_at = $2 \
         WHERE id = $3 AND division_code BETWEEN $4 AND $5 AND read_at IS NULL")
        .bind(&actor.name).bind(now_stored()).bind(id).bind(&lo).bind(&hi)
        .execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(n == 1)
}

/// Which cases an inbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseFilter {
    /// Open cases, the nearest time limit first.
    #[default]
    Open,
    /// Open identification cases past their time limit.
    Overdue,
    /// Open identification cases within the warning days of their limit, or past it.
    Urgent,
    /// Closed cases, the latest first.
    Closed,
}

impl CaseFilter {
    pub fn code(self) -> &'static str {
        match self {
            CaseFilter::Open => "open",
            CaseFilter::Overdue => "overdue",
            CaseFilter::Urgent => "urgent",
            CaseFilter::Closed => "closed",
        }
    }

    pub fn from_code(code: &str) -> Option<CaseFilter> {
        [
            CaseFilter::Open,
            CaseFilter::Overdue,
            CaseFilter::Urgent,
            CaseFilter::Closed,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }
}

/// A row of an inbox: the case and the head of household's name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseListRow {
    #[sqlx(flatten)]
    pub case: CaseRow,
    pub head_name: Option<String>,
}

/// Counts for the inbox tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseCounts {
    pub open: i64,
    pub urgent: i64,
    pub overdue: i64,
}

/// The cases of a scope by filter and kind, at most `limit`.
pub async fn inbox(
    db: &Db,
    scope: &Scope,
    filter: CaseFilter,
    kind: Option<CaseKind>,
    today: Date,
    policy: &ProcedurePolicy,
    limit: i64,
) -> Result<Vec<CaseListRow>> {
    let (lo, hi) = code_range(scope.division());
    let (condition, order) = match filter {
        // `$4 <> ''` only keeps the parameter typed for PostgreSQL when the filter needs no day.
        CaseFilter::Open => (
            "c.closed_on IS NULL AND $4 <> ''".to_owned(),
            "c.due_on IS NULL, c.due_on, c.id",
        ),
        CaseFilter::Overdue | CaseFilter::Urgent => (late_condition("c.", "$4"), "c.due_on, c.id"),
        CaseFilter::Closed => (
            "c.closed_on IS NOT NULL AND $4 <> ''".to_owned(),
            "c.closed_on DESC, c.id DESC",
        ),
    };
    // Urgent: the last day before which a case is on time, for each counting; overdue: today.
    let bound = match filter {
        CaseFilter::Urgent => near_bound(today, policy),
        _ => today.to_string(),
    };
    let sql = format!(
        "SELECT c.id, c.county_code, c.household_no, c.division_code, c.kind, c.stage, \
         c.lead_channel, c.warning_id, c.emergency, c.opened_on, c.due_on, c.compared, \
         c.appraised_on, c.notice_starts_on, c.notice_ends_on, c.objections, c.category, \
         c.risk_types, c.method, c.approved_on, c.closed_on, c.opened_by, c.row_version, \
         c.opened_at, c.updated_at, \
         (SELECT m.name FROM members m JOIN households h ON h.id = m.household_id \
          WHERE h.household_no = c.household_no AND m.relation = 'head' \
          ORDER BY m.position LIMIT 1) AS head_name \
         FROM cases c WHERE c.division_code BETWEEN $1 AND $2 \
         AND ($3 = '' OR c.kind = $3) AND {condition} ORDER BY {order} LIMIT $5"
    );
    let kind = kind.map_or("", CaseKind::code);
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&lo).bind(&hi).bind(kind).bind(&bound).bind(limit)
        .fetch_all(pool).await?),
    )
}

/// The one condition "this case is late on the day in `day`" (a bound parameter such as
/// `$3`): open, still in a stage that waits for a decision, and due before that day.
/// `prefix` is the table's alias with its dot (`"c."`) or empty. The inbox's overdue and
/// urgent lists and counts, the dashboard's leaves and the monthly snapshots all use it, so
/// that "overdue" means the same everywhere.
pub(crate) fn late_condition(prefix: &str, day: &str) -> String {
    let undecided = undecided_stages();
    format!(
        "{prefix}closed_on IS NULL AND {prefix}stage IN ({undecided}) AND {prefix}due_on < {day}"
    )
}

pub(crate) fn undecided_stages() -> String {
    Stage::ALL
        .iter()
        .filter(|s| s.is_undecided())
        .map(|s| format!("'{}'", s.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A case is near its limit on `today` when its due day is before this day.
fn near_bound(today: Date, policy: &ProcedurePolicy) -> String {
    // Near when today > due − near (core's `ProcedurePolicy::urgency`), that is when
    // due < today + near (of the same counting).
    zhenxing_core::procedure::add_days(today, policy.near_days, policy.counting).to_string()
}

/// The counts of open, urgent and overdue cases in a scope.
pub async fn inbox_counts(
    db: &Db,
    scope: &Scope,
    today: Date,
    policy: &ProcedurePolicy,
) -> Result<CaseCounts> {
    let (lo, hi) = code_range(scope.division());
    let (urgent, overdue) = (late_condition("", "$3"), late_condition("", "$4"));
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {urgent} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM cases WHERE division_code BETWEEN $1 AND $2 AND closed_on IS NULL"
    );
    let (open, urgent, overdue): (i64, i64, i64) = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&lo).bind(&hi).bind(near_bound(today, policy)).bind(today.to_string())
        .fetch_one(pool).await?);
    Ok(CaseCounts {
        open,
        urgent,
        overdue,
    })
}

/// Overdue cases per village under the code range `lo..=hi` on `today`: the same condition as
/// the overdue count of [`inbox_counts`], grouped (the dashboard's leaves).
pub async fn overdue_by_village(
    db: &Db,
    lo: &str,
    hi: &str,
    today: Date,
) -> Result<Vec<(String, i64)>> {
    let overdue = late_condition("", "$3");
    let sql = format!(
        "SELECT division_code, CAST(COUNT(*) AS BIGINT) FROM cases \
         WHERE division_code BETWEEN $1 AND $2 AND {overdue} GROUP BY division_code"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(lo).bind(hi).bind(today.to_string()).fetch_all(pool).await?),
    )
}

/// One household on a village's public notice (DOMAIN.md 1.7: names, village group, category
/// and the dates; never ID numbers, phone numbers, bank accounts or health conditions).
#[derive(Debug, Clone)]
pub struct NoticeEntry {
    pub case_id: i64,
    pub kind: CaseKind,
    pub head_name: String,
    /// 村民小组, from the household's address (`…太白村3组`), when it names one.
    pub village_group: Option<String>,
    pub category: Option<MonitoringCategory>,
    pub starts_on: Date,
    pub ends_on: Date,
}

/// The village group at the end of an address (`城口县葛城街道太白村3组` → `3组`).
pub fn village_group(address: &str) -> Option<String> {
    let trimmed = address.trim();
    let stem = trimmed
        .strip_suffix('组')
        .or_else(|| trimmed.strip_suffix('社'))?;
    let digits: String = stem
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(*c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let suffix = trimmed.chars().last()?;
    (!digits.is_empty()).then(|| format!("{digits}{suffix}"))
}

/// The notices of a village (its code, exactly) whose period includes or ended within
/// `recent_days` before `today`, or starts later: what the noticeboard and the portal show.
pub async fn notices(
    db: &Db,
    village_code: &str,
    today: Date,
    recent_days: i64,
) -> Result<Vec<NoticeEntry>> {
    let since = (today - time::Duration::days(recent_days)).to_string();
    type Row = (
        i64,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT c.id, c.kind, c.category, c.notice_starts_on, c.notice_ends_on, \
         (SELECT m.name FROM members m WHERE m.household_id = h.id AND m.relation = 'head' \
          ORDER BY m.position LIMIT 1), \
         h.address \
         FROM cases c JOIN households h ON h.household_no = c.household_no \
         WHERE c.division_code = $1 AND c.notice_starts_on IS NOT NULL \
         AND c.notice_ends_on >= $2 AND c.stage NOT IN ('rejected', 'withdrawn') \
         ORDER BY c.notice_starts_on, c.id")
        .bind(village_code).bind(&since).fetch_all(pool).await?);
    rows.into_iter()
        .map(|(id, kind, category, starts, ends, head, address)| {
            Ok(NoticeEntry {
                case_id: id,
                kind: CaseKind::from_code(&kind).ok_or_else(|| corrupt("kind", &kind))?,
                head_name: head.unwrap_or_default(),
                village_group: address.as_deref().and_then(village_group),
                category: category.as_deref().and_then(MonitoringCategory::from_code),
                starts_on: parse_day("notice start", &starts)?,
                ends_on: parse_day("notice end", &ends)?,
            })
        })
        .collect()
}

/// Keeps a scan or photo with an open case of the actor's scope, audited.
pub async fn attach(
    db: &Db,
    actor: &Account,
    case_id: i64,
    file_name: &str,
    bytes: &[u8],
) -> Result<Outcome<i64>> {
    let Some(c) = case_row(db, &actor.scope(), case_id).await? else {
        return Ok(Outcome::NotFound);
    };
    if c.closed_on.is_some() {
        return Ok(Outcome::Refused(text!(
            "程序已结束，不能再添加附件",
            "the case is closed; nothing more can be attached"
        )));
    }
    let file = match crate::files::accept(file_name, bytes.to_vec()) {
        Ok(file) => file,
        Err(why) => return Ok(Outcome::Refused(why)),
    };
    let (name, sha) = (&file.name, &file.sha256);
    let mut tx = db.begin_write().await?;
    let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM case_attachments")
        .fetch_one(conn).await?);
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: "case.attach".into(),
            object_type: "case".into(),
            object_id: Some(c.id.to_string()),
            county_code: Some(c.county_code.clone()),
            division_code: Some(c.division_code.clone()),
            reason: None,
            before: None,
            after: Some(json!({"attachment": id, "file_name": name, "sha256": sha,
                               "size_bytes": file.bytes.len()})),
        },
    )
    .await?;
    let step_number: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT MAX(number) FROM case_steps WHERE county_code = $1 AND case_id = $2")
        .bind(&c.county_code).bind(c.id).fetch_one(conn).await?);
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO case_attachments (id, county_code, case_id, step_number, file_name, \
         content_type, size_bytes, sha256, content, uploaded_by, uploaded_at, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(id).bind(&c.county_code).bind(c.id).bind(step_number).bind(name)
        .bind(file.content_type).bind(file.bytes.len() as i64).bind(sha).bind(&file.bytes)
        .bind(&actor.name).bind(now_stored()).bind(operation.seq())
        .execute(conn).await.map(|_| ())?);
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(id))
}

/// An attachment of a case in `scope`: its name, content type and bytes.
pub async fn attachment(
    db: &Db,
    scope: &Scope,
    case_id: i64,
    id: i64,
) -> Result<Option<(String, String, Vec<u8>)>> {
    let Some(c) = case_row(db, scope, case_id).await? else {
        return Ok(None);
    };
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT file_name, content_type, content FROM case_attachments \
         WHERE county_code = $1 AND case_id = $2 AND id = $3")
        .bind(&c.county_code).bind(case_id).bind(id).fetch_optional(pool).await?))
}

const POLICY_KEYS: [&str; 4] = [
    "procedure.limit_days",
    "procedure.counting",
    "procedure.notice_days",
    "procedure.near_days",
];

/// The procedures' time limits: the stored settings, or the defaults.
pub async fn policy(db: &Db) -> Result<ProcedurePolicy> {
    let rows: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT key, value FROM settings WHERE key LIKE 'procedure.%'")
        .fetch_all(pool).await?);
    let mut p = ProcedurePolicy::default();
    for (key, value) in rows {
        let bad = || StoreError::Corrupt(format!("setting {key} = '{value}' does not parse"));
        match key.as_str() {
            "procedure.limit_days" => p.limit_days = value.parse().map_err(|_| bad())?,
            "procedure.notice_days" => p.notice_days = value.parse().map_err(|_| bad())?,
            "procedure.near_days" => p.near_days = value.parse().map_err(|_| bad())?,
            "procedure.counting" => p.counting = DayCounting::from_code(&value).ok_or_else(bad)?,
            _ => {}
        }
    }
    Ok(p)
}

/// Stores new time limits after [`ProcedurePolicy::check`], audited; every problem otherwise.
pub async fn set_policy(
    db: &Db,
    actor_name: &str,
    new: &ProcedurePolicy,
) -> Result<Result<(), Vec<Text>>> {
    if let Err(problems) = new.check() {
        return Ok(Err(problems));
    }
    let old = policy(db).await?;
    let values = [
        new.limit_days.to_string(),
        new.counting.code().to_owned(),
        new.notice_days.to_string(),
        new.near_days.to_string(),
    ];
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor_name.to_owned(),
            action: "settings.procedure".into(),
            object_type: "settings".into(),
            object_id: Some("procedure".into()),
            before: Some(policy_json(&old)),
            after: Some(policy_json(new)),
            ..Default::default()
        },
    )
    .await?;
    for (key, value) in POLICY_KEYS.iter().zip(values) {
        write_setting(&mut tx, key, &value, actor_name, operation.seq()).await?;
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Stores one setting inside the caller's write transaction and audit operation (`audit_seq`).
pub(crate) async fn write_setting(
    tx: &mut Tx,
    key: &str,
    value: &str,
    actor_name: &str,
    audit_seq: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO settings (key, value, updated_by, updated_at, audit_seq) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at, \
         audit_seq = excluded.audit_seq")
        .bind(key).bind(value).bind(actor_name).bind(now_stored()).bind(audit_seq)
        .execute(conn).await.map(|_| ())?);
    Ok(())
}

fn policy_json(p: &ProcedurePolicy) -> Value {
    json!({"limit_days": p.limit_days, "counting": p.counting.code(),
           "notice_days": p.notice_days, "near_days": p.near_days})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn village_groups_come_from_the_end_of_the_address() {
        assert_eq!(
            village_group("城口县葛城街道太白村3组").as_deref(),
            Some("3组")
        );
        assert_eq!(
            village_group("巴山镇立新村十二社").as_deref(),
            Some("十二社")
        );
        assert_eq!(village_group("巴山镇立新村"), None);
        assert_eq!(village_group("组"), None);
    }
}
