//! Registry import: a file read and checked, then written all or nothing, with one report that
//! lists every problem (the file's, the account's scope, the registry's own conflicts).
//!
//! Two paths. [`buffered`] reads the whole file, then writes: the web's import, and the CLI's
//! for a registry that already holds households (updates and moves between households need the
//! whole file). [`stream_into_empty`] is the CLI's fast path into an empty registry: households
//! go to the database in chunks while the file is still being read, in one transaction rolled
//! back if any problem turns up (benchmarked: see BENCHMARKS.md).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{DivisionLevel, text};
use zhenxing_io::registry::{
    CadreCell, ParsedRegistry, Problem, RegistryColumn, parse_registry, stream_registry,
};
use zhenxing_store::accounts::Account;
use zhenxing_store::assistance::{CadresOf, responsible_cadres};
use zhenxing_store::registry::{
    self, Conflict, ConflictField, MonitoringField, WriteRequest, WriteSummary, begin_operation,
    finish_operation, refresh_all_village_counts, restore_indexes, suspend_indexes, write_chunk,
};
use zhenxing_store::{Db, HouseholdRecord, StoreError};

/// How an import is getting on, for a progress bar or a status page. Called from the reader's
/// thread as well as the writer's.
pub trait ImportProgress: Send + Sync {
    /// Rows of the file read so far.
    fn reading(&self, _rows: u64) {}
    /// The file is read and checked (`households` in it); the registry's checks come next.
    fn checking(&self, _rows: u64, _households: u64) {}
    /// Households written so far, of `total`.
    fn writing(&self, _done: u64, _total: u64) {}
}

/// No progress to show.
pub struct Quiet;

impl ImportProgress for Quiet {}

/// How an import ended: accepted with what was written (or, in a dry run, would have been), or
/// refused with every problem (nothing written).
#[derive(Debug)]
pub struct ImportOutcome {
    pub rows: u64,
    /// Every problem, by row and column; any one refuses the file.
    pub problems: Vec<Problem>,
    /// Findings that do not block.
    pub warnings: Vec<Problem>,
    /// `Some` when the file was accepted.
    pub summary: Option<WriteSummary>,
}

impl ImportOutcome {
    fn new(
        rows: u64,
        mut problems: Vec<Problem>,
        warnings: Vec<Problem>,
        summary: Option<WriteSummary>,
    ) -> ImportOutcome {
        problems.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        ImportOutcome {
            rows,
            problems,
            warnings,
            summary,
        }
    }
}

fn reader_stopped(e: tokio::task::JoinError) -> StoreError {
    StoreError::Corrupt(format!("the file reader stopped: {e}"))
}

/// Reads the whole file, then writes it as `request` says. With `account`, households outside
/// its division are refused as problems, as are household numbers registered outside it, and
/// a conflict does not name a household the account may not see.
pub async fn buffered(
    db: &Db,
    file: &Path,
    request: &WriteRequest,
    account: Option<&Account>,
    progress: Arc<dyn ImportProgress>,
) -> Result<ImportOutcome, StoreError> {
    let started = Instant::now();
    let path = file.to_path_buf();
    let reader_progress = progress.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        parse_registry(&path, today_in_china(), &|n| reader_progress.reading(n))
    })
    .await
    .map_err(reader_stopped)?;
    tracing::info!(
        rows = parsed.report.rows,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "file read and checked"
    );
    let total = parsed.households.len() as u64;
    progress.checking(parsed.report.rows, total);
    let mut problems = parsed.report.problems.clone();
    if let Some(account) = account {
        problems.extend(scope_problems(db, &parsed, account).await?);
    }
    // After the scope check, so that a report never names the cadres of a household the
    // account may not see.
    let mut warnings = parsed.report.warnings.clone();
    if problems.is_empty() && !parsed.responsible_cadres.is_empty() {
        let households: Vec<&str> = parsed
            .responsible_cadres
            .iter()
            .map(|c| c.household_no.as_str())
            .collect();
        let paired =
            responsible_cadres(db, CadresOf::Households(&households), today_in_china()).await?;
        warnings.extend(cadre_warnings(
            &parsed.responsible_cadres,
            &paired,
            &parsed.header(RegistryColumn::ResponsibleCadre),
        ));
    }
    let summary = if problems.is_empty() {
        progress.writing(0, total);
        let writer_progress = progress.clone();
        let result = db
            .write_households(&parsed.households, request, &move |n| {
                writer_progress.writing(n, total)
            })
            .await;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "registry written"
        );
        match result {
            Ok(summary) => Some(summary),
            Err(StoreError::Conflicts(conflicts)) => {
                problems.extend(conflict_problems(db, &parsed, &conflicts, account).await?);
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        // The file is refused already; the registry's own checks still run, so that one report
        // lists every problem.
        let conflicts = db.conflicts(&parsed.households, request.monitoring).await?;
        problems.extend(conflict_problems(db, &parsed, &conflicts, account).await?);
        None
    };
    Ok(ImportOutcome::new(
        parsed.report.rows,
        problems,
        warnings,
        summary,
    ))
}

/// Imports into an empty registry while the file is still being read (the caller has checked
/// that it is empty). `None` when the file's households are not contiguous: nothing was
/// written, and the caller imports with [`buffered`].
pub async fn stream_into_empty(
    db: &Db,
    file: &Path,
    request: &WriteRequest,
    progress: Arc<dyn ImportProgress>,
) -> Result<Option<ImportOutcome>, StoreError> {
    let started = Instant::now();
    let request = WriteRequest {
        known_new: true,
        defer_counts: true,
        ..request.clone()
    };
    let mut tx = db.begin_write().await?;
    let indexes = suspend_indexes(&mut tx).await?;
    let mut operation = begin_operation(&mut tx, &request).await?;
    let mut summary = WriteSummary::default();
    // The reader thread also turns households into the records the store writes, and frees
    // the chunks the writer is done with: on two cores, that keeps the writer (the slower of
    // the two) on SQLite's work alone.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<HouseholdRecord>>(2);
    let (done_sender, done_receiver) = std::sync::mpsc::channel::<Vec<HouseholdRecord>>();
    let path = file.to_path_buf();
    let reader_progress = progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        stream_registry(
            &path,
            today_in_china(),
            &|n| reader_progress.reading(n),
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
    let (mut waited, mut wrote) = (Duration::ZERO, Duration::ZERO);
    loop {
        let asked = Instant::now();
        let Some(chunk) = receiver.recv().await else {
            break;
        };
        let got = Instant::now();
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
            Err(e) => return Err(e),
        }
        // Freed on the reader's thread; if it has finished, here.
        let _ = done_sender.send(chunk);
        wrote += got.elapsed();
    }
    let streamed = reader.await.map_err(reader_stopped)?;
    progress.checking(streamed.report.rows, streamed.report.households);
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
    // The registry is empty, so no household has a pairing: any cadre named is not paired. (The
    // write transaction is open, so the pool is not asked: in memory it has one connection.)
    let mut warnings = streamed.report.warnings.clone();
    warnings.extend(cadre_warnings(
        &streamed.responsible_cadres,
        &HashMap::new(),
        &streamed.header(RegistryColumn::ResponsibleCadre),
    ));
    problems.extend(conflicts.iter().map(|c| {
        conflict_problem(
            c,
            |no, _| streamed.first_row_of(no),
            |col| streamed.header(col),
        )
    }));
    if !problems.is_empty() {
        tx.rollback().await?;
        return Ok(Some(ImportOutcome::new(
            streamed.report.rows,
            problems,
            warnings,
            None,
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
    Ok(Some(ImportOutcome::new(
        streamed.report.rows,
        problems,
        warnings,
        Some(summary),
    )))
}

/// The 帮扶责任人 cells that disagree with the households' pairings in force (`paired`, by
/// household number), as warnings: the column is read and compared, never written, since
/// pairings are made and ended on the assistance page, so a disagreement loses nothing and does
/// not block the file (a registry exported with its cadres imports into a new database, whose
/// pairings are then recorded there). The same names in another order agree.
fn cadre_warnings(
    cells: &[CadreCell],
    paired: &HashMap<String, Vec<String>>,
    header: &str,
) -> Vec<Problem> {
    let sorted = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort();
        names
    };
    cells
        .iter()
        .filter_map(|cell| {
            let stored = paired
                .get(&cell.household_no)
                .map_or(&[][..], Vec::as_slice);
            if sorted(&cell.names) == sorted(stored) {
                return None;
            }
            let (no, given, stored) = (&cell.household_no, cell.names.join("、"), stored.join("、"));
            let reason = if stored.is_empty() {
                text!(
                    "户{no}没有在结对中的帮扶责任人，“{given}”未导入：结对在帮扶页面建立，导入不会改动",
                    "household {no} has no responsible cadre paired with it, so '{given}' was not imported: pairings are made on the assistance page, not by an import"
                )
            } else {
                text!(
                    "户{no}的帮扶责任人“{given}”与其在结对中的帮扶责任人“{stored}”不符，未导入：结对在帮扶页面建立和结束，导入不会改动",
                    "household {no}: responsible cadre '{given}' does not agree with the cadres paired with it, '{stored}', and was not imported: pairings are made and ended on the assistance page, not by an import"
                )
            };
            Some(Problem {
                row: cell.row,
                column: header.to_owned(),
                value: given,
                reason,
            })
        })
        .collect()
}

/// Households the account may not write: in a division outside its own, or (by household
/// number) stored in one.
async fn scope_problems(
    db: &Db,
    parsed: &ParsedRegistry,
    account: &Account,
) -> Result<Vec<Problem>, StoreError> {
    let scope = account.scope();
    let locate = parsed.locator();
    let column = parsed.header(RegistryColumn::DivisionCode);
    let mut problems = Vec::new();
    // An account of the whole municipality cannot reach outside it.
    let whole = account.division.level() == DivisionLevel::Province;
    for h in &parsed.households {
        let no = h.household_no.as_str();
        let code = h.division.as_str();
        if !scope.contains(&h.division) {
            let own = account.division.as_str();
            problems.push(Problem {
                row: locate.row(no, None),
                column: column.clone(),
                value: code.to_owned(),
                reason: text!(
                    "户{no}属于区划{code}，不在您账号的管辖范围（{own}）内；只能导入本辖区的农户",
                    "household {no} belongs to division {code}, outside your account's division ({own}); you can import households of your own division only"
                ),
            });
        } else if !whole
            && let Some((stored, _)) = registry::household(db, no).await?
            && !scope.contains_code(&stored.division_code)
        {
            problems.push(Problem {
                row: locate.row(no, None),
                column: parsed.header(RegistryColumn::HouseholdNo),
                value: no.to_owned(),
                reason: text!(
                    "户编号{no}已登记在您管辖范围以外的区划；不能通过导入改动或迁入该户，请联系上级部门",
                    "household number {no} is registered in a division outside yours; an import cannot change it or move it in. Ask the office above you"
                ),
            });
        }
    }
    Ok(problems)
}

/// The store's conflicts as report lines; with `account`, a household outside its division is
/// not named.
async fn conflict_problems(
    db: &Db,
    parsed: &ParsedRegistry,
    conflicts: &[Conflict],
    account: Option<&Account>,
) -> Result<Vec<Problem>, StoreError> {
    let locate = parsed.locator();
    let mut problems = Vec::with_capacity(conflicts.len());
    for c in conflicts {
        let mut problem =
            conflict_problem(c, |no, id| locate.row(no, id), |col| parsed.header(col));
        if let (Some(account), Conflict::IdNumberInAnotherHousehold { registered_in, .. }) =
            (account, c)
        {
            let visible = match registry::household(db, registered_in).await? {
                Some((stored, _)) => account.scope().contains_code(&stored.division_code),
                None => false,
            };
            if !visible {
                problem.reason = text!(
                    "该证件号码已登记在您管辖范围以外的另一户中；一人只能属于一户。如需迁入，请联系上级部门办理",
                    "this ID number is registered in another household outside your division; a person belongs to one household only. To move the person in, ask the office above you"
                );
            }
        }
        problems.push(problem);
    }
    Ok(problems)
}

/// The registry column of a monitoring field; the risk types at the first of their columns.
fn monitoring_column(field: MonitoringField) -> RegistryColumn {
    match field {
        MonitoringField::IdentifiedOn => RegistryColumn::IdentifiedOn,
        MonitoringField::RiskTypes => RegistryColumn::RiskType1,
        MonitoringField::RiskEliminatedOn => RegistryColumn::RiskEliminatedOn,
        MonitoringField::EliminationMethod => RegistryColumn::EliminationMethod,
    }
}

/// A store conflict as a report line: at the member's row for an ID number, else at the
/// household's first row.
pub fn conflict_problem(
    c: &Conflict,
    row_of: impl Fn(&str, Option<&str>) -> u64,
    header: impl Fn(RegistryColumn) -> String,
) -> Problem {
    let (column, id) = match c.field() {
        ConflictField::DivisionCode => (RegistryColumn::DivisionCode, None),
        ConflictField::HouseholdNo => (RegistryColumn::HouseholdNo, None),
        ConflictField::IdNumber(id) => (RegistryColumn::IdNumber, Some(id)),
        ConflictField::MonitoringCategory => (RegistryColumn::MonitoringCategory, None),
        ConflictField::Monitoring(field) => (monitoring_column(field), None),
    };
    Problem {
        row: row_of(c.household_no(), id),
        column: header(column),
        value: c.shown_value(),
        reason: c.text(),
    }
}
