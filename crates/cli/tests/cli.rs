//! End-to-end tests of the `zhenxing` binary.
//!
//! Every scenario is a function of the backend. It runs on SQLite always (module `sqlite`), and
//! on PostgreSQL (module `postgres`) when `TEST_DATABASE_URL` names a server: each database the
//! scenario asks for is then a fresh `CREATE DATABASE` on it. Outside CI a missing
//! `TEST_DATABASE_URL` skips the PostgreSQL half with a note; in CI (`CI` set) it fails, like
//! `zhenxing_store::testing::postgres`.
//!
//! Messages are compared in English (`--lang en`); one test checks that the default is Chinese.

#![allow(clippy::unwrap_used)]

mod common;

use common::{
    Backend, Env, assert_problems_match_sidecar, audit_checkpoint_file, audit_records, fixture,
    number_before, read_sidecar, stats, zx,
};
use serde_json::Value;

/// The five encodings of the `good` data set (4 households, 12 members).
const GOOD_FILES: [&str; 7] = [
    "registry/good-utf8.csv",
    "registry/good-utf8-bom.csv",
    "registry/good-gb18030.csv",
    "registry/good-openpyxl.xlsx",
    "registry/good-libreoffice.xlsx",
    "registry/good-libreoffice.xls",
    "registry/good-libreoffice.ods",
];

/// A `.xls` shares the sidecar of its `.xlsx` namesake (`with_extension` finds the same file).
const BAD_FILES: [&str; 9] = [
    "registry/bad-binary.csv",
    "registry/bad-corrupt.xlsx",
    "registry/bad-corrupt.xls",
    "registry/bad-empty.csv",
    "registry/bad-excel-rounded.xlsx",
    "registry/bad-many.csv",
    "registry/bad-missing-column.csv",
    "registry/bad-truncated.xlsx",
    "registry/bad-truncated.xls",
];

/// Into an empty registry the fixtures' monitored household (CK0001) comes in as monitored
/// before zhenxing: only the legacy import writes a category the procedures did not.
const LEGACY: [&str; 3] = ["--legacy-monitoring", "--reason", "监测户，启用前已认定"];

/// `import registry FILE` as households kept before zhenxing (`LEGACY`).
fn legacy_import(db: &str, file: &str) -> common::Run {
    let mut args = vec!["import", "registry", file];
    args.extend(LEGACY);
    zx(db, &args)
}

scenarios!(
    good_files_import_and_reimport_unchanged,
    bad_files_are_refused_with_every_problem,
    dry_run_writes_nothing,
    round_trip_csv_and_xlsx,
    template_is_a_workbook_with_validation,
    stats_keys_scopes_and_generated_figures,
    generate_refuses_a_non_empty_registry,
    generate_writes_the_history_and_a_snapshot_per_month,
    division_import,
    audit_verify_detects_tampering,
    audit_verify_detects_a_cut_or_wiped_trail,
    audit_checkpoint_forged_or_missing,
    id_number_in_another_household_is_refused,
    only_the_legacy_import_sets_monitoring_categories,
);

/// The figures that must be equal between a registry and its export re-imported.
fn without_former_poverty_villages(
    mut s: serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    s.remove("former_poverty_villages");
    s
}

fn int(s: &serde_json::Map<String, Value>, key: &str) -> i64 {
    s.get(key)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("stats has no integer '{key}': {s:?}"))
}

// ---------------------------------------------------------------------------------------------
// 1. Good files

fn good_files_import_and_reimport_unchanged(env: Env) {
    let mut exports: Vec<(String, String)> = Vec::new();
    for (i, name) in GOOD_FILES.iter().enumerate() {
        let file = fixture(name);
        let db = env.fresh_db(&format!("good{i}"));

        let first = legacy_import(&db, file.to_str().unwrap());
        first.assert_success(&format!("first import of {name}"));
        first.assert_contains(
            "12 rows read; 4 households created, 0 updated, 0 unchanged; 12 members written",
            name,
        );
        let s = stats(&db, &[]);
        // Per the fixture README: CK0001 (4 members, monitored) and WX0001 (3) are 脱贫户.
        for (key, want) in [
            ("households", 4),
            ("members", 12),
            ("lifted_out_households", 2),
            ("lifted_out_members", 7),
            ("ordinary_households", 2),
            ("ordinary_members", 5),
            ("monitored_households", 1),
            ("monitored_members", 4),
        ] {
            assert_eq!(
                int(&s, key),
                want,
                "{name}: stats {key} after the import: {s:?}"
            );
        }

        // Again, as a plain import: the categories as stored are no change.
        let again = zx(&db, &["import", "registry", file.to_str().unwrap()]);
        again.assert_success(&format!("second import of {name}"));
        again.assert_contains("0 households created, 0 updated, 4 unchanged", name);
        let s2 = stats(&db, &[]);
        assert_eq!(s, s2, "{name}: a re-import changed the figures");

        // Every encoding holds the same registry: the exports must be identical.
        let out = env.path(&format!("good{i}.csv"));
        zx(&db, &["export", "registry", out.to_str().unwrap()])
            .assert_success(&format!("export after {name}"));
        exports.push((name.to_string(), std::fs::read_to_string(&out).unwrap()));
    }
    let (first_name, first) = &exports[0];
    for (name, text) in &exports[1..] {
        common::assert_same_lines(first, text, first_name, name);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Bad files

fn bad_files_are_refused_with_every_problem(env: Env) {
    let mut failures = Vec::new();
    for (i, name) in BAD_FILES.iter().enumerate() {
        let file = fixture(name);
        let sidecar = read_sidecar(&file.with_extension("expected.txt"));
        let db = env.fresh_db(&format!("bad{i}"));
        let audit_before = audit_records(&db);

        let run = zx(&db, &["import", "registry", file.to_str().unwrap()]);
        if run.success() {
            failures.push(format!("{name}: accepted (exit 0)\n{}", run.all()));
            continue;
        }
        if let Err(e) = assert_problems_match_sidecar(&run, &sidecar) {
            failures.push(format!("{name}: {e}"));
        }
        let n = sidecar.len();
        if !run
            .stdout
            .contains(&format!("import refused: {n} problem(s)"))
        {
            failures.push(format!(
                "{name}: no summary 'import refused: {n} problem(s)'\n{}",
                run.all()
            ));
        }
        let s = stats(&db, &[]);
        if int(&s, "households") != 0 || int(&s, "members") != 0 {
            failures.push(format!("{name}: something was written: {s:?}"));
        }
        let audit_after = audit_records(&db);
        if audit_after != audit_before {
            failures.push(format!(
                "{name}: the audit trail grew from {audit_before} to {audit_after} records"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. Dry run

fn dry_run_writes_nothing(env: Env) {
    let db = env.fresh_db("dry");
    let good = fixture("registry/good-openpyxl.xlsx");
    let good = good.to_str().unwrap();
    let audit_before = audit_records(&db);

    let mut args = vec!["import", "registry", "--dry-run", good];
    args.extend(LEGACY);
    let run = zx(&db, &args);
    run.assert_success("dry run");
    run.assert_contains(
        "4 households would be created, 0 updated, 0 unchanged",
        "dry run",
    );
    run.assert_contains("Nothing was written", "dry run");
    assert_eq!(
        int(&stats(&db, &[]), "households"),
        0,
        "the dry run wrote households"
    );
    assert_eq!(
        audit_records(&db),
        audit_before,
        "the dry run wrote to the audit trail"
    );

    // Once imported, a dry run of the same file sees every household unchanged.
    legacy_import(&db, good).assert_success("import");
    let audit_after_import = audit_records(&db);
    assert!(
        audit_after_import > audit_before,
        "the import was not audited"
    );
    let run = zx(&db, &["import", "registry", "--dry-run", good]);
    run.assert_success("second dry run");
    run.assert_contains(
        "0 households would be created, 0 updated, 4 unchanged",
        "dry run",
    );
    assert_eq!(
        audit_records(&db),
        audit_after_import,
        "the dry run wrote to the audit trail"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Round trip

fn round_trip_csv_and_xlsx(env: Env) {
    let a = env.fresh_db("a");
    zx(&a, &["generate", "--scale", "0.002", "--seed", "7"]).assert_success("generate");
    let stats_a = stats(&a, &[]);
    let households = int(&stats_a, "households");
    assert!(households > 0, "generate made no households: {stats_a:?}");

    let a_csv = env.path("a.csv");
    let a_xlsx = env.path("a.xlsx");
    zx(&a, &["export", "registry", a_csv.to_str().unwrap()])
        .assert_contains(&format!("exported {households} households"), "export a.csv");
    zx(&a, &["export", "registry", a_xlsx.to_str().unwrap()]).assert_contains(
        &format!("exported {households} households"),
        "export a.xlsx",
    );

    // CSV into B.
    let b = env.fresh_db("b");
    let run = legacy_import(&b, a_csv.to_str().unwrap());
    run.assert_success("import a.csv into B");
    run.assert_contains(
        &format!("{households} households created, 0 updated, 0 unchanged"),
        "import a.csv",
    );
    // A's generated history paired responsible cadres; B has no pairings, and an import never
    // makes one: the cells are reported, not imported, and B's export leaves them empty.
    run.assert_contains(
        "has no responsible cadre paired with it, so",
        "import a.csv",
    );
    run.assert_contains("was not imported", "import a.csv");
    let stats_b = stats(&b, &[]);
    assert_eq!(
        without_former_poverty_villages(stats_a.clone()),
        without_former_poverty_villages(stats_b),
        "stats of the generated registry A and of its CSV export imported into B differ"
    );
    let b_csv = env.path("b.csv");
    zx(&b, &["export", "registry", b_csv.to_str().unwrap()]).assert_success("export b.csv");
    let (a_text, b_text) = (read(&a_csv), read(&b_csv));
    // Every generated household has its village group (村民小组), and the export writes it: the
    // comparisons below show that the imports keep it.
    let header: Vec<&str> = a_text.lines().next().unwrap().split(',').collect();
    let group = header.iter().position(|h| *h == "村民小组");
    let group = group.unwrap_or_else(|| panic!("no 村民小组 column: {header:?}"));
    for line in a_text.lines().skip(1) {
        let value = line.split(',').nth(group).unwrap_or_default();
        assert!(value.ends_with('组'), "village group {value:?} in {line}");
    }
    let a_without_cadres = without_column(&a_text, "帮扶责任人");
    assert_ne!(
        a_without_cadres, a_text,
        "A's export names no responsible cadre"
    );
    common::assert_same_lines(&a_without_cadres, &b_text, "a.csv", "b.csv");
    assert!(
        a_without_cadres == b_text,
        "a.csv and b.csv hold the same lines in a different order"
    );

    // XLSX into C.
    let c = env.fresh_db("c");
    let run = legacy_import(&c, a_xlsx.to_str().unwrap());
    run.assert_success("import a.xlsx into C");
    run.assert_contains(&format!("{households} households created"), "import a.xlsx");
    assert_eq!(
        without_former_poverty_villages(stats_a.clone()),
        without_former_poverty_villages(stats(&c, &[])),
        "stats of A and of its XLSX export imported into C differ"
    );
    let c_csv = env.path("c.csv");
    zx(&c, &["export", "registry", c_csv.to_str().unwrap()]).assert_success("export c.csv");
    common::assert_same_lines(
        &a_without_cadres,
        &read(&c_csv),
        "a.csv",
        "c.csv (from a.xlsx)",
    );

    // The export re-imported into its own registry changes nothing, without the legacy flag.
    let run = zx(&a, &["import", "registry", a_csv.to_str().unwrap()]);
    run.assert_success("re-import a.csv into A");
    run.assert_contains(
        &format!("0 households created, 0 updated, {households} unchanged"),
        "re-import into A",
    );
    assert_eq!(stats(&a, &[]), stats_a, "re-importing the export changed A");
}

/// The CSV text with the cells of the column headed `header` emptied.
fn without_column(text: &str, header: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let Some(at) = first.split(',').position(|h| h == header) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(first);
    out.push_str("\r\n");
    for line in lines {
        let cells: Vec<&str> = line
            .split(',')
            .enumerate()
            .map(|(i, c)| if i == at { "" } else { c })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------------------------------------
// 5. Template

fn template_is_a_workbook_with_validation(env: Env) {
    let db = env.fresh_db("template");
    let t = env.path("t.xlsx");
    let run = zx(&db, &["export", "template", t.to_str().unwrap()]);
    run.assert_success("export template");
    let file = std::fs::File::open(&t).expect("the template was not written");
    let mut zip = zip::ZipArchive::new(file).expect("the template is not a zip archive");
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name("xl/worksheets/sheet1.xml")
            .expect("the template has no xl/worksheets/sheet1.xml"),
        &mut sheet,
    )
    .unwrap();
    assert!(
        sheet.contains("dataValidation"),
        "sheet1.xml has no data validation"
    );
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name("xl/sharedStrings.xml")
            .expect("no shared strings"),
        &mut strings,
    )
    .unwrap();
    for header in ["行政区划代码", "户编号", "证件号码", "与户主关系"] {
        assert!(
            strings.contains(header),
            "the template has no header {header}"
        );
    }

    // The empty template imports as zero rows (observed: success, "0 rows read").
    let run = zx(&db, &["import", "registry", t.to_str().unwrap()]);
    run.assert_success("import of the empty template");
    run.assert_contains(
        "0 rows read; 0 households created",
        "import of the empty template",
    );
    assert_eq!(int(&stats(&db, &[]), "households"), 0);
}

// ---------------------------------------------------------------------------------------------
// 6. Stats

/// `generate` writes the history of the monitored caseload (warnings, cases, pairings,
/// measures, tickets, incomes of past years) and a snapshot for every month since 2021-01, and
/// the audit trail stays verifiable.
fn generate_writes_the_history_and_a_snapshot_per_month(env: Env) {
    let db = env.fresh_db("history");
    let run = zx(&db, &["generate", "--scale", "0.002", "--seed", "3"]);
    run.assert_success("generate");
    let today = zhenxing_core::china_time::today_in_china();
    let months = (today.year() - 2021) * 12 + i32::from(u8::from(today.month()));
    run.assert_contains(
        &format!("monthly snapshots of {months} months"),
        "a snapshot per month since 2021-01",
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("monitoring history"))
        .unwrap_or_else(|| panic!("no history line\n{}", run.all()));
    for what in [
        " warnings",
        " identification",
        " pairings",
        " measures",
        " tickets",
    ] {
        assert!(number_before(line, what) > 0, "{what}: {line}");
    }
    assert!(audit_records(&db) > 0);
    // The synthetic declarations carry the blind index of their ID number (what a code
    // recovery looks them up by), and some a photo.
    let (declarations, indexed, photos) = common::block_on(async {
        let store = common::open_db(&db).await;
        let mut counts = Vec::new();
        for sql in [
            "SELECT COUNT(*) FROM declarations",
            "SELECT COUNT(*) FROM declarations WHERE id_number_index IS NOT NULL",
            "SELECT COUNT(*) FROM declaration_files",
        ] {
            let n: i64 = match &store {
                zhenxing_store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
                zhenxing_store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            }
            .unwrap();
            counts.push(n);
        }
        store.close().await;
        (counts[0], counts[1], counts[2])
    });
    assert!(declarations > 0, "no synthetic declaration");
    assert_eq!(
        indexed, declarations,
        "a declaration without its blind index"
    );
    assert!(photos > 0 && photos < declarations, "{photos} photos");
    // The reports of a past month have rows: the history lived through it.
    let out = env.path("procedures.csv");
    zx(
        &db,
        &[
            "report",
            "procedures",
            "--month",
            "2021-06",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .assert_success("report procedures 2021-06");
    let total = read(&out);
    let total = total
        .lines()
        .find(|l| l.trim_start_matches('\u{feff}').starts_with("合计"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        total
            .split(',')
            .skip(2)
            .any(|cell| cell.parse::<i64>().is_ok_and(|n| n > 0)),
        "no procedure in June 2021: {total}"
    );
}

fn stats_keys_scopes_and_generated_figures(env: Env) {
    let db = env.fresh_db("stats");
    let empty = stats(&db, &[]);
    for key in [
        "counties",
        "former_poverty_counties",
        "villages",
        "former_poverty_villages",
        "households",
        "members",
        "lifted_out_households",
        "lifted_out_members",
        "monitored_households",
        "monitored_members",
    ] {
        int(&empty, key);
    }
    assert_eq!(int(&empty, "counties"), 38, "{empty:?}");
    assert_eq!(int(&empty, "former_poverty_counties"), 18, "{empty:?}");
    assert_eq!(int(&empty, "households"), 0, "{empty:?}");
    assert_eq!(int(&empty, "former_poverty_villages"), 0, "{empty:?}");

    zx(&db, &["generate", "--scale", "0.002"]).assert_success("generate");
    let whole = stats(&db, &[]);
    // round(1,906,000 × 0.002) = 3812.
    assert_eq!(int(&whole, "lifted_out_members"), 3812, "{whole:?}");
    assert_eq!(int(&whole, "former_poverty_villages"), 1919, "{whole:?}");
    assert!(
        int(&whole, "members") >= int(&whole, "lifted_out_members"),
        "{whole:?}"
    );
    assert_eq!(int(&whole, "counties"), 38);

    // 城口县 only.
    let county = stats(&db, &["--division", "500229"]);
    assert_eq!(
        county.get("division"),
        Some(&Value::from("500229000000")),
        "{county:?}"
    );
    assert_eq!(int(&county, "counties"), 1, "{county:?}");
    assert_eq!(
        int(&county, "former_poverty_counties"),
        1,
        "城口县 is a former poverty county"
    );
    assert!(
        int(&county, "households") > 0,
        "no household generated in 城口县: {county:?}"
    );
    for (key, v) in &county {
        if let Some(v) = v.as_i64() {
            assert!(
                v <= int(&whole, key),
                "{key}: 城口县 {v} > the whole {}",
                int(&whole, key)
            );
        }
    }
    assert!(
        int(&county, "households") < int(&whole, "households"),
        "{county:?}"
    );

    // An unknown and a malformed division: refused without figures (messages checked last).
    let unknown = zx(&db, &["stats", "--division", "500299", "--json"]);
    assert!(
        !unknown.success(),
        "stats of unknown division 500299 succeeded:\n{}",
        unknown.all()
    );
    assert!(
        unknown.stdout.trim().is_empty(),
        "figures printed for an unknown division"
    );
    let malformed = zx(&db, &["stats", "--division", "abc", "--json"]);
    assert!(
        !malformed.success(),
        "stats --division abc succeeded:\n{}",
        malformed.all()
    );
    assert!(
        malformed.stdout.trim().is_empty(),
        "figures printed for division abc"
    );
    unknown.assert_contains("500299", "unknown division");
    malformed.assert_contains("abc", "malformed division");
    unknown.assert_contains("not in the registry", "unknown division (--lang en)");
    malformed.assert_contains("not digits", "malformed division (--lang en)");
}

// ---------------------------------------------------------------------------------------------
// 8. Generate refuses a non-empty registry

fn generate_refuses_a_non_empty_registry(env: Env) {
    let db = env.fresh_db("gen");
    let good = fixture("registry/good-utf8.csv");
    legacy_import(&db, good.to_str().unwrap()).assert_success("import");
    let before = stats(&db, &[]);
    let audit_before = audit_records(&db);

    let run = zx(&db, &["generate", "--scale", "0.002"]);
    assert!(
        !run.success(),
        "generate into a non-empty registry succeeded:\n{}",
        run.all()
    );
    assert_eq!(
        stats(&db, &[]),
        before,
        "the refused generate changed the registry"
    );
    assert_eq!(
        audit_records(&db),
        audit_before,
        "the refused generate wrote to the audit trail"
    );
    run.assert_contains("already holds 4 households", "generate refusal (--lang en)");
}

// ---------------------------------------------------------------------------------------------
// 9. Division import

fn division_import(env: Env) {
    let db = env.fresh_db("div");
    let new_village = "500229201299";

    // One household in the new village: refused until the village is imported.
    let household = env.path("new-village.csv");
    let good = read(&fixture("registry/good-utf8.csv"));
    let mut lines = good.lines();
    let header = lines.next().unwrap();
    let row = lines
        .find(|l| l.contains(",WX0002,") && l.contains(",户主,"))
        .expect("good-utf8.csv has the head of WX0002")
        .replacen("500238103202,WX0002,", &format!("{new_village},CK0100,"), 1);
    std::fs::write(&household, format!("{header}\n{row}\n")).unwrap();
    let household = household.to_str().unwrap();

    let run = zx(&db, &["import", "registry", household]);
    assert!(
        !run.success(),
        "a household in an unknown village was accepted:\n{}",
        run.all()
    );
    run.assert_contains("row 2, column “行政区划代码”", "unknown village");

    let good_divisions = fixture("divisions/good-divisions.csv");
    let good_divisions = good_divisions.to_str().unwrap();
    let run = zx(&db, &["import", "divisions", "--dry-run", good_divisions]);
    run.assert_success("division dry run");
    run.assert_contains("nothing was written", "division dry run");
    assert!(
        division(&db, new_village).is_none(),
        "the dry run added the village"
    );

    let run = zx(&db, &["import", "divisions", good_divisions]);
    run.assert_success("division import");
    run.assert_contains("1 added, 0 renamed, 3 unchanged", "division import");
    let v = division(&db, new_village).expect("the new village is not in the division table");
    assert_eq!(v.name_zh, "新华村村民委员会");
    assert_eq!(v.name_en, "Xinhua Village", "the derived English name");
    assert_eq!(v.parent_code.as_deref(), Some("500229201000"));
    assert_eq!(v.level, "village");

    let run = zx(&db, &["import", "divisions", good_divisions]);
    run.assert_success("second division import");
    run.assert_contains("0 added, 0 renamed, 4 unchanged", "second division import");

    let run = zx(&db, &["import", "registry", household]);
    run.assert_success("import into the new village");
    run.assert_contains("1 households created", "import into the new village");
    let s = stats(&db, &["--division", new_village]);
    assert_eq!((int(&s, "households"), int(&s, "members")), (1, 1), "{s:?}");

    // The bad list: every problem, nothing written.
    let villages_before = int(&stats(&db, &[]), "villages");
    let bad = fixture("divisions/bad-divisions.csv");
    let sidecar = read_sidecar(&bad.with_extension("expected.txt"));
    let run = zx(&db, &["import", "divisions", bad.to_str().unwrap()]);
    assert!(
        !run.success(),
        "bad-divisions.csv was accepted:\n{}",
        run.all()
    );
    if let Err(e) = assert_problems_match_sidecar(&run, &sidecar) {
        panic!("bad-divisions.csv: {e}");
    }
    run.assert_contains(
        &format!("import refused: {} problem(s)", sidecar.len()),
        "bad divisions",
    );
    assert_eq!(int(&stats(&db, &[]), "villages"), villages_before);
    assert!(
        division(&db, "500229299201").is_none(),
        "a village of the refused file was written"
    );
}

/// A division read back with the store API.
fn division(url: &str, code: &str) -> Option<zhenxing_store::divisions::Division> {
    let code = zhenxing_core::DivisionCode::parse(code).unwrap();
    common::block_on(async {
        let db = common::open_db(url).await;
        let d = db.division(&code).await.unwrap();
        db.close().await;
        d
    })
}

// ---------------------------------------------------------------------------------------------
// 10. Audit

fn audit_verify_detects_tampering(env: Env) {
    let db = env.fresh_db("audit");
    // The second file holds the same households: a plain `registry.write`, which is tampered
    // with below.
    for (name, legacy) in [
        ("registry/good-utf8.csv", true),
        ("registry/good-gb18030.csv", false),
    ] {
        let file = fixture(name);
        let file = file.to_str().unwrap();
        if legacy {
            legacy_import(&db, file)
        } else {
            zx(&db, &["import", "registry", file])
        }
        .assert_success(name);
        let run = zx(&db, &["audit", "verify"]);
        run.assert_success("audit verify after imports");
        run.assert_contains("the hash chain is intact", "audit verify");
    }
    let seq = env.tamper_with_audit_actor(&db);
    let run = zx(&db, &["audit", "verify"]);
    assert!(
        !run.success(),
        "audit verify passed after tampering with record {seq}:\n{}",
        run.all()
    );
    run.assert_contains(
        &format!("audit record {seq} was altered"),
        "audit verify after tampering",
    );
    assert!(
        !run.all().contains("intact"),
        "tampered chain called intact:\n{}",
        run.all()
    );
}

/// A database with a few audited imports, its trail verified intact.
fn audited_db(env: &Env, name: &str) -> String {
    let db = env.fresh_db(name);
    for file in ["registry/good-utf8.csv", "registry/good-gb18030.csv"] {
        zx(
            &db,
            &[
                "import",
                "registry",
                fixture(file).to_str().unwrap(),
                "--legacy-monitoring",
                "--reason",
                "fixture: monitored before zhenxing",
            ],
        )
        .assert_success(file);
    }
    let run = zx(&db, &["audit", "verify"]);
    run.assert_success("audit verify after imports");
    run.assert_contains("the hash chain is intact", "audit verify");
    assert!(!run.all().contains("warning"), "{}", run.all());
    db
}

/// The append-only triggers, dropped as someone with the database's files would.
fn drop_audit_triggers(env: &Env) -> Vec<&'static str> {
    match env.backend {
        Backend::Sqlite => vec![
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_items_no_delete",
        ],
        Backend::Postgres => vec![
            "DROP TRIGGER audit_log_no_change ON audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
            "DROP TRIGGER audit_items_no_change ON audit_items",
            "DROP TRIGGER audit_items_no_truncate ON audit_items",
        ],
    }
}

fn assert_verify_fails(db: &str, expected: &str) {
    let run = zx(db, &["audit", "verify"]);
    assert!(!run.success(), "audit verify passed:\n{}", run.all());
    run.assert_contains(expected, "audit verify");
    assert!(
        !run.all().contains("intact"),
        "called intact:\n{}",
        run.all()
    );
}

fn audit_verify_detects_a_cut_or_wiped_trail(env: Env) {
    // The tail cut, and the head the database keeps deleted with it.
    let db = audited_db(&env, "cut");
    let last = audit_records(&db) as i64;
    let mut statements = drop_audit_triggers(&env);
    let cut = format!("DELETE FROM audit_items WHERE seq > {}", last - 1);
    let cut_log = format!("DELETE FROM audit_log WHERE seq > {}", last - 1);
    statements.extend([cut.as_str(), cut_log.as_str(), "DELETE FROM audit_head"]);
    env.execute(&db, &statements);
    assert_verify_fails(
        &db,
        &format!("its last record is {}, while the checkpoint", last - 1),
    );

    // All three tables emptied.
    let db = audited_db(&env, "wiped");
    let mut statements = drop_audit_triggers(&env);
    statements.extend([
        "DELETE FROM audit_items",
        "DELETE FROM audit_log",
        "DELETE FROM audit_head",
    ]);
    env.execute(&db, &statements);
    assert_verify_fails(&db, "the audit trail was emptied");
}

fn audit_checkpoint_forged_or_missing(env: Env) {
    let db = audited_db(&env, "forged");
    let checkpoint = audit_checkpoint_file(&db);
    let line = std::fs::read_to_string(&checkpoint).unwrap();
    let mut saved: Value = serde_json::from_str(&line).unwrap();
    // Moved back to an earlier record, as someone covering a cut would.
    let mut forged = saved.clone();
    forged["seq"] = Value::from(1);
    std::fs::write(&checkpoint, forged.to_string()).unwrap();
    assert_verify_fails(&db, "does not verify under its key");

    // No checkpoint: a warning saying how to anchor, and `audit anchor` (itself audited) does.
    std::fs::remove_file(&checkpoint).unwrap();
    let run = zx(&db, &["audit", "verify"]);
    run.assert_success("audit verify without a checkpoint");
    run.assert_contains("has no checkpoint outside the database", "audit verify");
    run.assert_contains("zhenxing audit anchor", "audit verify");
    let before = audit_records(&db);
    let run = zx(
        &db,
        &[
            "audit",
            "anchor",
            "--reason",
            "checkpoint lost, chain checked",
        ],
    );
    run.assert_success("audit anchor");
    let run = zx(&db, &["audit", "verify"]);
    run.assert_success("audit verify after anchoring");
    assert!(!run.all().contains("warning"), "{}", run.all());
    assert_eq!(
        audit_records(&db),
        before + 1,
        "the anchoring was not audited"
    );
    saved = serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["seq"], Value::from(before + 1));
}

// ---------------------------------------------------------------------------------------------
// 11. One ID number in two households

fn id_number_in_another_household_is_refused(env: Env) {
    let db = env.fresh_db("conflict");
    legacy_import(&db, fixture("registry/good-utf8.csv").to_str().unwrap())
        .assert_success("import good-utf8.csv");
    let before = stats(&db, &[]);
    let audit_before = audit_records(&db);

    // Household CK0099: a new head (a valid synthetic ID from fixtures/id-numbers.csv, male),
    // and as spouse 李秀英, who is registered in CK0001.
    let good = read(&fixture("registry/good-utf8.csv"));
    let mut lines = good.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.take(2).collect();
    assert!(rows[0].contains("王建国") && rows[1].contains("李秀英,500229198407080240"));
    // Not monitored, so that the one problem is the person's.
    let head = rows[0]
        .replace(",CK0001,", ",CK0099,")
        .replace(",脱贫不稳定户,", ",,")
        .replace("王建国,500229198203150139", "赵新,50022919900101001X");
    let spouse = rows[1]
        .replace(",CK0001,", ",CK0099,")
        .replace(",脱贫不稳定户,", ",,");
    let file = env.path("conflict.csv");
    std::fs::write(&file, format!("{header}\n{head}\n{spouse}\n")).unwrap();
    let file = file.to_str().unwrap();

    for dry in [false, true] {
        let mut args = vec!["import", "registry"];
        if dry {
            args.push("--dry-run");
        }
        args.push(file);
        let run = zx(&db, &args);
        assert!(
            !run.success(),
            "dry_run={dry}: the conflicting file was accepted:\n{}",
            run.all()
        );
        let problems = common::problem_lines(&run.stdout);
        assert_eq!(
            problems.len(),
            1,
            "dry_run={dry}: expected one problem:\n{}",
            run.all()
        );
        assert!(
            problems[0].starts_with("row 3, column “证件号码”"),
            "dry_run={dry}: the problem is not on row 3, column 证件号码: {}",
            problems[0]
        );
        assert!(
            problems[0].contains("household CK0001"),
            "dry_run={dry}: the problem does not name household CK0001: {}",
            problems[0]
        );
        assert!(
            !problems[0].contains("500229198407080240"),
            "the full ID number is printed: {}",
            problems[0]
        );
        assert_eq!(
            stats(&db, &[]),
            before,
            "dry_run={dry}: something was written"
        );
        assert_eq!(
            audit_records(&db),
            audit_before,
            "dry_run={dry}: the audit trail grew"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 12. Monitoring categories: set by the procedures, or by the explicit legacy import

fn only_the_legacy_import_sets_monitoring_categories(env: Env) {
    let db = env.fresh_db("legacy");
    let good = fixture("registry/good-utf8.csv");
    let good = good.to_str().unwrap();
    let audit_before = audit_records(&db);

    // A plain import would create CK0001 monitored: refused at its first row and column.
    let run = zx(&db, &["import", "registry", good]);
    assert!(
        !run.success(),
        "a monitored household was created:\n{}",
        run.all()
    );
    let problems = common::problem_lines(&run.stdout);
    assert_eq!(problems.len(), 1, "{}", run.all());
    assert!(
        problems[0].starts_with("row 2, column “监测对象类别”"),
        "{}",
        problems[0]
    );
    for words in ["procedures", "--legacy-monitoring"] {
        assert!(problems[0].contains(words), "{words}: {}", problems[0]);
    }
    assert_eq!(
        int(&stats(&db, &[]), "households"),
        0,
        "something was written"
    );
    assert_eq!(audit_records(&db), audit_before, "the refusal was audited");

    // The flag needs a reason.
    let run = zx(&db, &["import", "registry", good, "--legacy-monitoring"]);
    assert!(!run.success(), "accepted without a reason:\n{}", run.all());
    run.assert_contains("--legacy-monitoring needs --reason", "no reason");
    assert_eq!(
        int(&stats(&db, &[]), "households"),
        0,
        "something was written"
    );

    // With it: written, and audited as its own action.
    let run = legacy_import(&db, good);
    run.assert_success("legacy import");
    run.assert_contains(
        "1 of them have their monitoring category, identification date, risk types and risk elimination as recorded before zhenxing",
        "legacy import",
    );
    assert_eq!(int(&stats(&db, &[]), "monitored_households"), 1);
    assert_eq!(last_audit_action(&db), "registry.legacy_monitoring");

    // A changed category: refused as a plain import, naming both categories.
    let changed = env.path("changed.csv");
    std::fs::write(
        &changed,
        read(&fixture("registry/good-utf8.csv")).replace(",脱贫不稳定户,", ",突发严重困难户,"),
    )
    .unwrap();
    let changed = changed.to_str().unwrap();
    let before = stats(&db, &[]);
    let run = zx(&db, &["import", "registry", changed]);
    assert!(!run.success(), "the category was changed:\n{}", run.all());
    let problems = common::problem_lines(&run.stdout);
    assert_eq!(problems.len(), 1, "{}", run.all());
    assert!(
        problems[0].starts_with("row 2, column “监测对象类别”")
            && problems[0].contains("unstable lifted-out household")
            && problems[0].contains("household in sudden severe hardship"),
        "{}",
        problems[0]
    );
    assert_eq!(stats(&db, &[]), before, "something was written");
    let run = legacy_import(&db, changed);
    run.assert_success("legacy import of the change");
    run.assert_contains("0 households created, 1 updated", "legacy change");
}

/// The action of the newest audit record, read with the store API.
fn last_audit_action(url: &str) -> String {
    common::block_on(async {
        let db = common::open_db(url).await;
        let last = zhenxing_store::audit::recent(&db, 1).await.unwrap();
        db.close().await;
        last[0].action.clone()
    })
}

// ---------------------------------------------------------------------------------------------
// Tests that do not depend on the backend.

/// 7. A database URL without a scheme is an existing SQLite file or refused; never created.
#[test]
fn url_without_scheme_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent-dir").join("typo.db");
    let run = common::zx_in(
        None,
        &[
            "--database",
            missing.to_str().unwrap(),
            "--lang",
            "en",
            "stats",
        ],
    );
    assert!(
        !run.success(),
        "a missing file without scheme was accepted:\n{}",
        run.all()
    );
    assert!(
        !dir.path().join("nonexistent-dir").exists(),
        "the directory was created"
    );

    let empty = tempfile::tempdir().unwrap();
    let run = common::zx_in(
        Some(empty.path()),
        &["--database", "typo.db", "--lang", "en", "stats"],
    );
    assert!(
        !run.success(),
        "'typo.db' without scheme was accepted:\n{}",
        run.all()
    );
    let left: Vec<_> = std::fs::read_dir(empty.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "files were created in the working directory: {left:?}"
    );

    // Messages last: the checks above must hold whatever the language.
    run.assert_contains("has no scheme", "typo.db (--lang en)");
    let missing_run = common::zx_in(
        None,
        &[
            "--database",
            missing.to_str().unwrap(),
            "--lang",
            "en",
            "stats",
        ],
    );
    missing_run.assert_contains("has no scheme", "nonexistent-dir/typo.db (--lang en)");
}

/// 7. An existing SQLite file works without the scheme, by absolute and by relative path.
#[test]
fn existing_sqlite_file_without_scheme_works() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.db");
    let url = format!("sqlite://{}", file.display());
    legacy_import(&url, fixture("registry/good-utf8.csv").to_str().unwrap())
        .assert_success("import");
    assert_eq!(int(&stats(file.to_str().unwrap(), &[]), "households"), 4);
    let run = common::zx_in(
        Some(dir.path()),
        &["--database", "x.db", "--lang", "en", "stats", "--json"],
    );
    run.assert_success("relative path without scheme");
    let s: serde_json::Map<String, Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(int(&s, "households"), 4);
}

/// Without `--lang` (and without ZHENXING_LANG) the CLI speaks Chinese.
#[test]
fn default_language_is_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("zh.db").display());
    let good = fixture("registry/good-utf8.csv");
    let run = common::zx_in(
        None,
        &[
            "--database",
            &url,
            "import",
            "registry",
            good.to_str().unwrap(),
            LEGACY[0],
            LEGACY[1],
            LEGACY[2],
        ],
    );
    run.assert_success("import");
    run.assert_contains("导入完成", "default language");
    run.assert_contains("新建4户", "default language");
    assert!(
        !run.stdout.contains("import complete"),
        "English output by default:\n{}",
        run.all()
    );

    let bad = fixture("registry/bad-many.csv");
    let run = common::zx_in(
        None,
        &[
            "--database",
            &url,
            "import",
            "registry",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!run.success());
    run.assert_contains("第2行, 列 “证件号码”", "default language");
    run.assert_contains("导入被拒绝", "default language");

    let run = common::zx_in(None, &["--database", &url, "stats", "--division", "abc"]);
    assert!(!run.success());
    run.assert_contains("含有非数字字符", "default language, error path");
}

/// The sidecar comparison itself can fail: a sidecar with a wrong column, or one line short.
#[test]
fn sidecar_check_detects_a_wrong_or_short_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let file = fixture("registry/bad-many.csv");
    let run = zx(&url, &["import", "registry", file.to_str().unwrap()]);
    let sidecar = read_sidecar(&file.with_extension("expected.txt"));
    assert_problems_match_sidecar(&run, &sidecar).expect("the real sidecar matches");
    let mut wrong = sidecar.clone();
    wrong[0].1 = "姓名".into();
    assert!(
        assert_problems_match_sidecar(&run, &wrong).is_err(),
        "a wrong column matched"
    );
    let short = &sidecar[1..];
    assert!(
        assert_problems_match_sidecar(&run, short).is_err(),
        "an extra problem line went unnoticed"
    );
    let mut file_level = sidecar.clone();
    file_level[0] = (0, "-".into());
    assert!(
        assert_problems_match_sidecar(&run, &file_level).is_err(),
        "a missing file-level problem matched"
    );
}

/// The same seed gives the same registry on both backends (when PostgreSQL is configured).
#[test]
fn postgres_and_sqlite_generate_and_export_the_same_registry() {
    let Some(pg) = Env::postgres() else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let lite = Env::new(Backend::Sqlite);
    let mut exports = Vec::new();
    for env in [&lite, &pg] {
        let db = env.fresh_db("same");
        zx(&db, &["generate", "--scale", "0.002", "--seed", "11"]).assert_success("generate");
        let out = env.path("same.csv");
        zx(&db, &["export", "registry", out.to_str().unwrap()]).assert_success("export");
        exports.push((stats(&db, &[]), read(&out)));
    }
    assert_eq!(
        exports[0].0, exports[1].0,
        "stats differ between SQLite and PostgreSQL"
    );
    common::assert_same_lines(
        &exports[0].1,
        &exports[1].1,
        "SQLite export",
        "PostgreSQL export",
    );
    assert!(
        exports[0].1 == exports[1].1,
        "same lines, different order between backends"
    );
}
