//! A lost tracking code: [`recover_declaration_code`] gives a new one to whoever knows the ID
//! and the phone number given with a self-declaration (issue 18, item 9).
//!
//! The database holds only a code's hash, so the old code cannot be shown again: a new one
//! replaces it, and the old one stops working. The answer is the same whether or not a
//! declaration matches: a new code every time, which opens the declaration only when the two
//! numbers were right (otherwise it opens nothing). A stranger learns nothing from the answer
//! itself; what a right pair opens is what the tracking page shows (the dates, the village
//! chosen, the status), never the numbers, the text or who handles it.

use super::PUBLIC_ACTOR;
use super::intake::new_tracking_code;
use crate::audit::{AuditEntry, Operation};
use crate::{Db, Result, keys, on_tx};
use serde_json::json;
use zhenxing_core::warning::WarningStatus;
use zhenxing_core::{IdNumber, Phone};

/// A declaration that may be renewed, as read under the write lock.
#[derive(sqlx::FromRow)]
struct Candidate {
    county_code: String,
    id: i64,
    division_code: String,
    phone: String,
    status: Option<String>,
    created_at: String,
}

/// A new tracking code for the declarations of `id_number` given with `phone`, always: when
/// one matches, the code replaces its old one (which stops working); when none does, the code
/// opens nothing. Where several match, the latest one whose lead is still open is renewed, or
/// the latest one when every lead is closed: the visitor wants to follow what is still being
/// worked, and one code per answer keeps the answer the same whatever matched. The audit trail
/// records every attempt (actor `public`, `portal.code_recovery`): on the renewed declaration
/// when one matched, without any number either way.
pub async fn recover_declaration_code(
    db: &Db,
    id_number: &IdNumber,
    phone: &Phone,
) -> Result<String> {
    let (code, hash) = new_tracking_code();
    let index = keys::blind_id_number(id_number.as_str())?;
    let mut tx = db.begin_write().await?;
    let candidates: Vec<Candidate> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT d.county_code, d.id, d.division_code, d.phone, w.status, d.created_at \
         FROM declarations d \
         LEFT JOIN warnings w ON w.county_code = d.county_code AND w.id = d.warning_id \
         WHERE d.id_number_index = $1")
        .bind(&index).fetch_all(&mut *conn).await?);
    // Every candidate is opened and compared, the matching one wherever it stands.
    let mut matching = Vec::new();
    for c in candidates {
        if keys::open(&keys::DECLARATIONS_PHONE, &c.phone)? == phone.as_str() {
            matching.push(c);
        }
    }
    let open = |c: &Candidate| {
        c.status
            .as_deref()
            .and_then(WarningStatus::from_code)
            .is_some_and(WarningStatus::is_active)
    };
    let chosen = matching
        .into_iter()
        .max_by(|a, b| (open(a), &a.created_at, a.id).cmp(&(open(b), &b.created_at, b.id)));
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: PUBLIC_ACTOR.into(),
            action: "portal.code_recovery".into(),
            object_type: "declaration".into(),
            object_id: chosen.as_ref().map(|c| c.id.to_string()),
            county_code: chosen.as_ref().map(|c| c.county_code.clone()),
            division_code: chosen.as_ref().map(|c| c.division_code.clone()),
            after: Some(json!({"renewed": chosen.is_some()})),
            ..Default::default()
        },
    )
    .await?;
    if let Some(c) = &chosen {
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE declarations SET code_hash = $1 WHERE county_code = $2 AND id = $3")
            .bind(&hash).bind(&c.county_code).bind(c.id)
            .execute(conn).await.map(drop)?);
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(code)
}
