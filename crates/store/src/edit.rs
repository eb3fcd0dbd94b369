//! One household changed by a person (in the browser or over the API), with optimistic
//! concurrency: the edit names the version it was made from, and is refused when the household
//! has changed since, so that a stale form never silently overwrites someone else's work.
//! The write itself is the registry's one write path ([`crate::registry`]), audited with the
//! person's reason.

use crate::registry::{MonitoringPermission, WriteRequest, WriteSummary, write_in_transaction};
use crate::{Db, HouseholdRecord, Outcome, Result, on_tx};

/// A saved edit: the household's new version and what the write path did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub version: i64,
    pub summary: WriteSummary,
}

impl Db {
    /// Replaces the household `record.household_no` with `record`, if it is still at
    /// `expected_version` ([`Outcome::Stale`] otherwise; [`Outcome::NotFound`] when there is no such
    /// household). Conflicts (an ID number registered in another household, an unknown
    /// division, a changed monitoring category: only the procedures change it) are refused as
    /// [`crate::StoreError::Conflicts`].
    pub async fn edit_household(
        &self,
        record: &HouseholdRecord,
        expected_version: i64,
        actor: &str,
        source: &str,
        reason: &str,
    ) -> Result<Outcome<Saved>> {
        let mut tx = self.begin_write().await?;
        let current: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT CAST(version AS BIGINT) FROM households WHERE household_no = $1")
            .bind(&record.household_no).fetch_optional(conn).await?);
        let Some(current_version) = current else {
            tx.rollback().await?;
            return Ok(Outcome::NotFound);
        };
        if current_version != expected_version {
            tx.rollback().await?;
            return Ok(Outcome::Stale);
        }
        let request = WriteRequest {
            actor: actor.to_owned(),
            source: source.to_owned(),
            reason: Some(reason.to_owned()),
            dry_run: false,
            known_new: false,
            defer_counts: false,
            monitoring: MonitoringPermission::ProceduresOnly,
        };
        let result =
            write_in_transaction(&mut tx, std::slice::from_ref(record), &request, &|_| {}).await;
        match result {
            Ok(summary) => {
                tx.commit().await?;
                let version = if summary.unchanged == 1 {
                    current_version
                } else {
                    current_version + 1
                };
                Ok(Outcome::Done(Saved { version, summary }))
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }
}
