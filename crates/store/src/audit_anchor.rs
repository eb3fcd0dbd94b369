//! The audit chain's anchor outside the database: a checkpoint file holding the chain head's
//! sequence number and hash, with an HMAC-SHA256 under a key kept in a file of its own.
//!
//! Why: the hash chain ([`crate::audit`]) shows any record altered or deleted in the middle, but
//! someone who can write the database can also cut its tail, or empty the three audit tables,
//! and what is left is a perfectly valid chain. The head therefore has to be remembered where
//! deleting rows cannot reach it. After every committed write transaction that moved the head
//! ([`crate::Tx::commit`]) the checkpoint is rewritten (temporary file and rename, under a lock
//! file, never backwards, and only when the chain still holds the checkpointed record), and its
//! line goes to the log at start and once a (Beijing) day. [`crate::audit::verify`] compares the
//! chain with it: a chain shorter than the checkpoint, an emptied one, a different record at the
//! checkpoint's place, or a checkpoint whose MAC does not verify is a problem.
//!
//! The anchor is configured per database, once per process ([`install`]); the CLI does it for
//! every command and thereby for the server. Databases nobody anchored are not checkpointed.
//!
//! The same key keys the chain itself (issue 15): every record written while an anchor is
//! installed is hashed with an HMAC under it, in the deployment's [`Suite`] (HMAC-SHA-256 or
//! HMAC-SM3), so that someone who can write the database but not read the key cannot recompute
//! the chain after altering it. The checkpoint remembers the first keyed record (`keyed_from`),
//! so a keyed tail rewritten as plain SHA-256 is a downgrade [`crate::audit::verify`] reports.

use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use hmac::{KeyInit, Mac};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::Date;
use zhenxing_core::china_time::{now_stored, today_in_china};
use zhenxing_crypto::Suite;

type HmacSha256 = hmac::Hmac<sha2_for_hmac::Sha256>;

/// Where an anchor's two files are, and the suite that keys the chain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnchorConfig {
    /// The MAC key (32 random bytes, hex), created with mode 0600 at first use.
    pub key_file: PathBuf,
    /// The checkpoint, one JSON line.
    pub checkpoint_file: PathBuf,
    /// The HMAC of new audit records: the deployment's suite (International by default).
    pub suite: Suite,
}

impl AnchorConfig {
    /// The files given, or by default beside the SQLite database (`registry.db.audit-key`,
    /// `registry.db.audit-checkpoint`) or, for PostgreSQL, in the working directory
    /// (`zhenxing-audit.key`, `zhenxing-audit-DATABASE.checkpoint`). `None` for an in-memory
    /// SQLite database without both files given: it does not outlive the process.
    pub async fn resolve(
        db: &Db,
        key_file: Option<PathBuf>,
        checkpoint_file: Option<PathBuf>,
        suite: Suite,
    ) -> Result<Option<AnchorConfig>> {
        let identity = identity(db).await?;
        let (key_default, checkpoint_default) = match db {
            Db::Sqlite(_) if identity.is_empty() => {
                return Ok(key_file
                    .zip(checkpoint_file)
                    .map(|(key_file, checkpoint_file)| AnchorConfig {
                        key_file,
                        checkpoint_file,
                        suite,
                    }));
            }
            Db::Sqlite(_) => (
                PathBuf::from(format!("{identity}.audit-key")),
                PathBuf::from(format!("{identity}.audit-checkpoint")),
            ),
            Db::Postgres(_) => (
                PathBuf::from("zhenxing-audit.key"),
                PathBuf::from(format!("zhenxing-audit-{identity}.checkpoint")),
            ),
        };
        Ok(Some(AnchorConfig {
            key_file: key_file.unwrap_or(key_default),
            checkpoint_file: checkpoint_file.unwrap_or(checkpoint_default),
            suite,
        }))
    }
}

/// The chain head as last anchored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// When it was written, in the stored format.
    pub at: String,
    /// The first keyed record of the chain, once there is one: from there on every record
    /// must be keyed. Absent from checkpoints written before the chain was keyed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyed_from: Option<i64>,
    /// HMAC-SHA256 of the fields above, hex.
    pub mac: String,
}

/// What the checkpoint file says, as read for [`crate::audit::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointState {
    /// No anchor is configured for this database in this process.
    NotConfigured,
    /// The anchor is configured but its checkpoint file does not exist.
    Missing,
    /// The checkpoint exists but its key file does not.
    KeyMissing,
    /// The checkpoint does not parse or its MAC does not verify.
    Forged,
    Valid(Checkpoint),
}

struct Anchor {
    /// The database it belongs to ([`identity`]).
    identity: String,
    config: AnchorConfig,
    /// The key read (or made) at [`install`], for keying new records; `None` when the key file
    /// is gone while a checkpoint exists: then audited writes are refused, since records
    /// written unkeyed after keyed ones would read as a downgrade.
    key: Option<Arc<[u8]>>,
    /// The Beijing day the checkpoint line was last logged.
    logged_on: Mutex<Option<Date>>,
}

/// The anchors of this process. A handful at most (one per database), so a list.
static ANCHORS: Mutex<Vec<Arc<Anchor>>> = Mutex::new(Vec::new());

fn anchors() -> std::sync::MutexGuard<'static, Vec<Arc<Anchor>>> {
    // A panic while holding the lock leaves a list that is still whole.
    ANCHORS.lock().unwrap_or_else(|e| e.into_inner())
}

fn anchor_of(identity: &str) -> Option<Arc<Anchor>> {
    anchors().iter().find(|a| a.identity == identity).cloned()
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Corrupt(format!("{}: {e}", path.display()))
}

/// The database's identity: the SQLite file's path (empty in memory) or the PostgreSQL
/// database's name.
pub(crate) async fn identity(db: &Db) -> Result<String> {
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query_scalar(SQLITE_IDENTITY).fetch_one(pool).await?,
        Db::Postgres(pool) => {
            sqlx::query_scalar(POSTGRES_IDENTITY)
                .fetch_one(pool)
                .await?
        }
    })
}

const SQLITE_IDENTITY: &str = "SELECT file FROM pragma_database_list WHERE name = 'main'";
const POSTGRES_IDENTITY: &str = "SELECT CAST(current_database() AS TEXT)";

/// Anchors `db`'s audit chain in `config`'s files for the rest of the process. A database
/// without audit records gets its first checkpoint (at 0) now; one that has records but no
/// checkpoint is logged as a warning and stays unanchored until [`anchor_now`].
pub async fn install(db: &Db, config: AnchorConfig) -> Result<CheckpointState> {
    let identity = identity(db).await?;
    let mut state = read_checkpoint(&config);
    // A key made anew for a chain that already holds keyed records would make them all read
    // as altered: the lost key has to be restored instead.
    let keyed_records_exist = !config.key_file.exists()
        && on_pool!(db, pool =>
            sqlx::query_scalar::<_, i64>(FIRST_KEYED).fetch_optional(pool).await?)
        .is_some();
    if keyed_records_exist && state == CheckpointState::Missing {
        state = CheckpointState::KeyMissing;
    }
    let key = match state {
        CheckpointState::KeyMissing => {
            tracing::error!(
                key = %config.key_file.display(),
                "the audit key file is missing or unreadable: audited writes are refused until it is restored"
            );
            None
        }
        _ => Some(Arc::from(key_or_create(&config.key_file)?)),
    };
    let anchor = {
        let mut list = anchors();
        list.retain(|a| a.identity != identity);
        let anchor = Arc::new(Anchor {
            identity,
            config,
            key,
            logged_on: Mutex::new(None),
        });
        list.push(anchor.clone());
        anchor
    };
    if state == CheckpointState::Missing {
        let records: i64 = on_pool!(db, pool =>
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(pool).await?);
        if records == 0 {
            write_checkpoint(&anchor, 0, crate::audit::GENESIS_HASH, None, true)?;
            state = read_checkpoint(&anchor.config);
        } else {
            tracing::warn!(
                checkpoint = %anchor.config.checkpoint_file.display(),
                "the audit trail has no checkpoint: run `zhenxing audit anchor --reason …` to anchor it"
            );
        }
    }
    if let CheckpointState::Valid(checkpoint) = &state {
        log_checkpoint(&anchor, checkpoint, true);
    }
    Ok(state)
}

/// The checkpoint of `db`, for verification.
pub async fn checkpoint_of(db: &Db) -> Result<CheckpointState> {
    let identity = identity(db).await?;
    Ok(match anchor_of(&identity) {
        Some(anchor) => read_checkpoint(&anchor.config),
        None => CheckpointState::NotConfigured,
    })
}

/// Rewrites `db`'s checkpoint at the chain's current head, backwards too: after the operator
/// has checked a restored or upgraded database. The caller records why in the trail first.
pub async fn anchor_now(db: &Db) -> Result<Option<Checkpoint>> {
    let identity = identity(db).await?;
    let Some(anchor) = anchor_of(&identity) else {
        return Ok(None);
    };
    let head: Option<(i64, String)> = on_pool!(db, pool =>
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(pool).await?);
    let (seq, hash) = head.unwrap_or((0, crate::audit::GENESIS_HASH.to_owned()));
    let keyed_from: Option<i64> = on_pool!(db, pool =>
        sqlx::query_scalar(FIRST_KEYED).fetch_optional(pool).await?);
    let checkpoint = write_checkpoint(&anchor, seq, &hash, keyed_from, true)?;
    if let Some(checkpoint) = &checkpoint {
        log_checkpoint(&anchor, checkpoint, true);
    }
    Ok(checkpoint)
}

/// The first keyed record of the chain.
const FIRST_KEYED: &str =
    "SELECT seq FROM audit_log WHERE hash_alg <> 'sha256' ORDER BY seq LIMIT 1";

/// The key and algorithm new audit records are hashed with.
#[derive(Clone)]
pub struct ChainKey {
    pub suite: Suite,
    pub key: Arc<[u8]>,
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainKey({})", self.suite)
    }
}

/// Inside a write transaction: the key that new records are hashed with, `None` when the
/// database is not anchored (records then use plain SHA-256, as before issue 15). An anchor
/// whose key is gone refuses the write.
pub(crate) async fn chain_key(tx: &mut Tx) -> Result<Option<ChainKey>> {
    if anchors().is_empty() {
        return Ok(None);
    }
    let identity: String = match tx {
        Tx::Sqlite(t) => {
            sqlx::query_scalar(SQLITE_IDENTITY)
                .fetch_one(&mut **t)
                .await?
        }
        Tx::Postgres(t) => {
            sqlx::query_scalar(POSTGRES_IDENTITY)
                .fetch_one(&mut **t)
                .await?
        }
    };
    let Some(anchor) = anchor_of(&identity) else {
        return Ok(None);
    };
    match &anchor.key {
        Some(key) => Ok(Some(ChainKey {
            suite: anchor.config.suite,
            key: key.clone(),
        })),
        None => {
            let path = anchor.config.key_file.display();
            Err(StoreError::Config(zhenxing_core::text!(
                "审计密钥文件 {path} 不存在或无法读取，审计记录无法写入：请从备份恢复该文件后重启",
                "the audit key file {path} is missing or unreadable, so no audit record can be written: restore it from its backup and restart"
            )))
        }
    }
}

/// For verification: the key as its file holds it now (not as read at start), `None` when no
/// anchor is configured or the file is gone.
pub async fn verification_key(db: &Db) -> Result<Option<Arc<[u8]>>> {
    let identity = identity(db).await?;
    Ok(anchor_of(&identity)
        .and_then(|anchor| read_key(&anchor.config.key_file))
        .map(Arc::from))
}

/// The suite of `db`'s anchor, `None` when it has none.
pub async fn suite_of(db: &Db) -> Result<Option<Suite>> {
    let identity = identity(db).await?;
    Ok(anchor_of(&identity).map(|a| a.config.suite))
}

/// The key file of `db`'s anchor, for messages.
pub async fn key_file_of(db: &Db) -> Result<Option<PathBuf>> {
    let identity = identity(db).await?;
    Ok(anchor_of(&identity).map(|a| a.config.key_file.clone()))
}

/// A head to checkpoint once its transaction has committed.
pub(crate) struct PendingCheckpoint {
    anchor: Arc<Anchor>,
    seq: i64,
    hash: String,
    keyed_from: Option<i64>,
}

/// Inside a transaction about to commit: the head to checkpoint afterwards, if the database is
/// anchored, its head moved past the checkpoint, and the chain still holds the checkpointed
/// record (else the checkpoint stays, as evidence, and the refusal is logged).
pub(crate) async fn pending(tx: &mut Tx) -> Result<Option<PendingCheckpoint>> {
    if anchors().is_empty() {
        return Ok(None);
    }
    let (identity, seq, hash): (String, Option<i64>, Option<String>) = match tx {
        Tx::Sqlite(t) => sqlx::query_as(concat!(
            "SELECT (SELECT file FROM pragma_database_list WHERE name = 'main'), ",
            "(SELECT seq FROM audit_head WHERE id = 1), (SELECT hash FROM audit_head WHERE id = 1)"
        ))
        .fetch_one(&mut **t)
        .await?,
        Tx::Postgres(t) => sqlx::query_as(concat!(
            "SELECT CAST(current_database() AS TEXT), ",
            "(SELECT seq FROM audit_head WHERE id = 1), (SELECT hash FROM audit_head WHERE id = 1)"
        ))
        .fetch_one(&mut **t)
        .await?,
    };
    let (Some(anchor), Some(seq), Some(hash)) = (anchor_of(&identity), seq, hash) else {
        return Ok(None);
    };
    let CheckpointState::Valid(checkpoint) = read_checkpoint(&anchor.config) else {
        // Missing or unverifiable: `audit verify` reports it, `audit anchor` re-anchors.
        return Ok(None);
    };
    if seq <= checkpoint.seq {
        return Ok(None);
    }
    let keyed_from = match checkpoint.keyed_from {
        Some(seq) => Some(seq),
        None => on_tx!(tx, conn => sqlx::query_scalar(FIRST_KEYED).fetch_optional(conn).await?),
    };
    if checkpoint.seq > 0 {
        let at_checkpoint: Option<String> = on_tx!(tx, conn =>
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(checkpoint.seq).fetch_optional(conn).await?);
        if at_checkpoint.as_deref() != Some(checkpoint.hash.as_str()) {
            tracing::error!(
                checkpoint_seq = checkpoint.seq,
                "the audit chain no longer holds the checkpointed record: the checkpoint is kept; \
                 run `zhenxing audit verify`"
            );
            return Ok(None);
        }
    }
    Ok(Some(PendingCheckpoint {
        anchor,
        seq,
        hash,
        keyed_from,
    }))
}

impl PendingCheckpoint {
    /// After the commit. A failure is logged, not returned: the transaction has committed, and
    /// a checkpoint left behind only narrows what `audit verify` can tell.
    pub(crate) fn write(self) {
        match write_checkpoint(&self.anchor, self.seq, &self.hash, self.keyed_from, false) {
            Ok(Some(checkpoint)) => log_checkpoint(&self.anchor, &checkpoint, false),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "the audit checkpoint could not be written"),
        }
    }
}

/// The MAC of a checkpoint's fields under the key (`keyed_from` only when there is one, so
/// that checkpoints written before the chain was keyed still verify).
fn mac(key: &[u8], seq: i64, hash: &str, at: &str, keyed_from: Option<i64>) -> Result<String> {
    let mut mac = HmacSha256::new_from_slice(key)
        .map_err(|e| StoreError::Corrupt(format!("audit key: {e}")))?;
    mac.update(format!("zhenxing audit checkpoint\n{seq}\n{hash}\n{at}").as_bytes());
    if let Some(keyed_from) = keyed_from {
        mac.update(format!("\nkeyed_from {keyed_from}").as_bytes());
    }
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// A check of the audit key, never the key: equal checks mean the same key. Recorded in
/// backups, so that a restore refuses a database whose audit key would not verify the
/// backup's keyed chain before it changes anything.
pub fn key_check(key: &[u8]) -> Result<String> {
    let mut mac = HmacSha256::new_from_slice(key)
        .map_err(|e| StoreError::Corrupt(format!("audit key: {e}")))?;
    mac.update(b"zhenxing audit key check");
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// The check of `db`'s audit key as its file holds it now; `None` without one.
pub async fn key_check_of(db: &Db) -> Result<Option<String>> {
    verification_key(db)
        .await?
        .map(|key| key_check(&key))
        .transpose()
}

fn read_key(path: &Path) -> Option<Vec<u8>> {
    let text = std::fs::read_to_string(path).ok()?;
    hex::decode(text.trim()).ok().filter(|k| k.len() >= 32)
}

/// The key, created (32 random bytes, mode 0600) when its file does not exist.
fn key_or_create(path: &Path) -> Result<Vec<u8>> {
    if path.exists() {
        return read_key(path).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{}: not an audit key (64 hexadecimal digits)",
                path.display()
            ))
        });
    }
    let key: [u8; 32] = crate::credentials::random_bytes();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| io_error(path, e))?;
    file.write_all(hex::encode(key).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(path, e))?;
    Ok(key.to_vec())
}

fn read_checkpoint(config: &AnchorConfig) -> CheckpointState {
    let Ok(text) = std::fs::read_to_string(&config.checkpoint_file) else {
        return CheckpointState::Missing;
    };
    let Some(key) = read_key(&config.key_file) else {
        return CheckpointState::KeyMissing;
    };
    let Ok(checkpoint) = serde_json::from_str::<Checkpoint>(text.trim()) else {
        return CheckpointState::Forged;
    };
    let expected = mac(
        &key,
        checkpoint.seq,
        &checkpoint.hash,
        &checkpoint.at,
        checkpoint.keyed_from,
    );
    // Comparing MACs in constant time is moot here: the attacker holds the file, not an oracle.
    match expected {
        Ok(expected) if expected == checkpoint.mac => CheckpointState::Valid(checkpoint),
        _ => CheckpointState::Forged,
    }
}

/// Writes the checkpoint at `seq`, under the lock file, unless (without `force`) the one on
/// disk is already there or further: the server and the CLI may both write. The first keyed
/// record, once known, is never forgotten.
fn write_checkpoint(
    anchor: &Anchor,
    seq: i64,
    hash: &str,
    keyed_from: Option<i64>,
    force: bool,
) -> Result<Option<Checkpoint>> {
    let config = &anchor.config;
    let key = key_or_create(&config.key_file)?;
    let lock_path = config.checkpoint_file.with_extension("lock");
    let lock = File::create(&lock_path).map_err(|e| io_error(&lock_path, e))?;
    lock.lock().map_err(|e| io_error(&lock_path, e))?;
    let current = match read_checkpoint(config) {
        CheckpointState::Valid(current) => Some(current),
        _ => None,
    };
    if !force && current.as_ref().is_some_and(|c| c.seq >= seq) {
        return Ok(None);
    }
    let keyed_from = match (keyed_from, current.and_then(|c| c.keyed_from)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let at = now_stored();
    let checkpoint = Checkpoint {
        seq,
        hash: hash.to_owned(),
        mac: mac(&key, seq, hash, &at, keyed_from)?,
        at,
        keyed_from,
    };
    let line =
        serde_json::to_string(&checkpoint).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let temporary = config.checkpoint_file.with_extension("tmp");
    let mut file = File::create(&temporary).map_err(|e| io_error(&temporary, e))?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(&temporary, e))?;
    std::fs::rename(&temporary, &config.checkpoint_file)
        .map_err(|e| io_error(&config.checkpoint_file, e))?;
    drop(lock);
    Ok(Some(checkpoint))
}

/// The checkpoint's line in the log: at start (`always`) and on the first write of a Beijing
/// day, so that the log kept elsewhere holds the head too.
fn log_checkpoint(anchor: &Anchor, checkpoint: &Checkpoint, always: bool) {
    let today = today_in_china();
    let mut logged_on = anchor.logged_on.lock().unwrap_or_else(|e| e.into_inner());
    if always || *logged_on != Some(today) {
        *logged_on = Some(today);
        tracing::info!(
            seq = checkpoint.seq,
            hash = %checkpoint.hash,
            at = %checkpoint.at,
            mac = %checkpoint.mac,
            "audit checkpoint"
        );
    }
}
