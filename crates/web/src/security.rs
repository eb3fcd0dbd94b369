//! What every answer carries (the security headers an assessor checks) and the request log:
//! method, route template, status and time, never a query string or a form (search boxes and
//! forms hold ID numbers and names).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if !headers.contains_key("cache-control") {
        set(headers, "cache-control", "no-store");
    }
    response
}

pub async fn request_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = route_of(request.uri().path());
    let response = next.run(request).await;
    let account = response.extensions().get::<LoggedAccount>().map(|a| a.0);
    tracing::info!(
        target: "zhenxing_web::request",
        %method,
        route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        account,
        "request"
    );
    response
}

/// The account id behind a response, put there by the session layer for the log.
#[derive(Clone, Copy)]
pub struct LoggedAccount(pub i64);

/// The path with every segment holding three digits or more replaced by `{}`: the shape of
/// the route, without record numbers (`/households/{}/edit`, `/api/v1/me`).
fn route_of(path: &str) -> String {
    let shape: Vec<&str> = path
        .split('/')
        .map(|s| {
            if s.chars().filter(char::is_ascii_digit).count() >= 3 || s.len() > 40 {
                "{}"
            } else {
                s
            }
        })
        .collect();
    shape.join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn routes_are_logged_without_record_numbers() {
        assert_eq!(
            super::route_of("/households/5002290010010001/edit"),
            "/households/{}/edit"
        );
        assert_eq!(super::route_of("/login"), "/login");
        assert_eq!(
            super::route_of("/api/v1/households/CK0001"),
            "/api/v1/households/{}"
        );
    }
}
