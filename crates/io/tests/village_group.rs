//! The 村民小组 (village group) column of the registry format: read into the household, checked
//! at its row and column, equal on every row of a household, written back by the export, and
//! optional (files from before the column import as they did).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use time::macros::date;
use zhenxing_io::registry::{ParsedRegistry, RegistryWriter, parse_registry};

const HEADER: &str = "行政区划代码,户编号,户类型,脱贫年度,家庭住址,村民小组,工资性收入（元）,生产经营性收入（元）,财产性收入（元）,转移性收入（元）,生产经营性支出（元）,姓名,证件号码,与户主关系,健康状况,劳动技能,是否参加基本医疗保险";

/// One member row of household `no`.
fn row(no: &str, group: &str, name: &str, id: &str, relation: &str) -> String {
    format!(
        "500229102202,{no},脱贫户,2016,城口县巴山镇立新村3组,{group},14000,0,0,0,0,{name},{id},{relation},健康,普通劳动力,是"
    )
}

/// Writes the header and `rows` as `file` in `dir` and parses it.
fn parse(dir: &Path, file: &str, rows: &[String]) -> ParsedRegistry {
    let text = format!("{HEADER}\n{}", rows.join("\n"));
    let path = common::write_file(dir, file, text.as_bytes());
    parse_registry(&path, date!(2026 - 12 - 01), &|_| {})
}

fn problems(parsed: &ParsedRegistry) -> Vec<(u64, String, String)> {
    parsed
        .report
        .problems
        .iter()
        .map(|p| (p.row, p.column.clone(), p.reason.zh.clone()))
        .collect()
}

#[test]
fn village_groups_are_read_checked_and_written_back() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        row(
            "CK0001",
            "第三村民小组",
            "王建国",
            "500229198203150139",
            "户主",
        ),
        row(
            "CK0001",
            "第三村民小组",
            "李秀英",
            "500229198407080240",
            "配偶",
        ),
        row("CK0002", " ５组 ", "刘小梅", "500229199006300841", "户主"),
        row("CK0003", "", "周红梅", "50023819861225068X", "户主"),
    ];
    let parsed = parse(dir.path(), "groups.csv", &rows);
    assert_eq!(problems(&parsed), []);
    let groups: Vec<Option<&str>> = parsed
        .households
        .iter()
        .map(|h| h.village_group.as_ref().map(|g| g.as_str()))
        .collect();
    assert_eq!(groups, [Some("第三村民小组"), Some("5组"), None]);

    // The export writes the column, and reads back to the same households.
    let out = dir.path().join("export.csv");
    let mut export = RegistryWriter::create(&out, Some(4)).unwrap();
    for h in &parsed.households {
        export.write_household(h, &[]).unwrap();
    }
    export.finish().unwrap();
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains(",村民小组,"), "{written}");
    let again = parse_registry(&out, date!(2026 - 12 - 01), &|_| {});
    assert_eq!(problems(&again), []);
    assert_eq!(again.households, parsed.households);
}

#[test]
fn a_bad_or_disagreeing_village_group_is_refused_at_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        row(
            "CK0001",
            "巴山镇立新村3组",
            "王建国",
            "500229198203150139",
            "户主",
        ),
        row("CK0002", "3组", "刘小梅", "500229199006300841", "户主"),
        row("CK0002", "4组", "谭文军", "500238198801190313", "配偶"),
        row("CK0003", "三", "周红梅", "50023819861225068X", "户主"),
    ];
    let parsed = parse(dir.path(), "bad-groups.csv", &rows);
    let found = problems(&parsed);
    let at: Vec<(u64, &str)> = found.iter().map(|(r, c, _)| (*r, c.as_str())).collect();
    assert_eq!(
        at,
        [(2, "村民小组"), (4, "村民小组"), (5, "村民小组")],
        "{found:?}"
    );
    assert!(found[0].2.contains("像是地址"), "{found:?}");
    assert!(found[1].2.contains("各行应一致"), "{found:?}");
    assert!(found[2].2.contains("结尾"), "{found:?}");
}
