//! Empty XLSX import templates with text columns and drop-down lists.

use std::path::Path;

use rust_xlsxwriter::{
    DataValidation, Format, Formula, Workbook, XlsxError, column_number_to_name,
};

use crate::error::{WriteError, display_name};
use crate::write::{ColumnSpec, TEMPLATE_ROWS, TempTarget};
use crate::xlsx_writer::{XLSX_MAX_COLUMNS, write_header, xlsx_error};

/// Hidden sheet holding drop-down values too long for an inline list.
const LISTS_SHEET: &str = "lists";

pub(crate) fn write(path: &Path, columns: &[ColumnSpec]) -> Result<(), WriteError> {
    let file = display_name(path);
    if columns.len() > XLSX_MAX_COLUMNS {
        return Err(WriteError::TooManyColumnsForXlsx {
            file,
            columns: columns.len(),
        });
    }
    let xlsx_err = |e: XlsxError| xlsx_error(&file, e);
    let mut workbook = Workbook::new();
    let text_format = Format::new().set_num_format("@");
    // Lists too long (or with commas) for an inline list: (column on the lists sheet, values).
    let mut long_lists: Vec<&[String]> = Vec::new();

    let sheet = workbook.add_worksheet();
    write_header(sheet, columns, &text_format).map_err(xlsx_err)?;
    for (col, spec) in (0u16..).zip(columns) {
        let Some(choices) = spec.choices.as_deref().filter(|c| !c.is_empty()) else {
            continue;
        };
        let validation = match inline_list(choices) {
            Some(validation) => validation,
            None => {
                let list_col = u16::try_from(long_lists.len()).unwrap_or(u16::MAX);
                long_lists.push(choices);
                let last_row = choices.len().min(1_048_576);
                let letter = column_number_to_name(list_col);
                DataValidation::new().allow_list_formula(Formula::new(format!(
                    "={LISTS_SHEET}!${letter}$1:${letter}${last_row}"
                )))
            }
        };
        let validation = with_messages(validation).map_err(xlsx_err)?;
        sheet
            .add_data_validation(1, col, TEMPLATE_ROWS, col, &validation)
            .map_err(xlsx_err)?;
    }

    if !long_lists.is_empty() {
        let lists = workbook.add_worksheet();
        lists.set_name(LISTS_SHEET).map_err(xlsx_err)?;
        for (col, values) in (0u16..).zip(&long_lists) {
            for (row, value) in (0u32..).zip(values.iter()) {
                lists.write_string(row, col, value).map_err(xlsx_err)?;
            }
        }
        lists.set_hidden(true);
    }

    let (target, temp_file) = TempTarget::create(path)?;
    drop(temp_file);
    workbook.save(target.path()).map_err(xlsx_err)?;
    target.commit()
}

/// An inline list, when Excel allows one: at most 255 characters in all,
/// and no value containing the comma that separates them.
fn inline_list(choices: &[String]) -> Option<DataValidation> {
    if choices.iter().any(|c| c.contains(',')) {
        return None;
    }
    DataValidation::new().allow_list_strings(choices).ok()
}

fn with_messages(validation: DataValidation) -> Result<DataValidation, XlsxError> {
    validation
        .set_error_title("无效的值 / Invalid value")?
        .set_error_message(
            "请从下拉列表中选择一个值。\nPlease choose a value from the drop-down list.",
        )
}
