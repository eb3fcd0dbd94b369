//! Other departments' files (medical claims, school enrolment, …): read and checked all or
//! nothing, then matched, evaluated and raised as warnings in one transaction (the store's
//! `department::import`). The CLI's `department import`, the upload page and the API's upload
//! all come here.

use std::path::Path;
use std::time::{Duration, Instant};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::department::DepartmentKind;
use zhenxing_core::monitoring::CHONGQING;
use zhenxing_core::{Action, DivisionCode, Role, Text, text};
use zhenxing_io::department::ParsedDepartment;
use zhenxing_store::accounts::Account;
use zhenxing_store::department::{self, NewUpload, UploadReport};
use zhenxing_store::{Db, StoreError};

/// Who uploads: the name the audit trail records, the account (none for the command line
/// without `--as`) and the division whose registry the file is matched against.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub actor: String,
    pub account_id: Option<i64>,
    pub division: DivisionCode,
}

impl Uploader {
    /// An operator at the command line, for the whole municipality.
    pub fn operator(actor: String) -> Result<Uploader, Text> {
        Ok(Uploader {
            actor,
            account_id: None,
            division: DivisionCode::parse(CHONGQING).map_err(|e| e.text())?,
        })
    }

    /// An account, if it may upload department data.
    pub fn account(account: &Account) -> Result<Uploader, Text> {
        if account.disabled || !account.may(Action::UploadDepartmentData) {
            let (name, zh, en) = (&account.name, account.role.zh(), account.role.en());
            return Err(text!(
                "账号“{name}”（{zh}）已停用或无权上传部门数据；只有行业部门人员和市级管理员可以上传",
                "the account '{name}' ({en}) is disabled or may not upload department data; only department officers and the municipal administrator may"
            ));
        }
        Ok(Uploader {
            actor: account.name.clone(),
            account_id: Some(account.id),
            division: account.division,
        })
    }
}

/// The uploads an account sees: its own, or everyone's for the administrator.
pub fn owner_filter(account: &Account) -> Option<&str> {
    (account.role != Role::MunicipalAdmin).then_some(account.name.as_str())
}

/// How an upload ended.
pub enum UploadOutcome {
    /// Malformed: nothing was written.
    Refused(ParsedDepartment),
    /// Imported; the parsed file is kept for its warnings.
    Accepted {
        report: Box<UploadReport>,
        parsed: ParsedDepartment,
    },
}

/// An upload's outcome and how long its two steps took.
pub struct Upload {
    pub outcome: UploadOutcome,
    /// Reading and checking the file.
    pub read_time: Duration,
    /// Matching and writing.
    pub write_time: Duration,
}

/// Reads and checks the file at `path`, then imports it as `uploader`: all or nothing.
/// `file_name` is the name reports give the file (`None`: the name of `path`).
pub async fn upload(
    db: &Db,
    uploader: &Uploader,
    kind: DepartmentKind,
    path: &Path,
    file_name: Option<&str>,
) -> Result<Upload, StoreError> {
    let today = today_in_china();
    let started = Instant::now();
    let owned = path.to_path_buf();
    let (mut parsed, sha256) = tokio::task::spawn_blocking(move || {
        let parsed = zhenxing_io::department::parse_department(&owned, kind, today);
        let sha = zhenxing_io::department::file_sha256(&owned);
        (parsed, sha)
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("the file reader stopped: {e}")))?;
    if let Some(name) = file_name {
        parsed.file = name.to_owned();
    }
    let read_time = started.elapsed();
    if !parsed.is_accepted() {
        return Ok(Upload {
            outcome: UploadOutcome::Refused(parsed),
            read_time,
            write_time: Duration::ZERO,
        });
    }
    let sha256 = sha256.map_err(|e| StoreError::Corrupt(format!("reading the upload: {e}")))?;
    let report = department::import(
        db,
        &NewUpload {
            kind,
            file_name: &parsed.file,
            sha256: &sha256,
            actor: &uploader.actor,
            account_id: uploader.account_id,
            division: uploader.division,
        },
        &parsed.records,
        parsed.rows,
        today,
    )
    .await?;
    Ok(Upload {
        outcome: UploadOutcome::Accepted {
            report: Box::new(report),
            parsed,
        },
        read_time,
        write_time: started.elapsed() - read_time,
    })
}
