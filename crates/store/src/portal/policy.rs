//! The portal's time limits: stored settings, audited when changed.

use crate::audit::{AuditEntry, Operation};
use crate::procedures::write_setting;
use crate::{Db, Result, StoreError, on_pool};
use serde_json::json;
use zhenxing_core::Text;
use zhenxing_core::portal::PortalPolicy;

const POLICY_KEYS: [&str; 2] = ["portal.declaration_accept_days", "portal.ticket_limit_days"];

/// The portal's time limits: the stored settings, or the defaults.
pub async fn policy(db: &Db) -> Result<PortalPolicy> {
    let rows: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT key, value FROM settings WHERE key LIKE 'portal.%'")
        .fetch_all(pool).await?);
    let mut p = PortalPolicy::default();
    for (key, value) in rows {
        let parsed = value
            .parse::<i64>()
            .map_err(|_| StoreError::Corrupt(format!("setting {key} = '{value}' does not parse")));
        match key.as_str() {
            "portal.declaration_accept_days" => p.declaration_accept_days = parsed?,
            "portal.ticket_limit_days" => p.ticket_limit_days = parsed?,
            _ => {}
        }
    }
    Ok(p)
}

fn policy_json(p: &PortalPolicy) -> serde_json::Value {
    json!({"declaration_accept_days": p.declaration_accept_days,
           "ticket_limit_days": p.ticket_limit_days})
}

/// Stores new time limits after [`PortalPolicy::check`], audited; every problem otherwise.
pub async fn set_policy(
    db: &Db,
    actor_name: &str,
    new: &PortalPolicy,
) -> Result<Result<(), Vec<Text>>> {
    if let Err(problems) = new.check() {
        return Ok(Err(problems));
    }
    let old = policy(db).await?;
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor_name.to_owned(),
            action: "settings.portal".into(),
            object_type: "settings".into(),
            object_id: Some("portal".into()),
            before: Some(policy_json(&old)),
            after: Some(policy_json(new)),
            ..Default::default()
        },
    )
    .await?;
    let values = [new.declaration_accept_days, new.ticket_limit_days];
    for (key, value) in POLICY_KEYS.iter().zip(values) {
        write_setting(
            &mut tx,
            key,
            &value.to_string(),
            actor_name,
            operation.seq(),
        )
        .await?;
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Ok(()))
}
