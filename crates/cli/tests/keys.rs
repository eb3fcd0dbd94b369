//! Personal data encrypted at rest, through the real binary on SQLite and PostgreSQL: what the
//! database holds, the refusals at open, `keys rotate` (resumed, online) and `keys retire`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, block_on, fixture, zx};
use serde_json::Value;
use sqlx::Connection;

scenarios!(
    stored_numbers_are_sealed_and_read_as_before,
    a_missing_wrong_or_other_suite_key_is_refused_at_open,
    rotation_resumes_and_retire_waits_for_it,
    a_running_process_learns_the_rotated_key,
    plaintext_from_before_encryption_is_sealed_at_the_first_open,
);

const FIXTURE: &str = "registry/good-utf8.csv";

fn import(db: &str) {
    zx(
        db,
        &[
            "import",
            "registry",
            fixture(FIXTURE).to_str().unwrap(),
            "--legacy-monitoring",
            "--reason",
            "fixture: monitored before zhenxing",
        ],
    )
    .assert_success("import");
}

/// The ID numbers (18 characters) and phone numbers (11 digits from 1) of the fixture.
fn fixture_numbers() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(fixture(FIXTURE)).unwrap();
    let (mut ids, mut phones) = (Vec::new(), Vec::new());
    for field in text.lines().skip(1).flat_map(|l| l.split(',')) {
        let f = field.trim();
        if f.len() == 18 && f.as_bytes()[..17].iter().all(u8::is_ascii_digit) {
            ids.push(f.to_owned());
        } else if f.len() == 11 && f.starts_with('1') && f.bytes().all(|b| b.is_ascii_digit()) {
            phones.push(f.to_owned());
        }
    }
    ids.sort();
    ids.dedup();
    phones.sort();
    phones.dedup();
    assert!(
        !ids.is_empty() && !phones.is_empty(),
        "no numbers in the fixture"
    );
    (ids, phones)
}

/// Every non-NULL value of a column, read behind zhenxing's back.
fn raw(env: &Env, url: &str, sql: &str) -> Vec<String> {
    block_on(async {
        let values: Vec<Option<String>> = match env.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
        };
        values.into_iter().flatten().collect()
    })
}

/// The sealed columns hold sealed values only, and no number of the fixture anywhere.
fn assert_sealed(env: &Env, db: &str, key: u32) {
    let (ids, phones) = fixture_numbers();
    for (table, column) in [("members", "id_number"), ("households", "phone")] {
        let values = raw(env, db, &format!("SELECT {column} FROM {table}"));
        assert!(!values.is_empty(), "{table}.{column} is empty");
        for v in &values {
            assert!(
                v.starts_with(&format!("zx1:{key}:")),
                "{table}.{column} holds {v}, not a value sealed with key {key}"
            );
            for n in ids.iter().chain(&phones) {
                assert!(!v.contains(n.as_str()), "{table}.{column} holds a number");
            }
        }
    }
    let indexes = raw(env, db, "SELECT id_number_index FROM members");
    let members = raw(env, db, "SELECT id_number FROM members");
    assert_eq!(
        indexes.len(),
        members.len(),
        "a member without a blind index"
    );
}

fn status(db: &str) -> Value {
    let run = zx(db, &["keys", "status", "--json"]);
    run.assert_success("keys status");
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.all()))
}

fn export(db: &str, env: &Env, name: &str) -> String {
    let file = env.path(name);
    zx(db, &["export", "registry", file.to_str().unwrap()]).assert_success("export");
    std::fs::read_to_string(file).unwrap()
}

fn stored_numbers_are_sealed_and_read_as_before(env: Env) {
    let db = env.fresh_db("sealed");
    import(&db);
    assert_sealed(&env, &db, 1);
    // The export shows every number in full, as before encryption.
    let exported = export(&db, &env, "export.csv");
    let (ids, phones) = fixture_numbers();
    for n in ids.iter().chain(&phones) {
        assert!(exported.contains(n.as_str()), "the export lacks {n}");
    }
    // Importing the same file again recognises every member (by the blind index): nothing
    // changes.
    let again = zx(
        &db,
        &["import", "registry", fixture(FIXTURE).to_str().unwrap()],
    );
    again.assert_success("import again");
    again.assert_contains("0 households created", "import again");
    // Exact search by a full ID number finds the household, through the store API.
    block_on(async {
        let store = common::open_db(&db).await;
        let (record, _) = zhenxing_store::registry::household(&store, "CK0001")
            .await
            .unwrap()
            .expect("household CK0001");
        assert_eq!(record.members[0].id_number, "500229198203150139");
        assert_eq!(record.phone.as_deref(), Some("13900230001"));
        let search = zhenxing_store::browse::Search::recognise("500229198203150139")
            .expect("an ID number is a search");
        assert!(matches!(
            search,
            zhenxing_store::browse::Search::IdNumber(_)
        ));
        store.close().await;
    });
    let status = status(&db);
    assert_eq!(status["suite"], "international");
    assert_eq!(status["plaintext"], 0);
    let text = status.to_string();
    for n in ids.iter().chain(&phones) {
        assert!(!text.contains(n.as_str()), "status prints a number");
    }
}

fn a_missing_wrong_or_other_suite_key_is_refused_at_open(env: Env) {
    let db = env.fresh_db("refused");
    import(&db);
    let key_file = common::key_file(&db);
    let saved = std::fs::read_to_string(&key_file).unwrap();
    let before = export(&db, &env, "before.csv");

    // Missing: refused, and no key file is made up.
    std::fs::remove_file(&key_file).unwrap();
    let run = zx(&db, &["stats", "--json"]);
    assert!(
        !run.success(),
        "opened without its key file:\n{}",
        run.all()
    );
    run.assert_contains("does not exist", "missing key file");
    run.assert_contains(&key_file.display().to_string(), "missing key file");
    assert!(
        !key_file.exists(),
        "a key file was generated for an encrypted registry"
    );

    // Another registry's key file, and one of the other suite.
    let other = env.path("other.keys");
    let national = env.path("national.keys");
    for (file, suite) in [(&other, "international"), (&national, "national")] {
        let fresh = env.fresh_db(&format!("fresh-{suite}"));
        zx(
            &fresh,
            &[
                "keys",
                "init",
                "--cipher-suite",
                suite,
                "--key-file",
                file.to_str().unwrap(),
            ],
        )
        .assert_success("keys init");
    }
    for (file, expected) in [(&other, "index key"), (&national, "national suite")] {
        let run = zx(
            &db,
            &["stats", "--json", "--key-file", file.to_str().unwrap()],
        );
        assert!(!run.success(), "opened with {expected}:\n{}", run.all());
        run.assert_contains(expected, "wrong key file");
        run.assert_contains("--key-file", "wrong key file");
    }

    // A data key altered in the file: refused by its check.
    let mut altered: Value = serde_json::from_str(&saved).unwrap();
    altered["data_keys"]["1"] = Value::String("ab".repeat(32));
    let altered_file = env.path("altered.keys");
    std::fs::write(&altered_file, altered.to_string()).unwrap();
    let run = zx(
        &db,
        &["stats", "--key-file", altered_file.to_str().unwrap()],
    );
    assert!(!run.success(), "opened with an altered key:\n{}", run.all());
    run.assert_contains("data key 1", "altered key");

    // `keys init` never overwrites.
    let run = zx(
        &db,
        &["keys", "init", "--key-file", other.to_str().unwrap()],
    );
    assert!(!run.success(), "keys init overwrote:\n{}", run.all());

    // Nothing changed: with its key file back, the registry reads as before.
    std::fs::write(&key_file, &saved).unwrap();
    assert_eq!(export(&db, &env, "after.csv"), before);
    assert_sealed(&env, &db, 1);
}

fn rotation_resumes_and_retire_waits_for_it(env: Env) {
    for suite in ["national", "international"] {
        let db = env.fresh_db(&format!("rotate-{suite}"));
        zx(&db, &["keys", "init", "--cipher-suite", suite]).assert_success("keys init");
        import(&db);
        assert_sealed(&env, &db, 1);
        let before = export(&db, &env, &format!("before-{suite}.csv"));

        // One batch: the members' numbers, then it stops with the households' phones left.
        let run = zx(&db, &["keys", "rotate", "--batches", "1"]);
        run.assert_success("keys rotate --batches 1");
        run.assert_contains("data key 2 added", "first rotate");
        let status = status(&db);
        assert_eq!(status["suite"], suite);
        assert_eq!(status["current_key"], 2);
        assert!(
            status["keys"][0]["values"].as_i64().unwrap() > 0,
            "nothing left under key 1: {status}"
        );

        let run = zx(&db, &["keys", "retire", "1"]);
        assert!(!run.success(), "retired a key in use:\n{}", run.all());
        run.assert_contains("still encrypts", "retire refused");

        // The rerun resumes without another key.
        let run = zx(&db, &["keys", "rotate"]);
        run.assert_success("keys rotate (resumed)");
        run.assert_contains("resuming", "resumed rotate");
        run.assert_contains("0 left", "resumed rotate");
        assert_sealed(&env, &db, 2);
        assert_eq!(export(&db, &env, &format!("after-{suite}.csv")), before);

        zx(&db, &["keys", "retire", "1"]).assert_success("keys retire 1");
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(common::key_file(&db)).unwrap()).unwrap();
        assert!(
            file["data_keys"].get("1").is_none(),
            "key 1 still in the file"
        );
        assert_eq!(export(&db, &env, &format!("retired-{suite}.csv")), before);
        let run = zx(&db, &["keys", "retire", "2"]);
        assert!(!run.success(), "retired the current key:\n{}", run.all());

        let actions = raw(
            &env,
            &db,
            "SELECT action FROM audit_log WHERE action LIKE 'keys.%' ORDER BY seq",
        );
        assert_eq!(actions, ["keys.rotate", "keys.rotate", "keys.retire"]);
        zx(&db, &["audit", "verify"]).assert_success("audit verify");
    }
}

/// A process that has the registry open (a server) goes on reading and writing while another
/// rotates: it learns the new key when the database lists it.
fn a_running_process_learns_the_rotated_key(env: Env) {
    let db = env.fresh_db("online");
    import(&db);
    block_on(async {
        let store = common::open_db(&db).await;
        let (mut record, meta) = zhenxing_store::registry::household(&store, "CK0001")
            .await
            .unwrap()
            .unwrap();

        let run = zx(&db, &["keys", "rotate", "--batches", "1"]);
        run.assert_success("keys rotate in another process");

        // Reads a value sealed under the key it did not know.
        let (read, _) = zhenxing_store::registry::household(&store, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.members[0].id_number, record.members[0].id_number);

        // Writes under the new key.
        record.phone = Some("13900239999".to_owned());
        let outcome = store
            .edit_household(&record, meta.version, "test", "test", "a new phone")
            .await
            .unwrap();
        assert!(
            matches!(outcome, zhenxing_store::Outcome::Done(_)),
            "{outcome:?}"
        );
        store.close().await;
    });
    let phones = raw(
        &env,
        &db,
        "SELECT phone FROM households WHERE household_no = 'CK0001'",
    );
    assert!(phones[0].starts_with("zx1:2:"), "sealed under an old key");
    zx(&db, &["keys", "rotate"]).assert_success("keys rotate (resumed)");
    let exported = export(&db, &env, "online.csv");
    assert!(exported.contains("13900239999"));
    assert_sealed(&env, &db, 2);
}

/// A registry from before migration 0018 (plaintext numbers, no keys recorded, no key file):
/// the first open writes a key file and seals every number, and the registry reads as before.
fn plaintext_from_before_encryption_is_sealed_at_the_first_open(env: Env) {
    let db = env.fresh_db("upgrade");
    import(&db);
    let before = export(&db, &env, "before.csv");
    let mut statements = vec![
        "DELETE FROM encryption_settings".to_owned(),
        "DELETE FROM encryption_keys".to_owned(),
    ];
    // Opening installs the registry's key ring in this process, which opens the values below.
    block_on(async { common::open_db(&db).await.close().await });
    for (table, column) in [
        ("members", &zhenxing_store::keys::MEMBERS_ID_NUMBER),
        ("households", &zhenxing_store::keys::HOUSEHOLDS_PHONE),
    ] {
        let sql = format!("SELECT id, {} FROM {table}", column.column);
        for (id, stored) in raw_pairs(&env, &db, &sql) {
            let plain = zhenxing_store::keys::open(column, &stored).unwrap();
            statements.push(format!(
                "UPDATE {table} SET {} = '{plain}' WHERE id = {id}",
                column.column
            ));
        }
    }
    statements.push("UPDATE members SET id_number_index = NULL".to_owned());
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    env.execute(&db, &statements);
    std::fs::remove_file(common::key_file(&db)).unwrap();

    zx(&db, &["stats", "--json"]).assert_success("the first open");
    assert!(common::key_file(&db).exists(), "no key file was written");
    assert_sealed(&env, &db, 1);
    assert_eq!(export(&db, &env, "after.csv"), before);
}

/// `(id, value)` of a two-column query, read behind zhenxing's back.
fn raw_pairs(env: &Env, url: &str, sql: &str) -> Vec<(i64, String)> {
    block_on(async {
        let rows: Vec<(i64, Option<String>)> = match env.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
        };
        rows.into_iter()
            .filter_map(|(id, v)| v.map(|v| (id, v)))
            .collect()
    })
}
