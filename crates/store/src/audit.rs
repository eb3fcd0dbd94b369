//! The audit trail: append-only, hash-chained. Each record's hash is
//! SHA-256(previous hash ‖ canonical JSON of the record), so altering or deleting any record
//! breaks the chain from that point, and [`verify`] says where. Records are appended only
//! inside a registry write transaction ([`crate::Db::begin_write`]), which serialises the chain.

use crate::bulk::{Batch, ColType};
use crate::{Db, Result, Tx, on_pool, on_tx};
use futures_util::TryStreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `SELECT` of every audit column, followed by the given clause.
macro_rules! const_format_select {
    ($clause:literal) => {
        concat!(
            "SELECT seq, at, actor, action, object_type, object_id, county_code, division_code, ",
            "reason, before_data, after_data, prev_hash, hash FROM audit_log ",
            $clause
        )
    };
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event to record: who did what to which record, with the state before and after.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub county_code: Option<String>,
    pub division_code: Option<String>,
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A stored audit record.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub county_code: Option<String>,
    pub division_code: Option<String>,
    pub reason: Option<String>,
    pub before_data: Option<String>,
    pub after_data: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.object_type,
            self.object_id,
            self.county_code,
            self.division_code,
            self.reason,
            self.before_data,
            self.after_data,
        ]);
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(canonical.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }
}

const COLUMNS: &[(&str, ColType)] = &[
    ("seq", ColType::Int),
    ("at", ColType::Text),
    ("actor", ColType::Text),
    ("action", ColType::Text),
    ("object_type", ColType::Text),
    ("object_id", ColType::Text),
    ("county_code", ColType::Text),
    ("division_code", ColType::Text),
    ("reason", ColType::Text),
    ("before_data", ColType::Text),
    ("after_data", ColType::Text),
    ("prev_hash", ColType::Text),
    ("hash", ColType::Text),
];

/// Appends entries to the chain inside the caller's write transaction.
pub async fn append(tx: &mut Tx, entries: Vec<AuditEntry>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let last: Option<(i64, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
    )
    .fetch_optional(conn)
    .await?);
    let (mut seq, mut prev_hash) = last.unwrap_or((0, GENESIS_HASH.to_owned()));
    let at = crate::now_text();
    let mut batch = Batch::new("audit_log", COLUMNS);
    for entry in entries {
        seq += 1;
        let mut record = AuditRecord {
            seq,
            at: at.clone(),
            actor: entry.actor,
            action: entry.action,
            object_type: entry.object_type,
            object_id: entry.object_id,
            county_code: entry.county_code,
            division_code: entry.division_code,
            reason: entry.reason,
            before_data: entry.before.map(|v| v.to_string()),
            after_data: entry.after.map(|v| v.to_string()),
            prev_hash: prev_hash.clone(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        prev_hash = record.hash.clone();
        batch
            .row()
            .int(Some(record.seq))
            .text(Some(record.at))
            .text(Some(record.actor))
            .text(Some(record.action))
            .text(Some(record.object_type))
            .text(record.object_id)
            .text(record.county_code)
            .text(record.division_code)
            .text(record.reason)
            .text(record.before_data)
            .text(record.after_data)
            .text(Some(record.prev_hash))
            .text(Some(record.hash));
        if batch.len() >= 20_000 {
            batch.flush(tx).await?;
        }
    }
    batch.flush(tx).await?;
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")
        .bind(seq).bind(&prev_hash).execute(conn).await.map(drop)?);
    Ok(())
}

/// Appends a single entry in its own write transaction.
pub async fn append_one(db: &Db, entry: AuditEntry) -> Result<()> {
    let mut tx = db.begin_write().await?;
    append(&mut tx, vec![entry]).await?;
    tx.commit().await
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainProblem {
    /// The record's content no longer matches its hash: it was altered.
    Altered { seq: i64 },
    /// The record does not point to the hash of the record before it.
    BrokenLink { seq: i64 },
    /// Sequence numbers are missing: records were deleted.
    Missing { from_seq: i64, to_seq: i64 },
}

impl ChainProblem {
    pub fn text(&self) -> zhenxing_core::Text {
        use zhenxing_core::text;
        match *self {
            ChainProblem::Altered { seq } => text!(
                "第{seq}条审计记录的内容已被改动（与其哈希不符）",
                "audit record {seq} was altered (its content no longer matches its hash)"
            ),
            ChainProblem::BrokenLink { seq } => text!(
                "第{seq}条审计记录与前一条的链接断开（前一条被改动或替换）",
                "audit record {seq} no longer links to the record before it (that one was altered or replaced)"
            ),
            ChainProblem::Missing { from_seq, to_seq } => text!(
                "第{from_seq}至{to_seq}条审计记录已被删除",
                "audit records {from_seq} to {to_seq} were deleted"
            ),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub records: u64,
    pub last_seq: i64,
    pub problems: Vec<ChainProblem>,
}

/// Re-computes the whole chain.
pub async fn verify(db: &Db) -> Result<VerifyReport> {
    let mut report = VerifyReport {
        records: 0,
        last_seq: 0,
        problems: Vec::new(),
    };
    let mut prev_hash = GENESIS_HASH.to_owned();
    let sql = const_format_select!("ORDER BY seq");
    on_pool!(db, pool => {
        let mut rows = sqlx::query_as::<_, AuditRecord>(sql).fetch(pool);
        while let Some(record) = rows.try_next().await? {
            check_record(&record, &mut report, &mut prev_hash);
        }
    });
    let head: Option<(i64, String)> = on_pool!(db, pool =>
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(pool).await?);
    if let Some((seq, hash)) = head {
        if seq > report.last_seq {
            report.problems.push(ChainProblem::Missing {
                from_seq: report.last_seq + 1,
                to_seq: seq,
            });
        } else if seq == report.last_seq && hash != prev_hash {
            report.problems.push(ChainProblem::BrokenLink { seq });
        }
    }
    Ok(report)
}

fn check_record(record: &AuditRecord, report: &mut VerifyReport, prev_hash: &mut String) {
    if record.seq != report.last_seq + 1 {
        report.problems.push(ChainProblem::Missing {
            from_seq: report.last_seq + 1,
            to_seq: record.seq - 1,
        });
    } else if record.prev_hash != *prev_hash {
        report
            .problems
            .push(ChainProblem::BrokenLink { seq: record.seq });
    }
    if record.compute_hash() != record.hash {
        report
            .problems
            .push(ChainProblem::Altered { seq: record.seq });
    }
    report.records += 1;
    report.last_seq = record.seq;
    *prev_hash = record.hash.clone();
}

/// The most recent records about one object, newest first.
pub async fn history(
    db: &Db,
    object_type: &str,
    object_id: &str,
    limit: i64,
) -> Result<Vec<AuditRecord>> {
    let sql = const_format_select!(
        "WHERE object_type = $1 AND object_id = $2 ORDER BY seq DESC LIMIT $3"
    );
    let rows = on_pool!(db, pool => {
        sqlx::query_as::<_, AuditRecord>(sql)
            .bind(object_type)
            .bind(object_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}
