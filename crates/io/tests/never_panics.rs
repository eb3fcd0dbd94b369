//! Random and damaged input must give errors, never a panic or a hang.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::write_file;
use zhenxing_io::{ColumnSpec, TableReader, create_writer};

/// xorshift64*: deterministic, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Opens and reads every row; errors are fine, panics are not.
fn read_everything(path: &Path) {
    let Ok(mut reader) = TableReader::open(path) else {
        return;
    };
    let columns = reader.headers().len();
    for _ in 0..1_000_000 {
        match reader.next_row() {
            Ok(Some(row)) => {
                for col in 0..row.len().max(columns) + 1 {
                    let cell = row.get(col);
                    let _ = cell.as_text_lossless();
                    let _ = cell.is_blank();
                }
            }
            Ok(None) => return,
            Err(e) if e.is_recoverable() => {}
            Err(_) => return,
        }
    }
    panic!("{} did not end", path.display());
}

#[test]
fn random_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.csv");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Bytes CSV parsers and decoders care about, plus GB18030 and UTF-8 lead bytes.
    let alphabet = b",;\t\"\r\n a1\xEF\xBB\xBF\xE4\xB8\xAD\x81\x30\x84\x31\xFE\xFF\x00\x7F";
    for round in 0..3_000 {
        let len = rng.below(3_000);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match round % 3 {
                0 => rng.next() as u8,
                _ => alphabet[rng.below(alphabet.len())],
            })
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        read_everything(&path);
    }
}

#[test]
fn damaged_workbooks() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xlsx");
    let columns: Vec<ColumnSpec> = (0..4).map(|i| ColumnSpec::new(format!("h{i}"))).collect();
    let mut writer = create_writer(&good, &columns, None).unwrap();
    for i in 0..300 {
        let a = format!("{i}");
        writer.write_row(&[&a, "村", "", "2019"]).unwrap();
    }
    writer.finish().unwrap();
    // Deflated entries mostly fail their checks at once; stored ones let
    // the damage reach the XML parser.
    for original in [std::fs::read(&good).unwrap(), stored_copy(&good)] {
        damage_and_read(dir.path(), &original, 400);
    }
}

fn damage_and_read(dir: &Path, original: &[u8], rounds: usize) {
    let mut rng = Rng(42);
    for round in 0..rounds {
        let mut bytes = original.to_vec();
        for _ in 0..1 + round % 8 {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
        if round % 5 == 0 {
            bytes.truncate(rng.below(bytes.len()));
        }
        let path = write_file(dir, "damaged.xlsx", &bytes);
        read_everything(&path);
    }
}

/// The same workbook with every entry stored uncompressed.
fn stored_copy(path: &Path) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.start_file(entry.name().unwrap().to_string(), options)
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}
