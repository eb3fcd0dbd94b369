//! Direct SQLite calls on the connection of a sqlx transaction, for bulk inserts.
//!
//! sqlx sends every statement to a worker thread with owned copies of its arguments and, for
//! multi-row `VALUES`, prepares a new statement text for every few thousand rows; for a load of
//! millions of rows that overhead cost more than SQLite itself (measured: BENCHMARKS.md). Here
//! the transaction's connection is locked out of sqlx's worker
//! ([`sqlx::sqlite::SqliteConnection::lock_handle`]) and wrapped in a non-owning
//! [`rusqlite::Connection`], which prepares one single-row `INSERT` and binds values straight
//! from the batch. The writes stay in the caller's transaction: same connection, same
//! `BEGIN IMMEDIATE`, rolled back or committed by sqlx as before.
//!
//! This module holds the crate's only `unsafe` code: one call, [`rusqlite::Connection::from_handle`].
//! rusqlite 0.39 links the same `libsqlite3-sys` (0.37, bundled) as sqlx 0.9, so the raw handle
//! from one is the handle type of the other; `cargo tree -i libsqlite3-sys` shows one copy.
#![allow(unsafe_code)]

use crate::bulk::Column;
use crate::{Result, StoreError};
use sqlx::sqlite::LockedSqliteHandle;

/// Runs `f` on the locked connection.
fn with_connection<R>(
    handle: &mut LockedSqliteHandle<'_>,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
) -> Result<R> {
    let raw = handle.as_raw_handle().as_ptr();
    // SAFETY: `raw` is the open `sqlite3*` of a live sqlx connection. While `handle` (a
    // `LockedSqliteHandle`, borrowed mutably for this whole function) exists, sqlx guarantees
    // that its worker thread makes no call on this handle or its statements, so this thread is
    // the only user. `from_handle` makes a connection that does not own the handle: dropping it
    // (at the end of this function, before `handle` is released) finalizes only the statements
    // prepared here and never closes the database. Both crates use the one linked SQLite
    // (`libsqlite3-sys` 0.37), so the pointer types and the library agree.
    let connection = unsafe { rusqlite::Connection::from_handle(raw) }.map_err(bulk_error)?;
    let result = f(&connection);
    drop(connection);
    result.map_err(bulk_error)
}

fn bulk_error(e: rusqlite::Error) -> StoreError {
    StoreError::Bulk(e.to_string())
}

/// Inserts `rows` rows, column-wise in `columns`, with `sql` (a single-row `INSERT` with one
/// `?n` per column, in order).
pub(crate) fn insert_rows(
    handle: &mut LockedSqliteHandle<'_>,
    sql: &str,
    columns: &[Column],
    rows: usize,
) -> Result<()> {
    with_connection(handle, |connection| {
        let mut statement = connection.prepare(sql)?;
        for row in 0..rows {
            for (c, column) in columns.iter().enumerate() {
                match column {
                    Column::Text { .. } => {
                        statement.raw_bind_parameter(c + 1, column.text_at(row))?
                    }
                    Column::Int(v) => {
                        statement.raw_bind_parameter(c + 1, v.get(row).copied().flatten())?
                    }
                    Column::Bool(v) => {
                        statement.raw_bind_parameter(c + 1, v.get(row).copied().flatten())?
                    }
                }
            }
            statement.raw_execute()?;
        }
        Ok(())
    })
}

/// Runs a query on the locked connection and hands each row to `each`, borrowed: for reading
/// millions of narrow rows (the monitoring pass), where sqlx's per-row copies and thread
/// hand-offs cost several times what SQLite does. `params` bind to `?1`, `?2`, ... in order.
pub(crate) fn for_each_row(
    handle: &mut LockedSqliteHandle<'_>,
    sql: &str,
    params: &[&str],
    mut each: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
) -> Result<u64> {
    with_connection(handle, |connection| {
        let mut statement = connection.prepare(sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
        let mut n = 0u64;
        while let Some(row) = rows.next()? {
            each(row)?;
            n += 1;
        }
        Ok(n)
    })
}

/// A text column of a row, borrowed from SQLite's buffer.
pub(crate) fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(index)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A nullable text column of a row, borrowed.
pub(crate) fn text_opt<'r>(
    row: &'r rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<&'r str>> {
    row.get_ref(index)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}
