//! Other departments' files from the browser (`Action::UploadDepartmentData`: department
//! officers and the municipal administrator).
//!
//! `GET /department` offers the upload form (the kind of data and the file) and lists the
//! account's own uploads (the administrator sees everyone's). `POST /department` reads the
//! file at once (a 40,000-row file takes seconds): a malformed file is refused with every
//! problem at its row, column and field and nothing is written (422, the form again with the
//! report); an accepted one is written in one transaction and the browser is sent to
//! `GET /department/uploads/{id}`: the counts, the unmatched rows with their reasons (ID
//! numbers masked) and the rows that raised warnings. A department officer sees only their
//! own uploads; anyone else's answers like an upload that does not exist. Nor does the officer
//! learn anything of the registry beyond what follows from their own file ([`Disclosure`]):
//! which of their rows went for review, not the rules, categories or warnings behind them.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::pages::{Chrome, count, render, with_status};
use crate::upload::{
    UPLOAD_BODY_LIMIT, UploadError, clean_file_name, limit_mib, max_file, multipart_rejected,
    save_file, skip, small_text, uploader,
};
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use fluent_bundle::FluentValue;
use zhenxing_app::department::{self, UploadOutcome, owner_filter};
use zhenxing_core::Action;
use zhenxing_core::china_time::china_time_text;
use zhenxing_core::department::DepartmentKind;
use zhenxing_io::department::{ParsedDepartment, RowProblem};
use zhenxing_store::department::{Disclosure, UploadSummary};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/department",
            get(form)
                .post(upload)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/department/uploads/{id}", get(result))
}

/// Problems shown on the page; the count is always complete.
const MAX_PROBLEMS_SHOWN: usize = 2_000;
/// Unmatched rows shown on the page.
const MAX_UNMATCHED_SHOWN: usize = 5_000;

// ---------------------------------------------------------------------------------------------
// The form and the list

pub struct KindOption {
    pub code: &'static str,
    pub label: String,
    pub selected: bool,
}

pub struct UploadLine {
    pub href: String,
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub uploaded_by: String,
    pub created_at: String,
    pub rows: String,
    pub matched: String,
    pub unmatched: String,
    pub warnings: String,
}

pub struct ProblemLine {
    pub row: String,
    pub column: String,
    pub field: String,
    pub value: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "department.html")]
struct FormPage {
    c: Chrome,
    kinds: Vec<KindOption>,
    errors: Vec<String>,
    limit_mib: usize,
    /// A refused file: its name, the verdict and the problems.
    refused_file: String,
    verdict: String,
    problems: Vec<ProblemLine>,
    problems_hidden: usize,
    uploads: Vec<UploadLine>,
    all_uploads: bool,
    /// The viewer reads the registry: the warnings raised are shown.
    warnings_shown: bool,
}

fn kind_label(tr: &Tr, code: &str) -> String {
    DepartmentKind::from_code(code)
        .map(|k| format!("{} ({})", tr.text(&k.department()), k.label(tr.lang)))
        .unwrap_or_else(|| code.to_owned())
}

/// One line of the list; the warnings count only for those told it ([`Disclosure`]).
fn upload_line(tr: &Tr, u: &UploadSummary, disclosure: Disclosure) -> UploadLine {
    UploadLine {
        href: format!("/department/uploads/{}", u.id),
        id: u.id,
        kind: kind_label(tr, &u.kind),
        file_name: u.file_name.clone(),
        uploaded_by: u.uploaded_by.clone(),
        created_at: china_time_text(&u.created_at),
        rows: count(u.rows),
        matched: count(u.matched),
        unmatched: count(u.unmatched),
        warnings: match disclosure {
            Disclosure::Full => count(u.warnings_opened + u.warnings_merged),
            Disclosure::OwnFileOnly => String::new(),
        },
    }
}

fn problem_lines(tr: &Tr, problems: &[RowProblem]) -> Vec<ProblemLine> {
    problems
        .iter()
        .take(MAX_PROBLEMS_SHOWN)
        .map(|p| ProblemLine {
            row: if p.row == 0 {
                tr.t("import-whole-file")
            } else {
                p.row.to_string()
            },
            column: p.column.clone(),
            field: p.field.clone(),
            value: p.value.clone(),
            reason: tr.text(&p.reason),
        })
        .collect()
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    selected: Option<DepartmentKind>,
    errors: Vec<String>,
    refused: Option<&ParsedDepartment>,
) -> AppResult<FormPage> {
    let account = viewer.may(Action::UploadDepartmentData)?;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("department-title");
    let tr = c.tr.clone();
    let kinds = DepartmentKind::ALL
        .iter()
        .map(|k| KindOption {
            code: k.code(),
            label: kind_label(&tr, k.code()),
            selected: selected == Some(*k),
        })
        .collect();
    let disclosure = Disclosure::for_role(account.role);
    let uploads = zhenxing_store::department::uploads(&state.db, owner_filter(account), 50)
        .await?
        .iter()
        .map(|u| upload_line(&tr, u, disclosure))
        .collect();
    let (refused_file, verdict, problems, problems_hidden) = match refused {
        Some(p) => (
            p.file.clone(),
            tr.t_args(
                "department-refused",
                &[
                    ("problems", FluentValue::from(p.problems.len() as f64)),
                    ("rows", FluentValue::from(p.rows as f64)),
                ],
            ),
            problem_lines(&tr, &p.problems),
            p.problems.len().saturating_sub(MAX_PROBLEMS_SHOWN),
        ),
        None => (String::new(), String::new(), Vec::new(), 0),
    };
    Ok(FormPage {
        kinds,
        errors,
        limit_mib: limit_mib(state),
        refused_file,
        verdict,
        problems,
        problems_hidden,
        uploads,
        all_uploads: owner_filter(account).is_none(),
        warnings_shown: disclosure == Disclosure::Full,
        c,
    })
}

pub async fn form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    let page = form_page(&state, &viewer, None, Vec::new(), None).await?;
    Ok(render(&page))
}

/// The form's fields: CSRF token, kind, and the file saved to a temporary file.
struct Form {
    csrf: String,
    kind: String,
    file_name: String,
    file: Option<(tempfile::NamedTempFile, u64)>,
}

async fn read_form(mut multipart: Multipart, max_file: usize) -> Result<Form, UploadError> {
    let mut form = Form {
        csrf: String::new(),
        kind: String::new(),
        file_name: String::new(),
        file: None,
    };
    while let Some(mut field) = multipart.next_field().await? {
        match field.name().unwrap_or("") {
            "csrf" => form.csrf = small_text(&mut field, 256).await?,
            "kind" => form.kind = small_text(&mut field, 256).await?,
            "file" => {
                form.file_name = clean_file_name(field.file_name().unwrap_or(""));
                form.file = Some(save_file(&mut field, max_file, "zhenxing-department-").await?);
            }
            _ => skip(&mut field).await?,
        }
    }
    Ok(form)
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let account = viewer.may(Action::UploadDepartmentData)?.clone();
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let max_file = max_file(&state);
    let multipart = multipart.map_err(multipart_rejected)?;
    let form = match read_form(multipart, max_file).await {
        Ok(f) => f,
        Err(UploadError::TooLarge) => {
            let message = tr.t_args(
                "department-too-large",
                &[("limit", FluentValue::from(limit_mib(&state) as f64))],
            );
            let page = form_page(&state, &viewer, None, vec![message], None).await?;
            return Ok(with_status(StatusCode::PAYLOAD_TOO_LARGE, render(&page)));
        }
        Err(e) => return Err(e.into_app_error()),
    };
    viewer.check_csrf(&form.csrf)?;
    let kind = DepartmentKind::from_code(form.kind.trim());
    let mut errors = Vec::new();
    if kind.is_none() {
        errors.push(tr.t("department-no-kind"));
    }
    let file = match form.file {
        Some((temp, size)) if size > 0 => Some(temp),
        _ => {
            errors.push(tr.t("department-no-file"));
            None
        }
    };
    let (Some(kind), Some(file)) = (kind, file) else {
        let page = form_page(&state, &viewer, kind, errors, None).await?;
        return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)));
    };
    let upload = department::upload(
        &state.db,
        &uploader(&account)?,
        kind,
        file.path(),
        Some(&form.file_name),
    )
    .await?;
    drop(file);
    match upload.outcome {
        UploadOutcome::Refused(parsed) => {
            tracing::info!(
                account = account.id,
                rows = parsed.rows,
                problems = parsed.problems.len(),
                "department upload refused"
            );
            let page = form_page(&state, &viewer, Some(kind), Vec::new(), Some(&parsed)).await?;
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
        UploadOutcome::Accepted { report, .. } => {
            tracing::info!(
                account = account.id,
                upload = report.summary.id,
                rows = report.summary.rows,
                matched = report.summary.matched,
                elapsed_ms = (upload.read_time + upload.write_time).as_millis() as u64,
                "department upload imported"
            );
            Ok(Redirect::to(&format!("/department/uploads/{}", report.summary.id)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The result of one upload

pub struct UnmatchedLine {
    pub row: u64,
    pub id_number: String,
    pub reason: String,
}

pub struct RaisedLine {
    pub rows: String,
    pub rules: String,
    pub category: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "department_upload.html")]
struct ResultPage {
    c: Chrome,
    u: UploadLine,
    verdict: String,
    same_file: String,
    rule_set: String,
    repeated: String,
    unmatched: Vec<UnmatchedLine>,
    unmatched_hidden: i64,
    raised: Vec<RaisedLine>,
    /// The viewer reads the registry: rules, categories and outcomes are shown.
    warnings_shown: bool,
    /// Rows sent for review, for a viewer who does not.
    review: String,
}

pub async fn result(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let account = viewer.may(Action::UploadDepartmentData)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let disclosure = Disclosure::for_role(account.role);
    let report = zhenxing_store::department::upload(&state.db, id, owner_filter(account))
        .await?
        .ok_or(AppError::NotFound)?
        .disclosed(disclosure);
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("department-result-title");
    let tr = c.tr.clone();
    let s = &report.summary;
    let n = |v: i64| FluentValue::from(v as f64);
    let review = report
        .raised
        .iter()
        .map(|r| r.rows.len() as i64)
        .sum::<i64>();
    let verdict = match disclosure {
        Disclosure::Full => tr.t_args(
            "department-done",
            &[
                ("rows", n(s.rows)),
                ("matched", n(s.matched)),
                ("unmatched", n(s.unmatched)),
                ("opened", n(s.warnings_opened)),
                ("merged", n(s.warnings_merged)),
            ],
        ),
        Disclosure::OwnFileOnly => tr.t_args(
            "department-done-own-file",
            &[
                ("rows", n(s.rows)),
                ("matched", n(s.matched)),
                ("unmatched", n(s.unmatched)),
                ("review", n(review)),
            ],
        ),
    };
    let same_file = match report.same_file_as {
        Some(first) if first != s.id => tr.t_args("department-same-file", &[("first", n(first))]),
        _ => String::new(),
    };
    let unmatched = report
        .unmatched_rows
        .iter()
        .take(MAX_UNMATCHED_SHOWN)
        .map(|u| UnmatchedLine {
            row: u.row,
            id_number: u.id_number.clone(),
            reason: tr.text(&u.reason.text(&s.division_code)),
        })
        .collect::<Vec<_>>();
    let raised = report
        .raised
        .iter()
        .map(|r| RaisedLine {
            rows: r
                .rows
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            rules: r
                .rules
                .iter()
                .map(|code| {
                    zhenxing_core::monitoring::RuleId::from_code(code)
                        .map(|rule| rule.label(tr.lang).to_owned())
                        .unwrap_or_else(|| code.clone())
                })
                .collect::<Vec<_>>()
                .join("; "),
            category: r
                .category
                .as_deref()
                .and_then(zhenxing_core::MonitoringCategory::from_code)
                .map(|c| c.label(tr.lang).to_owned())
                .unwrap_or_default(),
            outcome: tr.t(&format!("department-outcome-{}", r.outcome)),
        })
        .collect();
    let page = ResultPage {
        u: upload_line(&tr, s, disclosure),
        warnings_shown: disclosure == Disclosure::Full,
        review: count(review),
        verdict,
        same_file,
        rule_set: report.rule_set.clone(),
        repeated: count(s.repeated),
        unmatched_hidden: s.unmatched - unmatched.len() as i64,
        unmatched,
        raised,
        c,
    };
    Ok(render(&page))
}
