//! Personal data encrypted at rest: the key ring of the process, the columns it seals, and the
//! checks that keep a wrong or missing key from reading as garbage or writing plaintext.
//!
//! ID and phone numbers ([`SEALED_COLUMNS`]) are stored as sealed fields of
//! [`zhenxing_crypto`] (`zx1:<key>:<base64>`); the store seals them as it writes ([`seal`], and
//! in bulk in [`crate::bulk`]) and opens them as it reads ([`open`]), so that masking, reveal
//! and exports above it see the numbers as before. Exact lookups by ID number go through the
//! blind index column `members.id_number_index` ([`blind_id_number`]).
//!
//! The keys come from a key file (`--key-file`, `ZHENXING_KEY_FILE`, or by default beside the
//! SQLite file, `registry.db.keys`, or `zhenxing-DATABASE.keys` in the working directory for
//! PostgreSQL) or from `ZHENXING_KEYS` holding the file's JSON. The database keeps per data key
//! its [`KeyRing::key_check`](zhenxing_crypto::KeyRing::key_check), the suite and the index
//! key's check ([`install`] compares them); a new, empty database with no key file gets a
//! generated one.
//!
//! Why one key ring per process rather than a field of [`Db`](crate::Db): values are sealed and
//! opened in places that hold no `Db` (the column batches, the record assembler), and a process
//! serves one registry. A process that opens several databases (the tests) keeps every ring it
//! installed: a value opens with the ring that holds its key, new values are sealed with the
//! ring installed last.
//!
//! One file per job (issue 16): `rings` (the process's rings), `sealing` (sealing and opening
//! values), `opening` (the ring checked and recorded when a database opens), `reencryption`
//! (counts and re-encryption) and `key_files` (the key file commands). This file keeps the list
//! of sealed columns; the paths are re-exported here, so callers name `keys::…` as before.

mod key_files;
mod opening;
mod reencryption;
mod rings;
mod sealing;

pub use zhenxing_crypto;

pub use key_files::{add_key, in_use, init_key_file, key_file, retire};
pub(crate) use opening::catch_up;
pub use opening::{Recorded, default_key_file, install, recorded, verify};
pub use reencryption::{
    BATCH_ROWS, ColumnCounts, Reencrypted, counts, fill_missing_indexes, pending, reencrypt,
};
pub use rings::{KeyConfig, KeySource, configure, configured, current, install_ring};
pub use sealing::{
    blind_id_number, blind_index, open, open_in_place, open_item_json, open_item_json_opt,
    open_opt, seal, seal_item_json, seal_opt,
};

/// A column holding sealed values. Every such table has an `id`; the registry's tables are
/// also distributed by `county_code` (Citus), which is then part of the row's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
    /// Whether the table is distributed by `county_code` (every table but `accounts`).
    pub by_county: bool,
    /// The blind index column kept beside it, for exact lookups.
    pub index: Option<&'static str>,
    /// What a value is bound to when sealed (`table.column`): a sealed value copied into
    /// another column does not open there.
    pub context: &'static str,
}

macro_rules! sealed_column {
    ($name:ident, $table:literal, $column:literal, $index:expr) => {
        sealed_column!($name, $table, $column, $index, true);
    };
    ($name:ident, $table:literal, $column:literal, $index:expr, $by_county:expr) => {
        pub const $name: SealedColumn = SealedColumn {
            table: $table,
            column: $column,
            by_county: $by_county,
            index: $index,
            context: concat!($table, ".", $column),
        };
    };
}

sealed_column!(
    MEMBERS_ID_NUMBER,
    "members",
    "id_number",
    Some("id_number_index")
);
sealed_column!(HOUSEHOLDS_PHONE, "households", "phone", None);
sealed_column!(
    DEPARTMENT_ID_NUMBER,
    "department_records",
    "id_number",
    None
);
sealed_column!(PAIRINGS_PHONE, "pairings", "phone", None);
sealed_column!(
    DECLARATIONS_ID_NUMBER,
    "declarations",
    "id_number",
    Some("id_number_index")
);
sealed_column!(DECLARATIONS_PHONE, "declarations", "phone", None);
sealed_column!(TICKETS_PHONE, "tickets", "phone", None);
// The second factor's secrets (`store::factor`), confirmed and offered for enrolment. One
// context for both: confirming an enrolment copies the pending secret as it is sealed.
sealed_column!(ACCOUNTS_PHONE, "accounts", "phone", None, false);
sealed_column!(ACCOUNTS_TOTP_SECRET, "accounts", "totp_secret", None, false);
pub const ACCOUNTS_TOTP_PENDING_SECRET: SealedColumn = SealedColumn {
    column: "totp_pending_secret",
    ..ACCOUNTS_TOTP_SECRET
};

/// The sealed columns. Another one (the bank accounts of issue 20) is one line above and one
/// here, plus its [`seal`]/[`open`] calls where it is written and read; rotation, status and
/// the first-open encryption take it from this list.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    MEMBERS_ID_NUMBER,
    HOUSEHOLDS_PHONE,
    DEPARTMENT_ID_NUMBER,
    PAIRINGS_PHONE,
    DECLARATIONS_ID_NUMBER,
    DECLARATIONS_PHONE,
    TICKETS_PHONE,
    ACCOUNTS_PHONE,
    ACCOUNTS_TOTP_SECRET,
    ACCOUNTS_TOTP_PENDING_SECRET,
];

/// The sealed columns whose blind index came after their values (migration 0026 gave the
/// declarations theirs): rows without one get it when the registry is opened
/// ([`fill_missing_indexes`]). The members' index is as old as their encryption, so their
/// millions of rows are not scanned at every open.
pub const INDEXED_AFTER_SEALING: &[SealedColumn] = &[DECLARATIONS_ID_NUMBER];

/// The context of the ID numbers' blind index: one for every table, so that a declaration's
/// number finds the member.
pub(crate) const ID_NUMBER_INDEX: &str = "id_number";

// The ID and phone numbers inside audit items' before and after JSON. Not in
// `SEALED_COLUMNS`: the trail is append-only, so its values stay under the key that sealed them,
// and `retire` keeps that key (`in_use` counts them).
sealed_column!(AUDIT_ITEMS_DATA, "audit_items", "data", None);
