//! Completing a case: the preconditions of a risk elimination, the household's monitoring fields
//! written in the step's transaction, and the village's notification.

use super::{CASE_COLUMNS, CaseRow};
use crate::audit::{AuditItem, Operation};
use crate::coverage::stored_day;
use crate::warnings::risk_codes;
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use serde_json::{Value, json};
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::elimination::{
    EliminationFacts, Precondition, RigidSpending, check_method, check_no_new_risk, preconditions,
};
use zhenxing_core::procedure::{CaseKind, CaseState, EliminationMethod, Stage};
use zhenxing_core::{Fen, MonitoringCategory, Scope, Text};

/// What the latest home verification of the household found that the registry has no field
/// for: food or clothing at risk, and the rigid spending (with the mark "resolved" of an
/// elimination's visit). The elimination preconditions ask.
async fn latest_visit(db: &Db, household_no: &str) -> Result<(bool, Option<RigidSpending>)> {
    let row: Option<(String, String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT c.kind, s.happened_on, s.details FROM case_steps s JOIN cases c \
         ON c.county_code = s.county_code AND c.id = s.case_id \
         WHERE c.household_no = $1 AND s.step = 'verify' ORDER BY s.recorded_at DESC, s.id DESC")
        .bind(household_no).fetch_optional(pool).await?);
    let Some((kind, happened_on, details)) = row else {
        return Ok((false, None));
    };
    let details: Value = serde_json::from_str(&details).unwrap_or(Value::Null);
    let problems: Vec<String> =
        serde_json::from_value(details["problems"].clone()).unwrap_or_default();
    let food = problems.iter().any(|p| p == "food" || p == "clothing");
    let rigid = details["rigid_spending_fen"]
        .as_i64()
        .map(|fen| -> Result<RigidSpending> {
            Ok(RigidSpending {
                visited_on: stored_day(&happened_on)?,
                amount: Fen(fen),
                resolved: details["rigid_spending_resolved"].as_bool() == Some(true),
                in_elimination: kind == CaseKind::Elimination.code(),
            })
        })
        .transpose()?;
    Ok((food, rigid))
}

/// The preconditions of a risk elimination for a household in `scope` on `today`, each with
/// whether it holds and its figures (DOMAIN.md 1.9); `None` outside the scope.
pub async fn elimination_preconditions(
    db: &Db,
    scope: &Scope,
    household_no: &str,
    today: Date,
) -> Result<Option<(Vec<Precondition>, EliminationFacts)>> {
    let (food, rigid) = latest_visit(db, household_no).await?;
    let facts = crate::elimination::facts(db, scope, household_no, today, food).await?;
    Ok(facts.map(|mut f| {
        f.rigid_spending = rigid;
        (preconditions(&f, today), f)
    }))
}

/// Refuses a risk elimination (opening it, or the county's approval) while a warning on the
/// household is active, read in the step's own transaction: a warning raised after the page
/// was read still stops it (DOMAIN.md 1.9 condition e).
pub(super) async fn new_risk_in_tx(tx: &mut Tx, household_no: &str) -> Result<Option<Text>> {
    let warnings = crate::elimination::open_warnings_in_tx(tx, household_no).await?;
    Ok(check_no_new_risk(&warnings).err())
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
pub(super) async fn complete(
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

pub(super) async fn notify_village(
    tx: &mut Tx,
    c: &CaseRow,
    state: &CaseState,
    note: &str,
) -> Result<()> {
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
