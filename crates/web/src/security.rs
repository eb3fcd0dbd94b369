//! What every answer carries (the security headers an assessor checks) and the request log:
//! method, route template, status and time, never a query string or a form (search boxes and
//! forms hold ID numbers and names).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; style-src 'self'; img-src 'self' data: blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
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

/// HSTS, when the application serves TLS itself: a year, subdomains included (the bureau's
/// hosts are all served over TLS).
pub async fn strict_transport_security(mut response: Response, on: bool) -> Response {
    if on {
        response.headers_mut().insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
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

/// An address or a block of addresses (`10.0.0.1`, `10.0.0.0/8`, `fd00::/8`): one entry of
/// `ZHENXING_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Option<IpRange> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= max)?
            }
            Some(_) => return None,
            None => max,
        };
        Some(IpRange { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer seen on an IPv6 socket (`::ffff:10.0.0.1`) is the IPv4 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let bits = |ip: IpAddr| -> u128 {
            match ip {
                IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
                IpAddr::V6(v6) => u128::from(v6),
            }
        };
        if ip.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let shift = if self.network.is_ipv4() { 32 } else { 128 } - u32::from(self.prefix);
        let mask = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (shift + if self.network.is_ipv4() { 96 } else { 0 })
        };
        bits(ip) & mask == bits(self.network) & mask
    }
}

/// Parses `ZHENXING_TRUSTED_PROXIES`: addresses or blocks, separated by commas or spaces.
pub fn parse_ip_ranges(s: &str) -> Result<Vec<IpRange>, String> {
    s.split([',', ' '])
        .filter(|p| !p.trim().is_empty())
        .map(|p| IpRange::parse(p).ok_or_else(|| p.trim().to_owned()))
        .collect()
}

/// One entry of `X-Forwarded-For` as an address: `1.2.3.4`, `::1`, or with a port
/// (`1.2.3.4:5678`, `[::1]:5678`), as some proxies write it.
pub fn parse_forwarded_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The client's address behind trusted proxies: `peer` sent the request; when it is one of
/// `trusted` (or the list is empty, meaning the proxy in front is the only one), the header
/// is walked from the right, skipping the trusted proxies, and the first other address is the
/// client (every entry to its left was written by the client and proves nothing). An entry
/// on the way that is not an address is an error: the request is refused rather than
/// attributed to a guess (`None`).
pub fn forwarded_client(peer: IpAddr, header: Option<&str>, trusted: &[IpRange]) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !trusted.is_empty() && !is_trusted(peer) {
        return Some(peer);
    }
    let Some(header) = header else {
        return Some(peer);
    };
    let mut client = peer;
    for entry in header.rsplit(',') {
        let ip = parse_forwarded_entry(entry)?;
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_client_is_the_first_untrusted_address_from_the_right() {
        use super::*;
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusted = parse_ip_ranges("10.0.0.0/8, 192.168.1.5").unwrap();
        let proxy = ip("10.1.2.3");
        // A forged first entry is not the client: the address the proxy saw is.
        assert_eq!(
            forwarded_client(proxy, Some("6.6.6.6, 203.0.113.9"), &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            forwarded_client(
                proxy,
                Some("6.6.6.6, 203.0.113.9, 192.168.1.5, 10.0.0.7"),
                &trusted
            ),
            Some(ip("203.0.113.9"))
        );
        // Without a list, the proxy in front appended the rightmost entry.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), Some("6.6.6.6, 198.51.100.1"), &[]),
            Some(ip("198.51.100.1"))
        );
        // A peer that is not a trusted proxy is the client, whatever it wrote.
        assert_eq!(
            forwarded_client(ip("198.51.100.7"), Some("6.6.6.6"), &trusted),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            forwarded_client(proxy, Some("[2001:db8::1]:443"), &trusted),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(forwarded_client(proxy, Some("not-an-ip"), &trusted), None);
        assert_eq!(forwarded_client(proxy, Some("1.2.3.4, "), &trusted), None);
        assert!(parse_ip_ranges("10.0.0.0/33").is_err());
        assert!(parse_ip_ranges("proxy.local").is_err());
        let v6 = IpRange::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(trusted[0].contains(ip("::ffff:10.9.9.9")));
    }

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
