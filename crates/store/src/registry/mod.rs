//! Registry writes: households created or replaced by household number, in one transaction
//! with their audit records and the village counts. All or nothing: on any conflict the
//! transaction rolls back and every conflict is reported.
//!
//! One file per job (issue 16): `write` (the audited write path), `check` (the stored households
//! and the conflicts before a write), `conflict` (the conflicts and their texts), `rows` (the
//! rows as stored), `counts` (the villages' counts), `read` (reading households back) and
//! `indexes` (for bulk loads). This file keeps what a write is asked to do ([`WriteRequest`],
//! [`HouseholdSource`]); the paths are re-exported here, so callers name `registry::…` as before.

mod check;
mod conflict;
mod counts;
mod indexes;
mod read;
mod rows;
mod write;

use crate::records::{HouseholdRecord, MonitoringColumns};
use serde::Serialize;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

pub use conflict::{Conflict, ConflictField, MonitoringField};
pub use counts::refresh_all_village_counts;
pub(crate) use counts::refresh_village_counts;
pub use indexes::{SuspendedIndexes, restore_indexes, suspend_indexes};
pub(crate) use read::household_in;
pub use read::{RowMeta, for_each_household, household};
pub use write::{begin_operation, finish_operation, write_chunk, write_in_transaction};

/// What the write path needs of a household: its keys, and its record to store.
pub trait HouseholdSource: Sync {
    fn household_no(&self) -> &str;
    fn division_code(&self) -> &str;
    fn for_each_member_id<'a>(&'a self, each: &mut dyn FnMut(&'a str));
    /// The monitoring category and what the procedures recorded, as stored.
    fn monitoring(&self) -> MonitoringColumns;
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
    fn monitoring(&self) -> MonitoringColumns {
        MonitoringColumns::of_record(self)
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
    fn monitoring(&self) -> MonitoringColumns {
        MonitoringColumns::of_household(self)
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
/// types, the dates of identification and elimination and the elimination method are the
/// outcome of the statutory procedures (docs/procedures.md): a completed case writes them
/// ([`crate::procedures`]). A registry record carries them all, so that an export re-imports
/// unchanged; a write that is not a legacy one must carry them as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitoringPermission {
    /// Edits, the API, the web import and a plain `import registry`: a write that would create
    /// a household with a category, or change a stored household's, is refused with
    /// [`Conflict::MonitoringOutsideProcedures`], and one that would set or change what the
    /// procedures recorded with [`Conflict::OutcomeOutsideProcedures`]. An empty value is a
    /// value (not monitored, not recorded), as an empty category always was. The stored
    /// values written again (an export re-imported) are no change.
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
    /// Households whose monitoring fields (category, dates, risk types, method) the write set
    /// or changed (a legacy import only).
    pub monitoring_set: u64,
}

/// A stored household, known by its number.
struct Existing {
    id: i64,
    version: i64,
    created_at: String,
    created_seq: i64,
    division_code: String,
    monitoring: MonitoringColumns,
    fingerprint: u64,
}

/// Whether writing a household with `written` as its monitoring fields sets or changes any.
fn changes_monitoring(written: &MonitoringColumns, stored: Option<&Existing>) -> bool {
    match stored {
        Some(e) => e.monitoring != *written,
        None => !written.is_empty(),
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
