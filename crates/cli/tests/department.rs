//! End-to-end tests of `zhenxing department …` on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server: an import prints its counts and the unmatched rows, the
//! same file again raises nothing, a malformed file exits 1 and writes nothing, `--as` names a
//! department officer and bounds the matching, `uploads` lists them. The outpatient and
//! schooling-costs triggers raise their warnings with the figures and thresholds in the reasons,
//! and a new rule-set version's thresholds take effect.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, audit_records, fixture, zx};

scenarios!(
    import_uploads_and_refusals,
    outpatient_and_school_cost_triggers
);

/// The registry fixture's households; CK0001 is monitored: brought in as monitored before
/// zhenxing.
fn import_registry(db: &str) {
    zx(
        db,
        &[
            "import",
            "registry",
            fixture("registry/good-utf8.csv").to_str().unwrap(),
            "--legacy-monitoring",
            "--reason",
            "fixture",
        ],
    )
    .assert_success("registry");
}

fn import_uploads_and_refusals(env: Env) {
    let _ = Backend::Sqlite;
    let db = env.fresh_db("department");
    import_registry(&db);
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

/// The warnings of a department source as stored, `(household, reasons JSON)`, read behind
/// zhenxing's back.
fn warnings_of(env: &Env, db: &str, source: &str) -> Vec<(String, String)> {
    const SQL: &str = "SELECT household_no, reasons FROM warnings WHERE source = $1 \
                       ORDER BY household_no, id";
    common::block_on(async {
        use sqlx::Connection;
        match env.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
                sqlx::query_as(SQL)
                    .bind(source)
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(db).await.unwrap();
                sqlx::query_as(SQL)
                    .bind(source)
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
        }
    })
}

fn outpatient_and_school_cost_triggers(env: Env) {
    let db = env.fresh_db("department_new_triggers");
    import_registry(&db);
    let import = |kind: &str, file: &str| {
        let run = zx(&db, &["department", "import", "--kind", kind, file]);
        run.assert_success(file);
        run
    };

    // The built-in rule sets: 500 yuan of outpatient spending a month, more than 10,000 yuan
    // of non-compulsory schooling costs a school year.
    let outpatient = fixture("department/medical-outpatient.csv");
    import("medical", outpatient.to_str().unwrap()).assert_contains(
        "7 rows, 7 matched (of which 0 imported before), 0 unmatched; 2 warning(s) opened",
        "CK0002 (580 in March) and WX0002 (500 in June)",
    );
    let medical = warnings_of(&env, &db, "department:medical");
    let households: Vec<&str> = medical.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(households, ["CK0002", "WX0002"]);
    assert!(
        medical[0]
            .1
            .contains("2025年3月门诊结算2笔，合规自付支出合计580.00元，达到门诊每月筛查线500.00元"),
        "{}",
        medical[0].1
    );
    assert!(
        medical[1].1.contains("1 outpatient claim in June 2025")
            && medical[1].1.contains("threshold of 500.00 yuan"),
        "{}",
        medical[1].1
    );
    let costs = fixture("department/education-costs.csv");
    import("education", costs.to_str().unwrap()).assert_contains(
        "3 rows, 3 matched (of which 0 imported before), 0 unmatched; 1 warning(s) opened",
        "CK0002's 12,800; WX0002's 10,000 is not above 10,000",
    );
    let education = warnings_of(&env, &db, "department:education");
    assert_eq!(education.len(), 1);
    assert_eq!(education[0].0, "CK0002");
    assert!(
        education[0].1.contains(
            "2025—2026学年非义务教育阶段教育费用合计12800.00元（1名学生），超过筛查线10000.00元"
        ) && education[0].1.contains("schooling_costs"),
        "{}",
        education[0].1
    );

    // A new version for this year with other thresholds: 600 a month, more than 12,000.
    let list = zx(&db, &["monitor", "rules", "list", "--json"]);
    list.assert_success("rules list");
    let sets: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let mut rules = sets.as_array().unwrap()[0]["rules"].clone();
    assert_eq!(
        rules["triggers"]["outpatient_out_of_pocket"]["monthly_yuan"],
        500
    );
    assert_eq!(rules["triggers"]["schooling_costs"]["above_yuan"], 10_000);
    let year = list_year(&sets) + 1;
    rules["year"] = serde_json::Value::from(year);
    rules["triggers"]["outpatient_out_of_pocket"]["monthly_yuan"] = serde_json::Value::from(600);
    rules["triggers"]["schooling_costs"]["above_yuan"] = serde_json::Value::from("12000.00");
    // Without the new triggers a new file is refused, with their names.
    let mut without = rules.clone();
    without["triggers"]
        .as_object_mut()
        .unwrap()
        .remove("schooling_costs");
    let without_file = env.path("without.json");
    std::fs::write(&without_file, without.to_string()).unwrap();
    let refused = zx(
        &db,
        &["monitor", "rules", "add", without_file.to_str().unwrap()],
    );
    assert_eq!(refused.code, Some(1), "{}", refused.all());
    refused.assert_contains("the screening rule 'schooling_costs' is missing", "named");
    let file = env.path("rules.json");
    std::fs::write(&file, rules.to_string()).unwrap();
    zx(&db, &["monitor", "rules", "add", file.to_str().unwrap()]).assert_success("rules add");

    // WX0001's 550 in August no longer reaches the month's threshold; CK0002's 620 in
    // September does, and is added to its open warning.
    let later = env.path("outpatient-later.csv");
    std::fs::write(
        &later,
        "证件号码,结算单号,结算日期,医疗机构,医疗类别,合规自付金额（元）\n\
         500238195208080179,MZ2025080101,2025-08-01,巫溪县人民医院,门诊,550\n\
         500229199006300841,MZ2025090202,2025-09-02,城口县人民医院,门诊,620\n",
    )
    .unwrap();
    import("medical", later.to_str().unwrap()).assert_contains(
        "0 warning(s) opened, 1 open warning(s) given new reasons",
        "600 a month",
    );
    let medical = warnings_of(&env, &db, "department:medical");
    assert_eq!(medical.len(), 2, "WX0001 raised nothing");
    assert!(
        medical[0]
            .1
            .contains("合规自付支出合计620.00元，达到门诊每月筛查线600.00元"),
        "{}",
        medical[0].1
    );
    assert!(medical[0].1.contains(&format!("{year}年度规则集第1版")));
    zx(&db, &["audit", "verify"]).assert_success("audit chain whole");
}

/// The latest year of the listed rule sets.
fn list_year(sets: &serde_json::Value) -> i64 {
    sets.as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["rules"]["year"].as_i64())
        .max()
        .unwrap()
}
