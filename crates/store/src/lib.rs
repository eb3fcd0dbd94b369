//! The only crate that speaks SQL. One [`Db`] value over SQLite (embedded, the default) or
//! PostgreSQL (production); nothing is generic over the database, so everything compiles once.
//! The same SQL text serves both backends wherever their dialects agree (`$1` placeholders work
//! in sqlx's SQLite driver too); where they differ (bulk loads, locking) the difference is one
//! `match` in one place.
//!
//! Every write that changes the registry goes through [`registry`], which writes the audit
//! record ([`audit`]) and the village counts in the same transaction.

pub mod account_profiles;
pub mod accounts;
pub mod assistance;
pub mod audit;
pub mod audit_anchor;
pub mod audit_archive;
pub mod audit_query;
pub mod backup;
pub mod browse;
mod bulk;
pub mod coverage;
pub mod credentials;
pub mod department;
pub mod divisions;
pub mod edit;
pub mod elimination;
pub mod factor;
pub mod figure_cache;
pub mod files;
pub mod history;
pub mod holidays;
mod household_file;
pub mod incomes;
pub mod keys;
pub mod monitoring;
mod outcome;
pub mod portal;
pub mod poverty_figures;
pub mod procedures;
pub mod records;
pub mod registry;
pub mod report_tables;
pub mod rollups;
pub mod security_policy;
pub mod snapshots;
mod sqlite_direct;
pub mod stats;
mod url;
pub mod visits;
pub mod warnings;

/// `$from,$from+1,…` for `n` bound parameters (both databases number them so through sqlx).
pub(crate) fn placeholders(n: usize, from: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub use crate::url::{DEFAULT_DATABASE_URL, DatabaseUrl};
pub use outcome::{Outcome, Written};
pub use records::{HouseholdRecord, MemberRecord};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;
use zhenxing_core::Text;

/// The database: one of two pools.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression with the pool of either backend bound to `$pool`.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A transaction on either backend.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same expression with the transaction's connection bound to `$conn`.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A bad database URL or a refused connection request, in words for the person who typed it.
    #[error("{0}")]
    Config(Text),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// An error of a bulk insert on SQLite's own connection ([`sqlite_direct`]).
    #[error("database error: {0}")]
    Bulk(String),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data that no longer parses (edited outside zhenxing).
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A write refused because of the registry's state (see [`registry::Conflict`]).
    #[error("the registry refused the change: {} conflict(s)", .0.len())]
    Conflicts(Vec<registry::Conflict>),
}

impl StoreError {
    /// Whether a unique constraint refused the write (a conflict with a stored row, not a
    /// failure of the database).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::Database(d)) if d.is_unique_violation())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects, applies the migrations, installs the key ring ([`keys::install`], as
    /// [`keys::configure`]d or from the environment) and seeds the division list when it is
    /// empty.
    pub async fn open(url: &str) -> Result<Db> {
        Db::open_with_keys(url, &keys::configured()).await
    }

    /// [`Db::open`] with the key ring from `keys` rather than the process's configuration.
    pub async fn open_with_keys(url: &str, keys: &keys::KeyConfig) -> Result<Db> {
        let db = Db::connect(&DatabaseUrl::parse(url)?).await?;
        db.migrate().await?;
        keys::install(&db, keys).await?;
        db.seed_divisions_if_empty().await?;
        Ok(db)
    }

    /// [`Db::open_with_keys`] with the audit chain anchored outside the database
    /// ([`audit_anchor`]) in the files given or their defaults, its new records keyed in the
    /// key ring's suite (one suite per deployment: SM4 data keys go with HMAC-SM3 audit
    /// records). The anchor is installed before the division list is seeded, so that a new
    /// database is anchored from its first record.
    pub async fn open_anchored(
        url: &str,
        key_file: Option<std::path::PathBuf>,
        checkpoint_file: Option<std::path::PathBuf>,
        keys: &keys::KeyConfig,
    ) -> Result<Db> {
        let db = Db::connect(&DatabaseUrl::parse(url)?).await?;
        db.migrate().await?;
        let ring = keys::install(&db, keys).await?;
        if let Some(config) =
            audit_anchor::AnchorConfig::resolve(&db, key_file, checkpoint_file, ring.suite())
                .await?
        {
            audit_anchor::install(&db, config).await?;
        }
        db.seed_divisions_if_empty().await?;
        Ok(db)
    }

    pub async fn connect(url: &DatabaseUrl) -> Result<Db> {
        match url {
            DatabaseUrl::Sqlite { url, create } => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(*create)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30))
                    .pragma("cache_size", "-65536")
                    // Lets CREATE INDEX sort on helper threads: building the registry's indexes
                    // after a bulk load is a large part of it. SQLite's sorter uses its helper
                    // threads only when temporary storage is in files, so `temp_store` keeps its
                    // default (FILE): with `temp_store = MEMORY` the threads setting did nothing,
                    // and the members' indexes took about 1.5 times as long (measured).
                    // Temporary files are unlinked as they are opened and spill only what does
                    // not fit in the cache.
                    .pragma("threads", "4")
                    // Reads through a memory map share the operating system's page cache among
                    // the pool's connections instead of copying each page into every
                    // connection's own cache with a system call: the web pages' scattered
                    // look-ups (a search's households across the municipality) spent a quarter
                    // of their time there (perf). Writes still go through the WAL.
                    .pragma("mmap_size", MMAP_BYTES);
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                let pool = SqlitePoolOptions::new()
                    // An in-memory database exists once per connection: keep exactly one.
                    .max_connections(if in_memory { 1 } else { 8 })
                    .min_connections(if in_memory { 1 } else { 0 })
                    .idle_timeout(if in_memory {
                        None
                    } else {
                        Some(Duration::from_secs(600))
                    })
                    .max_lifetime(if in_memory {
                        None
                    } else {
                        Some(Duration::from_secs(3600))
                    })
                    .connect_with(options)
                    .await?;
                Ok(Db::Sqlite(pool))
            }
            DatabaseUrl::Postgres { url } => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Begins a write transaction holding the registry write lock: SQLite's `BEGIN IMMEDIATE`
    /// (one writer at a time), PostgreSQL's transaction-scoped advisory lock. Registry-wide
    /// uniqueness checks (household numbers, ID numbers) and the audit hash chain rely on it.
    pub async fn begin_write(&self) -> Result<Tx> {
        let mut tx = match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(REGISTRY_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        };
        // A rotation by another process may have added a data key: learn it before sealing.
        keys::catch_up(&mut tx).await?;
        Ok(tx)
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// How much of an SQLite database file is read through a memory map (256 MiB).
const MMAP_BYTES: &str = "268435456";

/// The PostgreSQL advisory lock key of registry writes ("zhenxing" in ASCII, truncated).
const REGISTRY_WRITE_LOCK: i64 = 0x7a68_656e_7869;

impl Tx {
    /// Commits, then moves the audit anchor's checkpoint to the head this transaction left
    /// ([`audit_anchor`]): read inside the transaction, written only once it has committed.
    pub async fn commit(mut self) -> Result<()> {
        let checkpoint = audit_anchor::pending(&mut self).await?;
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        if let Some(checkpoint) = checkpoint {
            checkpoint.write();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// Fresh databases and test households for tests, here and in the other crates: behind the
/// `testing` feature (the dev-dependencies turn it on), so not in the production library.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
