//! The key file commands: a new data key, how much one key still seals, retiring a key, and a
//! new key file.

use super::opening::{key_error, record_in, refused};
use super::reencryption::count_all;
use super::rings::{KeySource, current, install_ring, no_ring};
use crate::{Db, Result, on_pool};
use std::path::{Path, PathBuf};
use zhenxing_crypto::{KeyRing, Suite};

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
