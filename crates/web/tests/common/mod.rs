#![allow(dead_code, clippy::unwrap_used)] // shared by several test files; tests unwrap
//! Test servers: the real application on port 0 over a fresh database (SQLite always,
//! PostgreSQL when `TEST_DATABASE_URL` is set), holding the four households of
//! `fixtures/registry/good-utf8.csv` and one account per role, driven over real HTTP. The three
//! administrators' accounts have a second factor, enrolled through the store with a code
//! computed here; signing in as them takes the real two steps with codes computed here.

use axum::body::Body;
use axum::http::Request;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::net::SocketAddr;
use zhenxing_core::{DivisionCode, Role};
use zhenxing_store::registry::{MonitoringPermission, WriteRequest};
use zhenxing_store::testing::{self, TestDb};

pub const PASSWORD: &str = "Test-password-2026";

/// The accounts every test server has: (name, role, division).
pub const ACCOUNTS: &[(&str, Role, &str)] = &[
    ("admin", Role::MunicipalAdmin, "500000000000"),
    ("security", Role::SecurityAdmin, "500000000000"),
    ("chengkou", Role::CountyOfficer, "500229000000"),
    ("bashan", Role::TownshipOfficer, "500229102000"),
    ("lixin", Role::VillageCadre, "500229102202"),
    ("other_village", Role::VillageCadre, "500229104201"),
    ("wuxi", Role::CountyOfficer, "500238000000"),
    ("auditor", Role::Auditor, "500000000000"),
    ("department", Role::DepartmentOfficer, "500000000000"),
];

/// The fixture's households: (number, village).
pub const HOUSEHOLDS: &[(&str, &str)] = &[
    ("CK0001", "500229102202"),
    ("CK0002", "500229104201"),
    ("WX0001", "500238101203"),
    ("WX0002", "500238103202"),
];

pub struct Server {
    pub addr: SocketAddr,
    pub test_db: TestDb,
    task: tokio::task::JoinHandle<()>,
    /// The second-factor secrets of the accounts that have one, by name.
    pub secrets: HashMap<String, Vec<u8>>,
    /// Each factor account's signed-in cookies and the last time step used, so that tests that
    /// sign in as it many times share one session and never replay a code.
    factor_sessions: std::sync::Mutex<HashMap<String, HashMap<String, String>>>,
    last_steps: std::sync::Mutex<HashMap<String, i64>>,
}

/// The current TOTP time step.
pub fn step_now() -> i64 {
    zhenxing_store::factor::step_at(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// Enrols a second factor for `account` through the store, as the enrolment page does, with
/// the code of the current step; the secret and the step used.
pub async fn enrol(db: &zhenxing_store::Db, name: &str) -> (Vec<u8>, i64) {
    let account = db.account_by_name(name).await.unwrap().unwrap();
    let enrolment = db.begin_factor_enrolment(&account).await.unwrap();
    let secret = zhenxing_store::factor::base32_decode(&enrolment.secret_base32).unwrap();
    let step = step_now();
    let code = zhenxing_store::factor::totp_code(&secret, step);
    db.confirm_factor_enrolment(&account, &code, "test")
        .await
        .unwrap();
    (secret, step)
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/registry")
        .join(name)
}

impl Server {
    /// One server per configured database.
    pub async fn all() -> Vec<Server> {
        let mut servers = Vec::new();
        for test_db in testing::all().await.unwrap() {
            servers.push(Server::start(test_db).await);
        }
        servers
    }

    pub async fn start(test_db: TestDb) -> Server {
        Server::start_with(test_db, zhenxing_web::WebConfig::default(), true).await
    }

    /// One server per configured database, with `config`, and with the fixture's households
    /// or (`households` false) with the accounts only.
    pub async fn all_with(config: zhenxing_web::WebConfig, households: bool) -> Vec<Server> {
        let mut servers = Vec::new();
        for test_db in testing::all().await.unwrap() {
            servers.push(Server::start_with(test_db, config.clone(), households).await);
        }
        servers
    }

    pub async fn start_with(
        test_db: TestDb,
        config: zhenxing_web::WebConfig,
        households: bool,
    ) -> Server {
        let db = test_db.db.clone();
        if households {
            let today = zhenxing_core::china_time::today_in_china();
            let parsed =
                zhenxing_io::registry::parse_registry(&fixture("good-utf8.csv"), today, &|_| {});
            assert!(
                parsed.report.problems.is_empty(),
                "{:?}",
                parsed.report.problems.len()
            );
            let request = WriteRequest {
                actor: "test".into(),
                source: "fixture good-utf8.csv".into(),
                reason: None,
                dry_run: false,
                known_new: false,
                defer_counts: false,
                // The fixture's monitored household, registered before zhenxing.
                monitoring: MonitoringPermission::LegacyMonitoring,
            };
            db.write_households(&parsed.households, &request, &|_| {})
                .await
                .unwrap();
        }
        for (name, role, division) in ACCOUNTS {
            db.create_account(
                name,
                *role,
                &DivisionCode::parse(division).unwrap(),
                PASSWORD,
                "test",
            )
            .await
            .unwrap();
            // The fixture's accounts are used as they are (a new account must otherwise
            // change its password first: accounts_pages.rs tests that).
            db.waive_password_change(name, "test").await.unwrap();
        }
        let (mut secrets, mut last_steps) = (HashMap::new(), HashMap::new());
        for (name, role, _) in ACCOUNTS {
            if role.requires_second_factor() {
                let (secret, step) = enrol(&db, name).await;
                secrets.insert((*name).to_owned(), secret);
                last_steps.insert((*name).to_owned(), step);
            }
        }
        // Tests sign in as the same account many times and keep using the first session.
        let policy = zhenxing_store::security_policy::SecurityPolicy {
            max_sessions: 20,
            ..db.security_policy().await.unwrap()
        };
        db.set_security_policy("test", &policy)
            .await
            .unwrap()
            .unwrap();
        let state = zhenxing_web::AppState::new(db, true, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                zhenxing_web::router(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Server {
            addr,
            test_db,
            task,
            secrets,
            factor_sessions: std::sync::Mutex::new(HashMap::new()),
            last_steps: std::sync::Mutex::new(last_steps),
        }
    }

    /// The last time step of `name`'s factor used (by the enrolment or a sign-in).
    pub fn last_step(&self, name: &str) -> i64 {
        self.last_steps.lock().unwrap()[name]
    }

    /// The next code of `name`'s factor that is not a replay: the first step after the last
    /// one used, no earlier than one step back; waits for the clock when both the current and
    /// the next step are used up.
    pub async fn next_code(&self, name: &str) -> String {
        let secret = self
            .secrets
            .get(name)
            .unwrap_or_else(|| panic!("{name} has no factor"));
        loop {
            let now = step_now();
            let step = {
                let mut last = self.last_steps.lock().unwrap();
                let entry = last.entry(name.to_owned()).or_insert(now - 2);
                // Not the step before now: on a busy machine the clock may pass into the next
                // step before the server checks it, and two steps back is refused.
                let step = (*entry + 1).max(now);
                if step <= now + 1 {
                    *entry = step;
                    Some(step)
                } else {
                    None
                }
            };
            match step {
                Some(step) => return zhenxing_store::factor::totp_code(secret, step),
                None => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
            }
        }
    }

    /// Signs `client` in with a password and, for an account with a factor, its next code.
    /// The answer to the last step.
    pub async fn sign_in_fully(&self, client: &mut Client, name: &str, password: &str) -> Response {
        let first = client.sign_in(name, password).await;
        if first.header("location") != Some("/login/code") {
            return first;
        }
        let code = self.next_code(name).await;
        client.submit_code(&code).await
    }

    pub fn client(&self) -> Client {
        Client::new(self.addr)
    }

    /// A client signed in as `name` (an account with a factor shares one session per server).
    pub async fn signed_in(&self, name: &str) -> Client {
        let mut client = self.client();
        if self.secrets.contains_key(name) {
            let cached = self.factor_sessions.lock().unwrap().get(name).cloned();
            if let Some(cookies) = cached {
                client.cookies = cookies;
                return client;
            }
        }
        let response = self.sign_in_fully(&mut client, name, PASSWORD).await;
        assert_eq!(response.status, 303, "sign-in as {name}: {}", response.body);
        assert_eq!(response.header("location"), Some("/"), "sign-in as {name}");
        if self.secrets.contains_key(name) {
            self.factor_sessions
                .lock()
                .unwrap()
                .insert(name.to_owned(), client.cookies.clone());
        }
        client
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client().get(path).await
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as sent (downloads are binary).
    pub bytes: Vec<u8>,
}

impl Response {
    /// The cells of the first sheet of a downloaded XLSX file, as text.
    pub fn xlsx_rows(&self) -> Vec<Vec<String>> {
        use calamine::Reader;
        let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(self.bytes.clone())).unwrap();
        let sheet = workbook.worksheet_range_at(0).unwrap().unwrap();
        sheet
            .rows()
            .map(|row| row.iter().map(|cell| cell.to_string()).collect())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the hidden form field `name` (the first one on the page).
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// An HTTP/1.1 client with a cookie jar: hyper's client (`hyper-util`), one connection per
/// request, over plain TCP to the test server.
pub struct Client {
    pub addr: SocketAddr,
    pub cookies: HashMap<String, String>,
    pub bearer: Option<String>,
    /// Further request headers (`X-Forwarded-For` in the proxy tests).
    pub headers: Vec<(String, String)>,
    http: HttpClient<HttpConnector, Body>,
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `path` as a URI may hold it: what a URI may not (non-ASCII, spaces, control characters,
/// quotes, angle brackets, braces) percent-encoded, as a browser sends it; the server decodes it
/// back.
fn uri_path(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Client {
    fn new(addr: SocketAddr) -> Client {
        // No idle connections kept: each request has a connection of its own, as a test that
        // drops its server expects.
        let http = HttpClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build_http();
        Client {
            addr,
            cookies: HashMap::new(),
            bearer: None,
            headers: Vec::new(),
            http,
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Response {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{}", self.addr, uri_path(path)))
            .header("host", "localhost");
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", jar.join("; "));
        }
        if let Some(token) = &self.bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if method != "GET" {
            request = request.header("content-length", body.len());
        }
        let request = request.body(Body::from(body.to_vec())).unwrap();
        let answer = self
            .http
            .request(request)
            .await
            .unwrap_or_else(|e| panic!("no answer to {method} {path}: {e:?}"));
        let status = answer.status().as_u16();
        let headers: Vec<(String, String)> = answer
            .headers()
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_owned(), value)
            })
            .collect();
        let body = axum::body::to_bytes(Body::new(answer.into_body()), usize::MAX)
            .await
            .unwrap_or_else(|e| panic!("the body of {method} {path}: {e:?}"))
            .to_vec();
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap();
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
        }
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            bytes: body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, None, b"").await
    }

    pub async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Response {
        let body = form_encode(pairs);
        self.request(
            "POST",
            path,
            Some("application/x-www-form-urlencoded"),
            body.as_bytes(),
        )
        .await
    }

    pub async fn sign_in(&mut self, name: &str, password: &str) -> Response {
        let page = self.get("/login").await;
        let csrf = page.hidden("csrf");
        self.post_form(
            "/login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// The second step of a sign-in: a code (or recovery code) on the code form.
    pub async fn submit_code(&mut self, code: &str) -> Response {
        let page = self.get("/login/code").await;
        let csrf = page.hidden("csrf");
        self.post_form("/login/code", &[("code", code), ("csrf", &csrf)])
            .await
    }

    /// The CSRF token of the signed-in session (from any page's sign-out form).
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/households").await;
        page.hidden("csrf")
    }
}

// ---------------------------------------------------------------------------------------------
// API helpers

impl Server {
    /// A client that authenticates as `name` with a fresh API token.
    pub async fn api_client(&self, name: &str) -> Client {
        let token = self
            .test_db
            .db
            .create_api_token(name, None, "test")
            .await
            .unwrap()
            .token;
        let mut client = self.client();
        client.bearer = Some(token);
        client
    }
}

impl Client {
    /// A request with a JSON body (`Content-Type: application/json`).
    pub async fn json(&mut self, method: &str, path: &str, body: &serde_json::Value) -> Response {
        let body = serde_json::to_vec(body).unwrap();
        self.request(method, path, Some("application/json"), &body)
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Uploads and background jobs

impl Client {
    /// A `multipart/form-data` POST: text fields, then optionally one file
    /// (field name, file name, content).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Response {
        let files: Vec<_> = file.into_iter().collect();
        self.post_multipart_files(path, fields, &files).await
    }

    /// A `multipart/form-data` POST: text fields, then the files (field name, file name,
    /// content), as a browser sends a form with file inputs.
    pub async fn post_multipart_files(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Response {
        let boundary = "zhenxing-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, file_name, content) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.request(
            "POST",
            path,
            Some(&format!("multipart/form-data; boundary={boundary}")),
            &body,
        )
        .await
    }

    /// Follows a page that refreshes itself (`<meta http-equiv="refresh">`) until it stops,
    /// for at most a minute; the last answer.
    pub async fn until_settled(&mut self, path: &str) -> Response {
        for _ in 0..600 {
            let page = self.get(path).await;
            if page.status != 200 || !page.body.contains("http-equiv=\"refresh\"") {
                return page;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{path} still running after a minute");
    }
}

impl Response {
    /// The text of the element with `id` (tags removed, trimmed).
    pub fn text_of(&self, id: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for ch in self.element(id).chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.trim().to_owned()
    }

    /// The HTML element with `id="{id}"` and everything up to its closing tag of the same
    /// name (no nesting of the same tag inside); empty when absent.
    pub fn element(&self, id: &str) -> &str {
        let marker = format!("id=\"{id}\"");
        let Some(at) = self.body.find(&marker) else {
            return "";
        };
        let start = self.body[..at].rfind('<').unwrap();
        let tag: String = self.body[start + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let close = format!("</{tag}>");
        let end = self.body[start..]
            .find(&close)
            .map_or(self.body.len(), |e| start + e + close.len());
        &self.body[start..end]
    }
}

/// HTML with askama's (and the other usual) character references undone, for comparing with
/// plain strings.
pub fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl Client {
    /// Records a cadre's visit on `household` from its report form, with the risks seen (codes)
    /// and what happened; the answer (a redirect to the new warning).
    pub async fn report_visit(&mut self, household: &str, risks: &[&str], note: &str) -> Response {
        let csrf = self.csrf().await;
        let today = zhenxing_core::china_time::today_in_china().to_string();
        let mut pairs = vec![
            ("csrf", csrf.as_str()),
            ("channel", "visit"),
            ("on", today.as_str()),
            ("category", ""),
            ("note", note),
        ];
        pairs.extend(risks.iter().map(|r| ("risk", *r)));
        self.post_form(&format!("/households/{household}/report"), &pairs)
            .await
    }

    /// Takes a step (`verify`, `dismiss`) on a warning from its page, with the note; the answer.
    pub async fn warning_step(&mut self, warning: i64, step: &str, note: &str) -> Response {
        let page = self.get(&format!("/warnings/{warning}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let (csrf, version) = (page.hidden("csrf"), page.hidden("version"));
        self.post_form(
            &format!("/warnings/{warning}/{step}"),
            &[("csrf", &csrf), ("version", &version), ("note", note)],
        )
        .await
    }
}
