//! Import and export from the browser.
//!
//! `GET /import` offers an upload form (`Action::WriteRegistry`): a registry file (CSV or
//! XLSX), a required reason and a "check only" option. `POST /import` saves the upload to a
//! temporary file and starts the import as a background job, then sends the browser to
//! `GET /import/{id}`, which refreshes itself every two seconds (no script: the CSP forbids
//! inline script) and shows the rows read so far, then the report. The import is the CLI's
//! buffered path (`zhenxing_app::import::buffered`): all or nothing, every problem
//! listed with its row, column, masked value and reason in the page's language. Households
//! outside the account's division are refused as problems, as are household numbers already
//! registered outside it.
//!
//! `GET /export?division=CODE` (`Action::ExportRegistry`) sends the registry of a division in
//! the account's scope as CSV (UTF-8 with a BOM, the import format), as an attachment. Every
//! export is an audited operation (`registry.export`).

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::jobs::{Job, Jobs, Kind, OneAtATime, Retention};
use crate::pages::Params;
use crate::pages::download::{FileFormat, TempDownload};
use crate::pages::{Chrome, render, with_status};
use crate::upload::{
    UPLOAD_BODY_LIMIT, UploadError, file_name, limit_mib, max_file, multipart_rejected, save_file,
    skip, small_text,
};
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use fluent_bundle::FluentValue;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;
use zhenxing_app::export::{self, ExportError, Exported, Exporter, Via};
use zhenxing_app::import::{self, ImportProgress};
use zhenxing_core::china_time::china_time_text;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{Action, DivisionCode, Text, text};
use zhenxing_io::registry::Problem;
use zhenxing_store::StoreError;
use zhenxing_store::accounts::Account;
use zhenxing_store::registry::{MonitoringPermission, WriteRequest, WriteSummary};

/// Problems and warnings kept for the report page; the counts are always complete.
const MAX_PROBLEMS_SHOWN: usize = 2_000;
const MAX_WARNINGS_SHOWN: usize = 500;
/// Finished jobs are forgotten after this long, or when there are too many.
const KEEP_FINISHED: Duration = Duration::from_secs(24 * 3600);
const MAX_FINISHED: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/import",
            get(form)
                .post(upload)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/import/{id}", get(status))
        .route("/export", get(export))
}

// ---------------------------------------------------------------------------------------------
// Jobs

/// The imports of this server (`AppState::imports`): one running per account; finished ones
/// kept for their status pages for a day, at most [`MAX_FINISHED`] of them.
pub type Imports = Jobs<Import>;

const READING: u8 = 0;
const CHECKING: u8 = 1;
const WRITING: u8 = 2;

/// An import: the file and the option, and its progress.
pub struct Import {
    file_name: String,
    dry_run: bool,
    phase: AtomicU8,
    rows: AtomicU64,
    written: AtomicU64,
    total: AtomicU64,
}

impl Kind for Import {
    type Outcome = Outcome;
    const ONE_AT_A_TIME: OneAtATime = OneAtATime::PerAccount;
    const RETENTION: Retention = Retention {
        keep_for: Some(KEEP_FINISHED),
        // With the one starting, MAX_FINISHED.
        keep_finished: MAX_FINISHED - 1,
    };
}

/// How an import ended.
pub struct Outcome {
    rows: u64,
    problems: Vec<Problem>,
    problem_count: usize,
    warnings: Vec<Problem>,
    warning_count: usize,
    /// Written (or, in a dry run, what would have been).
    summary: Option<WriteSummary>,
    /// Stopped by an internal error: nothing was written.
    failed: bool,
}

/// What the status page shows while the import runs.
impl ImportProgress for Job<Import> {
    fn reading(&self, rows: u64) {
        self.work.rows.store(rows, Ordering::Relaxed);
    }

    fn checking(&self, rows: u64, households: u64) {
        let work = &self.work;
        work.rows.store(rows, Ordering::Relaxed);
        work.total.store(households, Ordering::Relaxed);
        work.phase.store(CHECKING, Ordering::Release);
    }

    fn writing(&self, done: u64, _total: u64) {
        self.work.written.store(done, Ordering::Relaxed);
        self.work.phase.store(WRITING, Ordering::Release);
    }
}

// ---------------------------------------------------------------------------------------------
// The form

pub struct JobLink {
    pub href: String,
    pub file_name: String,
    pub started_at: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct FormPage {
    c: Chrome,
    reason: String,
    dry_run: bool,
    errors: Vec<String>,
    limit_mib: usize,
    export_division: String,
    recent: Vec<JobLink>,
}

fn form_page(
    state: &AppState,
    viewer: &Viewer,
    reason: &str,
    dry_run: bool,
    errors: Vec<String>,
) -> AppResult<FormPage> {
    let account = viewer.may(Action::WriteRegistry)?;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("import-title");
    let recent = state
        .imports
        .owned_by(account.id)
        .iter()
        .take(10)
        .map(|j| JobLink {
            href: format!("/import/{}", j.id),
            file_name: j.work.file_name.clone(),
            started_at: china_time_text(&j.started_at),
            state: c.t(if !j.is_done() {
                "import-state-running"
            } else if j.outcome().is_some_and(|o| o.summary.is_some()) {
                "import-state-accepted"
            } else {
                "import-state-refused"
            }),
        })
        .collect();
    Ok(FormPage {
        reason: reason.to_owned(),
        dry_run,
        errors,
        limit_mib: limit_mib(state),
        export_division: account.division.as_str().to_owned(),
        recent,
        c,
    })
}

pub async fn form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    let page = form_page(&state, &viewer, "", false, Vec::new())?;
    Ok(render(&page))
}

/// The upload refused as too large: the form again, with the limit, as 413.
fn too_large(state: &AppState, viewer: &Viewer) -> AppResult<Response> {
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let message = tr.t_args(
        "import-too-large",
        &[("limit", FluentValue::from(limit_mib(state) as f64))],
    );
    let page = form_page(state, viewer, "", false, vec![message])?;
    Ok(with_status(StatusCode::PAYLOAD_TOO_LARGE, render(&page)))
}

/// What the upload form sent.
struct Upload {
    csrf: String,
    reason: String,
    dry_run: bool,
    file_name: String,
    file: Option<(tempfile::NamedTempFile, u64)>,
}

async fn read_upload(mut multipart: Multipart, max_file: usize) -> Result<Upload, UploadError> {
    let mut upload = Upload {
        csrf: String::new(),
        reason: String::new(),
        dry_run: false,
        file_name: String::new(),
        file: None,
    };
    while let Some(mut field) = multipart.next_field().await? {
        match field.name().unwrap_or("") {
            "csrf" => upload.csrf = small_text(&mut field, 256).await?,
            "reason" => upload.reason = small_text(&mut field, 4096).await?,
            "dry_run" => upload.dry_run = !small_text(&mut field, 16).await?.is_empty(),
            "file" => {
                upload.file_name = file_name(field.file_name().unwrap_or(""));
                upload.file = Some(save_file(&mut field, max_file, "zhenxing-upload-").await?);
            }
            _ => skip(&mut field).await?,
        }
    }
    Ok(upload)
}

/// The reason an import gives, as the audit trail keeps it.
fn parse_reason(reason: &str) -> Result<String, Text> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(text!(
            "请填写导入原因（记入审计记录）",
            "give a reason for the import (the audit trail records it)"
        ));
    }
    if r.chars().count() > 500 {
        return Err(text!(
            "导入原因最多500字",
            "the reason is at most 500 characters"
        ));
    }
    Ok(r.to_owned())
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: axum::http::HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?.clone();
    let max_file = max_file(&state);
    // A declared length far beyond the limit is refused before anything is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_file.saturating_add(64 * 1024)) {
        return too_large(&state, &viewer);
    }
    let multipart = multipart.map_err(multipart_rejected)?;
    let upload = match read_upload(multipart, max_file).await {
        Ok(u) => u,
        Err(UploadError::TooLarge) => return too_large(&state, &viewer),
        Err(e) => return Err(e.into_app_error()),
    };
    viewer.check_csrf(&upload.csrf)?;
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let mut errors = Vec::new();
    let reason = parse_reason(&upload.reason)
        .map_err(|t| errors.push(tr.text(&t)))
        .ok();
    let file = match upload.file {
        Some((temp, size)) if size > 0 => Some(temp),
        _ => {
            errors.push(tr.t("import-no-file"));
            None
        }
    };
    let (Some(reason), Some(file)) = (reason, file) else {
        let page = form_page(&state, &viewer, &upload.reason, upload.dry_run, errors)?;
        return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)));
    };
    let work = Import {
        file_name: if upload.file_name.is_empty() {
            "upload".to_owned()
        } else {
            upload.file_name.clone()
        },
        dry_run: upload.dry_run,
        phase: AtomicU8::new(READING),
        rows: AtomicU64::new(0),
        written: AtomicU64::new(0),
        total: AtomicU64::new(0),
    };
    let Ok(job) = state.imports.start(&account, work) else {
        return Err(AppError::Conflict(text!(
            "您的上一个导入仍在进行中；请等它结束后再导入（见“导入导出”页）",
            "your previous import is still running; wait for it to finish before starting another (see the import page)"
        )));
    };
    tracing::info!(
        account = account.id,
        dry_run = job.work.dry_run,
        "import started"
    );
    tokio::spawn(run_import(
        state.clone(),
        job.clone(),
        file,
        account,
        reason,
    ));
    Ok(Redirect::to(&format!("/import/{}", job.id)).into_response())
}

// ---------------------------------------------------------------------------------------------
// The import itself

async fn run_import(
    state: AppState,
    job: Arc<Job<Import>>,
    file: tempfile::NamedTempFile,
    account: Account,
    reason: String,
) {
    let outcome = match import(&state, &job, &file, &account, reason).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(error = %e, "import failed");
            Outcome {
                rows: job.work.rows.load(Ordering::Relaxed),
                problems: Vec::new(),
                problem_count: 0,
                warnings: Vec::new(),
                warning_count: 0,
                summary: None,
                failed: true,
            }
        }
    };
    tracing::info!(
        rows = outcome.rows,
        problems = outcome.problem_count,
        elapsed_ms = job.started.elapsed().as_millis() as u64,
        "import finished"
    );
    job.finish(outcome);
    drop(file);
}

async fn import(
    state: &AppState,
    job: &Arc<Job<Import>>,
    file: &tempfile::NamedTempFile,
    account: &Account,
    reason: String,
) -> Result<Outcome, StoreError> {
    let request = WriteRequest {
        actor: account.name.clone(),
        source: format!("web import {}", job.work.file_name),
        reason: Some(reason),
        dry_run: job.work.dry_run,
        known_new: false,
        defer_counts: false,
        // Nothing on the web sets monitoring categories: only the procedures do, and
        // households monitored before zhenxing come through the CLI's legacy import.
        monitoring: MonitoringPermission::ProceduresOnly,
    };
    let outcome =
        import::buffered(&state.db, file.path(), &request, Some(account), job.clone()).await?;
    let problem_count = outcome.problems.len();
    let mut problems = outcome.problems;
    problems.truncate(MAX_PROBLEMS_SHOWN);
    let warning_count = outcome.warnings.len();
    let mut warnings = outcome.warnings;
    warnings.truncate(MAX_WARNINGS_SHOWN);
    Ok(Outcome {
        rows: outcome.rows,
        problems,
        problem_count,
        warnings,
        warning_count,
        summary: outcome.summary,
        failed: false,
    })
}

// ---------------------------------------------------------------------------------------------
// The status page

pub struct ProblemRow {
    pub row: String,
    pub column: String,
    pub value: String,
    pub reason: String,
}

fn problem_rows(tr: &Tr, problems: &[Problem]) -> Vec<ProblemRow> {
    problems
        .iter()
        .map(|p| ProblemRow {
            row: if p.row == 0 {
                tr.t("import-whole-file")
            } else {
                p.row.to_string()
            },
            column: p.column.clone(),
            value: p.value.clone(),
            reason: tr.text(&p.reason),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "import_status.html")]
struct StatusPage {
    c: Chrome,
    file_name: String,
    started_at: String,
    dry_run: bool,
    running: bool,
    progress: String,
    /// The outcome in one sentence, once done.
    verdict: String,
    accepted: bool,
    problems: Vec<ProblemRow>,
    problems_hidden: usize,
    warnings: Vec<ProblemRow>,
    warnings_hidden: usize,
}

fn n(v: u64) -> FluentValue<'static> {
    FluentValue::from(v as f64)
}

pub async fn status(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?;
    // Someone else's job answers like a job that does not exist.
    let job = state
        .imports
        .owned(&id, account.id)
        .ok_or(AppError::NotFound)?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("import-status-title");
    let tr = c.tr.clone();
    let work = &job.work;
    let rows = work.rows.load(Ordering::Relaxed);
    let progress = match work.phase.load(Ordering::Acquire) {
        _ if job.is_done() => String::new(),
        READING => tr.t_args("import-progress-reading", &[("rows", n(rows))]),
        CHECKING => tr.t_args("import-progress-checking", &[("rows", n(rows))]),
        WRITING => tr.t_args(
            "import-progress-writing",
            &[
                ("done", n(work.written.load(Ordering::Relaxed))),
                ("total", n(work.total.load(Ordering::Relaxed))),
            ],
        ),
        _ => String::new(),
    };
    let mut page = StatusPage {
        file_name: work.file_name.clone(),
        started_at: china_time_text(&job.started_at),
        dry_run: work.dry_run,
        running: !job.is_done(),
        progress,
        verdict: String::new(),
        accepted: false,
        problems: Vec::new(),
        problems_hidden: 0,
        warnings: Vec::new(),
        warnings_hidden: 0,
        c,
    };
    if let Some(outcome) = job.outcome() {
        page.accepted = outcome.summary.is_some();
        page.verdict = match &outcome.summary {
            _ if outcome.failed => tr.t("import-failed"),
            Some(s) => tr.t_args(
                if work.dry_run {
                    "import-dry-run-ok"
                } else {
                    "import-done"
                },
                &[
                    ("rows", n(outcome.rows)),
                    ("created", n(s.created)),
                    ("updated", n(s.updated)),
                    ("unchanged", n(s.unchanged)),
                    ("members", n(s.members_written)),
                ],
            ),
            None => tr.t_args(
                "import-refused",
                &[
                    ("problems", n(outcome.problem_count as u64)),
                    ("rows", n(outcome.rows)),
                ],
            ),
        };
        page.problems = problem_rows(&tr, &outcome.problems);
        page.problems_hidden = outcome.problem_count - outcome.problems.len();
        page.warnings = problem_rows(&tr, &outcome.warnings);
        page.warnings_hidden = outcome.warning_count - outcome.warnings.len();
    }
    let mut response = render(&page);
    if page.running {
        response
            .headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("2"));
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Export

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub division: Option<String>,
}

/// An export that failed: the store's error, or an internal one (logged).
pub fn export_failed(e: ExportError) -> AppError {
    match e {
        ExportError::Store(e) => e.into(),
        e => {
            tracing::error!(error = %e, "export file failed");
            AppError::Internal
        }
    }
}

pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<ExportQuery>, AppError>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ExportRegistry)?.clone();
    let Params(query) = params?;
    let division = match query
        .division
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(code) => {
            let code = DivisionCode::parse(code).map_err(|_| AppError::NotFound)?;
            if !account.scope().contains(&code) {
                return Err(AppError::NotFound);
            }
            code
        }
        None => account.division,
    };
    if state.db.division(&division).await?.is_none() {
        return Err(AppError::NotFound);
    }
    // The export is written (and audited) to a private temporary file first (as the CLI
    // writes it: UTF-8 with a BOM, CRLF, the import format), then streamed from it; memory
    // stays bounded whatever the size of the division.
    let file = TempDownload::create(
        format!("registry-{}-{}.csv", division.as_str(), today_in_china()),
        FileFormat::Csv,
    )?;
    let exporter = Exporter {
        actor: &account.name,
        via: Via::Web {
            client: &viewer.client,
        },
    };
    let Exported { households, rows } = export::registry(
        &state.db,
        exporter,
        Some(&division),
        file.path(),
        file.file_name(),
        &|_, _| {},
    )
    .await
    .map_err(export_failed)?;
    let response = file.send().await?;
    tracing::info!(account = account.id, households, rows, "registry exported");
    Ok(response)
}
