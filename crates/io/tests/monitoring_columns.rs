//! The monitoring columns of the registry format (识别监测时间, 致贫返贫风险1..5, 风险消除时间,
//! 风险消除方式): read into the household's monitoring outcome, each bad value refused at its row
//! and column in both languages, equal on every row of a household, and written back by the
//! export. Whether a file may change them is the store's rule (tested there).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use time::macros::date;
use zhenxing_core::elimination::EliminationMethod;
use zhenxing_core::monitoring::RiskType;
use zhenxing_io::registry::{ParsedRegistry, RegistryWriter, parse_registry};

const HEADER: &str = "行政区划代码,户编号,户类型,脱贫年度,监测对象类别,识别监测时间,致贫返贫风险1,致贫返贫风险2,致贫返贫风险3,致贫返贫风险4,致贫返贫风险5,风险消除时间,风险消除方式,工资性收入（元）,生产经营性收入（元）,财产性收入（元）,转移性收入（元）,生产经营性支出（元）,姓名,证件号码,与户主关系,健康状况,劳动技能,是否参加基本医疗保险";

/// The monitoring cells of a row: category, identified on, five risk types, eliminated on,
/// method.
struct Monitoring<'a> {
    category: &'a str,
    identified_on: &'a str,
    risks: [&'a str; 5],
    eliminated_on: &'a str,
    method: &'a str,
}

const MONITORED: Monitoring<'static> = Monitoring {
    category: "脱贫不稳定户",
    identified_on: "2024-03-01",
    risks: ["因病", "因学", "", "", ""],
    eliminated_on: "2025-01-10",
    method: "帮扶消除",
};

/// One member row of household `no`.
fn row(no: &str, m: &Monitoring<'_>, name: &str, id: &str, relation: &str) -> String {
    let [r1, r2, r3, r4, r5] = m.risks;
    format!(
        "500229102202,{no},脱贫户,2016,{},{},{r1},{r2},{r3},{r4},{r5},{},{},14000,0,0,0,0,{name},{id},{relation},健康,普通劳动力,是",
        m.category, m.identified_on, m.eliminated_on, m.method
    )
}

fn parse(dir: &Path, file: &str, rows: &[String]) -> ParsedRegistry {
    let text = format!("{HEADER}\n{}", rows.join("\n"));
    let path = common::write_file(dir, file, text.as_bytes());
    parse_registry(&path, date!(2026 - 12 - 01), &|_| {})
}

/// Each problem: row, column, Chinese reason, English reason.
fn problems(parsed: &ParsedRegistry) -> Vec<(u64, String, String, String)> {
    parsed
        .report
        .problems
        .iter()
        .map(|p| {
            (
                p.row,
                p.column.clone(),
                p.reason.zh.clone(),
                p.reason.en.clone(),
            )
        })
        .collect()
}

/// Parses one household of one row with `m`, and returns its problems.
fn problems_of(m: &Monitoring<'_>) -> Vec<(u64, String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let parsed = parse(
        dir.path(),
        "one.csv",
        &[row("CK0001", m, "王建国", "500229198203150139", "户主")],
    );
    problems(&parsed)
}

/// The one problem of `m`, asserted to be at row 2 in `column`, with both reasons containing
/// the given words.
fn refused(m: &Monitoring<'_>, column: &str, zh: &str, en: &str) {
    let found = problems_of(m);
    assert_eq!(found.len(), 1, "{found:?}");
    let (row, col, reason_zh, reason_en) = &found[0];
    assert_eq!((*row, col.as_str()), (2, column), "{found:?}");
    assert!(reason_zh.contains(zh), "{reason_zh}");
    assert!(reason_en.contains(en), "{reason_en}");
}

#[test]
fn the_columns_are_read_and_written_back() {
    let dir = tempfile::tempdir().unwrap();
    // Several risk types in one cell, and a code name, are read too.
    let sudden = Monitoring {
        category: "突发严重困难户",
        identified_on: "2025/6/3",
        risks: ["因病、因残", "", "", "", "accident"],
        eliminated_on: "",
        method: "",
    };
    let rows = [
        row("CK0001", &MONITORED, "王建国", "500229198203150139", "户主"),
        row("CK0001", &MONITORED, "李秀英", "500229198407080240", "配偶"),
        row("CK0002", &sudden, "刘小梅", "500229199006300841", "户主"),
    ];
    let parsed = parse(dir.path(), "monitored.csv", &rows);
    assert_eq!(problems(&parsed), []);
    let first = &parsed.households[0].monitoring_outcome;
    assert_eq!(first.identified_on, Some(date!(2024 - 03 - 01)));
    assert_eq!(first.risk_types, [RiskType::Illness, RiskType::Schooling]);
    assert_eq!(first.risk_eliminated_on, Some(date!(2025 - 01 - 10)));
    assert_eq!(
        first.elimination_method,
        Some(EliminationMethod::ByAssistance)
    );
    let second = &parsed.households[1].monitoring_outcome;
    assert_eq!(second.identified_on, Some(date!(2025 - 06 - 03)));
    assert_eq!(
        second.risk_types,
        [RiskType::Illness, RiskType::Disability, RiskType::Accident]
    );
    assert_eq!(second.risk_eliminated_on, None);

    let out = dir.path().join("export.csv");
    let mut export = RegistryWriter::create(&out, Some(3)).unwrap();
    for h in &parsed.households {
        export.write_household(h, &[]).unwrap();
    }
    export.finish().unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains(",2024-03-01,因病,因学,,,,2025-01-10,帮扶消除,"),
        "{written}"
    );
    // One risk type per column, as the national system writes them.
    assert!(
        written.contains(",2025-06-03,因病,因残,因意外事故,,,,,"),
        "{written}"
    );
    let again = parse_registry(&out, date!(2026 - 12 - 01), &|_| {});
    assert_eq!(problems(&again), []);
    assert_eq!(again.households, parsed.households);
}

#[test]
fn a_household_not_monitored_leaves_them_empty() {
    let none = Monitoring {
        category: "",
        identified_on: "",
        risks: [""; 5],
        eliminated_on: "",
        method: "",
    };
    assert_eq!(problems_of(&none), []);
}

#[test]
fn a_bad_date_is_refused_at_its_cell() {
    let mut m = MONITORED;
    m.identified_on = "2024-02-30";
    refused(&m, "识别监测时间", "不是日期", "is not a date");
    let mut m = MONITORED;
    m.eliminated_on = "去年";
    refused(&m, "风险消除时间", "不是日期", "is not a date");
}

#[test]
fn an_unknown_risk_type_is_refused_at_its_column() {
    let mut m = MONITORED;
    m.risks[3] = "因懒";
    refused(
        &m,
        "致贫返贫风险4",
        "不是风险类型的取值",
        "is not a value of risk type",
    );
}

#[test]
fn a_repeated_risk_type_is_refused_where_it_repeats() {
    let mut m = MONITORED;
    m.risks[2] = "illness";
    refused(
        &m,
        "致贫返贫风险3",
        "重复",
        "repeated (already risk type 1)",
    );
}

#[test]
fn more_than_five_risk_types_are_refused() {
    let mut m = MONITORED;
    m.risks = ["因病", "因残", "因学", "因意外事故", "因产业失败，其他"];
    refused(&m, "致贫返贫风险5", "最多五项", "at most five");
}

#[test]
fn the_method_goes_with_the_elimination_date() {
    let mut m = MONITORED;
    m.method = "";
    refused(
        &m,
        "风险消除方式",
        "须同时填写风险消除方式",
        "needs its elimination method",
    );
    let mut m = MONITORED;
    m.eliminated_on = "";
    refused(
        &m,
        "风险消除方式",
        "没有风险消除时间",
        "has no risk elimination date",
    );
    let mut m = MONITORED;
    m.method = "已消除";
    refused(
        &m,
        "风险消除方式",
        "不是风险消除方式的取值",
        "is not a value of elimination method",
    );
}

#[test]
fn the_elimination_is_not_before_the_identification() {
    let mut m = MONITORED;
    m.eliminated_on = "2024-02-29";
    refused(
        &m,
        "风险消除时间",
        "早于识别监测时间",
        "before the identification date",
    );
}

#[test]
fn an_outcome_without_a_category_is_refused_at_each_cell() {
    let mut m = MONITORED;
    m.category = "";
    let found = problems_of(&m);
    let columns: Vec<&str> = found.iter().map(|p| p.1.as_str()).collect();
    assert_eq!(
        columns,
        [
            "致贫返贫风险1",
            "识别监测时间",
            "风险消除方式",
            "风险消除时间"
        ]
    );
    assert!(found.iter().all(|p| p.0 == 2
        && p.2.contains("没有监测对象类别")
        && p.3.contains("no monitoring category")));
}

#[test]
fn every_row_of_a_household_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let mut other = MONITORED;
    other.risks = ["因病", "", "", "", ""];
    let rows = [
        row("CK0001", &MONITORED, "王建国", "500229198203150139", "户主"),
        row("CK0001", &other, "李秀英", "500229198407080240", "配偶"),
    ];
    let found = problems(&parse(dir.path(), "disagree.csv", &rows));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1.as_str()), (3, "致贫返贫风险1"));
    assert!(found[0].2.contains("第2行此列为“因病、因学”"), "{found:?}");
}

#[test]
fn english_headers_name_the_column_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let header = HEADER
        .replace("识别监测时间", "Identified on")
        .replace("致贫返贫风险2", "risk_type_2");
    let mut m = MONITORED;
    m.identified_on = "03/01/2024";
    m.risks[1] = "因懒";
    let text = format!(
        "{header}\n{}",
        row("CK0001", &m, "王建国", "500229198203150139", "户主")
    );
    let path = common::write_file(dir.path(), "en.csv", text.as_bytes());
    let parsed = parse_registry(&path, date!(2026 - 12 - 01), &|_| {});
    let columns: Vec<String> = problems(&parsed).into_iter().map(|p| p.1).collect();
    assert_eq!(columns, ["Identified on", "risk_type_2"]);
}

#[test]
fn the_fixtures_read_alike_with_the_dates_of_date_cells() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/registry");
    let csv = parse_registry(
        &dir.join("monitoring-columns.csv"),
        date!(2026 - 12 - 01),
        &|_| {},
    );
    // openpyxl wrote the two dates as date cells (a number with a date format), as Excel and
    // LibreOffice keep a typed date.
    let xlsx = parse_registry(
        &dir.join("monitoring-columns-openpyxl.xlsx"),
        date!(2026 - 12 - 01),
        &|_| {},
    );
    assert_eq!(problems(&csv), []);
    assert_eq!(problems(&xlsx), []);
    assert_eq!(csv.households.len(), 4);
    assert_eq!(xlsx.households, csv.households);
    let ck0001 = &csv.households[0].monitoring_outcome;
    assert_eq!(ck0001.identified_on, Some(date!(2024 - 03 - 01)));
    assert_eq!(ck0001.risk_eliminated_on, Some(date!(2025 - 01 - 10)));
    assert!(
        csv.households[1..]
            .iter()
            .all(|h| h.monitoring_outcome.is_empty())
    );
}
