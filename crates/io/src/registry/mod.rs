//! The registry exchange format (data/formats/registry-columns.csv): one row per member, the
//! household columns repeated on each member row, Chinese or English headers in any order.

mod columns;
mod export;
mod fields;
mod outcome;
mod parse;
mod report;

pub(crate) use columns::header_key;
pub use columns::{COLUMNS, Level, RISK_TYPE_COLUMNS, RegistryColumn, template_columns};
pub use export::{RegistryWriter, record_cells};
pub use parse::{
    CadreCell, ParsedRegistry, RowLocator, StreamedRegistry, parse_registry, stream_registry,
};
pub(crate) use report::for_each_data_row;
pub use report::{ImportReport, Problem};
