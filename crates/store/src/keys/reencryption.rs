//! How many values each key seals, and re-encryption under the current key (of plaintext from
//! before encryption, and of values under older keys).

use super::opening::recorded;
use super::rings::{current, no_ring};
use super::sealing::open;
use super::{ID_NUMBER_INDEX, INDEXED_AFTER_SEALING, SEALED_COLUMNS, SealedColumn};
use crate::{Db, Result, on_pool, on_tx};

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
pub(super) async fn count_all(db: &Db, pattern: &str, like: bool) -> Result<i64> {
    let mut total = 0;
    for column in SEALED_COLUMNS {
        total += count_like(db, column, pattern, like).await?;
    }
    Ok(total)
}

/// At open: values stored before encryption (migration 0018) are sealed, and the members'
/// blind index filled, before anything reads them. Resumable like a rotation, which it is
/// with no new key.
pub(super) async fn encrypt_plaintext(db: &Db) -> Result<()> {
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

/// Fills the blind index of every row of [`INDEXED_AFTER_SEALING`] that has a value and no
/// index yet (rows stored before the index existed), [`BATCH_ROWS`] rows per committed write
/// transaction; how many rows. Run at every open: the index column is itself indexed, so a
/// registry with nothing to fill answers at once.
pub async fn fill_missing_indexes(db: &Db) -> Result<u64> {
    let mut filled = 0u64;
    for column in INDEXED_AFTER_SEALING {
        let Some(index) = column.index else {
            continue;
        };
        let select = format!(
            "SELECT county_code, id, {c} FROM {t} WHERE {index} IS NULL AND {c} IS NOT NULL \
             ORDER BY county_code, id LIMIT {BATCH_ROWS}",
            c = column.column,
            t = column.table
        );
        // Only rows still without one: a row filled meanwhile by another process is left.
        let update = format!(
            "UPDATE {t} SET {index} = $1 WHERE county_code = $2 AND id = $3 AND {index} IS NULL",
            t = column.table
        );
        loop {
            // Read outside a write transaction: an open with nothing to fill takes no lock.
            let rows: Vec<(String, i64, String)> = on_pool!(db, pool => sqlx::query_as(
                sqlx::AssertSqlSafe(select.as_str())).fetch_all(pool).await?);
            if rows.is_empty() {
                break;
            }
            let mut tx = db.begin_write().await?;
            for (county, id, stored) in &rows {
                let value = super::sealing::blind_index(ID_NUMBER_INDEX, &open(column, stored)?)?;
                on_tx!(&mut tx, conn => sqlx::query(sqlx::AssertSqlSafe(update.as_str()))
                    .bind(&value).bind(county).bind(*id).execute(conn).await.map(drop)?);
            }
            tx.commit().await?;
            filled += rows.len() as u64;
        }
    }
    if filled > 0 {
        tracing::warn!(
            rows = filled,
            "blind indexes filled for rows stored before them"
        );
    }
    Ok(filled)
}
