//! File-format layer of zhenxing: reading CSV (UTF-8 or GB18030) tables and
//! workbooks (XLSX, XLS, ODS) row by row, and writing CSV / XLSX exports and XLSX templates.
//!
//! The generic layer (`table`, `sniff`, `write`) knows nothing about the
//! registry: it turns files into rows of cells and back. `registry` and
//! `divisions` map those rows onto the domain types of zhenxing-core, with a
//! report of every problem. Nothing here touches the database. Every error is bilingual: its `Display` is
//! "中文 / English", and `zh()` / `en()` give each language alone.

pub mod accounts;
mod csv_source;
mod decode;
pub mod department;
pub mod divisions;
pub mod error;
pub mod national;
pub mod registry;
pub mod reports;
pub mod sniff;
pub mod table;
mod template;
mod workbook_source;
pub mod write;
mod xlsx_writer;

pub use error::{OpenError, ReadError, WriteError};
pub use sniff::{FileKind, TextEncoding, WorkbookFormat, sniff};
pub use table::{Cell, Row, TableReader};
pub use write::{
    ColumnSpec, TableWriter, create_writer, neutralise_formula, restore_neutralised, write_template,
};
