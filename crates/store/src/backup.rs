//! Backups that restore: `zhenxing backup FILE` and `zhenxing restore FILE`.
//!
//! A backup file is a header line, a manifest (one JSON line) and the payload:
//!
//! - SQLite: a copy of the database file made with SQLite's online backup API on a connection
//!   of its own, in one step, so that it is one consistent snapshot while the server keeps
//!   writing (in WAL mode a reader does not block writers).
//! - PostgreSQL: the real `pg_dump --format=custom`, run on a snapshot exported from a
//!   repeatable-read transaction, in which the manifest's counts are taken too: the counts and
//!   the dump describe the same instant.
//!
//! The manifest names the format, the database kind, the registry's identity
//! (`registry_identity`), every table's row count, the audit chain's head, the time and the
//! payload's SHA-256 and length. With a key ring the payload is encrypted in chunks with its
//! current data key ([`KeyRing::seal_bytes`]); each chunk's associated data binds its number, the
//! payload's digest and whether it is the last, so that chunks cannot be reordered, swapped
//! between backups or cut off, and a large database never has to fit in memory.
//!
//! Restoring reads and checks the whole payload into a temporary file before anything is
//! changed: a corrupt, truncated or foreign backup, or a wrong key, changes nothing. The
//! caller then checks the audit chain and the counts ([`check_restored`]).

use crate::{Db, Result, StoreError, on_pool};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use zhenxing_core::china_time::now_stored;
use zhenxing_core::{Text, text};
use zhenxing_crypto::KeyRing;

/// The first line of every backup file.
const MAGIC: &str = "ZHENXING-BACKUP 1";
/// Plaintext bytes per encrypted chunk.
const CHUNK_BYTES: usize = 4 << 20;
/// A manifest longer than this is not one (a table list of a few hundred names is ~10 KiB).
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `sqlite` or `postgres`.
    pub database: String,
    /// What the payload is: `sqlite-database` or `pg_dump-custom`.
    pub payload_format: String,
    pub registry_id: String,
    /// When the snapshot was taken, in the stored format.
    pub created_at: String,
    pub zhenxing_version: String,
    /// Row counts of every table in the snapshot.
    pub tables: BTreeMap<String, i64>,
    pub audit_head: Option<AuditHead>,
    /// Length and SHA-256 of the payload before encryption.
    pub payload_bytes: u64,
    pub payload_sha256: String,
    /// Set when the payload is encrypted.
    pub encryption: Option<Encryption>,
    /// The keys the registry's personal data is sealed with, as the database records them
    /// (checks, never keys): a restore refuses, before it changes anything, a key ring that
    /// would not open them.
    #[serde(default)]
    pub keys: Option<crate::keys::Recorded>,
    /// The check of the audit key ([`crate::audit_anchor::key_check`]) when the snapshot's
    /// chain holds keyed records: a restore refuses, before it changes anything, a database
    /// whose audit key would not verify them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_key_check: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// The key ring's suite (`international`, `national`).
    pub suite: String,
    pub chunk_bytes: u64,
}

fn invalid(message: Text) -> StoreError {
    StoreError::Config(message)
}

fn io_error(path: &Path, e: std::io::Error) -> StoreError {
    let path = path.display();
    invalid(text!("{path}：{e}", "{path}: {e}"))
}

/// A file beside `path` that is removed when dropped, unless kept.
struct Scratch(PathBuf);

impl Scratch {
    fn beside(path: &Path, what: &str) -> Scratch {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nonce = hex::encode(crate::credentials::random_bytes::<6>());
        Scratch(path.with_file_name(format!(".{name}.{what}-{nonce}")))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The registry's identity (migration 0019).
pub async fn registry_id(db: &Db) -> Result<String> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT registry_id FROM registry_identity WHERE id = 1").fetch_one(pool).await?))
}

/// Backs `db` up into `out`, encrypted when `key_ring` is given. `url` is the database URL
/// (for `pg_dump`). The file appears only when complete.
pub async fn backup(
    db: &Db,
    url: &str,
    out: &Path,
    key_ring: Option<&KeyRing>,
) -> Result<Manifest> {
    let payload = Scratch::beside(out, "payload");
    let mut manifest = match db {
        Db::Sqlite(_) => {
            let source = crate::audit_anchor::identity(db).await?;
            if source.is_empty() {
                return Err(invalid(text!(
                    "内存数据库无法备份",
                    "an in-memory database cannot be backed up"
                )));
            }
            let target = payload.0.clone();
            tokio::task::spawn_blocking(move || sqlite_snapshot(Path::new(&source), &target))
                .await
                .map_err(|e| StoreError::Corrupt(e.to_string()))??
        }
        Db::Postgres(pool) => postgres_snapshot(pool, url, &payload.0).await?,
    };
    let (bytes, digest) = digest_file(&payload.0)?;
    manifest.payload_bytes = bytes;
    manifest.payload_sha256 = digest;
    manifest.keys = Some(crate::keys::recorded(db).await?);
    manifest.audit_key_check = match &manifest.audit_head {
        Some(head) if keyed_records_up_to(db, head.seq).await? => {
            crate::audit_anchor::key_check_of(db).await?
        }
        _ => None,
    };
    manifest.encryption = key_ring.map(|ring| Encryption {
        suite: ring.suite().code().to_owned(),
        chunk_bytes: CHUNK_BYTES as u64,
    });
    let partial = Scratch::beside(out, "partial");
    write_backup(&partial.0, &manifest, &payload.0, key_ring)?;
    std::fs::rename(&partial.0, out).map_err(|e| io_error(out, e))?;
    Ok(manifest)
}

/// Whether the chain holds keyed records up to `seq` (the snapshot's head: records are never
/// rewritten, so those of the live database up to it are the snapshot's).
async fn keyed_records_up_to(db: &Db, seq: i64) -> Result<bool> {
    let first: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT seq FROM audit_log WHERE hash_alg <> 'sha256' AND seq <= $1 ORDER BY seq LIMIT 1")
        .bind(seq).fetch_optional(pool).await?);
    Ok(first.is_some())
}

/// A manifest with the snapshot's facts; the payload's are filled in by [`backup`].
fn manifest(
    database: &str,
    payload_format: &str,
    registry_id: String,
    tables: BTreeMap<String, i64>,
    audit_head: Option<AuditHead>,
) -> Manifest {
    Manifest {
        database: database.to_owned(),
        payload_format: payload_format.to_owned(),
        registry_id,
        created_at: now_stored(),
        zhenxing_version: env!("CARGO_PKG_VERSION").to_owned(),
        tables,
        audit_head,
        payload_bytes: 0,
        payload_sha256: String::new(),
        encryption: None,
        keys: None,
        audit_key_check: None,
    }
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Bulk(e.to_string())
}

/// Copies the SQLite database at `source` to `target` with the online backup API, in one
/// step (one read transaction: a consistent snapshot), and reads the manifest's facts from
/// the copy.
fn sqlite_snapshot(source: &Path, target: &Path) -> Result<Manifest> {
    use rusqlite::{Connection, OpenFlags};
    let from = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    from.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(sqlite_error)?;
    let mut to = Connection::open(target).map_err(sqlite_error)?;
    {
        use rusqlite::backup::StepResult;
        let copy = rusqlite::backup::Backup::new(&from, &mut to).map_err(sqlite_error)?;
        // -1: every page in one step, so one read transaction (rusqlite's run_to_completion
        // takes positive steps only, and between steps a write restarts the copy).
        loop {
            match copy.step(-1).map_err(sqlite_error)? {
                StepResult::Done => break,
                StepResult::More => {}
                _ => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }
    drop(from);
    let facts = sqlite_facts(&to)?;
    // The copy is a single file: no WAL beside it to carry along.
    to.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sqlite_error)?;
    Ok(manifest(
        "sqlite",
        "sqlite-database",
        facts.registry_id,
        facts.tables,
        facts.audit_head,
    ))
}

struct Facts {
    registry_id: String,
    tables: BTreeMap<String, i64>,
    audit_head: Option<AuditHead>,
}

fn sqlite_facts(connection: &rusqlite::Connection) -> Result<Facts> {
    use rusqlite::OptionalExtension;
    let names: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sqlite_error)?;
    let mut tables = BTreeMap::new();
    for name in names {
        let count: i64 = connection
            .query_row(&format!("SELECT COUNT(*) FROM \"{name}\""), [], |r| {
                r.get(0)
            })
            .map_err(sqlite_error)?;
        tables.insert(name, count);
    }
    let registry_id: String = connection
        .query_row(
            "SELECT registry_id FROM registry_identity WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite_error)?;
    let audit_head = connection
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| {
                Ok(AuditHead {
                    seq: r.get(0)?,
                    hash: r.get(1)?,
                })
            },
        )
        .optional()
        .map_err(sqlite_error)?;
    Ok(Facts {
        registry_id,
        tables,
        audit_head,
    })
}

/// The tables of the current PostgreSQL schema.
const POSTGRES_TABLES: &str =
    "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1";

/// Runs `pg_dump` on a snapshot exported from a repeatable-read transaction that also takes
/// the manifest's counts, so that both describe the same instant.
async fn postgres_snapshot(pool: &sqlx::PgPool, url: &str, target: &Path) -> Result<Manifest> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await?;
    let names: Vec<String> = sqlx::query_scalar(POSTGRES_TABLES)
        .fetch_all(&mut *tx)
        .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let sql = format!("SELECT COUNT(*) FROM \"{name}\"");
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await?;
        tables.insert(name, count);
    }
    let registry_id: String =
        sqlx::query_scalar("SELECT registry_id FROM registry_identity WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
    let audit_head = sqlx::query_as::<_, (i64, String)>(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|(seq, hash)| AuditHead { seq, hash });
    let (url, target_path) = (url.to_owned(), target.to_owned());
    let dump = tokio::task::spawn_blocking(move || {
        run_tool(
            std::process::Command::new("pg_dump")
                .arg("--format=custom")
                .arg(format!("--snapshot={snapshot}"))
                .arg("--file")
                .arg(&target_path)
                .arg("--dbname")
                .arg(&url),
            "pg_dump",
        )
    })
    .await
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // The snapshot lives as long as the transaction: ended only after pg_dump has finished.
    tx.rollback().await?;
    dump?;
    Ok(manifest(
        "postgres",
        "pg_dump-custom",
        registry_id,
        tables,
        audit_head,
    ))
}

/// Runs one of PostgreSQL's tools; its own message when it fails.
fn run_tool(command: &mut std::process::Command, name: &str) -> Result<()> {
    let output = command.output().map_err(|e| {
        invalid(text!(
            "无法运行 {name}（{e}）：请安装 PostgreSQL 客户端工具（Debian：apt-get install postgresql-client），其版本不低于服务器",
            "{name} could not be run ({e}): install PostgreSQL's client tools (Debian: apt-get install postgresql-client), of the server's version or newer"
        ))
    })?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    Err(invalid(text!(
        "{name} 失败：{said}",
        "{name} failed: {said}"
    )))
}

fn digest_file(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut hasher = Sha256::new();
    let bytes =
        std::io::copy(&mut file, &mut HashSink(&mut hasher)).map_err(|e| io_error(path, e))?;
    Ok((bytes, hex::encode(hasher.finalize())))
}

pub(crate) struct HashSink<'a>(pub(crate) &'a mut Sha256);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The associated data of chunk `index`: bound to the payload, its place, and whether the
/// payload ends with it.
fn chunk_context(manifest: &Manifest, index: u64, last: bool) -> String {
    format!(
        "zhenxing backup chunk\n{}\n{}\n{index}\n{}",
        manifest.registry_id,
        manifest.payload_sha256,
        if last { "last" } else { "more" }
    )
}

/// Reads up to `buf.len()` bytes; fewer only at the end of the input.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn write_backup(
    out: &Path,
    manifest: &Manifest,
    payload: &Path,
    key_ring: Option<&KeyRing>,
) -> Result<()> {
    let file = File::create(out).map_err(|e| io_error(out, e))?;
    let mut writer = BufWriter::new(file);
    let line = serde_json::to_string(manifest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let io = |e| io_error(out, e);
    writer
        .write_all(format!("{MAGIC}\n{line}\n").as_bytes())
        .map_err(io)?;
    let mut reader = BufReader::new(File::open(payload).map_err(|e| io_error(payload, e))?);
    match key_ring {
        None => {
            std::io::copy(&mut reader, &mut writer).map_err(io)?;
        }
        Some(ring) => {
            let mut total = 0u64;
            let mut buf = vec![0u8; CHUNK_BYTES];
            let mut index = 0u64;
            loop {
                let n = read_full(&mut reader, &mut buf).map_err(|e| io_error(payload, e))?;
                total += n as u64;
                let last = total >= manifest.payload_bytes;
                let sealed = ring.seal_bytes(&chunk_context(manifest, index, last), &buf[..n]);
                let len = u32::try_from(sealed.len())
                    .map_err(|_| StoreError::Corrupt("chunk too large".into()))?;
                writer.write_all(&len.to_be_bytes()).map_err(io)?;
                writer.write_all(&sealed).map_err(io)?;
                index += 1;
                if last {
                    break;
                }
            }
        }
    }
    let file = writer
        .into_inner()
        .map_err(|e| io_error(out, e.into_error()))?;
    file.sync_all().map_err(|e| io_error(out, e))
}

fn corrupt(path: &Path, why: &str) -> StoreError {
    let path = path.display();
    invalid(text!(
        "{path} 不是完整的振兴备份（{why}）：文件已损坏或被截断，未作任何更改。请换用另一份备份",
        "{path} is not a whole zhenxing backup ({why}): the file is corrupt or cut short; nothing was changed. Use another backup"
    ))
}

/// Reads a backup's header and manifest; the reader is left at the payload.
fn open_backup(path: &Path) -> Result<(Manifest, BufReader<File>)> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = BufReader::new(file);
    let mut magic = String::new();
    (&mut reader)
        .take(64)
        .read_line(&mut magic)
        .map_err(|e| io_error(path, e))?;
    if magic.trim_end() != MAGIC {
        let shown = path.display();
        return Err(invalid(text!(
            "{shown} 不是振兴的备份文件（开头不是“{MAGIC}”），未作任何更改",
            "{shown} is not a zhenxing backup (it does not begin with '{MAGIC}'); nothing was changed"
        )));
    }
    let mut line = String::new();
    (&mut reader)
        .take(MAX_MANIFEST_BYTES)
        .read_line(&mut line)
        .map_err(|e| io_error(path, e))?;
    let manifest: Manifest =
        serde_json::from_str(line.trim_end()).map_err(|_| corrupt(path, "manifest"))?;
    Ok((manifest, reader))
}

/// A backup's manifest, for showing.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    open_backup(path).map(|(manifest, _)| manifest)
}

/// Checks the whole backup at `path` and writes its payload, decrypted, to `target`: a
/// corrupt or truncated file, a wrong key or a missing one is refused.
fn extract_payload(path: &Path, key_ring: Option<&KeyRing>, target: &Path) -> Result<Manifest> {
    let (manifest, mut reader) = open_backup(path)?;
    let file = File::create(target).map_err(|e| io_error(target, e))?;
    let mut writer = BufWriter::new(file);
    let mut hasher = Sha256::new();
    let io_out = |e| io_error(target, e);
    let io_in = |e| io_error(path, e);
    let mut written = 0u64;
    match (&manifest.encryption, key_ring) {
        (None, _) => {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = reader.read(&mut buf).map_err(io_in)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                writer.write_all(&buf[..n]).map_err(io_out)?;
                written += n as u64;
            }
        }
        (Some(encryption), None) => {
            let suite = &encryption.suite;
            return Err(invalid(text!(
                "此备份已加密（{suite}）：请用 --key-file 给出备份时所用的密钥文件",
                "this backup is encrypted ({suite}): give the key file it was made with with --key-file"
            )));
        }
        (Some(encryption), Some(ring)) => {
            let max_sealed = encryption.chunk_bytes.saturating_add(64);
            let mut index = 0u64;
            loop {
                let mut len = [0u8; 4];
                if read_full(&mut reader, &mut len).map_err(io_in)? < 4 {
                    return Err(corrupt(path, "the encrypted payload ends early"));
                }
                let len = u64::from(u32::from_be_bytes(len));
                if len > max_sealed {
                    return Err(corrupt(path, "an encrypted chunk's length"));
                }
                let mut sealed = vec![0u8; len as usize];
                if read_full(&mut reader, &mut sealed).map_err(io_in)? < sealed.len() {
                    return Err(corrupt(path, "the encrypted payload ends early"));
                }
                // The chunk says whether it is the last one only through its associated data.
                let (plain, last) = match ring
                    .open_bytes(&chunk_context(&manifest, index, false), &sealed)
                {
                    Ok(plain) => (plain, false),
                    Err(_) => {
                        match ring.open_bytes(&chunk_context(&manifest, index, true), &sealed) {
                            Ok(plain) => (plain, true),
                            Err(e) => {
                                let e = e.to_string();
                                return Err(invalid(text!(
                                    "备份无法用所给密钥解密（{e}）：密钥不是备份时所用的，或文件已被改动。未作任何更改",
                                    "the backup does not decrypt with the key given ({e}): it is not the key the backup was made with, or the file was altered. Nothing was changed"
                                )));
                            }
                        }
                    }
                };
                hasher.update(&plain);
                writer.write_all(&plain).map_err(io_out)?;
                written += plain.len() as u64;
                index += 1;
                if last {
                    break;
                }
            }
            let mut rest = [0u8; 1];
            if reader.read(&mut rest).map_err(io_in)? != 0 {
                return Err(corrupt(path, "bytes after the last chunk"));
            }
        }
    }
    let file = writer
        .into_inner()
        .map_err(|e| io_error(target, e.into_error()))?;
    file.sync_all().map_err(io_out)?;
    if written != manifest.payload_bytes
        || hex::encode(hasher.finalize()) != manifest.payload_sha256
    {
        return Err(corrupt(path, "its digest does not match the manifest"));
    }
    Ok(manifest)
}

/// Whether the database holds a registry: households or accounts.
async fn holds_data(db: &Db) -> Result<bool> {
    let rows: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM households) + (SELECT COUNT(*) FROM accounts)")
        .fetch_one(pool).await?);
    Ok(rows > 0)
}

/// Restores the backup at `path` over the database `db` (at `url`), which is closed: the
/// caller opens it again and runs [`check_restored`]. Refuses a database that holds a
/// registry unless `replace`, and always one that holds another registry. SQLite: the checked
/// payload replaces the file (the old one is kept as `FILE.before-restore`); PostgreSQL:
/// `pg_restore` in one transaction.
pub async fn restore(
    db: Db,
    url: &str,
    path: &Path,
    key_ring: Option<&KeyRing>,
    replace: bool,
) -> Result<Manifest> {
    let target_file = match &db {
        Db::Sqlite(_) => {
            let file = crate::audit_anchor::identity(&db).await?;
            if file.is_empty() {
                return Err(invalid(text!(
                    "无法恢复到内存数据库",
                    "a backup cannot be restored into an in-memory database"
                )));
            }
            Some(PathBuf::from(file))
        }
        Db::Postgres(_) => None,
    };
    let scratch = Scratch::beside(target_file.as_deref().unwrap_or(path), "restore");
    let manifest = extract_payload(path, key_ring, &scratch.0)?;
    if manifest.database != db.backend_name() {
        let (from, to) = (&manifest.database, db.backend_name());
        return Err(invalid(text!(
            "这是 {from} 数据库的备份，不能恢复到 {to} 数据库，未作任何更改",
            "this is a backup of a {from} database and cannot be restored into a {to} database; nothing was changed"
        )));
    }
    if let Some(recorded) = manifest.keys.as_ref().filter(|r| r.settings.is_some()) {
        let fits = crate::keys::current()
            .is_some_and(|(ring, source)| crate::keys::verify(&ring, &source, recorded).is_ok());
        if !fits {
            return Err(invalid(text!(
                "此备份中的个人数据是用另一个密钥文件加密的，当前给出的密钥打不开：未作任何更改。请用 --key-file 给出被备份登记库的密钥文件",
                "this backup's personal data is encrypted with another key file than the one given, which cannot open it: nothing was changed. Give the backed-up registry's key file with --key-file"
            )));
        }
    }
    if let Some(recorded) = &manifest.audit_key_check {
        let ours = crate::audit_anchor::key_check_of(&db).await?;
        if ours.as_ref() != Some(recorded) {
            let file = crate::audit_anchor::key_file_of(&db)
                .await?
                .map(|f| f.display().to_string())
                .unwrap_or_default();
            return Err(invalid(text!(
                "此备份的审计链以另一个审计密钥生成，本数据库的审计密钥（{file}）无法验证：未作任何更改。请用 --audit-key 给出被备份登记库的审计密钥文件",
                "this backup's audit trail is keyed with another audit key than this database's ({file}), which could not verify it: nothing was changed. Give the backed-up registry's audit key file with --audit-key"
            )));
        }
    }
    if holds_data(&db).await? {
        let current = registry_id(&db).await?;
        if current != manifest.registry_id {
            let theirs = &manifest.registry_id;
            return Err(invalid(text!(
                "此备份属于另一个登记库（{theirs}），而目标数据库存有登记库 {current}：未作任何更改。请恢复到一个空数据库",
                "this backup is of another registry ({theirs}), while the database holds registry {current}: nothing was changed. Restore it into an empty database"
            )));
        }
        if !replace {
            return Err(invalid(text!(
                "目标数据库已有数据：未作任何更改。确要以备份替换其内容，请加 --replace",
                "the database already holds data: nothing was changed. To replace it with the backup, add --replace"
            )));
        }
    }
    db.close().await;
    match target_file {
        Some(file) => {
            let check = scratch.0.clone();
            tokio::task::spawn_blocking(move || sqlite_check(&check))
                .await
                .map_err(|e| StoreError::Corrupt(e.to_string()))??;
            replace_sqlite_file(&file, &scratch.0)?;
        }
        None => {
            let (url, dump) = (url.to_owned(), scratch.0.clone());
            tokio::task::spawn_blocking(move || {
                run_tool(
                    std::process::Command::new("pg_restore")
                        .args([
                            "--single-transaction",
                            "--exit-on-error",
                            "--clean",
                            "--if-exists",
                            "--no-owner",
                            "--dbname",
                        ])
                        .arg(&url)
                        .arg(&dump),
                    "pg_restore",
                )
            })
            .await
            .map_err(|e| StoreError::Corrupt(e.to_string()))??;
        }
    }
    Ok(manifest)
}

/// SQLite's own check of the restored file before it replaces anything.
fn sqlite_check(path: &Path) -> Result<()> {
    let connection = rusqlite::Connection::open(path).map_err(sqlite_error)?;
    let result: String = connection
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(sqlite_error)?;
    if result != "ok" {
        return Err(corrupt(path, &result));
    }
    Ok(())
}

/// Puts the restored file in place of `file`, keeping the old one beside it. The old
/// database's WAL and shared-memory files go with it: left behind, they would be applied to
/// the restored file.
fn replace_sqlite_file(file: &Path, restored: &Path) -> Result<()> {
    let suffixed = |suffix: &str| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let kept = suffixed(".before-restore");
    if file.exists() {
        std::fs::rename(file, &kept).map_err(|e| io_error(file, e))?;
    }
    for suffix in ["-wal", "-shm"] {
        let side = suffixed(suffix);
        if side.exists() {
            let moved = suffixed(&format!(".before-restore{suffix}"));
            std::fs::rename(&side, &moved).map_err(|e| io_error(&side, e))?;
        }
    }
    std::fs::rename(restored, file).map_err(|e| io_error(file, e))
}

/// What [`check_restored`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreCheck {
    /// Tables whose count differs from the manifest: (table, manifest, restored).
    pub count_mismatches: Vec<(String, i64, i64)>,
    /// The audit chain's problems, apart from those with the checkpoint that the restore
    /// itself makes (a restored chain is older than the checkpoint of the database it replaced).
    pub chain_problems: Vec<crate::audit::ChainProblem>,
    /// The restored audit head differs from the manifest's.
    pub head_mismatch: bool,
}

impl RestoreCheck {
    pub fn is_clean(&self) -> bool {
        self.count_mismatches.is_empty() && self.chain_problems.is_empty() && !self.head_mismatch
    }
}

/// After a restore, on the database opened again: the row counts against the manifest and the
/// audit chain.
pub async fn check_restored(db: &Db, manifest: &Manifest) -> Result<RestoreCheck> {
    use crate::audit::ChainProblem;
    let mut count_mismatches = Vec::new();
    for (table, expected) in &manifest.tables {
        let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
        let count: i64 = on_pool!(db, pool =>
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())).fetch_one(pool).await?);
        if count != *expected {
            count_mismatches.push((table.clone(), *expected, count));
        }
    }
    let report = crate::audit::verify(db).await?;
    let chain_problems = report
        .problems
        .into_iter()
        .filter(|p| {
            !matches!(
                p,
                ChainProblem::Truncated { .. }
                    | ChainProblem::Emptied { .. }
                    | ChainProblem::HeadReplaced { .. }
            )
        })
        .collect();
    let head: Option<(i64, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(pool).await?);
    let head_mismatch = head.map(|(seq, hash)| AuditHead { seq, hash }) != manifest.audit_head;
    Ok(RestoreCheck {
        count_mismatches,
        chain_problems,
        head_mismatch,
    })
}
