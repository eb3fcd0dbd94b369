//! The villages' leaf counts, recomputed after a write.

use super::CHUNK;
use crate::placeholders;
use crate::{Result, Tx, on_tx};
use std::collections::HashSet;

/// Recomputes every village's leaf counts.
pub async fn refresh_all_village_counts(tx: &mut Tx) -> Result<()> {
    refresh_village_counts(tx, &HashSet::new()).await
}

/// Recomputes the leaf counts of the given villages (all of them when many changed, or when
/// none are given).
pub(crate) async fn refresh_village_counts(tx: &mut Tx, villages: &HashSet<String>) -> Result<()> {
    const AGGREGATE: &str = "SELECT division_code, count(*), CAST(SUM(member_count) AS BIGINT), \
        CAST(SUM(CASE WHEN household_type = 'lifted_out' THEN 1 ELSE 0 END) AS BIGINT), \
        CAST(SUM(CASE WHEN household_type = 'lifted_out' THEN member_count ELSE 0 END) AS BIGINT), \
        CAST(SUM(CASE WHEN monitoring_category IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
        CAST(SUM(CASE WHEN monitoring_category IS NOT NULL THEN member_count ELSE 0 END) AS BIGINT) \
        FROM households";
    if villages.len() > 1_000 || villages.is_empty() {
        on_tx!(tx, conn => {
            sqlx::query("DELETE FROM village_counts").execute(&mut *conn).await.map(drop)?;
            let sql = format!("INSERT INTO village_counts {AGGREGATE} GROUP BY division_code");
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(drop)?;
        });
        return Ok(());
    }
    let villages: Vec<&String> = villages.iter().collect();
    for chunk in villages.chunks(CHUNK) {
        let list = placeholders(chunk.len(), 1);
        let delete = format!("DELETE FROM village_counts WHERE division_code IN ({list})");
        let insert = format!(
            "INSERT INTO village_counts {AGGREGATE} WHERE division_code IN ({list}) GROUP BY division_code"
        );
        for sql in [delete, insert] {
            on_tx!(tx, conn => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for v in chunk {
                    q = q.bind(v.as_str());
                }
                q.execute(conn).await.map(drop)?
            });
        }
    }
    Ok(())
}
