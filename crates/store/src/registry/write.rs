//! The write path: one audited operation, written in chunks inside the caller's transaction,
//! with the before and after of each changed household in the audit trail.

use super::check::{find_conflicts, village_codes};
use super::counts::refresh_village_counts;
use super::rows::{
    HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, Stamps, delete_households, load_records_by_id, next_ids,
    push_household, push_member,
};
use super::{
    CHUNK, Existing, HouseholdSource, LEGACY_MONITORING_ACTION, MonitoringPermission, WRITE_ACTION,
    WriteRequest, WriteSummary, changes_monitoring, fingerprint,
};
use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::bulk::Batch;
use crate::records::{HouseholdRecord, MemberRecord};
use crate::{Db, Result, StoreError, Tx};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use zhenxing_core::china_time::now_stored;

impl Db {
    /// Creates or replaces each household (by household number), with its members.
    /// `progress` is called with the number of households handled so far.
    pub async fn write_households(
        &self,
        households: &[impl HouseholdSource],
        request: &WriteRequest,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<WriteSummary> {
        let mut tx = self.begin_write().await?;
        let result = write_in_transaction(&mut tx, households, request, progress).await;
        match result {
            Ok(summary) if !request.dry_run => {
                tx.commit().await?;
                Ok(summary)
            }
            other => {
                tx.rollback().await?;
                other
            }
        }
    }
}

/// The write inside a transaction the caller holds (from [`Db::begin_write`]), as one audited
/// operation.
pub async fn write_in_transaction(
    tx: &mut Tx,
    households: &[impl HouseholdSource],
    request: &WriteRequest,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<WriteSummary> {
    let mut operation = begin_operation(tx, request).await?;
    let mut summary = WriteSummary::default();
    write_chunk(
        tx,
        households,
        request,
        &mut operation,
        &mut summary,
        progress,
    )
    .await?;
    finish_operation(tx, operation, request, &summary).await?;
    Ok(summary)
}

/// Starts the audited operation of a write made of several chunks.
pub async fn begin_operation(tx: &mut Tx, request: &WriteRequest) -> Result<Operation> {
    Operation::begin(
        tx,
        AuditEntry {
            actor: request.actor.clone(),
            action: match request.monitoring {
                MonitoringPermission::ProceduresOnly => WRITE_ACTION,
                MonitoringPermission::LegacyMonitoring => LEGACY_MONITORING_ACTION,
            }
            .into(),
            object_type: "registry".into(),
            reason: Some(reason(request)),
            ..Default::default()
        },
    )
    .await
}

/// Records the operation with its summary.
pub async fn finish_operation(
    tx: &mut Tx,
    operation: Operation,
    request: &WriteRequest,
    summary: &WriteSummary,
) -> Result<()> {
    operation
        .finish(
            tx,
            Some(json!({ "source": request.source, "summary": summary })),
        )
        .await
}

/// Writes one chunk of households inside the caller's transaction and operation; refuses the
/// chunk with every conflict it has before writing any of it.
pub async fn write_chunk(
    tx: &mut Tx,
    households: &[impl HouseholdSource],
    request: &WriteRequest,
    operation: &mut Operation,
    summary: &mut WriteSummary,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<()> {
    if operation.villages.is_none() {
        operation.villages = Some(village_codes(tx).await?);
    }
    let villages = operation.villages.as_ref();
    let (existing, conflicts) = find_conflicts(
        tx,
        households,
        request.known_new,
        request.monitoring,
        villages,
    )
    .await?;
    if !conflicts.is_empty() {
        return Err(StoreError::Conflicts(conflicts));
    }

    let mut to_replace: Vec<(HouseholdRecord, &Existing)> = Vec::new();
    let mut to_create: Vec<&dyn HouseholdSource> = Vec::new();
    for h in households {
        let stored = if existing.is_empty() {
            None
        } else {
            existing.get(h.household_no())
        };
        if changes_monitoring(&h.monitoring(), stored) {
            summary.monitoring_set += 1;
        }
        match stored {
            Some(e) => {
                let record = h.to_record();
                if e.fingerprint == fingerprint(&record) {
                    summary.unchanged += 1;
                } else {
                    to_replace.push((record, e));
                }
            }
            None => to_create.push(h),
        }
    }

    // Replaced households: remember the state before, then delete (members cascade) and insert
    // again below under the same id with the next version.
    let mut affected_villages: HashSet<String> = HashSet::new();
    for chunk in to_replace.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|(_, e)| e.id).collect();
        let before = load_records_by_id(tx, &ids).await?;
        for (h, e) in chunk {
            let (old, new) = match before.get(&e.id) {
                Some(old) => diff(old, h),
                None => (Value::Null, Value::Null),
            };
            affected_villages.insert(e.division_code.clone());
            let item = AuditItem {
                action: "update",
                object_type: "household",
                object_id: h.household_no.clone(),
                county_code: Some(h.county_code().to_owned()),
                division_code: Some(h.division_code.clone()),
                before: Some(old.to_string()),
                after: Some(new.to_string()),
            };
            operation.item(tx, item).await?;
        }
        delete_households(tx, &ids).await?;
        // A household registered in another village takes its file along (warnings, cases,
        // pairings, measures, and across a county line its past years' incomes).
        for (h, e) in chunk {
            crate::household_file::move_file(
                tx,
                &h.household_no,
                &e.division_code,
                &h.division_code,
            )
            .await?;
        }
    }

    let now = now_stored();
    let (mut next_household_id, mut next_member_id) = next_ids(tx).await?;
    let mut household_batch = Batch::new("households", HOUSEHOLD_COLUMNS);
    let mut member_batch = Batch::new("members", MEMBER_COLUMNS);
    let mut done = 0u64;
    let replaced = to_replace
        .into_iter()
        .map(|(h, e)| (Cow::Owned(h), Some(e)));
    let created = to_create.into_iter().map(|h| (h.record(), None));
    for (h, existing) in replaced.chain(created) {
        let (id, version, created_at, created_seq) = match existing {
            Some(e) => (e.id, e.version + 1, e.created_at.clone(), e.created_seq),
            None => {
                next_household_id += 1;
                (next_household_id, 1, now.clone(), operation.seq())
            }
        };
        if existing.is_none() {
            // A creation is not itemised: the household row points to the operation that created
            // it (created_seq), and its state as created is the `before` of its first change.
            summary.created += 1;
        } else {
            summary.updated += 1;
        }
        if !affected_villages.contains(&h.division_code) {
            affected_villages.insert(h.division_code.clone());
        }
        let stamps = Stamps {
            version,
            created_at: &created_at,
            updated_at: &now,
            created_seq,
            updated_seq: operation.seq(),
        };
        push_household(&mut household_batch, &h, id, &stamps);
        for (position, m) in h.members.iter().enumerate() {
            next_member_id += 1;
            push_member(
                &mut member_batch,
                m,
                next_member_id,
                h.county_code(),
                id,
                position,
            );
        }
        summary.members_written += h.members.len() as u64;
        if member_batch.len() >= 20_000 {
            household_batch.flush(tx).await?;
            member_batch.flush(tx).await?;
        }
        done += 1;
        if done.is_multiple_of(10_000) {
            progress(summary.unchanged + done);
        }
    }
    household_batch.flush(tx).await?;
    member_batch.flush(tx).await?;
    if !request.defer_counts {
        refresh_village_counts(tx, &affected_villages).await?;
    }
    progress(households.len() as u64);
    Ok(())
}

/// The stored households among those given, and every conflict that refuses the write.
pub(super) fn reason(request: &WriteRequest) -> String {
    match &request.reason {
        Some(r) => format!("{} ({})", r, request.source),
        None => request.source.clone(),
    }
}

/// Before and after of the fields that changed; members keyed by ID number.
fn diff(old: &HouseholdRecord, new: &HouseholdRecord) -> (Value, Value) {
    let to_map = |r: &HouseholdRecord| match serde_json::to_value(r) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let (mut a, mut b) = (to_map(old), to_map(new));
    a.remove("members");
    b.remove("members");
    let mut before = Map::new();
    let mut after = Map::new();
    for (key, value) in &b {
        if a.get(key) != Some(value) {
            before.insert(key.clone(), a.get(key).cloned().unwrap_or(Value::Null));
            after.insert(key.clone(), value.clone());
        }
    }
    fn by_id(r: &HouseholdRecord) -> HashMap<&str, &MemberRecord> {
        r.members
            .iter()
            .map(|m| (m.id_number.as_str(), m))
            .collect()
    }
    let (old_members, new_members) = (by_id(old), by_id(new));
    let mut members_before = Map::new();
    let mut members_after = Map::new();
    for (id, m) in &old_members {
        if new_members.get(id) != Some(m) {
            members_before.insert(
                id.to_string(),
                serde_json::to_value(m).unwrap_or(Value::Null),
            );
        }
    }
    for (id, m) in &new_members {
        if old_members.get(id) != Some(m) {
            members_after.insert(
                id.to_string(),
                serde_json::to_value(m).unwrap_or(Value::Null),
            );
        }
    }
    if !members_before.is_empty() || !members_after.is_empty() {
        before.insert("members".into(), Value::Object(members_before));
        after.insert("members".into(), Value::Object(members_after));
    }
    (Value::Object(before), Value::Object(after))
}
