//! Coverage (issue 5 item 4): `/coverage?division=CODE` counts, for each child division of the
//! division (counties, townships, villages), the monitored households and those the checks of
//! `zhenxing_core::coverage` find something wrong with, per rule, with links to drill down; at
//! village level, or whenever there are at most [`LIST_LIMIT`] households with findings, it
//! lists them: the household, what is wrong and what to do. Reading needs `ReadCases`, within
//! the account's division (outside it answers as a division that does not exist).

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::Params;
use crate::pages::{Chrome, blank, render};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::coverage::CoverageRule;
use zhenxing_core::{Action, DivisionCode, DivisionLevel, Lang};
use zhenxing_store::coverage::{self, Counts};

/// Above this many households with findings, a list is shown only at village level.
pub const LIST_LIMIT: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new().route("/coverage", get(page))
}

#[derive(Deserialize)]
pub struct CoverageParams {
    division: Option<String>,
}

/// One row of the table: a child division or the total.
struct Row {
    code: String,
    name: String,
    monitored: i64,
    with_findings: i64,
    /// The rules with at least one household, with their counts.
    rules: Vec<(String, i64)>,
}

struct Line {
    household_no: String,
    head_name: String,
    division_code: String,
    findings: Vec<(&'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    c: Chrome,
    code: String,
    name: String,
    parent: Option<String>,
    rows: Vec<Row>,
    total: Row,
    lines: Vec<Line>,
    listed: bool,
    hidden: usize,
    today: String,
}

fn row(code: String, name: String, counts: &Counts, lang: Lang) -> Row {
    Row {
        code,
        name,
        monitored: counts.monitored,
        with_findings: counts.with_findings,
        rules: CoverageRule::ALL
            .iter()
            .map(|r| (r.label(lang).to_owned(), counts.of(*r)))
            .filter(|(_, n)| *n > 0)
            .collect(),
    }
}

pub async fn page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<CoverageParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let lang = viewer.lang;
    let scope = account.scope();
    let division = match blank(&params.division) {
        None => *scope.division(),
        Some(code) => DivisionCode::parse(code).map_err(|_| AppError::NotFound)?,
    };
    let today = today_in_china();
    let report = coverage::report(&state.db, &scope, &division, today)
        .await?
        .ok_or(AppError::NotFound)?;
    let path = state.db.division_path(&division).await?;
    let Some(here) = path.last() else {
        return Err(AppError::NotFound);
    };
    let mut c = Chrome::new(&state, &viewer, String::new());
    let name = c.tr.name(&here.name_zh, &here.name_en).to_owned();
    let parent = division
        .parent()
        .filter(|p| scope.contains(p))
        .map(|p| p.as_str().to_owned());
    let listed =
        division.level() == DivisionLevel::Village || report.households.len() <= LIST_LIMIT;
    let hidden = if listed { 0 } else { report.households.len() };
    let lines = if listed {
        report
            .households
            .into_iter()
            .map(|h| Line {
                household_no: h.household_no,
                head_name: h.head_name.unwrap_or_default(),
                division_code: h.division_code,
                findings: h
                    .findings
                    .into_iter()
                    .map(|f| {
                        (
                            f.rule.code(),
                            f.problem.get(lang).to_owned(),
                            f.action.get(lang).to_owned(),
                        )
                    })
                    .collect(),
            })
            .collect()
    } else {
        Vec::new()
    };
    c.title = format!("{} · {}", c.t("coverage-title"), name);
    let page = CoveragePage {
        rows: report
            .children
            .iter()
            .map(|ch| {
                let n = c.tr.name(&ch.name_zh, &ch.name_en).to_owned();
                row(ch.code.clone(), n, &ch.counts, lang)
            })
            .collect(),
        total: row(
            division.as_str().to_owned(),
            c.t("coverage-total"),
            &report.total,
            lang,
        ),
        code: division.as_str().to_owned(),
        name,
        parent,
        lines,
        listed,
        hidden,
        today: today.to_string(),
        c,
    };
    Ok(render(&page))
}
