//! `zhenxing department …`: other departments' files (issue 4 item 3).
//!
//! `import --kind KIND FILE [--as ACCOUNT]` reads and checks the file (all or nothing: a
//! malformed row refuses it with every problem, exit status 1), then matches, evaluates and
//! raises warnings in one transaction (`zhenxing_app::department::upload`, as the upload page
//! and the API do) and prints the counts and the unmatched rows. `uploads` lists the uploads.

use crate::output::say;
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use zhenxing_app::department::{self, UploadOutcome, Uploader};
use zhenxing_core::department::DepartmentKind;
use zhenxing_core::{Lang, text};
use zhenxing_store::Db;
use zhenxing_store::department::UploadReport;

/// Unmatched rows printed; the count is always complete.
const MAX_UNMATCHED_PRINTED: usize = 200;

/// Checks the kind before the database is opened.
pub fn parse_kind(kind: &str) -> Result<DepartmentKind> {
    DepartmentKind::parse(kind).map_err(|_| {
        let allowed = DepartmentKind::ALL
            .iter()
            .map(|k| format!("{} ({})", k.code(), k.zh()))
            .collect::<Vec<_>>()
            .join(", ");
        anyhow::Error::new(text!(
            "未知的数据类别“{kind}”；可用：{allowed}",
            "unknown kind of data '{kind}'; use one of: {allowed}"
        ))
    })
}

pub async fn import(
    db: &Db,
    lang: Lang,
    kind: DepartmentKind,
    file: &Path,
    as_account: Option<&str>,
) -> Result<ExitCode> {
    let uploader = match as_account {
        None => Uploader::operator(super::cli_actor()),
        Some(name) => {
            let account = db.account_by_name(name).await?.ok_or_else(|| {
                anyhow::Error::new(text!("没有名为“{name}”的账号", "no account named '{name}'"))
            })?;
            Uploader::account(&account)
        }
    }
    .map_err(anyhow::Error::new)?;
    let upload = department::upload(db, &uploader, kind, file, None).await?;
    let (report, parsed) = match upload.outcome {
        UploadOutcome::Refused(parsed) => {
            for p in &parsed.problems {
                outln!("{}", p.render(lang));
            }
            let (n, rows, file) = (parsed.problems.len(), parsed.rows, &parsed.file);
            outln!(
                "{}",
                text!(
                    "“{file}”被拒绝：共{rows}行，发现{n}个问题。未写入任何数据；请改正后重新导入整个文件。",
                    "'{file}' refused: {n} problem(s) in {rows} rows. Nothing was written; correct them and import the whole file again."
                )
                .get(lang)
            );
            return Ok(ExitCode::FAILURE);
        }
        UploadOutcome::Accepted { report, parsed } => (report, parsed),
    };
    for w in &parsed.warnings {
        outln!("{}", w.render(lang));
    }
    print_report(lang, &report);
    let (read, write) = (
        upload.read_time.as_secs_f64(),
        upload.write_time.as_secs_f64(),
    );
    outln!(
        "{}",
        say(
            lang,
            &format!("用时：读取检查{read:.3} s，比对写入{write:.3} s"),
            &format!("time: read and check {read:.3} s, match and write {write:.3} s"),
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn print_report(lang: Lang, report: &UploadReport) {
    let s = &report.summary;
    let (id, file, kind) = (s.id, &s.file_name, &s.kind);
    let (rows, matched, repeated, unmatched) = (s.rows, s.matched, s.repeated, s.unmatched);
    let (opened, merged) = (s.warnings_opened, s.warnings_merged);
    let rule_set = &report.rule_set;
    outln!(
        "{}",
        text!(
            "上传编号{id}（{kind}）“{file}”：共{rows}行，比对成功{matched}行（其中此前已导入{repeated}行），未比对上{unmatched}行；新发预警{opened}条，补充已有预警{merged}条（规则集{rule_set}）",
            "upload {id} ({kind}) '{file}': {rows} rows, {matched} matched (of which {repeated} imported before), {unmatched} unmatched; {opened} warning(s) opened, {merged} open warning(s) given new reasons (rule set {rule_set})"
        )
        .get(lang)
    );
    if let Some(first) = report.same_file_as.filter(|f| *f != id) {
        outln!(
            "{}",
            text!(
                "完全相同的文件已作为第{first}号上传导入过：当时导入的记录不会再次预警。",
                "the very same file was uploaded before as upload {first}: the records imported then raise nothing again."
            )
            .get(lang)
        );
    }
    if !report.unmatched_rows.is_empty() {
        outln!("{}", say(lang, "未比对上的行：", "unmatched rows:"));
        for u in report.unmatched_rows.iter().take(MAX_UNMATCHED_PRINTED) {
            let reason = u.reason.text(&s.division_code);
            match lang {
                Lang::Zh => outln!("  第{}行，证件号码{}：{}", u.row, u.id_number, reason.zh),
                Lang::En => outln!("  row {}, ID number {}: {}", u.row, u.id_number, reason.en),
            }
        }
        let more = s.unmatched as usize - report.unmatched_rows.len().min(MAX_UNMATCHED_PRINTED);
        if more > 0 {
            outln!(
                "  {}",
                say(
                    lang,
                    &format!("……另有{more}行（见网页上的上传结果）"),
                    &format!("... and {more} more (see the upload's page in the web application)"),
                )
            );
        }
    }
}

pub async fn uploads(db: &Db, lang: Lang, json: bool) -> Result<ExitCode> {
    let list = zhenxing_store::department::uploads(db, None, 1_000).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        outln!("{}", say(lang, "尚无上传记录。", "no uploads yet."));
    }
    for u in &list {
        let opened = u.warnings_opened + u.warnings_merged;
        outln!(
            "{}",
            match lang {
                Lang::Zh => format!(
                    "{} {} {} “{}” {} 行{} 比对{} 未比对{} 预警{}",
                    u.id,
                    u.created_at,
                    u.kind,
                    u.file_name,
                    u.uploaded_by,
                    u.rows,
                    u.matched,
                    u.unmatched,
                    opened
                ),
                Lang::En => format!(
                    "{} {} {} '{}' by {}: rows {}, matched {}, unmatched {}, warnings {}",
                    u.id,
                    u.created_at,
                    u.kind,
                    u.file_name,
                    u.uploaded_by,
                    u.rows,
                    u.matched,
                    u.unmatched,
                    opened
                ),
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
