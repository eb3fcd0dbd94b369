//! Opening a case on a household from a lead, and the first step it records.

use super::completion::{elimination_refusal, new_risk_in_tx};
use super::reading::standing;
use crate::accounts::Account;
use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::outcome::Outcome;
use crate::{Db, Result, Tx, on_pool, on_tx};
use serde_json::{Value, json};
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::procedure::{
    CaseKind, EmergencyCause, ProcedurePolicy, Stage, StepKind, check_open,
};
use zhenxing_core::text;
use zhenxing_core::warning::{WarningChannel, WarningStatus};

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
    if req.kind == CaseKind::Elimination
        && let Some(why) = new_risk_in_tx(&mut tx, &req.household_no).await?
    {
        tx.rollback().await?;
        return Ok(Outcome::Refused(why));
    }
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

pub(super) struct NewStep<'a> {
    pub(super) county_code: &'a str,
    pub(super) case_id: i64,
    pub(super) number: i64,
    pub(super) step: StepKind,
    pub(super) stage_before: Option<Stage>,
    pub(super) stage_after: Stage,
    pub(super) happened_on: Date,
    pub(super) actor: &'a Account,
    pub(super) note: &'a str,
    pub(super) details: &'a Value,
    pub(super) seq: i64,
}

pub(super) async fn insert_step(tx: &mut Tx, s: NewStep<'_>) -> Result<()> {
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
