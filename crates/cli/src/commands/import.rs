//! `zhenxing import registry|divisions`: all or nothing, every problem reported.

use crate::output::{print_report, say, spinner};
use anyhow::Result;
use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{Lang, text};
use zhenxing_io::registry::{
    ImportReport, ParsedRegistry, Problem, RegistryColumn, parse_registry, stream_registry,
};
use zhenxing_store::HouseholdRecord;
use zhenxing_store::divisions::{Division, required_parent};
use zhenxing_store::registry::{
    Conflict, ConflictField, LEGACY_MONITORING_ACTION, MonitoringPermission, WriteRequest,
    WriteSummary, begin_operation, finish_operation, refresh_all_village_counts, restore_indexes,
    suspend_indexes, write_chunk,
};
use zhenxing_store::{Db, StoreError};

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
        if let Some(code) = stream_into_empty(db, lang, file, &request).await? {
            return Ok(code);
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
    buffered(db, lang, file, &request).await
}

/// Imports into an empty registry while the file is still being read: households go to the
/// database in chunks as soon as they are complete, in one transaction that is rolled back if
/// any problem turns up. `None` when the file's households are not contiguous.
async fn stream_into_empty(
    db: &Db,
    lang: Lang,
    file: &Path,
    request: &WriteRequest,
) -> Result<Option<ExitCode>> {
    let started = std::time::Instant::now();
    let request = WriteRequest {
        known_new: true,
        defer_counts: true,
        ..request.clone()
    };
    let mut tx = db.begin_write().await?;
    let indexes = suspend_indexes(&mut tx).await?;
    let mut operation = begin_operation(&mut tx, &request).await?;
    let mut summary = WriteSummary::default();
    let bar = spinner(&say(lang, "导入行", "importing rows"));
    // The reader thread also turns households into the records the store writes, and frees
    // the chunks the writer is done with: on two cores, that keeps the writer (the slower of
    // the two) on SQLite's work alone.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<HouseholdRecord>>(2);
    let (done_sender, done_receiver) = std::sync::mpsc::channel::<Vec<HouseholdRecord>>();
    let path = file.to_path_buf();
    let reader_bar = bar.clone();
    let reader = tokio::task::spawn_blocking(move || {
        stream_registry(
            &path,
            today_in_china(),
            &|n| reader_bar.set_position(n),
            5_000,
            &mut |chunk| {
                let records = chunk.iter().map(HouseholdRecord::from_household).collect();
                drop(chunk);
                done_receiver.try_iter().for_each(drop);
                sender.blocking_send(records).is_ok()
            },
        )
    });
    let mut conflicts = Vec::new();
    // Time spent waiting for the reader, and writing: which of the two sets the pace.
    let (mut waited, mut wrote) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    loop {
        let asked = std::time::Instant::now();
        let Some(chunk) = receiver.recv().await else {
            break;
        };
        let got = std::time::Instant::now();
        waited += got - asked;
        if !conflicts.is_empty() {
            // Refused already: only look for more conflicts, so that the report is complete.
            conflicts.extend(db.conflicts(&chunk, request.monitoring).await?);
            continue;
        }
        match write_chunk(
            &mut tx,
            &chunk,
            &request,
            &mut operation,
            &mut summary,
            &|_| {},
        )
        .await
        {
            Ok(()) => {}
            Err(StoreError::Conflicts(found)) => conflicts.extend(found),
            Err(e) => return Err(e.into()),
        }
        // Freed on the reader's thread; if it has finished, here.
        let _ = done_sender.send(chunk);
        wrote += got.elapsed();
    }
    let streamed = reader.await?;
    bar.finish_and_clear();
    tracing::info!(
        rows = streamed.report.rows,
        elapsed_ms = started.elapsed().as_millis() as u64,
        waiting_for_reader_ms = waited.as_millis() as u64,
        writing_ms = wrote.as_millis() as u64,
        "file read, checked and written"
    );
    if !streamed.contiguous {
        tx.rollback().await?;
        return Ok(None);
    }
    let mut problems = streamed.report.problems.clone();
    problems.extend(conflicts.iter().map(|c| {
        conflict_problem(
            c,
            |no, _| streamed.first_row_of(no),
            |col| streamed.header(col),
        )
    }));
    problems.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    if !problems.is_empty() {
        tx.rollback().await?;
        return Ok(Some(finish(
            lang,
            &problems,
            &streamed.report,
            None,
            request.dry_run,
        )));
    }
    restore_indexes(&mut tx, indexes).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "indexes built"
    );
    refresh_all_village_counts(&mut tx).await?;
    finish_operation(&mut tx, operation, &request, &summary).await?;
    if request.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "registry committed"
    );
    Ok(Some(finish(
        lang,
        &problems,
        &streamed.report,
        Some(summary),
        request.dry_run,
    )))
}

/// Prints the report and the outcome; the exit status says whether the file was accepted.
fn finish(
    lang: Lang,
    problems: &[Problem],
    report: &ImportReport,
    summary: Option<WriteSummary>,
    dry_run: bool,
) -> ExitCode {
    print_report(lang, problems, &report.warnings, 20);
    match summary {
        Some(s) => {
            let (rows, c, u, n, m) = (
                report.rows,
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
                    "其中{k}户的监测对象类别按 zhenxing 启用前已认定的情况写入（审计记为 {LEGACY_MONITORING_ACTION}）。",
                    "{k} of them have their monitoring category as identified before zhenxing (audited as {LEGACY_MONITORING_ACTION})."
                );
                outln!("{}", line.get(lang));
            }
            ExitCode::SUCCESS
        }
        None => {
            let (n, rows) = (problems.len(), report.rows);
            let line = text!(
                "导入被拒绝：发现{n}个问题（共{rows}行）。未写入任何数据；请改正后重新导入整个文件。",
                "import refused: {n} problem(s) in {rows} rows. Nothing was written; correct them and import the whole file again."
            );
            outln!("{}", line.get(lang));
            ExitCode::FAILURE
        }
    }
}

/// Reads the whole file, then writes: for a registry that already holds households (updates
/// and moves between households need the whole file) and for files whose rows are not grouped.
async fn buffered(db: &Db, lang: Lang, file: &Path, request: &WriteRequest) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let bar = spinner(&say(lang, "读取行", "reading rows"));
    let path = file.to_path_buf();
    let reader_bar = bar.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        parse_registry(&path, today_in_china(), &|n| reader_bar.set_position(n))
    })
    .await?;
    bar.finish_and_clear();
    tracing::info!(
        rows = parsed.report.rows,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "file read and checked"
    );
    let mut problems = parsed.report.problems.clone();

    let summary = if problems.is_empty() {
        let bar = crate::output::progress(
            parsed.households.len() as u64,
            &say(lang, "写入户", "writing"),
        );
        let progress_bar = bar.clone();
        let result = db
            .write_households(&parsed.households, request, &move |n| {
                progress_bar.set_position(n)
            })
            .await;
        bar.finish_and_clear();
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "registry written"
        );
        match result {
            Ok(summary) => Some(summary),
            Err(StoreError::Conflicts(conflicts)) => {
                problems.extend(conflict_problems(&parsed, &conflicts));
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        // The file is refused already; the registry's own checks still run, so that one report
        // lists every problem.
        let conflicts = db.conflicts(&parsed.households, request.monitoring).await?;
        problems.extend(conflict_problems(&parsed, &conflicts));
        None
    };
    problems.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    Ok(finish(
        lang,
        &problems,
        &parsed.report,
        summary,
        request.dry_run,
    ))
}

fn conflict_problems(parsed: &ParsedRegistry, conflicts: &[Conflict]) -> Vec<Problem> {
    let locate = parsed.locator();
    conflicts
        .iter()
        .map(|c| conflict_problem(c, |no, id| locate.row(no, id), |col| parsed.header(col)))
        .collect()
}

/// A store conflict as a report line: at the member's row for an ID number, else at the
/// household's first row.
fn conflict_problem(
    c: &Conflict,
    row_of: impl Fn(&str, Option<&str>) -> u64,
    header: impl Fn(RegistryColumn) -> String,
) -> Problem {
    let (column, id) = match c.field() {
        ConflictField::DivisionCode => (RegistryColumn::DivisionCode, None),
        ConflictField::HouseholdNo => (RegistryColumn::HouseholdNo, None),
        ConflictField::IdNumber(id) => (RegistryColumn::IdNumber, Some(id)),
        ConflictField::MonitoringCategory => (RegistryColumn::MonitoringCategory, None),
    };
    Problem {
        row: row_of(c.household_no(), id),
        column: header(column),
        value: c.shown_value(),
        reason: c.text(),
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
