//! `zhenxing export registry|template`.

use crate::output::{progress, say};
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use zhenxing_core::{DivisionCode, Lang, Text, text};
use zhenxing_io::WriteError;
use zhenxing_io::registry::{RegistryWriter, template_columns};
use zhenxing_store::audit::{AuditEntry, append_one};
use zhenxing_store::{Db, StoreError, registry};

/// Stops an export: the store's error, or the writer's.
enum ExportError {
    Store(StoreError),
    Write(WriteError),
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        ExportError::Store(e)
    }
}

fn write_text(e: &WriteError) -> Text {
    Text::new(e.zh(), e.en())
}

pub async fn registry(
    db: &Db,
    lang: Lang,
    file: &Path,
    scope: Option<&DivisionCode>,
) -> Result<ExitCode> {
    let stats = db.stats(scope).await?;
    let mut writer = RegistryWriter::create(file, Some(stats.members as u64))
        .map_err(|e| anyhow::Error::new(write_text(&e)))?;
    let bar = progress(stats.households as u64, &say(lang, "导出户", "exporting"));
    let result = registry::for_each_household(db, scope, |record| {
        let draft = record.to_draft().map_err(StoreError::Corrupt)?;
        writer.write_household(&draft).map_err(ExportError::Write)?;
        bar.inc(1);
        Ok::<(), ExportError>(())
    })
    .await;
    bar.finish_and_clear();
    let households = match result {
        Ok(n) => n,
        Err(ExportError::Store(e)) => return Err(e.into()),
        Err(ExportError::Write(e)) => return Err(anyhow::Error::new(write_text(&e))),
    };
    let rows = writer.rows();
    writer
        .finish()
        .map_err(|e| anyhow::Error::new(write_text(&e)))?;
    // Exports of personal data are audited.
    append_one(
        db,
        AuditEntry {
            actor: super::cli_actor(),
            action: "registry.export".into(),
            object_type: "registry".into(),
            object_id: scope.map(|c| c.to_string()),
            division_code: scope.map(|c| c.to_string()),
            after: Some(serde_json::json!({ "file": file.display().to_string(), "households": households, "rows": rows })),
            ..Default::default()
        },
    )
    .await?;
    let f = file.display();
    outln!(
        "{}",
        text!(
            "已导出{households}户、{rows}行到{f}",
            "exported {households} households, {rows} rows to {f}"
        )
        .get(lang)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn template(lang: Lang, file: &Path) -> Result<ExitCode> {
    zhenxing_io::write_template(file, &template_columns())
        .map_err(|e| anyhow::Error::new(write_text(&e)))?;
    let f = file.display();
    outln!(
        "{}",
        text!("已写出导入模板{f}", "wrote the import template {f}").get(lang)
    );
    Ok(ExitCode::SUCCESS)
}
