//! Reading uploads, shared by every form that takes a file (registry import, department data,
//! rule sets) and the API's department upload: small fields with a byte limit, the file
//! streamed to a temporary file with its own limit, and the uploaded name made safe to show.

use crate::AppState;
use crate::error::AppError;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::http::StatusCode;
use tokio::io::AsyncWriteExt;
use zhenxing_app::department::Uploader;
use zhenxing_store::accounts::Account;

/// Why reading the upload failed: too large (413), a malformed request (400), or the server
/// could not store it (500).
pub(crate) enum UploadError {
    TooLarge,
    Bad(String),
    Internal(std::io::Error),
}

impl From<MultipartError> for UploadError {
    fn from(e: MultipartError) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            UploadError::TooLarge
        } else {
            UploadError::Bad(e.body_text())
        }
    }
}

impl UploadError {
    /// The answer when the page has nothing better to say (pages that show their form again
    /// for a file too large handle [`UploadError::TooLarge`] themselves first).
    pub(crate) fn into_app_error(self) -> AppError {
        match self {
            UploadError::TooLarge => AppError::PayloadTooLarge,
            UploadError::Bad(why) => AppError::bad_request(
                format!("上传请求有误：{why}"),
                format!("the upload request is not valid: {why}"),
            ),
            UploadError::Internal(e) => {
                tracing::error!(error = %e, "saving an upload failed");
                AppError::Internal
            }
        }
    }
}

/// Whether a request's body is `multipart/form-data` (a form with files).
pub(crate) fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// A small field's bytes; a field longer than `max` bytes is refused.
pub(crate) async fn small_bytes(field: &mut Field<'_>, max: usize) -> Result<Vec<u8>, UploadError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > max {
            return Err(UploadError::Bad(format!("field longer than {max} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A field's bytes up to `max`; the rest of a longer field is read and dropped (within the
/// body limit), so that the form's other fields can still be read and shown again.
pub(crate) async fn capped_bytes(
    field: &mut Field<'_>,
    max: usize,
) -> Result<Vec<u8>, UploadError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        let room = max.saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(bytes)
}

/// A small text field; a field longer than `max` bytes is refused.
pub(crate) async fn small_text(field: &mut Field<'_>, max: usize) -> Result<String, UploadError> {
    let bytes = small_bytes(field, max).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads and drops a field the form does not know, within the body limit.
pub(crate) async fn skip(field: &mut Field<'_>) -> Result<(), UploadError> {
    while field.chunk().await?.is_some() {}
    Ok(())
}

/// Streams the file field to a temporary file (removed when dropped) named `prefix…`;
/// more than `max_file` bytes is [`UploadError::TooLarge`]. The file and its size.
pub(crate) async fn save_file(
    field: &mut Field<'_>,
    max_file: usize,
    prefix: &str,
) -> Result<(tempfile::NamedTempFile, u64), UploadError> {
    let temp = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile()
        .map_err(UploadError::Internal)?;
    let mut out = tokio::fs::File::from_std(temp.reopen().map_err(UploadError::Internal)?);
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await? {
        size += chunk.len() as u64;
        if size > max_file as u64 {
            return Err(UploadError::TooLarge);
        }
        out.write_all(&chunk).await.map_err(UploadError::Internal)?;
    }
    out.flush().await.map_err(UploadError::Internal)?;
    Ok((temp, size))
}

/// The last part of an uploaded file's name (no directories), without control characters,
/// at most 200 characters; empty when the client sent none.
pub(crate) fn file_name(raw: &str) -> String {
    raw.rsplit(['/', '\\'])
        .next()
        .unwrap_or(raw)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The last part of an uploaded file's name, without control characters, at most 200
/// characters; "upload" when empty (the department upload page and the API's).
pub(crate) fn clean_file_name(name: &str) -> String {
    let name = file_name(name);
    if name.trim().is_empty() {
        "upload".to_owned()
    } else {
        name
    }
}

/// The largest request an upload form or endpoint accepts, whatever the configuration (which
/// may set a smaller limit for the file itself: `WebConfig::max_upload_bytes`).
pub const UPLOAD_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The largest file accepted: the configuration's limit within [`UPLOAD_BODY_LIMIT`].
pub(crate) fn max_file(state: &AppState) -> usize {
    state.config.max_upload_bytes.min(UPLOAD_BODY_LIMIT)
}

/// [`max_file`] in MiB, rounded up, as the forms state it.
pub(crate) fn limit_mib(state: &AppState) -> usize {
    max_file(state).div_ceil(1024 * 1024)
}

/// A request that is not a multipart form: 400 with the framework's reason.
pub(crate) fn multipart_rejected(e: MultipartRejection) -> AppError {
    AppError::bad_request(
        format!("上传请求有误：{}", e.body_text()),
        format!("the upload request is not valid: {}", e.body_text()),
    )
}

/// The uploader of department data an account is (it has passed `UploadDepartmentData`).
pub(crate) fn uploader(account: &Account) -> Result<Uploader, AppError> {
    Uploader::account(account).map_err(|_| AppError::Forbidden)
}
