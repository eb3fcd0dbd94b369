//! `zhenxing backup FILE` and `zhenxing restore FILE` (store::backup).

use crate::output::say;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zhenxing_core::Lang;
use zhenxing_core::china_time::china_time_text;
use zhenxing_crypto::KeyRing;
use zhenxing_store::backup::{self, Manifest};
use zhenxing_store::{Db, audit, audit_anchor};

/// The registry's key ring (`--key-file`, `ZHENXING_KEYS` or the default key file), which
/// encrypts backups and opens encrypted ones.
fn key_ring() -> Option<KeyRing> {
    zhenxing_store::keys::current().map(|(ring, _)| (*ring).clone())
}

fn describe(manifest: &Manifest, lang: Lang) -> String {
    let at = china_time_text(&manifest.created_at);
    let rows: i64 = manifest.tables.values().sum();
    let tables = manifest.tables.len();
    let head = manifest.audit_head.as_ref().map_or(0, |h| h.seq);
    let encrypted = match (&manifest.encryption, lang) {
        (Some(e), Lang::Zh) => format!("，已加密（{}）", e.suite),
        (Some(e), Lang::En) => format!(", encrypted ({})", e.suite),
        (None, _) => String::new(),
    };
    match lang {
        Lang::Zh => format!(
            "登记库 {}，{} 数据库，{at}（北京时间）：{tables}张表共{rows}行，审计记录至第{head}条{encrypted}",
            manifest.registry_id, manifest.database
        ),
        Lang::En => format!(
            "registry {}, {} database, {at} (Beijing time): {tables} tables, {rows} rows, audit records up to {head}{encrypted}",
            manifest.registry_id, manifest.database
        ),
    }
}

pub async fn backup(
    db: &Db,
    url: &str,
    lang: Lang,
    file: &Path,
    encrypt: bool,
) -> Result<ExitCode> {
    let ring = if encrypt { key_ring() } else { None };
    let manifest = backup::backup(db, url, file, ring.as_ref()).await?;
    audit::append_one(
        db,
        audit::AuditEntry {
            actor: super::cli_actor(),
            action: "backup.create".into(),
            object_type: "backup".into(),
            object_id: Some(file.display().to_string()),
            after: Some(serde_json::json!({
                "audit_head": manifest.audit_head.as_ref().map(|h| h.seq),
                "payload_sha256": manifest.payload_sha256,
                "encrypted": manifest.encryption.is_some(),
            })),
            ..Default::default()
        },
    )
    .await?;
    outln!(
        "{}",
        say(
            lang,
            &format!("已备份到 {}：{}", file.display(), describe(&manifest, lang)),
            &format!(
                "backed up to {}: {}",
                file.display(),
                describe(&manifest, lang)
            ),
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// How to open the database again after the restore replaced it.
pub struct Reopen {
    pub url: String,
    pub audit_key: Option<PathBuf>,
    pub audit_checkpoint: Option<PathBuf>,
}

pub async fn restore(
    db: Db,
    reopen: Reopen,
    lang: Lang,
    file: &Path,
    replace: bool,
) -> Result<ExitCode> {
    let ring = key_ring();
    let manifest = backup::restore(db, &reopen.url, file, ring.as_ref(), replace).await?;
    let db = super::open(&reopen.url, reopen.audit_key, reopen.audit_checkpoint).await?;
    let check = backup::check_restored(&db, &manifest).await?;
    for (table, expected, found) in &check.count_mismatches {
        eprintln!(
            "{}",
            say(
                lang,
                &format!("表 {table}：备份清单记{expected}行，恢复后为{found}行"),
                &format!(
                    "table {table}: the manifest says {expected} rows, the restored database has {found}"
                ),
            )
        );
    }
    for problem in &check.chain_problems {
        eprintln!("{}", problem.text().get(lang));
    }
    if check.head_mismatch {
        eprintln!(
            "{}",
            say(
                lang,
                "恢复后的审计链末条与备份清单不符",
                "the restored audit chain's last record differs from the manifest's",
            )
        );
    }
    if !check.is_clean() {
        eprintln!(
            "{}",
            say(
                lang,
                "恢复后的检查未通过：审计链未重新锚定。请核查上述问题（SQLite 的原数据库保留为 FILE.before-restore）",
                "the restored database failed its checks: the audit chain was not re-anchored. Look into the problems above (SQLite keeps the previous database as FILE.before-restore)",
            )
        );
        db.close().await;
        return Ok(ExitCode::FAILURE);
    }
    // The restored chain is older than the checkpoint of the database it replaced: recorded,
    // then anchored at the restored head.
    audit::append_one(
        &db,
        audit::AuditEntry {
            actor: super::cli_actor(),
            action: "backup.restore".into(),
            object_type: "backup".into(),
            object_id: Some(file.display().to_string()),
            reason: Some(format!("restored from a backup of {}", manifest.created_at)),
            after: Some(serde_json::json!({
                "audit_head": manifest.audit_head.as_ref().map(|h| h.seq),
                "payload_sha256": manifest.payload_sha256,
            })),
            ..Default::default()
        },
    )
    .await?;
    audit_anchor::anchor_now(&db).await?;
    outln!(
        "{}",
        say(
            lang,
            &format!(
                "已恢复：{}。行数与清单一致，审计链完整，已重新锚定",
                describe(&manifest, lang)
            ),
            &format!(
                "restored: {}. The row counts match the manifest, the audit chain is intact and anchored again",
                describe(&manifest, lang)
            ),
        )
    );
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
