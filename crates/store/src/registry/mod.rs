//! Registry writes: households created or replaced by household number, in one transaction
//! with their audit records and the village counts. All or nothing: on any conflict the
//! transaction rolls back and every conflict is reported.

use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::bulk::{Batch, ColType};
use crate::keys;
use crate::placeholders;
use crate::records::{HouseholdRecord, MemberRecord};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use futures_util::TryStreamExt;
use rustc_hash::FxHashSet;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use zhenxing_core::china_time::now_stored;

/// Why a write was refused, per household. `Debug` masks ID numbers.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// The household's village is not in the division table.
    UnknownDivision {
        household_no: String,
        division_code: String,
    },
    /// A member's ID number is registered in another household that this write leaves as is.
    IdNumberInAnotherHousehold {
        household_no: String,
        id_number: String,
        registered_in: String,
    },
    /// The same household number twice in one write, or (with `id_number`) the same person in
    /// two of its households. Importers report these first; the store refuses them anyway, since
    /// PostgreSQL's per-county unique constraints cannot.
    DuplicateInWrite {
        household_no: String,
        id_number: Option<String>,
    },
    /// The write would set or change the household's monitoring category (a new household
    /// with one counts), which only the procedures change; see [`MonitoringPermission`].
    /// Codes of [`zhenxing_core::MonitoringCategory`]; `None` for not monitored.
    MonitoringOutsideProcedures {
        household_no: String,
        stored: Option<String>,
        written: Option<String>,
    },
}

impl std::fmt::Debug for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conflict::UnknownDivision {
                household_no,
                division_code,
            } => f
                .debug_struct("UnknownDivision")
                .field("household_no", household_no)
                .field("division_code", division_code)
                .finish(),
            Conflict::IdNumberInAnotherHousehold {
                household_no,
                id_number,
                registered_in,
            } => f
                .debug_struct("IdNumberInAnotherHousehold")
                .field("household_no", household_no)
                .field("id_number", &zhenxing_core::mask::mask_id_number(id_number))
                .field("registered_in", registered_in)
                .finish(),
            Conflict::DuplicateInWrite {
                household_no,
                id_number,
            } => f
                .debug_struct("DuplicateInWrite")
                .field("household_no", household_no)
                .field(
                    "id_number",
                    &id_number
                        .as_deref()
                        .map(zhenxing_core::mask::mask_id_number),
                )
                .finish(),
            Conflict::MonitoringOutsideProcedures {
                household_no,
                stored,
                written,
            } => f
                .debug_struct("MonitoringOutsideProcedures")
                .field("household_no", household_no)
                .field("stored", stored)
                .field("written", written)
                .finish(),
        }
    }
}

/// The registry field a conflict is about, so that an importer can point at its column (and,
/// for a member's ID number, at the member's row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictField<'a> {
    DivisionCode,
    HouseholdNo,
    IdNumber(&'a str),
    MonitoringCategory,
}

impl Conflict {
    pub fn household_no(&self) -> &str {
        match self {
            Conflict::UnknownDivision { household_no, .. }
            | Conflict::IdNumberInAnotherHousehold { household_no, .. }
            | Conflict::DuplicateInWrite { household_no, .. }
            | Conflict::MonitoringOutsideProcedures { household_no, .. } => household_no,
        }
    }

    pub fn field(&self) -> ConflictField<'_> {
        match self {
            Conflict::UnknownDivision { .. } => ConflictField::DivisionCode,
            Conflict::IdNumberInAnotherHousehold { id_number, .. }
            | Conflict::DuplicateInWrite {
                id_number: Some(id_number),
                ..
            } => ConflictField::IdNumber(id_number),
            Conflict::DuplicateInWrite {
                id_number: None, ..
            } => ConflictField::HouseholdNo,
            Conflict::MonitoringOutsideProcedures { .. } => ConflictField::MonitoringCategory,
        }
    }

    /// The value to show beside the conflict in a report: ID numbers masked, categories by
    /// their Chinese label (as registry files write them).
    pub fn shown_value(&self) -> String {
        match self {
            Conflict::UnknownDivision { division_code, .. } => division_code.clone(),
            Conflict::IdNumberInAnotherHousehold { id_number, .. }
            | Conflict::DuplicateInWrite {
                id_number: Some(id_number),
                ..
            } => zhenxing_core::mask::mask_id_number(id_number),
            Conflict::DuplicateInWrite {
                id_number: None,
                household_no,
            } => household_no.clone(),
            Conflict::MonitoringOutsideProcedures { written, .. } => {
                category_label(written.as_deref()).zh
            }
        }
    }

    pub fn text(&self) -> zhenxing_core::Text {
        use zhenxing_core::text;
        match self {
            Conflict::UnknownDivision { division_code, .. } => text!(
                "区划代码{division_code}不在登记库的区划表中；请核对代码，或先导入新的区划",
                "division code {division_code} is not in the registry's division table; check the code or import the new division first"
            ),
            Conflict::IdNumberInAnotherHousehold { registered_in, .. } => text!(
                "该证件号码已登记在户{registered_in}中；一人只能属于一户。如需迁户，请在同一文件中同时提交户{registered_in}（不含此人）",
                "this ID number is already registered in household {registered_in}; a person belongs to one household only. To move the person, include household {registered_in} (without them) in the same file"
            ),
            Conflict::DuplicateInWrite {
                id_number: None, ..
            } => text!(
                "同一户编号在本次写入中出现两次",
                "the same household number appears twice in this write"
            ),
            Conflict::DuplicateInWrite {
                id_number: Some(_), ..
            } => text!(
                "同一证件号码在本次写入的两户中出现；一人只能属于一户",
                "the same ID number is in two households of this write; a person belongs to one household only"
            ),
            Conflict::MonitoringOutsideProcedures {
                stored, written, ..
            } => {
                let (from, to) = (
                    category_label(stored.as_deref()),
                    category_label(written.as_deref()),
                );
                let (from_zh, to_zh, from_en, to_en) = (from.zh, to.zh, from.en, to.en);
                text!(
                    "监测对象类别不能由“{from_zh}”改为“{to_zh}”：它是监测程序的结果，只在识别纳入或风险消除程序办结时改变（见 docs/procedures.md），不能通过修改、接口或导入改变。zhenxing 启用前已认定的监测对象，由市级管理员用 zhenxing import registry 文件 --legacy-monitoring --reason 原因 导入",
                    "the monitoring category cannot change from '{from_en}' to '{to_en}': it is the outcome of the monitoring procedures and changes only when an identification or risk-elimination case completes (see docs/procedures.md), not through an edit, the API or an import. Households monitored before zhenxing are brought in by the municipal administrator with zhenxing import registry FILE --legacy-monitoring --reason REASON"
                )
            }
        }
    }
}

/// A stored category code by its labels; "none" for a household not monitored.
fn category_label(code: Option<&str>) -> zhenxing_core::Text {
    match code {
        None => zhenxing_core::Text::new("无", "none"),
        Some(c) => match zhenxing_core::MonitoringCategory::from_code(c) {
            Some(category) => zhenxing_core::Text::new(category.zh(), category.en()),
            None => zhenxing_core::Text::new(c, c),
        },
    }
}

/// What the write path needs of a household: its keys, and its record to store.
pub trait HouseholdSource: Sync {
    fn household_no(&self) -> &str;
    fn division_code(&self) -> &str;
    fn for_each_member_id<'a>(&'a self, each: &mut dyn FnMut(&'a str));
    /// The monitoring category's code, if any.
    fn monitoring_category(&self) -> Option<&str>;
    fn to_record(&self) -> HouseholdRecord;
    /// The record to store, borrowed when the source is one already.
    fn record(&self) -> Cow<'_, HouseholdRecord> {
        Cow::Owned(self.to_record())
    }
}

impl HouseholdSource for HouseholdRecord {
    fn household_no(&self) -> &str {
        &self.household_no
    }
    fn division_code(&self) -> &str {
        &self.division_code
    }
    fn for_each_member_id<'a>(&'a self, each: &mut dyn FnMut(&'a str)) {
        self.members.iter().for_each(|m| each(&m.id_number));
    }
    fn monitoring_category(&self) -> Option<&str> {
        self.monitoring_category.as_deref()
    }
    fn to_record(&self) -> HouseholdRecord {
        self.clone()
    }
    fn record(&self) -> Cow<'_, HouseholdRecord> {
        Cow::Borrowed(self)
    }
}

impl HouseholdSource for zhenxing_core::Household {
    fn household_no(&self) -> &str {
        self.household_no.as_str()
    }
    fn division_code(&self) -> &str {
        self.division.as_str()
    }
    fn for_each_member_id<'a>(&'a self, each: &mut dyn FnMut(&'a str)) {
        self.members
            .iter()
            .for_each(|m| each(m.document.id().as_str()));
    }
    fn monitoring_category(&self) -> Option<&str> {
        self.monitoring_category
            .map(zhenxing_core::MonitoringCategory::code)
    }
    fn to_record(&self) -> HouseholdRecord {
        HouseholdRecord::from_household(self)
    }
}

/// Who writes and why, recorded in the audit trail.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub actor: String,
    /// What caused the write, e.g. `import registry households.xlsx`.
    pub source: String,
    pub reason: Option<String>,
    /// Do everything, report, then roll back.
    pub dry_run: bool,
    /// The caller guarantees that none of the households is stored yet (a generator or an
    /// import filling an empty registry under the write lock): existing records are not looked
    /// up.
    pub known_new: bool,
    /// Leave the village counts to the caller, who calls [`refresh_all_village_counts`] once
    /// before committing a load made of many batches.
    pub defer_counts: bool,
    /// Whether the write may set households' monitoring categories.
    pub monitoring: MonitoringPermission,
}

/// Whether a registry write may set households' monitoring fields. The category, the risk
/// types and the dates of identification and elimination are the outcome of the statutory
/// procedures (docs/procedures.md): a completed case writes them ([`crate::procedures`]), and a
/// registry record carries only the category (the rest is kept as the procedures left it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitoringPermission {
    /// Edits, the API, the web import and a plain `import registry`: a write that would create
    /// a household with a category, or change a stored household's, is refused with
    /// [`Conflict::MonitoringOutsideProcedures`]. The stored category written again (an
    /// export re-imported) is no change.
    ProceduresOnly,
    /// Households monitored before zhenxing kept records, brought in by the operating-system
    /// operator (`import registry --legacy-monitoring --reason …`) or by the generator of
    /// synthetic registries: allowed, and audited as [`LEGACY_MONITORING_ACTION`].
    LegacyMonitoring,
}

/// The audit action of a registry write.
pub const WRITE_ACTION: &str = "registry.write";
/// The audit action of a registry write that may set monitoring categories
/// ([`MonitoringPermission::LegacyMonitoring`]).
pub const LEGACY_MONITORING_ACTION: &str = "registry.legacy_monitoring";

/// Whether an audit action is a registry write (of either kind).
pub fn is_registry_write(action: &str) -> bool {
    action == WRITE_ACTION || action == LEGACY_MONITORING_ACTION
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WriteSummary {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub members_written: u64,
    /// Households whose monitoring category the write set or changed (a legacy import only).
    pub monitoring_set: u64,
}

/// A stored household, known by its number.
struct Existing {
    id: i64,
    version: i64,
    created_at: String,
    created_seq: i64,
    division_code: String,
    monitoring_category: Option<String>,
    fingerprint: u64,
}

/// Whether writing a household with `written` as its category sets or changes it.
fn changes_monitoring(written: Option<&str>, stored: Option<&Existing>) -> bool {
    match stored {
        Some(e) => e.monitoring_category.as_deref() != written,
        None => written.is_some(),
    }
}

/// Above this many households, reading the whole registry once beats per-chunk look-ups.
const FULL_SCAN_THRESHOLD: usize = 2_000;
const CHUNK: usize = 500;

fn fingerprint(record: &HouseholdRecord) -> u64 {
    // DefaultHasher::new() has fixed keys: stable within a process, which is all this needs.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    record.hash(&mut hasher);
    hasher.finish()
}

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
        if changes_monitoring(h.monitoring_category(), stored) {
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
    // What the procedures wrote on a household (not part of a registry record) survives its
    // replacement.
    let mut kept: HashMap<i64, MonitoringFields> = HashMap::new();
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
        kept.extend(monitoring_fields(tx, &ids).await?);
        delete_households(tx, &ids).await?;
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
        let none = MonitoringFields::default();
        let stamps = Stamps {
            version,
            created_at: &created_at,
            updated_at: &now,
            created_seq,
            updated_seq: operation.seq(),
            monitoring: kept.get(&id).unwrap_or(&none),
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
async fn find_conflicts(
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
        let stored = existing.get(h.household_no());
        if monitoring == MonitoringPermission::ProceduresOnly
            && changes_monitoring(h.monitoring_category(), stored)
        {
            conflicts.push(Conflict::MonitoringOutsideProcedures {
                household_no: h.household_no().to_owned(),
                stored: stored.and_then(|e| e.monitoring_category.clone()),
                written: h.monitoring_category().map(str::to_owned),
            });
        }
    }
    Ok((existing, conflicts))
}

/// The codes of the villages (and communities) in the division table.
async fn village_codes(tx: &mut Tx) -> Result<HashSet<String>> {
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

fn reason(request: &WriteRequest) -> String {
    match &request.reason {
        Some(r) => format!("{} ({})", r, request.source),
        None => request.source.clone(),
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
                    monitoring_category: record.monitoring_category.clone(),
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

async fn load_records_by_id(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, HouseholdRecord>> {
    let mut out = HashMap::new();
    let filter = format!("WHERE h.id IN ({})", placeholders(ids.len(), 1));
    let binds: Vec<Bind> = ids.iter().map(|i| Bind::Int(*i)).collect();
    stream_records(tx, &filter, &binds, &mut |record, meta| {
        out.insert(meta.id, record);
    })
    .await?;
    Ok(out)
}

async fn delete_households(tx: &mut Tx, ids: &[i64]) -> Result<()> {
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

async fn next_ids(tx: &mut Tx) -> Result<(i64, i64)> {
    let h: i64 = on_tx!(tx, conn => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM households")
        .fetch_one(conn).await?);
    let m: i64 = on_tx!(tx, conn => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM members")
        .fetch_one(conn).await?);
    Ok((h, m))
}

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

const HOUSEHOLD_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("division_code", ColType::Text),
    ("household_type", ColType::Text),
    ("lifted_out_year", ColType::Int),
    ("monitoring_category", ColType::Text),
    ("phone", ColType::Sealed(&keys::HOUSEHOLDS_PHONE)),
    ("address", ColType::Text),
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

const MEMBER_COLUMNS: &[(&str, ColType)] = &[
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

/// When and by which operation a stored household was created and last changed, and what the
/// procedures wrote on it.
struct Stamps<'a> {
    version: i64,
    created_at: &'a str,
    updated_at: &'a str,
    created_seq: i64,
    updated_seq: i64,
    monitoring: &'a MonitoringFields,
}

/// A household's fields that only completed cases write (migration 0009,
/// [`crate::procedures`]): kept when the registry replaces the household.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
struct MonitoringFields {
    id: i64,
    identified_on: Option<String>,
    risk_types: Option<String>,
    risk_eliminated_on: Option<String>,
    elimination_method: Option<String>,
}

async fn monitoring_fields(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, MonitoringFields)>> {
    let sql = format!(
        "SELECT id, identified_on, risk_types, risk_eliminated_on, elimination_method \
         FROM households WHERE id IN ({}) AND (identified_on IS NOT NULL \
         OR risk_types IS NOT NULL OR risk_eliminated_on IS NOT NULL)",
        placeholders(ids.len(), 1)
    );
    let rows: Vec<MonitoringFields> = on_tx!(tx, conn => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(conn).await?
    });
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

fn push_household(batch: &mut Batch, h: &HouseholdRecord, id: i64, stamps: &Stamps<'_>) {
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
        .text(stamps.monitoring.identified_on.as_deref())
        .text(stamps.monitoring.risk_types.as_deref())
        .text(stamps.monitoring.risk_eliminated_on.as_deref())
        .text(stamps.monitoring.elimination_method.as_deref());
}

fn push_member(
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

/// Stored metadata that is not part of a record's content.
pub struct RowMeta {
    pub id: i64,
    pub version: i64,
    pub created_at: String,
    pub created_seq: i64,
}

/// One row of the household ⋈ member join.
#[derive(sqlx::FromRow)]
struct JoinedRow {
    h_id: i64,
    h_version: i64,
    h_created_at: String,
    h_created_seq: i64,
    household_no: String,
    division_code: String,
    household_type: String,
    lifted_out_year: Option<i64>,
    monitoring_category: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    wage_income: i64,
    business_income: i64,
    property_income: i64,
    transfer_income: i64,
    business_expense: i64,
    out_of_pocket: i64,
    housing_safe: Option<bool>,
    water_safe: Option<bool>,
    name: String,
    id_number: String,
    disability_category: Option<i64>,
    disability_level: Option<i64>,
    relation: String,
    sex: String,
    birth_date: String,
    ethnicity: Option<String>,
    education: Option<String>,
    school_status: Option<String>,
    health: String,
    labor: String,
    work_months: Option<i64>,
    medical_insurance: bool,
    dibao: Option<bool>,
}

pub(crate) const JOINED_SELECT: &str = "SELECT h.id AS h_id, h.version AS h_version, \
    h.created_at AS h_created_at, h.created_seq AS h_created_seq, h.household_no, h.division_code, h.household_type, \
    h.lifted_out_year, h.monitoring_category, h.phone, h.address, h.wage_income, h.business_income, \
    h.property_income, h.transfer_income, h.business_expense, h.out_of_pocket, h.housing_safe, \
    h.water_safe, m.name, m.id_number, m.disability_category, m.disability_level, m.relation, m.sex, \
    m.birth_date, m.ethnicity, m.education, m.school_status, m.health, m.labor, m.work_months, \
    m.medical_insurance, m.dibao \
    FROM households h JOIN members m ON m.county_code = h.county_code AND m.household_id = h.id";

/// Folds consecutive joined rows into household records.
struct Assembler {
    current: Option<(HouseholdRecord, RowMeta)>,
}

impl Assembler {
    /// The next row; the household before it when this row starts another. Sealed values are
    /// opened here, so that everything above the store sees the numbers.
    fn push(&mut self, row: JoinedRow) -> Result<Option<(HouseholdRecord, RowMeta)>> {
        let member = MemberRecord {
            name: row.name,
            id_number: keys::open(&keys::MEMBERS_ID_NUMBER, &row.id_number)?,
            disability_category: row.disability_category,
            disability_level: row.disability_level,
            relation: row.relation,
            sex: row.sex,
            birth_date: row.birth_date,
            ethnicity: row.ethnicity,
            education: row.education,
            school_status: row.school_status,
            health: row.health,
            labor: row.labor,
            work_months: row.work_months,
            medical_insurance: row.medical_insurance,
            dibao: row.dibao,
        };
        if let Some((record, meta)) = &mut self.current
            && meta.id == row.h_id
        {
            record.members.push(member);
            return Ok(None);
        }
        let record = HouseholdRecord {
            household_no: row.household_no,
            division_code: row.division_code,
            household_type: row.household_type,
            lifted_out_year: row.lifted_out_year,
            monitoring_category: row.monitoring_category,
            phone: keys::open_opt(&keys::HOUSEHOLDS_PHONE, row.phone)?,
            address: row.address,
            wage_income: row.wage_income,
            business_income: row.business_income,
            property_income: row.property_income,
            transfer_income: row.transfer_income,
            business_expense: row.business_expense,
            out_of_pocket: row.out_of_pocket,
            housing_safe: row.housing_safe,
            water_safe: row.water_safe,
            members: vec![member],
        };
        let meta = RowMeta {
            id: row.h_id,
            version: row.h_version,
            created_at: row.h_created_at,
            created_seq: row.h_created_seq,
        };
        Ok(self.current.replace((record, meta)))
    }
}

/// A value bound to a placeholder of a dynamically built filter.
enum Bind {
    Text(String),
    Int(i64),
}

/// Streams household records matching `filter` (a `WHERE` clause over `h` and `m` with `$n`
/// placeholders for `binds`), in household id order.
async fn stream_records(
    tx: &mut Tx,
    filter: &str,
    binds: &[Bind],
    each: &mut (dyn FnMut(HouseholdRecord, RowMeta) + Send),
) -> Result<()> {
    let sql = format!("{JOINED_SELECT} {filter} ORDER BY h.id, m.position");
    let mut assembler = Assembler { current: None };
    on_tx!(tx, conn => {
        let mut q = sqlx::query_as::<_, JoinedRow>(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        let mut rows = q.fetch(conn);
        while let Some(row) = rows.try_next().await? {
            if let Some((record, meta)) = assembler.push(row)? {
                each(record, meta);
            }
        }
    });
    if let Some((record, meta)) = assembler.current.take() {
        each(record, meta);
    }
    Ok(())
}

/// Streams households of a division (and everything under it; all when `None`) in id order,
/// outside any write transaction, for exports.
pub async fn for_each_household<E: From<StoreError>>(
    db: &Db,
    scope: Option<&zhenxing_core::DivisionCode>,
    mut each: impl FnMut(HouseholdRecord) -> Result<(), E> + Send,
) -> Result<u64, E> {
    let (filter, bind) = match scope {
        Some(code) => (
            "WHERE h.division_code LIKE $1",
            Some(format!("{}%", code.prefix())),
        ),
        None => ("", None),
    };
    let sql = format!("{JOINED_SELECT} {filter} ORDER BY h.id, m.position");
    let mut assembler = Assembler { current: None };
    let mut count = 0u64;
    let sql_error = |e: sqlx::Error| E::from(StoreError::from(e));
    on_pool!(db, pool => {
        let mut q = sqlx::query_as::<_, JoinedRow>(sqlx::AssertSqlSafe(sql));
        if let Some(b) = &bind {
            q = q.bind(b.as_str());
        }
        let mut rows = q.fetch(pool);
        while let Some(row) = rows.try_next().await.map_err(sql_error)? {
            if let Some((record, _)) = assembler.push(row).map_err(E::from)? {
                each(record)?;
                count += 1;
            }
        }
    });
    if let Some((record, _)) = assembler.current.take() {
        each(record)?;
        count += 1;
    }
    Ok(count)
}

/// One household by number, with its version (for the household page and optimistic edits).
pub async fn household(db: &Db, household_no: &str) -> Result<Option<(HouseholdRecord, RowMeta)>> {
    let sql = format!("{JOINED_SELECT} WHERE h.household_no = $1 ORDER BY h.id, m.position");
    let rows: Vec<JoinedRow> = on_pool!(db, pool => sqlx::query_as::<_, JoinedRow>(sqlx::AssertSqlSafe(sql))
        .bind(household_no).fetch_all(pool).await?);
    let mut assembler = Assembler { current: None };
    for row in rows {
        assembler.push(row)?;
    }
    Ok(assembler.current)
}

/// Secondary indexes of the household tables, dropped for a bulk load into an empty registry
/// and built again afterwards: building an index from sorted data is several times faster
/// than inserting millions of random keys into it (measured: see BENCHMARKS.md). Their
/// definitions are read back from the database's catalogue, so the migrations stay the one
/// place that defines them.
pub struct SuspendedIndexes(Vec<String>);

pub async fn suspend_indexes(tx: &mut Tx) -> Result<SuspendedIndexes> {
    let definitions: Vec<(String, String)> = match tx {
        Tx::Sqlite(t) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('households', 'members', 'audit_items')",
        )
        .fetch_all(&mut **t)
        .await?,
        // Indexes that back a primary key or unique constraint stay.
        Tx::Postgres(t) => sqlx::query_as(
            "SELECT i.indexname::text, i.indexdef FROM pg_indexes i \
             WHERE i.tablename IN ('households', 'members', 'audit_items') AND i.schemaname = current_schema() \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        )
        .fetch_all(&mut **t)
        .await?,
    };
    for (name, _) in &definitions {
        let sql = format!("DROP INDEX {name}");
        on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(drop)?);
    }
    Ok(SuspendedIndexes(
        definitions.into_iter().map(|(_, sql)| sql).collect(),
    ))
}

pub async fn restore_indexes(tx: &mut Tx, suspended: SuspendedIndexes) -> Result<()> {
    for sql in suspended.0 {
        on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await.map(drop)?);
    }
    // PostgreSQL plans from table statistics, and autovacuum gathers them only some time after
    // a bulk load: until then a lookup by household number joined to millions of members was
    // planned as a scan, and pages took seconds (measured with bench/web.sh). ANALYZE samples
    // (30,000 rows per table by default), so this costs about a second after a full load.
    // SQLite's plans here do not depend on statistics, and its ANALYZE would read every index.
    if let Tx::Postgres(t) = tx {
        for table in ["households", "members", "village_counts"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
                .execute(&mut **t)
                .await?;
        }
    }
    Ok(())
}
