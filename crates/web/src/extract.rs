//! Extractors that the pages and the API share (HTTP only: what a request carries, read and
//! refused in one place).

use crate::auth::Viewer;
use crate::error::AppError;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

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

/// A form posted by a signed-in person (`application/x-www-form-urlencoded`), read into `T` and
/// handed to the handler only when its `csrf` field matches the session's token
/// ([`Viewer::check_csrf`]): a handler that takes a `CsrfForm` cannot forget the check. A body that does not parse is refused as axum's
/// `Form` refuses it (a 400 page that says why); a missing or wrong token as [`AppError::Csrf`]
/// (the page was open too long, or the request came from another site); without a session,
/// [`AppError::Unauthorized`]. `T` need not name the
/// `csrf` field. Token-authenticated API calls carry no ambient credential and pass.
pub struct CsrfForm<T>(pub T);

/// A form that carries nothing but its token (a button: sign out, mark as read).
#[derive(Deserialize)]
pub struct NoFields {}

/// The token every form of a session carries.
#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let viewer = request
            .extensions()
            .get::<Viewer>()
            .cloned()
            .ok_or_else(|| AppError::Internal.into_response())?;
        // Every such form is a signed-in person's: without an account, to the sign-in page.
        viewer.account().map_err(IntoResponse::into_response)?;
        let (parts, body) = request.into_parts();
        // The body is read once (within the body limit) and parsed twice: for the token and
        // for the form, each by axum's own form reader, which checks the content type.
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let again = |bytes: &Bytes| Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        let Form(value) = Form::<T>::from_request(again(&bytes), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Form(token) = Form::<Token>::from_request(again(&bytes), state)
            .await
            .map_err(IntoResponse::into_response)?;
        viewer
            .check_csrf(&token.csrf)
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfForm(value))
    }
}

/// A typed form's text field, trimmed as a person's typing is read everywhere (spaces around a
/// value are never part of it): `#[serde(default, deserialize_with = "trimmed")]`.
pub fn trimmed<'de, D: Deserializer<'de>>(value: D) -> Result<String, D::Error> {
    String::deserialize(value).map(|s| s.trim().to_owned())
}
