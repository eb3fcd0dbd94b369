//! Reading cases: one case with its steps and attachments, a household's cases and its place in
//! monitoring.

use super::{CASE_COLUMNS, CaseRow};
use crate::{Db, Result, on_pool};
use serde::Serialize;
use zhenxing_core::Scope;
use zhenxing_core::procedure::MonitoringStatus;

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

/// An attachment's description (its bytes are read by [`attachment`](super::attachment)).
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

pub(super) async fn case_row(db: &Db, scope: &Scope, id: i64) -> Result<Option<CaseRow>> {
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

pub(super) async fn head_name(db: &Db, household_no: &str) -> Result<Option<String>> {
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
pub(super) struct HouseholdStanding {
    pub(super) division_code: String,
    pub(super) status: MonitoringStatus,
    pub(super) open_case: Option<i64>,
}

pub(super) async fn standing(db: &Db, household_no: &str) -> Result<Option<HouseholdStanding>> {
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
