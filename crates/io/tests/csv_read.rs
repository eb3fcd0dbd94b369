#![allow(clippy::unwrap_used)]

mod common;

use common::{Table, read_all, strings, write_file};
use zhenxing_io::{FileKind, OpenError, ReadError, TableReader, TextEncoding, sniff};

const SAMPLE: &str = "姓名,身份证号,所属村,备注\r\n\
张三,500229199001010012,石柱村,\r\n\
李四,50022919850505002X,黄水镇\r\n\
\"王,五\",500229197001010034,\"龙河村\",\"说 \"\"你好\"\"\"\r\n";

fn expected() -> Table {
    Table {
        headers: strings(&["姓名", "身份证号", "所属村", "备注"]),
        rows: vec![
            (2, strings(&["张三", "500229199001010012", "石柱村", ""])),
            // A short row: the missing cell is simply absent (reads as Empty).
            (3, strings(&["李四", "50022919850505002X", "黄水镇"])),
            (
                4,
                strings(&["王,五", "500229197001010034", "龙河村", "说 \"你好\""]),
            ),
        ],
    }
}

#[test]
fn utf8_bom_and_gb18030_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = write_file(dir.path(), "utf8.csv", SAMPLE.as_bytes());
    let bom = write_file(
        dir.path(),
        "bom.csv",
        &[b"\xEF\xBB\xBF".as_slice(), SAMPLE.as_bytes()].concat(),
    );
    let (gbk, _, unmappable) = encoding_rs::GB18030.encode(SAMPLE);
    assert!(!unmappable);
    let gb = write_file(dir.path(), "gb.csv", &gbk);

    assert_eq!(sniff(&utf8).unwrap(), FileKind::Csv(TextEncoding::Utf8));
    assert_eq!(sniff(&bom).unwrap(), FileKind::Csv(TextEncoding::Utf8Bom));
    assert_eq!(sniff(&gb).unwrap(), FileKind::Csv(TextEncoding::Gb18030));
    for path in [&utf8, &bom, &gb] {
        assert_eq!(read_all(path), expected(), "{}", path.display());
    }
}

#[test]
fn short_row_cells_read_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "a.csv", SAMPLE.as_bytes());
    let mut reader = TableReader::open(&path).unwrap();
    reader.next_row().unwrap();
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.len(), 3);
    assert_eq!(row.get(3), zhenxing_io::Cell::Empty);
    assert_eq!(row.get(1000), zhenxing_io::Cell::Empty);
}

/// Row numbers of the non-blank rows, as a spreadsheet numbers them.
fn non_blank_row_numbers(path: &std::path::Path) -> (u64, Vec<u64>) {
    let mut reader = TableReader::open(path).unwrap();
    let mut numbers = Vec::new();
    while let Some(row) = reader.next_row().unwrap() {
        if !row.is_blank() {
            numbers.push(row.number);
        }
    }
    (reader.header_row_number(), numbers)
}

#[test]
fn multi_line_cells_and_empty_lines_keep_spreadsheet_row_numbers() {
    // Physical lines; rows: 1 empty, 2 header, 3 甲 (3 lines), 4 乙, 5-6 empty,
    // 7 丙 (2 lines), 8 blank cells, 9 丁.
    let lines = [
        "",
        "名称,备注",
        "甲,\"第一行",
        "第二行",
        "第三行\"",
        "乙,x",
        "",
        "",
        "丙,\"a",
        "b\"",
        ",",
        "丁,y",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, line_end) in [("lf.csv", "\n"), ("crlf.csv", "\r\n")] {
        let text = lines.join(line_end) + line_end;
        let path = write_file(dir.path(), name, text.as_bytes());
        assert_eq!(
            non_blank_row_numbers(&path),
            (2, vec![3, 4, 7, 9]),
            "{name}"
        );
        let table = read_all(&path);
        assert_eq!(table.headers, strings(&["名称", "备注"]));
        let expected_cell = ["第一行", "第二行", "第三行"].join(line_end);
        assert_eq!(table.rows[0].1, strings(&["甲", &expected_cell]), "{name}");
        assert_eq!(
            table.rows.last().unwrap().1,
            strings(&["丁", "y"]),
            "{name}"
        );
    }

    // LF and CRLF mixed in one file, and no line break at the end.
    let mixed = "名称,备注\r\n甲,\"a\r\nb\"\r\n乙,x\n\n丙,\"c\"\r\n丁,y";
    let path = write_file(dir.path(), "mixed.csv", mixed.as_bytes());
    assert_eq!(non_blank_row_numbers(&path), (1, vec![2, 3, 5, 6]));
    let table = read_all(&path);
    assert_eq!(table.rows[0].1, strings(&["甲", "a\r\nb"]));
    assert_eq!(table.rows[2].1, strings(&["丙", "c"]));

    // Old Mac Excel: bare CR line ends.
    let path = write_file(
        dir.path(),
        "cr.csv",
        "名称,备注\r甲,1\r乙,\"2\"\r".as_bytes(),
    );
    let table = read_all(&path);
    assert_eq!(table.headers, strings(&["名称", "备注"]));
    assert_eq!(
        table.rows,
        vec![(2, strings(&["甲", "1"])), (3, strings(&["乙", "2"]))]
    );
}

#[test]
fn blank_rows_are_returned_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "b.csv", b",,\n a , b ,c\n,,\n  ,\t,\nx,,\n");
    let mut reader = TableReader::open(&path).unwrap();
    // The header is the first non-blank row, trimmed.
    assert_eq!(reader.headers(), strings(&["a", "b", "c"]).as_slice());
    assert_eq!(reader.header_row_number(), 2);
    let mut blanks = Vec::new();
    while let Some(row) = reader.next_row().unwrap() {
        blanks.push((row.number, row.is_blank()));
    }
    assert_eq!(blanks, vec![(3, true), (4, true), (5, false)]);
}

#[test]
fn tab_and_semicolon_files() {
    let dir = tempfile::tempdir().unwrap();
    let tab = write_file(dir.path(), "t.csv", "名称\t值\n甲\t1,5\n".as_bytes());
    let semi = write_file(dir.path(), "s.csv", "名称;值\n甲;1,5\n".as_bytes());
    for path in [tab, semi] {
        let table = read_all(&path);
        assert_eq!(table.headers, strings(&["名称", "值"]));
        assert_eq!(table.rows, vec![(2, strings(&["甲", "1,5"]))]);
    }
}

#[test]
fn bad_utf8_row_after_the_sample_is_reported_and_skipped() {
    let mut bytes = b"name,value\n".to_vec();
    for i in 0..20_000 {
        bytes.extend_from_slice(format!("r{i},{i}\n").as_bytes());
    }
    assert!(bytes.len() > 64 * 1024);
    bytes.extend_from_slice(b"bad,\xB2\xE2\xCA\xD4\n"); // GBK "测试" in a UTF-8 file
    bytes.extend_from_slice(b"after,1\n");
    bytes.extend_from_slice(b"\xE4\xB8,\xAD\n"); // "中" split by a comma: bad cells
    bytes.extend_from_slice(b"end,2\n");
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "mixed.csv", &bytes);
    let mut reader = TableReader::open(&path).unwrap();
    let mut seen = 0;
    let error = loop {
        match reader.next_row() {
            Ok(Some(_)) => seen += 1,
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(seen, 20_000);
    assert_eq!(error.row(), 20_002);
    assert!(error.is_recoverable());
    let message = error.to_string();
    assert!(
        message.contains("mixed.csv") && message.contains("20002"),
        "{message}"
    );
    assert!(
        message.contains("UTF-8") && message.contains(" / "),
        "{message}"
    );
    let next = reader.next_row().unwrap().unwrap();
    assert_eq!(next.number, 20_003);
    assert_eq!(next.get(0), zhenxing_io::Cell::Text("after"));
    let split = reader.next_row().unwrap_err();
    assert_eq!((split.row(), split.is_recoverable()), (20_004, true));
    let last = reader.next_row().unwrap().unwrap();
    assert_eq!(
        (last.number, last.get(1)),
        (20_005, zhenxing_io::Cell::Text("2"))
    );
    assert!(reader.next_row().unwrap().is_none());
}

#[test]
fn bad_gb18030_bytes_after_the_sample_stop_reading() {
    let mut text = String::from("名称,值\n");
    for i in 0..10_000 {
        text.push_str(&format!("村{i},{i}\n"));
    }
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    let mut bytes = gbk.into_owned();
    let bad_offset = bytes.len() + 2;
    bytes.extend_from_slice(b"ab\xFF\xFF\n");
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "gb.csv", &bytes);
    let mut reader = TableReader::open(&path).unwrap();
    let mut seen = 0;
    let error = loop {
        match reader.next_row() {
            Ok(Some(_)) => seen += 1,
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(seen, 10_000);
    match &error {
        ReadError::InvalidText {
            row, byte_offset, ..
        } => {
            assert_eq!(*row, 10_002);
            assert_eq!(*byte_offset, bad_offset as u64);
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_recoverable());
    assert!(reader.next_row().unwrap().is_none());
}

#[test]
fn unclosed_quote_is_rejected_with_bounded_memory() {
    let mut bytes = b"a,b\n1,\"never closed\n".to_vec();
    let line = b"some text, more text, and more\n";
    while bytes.len() < (9 << 20) {
        bytes.extend_from_slice(line);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "q.csv", &bytes);
    let mut reader = TableReader::open(&path).unwrap();
    let error = reader.next_row().unwrap_err();
    assert!(
        matches!(error, ReadError::RowTooLong { row: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("引号"));
}

#[test]
fn file_with_no_rows_has_no_header() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("bom-only.csv", b"\xEF\xBB\xBF".as_slice()),
        ("blank.csv", b"\n\n,,\n \n".as_slice()),
    ] {
        let path = write_file(dir.path(), name, bytes);
        match TableReader::open(&path) {
            Err(OpenError::NoHeader { file }) => assert_eq!(file, name),
            other => panic!("{name}: {:?}", other.map(|r| r.headers().to_vec())),
        }
    }
}
