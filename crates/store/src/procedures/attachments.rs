//! Scans and photos kept with a case.

use super::reading::case_row;
use crate::accounts::Account;
use crate::audit::{AuditEntry, Operation};
use crate::outcome::Outcome;
use crate::{Db, Result, on_pool, on_tx};
use serde_json::json;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::{Scope, text};

/// Keeps a scan or photo with an open case of the actor's scope, audited.
pub async fn attach(
    db: &Db,
    actor: &Account,
    case_id: i64,
    file_name: &str,
    bytes: &[u8],
) -> Result<Outcome<i64>> {
    let Some(c) = case_row(db, &actor.scope(), case_id).await? else {
        return Ok(Outcome::NotFound);
    };
    if c.closed_on.is_some() {
        return Ok(Outcome::Refused(text!(
            "程序已结束，不能再添加附件",
            "the case is closed; nothing more can be attached"
        )));
    }
    let file = match crate::files::accept(file_name, bytes.to_vec()) {
        Ok(file) => file,
        Err(why) => return Ok(Outcome::Refused(why)),
    };
    let (name, sha) = (&file.name, &file.sha256);
    let mut tx = db.begin_write().await?;
    let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM case_attachments")
        .fetch_one(conn).await?);
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: "case.attach".into(),
            object_type: "case".into(),
            object_id: Some(c.id.to_string()),
            county_code: Some(c.county_code.clone()),
            division_code: Some(c.division_code.clone()),
            reason: None,
            before: None,
            after: Some(json!({"attachment": id, "file_name": name, "sha256": sha,
                               "size_bytes": file.bytes.len()})),
        },
    )
    .await?;
    let step_number: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT MAX(number) FROM case_steps WHERE county_code = $1 AND case_id = $2")
        .bind(&c.county_code).bind(c.id).fetch_one(conn).await?);
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO case_attachments (id, county_code, case_id, step_number, file_name, \
         content_type, size_bytes, sha256, content, uploaded_by, uploaded_at, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(id).bind(&c.county_code).bind(c.id).bind(step_number).bind(name)
        .bind(file.content_type).bind(file.bytes.len() as i64).bind(sha).bind(&file.bytes)
        .bind(&actor.name).bind(now_stored()).bind(operation.seq())
        .execute(conn).await.map(|_| ())?);
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(id))
}

/// An attachment of a case in `scope`: its name, content type and bytes.
pub async fn attachment(
    db: &Db,
    scope: &Scope,
    case_id: i64,
    id: i64,
) -> Result<Option<(String, String, Vec<u8>)>> {
    let Some(c) = case_row(db, scope, case_id).await? else {
        return Ok(None);
    };
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT file_name, content_type, content FROM case_attachments \
         WHERE county_code = $1 AND case_id = $2 AND id = $3")
        .bind(&c.county_code).bind(case_id).bind(id).fetch_optional(pool).await?))
}
