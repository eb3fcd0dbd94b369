//! The only crate that knows HTTP, HTML and JSON: the axum router, the server-rendered pages
//! (askama templates, both languages through Fluent), the JSON API under `/api/v1` with its
//! OpenAPI document, sessions, CSRF and the security headers.
//!
//! Architecture invariant: handlers decide nothing about access themselves; they ask the
//! account's role ([`zhenxing_core::Role::may`]) and scope ([`zhenxing_core::Scope`]), and a
//! record outside the scope answers exactly like a record that does not exist.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod jobs;
pub mod pages;
pub mod scope;
pub mod security;
pub mod tls;
pub mod upload;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use zhenxing_store::Db;

pub use auth::Viewer;
pub use error::{AppError, AppResult};

/// Settings of the web application.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when the server is reached over TLS, directly or through a
    /// proxy): `ZHENXING_SECURE_COOKIES=1`.
    pub secure_cookies: bool,
    /// Send `Strict-Transport-Security` (when the application itself serves TLS).
    pub hsts: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy):
    /// `ZHENXING_TRUST_FORWARDED_FOR=1`. The address is the rightmost entry that is not one of
    /// `trusted_proxies` (`security::forwarded_client`); a header that does not parse is 400.
    pub trust_forwarded_for: bool,
    /// The proxies in front of the server, addresses or blocks:
    /// `ZHENXING_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.5`. Empty: only the proxy that connects.
    pub trusted_proxies: Vec<security::IpRange>,
    /// Sign-in attempts per client address per window.
    pub login_attempts_per_window: usize,
    pub login_window: Duration,
    /// Largest request body in general, and for file uploads.
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    /// Public portal submissions (declarations, tickets) per client address per window, and
    /// tracking-code look-ups per address per window.
    pub portal_submissions_per_window: usize,
    pub tracking_lookups_per_window: usize,
    pub portal_window: Duration,
    /// Tracking-code recoveries (a new code for the ID and phone numbers of a declaration) per
    /// client address per `recovery_window`: few, since each is a guess at a pair of numbers.
    pub recoveries_per_window: usize,
    pub recovery_window: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            hsts: false,
            trust_forwarded_for: false,
            trusted_proxies: Vec::new(),
            login_attempts_per_window: 20,
            login_window: Duration::from_secs(300),
            max_body_bytes: 256 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            portal_submissions_per_window: 5,
            tracking_lookups_per_window: 30,
            portal_window: Duration::from_secs(600),
            recoveries_per_window: 5,
            recovery_window: Duration::from_secs(3600),
        }
    }
}

impl WebConfig {
    /// For a server that terminates TLS itself: cookies `Secure`, answers with HSTS.
    pub fn served_over_tls(mut self) -> WebConfig {
        self.secure_cookies = true;
        self.hsts = true;
        self
    }

    /// Defaults, then `ZHENXING_*` environment variables; a list of proxies that does not
    /// parse stops the server rather than trusting a guess.
    pub fn from_env() -> Result<WebConfig, zhenxing_core::Text> {
        let flag = |name: &str| {
            std::env::var(name).is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
        };
        let proxies = std::env::var("ZHENXING_TRUSTED_PROXIES").unwrap_or_default();
        let trusted_proxies = security::parse_ip_ranges(&proxies).map_err(|bad| {
            zhenxing_core::Text::new(
                format!("ZHENXING_TRUSTED_PROXIES中的“{bad}”不是IP地址或地址段（如10.0.0.0/8）"),
                format!(
                    "'{bad}' in ZHENXING_TRUSTED_PROXIES is not an IP address or block (such as 10.0.0.0/8)"
                ),
            )
        })?;
        let config = WebConfig {
            secure_cookies: flag("ZHENXING_SECURE_COOKIES"),
            trust_forwarded_for: flag("ZHENXING_TRUST_FORWARDED_FOR"),
            trusted_proxies,
            ..WebConfig::default()
        };
        // The session and lockout limits are the security administrator's policy, in the
        // database (issue 15): an environment variable that overrode them would make the
        // policy page wrong about what is in force, so the old ones are refused, not ignored.
        for old in ["ZHENXING_SESSION_IDLE_MINUTES", "ZHENXING_LOCKOUT_MINUTES"] {
            if std::env::var_os(old).is_some() {
                return Err(zhenxing_core::Text::new(
                    format!(
                        "环境变量{old}已不再使用：会话和锁定的时限由安全管理员在“安全策略”页面设置（存于数据库）。请删除该变量。"
                    ),
                    format!(
                        "the environment variable {old} is no longer used: session and lockout limits are set by the security administrator on the security policy page (stored in the database). Remove the variable."
                    ),
                ));
            }
        }
        Ok(config)
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Every page says so when the registry is synthetic.
    pub demo: bool,
    pub config: Arc<WebConfig>,
    pub i18n: Arc<i18n::I18n>,
    pub limiter: Arc<auth::RateLimiter>,
    /// Refusals recorded in the audit trail, coalesced per client and minute.
    pub denied: Arc<auth::DeniedLog>,
    /// The public portal's submissions and tracking look-ups, per client address.
    pub portal_limiter: Arc<auth::RateLimiter>,
    pub tracking_limiter: Arc<auth::RateLimiter>,
    pub recovery_limiter: Arc<auth::RateLimiter>,
    /// Tracking-code recoveries per ID number (by its keyed index), whatever the address.
    pub recovery_id_limiter: Arc<auth::RateLimiter>,
    /// The dashboard's figures, kept between requests and brought up to date from the audit
    /// chain on every read (`zhenxing_store::figure_cache`).
    pub figures: Arc<zhenxing_store::figure_cache::FigureCache>,
    /// The background jobs (`jobs`): registry imports and re-screening runs.
    pub imports: Arc<pages::transfer::Imports>,
    pub runs: Arc<pages::monitoring::Runs>,
    /// The menu's counts per account, kept for a few seconds (`pages::tasks`).
    pub badges: Arc<pages::tasks::BadgeCache>,
}

impl AppState {
    pub fn new(db: Db, demo: bool, config: WebConfig) -> AppState {
        AppState {
            db,
            demo,
            denied: Arc::new(auth::DeniedLog::default()),
            limiter: Arc::new(auth::RateLimiter::new(
                config.login_attempts_per_window,
                config.login_window,
            )),
            portal_limiter: Arc::new(auth::RateLimiter::new(
                config.portal_submissions_per_window,
                config.portal_window,
            )),
            tracking_limiter: Arc::new(auth::RateLimiter::new(
                config.tracking_lookups_per_window,
                config.portal_window,
            )),
            recovery_limiter: Arc::new(auth::RateLimiter::new(
                config.recoveries_per_window,
                config.recovery_window,
            )),
            recovery_id_limiter: Arc::new(auth::RateLimiter::new(
                config.recoveries_per_window,
                config.recovery_window,
            )),
            config: Arc::new(config),
            i18n: Arc::new(i18n::I18n::new()),
            figures: Arc::new(zhenxing_store::figure_cache::FigureCache::new()),
            imports: Arc::default(),
            runs: Arc::default(),
            badges: Arc::default(),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let hsts = state.config.hsts;
    let pages = Router::new()
        .route("/", get(home))
        .route("/tasks", get(pages::tasks::page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", post(auth::switch_lang))
        .route("/divisions/{code}", get(pages::divisions::division_page))
        .route("/households", get(pages::households::list))
        .route("/households.xlsx", get(pages::households::export))
        .route("/households.csv", get(pages::households::export))
        .route("/households/{no}", get(pages::households::detail))
        .route(
            "/households/{no}/edit",
            get(pages::households::edit_form).post(pages::households::edit),
        )
        .route("/households/{no}/reveal", post(pages::households::reveal))
        .route(
            "/households/{no}/members",
            post(pages::households::add_member),
        )
        .route(
            "/households/{no}/members/{position}/remove",
            post(pages::households::remove_member),
        );
    Router::new()
        .merge(pages)
        .merge(pages::audit::routes())
        .merge(pages::accounts::routes())
        .merge(pages::factor::routes())
        .merge(pages::security_policy::routes())
        .merge(pages::transfer::routes())
        .merge(pages::monitoring::routes())
        .merge(pages::department::routes())
        .merge(pages::warnings::routes())
        .merge(pages::cases::routes())
        .merge(pages::timeline::routes())
        .merge(pages::assistance::routes())
        .merge(pages::coverage::routes())
        .merge(pages::statistics::routes())
        .merge(pages::reports::routes())
        .merge(pages::portal::routes())
        .merge(pages::portal_admin::routes())
        .merge(pages::visits::routes())
        .merge(api::router())
        .route("/healthz", get(healthz))
        .route("/static/style.css", get(stylesheet))
        .route("/favicon.ico", get(favicon))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::session_layer,
        ))
        .layer(axum::middleware::from_fn(security::request_log))
        .layer(axum::middleware::map_response(security::security_headers))
        .layer(axum::middleware::map_response(move |response: Response| {
            security::strict_transport_security(response, hsts)
        }))
        .with_state(state)
}

/// `/`: a signed-in person's start page; a visitor without a session lands on the public
/// portal, whose every page links to the sign-in page for staff.
async fn home(axum::Extension(viewer): axum::Extension<Viewer>) -> Response {
    match viewer.account() {
        Ok(account) => Redirect::to(&pages::home_of(account)).into_response(),
        Err(_) => Redirect::to("/portal").into_response(),
    }
}

/// The stylesheet, followed by the charts' own rules: the Content-Security-Policy refuses the
/// `<style>` inside inline SVG, so the page's stylesheet carries it.
async fn stylesheet() -> Response {
    static CSS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let css = CSS.get_or_init(|| {
        format!(
            "{}\n{}\n",
            include_str!("../static/style.css"),
            zhenxing_charts::STYLE
        )
    });
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        css.as_str(),
    )
        .into_response()
}

/// The site's icon, built into the binary: browsers ask for `/favicon.ico` on every page (a 404
/// there is a console error in each), and the pages' `<link rel="icon">` names it too.
async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/favicon.svg"),
    )
        .into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    let ok = state.db.stats(None).await.is_ok();
    let (status, body) = if ok {
        (axum::http::StatusCode::OK, r#"{"status":"ok"}"#)
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable"}"#,
        )
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Serves on a bound listener until Ctrl-C or SIGTERM, with client addresses available to
/// the sign-in rate limit and the audit trail.
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    announce(listener.local_addr()?, &state);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

/// [`serve_on`] over TLS ([`tls`]); `state`'s configuration should be
/// [`WebConfig::served_over_tls`].
pub async fn serve_tls_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    announce(listener.local_addr()?, &state);
    axum::serve(
        tls::TlsListener::new(listener, tls)?,
        tls::PeerMakeService::new(router(state)),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

fn announce(address: SocketAddr, state: &AppState) {
    tracing::info!(address = %address, "serving");
    tokio::spawn(keep_figures_warm(state.clone()));
}

/// Fills the figure cache at start and again just after every midnight in China, so that no
/// visitor waits for the full read of a new day (seconds at full scale). The figures are
/// current without this; it only moves the wait off the first request of the day.
async fn keep_figures_warm(state: AppState) {
    let Ok(municipality) =
        zhenxing_core::DivisionCode::parse(zhenxing_store::divisions::MUNICIPALITY)
    else {
        return;
    };
    loop {
        let today = zhenxing_core::china_time::today_in_china();
        if let Err(e) = state
            .figures
            .division(&state.db, &municipality, today)
            .await
        {
            tracing::warn!(error = %e, "filling the figure cache failed");
        }
        let now = time::OffsetDateTime::now_utc().to_offset(zhenxing_core::china_time::CHINA);
        let midnight = (now.date() + time::Duration::days(1))
            .midnight()
            .assume_offset(zhenxing_core::china_time::CHINA);
        let wait = midnight - now + time::Duration::seconds(1);
        let wait =
            std::time::Duration::try_from(wait).unwrap_or(std::time::Duration::from_secs(60));
        tokio::time::sleep(wait).await;
    }
}

pub async fn serve(state: AppState, bind: SocketAddr) -> std::io::Result<()> {
    serve_on(tokio::net::TcpListener::bind(bind).await?, state).await
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
