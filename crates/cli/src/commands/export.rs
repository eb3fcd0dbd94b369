//! `zhenxing export registry|template`. The registry export (written, then audited) is
//! `zhenxing_app::export::registry`, which the web's export shares.

use crate::output::{progress, say};
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use zhenxing_app::export::{self, ExportError, Exporter, Via};
use zhenxing_core::{DivisionCode, Lang, Text, text};
use zhenxing_io::WriteError;
use zhenxing_io::registry::template_columns;
use zhenxing_store::Db;

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
