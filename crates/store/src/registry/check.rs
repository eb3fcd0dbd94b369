//! Before a write: the stored households among those given, the owners of their members' ID
//! numbers, and every conflict that refuses the write.

use super::conflict::{Conflict, MonitoringField};
use super::read::{Bind, RowMeta, stream_records};
use super::{
    CHUNK, Existing, FULL_SCAN_THRESHOLD, HouseholdSource, MonitoringPermission,
    changes_monitoring, fingerprint,
};
use crate::keys;
use crate::placeholders;
use crate::records::{HouseholdRecord, MonitoringColumns};
use crate::{Db, Result, Tx, on_tx};
use rustc_hash::FxHashSet;
use std::collections::{HashMap, HashSet};

pub(super) async fn find_conflicts(
    tx: &mut Tx,
    households: &[impl HouseholdSource],
    known_new: bool,
    monitoring: MonitoringPermission,
    villages: Option<&HashSet<String>>,
) -> Result<(HashMap<String, Existing>, Vec<Conflict>)> {
    let read;
    let divisions = match villages {
        Some(v) => v,
        None => {
            read = village_codes(tx).await?;
            &read
        }
    };
    let mut batch_nos: FxHashSet<&str> = FxHashSet::default();
    batch_nos.reserve(households.len());
    let mut batch_ids: FxHashSet<&str> = FxHashSet::default();
    let mut conflicts = Vec::new();
    for h in households {
        if !batch_nos.insert(h.household_no()) {
            conflicts.push(Conflict::DuplicateInWrite {
                household_no: h.household_no().to_owned(),
                id_number: None,
            });
        }
        h.for_each_member_id(&mut |id| {
            if !batch_ids.insert(id) {
                conflicts.push(Conflict::DuplicateInWrite {
                    household_no: h.household_no().to_owned(),
                    id_number: Some(id.to_owned()),
                });
            }
        });
    }
    drop(batch_ids);
    let (existing, owners) = if known_new {
        (HashMap::new(), HashMap::new())
    } else {
        load_existing(tx, households).await?
    };
    for h in households {
        if !divisions.contains(h.division_code()) {
            conflicts.push(Conflict::UnknownDivision {
                household_no: h.household_no().to_owned(),
                division_code: h.division_code().to_owned(),
            });
        }
        h.for_each_member_id(&mut |id| {
            if let Some(owner) = owners.get(id)
                && owner != h.household_no()
                && !batch_nos.contains(owner.as_str())
            {
                conflicts.push(Conflict::IdNumberInAnotherHousehold {
                    household_no: h.household_no().to_owned(),
                    id_number: id.to_owned(),
                    registered_in: owner.clone(),
                });
            }
        });
        if monitoring == MonitoringPermission::ProceduresOnly {
            let stored = existing.get(h.household_no());
            let written = h.monitoring();
            if changes_monitoring(&written, stored) {
                let none = MonitoringColumns::default();
                let stored = stored.map_or(&none, |e| &e.monitoring);
                conflicts.extend(monitoring_conflicts(h.household_no(), stored, written));
            }
        }
    }
    Ok((existing, conflicts))
}

/// Why a write that may not change monitoring fields is refused: the category when it changes
/// (its text names the legacy import already), else each field of the outcome that changes.
fn monitoring_conflicts(
    household_no: &str,
    stored: &MonitoringColumns,
    written: MonitoringColumns,
) -> Vec<Conflict> {
    if stored.category != written.category {
        return vec![Conflict::MonitoringOutsideProcedures {
            household_no: household_no.to_owned(),
            stored: stored.category.clone(),
            written: written.category,
        }];
    }
    let fields = [
        (
            MonitoringField::IdentifiedOn,
            &stored.identified_on,
            written.identified_on,
        ),
        (
            MonitoringField::RiskTypes,
            &stored.risk_types,
            written.risk_types,
        ),
        (
            MonitoringField::RiskEliminatedOn,
            &stored.risk_eliminated_on,
            written.risk_eliminated_on,
        ),
        (
            MonitoringField::EliminationMethod,
            &stored.elimination_method,
            written.elimination_method,
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, stored, written)| *stored != written)
        .map(
            |(field, stored, written)| Conflict::OutcomeOutsideProcedures {
                household_no: household_no.to_owned(),
                field,
                stored: stored.clone(),
                written,
            },
        )
        .collect()
}

/// The codes of the villages (and communities) in the division table.
pub(super) async fn village_codes(tx: &mut Tx) -> Result<HashSet<String>> {
    Ok(on_tx!(tx, conn =>
        sqlx::query_scalar::<_, String>("SELECT code FROM divisions WHERE level = 'village'")
            .fetch_all(conn).await?)
    .into_iter()
    .collect())
}

impl Db {
    /// The conflicts a write of these households would meet, without writing.
    pub async fn conflicts(
        &self,
        households: &[impl HouseholdSource],
        monitoring: MonitoringPermission,
    ) -> Result<Vec<Conflict>> {
        let mut tx = match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        let (_, conflicts) = find_conflicts(&mut tx, households, false, monitoring, None).await?;
        tx.rollback().await?;
        Ok(conflicts)
    }
}

/// Stored households among those being written (by number), and the owner of each member ID
/// number that the batch mentions.
async fn load_existing(
    tx: &mut Tx,
    households: &[impl HouseholdSource],
) -> Result<(HashMap<String, Existing>, HashMap<String, String>)> {
    let mut existing = HashMap::new();
    let mut owners = HashMap::new();
    let stored: i64 = on_tx!(tx, conn => sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(conn).await?);
    if stored == 0 {
        return Ok((existing, owners));
    }
    let mut wanted_ids: HashSet<String> = HashSet::new();
    for h in households {
        h.for_each_member_id(&mut |id| {
            wanted_ids.insert(id.to_owned());
        });
    }
    let wanted_nos: HashSet<&str> = households.iter().map(|h| h.household_no()).collect();
    let mut take = |record: HouseholdRecord, meta: RowMeta| {
        for m in &record.members {
            if wanted_ids.contains(&m.id_number) {
                owners.insert(m.id_number.clone(), record.household_no.clone());
            }
        }
        if wanted_nos.contains(record.household_no.as_str()) {
            existing.insert(
                record.household_no.clone(),
                Existing {
                    id: meta.id,
                    version: meta.version,
                    created_at: meta.created_at,
                    created_seq: meta.created_seq,
                    division_code: record.division_code.clone(),
                    monitoring: MonitoringColumns::of_record(&record),
                    fingerprint: fingerprint(&record),
                },
            );
        }
    };
    if households.len() > FULL_SCAN_THRESHOLD {
        stream_records(tx, "", &[], &mut take).await?;
    } else {
        let nos: Vec<String> = wanted_nos.iter().map(|s| s.to_string()).collect();
        for chunk in nos.chunks(CHUNK) {
            let filter = format!("WHERE h.household_no IN ({})", placeholders(chunk.len(), 1));
            let binds: Vec<Bind> = chunk.iter().map(|s| Bind::Text(s.clone())).collect();
            stream_records(tx, &filter, &binds, &mut take).await?;
        }
        // Households that hold one of the batch's ID numbers but are not in the batch, found
        // by the numbers' blind index.
        let mut by_index: HashMap<String, String> = HashMap::with_capacity(wanted_ids.len());
        for id in &wanted_ids {
            by_index.insert(keys::blind_id_number(id)?, id.clone());
        }
        let indexes: Vec<&String> = by_index.keys().collect();
        for chunk in indexes.chunks(CHUNK) {
            let sql = format!(
                "SELECT m.id_number_index, h.household_no FROM members m JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id \
                 WHERE m.id_number_index IN ({})",
                placeholders(chunk.len(), 1)
            );
            let rows: Vec<(String, String)> = on_tx!(tx, conn => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for index in chunk {
                    q = q.bind(index.as_str());
                }
                q.fetch_all(conn).await?
            });
            for (index, household_no) in rows {
                if let Some(id) = by_index.get(&index) {
                    owners.insert(id.clone(), household_no);
                }
            }
        }
    }
    Ok((existing, owners))
}
