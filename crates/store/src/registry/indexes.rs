//! The secondary indexes a bulk load into an empty registry drops and restores.

use crate::{Result, Tx, on_tx};

/// Secondary indexes of the household tables, dropped for a bulk load into an empty registry
/// and built again afterwards: building an index from sorted data is several times faster
/// than inserting millions of random keys into it (measured: see BENCHMARKS.md). Their
/// definitions are read back from the database's catalogue, so the migrations stay the one
/// place that defines them.
pub struct SuspendedIndexes(Vec<String>);

pub async fn suspend_indexes(tx: &mut Tx) -> Result<SuspendedIndexes> {
    let definitions: Vec<(String, String)> = match tx {
        Tx::Sqlite(t) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('households', 'members', 'audit_items')",
        )
        .fetch_all(&mut **t)
        .await?,
        // Indexes that back a primary key or unique constraint stay.
        Tx::Postgres(t) => sqlx::query_as(
            "SELECT i.indexname::text, i.indexdef FROM pg_indexes i \
             WHERE i.tablename IN ('households', 'members', 'audit_items') AND i.schemaname = current_schema() \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        )
        .fetch_all(&mut **t)
        .await?,
    };
    for (name, _) in &definitions {
        let sql = format!("DROP INDEX {name}");
        on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(drop)?);
    }
    Ok(SuspendedIndexes(
        definitions.into_iter().map(|(_, sql)| sql).collect(),
    ))
}

pub async fn restore_indexes(tx: &mut Tx, suspended: SuspendedIndexes) -> Result<()> {
    for sql in suspended.0 {
        on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(drop)?);
    }
    // PostgreSQL plans from table statistics, and autovacuum gathers them only some time after
    // a bulk load: until then a lookup by household number joined to millions of members was
    // planned as a scan, and pages took seconds (measured with bench/web.sh). ANALYZE samples
    // (30,000 rows per table by default), so this costs about a second after a full load.
    // SQLite's plans here do not depend on statistics, and its ANALYZE would read every index.
    if let Tx::Postgres(t) = tx {
        for table in ["households", "members", "village_counts"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
                .execute(&mut **t)
                .await?;
        }
    }
    Ok(())
}
