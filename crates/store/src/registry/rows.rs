//! The household and member rows as the write path stores them: ids, deletions, the columns
//! of a bulk insert and the rows themselves.

use super::read::{Bind, stream_records};
use crate::bulk::{Batch, ColType};
use crate::keys;
use crate::placeholders;
use crate::records::{HouseholdRecord, MemberRecord};
use crate::{Result, Tx, on_tx};
use std::collections::HashMap;

pub(super) async fn load_records_by_id(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<HashMap<i64, HouseholdRecord>> {
    let mut out = HashMap::new();
    let filter = format!("WHERE h.id IN ({})", placeholders(ids.len(), 1));
    let binds: Vec<Bind> = ids.iter().map(|i| Bind::Int(*i)).collect();
    stream_records(tx, &filter, &binds, &mut |record, meta| {
        out.insert(meta.id, record);
    })
    .await?;
    Ok(out)
}

pub(super) async fn delete_households(tx: &mut Tx, ids: &[i64]) -> Result<()> {
    let sql_members = format!(
        "DELETE FROM members WHERE household_id IN ({})",
        placeholders(ids.len(), 1)
    );
    let sql_households = format!(
        "DELETE FROM households WHERE id IN ({})",
        placeholders(ids.len(), 1)
    );
    for sql in [sql_members, sql_households] {
        on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in ids {
                q = q.bind(*id);
            }
            q.execute(conn).await.map(drop)?
        });
    }
    Ok(())
}

pub(super) async fn next_ids(tx: &mut Tx) -> Result<(i64, i64)> {
    let h: i64 = on_tx!(tx, conn => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM households")
        .fetch_one(conn).await?);
    let m: i64 = on_tx!(tx, conn => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM members")
        .fetch_one(conn).await?);
    Ok((h, m))
}

pub(super) const HOUSEHOLD_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("division_code", ColType::Text),
    ("household_type", ColType::Text),
    ("lifted_out_year", ColType::Int),
    ("monitoring_category", ColType::Text),
    ("phone", ColType::Sealed(&keys::HOUSEHOLDS_PHONE)),
    ("address", ColType::Text),
    ("village_group", ColType::Text),
    ("wage_income", ColType::Int),
    ("business_income", ColType::Int),
    ("property_income", ColType::Int),
    ("transfer_income", ColType::Int),
    ("business_expense", ColType::Int),
    ("out_of_pocket", ColType::Int),
    ("net_income", ColType::Int),
    ("member_count", ColType::Int),
    ("per_capita_net_income", ColType::Int),
    ("housing_safe", ColType::Bool),
    ("water_safe", ColType::Bool),
    ("version", ColType::Int),
    ("created_at", ColType::Text),
    ("updated_at", ColType::Text),
    ("created_seq", ColType::Int),
    ("updated_seq", ColType::Int),
    ("identified_on", ColType::Text),
    ("risk_types", ColType::Text),
    ("risk_eliminated_on", ColType::Text),
    ("elimination_method", ColType::Text),
];

pub(super) const MEMBER_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_id", ColType::Int),
    ("position", ColType::Int),
    ("name", ColType::Text),
    ("id_number", ColType::Sealed(&keys::MEMBERS_ID_NUMBER)),
    ("disability_category", ColType::Int),
    ("disability_level", ColType::Int),
    ("relation", ColType::Text),
    ("sex", ColType::Text),
    ("birth_date", ColType::Text),
    ("ethnicity", ColType::Text),
    ("education", ColType::Text),
    ("school_status", ColType::Text),
    ("health", ColType::Text),
    ("labor", ColType::Text),
    ("work_months", ColType::Int),
    ("medical_insurance", ColType::Bool),
    ("dibao", ColType::Bool),
    ("id_number_index", ColType::IdNumberIndexOf(5)),
];

/// When and by which operation a stored household was created and last changed.
pub(super) struct Stamps<'a> {
    pub(super) version: i64,
    pub(super) created_at: &'a str,
    pub(super) updated_at: &'a str,
    pub(super) created_seq: i64,
    pub(super) updated_seq: i64,
}

pub(super) fn push_household(batch: &mut Batch, h: &HouseholdRecord, id: i64, stamps: &Stamps<'_>) {
    batch
        .row()
        .int(Some(id))
        .text(Some(h.county_code()))
        .text(Some(h.household_no.as_str()))
        .text(Some(h.division_code.as_str()))
        .text(Some(h.household_type.as_str()))
        .int(h.lifted_out_year)
        .text(h.monitoring_category.as_deref())
        .text(h.phone.as_deref())
        .text(h.address.as_deref())
        .text(h.village_group.as_deref())
        .int(Some(h.wage_income))
        .int(Some(h.business_income))
        .int(Some(h.property_income))
        .int(Some(h.transfer_income))
        .int(Some(h.business_expense))
        .int(Some(h.out_of_pocket))
        .int(Some(h.net_income()))
        .int(Some(h.members.len() as i64))
        .int(Some(h.per_capita_net_income()))
        .bool(h.housing_safe)
        .bool(h.water_safe)
        .int(Some(stamps.version))
        .text(Some(stamps.created_at))
        .text(Some(stamps.updated_at))
        .int(Some(stamps.created_seq))
        .int(Some(stamps.updated_seq))
        .text(h.identified_on.as_deref())
        .text(h.risk_types.as_deref())
        .text(h.risk_eliminated_on.as_deref())
        .text(h.elimination_method.as_deref());
}

pub(super) fn push_member(
    batch: &mut Batch,
    m: &MemberRecord,
    id: i64,
    county: &str,
    household_id: i64,
    position: usize,
) {
    batch
        .row()
        .int(Some(id))
        .text(Some(county))
        .int(Some(household_id))
        .int(Some(position as i64))
        .text(Some(m.name.as_str()))
        .text(Some(m.id_number.as_str()))
        .int(m.disability_category)
        .int(m.disability_level)
        .text(Some(m.relation.as_str()))
        .text(Some(m.sex.as_str()))
        .text(Some(m.birth_date.as_str()))
        .text(m.ethnicity.as_deref())
        .text(m.education.as_deref())
        .text(m.school_status.as_deref())
        .text(Some(m.health.as_str()))
        .text(Some(m.labor.as_str()))
        .int(m.work_months)
        .bool(Some(m.medical_insurance))
        .bool(m.dibao)
        .text(None::<&str>);
}
