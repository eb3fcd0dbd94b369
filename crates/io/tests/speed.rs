//! Speed check at registry scale, not part of the normal run:
//! `cargo test --release -p zhenxing-io --test speed -- --ignored --nocapture`
//! Writes a 3,000,000-row × 25-column CSV (~450 MB) to the temp folder with
//! the CSV writer, reads every cell back through `TableReader`, and prints
//! both timings; then does the same for 300,000 rows of GB18030.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use zhenxing_io::{Cell, ColumnSpec, TableReader, create_writer};

const COLUMNS: usize = 25;

fn row_cells(i: u64, out: &mut Vec<String>) {
    out.clear();
    out.push(format!("5002291{:011}", i * 7919 % 100_000_000_000));
    out.push(format!(
        "张{}",
        ["三", "丽华", "建国", "秀英"][(i % 4) as usize]
    ));
    out.push(if i.is_multiple_of(2) { "男" } else { "女" }.into());
    out.push(format!("138{:08}", i % 100_000_000));
    out.push("重庆市".into());
    out.push("石柱土家族自治县".into());
    out.push(format!("黄水镇{}村", i % 300));
    out.push(format!("5002291{:05}", i % 100_000));
    out.push(format!("WX{:07}", i / 4));
    out.push(["户主", "配偶", "之子", "之女"][(i % 4) as usize].into());
    out.push("汉族".into());
    out.push("初中".into());
    out.push("健康".into());
    out.push("普通劳动力".into());
    out.push(
        if i.is_multiple_of(3) {
            "脱贫户"
        } else {
            "一般农户"
        }
        .into(),
    );
    out.push(format!("{}", 2016 + i % 5));
    out.push(format!("{}.{:02}", i % 30_000, i % 100));
    out.push(format!("{}", i % 12_000));
    out.push(format!("{}", i % 800));
    out.push("0".into());
    out.push(format!("{}", i % 5 + 1));
    out.push("是".into());
    out.push("否".into());
    out.push(String::new());
    out.push(
        if i.is_multiple_of(10) {
            "备注，含逗号"
        } else {
            ""
        }
        .into(),
    );
}

fn write_csv(path: &Path, rows: u64) {
    let columns: Vec<ColumnSpec> = (0..COLUMNS)
        .map(|c| ColumnSpec::new(format!("列{c}")))
        .collect();
    let mut writer = create_writer(path, &columns, Some(rows)).unwrap();
    let mut cells = Vec::with_capacity(COLUMNS);
    for i in 0..rows {
        row_cells(i, &mut cells);
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        writer.write_row(&refs).unwrap();
    }
    writer.finish().unwrap();
}

/// Reads every row and touches every cell, as an importer would.
fn read_all(path: &Path) -> (u64, usize) {
    let mut reader = TableReader::open(path).unwrap();
    assert_eq!(reader.headers().len(), COLUMNS);
    let (mut rows, mut bytes) = (0u64, 0usize);
    while let Some(row) = reader.next_row().unwrap() {
        rows += 1;
        for col in 0..COLUMNS {
            if let Cell::Text(text) = row.get(col) {
                bytes += text.trim().len();
            }
        }
    }
    (rows, bytes)
}

fn mib(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len() >> 20
}

#[test]
#[ignore = "writes ~450 MB; run by hand in release mode"]
fn three_million_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.csv");
    let rows = 3_000_000;

    let started = Instant::now();
    write_csv(&path, rows);
    println!(
        "write CSV: {rows} rows, {} MiB in {:.2?}",
        mib(&path),
        started.elapsed()
    );

    let started = Instant::now();
    let (read, _) = read_all(&path);
    let elapsed = started.elapsed();
    assert_eq!(read, rows);
    println!(
        "read UTF-8 CSV: {read} rows in {elapsed:.2?} ({:.0} MiB/s)",
        mib(&path) as f64 / elapsed.as_secs_f64()
    );

    // GB18030: re-encode a tenth of the rows.
    let gb_path = dir.path().join("registry-gbk.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.match_indices('\n').nth(300_000).unwrap().0 + 1;
    // Skip the 3-byte BOM: GB18030 files have none.
    let gbk = encoding_rs::GB18030.encode(&text[3..cut]).0.into_owned();
    drop(text);
    std::fs::File::create(&gb_path)
        .unwrap()
        .write_all(&gbk)
        .unwrap();
    let started = Instant::now();
    let (read, _) = read_all(&gb_path);
    let elapsed = started.elapsed();
    assert_eq!(read, 300_000);
    println!(
        "read GB18030 CSV: {read} rows, {} MiB in {elapsed:.2?} ({:.0} MiB/s)",
        mib(&gb_path),
        mib(&gb_path) as f64 / elapsed.as_secs_f64()
    );
}

/// Times reading an existing file: `ZX_SPEED_FILE=/path/x.csv cargo test
/// --release -p zhenxing-io --test speed -- --ignored --nocapture given_file`
#[test]
#[ignore = "needs ZX_SPEED_FILE"]
fn given_file() {
    let Some(path) = std::env::var_os("ZX_SPEED_FILE") else {
        return;
    };
    let path = Path::new(&path);
    let started = Instant::now();
    let mut reader = TableReader::open(path).unwrap();
    let mut rows = 0u64;
    while reader.next_row().unwrap().is_some() {
        rows += 1;
    }
    println!("rows only: {rows} rows in {:.2?}", started.elapsed());
    let started = Instant::now();
    let mut reader = TableReader::open(path).unwrap();
    let columns = reader.headers().len();
    let (mut rows, mut bytes) = (0u64, 0usize);
    while let Some(row) = reader.next_row().unwrap() {
        rows += 1;
        for col in 0..columns {
            if let Cell::Text(text) = row.get(col) {
                bytes += text.trim().len();
            }
        }
    }
    println!(
        "every cell: {rows} rows, {} MiB of text in {:.2?}",
        bytes >> 20,
        started.elapsed()
    );
}
