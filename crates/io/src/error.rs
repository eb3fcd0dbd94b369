//! Errors of this crate, each one bilingual.
//!
//! Convention (the same for [`OpenError`], [`ReadError`] and [`WriteError`]):
//! `to_string()` gives "中文说明 / English text"; `zh()` and `en()` give one
//! language alone, for a UI that shows the user's language only. Every message
//! names the file, says where (row, byte offset where it helps), what is
//! wrong and what the user can do about it.

use crate::sniff::TextEncoding;

/// Opening a table failed: the file cannot be read as a CSV table or a workbook (XLSX, XLS, ODS).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error("{}", self.bilingual())]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", self.bilingual())]
    Empty { file: String },
    /// A workbook encrypted with a password to open (XLSX or XLS): its content cannot be read.
    #[error("{}", self.bilingual())]
    Protected { file: String },
    #[error("{}", self.bilingual())]
    Utf16 { file: String },
    #[error("{}", self.bilingual())]
    Binary { file: String },
    /// Neither UTF-8 nor GB18030; `byte_offset` counts from 0.
    #[error("{}", self.bilingual())]
    UnknownEncoding { file: String, byte_offset: u64 },
    /// `detail` is the parser's own (English) message.
    #[error("{}", self.bilingual())]
    CorruptWorkbook { file: String, detail: String },
    #[error("{}", self.bilingual())]
    NoWorksheet { file: String },
    /// The file holds no non-blank row at all.
    #[error("{}", self.bilingual())]
    NoHeader { file: String },
    /// Reading the header row itself failed.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Reading a row failed. See [`ReadError::is_recoverable`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Bytes that are not valid in the file's encoding. `byte_offset` is the
    /// offset in the file (from 0) where the bad bytes or the bad row start.
    #[error("{}", self.bilingual())]
    InvalidText {
        file: String,
        row: u64,
        byte_offset: u64,
        encoding: TextEncoding,
    },
    /// A single row longer than [`crate::table::MAX_ROW_BYTES`]: almost
    /// always a double quote that is never closed.
    #[error("{}", self.bilingual())]
    RowTooLong { file: String, row: u64 },
    #[error("{}", self.bilingual())]
    Io {
        file: String,
        row: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", self.bilingual())]
    CorruptWorkbook {
        file: String,
        row: u64,
        detail: String,
    },
}

/// Writing an export or a template failed; no partial file is left behind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error("{}", self.bilingual())]
    UnsupportedExtension { file: String },
    #[error("{}", self.bilingual())]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// `rows` is the number of data rows asked for (or reached).
    #[error("{}", self.bilingual())]
    TooManyRowsForXlsx { file: String, rows: u64 },
    #[error("{}", self.bilingual())]
    TooManyColumnsForXlsx { file: String, columns: usize },
    /// A row passed to `write_row` has a different number of cells than
    /// there are columns (a programming error, reported rather than panicking).
    #[error("{}", self.bilingual())]
    WrongCellCount {
        file: String,
        row: u64,
        expected: usize,
        got: usize,
    },
    /// An XLSX cell holds at most 32,767 characters.
    #[error("{}", self.bilingual())]
    CellTooLong {
        file: String,
        row: u64,
        column: String,
    },
    #[error("{}", self.bilingual())]
    Xlsx { file: String, detail: String },
}

/// Largest number of data rows (below the header) an XLSX sheet holds.
pub const XLSX_MAX_DATA_ROWS: u64 = 1_048_575;

impl OpenError {
    pub fn zh(&self) -> String {
        match self {
            Self::Io { file, source } => format!(
                "无法打开文件“{file}”：{source}。请确认文件存在、有读取权限，且没有被其他程序独占打开。"
            ),
            Self::Empty { file } => {
                format!(
                    "文件“{file}”是空的（0 字节）。请选择包含数据的 CSV 文件或 Excel/WPS/LibreOffice 工作簿（.xlsx、.xls、.ods）。"
                )
            }
            Self::Protected { file } => format!(
                "工作簿“{file}”设有打开密码，内容已加密，无法读取。\
                 请用 Excel 或 WPS 输入密码打开，取消密码（文件→信息→保护工作簿）后另存，再导入。"
            ),
            Self::Utf16 { file } => format!(
                "文件“{file}”是 UTF-16 编码的文本（Excel 的“Unicode 文本”格式），无法读取。\
                 请在 Excel 或 WPS 中另存为“CSV UTF-8（逗号分隔）”或 Excel 工作簿（.xlsx）后再导入。"
            ),
            Self::Binary { file } => {
                format!(
                    "文件“{file}”是二进制文件，不是 CSV 表格或工作簿（.xlsx、.xls、.ods）。请确认选择了正确的文件。"
                )
            }
            Self::UnknownEncoding { file, byte_offset } => format!(
                "文件“{file}”的文字编码无法识别：从第 {byte_offset} 字节（从 0 起算）起既不是有效的 UTF-8，\
                 也不是 GB18030/GBK。文件可能混用了多种编码或已损坏。\
                 请在 Excel 或 WPS 中另存为“CSV UTF-8（逗号分隔）”或 Excel 工作簿（.xlsx）后再导入。"
            ),
            Self::CorruptWorkbook { file, detail } => format!(
                "工作簿“{file}”已损坏或不完整（技术细节：{detail}）。\
                 请用 Excel 或 LibreOffice 打开并重新保存后再导入。"
            ),
            Self::NoWorksheet { file } => format!(
                "工作簿“{file}”中没有可读取的工作表。请把数据放在第一个工作表中，保存后再导入。"
            ),
            Self::NoHeader { file } => {
                format!("文件“{file}”中没有任何数据，找不到表头行。第一个非空行应为表头（列名）。")
            }
            Self::Read(e) => e.zh(),
        }
    }

    pub fn en(&self) -> String {
        match self {
            Self::Io { file, source } => format!(
                "Cannot open file \"{file}\": {source}. Check that the file exists, that you may read it, \
                 and that no other program holds it locked."
            ),
            Self::Empty { file } => format!(
                "File \"{file}\" is empty (0 bytes). Choose a CSV file or an Excel/WPS/LibreOffice workbook (.xlsx, .xls, .ods) that contains data."
            ),
            Self::Protected { file } => format!(
                "The workbook \"{file}\" is protected with a password to open, so its content is \
                 encrypted and cannot be read. Open it in Excel or WPS with the password, remove the \
                 password (File → Info → Protect Workbook), save it, and import that file."
            ),
            Self::Utf16 { file } => format!(
                "File \"{file}\" is UTF-16 text (Excel's \"Unicode Text\"), which cannot be read. \
                 Save it from Excel or WPS as \"CSV UTF-8 (Comma delimited)\" or as an Excel workbook (.xlsx)."
            ),
            Self::Binary { file } => format!(
                "File \"{file}\" is a binary file, not a CSV table or a workbook (.xlsx, .xls, .ods). Check that you chose the right file."
            ),
            Self::UnknownEncoding { file, byte_offset } => format!(
                "Cannot tell the text encoding of file \"{file}\": from byte offset {byte_offset} \
                 (counting from 0) it is neither valid UTF-8 nor GB18030/GBK. The file may mix encodings \
                 or be damaged. Save it from Excel or WPS as \"CSV UTF-8 (Comma delimited)\" or as an \
                 Excel workbook (.xlsx)."
            ),
            Self::CorruptWorkbook { file, detail } => format!(
                "The workbook \"{file}\" is damaged or incomplete (technical detail: {detail}); \
                 open it in Excel or LibreOffice and save it again."
            ),
            Self::NoWorksheet { file } => format!(
                "The workbook \"{file}\" has no worksheet to read. Put the data on the first worksheet and save again."
            ),
            Self::NoHeader { file } => format!(
                "File \"{file}\" contains no data: no header row was found. \
                 The first non-empty row must hold the column names."
            ),
            Self::Read(e) => e.en(),
        }
    }

    fn bilingual(&self) -> String {
        format!("{} / {}", self.zh(), self.en())
    }
}

impl ReadError {
    /// True when reading may go on with the next row (a row whose text is
    /// not valid UTF-8); every other error ends the file: further calls to
    /// `next_row` return `Ok(None)`.
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            Self::InvalidText {
                encoding: TextEncoding::Utf8 | TextEncoding::Utf8Bom,
                ..
            }
        )
    }

    /// The spreadsheet row number (header = 1) where the error occurred.
    pub fn row(&self) -> u64 {
        match self {
            Self::InvalidText { row, .. }
            | Self::RowTooLong { row, .. }
            | Self::Io { row, .. }
            | Self::CorruptWorkbook { row, .. } => *row,
        }
    }

    pub fn zh(&self) -> String {
        match self {
            Self::InvalidText {
                file,
                row,
                byte_offset,
                encoding,
            } => format!(
                "文件“{file}”第 {row} 行（第 {byte_offset} 字节附近，从 0 起算）含有不属于 {} 编码的字节，该行无法读取。\
                 文件可能混用了多种编码。请在 Excel 或 WPS 中另存为“CSV UTF-8（逗号分隔）”后重新导入。",
                encoding.name()
            ),
            Self::RowTooLong { file, row } => format!(
                "文件“{file}”第 {row} 行过长（超过 {} MiB），通常是某个单元格的双引号没有闭合。\
                 请检查该行附近的引号，修正后重新导入。",
                crate::table::MAX_ROW_BYTES >> 20
            ),
            Self::Io { file, row, source } => format!(
                "读取文件“{file}”第 {row} 行附近时出错：{source}。请确认文件没有被移动、删除或正在被写入，然后重试。"
            ),
            Self::CorruptWorkbook { file, row, detail } => format!(
                "工作簿“{file}”在第 {row} 行附近已损坏或不完整（技术细节：{detail}）。\
                 请用 Excel 或 LibreOffice 打开并重新保存后再导入。"
            ),
        }
    }

    pub fn en(&self) -> String {
        match self {
            Self::InvalidText {
                file,
                row,
                byte_offset,
                encoding,
            } => format!(
                "Row {row} of file \"{file}\" (near byte offset {byte_offset}, counting from 0) contains \
                 bytes that are not valid {}, so the row cannot be read. The file may mix encodings. \
                 Save it from Excel or WPS as \"CSV UTF-8 (Comma delimited)\" and import it again.",
                encoding.name()
            ),
            Self::RowTooLong { file, row } => format!(
                "Row {row} of file \"{file}\" is too long (over {} MiB), usually because a double quote \
                 in a cell is never closed. Check the quotes near that row, fix them and import again.",
                crate::table::MAX_ROW_BYTES >> 20
            ),
            Self::Io { file, row, source } => format!(
                "Error while reading file \"{file}\" near row {row}: {source}. Check that the file was not \
                 moved, deleted or being written to, and try again."
            ),
            Self::CorruptWorkbook { file, row, detail } => format!(
                "The workbook \"{file}\" is damaged or incomplete near row {row} (technical detail: \
                 {detail}); open it in Excel or LibreOffice and save it again."
            ),
        }
    }

    fn bilingual(&self) -> String {
        format!("{} / {}", self.zh(), self.en())
    }
}

impl WriteError {
    pub fn zh(&self) -> String {
        match self {
            Self::UnsupportedExtension { file } => format!(
                "无法写入“{file}”：只支持 .csv 和 .xlsx 两种格式。请把文件名的扩展名改为 .csv 或 .xlsx。"
            ),
            Self::Io { file, source } => format!(
                "写入文件“{file}”时出错：{source}。请确认目录存在且可写、磁盘空间充足，且该文件没有在 Excel 或 WPS 中打开。"
            ),
            Self::TooManyRowsForXlsx { file, rows } => format!(
                "无法导出“{file}”：共 {rows} 行数据，而一个 XLSX 工作表最多只能容纳 {XLSX_MAX_DATA_ROWS} 行数据（另有 1 行表头）。\
                 请改为导出 .csv 文件，或缩小导出范围。"
            ),
            Self::TooManyColumnsForXlsx { file, columns } => format!(
                "无法导出“{file}”：共 {columns} 列，而一个 XLSX 工作表最多只能容纳 16384 列。请改为导出 .csv 文件。"
            ),
            Self::WrongCellCount {
                file,
                row,
                expected,
                got,
            } => format!(
                "写入“{file}”第 {row} 行时出错：该行有 {got} 个单元格，但表格有 {expected} 列。这是程序错误，请联系系统维护人员。"
            ),
            Self::CellTooLong { file, row, column } => format!(
                "无法导出“{file}”：第 {row} 行“{column}”列的内容超过 XLSX 单元格上限 32767 个字符。请改为导出 .csv 文件。"
            ),
            Self::Xlsx { file, detail } => format!(
                "生成工作簿“{file}”时出错（技术细节：{detail}）。请改为导出 .csv 文件，或联系系统维护人员。"
            ),
        }
    }

    pub fn en(&self) -> String {
        match self {
            Self::UnsupportedExtension { file } => format!(
                "Cannot write \"{file}\": only .csv and .xlsx files are supported. Give the file name a .csv or .xlsx extension."
            ),
            Self::Io { file, source } => format!(
                "Error while writing file \"{file}\": {source}. Check that the folder exists and is writable, \
                 that the disk has room, and that the file is not open in Excel or WPS."
            ),
            Self::TooManyRowsForXlsx { file, rows } => format!(
                "Cannot export \"{file}\": {rows} data rows, but an XLSX sheet holds at most \
                 {XLSX_MAX_DATA_ROWS} data rows (plus the header row). Export as .csv instead, or export fewer rows."
            ),
            Self::TooManyColumnsForXlsx { file, columns } => format!(
                "Cannot export \"{file}\": {columns} columns, but an XLSX sheet holds at most 16384 columns. Export as .csv instead."
            ),
            Self::WrongCellCount {
                file,
                row,
                expected,
                got,
            } => format!(
                "Error writing row {row} of \"{file}\": the row has {got} cells but the table has {expected} \
                 columns. This is a program error; please contact the system maintainers."
            ),
            Self::CellTooLong { file, row, column } => format!(
                "Cannot export \"{file}\": the cell in row {row}, column \"{column}\" is longer than the \
                 XLSX limit of 32767 characters. Export as .csv instead."
            ),
            Self::Xlsx { file, detail } => format!(
                "Error while building the workbook \"{file}\" (technical detail: {detail}). \
                 Export as .csv instead, or contact the system maintainers."
            ),
        }
    }

    fn bilingual(&self) -> String {
        format!("{} / {}", self.zh(), self.en())
    }
}

/// The name shown to users for a path: its file name, else the whole path.
pub(crate) fn display_name(path: &std::path::Path) -> String {
    match path.file_name() {
        Some(name) => name.to_string_lossy().into_owned(),
        None => path.display().to_string(),
    }
}
