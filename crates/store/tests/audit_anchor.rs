#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The audit chain's anchor outside the database: a trail cut or wiped with the append-only
//! triggers dropped (as someone holding the database's files could) is reported, and so is a
//! forged checkpoint; an ordinary history verifies clean.

use std::path::Path;
use zhenxing_crypto::Suite;
use zhenxing_store::audit::{
    AuditEntry, AuditRecord, ChainNotice, ChainProblem, UNKEYED, append_one, hash_alg_of, recent,
    verify,
};
use zhenxing_store::audit_anchor::{
    AnchorConfig, CheckpointState, anchor_now, checkpoint_of, install,
};
use zhenxing_store::audit_archive::{
    ArchiveProblem, archive, end_of_china_day, prune, retention_months, set_retention,
    verify_archive,
};
use zhenxing_store::testing::{self, TempDir};
use zhenxing_store::{Db, testing::TestDb};

async fn execute(db: &Db, statements: &[String]) {
    for s in statements {
        testing::execute_raw(db, s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

fn drop_triggers(db: &Db) -> Vec<String> {
    match db {
        Db::Sqlite(_) => vec![
            "DROP TRIGGER audit_log_no_delete".into(),
            "DROP TRIGGER audit_items_no_delete".into(),
        ],
        Db::Postgres(_) => vec![
            "DROP TRIGGER audit_log_no_change ON audit_log".into(),
            "DROP TRIGGER audit_items_no_change ON audit_items".into(),
        ],
    }
}

/// An audited test operation by "tester" (the archive tests find it by its action).
fn test_op(object_id: Option<String>) -> AuditEntry {
    AuditEntry {
        actor: "tester".into(),
        action: "test.op".into(),
        object_type: "test".into(),
        object_id,
        ..Default::default()
    }
}

async fn operations(db: &Db, n: usize) {
    for i in 0..n {
        append_one(db, test_op(Some(format!("op{i}"))))
            .await
            .unwrap();
    }
}

/// A fresh database of each backend, anchored in files of a directory of its own.
async fn anchored() -> Vec<(TestDb, TempDir, AnchorConfig)> {
    anchored_with(Suite::International).await
}

/// [`anchored`], the chain keyed with `suite`.
async fn anchored_with(suite: Suite) -> Vec<(TestDb, TempDir, AnchorConfig)> {
    let mut out = Vec::new();
    for test_db in testing::all().await.unwrap() {
        let dir = testing::temp_dir().unwrap();
        let config = AnchorConfig {
            key_file: dir.0.join("audit.key"),
            checkpoint_file: dir.0.join("audit.checkpoint"),
            suite,
        };
        // The test database's seeded divisions are audited before the anchor exists: it is
        // anchored explicitly, as an operator anchors an existing trail.
        let state = install(&test_db.db, config.clone()).await.unwrap();
        assert_eq!(state, CheckpointState::Missing);
        anchor_now(&test_db.db).await.unwrap().unwrap();
        out.push((test_db, dir, config));
    }
    out
}

async fn checkpoint_seq(db: &Db) -> i64 {
    match checkpoint_of(db).await.unwrap() {
        CheckpointState::Valid(c) => c.seq,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_ordinary_history_verifies_clean_and_the_checkpoint_follows_the_head() {
    for (test_db, _dir, config) in anchored().await {
        let db = &test_db.db;
        operations(db, 5).await;
        let report = verify(db).await.unwrap();
        assert_eq!(report.problems, [], "{}", db.backend_name());
        assert_eq!(report.notices, []);
        assert_eq!(checkpoint_seq(db).await, report.last_seq);
        // The key is the operator's alone.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config.key_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

#[tokio::test]
async fn a_cut_tail_is_reported_even_with_the_head_row_deleted() {
    for (test_db, _dir, _config) in anchored().await {
        let db = &test_db.db;
        let base = checkpoint_seq(db).await;
        operations(db, 6).await;
        let mut statements = drop_triggers(db);
        statements.extend([
            format!("DELETE FROM audit_log WHERE seq > {}", base + 3),
            "DELETE FROM audit_head".into(),
        ]);
        execute(db, &statements).await;
        let report = verify(db).await.unwrap();
        assert_eq!(
            report.problems,
            [ChainProblem::Truncated {
                last_seq: base + 3,
                checkpoint_seq: base + 6
            }],
            "{}",
            db.backend_name()
        );

        // Operations written afterwards do not move the checkpoint past the cut, and once the
        // chain is long again, the record at the checkpoint's place is not the checkpointed one.
        operations(db, 4).await;
        assert_eq!(checkpoint_seq(db).await, base + 6);
        let report = verify(db).await.unwrap();
        assert_eq!(
            report.problems,
            [ChainProblem::HeadReplaced { seq: base + 6 }]
        );
    }
}

#[tokio::test]
async fn an_emptied_trail_is_reported() {
    for (test_db, _dir, _config) in anchored().await {
        let db = &test_db.db;
        let base = checkpoint_seq(db).await;
        operations(db, 3).await;
        let mut statements = drop_triggers(db);
        statements.extend([
            "DELETE FROM audit_items".into(),
            "DELETE FROM audit_log".into(),
            "DELETE FROM audit_head".into(),
        ]);
        execute(db, &statements).await;
        let report = verify(db).await.unwrap();
        assert_eq!(
            report.problems,
            [ChainProblem::Emptied {
                checkpoint_seq: base + 3
            }],
            "{}",
            db.backend_name()
        );
    }
}

#[tokio::test]
async fn a_forged_or_keyless_checkpoint_is_reported_and_a_missing_one_noticed() {
    for (test_db, _dir, config) in anchored().await {
        let db = &test_db.db;
        operations(db, 4).await;
        let saved = std::fs::read_to_string(&config.checkpoint_file).unwrap();

        // Rewound to cover a cut, without the key to sign it.
        let mut forged: serde_json::Value = serde_json::from_str(&saved).unwrap();
        forged["seq"] = 2.into();
        std::fs::write(&config.checkpoint_file, forged.to_string()).unwrap();
        let report = verify(db).await.unwrap();
        assert_eq!(report.problems, [ChainProblem::CheckpointForged]);

        // Signed with another key: the keyed records do not verify under it either.
        std::fs::write(&config.checkpoint_file, &saved).unwrap();
        let key = std::fs::read(&config.key_file).unwrap();
        std::fs::write(&config.key_file, "ab".repeat(32)).unwrap();
        let report = verify(db).await.unwrap();
        let last = report.last_seq;
        let mut expected: Vec<_> = (last - 3..=last)
            .map(|seq| ChainProblem::Altered { seq })
            .collect();
        expected.push(ChainProblem::CheckpointForged);
        assert_eq!(report.problems, expected);

        // Without the key, the keyed records cannot be checked, and verify says it needs it.
        std::fs::remove_file(&config.key_file).unwrap();
        let report = verify(db).await.unwrap();
        assert_eq!(
            report.problems,
            [
                ChainProblem::KeyNeeded { seq: last - 3 },
                ChainProblem::CheckpointKeyMissing
            ]
        );

        std::fs::write(&config.key_file, key).unwrap();
        assert_eq!(verify(db).await.unwrap().problems, []);

        std::fs::remove_file(&config.checkpoint_file).unwrap();
        let report = verify(db).await.unwrap();
        assert_eq!(report.problems, []);
        assert_eq!(report.notices, [ChainNotice::NotAnchored]);
    }
}

fn drop_all_triggers(db: &Db) -> Vec<String> {
    match db {
        Db::Sqlite(_) => [
            "audit_log_no_update",
            "audit_log_no_delete",
            "audit_items_no_update",
            "audit_items_no_delete",
        ]
        .iter()
        .map(|t| format!("DROP TRIGGER IF EXISTS {t}"))
        .collect(),
        Db::Postgres(_) => vec![
            "ALTER TABLE audit_log DISABLE TRIGGER USER".into(),
            "ALTER TABLE audit_items DISABLE TRIGGER USER".into(),
        ],
    }
}

async fn records(db: &Db) -> Vec<AuditRecord> {
    let mut records = recent(db, 10_000).await.unwrap();
    records.reverse();
    records
}

#[tokio::test]
async fn records_are_keyed_with_either_suite_and_an_altered_one_is_reported() {
    for suite in [Suite::International, Suite::National] {
        for (test_db, _dir, _config) in anchored_with(suite).await {
            let db = &test_db.db;
            let base = checkpoint_seq(db).await;
            operations(db, 4).await;
            let all = records(db).await;
            // The seeded records before the anchor stay plain SHA-256 and still verify.
            assert!(
                all.iter()
                    .filter(|r| r.seq <= base)
                    .all(|r| r.hash_alg == UNKEYED)
            );
            assert!(
                all.iter()
                    .filter(|r| r.seq > base)
                    .all(|r| r.hash_alg == hash_alg_of(suite)),
                "{suite}"
            );
            assert_eq!(verify(db).await.unwrap().problems, [], "{suite}");

            let mut statements = drop_all_triggers(db);
            statements.push(format!(
                "UPDATE audit_log SET actor = 'mallory' WHERE seq = {}",
                base + 2
            ));
            execute(db, &statements).await;
            assert_eq!(
                verify(db).await.unwrap().problems,
                [ChainProblem::Altered { seq: base + 2 }],
                "{suite} {}",
                db.backend_name()
            );
        }
    }
}

/// Rewrites the records from `from` on as someone without the key can: plain SHA-256, each
/// linked to the one before, and the head moved along.
async fn recompute_without_key(db: &Db, from: i64, actor: &str) {
    let mut statements = drop_all_triggers(db);
    let mut prev: Option<String> = None;
    for mut record in records(db).await {
        if record.seq < from {
            prev = Some(record.hash.clone());
            continue;
        }
        record.actor = actor.into();
        record.hash_alg = UNKEYED.into();
        if let Some(prev) = &prev {
            record.prev_hash = prev.clone();
        }
        record.hash = record.compute_hash(None).unwrap();
        statements.push(format!(
            "UPDATE audit_log SET actor = '{}', hash_alg = '{UNKEYED}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
            record.actor, record.prev_hash, record.hash, record.seq
        ));
        statements.push(format!(
            "UPDATE audit_head SET seq = {}, hash = '{}'",
            record.seq, record.hash
        ));
        prev = Some(record.hash);
    }
    execute(db, &statements).await;
}

#[tokio::test]
async fn a_keyed_chain_recomputed_with_plain_sha256_is_a_downgrade() {
    for (test_db, _dir, config) in anchored().await {
        let db = &test_db.db;
        let base = checkpoint_seq(db).await;
        operations(db, 5).await;
        let last = base + 5;

        // From the middle: an unkeyed record after a keyed one.
        recompute_without_key(db, base + 3, "mallory").await;
        let report = verify(db).await.unwrap();
        assert_eq!(
            report.problems,
            [
                ChainProblem::Downgraded { seq: base + 3 },
                ChainProblem::HeadReplaced { seq: last }
            ],
            "{}",
            db.backend_name()
        );

        // From the first keyed record on: the checkpoint remembers where keying began.
        recompute_without_key(db, base + 1, "mallory").await;
        let report = verify(db).await.unwrap();
        assert_eq!(
            report.problems,
            [
                ChainProblem::Downgraded { seq: base + 1 },
                ChainProblem::HeadReplaced { seq: last }
            ]
        );
        let checkpoint: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config.checkpoint_file).unwrap())
                .unwrap();
        assert_eq!(checkpoint["keyed_from"], base + 1);
    }
}

#[tokio::test]
async fn without_its_key_an_anchored_database_refuses_audited_writes() {
    for (test_db, _dir, config) in anchored().await {
        let db = &test_db.db;
        operations(db, 1).await;
        let before = verify(db).await.unwrap().last_seq;
        let key = std::fs::read(&config.key_file).unwrap();
        std::fs::remove_file(&config.key_file).unwrap();
        // As at the next start.
        assert_eq!(
            install(db, config.clone()).await.unwrap(),
            CheckpointState::KeyMissing
        );
        let refused = append_one(db, test_op(None)).await.unwrap_err();
        assert!(refused.to_string().contains("audit key file"), "{refused}");
        std::fs::write(&config.key_file, key).unwrap();
        install(db, config.clone()).await.unwrap();
        assert_eq!(verify(db).await.unwrap().last_seq, before);
        operations(db, 1).await;
        assert_eq!(verify(db).await.unwrap().problems, []);
    }
}

/// An operation with items: a household written, then written again with another income.
async fn itemised_operation(db: &Db, no: &str, income: i64) {
    for yuan in [income, income + 100] {
        testing::write_test_households(
            db,
            vec![testing::test_household(
                no,
                "500229102202",
                &testing::test_id_number(7),
                yuan,
            )],
        )
        .await;
    }
}

/// A copy of the archive `file` at `path`, its lines changed by `change`.
fn changed_copy(file: &Path, path: &Path, change: impl FnOnce(&mut Vec<String>)) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    change(&mut lines);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// A copy of the archive `file` at `path` with `from` replaced by `to` in the first line that
/// `line` picks.
fn edited_copy(file: &Path, path: &Path, line: impl Fn(&str) -> bool, from: &str, to: &str) {
    changed_copy(file, path, |lines| {
        let at = lines.iter().position(|l| line(l)).unwrap();
        lines[at] = lines[at].replace(from, to);
    });
}

/// Whether an archive line is a record of [`test_op`].
fn test_op_line(line: &str) -> bool {
    line.contains("\"test.op\"")
}

/// The archive's MAC no longer matches, and a problem `named` says what changed.
fn assert_tampered(problems: &[ArchiveProblem], named: impl Fn(&ArchiveProblem) -> bool) {
    assert!(problems.contains(&ArchiveProblem::BadMac));
    assert!(problems.iter().any(named));
}

#[tokio::test]
async fn an_archive_verifies_and_any_change_to_it_or_the_database_is_reported() {
    for suite in [Suite::International, Suite::National] {
        for (test_db, dir, config) in anchored_with(suite).await {
            let db = &test_db.db;
            itemised_operation(db, "AR0001", 5_000).await;
            operations(db, 3).await;
            let file = dir.0.join("trail.zxaudit");
            let summary = archive(db, &file, None).await.unwrap();
            assert!(summary.items > 0);
            let report = verify_archive(db, &file).await.unwrap();
            assert_eq!(report.problems, [], "{suite} {}", db.backend_name());
            assert_eq!(report.compared, summary.records);

            // Through a day before everything: nothing to archive.
            let long_ago = end_of_china_day(time::macros::date!(2000 - 01 - 01));
            assert!(
                archive(db, &dir.0.join("none"), Some(&long_ago))
                    .await
                    .is_err()
            );

            // A record edited in the file.
            let edited = dir.0.join("edited");
            edited_copy(&file, &edited, test_op_line, "\"tester\"", "\"mallory\"");
            let report = verify_archive(db, &edited).await.unwrap();
            assert_tampered(&report.problems, |p| {
                matches!(p, ArchiveProblem::Altered { .. })
            });
            // An item edited in the file.
            let item = dir.0.join("item");
            edited_copy(
                &file,
                &item,
                |l| l.starts_with("{\"item\""),
                "AR0001",
                "AR0002",
            );
            let report = verify_archive(db, &item).await.unwrap();
            assert_tampered(&report.problems, |p| {
                matches!(p, ArchiveProblem::ItemsAltered { .. })
            });
            // Cut short.
            let cut = dir.0.join("cut");
            changed_copy(&file, &cut, |lines| {
                lines.truncate(lines.len() - 2);
            });
            let report = verify_archive(db, &cut).await.unwrap();
            assert!(report.problems.contains(&ArchiveProblem::Truncated));

            // The database's record altered after archiving.
            let base = summary.through_seq;
            let mut statements = drop_all_triggers(db);
            statements.push(format!(
                "UPDATE audit_log SET hash = 'forged' WHERE seq = {base}"
            ));
            execute(db, &statements).await;
            let report = verify_archive(db, &file).await.unwrap();
            assert_eq!(
                report.problems,
                [ArchiveProblem::DiffersFromDatabase { seq: base }]
            );

            // Without the key, nothing can be checked, and it says so.
            std::fs::remove_file(&config.key_file).unwrap();
            let error = verify_archive(db, &file).await.unwrap_err().to_string();
            assert!(error.contains("audit key"), "{error}");
        }
    }
}

#[tokio::test]
async fn prune_deletes_only_old_archived_records_and_verification_starts_at_the_boundary() {
    for (test_db, dir, _config) in anchored().await {
        let db = &test_db.db;
        itemised_operation(db, "PR0001", 5_000).await;
        operations(db, 3).await;
        let file = dir.0.join("old.zxaudit");
        let summary = archive(db, &file, None).await.unwrap();
        let today = zhenxing_core::china_time::today_in_china();
        let later = today + time::Duration::days(200);

        // No retention yet; then below six months refused.
        let e = prune(db, &file, "op", "retention", later)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no audit retention is set"), "{e}");
        let e = set_retention(db, "op", 5).await.unwrap_err();
        assert!(
            e.to_string().contains("cannot be shorter than 6 months"),
            "{e}"
        );
        set_retention(db, "op", 6).await.unwrap();
        assert_eq!(retention_months(db).await.unwrap(), Some(6));

        // Today everything is younger than six months: nothing goes.
        let e = prune(db, &file, "op", "retention", today)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("nothing was deleted"), "{e}");
        // An archive that does not verify: nothing goes.
        let edited = dir.0.join("edited.zxaudit");
        edited_copy(&file, &edited, test_op_line, "\"tester\"", "\"mallory\"");
        let e = prune(db, &edited, "op", "retention", later)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("does not verify"), "{e}");
        assert_eq!(verify(db).await.unwrap().problems, []);

        // Seven months on, the archived records go; the rest verifies from the boundary.
        let pruned = prune(db, &file, "op", "retention", later).await.unwrap();
        assert_eq!(pruned.through_seq, summary.through_seq);
        let report = verify(db).await.unwrap();
        assert_eq!(report.problems, [], "{}", db.backend_name());
        assert_eq!(report.records, 2, "the retention setting and the prune");
        // The next archive starts at the boundary and verifies.
        let next = dir.0.join("next.zxaudit");
        let second = archive(db, &next, None).await.unwrap();
        assert_eq!(second.from_seq, summary.through_seq + 1);
        assert_eq!(verify_archive(db, &next).await.unwrap().problems, []);

        // Records above the boundary still cannot be deleted.
        let delete = format!("DELETE FROM audit_log WHERE seq = {}", report.last_seq);
        assert!(testing::execute_raw(db, &delete).await.is_err());

        // The boundary moved behind zhenxing's back.
        execute(
            db,
            &[
                format!(
                    "UPDATE audit_pruned SET through_seq = {}",
                    summary.through_seq + 1
                ),
                format!(
                    "DELETE FROM audit_log WHERE seq = {}",
                    summary.through_seq + 1
                ),
            ],
        )
        .await;
        let report = verify(db).await.unwrap();
        assert!(
            report.problems.contains(&ChainProblem::PruneUnrecorded {
                through_seq: summary.through_seq + 1
            }),
            "{:?}",
            report.problems
        );
    }
}
