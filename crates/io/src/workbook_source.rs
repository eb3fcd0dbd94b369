//! Workbook rows (XLSX, Excel 97-2003 XLS, OpenDocument ODS) from the first worksheet.
//!
//! XLSX is streamed by calamine's cell reader. XLS and ODS have no cell reader in calamine, so
//! their first worksheet is read whole into a range and sent on from there: an XLS sheet holds
//! at most 65,536 rows, and government offices send ODS files of the same size, so this costs
//! little. Either way the workbook lives on a worker thread that sends batches of rows over a
//! bounded channel: a panic inside the parser on a hostile file ends only that thread, which
//! the reader reports as a damaged workbook instead of crashing the caller.

use std::fs::File;
use std::io::BufReader;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{DataType, Ods, Reader, SheetType, Xls, XlsError, Xlsx};

/// Excel's last column is XFD = 16,384.
const MAX_COLUMNS: usize = 16_384;
const ROWS_PER_BATCH: usize = 512;
const BATCHES_IN_FLIGHT: usize = 8;

/// A cell owned by a row; text from booleans, dates and errors is rendered here.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum XCell {
    Empty,
    Text(String),
    Number(f64),
}

#[derive(Debug)]
pub(crate) struct XRow {
    /// 1-based, as a spreadsheet shows it.
    pub number: u64,
    /// Indexed by column (A = 0); never ends with an empty cell.
    pub cells: Vec<XCell>,
}

/// The workbook formats calamine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkbookFormat {
    /// Office Open XML (Excel 2007 and later, WPS).
    Xlsx,
    /// Excel 97-2003 (BIFF8 in an OLE compound file).
    Xls,
    /// OpenDocument spreadsheet (LibreOffice, WPS).
    Ods,
}

impl WorkbookFormat {
    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
            Self::Ods => "ods",
        }
    }
}

#[derive(Debug)]
pub(crate) enum Failure {
    NoWorksheet,
    /// An XLS workbook encrypted with a password to open.
    Protected,
    /// The parser's message; `row` is where reading stopped (0: before any row).
    Corrupt {
        row: u64,
        detail: String,
    },
}

enum Message {
    Rows(Vec<XRow>),
    Done,
    Failed(Failure),
}

pub(crate) struct WorkbookSource {
    rx: Receiver<Message>,
    batch: Vec<XRow>,
    next_in_batch: usize,
    last_row: u64,
    done: bool,
}

impl WorkbookSource {
    pub(crate) fn spawn(file: File, format: WorkbookFormat) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        std::thread::Builder::new()
            .name("zhenxing-workbook-reader".into())
            .spawn(move || {
                let last = match send_rows(file, format, &tx) {
                    Ok(()) => Message::Done,
                    Err(failure) => Message::Failed(failure),
                };
                // The reader may be gone already; nothing is left to tell then.
                let _ = tx.send(last);
            })?;
        Ok(Self {
            rx,
            batch: Vec::new(),
            next_in_batch: 0,
            last_row: 0,
            done: false,
        })
    }

    pub(crate) fn next(&mut self) -> Result<Option<&XRow>, Failure> {
        while self.next_in_batch >= self.batch.len() {
            if self.done {
                return Ok(None);
            }
            match self.rx.recv() {
                Ok(Message::Rows(rows)) => {
                    self.batch = rows;
                    self.next_in_batch = 0;
                }
                Ok(Message::Done) => self.done = true,
                Ok(Message::Failed(failure)) => {
                    self.done = true;
                    return Err(failure);
                }
                Err(_) => {
                    // The worker ended without a last word: it panicked.
                    self.done = true;
                    return Err(Failure::Corrupt {
                        row: self.last_row + 1,
                        detail: "the workbook parser stopped unexpectedly".into(),
                    });
                }
            }
        }
        let row = &self.batch[self.next_in_batch];
        self.next_in_batch += 1;
        self.last_row = row.number;
        Ok(Some(row))
    }
}

fn send_rows(file: File, format: WorkbookFormat, tx: &SyncSender<Message>) -> Result<(), Failure> {
    let reader = BufReader::new(file);
    match format {
        WorkbookFormat::Xlsx => stream_xlsx(reader, tx),
        WorkbookFormat::Xls => match Xls::new(reader) {
            Ok(workbook) => send_first_sheet(workbook, tx),
            Err(XlsError::Password) => Err(Failure::Protected),
            Err(e) => Err(corrupt_at(0, e)),
        },
        WorkbookFormat::Ods => match Ods::new(reader) {
            Ok(workbook) => send_first_sheet(workbook, tx),
            Err(e) => Err(corrupt_at(0, e)),
        },
    }
}

fn corrupt_at(row: u64, error: impl std::fmt::Display) -> Failure {
    Failure::Corrupt {
        row,
        detail: error.to_string(),
    }
}

fn first_worksheet(sheets: &[calamine::Sheet]) -> Result<String, Failure> {
    sheets
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or(Failure::NoWorksheet)
}

/// Reads the first worksheet whole (XLS, ODS) and sends its non-empty rows in batches.
fn send_first_sheet<R>(mut workbook: R, tx: &SyncSender<Message>) -> Result<(), Failure>
where
    R: Reader<BufReader<File>>,
    R::Error: std::fmt::Display,
{
    let sheet = first_worksheet(workbook.sheets_metadata())?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| corrupt_at(0, e))?;
    let Some((first_row, first_col)) = range.start() else {
        return Ok(()); // an empty sheet: the table reader reports the missing header
    };
    let first_col = first_col as usize;
    let mut batch = Vec::with_capacity(ROWS_PER_BATCH);
    for (offset, cells) in range.rows().enumerate() {
        let number = u64::from(first_row) + offset as u64 + 1;
        let mut row = XRow {
            number,
            cells: Vec::new(),
        };
        for (index, cell) in cells.iter().enumerate() {
            let value = convert(cell);
            if value == XCell::Empty {
                continue;
            }
            let col = first_col + index;
            if col >= MAX_COLUMNS {
                return Err(corrupt_at(
                    number,
                    format!("cell in column {} beyond the last column XFD", col + 1),
                ));
            }
            row.cells.resize(col, XCell::Empty);
            row.cells.push(value);
        }
        if row.cells.is_empty() {
            continue; // as in XLSX, rows without any value are not returned
        }
        batch.push(row);
        if batch.len() == ROWS_PER_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_BATCH));
            if tx.send(Message::Rows(full)).is_err() {
                return Ok(()); // the reader was dropped
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(Message::Rows(batch));
    }
    Ok(())
}

fn stream_xlsx(reader: BufReader<File>, tx: &SyncSender<Message>) -> Result<(), Failure> {
    let mut workbook: Xlsx<_> = Xlsx::new(reader).map_err(|e| corrupt_at(0, e))?;
    let sheet = first_worksheet(workbook.sheets_metadata())?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| corrupt_at(0, e))?;

    let mut batch = Vec::with_capacity(ROWS_PER_BATCH);
    let mut current: Option<XRow> = None;
    let mut last_number = 0;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => return Err(corrupt_at(last_number + 1, e)),
        };
        let value = convert(cell.get_value());
        if value == XCell::Empty {
            continue;
        }
        let (row, col) = cell.get_position();
        let number = u64::from(row) + 1;
        let col = col as usize;
        if col >= MAX_COLUMNS {
            return Err(Failure::Corrupt {
                row: number,
                detail: format!("cell in column {} beyond the last column XFD", col + 1),
            });
        }
        if current.as_ref().is_none_or(|r| r.number != number) {
            if let Some(done) = current.take() {
                batch.push(done);
                if batch.len() == ROWS_PER_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_BATCH));
                    if tx.send(Message::Rows(full)).is_err() {
                        return Ok(()); // the reader was dropped
                    }
                }
            }
            current = Some(XRow {
                number,
                cells: Vec::new(),
            });
            last_number = number;
        }
        if let Some(r) = current.as_mut() {
            if r.cells.len() <= col {
                r.cells.resize(col + 1, XCell::Empty);
            }
            r.cells[col] = value;
        }
    }
    batch.extend(current);
    if !batch.is_empty() {
        let _ = tx.send(Message::Rows(batch));
    }
    Ok(())
}

/// One cell as a row holds it: calamine's `DataRef` (XLSX cells) and `Data` (XLS and ODS
/// ranges) both answer through `DataType`.
fn convert(value: &impl DataType) -> XCell {
    let text = |s: &str| {
        if s.is_empty() {
            XCell::Empty
        } else {
            XCell::Text(s.to_owned())
        }
    };
    if let Some(i) = value.get_int() {
        XCell::Number(i as f64)
    } else if let Some(f) = value.get_float() {
        XCell::Number(f)
    } else if let Some(s) = value.get_string() {
        text(s)
    } else if let Some(b) = value.get_bool() {
        XCell::Text(if b { "TRUE" } else { "FALSE" }.into())
    } else if let Some(dt) = value.get_datetime() {
        XCell::Text(if dt.is_duration() {
            render_duration(dt.as_f64())
        } else {
            render_datetime(&dt)
        })
    } else if let Some(s) = value
        .get_datetime_iso()
        .or_else(|| value.get_duration_iso())
    {
        text(s)
    } else if let Some(e) = value.get_error() {
        XCell::Text(e.to_string())
    } else {
        XCell::Empty
    }
}

/// "YYYY-MM-DD", with " HH:MM:SS" only when there is a time of day;
/// a bare time (serial below 1) is "HH:MM:SS".
fn render_datetime(dt: &calamine::ExcelDateTime) -> String {
    let serial = dt.as_f64();
    if !serial.is_finite() {
        return serial.to_string();
    }
    let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
    let has_time = (h, mi, s) != (0, 0, 0);
    if (0.0..1.0).contains(&serial) {
        format!("{h:02}:{mi:02}:{s:02}")
    } else if has_time {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}")
    }
}

/// Excel's "[h]:mm:ss" for a number of days.
fn render_duration(days: f64) -> String {
    if !days.is_finite() {
        return days.to_string();
    }
    let total = (days.abs() * 86_400.0).round() as u64; // saturating cast
    let sign = if days < 0.0 { "-" } else { "" };
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn dates_render_as_iso() {
        let date = ExcelDateTime::new(45943.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(render_datetime(&date), "2025-10-13");
        let stamp = ExcelDateTime::new(45943.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(render_datetime(&stamp), "2025-10-13 12:00:00");
        let time = ExcelDateTime::new(0.75, ExcelDateTimeType::DateTime, false);
        assert_eq!(render_datetime(&time), "18:00:00");
        let nan = ExcelDateTime::new(f64::NAN, ExcelDateTimeType::DateTime, false);
        assert_eq!(render_datetime(&nan), "NaN");
        assert_eq!(render_duration(1.5), "36:00:00");
    }
}
