//! End-to-end tests of `zhenxing monitor …`: screening runs, what-if and rule sets, on a
//! generated registry. Like `cli.rs`, every scenario runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, Run, audit_records, number_before, zx};
use serde_json::Value;

scenarios!(
    run_is_idempotent,
    whatif_counts_and_writes_nothing,
    rules_add_refuses_bad_files_and_adds_versions,
    a_closed_stdout_ends_every_command_quietly,
);

fn generated(env: &Env, name: &str) -> String {
    let db = env.fresh_db(name);
    zx(&db, &["generate", "--scale", "0.001", "--seed", "11"]).assert_success("generate");
    db
}

/// The numbers before "opened", "updated", "closed" in a run's English summary.
fn counts(run: &Run) -> (u64, u64, u64) {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("screened "))
        .unwrap_or_else(|| panic!("no summary line\n{}", run.all()));
    (
        number_before(line, " opened"),
        number_before(line, " updated"),
        number_before(line, " closed"),
    )
}

fn run_is_idempotent(env: Env) {
    let db = generated(&env, "run");
    let first = zx(&db, &["monitor", "run", "--year", "2021"]);
    first.assert_success("monitor run");
    first.assert_contains(
        "rule set 2021 for 500000000000, version 1",
        "rule set named",
    );
    first.assert_contains("time: load", "timings");
    let (opened, updated, closed) = counts(&first);
    assert!(
        opened > 0,
        "a generated registry has households at risk\n{}",
        first.all()
    );
    assert_eq!((updated, closed), (0, 0));
    let records = audit_records(&db);

    let second = zx(&db, &["monitor", "run", "--year", "2021"]);
    second.assert_success("monitor run again");
    assert_eq!(counts(&second), (0, 0, 0), "{}", second.all());
    second.assert_contains(&format!("{opened} unchanged"), "all unchanged");
    assert_eq!(audit_records(&db), records + 1, "one audit record per run");

    // A county only: its warnings are unchanged, the others are not touched.
    let county = zx(
        &db,
        &["monitor", "run", "--year", "2021", "--division", "500229"],
    );
    county.assert_success("monitor run --division");
    assert_eq!(counts(&county), (0, 0, 0), "{}", county.all());

    // The default language is Chinese; the assumed rule set of a later year says so.
    let zh = common::zx_in(
        None,
        &["--database", &db, "monitor", "run", "--year", "2024"],
    );
    assert!(zh.success(), "{}", zh.all());
    assert!(zh.stdout.contains("假定值"), "{}", zh.all());
    assert!(zh.stdout.contains("新开预警"), "{}", zh.all());

    // A division that does not exist is refused.
    let bad = zx(&db, &["monitor", "run", "--division", "500229999999"]);
    assert!(!bad.success());
    bad.assert_contains("is not in the registry", "unknown division");
}

/// The binary with its standard output a pipe whose reader has gone before the first line
/// (`zhenxing … | head -0`): its exit code and standard error.
fn with_stdout_closed(db: &str, args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhenxing"))
        .args(["--database", db, "--lang", "en"])
        .args(args)
        .env_remove("ZHENXING_DATABASE_URL")
        .env_remove("ZHENXING_LOG")
        .env_remove("ZHENXING_KEYS")
        .env("ZHENXING_KEY_FILE", common::key_file(db))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the zhenxing binary runs");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr read");
    let status = child.wait().expect("zhenxing ends");
    (status.code(), stderr)
}

fn a_closed_stdout_ends_every_command_quietly(env: Env) {
    let db = generated(&env, "closed_stdout");
    for args in [
        &["stats"][..],
        &["stats", "--json"],
        &["monitor", "rules", "list"],
        &[
            "monitor",
            "whatif",
            "--year",
            "2021",
            "--threshold",
            "7500",
            "--list",
        ],
    ] {
        let (code, stderr) = with_stdout_closed(&db, args);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
    }
}

fn whatif_json(db: &str, extra: &[&str]) -> serde_json::Map<String, Value> {
    let mut args = vec!["monitor", "whatif", "--year", "2021", "--json"];
    args.extend_from_slice(extra);
    let run = zx(db, &args);
    run.assert_success("monitor whatif --json");
    match serde_json::from_str::<Value>(&run.stdout) {
        Ok(Value::Object(m)) => m,
        other => panic!(
            "whatif --json is not one JSON object: {other:?}\n{}",
            run.all()
        ),
    }
}

fn int(m: &serde_json::Map<String, Value>, key: &str) -> u64 {
    m.get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no integer {key} in {m:?}"))
}

fn whatif_counts_and_writes_nothing(env: Env) {
    let db = generated(&env, "whatif");
    // The first monitor command saves the built-in rule sets (one audited operation).
    zx(&db, &["monitor", "rules", "list"]).assert_success("rules list");
    let records = audit_records(&db);
    let higher = whatif_json(&db, &["--threshold", "7500"]);
    // Every county, 渝中区 (no village) and those the small registry has no household in
    // with zeros, as in the reports.
    let counties = common::stats(&db, &[]);
    let by_county = higher["by_county"].as_array().expect("by_county");
    assert_eq!(
        Some(by_county.len() as u64),
        counties.get("counties").and_then(Value::as_u64),
        "{by_county:?}"
    );
    let yuzhong = by_county
        .iter()
        .find(|c| c["code"] == "500103000000")
        .expect("渝中区 listed");
    assert_eq!(yuzhong["name_zh"], "渝中区");
    assert_eq!(yuzhong["households_at_or_below_threshold"], 0, "{yuzhong}");
    let same = whatif_json(&db, &["--threshold", "6000"]);
    assert_eq!(audit_records(&db), records, "what-if writes nothing");

    let (h, m) = (
        int(&higher, "households_at_or_below_threshold"),
        int(&higher, "members_at_or_below_threshold"),
    );
    let (h_now, m_now) = (
        int(&same, "households_at_or_below_threshold"),
        int(&same, "members_at_or_below_threshold"),
    );
    assert!(h_now > 0 && m_now >= h_now, "{same:?}");
    assert!(h >= h_now && m >= m_now);
    assert_eq!(int(&higher, "households_entering"), h - h_now);
    assert_eq!(int(&higher, "members_entering"), m - m_now);
    assert_eq!(int(&higher, "households_leaving"), 0);
    assert_eq!(
        int(&same, "households_entering") + int(&same, "households_leaving"),
        0
    );
    assert_eq!(higher["threshold_yuan"], "7500.00");
    assert_eq!(higher["current_threshold_yuan"], "6000.00");

    let by_county = higher["by_county"].as_array().unwrap();
    assert!(!by_county.is_empty());
    let sum: u64 = by_county
        .iter()
        .map(|c| c["households_at_or_below_threshold"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, h, "the counties add up to the total");
    assert!(
        higher.get("by_village").is_none(),
        "villages only with --division"
    );
    assert!(higher.get("entering").is_none(), "lists only with --list");
    let listed = whatif_json(&db, &["--threshold", "7500", "--list"]);
    let entering = listed["entering"].as_array().unwrap();
    assert_eq!(entering.len() as u64, h - h_now);
    assert!(listed["leaving"].as_array().unwrap().is_empty());
    for e in entering {
        let income: f64 = e["per_capita_net_income_yuan"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(income > 6000.0 && income <= 7500.0, "{e}");
    }
    let lower = whatif_json(&db, &["--threshold", "5000", "--list"]);
    assert_eq!(
        lower["leaving"].as_array().unwrap().len() as u64,
        int(&lower, "households_leaving")
    );

    // With a division: its townships and villages, adding up to the county.
    let county = by_county[0]["code"].as_str().unwrap().to_owned();
    let county_h = by_county[0]["households_at_or_below_threshold"]
        .as_u64()
        .unwrap();
    let scoped = whatif_json(&db, &["--threshold", "7500", "--division", &county[..6]]);
    assert_eq!(int(&scoped, "households_at_or_below_threshold"), county_h);
    for key in ["by_township", "by_village"] {
        let sum: u64 = scoped[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["households_at_or_below_threshold"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, county_h, "{key}");
    }

    // The text report, and a threshold that is not an amount (refused before the database is
    // opened: nothing is created).
    let text = zx(
        &db,
        &["monitor", "whatif", "--threshold", "7500", "--year", "2021"],
    );
    text.assert_success("whatif text");
    text.assert_contains("by county", "county table");
    text.assert_contains(&format!("total: {h} households, {m} people"), "totals");
    let missing = env.path("never.db");
    let bad = common::zx_in(
        None,
        &[
            "--database",
            &format!("sqlite://{}", missing.display()),
            "--lang",
            "en",
            "monitor",
            "whatif",
            "--threshold",
            "7千",
        ],
    );
    assert!(!bad.success());
    bad.assert_contains("is not an amount", "bad threshold");
    assert!(!missing.exists(), "a refused argument creates no database");
    let zero = zx(&db, &["monitor", "whatif", "--threshold", "0"]);
    assert!(!zero.success());
    zero.assert_contains("above 0", "zero threshold");
}

fn rules_add_refuses_bad_files_and_adds_versions(env: Env) {
    let db = generated(&env, "rules");
    let list = zx(&db, &["monitor", "rules", "list", "--json"]);
    list.assert_success("rules list");
    let sets: Vec<Value> = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(sets.len(), 5, "the built-in rule sets");
    assert_eq!(sets[0]["rules"]["threshold_yuan"], 6000);
    assert_eq!(sets[1]["rules"]["assumed"], true);
    let records = audit_records(&db);

    // Contradictory and missing parameters: refused with every reason, nothing saved.
    let mut bad = sets[4]["rules"].clone();
    bad["threshold_yuan"] = Value::from(0);
    bad["triggers"]["medical_out_of_pocket"]["lifted_out_yuan"] = Value::from(30_000);
    bad["triggers"]
        .as_object_mut()
        .unwrap()
        .remove("unsafe_water");
    let bad_file = env.path("bad.json");
    std::fs::write(&bad_file, bad.to_string()).unwrap();
    let refused = zx(
        &db,
        &["monitor", "rules", "add", bad_file.to_str().unwrap()],
    );
    assert_eq!(refused.code, Some(1), "{}", refused.all());
    refused.assert_contains("threshold must be above 0", "threshold reason");
    refused.assert_contains("contradict each other", "contradiction");
    refused.assert_contains("'unsafe_water' is missing", "missing trigger");
    refused.assert_contains("Nothing was saved", "summary");
    let zh = common::zx_in(
        None,
        &[
            "--database",
            &db,
            "monitor",
            "rules",
            "add",
            bad_file.to_str().unwrap(),
        ],
    );
    assert!(zh.stdout.contains("监测范围须大于0元"), "{}", zh.all());

    // Not JSON, and a missing file.
    let broken = env.path("broken.json");
    std::fs::write(&broken, "{\"year\": 2025,").unwrap();
    let refused = zx(&db, &["monitor", "rules", "add", broken.to_str().unwrap()]);
    assert_eq!(refused.code, Some(1));
    refused.assert_contains("the rule set file is not valid (line 1", "JSON error");
    let gone = zx(&db, &["monitor", "rules", "add", "no-such-file.json"]);
    assert!(!gone.success());
    gone.assert_contains("cannot read the file", "missing file");
    assert_eq!(audit_records(&db), records, "refusals write nothing");

    // A good file becomes version 2 of its year, whatever version it names; runs use it.
    let mut good = sets[4]["rules"].clone();
    good["threshold_yuan"] = Value::from("7000.50");
    good["assumed"] = Value::from(false);
    good["version"] = Value::from(1);
    let good_file = env.path("good.json");
    std::fs::write(&good_file, good.to_string()).unwrap();
    let added = zx(
        &db,
        &["monitor", "rules", "add", good_file.to_str().unwrap()],
    );
    added.assert_success("rules add");
    added.assert_contains(
        "saved: rule set 2025 for 500000000000, version 2",
        "version 2",
    );
    added.assert_contains("the file's version 1 was not used", "versions never edited");
    assert_eq!(audit_records(&db), records + 1);
    let run = zx(&db, &["monitor", "run", "--year", "2025"]);
    run.assert_success("run with version 2");
    run.assert_contains(
        "rule set 2025 for 500000000000, version 2",
        "uses version 2",
    );
    let whatif = whatif_json_for(&db, "2025");
    assert_eq!(whatif["current_threshold_yuan"], "7000.50");
    let text = zx(&db, &["monitor", "rules", "list"]);
    text.assert_success("rules list text");
    text.assert_contains("2025 500000000000 v2 threshold 7000.50 published", "listed");
}

fn whatif_json_for(db: &str, year: &str) -> serde_json::Map<String, Value> {
    let run = zx(
        db,
        &[
            "monitor",
            "whatif",
            "--threshold",
            "7500",
            "--year",
            year,
            "--json",
        ],
    );
    run.assert_success("whatif");
    serde_json::from_str(&run.stdout).unwrap()
}
