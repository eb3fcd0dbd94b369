//! The audit trail: append-only and hash-chained.
//!
//! One record per operation (an import, an edit, a sign-in) in `audit_log`, and one item per
//! record the operation changed in `audit_items`, with the fields before and after. A created
//! household is not itemised: its row names the creating operation (`created_seq`), and its
//! state as created is the `before` of its first change. Each operation's hash is an HMAC
//! (HMAC-SHA-256 or HMAC-SM3, the deployment's suite) under the audit key kept outside the
//! database ([`crate::audit_anchor`]) of the previous hash and the canonical JSON of the
//! operation; records written before the chain was keyed, or in a database nobody anchored,
//! are SHA-256(previous hash ‖ canonical JSON), and each record's `hash_alg` says which. Once a
//! keyed record exists, every later one must be keyed ([`ChainProblem::Downgraded`]). The
//! operation includes the count and SHA-256 digest of its items, so altering or deleting
//! any record or item breaks the chain, and [`verify`] says where. `audit_head` remembers the
//! last hash so that records cut from the end are noticed too, as long as it is left alone; the
//! checkpoint outside the database ([`crate::audit_anchor`]) notices a cut or wiped trail even
//! when it is not. Operations are appended only
//! inside a registry write transaction ([`crate::Db::begin_write`]), which serialises the chain.
//!
//! Why: an import of a county's workbook touches a hundred thousand households; one chained
//! record per household cost a third of a bulk load's time (measured with perf on `generate`),
//! while an item row is small and still tamper-evident through its operation's digest. The
//! `created_seq` pointer lives in the household row and is not covered by the chain; an
//! operation's summary records how many households it created.

use crate::audit_anchor::{ChainKey, CheckpointState};
use crate::bulk::{Batch, ColType};
use crate::{Db, Result, Tx, on_pool, on_tx};
use futures_util::TryStreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use zhenxing_core::china_time::now_stored;
use zhenxing_crypto::Suite;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One operation to record: who did what, why, and a summary.
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

/// One record an operation touched.
#[derive(Debug, Clone, Default)]
pub struct AuditItem {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    pub county_code: Option<String>,
    pub division_code: Option<String>,
    /// JSON of the fields that changed, before the change.
    pub before: Option<String>,
    /// JSON of the same fields after the change.
    pub after: Option<String>,
}

/// A stored operation record (also a line of an audit archive).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
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
    pub item_count: i64,
    pub items_digest: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// [`UNKEYED`], or the HMAC that made `hash` ([`hash_alg_of`]).
    pub hash_alg: String,
}

/// The `hash_alg` of records hashed with plain SHA-256 (before the chain was keyed).
pub const UNKEYED: &str = "sha256";

/// The `hash_alg` of records keyed with `suite`'s HMAC.
pub fn hash_alg_of(suite: Suite) -> &'static str {
    match suite {
        Suite::International => "hmac-sha256",
        Suite::National => "hmac-sm3",
    }
}

fn suite_of_hash_alg(alg: &str) -> Option<Suite> {
    [Suite::International, Suite::National]
        .into_iter()
        .find(|s| hash_alg_of(*s) == alg)
}

impl AuditRecord {
    /// The record's hash as its `hash_alg` makes it; `None` when that needs a key and `key` is
    /// `None`, or the algorithm is unknown (verify reports the record as altered).
    pub fn compute_hash(&self, key: Option<&[u8]>) -> Option<String> {
        let canonical = self.canonical();
        if self.hash_alg == UNKEYED {
            let mut hasher = Sha256::new();
            hasher.update(self.prev_hash.as_bytes());
            hasher.update(canonical.as_bytes());
            return Some(hex::encode(hasher.finalize()));
        }
        let suite = suite_of_hash_alg(&self.hash_alg)?;
        let key = key?;
        Some(hex::encode(suite.mac(
            key,
            &[
                b"zhenxing audit record",
                self.hash_alg.as_bytes(),
                self.prev_hash.as_bytes(),
                canonical.as_bytes(),
            ],
        )))
    }

    pub fn is_keyed(&self) -> bool {
        self.hash_alg != UNKEYED
    }

    fn canonical(&self) -> String {
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
            self.item_count,
            self.items_digest,
        ]);
        canonical.to_string()
    }
}

/// Feeds serde_json's output straight into a hasher, without an intermediate string.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Adds one item's canonical line to an operation's digest.
fn digest_item(hasher: &mut Sha256, number: i64, item: &ItemRef<'_>) {
    let line = (
        number,
        item.action,
        item.object_type,
        item.object_id,
        item.county_code,
        item.division_code,
        item.before,
        item.after,
    );
    // Serialising plain strings and integers cannot fail.
    let _ = serde_json::to_writer(HashWriter(hasher), &line);
    hasher.update(b"\n");
}

struct ItemRef<'a> {
    action: &'a str,
    object_type: &'a str,
    object_id: &'a str,
    county_code: Option<&'a str>,
    division_code: Option<&'a str>,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

const LOG_COLUMNS: &[(&str, ColType)] = &[
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
    ("item_count", ColType::Int),
    ("items_digest", ColType::Text),
    ("prev_hash", ColType::Text),
    ("hash", ColType::Text),
    ("hash_alg", ColType::Text),
];

const ITEM_COLUMNS: &[(&str, ColType)] = &[
    ("seq", ColType::Int),
    ("item", ColType::Int),
    ("action", ColType::Text),
    ("object_type", ColType::Text),
    ("object_id", ColType::Text),
    ("county_code", ColType::Text),
    ("division_code", ColType::Text),
    ("before_data", ColType::Text),
    ("after_data", ColType::Text),
];

/// An operation being recorded: items stream into the database as they come, and the
/// operation's record is written, with their digest, by [`Operation::finish`].
pub struct Operation {
    entry: AuditEntry,
    seq: i64,
    prev_hash: String,
    /// The key of the database's anchor, if it has one ([`crate::audit_anchor::chain_key`]).
    key: Option<ChainKey>,
    items: i64,
    hasher: Sha256,
    batch: Batch,
    /// The village codes of the division table, read by the first chunk of a registry write and
    /// kept for the operation's later chunks. Division changes take the same write lock
    /// ([`crate::Db::begin_write`]), so the table cannot change while the operation runs.
    pub(crate) villages: Option<std::collections::HashSet<String>>,
}

impl Operation {
    /// Reserves the next place in the chain. One operation at a time per transaction.
    pub async fn begin(tx: &mut Tx, entry: AuditEntry) -> Result<Operation> {
        let last: Option<(i64, String)> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        )
        .fetch_optional(conn)
        .await?);
        let (seq, prev_hash) = last.unwrap_or((0, GENESIS_HASH.to_owned()));
        let key = crate::audit_anchor::chain_key(tx).await?;
        Ok(Operation {
            entry,
            seq: seq + 1,
            prev_hash,
            key,
            items: 0,
            hasher: Sha256::new(),
            batch: Batch::new("audit_items", ITEM_COLUMNS),
            villages: None,
        })
    }

    /// The operation's place in the chain, which records that it touched point to.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    pub async fn item(&mut self, tx: &mut Tx, item: AuditItem) -> Result<()> {
        self.items += 1;
        digest_item(
            &mut self.hasher,
            self.items,
            &ItemRef {
                action: item.action,
                object_type: item.object_type,
                object_id: &item.object_id,
                county_code: item.county_code.as_deref(),
                division_code: item.division_code.as_deref(),
                before: item.before.as_deref(),
                after: item.after.as_deref(),
            },
        );
        self.batch
            .row()
            .int(Some(self.seq))
            .int(Some(self.items))
            .text(Some(item.action))
            .text(Some(item.object_type))
            .text(Some(item.object_id))
            .text(item.county_code)
            .text(item.division_code)
            // The digest above is of the plaintext; the stored JSON has its ID and phone
            // numbers sealed ([`crate::keys::seal_item_json`]).
            .text(
                item.before
                    .as_deref()
                    .map(crate::keys::seal_item_json)
                    .transpose()?,
            )
            .text(
                item.after
                    .as_deref()
                    .map(crate::keys::seal_item_json)
                    .transpose()?,
            );
        if self.batch.len() >= 20_000 {
            self.batch.flush(tx).await?;
        }
        Ok(())
    }

    /// Writes the operation's record; `after` replaces the entry's summary when given.
    pub async fn finish(mut self, tx: &mut Tx, after: Option<Value>) -> Result<()> {
        self.batch.flush(tx).await?;
        let entry = self.entry;
        let digest = (self.items > 0).then(|| hex::encode(self.hasher.finalize()));
        let mut record = AuditRecord {
            seq: self.seq,
            at: now_stored(),
            actor: entry.actor,
            action: entry.action,
            object_type: entry.object_type,
            object_id: entry.object_id,
            county_code: entry.county_code,
            division_code: entry.division_code,
            reason: entry.reason,
            before_data: entry.before.map(|v| v.to_string()),
            after_data: after.or(entry.after).map(|v| v.to_string()),
            item_count: self.items,
            items_digest: digest,
            prev_hash: self.prev_hash,
            hash: String::new(),
            hash_alg: self
                .key
                .as_ref()
                .map_or(UNKEYED, |k| hash_alg_of(k.suite))
                .to_owned(),
        };
        // Computable: the algorithm is known and its key is at hand.
        record.hash = record
            .compute_hash(self.key.as_ref().map(|k| &*k.key))
            .unwrap_or_default();
        let mut log = Batch::new("audit_log", LOG_COLUMNS);
        log.row()
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
            .int(Some(record.item_count))
            .text(record.items_digest)
            .text(Some(record.prev_hash))
            .text(Some(record.hash.clone()))
            .text(Some(record.hash_alg));
        log.flush(tx).await?;
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")
            .bind(record.seq).bind(&record.hash).execute(conn).await.map(drop)?);
        Ok(())
    }
}

/// Appends operations without items inside the caller's write transaction.
pub async fn append(tx: &mut Tx, entries: Vec<AuditEntry>) -> Result<()> {
    for entry in entries {
        Operation::begin(tx, entry).await?.finish(tx, None).await?;
    }
    Ok(())
}

/// Appends a single operation in its own write transaction.
pub async fn append_one(db: &Db, entry: AuditEntry) -> Result<()> {
    let mut tx = db.begin_write().await?;
    append(&mut tx, vec![entry]).await?;
    tx.commit().await
}

/// A record whose full personal numbers (ID, phone) someone was shown, and where it is.
pub struct Revealed {
    pub object_type: &'static str,
    pub object_id: String,
    pub county_code: String,
    pub division_code: String,
    /// Which numbers, when the record has several kinds of them.
    pub reason: Option<String>,
}

/// Records that `actor` was shown a record's full personal numbers (`personal_data.reveal`):
/// who saw whose numbers and when, never the numbers.
pub async fn record_reveal(db: &Db, actor: &str, r: Revealed) -> Result<()> {
    append_one(
        db,
        AuditEntry {
            actor: actor.to_owned(),
            action: "personal_data.reveal".to_owned(),
            object_type: r.object_type.to_owned(),
            object_id: Some(r.object_id),
            county_code: Some(r.county_code),
            division_code: Some(r.division_code),
            reason: r.reason,
            ..Default::default()
        },
    )
    .await
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
    /// The items of the operation were altered, added or deleted.
    ItemsAltered { seq: i64 },
    /// The chain ends before the checkpoint kept outside the database: its tail was cut.
    Truncated { last_seq: i64, checkpoint_seq: i64 },
    /// The chain is empty while the checkpoint says it had records: the trail was wiped.
    Emptied { checkpoint_seq: i64 },
    /// The record at the checkpoint's place is not the one checkpointed: the chain was
    /// replaced from there on.
    HeadReplaced { seq: i64 },
    /// The checkpoint file does not verify under the key: it was edited or replaced.
    CheckpointForged,
    /// The checkpoint exists but its key file does not.
    CheckpointKeyMissing,
    /// An unkeyed (plain SHA-256) record where the chain is keyed: after a keyed record, or at
    /// or after the first keyed record the checkpoint remembers. Someone without the key
    /// recomputed the chain from here.
    Downgraded { seq: i64 },
    /// Keyed records exist but the audit key is not at hand, so they could not be checked (not
    /// evidence of tampering by itself; the chain is not shown intact either).
    KeyNeeded { seq: i64 },
    /// The records up to `through_seq` are gone as pruned, but no `audit.prune` record of the
    /// chain says so: the boundary was moved behind zhenxing's back.
    PruneUnrecorded { through_seq: i64 },
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
            ChainProblem::ItemsAltered { seq } => text!(
                "第{seq}条审计记录所涉及的明细已被改动、增加或删除",
                "the items of audit record {seq} were altered, added or deleted"
            ),
            ChainProblem::Truncated {
                last_seq,
                checkpoint_seq,
            } => text!(
                "审计记录被截断：库中最后一条为第{last_seq}条，而库外检查点记到第{checkpoint_seq}条。请从备份恢复数据库并核查此间的操作",
                "the audit trail was cut: its last record is {last_seq}, while the checkpoint kept outside the database reached record {checkpoint_seq}. Restore the database from a backup and look into what happened in between"
            ),
            ChainProblem::Emptied { checkpoint_seq } => text!(
                "审计记录已被清空：库中没有任何审计记录，而库外检查点记到第{checkpoint_seq}条。请从备份恢复数据库并核查",
                "the audit trail was emptied: the database holds no audit record, while the checkpoint kept outside the database reached record {checkpoint_seq}. Restore the database from a backup and look into it"
            ),
            ChainProblem::HeadReplaced { seq } => text!(
                "第{seq}条审计记录与库外检查点不符：审计链自此被替换。请从备份恢复数据库并核查",
                "audit record {seq} differs from the checkpoint kept outside the database: the chain was replaced from there on. Restore the database from a backup and look into it"
            ),
            ChainProblem::CheckpointForged => text!(
                "审计检查点文件无法通过密钥校验（被改动或替换）。请核对日志中的检查点记录，查明原因后用 zhenxing audit anchor 重新锚定",
                "the audit checkpoint file does not verify under its key (it was edited or replaced). Compare it with the checkpoint lines in the log, and once the cause is known re-anchor with zhenxing audit anchor"
            ),
            ChainProblem::CheckpointKeyMissing => text!(
                "审计检查点的密钥文件不存在，检查点无法校验。请从备份恢复密钥文件",
                "the key file of the audit checkpoint is missing, so the checkpoint cannot be checked. Restore the key file from its backup"
            ),
            ChainProblem::Downgraded { seq } => text!(
                "第{seq}条审计记录未用密钥计算（仅SHA-256），而审计链此处应已用密钥：此后的记录被不持有密钥者重算过",
                "audit record {seq} is hashed without the key (plain SHA-256) where the chain is keyed: someone without the key recomputed the chain from there"
            ),
            ChainProblem::PruneUnrecorded { through_seq } => text!(
                "审计记录显示已清理至第{through_seq}条，但审计链中没有与之相符的清理记录（audit.prune）：清理边界被擅自改动",
                "the audit records through {through_seq} are marked as pruned, but no prune record (audit.prune) in the chain says so: the boundary was moved behind zhenxing's back"
            ),
            ChainProblem::KeyNeeded { seq } => text!(
                "自第{seq}条起的审计记录以密钥计算，校验需要审计密钥文件（--audit-key）；未找到该文件，这些记录未校验",
                "the audit records from {seq} on are keyed, and checking them needs the audit key file (--audit-key), which was not found: they were not checked"
            ),
        }
    }
}

/// Something `verify` could not check, which is not evidence of tampering by itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainNotice {
    /// The trail has records but no checkpoint outside the database.
    NotAnchored,
    /// No anchor is configured for this database in this process.
    NoAnchorConfigured,
}

impl ChainNotice {
    pub fn text(&self) -> zhenxing_core::Text {
        use zhenxing_core::text;
        match self {
            ChainNotice::NotAnchored => text!(
                "注意：审计链尚无库外检查点，截断或清空无法被发现。待 zhenxing audit verify 未报告任何问题后，请运行 zhenxing audit anchor --reason \"…\" 锚定",
                "warning: the audit chain has no checkpoint outside the database, so a cut or wiped trail cannot be noticed. Once zhenxing audit verify reports no problem, anchor it with zhenxing audit anchor --reason \"…\""
            ),
            ChainNotice::NoAnchorConfigured => text!(
                "注意：此进程未配置审计锚点，截断或清空无法被发现",
                "warning: no audit anchor is configured in this process, so a cut or wiped trail cannot be noticed"
            ),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub records: u64,
    pub items: u64,
    pub last_seq: i64,
    pub problems: Vec<ChainProblem>,
    pub notices: Vec<ChainNotice>,
}

/// A stored item (also a line of an audit archive).
#[derive(sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub(crate) struct ItemRow {
    pub(crate) seq: i64,
    pub(crate) item: i64,
    pub(crate) action: String,
    pub(crate) object_type: String,
    pub(crate) object_id: String,
    pub(crate) county_code: Option<String>,
    pub(crate) division_code: Option<String>,
    pub(crate) before_data: Option<String>,
    pub(crate) after_data: Option<String>,
}

/// Adds a stored item to its operation's digest, its number as stored (a renumbered item
/// shows as altered).
pub(crate) fn digest_item_row(hasher: &mut Sha256, row: &ItemRow) {
    // Digested as the plaintext it was made from; a sealed value that does not open
    // (altered) is digested as stored, and shows as an altered record.
    let opened = |stored: &Option<String>| {
        stored
            .as_ref()
            .map(|s| crate::keys::open_item_json(s).unwrap_or_else(|_| s.clone()))
    };
    let (before_data, after_data) = (opened(&row.before_data), opened(&row.after_data));
    // The stored item number is hashed as stored: a renumbered item shows as altered.
    digest_item(
        hasher,
        row.item,
        &ItemRef {
            action: &row.action,
            object_type: &row.object_type,
            object_id: &row.object_id,
            county_code: row.county_code.as_deref(),
            division_code: row.division_code.as_deref(),
            before: before_data.as_deref(),
            after: after_data.as_deref(),
        },
    );
}

/// `SELECT` of every audit column, followed by the given clause.
macro_rules! select_records {
    ($clause:literal) => {
        concat!(
            "SELECT seq, at, actor, action, object_type, object_id, county_code, division_code, ",
            "reason, before_data, after_data, item_count, items_digest, prev_hash, hash, hash_alg ",
            "FROM audit_log ",
            $clause
        )
    };
}
pub(crate) use select_records;

/// Re-computes the whole chain and every operation's item digest.
pub async fn verify(db: &Db) -> Result<VerifyReport> {
    // Read before the chain, so that operations committed meanwhile only lengthen the chain.
    let checkpoint = crate::audit_anchor::checkpoint_of(db).await?;
    let checkpoint_seq = match &checkpoint {
        CheckpointState::Valid(c) => Some(c.seq),
        _ => None,
    };
    let mut hash_at_checkpoint = None;
    // Item digests per operation first (one entry per operation, not per item).
    let mut digests: HashMap<i64, (i64, String)> = HashMap::new();
    let mut items = 0u64;
    on_pool!(db, pool => {
        let mut rows = sqlx::query_as::<_, ItemRow>(
            "SELECT seq, item, action, object_type, object_id, county_code, division_code, \
             before_data, after_data FROM audit_items ORDER BY seq, item").fetch(pool);
        let mut current: Option<(i64, i64, Sha256)> = None;
        while let Some(row) = rows.try_next().await? {
            items += 1;
            if current.as_ref().is_some_and(|(seq, _, _)| *seq != row.seq)
                && let Some((seq, count, hasher)) = current.take() {
                    digests.insert(seq, (count, hex::encode(hasher.finalize())));
                }
            let (_, count, hasher) = current.get_or_insert_with(|| (row.seq, 0, Sha256::new()));
            *count += 1;
            digest_item_row(hasher, &row);
        }
        if let Some((seq, count, hasher)) = current.take() {
            digests.insert(seq, (count, hex::encode(hasher.finalize())));
        }
    });

    let mut report = VerifyReport {
        records: 0,
        items,
        last_seq: 0,
        problems: Vec::new(),
        notices: Vec::new(),
    };
    // After a prune the chain starts at its boundary ([`crate::audit_archive::prune`]).
    let pruned: Option<(i64, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT through_seq, through_hash FROM audit_pruned WHERE id = 1").fetch_optional(pool).await?);
    if let Some((through_seq, _)) = &pruned {
        report.last_seq = *through_seq;
    }
    let mut prune_recorded = None;
    let mut chain = ChainState {
        prev_hash: pruned
            .as_ref()
            .map_or(GENESIS_HASH.to_owned(), |(_, hash)| hash.clone()),
        key: crate::audit_anchor::verification_key(db).await?,
        keyed_from: match &checkpoint {
            CheckpointState::Valid(c) => c.keyed_from,
            _ => None,
        },
        keyed_seen: false,
        key_needed_reported: false,
        downgrade_reported: false,
    };
    on_pool!(db, pool => {
        let mut rows = sqlx::query_as::<_, AuditRecord>(select_records!("ORDER BY seq")).fetch(pool);
        while let Some(record) = rows.try_next().await? {
            check_record(&record, &mut report, &mut chain);
            if record.action == crate::audit_archive::PRUNE_ACTION {
                prune_recorded = record.after_data.as_deref().and_then(prune_boundary);
            }
            if Some(record.seq) == checkpoint_seq {
                hash_at_checkpoint = Some(record.hash.clone());
            }
            let stored = digests.remove(&record.seq);
            let expected = record.items_digest.as_ref().map(|d| (record.item_count, d.clone()));
            if stored != expected {
                report.problems.push(ChainProblem::ItemsAltered { seq: record.seq });
            }
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
        } else if seq == report.last_seq && hash != chain.prev_hash {
            report.problems.push(ChainProblem::BrokenLink { seq });
        }
    }
    if let Some(boundary) = pruned
        && prune_recorded.as_ref() != Some(&boundary)
    {
        report.problems.push(ChainProblem::PruneUnrecorded {
            through_seq: boundary.0,
        });
    }
    check_checkpoint(&checkpoint, hash_at_checkpoint, &mut report);
    // Items whose operation record is gone.
    let mut orphans: Vec<i64> = digests.into_keys().collect();
    orphans.sort_unstable();
    for seq in orphans {
        if !report.problems.iter().any(|p| matches!(p, ChainProblem::Missing { from_seq, to_seq } if (*from_seq..=*to_seq).contains(&seq))) {
            report.problems.push(ChainProblem::ItemsAltered { seq });
        }
    }
    Ok(report)
}

/// The boundary a prune's record names.
fn prune_boundary(after: &str) -> Option<(i64, String)> {
    let value: Value = serde_json::from_str(after).ok()?;
    Some((
        value.get("through_seq")?.as_i64()?,
        value.get("through_hash")?.as_str()?.to_owned(),
    ))
}

/// The chain against the checkpoint kept outside the database.
fn check_checkpoint(
    checkpoint: &CheckpointState,
    hash_at_checkpoint: Option<String>,
    report: &mut VerifyReport,
) {
    match checkpoint {
        CheckpointState::Valid(c) if c.seq > 0 && report.records == 0 => {
            report.problems.push(ChainProblem::Emptied {
                checkpoint_seq: c.seq,
            });
        }
        CheckpointState::Valid(c) if c.seq > report.last_seq => {
            report.problems.push(ChainProblem::Truncated {
                last_seq: report.last_seq,
                checkpoint_seq: c.seq,
            });
        }
        CheckpointState::Valid(c) => {
            // A record missing at the checkpoint's place is already reported as missing.
            if c.seq > 0 && hash_at_checkpoint.is_some_and(|h| h != c.hash) {
                report
                    .problems
                    .push(ChainProblem::HeadReplaced { seq: c.seq });
            }
        }
        CheckpointState::Forged => report.problems.push(ChainProblem::CheckpointForged),
        CheckpointState::KeyMissing => report.problems.push(ChainProblem::CheckpointKeyMissing),
        CheckpointState::Missing if report.records > 0 => {
            report.notices.push(ChainNotice::NotAnchored);
        }
        CheckpointState::Missing => {}
        CheckpointState::NotConfigured => report.notices.push(ChainNotice::NoAnchorConfigured),
    }
}

/// What [`check_record`] carries from one record to the next.
struct ChainState {
    prev_hash: String,
    /// The audit key, when at hand.
    key: Option<std::sync::Arc<[u8]>>,
    /// The first keyed record as the checkpoint remembers it.
    keyed_from: Option<i64>,
    /// Whether a keyed record came before.
    keyed_seen: bool,
    key_needed_reported: bool,
    /// Only the first downgraded record is reported: the rest were recomputed with it.
    downgrade_reported: bool,
}

fn check_record(record: &AuditRecord, report: &mut VerifyReport, chain: &mut ChainState) {
    if record.seq != report.last_seq + 1 {
        report.problems.push(ChainProblem::Missing {
            from_seq: report.last_seq + 1,
            to_seq: record.seq - 1,
        });
    } else if record.prev_hash != chain.prev_hash {
        report
            .problems
            .push(ChainProblem::BrokenLink { seq: record.seq });
    }
    let must_be_keyed = chain.keyed_seen || chain.keyed_from.is_some_and(|from| record.seq >= from);
    if record.is_keyed() {
        chain.keyed_seen = true;
    } else if must_be_keyed && !chain.downgrade_reported {
        chain.downgrade_reported = true;
        report
            .problems
            .push(ChainProblem::Downgraded { seq: record.seq });
    }
    match record.compute_hash(chain.key.as_deref()) {
        Some(hash) if hash == record.hash => {}
        None if record.is_keyed()
            && chain.key.is_none()
            && suite_of_hash_alg(&record.hash_alg).is_some() =>
        {
            if !chain.key_needed_reported {
                chain.key_needed_reported = true;
                report
                    .problems
                    .push(ChainProblem::KeyNeeded { seq: record.seq });
            }
        }
        _ => report
            .problems
            .push(ChainProblem::Altered { seq: record.seq }),
    }
    report.records += 1;
    report.last_seq = record.seq;
    chain.prev_hash = record.hash.clone();
}

/// One change to one record, with the operation that made it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    /// The operation, e.g. `registry.write`.
    pub operation: String,
    /// What happened to this record: `create`, `update`.
    pub action: String,
    pub reason: Option<String>,
    pub before_data: Option<String>,
    pub after_data: Option<String>,
}

/// The most recent changes to one record, newest first. A household's creation comes from the
/// operation its row points to (`created_seq`); its changes from the items.
pub async fn history(
    db: &Db,
    object_type: &str,
    object_id: &str,
    limit: i64,
) -> Result<Vec<HistoryEntry>> {
    let entries: Vec<HistoryEntry> = on_pool!(db, pool => sqlx::query_as::<_, HistoryEntry>(
        "SELECT * FROM ( \
           SELECT l.seq, l.at, l.actor, l.action AS operation, CAST('create' AS TEXT) AS action, l.reason, \
                  CAST(NULL AS TEXT) AS before_data, CAST(NULL AS TEXT) AS after_data \
           FROM households h JOIN audit_log l ON l.seq = h.created_seq \
           WHERE $1 = 'household' AND h.household_no = $2 \
           UNION ALL \
           SELECT l.seq, l.at, l.actor, l.action AS operation, i.action, l.reason, i.before_data, i.after_data \
           FROM audit_items i JOIN audit_log l ON l.seq = i.seq \
           WHERE i.object_type = $1 AND i.object_id = $2 \
         ) AS changes ORDER BY seq DESC LIMIT $3")
        .bind(object_type)
        .bind(object_id)
        .bind(limit)
        .fetch_all(pool)
        .await?);
    entries
        .into_iter()
        .map(|mut e| {
            e.before_data = crate::keys::open_item_json_opt(e.before_data)?;
            e.after_data = crate::keys::open_item_json_opt(e.after_data)?;
            Ok(e)
        })
        .collect()
}

/// The most recent operations, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditRecord>> {
    Ok(on_pool!(db, pool => sqlx::query_as::<_, AuditRecord>(
        select_records!("ORDER BY seq DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(pool)
        .await?))
}
