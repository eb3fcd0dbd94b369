//! What every public submission shares: its number, its tracking code (stored only as a hash)
//! and its audit operation in one write transaction ([`Intake`]); and [`track`], what the holder of
//! a tracking code reads.

use super::PUBLIC_ACTOR;
use super::tickets::{TICKET_SELECT, TicketRow};
use crate::audit::{AuditEntry, Operation};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use sha2::{Digest, Sha256};
use zhenxing_core::DivisionCode;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::portal::{normalise_tracking_code, tracking_code};
use zhenxing_core::warning::WarningStatus;

/// A new tracking code (80 random bits from the operating system) and the hash stored for it.
pub(crate) fn new_tracking_code() -> (String, String) {
    let code = tracking_code(&crate::credentials::random_bytes::<10>());
    let hash = code_hash(&code.replace('-', ""));
    (code, hash)
}

/// The stored form of a canonical tracking code. The code carries 80 random bits, so a plain
/// SHA-256 is enough: nobody can search that space, and the database never holds the code.
fn code_hash(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// A submission stored: its number and the tracking code, shown to the visitor once.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub id: i64,
    pub tracking_code: String,
}

/// What the holder of a tracking code reads.
#[derive(Debug, Clone)]
pub enum Tracked {
    Declaration {
        submitted_at: String,
        /// The village the declarant chose (not where the lead went: see [`declare`]).
        division_code: String,
        /// The lead's status in the township's inbox.
        status: WarningStatus,
        /// The day by which the township's work on it is due, while it is open.
        due_on: Option<String>,
    },
    Ticket(Box<TicketRow>),
}

/// What a tracking code opens, or `None` for a code that is malformed or unknown (the two
/// answer alike, and nothing about any other submission is read).
pub async fn track(db: &Db, input: &str) -> Result<Option<Tracked>> {
    let Some(canonical) = normalise_tracking_code(input) else {
        return Ok(None);
    };
    let hash = code_hash(&canonical);
    // The village the declarant chose, never the one the declaration was forwarded to.
    let declaration: Option<(String, String, String, Option<String>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT d.created_at, COALESCE(d.declared_division_code, d.division_code), w.status, w.due_on \
         FROM declarations d \
         JOIN warnings w ON w.county_code = d.county_code AND w.id = d.warning_id \
         WHERE d.code_hash = $1")
        .bind(&hash).fetch_optional(pool).await?);
    if let Some((submitted_at, division_code, status, due_on)) = declaration {
        let status = WarningStatus::from_code(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("warning status '{status}'")))?;
        return Ok(Some(Tracked::Declaration {
            submitted_at,
            division_code,
            due_on: due_on.filter(|_| status.is_active()),
            status,
        }));
    }
    let sql = format!("{TICKET_SELECT} WHERE code_hash = $1");
    let ticket: Option<TicketRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&hash).fetch_optional(pool).await?);
    Ok(ticket
        .map(TicketRow::opened)
        .transpose()?
        .map(|t| Tracked::Ticket(Box::new(t))))
}

/// The next id of a table whose ids are unique across counties (assigned under the write lock).
pub(super) async fn next_id(tx: &mut Tx, table: &'static str) -> Result<i64> {
    let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM {table}");
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_one(conn).await?),
    )
}

/// What every public submission shares: a number in its table, a tracking code, the county it
/// is routed to, and its audit operation (actor `public`), inside one write transaction that
/// [`Intake::finish`] commits. Nothing is "received" before that commit.
pub(super) struct Intake {
    pub(super) tx: Tx,
    pub(super) operation: Operation,
    pub(super) id: i64,
    pub(super) county_code: String,
    pub(super) division: String,
    pub(super) tracking_code: String,
    pub(super) code_hash: String,
    pub(super) now: String,
}

impl Intake {
    /// Starts storing a submission about `division` into `table`, audited as `action`; `None`
    /// when the division is not in the division table.
    pub(super) async fn begin(
        db: &Db,
        kind: (&'static str, &str, &str),
        division: &DivisionCode,
        after: serde_json::Value,
    ) -> Result<Option<Intake>> {
        if db.division(division).await?.is_none() {
            return Ok(None);
        }
        let tx = db.begin_write().await?;
        Ok(Some(Intake::start(tx, kind, division, after).await?))
    }

    /// Starts storing, inside the write transaction `tx`, a submission routed to `division`
    /// (one of the division table).
    pub(super) async fn start(
        mut tx: Tx,
        (table, action, object_type): (&'static str, &str, &str),
        division: &DivisionCode,
        after: serde_json::Value,
    ) -> Result<Intake> {
        let county_code = division.county_digits().to_owned();
        let (tracking_code, code_hash) = new_tracking_code();
        let id = next_id(&mut tx, table).await?;
        let operation = Operation::begin(
            &mut tx,
            AuditEntry {
                actor: PUBLIC_ACTOR.into(),
                action: action.into(),
                object_type: object_type.into(),
                object_id: Some(id.to_string()),
                county_code: Some(county_code.clone()),
                division_code: Some(division.as_str().to_owned()),
                after: Some(after),
                ..Default::default()
            },
        )
        .await?;
        Ok(Intake {
            tx,
            operation,
            id,
            county_code,
            division: division.as_str().to_owned(),
            tracking_code,
            code_hash,
            now: now_stored(),
        })
    }

    pub(super) async fn finish(mut self, result: Option<serde_json::Value>) -> Result<Submitted> {
        self.operation.finish(&mut self.tx, result).await?;
        self.tx.commit().await?;
        Ok(Submitted {
            id: self.id,
            tracking_code: self.tracking_code,
        })
    }
}
