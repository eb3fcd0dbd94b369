//! Extractors that the pages and the API share (HTTP only: what a request carries, read and
//! refused in one place).

use crate::error::AppError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A route's query string read into `T`: the one extractor of every route that takes a query.
/// A query that does not fit (`/households?page=500`, `?page=abc`) is a 400 page in the
/// reader's language that tells a person what to do, never the framework's text with field
/// names; under `/api/` the JSON error names what was wrong, for the program that sent it.
/// A handler that checks the viewer's permission takes `Result<Params<T>, AppError>` and opens
/// it after the check, so that a role that may not see the page gets 403 whatever it sent.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Params(value)),
            Err(e) if parts.uri.path().starts_with("/api/") => Err(crate::api::query_rejection(e)),
            Err(_) => Err(AppError::bad_request(
                "网址中的参数无法识别，页面没有打开。请通过系统中的链接或表单重新进入。",
                "The address holds parameters this page does not understand, so it was not \
                 opened. Please go back and follow a link or a form of the site.",
            )),
        }
    }
}

/// A query parameter's value, trimmed; `None` when absent or blank.
pub fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
