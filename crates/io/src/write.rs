//! Table writers: CSV and XLSX exports, and XLSX import templates.
//!
//! Every writer writes to a hidden temporary file next to the target and
//! renames it over the target only in `finish`, so an error (or a writer
//! dropped without `finish`) leaves no half-written file behind.
//!
//! CSV output is UTF-8 with a byte-order mark (so Excel shows Chinese
//! correctly), CRLF line ends (as Excel writes them), cells quoted only when
//! needed. XLSX output keeps every cell as text, bold frozen header row.
//!
//! CSV cells are neutralised against formula injection (OWASP "CSV Injection"): a spreadsheet
//! opening the file would run a cell starting with `=`, `+`, `-`, `@`, tab or CR as a formula,
//! so such a text cell is written with a leading apostrophe, which makes it text. The rule is
//! exact so that readers can undo it ([`restore_neutralised`]): a cell that itself starts with
//! an apostrophe gets one more. Plain numbers in number columns (`-500.00`) are numbers, not
//! formulas, and are written as they are. XLSX cells are typed text and need none of this.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{WriteError, display_name};
use crate::sniff::UTF8_BOM;
use crate::xlsx_writer::XlsxTableWriter;

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub header: String,
    /// Format the column as text in XLSX (ID numbers, phone numbers), so
    /// Excel never turns "500229199001010012" into 5.00229E+17.
    pub text: bool,
    /// Drop-down values in templates.
    pub choices: Option<Vec<String>>,
    /// Column width in XLSX, in Excel's character units.
    pub width: f64,
    /// The column holds numbers: in CSV a plain decimal numeral (`-500.00`) is written as is,
    /// anything else in it is neutralised like text.
    pub number: bool,
}

impl ColumnSpec {
    /// A plain column of width 12.
    pub fn new(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            text: false,
            choices: None,
            width: 12.0,
            number: false,
        }
    }

    /// A column of text: formatted as text in XLSX (see [`ColumnSpec::text`]).
    pub fn text(header: impl Into<String>) -> Self {
        Self {
            text: true,
            ..Self::new(header)
        }
    }

    /// A column of numbers (see [`ColumnSpec::number`]).
    pub fn number(header: impl Into<String>) -> Self {
        Self {
            number: true,
            ..Self::new(header)
        }
    }
}

/// First characters that make a spreadsheet read a CSV cell as a formula.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
/// The prefix that makes such a cell text.
const TEXT_PREFIX: char = '\'';

/// `-500`, `12.50`: an optional minus, digits, optionally a point and digits.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// The cell as written to CSV: a leading apostrophe before a formula trigger, and before an
/// apostrophe (so that the rule can be undone exactly); a plain number in a number column as is.
pub fn neutralise_formula(cell: &str, number_column: bool) -> std::borrow::Cow<'_, str> {
    if number_column && is_plain_number(cell) {
        return cell.into();
    }
    match cell.chars().next() {
        Some(c) if c == TEXT_PREFIX || FORMULA_TRIGGERS.contains(&c) => {
            format!("{TEXT_PREFIX}{cell}").into()
        }
        _ => cell.into(),
    }
}

/// Undoes [`neutralise_formula`] on a cell read from CSV: drops a leading apostrophe that is
/// followed by a formula trigger or another apostrophe. Any other cell is returned as is, so a
/// value such as `'s-Hertogenbosch` typed by hand survives.
pub fn restore_neutralised(cell: &str) -> &str {
    match cell.strip_prefix(TEXT_PREFIX) {
        Some(rest)
            if rest
                .chars()
                .next()
                .is_some_and(|c| c == TEXT_PREFIX || FORMULA_TRIGGERS.contains(&c)) =>
        {
            rest
        }
        _ => cell,
    }
}

pub trait TableWriter: Send {
    /// Writes one data row; it must have exactly one cell per column.
    fn write_row(&mut self, cells: &[&str]) -> Result<(), WriteError>;
    /// Completes the file and moves it into place.
    fn finish(self: Box<Self>) -> Result<(), WriteError>;
}

/// Starts an export to `path`, `.csv` or `.xlsx` by extension (any case),
/// and writes the header row. `expected_rows`, when known, lets an XLSX
/// export too large for one sheet fail before any work is done.
pub fn create_writer(
    path: &Path,
    columns: &[ColumnSpec],
    expected_rows: Option<u64>,
) -> Result<Box<dyn TableWriter>, WriteError> {
    match Extension::of(path) {
        Some(Extension::Csv) => Ok(Box::new(CsvTableWriter::create(path, columns)?)),
        Some(Extension::Xlsx) => Ok(Box::new(XlsxTableWriter::create(
            path,
            columns,
            expected_rows,
            crate::error::XLSX_MAX_DATA_ROWS,
        )?)),
        None => Err(WriteError::UnsupportedExtension {
            file: display_name(path),
        }),
    }
}

/// Writes an empty import template (an `.xlsx` path is required): header
/// row, text-formatted `text` columns, drop-down lists for columns with
/// `choices` over the first [`TEMPLATE_ROWS`] data rows.
pub fn write_template(path: &Path, columns: &[ColumnSpec]) -> Result<(), WriteError> {
    match Extension::of(path) {
        Some(Extension::Xlsx) => crate::template::write(path, columns),
        _ => Err(WriteError::UnsupportedExtension {
            file: display_name(path),
        }),
    }
}

/// Data rows of a template that carry drop-down lists (rows 2..=10001).
pub const TEMPLATE_ROWS: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extension {
    Csv,
    Xlsx,
}

impl Extension {
    pub(crate) fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("csv") {
            Some(Self::Csv)
        } else if ext.eq_ignore_ascii_case("xlsx") {
            Some(Self::Xlsx)
        } else {
            None
        }
    }
}

/// A temporary file beside the target, removed on drop unless committed.
pub(crate) struct TempTarget {
    temp: PathBuf,
    target: PathBuf,
    file_name: String,
    committed: bool,
}

impl TempTarget {
    pub(crate) fn create(target: &Path) -> Result<(Self, File), WriteError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let file_name = display_name(target);
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{file_name}.{}-{unique}.part", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|source| WriteError::Io {
                file: file_name.clone(),
                source,
            })?;
        let guard = Self {
            temp,
            target: target.to_path_buf(),
            file_name,
            committed: false,
        };
        Ok((guard, file))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.temp
    }

    pub(crate) fn file_name(&self) -> &str {
        &self.file_name
    }

    pub(crate) fn io_error(&self, source: std::io::Error) -> WriteError {
        WriteError::Io {
            file: self.file_name.clone(),
            source,
        }
    }

    pub(crate) fn commit(mut self) -> Result<(), WriteError> {
        std::fs::rename(&self.temp, &self.target).map_err(|e| self.io_error(e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempTarget {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the file may never have been written.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

struct CsvTableWriter {
    writer: csv::Writer<BufWriter<File>>,
    target: TempTarget,
    /// Per column: does it hold numbers (see [`neutralise_formula`]).
    number_columns: Vec<bool>,
    rows: u64,
}

impl CsvTableWriter {
    fn create(path: &Path, columns: &[ColumnSpec]) -> Result<Self, WriteError> {
        let (target, file) = TempTarget::create(path)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(UTF8_BOM).map_err(|e| target.io_error(e))?;
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        writer
            .write_record(
                columns
                    .iter()
                    .map(|c| neutralise_formula(&c.header, false).into_owned()),
            )
            .map_err(|e| target.io_error(e.into()))?;
        Ok(Self {
            writer,
            target,
            number_columns: columns.iter().map(|c| c.number).collect(),
            rows: 0,
        })
    }
}

impl TableWriter for CsvTableWriter {
    fn write_row(&mut self, cells: &[&str]) -> Result<(), WriteError> {
        if cells.len() != self.number_columns.len() {
            return Err(WriteError::WrongCellCount {
                file: self.target.file_name().to_owned(),
                row: self.rows + 2,
                expected: self.number_columns.len(),
                got: cells.len(),
            });
        }
        let neutralised: Vec<_> = cells
            .iter()
            .zip(&self.number_columns)
            .map(|(cell, &number)| neutralise_formula(cell, number))
            .collect();
        self.writer
            .write_record(neutralised.iter().map(|cell| cell.as_bytes()))
            .map_err(|e| self.target.io_error(e.into()))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), WriteError> {
        let Self { writer, target, .. } = *self;
        let out = writer
            .into_inner()
            .map_err(|e| target.io_error(e.into_error()))?;
        let file = out
            .into_inner()
            .map_err(|e| target.io_error(e.into_error()))?;
        file.sync_all().map_err(|e| target.io_error(e))?;
        drop(file);
        target.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_triggers_get_an_apostrophe_and_come_back() {
        for value in [
            "=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx", "'", "'=x", "''", "'abc",
        ] {
            let written = neutralise_formula(value, false);
            assert_eq!(written, format!("'{value}"), "{value:?}");
            assert_eq!(restore_neutralised(&written), value, "{value:?}");
        }
        for value in ["王世华", "", "1-2", "a=b", "500.00", "-500.00"] {
            let expected = if value.starts_with('-') {
                format!("'{value}")
            } else {
                value.to_owned()
            };
            assert_eq!(neutralise_formula(value, false), expected, "{value:?}");
            assert_eq!(restore_neutralised(&expected), value, "{value:?}");
        }
    }

    #[test]
    fn plain_numbers_in_number_columns_stay_numbers() {
        for value in ["-500.00", "0", "12", "-3", "1234.5"] {
            assert_eq!(neutralise_formula(value, true), value);
            assert_eq!(restore_neutralised(value), value);
        }
        for value in ["-", "-.5", "-5.", "-1+1", "=5", "+5", "-5e3", "--5"] {
            assert_eq!(
                neutralise_formula(value, true),
                format!("'{value}"),
                "{value:?}"
            );
        }
    }

    #[test]
    fn hand_typed_apostrophes_survive_reading() {
        assert_eq!(restore_neutralised("'s-Hertogenbosch"), "'s-Hertogenbosch");
        assert_eq!(restore_neutralised("'"), "'");
    }
}
