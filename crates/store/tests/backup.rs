#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Backups that restore (issue 15): a backup taken while the registry is being written restores
//! into a fresh database with every table equal, row by row, to the source at the snapshot;
//! encrypted backups restore with their key; a corrupt, truncated or foreign backup, a wrong or
//! missing key and a non-empty database are refused and change nothing. SQLite and PostgreSQL
//! (the real pg_dump and pg_restore).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use zhenxing_crypto::{KeyRing, Suite};
use zhenxing_store::Db;
use zhenxing_store::audit::{AuditEntry, append_one};
use zhenxing_store::backup::{Manifest, backup, check_restored, registry_id, restore};
use zhenxing_store::testing::{self, TestDb};

const VILLAGE: &str = "500229102202";

/// A fresh database of the same backend as `like`.
async fn fresh(like: &Db) -> TestDb {
    match like {
        Db::Sqlite(_) => testing::sqlite().await.unwrap(),
        Db::Postgres(_) => testing::postgres().await.unwrap().unwrap(),
    }
}

async fn households(db: &Db, prefix: &str, n: u32) {
    let drafts = (0..n)
        .map(|i| {
            testing::test_household(
                &format!("{prefix}{i:04}"),
                VILLAGE,
                &testing::test_id_number(i),
                5_000 + i64::from(i),
            )
        })
        .collect();
    testing::write_test_households(db, drafts).await;
}

async fn one_operation(db: &Db, i: u64) {
    append_one(
        db,
        AuditEntry {
            actor: "writer".into(),
            action: "test.write".into(),
            object_type: "test".into(),
            object_id: Some(format!("w{i}")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// Every row of `table` as text, sorted; for the audit tables only the records up to `seq`.
async fn rows(db: &Db, table: &str, through_seq: i64) -> Vec<String> {
    let filter = if matches!(table, "audit_log" | "audit_items") {
        format!(" WHERE seq <= {through_seq}")
    } else {
        String::new()
    };
    let mut rows: Vec<String> = match db {
        Db::Sqlite(pool) => {
            let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            )))
            .fetch_all(pool)
            .await
            .unwrap();
            let row = columns
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT {row} FROM \"{table}\"{filter}"
            )))
            .fetch_all(pool)
            .await
            .unwrap()
        }
        Db::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(t AS TEXT) FROM \"{table}\" t{filter}"
        )))
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    rows.sort();
    rows
}

/// The restored database against the source as it was at the backup's snapshot: every table
/// equal row by row (the source's audit records written after the snapshot left out).
async fn assert_same_as_at_snapshot(source: &Db, restored: &Db, manifest: &Manifest) {
    let head = manifest.audit_head.as_ref().unwrap();
    for table in manifest.tables.keys() {
        let restored_rows = rows(restored, table, head.seq).await;
        assert_eq!(
            restored_rows.len() as i64,
            manifest.tables[table],
            "{table}: the manifest's count ({})",
            source.backend_name()
        );
        if table == "audit_head" {
            continue;
        }
        assert_eq!(
            restored_rows,
            rows(source, table, head.seq).await,
            "{table} ({})",
            source.backend_name()
        );
    }
}

#[tokio::test]
async fn a_backup_taken_under_writes_restores_every_table_row_by_row() {
    for source in testing::all().await.unwrap() {
        let db = source.db.clone();
        households(&db, "BK", 30).await;
        let dir = testing::temp_dir().unwrap();
        let file = dir.0.join("registry.zxbackup");

        // A writer appends operations all through the backup.
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let writer = {
            let (db, stop, written) = (db.clone(), stop.clone(), written.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let i = written.load(Ordering::Relaxed);
                    one_operation(&db, i).await;
                    written.store(i + 1, Ordering::Relaxed);
                }
            })
        };
        while written.load(Ordering::Relaxed) < 3 {
            tokio::task::yield_now().await;
        }
        let manifest = backup(&db, &source.url, &file, None).await.unwrap();
        let at_backup = written.load(Ordering::Relaxed);
        while written.load(Ordering::Relaxed) < at_backup + 3 {
            tokio::task::yield_now().await;
        }
        stop.store(true, Ordering::Relaxed);
        writer.await.unwrap();

        // The manifest describes the snapshot: the chain went on after it.
        let head = manifest.audit_head.clone().unwrap();
        let last = "SELECT MAX(seq) FROM audit_log";
        let source_last: i64 = match &db {
            Db::Sqlite(pool) => sqlx::query_scalar(last).fetch_one(pool).await,
            Db::Postgres(pool) => sqlx::query_scalar(last).fetch_one(pool).await,
        }
        .unwrap();
        assert!(source_last > head.seq, "{}", db.backend_name());
        assert_eq!(manifest.database, db.backend_name());
        assert_eq!(manifest.registry_id, registry_id(&db).await.unwrap());
        assert_eq!(manifest.tables["households"], 30);

        let target = fresh(&db).await;
        let target_url = target.url.clone();
        restore(target.db.clone(), &target_url, &file, None, false)
            .await
            .unwrap();
        let restored = Db::open(&target_url).await.unwrap();
        let check = check_restored(&restored, &manifest).await.unwrap();
        assert!(check.is_clean(), "{check:?}");
        assert_eq!(registry_id(&restored).await.unwrap(), manifest.registry_id);
        assert_same_as_at_snapshot(&db, &restored, &manifest).await;
        restored.close().await;
    }
}

/// What a refused restore must leave as it was.
async fn state(url: &str) -> (String, Vec<String>, Vec<String>) {
    let db = Db::open(url).await.unwrap();
    let state = (
        registry_id(&db).await.unwrap(),
        rows(&db, "households", 0).await,
        rows(&db, "audit_log", i64::MAX).await,
    );
    db.close().await;
    state
}

/// Restores `file` into the database at `url` and returns the refusal's English text.
async fn refused(url: &str, file: &Path, key_ring: Option<&KeyRing>, replace: bool) -> String {
    let db = Db::open(url).await.unwrap();
    let before = state(url).await;
    let error = restore(db, url, file, key_ring, replace).await.unwrap_err();
    assert_eq!(state(url).await, before, "{error}");
    error.to_string()
}

fn damaged(file: &Path, name: &str, change: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    change(&mut bytes);
    let out = file.with_file_name(name);
    std::fs::write(&out, bytes).unwrap();
    out
}

#[tokio::test]
async fn encrypted_backups_restore_with_their_key_and_bad_input_changes_nothing() {
    for source in testing::all().await.unwrap() {
        let db = source.db.clone();
        households(&db, "EN", 12).await;
        let dir = testing::temp_dir().unwrap();
        for suite in [Suite::International, Suite::National] {
            let ring = KeyRing::generate(suite);
            let file = dir.0.join(format!("registry-{suite}.zxbackup"));
            let manifest = backup(&db, &source.url, &file, Some(&ring)).await.unwrap();
            assert_eq!(manifest.encryption.as_ref().unwrap().suite, suite.code());
            // Nothing of the payload is readable in the file.
            let bytes = std::fs::read(&file).unwrap();
            let payload_marker: &[u8] = match db {
                Db::Sqlite(_) => b"SQLite format 3",
                Db::Postgres(_) => b"PGDMP",
            };
            assert!(
                !bytes
                    .windows(payload_marker.len())
                    .any(|w| w == payload_marker)
            );

            let target = fresh(&db).await;
            let url = target.url.clone();

            let missing = refused(&url, &file, None, false).await;
            assert!(missing.contains("--key-file"), "{missing}");
            let other = KeyRing::generate(suite);
            let wrong = refused(&url, &file, Some(&other), false).await;
            assert!(wrong.contains("does not decrypt"), "{wrong}");
            let flipped = damaged(&file, "flipped", |b| {
                let at = b.len() - 100;
                b[at] ^= 1;
            });
            let altered = refused(&url, &flipped, Some(&ring), false).await;
            assert!(altered.contains("does not decrypt"), "{altered}");
            // Cut at a chunk's end is still cut: the last chunk says it is the last.
            let cut = damaged(&file, "cut", |b| b.truncate(b.len() - 10));
            let truncated = refused(&url, &cut, Some(&ring), false).await;
            assert!(
                truncated.contains("cut short") || truncated.contains("does not decrypt"),
                "{truncated}"
            );

            restore(
                Db::open(&url).await.unwrap(),
                &url,
                &file,
                Some(&ring),
                false,
            )
            .await
            .unwrap();
            let restored = Db::open(&url).await.unwrap();
            assert!(
                check_restored(&restored, &manifest)
                    .await
                    .unwrap()
                    .is_clean()
            );
            assert_same_as_at_snapshot(&db, &restored, &manifest).await;
            restored.close().await;

            // The target now holds this registry: again only with --replace.
            let again = refused(&url, &file, Some(&ring), false).await;
            assert!(again.contains("--replace"), "{again}");
            restore(
                Db::open(&url).await.unwrap(),
                &url,
                &file,
                Some(&ring),
                true,
            )
            .await
            .unwrap();
        }

        // Plain backups: corrupt, truncated, another registry, another database kind.
        let file = dir.0.join("registry.zxbackup");
        backup(&db, &source.url, &file, None).await.unwrap();
        let target = fresh(&db).await;
        let url = target.url.clone();
        let flipped = damaged(&file, "plain-flipped", |b| {
            let at = b.len() / 2;
            b[at] ^= 0x40;
        });
        let corrupt = refused(&url, &flipped, None, false).await;
        assert!(corrupt.contains("corrupt"), "{corrupt}");
        let cut = damaged(&file, "plain-cut", |b| b.truncate(b.len() * 2 / 3));
        let truncated = refused(&url, &cut, None, false).await;
        assert!(truncated.contains("cut short"), "{truncated}");
        let not_backup = damaged(&file, "not-backup", |b| b[0] = b'X');
        let foreign_file = refused(&url, &not_backup, None, false).await;
        assert!(
            foreign_file.contains("not a zhenxing backup"),
            "{foreign_file}"
        );

        households(&target.db, "OT", 2).await;
        let another = refused(&url, &file, None, true).await;
        assert!(another.contains("another registry"), "{another}");

        let other_kind = match db {
            Db::Sqlite(_) => testing::postgres().await.unwrap(),
            Db::Postgres(_) => Some(testing::sqlite().await.unwrap()),
        };
        if let Some(other_kind) = other_kind {
            let kind = refused(&other_kind.url, &file, None, false).await;
            assert!(kind.contains("cannot be restored into"), "{kind}");
        }
    }
}
