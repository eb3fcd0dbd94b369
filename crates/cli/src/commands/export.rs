//! `zhenxing export registry|template|national`. The registry export and the national file
//! (written, then audited) are `zhenxing_app::export`'s, which the web's downloads share.

use crate::output::{progress, say};
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use zhenxing_app::export::{self, ExportError, Exporter, Via};
use zhenxing_core::{DivisionCode, Lang, Text, text};
use zhenxing_io::WriteError;
use zhenxing_io::registry::template_columns;
use zhenxing_store::Db;
use zhenxing_store::snapshots::Month;

fn write_text(e: &WriteError) -> Text {
    Text::new(e.zh(), e.en())
}

/// The export's error as the CLI reports it: the writer's in both languages, or the store's.
pub fn export_failed(e: ExportError) -> anyhow::Error {
    match e {
        ExportError::Store(e) => anyhow::Error::new(e),
        e => match e.write_text() {
            Some(text) => anyhow::Error::new(text),
            None => anyhow::Error::new(e),
        },
    }
}

pub async fn registry(
    db: &Db,
    lang: Lang,
    file: &Path,
    scope: Option<&DivisionCode>,
) -> Result<ExitCode> {
    let bar = progress(0, &say(lang, "导出户", "exporting"));
    let actor = super::cli_actor();
    let exporter = Exporter {
        actor: &actor,
        via: Via::Cli,
    };
    let shown = file.display().to_string();
    let exported = export::registry(db, exporter, scope, file, &shown, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    let export::Exported { households, rows } = exported.map_err(export_failed)?;
    outln!(
        "{}",
        text!(
            "已导出{households}户、{rows}行到{shown}",
            "exported {households} households, {rows} rows to {shown}"
        )
        .get(lang)
    );
    Ok(ExitCode::SUCCESS)
}

/// The month's completed cases in the national system's columns.
pub async fn national(
    db: &Db,
    lang: Lang,
    file: &Path,
    scope: Option<&DivisionCode>,
    month: Month,
) -> Result<ExitCode> {
    let actor = super::cli_actor();
    let exporter = Exporter {
        actor: &actor,
        via: Via::Cli,
    };
    let shown = file.display().to_string();
    let division = match scope {
        Some(d) => *d,
        None => DivisionCode::parse(zhenxing_store::divisions::MUNICIPALITY)
            .map_err(|e| anyhow::Error::new(e.text()))?,
    };
    let cases = export::national(db, exporter, &division, month, file, &shown)
        .await
        .map_err(export_failed)?;
    outln!(
        "{}",
        text!(
            "已导出{month}办结的{cases}件识别纳入和风险消除到{shown}，可上传全国防返贫监测信息系统",
            "exported the {cases} identification and risk-elimination cases completed in {month} to {shown}, for upload to the national monitoring system"
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
