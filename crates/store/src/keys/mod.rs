//! Personal data encrypted at rest: the key ring of the process, the columns it seals, and the
//! checks that keep a wrong or missing key from reading as garbage or writing plaintext.
//!
//! ID and phone numbers ([`SEALED_COLUMNS`]) are stored as sealed fields of
//! [`zhenxing_crypto`] (`zx1:<key>:<base64>`); the store seals them as it writes ([`seal`], and
//! in bulk in [`crate::bulk`]) and opens them as it reads ([`open`]), so that masking, reveal
//! and exports above it see the numbers as before. Exact lookups by ID number go through the
//! blind index column `members.id_number_index` ([`blind_id_number`]).
//!
//! The keys come from a key file (`--key-file`, `ZHENXING_KEY_FILE`, or by default beside the
//! SQLite file, `registry.db.keys`, or `zhenxing-DATABASE.keys` in the working directory for
//! PostgreSQL) or from `ZHENXING_KEYS` holding the file's JSON. The database keeps per data key
//! its [`KeyRing::key_check`], the suite and the index key's check ([`install`] compares them);
//! a new, empty database with no key file gets a generated one.
//!
//! Why one key ring per process rather than a field of [`Db`]: values are sealed and opened in
//! places that hold no `Db` (the column batches, the record assembler), and a process serves
//! one registry. A process that opens several databases (the tests) keeps every ring it
//! installed: a value opens with the ring that holds its key, new values are sealed with the
//! ring installed last.

use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use zhenxing_core::Text;
use zhenxing_core::china_time::now_stored;
use zhenxing_crypto::{CryptoError, KeyRing, Suite, is_sealed_field};

pub use zhenxing_crypto;

/// A column holding sealed values. Every such table has an `id`; the registry's tables are
/// also distributed by `county_code` (Citus), which is then part of the row's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// Whether the table is distributed by `county_code` (every table but `accounts`).
    pub by_county: bool,
    /// The blind index column kept beside it, for exact lookups.
    pub index: Option<&'static str>,
    /// What a value is bound to when sealed (`table.column`): a sealed value copied into
    /// another column does not open there.
    pub context: &'static str,
}

macro_rules! sealed_column {
    ($name:ident, $table:literal, $column:literal, $index:expr) => {
        sealed_column!($name, $table, $column, $index, true);
    };
    ($name:ident, $table:literal, $column:literal, $index:expr, $by_county:expr) => {
        pub const $name: SealedColumn = SealedColumn {
            table: $table,
            column: $column,
            by_county: $by_county,
            index: $index,
            context: concat!($table, ".", $column),
        };
    };
}

sealed_column!(
    MEMBERS_ID_NUMBER,
    "members",
    "id_number",
    Some("id_number_index")
);
sealed_column!(HOUSEHOLDS_PHONE, "households", "phone", None);
sealed_column!(
    DEPARTMENT_ID_NUMBER,
    "department_records",
    "id_number",
    None
);
sealed_column!(PAIRINGS_PHONE, "pairings", "phone", None);
sealed_column!(DECLARATIONS_ID_NUMBER, "declarations", "id_number", None);
sealed_column!(DECLARATIONS_PHONE, "declarations", "phone", None);
sealed_column!(TICKETS_PHONE, "tickets", "phone", None);
// The second factor's secrets (`store::factor`), confirmed and offered for enrolment. One
// context for both: confirming an enrolment copies the pending secret as it is sealed.
sealed_column!(ACCOUNTS_TOTP_SECRET, "accounts", "totp_secret", None, false);
pub const ACCOUNTS_TOTP_PENDING_SECRET: SealedColumn = SealedColumn {
    column: "totp_pending_secret",
    ..ACCOUNTS_TOTP_SECRET
};

/// The sealed columns. Another one (the bank accounts of issue 20) is one line above and one
/// here, plus its [`seal`]/[`open`] calls where it is written and read; rotation, status and
/// the first-open encryption take it from this list.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    MEMBERS_ID_NUMBER,
    HOUSEHOLDS_PHONE,
    DEPARTMENT_ID_NUMBER,
    PAIRINGS_PHONE,
    DECLARATIONS_ID_NUMBER,
    DECLARATIONS_PHONE,
    TICKETS_PHONE,
    ACCOUNTS_TOTP_SECRET,
    ACCOUNTS_TOTP_PENDING_SECRET,
];

/// The context of the ID numbers' blind index: one for every table, so that a declaration's
/// number finds the member.
pub(crate) const ID_NUMBER_INDEX: &str = "id_number";

/// Where the key ring comes from, as the operator gave it.
#[derive(Debug, Clone, Default)]
pub struct KeyConfig {
    /// `--key-file` / `ZHENXING_KEY_FILE`.
    pub key_file: Option<PathBuf>,
    /// `ZHENXING_KEYS`: the key file's JSON itself.
    pub keys_json: Option<String>,
    /// The suite of a key file generated for a new database (default: international).
    pub new_suite: Option<Suite>,
}

impl KeyConfig {
    /// The configuration from the environment alone (`ZHENXING_KEY_FILE`, `ZHENXING_KEYS`).
    pub fn from_env() -> KeyConfig {
        KeyConfig {
            key_file: std::env::var_os("ZHENXING_KEY_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            keys_json: std::env::var("ZHENXING_KEYS")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            new_suite: None,
        }
    }
}

/// The configuration [`crate::Db::open`] uses: set once by the command line, else the
/// environment's.
static CONFIGURED: RwLock<Option<KeyConfig>> = RwLock::new(None);

/// Sets the key configuration of every database this process opens from now on.
pub fn configure(config: KeyConfig) {
    *CONFIGURED.write().unwrap_or_else(|e| e.into_inner()) = Some(config);
}

pub fn configured() -> KeyConfig {
    CONFIGURED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(KeyConfig::from_env)
}

/// Where an installed ring was read from, so that it can be read again when a rotation by
/// another process added a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    Environment,
    /// Generated for an in-memory database, or installed by the test support.
    Memory,
}

impl KeySource {
    pub fn describe(&self) -> String {
        match self {
            KeySource::File(path) => path.display().to_string(),
            KeySource::Environment => "ZHENXING_KEYS".to_owned(),
            KeySource::Memory => "(in memory)".to_owned(),
        }
    }
}

struct Installed {
    ring: Arc<KeyRing>,
    source: KeySource,
}

/// The rings of this process, the last one current.
static RINGS: RwLock<Vec<Installed>> = RwLock::new(Vec::new());

fn rings_read() -> std::sync::RwLockReadGuard<'static, Vec<Installed>> {
    RINGS.read().unwrap_or_else(|e| e.into_inner())
}

fn rings_write() -> std::sync::RwLockWriteGuard<'static, Vec<Installed>> {
    RINGS.write().unwrap_or_else(|e| e.into_inner())
}

/// Makes `ring` the process's current ring (and keeps the others for reading).
pub fn install_ring(ring: KeyRing, source: KeySource) -> Arc<KeyRing> {
    let ring = Arc::new(ring);
    let mut rings = rings_write();
    let check = ring.index_key_check();
    rings.retain(|r| !(r.ring.index_key_check() == check && r.source == source));
    rings.push(Installed {
        ring: ring.clone(),
        source,
    });
    ring
}

/// The current ring, and where it came from.
pub fn current() -> Option<(Arc<KeyRing>, KeySource)> {
    rings_read()
        .last()
        .map(|r| (r.ring.clone(), r.source.clone()))
}

fn no_ring() -> StoreError {
    StoreError::Corrupt(
        "no key ring is installed: the database must be opened through Db::open".to_owned(),
    )
}

fn crypto_error(e: CryptoError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Seals `plaintext` for `column` with the current key.
pub fn seal(column: &SealedColumn, plaintext: &str) -> Result<String> {
    let rings = rings_read();
    let ring = &rings.last().ok_or_else(no_ring)?.ring;
    Ok(ring.seal_field(column.context, plaintext))
}

pub fn seal_opt(column: &SealedColumn, plaintext: Option<&str>) -> Result<Option<String>> {
    plaintext.map(|p| seal(column, p)).transpose()
}

/// The blind index of a full ID number, for `members.id_number_index` and lookups by it.
pub fn blind_id_number(id_number: &str) -> Result<String> {
    blind_index(ID_NUMBER_INDEX, id_number)
}

/// The blind index of `value` for exact matching in `context`: an HMAC under the index key, so
/// that even a value from a small space (anything holding an ID number) cannot be guessed from
/// it without the key.
pub fn blind_index(context: &str, value: &str) -> Result<String> {
    let rings = rings_read();
    let ring = &rings.last().ok_or_else(no_ring)?.ring;
    Ok(ring.blind_index(context, value))
}

/// The plaintext of a stored value of `column`. A value stored before encryption (no `zx1:`
/// prefix) reads as it is until the first open encrypts it. A value under a key no installed
/// ring holds makes the rings be read again from their sources (a rotation by another process
/// added the key) before it is refused.
pub fn open(column: &SealedColumn, stored: &str) -> Result<String> {
    if !is_sealed_field(stored) {
        return Ok(stored.to_owned());
    }
    match open_with_installed(column, stored) {
        Err(StoreError::Corrupt(_)) if reload_all() => open_with_installed(column, stored),
        other => other,
    }
}

pub fn open_opt(column: &SealedColumn, stored: Option<String>) -> Result<Option<String>> {
    stored.map(|s| open(column, &s)).transpose()
}

/// [`open`] in place.
pub fn open_in_place(column: &SealedColumn, value: &mut String) -> Result<()> {
    if is_sealed_field(value) {
        *value = open(column, value)?;
    }
    Ok(())
}

fn open_with_installed(column: &SealedColumn, stored: &str) -> Result<String> {
    let rings = rings_read();
    let mut error = None;
    for installed in rings.iter().rev() {
        match installed.ring.open_field(column.context, stored) {
            Ok(plain) => return Ok(plain),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    Err(error.map(crypto_error).unwrap_or_else(no_ring))
}

/// Reads every file- or environment-sourced ring again; whether any changed. A re-read ring
/// replaces the installed one only when every key the installed one holds is in it unchanged
/// (a rotation adds keys, it never changes one) and its index key is the same.
fn reload_all() -> bool {
    let sources: Vec<(KeySource, Arc<KeyRing>)> = rings_read()
        .iter()
        .map(|r| (r.source.clone(), r.ring.clone()))
        .collect();
    let mut changed = false;
    for (source, old) in sources {
        let Some(fresh) = read_source(&source) else {
            continue;
        };
        if extends(&fresh, &old) && fresh.data_key_ids() != old.data_key_ids() {
            tracing::info!(
                key_file = %source.describe(),
                current_key = fresh.current(),
                "the key file holds a new data key: read again"
            );
            let mut rings = rings_write();
            for installed in rings.iter_mut() {
                if installed.source == source && Arc::ptr_eq(&installed.ring, &old) {
                    installed.ring = Arc::new(fresh.clone());
                    changed = true;
                }
            }
        }
    }
    changed
}

fn read_source(source: &KeySource) -> Option<KeyRing> {
    match source {
        KeySource::File(path) => KeyRing::load(path).ok(),
        KeySource::Environment => std::env::var("ZHENXING_KEYS")
            .ok()
            .and_then(|text| KeyRing::parse(&text, "ZHENXING_KEYS").ok()),
        KeySource::Memory => None,
    }
}

/// Whether `fresh` holds every key of `old`, unchanged, with the same suite and index key.
fn extends(fresh: &KeyRing, old: &KeyRing) -> bool {
    fresh.suite() == old.suite()
        && fresh.index_key_check() == old.index_key_check()
        && old
            .data_key_ids()
            .iter()
            .all(|id| fresh.key_check(*id).is_some() && fresh.key_check(*id) == old.key_check(*id))
}

/// What the database records about its keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    /// The suite's code and the index key's check; `None` before keys were first recorded.
    pub settings: Option<(String, String)>,
    /// Data key numbers and their checks, ascending.
    pub keys: Vec<(i64, String)>,
}

pub async fn recorded(db: &Db) -> Result<Recorded> {
    let settings: Option<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT suite, index_key_check FROM encryption_settings WHERE id = 1")
        .fetch_optional(pool).await?);
    let keys: Vec<(i64, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT id, key_check FROM encryption_keys ORDER BY id")
        .fetch_all(pool).await?);
    Ok(Recorded { settings, keys })
}

/// The default key file of `db`: beside the SQLite file, or in the working directory for
/// PostgreSQL; `None` for an in-memory SQLite database.
pub async fn default_key_file(db: &Db) -> Result<Option<PathBuf>> {
    let identity = crate::audit_anchor::identity(db).await?;
    Ok(match db {
        Db::Sqlite(_) if identity.is_empty() => None,
        Db::Sqlite(_) => Some(PathBuf::from(format!("{identity}.keys"))),
        Db::Postgres(_) => Some(PathBuf::from(format!("zhenxing-{identity}.keys"))),
    })
}

fn refused(zh: String, en: String) -> StoreError {
    StoreError::Config(Text::new(zh, en))
}

/// Reads the key ring `config` names (or the default key file), compares it with what `db`
/// records, records it when the database has no keys yet, installs it for the process, and
/// encrypts any value stored before encryption. A new database without a key file gets a
/// generated one (written to the default or given path). Everything else that does not fit
/// (a missing key file for a database with keys, a wrong key, another suite) is refused with
/// what to do, and nothing is changed.
pub async fn install(db: &Db, config: &KeyConfig) -> Result<Arc<KeyRing>> {
    let mut recorded = recorded(db).await?;
    // Keys that protect nothing yet (a new registry, e.g. one opened to restore a backup into)
    // give way to a different key file given now. Asked only in that rare case: counting the
    // sealed values scans the registry's tables.
    if recorded.settings.is_some()
        && let Some(given) = given_ring(config)
        && verify(&given.0, &given.1, &recorded).is_err()
        && seals_nothing(db).await?
    {
        forget_recorded(db).await?;
        recorded = Recorded::default();
    }
    let (ring, source) = resolve(db, config, &recorded).await?;
    verify(&ring, &source, &recorded)?;
    // A new database records the ring; a key the database does not list yet is one a rotation
    // wrote to the key file before it could record it (it stopped there): recorded now.
    let unlisted = ring.data_key_ids().iter().any(|id| {
        !recorded
            .keys
            .iter()
            .any(|(listed, _)| *listed == i64::from(*id))
    });
    let first_open = recorded.settings.is_none();
    if !first_open && unlisted {
        record_ring(db, &ring).await?;
    }
    let ring = install_ring(ring, source);
    if first_open {
        // Values stored before encryption (migration 0018) are sealed before the keys are
        // recorded: a pass cut short is taken up again at the next open, and later opens do
        // not scan the tables for plaintext.
        encrypt_plaintext(db).await?;
        record_ring(db, &ring).await?;
    }
    Ok(ring)
}

/// The key ring the operator gave explicitly (`ZHENXING_KEYS` or an existing `--key-file`).
fn given_ring(config: &KeyConfig) -> Option<(KeyRing, KeySource)> {
    if let Some(text) = &config.keys_json {
        return KeyRing::parse(text, "ZHENXING_KEYS")
            .ok()
            .map(|ring| (ring, KeySource::Environment));
    }
    let path = config.key_file.as_ref()?;
    KeyRing::load(path)
        .ok()
        .map(|ring| (ring, KeySource::File(path.clone())))
}

/// Whether no value of the database is sealed: no sealed column and no audit item holds one.
async fn seals_nothing(db: &Db) -> Result<bool> {
    let items: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_items WHERE before_data LIKE '%zx1:%' OR after_data LIKE '%zx1:%'")
        .fetch_one(pool).await?);
    Ok(items == 0 && count_all(db, "zx1:%", true).await? == 0)
}

async fn forget_recorded(db: &Db) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM encryption_keys").execute(pool).await?;
        sqlx::query("DELETE FROM encryption_settings").execute(pool).await?;
    });
    Ok(())
}

async fn resolve(db: &Db, config: &KeyConfig, recorded: &Recorded) -> Result<(KeyRing, KeySource)> {
    let has_keys = recorded.settings.is_some();
    if let Some(text) = &config.keys_json {
        let ring = KeyRing::parse(text, "ZHENXING_KEYS").map_err(|e| key_error(&e))?;
        return Ok((ring, KeySource::Environment));
    }
    let path = match &config.key_file {
        Some(path) => Some(path.clone()),
        None => default_key_file(db).await?,
    };
    // No key file given and none at the default place: a ring this process holds already
    // serves if it is the one the database records (a database opened again after a restore,
    // the tests' databases).
    if config.key_file.is_none()
        && has_keys
        && !path.as_ref().is_some_and(|p| p.exists())
        && let Some((ring, source)) = current()
        && verify(&ring, &source, recorded).is_ok()
    {
        return Ok(((*ring).clone(), source));
    }
    if let Some(path) = &path
        && (path.exists() || has_keys)
    {
        let ring = KeyRing::load(path).map_err(|e| key_error(&e))?;
        return Ok((ring, KeySource::File(path.clone())));
    }
    if has_keys {
        return Err(refused(
            "这个登记库的数据是加密的，但没有给出密钥：请用 --key-file 或 ZHENXING_KEY_FILE 给出它建立时的密钥文件，或从密钥备份中恢复。".to_owned(),
            "this registry's data is encrypted but no key was given: give the key file it was set up with (--key-file or ZHENXING_KEY_FILE), or restore it from the key backup".to_owned(),
        ));
    }
    // A new database. Without a given file the ring installed in this process (the test
    // support's, or the one of another database) serves; else one is generated.
    if config.key_file.is_none()
        && let Some((ring, source)) = current()
    {
        return Ok(((*ring).clone(), source));
    }
    let ring = KeyRing::generate(config.new_suite.unwrap_or_default());
    match path {
        Some(path) => {
            ring.save(&path).map_err(|e| key_error(&e))?;
            tracing::warn!(
                key_file = %path.display(),
                suite = %ring.suite(),
                "a new key file was generated for this new registry: back it up apart from the database"
            );
            Ok((ring, KeySource::File(path)))
        }
        None => Ok((ring, KeySource::Memory)),
    }
}

fn key_error(e: &CryptoError) -> StoreError {
    refused(
        format!(
            "密钥文件有误：{e}。请给出这个登记库建立时的密钥文件（--key-file 或 ZHENXING_KEY_FILE），或从密钥备份中恢复。"
        ),
        format!(
            "{e}; give the key file this registry was set up with (--key-file or ZHENXING_KEY_FILE), or restore it from the key backup"
        ),
    )
}

/// Every key the database lists must be in the ring with its check, and the suite and the
/// index key must be the same.
pub fn verify(ring: &KeyRing, source: &KeySource, recorded: &Recorded) -> Result<()> {
    let shown = source.describe();
    let Some((suite, index_check)) = &recorded.settings else {
        return Ok(());
    };
    if suite != ring.suite().code() {
        return Err(refused(
            format!(
                "密钥文件 {shown} 的算法是 {}，而这个登记库是用 {suite} 加密的：请给出这个登记库的密钥文件（--key-file），或从密钥备份中恢复。",
                ring.suite()
            ),
            format!(
                "key file {shown} is for the {} suite, but this registry is encrypted with the {suite} suite: give this registry's key file (--key-file), or restore it from the key backup",
                ring.suite()
            ),
        ));
    }
    if *index_check != ring.index_key_check() {
        return Err(refused(
            format!(
                "密钥文件 {shown} 的索引密钥不是这个登记库的：请给出这个登记库的密钥文件（--key-file），或从密钥备份中恢复。"
            ),
            format!(
                "key file {shown} holds another index key than this registry's: give this registry's key file (--key-file), or restore it from the key backup"
            ),
        ));
    }
    for (id, check) in &recorded.keys {
        let id = u32::try_from(*id).unwrap_or(0);
        match ring.key_check(id) {
            None => {
                return Err(refused(
                    format!(
                        "密钥文件 {shown} 缺少数据密钥 {id}，而这个登记库记有它：请给出含有它的密钥文件（--key-file），或从密钥备份中恢复。"
                    ),
                    format!(
                        "key file {shown} lacks data key {id}, which this registry lists: give the key file that holds it (--key-file), or restore it from the key backup"
                    ),
                ));
            }
            Some(found) if found != *check => {
                return Err(refused(
                    format!(
                        "密钥文件 {shown} 中的数据密钥 {id} 不是这个登记库的：请给出这个登记库的密钥文件（--key-file），或从密钥备份中恢复。"
                    ),
                    format!(
                        "data key {id} of key file {shown} is not this registry's: give this registry's key file (--key-file), or restore it from the key backup"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Records the suite, the index key's check and every data key's check the database does not
/// list yet.
async fn record_ring(db: &Db, ring: &KeyRing) -> Result<()> {
    let mut tx = db.begin_write().await?;
    record_in(&mut tx, ring).await?;
    tx.commit().await
}

async fn record_in(tx: &mut Tx, ring: &KeyRing) -> Result<()> {
    let at = now_stored();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO encryption_settings (id, suite, index_key_check) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO NOTHING")
        .bind(ring.suite().code()).bind(ring.index_key_check())
        .execute(conn).await.map(drop)?);
    for id in ring.data_key_ids() {
        let check = ring.key_check(id).unwrap_or_default();
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO encryption_keys (id, key_check, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING")
            .bind(i64::from(id)).bind(&check).bind(&at)
            .execute(conn).await.map(drop)?);
    }
    Ok(())
}

/// Inside a write transaction, before anything is sealed: when the database lists a newer data
/// key than the current ring (a rotation by another process), the ring is read again, so that
/// no value is sealed under a key being rotated away.
pub(crate) async fn catch_up(tx: &mut Tx) -> Result<()> {
    let Some((ring, _)) = current() else {
        return Ok(());
    };
    let newest: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT MAX(id) FROM encryption_keys").fetch_one(conn).await?);
    let newest = newest.unwrap_or(0);
    if newest <= i64::from(ring.current()) {
        return Ok(());
    }
    reload_all();
    match current() {
        Some((ring, _)) if i64::from(ring.current()) >= newest => Ok(()),
        Some((_, source)) => Err(refused(
            format!(
                "这个登记库已在使用数据密钥 {newest}，而密钥 {} 中没有它：请给出轮换后的密钥文件。",
                source.describe()
            ),
            format!(
                "this registry uses data key {newest}, which {} does not hold: give the key file as the rotation left it",
                source.describe()
            ),
        )),
        None => Ok(()),
    }
}

/// How many values of a sealed column are under each key, and how many are plaintext.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnCounts {
    pub table: &'static str,
    pub column: &'static str,
    /// (data key, values).
    pub by_key: Vec<(u32, i64)>,
    pub plaintext: i64,
}

/// [`ColumnCounts`] of every sealed column, for the keys the database lists and the ring holds.
pub async fn counts(db: &Db) -> Result<Vec<ColumnCounts>> {
    let mut ids: std::collections::BTreeSet<u32> = recorded(db)
        .await?
        .keys
        .iter()
        .filter_map(|(id, _)| u32::try_from(*id).ok())
        .collect();
    if let Some((ring, _)) = current() {
        ids.extend(ring.data_key_ids());
    }
    let mut out = Vec::new();
    for column in SEALED_COLUMNS {
        let mut by_key = Vec::new();
        for id in &ids {
            by_key.push((
                *id,
                count_like(db, column, &format!("zx1:{id}:%"), true).await?,
            ));
        }
        out.push(ColumnCounts {
            table: column.table,
            column: column.column,
            by_key,
            plaintext: count_like(db, column, "zx1:%", false).await?,
        });
    }
    Ok(out)
}

/// How many values of `column` match (or, without `like`, do not match) `pattern`.
async fn count_like(db: &Db, column: &SealedColumn, pattern: &str, like: bool) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL AND {c} {not}LIKE $1",
        c = column.column,
        t = column.table,
        not = if like { "" } else { "NOT " },
    );
    Ok(
        on_pool!(db, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(pattern).fetch_one(pool).await?),
    )
}

/// What a re-encryption pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reencrypted {
    /// Values sealed again under the current key (from an older key or from plaintext).
    pub values: u64,
    /// Committed batches.
    pub batches: u64,
    /// Whether values remain under older keys or in plaintext (a `--batches` limit stopped it).
    pub unfinished: bool,
}

/// How many rows one batch re-encrypts, in its own committed transaction.
pub const BATCH_ROWS: i64 = 2_000;

/// Seals again, under the current key, every value of every sealed column that is plaintext
/// or under an older key, `BATCH_ROWS` rows per committed write transaction, at most
/// `max_batches` batches. A crash loses at most the batch in flight; a rerun finds what is
/// left. A row changed meanwhile by another writer (which sealed it under the current key) is
/// left as that writer wrote it.
pub async fn reencrypt(db: &Db, max_batches: Option<u64>) -> Result<Reencrypted> {
    let mut done = Reencrypted::default();
    for column in SEALED_COLUMNS {
        // Keyset pagination: each batch starts after the last row of the one before, so that
        // rows a batch could not take (changed meanwhile) are not read again and again.
        let mut after: (i64, String) = (i64::MIN, String::new());
        loop {
            if max_batches.is_some_and(|max| done.batches >= max) {
                done.unfinished = pending(db).await? > 0;
                return Ok(done);
            }
            let mut tx = db.begin_write().await?;
            let (ring, _) = current().ok_or_else(no_ring)?;
            let current_prefix = format!("zx1:{}:%", ring.current());
            // A table not distributed by county reads '' as its county, which every
            // comparison below then passes.
            let county_sql = if column.by_county {
                "county_code"
            } else {
                "CAST('' AS TEXT)"
            };
            let sql = format!(
                "SELECT id, {county_sql}, {c} FROM {t} WHERE {c} IS NOT NULL AND {c} NOT LIKE $1 \
                 AND id >= $2 AND (id > $2 OR {county_sql} > $3) ORDER BY id, {county_sql} LIMIT {BATCH_ROWS}",
                c = column.column,
                t = column.table
            );
            let rows: Vec<(i64, String, String)> = on_tx!(&mut tx, conn => sqlx::query_as(
                sqlx::AssertSqlSafe(sql)).bind(&current_prefix).bind(after.0).bind(&after.1)
                .fetch_all(conn).await?);
            let Some(last) = rows.last() else {
                tx.rollback().await?;
                break;
            };
            after = (last.0, last.1.clone());
            for (id, county, stored) in &rows {
                let plain = open(column, stored)?;
                let sealed = ring.seal_field(column.context, &plain);
                let condition = format!("{county_sql} = $2 AND id = $3 AND {} = $4", column.column);
                let sql = match column.index {
                    Some(index) => format!(
                        "UPDATE {} SET {} = $1, {index} = $5 WHERE {condition}",
                        column.table, column.column
                    ),
                    None => format!(
                        "UPDATE {} SET {} = $1 WHERE {condition}",
                        column.table, column.column
                    ),
                };
                let index = column
                    .index
                    .map(|_| ring.blind_index(ID_NUMBER_INDEX, &plain));
                on_tx!(&mut tx, conn => {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(&sealed).bind(county).bind(*id).bind(stored);
                    if let Some(index) = &index {
                        q = q.bind(index);
                    }
                    q.execute(conn).await.map(drop)?
                });
            }
            tx.commit().await?;
            done.values += rows.len() as u64;
            done.batches += 1;
        }
    }
    Ok(done)
}

/// How many values are plaintext or under an older key than the current one.
pub async fn pending(db: &Db) -> Result<i64> {
    let Some((ring, _)) = current() else {
        return Ok(0);
    };
    count_all(db, &format!("zx1:{}:%", ring.current()), false).await
}

/// [`count_like`] summed over the sealed columns.
async fn count_all(db: &Db, pattern: &str, like: bool) -> Result<i64> {
    let mut total = 0;
    for column in SEALED_COLUMNS {
        total += count_like(db, column, pattern, like).await?;
    }
    Ok(total)
}

/// At open: values stored before encryption (migration 0018) are sealed, and the members'
/// blind index filled, before anything reads them. Resumable like a rotation, which it is
/// with no new key.
async fn encrypt_plaintext(db: &Db) -> Result<()> {
    let plaintext = count_all(db, "zx1:%", false).await?;
    if plaintext == 0 {
        return Ok(());
    }
    tracing::warn!(
        values = plaintext,
        "encrypting the values stored before encryption"
    );
    let done = reencrypt(db, None).await?;
    tracing::warn!(values = done.values, "values encrypted");
    Ok(())
}

/// `zhenxing keys rotate`'s first step: a new data key in the key file (written atomically,
/// the old keys kept) and its check in the database. Refused for a ring from the environment
/// (the secret store holding it is changed by its operator, then the process restarted).
pub async fn add_key(db: &Db) -> Result<u32> {
    let (ring, source) = current().ok_or_else(no_ring)?;
    let KeySource::File(path) = &source else {
        return Err(refused(
            "只有密钥文件中的密钥可以由 zhenxing 轮换：ZHENXING_KEYS 中的密钥请在保存它的密钥管理系统中增加数据密钥。".to_owned(),
            "only a key file's keys can be rotated by zhenxing: for ZHENXING_KEYS, add a data key in the secret store that holds it".to_owned(),
        ));
    };
    let mut ring = (*ring).clone();
    let id = ring.add_data_key();
    ring.save(path).map_err(|e| key_error(&e))?;
    let mut tx = db.begin_write().await?;
    record_in(&mut tx, &ring).await?;
    tx.commit().await?;
    install_ring(ring, source);
    Ok(id)
}

/// How many values are sealed under data key `id`, the audit items' included.
pub async fn in_use(db: &Db, id: u32) -> Result<i64> {
    let inside = format!("%zx1:{id}:%");
    let in_audit: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_items WHERE before_data LIKE $1 OR after_data LIKE $1")
        .bind(&inside).fetch_one(pool).await?);
    Ok(in_audit + count_all(db, &format!("zx1:{id}:%"), true).await?)
}

/// The key file of the current ring, for the commands that change it.
pub fn key_file() -> Option<PathBuf> {
    match current()?.1 {
        KeySource::File(path) => Some(path),
        _ => None,
    }
}

/// Drops data key `id` from the key file (the database keeps its check, as history): refused
/// while a value uses it or when it is the current key.
pub async fn retire(db: &Db, id: u32) -> Result<()> {
    let (ring, source) = current().ok_or_else(no_ring)?;
    let KeySource::File(path) = &source else {
        return Err(refused(
            "只有密钥文件中的密钥可以由 zhenxing 停用。".to_owned(),
            "only a key file's keys can be retired by zhenxing".to_owned(),
        ));
    };
    if ring.key_check(id).is_none() {
        return Err(refused(
            format!("密钥文件中没有数据密钥 {id}。"),
            format!("the key file holds no data key {id}"),
        ));
    }
    let used = in_use(db, id).await?;
    if used > 0 {
        return Err(refused(
            format!(
                "数据密钥 {id} 仍加密着 {used} 个值：先运行 zhenxing keys rotate，直到它不再使用。"
            ),
            format!(
                "data key {id} still encrypts {used} value(s): run `zhenxing keys rotate` until none uses it"
            ),
        ));
    }
    let mut ring = (*ring).clone();
    ring.retire(id).map_err(|e| {
        refused(
            format!("数据密钥 {id} 是当前密钥，不能停用。"),
            e.to_string(),
        )
    })?;
    ring.save(path).map_err(|e| key_error(&e))?;
    // At open every key the database lists must be in the ring: the retired one leaves the list.
    on_pool!(db, pool => sqlx::query("DELETE FROM encryption_keys WHERE id = $1")
        .bind(i64::from(id)).execute(pool).await.map(drop)?);
    install_ring(ring, source);
    Ok(())
}

/// Writes a new key file, refusing to overwrite one.
pub fn init_key_file(path: &Path, suite: Suite) -> Result<KeyRing> {
    if path.exists() {
        return Err(refused(
            format!("密钥文件 {} 已存在，不会覆盖它。", path.display()),
            format!("key file {} exists and is not overwritten", path.display()),
        ));
    }
    let ring = KeyRing::generate(suite);
    ring.save(path).map_err(|e| key_error(&e))?;
    Ok(ring)
}

// The ID and phone numbers inside audit items' before and after JSON. Not in
// `SEALED_COLUMNS`: the trail is append-only, so its values stay under the key that sealed them,
// and `retire` keeps that key (`in_use` counts them).
sealed_column!(AUDIT_ITEMS_DATA, "audit_items", "data", None);

/// Field names whose string values are ID or phone numbers, and the object keyed by them.
const SENSITIVE_FIELDS: &[&str] = &["id_number", "phone"];
const KEYED_BY_ID_NUMBER: &str = "members";

/// An audit item's JSON with its ID and phone numbers sealed (the `id_number` and `phone`
/// fields at any depth, and the keys of `members`, which are ID numbers). The rest stays as it
/// is, so that what reads the items' other fields in SQL still does. JSON that is not in
/// serde_json's own form is sealed whole, so that opening gives back the very same text (the
/// items' digest in the audit chain is of the plaintext).
pub fn seal_item_json(text: &str) -> Result<String> {
    if !SENSITIVE_FIELDS.iter().any(|f| text.contains(f)) && !text.contains(KEYED_BY_ID_NUMBER) {
        return Ok(text.to_owned());
    }
    let canonical = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .filter(|v| serde_json::to_string(v).ok().as_deref() == Some(text));
    let Some(mut value) = canonical else {
        return seal(&AUDIT_ITEMS_DATA, text);
    };
    let rings = rings_read();
    let ring = &rings.last().ok_or_else(no_ring)?.ring;
    seal_walk(ring, &mut value);
    serde_json::to_string(&value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn seal_walk(ring: &KeyRing, value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(|v| seal_walk(ring, v));
        }
        return;
    };
    let entries = std::mem::take(map);
    for (key, mut v) in entries {
        match &mut v {
            Value::String(s) if SENSITIVE_FIELDS.contains(&key.as_str()) && !s.is_empty() => {
                *s = ring.seal_field(AUDIT_ITEMS_DATA.context, s);
            }
            Value::Object(members) if key == KEYED_BY_ID_NUMBER => {
                let inner = std::mem::take(members);
                for (id, mut m) in inner {
                    seal_walk(ring, &mut m);
                    members.insert(ring.seal_field(AUDIT_ITEMS_DATA.context, &id), m);
                }
            }
            _ => seal_walk(ring, &mut v),
        }
        map.insert(key, v);
    }
}

/// The plaintext of an audit item's JSON as [`seal_item_json`] stored it.
pub fn open_item_json(text: &str) -> Result<String> {
    if is_sealed_field(text) {
        return open(&AUDIT_ITEMS_DATA, text);
    }
    if !text.contains(zhenxing_crypto::FIELD_PREFIX) {
        return Ok(text.to_owned());
    }
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    open_walk(&mut value)?;
    serde_json::to_string(&value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn open_item_json_opt(text: Option<String>) -> Result<Option<String>> {
    text.map(|t| open_item_json(&t)).transpose()
}

fn open_walk(value: &mut serde_json::Value) -> Result<()> {
    use serde_json::Value;
    match value {
        Value::String(s) if is_sealed_field(s) => *s = open(&AUDIT_ITEMS_DATA, s)?,
        Value::Array(items) => {
            for v in items {
                open_walk(v)?;
            }
        }
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                open_walk(&mut v)?;
                let key = if is_sealed_field(&key) {
                    open(&AUDIT_ITEMS_DATA, &key)?
                } else {
                    key
                };
                map.insert(key, v);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_test_ring() {
        crate::testing::install_test_keys();
    }

    #[test]
    fn audit_item_json_round_trips_with_its_numbers_sealed() {
        with_test_ring();
        let text = serde_json::json!({
            "phone": "13900230001",
            "wage_income": 14000,
            "members": {"500229198203150139": {"id_number": "500229198203150139", "name": "王建国"}},
        })
        .to_string();
        let sealed = seal_item_json(&text).unwrap();
        assert!(!sealed.contains("500229198203150139"), "{sealed}");
        assert!(!sealed.contains("13900230001"), "{sealed}");
        assert!(sealed.contains("\"wage_income\":14000"), "{sealed}");
        assert_eq!(open_item_json(&sealed).unwrap(), text);
        // Not serde_json's own form: sealed whole, opened to the same text.
        let spaced = "{ \"phone\": \"13900230001\" }";
        let sealed = seal_item_json(spaced).unwrap();
        assert!(is_sealed_field(&sealed));
        assert_eq!(open_item_json(&sealed).unwrap(), spaced);
        // Nothing to seal: unchanged.
        assert_eq!(seal_item_json("{\"a\":1}").unwrap(), "{\"a\":1}");
    }

    #[test]
    fn a_value_sealed_for_one_column_does_not_open_in_another() {
        with_test_ring();
        let sealed = seal(&MEMBERS_ID_NUMBER, "500229198203150139").unwrap();
        assert_eq!(
            open(&MEMBERS_ID_NUMBER, &sealed).unwrap(),
            "500229198203150139"
        );
        assert!(open(&DECLARATIONS_ID_NUMBER, &sealed).is_err());
        // Plaintext from before encryption reads as it is.
        assert_eq!(
            open(&HOUSEHOLDS_PHONE, "13900230001").unwrap(),
            "13900230001"
        );
    }
}
