//! Server-rendered pages: one module per part of the application, askama templates in
//! `templates/` (escaped by default: text from users is shown as text, never run).

pub mod account_batch;
pub mod accounts;
pub mod assistance;
pub mod audit;
pub mod cases;
pub mod coverage;
pub mod department;
pub mod divisions;
pub mod download;
pub mod factor;
pub mod households;
pub mod list_export;
pub mod monitoring;
pub mod place_names;
pub mod portal;
pub mod portal_admin;
pub mod reports;
pub mod reveal;
pub mod security_policy;
pub mod statistics;
pub mod tasks;
pub mod timeline;
pub mod transfer;
pub mod visits;
pub mod warnings;

use crate::AppState;
use crate::auth::Viewer;
use crate::i18n::Tr;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use zhenxing_core::Action;

pub use crate::extract::{Params, blank};

/// What every page shows around its content: title, language, the account and its menu, the
/// CSRF token for the forms in the header, the demo banner.
pub struct Chrome {
    pub tr: Tr,
    pub title: String,
    pub demo: bool,
    pub account_name: Option<String>,
    pub role_label: String,
    pub csrf: String,
    pub can_audit: bool,
    pub can_accounts: bool,
    pub can_write: bool,
    pub can_export: bool,
    /// The monitoring pages (rule sets, and for some roles re-screening and what-if).
    pub can_monitoring: bool,
    pub can_upload: bool,
    pub can_read: bool,
    /// The procedures' cases (identification, risk elimination).
    pub can_cases: bool,
    pub can_settings: bool,
    /// The public line's tickets, and the portal's publications (issue 7).
    pub can_tickets: bool,
    pub can_portal: bool,
    pub home: String,
    /// The account's division page (the menu's "区划").
    pub division_home: String,
    /// 我的待办 (every role but the auditor).
    pub can_tasks: bool,
    /// The menu's counts of the account's own work (none for anonymous visitors and when
    /// they could not be read).
    pub badges: tasks::Badges,
}

impl Chrome {
    pub fn new(state: &AppState, viewer: &Viewer, title: String) -> Chrome {
        let tr = Tr::new(state.i18n.clone(), viewer.lang);
        let account = viewer.account.as_ref();
        Chrome {
            title,
            demo: state.demo,
            account_name: account.map(|a| a.name.clone()),
            role_label: account
                .map(|a| a.role.label(viewer.lang).to_owned())
                .unwrap_or_default(),
            csrf: viewer.csrf.clone().unwrap_or_default(),
            can_audit: account.is_some_and(|a| a.may(Action::ReadAudit)),
            can_accounts: account.is_some_and(|a| a.may(Action::ManageAccounts)),
            can_write: account.is_some_and(|a| a.may(Action::WriteRegistry)),
            can_export: account.is_some_and(|a| a.may(Action::ExportRegistry)),
            can_monitoring: account.is_some_and(|a| a.may(Action::ReadRuleSets)),
            can_upload: account.is_some_and(|a| a.may(Action::UploadDepartmentData)),
            can_read: account.is_some_and(|a| a.may(Action::ReadRegistry)),
            can_cases: account.is_some_and(|a| a.may(Action::ReadCases)),
            can_settings: account.is_some_and(|a| a.may(Action::ManageSettings)),
            can_tickets: account.is_some_and(|a| a.may(Action::ReadTickets)),
            can_portal: account.is_some_and(|a| a.may(Action::ManagePortal)),
            home: account.map(home_of).unwrap_or_else(|| "/login".to_owned()),
            division_home: account
                .map(|a| format!("/divisions/{}", a.division.as_str()))
                .unwrap_or_default(),
            can_tasks: account.is_some_and(has_tasks),
            badges: viewer.badges.unwrap_or_default(),
            tr,
        }
    }

    /// A message in the page's language, by key (templates call `c.t` with the key).
    pub fn t(&self, key: &str) -> String {
        self.tr.t(key)
    }

    pub fn other_lang(&self) -> &'static str {
        if self.tr.is_en() { "zh" } else { "en" }
    }
}

/// An account's first page: 我的待办 for every role that works lists, the audit trail for the
/// auditor.
pub fn home_of(account: &zhenxing_store::accounts::Account) -> String {
    if has_tasks(account) {
        "/tasks".to_owned()
    } else if account.may(Action::ReadAudit) {
        "/audit".to_owned()
    } else {
        format!("/divisions/{}", account.division.as_str())
    }
}

/// Whether the account works lists that 我的待办 counts (every staff role but the auditor).
pub fn has_tasks(account: &zhenxing_store::accounts::Account) -> bool {
    [
        Action::ReadRegistry,
        Action::UploadDepartmentData,
        Action::ManageAccounts,
    ]
    .into_iter()
    .any(|a| account.may(a))
}

/// Renders a template as an HTML response; a template failure is an internal error.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = html.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Renders a form page; 422 when it shows refusals (`refused`), so that clients and tests can
/// tell a page that refused a submission from one that shows a fresh form.
pub fn render_form(template: &impl Template, refused: bool) -> Response {
    let mut response = render(template);
    if refused && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// A response answered with `status` instead of its own (a form page refused as 422, an
/// upload refused as 413).
pub fn with_status(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    response
}

/// A record's id from the path: a positive whole number, else no such record (404).
pub fn parse_id(id: &str) -> crate::error::AppResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(crate::error::AppError::NotFound)
}

/// Stored risk type codes (`illness,disability`) as words in `lang`, joined.
pub fn risk_labels(codes: &str, lang: zhenxing_core::Lang) -> String {
    let sep = if lang == zhenxing_core::Lang::Zh {
        "、"
    } else {
        ", "
    };
    codes
        .split(',')
        .filter_map(zhenxing_core::monitoring::RiskType::from_code)
        .map(|r| r.label(lang))
        .collect::<Vec<_>>()
        .join(sep)
}

/// A form's fields as posted, in order; checkboxes repeat their name. Each page adds the
/// readers it needs (`impl Fields` in its own module). For forms whose checkboxes repeat a name
/// (risk types, members), which a serde struct cannot read from a form body
/// (`serde_urlencoded` has no sequences).
#[derive(serde::Deserialize, Debug, Default, Clone)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; empty when absent.
    pub fn one(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Every value of `name`, trimmed.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v.trim() == value)
    }
}

/// A settings field that must be a whole number of days; `what` names it in both languages.
pub fn whole_days(s: &str, what: (&str, &str)) -> Result<i64, zhenxing_core::Text> {
    s.trim().parse::<i64>().map_err(|_| {
        zhenxing_core::Text::new(
            format!("{}应为整数天数", what.0),
            format!("{} must be a whole number of days", what.1),
        )
    })
}

/// After a saved form: back to `path` with `saved=1`, which the page shows as "已保存".
pub fn saved_redirect(path: &str) -> Response {
    axum::response::Redirect::to(&format!("{path}?{}", query_string(&[("saved", "1")])))
        .into_response()
}

/// Whether a `back=` value (where a form returns to) is a path of this site: it starts with a
/// single `/` not followed by another `/` or `\`, has no `\`, and no control character,
/// whitespace or direction mark, neither as sent nor once percent-decoded; as sent it is
/// plain ASCII (a `Location` header cannot carry anything else). Anything else could send
/// people elsewhere (`//evil.example`, or `/\t/evil.example`, since browsers drop tabs).
pub fn is_local_path(back: &str) -> bool {
    fn local(s: &str) -> bool {
        let bytes = s.as_bytes();
        bytes.first() == Some(&b'/')
            && !matches!(bytes.get(1), Some(b'/' | b'\\'))
            && !s.contains('\\')
            && !s.chars().any(|c| {
                c.is_control()
                    || c.is_whitespace()
                    || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            })
    }
    back.bytes().all(|b| b.is_ascii_graphic()) && local(back) && local(&percent_decode(back))
}

/// `back` when it is a local path ([`is_local_path`]), otherwise `default`.
pub fn local_or(back: Option<&str>, default: &str) -> String {
    back.filter(|b| is_local_path(b))
        .unwrap_or(default)
        .to_owned()
}

/// Decodes `%XX` escapes once; a broken escape stays as it is, invalid UTF-8 is replaced.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The page number of an offset-paginated list (`page=N`, from 0); none is the first.
pub fn page_number(page: &Option<String>) -> crate::error::AppResult<i64> {
    match blank(page) {
        None => Ok(0),
        Some(p) => p
            .parse::<i64>()
            .ok()
            .filter(|p| (0..=100_000).contains(p))
            .ok_or_else(|| {
                crate::error::AppError::bad_request("页码有误", "the page number is not valid")
            }),
    }
}

/// `k=v&...` of the non-empty pairs, values percent-encoded.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The links of a keyset-paginated list at `path` with the filter `values`: the next page
/// (the cursor parameter `cursor` set to `next`), and the first page when this is not it.
pub fn pager(
    path: &str,
    values: &[(&str, &str)],
    cursor: &str,
    next: Option<i64>,
    on_first_page: bool,
) -> (Option<String>, Option<String>) {
    let next = next.map(|n| {
        let n = n.to_string();
        let mut pairs = values.to_vec();
        pairs.push((cursor, &n));
        format!("{path}?{}", query_string(&pairs))
    });
    let first = (!on_first_page).then(|| format!("{path}?{}", query_string(values)));
    (next, first)
}

/// A stored attachment (a case's scan, a ticket's photo) as a download: always saved, never
/// shown in the page's origin, its name percent-encoded, and not kept in caches.
pub fn send_attachment(name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let encoded = urlencode(name);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// Yuan with two decimals from fen, grouped by thousands (`12,345.67`).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

/// A count grouped by thousands.
pub fn count(n: i64) -> String {
    let y = yuan(n * 100);
    y[..y.len() - 3].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_is_a_local_path_or_nothing() {
        for ok in [
            "/",
            "/divisions/500229000000",
            "/households?page=2&q=%E7%8E%8B",
        ] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/a b",
            "/x\0y",
            "/\u{202e}x",
            "/%E2%80%AEx",
            "/ok%0d%0aSet-Cookie:x=1",
            "divisions",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
        assert_eq!(local_or(Some("//evil.example"), "/"), "/");
        assert_eq!(local_or(None, "/portal"), "/portal");
    }

    #[test]
    fn money_and_counts_read_well() {
        assert_eq!(yuan(123_456_789), "1,234,567.89");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(count(1_906_000), "1,906,000");
        assert_eq!(count(38), "38");
    }
}
