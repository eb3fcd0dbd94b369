use crate::output::say;
use anyhow::Result;
use std::process::ExitCode;
use zhenxing_core::Lang;
use zhenxing_store::audit_anchor::{self, CheckpointState};
use zhenxing_store::{Db, audit};

pub async fn verify(db: &Db, lang: Lang) -> Result<ExitCode> {
    let report = audit::verify(db).await?;
    for problem in &report.problems {
        outln!("{}", problem.text().get(lang));
    }
    for notice in &report.notices {
        outln!("{}", notice.text().get(lang));
    }
    let (n, last) = (report.records, report.last_seq);
    if report.problems.is_empty() {
        outln!(
            "{}",
            match lang {
                Lang::Zh => format!("审计记录{n}条，哈希链完整（最后一条序号{last}）"),
                Lang::En =>
                    format!("{n} audit records, the hash chain is intact (last record {last})"),
            }
        );
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

/// Checkpoints the chain's current head, after recording in the trail who did it, why, and
/// what the checkpoint said before.
pub async fn anchor(db: &Db, lang: Lang, reason: &str) -> Result<ExitCode> {
    if reason.trim().is_empty() {
        eprintln!(
            "{}",
            say(
                lang,
                "请用 --reason 说明为何重新锚定审计链",
                "say why the audit chain is re-anchored with --reason"
            )
        );
        return Ok(ExitCode::FAILURE);
    }
    let before = match audit_anchor::checkpoint_of(db).await? {
        CheckpointState::NotConfigured => {
            eprintln!(
                "{}",
                say(
                    lang,
                    "内存数据库没有审计锚点：请用 --audit-key 和 --audit-checkpoint 指定文件",
                    "an in-memory database has no audit anchor: give the files with --audit-key and --audit-checkpoint"
                )
            );
            return Ok(ExitCode::FAILURE);
        }
        CheckpointState::Missing => serde_json::json!({"checkpoint": "missing"}),
        CheckpointState::KeyMissing => serde_json::json!({"checkpoint": "key_missing"}),
        CheckpointState::Forged => serde_json::json!({"checkpoint": "forged"}),
        CheckpointState::Valid(c) => {
            serde_json::json!({"checkpoint": {"seq": c.seq, "hash": c.hash, "at": c.at}})
        }
    };
    audit::append_one(
        db,
        audit::AuditEntry {
            actor: super::cli_actor(),
            action: "audit.anchor".into(),
            object_type: "audit_checkpoint".into(),
            reason: Some(reason.trim().to_owned()),
            before: Some(before),
            ..Default::default()
        },
    )
    .await?;
    match audit_anchor::anchor_now(db).await? {
        Some(checkpoint) => {
            let seq = checkpoint.seq;
            outln!(
                "{}",
                say(
                    lang,
                    &format!("审计链已锚定于第{seq}条记录"),
                    &format!("the audit chain is anchored at record {seq}")
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::FAILURE),
    }
}
