//! The public portal (issue 7): no account, Chinese by default with an English switch
//! (`?lang=en` on any page, kept in a cookie), plain forms without script.
//!
//! - `/portal`: announcements and policy documents; `/portal/announcements/{id}`.
//! - `/portal/notices`: the village notices, found county → township → village.
//! - `/portal/declare`: self-declaration; `/portal/ask`: a question, report, complaint or
//!   suggestion; `/portal/track`: follow either with the tracking code; `/portal/recover`: a
//!   new code for a lost declaration code, with its ID and phone numbers.
//! - `/portal/privacy`, `/portal/contact`; `POST /portal/cookies`: the cookie notice's "I agree".
//!
//! Forms without a session carry a double-submit token (`zx_portal_csrf`), as the sign-in form
//! does. Submissions are limited per client address (`AppState::portal_limiter`, and
//! `AppState::tracking_limiter` for tracking codes, `AppState::recovery_limiter` for
//! recoveries), carry a hidden honeypot field, and are
//! stored before the page says "received". The tracking code travels in a POST body, never in a
//! URL (URLs end up in logs, histories and shared screenshots).

use crate::AppState;
use crate::auth::{
    LANG_COOKIE, Viewer, constant_time_eq, cookie, cookies, lang_code, with_cookies,
};
use crate::error::{AppError, AppResult};
use crate::pages::Params;
use crate::pages::{Chrome, Fields, render_form};
use crate::upload::{UploadError, capped_bytes, skip, small_text};
use askama::Template;
use axum::Router;
use axum::extract::{
    DefaultBodyLimit, Form, FromRequest, FromRequestParts, Multipart, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use zhenxing_core::assistance::FieldError;
use zhenxing_core::china_time::{china_day_text, today_in_china};
use zhenxing_core::portal::{
    AnnouncementKind, DeclarationEvent, DeclarationForm, MAX_TICKET_FILES, TicketCategory,
    TicketForm, TicketKind,
};
use zhenxing_core::{DivisionCode, DivisionLevel, Lang, Text, text};
use zhenxing_store::files::{self, AcceptedFile, MAX_FILE_BYTES};
use zhenxing_store::portal::{self, Submitted, Tracked};

mod ask;
mod declare;
mod information;
mod places;
mod recover;
mod track;

pub use ask::*;
pub use declare::*;
pub use information::*;
pub use places::*;
pub use recover::*;
pub use track::*;

/// The double-submit token of the portal's forms.
pub const PORTAL_CSRF_COOKIE: &str = "zx_portal_csrf";
/// Set when the visitor agreed to the cookie notice (hides the notice).
pub const COOKIE_NOTICE_COOKIE: &str = "zx_cookies";
/// The honeypot: a field hidden from people by the stylesheet, which simple bots fill in.
pub const HONEYPOT_FIELD: &str = "website";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/announcements/{id}", get(announcement))
        .route("/portal/notices", get(notices))
        .route("/portal/privacy", get(privacy))
        .route("/portal/contact", get(contact))
        .route("/portal/cookies", post(agree_cookies))
        .route(
            "/portal/declare",
            get(declare_form)
                .post(declare)
                .layer(DefaultBodyLimit::max(ASK_BODY_LIMIT)),
        )
        .route(
            "/portal/ask",
            get(ask_form)
                .post(ask)
                .layer(DefaultBodyLimit::max(ASK_BODY_LIMIT)),
        )
        .route("/portal/track", get(track_form).post(track))
        .route("/portal/recover", get(recover_form).post(recover))
}

/// What every portal page needs besides its content: the chrome, the form token, whether the
/// cookie notice still shows, and the cookies to set.
pub struct Public {
    pub c: Chrome,
    pub csrf: String,
    pub show_cookie_notice: bool,
    /// The current page's path, for the language switch and the cookie notice's return.
    pub here: String,
    set_cookies: Vec<HeaderValue>,
}

impl Public {
    /// The page, with the cookies this request sets; `refused` answers 422 (a form shown again
    /// with its problems, or a tracking code that found nothing).
    fn show(&self, page: &impl Template, refused: bool) -> Response {
        with_cookies(render_form(page, refused), self.set_cookies.clone())
    }

    /// The English or Chinese link to the current page.
    pub fn other_lang_link(&self) -> String {
        let sep = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={}", self.here, self.c.other_lang())
    }
}

#[derive(Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

/// A request to the portal: who asks (an account or nobody), their cookies, and `?lang=`.
pub struct Visit {
    viewer: Viewer,
    headers: HeaderMap,
    lang: Option<String>,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> AppResult<Visit> {
        // The session layer puts a viewer on every request; without it the router is wrong.
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or(AppError::Internal)?;
        let lang = Query::<LangQuery>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|q| q.0.lang);
        Ok(Visit {
            viewer,
            headers: parts.headers.clone(),
            lang,
        })
    }
}

impl Visit {
    /// The frame of the page answering this visit (see [`public`]).
    fn frame(&self, state: &AppState, title_key: &str, here: &str) -> Public {
        public(state, self, title_key, here)
    }

    /// The checks every public submission passes before it is read: the form token, the
    /// honeypot, then the rate limit (last, so that a forged or bot request does not use up a
    /// person's allowance).
    fn admit(&self, state: &AppState, f: &Fields) -> AppResult<()> {
        self.screen(f)?;
        if !state.portal_limiter.allow(&self.viewer.client) {
            return Err(too_many());
        }
        Ok(())
    }
}

impl Visit {
    /// The form token and the honeypot, the checks before a public form is read.
    fn screen(&self, f: &Fields) -> AppResult<()> {
        check_portal_csrf(&self.headers, &f.one("csrf"))?;
        if !f.one(HONEYPOT_FIELD).is_empty() {
            tracing::info!("portal submission refused by the honeypot");
            return Err(AppError::bad_request(
                "提交未被接受。如果您是人工填写，请清空“网址”一栏后重新提交。",
                "The submission was not accepted. If you filled the form in yourself, leave the 'website' field empty and submit again.",
            ));
        }
        Ok(())
    }
}

/// The portal page's frame for this request: the language from `?lang=` (remembered in a
/// cookie), else the cookie, else Chinese, the public's default (not the browser's language:
/// the bureau publishes in Chinese first).
fn public(state: &AppState, visit: &Visit, title_key: &str, here: &str) -> Public {
    let (headers, lang) = (&visit.headers, visit.lang.as_deref());
    let jar = cookies(headers);
    let mut viewer = visit.viewer.clone();
    let mut set_cookies = Vec::new();
    if let Some(lang) = lang.and_then(Lang::parse) {
        viewer.lang = lang;
        set_cookies.push(cookie(
            state,
            LANG_COOKIE,
            lang_code(lang),
            Some(31_536_000),
        ));
    } else if viewer.account.is_none() && !jar.contains_key(LANG_COOKIE) {
        viewer.lang = Lang::Zh;
    }
    let csrf = match jar.get(PORTAL_CSRF_COOKIE).filter(|t| t.len() == 64) {
        Some(token) => token.clone(),
        None => {
            let token = zhenxing_store::credentials::random_token();
            set_cookies.push(cookie(state, PORTAL_CSRF_COOKIE, &token, Some(86_400)));
            token
        }
    };
    let mut c = Chrome::new(state, &viewer, String::new());
    c.title = c.t(title_key);
    Public {
        c,
        csrf,
        show_cookie_notice: !jar.contains_key(COOKIE_NOTICE_COOKIE),
        here: here.to_owned(),
        set_cookies,
    }
}

/// Refuses a portal form whose token is not the visitor's cookie.
fn check_portal_csrf(headers: &HeaderMap, submitted: &str) -> AppResult<()> {
    let jar = cookies(headers);
    match jar.get(PORTAL_CSRF_COOKIE) {
        Some(expected)
            if !expected.is_empty()
                && constant_time_eq(expected.as_bytes(), submitted.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(AppError::Csrf),
    }
}

/// The portal's reader of a form's fields (`pages::Fields`).
impl Fields {
    /// A checkbox: its value when ticked (present and not blank).
    fn ticked(&self, name: &str) -> Option<String> {
        Some(self.one(name)).filter(|v| !v.is_empty())
    }
}

fn too_many() -> AppError {
    AppError::TooManyRequests(Text::new(
        "此网络地址提交过于频繁。您的内容没有保存，请过一段时间再提交；急事请拨打联系页面上的电话。",
        "Too many submissions from this network address. Nothing was saved; please submit again later, or for urgent matters call the number on the contact page.",
    ))
}
