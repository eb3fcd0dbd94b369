//! Helpers of the CLI tests: running the binary, fresh databases per backend, reading fixtures.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use sqlx::Connection;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A command that runs longer than this is stuck (a lock, a prompt): kill it and fail, rather
/// than hang the suite. Not a performance assertion.
const STUCK: Duration = Duration::from_secs(600);

/// `#[test]`s for each scenario on each backend: `scenarios!(a, b)` in a test file makes
/// `sqlite::a` and `postgres::a` (skipped with a note when `TEST_DATABASE_URL` is not set), each
/// calling the file's `fn a(env: Env)`. The file imports `Env` and `Backend` from here. Exported
/// so that every test binary that includes this module can call it by name.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Env::new(super::Backend::Sqlite)); } )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    match super::Env::postgres() {
                        Some(env) => super::$name(env),
                        None => eprintln!("skipped: TEST_DATABASE_URL is not set"),
                    }
                }
            )*
        }
    };
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's world: a temporary directory for files (and SQLite databases) and, on
/// PostgreSQL, the databases it created (dropped at the end, best effort).
pub struct Env {
    pub backend: Backend,
    dir: tempfile::TempDir,
    admin_url: Option<String>,
    created: RefCell<Vec<String>>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Env {
    pub fn new(backend: Backend) -> Env {
        let admin_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                Some(std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL for PostgreSQL"))
            }
        };
        Env {
            backend,
            dir: tempfile::tempdir().expect("a temporary directory"),
            admin_url,
            created: RefCell::new(Vec::new()),
        }
    }

    /// `None` when no PostgreSQL server is configured; in CI that is an error.
    pub fn postgres() -> Option<Env> {
        if std::env::var_os("TEST_DATABASE_URL").is_none() {
            if std::env::var_os("CI").is_some() {
                panic!("TEST_DATABASE_URL is not set in CI: the PostgreSQL CLI tests must run");
            }
            return None;
        }
        Some(Env::new(Backend::Postgres))
    }

    /// A file path in the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The URL of a database nobody has opened yet (the CLI migrates and seeds it).
    pub fn fresh_db(&self, name: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.path(&format!("{name}.db")).display()),
            Backend::Postgres => {
                let admin = self.admin_url.as_deref().expect("admin URL");
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                let clean: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let db = format!("zx_cli_{}_{nanos}_{n}_{clean}", std::process::id());
                block_on(async {
                    let mut conn = sqlx::PgConnection::connect(admin)
                        .await
                        .unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL: {e}"));
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                        .execute(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("CREATE DATABASE {db}: {e}"));
                    let _ = conn.close().await;
                });
                self.created.borrow_mut().push(db.clone());
                with_database(admin, &db)
            }
        }
    }

    /// Runs statements behind zhenxing's back, as someone with access to the database would.
    pub fn execute(&self, url: &str, statements: &[&str]) {
        block_on(async {
            match self.backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
                    for s in statements {
                        sqlx::query(sqlx::AssertSqlSafe(*s))
                            .execute(&mut c)
                            .await
                            .unwrap_or_else(|e| panic!("{s}: {e}"));
                    }
                    c.close().await.unwrap();
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                    for s in statements {
                        sqlx::query(sqlx::AssertSqlSafe(*s))
                            .execute(&mut c)
                            .await
                            .unwrap_or_else(|e| panic!("{s}: {e}"));
                    }
                    c.close().await.unwrap();
                }
            }
        })
    }

    /// Alters the actor of the first `registry.write` audit record behind zhenxing's back
    /// (dropping the append-only trigger first); returns its sequence number.
    pub fn tamper_with_audit_actor(&self, url: &str) -> i64 {
        const FIND: &str = "SELECT MIN(seq) FROM audit_log WHERE action = 'registry.write'";
        const UPDATE: &str = "UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = $1";
        block_on(async {
            match self.backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
                    let seq: Option<i64> =
                        sqlx::query_scalar(FIND).fetch_one(&mut c).await.unwrap();
                    let seq = seq.expect("no registry.write record in the audit log");
                    sqlx::query("DROP TRIGGER audit_log_no_update")
                        .execute(&mut c)
                        .await
                        .unwrap();
                    let done = sqlx::query(UPDATE).bind(seq).execute(&mut c).await.unwrap();
                    assert_eq!(done.rows_affected(), 1);
                    c.close().await.unwrap();
                    seq
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                    let seq: Option<i64> =
                        sqlx::query_scalar(FIND).fetch_one(&mut c).await.unwrap();
                    let seq = seq.expect("no registry.write record in the audit log");
                    sqlx::query("DROP TRIGGER audit_log_no_change ON audit_log")
                        .execute(&mut c)
                        .await
                        .unwrap();
                    let done = sqlx::query(UPDATE).bind(seq).execute(&mut c).await.unwrap();
                    assert_eq!(done.rows_affected(), 1);
                    c.close().await.unwrap();
                    seq
                }
            }
        })
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let (Some(admin), dbs) = (self.admin_url.as_deref(), self.created.take()) else {
            return;
        };
        if dbs.is_empty() {
            return;
        }
        block_on(async {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                for db in dbs {
                    let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
                let _ = conn.close().await;
            }
        });
    }
}

/// `postgres://u@h:p/admin?x=y` with the database replaced.
fn with_database(admin: &str, db: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[scheme_end..].rfind('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn all(&self) -> String {
        format!(
            "$ zhenxing {}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    pub fn assert_success(&self, what: &str) -> &Self {
        assert!(self.success(), "{what}: failed\n{}", self.all());
        self
    }

    /// The needle in stdout or stderr.
    pub fn assert_contains(&self, needle: &str, what: &str) -> &Self {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "{what}: the output does not contain “{needle}”\n{}",
            self.all()
        );
        self
    }
}

/// The audit anchor's key and checkpoint files of a test's PostgreSQL database.
fn postgres_audit_anchor(url: &str) -> (PathBuf, PathBuf) {
    let name = url.rsplit('/').next().unwrap_or("postgres");
    let dir = std::env::temp_dir();
    (
        dir.join(format!("{name}.audit-key")),
        dir.join(format!("{name}.audit-checkpoint")),
    )
}

/// The audit anchor's files of the tests for the binary run with `args`: a PostgreSQL
/// database's would default to the working directory (the crate's), and every run on one
/// database must use the same key (the chain is keyed with it).
pub fn anchor_env(cmd: &mut Command, args: &[&str]) {
    cmd.env_remove("ZHENXING_AUDIT_KEY")
        .env_remove("ZHENXING_AUDIT_CHECKPOINT")
        .env_remove("ZHENXING_KEY_FILE")
        .env_remove("ZHENXING_KEYS");
    // A PostgreSQL database's audit anchor and key file would default to the working directory
    // (the crate's).
    if let Some(url) = args.iter().find(|a| a.starts_with("postgres")) {
        let (key, checkpoint) = postgres_audit_anchor(url);
        cmd.env("ZHENXING_AUDIT_KEY", key)
            .env("ZHENXING_AUDIT_CHECKPOINT", checkpoint)
            .env("ZHENXING_KEY_FILE", key_file(url));
    }
}

/// The database `url` opened with the store API as the CLI opens it: anchored in the same files
/// (its audit chain is keyed, and a record written unkeyed after keyed ones is a downgrade),
/// with the same key file.
pub async fn open_db(url: &str) -> zhenxing_store::Db {
    let (key, checkpoint) = match url.strip_prefix("sqlite://") {
        Some(_) => (None, None),
        None => {
            let (key, checkpoint) = postgres_audit_anchor(url);
            (Some(key), Some(checkpoint))
        }
    };
    zhenxing_store::Db::open_anchored(url, key, checkpoint, &key_config(url))
        .await
        .unwrap()
}

/// The audit checkpoint file of the database `url`, where the CLI writes it in the tests.
pub fn audit_checkpoint_file(url: &str) -> PathBuf {
    match url.strip_prefix("sqlite://") {
        Some(file) => PathBuf::from(format!("{file}.audit-checkpoint")),
        None => postgres_audit_anchor(url).1,
    }
}

/// The key file of the database `url`, where the CLI writes it in the tests: beside the SQLite
/// file (the default), in the temporary directory for PostgreSQL.
pub fn key_file(url: &str) -> PathBuf {
    match url.strip_prefix("sqlite://") {
        Some(file) => PathBuf::from(format!("{file}.keys")),
        None => {
            let name = url.rsplit('/').next().unwrap_or("postgres");
            std::env::temp_dir().join(format!("{name}.keys"))
        }
    }
}

/// The database `url` opened with the store API and its key file, as the CLI opens it.
/// The key configuration the CLI uses for the database `url` in the tests.
fn key_config(url: &str) -> zhenxing_store::keys::KeyConfig {
    zhenxing_store::keys::KeyConfig {
        key_file: Some(key_file(url)),
        ..Default::default()
    }
}

/// `zhenxing --database DB --lang en ARGS...`
pub fn zx(db: &str, args: &[&str]) -> Run {
    let mut all = vec!["--database", db, "--lang", "en"];
    all.extend_from_slice(args);
    zx_in(None, &all)
}

/// The binary with exactly these arguments, the environment's ZHENXING_* variables removed.
pub fn zx_in(cwd: Option<&Path>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zhenxing"));
    cmd.args(args)
        .env_remove("ZHENXING_DATABASE_URL")
        .env_remove("ZHENXING_LANG")
        .env_remove("ZHENXING_LOG")
        .env_remove("ZHENXING_AUDIT_KEY")
        .env_remove("ZHENXING_AUDIT_CHECKPOINT");
    anchor_env(&mut cmd, args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().expect("the zhenxing binary runs");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for zhenxing") {
            break status;
        }
        if started.elapsed() > STUCK {
            let _ = child.kill();
            let _ = child.wait();
            panic!("zhenxing {} did not finish; killed", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// `stats --json [extra]` as a JSON object.
pub fn stats(db: &str, extra: &[&str]) -> serde_json::Map<String, Value> {
    let mut args = vec!["stats", "--json"];
    args.extend_from_slice(extra);
    let run = zx(db, &args);
    run.assert_success("stats --json");
    match serde_json::from_str::<Value>(&run.stdout) {
        Ok(Value::Object(m)) => m,
        other => panic!(
            "stats --json is not a JSON object: {other:?}\n{}",
            run.all()
        ),
    }
}

/// The number written just before `word` in a summary line (`… 12 opened, 3 updated …`).
pub fn number_before(line: &str, word: &str) -> u64 {
    let i = line
        .find(word)
        .unwrap_or_else(|| panic!("no '{word}' in {line}"));
    line[..i]
        .trim_end()
        .rsplit([' ', ':', ','])
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before '{word}' in {line}"))
}

/// The number of audit records `audit verify` counts (and it must pass).
pub fn audit_records(db: &str) -> u64 {
    let run = zx(db, &["audit", "verify"]);
    run.assert_success("audit verify");
    run.stdout
        .lines()
        .find_map(|l| l.split_once(" audit records"))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("audit verify does not say how many records:\n{}", run.all()))
}

/// The `(row, column)` pairs of a sidecar `*.expected.txt`.
pub fn read_sidecar(path: &Path) -> Vec<(u64, String)> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("sidecar {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let row = f.next().and_then(|r| r.parse().ok());
            let col = f.next();
            match (row, col) {
                (Some(row), Some(col)) => (row, col.to_owned()),
                _ => panic!("malformed sidecar line in {}: {l}", path.display()),
            }
        })
        .collect()
}

/// The problem lines of an English report: `row N...` or `file...` at the start of a line
/// (warnings are indented).
pub fn problem_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("row ") || l.starts_with("file:") || l.starts_with("file,"))
        .collect()
}

/// Every sidecar `(row, column)` has its line, and there are no other problem lines.
pub fn assert_problems_match_sidecar(run: &Run, sidecar: &[(u64, String)]) -> Result<(), String> {
    let lines = problem_lines(&run.stdout);
    let mut missing = Vec::new();
    for (row, col) in sidecar {
        let found = if *row == 0 {
            lines.iter().any(|l| l.starts_with("file"))
        } else {
            let prefix = format!("row {row}, column “{col}”");
            lines.iter().any(|l| l.starts_with(&prefix))
        };
        if !found {
            missing.push(format!("({row}, {col})"));
        }
    }
    let mut errors = Vec::new();
    if !missing.is_empty() {
        errors.push(format!("missing problems {}", missing.join(" ")));
    }
    if lines.len() != sidecar.len() {
        errors.push(format!(
            "{} problem lines, the sidecar has {}",
            lines.len(),
            sidecar.len()
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{}", errors.join("; "), run.all()))
    }
}

/// The two texts hold the same lines (as multisets); shows the difference if not.
pub fn assert_same_lines(a: &str, b: &str, name_a: &str, name_b: &str) {
    let mut count: HashMap<&str, i64> = HashMap::new();
    for l in a.lines() {
        *count.entry(l).or_default() += 1;
    }
    for l in b.lines() {
        *count.entry(l).or_default() -= 1;
    }
    let mut only_a: Vec<&str> = count
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(l, _)| *l)
        .collect();
    let mut only_b: Vec<&str> = count
        .iter()
        .filter(|(_, n)| **n < 0)
        .map(|(l, _)| *l)
        .collect();
    if only_a.is_empty() && only_b.is_empty() {
        return;
    }
    only_a.sort_unstable();
    only_b.sort_unstable();
    panic!(
        "{name_a} ({} lines) and {name_b} ({} lines) differ: {} lines only in {name_a}, {} only in {name_b}\nonly in {name_a}:\n{}\nonly in {name_b}:\n{}",
        a.lines().count(),
        b.lines().count(),
        only_a.len(),
        only_b.len(),
        only_a
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join("\n"),
        only_b
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[test]
fn database_urls_for_fresh_postgres_databases() {
    assert_eq!(
        with_database("postgres://u@h:5/postgres", "x"),
        "postgres://u@h:5/x"
    );
    assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
    assert_eq!(
        with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
        "postgresql://u:p@h/x?sslmode=disable"
    );
}
