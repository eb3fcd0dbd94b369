//! The monthly file of completed identifications and risk eliminations for upload to the
//! national monitoring system (全国防返贫监测信息系统; issue 17 item 4): one row per case, the
//! national system's field names as headers (DOMAIN.md 1.7, 1.9, 2.1), XLSX or CSV by the
//! file's extension, written to a temporary file and moved into place only when complete.
//! The store gathers the rows (`zhenxing_store::procedures::national_entries`); this module
//! knows only the columns.

use std::path::Path;

use crate::error::WriteError;
use crate::write::{ColumnSpec, create_writer};

/// The columns, in order: (header, text-formatted in XLSX, a number).
pub const NATIONAL_COLUMNS: [(&str, bool, bool); 26] = [
    ("行政区划代码", true, false),
    ("区县", false, false),
    ("乡镇", false, false),
    ("行政村", false, false),
    ("村民小组", false, false),
    ("户编号", true, false),
    ("户主姓名", false, false),
    ("户主证件号码", true, false),
    ("家庭人口数", false, true),
    ("业务类型", false, false),
    ("监测对象类别", false, false),
    ("致贫返贫风险1", false, false),
    ("致贫返贫风险2", false, false),
    ("致贫返贫风险3", false, false),
    ("致贫返贫风险4", false, false),
    ("致贫返贫风险5", false, false),
    ("识别监测时间", true, false),
    ("风险消除时间", true, false),
    ("风险消除方式", false, false),
    ("公示开始日期", true, false),
    ("公示结束日期", true, false),
    ("结果公告日期", true, false),
    ("办结日期", true, false),
    ("录入建档日期", true, false),
    ("全国系统编号", true, false),
    ("办理编号", true, false),
];

/// One row's cells, in the order of [`NATIONAL_COLUMNS`].
pub type NationalRow = [String; NATIONAL_COLUMNS.len()];

/// Writes the rows to `path` (`.xlsx` or `.csv`; any other extension is refused and nothing is
/// written).
pub fn write_national(path: &Path, rows: &[NationalRow]) -> Result<(), WriteError> {
    let columns: Vec<ColumnSpec> = NATIONAL_COLUMNS
        .iter()
        .map(|&(header, text, number)| {
            let mut spec = if number {
                ColumnSpec::number(header)
            } else {
                ColumnSpec::new(header)
            };
            spec.text = text;
            spec.width = if text { 20.0 } else { 12.0 };
            spec
        })
        .collect();
    let mut writer = create_writer(path, &columns, Some(rows.len() as u64))?;
    for row in rows {
        writer.write_row(&row.iter().map(String::as_str).collect::<Vec<_>>())?;
    }
    writer.finish()
}
