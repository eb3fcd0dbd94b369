//! At open: the key ring resolved from what the operator gave and what the database records,
//! verified against the recorded checks, and recorded when new.

use super::reencryption::{count_all, encrypt_plaintext, fill_missing_indexes};
use super::rings::{KeyConfig, KeySource, current, install_ring, reload_all};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use std::path::PathBuf;
use std::sync::Arc;
use zhenxing_core::Text;
use zhenxing_core::china_time::now_stored;
use zhenxing_crypto::{CryptoError, KeyRing};

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

pub(super) fn refused(zh: String, en: String) -> StoreError {
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
    fill_missing_indexes(db).await?;
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

pub(super) fn key_error(e: &CryptoError) -> StoreError {
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

pub(super) async fn record_in(tx: &mut Tx, ring: &KeyRing) -> Result<()> {
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
