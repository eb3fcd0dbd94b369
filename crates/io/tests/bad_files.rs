//! Files users should not have chosen: each gives a clear bilingual error.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::write_file;
use zhenxing_io::{ColumnSpec, OpenError, TableReader, create_writer};

fn open_error(path: &Path) -> OpenError {
    match TableReader::open(path) {
        Ok(reader) => panic!("{} opened: {:?}", path.display(), reader.headers()),
        Err(e) => e,
    }
}

fn assert_bilingual(error: &OpenError, file: &str, zh: &str, en: &str) {
    let message = error.to_string();
    assert!(message.contains(file), "{message}");
    assert!(error.zh().contains(zh), "{message}");
    assert!(error.en().contains(en), "{message}");
    assert_eq!(message, format!("{} / {}", error.zh(), error.en()));
}

#[test]
fn wrong_kinds_of_file() {
    let dir = tempfile::tempdir().unwrap();
    // An XLSX with a password to open is an OLE file whose directory names this stream.
    let locked =
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
    let cases: [(&str, &[u8], &str, &str); 5] = [
        ("empty.csv", b"", "空的", "empty"),
        (
            "binary.csv",
            b"name\0\x01\x02\x03\xFF\xFE",
            "二进制",
            "binary file, not a CSV table or a workbook",
        ),
        ("locked.xlsx", locked, "打开密码", "password to open"),
        ("u16.csv", b"\xFF\xFEa\0,\0b\0", "UTF-16", "UTF-16"),
        ("report.pdf", b"%PDF-1.7\n%abc\n", "二进制", "binary"),
    ];
    for (name, bytes, zh, en) in cases {
        let path = write_file(dir.path(), name, bytes);
        let error = open_error(&path);
        assert_bilingual(&error, name, zh, en);
    }
    let error = open_error(&dir.path().join("missing.csv"));
    assert!(matches!(error, OpenError::Io { .. }));
    assert_bilingual(&error, "missing.csv", "无法打开", "Cannot open");
}

#[test]
fn text_in_no_known_encoding_names_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "x.csv", b"a,b\nc,\xFFabc\n");
    let error = open_error(&path);
    assert!(
        matches!(error, OpenError::UnknownEncoding { byte_offset: 6, .. }),
        "{error:?}"
    );
    assert_bilingual(&error, "x.csv", "第 6 字节", "byte offset 6");
}

#[test]
fn corrupt_zip_is_a_damaged_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "bad.xlsx",
        b"PK\x03\x04 this is not really a zip file",
    );
    let error = open_error(&path);
    assert!(
        matches!(error, OpenError::CorruptWorkbook { .. }),
        "{error:?}"
    );
    assert_bilingual(
        &error,
        "bad.xlsx",
        "已损坏或不完整",
        "damaged or incomplete",
    );
    assert!(error.en().contains("save it again"));
}

#[test]
fn every_truncation_of_a_workbook_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.xlsx");
    let columns: Vec<ColumnSpec> = (0..5).map(|i| ColumnSpec::new(format!("列{i}"))).collect();
    let mut writer = create_writer(&full, &columns, None).unwrap();
    for i in 0..2_000 {
        let row: Vec<String> = (0..5).map(|c| format!("第{i}行第{c}列")).collect();
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writer.write_row(&cells).unwrap();
    }
    writer.finish().unwrap();
    let bytes = std::fs::read(&full).unwrap();

    let mut corrupt = 0;
    for cut in (1..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let path = write_file(dir.path(), "cut.xlsx", &bytes[..cut]);
        match TableReader::open(&path) {
            Err(OpenError::CorruptWorkbook { file, .. }) => {
                assert_eq!(file, "cut.xlsx");
                corrupt += 1;
            }
            Err(other) => panic!("cut at {cut}: {other:?}"),
            Ok(mut reader) => {
                // A cut that keeps the central directory cannot happen for
                // a zip (it is at the end); still, reading must not panic.
                while let Ok(Some(_)) = reader.next_row() {}
            }
        }
    }
    assert!(corrupt > 90, "{corrupt}");
}
