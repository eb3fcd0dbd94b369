//! The month's completed identifications and risk eliminations as the national monitoring
//! system (全国防返贫监测信息系统) takes them (录入建档, issue 17 item 4): one entry per case with
//! the household's place, its head, the outcome and the dates the national system asks for.
//! The head's full ID number is in it: the national system keys households by it, so the
//! export that writes these entries is restricted and audited (`app::export::national`).

use super::{CASE_COLUMNS, CaseRow};
use crate::browse::code_range;
use crate::coverage::parse_risk_types;
use crate::snapshots::Month;
use crate::{Db, Result, StoreError, on_pool};
use std::collections::HashMap;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::procedure::{CaseKind, EliminationMethod, Stage};
use zhenxing_core::{DivisionCode, MonitoringCategory};

/// One completed case, for the national system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalEntry {
    pub case_id: i64,
    pub kind: CaseKind,
    pub division_code: String,
    /// The names of the county, the township and the village.
    pub places: [String; 3],
    pub village_group: Option<String>,
    pub household_no: String,
    pub head_name: String,
    pub head_id_number: String,
    pub members: usize,
    /// The identification's category, or the household's when its risk is eliminated.
    pub category: Option<MonitoringCategory>,
    /// The identification's risk types, or the household's when its risk is eliminated.
    pub risks: Vec<RiskType>,
    pub method: Option<EliminationMethod>,
    /// 识别监测时间: the county's approval of the identification (for an elimination, the
    /// household's, when zhenxing knows it).
    pub identified_on: Option<String>,
    /// 风险消除时间: the county's approval of the elimination.
    pub eliminated_on: Option<String>,
    pub notice: Option<(String, String)>,
    pub announced_on: Option<String>,
    pub closed_on: String,
    pub recorded_on: Option<String>,
    pub record_number: Option<String>,
}

/// The cases under `division` completed in `month`, in the order they were completed.
pub async fn national_entries(
    db: &Db,
    division: &DivisionCode,
    month: Month,
) -> Result<Vec<NationalEntry>> {
    let (lo, hi) = code_range(division);
    let (Some(first), Some(last)) = (month.first_day(), month.last_day()) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE stage = $1 AND closed_on BETWEEN $2 AND $3 \
         AND division_code BETWEEN $4 AND $5 ORDER BY closed_on, id"
    );
    let cases: Vec<CaseRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(Stage::Completed.code()).bind(first.to_string()).bind(last.to_string())
        .bind(&lo).bind(&hi).fetch_all(pool).await?);
    let mut places: HashMap<String, [String; 3]> = HashMap::new();
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let state = case.state()?;
        let Some((household, _)) = crate::registry::household(db, &case.household_no).await? else {
            return Err(StoreError::Corrupt(format!(
                "case {} names household {} which is not in the registry",
                case.id, case.household_no
            )));
        };
        let head = household.members.iter().find(|m| m.relation == "head");
        let (category, risks, identified_on, eliminated_on) = match state.kind {
            CaseKind::Identification => (
                state.category,
                state.risks.clone(),
                case.approved_on.clone(),
                None,
            ),
            // The household's record carries what its identification recorded.
            CaseKind::Elimination => (
                household
                    .monitoring_category
                    .as_deref()
                    .and_then(MonitoringCategory::from_code),
                parse_risk_types(household.risk_types.as_deref())?,
                household.identified_on.clone(),
                case.approved_on.clone(),
            ),
        };
        let announced_on: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
            "SELECT happened_on FROM case_steps WHERE county_code = $1 AND case_id = $2 \
             AND step = 'announce' ORDER BY number DESC LIMIT 1")
            .bind(&case.county_code).bind(case.id).fetch_optional(pool).await?);
        let place = match places.get(&case.division_code) {
            Some(p) => p.clone(),
            None => {
                let p = place_names(db, &case.division_code).await?;
                places.insert(case.division_code.clone(), p.clone());
                p
            }
        };
        out.push(NationalEntry {
            case_id: case.id,
            kind: state.kind,
            division_code: case.division_code.clone(),
            places: place,
            village_group: household.village_group.clone(),
            household_no: case.household_no.clone(),
            head_name: head.map(|m| m.name.clone()).unwrap_or_default(),
            head_id_number: head.map(|m| m.id_number.clone()).unwrap_or_default(),
            members: household.members.len(),
            category,
            risks,
            method: state.method,
            identified_on,
            eliminated_on,
            notice: case
                .notice_starts_on
                .clone()
                .zip(case.notice_ends_on.clone()),
            announced_on,
            closed_on: case.closed_on.clone().unwrap_or_default(),
            recorded_on: case.national_recorded_on.clone(),
            record_number: case.national_record_number.clone(),
        });
    }
    Ok(out)
}

/// The county's, the township's and the village's names of a village code.
async fn place_names(db: &Db, village: &str) -> Result<[String; 3]> {
    let Ok(code) = DivisionCode::parse(village) else {
        return Ok(Default::default());
    };
    let path = db.division_path(&code).await?;
    let name_at = |level: &str| {
        path.iter()
            .find(|d| d.level == level)
            .map(|d| d.name_zh.clone())
            .unwrap_or_default()
    };
    Ok([name_at("county"), name_at("township"), name_at("village")])
}
