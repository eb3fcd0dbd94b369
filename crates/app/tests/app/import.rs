//! Registry import, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL, with the registry
//! fixtures: the CLI's streamed path into an empty registry and the buffered path (the web's)
//! write the same and report a store conflict at the same row and column; an account's import
//! is refused outside its division, and a conflict does not name a household it may not see.

use crate::support::{account, request};
use std::path::PathBuf;
use std::sync::Arc;
use zhenxing_app::import::{self, ImportOutcome, Quiet};
use zhenxing_core::Role;
use zhenxing_store::registry::MonitoringPermission;
use zhenxing_store::{Db, testing};

fn fixture(name: &str) -> PathBuf {
    crate::support::fixture("registry", name)
}

/// (row, column) of each problem, in the report's order.
fn places(outcome: &ImportOutcome) -> Vec<(u64, String)> {
    outcome
        .problems
        .iter()
        .map(|p| (p.row, p.column.clone()))
        .collect()
}

async fn households(db: &Db) -> i64 {
    db.stats(None).await.unwrap().households
}

#[tokio::test]
async fn the_streamed_and_the_buffered_import_write_the_same() {
    testing::each_backend(async |db: &Db| {
        let legacy = request(MonitoringPermission::LegacyMonitoring);
        let file = fixture("good-utf8.csv");
        let streamed = import::stream_into_empty(db, &file, &legacy, Arc::new(Quiet))
            .await
            .unwrap()
            .expect("the fixture's households are contiguous");
        assert!(streamed.problems.is_empty(), "{:?}", streamed.problems);
        let s = streamed.summary.unwrap();
        assert_eq!((streamed.rows, s.created, s.members_written), (12, 4, 12));
        assert_eq!(s.monitoring_set, 1, "CK0001 is 脱贫不稳定户 in the file");
        assert_eq!(households(db).await, 4);

        // The same file again, buffered: nothing changes.
        let again = import::buffered(db, &file, &legacy, None, Arc::new(Quiet))
            .await
            .unwrap();
        assert!(again.problems.is_empty(), "{:?}", again.problems);
        let s = again.summary.unwrap();
        assert_eq!((s.created, s.updated, s.unchanged), (0, 0, 4));
    })
    .await;
}

#[tokio::test]
async fn a_store_conflict_is_a_report_line_on_both_paths() {
    testing::each_backend(async |db: &Db| {
        // Without the legacy permission, a household may not arrive with a monitoring category:
        // the store refuses CK0001 (rows 2 to 5), and the report names its first row and the
        // category's column as the file heads it.
        let plain = request(MonitoringPermission::ProceduresOnly);
        let file = fixture("good-utf8.csv");
        let streamed = import::stream_into_empty(db, &file, &plain, Arc::new(Quiet))
            .await
            .unwrap()
            .unwrap();
        let buffered = import::buffered(db, &file, &plain, None, Arc::new(Quiet))
            .await
            .unwrap();
        for outcome in [&streamed, &buffered] {
            assert!(outcome.summary.is_none());
            assert_eq!(places(outcome), vec![(2, "监测对象类别".to_owned())]);
            assert_eq!(outcome.problems[0].value, "脱贫不稳定户");
        }
        assert_eq!(
            streamed.problems[0].reason, buffered.problems[0].reason,
            "one mapping of a conflict to a reason"
        );
        assert_eq!(households(db).await, 0, "a refused file writes nothing");
    })
    .await;
}

#[tokio::test]
async fn a_file_whose_households_are_not_together_is_left_to_the_buffered_path() {
    testing::each_backend(async |db: &Db| {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(fixture("good-utf8.csv")).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        // CK0002's last member after WX0001's first.
        let moved = lines.remove(7);
        lines.insert(8, moved);
        let path = dir.path().join("scattered.csv");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let legacy = request(MonitoringPermission::LegacyMonitoring);
        let streamed = import::stream_into_empty(db, &path, &legacy, Arc::new(Quiet))
            .await
            .unwrap();
        assert!(streamed.is_none());
        assert_eq!(households(db).await, 0, "rolled back");
        let buffered = import::buffered(db, &path, &legacy, None, Arc::new(Quiet))
            .await
            .unwrap();
        assert!(buffered.problems.is_empty(), "{:?}", buffered.problems);
        assert_eq!(buffered.summary.unwrap().created, 4);
    })
    .await;
}

#[tokio::test]
async fn an_account_imports_its_own_division_only() {
    testing::each_backend(async |db: &Db| {
        let chengkou = account("chengkou", Role::CountyOfficer, "500229000000");
        let plain = request(MonitoringPermission::ProceduresOnly);
        let outcome = import::buffered(
            db,
            &fixture("good-utf8.csv"),
            &plain,
            Some(&chengkou),
            Arc::new(Quiet),
        )
        .await
        .unwrap();
        assert!(outcome.summary.is_none());
        // 巫溪's two households at their first rows, and CK0001's category.
        let places = places(&outcome);
        assert!(
            places.contains(&(9, "行政区划代码".to_owned())),
            "{places:?}"
        );
        assert!(
            places.contains(&(12, "行政区划代码".to_owned())),
            "{places:?}"
        );
        assert!(
            places.contains(&(2, "监测对象类别".to_owned())),
            "{places:?}"
        );
        let outside = outcome.problems.iter().find(|p| p.row == 9).unwrap();
        assert!(
            outside
                .reason
                .en
                .contains("outside your account's division (500229000000)")
        );
        assert_eq!(households(db).await, 0);
    })
    .await;
}

#[tokio::test]
async fn a_conflict_does_not_name_a_household_outside_the_accounts_division() {
    testing::each_backend(async |db: &Db| {
        // 巫溪's households are registered; 城口 then imports a household whose member holds
        // the ID number of 周红梅 of WX0001.
        let text = std::fs::read_to_string(fixture("good-utf8.csv")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let dir = tempfile::tempdir().unwrap();
        let wuxi = dir.path().join("wuxi.csv");
        std::fs::write(&wuxi, [lines[0], lines[8], lines[9], lines[10]].join("\n")).unwrap();
        let legacy = request(MonitoringPermission::LegacyMonitoring);
        let written = import::buffered(db, &wuxi, &legacy, None, Arc::new(Quiet))
            .await
            .unwrap();
        assert!(written.summary.is_some(), "{:?}", written.problems);

        let spouse = lines[6]
            .replace("陈淑芬", "周红梅")
            .replace("500229195802140625", "50023819861225068X");
        let chengkou_file = dir.path().join("chengkou.csv");
        std::fs::write(
            &chengkou_file,
            [lines[0], lines[5], &spouse, lines[7]].join("\n"),
        )
        .unwrap();
        let chengkou = account("chengkou", Role::CountyOfficer, "500229000000");
        let plain = request(MonitoringPermission::ProceduresOnly);
        let outcome =
            import::buffered(db, &chengkou_file, &plain, Some(&chengkou), Arc::new(Quiet))
                .await
                .unwrap();
        assert!(outcome.summary.is_none());
        let conflict = outcome
            .problems
            .iter()
            .find(|p| p.column == "证件号码")
            .unwrap_or_else(|| panic!("{:?}", outcome.problems));
        assert_eq!(conflict.row, 3, "at the member's row");
        assert!(
            conflict
                .reason
                .en
                .contains("another household outside your division")
        );
        assert!(!conflict.reason.zh.contains("WX0001") && !conflict.reason.en.contains("WX0001"));

        // The command line (no account) is told which household holds the number.
        let cli = import::buffered(db, &chengkou_file, &plain, None, Arc::new(Quiet))
            .await
            .unwrap();
        let conflict = cli
            .problems
            .iter()
            .find(|p| p.column == "证件号码")
            .unwrap();
        assert!(
            conflict.reason.en.contains("WX0001"),
            "{}",
            conflict.reason.en
        );
    })
    .await;
}
