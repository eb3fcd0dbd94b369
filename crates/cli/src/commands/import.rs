//! `zhenxing import registry|divisions`: all or nothing, every problem reported.
//!
//! The import itself is `zhenxing_app::import`, which the web's import shares; this module
//! chooses the path (streamed into an empty registry, else buffered), draws the progress bars
//! and prints the report.

use crate::output::{print_report, progress, say, spinner};
use anyhow::Result;
use indicatif::ProgressBar;
use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use zhenxing_app::import::{self, ImportOutcome, ImportProgress};
use zhenxing_core::{Lang, text};
use zhenxing_io::registry::Problem;
use zhenxing_store::Db;
use zhenxing_store::divisions::{Division, required_parent};
use zhenxing_store::registry::{LEGACY_MONITORING_ACTION, MonitoringPermission, WriteRequest};

pub async fn registry(
    db: &Db,
    lang: Lang,
    file: &Path,
    dry_run: bool,
    reason: Option<String>,
    monitoring: MonitoringPermission,
) -> Result<ExitCode> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if monitoring == MonitoringPermission::LegacyMonitoring && reason.is_none() {
        return Err(anyhow::Error::new(text!(
            "--legacy-monitoring 须同时给出 --reason：按 zhenxing 启用前已认定的监测对象导入，审计记录须写明原因",
            "--legacy-monitoring needs --reason: bringing in households monitored before zhenxing is audited with its reason"
        )));
    }
    let request = WriteRequest {
        actor: super::cli_actor(),
        source: format!("import registry {}", file.display()),
        reason,
        dry_run,
        known_new: false,
        defer_counts: false,
        monitoring,
    };
    if db.stats(None).await?.households == 0 {
        let bars = Arc::new(Bars::new(lang, "导入行", "importing rows"));
        let streamed = import::stream_into_empty(db, file, &request, bars.clone()).await;
        bars.clear();
        if let Some(outcome) = streamed? {
            return Ok(finish(lang, &outcome, dry_run));
        }
        eprintln!(
            "{}",
            say(
                lang,
                "文件中同一户的行不相邻，改为整体读入后再导入（较慢、占用内存较多）",
                "the rows of some household are not together in the file; reading the whole file first instead (slower, more memory)"
            )
        );
    }
    let bars = Arc::new(Bars::new(lang, "读取行", "reading rows"));
    let outcome = import::buffered(db, file, &request, None, bars.clone()).await;
    bars.clear();
    Ok(finish(lang, &outcome?, dry_run))
}

/// The import's progress on standard error: a spinner while the file is read, then a bar
/// while households are written.
struct Bars {
    lang: Lang,
    reading: ProgressBar,
    writing: OnceLock<ProgressBar>,
}

impl Bars {
    fn new(lang: Lang, zh: &str, en: &str) -> Bars {
        Bars {
            lang,
            reading: spinner(&say(lang, zh, en)),
            writing: OnceLock::new(),
        }
    }

    fn clear(&self) {
        self.reading.finish_and_clear();
        if let Some(bar) = self.writing.get() {
            bar.finish_and_clear();
        }
    }
}

impl ImportProgress for Bars {
    fn reading(&self, rows: u64) {
        self.reading.set_position(rows);
    }

    fn checking(&self, _rows: u64, _households: u64) {
        self.reading.finish_and_clear();
    }

    fn writing(&self, done: u64, total: u64) {
        self.writing
            .get_or_init(|| progress(total, &say(self.lang, "写入户", "writing")))
            .set_position(done);
    }
}

/// Prints the report and the outcome; the exit status says whether the file was accepted.
fn finish(lang: Lang, outcome: &ImportOutcome, dry_run: bool) -> ExitCode {
    let problems = &outcome.problems;
    print_report(lang, problems, &outcome.warnings, 20);
    match &outcome.summary {
        Some(s) => {
            let (rows, c, u, n, m) = (
                outcome.rows,
                s.created,
                s.updated,
                s.unchanged,
                s.members_written,
            );
            let line = if dry_run {
                text!(
                    "试运行：读取{rows}行，全部通过检查；将新建{c}户、更新{u}户，{n}户不变。未写入任何数据。",
                    "dry run: {rows} rows read, all checks passed; {c} households would be created, {u} updated, {n} unchanged. Nothing was written."
                )
            } else {
                text!(
                    "导入完成：读取{rows}行，新建{c}户、更新{u}户，{n}户不变，写入成员{m}人。",
                    "import complete: {rows} rows read; {c} households created, {u} updated, {n} unchanged; {m} members written."
                )
            };
            outln!("{}", line.get(lang));
            let k = s.monitoring_set;
            if k > 0 {
                let line = text!(
                    "其中{k}户的监测对象类别及识别监测时间、致贫返贫风险、风险消除时间和方式按 zhenxing 启用前已认定的情况写入（审计记为 {LEGACY_MONITORING_ACTION}）。",
                    "{k} of them have their monitoring category, identification date, risk types and risk elimination as recorded before zhenxing (audited as {LEGACY_MONITORING_ACTION})."
                );
                outln!("{}", line.get(lang));
            }
            ExitCode::SUCCESS
        }
        None => {
            let (n, rows) = (problems.len(), outcome.rows);
            let line = text!(
                "导入被拒绝：发现{n}个问题（共{rows}行）。未写入任何数据；请改正后重新导入整个文件。",
                "import refused: {n} problem(s) in {rows} rows. Nothing was written; correct them and import the whole file again."
            );
            outln!("{}", line.get(lang));
            ExitCode::FAILURE
        }
    }
}

pub async fn divisions(db: &Db, lang: Lang, file: &Path, dry_run: bool) -> Result<ExitCode> {
    let (rows, mut problems) = zhenxing_io::divisions::parse_divisions(file);
    let known = db.division_codes().await?;
    let in_file: HashSet<String> = rows.iter().map(|r| r.code.as_str().to_owned()).collect();
    for r in &rows {
        if let Some(parent) = required_parent(&r.code)
            && !known.contains(parent.as_str())
            && !in_file.contains(parent.as_str())
        {
            problems.push(Problem {
                row: r.row,
                column: "代码".into(),
                value: r.code.to_string(),
                reason: zhenxing_store::divisions::missing_parent_text(
                    r.code.as_str(),
                    parent.as_str(),
                ),
            });
        }
    }
    problems.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    print_report(lang, &problems, &[], 0);
    if !problems.is_empty() {
        let n = problems.len();
        outln!(
            "{}",
            text!(
                "导入被拒绝：发现{n}个问题。未写入任何数据。",
                "import refused: {n} problem(s). Nothing was written."
            )
            .get(lang)
        );
        return Ok(ExitCode::FAILURE);
    }
    let year = zhenxing_core::china_time::today_in_china().year() as i64;
    let divisions: Vec<Division> = rows
        .iter()
        .map(|r| Division::new(r.code, &r.kind, &r.name_zh, &r.name_en, year))
        .collect();
    let n = divisions.len();
    if dry_run {
        outln!(
            "{}",
            text!(
                "试运行：{n}个区划全部通过检查，未写入。",
                "dry run: {n} divisions passed every check; nothing was written."
            )
            .get(lang)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let s = db.upsert_divisions(&divisions, &super::cli_actor()).await?;
    let (a, r, u) = (s.added, s.renamed, s.unchanged);
    outln!(
        "{}",
        text!(
            "区划导入完成：新增{a}个，更名{r}个，{u}个不变。",
            "divisions imported: {a} added, {r} renamed, {u} unchanged."
        )
        .get(lang)
    );
    Ok(ExitCode::SUCCESS)
}
