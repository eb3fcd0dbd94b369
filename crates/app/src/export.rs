//! Exports: the registry in the import format, the standard monthly report tables, and the
//! month's completed cases for the national system. Every export is an audited operation
//! (`registry.export`, `report.export`, `national.export`), written after the file
//! and before anything leaves; the front ends only choose the file and send or name it.

use std::path::Path;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{DivisionCode, Text};
use zhenxing_io::WriteError;
use zhenxing_io::national::{NationalRow, write_national};
use zhenxing_io::registry::RegistryWriter;
use zhenxing_io::reports::{ReportTable, write_report};
use zhenxing_store::assistance::{CadresOf, responsible_cadres};
use zhenxing_store::audit::{AuditEntry, append_one};
use zhenxing_store::procedures::{NationalEntry, national_entries};
use zhenxing_store::registry::for_each_household;
use zhenxing_store::snapshots::Month;
use zhenxing_store::{Db, StoreError};

/// Who exports, and through which front end: the audit trail records both.
#[derive(Debug, Clone, Copy)]
pub struct Exporter<'a> {
    pub actor: &'a str,
    pub via: Via<'a>,
}

#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    Cli,
    /// The web application, from this client address.
    Web {
        client: &'a str,
    },
}

/// What stopped an export: the store, or the file's writer (the file is not left behind).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The writer's thread stopped.
    #[error("the export's writer stopped: {0}")]
    Stopped(String),
}

impl ExportError {
    /// The writer's error in both languages; `None` for the store's (an internal error).
    pub fn write_text(&self) -> Option<Text> {
        match self {
            ExportError::Write(e) => Some(Text::new(e.zh(), e.en())),
            _ => None,
        }
    }
}

/// How much an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    pub households: u64,
    pub rows: u64,
}

/// The audit entry of an export. `file` is the file's name as the trail keeps it.
fn audit_entry(
    exporter: Exporter<'_>,
    action: &str,
    object_type: &str,
    object_id: Option<String>,
    division: Option<&DivisionCode>,
    mut after: serde_json::Map<String, serde_json::Value>,
) -> AuditEntry {
    match exporter.via {
        Via::Cli => {
            after.insert("via".into(), "cli".into());
        }
        Via::Web { client } => {
            after.insert("via".into(), "web".into());
            after.insert("from".into(), client.into());
        }
    }
    AuditEntry {
        actor: exporter.actor.to_owned(),
        action: action.into(),
        object_type: object_type.into(),
        object_id,
        county_code: division
            .and_then(|d| d.county())
            .map(|c| c.as_str().to_owned()),
        division_code: division.map(|d| d.as_str().to_owned()),
        after: Some(serde_json::Value::Object(after)),
        ..Default::default()
    }
}

/// Writes the registry of `division` (all of it when `None`) to `path` in the import format
/// (CSV: UTF-8 with a BOM, CRLF), then audits the export as `file`. `progress` is told the
/// households written so far and the total, for a progress bar.
pub async fn registry(
    db: &Db,
    exporter: Exporter<'_>,
    division: Option<&DivisionCode>,
    path: &Path,
    file: &str,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<Exported, ExportError> {
    let stats = db.stats(division).await?;
    let total = stats.households as u64;
    let mut writer = RegistryWriter::create(path, Some(stats.members as u64))?;
    // Read before the households stream: one query, names only (never a cadre's phone).
    let cadres = responsible_cadres(db, CadresOf::Division(division), today_in_china()).await?;
    let mut done = 0;
    let households = for_each_household(db, division, |record| {
        let draft = record.to_draft().map_err(StoreError::Corrupt)?;
        let names = cadres
            .get(&record.household_no)
            .map_or(&[][..], Vec::as_slice);
        writer.write_household(&draft, names)?;
        done += 1;
        progress(done, total);
        Ok::<(), ExportError>(())
    })
    .await?;
    let rows = writer.rows();
    writer.finish()?;
    let mut after = serde_json::Map::new();
    after.insert("file".into(), file.into());
    after.insert("format".into(), "csv".into());
    after.insert("households".into(), households.into());
    after.insert("rows".into(), rows.into());
    append_one(
        db,
        audit_entry(
            exporter,
            "registry.export",
            "registry",
            division.map(|d| d.as_str().to_owned()),
            division,
            after,
        ),
    )
    .await?;
    Ok(Exported { households, rows })
}

/// Writes a report table to `path` (`.xlsx` or `.csv`, by its extension) off the async
/// workers, then audits the export as `file`. The number of rows written.
pub async fn report(
    db: &Db,
    exporter: Exporter<'_>,
    table: ReportTable,
    division: &DivisionCode,
    month: Month,
    path: &Path,
    file: &str,
) -> Result<usize, ExportError> {
    let rows = table.rows.len();
    let format = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || write_report(&owned, &table))
        .await
        .map_err(|e| ExportError::Stopped(e.to_string()))??;
    let mut after = serde_json::Map::new();
    after.insert("file".into(), file.into());
    after.insert("format".into(), format.into());
    after.insert("month".into(), month.to_string().into());
    after.insert("rows".into(), rows.into());
    append_one(
        db,
        audit_entry(
            exporter,
            "report.export",
            "report",
            Some(file.to_owned()),
            Some(division),
            after,
        ),
    )
    .await?;
    Ok(rows)
}

/// Writes the completed identifications and risk eliminations of `division` in `month` in the
/// national system's columns (`.xlsx` or `.csv`), then audits the export (`national.export`:
/// the file holds heads' full ID numbers). The number of cases written.
pub async fn national(
    db: &Db,
    exporter: Exporter<'_>,
    division: &DivisionCode,
    month: Month,
    path: &Path,
    file: &str,
) -> Result<usize, ExportError> {
    let entries = national_entries(db, division, month).await?;
    let rows: Vec<NationalRow> = entries.iter().map(national_row).collect();
    let owned = path.to_path_buf();
    let count = rows.len();
    tokio::task::spawn_blocking(move || write_national(&owned, &rows))
        .await
        .map_err(|e| ExportError::Stopped(e.to_string()))??;
    let mut after = serde_json::Map::new();
    after.insert("file".into(), file.into());
    after.insert("month".into(), month.to_string().into());
    after.insert("cases".into(), count.into());
    append_one(
        db,
        audit_entry(
            exporter,
            "national.export",
            "cases",
            Some(division.as_str().to_owned()),
            Some(division),
            after,
        ),
    )
    .await?;
    Ok(count)
}

/// A case's cells in the national system's words (the labels of its dictionaries).
fn national_row(e: &NationalEntry) -> NationalRow {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let risk = |i: usize| {
        e.risks
            .get(i)
            .map(|r| r.zh().to_owned())
            .unwrap_or_default()
    };
    let [county, township, village] = e.places.clone();
    let (notice_starts, notice_ends) = e.notice.clone().unzip();
    [
        e.division_code.clone(),
        county,
        township,
        village,
        text(&e.village_group),
        e.household_no.clone(),
        e.head_name.clone(),
        e.head_id_number.clone(),
        e.members.to_string(),
        e.kind.zh().to_owned(),
        e.category.map(|c| c.zh().to_owned()).unwrap_or_default(),
        risk(0),
        risk(1),
        risk(2),
        risk(3),
        risk(4),
        text(&e.identified_on),
        text(&e.eliminated_on),
        e.method.map(|m| m.zh().to_owned()).unwrap_or_default(),
        text(&notice_starts),
        text(&notice_ends),
        text(&e.announced_on),
        e.closed_on.clone(),
        text(&e.recorded_on),
        text(&e.record_number),
        e.case_id.to_string(),
    ]
}
