//! The JSON API under `/api/v1`, for API clients (bearer tokens) and the browser (session
//! cookie, read-only). Described by the OpenAPI document at `/api/openapi.json`, generated
//! from these handlers and snapshot-tested.
//!
//! Every answer is JSON, errors included: the handlers return [`AppError`], which the session
//! layer renders as `{"error", "message", "message_zh", "message_en"}` under `/api/`. Extractor
//! rejections (a bad query string, a malformed body, a wrong content type) are turned into
//! [`AppError::BadRequest`] here rather than left to axum's plain-text answers, and a wrong
//! method answers a JSON 405.

pub mod department;
pub mod divisions;
pub mod dto;
pub mod households;
pub mod openapi;

use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use zhenxing_core::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/v1/me", get(divisions::me))
        .route("/api/v1/divisions/{code}", get(divisions::division))
        .route("/api/v1/households", get(households::list))
        .route(
            "/api/v1/households/{no}",
            get(households::detail).patch(households::patch),
        )
        .route(
            "/api/v1/department-uploads",
            get(department::list)
                .post(department::upload)
                .layer(axum::extract::DefaultBodyLimit::max(department::BODY_LIMIT)),
        )
        .method_not_allowed_fallback(method_not_allowed)
}

/// At most this many characters of anything a client sent are quoted back in a message.
const QUOTE_MAX: usize = 200;

fn quote(s: &str) -> String {
    s.chars().take(QUOTE_MAX).collect()
}

/// A query string that does not fit the endpoint's parameters: 400, naming what was wrong.
pub fn query_rejection(e: QueryRejection) -> AppError {
    let detail = quote(&e.body_text());
    AppError::bad_request(
        format!("查询参数有误：{detail}"),
        format!("bad query parameters: {detail}"),
    )
}

/// A path segment that cannot be read (invalid percent-encoding): 400.
pub fn path_rejection(e: PathRejection) -> AppError {
    let detail = quote(&e.body_text());
    AppError::bad_request(format!("路径有误：{detail}"), format!("bad path: {detail}"))
}

/// A body that is not JSON, not declared as JSON, or too large.
pub fn json_rejection(e: JsonRejection) -> AppError {
    match e {
        JsonRejection::MissingJsonContentType(_) => AppError::bad_request(
            "请求体须为JSON，并声明Content-Type: application/json",
            "the request body must be JSON, sent with Content-Type: application/json",
        ),
        e if e.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        e => {
            let detail = quote(&e.body_text());
            AppError::bad_request(
                format!("请求体不是有效的JSON：{detail}"),
                format!("the request body is not valid JSON: {detail}"),
            )
        }
    }
}

/// A known path with a method it does not have: 405 with a JSON body.
async fn method_not_allowed(Extension(viewer): Extension<Viewer>) -> Response {
    let (zh, en) = (
        "该地址不支持此请求方法",
        "this method is not allowed on this path",
    );
    let body = serde_json::json!({
        "error": "method_not_allowed",
        "message": if viewer.lang == Lang::En { en } else { zh },
        "message_zh": zh,
        "message_en": en,
    });
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}
