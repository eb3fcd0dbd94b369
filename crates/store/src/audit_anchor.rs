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

use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use hmac::{KeyInit, Mac};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::Date;
use zhenxing_core::china_time::{now_stored, today_in_china};

type HmacSha256 = hmac::Hmac<sha2_for_hmac::Sha256>;

/// Where an anchor's two files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorConfig {
    /// The MAC key (32 random bytes, hex), created with mode 0600 at first use.
    pub key_file: PathBuf,
    /// The checkpoint, one JSON line.
    pub checkpoint_file: PathBuf,
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
    ) -> Result<Option<AnchorConfig>> {
        let identity = identity(db).await?;
        let (key_default, checkpoint_default) = match db {
            Db::Sqlite(_) if identity.is_empty() => {
                return Ok(key_file
                    .zip(checkpoint_file)
                    .map(|(key_file, checkpoint_file)| AnchorConfig {
                        key_file,
                        checkpoint_file,
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
    /// HMAC-SHA256 of the three fields above, hex.
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
    let anchor = {
        let mut list = anchors();
        list.retain(|a| a.identity != identity);
        let anchor = Arc::new(Anchor {
            identity,
            config,
            logged_on: Mutex::new(None),
        });
        list.push(anchor.clone());
        anchor
    };
    let mut state = read_checkpoint(&anchor.config);
    if state == CheckpointState::Missing {
        let records: i64 = on_pool!(db, pool =>
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(pool).await?);
        if records == 0 {
            write_checkpoint(&anchor, 0, crate::audit::GENESIS_HASH, true)?;
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
    let checkpoint = write_checkpoint(&anchor, seq, &hash, true)?;
    if let Some(checkpoint) = &checkpoint {
        log_checkpoint(&anchor, checkpoint, true);
    }
    Ok(checkpoint)
}

/// A head to checkpoint once its transaction has committed.
pub(crate) struct PendingCheckpoint {
    anchor: Arc<Anchor>,
    seq: i64,
    hash: String,
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
    Ok(Some(PendingCheckpoint { anchor, seq, hash }))
}

impl PendingCheckpoint {
    /// After the commit. A failure is logged, not returned: the transaction has committed, and
    /// a checkpoint left behind only narrows what `audit verify` can tell.
    pub(crate) fn write(self) {
        match write_checkpoint(&self.anchor, self.seq, &self.hash, false) {
            Ok(Some(checkpoint)) => log_checkpoint(&self.anchor, &checkpoint, false),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "the audit checkpoint could not be written"),
        }
    }
}

/// The MAC of a checkpoint's fields under the key.
fn mac(key: &[u8], seq: i64, hash: &str, at: &str) -> Result<String> {
    let mut mac = HmacSha256::new_from_slice(key)
        .map_err(|e| StoreError::Corrupt(format!("audit key: {e}")))?;
    mac.update(format!("zhenxing audit checkpoint\n{seq}\n{hash}\n{at}").as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
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
    let expected = mac(&key, checkpoint.seq, &checkpoint.hash, &checkpoint.at);
    // Comparing MACs in constant time is moot here: the attacker holds the file, not an oracle.
    match expected {
        Ok(expected) if expected == checkpoint.mac => CheckpointState::Valid(checkpoint),
        _ => CheckpointState::Forged,
    }
}

/// Writes the checkpoint at `seq`, under the lock file, unless (without `force`) the one on
/// disk is already there or further: the server and the CLI may both write.
fn write_checkpoint(
    anchor: &Anchor,
    seq: i64,
    hash: &str,
    force: bool,
) -> Result<Option<Checkpoint>> {
    let config = &anchor.config;
    let key = key_or_create(&config.key_file)?;
    let lock_path = config.checkpoint_file.with_extension("lock");
    let lock = File::create(&lock_path).map_err(|e| io_error(&lock_path, e))?;
    lock.lock().map_err(|e| io_error(&lock_path, e))?;
    if !force
        && let CheckpointState::Valid(current) = read_checkpoint(config)
        && current.seq >= seq
    {
        return Ok(None);
    }
    let at = now_stored();
    let checkpoint = Checkpoint {
        seq,
        hash: hash.to_owned(),
        mac: mac(&key, seq, hash, &at)?,
        at,
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
