//! End-to-end tests of `zhenxing department …` on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server: an import prints its counts and the unmatched rows, the
//! same file again raises nothing, a malformed file exits 1 and writes nothing, `--as` names a
//! department officer and bounds the matching, `uploads` lists them.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, audit_records, fixture, zx};

scenarios!(import_uploads_and_refusals);

fn import_uploads_and_refusals(env: Env) {
    let _ = Backend::Sqlite;
    let db = env.fresh_db("department");
    zx(
        &db,
        &[
            "import",
            "registry",
            fixture("registry/good-utf8.csv").to_str().unwrap(),
            // CK0001 is monitored: brought in as monitored before zhenxing.
            "--legacy-monitoring",
            "--reason",
            "fixture",
        ],
    )
    .assert_success("registry");
    let medical = fixture("department/medical.csv");
    let medical = medical.to_str().unwrap();

    // A malformed file: every problem, exit 1, nothing written.
    let records = audit_records(&db);
    let bad = zx(
        &db,
        &[
            "department",
            "import",
            "--kind",
            "medical",
            fixture("department/bad-medical.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(bad.code, Some(1), "{}", bad.all());
    bad.assert_contains("row 3, column “结算日期” (field settlement_date)", "row");
    bad.assert_contains("Nothing was written", "summary");
    assert_eq!(audit_records(&db), records);
    // An unknown kind is refused before the database is opened.
    let unknown = zx(&db, &["department", "import", "--kind", "tax", medical]);
    assert_eq!(unknown.code, Some(1));
    unknown.assert_contains("unknown kind of data 'tax'", "kind");

    let run = zx(&db, &["department", "import", "--kind", "医保", medical]);
    run.assert_success("import");
    run.assert_contains(
        "5 rows, 4 matched (of which 0 imported before), 1 unmatched; 2 warning(s) opened",
        "counts",
    );
    run.assert_contains("row 6, ID number 500229********5558", "unmatched row");
    assert!(!run.stdout.contains("500229199001015558"), "masked");
    assert_eq!(
        audit_records(&db),
        records + 2,
        "the rule sets and the upload"
    );

    let again = zx(&db, &["department", "import", "--kind", "medical", medical]);
    again.assert_success("again");
    again.assert_contains("4 matched (of which 4 imported before)", "repeated");
    again.assert_contains(
        "0 warning(s) opened, 0 open warning(s) given new reasons",
        "nothing raised",
    );
    again.assert_contains("uploaded before as upload 1", "same file");

    // As a county department officer: only 巫溪县 matches.
    let officer = "wuxi_yb";
    let add = common::zx_in(
        None,
        &[
            "--database",
            &db,
            "user",
            "add",
            officer,
            "--role",
            "department_officer",
            "--division",
            "500238000000",
        ],
    );
    assert!(add.success(), "{}", add.all());
    let disaster = fixture("department/disaster.csv");
    let run = zx(
        &db,
        &[
            "department",
            "import",
            "--kind",
            "disaster",
            disaster.to_str().unwrap(),
            "--as",
            officer,
        ],
    );
    run.assert_success("as a county officer");
    run.assert_contains("2 matched", "both households are in 巫溪县");
    run.assert_contains("1 warning(s) opened", "12,000 yuan reaches 10,000");
    let refused = zx(
        &db,
        &[
            "department",
            "import",
            "--kind",
            "disaster",
            disaster.to_str().unwrap(),
            "--as",
            "nobody",
        ],
    );
    assert_eq!(refused.code, Some(1));
    refused.assert_contains("no account named 'nobody'", "unknown account");

    let list = zx(&db, &["department", "uploads", "--json"]);
    list.assert_success("uploads");
    let uploads: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let uploads = uploads.as_array().unwrap();
    assert_eq!(uploads.len(), 3);
    assert_eq!(uploads[0]["uploaded_by"], officer);
    assert_eq!(uploads[2]["warnings_opened"], 2);
    zx(&db, &["audit", "verify"]).assert_success("audit chain whole");
}
