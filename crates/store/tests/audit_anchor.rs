#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The audit chain's anchor outside the database: a trail cut or wiped with the append-only
//! triggers dropped (as someone holding the database's files could) is reported, and so is a
//! forged checkpoint; an ordinary history verifies clean.

use zhenxing_store::audit::{AuditEntry, ChainNotice, ChainProblem, append_one, verify};
use zhenxing_store::audit_anchor::{
    AnchorConfig, CheckpointState, anchor_now, checkpoint_of, install,
};
use zhenxing_store::testing::{self, TempDir};
use zhenxing_store::{Db, testing::TestDb};

async fn execute(db: &Db, statements: &[String]) {
    for s in statements {
        match db {
            Db::Sqlite(pool) => sqlx::query(sqlx::AssertSqlSafe(s.as_str()))
                .execute(pool)
                .await
                .map(drop),
            Db::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(s.as_str()))
                .execute(pool)
                .await
                .map(drop),
        }
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

async fn operations(db: &Db, n: usize) {
    for i in 0..n {
        append_one(
            db,
            AuditEntry {
                actor: "tester".into(),
                action: "test.op".into(),
                object_type: "test".into(),
                object_id: Some(format!("op{i}")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
}

/// A fresh database of each backend, anchored in files of a directory of its own.
async fn anchored() -> Vec<(TestDb, TempDir, AnchorConfig)> {
    let mut out = Vec::new();
    for (i, test_db) in testing::all().await.unwrap().into_iter().enumerate() {
        let dir = std::env::temp_dir().join(format!(
            "zx_anchor_{}_{}_{i}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = AnchorConfig {
            key_file: dir.join("audit.key"),
            checkpoint_file: dir.join("audit.checkpoint"),
        };
        // The test database's seeded divisions are audited before the anchor exists: it is
        // anchored explicitly, as an operator anchors an existing trail.
        let state = install(&test_db.db, config.clone()).await.unwrap();
        assert_eq!(state, CheckpointState::Missing);
        anchor_now(&test_db.db).await.unwrap().unwrap();
        out.push((test_db, TempDir(dir), config));
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

        // Signed with another key.
        std::fs::write(&config.checkpoint_file, &saved).unwrap();
        let key = std::fs::read(&config.key_file).unwrap();
        std::fs::write(&config.key_file, "ab".repeat(32)).unwrap();
        let report = verify(db).await.unwrap();
        assert_eq!(report.problems, [ChainProblem::CheckpointForged]);

        std::fs::remove_file(&config.key_file).unwrap();
        let report = verify(db).await.unwrap();
        assert_eq!(report.problems, [ChainProblem::CheckpointKeyMissing]);

        std::fs::write(&config.key_file, key).unwrap();
        assert_eq!(verify(db).await.unwrap().problems, []);

        std::fs::remove_file(&config.checkpoint_file).unwrap();
        let report = verify(db).await.unwrap();
        assert_eq!(report.problems, []);
        assert_eq!(report.notices, [ChainNotice::NotAnchored]);
    }
}
