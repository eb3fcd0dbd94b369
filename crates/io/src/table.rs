//! One streaming reader for CSV tables and workbooks (XLSX, XLS, ODS).
//!
//! ```no_run
//! # fn demo(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! let mut table = zhenxing_io::TableReader::open(path)?;
//! println!("columns: {:?}", table.headers());
//! while let Some(row) = table.next_row()? {
//!     if row.is_blank() {
//!         continue;
//!     }
//!     let first = row.get(0);
//!     # let _ = first;
//! }
//! # Ok(()) }
//! ```
//!
//! The header is the first non-blank row. Row numbers are those a
//! spreadsheet shows: in a file whose first line is the header, the header
//! is row 1 and the first data row is row 2. For CSV each record counts as
//! one row however many lines its quoted cells span, and empty lines count
//! too (a spreadsheet shows them as empty rows). For a workbook the number is the
//! worksheet row; rows without any value are not returned at all.

use std::path::Path;

use crate::csv_source::{CsvRow, CsvSource, detect_dialect};
use crate::error::{OpenError, ReadError, display_name};
use crate::sniff::{FileKind, Sniffed, open_sniffed};
use crate::workbook_source::{Failure, WorkbookSource, XCell};

/// A CSV record longer than this (in bytes) is rejected as an unclosed quote.
pub const MAX_ROW_BYTES: u64 = 8 << 20;

/// Integers of magnitude below 2^53 are exact in an f64.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// One cell's value. Nothing is trimmed: callers trim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Missing (short row) or empty text.
    Empty,
    /// Text; workbook booleans ("TRUE"/"FALSE"), dates ("YYYY-MM-DD", with
    /// " HH:MM:SS" when a time is set) and errors ("#N/A") come as text too.
    Text(&'a str),
    /// Only numeric workbook cells. An ID number that Excel stored as a number
    /// (e.g. 5.00229199001010e17) arrives here and has lost its last digits.
    Number(f64),
}

impl Cell<'_> {
    /// The text of a text cell, `""` for an empty one, `None` for a number.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Empty => Some(""),
            Cell::Text(s) => Some(s),
            Cell::Number(_) => None,
        }
    }

    /// The cell as text when that text is certainly what the user typed:
    /// text as is, empty as `""`, and an integer-valued number of magnitude
    /// below 2^53 without a decimal point ("2019", not "2019.0"). `None` for
    /// other numbers (fractions, or integers too large to be exact, such as
    /// an 18-digit ID number stored as a number).
    pub fn as_text_lossless(&self) -> Option<String> {
        match *self {
            Cell::Empty => Some(String::new()),
            Cell::Text(s) => Some(s.to_owned()),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < EXACT_INTEGER_LIMIT => {
                // The cast is exact in this range; -0.0 becomes "0".
                Some((n as i64).to_string())
            }
            Cell::Number(_) => None,
        }
    }

    /// Empty, or text of only whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            Cell::Number(_) => false,
        }
    }
}

/// A row lent by [`TableReader::next_row`]; valid until the next call.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// As a spreadsheet shows it (header = 1 when it is on the first line).
    pub number: u64,
    cells: RowCells<'a>,
}

#[derive(Debug, Clone, Copy)]
enum RowCells<'a> {
    Csv(CsvRow<'a>),
    Workbook(&'a [XCell]),
}

impl<'a> Row<'a> {
    /// The cell in column `col` (0-based); `Cell::Empty` past the row's end.
    pub fn get(&self, col: usize) -> Cell<'a> {
        match self.cells {
            RowCells::Csv(row) => match row.get(col) {
                None | Some("") => Cell::Empty,
                Some(text) => Cell::Text(text),
            },
            RowCells::Workbook(cells) => match cells.get(col) {
                None | Some(XCell::Empty) => Cell::Empty,
                Some(XCell::Text(text)) => Cell::Text(text),
                Some(XCell::Number(n)) => Cell::Number(*n),
            },
        }
    }

    /// Number of cells, which may differ from the number of headers.
    pub fn len(&self) -> usize {
        match self.cells {
            RowCells::Csv(row) => row.len(),
            RowCells::Workbook(cells) => cells.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every cell empty or whitespace only: callers skip such rows.
    pub fn is_blank(&self) -> bool {
        self.iter().all(|cell| cell.is_blank())
    }

    pub fn iter(&self) -> impl Iterator<Item = Cell<'a>> + '_ {
        (0..self.len()).map(|col| self.get(col))
    }
}

enum Source {
    Csv(CsvSource),
    Workbook(WorkbookSource),
}

/// Reads a CSV file or a workbook row by row (with bounded memory, but for an XLS or ODS
/// worksheet, which is read whole).
pub struct TableReader {
    file_name: String,
    kind: FileKind,
    headers: Vec<String>,
    header_row: u64,
    source: Source,
}

impl TableReader {
    /// Decides the format from the content (see [`crate::sniff`]) and reads
    /// the header row.
    pub fn open(path: &Path) -> Result<TableReader, OpenError> {
        let file_name = display_name(path);
        let io_err = |source| OpenError::Io {
            file: file_name.clone(),
            source,
        };
        let Sniffed { file, sample, kind } = open_sniffed(path, &file_name)?;
        let source = match kind {
            FileKind::Csv(encoding) => {
                let dialect = detect_dialect(&sample);
                Source::Csv(CsvSource::open(file, file_name.clone(), encoding, dialect)?)
            }
            FileKind::Workbook(format) => {
                Source::Workbook(WorkbookSource::spawn(file, format).map_err(io_err)?)
            }
        };
        let mut reader = TableReader {
            file_name,
            kind,
            headers: Vec::new(),
            header_row: 0,
            source,
        };
        reader.read_headers()?;
        Ok(reader)
    }

    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// The header row's cells, trimmed, without a byte-order mark.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The spreadsheet row number of the header (1 unless blank rows precede it).
    pub fn header_row_number(&self) -> u64 {
        self.header_row
    }

    /// The next row after the header, or `None` at the end. After an error
    /// that is not [`ReadError::is_recoverable`], returns `Ok(None)`.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, ReadError> {
        let file_name = &self.file_name;
        match &mut self.source {
            Source::Csv(csv) => Ok(csv.next()?.map(|(number, record)| Row {
                number,
                cells: RowCells::Csv(record),
            })),
            Source::Workbook(workbook) => match workbook.next() {
                Ok(row) => Ok(row.map(|r| Row {
                    number: r.number,
                    cells: RowCells::Workbook(&r.cells),
                })),
                Err(failure) => Err(read_failure(file_name, failure)),
            },
        }
    }

    fn read_headers(&mut self) -> Result<(), OpenError> {
        let file = self.file_name.clone();
        loop {
            let row = match self.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => return Err(OpenError::NoHeader { file }),
                Err(ReadError::CorruptWorkbook { detail, .. }) if detail == NO_WORKSHEET => {
                    return Err(OpenError::NoWorksheet { file });
                }
                Err(ReadError::CorruptWorkbook { detail, .. }) if detail == PROTECTED => {
                    return Err(OpenError::Protected { file });
                }
                // At open time a damaged workbook is an open error, not a row error.
                Err(ReadError::CorruptWorkbook { detail, .. }) => {
                    return Err(OpenError::CorruptWorkbook { file, detail });
                }
                Err(e) => return Err(e.into()),
            };
            if row.is_blank() {
                continue;
            }
            let number = row.number;
            let headers = row.iter().map(header_text).collect();
            self.header_row = number;
            self.headers = headers;
            return Ok(());
        }
    }
}

fn header_text(cell: Cell<'_>) -> String {
    match cell {
        Cell::Number(n) => cell.as_text_lossless().unwrap_or_else(|| n.to_string()),
        Cell::Empty => String::new(),
        Cell::Text(s) => s.trim_start_matches('\u{feff}').trim().to_owned(),
    }
}

/// Only ever seen before the header, where it becomes `OpenError::NoWorksheet`.
const NO_WORKSHEET: &str = "the workbook has no worksheet";
/// Only ever seen before the header, where it becomes `OpenError::Protected`.
const PROTECTED: &str = "the workbook is protected with a password to open";

fn read_failure(file: &str, failure: Failure) -> ReadError {
    match failure {
        Failure::NoWorksheet => ReadError::CorruptWorkbook {
            file: file.to_owned(),
            row: 0,
            detail: NO_WORKSHEET.into(),
        },
        Failure::Protected => ReadError::CorruptWorkbook {
            file: file.to_owned(),
            row: 0,
            detail: PROTECTED.into(),
        },
        Failure::Corrupt { row, detail } => ReadError::CorruptWorkbook {
            file: file.to_owned(),
            row,
            detail,
        },
    }
}
