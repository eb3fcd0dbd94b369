#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::path::Path;

use common::{read_all, strings};
use zhenxing_io::{
    Cell, ColumnSpec, FileKind, TableReader, WorkbookFormat, WriteError, create_writer,
    restore_neutralised, sniff, write_template,
};

fn columns() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::new("姓名"),
        ColumnSpec {
            text: true,
            width: 22.0,
            ..ColumnSpec::new("身份证号")
        },
        ColumnSpec::new("备注"),
        ColumnSpec::new("year"),
    ]
}

fn data() -> Vec<Vec<&'static str>> {
    vec![
        vec!["张三", "500229199001010012", "石柱县 \"黄水镇\"", "2019"],
        vec!["李四", "50022919850505002X", "", "2020"],
        vec!["王五", "", "第一行\n第二行", ""],
        vec!["  空格  ", "0012", "=SUM(A1:A2)", "3.50"],
        vec!["𠀀 emoji 😀", "1", "a,b;c\td", "x"],
    ]
}

fn export(path: &Path) {
    let mut writer = create_writer(path, &columns(), Some(data().len() as u64)).unwrap();
    for row in data() {
        writer.write_row(&row).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn xlsx_and_csv_exports_read_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["out.xlsx", "OUT.CSV"] {
        let path = dir.path().join(name);
        export(&path);
        let table = read_all(&path);
        let headers: Vec<String> = columns().into_iter().map(|c| c.header).collect();
        assert_eq!(table.headers, headers, "{name}");
        assert_eq!(table.rows.len(), data().len(), "{name}");
        for ((number, cells), (i, expected)) in table.rows.iter().zip(data().iter().enumerate()) {
            assert_eq!(*number, i as u64 + 2, "{name}");
            // XLSX rows stop at their last non-empty cell; compare column by column.
            for (col, want) in expected.iter().enumerate() {
                let got = cells.get(col).map(String::as_str).unwrap_or("");
                // CSV puts an apostrophe before a formula (`'=SUM(A1:A2)`), which the
                // registry reader takes off again; XLSX cells are typed text.
                let got = if name.ends_with("CSV") {
                    restore_neutralised(got)
                } else {
                    got
                };
                assert_eq!(got, *want, "{name} row {number} col {col}");
            }
        }
        // Only the target is left in the folder: no temporary files.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }
    let csv = std::fs::read(dir.path().join("OUT.CSV")).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF\xE5\xA7\x93")); // BOM, then 姓
    assert!(csv.windows(2).any(|w| w == b"\r\n"));
    assert!(csv.windows(13).any(|w| w == b",'=SUM(A1:A2)"));
}

#[test]
fn numbers_dates_and_booleans_from_excel() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    // Two empty rows first: the header is the first non-empty row.
    sheet.write_string(2, 0, "  年份 ").unwrap();
    sheet.write_string(2, 1, "身份证号").unwrap();
    sheet.write_string(2, 2, "日期").unwrap();
    sheet.write_string(2, 3, "是否").unwrap();
    sheet.write_number(2, 4, 2024.0).unwrap();
    sheet.write_number(3, 0, 2019.0).unwrap();
    sheet.write_number(3, 1, 5.002_291_990_010_1e17).unwrap();
    let date = ExcelDateTime::from_ymd(2024, 3, 1).unwrap();
    sheet
        .write_datetime_with_format(3, 2, &date, &Format::new().set_num_format("yyyy-mm-dd"))
        .unwrap();
    sheet.write_boolean(3, 3, true).unwrap();
    sheet.write_number(3, 4, 3.5).unwrap();
    sheet.write_formula(4, 0, "=1/0").unwrap();
    workbook.save(&path).unwrap();

    assert_eq!(
        sniff(&path).unwrap(),
        FileKind::Workbook(WorkbookFormat::Xlsx)
    );
    let mut reader = TableReader::open(&path).unwrap();
    assert_eq!(reader.header_row_number(), 3);
    assert_eq!(
        reader.headers(),
        strings(&["年份", "身份证号", "日期", "是否", "2024"])
    );
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.number, 4);
    assert_eq!(row.get(0), Cell::Number(2019.0));
    assert_eq!(row.get(0).as_text_lossless().as_deref(), Some("2019"));
    let Cell::Number(id) = row.get(1) else {
        panic!("{:?}", row.get(1))
    };
    assert_eq!(id, 5.002_291_990_010_1e17);
    assert_eq!(row.get(1).as_text_lossless(), None);
    assert_eq!(row.get(2), Cell::Text("2024-03-01"));
    assert_eq!(row.get(3), Cell::Text("TRUE"));
    assert_eq!(row.get(4).as_text_lossless(), None);
    assert_eq!(row.get(9), Cell::Empty);
    // A formula without a cached value is read as its (empty) cached result.
    let formula_row = reader.next_row().unwrap();
    assert!(formula_row.is_none_or(|r| r.number == 5));
}

#[test]
fn template_has_text_columns_and_drop_downs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("模板.xlsx");
    let long: Vec<String> = (0..120)
        .map(|i| format!("重庆市某某区县某某村{i}"))
        .collect();
    let columns = vec![
        ColumnSpec {
            text: true,
            ..ColumnSpec::new("身份证号")
        },
        ColumnSpec {
            choices: Some(strings(&["是", "否"])),
            ..ColumnSpec::new("是否脱贫")
        },
        ColumnSpec {
            choices: Some(long.clone()),
            ..ColumnSpec::new("所属村")
        },
        ColumnSpec {
            choices: Some(strings(&["甲,乙", "丙"])),
            ..ColumnSpec::new("类别")
        },
    ];
    write_template(&path, &columns).unwrap();

    let table = read_all(&path);
    assert_eq!(
        table.headers,
        strings(&["身份证号", "是否脱贫", "所属村", "类别"])
    );
    assert!(table.rows.is_empty());

    let sheet = zip_entry(&path, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<pane ySplit="1""#), "frozen header");
    assert!(sheet.contains(r#"sqref="B2:B10001""#), "{sheet}");
    assert!(sheet.contains("<formula1>\"是,否\"</formula1>"), "{sheet}");
    assert!(
        sheet.contains("<formula1>lists!$A$1:$A$120</formula1>"),
        "{sheet}"
    );
    assert!(
        sheet.contains("<formula1>lists!$B$1:$B$2</formula1>"),
        "{sheet}"
    );
    let workbook = zip_entry(&path, "xl/workbook.xml");
    assert!(
        workbook.contains(r#"name="lists" sheetId="2" state="hidden""#),
        "{workbook}"
    );
    let styles = zip_entry(&path, "xl/styles.xml");
    assert!(styles.contains(r#"formatCode="@""#) || styles.contains(r#"numFmtId="49""#));
    assert!(styles.contains("<b/>"), "bold header");

    // The hidden list sheet holds the values in order.
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let lists = book.worksheet_range("lists").unwrap();
    assert_eq!(
        lists.get_value((119, 0)),
        Some(&calamine::Data::String(long[119].clone()))
    );
    assert_eq!(
        lists.get_value((0, 1)),
        Some(&calamine::Data::String("甲,乙".into()))
    );

    let csv = dir.path().join("模板.csv");
    assert!(matches!(
        write_template(&csv, &columns),
        Err(WriteError::UnsupportedExtension { .. })
    ));
}

fn zip_entry(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn too_many_rows_for_xlsx_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    let error = create_writer(&path, &columns(), Some(1_048_576))
        .err()
        .unwrap();
    assert!(matches!(
        error,
        WriteError::TooManyRowsForXlsx {
            rows: 1_048_576,
            ..
        }
    ));
    let message = error.to_string();
    assert!(
        message.contains("big.xlsx") && message.contains(".csv"),
        "{message}"
    );
    assert!(message.contains("请改为导出 .csv") && message.contains("Export as .csv"));
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    // Exactly a full sheet is fine, and CSV has no such limit.
    create_writer(&path, &columns(), Some(1_048_575)).unwrap();
    create_writer(&dir.path().join("big.csv"), &columns(), Some(5_000_000)).unwrap();
}

#[test]
fn failed_or_abandoned_exports_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.xlsx", "a.csv"] {
        let path = dir.path().join(name);
        let mut writer = create_writer(&path, &columns(), None).unwrap();
        writer.write_row(&["x", "y", "z", "w"]).unwrap();
        let error = writer.write_row(&["only one"]).unwrap_err();
        assert!(matches!(
            error,
            WriteError::WrongCellCount {
                row: 3,
                expected: 4,
                got: 1,
                ..
            }
        ));
        drop(writer);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{name}"
        );
    }
    let error = create_writer(&dir.path().join("a.txt"), &columns(), None)
        .err()
        .unwrap();
    assert!(matches!(error, WriteError::UnsupportedExtension { .. }));
    let missing = dir.path().join("no/such/folder/a.csv");
    assert!(matches!(
        create_writer(&missing, &columns(), None).err().unwrap(),
        WriteError::Io { .. }
    ));
}

#[test]
fn overwriting_an_existing_export_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.xlsx");
    std::fs::write(&path, b"old").unwrap();
    export(&path);
    assert_eq!(read_all(&path).rows.len(), data().len());
}

#[test]
fn a_workbook_without_data_has_no_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.add_worksheet();
    workbook.save(&path).unwrap();
    assert!(matches!(
        TableReader::open(&path),
        Err(zhenxing_io::OpenError::NoHeader { .. })
    ));
}

#[test]
fn readers_and_writers_can_move_to_other_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<TableReader>();
    assert_send::<Box<dyn zhenxing_io::TableWriter>>();
    assert_send::<zhenxing_io::OpenError>();
    assert_send::<zhenxing_io::ReadError>();
    assert_send::<WriteError>();
}
