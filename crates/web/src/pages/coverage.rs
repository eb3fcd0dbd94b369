//! Coverage (issue 5 item 4): `/coverage?division=CODE` counts, for each child division of the
//! division (counties, townships, villages), the monitored households and those the checks of
//! `zhenxing_core::coverage` find something wrong with, per rule, with links to drill down; at
//! village level, or whenever there are at most [`LIST_LIMIT`] households with findings, it
//! lists them: the household, what is wrong and what to do. Reading needs `ReadCases`, within
//! the account's division (outside it answers as a division that does not exist).

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat, ListHead};
use crate::pages::place_names::Places;
use crate::pages::{Chrome, Params, blank, query_string, render};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::coverage::CoverageRule;
use zhenxing_core::{Action, DivisionCode, DivisionLevel, Lang};
use zhenxing_io::ColumnSpec;
use zhenxing_store::coverage::{self, Counts};

/// Above this many households with findings, a list is shown only at village level.
pub const LIST_LIMIT: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/coverage", get(page))
        .route("/coverage.xlsx", get(export))
        .route("/coverage.csv", get(export))
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
    /// Monitored households (risk not eliminated) visited this month (issue 19).
    visited: i64,
    /// The rules with at least one household, with their counts.
    rules: Vec<(String, i64)>,
}

struct Line {
    household_no: String,
    head_name: String,
    /// The village and its township, in words.
    place: String,
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
    /// The households with findings over the division, and the export links.
    head: ListHead,
    today: String,
}

fn row(code: String, name: String, counts: &Counts, visited: i64, lang: Lang) -> Row {
    Row {
        code,
        name,
        monitored: counts.monitored,
        with_findings: counts.with_findings,
        visited,
        rules: CoverageRule::ALL
            .iter()
            .map(|r| (r.label(lang).to_owned(), counts.of(*r)))
            .filter(|(_, n)| *n > 0)
            .collect(),
    }
}

/// The division asked for (the account's own when none), and its report.
async fn report_of(
    state: &AppState,
    viewer: &Viewer,
    params: &CoverageParams,
) -> AppResult<(DivisionCode, coverage::CoverageReport)> {
    let account = viewer.may(Action::ReadCases)?;
    let scope = account.scope();
    let division = match blank(&params.division) {
        None => *scope.division(),
        Some(code) => DivisionCode::parse(code).map_err(|_| AppError::NotFound)?,
    };
    let report = coverage::report(&state.db, &scope, &division, today_in_china())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((division, report))
}

/// The lines of the households with findings, as the page and the export show them.
async fn lines_of(
    state: &AppState,
    lang: Lang,
    households: Vec<coverage::HouseholdFindings>,
) -> AppResult<Vec<Line>> {
    let places = Places::of(
        state,
        lang,
        households.iter().map(|h| h.division_code.as_str()),
    )
    .await?;
    Ok(households
        .into_iter()
        .map(|h| Line {
            household_no: h.household_no,
            head_name: h.head_name.unwrap_or_default(),
            place: places.label(&h.division_code),
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
        .collect())
}

pub async fn page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<CoverageParams>,
) -> AppResult<Response> {
    let (division, report) = report_of(&state, &viewer, &params).await?;
    let account = viewer.account()?;
    let scope = account.scope();
    let lang = viewer.lang;
    let today = today_in_china();
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
    let head = ListHead::new(
        &c,
        "list-total-households",
        report.households.len() as i64,
        "/coverage",
        viewer
            .may(Action::ExportRegistry)
            .is_ok()
            .then(|| query_string(&[("division", division.as_str())])),
    );
    let lines = if listed {
        lines_of(&state, lang, report.households).await?
    } else {
        Vec::new()
    };
    c.title = format!("{} · {}", c.t("coverage-title"), name);
    // This month's visits of each row's monitored households.
    let month = today.replace_day(1).unwrap_or(today);
    let visited = async |code: &str| -> AppResult<i64> {
        let Ok(d) = zhenxing_core::DivisionCode::parse(code) else {
            return Ok(0);
        };
        let scope = zhenxing_core::Scope::new(d);
        Ok(
            zhenxing_store::visits::visited_count(&state.db, &scope, month)
                .await?
                .1,
        )
    };
    let mut rows = Vec::new();
    for ch in &report.children {
        let n = c.tr.name(&ch.name_zh, &ch.name_en).to_owned();
        rows.push(row(
            ch.code.clone(),
            n,
            &ch.counts,
            visited(&ch.code).await?,
            lang,
        ));
    }
    let total_visited = visited(division.as_str()).await?;
    let page = CoveragePage {
        rows,
        total: row(
            division.as_str().to_owned(),
            c.t("coverage-total"),
            &report.total,
            total_visited,
            lang,
        ),
        code: division.as_str().to_owned(),
        name,
        parent,
        lines,
        listed,
        hidden,
        head,
        today: today.to_string(),
        c,
    };
    Ok(render(&page))
}

/// Every finding in the division, one row each (a household with two findings has two rows),
/// with what to do; audited as `coverage.export`. Needs `ReadCases` and `ExportRegistry`.
pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<CoverageParams>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    viewer.may(Action::ExportRegistry)?;
    let (division, report) = report_of(&state, &viewer, &params).await?;
    let c = Chrome::new(&state, &viewer, String::new());
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        text("col-household-no"),
        text("col-head"),
        text("col-village"),
        text("coverage-col-rule"),
        text("coverage-col-problem"),
        text("coverage-col-todo"),
    ];
    let mut file = ListFile::create("coverage", format, &columns)?;
    let lines = lines_of(&state, viewer.lang, report.households).await?;
    let rows = lines
        .into_iter()
        .flat_map(|l| {
            let rule_label = |code: &str| {
                CoverageRule::ALL
                    .iter()
                    .find(|r| r.code() == code)
                    .map(|r| r.label(viewer.lang).to_owned())
                    .unwrap_or_else(|| code.to_owned())
            };
            l.findings
                .into_iter()
                .map(|(rule, problem, todo)| {
                    vec![
                        l.household_no.clone(),
                        l.head_name.clone(),
                        l.place.clone(),
                        rule_label(rule),
                        problem,
                        todo,
                    ]
                })
                .collect::<Vec<_>>()
        })
        .collect();
    file.write(rows).await?;
    let record = ExportRecord {
        action: "coverage.export",
        division,
        filters: serde_json::json!({ "division": division.as_str() }),
    };
    file.send(&state, &viewer, record).await
}
