//! Streaming XLSX export: rust_xlsxwriter's constant-memory mode flushes
//! each row to a temporary file, so a million-row export stays small in RAM.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::error::{WriteError, display_name};
use crate::write::{ColumnSpec, TableWriter, TempTarget};

/// Excel's last column is XFD = 16,384.
pub(crate) const XLSX_MAX_COLUMNS: usize = 16_384;

pub(crate) struct XlsxTableWriter {
    workbook: Workbook,
    target: TempTarget,
    headers: Vec<String>,
    text_columns: Vec<bool>,
    text_format: Format,
    rows: u64,
    max_rows: u64,
}

impl XlsxTableWriter {
    /// `max_rows`: data rows one sheet may take (Excel's limit; smaller in tests).
    pub(crate) fn create(
        path: &Path,
        columns: &[ColumnSpec],
        expected_rows: Option<u64>,
        max_rows: u64,
    ) -> Result<Self, WriteError> {
        let file = display_name(path);
        if let Some(rows) = expected_rows.filter(|&rows| rows > max_rows) {
            return Err(WriteError::TooManyRowsForXlsx { file, rows });
        }
        if columns.len() > XLSX_MAX_COLUMNS {
            return Err(WriteError::TooManyColumnsForXlsx {
                file,
                columns: columns.len(),
            });
        }
        let (target, temp_file) = TempTarget::create(path)?;
        drop(temp_file); // the workbook writes the file itself on save
        let xlsx_err = |e: XlsxError| xlsx_error(&file, e);

        let mut workbook = Workbook::new();
        // Row data goes to a temporary file; keep it on the target's disk, not a RAM-backed /tmp.
        if let Some(dir) = target.path().parent() {
            workbook.set_tempdir(dir).map_err(xlsx_err)?;
        }
        let text_format = Format::new().set_num_format("@");
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_err)?;
        write_header(sheet, columns, &text_format).map_err(xlsx_err)?;
        Ok(Self {
            workbook,
            target,
            headers: columns.iter().map(|c| c.header.clone()).collect(),
            text_columns: columns.iter().map(|c| c.text).collect(),
            text_format,
            rows: 0,
            max_rows,
        })
    }
}

impl TableWriter for XlsxTableWriter {
    fn write_row(&mut self, cells: &[&str]) -> Result<(), WriteError> {
        let file = self.target.file_name();
        if cells.len() != self.headers.len() {
            return Err(WriteError::WrongCellCount {
                file: file.to_owned(),
                row: self.rows + 2,
                expected: self.headers.len(),
                got: cells.len(),
            });
        }
        if self.rows >= self.max_rows {
            return Err(WriteError::TooManyRowsForXlsx {
                file: file.to_owned(),
                rows: self.rows + 1,
            });
        }
        // Row 0 is the header; max_rows keeps this within Excel's u32 row range.
        let row = u32::try_from(self.rows + 1).map_err(|_| WriteError::TooManyRowsForXlsx {
            file: file.to_owned(),
            rows: self.rows + 1,
        })?;
        let sheet = self
            .workbook
            .worksheet_from_index(0)
            .map_err(|e| xlsx_error(file, e))?;
        for ((col, text), is_text) in (0u16..).zip(cells).zip(&self.text_columns) {
            if text.is_empty() {
                continue;
            }
            let written = if *is_text {
                sheet.write_string_with_format(row, col, *text, &self.text_format)
            } else {
                sheet.write_string(row, col, *text)
            };
            written.map_err(|e| match e {
                XlsxError::MaxStringLengthExceeded => WriteError::CellTooLong {
                    file: file.to_owned(),
                    row: u64::from(row) + 1,
                    column: self.headers[usize::from(col)].clone(),
                },
                other => xlsx_error(file, other),
            })?;
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), WriteError> {
        let Self {
            mut workbook,
            target,
            ..
        } = *self;
        workbook
            .save(target.path())
            .map_err(|e| xlsx_error(target.file_name(), e))?;
        target.commit()
    }
}

pub(crate) fn xlsx_error(file: &str, error: XlsxError) -> WriteError {
    match error {
        XlsxError::IoError(source) => WriteError::Io {
            file: file.to_owned(),
            source,
        },
        other => WriteError::Xlsx {
            file: file.to_owned(),
            detail: other.to_string(),
        },
    }
}

/// The bold, frozen header row, column widths, and the text format on the columns that must stay
/// text (ID and phone numbers) for the whole column, so rows typed or pasted later stay text too.
pub(crate) fn write_header(
    sheet: &mut rust_xlsxwriter::Worksheet,
    columns: &[crate::write::ColumnSpec],
    text_format: &Format,
) -> Result<(), XlsxError> {
    let header_format = Format::new().set_bold();
    for (col, spec) in (0u16..).zip(columns) {
        sheet.set_column_width(col, spec.width)?;
        if spec.text {
            sheet.set_column_format(col, text_format)?;
        }
        sheet.write_string_with_format(0, col, &spec.header, &header_format)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_row_counter_stops_at_the_sheet_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.xlsx");
        let columns = [ColumnSpec::new("a"), ColumnSpec::new("b")];
        let mut writer: Box<dyn TableWriter> =
            Box::new(XlsxTableWriter::create(&path, &columns, None, 3).unwrap());
        for _ in 0..3 {
            writer.write_row(&["1", "2"]).unwrap();
        }
        let error = writer.write_row(&["1", "2"]).unwrap_err();
        assert!(matches!(
            error,
            WriteError::TooManyRowsForXlsx { rows: 4, .. }
        ));
        assert!(error.to_string().contains(".csv"));
        // The writer is still usable: the rows so far can be saved.
        writer.finish().unwrap();
        assert!(path.exists());

        let error = XlsxTableWriter::create(&path, &columns, Some(4), 3)
            .err()
            .unwrap();
        assert!(matches!(
            error,
            WriteError::TooManyRowsForXlsx { rows: 4, .. }
        ));
    }
}
