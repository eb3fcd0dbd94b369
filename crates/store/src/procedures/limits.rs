//! The procedures' time limits, stored in the `settings` table.

use crate::audit::{AuditEntry, Operation};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use serde_json::{Value, json};
use zhenxing_core::Text;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::procedure::{DayCounting, ProcedurePolicy};

const POLICY_KEYS: [&str; 4] = [
    "procedure.limit_days",
    "procedure.counting",
    "procedure.notice_days",
    "procedure.near_days",
];

/// The procedures' time limits: the stored settings, or the defaults.
pub async fn policy(db: &Db) -> Result<ProcedurePolicy> {
    let rows: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT key, value FROM settings WHERE key LIKE 'procedure.%'")
        .fetch_all(pool).await?);
    let mut p = ProcedurePolicy::default();
    for (key, value) in rows {
        let bad = || StoreError::Corrupt(format!("setting {key} = '{value}' does not parse"));
        match key.as_str() {
            "procedure.limit_days" => p.limit_days = value.parse().map_err(|_| bad())?,
            "procedure.notice_days" => p.notice_days = value.parse().map_err(|_| bad())?,
            "procedure.near_days" => p.near_days = value.parse().map_err(|_| bad())?,
            "procedure.counting" => p.counting = DayCounting::from_code(&value).ok_or_else(bad)?,
            _ => {}
        }
    }
    p.calendar = db.work_calendar().await?;
    Ok(p)
}

/// Stores new time limits after [`ProcedurePolicy::check`], audited; every problem otherwise.
pub async fn set_policy(
    db: &Db,
    actor_name: &str,
    new: &ProcedurePolicy,
) -> Result<Result<(), Vec<Text>>> {
    if let Err(problems) = new.check() {
        return Ok(Err(problems));
    }
    let old = policy(db).await?;
    let values = [
        new.limit_days.to_string(),
        new.counting.code().to_owned(),
        new.notice_days.to_string(),
        new.near_days.to_string(),
    ];
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor_name.to_owned(),
            action: "settings.procedure".into(),
            object_type: "settings".into(),
            object_id: Some("procedure".into()),
            before: Some(policy_json(&old)),
            after: Some(policy_json(new)),
            ..Default::default()
        },
    )
    .await?;
    for (key, value) in POLICY_KEYS.iter().zip(values) {
        write_setting(&mut tx, key, &value, actor_name, operation.seq()).await?;
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Stores one setting inside the caller's write transaction and audit operation (`audit_seq`).
pub(crate) async fn write_setting(
    tx: &mut Tx,
    key: &str,
    value: &str,
    actor_name: &str,
    audit_seq: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO settings (key, value, updated_by, updated_at, audit_seq) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at, \
         audit_seq = excluded.audit_seq")
        .bind(key).bind(value).bind(actor_name).bind(now_stored()).bind(audit_seq)
        .execute(conn).await.map(|_| ())?);
    Ok(())
}

fn policy_json(p: &ProcedurePolicy) -> Value {
    json!({"limit_days": p.limit_days, "counting": p.counting.code(),
           "notice_days": p.notice_days, "near_days": p.near_days})
}
