use crate::output::say;
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use zhenxing_core::Lang;
use zhenxing_store::audit_anchor::{self, CheckpointState};
use zhenxing_store::{Db, audit, audit_archive};

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

/// `audit archive --to FILE [--through DAY]`.
pub async fn archive(db: &Db, lang: Lang, to: &Path, through: Option<&str>) -> Result<ExitCode> {
    let before = match through {
        None => None,
        Some(day) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            match time::Date::parse(day.trim(), format) {
                Ok(day) => Some(audit_archive::end_of_china_day(day)),
                Err(_) => {
                    eprintln!(
                        "{}",
                        say(
                            lang,
                            &format!("--through 的日期“{day}”应为 YYYY-MM-DD（北京时间）"),
                            &format!(
                                "the --through date '{day}' should be YYYY-MM-DD (Beijing time)"
                            ),
                        )
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    };
    let summary = audit_archive::archive(db, to, before.as_deref()).await?;
    audit::append_one(
        db,
        audit::AuditEntry {
            actor: super::cli_actor(),
            action: "audit.archive".into(),
            object_type: "audit_archive".into(),
            object_id: Some(to.display().to_string()),
            after: Some(serde_json::json!({
                "from_seq": summary.from_seq,
                "through_seq": summary.through_seq,
                "last_hash": summary.last_hash,
                "records": summary.records,
                "items": summary.items,
            })),
            ..Default::default()
        },
    )
    .await?;
    let (from, through, records, items) = (
        summary.from_seq,
        summary.through_seq,
        summary.records,
        summary.items,
    );
    outln!(
        "{}",
        say(
            lang,
            &format!(
                "已将第{from}至{through}条审计记录（{records}条，明细{items}条）归档到 {}",
                to.display()
            ),
            &format!(
                "audit records {from} to {through} ({records} records, {items} items) archived to {}",
                to.display()
            ),
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// `audit verify --archive FILE`.
pub async fn verify_archive(db: &Db, lang: Lang, file: &Path) -> Result<ExitCode> {
    let report = audit_archive::verify_archive(db, file).await?;
    for problem in &report.problems {
        outln!("{}", problem.text().get(lang));
    }
    match (&report.summary, report.problems.is_empty()) {
        (Some(summary), true) => {
            let (from, through, compared) =
                (summary.from_seq, summary.through_seq, report.compared);
            outln!(
                "{}",
                say(
                    lang,
                    &format!(
                        "归档完好：第{from}至{through}条审计记录，签名与哈希链均有效；其中{compared}条与数据库中的记录一致"
                    ),
                    &format!(
                        "the archive is intact: audit records {from} to {through}, its MAC and hash chain verify; {compared} of them match the database's records"
                    ),
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => Ok(ExitCode::FAILURE),
    }
}

/// `audit retention [MONTHS]`.
pub async fn retention(db: &Db, lang: Lang, months: Option<u32>) -> Result<ExitCode> {
    if let Some(months) = months {
        audit_archive::set_retention(db, &super::cli_actor(), months).await?;
    }
    match audit_archive::retention_months(db).await? {
        Some(months) => outln!(
            "{}",
            say(
                lang,
                &format!("审计记录保存期：{months}个月"),
                &format!("audit retention: {months} months"),
            )
        ),
        None => outln!(
            "{}",
            say(
                lang,
                "尚未设定审计记录保存期：不会清理任何记录",
                "no audit retention is set: no record is pruned",
            )
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `audit prune --archive FILE --reason R`.
pub async fn prune(db: &Db, lang: Lang, archive: &Path, reason: &str) -> Result<ExitCode> {
    if reason.trim().is_empty() {
        eprintln!(
            "{}",
            say(
                lang,
                "请用 --reason 说明为何清理审计记录",
                "say why audit records are pruned with --reason"
            )
        );
        return Ok(ExitCode::FAILURE);
    }
    let today = zhenxing_core::china_time::today_in_china();
    let pruned =
        audit_archive::prune(db, archive, &super::cli_actor(), reason.trim(), today).await?;
    let (from, through, n) = (pruned.from_seq, pruned.through_seq, pruned.records);
    outln!(
        "{}",
        say(
            lang,
            &format!("已清理第{from}至{through}条审计记录（{n}条，均已在归档中核对）"),
            &format!(
                "audit records {from} to {through} pruned ({n}, each checked against the archive)"
            ),
        )
    );
    Ok(ExitCode::SUCCESS)
}
