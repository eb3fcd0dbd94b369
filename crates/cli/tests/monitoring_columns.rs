//! End-to-end test of the monitoring columns of the registry format (识别监测时间,
//! 致贫返贫风险1..5, 风险消除时间, 风险消除方式): only `import registry --legacy-monitoring`
//! sets or changes them; the export writes them and imports back unchanged; a plain import that
//! changes one is refused at its row and column. Like `cli.rs`, on SQLite, and on PostgreSQL
//! when `TEST_DATABASE_URL` names a server.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, fixture, zx};

scenarios!(only_the_legacy_import_sets_the_monitoring_columns);

const LEGACY: [&str; 3] = ["--legacy-monitoring", "--reason", "监测户，启用前已认定"];

fn last_audit_action(url: &str) -> String {
    common::block_on(async {
        let db = common::open_db(url).await;
        let last = zhenxing_store::audit::recent(&db, 1).await.unwrap();
        db.close().await;
        last[0].action.clone()
    })
}

fn only_the_legacy_import_sets_the_monitoring_columns(env: Env) {
    let db = env.fresh_db("monitoring_columns");
    let file = fixture("registry/monitoring-columns.csv");
    let file = file.to_str().unwrap();

    // Plain: CK0001 would arrive monitored, refused at its category.
    let run = zx(&db, &["import", "registry", file]);
    assert!(!run.success(), "{}", run.all());
    let problems = common::problem_lines(&run.stdout);
    assert_eq!(problems.len(), 1, "{}", run.all());
    assert!(
        problems[0].starts_with("row 2, column “监测对象类别”"),
        "{}",
        problems[0]
    );

    // Legacy: written with its record, audited as such.
    let mut args = vec!["import", "registry", file];
    args.extend(LEGACY);
    zx(&db, &args).assert_contains(
        "1 of them have their monitoring category, identification date, risk types and risk elimination as recorded before zhenxing",
        "legacy import",
    );
    assert_eq!(last_audit_action(&db), "registry.legacy_monitoring");

    // The export writes the columns and imports back unchanged, as a plain import.
    let export = env.path("export.csv");
    let export = export.to_str().unwrap();
    zx(&db, &["export", "registry", export]).assert_success("export");
    let written = std::fs::read_to_string(export).unwrap();
    assert!(
        written.contains("识别监测时间,致贫返贫风险1,致贫返贫风险2,致贫返贫风险3,致贫返贫风险4,致贫返贫风险5,风险消除时间,风险消除方式")
            && written.contains(",2024-03-01,因病,因学,,,,2025-01-10,帮扶消除,"),
        "{written}"
    );
    zx(&db, &["import", "registry", export])
        .assert_contains("0 households created, 0 updated, 4 unchanged", "re-import");
    // So does the workbook openpyxl wrote with date cells.
    let xlsx = fixture("registry/monitoring-columns-openpyxl.xlsx");
    zx(&db, &["import", "registry", xlsx.to_str().unwrap()])
        .assert_contains("0 households created, 0 updated, 4 unchanged", "xlsx");

    // A changed risk type: refused as a plain import, at its row and column, naming the
    // household and the way to bring in a record kept before zhenxing.
    let changed = env.path("changed.csv");
    std::fs::write(&changed, written.replace(",因病,因学,", ",因病,因残,")).unwrap();
    let changed = changed.to_str().unwrap();
    let run = zx(&db, &["import", "registry", changed]);
    assert!(!run.success(), "{}", run.all());
    let problems = common::problem_lines(&run.stdout);
    assert_eq!(problems.len(), 1, "{}", run.all());
    assert!(
        problems[0].starts_with("row 2, column “致贫返贫风险1”"),
        "{}",
        problems[0]
    );
    for words in [
        "household CK0001",
        "'illness, schooling'",
        "--legacy-monitoring",
    ] {
        assert!(problems[0].contains(words), "{words}: {}", problems[0]);
    }
    // As a legacy import it is written.
    let mut args = vec!["import", "registry", changed];
    args.extend(LEGACY);
    zx(&db, &args).assert_contains("1 updated", "legacy correction");
    assert_eq!(last_audit_action(&db), "registry.legacy_monitoring");
}
