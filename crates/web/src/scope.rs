//! What an account may reach of the registry, as a request names it: a division, a household,
//! the household list's filter. The pages and the API ask here, so that the browser and a
//! program cannot disagree; anything outside the account's scope answers "not found", exactly
//! like what does not exist.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::extract::blank;
use serde::Deserialize;
use zhenxing_core::{Action, DivisionCode, Fen, HouseholdType, MonitoringCategory, Text};
use zhenxing_store::HouseholdRecord;
use zhenxing_store::browse::{HouseholdFilter, Search};
use zhenxing_store::registry::RowMeta;

/// A division code from a URL, if it lies in the account's scope; otherwise "not found".
pub fn scoped_division(viewer: &Viewer, code: &str) -> AppResult<DivisionCode> {
    let account = viewer.may(Action::ReadRegistry)?;
    let code = DivisionCode::parse(code).map_err(|_| AppError::NotFound)?;
    if account.scope().contains(&code) {
        Ok(code)
    } else {
        Err(AppError::NotFound)
    }
}

/// The list's query string. Unknown parameters are refused (400), not ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub division: Option<String>,
    #[serde(rename = "type")]
    pub household_type: Option<String>,
    pub category: Option<String>,
    /// Per-capita net income below this many yuan.
    pub below: Option<String>,
    pub q: Option<String>,
    pub after: Option<String>,
}

/// The filter a query asks for, within the account's scope; bad values are a 400 that names
/// the parameter.
pub fn parse_filter(
    viewer: &Viewer,
    query: &ListQuery,
) -> AppResult<(HouseholdFilter, Option<i64>)> {
    let account = viewer.may(Action::ReadRegistry)?;
    let division = match blank(&query.division) {
        Some(code) => Some(scoped_division(viewer, code)?),
        None => None,
    };
    let household_type = blank(&query.household_type)
        .map(|t| HouseholdType::parse(t).map_err(AppError::BadRequest))
        .transpose()?;
    let category = blank(&query.category)
        .map(|t| MonitoringCategory::parse(t).map_err(AppError::BadRequest))
        .transpose()?;
    let income_below = blank(&query.below)
        .map(|b| {
            Fen::parse_non_negative(b).map(|f| f.0).map_err(|e| {
                let t = e.text();
                AppError::BadRequest(Text::new(
                    format!("参数below（人均纯收入低于，元）：{}", t.zh),
                    format!(
                        "parameter below (per-capita net income below, yuan): {}",
                        t.en
                    ),
                ))
            })
        })
        .transpose()?;
    let after = blank(&query.after)
        .map(|a| {
            a.parse::<i64>().map_err(|_| {
                AppError::bad_request("参数after须为整数", "parameter after must be an integer")
            })
        })
        .transpose()?;
    let search = blank(&query.q).and_then(Search::recognise);
    Ok((
        HouseholdFilter {
            scope: account.division,
            division,
            household_type,
            category,
            income_below,
            search,
        },
        after,
    ))
}

/// The household if it exists and lies in the account's scope; otherwise "not found", the
/// same answer for both.
pub async fn scoped_household(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
) -> AppResult<(HouseholdRecord, RowMeta)> {
    let account = viewer.may(Action::ReadRegistry)?;
    if no.len() > 64 {
        return Err(AppError::NotFound);
    }
    let Some((record, meta)) = zhenxing_store::registry::household(&state.db, no).await? else {
        return Err(AppError::NotFound);
    };
    if !account.scope().contains_code(&record.division_code) {
        return Err(AppError::NotFound);
    }
    Ok((record, meta))
}
