//! Files the server writes for one download (a report table, a registry export, a working list):
//! written into a private temporary directory, then streamed from disk, so memory stays bounded
//! whatever their size; the directory goes when the download ends. What goes into the audit trail
//! is the caller's business (each export is audited by whoever writes it).

use crate::error::{AppError, AppResult};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};

/// The formats of files people download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Xlsx,
    Csv,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Csv => "csv",
        }
    }

    /// `xlsx` or `csv`, in any case.
    pub fn from_extension(extension: &str) -> Option<FileFormat> {
        [FileFormat::Xlsx, FileFormat::Csv]
            .into_iter()
            .find(|f| extension.eq_ignore_ascii_case(f.extension()))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// A file being written for a download.
pub struct TempDownload {
    dir: tempfile::TempDir,
    path: PathBuf,
    file_name: String,
    format: FileFormat,
}

impl TempDownload {
    /// A private temporary directory for the file `file_name`, sent as `format`.
    pub fn create(file_name: String, format: FileFormat) -> AppResult<TempDownload> {
        let dir = tempfile::Builder::new()
            .prefix("zhenxing-download-")
            .tempdir()
            .map_err(|e| {
                tracing::error!(error = %e, "no temporary directory for a download");
                AppError::Internal
            })?;
        let path = dir.path().join(&file_name);
        Ok(TempDownload {
            dir,
            path,
            file_name,
            format,
        })
    }

    /// Where to write the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name the reader's browser saves it under.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// Sends the written file.
    pub async fn send(self) -> AppResult<Response> {
        send_file(
            self.dir,
            &self.path,
            self.format.content_type(),
            &self.file_name,
        )
        .await
    }
}

/// Sends a file written into the private temporary directory `dir` as a download named
/// `file_name`, streamed from disk (memory stays bounded whatever its size); the stream owns
/// the directory, which is removed when the download ends.
async fn send_file(
    dir: tempfile::TempDir,
    path: &std::path::Path,
    content_type: &'static str,
    file_name: &str,
) -> AppResult<Response> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await.map_err(|e| {
        tracing::error!(error = %e, "reopening a download failed");
        AppError::Internal
    })?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let stream = futures_util::stream::unfold(Some((file, dir)), |state| async move {
        let (mut file, dir) = state?;
        let mut buffer = vec![0u8; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(buffer), Some((file, dir))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = axum::body::Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(len) = length
        && let Ok(v) = HeaderValue::from_str(&len.to_string())
    {
        headers.insert(header::CONTENT_LENGTH, v);
    }
    Ok(response)
}
