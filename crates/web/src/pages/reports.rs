//! The standard monthly report tables on screen and as files (issue 6 item 4): `/reports`
//! lists them; `/reports/{name}?division=CODE&month=YYYY-MM` shows one, filled by
//! `zhenxing_store::report_tables::build` (the same table the CLI's `report` command writes);
//! `/reports/{name}.xlsx` and `.csv` with the same query send it as written by
//! `zhenxing_io::reports::write_report`.
//!
//! The tables hold counts and amounts, no personal data, so reading and downloading need
//! `ReadRegistry` only, for a division inside the account's scope (outside it answers as a
//! division that does not exist). Each download is still an audited operation
//! (`report.export`, by `zhenxing_app::export::report`, as the CLI's), like every export.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::Params;
use crate::pages::download::{FileFormat, TempDownload};
use crate::pages::transfer::export_failed;
use crate::pages::{Chrome, blank, count, query_string, render, yuan};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use zhenxing_app::export::{self, Exporter, Via};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::report_table::rows_level;
use zhenxing_core::{Action, DivisionCode};
use zhenxing_io::reports::{ColumnKind, REPORTS, ReportCell, ReportTable, find_report};
use zhenxing_store::report_tables::{build, requested_month};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list))
        .route("/reports/{name}", get(report))
}

#[derive(Deserialize)]
pub struct ReportParams {
    division: Option<String>,
    month: Option<String>,
}

/// What a report is sent as: the page, or a file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Page,
    File(FileFormat),
}

/// `counts`, `counts.xlsx`, `counts.csv` → the report's name and the format.
fn split_name(file: &str) -> (&str, Option<Format>) {
    match file.rsplit_once('.') {
        None => (file, Some(Format::Page)),
        Some((name, ext)) => (name, FileFormat::from_extension(ext).map(Format::File)),
    }
}

struct Entry {
    code: &'static str,
    title: String,
    other_title: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ListPage {
    c: Chrome,
    reports: Vec<Entry>,
    division: String,
    month: String,
}

/// The division asked for (default: the account's own), inside the account's scope.
fn division_of(viewer: &Viewer, asked: Option<&str>) -> AppResult<DivisionCode> {
    let account = viewer.may(Action::ReadRegistry)?;
    let Some(code) = asked else {
        return Ok(account.division);
    };
    let code = DivisionCode::parse(code).map_err(|e| AppError::BadRequest(e.text()))?;
    if !account.scope().contains(&code) {
        return Err(AppError::NotFound);
    }
    Ok(code)
}

pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<ReportParams>,
) -> AppResult<Response> {
    let division = division_of(&viewer, blank(&params.division))?;
    let today = today_in_china();
    let month = requested_month(blank(&params.month), today).map_err(AppError::BadRequest)?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("reports-title");
    let lang = viewer.lang;
    let other = match lang {
        zhenxing_core::Lang::Zh => zhenxing_core::Lang::En,
        zhenxing_core::Lang::En => zhenxing_core::Lang::Zh,
    };
    let page = ListPage {
        reports: REPORTS
            .iter()
            .map(|r| Entry {
                code: r.code,
                title: r.title_for(lang, rows_level(division.level())),
                other_title: r.title_for(other, rows_level(division.level())),
            })
            .collect(),
        division: division.as_str().to_owned(),
        month: month.to_string(),
        c,
    };
    Ok(render(&page))
}

struct Shown {
    text: String,
    numeric: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    c: Chrome,
    code: String,
    title: String,
    subtitle: String,
    /// Each column's header in the reader's language, and whether it holds numbers.
    headers: Vec<(String, bool)>,
    /// What an upward report carries under its table (`ReportFooter`), label and value in the
    /// reader's language; the reviewer's value is empty (signed by hand).
    footer: Vec<(String, String)>,
    rows: Vec<Vec<Shown>>,
    totals: Vec<Shown>,
    query: String,
}

fn shown(kind: ColumnKind, cell: &ReportCell) -> Shown {
    match (kind, cell) {
        (_, ReportCell::Text(s)) => Shown {
            text: s.clone(),
            numeric: false,
        },
        (ColumnKind::Yuan, ReportCell::Number(n)) => Shown {
            text: yuan(*n),
            numeric: true,
        },
        (_, ReportCell::Number(n)) => Shown {
            text: count(*n),
            numeric: true,
        },
    }
}

pub async fn report(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(file): Path<String>,
    Params(params): Params<ReportParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?.clone();
    let (name, format) = split_name(&file);
    let (Some(info), Some(format)) = (find_report(name), format) else {
        return Err(AppError::NotFound);
    };
    let division = division_of(&viewer, blank(&params.division))?;
    let today = today_in_china();
    let month = requested_month(blank(&params.month), today).map_err(AppError::BadRequest)?;
    let table = build(&state.db, info, &division, month, today, &account.name)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Format::File(format) = format {
        return download(
            &state,
            &viewer,
            &account.name,
            table,
            &division,
            month,
            format,
        )
        .await;
    }
    let lang = viewer.lang;
    let mut c = Chrome::new(&state, &viewer, String::new());
    let totals = table
        .columns
        .iter()
        .zip(table.totals())
        .enumerate()
        .map(|(i, (col, total))| match total {
            Some(n) => shown(col.kind, &ReportCell::Number(n)),
            None if i == 0 => Shown {
                text: c.t("reports-total"),
                numeric: false,
            },
            None => Shown {
                text: String::new(),
                numeric: false,
            },
        })
        .collect();
    c.title = table.title(lang);
    let page = ReportPage {
        code: info.code.to_owned(),
        title: table.title(lang),
        subtitle: table.subtitle.clone(),
        headers: table
            .columns
            .iter()
            .map(|col| {
                let label = match lang {
                    zhenxing_core::Lang::Zh => col.zh.clone(),
                    zhenxing_core::Lang::En => col.en.clone(),
                };
                (label, col.kind != ColumnKind::Text)
            })
            .collect(),
        footer: table
            .footer
            .lines(lang)
            .into_iter()
            .map(|(zh, en, value)| {
                let label = match lang {
                    zhenxing_core::Lang::Zh => zh,
                    zhenxing_core::Lang::En => en,
                };
                (label.to_owned(), value)
            })
            .collect(),
        rows: table
            .rows
            .iter()
            .map(|row| {
                table
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(col, cell)| shown(col.kind, cell))
                    .collect()
            })
            .collect(),
        totals,
        query: query_string(&[
            ("division", division.as_str()),
            ("month", &month.to_string()),
        ]),
        c,
    };
    Ok(render(&page))
}

/// Writes the table to a private temporary file with the report writer, audits the
/// download, and sends the file.
async fn download(
    state: &AppState,
    viewer: &Viewer,
    actor: &str,
    table: ReportTable,
    division: &DivisionCode,
    month: zhenxing_store::snapshots::Month,
    format: FileFormat,
) -> AppResult<Response> {
    let file = TempDownload::create(
        format!(
            "{}-{}-{month}.{}",
            table.info.code,
            division.as_str(),
            format.extension()
        ),
        format,
    )?;
    let exporter = Exporter {
        actor,
        via: Via::Web {
            client: &viewer.client,
        },
    };
    export::report(
        &state.db,
        exporter,
        table,
        division,
        month,
        file.path(),
        file.file_name(),
    )
    .await
    .map_err(export_failed)?;
    file.send().await
}
