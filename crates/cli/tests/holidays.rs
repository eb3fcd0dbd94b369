//! End-to-end tests of `zhenxing holidays …` (issue 17 item 6): the shipped notices listed, a bad
//! file refused whole with its line and column and nothing added, a year added and audited. On
//! SQLite, and on PostgreSQL when `TEST_DATABASE_URL` names a server.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, audit_records, zx};
use serde_json::Value;

scenarios!(holidays_are_listed_checked_and_added);

const HEADER: &str = "year,notice,name_zh,name_en,off_from,off_to,working_days\n";

fn holidays_are_listed_checked_and_added(env: Env) {
    let db = env.fresh_db("holidays");
    let list = zx(&db, &["holidays", "list", "--year", "2026"]);
    list.assert_success("list 2026")
        .assert_contains("2026 (shipped with zhenxing)", "list 2026")
        .assert_contains(
            "2026-02-15 – 2026-02-23  worked: 2026-02-14, 2026-02-28",
            "list 2026",
        );
    zx(&db, &["holidays", "list", "--year", "2027"])
        .assert_success("list 2027")
        .assert_contains("No holiday notice for 2027", "list 2027");

    // A bad file: every problem named with the file, line and column; nothing added.
    let bad = env.path("bad-holidays.csv");
    std::fs::write(
        &bad,
        format!(
            "{HEADER}2027,n,春节,Spring Festival,2027-02-05,2027-02-11,2027-02-01\n\
             2027,n,清明节,Qingming,2027-04-05,2027-04-31,\n"
        ),
    )
    .unwrap();
    let records_before = audit_records(&db);
    let refused = zx(&db, &["holidays", "add", bad.to_str().unwrap()]);
    assert!(!refused.success(), "{}", refused.all());
    let shown = bad.display().to_string();
    refused
        .assert_contains(
            &format!("{shown}: line 2, column 'working_days': the swapped working day 2027-02-01 is a Monday"),
            "bad file",
        )
        .assert_contains(
            &format!("{shown}: line 3, column 'off_to': '2027-04-31' is not a date"),
            "bad file",
        )
        .assert_contains("2 problem(s) found; no holidays were added", "bad file");
    // A file a spreadsheet saved in GB18030 ("春节" in GBK bytes) is refused with what to do.
    let gbk = env.path("gbk-holidays.csv");
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"2027,n,\xb4\xba\xbd\xda,Spring Festival,2027-02-05,2027-02-11,\n");
    std::fs::write(&gbk, bytes).unwrap();
    zx(&db, &["holidays", "add", gbk.to_str().unwrap()])
        .assert_contains("save as 'CSV UTF-8'", "GB18030 file");
    assert_eq!(audit_records(&db), records_before, "nothing was written");
    zx(&db, &["holidays", "list", "--year", "2027"])
        .assert_contains("No holiday notice for 2027", "after refusals");

    // A good file (with a byte-order mark, as spreadsheet programs write it) is added, audited.
    let good = env.path("holidays-2027.csv");
    std::fs::write(
        &good,
        format!(
            "\u{feff}{HEADER}2027,测试通知,元旦,New Year's Day,2027-01-01,2027-01-03,\n\
             2027,测试通知,春节,Spring Festival,2027-02-05,2027-02-11,2027-02-13;2027-02-20\n"
        ),
    )
    .unwrap();
    zx(&db, &["holidays", "add", good.to_str().unwrap()])
        .assert_success("add 2027")
        .assert_contains(
            "Added the holidays of 2027: 2 holidays, 2 swapped working days.",
            "add 2027",
        );
    assert_eq!(
        audit_records(&db),
        records_before + 1,
        "one audited operation"
    );
    let listed = zx(&db, &["holidays", "list", "--year", "2027", "--json"]);
    listed.assert_success("list 2027 json");
    let years: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(years[0]["year"], 2027);
    assert_eq!(years[0]["built_in"], false);
    assert_eq!(years[0]["holidays"][1]["working_days"][1], "2027-02-20");
    zx(&db, &["holidays", "list"])
        .assert_contains("2027 (added here)", "list all")
        .assert_contains("2021 (shipped with zhenxing)", "list all");
}
