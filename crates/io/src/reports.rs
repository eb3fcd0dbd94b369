//! The standard monthly report tables (issue 6 item 4) as files: a writer that puts a filled
//! [`ReportTable`] into an XLSX workbook or a CSV file, chosen by the file's extension. The
//! table and the catalogue of reports are `zhenxing_core::report_table` (re-exported here);
//! the store fills the table (`zhenxing_store::report_tables`); this module knows nothing of
//! the database, only of cells.
//!
//! **XLSX**: one sheet named in Chinese; row 1 the title in both languages, row 2 the
//! division, month and the day the figures are from; rows 3 and 4 the column headers in Chinese
//! and in English (bold, grey fill, thin borders, wrapped); the data from row 5, counts as
//! `#,##0`, amounts in yuan as `#,##0.00`; a last row "合计 / Total" with a `SUM` formula per
//! numeric column whose cached result is the sum computed here, so that readers that do not
//! recalculate (calamine, previews) show the same number. Panes are frozen below the headers and
//! right of the first column.
//!
//! **CSV**: UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the local code page
//! and garbles the Chinese) and CRLF line ends, like the exports; one header row
//! `中文 / English`, the data rows, and the totals row as values; amounts in yuan with two
//! decimals; no title lines, so that the file stays one table.
//!
//! Both are written to a temporary file beside the target and renamed over it only when
//! complete; any other extension is refused before anything is written.

use std::path::Path;

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Formula, Workbook, XlsxError};

use crate::error::{WriteError, display_name};
use crate::write::{ColumnSpec, Extension, TempTarget, create_writer};
use crate::xlsx_writer::xlsx_error;

pub use zhenxing_core::report_table::{
    ColumnKind, REPORTS, ReportCell, ReportColumn, ReportFooter, ReportInfo, ReportTable,
    find_report,
};

/// Every row has one cell per column, or the file would not line up.
fn check(table: &ReportTable, file: &str) -> Result<(), WriteError> {
    for (i, row) in table.rows.iter().enumerate() {
        if row.len() != table.columns.len() {
            return Err(WriteError::WrongCellCount {
                file: file.to_owned(),
                row: i as u64 + 1,
                expected: table.columns.len(),
                got: row.len(),
            });
        }
    }
    Ok(())
}

/// Writes `table` to `path`: XLSX or CSV by the extension (any other is refused with
/// [`WriteError::UnsupportedExtension`] and nothing is written).
pub fn write_report(path: &Path, table: &ReportTable) -> Result<(), WriteError> {
    let file = display_name(path);
    check(table, &file)?;
    match Extension::of(path) {
        Some(Extension::Xlsx) => write_xlsx(path, table),
        Some(Extension::Csv) => write_csv(path, table),
        None => Err(WriteError::UnsupportedExtension { file }),
    }
}

const TOTAL_ZH: &str = "合计";
const TOTAL_EN: &str = "Total";

/// The footer's lines as a bilingual file shows them: "填报单位 Reporting unit" and the value
/// (the unit in both languages where they differ).
fn footer_lines(footer: &ReportFooter) -> Vec<(String, String)> {
    footer
        .lines(zhenxing_core::Lang::Zh)
        .into_iter()
        .enumerate()
        .map(|(i, (zh, en, value))| {
            let value = if i == 0 && footer.unit_en != footer.unit_zh && !footer.unit_en.is_empty()
            {
                format!("{value} {}", footer.unit_en)
            } else {
                value
            };
            (format!("{zh} {en}"), value)
        })
        .collect()
}

fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn write_csv(path: &Path, table: &ReportTable) -> Result<(), WriteError> {
    let columns: Vec<ColumnSpec> = table
        .columns
        .iter()
        .map(|c| {
            let header = format!("{} / {}", c.zh, c.en);
            match c.kind {
                ColumnKind::Text => ColumnSpec::new(header),
                ColumnKind::Count | ColumnKind::Yuan => ColumnSpec::number(header),
            }
        })
        .collect();
    let footer = footer_lines(&table.footer);
    let mut writer = create_writer(
        path,
        &columns,
        Some(table.rows.len() as u64 + 2 + footer.len() as u64),
    )?;
    let cell_text = |kind: ColumnKind, cell: &ReportCell| match (kind, cell) {
        (_, ReportCell::Text(s)) => s.clone(),
        (ColumnKind::Yuan, ReportCell::Number(n)) => yuan_text(*n),
        (_, ReportCell::Number(n)) => n.to_string(),
    };
    for row in &table.rows {
        let cells: Vec<String> = table
            .columns
            .iter()
            .zip(row)
            .map(|(c, cell)| cell_text(c.kind, cell))
            .collect();
        writer.write_row(&cells.iter().map(String::as_str).collect::<Vec<_>>())?;
    }
    let totals: Vec<String> = table
        .columns
        .iter()
        .zip(table.totals())
        .enumerate()
        .map(|(i, (c, t))| match t {
            Some(n) => cell_text(c.kind, &ReportCell::Number(n)),
            None if i == 0 => format!("{TOTAL_ZH} / {TOTAL_EN}"),
            None => String::new(),
        })
        .collect();
    writer.write_row(&totals.iter().map(String::as_str).collect::<Vec<_>>())?;
    // A blank line, then the footer, label and value in the first two cells.
    let width = table.columns.len();
    writer.write_row(&vec![""; width])?;
    for (label, value) in &footer {
        let mut cells = vec![""; width];
        cells[0] = label;
        if width > 1 {
            cells[1] = value;
        }
        writer.write_row(&cells)?;
    }
    writer.finish()
}

/// Column letters of a zero-based index (0 → A, 26 → AA).
fn column_name(mut i: u16) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The first data row (zero-based): title, subtitle, Chinese and English headers above it.
pub const FIRST_DATA_ROW: u32 = 4;

fn write_xlsx(path: &Path, table: &ReportTable) -> Result<(), WriteError> {
    let file = display_name(path);
    let err = |e: XlsxError| xlsx_error(&file, e);
    if table.columns.is_empty() || table.columns.len() > 16_384 {
        return Err(WriteError::TooManyColumnsForXlsx {
            file,
            columns: table.columns.len(),
        });
    }
    if table.rows.len() as u64 + u64::from(FIRST_DATA_ROW) + 6 > 1_048_576 {
        return Err(WriteError::TooManyRowsForXlsx {
            file,
            rows: table.rows.len() as u64,
        });
    }
    let (target, temp_file) = TempTarget::create(path)?;
    drop(temp_file);

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(table.info.sheet_zh).map_err(err)?;
    let last_col = (table.columns.len() - 1) as u16;
    let title = Format::new().set_bold().set_font_size(14);
    let subtitle = Format::new().set_italic();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_border(FormatBorder::Thin);
    let text = Format::new().set_border(FormatBorder::Thin);
    let count = Format::new()
        .set_num_format("#,##0")
        .set_border(FormatBorder::Thin);
    let yuan = Format::new()
        .set_num_format("#,##0.00")
        .set_border(FormatBorder::Thin);
    let total_text = text.clone().set_bold();
    let total_count = count.clone().set_bold();
    let total_yuan = yuan.clone().set_bold();

    let title_text = format!(
        "{} {}",
        table.title(zhenxing_core::Lang::Zh),
        table.title(zhenxing_core::Lang::En)
    );
    if last_col > 0 {
        sheet
            .merge_range(0, 0, 0, last_col, &title_text, &title)
            .map_err(err)?;
        sheet
            .merge_range(1, 0, 1, last_col, &table.subtitle, &subtitle)
            .map_err(err)?;
    } else {
        sheet
            .write_string_with_format(0, 0, &title_text, &title)
            .map_err(err)?;
        sheet
            .write_string_with_format(1, 0, &table.subtitle, &subtitle)
            .map_err(err)?;
    }
    for (i, c) in table.columns.iter().enumerate() {
        let col = i as u16;
        sheet
            .write_string_with_format(2, col, &c.zh, &header)
            .map_err(err)?;
        sheet
            .write_string_with_format(3, col, &c.en, &header)
            .map_err(err)?;
        // Wide enough for the header's longest word or the Chinese title, not the whole line.
        let zh_width = c.zh.chars().count() as f64 * 2.1 + 2.0;
        let width = match c.kind {
            ColumnKind::Text => zh_width.max(18.0),
            _ => zh_width.clamp(12.0, 20.0),
        };
        sheet.set_column_width(col, width).map_err(err)?;
    }
    sheet.set_row_height(3, 30).map_err(err)?;
    for (r, row) in table.rows.iter().enumerate() {
        let at = FIRST_DATA_ROW + r as u32;
        for (i, (c, cell)) in table.columns.iter().zip(row).enumerate() {
            let col = i as u16;
            match (c.kind, cell) {
                (_, ReportCell::Text(s)) => sheet.write_string_with_format(at, col, s, &text),
                (ColumnKind::Yuan, ReportCell::Number(n)) => {
                    sheet.write_number_with_format(at, col, *n as f64 / 100.0, &yuan)
                }
                (_, ReportCell::Number(n)) => {
                    sheet.write_number_with_format(at, col, *n as f64, &count)
                }
            }
            .map_err(err)?;
        }
    }
    let total_row = FIRST_DATA_ROW + table.rows.len() as u32;
    for (i, (c, t)) in table.columns.iter().zip(table.totals()).enumerate() {
        let col = i as u16;
        match t {
            None if i == 0 => sheet
                .write_string_with_format(
                    total_row,
                    col,
                    format!("{TOTAL_ZH} {TOTAL_EN}"),
                    &total_text,
                )
                .map_err(err)?,
            None => sheet
                .write_string_with_format(total_row, col, "", &total_text)
                .map_err(err)?,
            Some(sum) => {
                let letter = column_name(col);
                let (result, format) = match c.kind {
                    ColumnKind::Yuan => (yuan_text(sum), &total_yuan),
                    _ => (sum.to_string(), &total_count),
                };
                let formula = if table.rows.is_empty() {
                    Formula::new("=0")
                } else {
                    Formula::new(format!(
                        "=SUM({letter}{}:{letter}{})",
                        FIRST_DATA_ROW + 1,
                        total_row
                    ))
                }
                .set_result(result);
                sheet
                    .write_formula_with_format(total_row, col, formula, format)
                    .map_err(err)?
            }
        };
    }
    // A blank row, then the footer: label and value.
    let label = Format::new().set_bold();
    for (i, (name, value)) in footer_lines(&table.footer).iter().enumerate() {
        let at = total_row + 2 + i as u32;
        sheet
            .write_string_with_format(at, 0, name, &label)
            .map_err(err)?;
        if last_col > 0 {
            sheet.write_string(at, 1, value).map_err(err)?;
        }
    }
    sheet.set_freeze_panes(FIRST_DATA_ROW, 1).map_err(err)?;
    workbook.save(target.path()).map_err(err)?;
    target.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(51), "AZ");
        assert_eq!(column_name(52), "BA");
        assert_eq!(column_name(16_383), "XFD");
    }

    #[test]
    fn yuan_has_two_decimals() {
        assert_eq!(yuan_text(0), "0.00");
        assert_eq!(yuan_text(123_456), "1234.56");
        assert_eq!(yuan_text(-5), "-0.05");
    }
}
