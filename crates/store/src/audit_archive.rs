//! The audit archive: `zhenxing audit archive --to FILE [--through DATE]` writes the audit
//! records and their items, with their hashes, to a file MACed under the audit key;
//! `zhenxing audit verify --archive FILE` checks the MAC, the chain inside the file and, where
//! the database still holds the records, that they are the same.
//!
//! The file is JSON lines: a header line, a summary, one line per record followed by one per
//! item, and a last line with the MAC (HMAC-SHA-256 or HMAC-SM3, the suite of the anchor) of the
//! suite's hash of every line before it.
//!
//! Why an HMAC under the audit key rather than a public-key signature: the keyed records inside
//! the archive can only be checked with that key anyway (their hashes are HMACs under it), so a
//! signature would add a second key to manage without letting anyone without the audit key
//! verify more. An archive is checked by the bureau's own `zhenxing`, with the key it keeps
//! outside the database; an assessor checks it there.

use crate::audit::{AuditRecord, ItemRow, digest_item_row, select_records};
use crate::{Db, Result, StoreError, on_pool, on_tx};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::{Text, text};
use zhenxing_crypto::Suite;

const MAGIC: &str = "ZHENXING-AUDIT-ARCHIVE 1";

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveSummary {
    pub registry_id: String,
    pub from_seq: i64,
    pub through_seq: i64,
    /// The hash the first record links to (the genesis hash, or the last pruned record's).
    pub prev_hash: String,
    pub last_hash: String,
    pub records: u64,
    pub items: u64,
    pub created_at: String,
    /// The MAC's suite (`international`, `national`).
    pub suite: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Summary(ArchiveSummary),
    Record(AuditRecord),
    Item(ItemRow),
    Mac(String),
}

/// The suite's hash of the archive's lines, streamed.
enum ContentHash {
    Sha256(sha2_for_hmac::Sha256),
    Sm3(sm3::Sm3),
}

impl ContentHash {
    fn new(suite: Suite) -> ContentHash {
        use sha2_for_hmac::Digest;
        match suite {
            Suite::International => ContentHash::Sha256(sha2_for_hmac::Sha256::new()),
            Suite::National => ContentHash::Sm3(sm3::Sm3::new()),
        }
    }
    fn update(&mut self, bytes: &[u8]) {
        use sha2_for_hmac::Digest;
        match self {
            ContentHash::Sha256(h) => h.update(bytes),
            ContentHash::Sm3(h) => h.update(bytes),
        }
    }
    fn finish(self) -> Vec<u8> {
        use sha2_for_hmac::Digest;
        match self {
            ContentHash::Sha256(h) => h.finalize().to_vec(),
            ContentHash::Sm3(h) => h.finalize().to_vec(),
        }
    }
}

fn mac_parts(suite: Suite, content: &[u8]) -> [Vec<u8>; 3] {
    [
        b"zhenxing audit archive".to_vec(),
        suite.code().as_bytes().to_vec(),
        content.to_vec(),
    ]
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    let shown = path.display();
    StoreError::Config(text!("{shown}：{e}", "{shown}: {e}"))
}

fn needs_key() -> StoreError {
    StoreError::Config(text!(
        "审计归档以审计密钥签名：需要审计密钥文件（--audit-key），但未找到",
        "audit archives are MACed with the audit key: the audit key file (--audit-key) is needed and was not found"
    ))
}

/// The end of a Beijing day in the stored format: records with `at` before it are of that day
/// or earlier.
pub fn end_of_china_day(day: time::Date) -> String {
    zhenxing_core::china_time::stored(
        (day + time::Duration::days(1))
            .midnight()
            .assume_offset(zhenxing_core::china_time::CHINA),
    )
}

/// Writes the records from the first one the database holds through the last one made before
/// `before` (stored format; all of them when `None`) to `out`, MACed under the audit key.
pub async fn archive(db: &Db, out: &Path, before: Option<&str>) -> Result<ArchiveSummary> {
    let key = crate::audit_anchor::verification_key(db)
        .await?
        .ok_or_else(needs_key)?;
    let suite = crate::audit_anchor::suite_of(db).await?.unwrap_or_default();
    let bounds: (Option<i64>, Option<i64>) = on_pool!(db, pool => sqlx::query_as(
        "SELECT MIN(seq), MAX(seq) FROM audit_log WHERE $1 IS NULL OR at < $1")
        .bind(before).fetch_one(pool).await?);
    let (Some(from_seq), Some(through_seq)) = bounds else {
        return Err(StoreError::Config(text!(
            "没有可归档的审计记录（该日期及以前没有记录）",
            "there are no audit records to archive (none on or before that date)"
        )));
    };
    let records: Vec<AuditRecord> = on_pool!(db, pool => sqlx::query_as::<_, AuditRecord>(
        select_records!("WHERE seq BETWEEN $1 AND $2 ORDER BY seq"))
        .bind(from_seq).bind(through_seq).fetch_all(pool).await?);
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        return Err(StoreError::Corrupt("the audit records vanished".into()));
    };
    let mut summary = ArchiveSummary {
        registry_id: crate::backup::registry_id(db).await?,
        from_seq,
        through_seq,
        prev_hash: first.prev_hash.clone(),
        last_hash: last.hash.clone(),
        records: records.len() as u64,
        items: 0,
        created_at: now_stored(),
        suite: suite.code().to_owned(),
    };
    summary.items = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_items WHERE seq BETWEEN $1 AND $2")
        .bind(from_seq).bind(through_seq).fetch_one(pool).await?) as u64;

    let partial = out.with_extension("partial");
    let file = File::create(&partial).map_err(|e| io_error(&partial, e))?;
    let mut writer = ArchiveWriter {
        out: BufWriter::new(file),
        hash: ContentHash::new(suite),
        path: partial.clone(),
    };
    writer.line(MAGIC.as_bytes())?;
    writer.json(&Line::Summary(summary.clone()))?;
    for record in records {
        let (seq, with_items) = (record.seq, record.item_count > 0);
        writer.json(&Line::Record(record))?;
        if with_items {
            on_pool!(db, pool => {
                let mut items = sqlx::query_as::<_, ItemRow>(
                    "SELECT seq, item, action, object_type, object_id, county_code, division_code, \
                     before_data, after_data FROM audit_items WHERE seq = $1 ORDER BY item")
                    .bind(seq).fetch(pool);
                while let Some(item) = items.try_next().await? {
                    writer.json(&Line::Item(item))?;
                }
            });
        }
    }
    let content = std::mem::replace(&mut writer.hash, ContentHash::new(suite)).finish();
    let parts = mac_parts(suite, &content);
    let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let mac = hex::encode(suite.mac(&key, &parts));
    writer.json(&Line::Mac(mac))?;
    let file = writer
        .out
        .into_inner()
        .map_err(|e| io_error(&partial, e.into_error()))?;
    file.sync_all().map_err(|e| io_error(&partial, e))?;
    std::fs::rename(&partial, out).map_err(|e| io_error(out, e))?;
    Ok(summary)
}

struct ArchiveWriter {
    out: BufWriter<File>,
    hash: ContentHash,
    path: std::path::PathBuf,
}

impl ArchiveWriter {
    fn line(&mut self, bytes: &[u8]) -> Result<()> {
        self.hash.update(bytes);
        self.hash.update(b"\n");
        self.out
            .write_all(bytes)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|e| io_error(&self.path, e))
    }
    fn json(&mut self, line: &Line) -> Result<()> {
        let bytes = serde_json::to_vec(line).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.line(&bytes)
    }
}

/// One problem an archive's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveProblem {
    /// Not an archive, or its lines do not parse.
    Malformed { line: u64 },
    /// The MAC does not verify: the file was altered or made with another key.
    BadMac,
    /// The MAC line is missing: the file was cut.
    Truncated,
    /// A record does not match its hash, or does not link to the one before.
    Altered { seq: i64 },
    /// A record's items do not match its digest.
    ItemsAltered { seq: i64 },
    /// The database holds this record, and it differs from the archived one.
    DiffersFromDatabase { seq: i64 },
    /// The archive is of another registry.
    OtherRegistry { registry_id: String },
}

impl ArchiveProblem {
    pub fn text(&self) -> Text {
        match self {
            ArchiveProblem::Malformed { line } => text!(
                "归档文件第{line}行无法解析：这不是振兴的审计归档，或已损坏",
                "line {line} of the archive does not parse: it is not a zhenxing audit archive, or it is damaged"
            ),
            ArchiveProblem::BadMac => text!(
                "归档的签名（MAC）不符：文件被改动，或并非以此审计密钥制作",
                "the archive's MAC does not verify: the file was altered, or was not made with this audit key"
            ),
            ArchiveProblem::Truncated => text!(
                "归档缺少末行的签名：文件被截断",
                "the archive lacks its closing MAC line: the file was cut short"
            ),
            ArchiveProblem::Altered { seq } => text!(
                "归档中的第{seq}条审计记录与其哈希不符或与前一条链接断开",
                "audit record {seq} in the archive does not match its hash or no longer links to the record before it"
            ),
            ArchiveProblem::ItemsAltered { seq } => text!(
                "归档中第{seq}条审计记录的明细与其摘要不符",
                "the items of audit record {seq} in the archive do not match its digest"
            ),
            ArchiveProblem::DiffersFromDatabase { seq } => text!(
                "第{seq}条审计记录在归档与数据库中不同",
                "audit record {seq} differs between the archive and the database"
            ),
            ArchiveProblem::OtherRegistry { registry_id } => text!(
                "此归档属于另一个登记库（{registry_id}）",
                "this archive is of another registry ({registry_id})"
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ArchiveReport {
    pub summary: Option<ArchiveSummary>,
    pub problems: Vec<ArchiveProblem>,
    /// How many of the archived records the database still holds (and were compared).
    pub compared: u64,
}

/// State of the record whose items are being read.
struct OpenRecord {
    seq: i64,
    expected: Option<(i64, String)>,
    count: i64,
    hasher: sha2::Sha256,
}

impl OpenRecord {
    fn close(self, problems: &mut Vec<ArchiveProblem>) {
        use sha2::Digest;
        let found = (self.count > 0).then(|| (self.count, hex::encode(self.hasher.finalize())));
        if found != self.expected {
            problems.push(ArchiveProblem::ItemsAltered { seq: self.seq });
        }
    }
}

/// Checks the archive at `path`: its MAC under the audit key, the chain inside it, and the
/// records the database still holds.
pub async fn verify_archive(db: &Db, path: &Path) -> Result<ArchiveReport> {
    use sha2::Digest;
    let key: Arc<[u8]> = crate::audit_anchor::verification_key(db)
        .await?
        .ok_or_else(needs_key)?;
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut lines = BufReader::new(file).lines();
    let mut report = ArchiveReport {
        summary: None,
        problems: Vec::new(),
        compared: 0,
    };
    let next = |lines: &mut std::io::Lines<BufReader<File>>| -> Result<Option<String>> {
        lines.next().transpose().map_err(|e| io_error(path, e))
    };
    if next(&mut lines)?.as_deref() != Some(MAGIC) {
        report.problems.push(ArchiveProblem::Malformed { line: 1 });
        return Ok(report);
    }
    let summary_line = next(&mut lines)?.unwrap_or_default();
    let summary = match serde_json::from_str::<Line>(&summary_line) {
        Ok(Line::Summary(summary)) => summary,
        _ => {
            report.problems.push(ArchiveProblem::Malformed { line: 2 });
            return Ok(report);
        }
    };
    let Some(suite) = Suite::parse(&summary.suite) else {
        report.problems.push(ArchiveProblem::Malformed { line: 2 });
        return Ok(report);
    };
    let registry_id = crate::backup::registry_id(db).await?;
    if summary.registry_id != registry_id {
        report.problems.push(ArchiveProblem::OtherRegistry {
            registry_id: summary.registry_id.clone(),
        });
    }
    let mut hash = ContentHash::new(suite);
    hash.update(MAGIC.as_bytes());
    hash.update(b"\n");
    hash.update(summary_line.as_bytes());
    hash.update(b"\n");

    let mut prev_hash = summary.prev_hash.clone();
    let mut open: Option<OpenRecord> = None;
    let mut mac = None;
    let mut line_number = 2u64;
    while let Some(line) = next(&mut lines)? {
        line_number += 1;
        let parsed = match serde_json::from_str::<Line>(&line) {
            Ok(parsed) => parsed,
            Err(_) => {
                report
                    .problems
                    .push(ArchiveProblem::Malformed { line: line_number });
                return Ok(report);
            }
        };
        if !matches!(parsed, Line::Mac(_)) {
            hash.update(line.as_bytes());
            hash.update(b"\n");
        }
        match parsed {
            Line::Record(record) => {
                if let Some(done) = open.take() {
                    done.close(&mut report.problems);
                }
                let computed = record.compute_hash(Some(&key));
                if computed.as_deref() != Some(record.hash.as_str())
                    || record.prev_hash != prev_hash
                {
                    report
                        .problems
                        .push(ArchiveProblem::Altered { seq: record.seq });
                }
                let stored: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
                    "SELECT hash FROM audit_log WHERE seq = $1")
                    .bind(record.seq).fetch_optional(pool).await?);
                if let Some(stored) = stored {
                    report.compared += 1;
                    // The hash covers the record and its items' digest: equal hashes, same record.
                    if stored != record.hash {
                        report
                            .problems
                            .push(ArchiveProblem::DiffersFromDatabase { seq: record.seq });
                    }
                }
                prev_hash = record.hash.clone();
                open = Some(OpenRecord {
                    seq: record.seq,
                    expected: record.items_digest.clone().map(|d| (record.item_count, d)),
                    count: 0,
                    hasher: sha2::Sha256::new(),
                });
            }
            Line::Item(item) => match open.as_mut() {
                Some(current) if current.seq == item.seq => {
                    current.count += 1;
                    digest_item_row(&mut current.hasher, &item);
                }
                _ => report
                    .problems
                    .push(ArchiveProblem::ItemsAltered { seq: item.seq }),
            },
            Line::Mac(found) => {
                mac = Some(found);
                break;
            }
            Line::Summary(_) => {
                report
                    .problems
                    .push(ArchiveProblem::Malformed { line: line_number });
                return Ok(report);
            }
        }
    }
    if let Some(done) = open.take() {
        done.close(&mut report.problems);
    }
    match mac {
        None => report.problems.push(ArchiveProblem::Truncated),
        Some(found) => {
            let content = hash.finish();
            let parts = mac_parts(suite, &content);
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            let valid = hex::decode(&found).is_ok_and(|tag| suite.verify_mac(&key, &parts, &tag));
            if !valid || next(&mut lines)?.is_some() {
                report.problems.push(ArchiveProblem::BadMac);
            }
        }
    }
    // The summary names the chain's ends: a record dropped from the end or the start shows.
    let intact = !report.problems.contains(&ArchiveProblem::Truncated);
    if intact && prev_hash != summary.last_hash {
        report.problems.push(ArchiveProblem::Altered {
            seq: summary.through_seq,
        });
    }
    report.summary = Some(summary);
    Ok(report)
}

/// The shortest retention: records younger than this are never deleted, whatever is set.
pub const MIN_RETENTION_MONTHS: u32 = 6;
const RETENTION_KEY: &str = "audit.retention_months";

/// The audit retention in months, when one has been set.
pub async fn retention_months(db: &Db) -> Result<Option<u32>> {
    let value: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT value FROM settings WHERE key = $1").bind(RETENTION_KEY).fetch_optional(pool).await?);
    Ok(value.and_then(|v| v.parse().ok()))
}

/// Sets the retention (audited as `settings.audit_retention`); below
/// [`MIN_RETENTION_MONTHS`] is refused.
pub async fn set_retention(db: &Db, actor: &str, months: u32) -> Result<()> {
    if months < MIN_RETENTION_MONTHS {
        return Err(StoreError::Config(text!(
            "审计记录保存期不得少于{MIN_RETENTION_MONTHS}个月（给出的是{months}个月）",
            "the audit retention cannot be shorter than {MIN_RETENTION_MONTHS} months ({months} given)"
        )));
    }
    let before = retention_months(db).await?;
    let mut tx = db.begin_write().await?;
    let operation = crate::audit::Operation::begin(
        &mut tx,
        crate::audit::AuditEntry {
            actor: actor.to_owned(),
            action: "settings.audit_retention".into(),
            object_type: "settings".into(),
            object_id: Some(RETENTION_KEY.into()),
            before: Some(serde_json::json!({ "months": before })),
            after: Some(serde_json::json!({ "months": months })),
            ..Default::default()
        },
    )
    .await?;
    crate::procedures::write_setting(
        &mut tx,
        RETENTION_KEY,
        &months.to_string(),
        actor,
        operation.seq(),
    )
    .await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await
}

/// The first Beijing day whose records are within `months` of `today`.
fn retention_start(today: time::Date, months: u32) -> time::Date {
    let total =
        i64::from(today.year()) * 12 + i64::from(u8::from(today.month())) - 1 - i64::from(months);
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .unwrap_or(time::Month::January);
    let year = i32::try_from(year).unwrap_or(today.year());
    let last_day = month.length(year);
    time::Date::from_calendar_date(year, month, today.day().min(last_day)).unwrap_or(today)
}

/// What a prune deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub from_seq: i64,
    pub through_seq: i64,
    pub records: i64,
}

fn refused(message: Text) -> StoreError {
    StoreError::Config(message)
}

/// Deletes the records that are older than the retention (and [`MIN_RETENTION_MONTHS`] in any
/// case) and in the archive at `archive_path`, which must verify against the database first.
/// One write transaction: the prune's own audited record (`audit.prune`, with the boundary and
/// the archive's digest), the boundary (`audit_pruned`), the deletes.
pub async fn prune(
    db: &Db,
    archive_path: &Path,
    actor: &str,
    reason: &str,
    today: time::Date,
) -> Result<Pruned> {
    use sha2::Digest;
    let Some(months) = retention_months(db).await? else {
        return Err(refused(text!(
            "尚未设定审计记录保存期：请先运行 zhenxing audit retention 月数（至少{MIN_RETENTION_MONTHS}）",
            "no audit retention is set: run zhenxing audit retention MONTHS (at least {MIN_RETENTION_MONTHS}) first"
        )));
    };
    let report = verify_archive(db, archive_path).await?;
    if let Some(problem) = report.problems.first() {
        let why = problem.text();
        let (zh, en) = (&why.zh, &why.en);
        return Err(refused(text!(
            "归档未通过校验，未删除任何记录：{zh}",
            "the archive does not verify, nothing was deleted: {en}"
        )));
    }
    let Some(summary) = report.summary else {
        return Err(StoreError::Corrupt("the archive has no summary".into()));
    };
    let cutoff = end_of_china_day(
        retention_start(today, months.max(MIN_RETENTION_MONTHS)) - time::Duration::days(1),
    );
    let first: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT MIN(seq) FROM audit_log").fetch_one(pool).await?);
    let first_young: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT MIN(seq) FROM audit_log WHERE at >= $1").bind(&cutoff).fetch_one(pool).await?);
    let first = first.unwrap_or(0);
    let through = first_young.map_or(summary.through_seq, |young| {
        summary.through_seq.min(young - 1)
    });
    if summary.from_seq > first || through < first {
        return Err(refused(text!(
            "没有既早于保存期（{months}个月）又已在此归档中的审计记录，未删除任何记录",
            "no audit record is both older than the retention ({months} months) and in this archive; nothing was deleted"
        )));
    }
    let through_hash: String = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT hash FROM audit_log WHERE seq = $1").bind(through).fetch_one(pool).await?);
    let mut hasher = sha2::Sha256::new();
    let mut file = File::open(archive_path).map_err(|e| io_error(archive_path, e))?;
    std::io::copy(&mut file, &mut crate::backup::HashSink(&mut hasher))
        .map_err(|e| io_error(archive_path, e))?;
    let archive_sha256 = hex::encode(hasher.finalize());

    let mut tx = db.begin_write().await?;
    crate::audit::append(
        &mut tx,
        vec![crate::audit::AuditEntry {
            actor: actor.to_owned(),
            action: PRUNE_ACTION.into(),
            object_type: "audit_log".into(),
            reason: Some(reason.to_owned()),
            after: Some(serde_json::json!({
                "from_seq": first,
                "through_seq": through,
                "through_hash": through_hash,
                "archive_sha256": archive_sha256,
                "retention_months": months,
            })),
            ..Default::default()
        }],
    )
    .await?;
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO audit_pruned (id, through_seq, through_hash, archive_sha256, pruned_at) \
         VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
         through_seq = excluded.through_seq, through_hash = excluded.through_hash, \
         archive_sha256 = excluded.archive_sha256, pruned_at = excluded.pruned_at")
        .bind(through).bind(&through_hash).bind(&archive_sha256).bind(now_stored())
        .execute(conn).await.map(drop)?);
    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM audit_items WHERE seq <= $1")
        .bind(through).execute(conn).await.map(drop)?);
    on_tx!(&mut tx, conn => sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
        .bind(through).execute(conn).await.map(drop)?);
    tx.commit().await?;
    Ok(Pruned {
        from_seq: first,
        through_seq: through,
        records: through - first + 1,
    })
}

/// The action of a prune's own record, which [`crate::audit::verify`] matches with the boundary.
pub const PRUNE_ACTION: &str = "audit.prune";
