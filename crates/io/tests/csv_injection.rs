//! CSV formula injection (issue 14 item 8): a text cell starting with `=`, `+`, `-`, `@`, tab or
//! CR is written with a leading apostrophe, so that a spreadsheet shows it as text, and the
//! registry reader takes the apostrophe off again, so that an export re-imports to the same
//! registry. XLSX cells are typed text and are written as they are.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use time::macros::date;
use zhenxing_core::{
    DivisionCode, DocumentNumber, Education, Fen, Health, HouseholdDraft, HouseholdNo,
    HouseholdType, IdNumber, IncomeItems, Labor, Member, PersonName, Relation,
};
use zhenxing_io::registry::{RegistryWriter, parse_registry};
use zhenxing_io::reports::{
    ColumnKind, REPORTS, ReportCell, ReportColumn, ReportTable, write_report,
};
use zhenxing_io::{ColumnSpec, create_writer};

fn member(name: &str, sequence: u16, relation: Relation) -> Member {
    let id = IdNumber::compose("500229", date!(1980 - 05 - 01), sequence).unwrap();
    Member {
        name: PersonName::parse(name).unwrap(),
        document: DocumentNumber::Resident(id),
        relation,
        ethnicity: Some("=汉族".into()),
        education: Some(Education::Primary),
        school_status: None,
        health: Health::HEALTHY,
        labor: Labor::Ordinary,
        work_months: Some(3),
        medical_insurance: true,
        dibao: None,
    }
}

/// A household whose head's name and whose address start with `start`.
fn household(n: usize, start: &str) -> HouseholdDraft {
    HouseholdDraft {
        household_no: HouseholdNo::parse(&format!("CK-{n:04}")).unwrap(),
        division: DivisionCode::parse("500229102201").unwrap(),
        household_type: HouseholdType::LiftedOut,
        lifted_out_year: Some(2019),
        monitoring_category: None,
        phone: None,
        address: Some(format!("{start}HYPERLINK(\"http://evil.example\")巫山县")),
        village_group: None,
        monitoring_outcome: Default::default(),
        income: IncomeItems::new(
            Fen::from_yuan(12_000),
            Fen::from_yuan(500),
            Fen::ZERO,
            Fen::ZERO,
            Fen::from_yuan(300),
        )
        .unwrap(),
        out_of_pocket: Fen::ZERO,
        housing_safe: Some(true),
        water_safe: Some(true),
        members: vec![
            member(&format!("{start}王世华"), 2 * n as u16, Relation::Head),
            member("李秀英", 2 * n as u16 + 1, Relation::Spouse),
        ],
    }
}

/// Values a stored name or address may start with that a spreadsheet would take as a formula,
/// and apostrophes, which the rule must keep apart from its own prefix. (Tab and CR cannot be
/// stored in a name or an address: the domain refuses them, and the writer's own test covers
/// them.)
const STARTS: [&str; 7] = ["=", "+", "-", "@", "'", "'=", "''"];

fn drafts() -> Vec<HouseholdDraft> {
    STARTS
        .iter()
        .enumerate()
        .map(|(i, s)| household(i + 1, s))
        .collect()
}

fn export(path: &Path, drafts: &[HouseholdDraft]) {
    let mut writer = RegistryWriter::create(path, None).unwrap();
    for d in drafts {
        writer.write_household(d, &[]).unwrap();
    }
    writer.finish().unwrap();
}

fn reimport(path: &Path) -> Vec<HouseholdDraft> {
    let parsed = parse_registry(path, date!(2026 - 12 - 01), &|_| {});
    assert!(
        parsed.report.problems.is_empty(),
        "{:?}",
        parsed.report.problems
    );
    let mut households: Vec<HouseholdDraft> =
        parsed.households.iter().map(|h| h.to_draft()).collect();
    households.sort_by(|a, b| a.household_no.cmp(&b.household_no));
    households
}

#[test]
fn a_csv_export_neutralises_formulas_and_imports_back_to_the_same_registry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.csv");
    let drafts = drafts();
    export(&path, &drafts);

    let text = std::fs::read_to_string(&path).unwrap();
    for start in STARTS {
        let name = format!("'{start}王世华");
        let address = format!("'{start}HYPERLINK");
        assert!(text.contains(&name), "{name} not in\n{text}");
        assert!(text.contains(&address), "{address} not in\n{text}");
    }
    assert!(text.contains(",'=汉族,"), "{text}");
    // Numbers stay numbers, and no cell starts with a trigger.
    assert!(text.contains(",12000.00,500.00,"), "{text}");
    let table = common::read_all(&path);
    for (_, cells) in &table.rows {
        for cell in cells {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} would run as a formula"
            );
        }
    }

    assert_eq!(reimport(&path), drafts);
}

#[test]
fn an_xlsx_export_keeps_the_values_as_they_are_and_imports_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.xlsx");
    let drafts = drafts();
    export(&path, &drafts);
    let table = common::read_all(&path);
    let name_column = table.headers.iter().position(|h| h == "姓名").unwrap();
    let names: Vec<&str> = table
        .rows
        .iter()
        .map(|(_, cells)| cells[name_column].as_str())
        .filter(|n| *n != "李秀英")
        .collect();
    assert_eq!(names[0], "=王世华");
    assert_eq!(names[4], "'王世华");
    assert_eq!(reimport(&path), drafts);
}

#[test]
fn report_csvs_neutralise_text_but_not_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.csv");
    let table = ReportTable {
        info: REPORTS[0],
        rows_level: zhenxing_core::DivisionLevel::County,
        subtitle: String::new(),
        columns: vec![
            ReportColumn::new("区划", "Division", ColumnKind::Text),
            ReportColumn::new("户数", "Households", ColumnKind::Count),
            ReportColumn::new("金额", "Amount", ColumnKind::Yuan),
        ],
        rows: vec![vec![
            ReportCell::Text("-1+cmd|' /C calc'!A0".into()),
            ReportCell::Number(-3),
            ReportCell::Number(-50_000),
        ]],
        footer: zhenxing_core::report_table::ReportFooter::default(),
    };
    write_report(&path, &table).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("'-1+cmd|' /C calc'!A0,-3,-500.00\r\n"),
        "{text}"
    );
    assert!(text.contains("合计 / Total,-3,-500.00\r\n"), "{text}");
}

#[test]
fn every_csv_writer_neutralises_and_number_columns_only_take_plain_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    let columns = [ColumnSpec::new("备注"), ColumnSpec::number("金额")];
    let mut writer = create_writer(&path, &columns, None).unwrap();
    writer.write_row(&["\tx", "-12.50"]).unwrap();
    writer.write_row(&["\rx", "-1+1"]).unwrap();
    writer.write_row(&["@x", "=1"]).unwrap();
    writer.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let body: Vec<&str> = text.split("\r\n").skip(1).collect();
    assert_eq!(body[0], "'\tx,-12.50");
    assert_eq!(body[1], "\"'\rx\",'-1+1");
    assert_eq!(body[2], "'@x,'=1");
}
