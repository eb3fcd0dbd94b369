//! CSV formula injection through the command line (issue 14 item 8), on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` names a server: names and addresses that start with `=`,
//! `+`, `-`, `@` or an apostrophe are exported to CSV behind a leading apostrophe, so that a
//! spreadsheet shows them as text, and the CSV (and the XLSX) export imports into another
//! database to the same registry, whose export is the same file.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, fixture, zx};

scenarios!(formula_like_names_and_addresses_round_trip);

/// What addresses (by household, in the fixture's order) and names (by row) start with.
const STARTS: [&str; 5] = ["=", "+", "-", "@", "'"];
/// Households in the fixture, so addresses that start with one of `STARTS`.
const ADDRESS_STARTS: usize = 4;
const ADDRESS: usize = 6;
const NAME: usize = 15;

/// The good fixture with every household's address and member names starting with a formula
/// trigger, written as a hand-made file would be (no apostrophes in front).
fn formula_like_registry(env: &Env) -> std::path::PathBuf {
    let text = std::fs::read_to_string(fixture("registry/good-utf8.csv")).unwrap();
    let mut households: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            lines.push(line.to_owned());
            continue;
        }
        // The fixture has no quoted cells.
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        if !households.contains(&cells[1]) {
            households.push(cells[1].clone());
        }
        // Addresses by household (the fixture has four), names by row (it has more).
        let start = STARTS[(households.len() - 1) % STARTS.len()];
        cells[ADDRESS] = format!("{start}{}", cells[ADDRESS]);
        cells[NAME] = format!("{}{}", STARTS[(i - 1) % STARTS.len()], cells[NAME]);
        lines.push(cells.join(","));
    }
    assert!(households.len() >= ADDRESS_STARTS, "{households:?}");
    let path = env.path("formulas.csv");
    std::fs::write(&path, lines.join("\r\n") + "\r\n").unwrap();
    path
}

fn formula_like_names_and_addresses_round_trip(env: Env) {
    let _ = Backend::Sqlite;
    let source = formula_like_registry(&env);
    let a = env.fresh_db("a");
    // The fixture's households include monitored ones, brought into an empty registry as
    // households monitored before zhenxing.
    let import = |db: &str, file: &std::path::Path| {
        zx(
            db,
            &[
                "import",
                "registry",
                file.to_str().unwrap(),
                "--legacy-monitoring",
                "--reason",
                "round trip",
            ],
        )
    };
    import(&a, &source).assert_success("import");
    let a_csv = env.path("a.csv");
    let a_xlsx = env.path("a.xlsx");
    zx(&a, &["export", "registry", a_csv.to_str().unwrap()]).assert_success("export a.csv");
    zx(&a, &["export", "registry", a_xlsx.to_str().unwrap()]).assert_success("export a.xlsx");
    let a_text = std::fs::read_to_string(&a_csv).unwrap();
    for start in &STARTS[..ADDRESS_STARTS] {
        let neutralised = format!(",'{start}重庆市");
        assert!(
            a_text.contains(&neutralised),
            "{neutralised} not in\n{a_text}"
        );
    }
    assert!(a_text.contains(",'=王建国,"), "{a_text}");
    assert!(a_text.contains(",''"), "{a_text}");
    for line in a_text.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "{cell:?} would run as a formula in\n{line}"
            );
        }
    }

    for (name, file) in [("b", &a_csv), ("c", &a_xlsx)] {
        let db = env.fresh_db(name);
        import(&db, file).assert_success(&format!("import {}", file.display()));
        let out = env.path(&format!("{name}.csv"));
        zx(&db, &["export", "registry", out.to_str().unwrap()])
            .assert_success(&format!("export {name}.csv"));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text == a_text,
            "the export of {} imported into {name} differs:\n{a_text}\n---\n{text}",
            file.display()
        );
    }
}
