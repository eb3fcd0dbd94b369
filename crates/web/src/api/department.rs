//! Department data by API token: `POST /api/v1/department-uploads?kind=…` with the file's
//! bytes as the body, and `GET /api/v1/department-uploads` for the account's own uploads (the
//! administrator's: everyone's). The work is the upload page's and the CLI's
//! (`zhenxing_app::department::upload`): all or nothing, unmatched rows reported back, warnings
//! raised.

use crate::AppState;
use crate::api::dto::ApiError;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::extract::Params;
use crate::upload::{UPLOAD_BODY_LIMIT, clean_file_name, uploader};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhenxing_app::department::{self, UploadOutcome, owner_filter};
use zhenxing_core::Action;
use zhenxing_core::department::DepartmentKind;
use zhenxing_io::department::RowProblem;
use zhenxing_store::department::{Disclosure, UploadReport, UploadSummary};

/// The largest body the upload endpoint reads.
pub const BODY_LIMIT: usize = UPLOAD_BODY_LIMIT;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The kind of data: `medical`, `education`, `housing`, `disaster`, `civil_affairs` or
    /// `unemployment` (see docs/department-formats.md).
    #[param(example = "medical")]
    pub kind: String,
    /// The file's name, as reports name it (default `api-upload`).
    #[param(example = "claims-2026-03.csv")]
    pub file_name: Option<String>,
}

/// A problem that refused the file: where, and what is wrong and what to do.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadProblem {
    /// The row as a spreadsheet numbers it (the header is row 1); 0 for the whole file.
    pub row: u64,
    /// The column header as written in the file.
    pub column: String,
    /// The format's field name, e.g. `out_of_pocket`.
    pub field: String,
    /// The value (ID numbers masked).
    pub value: String,
    pub message: String,
    pub message_zh: String,
    pub message_en: String,
}

/// A row whose ID number matched no registry member in the account's division.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnmatchedRowDto {
    pub row: u64,
    /// Masked: `500229********0139`.
    #[schema(example = "500229********0139")]
    pub id_number: String,
    #[schema(example = "not_registered")]
    pub reason_code: String,
    pub reason: String,
}

/// Rows of one household that raised or added to a warning. A department officer, who may not
/// read the registry, gets one entry per row, without rules or category, outcome `review`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RaisedRowsDto {
    pub rows: Vec<u64>,
    /// The rules that fired, e.g. `medical_out_of_pocket` (empty for a department officer).
    pub rules: Vec<String>,
    pub category: Option<String>,
    /// `opened`, `merged` or `unchanged`; `review` for a department officer.
    pub outcome: String,
}

/// An upload's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadSummaryDto {
    pub id: i64,
    #[schema(example = "medical")]
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: String,
    pub rows: i64,
    /// Rows matched to a registry member, including those imported before.
    pub matched: i64,
    /// Matched rows already imported by an earlier upload (they raise nothing again).
    pub repeated: i64,
    pub unmatched: i64,
    /// Null for a department officer (whether a household already had a warning is
    /// registry information).
    pub warnings_opened: Option<i64>,
    /// Open warnings that took new reasons; null for a department officer.
    pub warnings_merged: Option<i64>,
}

impl UploadSummaryDto {
    fn of(s: &UploadSummary, disclosure: Disclosure) -> UploadSummaryDto {
        let told = |n: i64| (disclosure == Disclosure::Full).then_some(n);
        UploadSummaryDto {
            id: s.id,
            kind: s.kind.clone(),
            file_name: s.file_name.clone(),
            sha256: s.sha256.clone(),
            uploaded_by: s.uploaded_by.clone(),
            created_at: s.created_at.clone(),
            rows: s.rows,
            matched: s.matched,
            repeated: s.repeated,
            unmatched: s.unmatched,
            warnings_opened: told(s.warnings_opened),
            warnings_merged: told(s.warnings_merged),
        }
    }
}

/// The answer to an upload: accepted with its counts, unmatched rows and warnings, or refused
/// with every problem (nothing written).
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResult {
    pub accepted: bool,
    pub file_name: String,
    pub rows: u64,
    /// Present when accepted.
    pub upload: Option<UploadSummaryDto>,
    /// The rule set the records were checked with, e.g. `2025/500000000000/v1` (null for a
    /// department officer).
    pub rule_set: Option<String>,
    /// An earlier upload of the very same bytes.
    pub same_file_as: Option<i64>,
    pub unmatched_rows: Vec<UnmatchedRowDto>,
    pub raised: Vec<RaisedRowsDto>,
    /// Why the file was refused; empty when accepted.
    pub errors: Vec<UploadProblem>,
}

/// Uploads, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadList {
    pub items: Vec<UploadSummaryDto>,
}

fn accepted(viewer: &Viewer, report: &UploadReport) -> UploadResult {
    let s = &report.summary;
    UploadResult {
        accepted: true,
        file_name: s.file_name.clone(),
        rows: u64::try_from(s.rows).unwrap_or(0),
        upload: Some(UploadSummaryDto::of(s, report.disclosure)),
        rule_set: (report.disclosure == Disclosure::Full).then(|| report.rule_set.clone()),
        same_file_as: report.same_file_as.filter(|first| *first != s.id),
        unmatched_rows: report
            .unmatched_rows
            .iter()
            .map(|u| UnmatchedRowDto {
                row: u.row,
                id_number: u.id_number.clone(),
                reason_code: u.reason.code().to_owned(),
                reason: u.reason.text(&s.division_code).get(viewer.lang).to_owned(),
            })
            .collect(),
        raised: report
            .raised
            .iter()
            .map(|r| RaisedRowsDto {
                rows: r.rows.clone(),
                rules: r.rules.clone(),
                category: r.category.clone(),
                outcome: r.outcome.clone(),
            })
            .collect(),
        errors: Vec::new(),
    }
}

fn problem(viewer: &Viewer, p: &RowProblem) -> UploadProblem {
    UploadProblem {
        row: p.row,
        column: p.column.clone(),
        field: p.field.clone(),
        value: p.value.clone(),
        message: p.reason.get(viewer.lang).to_owned(),
        message_zh: p.reason.zh.clone(),
        message_en: p.reason.en.clone(),
    }
}

/// Upload a department's file.
///
/// The body is the file itself (CSV in UTF-8 or GB18030, or XLSX), keyed by ID number, in the
/// format of its kind (docs/department-formats.md). All or nothing: a malformed row refuses
/// the whole file with every problem (422), and nothing is written. Rows whose ID number is not
/// a member of a rural household in the account's division are reported back, not refused.
/// Matched rows are checked with the rule set in force and raise warnings on the households
/// (a department officer is told which of the file's rows went for review, not the rules,
/// categories or warnings behind them: that is registry information);
/// a record imported before raises nothing again. Needs a bearer token of a department officer
/// or the municipal administrator (a browser session uploads through the page).
#[utoipa::path(
    post,
    path = "/api/v1/department-uploads",
    tag = "department",
    operation_id = "upload_department_file",
    params(UploadQuery),
    request_body(content = String, content_type = "application/octet-stream", description = "The file's bytes (CSV or XLSX)"),
    responses(
        (status = 201, description = "Imported: counts, unmatched rows, warnings raised", body = UploadResult),
        (status = 400, description = "An unknown kind, an unknown parameter, or an empty body", body = ApiError),
        (status = 401, description = "No valid token or session", body = ApiError),
        (status = 403, description = "The role may not upload department data, or the request came with a browser session", body = ApiError),
        (status = 413, description = "The body is too large", body = ApiError),
        (status = 422, description = "The file is malformed; nothing was written (every problem in `errors`)", body = UploadResult),
    ),
)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<UploadQuery>, AppError>,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Response> {
    viewer.account()?;
    // A session cookie is an ambient credential: writes take a token.
    if !viewer.via_api_token {
        return Err(AppError::Forbidden);
    }
    let account = viewer.may(Action::UploadDepartmentData)?.clone();
    let Params(query) = params?;
    let kind = DepartmentKind::from_code(query.kind.trim()).ok_or_else(|| {
        let allowed = DepartmentKind::ALL
            .iter()
            .map(|k| k.code())
            .collect::<Vec<_>>()
            .join(", ");
        AppError::bad_request(
            format!("参数kind须为以下之一：{allowed}"),
            format!("parameter kind must be one of: {allowed}"),
        )
    })?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::bad_request(
                format!("无法读取请求体：{}", e.body_text()),
                format!("the request body cannot be read: {}", e.body_text()),
            )
        }
    })?;
    if body.is_empty() {
        return Err(AppError::bad_request(
            "请求体为空：请把文件内容作为请求体发送",
            "the body is empty: send the file's bytes as the request body",
        ));
    }
    let file_name = clean_file_name(query.file_name.as_deref().unwrap_or("api-upload"));
    let temp = tempfile::Builder::new()
        .prefix("zhenxing-department-")
        .tempfile()
        .map_err(|e| {
            tracing::error!(error = %e, "no temporary file for an upload");
            AppError::Internal
        })?;
    tokio::fs::write(temp.path(), &body).await.map_err(|e| {
        tracing::error!(error = %e, "saving an upload failed");
        AppError::Internal
    })?;
    let upload = department::upload(
        &state.db,
        &uploader(&account)?,
        kind,
        temp.path(),
        Some(&file_name),
    )
    .await?;
    drop(temp);
    Ok(match upload.outcome {
        UploadOutcome::Accepted { report, .. } => {
            let report = (*report).disclosed(Disclosure::for_role(account.role));
            (StatusCode::CREATED, Json(accepted(&viewer, &report))).into_response()
        }
        UploadOutcome::Refused(parsed) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(UploadResult {
                accepted: false,
                file_name: parsed.file.clone(),
                rows: parsed.rows,
                upload: None,
                rule_set: None,
                same_file_as: None,
                unmatched_rows: Vec::new(),
                raised: Vec::new(),
                errors: parsed
                    .problems
                    .iter()
                    .map(|p| problem(&viewer, p))
                    .collect(),
            }),
        )
            .into_response(),
    })
}

/// List uploads.
///
/// The account's own uploads, newest first (the municipal administrator sees everyone's), at
/// most 200.
#[utoipa::path(
    get,
    path = "/api/v1/department-uploads",
    tag = "department",
    operation_id = "list_department_uploads",
    responses(
        (status = 200, description = "The uploads", body = UploadList),
        (status = 401, description = "No valid token or session", body = ApiError),
        (status = 403, description = "The role may not upload department data", body = ApiError),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Json<UploadList>> {
    let account = viewer.may(Action::UploadDepartmentData)?;
    let uploads =
        zhenxing_store::department::uploads(&state.db, owner_filter(account), 200).await?;
    Ok(Json(UploadList {
        items: uploads
            .iter()
            .map(|u| UploadSummaryDto::of(u, Disclosure::for_role(account.role)))
            .collect(),
    }))
}
