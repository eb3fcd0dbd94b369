//! End-to-end tests of `zhenxing user …` and `zhenxing token create`.
//!
//! Like `cli.rs`, every scenario runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL`
//! names a server. Passwords go in on standard input; the binary's answers are compared in
//! English, with one look at the Chinese ones. Each scenario ends by checking the audit trail:
//! its chain is intact and no password or token is in it.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, Run, audit_records, block_on, zx, zx_in};
use serde_json::Value;
use sqlx::Connection;
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use zhenxing_store::accounts::SignIn;

scenarios!(
    add_with_password_on_stdin_then_list,
    generated_passwords_are_printed_once,
    refusals_create_nothing,
    disable_enable_and_new_password,
    api_token_alone_on_the_last_line,
    demo_accounts_one_per_role,
    passwords_set_here_must_be_changed_and_tokens_expire,
    reset_factor_removes_the_second_factor,
);

/// 城口县 and one of its villages (立新村, in 巴山镇) from the built-in division list.
const COUNTY: &str = "500229000000";
const VILLAGE: &str = "500229102202";
const PASSWORD: &str = "Qiao-Tou-2026!";

/// `zhenxing --database DB --lang en ARGS...` with `input` piped to standard input.
fn zx_stdin(db: &str, args: &[&str], input: &str) -> Run {
    let mut all = vec!["--database", db, "--lang", "en"];
    all.extend_from_slice(args);
    let mut command = Command::new(env!("CARGO_BIN_EXE_zhenxing"));
    common::anchor_env(&mut command, &all);
    let mut child = command
        .args(&all)
        .env_remove("ZHENXING_DATABASE_URL")
        .env_remove("ZHENXING_LANG")
        .env_remove("ZHENXING_LOG")
        .env_remove("ZHENXING_KEYS")
        .env("ZHENXING_KEY_FILE", common::key_file(db))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the zhenxing binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    // The binary reads one line and may exit without reading the rest: ignore a broken pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = read(Box::new(child.stdout.take().expect("stdout")));
    let err = read(Box::new(child.stderr.take().expect("stderr")));
    let status = child.wait().expect("wait for zhenxing");
    writer.join().unwrap();
    Run {
        args: all.iter().map(|s| s.to_string()).collect(),
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// `user list --json` as an array.
fn accounts(db: &str) -> Vec<Value> {
    let run = zx(db, &["user", "list", "--json"]);
    run.assert_success("user list --json");
    match serde_json::from_str::<Value>(&run.stdout) {
        Ok(Value::Array(a)) => a,
        other => panic!("user list --json is not an array: {other:?}\n{}", run.all()),
    }
}

fn account<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no account {name} in {list:?}"))
}

/// Whether the store lets `name` sign in with `password`.
fn signs_in(url: &str, name: &str, password: &str) -> bool {
    block_on(async {
        let db = common::open_db(url).await;
        let r = db.sign_in(name, password, "test").await.unwrap();
        db.close().await;
        // A password accepted (the second factor, if any, is the next step).
        matches!(r, SignIn::Ok { .. } | SignIn::SecondFactor { .. })
    })
}

/// The account behind an API token, if it opens one.
fn token_account(url: &str, token: &str) -> Option<String> {
    block_on(async {
        let db = common::open_db(url).await;
        let a = db.account_by_api_token(token).await.unwrap();
        db.close().await;
        a.map(|a| a.name)
    })
}

/// Lets `name` keep the password the command line set (as the demo does), so that a scenario
/// about something else can use the account's tokens.
fn keep_password(url: &str, name: &str) {
    block_on(async {
        let db = common::open_db(url).await;
        assert!(db.waive_password_change(name, "test").await.unwrap());
        db.close().await;
    })
}

/// The account changes its own password from `current` to `new`, as on the web page.
fn change_own(url: &str, name: &str, current: &str, new: &str) {
    block_on(async {
        let db = common::open_db(url).await;
        let account = db.account_by_name(name).await.unwrap().unwrap();
        db.change_own_password(&account, current, new, "test")
            .await
            .unwrap();
        db.close().await;
    })
}

/// The last line of stdout, which must be the only one.
fn only_line(run: &Run) -> String {
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stdout\n{}", run.all());
    lines[0].to_owned()
}

/// Every text of every audit record and item, one string per row.
fn audit_texts(env: &Env, url: &str) -> Vec<String> {
    const LOG: &str = "SELECT actor, action, object_type, COALESCE(object_id, ''), \
        COALESCE(reason, ''), COALESCE(before_data, ''), COALESCE(after_data, '') FROM audit_log";
    const ITEMS: &str = "SELECT action, object_type, object_id, '', '', \
        COALESCE(before_data, ''), COALESCE(after_data, '') FROM audit_items";
    type Row = (String, String, String, String, String, String, String);
    let join = |rows: Vec<Row>| -> Vec<String> {
        rows.into_iter()
            .map(|r| [r.0, r.1, r.2, r.3, r.4, r.5, r.6].join("\t"))
            .collect()
    };
    block_on(async {
        let (log, items): (Vec<Row>, Vec<Row>) = match env.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
                let log = sqlx::query_as(LOG).fetch_all(&mut c).await.unwrap();
                let items = sqlx::query_as(ITEMS).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                (log, items)
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                let log = sqlx::query_as(LOG).fetch_all(&mut c).await.unwrap();
                let items = sqlx::query_as(ITEMS).fetch_all(&mut c).await.unwrap();
                c.close().await.unwrap();
                (log, items)
            }
        };
        let mut all = join(log);
        all.extend(join(items));
        all
    })
}

/// `audit verify` passes, the trail records the CLI's account actions, and none of `secrets`
/// is anywhere in it (nor, on SQLite, anywhere in the database files).
fn assert_audit_clean(env: &Env, url: &str, secrets: &[&str]) {
    let run = zx(url, &["audit", "verify"]);
    run.assert_success("audit verify");
    run.assert_contains("the hash chain is intact", "audit verify");
    let rows = audit_texts(env, url);
    assert!(
        rows.iter()
            .any(|r| r.starts_with("cli:") && r.contains("\taccount.create\t")),
        "no account.create record by the CLI in the audit trail: {rows:#?}"
    );
    for secret in secrets {
        assert!(secret.len() >= 10, "not a secret: {secret:?}");
        for row in &rows {
            assert!(
                !row.contains(secret),
                "the audit trail holds a secret: {row}"
            );
        }
    }
    if env.backend == Backend::Sqlite {
        let file = url.trim_start_matches("sqlite://");
        for path in [file.to_owned(), format!("{file}-wal")] {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            for secret in secrets {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{path} holds a secret in clear"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------

fn add_with_password_on_stdin_then_list(env: Env) {
    let db = env.fresh_db("add");
    let run = zx_stdin(
        &db,
        &[
            "user",
            "add",
            "wang_cadre",
            "--role",
            "village_cadre",
            "--division",
            VILLAGE,
        ],
        &format!("{PASSWORD}\nthe rest is ignored\n"),
    );
    run.assert_success("user add with the password on stdin");
    run.assert_contains("account 'wang_cadre' created: village cadre", "user add");
    run.assert_contains("Lixin Village", "user add");
    assert!(
        !run.all().contains(PASSWORD),
        "the given password was echoed\n{}",
        run.all()
    );
    // Role by its Chinese name, a county by its six digits.
    zx_stdin(
        &db,
        &[
            "user",
            "add",
            "li.county",
            "--role",
            "区县工作人员",
            "--division",
            "500229",
        ],
        // A Windows line end is not part of the password.
        &format!("{PASSWORD}\r\n"),
    )
    .assert_success("user add li.county");

    let list = accounts(&db);
    assert_eq!(list.len(), 2, "{list:?}");
    let wang = account(&list, "wang_cadre");
    assert_eq!(wang["role"], "village_cadre");
    assert_eq!(wang["division"], VILLAGE);
    assert_eq!(wang["division_name_zh"], "立新村村民委员会");
    assert_eq!(wang["division_name_en"], "Lixin Village");
    assert_eq!(wang["disabled"], false);
    assert_eq!(wang["locked_until"], Value::Null);
    assert!(wang["created_at"].is_string());
    let li = account(&list, "li.county");
    assert_eq!(li["role"], "county_officer");
    assert_eq!(li["division"], COUNTY);

    let table = zx(&db, &["user", "list"]);
    table.assert_success("user list");
    let header = table.stdout.lines().next().unwrap_or_default();
    for column in [
        "name",
        "role",
        "division",
        "disabled",
        "locked until",
        "created",
    ] {
        assert!(
            header.contains(column),
            "no column {column}\n{}",
            table.all()
        );
    }
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("li.county "))
        .unwrap_or_else(|| panic!("no row for li.county\n{}", table.all()));
    assert!(
        row.contains("county officer") && row.contains("500229000000 Chengkou County"),
        "{row}"
    );
    let zh = zx_in(None, &["--database", &db, "user", "list"]);
    zh.assert_success("user list in Chinese");
    zh.assert_contains("村干部", "user list in Chinese");
    zh.assert_contains("500229000000 城口县", "user list in Chinese");
    zh.assert_contains("创建时间", "user list in Chinese");

    assert!(signs_in(&db, "wang_cadre", PASSWORD));
    assert!(signs_in(&db, "li.county", PASSWORD));
    assert!(!signs_in(&db, "li.county", &format!("{PASSWORD}\r")));
    assert_audit_clean(&env, &db, &[PASSWORD]);
}

fn generated_passwords_are_printed_once(env: Env) {
    let db = env.fresh_db("generated");
    // Standard input empty (not a terminal): generated. `zx` gives the binary /dev/null.
    let mut secrets = Vec::new();
    for (name, run) in [
        (
            "auditor1",
            zx(
                &db,
                &[
                    "user",
                    "add",
                    "auditor1",
                    "--role",
                    "auditor",
                    "--division",
                    "500000000000",
                ],
            ),
        ),
        (
            "dept1",
            zx_stdin(
                &db,
                &[
                    "user",
                    "add",
                    "dept1",
                    "--role",
                    "department_officer",
                    "--division",
                    "500000000000",
                ],
                "",
            ),
        ),
    ] {
        run.assert_success(&format!("user add {name} with a generated password"));
        run.assert_contains("generated password", name);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 2, "a line and the password\n{}", run.all());
        let password = lines[1].to_owned();
        assert_eq!(
            run.all().matches(&password).count(),
            1,
            "the password is printed once\n{}",
            run.all()
        );
        zhenxing_store::credentials::check_password_policy(&password, name, &Default::default())
            .unwrap();
        assert!(signs_in(&db, name, &password), "{name} cannot sign in");
        secrets.push(password);
    }
    assert_ne!(secrets[0], secrets[1]);

    // A new password, generated as well.
    let run = zx(&db, &["user", "password", "dept1"]);
    run.assert_success("user password dept1");
    run.assert_contains("generated password", "user password");
    let new = run.stdout.lines().last().unwrap().to_owned();
    zhenxing_store::credentials::check_password_policy(&new, "dept1", &Default::default()).unwrap();
    assert!(signs_in(&db, "dept1", &new));
    assert!(!signs_in(&db, "dept1", &secrets[1]));
    secrets.push(new);

    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_audit_clean(&env, &db, &secrets);
}

fn refusals_create_nothing(env: Env) {
    let db = env.fresh_db("refusals");
    zx_stdin(
        &db,
        &[
            "user",
            "add",
            "taken",
            "--role",
            "auditor",
            "--division",
            "500000000000",
        ],
        &format!("{PASSWORD}\n"),
    )
    .assert_success("the first account");
    let before = accounts(&db);
    let audit_before = audit_records(&db);

    let add = |name: &str, role: &str, division: &str| -> Vec<String> {
        ["user", "add", name, "--role", role, "--division", division]
            .map(str::to_owned)
            .to_vec()
    };
    let cases: [(&str, Vec<String>, &str, &str); 9] = [
        (
            "a bad role",
            add("zhao", "mayor", COUNTY),
            PASSWORD,
            "'mayor' is not a value of role",
        ),
        (
            "a village cadre at a county",
            add("zhao", "village_cadre", COUNTY),
            PASSWORD,
            "a village cadre cannot belong to division 500229000000",
        ),
        (
            "a county officer at a village",
            add("zhao", "county_officer", VILLAGE),
            PASSWORD,
            "cannot belong to division 500229102202",
        ),
        (
            "an unknown division",
            add("zhao", "village_cadre", "500229999999"),
            PASSWORD,
            "division 500229999999 is not in the division list",
        ),
        (
            "a malformed division",
            add("zhao", "county_officer", "5002x9"),
            PASSWORD,
            "contains characters that are not digits",
        ),
        (
            "a short password",
            add("zhao", "county_officer", COUNTY),
            "Ab1-short",
            "the password is too short",
        ),
        (
            "a simple password",
            add("zhao", "county_officer", COUNTY),
            "onlylowercaseletters",
            "at least 3 of",
        ),
        (
            "a taken name",
            add("taken", "county_officer", COUNTY),
            PASSWORD,
            "an account named 'taken' already exists",
        ),
        (
            "a bad name",
            add("a b", "county_officer", COUNTY),
            PASSWORD,
            "an account name is 2 to 64",
        ),
    ];
    for (what, args, password, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = zx_stdin(&db, &args, &format!("{password}\n"));
        assert!(!run.success(), "{what}: accepted\n{}", run.all());
        assert_eq!(run.code, Some(1), "{what}\n{}", run.all());
        run.assert_contains(message, what);
        assert!(
            !run.stdout.contains(password) && !run.stderr.contains(password),
            "{what}: the password was echoed\n{}",
            run.all()
        );
    }
    // The refusal in Chinese, the default language.
    let zh = zx_in(
        None,
        &[
            "--database",
            &db,
            "user",
            "add",
            "zhao",
            "--role",
            "mayor",
            "--division",
            COUNTY,
        ],
    );
    assert!(!zh.success(), "{}", zh.all());
    zh.assert_contains("“mayor”不是角色的取值", "a bad role in Chinese");
    // The other commands refuse unknown accounts.
    for args in [
        ["user", "disable", "nobody"],
        ["user", "enable", "nobody"],
        ["user", "password", "nobody"],
        ["token", "create", "nobody"],
    ] {
        let run = zx(&db, &args);
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("there is no account named 'nobody'", &args.join(" "));
        assert!(run.stdout.is_empty(), "{}", run.all());
    }

    assert_eq!(
        accounts(&db),
        before,
        "a refused command changed the accounts"
    );
    assert_eq!(
        audit_records(&db),
        audit_before,
        "a refused command wrote to the audit trail"
    );
    assert_audit_clean(&env, &db, &[PASSWORD]);

    // Arguments are checked before the database is opened: a typo creates no database.
    if env.backend == Backend::Sqlite {
        let never = env.path("never.db");
        let url = format!("sqlite://{}", never.display());
        let run = zx(
            &url,
            &[
                "user",
                "add",
                "zhao",
                "--role",
                "mayor",
                "--division",
                COUNTY,
            ],
        );
        assert!(!run.success(), "{}", run.all());
        assert!(!never.exists(), "a refused add created {}", never.display());
    }
}

fn disable_enable_and_new_password(env: Env) {
    let db = env.fresh_db("disable");
    zx_stdin(
        &db,
        &[
            "user",
            "add",
            "chen",
            "--role",
            "county_officer",
            "--division",
            COUNTY,
        ],
        &format!("{PASSWORD}\n"),
    )
    .assert_success("user add chen");
    keep_password(&db, "chen");
    let token =
        only_line(zx(&db, &["token", "create", "chen"]).assert_success("token create chen"));
    assert_eq!(token_account(&db, &token).as_deref(), Some("chen"));

    let run = zx(&db, &["user", "disable", "chen"]);
    run.assert_success("user disable");
    run.assert_contains("account 'chen' disabled", "user disable");
    assert_eq!(account(&accounts(&db), "chen")["disabled"], true);
    let table = zx(&db, &["user", "list"]);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("chen "))
        .unwrap_or_else(|| panic!("no row for chen\n{}", table.all()));
    let cells: Vec<&str> = row.split("  ").filter(|c| !c.trim().is_empty()).collect();
    assert_eq!(cells.get(3).map(|c| c.trim()), Some("yes"), "{row}");
    assert!(
        !signs_in(&db, "chen", PASSWORD),
        "a disabled account signed in"
    );
    assert_eq!(
        token_account(&db, &token),
        None,
        "a disabled account's token works"
    );
    let refused = zx(&db, &["token", "create", "chen"]);
    assert!(!refused.success(), "{}", refused.all());
    refused.assert_contains(
        "the account 'chen' is disabled",
        "token for a disabled account",
    );

    zx(&db, &["user", "enable", "chen"])
        .assert_success("user enable")
        .assert_contains("account 'chen' enabled", "user enable");
    assert_eq!(account(&accounts(&db), "chen")["disabled"], false);
    assert!(signs_in(&db, "chen", PASSWORD));
    // Revoked tokens stay revoked.
    assert_eq!(token_account(&db, &token), None);

    let new = "Neue-Losung-77";
    let weak = zx_stdin(&db, &["user", "password", "chen"], "weakweakweak\n");
    assert!(!weak.success(), "{}", weak.all());
    weak.assert_contains("at least 3 of", "a weak new password");
    assert!(signs_in(&db, "chen", PASSWORD));
    let run = zx_stdin(&db, &["user", "password", "chen"], &format!("{new}\n"));
    run.assert_success("user password from stdin");
    run.assert_contains("the password of account 'chen' is changed", "user password");
    assert!(!run.all().contains(new), "{}", run.all());
    assert!(signs_in(&db, "chen", new));
    assert!(!signs_in(&db, "chen", PASSWORD));
    assert_audit_clean(&env, &db, &[PASSWORD, new, &token]);
}

fn api_token_alone_on_the_last_line(env: Env) {
    let db = env.fresh_db("token");
    zx_stdin(
        &db,
        &[
            "user",
            "add",
            "robot",
            "--role",
            "department_officer",
            "--division",
            "500000000000",
        ],
        &format!("{PASSWORD}\n"),
    )
    .assert_success("user add robot");
    keep_password(&db, "robot");
    let run = zx(&db, &["token", "create", "robot"]);
    run.assert_success("token create");
    run.assert_contains("API token created for account 'robot'", "token create");
    let last = run.stdout.lines().last().unwrap_or_default();
    assert_eq!(
        run.stdout,
        format!("{last}\n"),
        "stdout is the token alone\n{}",
        run.all()
    );
    let hex = last
        .strip_prefix("zx_")
        .unwrap_or_else(|| panic!("not a token: {last}"));
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "not zx_ + 64 hex digits: {last}"
    );
    assert!(
        !run.stderr.contains(last),
        "the token is on stderr too\n{}",
        run.all()
    );
    assert_eq!(token_account(&db, last).as_deref(), Some("robot"));
    let second = zx(&db, &["token", "create", "robot"]);
    let second = second.stdout.lines().last().unwrap_or_default();
    assert_ne!(second, last);
    assert_eq!(token_account(&db, second).as_deref(), Some("robot"));
    assert_audit_clean(&env, &db, &[PASSWORD, last, second]);
}

/// Starts `zhenxing demo` (a tiny registry, any free port), reads standard error until the
/// demo accounts are printed, stops it; returns `(name, division code, password)` by name, and
/// the number of demo cases it says it opened.
fn demo_run(db: &str) -> (Vec<(String, String, String)>, usize) {
    let args = [
        "--database",
        db,
        "--lang",
        "en",
        "demo",
        "--scale",
        "0.001",
        "--bind",
        "127.0.0.1:0",
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_zhenxing"));
    common::anchor_env(&mut command, &args);
    let mut child = command
        .args(args)
        .env_remove("ZHENXING_DATABASE_URL")
        .env_remove("ZHENXING_LANG")
        .env_remove("ZHENXING_LOG")
        .env_remove("ZHENXING_KEYS")
        .env("ZHENXING_KEY_FILE", common::key_file(db))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the zhenxing binary runs");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut done = false;
    // Not a performance assertion: a demo that prints nothing for this long is stuck.
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(600)) {
        done = line.trim_start().starts_with("demo_department");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        done,
        "the demo did not print its accounts:\n{}",
        seen.join("\n")
    );
    let mut accounts: Vec<(String, String, String)> = seen
        .iter()
        .filter(|l| l.trim_start().starts_with("demo_"))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let code = words
                .iter()
                .find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()))
                .unwrap_or_else(|| panic!("no division code in {l}"));
            (
                words[0].to_owned(),
                code.to_string(),
                words[words.len() - 1].to_owned(),
            )
        })
        .collect();
    accounts.sort();
    let cases = seen
        .iter()
        .find_map(|l| {
            l.strip_prefix("Demo: ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0);
    (accounts, cases)
}

fn demo_accounts_one_per_role(env: Env) {
    let db = env.fresh_db("demo");
    let (first, cases) = demo_run(&db);
    // The demo opens identification cases at different stages (up to six: a registry this
    // small has only a few households in the demo township that are not monitored), once.
    assert!((1..=6).contains(&cases), "the demo's cases: {cases}");
    // Besides one account per role, a village cadre in every other village of the township.
    let (others, names): (Vec<&str>, Vec<&str>) = first
        .iter()
        .map(|a| a.0.as_str())
        .partition(|n| n.starts_with("demo_village_"));
    assert!(
        !others.is_empty(),
        "no cadre in the township's other villages"
    );
    assert_eq!(
        names,
        [
            "demo_admin",
            "demo_auditor",
            "demo_county",
            "demo_department",
            "demo_security",
            "demo_township",
            "demo_village"
        ]
    );
    let list = accounts(&db);
    assert_eq!(list.len(), 7 + others.len(), "{list:?}");
    for (name, role) in [
        ("demo_admin", "municipal_admin"),
        ("demo_security", "security_admin"),
        ("demo_auditor", "auditor"),
        ("demo_county", "county_officer"),
        ("demo_department", "department_officer"),
        ("demo_township", "township_officer"),
        ("demo_village", "village_cadre"),
    ] {
        assert_eq!(account(&list, name)["role"], role, "{name}");
    }
    let division = |name: &str| first.iter().find(|a| a.0 == name).unwrap().1.clone();
    assert_eq!(division("demo_admin"), "500000000000");
    assert_eq!(division("demo_county"), COUNTY);
    let township = division("demo_township");
    assert!(
        township.starts_with("500229")
            && township.ends_with("000")
            && !township.ends_with("000000"),
        "not a township of 城口县: {township}"
    );
    assert!(
        division("demo_village").starts_with(&township[..9]),
        "the village is not in the township"
    );
    let mut villages = vec![division("demo_village")];
    for name in &others {
        assert_eq!(account(&list, name)["role"], "village_cadre", "{name}");
        let village = division(name);
        assert!(village.starts_with(&township[..9]), "{name}: {village}");
        assert!(
            name.ends_with(&village[9..]),
            "{name} is named after its village"
        );
        villages.push(village);
    }
    villages.sort();
    villages.dedup();
    assert_eq!(villages.len(), others.len() + 1, "one cadre per village");
    for (name, _, password) in &first {
        assert!(signs_in(&db, name, password), "{name} cannot sign in");
    }

    // A restarted demo keeps the accounts (and the cases) and gives them new passwords.
    let (second, cases_again) = demo_run(&db);
    assert_eq!(cases_again, 0, "a restarted demo opens no new cases");
    assert_eq!(accounts(&db).len(), 7 + others.len());
    for ((name, code, old), (name2, code2, new)) in first.iter().zip(&second) {
        assert_eq!((name, code), (name2, code2));
        assert_ne!(old, new, "{name}: the same password twice");
        assert!(signs_in(&db, name, new), "{name} cannot sign in");
        assert!(!signs_in(&db, name, old), "{name}: the old password works");
    }
    let secrets: Vec<&str> = first.iter().chain(&second).map(|a| a.2.as_str()).collect();
    assert_audit_clean(&env, &db, &secrets);
}

/// Issue 14: a password set on the command line must be changed by the account (audited, the
/// account's tokens open nothing until then and are revoked by the change); tokens expire,
/// 90 days unless asked, at most 365, and the expiry is printed.
fn passwords_set_here_must_be_changed_and_tokens_expire(env: Env) {
    let db = env.fresh_db("mustchange");
    let add = zx_stdin(
        &db,
        &[
            "user",
            "add",
            "zhao",
            "--role",
            "county_officer",
            "--division",
            COUNTY,
        ],
        &format!("{PASSWORD}\n"),
    );
    add.assert_success("user add zhao");
    add.assert_contains("must be changed at the first sign-in", "user add");
    assert_eq!(
        account(&accounts(&db), "zhao")["must_change_password"],
        true
    );
    // The name and common passwords are refused before anything is written.
    let weak = zx_stdin(&db, &["user", "password", "zhao"], "Zhao-2026-spring\n");
    assert!(!weak.success(), "{}", weak.all());
    weak.assert_contains("account's name", "a password with the name");
    let weak = zx_stdin(&db, &["user", "password", "zhao"], "Woaini1314!!\n");
    assert!(!weak.success(), "{}", weak.all());
    weak.assert_contains("common password", "a common password");

    let early = zx(&db, &["token", "create", "zhao"]);
    early
        .assert_success("token create")
        .assert_contains("valid until", "token create");
    let early = only_line(&early);
    assert_eq!(
        token_account(&db, &early),
        None,
        "a token before the change"
    );
    change_own(&db, "zhao", PASSWORD, "Qiu-own-choice-27");
    assert_eq!(
        account(&accounts(&db), "zhao")["must_change_password"],
        false
    );
    assert_eq!(token_account(&db, &early), None, "revoked by the change");
    let token = only_line(
        zx(&db, &["token", "create", "zhao", "--days", "30"]).assert_success("token --days 30"),
    );
    assert_eq!(token_account(&db, &token).as_deref(), Some("zhao"));
    for days in ["0", "366"] {
        let refused = zx(&db, &["token", "create", "zhao", "--days", days]);
        assert!(!refused.success(), "{}", refused.all());
        refused.assert_contains("1 to 365 days", "token --days out of range");
    }

    // The operator sets a new password: the change is asked for again, the token dies.
    let new = "Operator-set-2027";
    zx_stdin(&db, &["user", "password", "zhao"], &format!("{new}\n"))
        .assert_success("user password")
        .assert_contains(
            "must change the password at its next sign-in",
            "user password",
        );
    assert_eq!(
        account(&accounts(&db), "zhao")["must_change_password"],
        true
    );
    assert_eq!(token_account(&db, &token), None);
    assert!(
        audit_texts(&env, &db)
            .iter()
            .any(|t| t.contains("account.password_changed"))
    );
    assert_audit_clean(&env, &db, &[PASSWORD, new, &early, &token]);
}

/// Issue 15: `user reset-factor NAME --reason ...` removes an account's second factor and
/// recovery codes (a lost phone), audited with the reason and the operator as the actor; the
/// reason is required; an unknown name is refused.
fn reset_factor_removes_the_second_factor(env: Env) {
    let db = env.fresh_db("factor");
    zx_stdin(
        &db,
        &[
            "user",
            "add",
            "shenji",
            "--role",
            "auditor",
            "--division",
            "500000000000",
        ],
        &format!("{PASSWORD}\n"),
    )
    .assert_success("user add shenji");
    block_on(async {
        let store = common::open_db(&db).await;
        let account = store.account_by_name("shenji").await.unwrap().unwrap();
        let enrolment = store.begin_factor_enrolment(&account).await.unwrap();
        let secret = zhenxing_store::factor::base32_decode(&enrolment.secret_base32).unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let code = zhenxing_store::factor::totp_code(&secret, zhenxing_store::factor::step_at(now));
        store
            .confirm_factor_enrolment(&account, &code, "test")
            .await
            .unwrap();
        store.close().await;
    });
    assert_eq!(account(&accounts(&db), "shenji")["second_factor"], true);

    let no_reason = zx(&db, &["user", "reset-factor", "shenji"]);
    assert!(!no_reason.success(), "{}", no_reason.all());
    assert_eq!(account(&accounts(&db), "shenji")["second_factor"], true);
    let unknown = zx(&db, &["user", "reset-factor", "ghost", "--reason", "x"]);
    assert!(!unknown.success(), "{}", unknown.all());
    unknown.assert_contains("there is no account named 'ghost'", "reset-factor ghost");

    let run = zx(
        &db,
        &["user", "reset-factor", "shenji", "--reason", "lost phone"],
    );
    run.assert_success("user reset-factor");
    run.assert_contains(
        "second factor and recovery codes of account 'shenji' are removed",
        "reset-factor",
    );
    assert_eq!(account(&accounts(&db), "shenji")["second_factor"], false);
    let rows = audit_texts(&env, &db);
    assert!(
        rows.iter().any(|r| r.starts_with("cli:")
            && r.contains("\tfactor.reset\t")
            && r.contains("lost phone")),
        "{rows:#?}"
    );
    assert_audit_clean(&env, &db, &[PASSWORD]);
}
