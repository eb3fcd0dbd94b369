//! The shared registry fixtures (made with Excel-like tools by another
//! helper): every `good-*` file must read as the same table shape, and
//! every `bad-*` table file must fail or read without panicking.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use zhenxing_io::{Cell, FileKind, OpenError, TableReader, WorkbookFormat, sniff};

fn fixtures(prefix: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/registry");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix)
                && [".csv", ".xlsx", ".xls", ".ods"]
                    .iter()
                    .any(|ext| name.ends_with(ext))
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn good_fixtures_have_the_same_shape() {
    let mut shapes = Vec::new();
    for path in fixtures("good-") {
        let mut reader =
            TableReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut rows = 0;
        while let Some(row) = reader.next_row().unwrap() {
            if !row.is_blank() {
                rows += 1;
            }
        }
        shapes.push((path, reader.headers().len(), rows));
    }
    if let Some((_, headers, rows)) = shapes.first() {
        assert!(*headers > 0 && *rows > 0, "{shapes:?}");
        for shape in &shapes {
            assert_eq!((shape.1, shape.2), (*headers, *rows), "{shapes:?}");
        }
    }
}

#[test]
fn bad_fixtures_do_not_panic() {
    for path in fixtures("bad-") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let opened = TableReader::open(&path);
        // File-level problems this crate itself must report.
        match (name.as_str(), &opened) {
            ("bad-binary.csv", Err(OpenError::Binary { .. }))
            | ("bad-empty.csv", Err(OpenError::Empty { .. }))
            | (
                "bad-corrupt.xlsx" | "bad-truncated.xlsx" | "bad-corrupt.xls" | "bad-truncated.xls",
                Err(OpenError::CorruptWorkbook { .. }),
            ) => {}
            (
                "bad-binary.csv" | "bad-empty.csv" | "bad-corrupt.xlsx" | "bad-truncated.xlsx"
                | "bad-corrupt.xls" | "bad-truncated.xls",
                _,
            ) => panic!("{name}: {:?}", opened.map(|r| r.headers().to_vec())),
            _ => {}
        }
        if let Ok(mut reader) = opened {
            while let Ok(Some(_)) = reader.next_row() {}
        }
    }
}

/// Every cell of a table, as text (numbers in Rust's shortest form), by row number.
fn cells_of(path: &std::path::Path) -> Vec<(u64, Vec<String>)> {
    let mut reader = TableReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows = vec![(reader.header_row_number(), reader.headers().to_vec())];
    while let Some(row) = reader.next_row().unwrap() {
        let cells = row
            .iter()
            .map(|cell| match cell {
                Cell::Number(n) => format!("{n}"),
                other => other.as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        rows.push((row.number, cells));
    }
    rows
}

/// LibreOffice's .xls and .ods of the same sheet read cell for cell as its .xlsx: the same row
/// numbers, ID numbers as text, amounts and years as numbers.
#[test]
fn xls_and_ods_read_as_the_xlsx() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/registry");
    let xlsx = cells_of(&dir.join("good-libreoffice.xlsx"));
    assert_eq!(xlsx.len(), 13, "header and 12 members");
    for (file, format) in [
        ("good-libreoffice.xls", WorkbookFormat::Xls),
        ("good-libreoffice.ods", WorkbookFormat::Ods),
    ] {
        let path = dir.join(file);
        assert_eq!(sniff(&path).unwrap(), FileKind::Workbook(format), "{file}");
        assert_eq!(cells_of(&path), xlsx, "{file}");
    }
    let id_column = xlsx[0].1.iter().position(|h| h == "证件号码").unwrap();
    assert_eq!(xlsx[1].1[id_column].len(), 18, "{:?}", xlsx[1]);
}
