//! The 帮扶责任人 (responsible cadre) column: names read into the parse result beside the
//! households (the importer checks them against the pairings; they are not a household field),
//! a bad name refused at its row and column, equal on every row of a household, and written by
//! the export as given to it.
#![allow(clippy::unwrap_used)]

mod common;

use time::macros::date;
use zhenxing_io::registry::{CadreCell, ParsedRegistry, RegistryWriter, parse_registry};

const HEADER: &str = "行政区划代码,户编号,户类型,脱贫年度,帮扶责任人,工资性收入（元）,生产经营性收入（元）,财产性收入（元）,转移性收入（元）,生产经营性支出（元）,姓名,证件号码,与户主关系,健康状况,劳动技能,是否参加基本医疗保险";

fn row(no: &str, cadres: &str, name: &str, id: &str, relation: &str) -> String {
    format!(
        "500229102202,{no},脱贫户,2016,{cadres},14000,0,0,0,0,{name},{id},{relation},健康,普通劳动力,是"
    )
}

fn parse(dir: &std::path::Path, rows: &[String]) -> ParsedRegistry {
    let text = format!("{HEADER}\n{}", rows.join("\n"));
    let path = common::write_file(dir, "cadres.csv", text.as_bytes());
    parse_registry(&path, date!(2026 - 12 - 01), &|_| {})
}

#[test]
fn names_are_read_beside_the_households_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        row(
            "CK0001",
            "张明、李芳",
            "王建国",
            "500229198203150139",
            "户主",
        ),
        row(
            "CK0001",
            "张明、李芳",
            "李秀英",
            "500229198407080240",
            "配偶",
        ),
        row("CK0002", "", "刘小梅", "500229199006300841", "户主"),
    ];
    let parsed = parse(dir.path(), &rows);
    assert!(
        parsed.report.problems.is_empty(),
        "{:?}",
        parsed.report.problems
    );
    assert_eq!(
        parsed.responsible_cadres,
        [CadreCell {
            household_no: "CK0001".into(),
            row: 2,
            names: vec!["张明".into(), "李芳".into()],
        }]
    );

    let out = dir.path().join("export.csv");
    let mut export = RegistryWriter::create(&out, Some(2)).unwrap();
    export
        .write_household(&parsed.households[0], &["张明".into(), "李芳".into()])
        .unwrap();
    export.finish().unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains(",帮扶责任人,"), "{written}");
    assert!(written.contains(",张明、李芳,"), "{written}");
}

#[test]
fn a_bad_or_disagreeing_name_is_refused_at_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let too_long = "张".repeat(51);
    let rows = [
        row("CK0001", "张明", "王建国", "500229198203150139", "户主"),
        row("CK0001", "李芳", "李秀英", "500229198407080240", "配偶"),
        row("CK0002", &too_long, "刘小梅", "500229199006300841", "户主"),
    ];
    let parsed = parse(dir.path(), &rows);
    let found: Vec<(u64, &str)> = parsed
        .report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    assert_eq!(found, [(3, "帮扶责任人"), (4, "帮扶责任人")]);
    assert!(
        parsed.report.problems[0]
            .reason
            .zh
            .contains("第2行此列为“张明”")
    );
    assert!(
        parsed.report.problems[1].reason.en.contains("50"),
        "{:?}",
        parsed.report.problems[1]
    );
}
