//! What-if: a proposed threshold against the rule set in force, counted per division one level
//! down, and the households that would enter or leave the monitoring range, in pages. Nothing
//! is written.

use super::{RuleSetLine, ensure_rule_sets, pass_reason, pass_scope, rule_set_line, with_status};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::divisions::{Crumb, division_name, scoped_division};
use crate::pages::{Chrome, Params, blank, count, query_string, render, yuan};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use zhenxing_app::monitoring::pass;
use zhenxing_app::monitoring::{self as app_monitoring, WhatIfRequest};
use zhenxing_core::{Action, DivisionCode, DivisionLevel, Fen, text};
use zhenxing_engine::WhatIfCounts;

/// Households per page of the what-if list.
const CHANGES_PER_PAGE: usize = 50;

/// Runs a future on a thread of the blocking pool and waits for it: the monitoring loaders
/// read SQLite on the connection directly, which would otherwise hold an async worker.
async fn off_the_workers<T, F>(work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: AsyncFnOnce() -> T + Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a monitoring task stopped");
            AppError::Internal
        })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatIfQuery {
    pub threshold: Option<String>,
    pub year: Option<String>,
    pub division: Option<String>,
    pub page: Option<String>,
}

/// Counts of one division, as shown.
pub struct CountsRow {
    pub code: String,
    pub name: String,
    pub href: Option<String>,
    pub households: String,
    pub members: String,
    pub households_current: String,
    pub households_entering: String,
    pub members_entering: String,
    pub households_leaving: String,
    pub members_leaving: String,
}

fn counts_row(code: String, name: String, href: Option<String>, c: &WhatIfCounts) -> CountsRow {
    let k = |v: u64| count(i64::try_from(v).unwrap_or(i64::MAX));
    CountsRow {
        code,
        name,
        href,
        households: k(c.households),
        members: k(c.members),
        households_current: k(c.households_current),
        households_entering: k(c.households_entering),
        members_entering: k(c.members_entering),
        households_leaving: k(c.households_leaving),
        members_leaving: k(c.members_leaving),
    }
}

pub struct ChangeRow {
    pub household_no: String,
    pub village: String,
    pub income: String,
    pub entering: bool,
}

/// The outcome of a what-if, as shown.
pub struct WhatIfResult {
    pub proposed: String,
    pub current: String,
    pub total: CountsRow,
    pub child_heading: String,
    pub children: Vec<CountsRow>,
    pub changes: Vec<ChangeRow>,
    pub change_count: usize,
    pub page: usize,
    pub pages: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "monitoring_whatif.html")]
struct WhatIfPage {
    c: Chrome,
    crumbs: Vec<Crumb>,
    division: String,
    division_name: String,
    threshold: String,
    year: String,
    in_force: Option<RuleSetLine>,
    errors: Vec<String>,
    result: Option<WhatIfResult>,
}

fn whatif_href(threshold: &str, year: &str, division: &str, page: usize) -> String {
    let page = if page > 1 {
        page.to_string()
    } else {
        String::new()
    };
    format!(
        "/monitoring/whatif?{}",
        query_string(&[
            ("threshold", threshold),
            ("year", year),
            ("division", division),
            ("page", &page),
        ])
    )
}

pub async fn whatif(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<WhatIfQuery>, AppError>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WhatIf)?.clone();
    ensure_rule_sets(&state, &account).await?;
    let Params(query) = params?;
    let division = match blank(&query.division) {
        Some(code) => scoped_division(&viewer, code)?,
        None => account.division,
    };
    let Some(stored_division) = state.db.division(&division).await? else {
        return Err(AppError::NotFound);
    };
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("monitoring-whatif-title");
    let tr = c.tr.clone();
    let mut errors = Vec::new();
    let year_text = blank(&query.year).unwrap_or("").to_owned();
    let year = if year_text.is_empty() {
        None
    } else {
        match year_text.parse::<u16>() {
            Ok(y) => Some(y),
            Err(_) => {
                errors.push(tr.text(&text!(
                    "年度“{year_text}”不是年份",
                    "the year '{year_text}' is not a year"
                )));
                None
            }
        }
    };
    let rule_set = match pass::rule_set_in_force(&state.db, year).await {
        Ok(rs) => Some(rs),
        Err(e) => {
            errors.push(tr.text(&pass_reason(e)?));
            None
        }
    };
    let current = rule_set
        .as_ref()
        .map(app_monitoring::current_threshold)
        .unwrap_or(Fen::ZERO);
    let typed = blank(&query.threshold).map(str::to_owned);
    let proposed = match &typed {
        None => None,
        Some(t) => match pass::parse_threshold(t) {
            Ok(f) => Some(f),
            Err(e) => {
                errors.push(format!("{}: {}", tr.t("monitoring-threshold"), tr.text(&e)));
                None
            }
        },
    };
    let page_no = match blank(&query.page) {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| AppError::bad_request("页码有误", "the page number is not valid"))?,
    };
    let threshold_shown = typed.clone().unwrap_or_else(|| current.to_string());
    let mut result = None;
    if let (Some(proposed), Some(rule_set), true) = (proposed, &rule_set, errors.is_empty()) {
        let db = state.db.clone();
        let scope = pass_scope(&division);
        let rule_set = rule_set.clone();
        let child = pass::child_level(division.level());
        // A village has no divisions below it to count by.
        let levels = if division.level() == DivisionLevel::Village {
            Vec::new()
        } else {
            vec![child]
        };
        let computed = off_the_workers(async move || {
            let request = WhatIfRequest {
                rule_set: &rule_set,
                scope: scope.as_ref(),
                proposed,
                levels: &levels,
                changes: true,
            };
            app_monitoring::whatif(&db, &request, &pass::no_progress).await
        })
        .await?;
        let computed = match computed {
            Ok(w) => Some(w),
            Err(e) => {
                errors.push(tr.text(&pass_reason(e)?));
                None
            }
        };
        if let Some(w) = computed {
            let threshold_param = typed.clone().unwrap_or_default();
            let children = w
                .levels
                .iter()
                .flat_map(|(_, named)| named)
                .map(|named| {
                    let name = tr.name(&named.name_zh, &named.name_en).to_owned();
                    let href = whatif_href(&threshold_param, &year_text, &named.code, 1);
                    counts_row(named.code.clone(), name, Some(href), &named.counts)
                })
                .collect();
            let changes = &w.changes;
            let pages = changes.len().div_ceil(CHANGES_PER_PAGE).max(1);
            let page_no = page_no.min(pages);
            let shown: Vec<_> = changes
                .iter()
                .skip((page_no - 1) * CHANGES_PER_PAGE)
                .take(CHANGES_PER_PAGE)
                .collect();
            let mut village_names: BTreeMap<String, String> = BTreeMap::new();
            for ch in &shown {
                if village_names.contains_key(&ch.village) {
                    continue;
                }
                let name = match DivisionCode::parse(&ch.village) {
                    Ok(code) => state
                        .db
                        .division(&code)
                        .await?
                        .map(|d| division_name(&viewer, &d))
                        .unwrap_or_default(),
                    Err(_) => String::new(),
                };
                village_names.insert(ch.village.clone(), name);
            }
            let code = division.as_str();
            result = Some(WhatIfResult {
                proposed: yuan(proposed.0),
                current: yuan(current.0),
                total: counts_row(
                    code.to_owned(),
                    division_name(&viewer, &stored_division),
                    None,
                    &w.total,
                ),
                child_heading: tr.t(match child {
                    DivisionLevel::County => "monitoring-by-county",
                    DivisionLevel::Township => "monitoring-by-township",
                    _ => "monitoring-by-village",
                }),
                children,
                changes: shown
                    .iter()
                    .map(|ch| ChangeRow {
                        household_no: ch.household_no.clone(),
                        village: format!(
                            "{} ({})",
                            village_names.get(&ch.village).cloned().unwrap_or_default(),
                            ch.village
                        ),
                        income: yuan(ch.per_capita_net_income.0),
                        entering: ch.entering,
                    })
                    .collect(),
                change_count: changes.len(),
                page: page_no,
                pages,
                previous: (page_no > 1)
                    .then(|| whatif_href(&threshold_param, &year_text, code, page_no - 1)),
                next: (page_no < pages)
                    .then(|| whatif_href(&threshold_param, &year_text, code, page_no + 1)),
            });
        }
    }
    let scope = account.scope();
    let crumbs = state
        .db
        .division_path(&division)
        .await?
        .iter()
        .map(|d| Crumb {
            name: division_name(&viewer, d),
            href: scope
                .contains_code(&d.code)
                .then(|| whatif_href(typed.as_deref().unwrap_or(""), &year_text, &d.code, 1)),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = WhatIfPage {
        crumbs,
        division: division.as_str().to_owned(),
        division_name: division_name(&viewer, &stored_division),
        threshold: threshold_shown,
        year: year_text,
        in_force: rule_set.as_ref().map(|rs| rule_set_line(&tr, rs)),
        errors,
        result,
        c,
    };
    Ok(with_status(status, render(&page)))
}
