//! The shared registry fixtures (made with Excel-like tools by another
//! helper): every `good-*` file must read as the same table shape, and
//! every `bad-*` table file must fail or read without panicking.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use zhenxing_io::{OpenError, TableReader};

fn fixtures(prefix: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/registry");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && (name.ends_with(".csv") || name.ends_with(".xlsx"))
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
            | ("bad-corrupt.xlsx" | "bad-truncated.xlsx", Err(OpenError::CorruptWorkbook { .. })) =>
                {}
            ("bad-binary.csv" | "bad-empty.csv" | "bad-corrupt.xlsx" | "bad-truncated.xlsx", _) => {
                panic!("{name}: {:?}", opened.map(|r| r.headers().to_vec()))
            }
            _ => {}
        }
        if let Ok(mut reader) = opened {
            while let Ok(Some(_)) = reader.next_row() {}
        }
    }
}
