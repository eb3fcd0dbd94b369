//! Taking a step on a case, with optimistic concurrency on `row_version`.

use super::completion::{complete, elimination_refusal, new_risk_in_tx, notify_village};
use super::open::{NewStep, insert_step};
use super::reading::case_row;
use crate::accounts::Account;
use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::outcome::Outcome;
use crate::warnings::risk_codes;
use crate::{Db, Result, on_tx};
use serde_json::{Value, json};
use zhenxing_core::MonitoringCategory;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::procedure::{CaseKind, EliminationMethod, ProcedurePolicy, Stage, Step, apply};

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
pub(crate) fn step_details(step: &Step) -> Value {
    match step {
        Step::Verify(f) => json!({
            "visited_on": f.visited_on.to_string(),
            "per_capita_income_fen": f.per_capita_income.0,
            "rigid_spending_fen": f.rigid_spending.0,
            "rigid_spending_resolved": f.rigid_spending_resolved,
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
        Step::RecordNational { on, .. } => {
            json!({"on": on.to_string(), "record_number": step.national_record_number()})
        }
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
    if matches!(req.step, Step::CountyApprove { .. })
        && state.kind == CaseKind::Elimination
        && let Some(why) = new_risk_in_tx(&mut tx, &c.household_no).await?
    {
        tx.rollback().await?;
        return Ok(Outcome::Refused(why));
    }
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
    // A completed case still takes its entry in the national system: it keeps its closing day.
    let closed_on = if state.stage.is_final() {
        c.closed_on.clone()
    } else {
        next.stage.is_final().then(|| today.to_string())
    };
    let (recorded_on, record_number, recorded_by) = match &req.step {
        Step::RecordNational { on, .. } => (
            Some(on.to_string()),
            req.step.national_record_number(),
            Some(actor.name.clone()),
        ),
        _ => (
            c.national_recorded_on.clone(),
            c.national_record_number.clone(),
            c.national_recorded_by.clone(),
        ),
    };
    let completes = next.stage == Stage::Completed && state.stage != Stage::Completed;
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
         national_recorded_on = $14, national_record_number = $15, national_recorded_by = $16, \
         row_version = row_version + 1 \
         WHERE county_code = $17 AND id = $18 AND row_version = $19")
        .bind(next.stage.code()).bind(next.compared)
        .bind(next.appraised_on.map(|d| d.to_string())).bind(&notice_starts).bind(&notice_ends)
        .bind(&objections).bind(next.category.map(MonitoringCategory::code))
        .bind(risk_codes(&next.risks)).bind(next.method.map(EliminationMethod::code))
        .bind(&approved_on).bind(&closed_on).bind(seq).bind(&now)
        .bind(&recorded_on).bind(&record_number).bind(&recorded_by)
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
    if completes {
        complete(&mut tx, &mut operation, &c, &next, approved_on.as_deref()).await?;
    }
    if completes || (next.stage == Stage::Rejected && state.stage != Stage::Rejected) {
        notify_village(&mut tx, &c, &next, note).await?;
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Moved {
        stage: next.stage,
        version: c.row_version + 1,
    }))
}
