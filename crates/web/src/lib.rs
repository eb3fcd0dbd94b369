//! The only crate that knows HTTP. Until the web application lands (issue 3) it serves a status
//! page with the registry's figures and `/healthz`; every answer carries the security headers
//! a government system is assessed on.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use zhenxing_store::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Every page says so when the registry is synthetic.
    pub demo: bool,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cache-control", "no-store");
    response
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.stats(None).await {
        Ok(_) => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ok"}"#,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"status":"unavailable"}"#,
            )
                .into_response()
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(PAGE_HEAD.to_owned() + "<main><h1>未找到 / Not found</h1></main></body></html>"),
    )
        .into_response()
}

const PAGE_HEAD: &str = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>振兴 zhenxing</title><style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:48rem}\
table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.demo{background:#fff3cd;padding:.5rem}</style></head><body>";

async fn status_page(State(state): State<AppState>) -> Response {
    let stats = match state.db.stats(None).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "status page failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Html("服务暂不可用 / Service unavailable"),
            )
                .into_response();
        }
    };
    let mut html = String::from(PAGE_HEAD);
    if state.demo {
        html.push_str("<p class=\"demo\">演示数据：本系统中的人员与数据均为合成，并非真实。/ Demo: every person and figure here is synthetic.</p>");
    }
    html.push_str("<main><h1>振兴 · 重庆市乡村振兴信息系统</h1><p>zhenxing: the information system of the Chongqing bureau of rural revitalization</p><table>");
    for (zh, en, value) in stats.labelled() {
        html.push_str(&format!(
            "<tr><th>{zh} / {en}</th><td class=\"n\">{value}</td></tr>"
        ));
    }
    html.push_str("</table></main></body></html>");
    Html(html).into_response()
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, bind: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
