//! The import report: every problem with its row (as a spreadsheet shows it), column header,
//! value and reason, in both languages.

use crate::table::{Row, TableReader};
use serde::Serialize;
use zhenxing_core::{Lang, Text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Spreadsheet row number (header = 1); 0 for the file as a whole.
    pub row: u64,
    /// The column header as written in the file; empty for a whole row or file.
    pub column: String,
    /// The offending value. ID numbers are masked: reports get printed and mailed around.
    pub value: String,
    pub reason: Text,
}

impl Problem {
    pub fn render(&self, lang: Lang) -> String {
        let (row, column, value) = match lang {
            Lang::Zh => ("第", "列", "值"),
            Lang::En => ("row ", "column", "value"),
        };
        let mut out = match lang {
            Lang::Zh if self.row > 0 => format!("{row}{}行", self.row),
            Lang::En if self.row > 0 => format!("{row}{}", self.row),
            Lang::Zh => "文件".to_owned(),
            Lang::En => "file".to_owned(),
        };
        if !self.column.is_empty() {
            out.push_str(&format!(", {column} “{}”", self.column));
        }
        if !self.value.is_empty() {
            out.push_str(&format!(", {value} “{}”", self.value));
        }
        out.push_str(": ");
        out.push_str(self.reason.get(lang));
        out
    }
}

/// The outcome of reading a file: refused (problems) or accepted with warnings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub rows: u64,
    pub households: u64,
    pub members: u64,
    /// Any problem refuses the whole file.
    pub problems: Vec<Problem>,
    /// Consistency findings that do not block (see zhenxing-core's checks).
    pub warnings: Vec<Problem>,
}

impl ImportReport {
    pub fn is_accepted(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn sort(&mut self) {
        self.problems
            .sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        self.warnings
            .sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    }
}

/// Calls `each` with every non-blank row of the table. A read error becomes a problem: a row that
/// can be skipped (text not valid in its encoding) is, any other error ends the file. `each`
/// returns false to stop.
pub(crate) fn for_each_data_row(
    table: &mut TableReader,
    problems: &mut Vec<Problem>,
    mut each: impl FnMut(Row<'_>) -> bool,
) {
    loop {
        match table.next_row() {
            Ok(Some(row)) if row.is_blank() => continue,
            Ok(Some(row)) => {
                if !each(row) {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                problems.push(Problem {
                    row: e.row(),
                    column: String::new(),
                    value: String::new(),
                    reason: Text::new(e.zh(), e.en()),
                });
                if !e.is_recoverable() {
                    break;
                }
            }
        }
    }
}
