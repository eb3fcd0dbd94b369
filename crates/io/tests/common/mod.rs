//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use zhenxing_io::{Cell, TableReader};

/// A table read whole: headers, then (row number, cells rendered as text).
#[derive(Debug, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

pub fn render(cell: Cell<'_>) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.to_owned(),
        Cell::Number(n) => format!("#{n}"),
    }
}

pub fn read_all(path: &Path) -> Table {
    let mut reader = TableReader::open(path).unwrap();
    let headers = reader.headers().to_vec();
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row().unwrap() {
        rows.push((row.number, row.iter().map(render).collect()));
    }
    Table { headers, rows }
}

pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

pub fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}
