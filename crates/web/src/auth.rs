//! Who is asking: the session layer resolves the session cookie or the API token once per
//! request into a [`Viewer`], renders errors in the viewer's language, and the sign-in and
//! sign-out handlers open and close sessions. CSRF: every form carries the session's random
//! token (or, on the sign-in page, a double-submit cookie) and a POST without it is refused.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, NoFields};
use crate::i18n::Tr;
use crate::pages::Params;
use crate::pages::{Chrome, render};
use askama::Template;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zhenxing_core::{Action, Lang, Text};
use zhenxing_store::accounts::{Account, SignIn};

pub const SESSION_COOKIE: &str = "zx_session";
pub const LANG_COOKIE: &str = "zx_lang";
pub const LOGIN_CSRF_COOKIE: &str = "zx_login_csrf";
/// A pending sign-in: the password was right, the second factor is still to come. It opens
/// nothing but the code form.
pub const PENDING_COOKIE: &str = "zx_pending";

/// The person (or API client) behind a request.
#[derive(Clone)]
pub struct Viewer {
    pub account: Option<Account>,
    /// The session's CSRF token (absent for API tokens and anonymous visitors).
    pub csrf: Option<String>,
    /// The session cookie's token, for sign-out.
    pub session_token: Option<String>,
    /// When the session reaches its absolute limit (UTC, as stored): the phone deletes the
    /// pages it keeps for offline visits then.
    pub session_ends: Option<String>,
    pub via_api_token: bool,
    /// The account must enrol a second factor before anything else.
    pub must_enrol: bool,
    pub lang: Lang,
    pub client: String,
    /// The menu's counts of the account's own work, for the pages of a signed-in session.
    pub badges: Option<crate::pages::tasks::Badges>,
}

impl Viewer {
    /// The signed-in account, or 401 / the sign-in page.
    pub fn account(&self) -> AppResult<&Account> {
        self.account.as_ref().ok_or(AppError::Unauthorized)
    }

    /// The account, if its role may do `action`.
    pub fn may(&self, action: Action) -> AppResult<&Account> {
        let account = self.account()?;
        if account.may(action) {
            Ok(account)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Refuses a form whose CSRF token is not the session's. Token-authenticated API calls
    /// carry no ambient credentials and need none.
    pub fn check_csrf(&self, submitted: &str) -> AppResult<()> {
        if self.via_api_token {
            return Ok(());
        }
        match &self.csrf {
            Some(expected) if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) => Ok(()),
            _ => Err(AppError::Csrf),
        }
    }
}

pub(crate) use zhenxing_store::credentials::constant_time_eq;

/// The cookies of a request, by name.
pub fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// A `Set-Cookie` value: HttpOnly and SameSite always, Secure behind TLS.
pub fn cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

fn lang_from_headers(headers: &HeaderMap, jar: &HashMap<String, String>) -> Lang {
    if let Some(lang) = jar.get(LANG_COOKIE).and_then(|l| Lang::parse(l)) {
        return lang;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// The client's address: the peer, or, when the server is configured to sit behind trusted
/// proxies, the address the proxies saw (`security::forwarded_client`). `Err` when the
/// forwarded address does not parse: such a request is refused, not attributed to a guess.
fn client_address(state: &AppState, request: &Request) -> Result<String, AppError> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(peer) = peer else {
        return Ok("unknown".to_owned());
    };
    if !state.config.trust_forwarded_for {
        return Ok(peer.to_string());
    }
    let headers: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str())
        .collect::<Result<_, _>>()
        .map_err(|_| forwarded_for_refused())?;
    // Repeated headers are one list, in order (RFC 9110, 5.3).
    let joined = headers.join(",");
    let header = (!headers.is_empty()).then_some(joined.as_str());
    crate::security::forwarded_client(peer, header, &state.config.trusted_proxies)
        .map(|ip| ip.to_string())
        .ok_or_else(forwarded_for_refused)
}

fn forwarded_for_refused() -> AppError {
    AppError::BadRequest(Text::new(
        "请求的X-Forwarded-For头中有无法识别的地址，请求未被处理。",
        "The request's X-Forwarded-For header holds an entry that is not an address; the request was not processed.",
    ))
}

/// Where an account that must change its password may go: the change-password page, signing
/// out, the language switch and the stylesheet.
fn allowed_before_password_change(path: &str) -> bool {
    matches!(
        path,
        crate::pages::accounts::OWN_PASSWORD_PATH
            | "/logout"
            | "/lang"
            | "/static/style.css"
            | "/static/visit.js"
    )
}

/// Where an account that must enrol a second factor may go: the enrolment page, signing out,
/// the language switch and the stylesheet.
fn allowed_before_enrolment(path: &str) -> bool {
    matches!(
        path,
        crate::pages::factor::ENROL_PATH
            | "/logout"
            | "/lang"
            | "/static/style.css"
            | "/static/visit.js"
    )
}

/// Resolves the viewer, runs the handler, renders any [`AppError`] in the viewer's language.
/// Refusals (403, a failed CSRF check, too many sign-ins) are audit events ([`DeniedLog`]).
pub async fn session_layer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = cookies(request.headers());
    let is_api = request.uri().path().starts_with("/api/");
    let client = client_address(&state, &request);
    let mut viewer = Viewer {
        account: None,
        csrf: None,
        session_token: None,
        session_ends: None,
        via_api_token: false,
        must_enrol: false,
        lang: lang_from_headers(request.headers(), &jar),
        client: client.as_ref().map_or_else(|_| String::new(), Clone::clone),
        badges: None,
    };
    if let Err(refused) = client {
        return render_error(&state, &viewer, is_api, refused);
    }
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let lookup = async {
        if let Some(token) = bearer {
            if let Some(account) = state.db.account_by_api_token(&token).await? {
                viewer.lang = account.lang;
                viewer.account = Some(account);
                viewer.via_api_token = true;
            }
        } else if let Some(token) = jar.get(SESSION_COOKIE).filter(|t| t.len() == 64)
            && let Some(session) = state.db.session(token).await?
        {
            viewer.must_enrol = session.must_enrol;
            viewer.lang = session.account.lang;
            viewer.account = Some(session.account);
            viewer.csrf = Some(session.csrf_token);
            viewer.session_token = Some(token.clone());
            viewer.session_ends = Some(session.expires_at);
        }
        Ok::<_, zhenxing_store::StoreError>(())
    };
    if let Err(e) = lookup.await {
        tracing::error!(error = %e, "session lookup failed");
        return render_error(&state, &viewer, is_api, AppError::Internal);
    }
    if viewer
        .account
        .as_ref()
        .is_some_and(|a| a.must_change_password)
        && !allowed_before_password_change(request.uri().path())
    {
        // API tokens of such an account open nothing (the store refuses them); a session
        // reaches only the change-password page.
        return if is_api {
            render_error(&state, &viewer, is_api, AppError::Forbidden)
        } else {
            Redirect::to(crate::pages::accounts::OWN_PASSWORD_PATH).into_response()
        };
    }
    if viewer.must_enrol && !allowed_before_enrolment(request.uri().path()) {
        return if is_api {
            render_error(&state, &viewer, is_api, AppError::Forbidden)
        } else {
            Redirect::to(crate::pages::factor::ENROL_PATH).into_response()
        };
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    if !is_api
        && viewer.session_token.is_some()
        && let Some(account) = &viewer.account
    {
        if request.method() == axum::http::Method::GET {
            if shows_menu(&path) {
                viewer.badges = state.badges.get(&state, account).await;
            }
        } else {
            // What the account just did shows in its menu at once.
            state.badges.forget(account.id);
        }
    }
    request.extensions_mut().insert(viewer.clone());
    let response = next.run(request).await;
    let error = match response.extensions().get::<AppError>().cloned() {
        Some(error) => Err(error),
        None => rejection(response).await,
    };
    let mut response = match error {
        Ok(response) => response,
        Err(error) => {
            if let Some(kind) = DeniedKind::of(&error) {
                state
                    .denied
                    .record(&state.db, kind, &viewer, &method, &path)
                    .await;
            }
            render_error(&state, &viewer, is_api, error)
        }
    };
    if let Some(account) = &viewer.account {
        response
            .extensions_mut()
            .insert(crate::security::LoggedAccount(account.id));
    }
    response
}

/// Whether a GET of `path` renders a page with the menu (not a file, a download or the
/// stylesheet), so that only those count the menu's badges.
fn shows_menu(path: &str) -> bool {
    !(path.starts_with("/static/")
        || path == "/portal"
        || path.starts_with("/portal/")
        || path == "/favicon.ico"
        || path == "/sw.js"
        || path == "/manifest.webmanifest"
        || path.contains("/file/")
        || path == "/healthz"
        || path.ends_with(".xlsx")
        || path.ends_with(".csv")
        || path.contains("/files/")
        || path.contains("/attachments/"))
}

/// axum's own refusals (a form that does not parse, a body too large, a wrong method) come as
/// plain text; they are turned into the application's error pages, with axum's reason as the
/// detail, so that every refusal looks and reads the same.
async fn rejection(response: Response) -> Result<Response, AppError> {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let bare = response.headers().get(header::CONTENT_TYPE).is_none();
    if status == StatusCode::METHOD_NOT_ALLOWED && (plain || bare) {
        return Err(AppError::MethodNotAllowed);
    }
    if !plain || !status.is_client_error() {
        return Ok(response);
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Err(AppError::PayloadTooLarge);
    }
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let reason: String = String::from_utf8_lossy(&body).chars().take(300).collect();
    Err(AppError::BadRequest(Text::new(
        format!("请求无法处理：{reason}"),
        format!("the request could not be processed: {reason}"),
    )))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    title: String,
    detail: Option<String>,
}

fn render_error(state: &AppState, viewer: &Viewer, is_api: bool, error: AppError) -> Response {
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let title = tr.t(error.title_key());
    let detail = error.detail().map(|t| tr.text(t));
    if is_api {
        let body = serde_json::json!({
            "error": error.code(),
            "message": detail.clone().unwrap_or_else(|| title.clone()),
            "message_zh": error.detail().map_or_else(|| state.i18n.get(Lang::Zh, error.title_key(), None), |t| t.zh.clone()),
            "message_en": error.detail().map_or_else(|| state.i18n.get(Lang::En, error.title_key(), None), |t| t.en.clone()),
        });
        let mut response = (error.status(), axum::Json(body)).into_response();
        if matches!(error, AppError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    if matches!(error, AppError::Unauthorized) {
        return Redirect::to("/login").into_response();
    }
    let page = ErrorPage {
        c: Chrome::new(state, viewer, title.clone()),
        title,
        detail,
    };
    let mut response = render(&page);
    *response.status_mut() = error.status();
    response
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sign-out

/// Sign-in attempts per client address, counted in memory over a sliding window. Together
/// with the per-account lockout in the database this limits both guessing one account's
/// password and trying one password on many accounts. The same counter, keyed by something
/// else than an address ([`RateLimiter::allow_key`]), limits the attempts on one ID number.
pub struct RateLimiter {
    window: Duration,
    max: usize,
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> RateLimiter {
        RateLimiter {
            window,
            max,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Records an attempt; false when the address has used up its attempts.
    pub fn allow(&self, client: &str) -> bool {
        let Ok(ip) = client.parse::<IpAddr>() else {
            return true;
        };
        self.allow_key(ip.to_string())
    }

    /// Records an attempt on `key`; false when it has used up its attempts.
    pub fn allow_key(&self, key: String) -> bool {
        let now = Instant::now();
        let Ok(mut attempts) = self.attempts.lock() else {
            return false;
        };
        if attempts.len() > 100_000 {
            attempts.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < self.window));
        }
        let times = attempts.entry(key).or_default();
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() >= self.max {
            return false;
        }
        times.push(now);
        true
    }
}

/// Which refusal an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeniedKind {
    Forbidden,
    Csrf,
    RateLimited,
}

impl DeniedKind {
    fn of(error: &AppError) -> Option<DeniedKind> {
        match error {
            AppError::Forbidden => Some(DeniedKind::Forbidden),
            AppError::Csrf => Some(DeniedKind::Csrf),
            AppError::TooManyRequests(_) => Some(DeniedKind::RateLimited),
            _ => None,
        }
    }

    fn action(self) -> &'static str {
        match self {
            DeniedKind::Forbidden => "access.denied",
            DeniedKind::Csrf => "access.csrf_failed",
            DeniedKind::RateLimited => "auth.rate_limited",
        }
    }
}

/// Refusals as audit events, coalesced so that a flood does not flood the audit trail: the
/// first refusal of a kind from a client address (and account) in a minute is written at
/// once; the others of that minute are only counted, and the count goes into the next event
/// written for that client and kind (`suppressed_before`). At most one write per client, kind
/// and minute, whatever the rate.
/// Whose refusals of which kind: (kind, client address, account name or `-`).
type DeniedKey = (DeniedKind, String, String);

#[derive(Default)]
pub struct DeniedLog {
    /// → (minute of the last event written, refusals since).
    recent: Mutex<HashMap<DeniedKey, (i64, u64)>>,
}

impl DeniedLog {
    /// Counts a refusal; writes it to the audit trail unless one of its kind from the same
    /// client was written this minute. A failed write is logged: the refusal stands anyway.
    pub async fn record(
        &self,
        db: &zhenxing_store::Db,
        kind: DeniedKind,
        viewer: &Viewer,
        method: &str,
        path: &str,
    ) {
        let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
        let actor = viewer
            .account
            .as_ref()
            .map_or_else(|| "-".to_owned(), |a| a.name.clone());
        let suppressed = {
            let Ok(mut recent) = self.recent.lock() else {
                return;
            };
            if recent.len() > 10_000 {
                recent.retain(|_, (m, _)| *m >= minute - 1);
            }
            let slot = recent
                .entry((kind, viewer.client.clone(), actor.clone()))
                .or_insert((i64::MIN, 0));
            if slot.0 == minute {
                slot.1 += 1;
                return;
            }
            let suppressed = slot.1;
            *slot = (minute, 0);
            suppressed
        };
        // The path only: a query string may hold what someone searched for (an ID number).
        let entry = zhenxing_store::audit::AuditEntry {
            actor,
            action: kind.action().to_owned(),
            object_type: "request".to_owned(),
            object_id: Some(path.chars().take(200).collect()),
            after: Some(serde_json::json!({
                "from": viewer.client,
                "method": method,
                "suppressed_before": suppressed,
            })),
            ..Default::default()
        };
        if let Err(e) = zhenxing_store::audit::append_one(db, entry).await {
            tracing::error!(error = %e, "recording a refusal in the audit trail failed");
        }
    }
}

/// What every step of a sign-in (the password, the code) checks first: the double-submit CSRF
/// token of the sign-in forms, then the client address's attempts (both steps count).
pub fn check_sign_in_step(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    submitted_csrf: &str,
) -> AppResult<()> {
    let jar = cookies(headers);
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(String::as_str).unwrap_or("");
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), submitted_csrf.as_bytes()) {
        return Err(AppError::Csrf);
    }
    if !state.limiter.allow(&viewer.client) {
        return Err(AppError::TooManyRequests(Text::new(
            "登录尝试过于频繁，请几分钟后再试。",
            "Too many sign-in attempts from this address; try again in a few minutes.",
        )));
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    csrf: String,
    name: String,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginQuery {
    lang: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    Extension(mut viewer): Extension<Viewer>,
    Params(query): Params<LoginQuery>,
) -> Response {
    if viewer.account.is_some() {
        return Redirect::to("/").into_response();
    }
    let mut headers = Vec::new();
    if let Some(lang) = query.lang.as_deref().and_then(Lang::parse) {
        viewer.lang = lang;
        headers.push(cookie(
            &state,
            LANG_COOKIE,
            lang_code(lang),
            Some(31_536_000),
        ));
    }
    let csrf = zhenxing_store::credentials::random_token();
    headers.push(cookie(&state, LOGIN_CSRF_COOKIE, &csrf, Some(3600)));
    let title = Tr::new(state.i18n.clone(), viewer.lang).t("login-title");
    let page = LoginPage {
        c: Chrome::new(&state, &viewer, title),
        csrf,
        name: String::new(),
        message: None,
    };
    with_cookies(render(&page), headers)
}

pub fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

pub fn with_cookies(mut response: Response, cookies: Vec<HeaderValue>) -> Response {
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    check_sign_in_step(&state, &viewer, &headers, &form.csrf)?;
    let name = form.name.trim();
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let refused = |message: String| login_form(&state, &viewer, name.to_owned(), message);
    if name.is_empty() || name.len() > 256 || form.password.len() > 1024 {
        return Ok(refused(tr.t("login-refused")));
    }
    match state
        .db
        .sign_in(name, &form.password, &viewer.client)
        .await?
    {
        SignIn::SecondFactor { pending } => Ok(with_cookies(
            Redirect::to(crate::pages::factor::CODE_PATH).into_response(),
            vec![cookie(
                &state,
                PENDING_COOKIE,
                &pending,
                Some(crate::pages::factor::pending_cookie_seconds()),
            )],
        )),
        SignIn::Ok { account, session } => {
            tracing::info!(account = account.id, "signed in");
            let response = Redirect::to("/").into_response();
            Ok(with_cookies(
                response,
                vec![
                    cookie(&state, SESSION_COOKIE, &session.token, None),
                    cookie(&state, LOGIN_CSRF_COOKIE, "", Some(0)),
                    cookie(
                        &state,
                        LANG_COOKIE,
                        lang_code(account.lang),
                        Some(31_536_000),
                    ),
                ],
            ))
        }
        SignIn::Refused => Ok(refused(tr.t("login-refused"))),
    }
}

/// The sign-in form again, refused with `message` (401), keeping the name typed.
pub fn login_form(state: &AppState, viewer: &Viewer, name: String, message: String) -> Response {
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let csrf = zhenxing_store::credentials::random_token();
    let page = LoginPage {
        c: Chrome::new(state, viewer, tr.t("login-title")),
        csrf: csrf.clone(),
        name: name.chars().take(64).collect(),
        message: Some(message),
    };
    let mut response = with_cookies(
        render(&page),
        vec![cookie(state, LOGIN_CSRF_COOKIE, &csrf, Some(3600))],
    );
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let account = viewer.account()?;
    if let Some(token) = &viewer.session_token {
        state.db.sign_out(token, account).await?;
    }
    // What the phone keeps for offline visits (issue 19) goes with the session: the cached
    // pages, the queue and the service worker (visit.js clears them too, first asking when
    // visits are still waiting to be sent).
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        "clear-site-data",
        axum::http::HeaderValue::from_static("\"cache\", \"storage\""),
    );
    Ok(with_cookies(
        response,
        vec![cookie(&state, SESSION_COOKIE, "", Some(0))],
    ))
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    back: Option<String>,
}

/// Switches the page language (stored on the account).
pub async fn switch_lang(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<LangForm>,
) -> AppResult<Response> {
    let account = viewer.account()?;
    let lang = Lang::parse(&form.lang)
        .ok_or_else(|| AppError::bad_request("未知的语言", "unknown language"))?;
    state.db.set_account_lang(account.id, lang).await?;
    // Only local paths: an open redirect would let a link send people elsewhere.
    let back = crate::pages::local_or(form.back.as_deref(), "/");
    Ok(with_cookies(
        Redirect::to(&back).into_response(),
        vec![cookie(
            &state,
            LANG_COOKIE,
            lang_code(lang),
            Some(31_536_000),
        )],
    ))
}
