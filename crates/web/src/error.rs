//! One conversion from failures to HTTP answers. Handlers return [`AppError`]; the answer is
//! rendered by [`crate::auth::session_layer`] in the reader's language, as an HTML page or,
//! under `/api`, as JSON. Internal errors are logged with their cause and shown to nobody.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use zhenxing_core::Text;
use zhenxing_store::Outcome;

#[derive(Debug, Clone)]
pub enum AppError {
    /// Not signed in (HTML: to the sign-in page; API: 401).
    Unauthorized,
    /// Not found, or outside the account's division: the two answer alike.
    NotFound,
    /// The role may not do this.
    Forbidden,
    /// Bad input: what was wrong, in both languages.
    BadRequest(Text),
    /// A form without a valid CSRF token (expired page, or a forged request).
    Csrf,
    /// A stale edit or a duplicate: nothing was changed.
    Conflict(Text),
    /// Too many attempts.
    TooManyRequests(Text),
    /// A request body too large.
    PayloadTooLarge,
    /// A method the route does not answer (a GET on a form's target, say).
    MethodNotAllowed,
    /// Anything else: logged, never shown.
    Internal,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::BadRequest(_) => "bad_request",
            AppError::Csrf => "csrf",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Internal => "internal",
        }
    }

    /// The message key of the error's title (locales).
    pub fn title_key(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "error-unauthorized",
            AppError::NotFound => "error-not-found",
            AppError::Forbidden => "error-forbidden",
            AppError::BadRequest(_) => "error-bad-request",
            AppError::Csrf => "error-csrf",
            AppError::Conflict(_) => "error-conflict",
            AppError::TooManyRequests(_) => "error-too-many",
            AppError::PayloadTooLarge => "error-too-large",
            AppError::MethodNotAllowed => "error-method",
            AppError::Internal => "error-internal",
        }
    }

    /// The details, when there are any to tell.
    pub fn detail(&self) -> Option<&Text> {
        match self {
            AppError::BadRequest(t) | AppError::Conflict(t) | AppError::TooManyRequests(t) => {
                Some(t)
            }
            _ => None,
        }
    }

    pub fn bad_request(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::BadRequest(Text::new(zh.into(), en.into()))
    }

    /// A change made from a page loaded before someone else changed the record: 409, nothing
    /// was written. The one wording of it, for every page that sends a version back.
    pub fn stale() -> AppError {
        AppError::Conflict(AppError::stale_text())
    }

    /// What [`AppError::stale`] says, for a page that shows it beside the form it kept.
    pub fn stale_text() -> Text {
        Text::new(
            "未保存：自您打开此页以来，该记录已被他人修改。请重新打开本页，核对后再操作。",
            "Not saved: someone changed this after you opened the page. Open the page again and check it before acting.",
        )
    }

    /// [`AppError::stale`] for a program, which sent `sent` and can be told the version the
    /// record is at now.
    pub fn stale_since(sent: i64, current: i64) -> AppError {
        AppError::Conflict(Text::new(
            format!(
                "未保存：该记录在版本{sent}之后已被修改（当前版本{current}）。请重新读取，核对后再改。"
            ),
            format!(
                "Not saved: the record has changed since version {sent} (it is now at version {current}). Read it again, check it, and redo the change."
            ),
        ))
    }
}

/// The one reading of a store write's [`Outcome`] as an answer: a missing record (or one outside
/// the viewer's scope) is a 404 and a stale page a 409 ([`AppError::stale`]), everywhere alike.
pub trait OutcomeExt<T> {
    /// Done is `Ok(Ok(value))`; a refusal is `Ok(Err(reason))`, for the handler to show its
    /// form again with the reason and the person's input.
    fn or_refused(self) -> AppResult<Result<T, Text>>;
    /// Done is `Ok(value)`; a refusal is a 400 with the reason (forms that have no page of
    /// their own to show again).
    fn done(self) -> AppResult<T>;
}

impl<T> OutcomeExt<T> for Outcome<T> {
    fn or_refused(self) -> AppResult<Result<T, Text>> {
        match self {
            Outcome::Done(value) => Ok(Ok(value)),
            Outcome::Refused(reason) => Ok(Err(reason)),
            Outcome::Stale => Err(AppError::stale()),
            Outcome::NotFound => Err(AppError::NotFound),
        }
    }

    fn done(self) -> AppResult<T> {
        self.or_refused()?.map_err(AppError::BadRequest)
    }
}

/// Store failures are internal: logged here with their cause (which never holds personal data:
/// the store's errors mask ID numbers), answered as a plain 500; the registry's conflicts and a
/// unique constraint's refusal are a 409 that says nothing was changed.
impl From<zhenxing_store::StoreError> for AppError {
    fn from(e: zhenxing_store::StoreError) -> Self {
        match e {
            zhenxing_store::StoreError::Conflicts(conflicts) => {
                let zh = conflicts
                    .iter()
                    .map(|c| c.text().zh)
                    .collect::<Vec<_>>()
                    .join("；");
                let en = conflicts
                    .iter()
                    .map(|c| c.text().en)
                    .collect::<Vec<_>>()
                    .join("; ");
                AppError::Conflict(Text::new(zh, en))
            }
            // A unique constraint refused a write (the store prevents these; should one slip
            // through, the person is told nothing was saved rather than shown a 500).
            unique if unique.is_unique_violation() => {
                tracing::warn!(error = %unique, "write refused by a unique constraint");
                AppError::Conflict(Text::new(
                    "这项内容与已保存的记录冲突，未作任何修改：请刷新页面后查看",
                    "this conflicts with a record already stored; nothing was changed: reload the page and check",
                ))
            }
            other => {
                tracing::error!(error = %other, "store error");
                AppError::Internal
            }
        }
    }
}

impl From<zhenxing_store::accounts::AccountError> for AppError {
    fn from(e: zhenxing_store::accounts::AccountError) -> Self {
        match e {
            zhenxing_store::accounts::AccountError::Invalid(t) => AppError::BadRequest(t),
            zhenxing_store::accounts::AccountError::Store(s) => s.into(),
        }
    }
}

/// The error travels to the session layer as a response extension, which renders it.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
