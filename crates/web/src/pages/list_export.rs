//! Working lists leave the screen: a list's rows, exactly as its filters select them, as XLSX
//! (every cell typed text, the header bold and frozen) or CSV (UTF-8 with a byte-order mark,
//! cells neutralised against formulas), written by the io crate's writers into a private
//! temporary directory, the export audited, then the file sent. A list's route `/NAME.xlsx` or
//! `/NAME.csv` takes the same query as its page `/NAME`.
//!
//! The rows come in pages from the list's own query (the page shows one, the export walks them
//! all), so a long list never sits in memory whole; an XLSX export longer than one sheet stops
//! with a message that asks for CSV or fewer rows.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::download::{FileFormat, TempDownload};
use crate::pages::{Chrome, count};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use zhenxing_io::{ColumnSpec, TableWriter, WriteError, create_writer};
use zhenxing_store::audit::{AuditEntry, append_one};

/// The format a list's export route asks for: `/NAME.xlsx` or `/NAME.csv`, so that one
/// handler serves both routes.
pub struct ListFormat(pub FileFormat);

impl<S: Send + Sync> FromRequestParts<S> for ListFormat {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ListFormat, AppError> {
        parts
            .uri
            .path()
            .rsplit_once('.')
            .and_then(|(_, extension)| FileFormat::from_extension(extension))
            .map(ListFormat)
            .ok_or(AppError::NotFound)
    }
}

/// An export being written.
pub struct ListFile {
    file: TempDownload,
    /// Taken while a page of rows is written on a blocking thread.
    writer: Option<Box<dyn TableWriter>>,
    rows: u64,
}

/// What the audit record of an export says besides the file: the action (`audit.export`), the
/// division it covers, and the filters, as the list's query gave them.
pub struct ExportRecord {
    pub action: &'static str,
    /// The division the export covers; its county is derived.
    pub division: zhenxing_core::DivisionCode,
    pub filters: serde_json::Value,
}

fn write_failed(e: WriteError) -> AppError {
    match e {
        WriteError::TooManyRowsForXlsx { .. } => AppError::bad_request(e.zh(), e.en()),
        other => {
            tracing::error!(error = %other, "a list export failed");
            AppError::Internal
        }
    }
}

impl ListFile {
    /// Starts `STEM-DATE.EXT` with its header row.
    pub fn create(stem: &str, format: FileFormat, columns: &[ColumnSpec]) -> AppResult<ListFile> {
        let today = zhenxing_core::china_time::today_in_china();
        let file = TempDownload::create(format!("{stem}-{today}.{}", format.extension()), format)?;
        let writer = create_writer(file.path(), columns, None).map_err(write_failed)?;
        Ok(ListFile {
            file,
            writer: Some(writer),
            rows: 0,
        })
    }

    /// Appends rows, one cell per column.
    pub async fn write(&mut self, rows: Vec<Vec<String>>) -> AppResult<()> {
        let Some(mut writer) = self.writer.take() else {
            return Err(AppError::Internal);
        };
        let count = rows.len() as u64;
        let (writer, written) = tokio::task::spawn_blocking(move || {
            let written = rows.iter().try_for_each(|row| {
                let cells: Vec<&str> = row.iter().map(String::as_str).collect();
                writer.write_row(&cells)
            });
            (writer, written)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a list export's writer stopped");
            AppError::Internal
        })?;
        written.map_err(write_failed)?;
        self.writer = Some(writer);
        self.rows += count;
        Ok(())
    }

    /// Completes the file, records the export in the audit trail (who, which list, which
    /// filters, how many rows; never the rows) and sends the file.
    pub async fn send(
        mut self,
        state: &AppState,
        viewer: &Viewer,
        record: ExportRecord,
    ) -> AppResult<Response> {
        let account = viewer.account()?;
        let writer = self.writer.take().ok_or(AppError::Internal)?;
        tokio::task::spawn_blocking(move || writer.finish())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "a list export's writer stopped");
                AppError::Internal
            })?
            .map_err(write_failed)?;
        append_one(
            &state.db,
            AuditEntry {
                actor: account.name.clone(),
                action: record.action.to_owned(),
                object_type: "list".into(),
                object_id: Some(self.file.file_name().to_owned()),
                county_code: record.division.county().map(|c| c.as_str().to_owned()),
                division_code: Some(record.division.as_str().to_owned()),
                after: Some(serde_json::json!({
                    "file": self.file.file_name(),
                    "format": self.file.format().extension(),
                    "via": "web",
                    "from": viewer.client,
                    "rows": self.rows,
                    "filters": record.filters,
                })),
                ..Default::default()
            },
        )
        .await?;
        self.file.send().await
    }
}

/// What every working list shows above its rows: how many rows its filters select over all
/// pages ("共 1,234 户", printed with the list), and the links to its export with the same
/// filters when the viewer may export (`list_head.html`).
pub struct ListHead {
    pub total: String,
    pub xlsx: Option<String>,
    pub csv: Option<String>,
}

impl ListHead {
    /// `total_key` is the list's message for its count (`list-total-households`); `path` the
    /// list's route (`/households`); `export_query` its filters, when the viewer may export.
    pub fn new(
        c: &Chrome,
        total_key: &str,
        total: i64,
        path: &str,
        export_query: Option<String>,
    ) -> ListHead {
        let link = |ext: &str| {
            export_query.as_ref().map(|q| match q.as_str() {
                "" => format!("{path}.{ext}"),
                q => format!("{path}.{ext}?{q}"),
            })
        };
        ListHead {
            total: c.tr.t_args(total_key, &[("count", count(total).into())]),
            xlsx: link("xlsx"),
            csv: link("csv"),
        }
    }
}
