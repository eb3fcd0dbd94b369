//! The department upload that the CLI, the upload page and the API share, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL: a malformed file is refused with every problem and writes
//! nothing; an accepted one is matched against the uploader's division, audited, and named as
//! the caller asks; only accounts that may upload department data are uploaders.

use crate::support::{account, fixture, fixture_registry};
use zhenxing_app::department::{self, UploadOutcome, Uploader, owner_filter};
use zhenxing_core::Role;
use zhenxing_core::department::DepartmentKind;
use zhenxing_store::{Db, testing};

async fn uploads(db: &Db) -> usize {
    zhenxing_store::department::uploads(db, None, 100)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_malformed_file_is_refused_whole() {
    testing::each_backend(async |db: &Db| {
        fixture_registry(db).await;
        let operator = Uploader::operator("cli:test".into()).unwrap();
        let upload = department::upload(
            db,
            &operator,
            DepartmentKind::Medical,
            &fixture("department", "bad-medical.csv"),
            None,
        )
        .await
        .unwrap();
        let UploadOutcome::Refused(parsed) = upload.outcome else {
            panic!("bad-medical.csv was accepted");
        };
        let rows: Vec<u64> = parsed.problems.iter().map(|p| p.row).collect();
        for row in [2, 3, 4, 5, 6, 7, 9] {
            assert!(rows.contains(&row), "no problem at row {row}: {rows:?}");
        }
        assert_eq!(parsed.file, "bad-medical.csv");
        assert_eq!(uploads(db).await, 0, "nothing written");
    })
    .await;
}

#[tokio::test]
async fn an_accepted_file_is_matched_in_the_uploaders_division() {
    testing::each_backend(async |db: &Db| {
        fixture_registry(db).await;
        let medical = fixture("department", "medical.csv");
        // 城口's department officer: 巫溪's 周德福 is not theirs to match.
        let officer = account("yb_chengkou", Role::DepartmentOfficer, "500229000000");
        let uploader = Uploader::account(&officer).unwrap();
        let upload = department::upload(
            db,
            &uploader,
            DepartmentKind::Medical,
            &medical,
            Some("claims-2026-03.csv"),
        )
        .await
        .unwrap();
        let UploadOutcome::Accepted { report, .. } = upload.outcome else {
            panic!("medical.csv was refused");
        };
        let s = &report.summary;
        assert_eq!(
            s.file_name, "claims-2026-03.csv",
            "the name the caller gave"
        );
        assert_eq!(s.uploaded_by, "yb_chengkou");
        assert_eq!(s.rows, s.matched + s.unmatched);
        assert!(s.matched >= 3, "{s:?}");
        assert!(
            report
                .unmatched_rows
                .iter()
                .any(|u| u.id_number.starts_with("500238")),
            "{:?}",
            report.unmatched_rows
        );
        // The operator matches the whole municipality: the same file matches more, and is
        // known as the same bytes.
        let operator = Uploader::operator("cli:test".into()).unwrap();
        let again = department::upload(db, &operator, DepartmentKind::Medical, &medical, None)
            .await
            .unwrap();
        let UploadOutcome::Accepted { report: again, .. } = again.outcome else {
            panic!("medical.csv was refused");
        };
        assert_eq!(again.summary.file_name, "medical.csv");
        assert!(again.summary.matched > s.matched, "{:?}", again.summary);
        assert_eq!(again.same_file_as, Some(s.id));
        let actions: Vec<String> = zhenxing_store::audit::recent(db, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        assert_eq!(
            actions
                .iter()
                .filter(|a| a.starts_with("department"))
                .count(),
            2,
            "{actions:?}"
        );
    })
    .await;
}

#[test]
fn only_accounts_that_may_upload_are_uploaders() {
    let cadre = account("lixin", Role::VillageCadre, "500229102202");
    let refused = Uploader::account(&cadre).unwrap_err();
    assert!(
        refused.en.contains("'lixin' (village cadre)"),
        "{}",
        refused.en
    );
    assert!(refused.zh.contains("村干部"), "{}", refused.zh);
    let mut officer = account("yb", Role::DepartmentOfficer, "500229000000");
    assert!(Uploader::account(&officer).is_ok());
    officer.disabled = true;
    assert!(Uploader::account(&officer).is_err());

    // An officer lists their own uploads; the administrator everyone's.
    officer.disabled = false;
    assert_eq!(owner_filter(&officer), Some("yb"));
    let admin = account("admin", Role::MunicipalAdmin, "500000000000");
    assert_eq!(owner_filter(&admin), None);
}
