//! End-to-end tests of `zhenxing export national` (issue 17 item 4): refused arguments open no
//! database and write no file; the month's file is written with the national system's columns
//! and the export is audited. The cases in it are tested where they are made (the store's and
//! the web's procedure tests). On SQLite, and on PostgreSQL when `TEST_DATABASE_URL` names a
//! server.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, audit_records, zx};

scenarios!(the_national_upload_file_is_checked_written_and_audited);

fn the_national_upload_file_is_checked_written_and_audited(env: Env) {
    // Refused before the database opens: nothing is created.
    let untouched = env.fresh_db("untouched");
    let out = env.path("national.xlsx");
    let o = out.to_str().unwrap();
    let ods = env.path("national.ods");
    for (args, says) in [
        (
            vec!["export", "national", ods.to_str().unwrap()],
            ".xlsx or .csv",
        ),
        (
            vec!["export", "national", o, "--month", "2026-13"],
            "YYYY-MM",
        ),
        (
            vec!["export", "national", o, "--month", "2999-01"],
            "has not begun",
        ),
        (
            vec!["export", "national", o, "--division", "5002"],
            "12 digits",
        ),
    ] {
        let run = zx(&untouched, &args);
        assert!(!run.success(), "{args:?}: {}", run.all());
        run.assert_contains(says, &format!("{args:?}"));
        assert!(!out.exists() && !ods.exists(), "{args:?} wrote a file");
    }
    if env.backend == Backend::Sqlite {
        assert!(
            !env.path("untouched.db").exists(),
            "a refused export created the database"
        );
    }

    let db = env.fresh_db("national");
    zx(&db, &["generate", "--scale", "0.001"]).assert_success("generate");
    let before = audit_records(&db);
    let csv = env.path("national.csv");
    zx(
        &db,
        &[
            "export",
            "national",
            csv.to_str().unwrap(),
            "--division",
            "500229000000",
        ],
    )
    .assert_success("export national")
    .assert_contains(
        "exported the 0 identification and risk-elimination cases",
        "export",
    )
    .assert_contains("for upload to the national monitoring system", "export");
    let text = std::fs::read_to_string(&csv).unwrap();
    let header = text.trim_start_matches('\u{feff}').lines().next().unwrap();
    assert!(
        header.starts_with("行政区划代码,区县,乡镇,行政村,村民小组,户编号,户主姓名,户主证件号码"),
        "{header}"
    );
    assert!(
        header.ends_with("录入建档日期,全国系统编号,办理编号"),
        "{header}"
    );
    assert_eq!(audit_records(&db), before + 1, "the export is audited");
}
