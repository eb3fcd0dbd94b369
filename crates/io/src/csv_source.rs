//! CSV rows, streamed: one reusable `ByteRecord` checked as UTF-8 once per
//! row, the file read in 64 KiB chunks (decoded on the fly for GB18030).
//!
//! Row numbers are what a spreadsheet shows when it opens the file: each
//! record is one row, however many lines its quoted cells span, and each
//! empty line (which the csv parser skips) still counts as one row. The
//! parser only reports line numbers, so empty lines are derived from them
//! (see `advance_row`); one known miss: when the file's last line has no
//! line break, empty lines just before that last line are not counted.
//!
//! Records end at LF only, so every read consumes exactly its own line
//! break whatever mix of LF and CRLF the file has; the CR of a CRLF is then
//! removed from the record's last cell. Files with bare-CR line ends (old
//! Mac Excel) are parsed with CR as the terminator instead.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use csv::ByteRecord;

use crate::decode::{Gb18030Reader, MalformedInput};
use crate::error::{OpenError, ReadError};
use crate::sniff::{TextEncoding, UTF8_BOM};
use crate::table::MAX_ROW_BYTES;

const PARSER_BUFFER: usize = 64 * 1024;

pub(crate) struct CsvSource {
    reader: csv::Reader<RowLengthGuard<Box<dyn Read + Send>>>,
    record: ByteRecord,
    file: String,
    encoding: TextEncoding,
    /// Bytes before the parser's input (the BOM), to turn its offsets into file offsets.
    skipped_prefix: u64,
    /// Row number of the last record read; 0 before the first.
    row: u64,
    /// LF is the record terminator (not bare CR), so the CR of a CRLF
    /// stays at the end of the last cell and is cut off when read.
    lf_terminated: bool,
    done: bool,
}

/// A record checked to be UTF-8 as a whole and cell by cell, so cells are
/// sliced out of `text` by the record's field ranges without re-checking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsvRow<'a> {
    text: &'a str,
    record: &'a ByteRecord,
    /// The last cell ends with the CR of a CRLF line end.
    trailing_cr: bool,
}

impl<'a> CsvRow<'a> {
    pub(crate) fn len(&self) -> usize {
        self.record.len()
    }

    pub(crate) fn get(&self, col: usize) -> Option<&'a str> {
        let range = self.record.range(col)?;
        let end = if self.trailing_cr && col + 1 == self.record.len() {
            range.end.saturating_sub(1).max(range.start)
        } else {
            range.end
        };
        self.text.get(range.start..end)
    }
}

impl CsvSource {
    pub(crate) fn open(
        mut file: File,
        file_name: String,
        encoding: TextEncoding,
        dialect: Dialect,
    ) -> Result<Self, OpenError> {
        let skipped_prefix = match encoding {
            TextEncoding::Utf8Bom => UTF8_BOM.len() as u64,
            TextEncoding::Utf8 | TextEncoding::Gb18030 => 0,
        };
        file.seek(SeekFrom::Start(skipped_prefix))
            .map_err(|source| OpenError::Io {
                file: file_name.clone(),
                source,
            })?;
        let text: Box<dyn Read + Send> = match encoding {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => Box::new(file),
            TextEncoding::Gb18030 => Box::new(Gb18030Reader::new(file, skipped_prefix)),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(dialect.delimiter)
            .terminator(if dialect.bare_cr {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .buffer_capacity(PARSER_BUFFER)
            .from_reader(RowLengthGuard::new(text));
        Ok(Self {
            reader,
            record: ByteRecord::new(),
            file: file_name,
            encoding,
            skipped_prefix,
            row: 0,
            lf_terminated: !dialect.bare_cr,
            done: false,
        })
    }

    /// The next record and its row number, or `None` at the end.
    pub(crate) fn next(&mut self) -> Result<Option<(u64, CsvRow<'_>)>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let start_line = self.reader.position().line();
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return Ok(None);
            }
            Err(e) => return Err(self.convert_error(e)),
        }
        self.advance_row(start_line);
        let Some(text) = utf8_text(&self.record) else {
            let record_start = self.record.position().map_or(0, csv::Position::byte);
            // Recoverable: the next call goes on after this row.
            return Err(ReadError::InvalidText {
                file: self.file.clone(),
                row: self.row,
                byte_offset: record_start + self.skipped_prefix,
                encoding: self.encoding,
            });
        };
        let trailing_cr = self.lf_terminated && text.ends_with('\r');
        let row = CsvRow {
            text,
            record: &self.record,
            trailing_cr,
        };
        Ok(Some((self.row, row)))
    }

    /// Moves the row counter past the record just read, counting the empty
    /// lines the parser skipped before it: the lines it advanced are those
    /// empty lines, the line breaks inside quoted cells, and the record's
    /// own line break.
    fn advance_row(&mut self, start_line: u64) {
        let after = self.reader.position().clone();
        let advanced = after.line().saturating_sub(start_line);
        let empty_lines = if advanced > 1 {
            let inside_cells = self
                .record
                .as_slice()
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            advanced.saturating_sub(1 + inside_cells as u64)
        } else {
            0
        };
        self.row += 1 + empty_lines;
        self.reader.get_mut().row_ended_at(after.byte());
    }

    fn convert_error(&mut self, error: csv::Error) -> ReadError {
        let file = self.file.clone();
        match error.into_kind() {
            csv::ErrorKind::Io(source) => {
                self.done = true;
                let row = self.row + 1;
                let inner = source.get_ref();
                if let Some(bad) = inner.and_then(|e| e.downcast_ref::<MalformedInput>()) {
                    ReadError::InvalidText {
                        file,
                        row,
                        byte_offset: bad.offset,
                        encoding: self.encoding,
                    }
                } else if inner.is_some_and(|e| e.is::<RowTooLong>()) {
                    ReadError::RowTooLong { file, row }
                } else {
                    ReadError::Io { file, row, source }
                }
            }
            other => {
                // Not produced by a flexible byte reader; kept as an I/O error.
                self.done = true;
                ReadError::Io {
                    file,
                    row: self.row + 1,
                    source: io::Error::other(format!("{other:?}")),
                }
            }
        }
    }
}

/// The record's text if every cell is UTF-8. One check over the whole
/// record is much faster than one per cell; a character split between two
/// cells passes it, so cell starts must also fall on character boundaries.
fn utf8_text(record: &ByteRecord) -> Option<&str> {
    let text = std::str::from_utf8(record.as_slice()).ok()?;
    let boundaries_ok = (0..record.len())
        .filter_map(|i| record.range(i))
        .all(|range| text.is_char_boundary(range.start));
    boundaries_ok.then_some(text)
}

/// Passes bytes through, failing once the parser has taken more than
/// [`MAX_ROW_BYTES`] since the end of the last record: an unclosed quote
/// would otherwise make the rest of a 450 MB file one record in memory.
struct RowLengthGuard<R> {
    inner: R,
    handed_out: u64,
    row_start: u64,
}

#[derive(Debug)]
struct RowTooLong;

impl fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("row too long")
    }
}

impl std::error::Error for RowTooLong {}

impl<R> RowLengthGuard<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            handed_out: 0,
            row_start: 0,
        }
    }

    fn row_ended_at(&mut self, byte: u64) {
        self.row_start = byte;
    }
}

impl<R: Read> Read for RowLengthGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.handed_out.saturating_sub(self.row_start) > MAX_ROW_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RowTooLong));
        }
        let n = self.inner.read(buf)?;
        self.handed_out += n as u64;
        Ok(n)
    }
}

/// What the first line tells about the file's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dialect {
    /// A comma unless the first line has none but has tabs (Excel "Text
    /// (Tab delimited)") or semicolons (European Excel).
    pub delimiter: u8,
    /// The first line ends in a CR not followed by LF.
    pub bare_cr: bool,
}

/// Reads the first line of `sample`. Safe on raw GB18030 bytes: these
/// ASCII bytes never occur inside a multi-byte GB18030 character.
pub(crate) fn detect_dialect(sample: &[u8]) -> Dialect {
    let (mut commas, mut tabs, mut semicolons) = (0usize, 0usize, 0usize);
    let mut in_quotes = false;
    let mut bare_cr = false;
    for (i, &b) in sample.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => break,
            b'\r' if !in_quotes => {
                bare_cr = sample.get(i + 1).is_some_and(|&next| next != b'\n');
                break;
            }
            b',' if !in_quotes => commas += 1,
            b'\t' if !in_quotes => tabs += 1,
            b';' if !in_quotes => semicolons += 1,
            _ => {}
        }
    }
    let delimiter = if commas == 0 && tabs > 0 {
        b'\t'
    } else if commas == 0 && semicolons > 0 {
        b';'
    } else {
        b','
    };
    Dialect { delimiter, bare_cr }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect() {
        let delimiter = |s: &[u8]| detect_dialect(s).delimiter;
        assert_eq!(delimiter(b"a,b\tc\n"), b',');
        assert_eq!(delimiter(b"a\tb\tc\nx,y"), b'\t');
        assert_eq!(delimiter(b"a;b\n"), b';');
        assert_eq!(delimiter(b"\"a,b\"\tc\n"), b'\t');
        assert_eq!(delimiter(b"single\n"), b',');
        assert!(!detect_dialect(b"a,b\r\nc").bare_cr);
        assert!(detect_dialect(b"a,b\rc,d\r").bare_cr);
        assert!(!detect_dialect(b"\"a\rb\",b\nc").bare_cr);
    }
}
