#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Department files: every kind's example, GB18030 and XLSX (the fixture written by openpyxl,
//! and one written here by python3 with openpyxl when it is installed), and every kind of
//! malformed row, each refusing the whole file with its row, column and field.

mod common;

use std::path::{Path, PathBuf};
use time::macros::date;
use zhenxing_core::Lang;
use zhenxing_core::department::{
    AllowanceKind, CareType, CivilEvent, DepartmentKind, DisasterKind, EnrolmentStatus,
    HousingGrade, SchoolYearCosts,
};
use zhenxing_core::{Fen, department::Signal};
use zhenxing_io::department::{
    ParsedDepartment, RecordData, columns, parse_department, parse_school_year,
};

const TODAY: time::Date = date!(2026 - 06 - 01);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/department")
        .join(name)
}

fn parse(name: &str, kind: DepartmentKind) -> ParsedDepartment {
    parse_department(&fixture(name), kind, TODAY)
}

fn accepted(name: &str, kind: DepartmentKind) -> ParsedDepartment {
    let p = parse(name, kind);
    assert!(
        p.problems.is_empty(),
        "{name}: {:?}",
        p.problems
            .iter()
            .map(|p| p.render(Lang::En))
            .collect::<Vec<_>>()
    );
    p
}

fn medical_amounts(p: &ParsedDepartment) -> Vec<String> {
    p.records
        .iter()
        .map(|r| match &r.data {
            RecordData::Medical { out_of_pocket, .. } => out_of_pocket.to_string(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn medical_in_utf8_gb18030_and_xlsx_read_the_same() {
    let utf8 = accepted("medical.csv", DepartmentKind::Medical);
    assert_eq!(utf8.rows, 5);
    assert_eq!(
        medical_amounts(&utf8),
        ["3200.00", "2000.50", "19999.99", "23400.00", "800.00"]
    );
    // Every date form of the example reads as the same kind of date.
    let dates: Vec<String> = utf8.records.iter().map(|r| r.date.to_string()).collect();
    assert_eq!(
        dates,
        [
            "2025-03-02",
            "2025-04-10",
            "2025-05-01",
            "2025-06-18",
            "2025-06-20"
        ]
    );
    assert_eq!(utf8.records[0].row, 2);
    assert_eq!(
        utf8.records[0].natural_key(),
        "medical|500229198203150139|YB2025030001"
    );
    for other in ["medical-gb18030.csv", "medical-openpyxl.xlsx"] {
        let p = accepted(other, DepartmentKind::Medical);
        assert_eq!(p.records, utf8.records, "{other}");
    }
}

#[test]
fn an_xlsx_written_by_openpyxl_now() {
    let script = r#"
import sys, openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.append(["ID number", "Settlement number", "Settlement date", "Hospital", "Out-of-pocket amount (yuan)"])
ws.append(["500229198203150139", "X1", "2025-03-02", "H", 1234.5])
ws.append(["50023819861225068X", "X2", "2025-03-03", "H", 10])
ws["C3"].value = __import__("datetime").datetime(2025, 3, 3)
wb.save(sys.argv[1])
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("now.xlsx");
    let ran = std::process::Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output();
    match ran {
        Ok(out) if out.status.success() => {}
        _ => {
            eprintln!(
                "python3 with openpyxl not available: skipped (the committed fixture is read above)"
            );
            return;
        }
    }
    let p = parse_department(&path, DepartmentKind::Medical, TODAY);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(medical_amounts(&p), ["1234.50", "10.00"]);
    assert_eq!(p.records[1].date, date!(2025 - 03 - 03), "a real date cell");
}

#[test]
fn every_kind_reads_its_example() {
    let e = accepted("education.csv", DepartmentKind::Education);
    assert!(matches!(
        e.records[0].data,
        RecordData::Education {
            status: EnrolmentStatus::DroppedOut,
            ..
        }
    ));
    let h = accepted("housing.csv", DepartmentKind::Housing);
    assert_eq!(
        h.records
            .iter()
            .map(|r| match r.data {
                RecordData::Housing { grade } => grade,
                _ => unreachable!(),
            })
            .collect::<Vec<_>>(),
        [HousingGrade::C, HousingGrade::B]
    );
    let d = accepted("disaster.csv", DepartmentKind::Disaster);
    assert!(matches!(
        d.records[0].data,
        RecordData::Disaster {
            disaster_kind: DisasterKind::Flood,
            ..
        }
    ));
    let c = accepted("civil_affairs.csv", DepartmentKind::CivilAffairs);
    assert_eq!(
        c.records
            .iter()
            .map(|r| match r.data {
                RecordData::CivilAffairs {
                    event,
                    assistance_kind,
                } => (event, assistance_kind),
                _ => unreachable!(),
            })
            .collect::<Vec<_>>(),
        [
            (CivilEvent::Died, None),
            (CivilEvent::Stopped, Some(AllowanceKind::Dibao)),
            (CivilEvent::Granted, Some(AllowanceKind::Dibao)),
        ]
    );
    // English headers in another order.
    let u = accepted("unemployment.csv", DepartmentKind::Unemployment);
    assert_eq!(u.records.len(), 2);
    assert_eq!(u.records[0].id_number.as_str(), "500229199006300841");
}

/// (row, column) of every problem, as the sidecar lists them.
fn expected(name: &str) -> Vec<(u64, String)> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .map(|l| {
            let mut parts = l.split('\t');
            (
                parts.next().unwrap().parse().unwrap(),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_malformed_row_is_reported_and_nothing_is_accepted() {
    let p = parse("bad-medical.csv", DepartmentKind::Medical);
    let got: Vec<(u64, String)> = p
        .problems
        .iter()
        .map(|p| (p.row, p.column.clone()))
        .collect();
    assert_eq!(got, expected("bad-medical.expected.txt"));
    assert!(p.records.is_empty(), "all or nothing");
    assert_eq!(p.rows, 9);
    let lines: Vec<String> = p.problems.iter().map(|p| p.render(Lang::En)).collect();
    for (i, needle) in [
        (0, "check character"),
        (1, "after today"),
        (2, "write a non-negative amount in yuan"),
        (3, "is not a date"),
        (4, "required value is empty; fill in"),
        (5, "negative"),
        (6, "the same record as row 8"),
    ] {
        assert!(lines[i].contains(needle), "{i}: {}", lines[i]);
    }
    // Each line names the field and masks the ID number.
    assert!(lines[0].contains("(field id_number)"), "{}", lines[0]);
    assert!(lines[0].contains("500229********"), "{}", lines[0]);
    assert!(!lines[0].contains("5002291982031501"), "{}", lines[0]);
    assert!(
        lines[2].contains("(field out_of_pocket), value “abc”"),
        "{}",
        lines[2]
    );
    let zh = p.problems[2].render(Lang::Zh);
    assert!(
        zh.starts_with("第4行，列“合规自付金额（元）”（字段out_of_pocket），值“abc”："),
        "{zh}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn another_kinds_columns_or_a_missing_column_refuse_the_file() {
    // The housing file uploaded as medical data.
    let p = parse("housing.csv", DepartmentKind::Medical);
    assert!(p.records.is_empty());
    assert_eq!(p.problems[0].row, 1);
    let en = p.problems[0].render(Lang::En);
    assert!(en.contains("the columns of housing data"), "{en}");
    assert!(en.contains("(housing)"), "{en}");
    assert!(
        p.problems
            .iter()
            .any(|p| p.field == "out_of_pocket" && p.reason.en.contains("is missing")),
        "{:?}",
        p.problems
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "no-amount.csv",
        "证件号码,结算单号,结算日期,医疗机构\n500229198203150139,S1,2025-01-01,H\n",
    );
    let p = parse_department(&path, DepartmentKind::Medical, TODAY);
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].column, "合规自付金额（元）");
    assert_eq!(p.problems[0].field, "out_of_pocket");
    // A header only; an empty file.
    let path = write(dir.path(), "header.csv", "证件号码,失业登记日期\n");
    let p = parse_department(&path, DepartmentKind::Unemployment, TODAY);
    assert!(p.problems[0].reason.en.contains("no data rows"));
    let path = write(dir.path(), "empty.csv", "");
    let p = parse_department(&path, DepartmentKind::Unemployment, TODAY);
    assert_eq!(p.problems[0].row, 0);
}

#[test]
fn unknown_values_of_the_lists_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "civil.csv",
        "证件号码,事项,救助类别,日期\n\
         500229198203150139,补发,低保,2025-01-01\n\
         500229198407080240,停发,,2025-01-01\n\
         500229195802140625,死亡,低保,2025-01-01\n\
         500229199006300841,发放,五保,2025-01-01\n",
    );
    let p = parse_department(&path, DepartmentKind::CivilAffairs, TODAY);
    let got: Vec<(u64, &str)> = p
        .problems
        .iter()
        .map(|p| (p.row, p.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "event"),
            (3, "assistance_kind"),
            (4, "assistance_kind"),
            (5, "assistance_kind")
        ]
    );
    assert!(
        p.problems[0]
            .reason
            .en
            .contains("allowed: granted, stopped, died")
    );
    let path = write(
        dir.path(),
        "housing.csv",
        "证件号码,鉴定等级,鉴定日期\n500229198203150139,E,2025-01-01\n",
    );
    let p = parse_department(&path, DepartmentKind::Housing, TODAY);
    assert_eq!(p.problems[0].field, "safety_grade");
    let path = write(
        dir.path(),
        "education.csv",
        "证件号码,学籍状态,状态日期\n500229198203150139,毕业,2025-01-01\n",
    );
    let p = parse_department(&path, DepartmentKind::Education, TODAY);
    assert_eq!(p.problems[0].field, "enrolment_status");
}

/// One value of each record of a file, as `pick` reads it from the record's data.
fn each<T>(p: &ParsedDepartment, pick: impl Fn(&RecordData) -> Option<T>) -> Vec<Option<T>> {
    p.records.iter().map(|r| pick(&r.data)).collect()
}

#[test]
fn the_medical_file_says_which_claims_are_outpatient() {
    let p = accepted("medical-outpatient.csv", DepartmentKind::Medical);
    let types = each(&p, |d| match d {
        RecordData::Medical { care_type, .. } => *care_type,
        other => panic!("{other:?}"),
    });
    use CareType::{Inpatient, Outpatient};
    // 门诊, 门诊慢特病, 门诊, 普通门诊, 门诊, 住院, and one left empty.
    assert_eq!(
        types,
        [
            Some(Outpatient),
            Some(Outpatient),
            Some(Outpatient),
            Some(Outpatient),
            Some(Outpatient),
            Some(Inpatient),
            None
        ]
    );
    // The key of a settlement is still its number; the signal says outpatient.
    assert_eq!(
        p.records[0].natural_key(),
        "medical|500229195802140625|MZ2025030501"
    );
    let signals: Vec<Signal> = p.records[0].signals(1).collect();
    assert_eq!(
        signals,
        [Signal::OutOfPocket {
            amount: Fen::from_yuan(320),
            date: date!(2025 - 03 - 05),
            outpatient: true,
        }]
    );
    // The files without the column read as before: no type, not outpatient.
    let old = accepted("medical.csv", DepartmentKind::Medical);
    assert!(old.records.iter().all(|r| matches!(
        r.data,
        RecordData::Medical {
            care_type: None,
            ..
        }
    )));
}

#[test]
fn the_education_file_reports_a_school_years_costs() {
    let p = accepted("education-costs.csv", DepartmentKind::Education);
    let costs = each(&p, |d| match d {
        RecordData::Education { costs, .. } => *costs,
        other => panic!("{other:?}"),
    });
    assert_eq!(
        costs,
        [
            Some(SchoolYearCosts {
                school_year: 2025,
                amount: Fen::from_yuan(12_800),
            }),
            Some(SchoolYearCosts {
                school_year: 2025,
                amount: Fen::from_yuan(10_000),
            }),
            None
        ]
    );
    // A row with costs is its own record (its school year in the key) and gives two signals;
    // a row without keeps the key rows always had.
    assert_eq!(
        p.records[0].natural_key(),
        "education|500229199006300841|enrolled|2025-09-01|costs|2025"
    );
    assert_eq!(
        p.records[2].natural_key(),
        "education|500229201309010358|enrolled|2025-09-01"
    );
    let signals: Vec<Signal> = p.records[0].signals(2).collect();
    assert_eq!(signals.len(), 2);
    assert_eq!(
        signals[1],
        Signal::SchoolCosts {
            member: 2,
            school_year: 2025,
            amount: Fen::from_yuan(12_800),
        }
    );
    // The original example has no costs.
    let old = accepted("education.csv", DepartmentKind::Education);
    assert!(
        old.records
            .iter()
            .all(|r| matches!(r.data, RecordData::Education { costs: None, .. }))
    );
}

#[test]
fn school_years_in_the_forms_education_systems_write() {
    for s in [
        "2025-2026",
        "2025—2026",
        "2025–2026学年",
        "2025/26",
        "2025 - 2026",
        "2025学年",
        "2025",
        "2025～2026",
        "2025至2026学年",
    ] {
        assert_eq!(parse_school_year(s, TODAY), Ok(2025), "{s}");
    }
    for s in [
        "2025-2027",
        "25-26",
        "2025-",
        "abc",
        "",
        "2025-2026-2027",
        "二〇二五",
    ] {
        let e = parse_school_year(s, TODAY).unwrap_err();
        assert!(e.en.contains("is not a school year"), "{s}: {}", e.en);
    }
    // One that has not started yet this year, and one long past, are typos.
    let e = parse_school_year("2027-2028", TODAY).unwrap_err();
    assert!(
        e.en.contains("does not start between 2000 and this year (2026)"),
        "{}",
        e.en
    );
    assert!(parse_school_year("1999-2000", TODAY).is_err());
    assert_eq!(parse_school_year("2026-2027", TODAY), Ok(2026));
}

#[test]
fn bad_care_types_school_years_and_costs_are_refused_at_their_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "outpatient.csv",
        "证件号码,结算单号,结算日期,医疗机构,医疗类别,合规自付金额（元）\n\
         500229198203150139,S1,2025-01-01,H,门诊,100\n\
         500229198407080240,S2,2025-01-01,H,体检,100\n",
    );
    let p = parse_department(&path, DepartmentKind::Medical, TODAY);
    assert!(p.records.is_empty(), "all or nothing");
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    let en = p.problems[0].render(Lang::En);
    assert!(
        en.starts_with("row 3, column “医疗类别” (field care_type), value “体检”"),
        "{en}"
    );
    assert!(en.contains("allowed: outpatient, inpatient"), "{en}");

    let path = write(
        dir.path(),
        "costs.csv",
        "证件号码,学籍状态,状态日期,学年,非义务教育阶段费用（元）\n\
         500229198203150139,在读,2025-09-01,2025-2026,12000\n\
         500229198407080240,在读,2025-09-01,2025-2027,12000\n\
         500229195802140625,在读,2025-09-01,2027-2028,12000\n\
         500229199006300841,在读,2025-09-01,2025-2026,-5\n\
         500229201309010358,在读,2025-09-01,2025-2026,一万\n\
         500238201604110868,在读,2025-09-01,,12000\n\
         500238199110030462,在读,2025-09-01,2025-2026,\n\
         500229198203150139,在读,2025-09-01,2025-2026,100\n",
    );
    let p = parse_department(&path, DepartmentKind::Education, TODAY);
    assert!(p.records.is_empty(), "all or nothing");
    let got: Vec<(u64, &str)> = p
        .problems
        .iter()
        .map(|p| (p.row, p.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (3, "school_year"),
            (4, "school_year"),
            (5, "non_compulsory_costs"),
            (6, "non_compulsory_costs"),
            (7, "school_year"),
            (8, "non_compulsory_costs"),
            (9, "id_number"),
        ]
    );
    let en: Vec<String> = p.problems.iter().map(|p| p.render(Lang::En)).collect();
    assert!(
        en[0].contains("value “2025-2027”") && en[0].contains("is not a school year"),
        "{}",
        en[0]
    );
    assert!(
        en[1].contains("does not start between 2000 and this year"),
        "{}",
        en[1]
    );
    assert!(en[2].contains("non-negative amount"), "{}", en[2]);
    assert!(en[4].contains("the school year is empty"), "{}", en[4]);
    assert!(
        en[5].contains("the non-compulsory schooling costs are empty"),
        "{}",
        en[5]
    );
    assert!(en[6].contains("the same record as row 2"), "{}", en[6]);
    let zh = p.problems[4].render(Lang::Zh);
    assert!(
        zh.starts_with("第7行，列“学年”（字段school_year）："),
        "{zh}"
    );

    // Costs without a school-year column: say which column to add.
    let path = write(
        dir.path(),
        "no-year.csv",
        "证件号码,学籍状态,状态日期,非义务教育阶段费用（元）\n\
         500229198203150139,在读,2025-09-01,12000\n\
         500229198407080240,在读,2025-09-01,\n",
    );
    let p = parse_department(&path, DepartmentKind::Education, TODAY);
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert_eq!(
        (p.problems[0].row, p.problems[0].field.as_str()),
        (2, "non_compulsory_costs")
    );
    assert!(p.problems[0].reason.en.contains("add the column '学年'"));
}

/// The documentation lists every column of every kind with its headers and field name.
#[test]
fn the_documentation_matches_the_catalogue() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/department-formats.md"),
    )
    .unwrap();
    for kind in DepartmentKind::ALL {
        let heading = format!("## `{}`", kind.code());
        let start = doc.find(&heading).unwrap_or_else(|| panic!("{heading}"));
        let section = &doc[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
        for c in columns(*kind) {
            let line = section
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", c.key)))
                .unwrap_or_else(|| panic!("{}: {}", kind.code(), c.key));
            assert!(
                line.contains(&format!("| {} |", c.header_zh))
                    && line.contains(&format!("| {} |", c.header_en)),
                "{line}"
            );
            let required = if c.required { "| yes" } else { "| no" };
            assert!(line.contains(required), "{line}");
        }
    }
}
