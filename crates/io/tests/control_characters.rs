//! Invisible control and text-direction characters (issue 14 item 9) in a registry file are
//! refused at their row and column with the character's position and code point (a NUL byte
//! makes a CSV a binary file, refused as a whole before that); ordinary Chinese text is read
//! as it is.
#![allow(clippy::unwrap_used)]

mod common;

use time::macros::date;
use zhenxing_io::registry::parse_registry;

const HEADER: &str = "行政区划代码,户编号,户类型,脱贫年度,家庭住址,工资性收入（元）,生产经营性收入（元）,财产性收入（元）,转移性收入（元）,生产经营性支出（元）,姓名,证件号码,与户主关系,民族,健康状况,劳动技能,是否参加基本医疗保险";

const IDS: [&str; 2] = ["500229198203150139", "500229198407080240"];

/// The head of household `n` (0 or 1).
fn row(n: usize, address: &str, name: &str, ethnicity: &str) -> String {
    let id = IDS[n];
    format!(
        "500229102202,CK000{n},脱贫户,2016,{address},14000,0,0,0,0,{name},{id},户主,{ethnicity},健康,普通劳动力,是"
    )
}

#[test]
fn nul_and_direction_overrides_are_refused_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEADER}\r\n{}\r\n{}\r\n",
        row(0, "重庆市城口县\u{1B}巴山镇", "王建国", "汉\u{7F}族"),
        row(1, "重庆市城口县巴山镇", "王\u{202E}建国", "汉族"),
    );
    let path = common::write_file(dir.path(), "controls.csv", text.as_bytes());
    let parsed = parse_registry(&path, date!(2026 - 12 - 01), &|_| {});
    assert!(parsed.households.is_empty());
    let problems: Vec<(u64, &str, &str)> = parsed
        .report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str(), p.reason.en.as_str()))
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    for (row, column, position, code) in [
        (2, "家庭住址", 7, "U+001B"),
        (2, "民族", 2, "U+007F"),
        (3, "姓名", 2, "U+202E"),
    ] {
        let found = problems
            .iter()
            .find(|(_, c, _)| *c == column)
            .unwrap_or_else(|| panic!("no problem in {column}: {problems:?}"));
        assert_eq!(found.0, row);
        assert!(
            found.2.contains(&format!("character {position} ({code})")),
            "{found:?}"
        );
    }
    let zh = &parsed.report.problems[0].reason.zh;
    assert!(zh.contains("控制字符"), "{zh}");
}

#[test]
fn ordinary_chinese_text_is_read_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEADER}\r\n{}\r\n",
        row(
            0,
            "重庆市城口县巴山镇立新村３组（二号）",
            "阿依古丽·买买提",
            "维吾尔族"
        )
    );
    let path = common::write_file(dir.path(), "ok.csv", text.as_bytes());
    let parsed = parse_registry(&path, date!(2026 - 12 - 01), &|_| {});
    assert!(
        parsed.report.problems.is_empty(),
        "{:?}",
        parsed.report.problems
    );
    let h = &parsed.households[0];
    assert_eq!(
        h.address.as_deref(),
        Some("重庆市城口县巴山镇立新村３组（二号）")
    );
    assert_eq!(h.members[0].name.as_str(), "阿依古丽·买买提");
    assert_eq!(h.members[0].ethnicity.as_deref(), Some("维吾尔族"));
}
