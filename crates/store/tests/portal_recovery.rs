#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Issue 18, item 9, in the store, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: a lost
//! tracking code is replaced for the right ID and phone numbers only, the answer the same
//! whatever matched, every attempt audited without a number; declarations stored before their
//! blind index get it at the next open; photos go with a declaration, are read in the lead's
//! division only, follow it to another county and are never edited.

use zhenxing_core::china_time::today_in_china;
use zhenxing_core::portal::{DeclarationForm, PortalPolicy};
use zhenxing_core::*;
use zhenxing_store::portal::{self, Tracked};
use zhenxing_store::{Db, files, testing};

const VILLAGE: &str = "500229102202";
const PHONE: &str = "13900000001";

fn declaration(id_number: &str, phone: &str) -> DeclarationForm {
    DeclarationForm {
        applicant: "王世华".into(),
        id_number: id_number.into(),
        village: VILLAGE.into(),
        phone: phone.into(),
        events: vec!["illness".into()],
        account: "妻子需要手术，无力支付".into(),
        commitment: Some("yes".into()),
        authorisation: Some("yes".into()),
        privacy: Some("yes".into()),
    }
}

async fn declare(db: &Db, id_number: &str, phone: &str) -> portal::Submitted {
    let today = today_in_china();
    let d = declaration(id_number, phone).check(today).unwrap();
    portal::declare(db, &d, &PortalPolicy::default(), today)
        .await
        .unwrap()
        .unwrap()
}

async fn recover(db: &Db, id_number: &str, phone: &str) -> String {
    portal::recover_declaration_code(
        db,
        &IdNumber::parse(id_number).unwrap(),
        &Phone::parse(phone).unwrap(),
    )
    .await
    .unwrap()
}

async fn tracks(db: &Db, code: &str) -> Option<WarningStatusCode> {
    match portal::track(db, code).await.unwrap() {
        Some(Tracked::Declaration { status, .. }) => Some(WarningStatusCode(status.code())),
        Some(Tracked::Ticket(_)) => panic!("a declaration's code opened a ticket"),
        None => None,
    }
}

#[derive(Debug, PartialEq)]
struct WarningStatusCode(&'static str);

async fn recoveries(db: &Db) -> Vec<zhenxing_store::audit::AuditRecord> {
    zhenxing_store::audit::recent(db, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "portal.code_recovery")
        .collect()
}

#[tokio::test]
async fn a_lost_code_is_replaced_for_the_right_numbers_only() {
    testing::each_backend(async |db: &Db| {
        let id = testing::test_id_number(41);
        let first = declare(db, &id, PHONE).await;
        assert!(tracks(db, &first.tracking_code).await.is_some());

        // A wrong phone, an ID number that declared nothing: a code each, which opens nothing,
        // and the declaration's own code still works.
        let wrong_phone = recover(db, &id, "13900000002").await;
        let unknown = recover(db, &testing::test_id_number(42), PHONE).await;
        for code in [&wrong_phone, &unknown] {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(tracks(db, code).await, None, "{code}");
        }
        assert!(tracks(db, &first.tracking_code).await.is_some());

        // The right pair, typed loosely: a new code that tracks it; the old one no longer does.
        let renewed = recover(db, &id.to_lowercase(), "139 0000 0001").await;
        assert_eq!(
            tracks(db, &renewed).await,
            Some(WarningStatusCode("new")),
            "the new code tracks the declaration"
        );
        assert_eq!(tracks(db, &first.tracking_code).await, None, "the old code");
        assert_ne!(renewed, first.tracking_code);

        // Every attempt is audited as the public's, on the declaration when one matched, and
        // no number is in the trail.
        let audited = recoveries(db).await;
        assert_eq!(audited.len(), 3, "{audited:?}");
        let matched: Vec<_> = audited.iter().filter(|r| r.object_id.is_some()).collect();
        assert_eq!(matched.len(), 1, "{audited:?}");
        assert_eq!(
            matched[0].object_id.as_deref(),
            Some(first.id.to_string().as_str())
        );
        assert_eq!(matched[0].division_code.as_deref(), Some(VILLAGE));
        assert!(audited.iter().all(|r| r.actor == "public"));
        let trail = format!(
            "{:?}",
            zhenxing_store::audit::recent(db, 1000).await.unwrap()
        );
        for number in [id.as_str(), PHONE, "13900000002", "139****0001"] {
            assert!(!trail.contains(number), "{number} in the trail: {trail}");
        }
        testing::assert_chain_intact(db).await;
    })
    .await;
}

#[tokio::test]
async fn of_several_declarations_the_latest_open_one_is_renewed() {
    testing::each_backend(async |db: &Db| {
        let id = testing::test_id_number(43);
        let older = declare(db, &id, PHONE).await;
        let newer = declare(db, &id, PHONE).await;
        // Both open: the newer one gets the code.
        let code = recover(db, &id, PHONE).await;
        assert!(tracks(db, &code).await.is_some());
        assert_eq!(tracks(db, &newer.tracking_code).await, None);
        assert!(tracks(db, &older.tracking_code).await.is_some());
        // The newer one's lead closed: the older, still open, gets the next code.
        let sql = format!(
            "UPDATE warnings SET status = 'closed' WHERE id = \
             (SELECT warning_id FROM declarations WHERE id = {})",
            newer.id
        );
        testing::execute_raw(db, &sql).await.unwrap();
        let next = recover(db, &id, PHONE).await;
        assert_eq!(tracks(db, &next).await, Some(WarningStatusCode("new")));
        assert_eq!(tracks(db, &older.tracking_code).await, None);
        assert_eq!(tracks(db, &code).await, Some(WarningStatusCode("closed")));
        // Every lead closed: the latest one.
        let sql = "UPDATE warnings SET status = 'closed'";
        testing::execute_raw(db, sql).await.unwrap();
        let last = recover(db, &id, PHONE).await;
        assert_eq!(tracks(db, &last).await, Some(WarningStatusCode("closed")));
        assert_eq!(
            tracks(db, &code).await,
            None,
            "the newer one's code replaced"
        );
        assert!(tracks(db, &next).await.is_some(), "the older one's kept");
    })
    .await;
}

#[tokio::test]
async fn declarations_stored_before_their_index_get_it_at_the_next_open() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        let id = testing::test_id_number(44);
        declare(db, &id, PHONE).await;
        // As migration 0026 leaves a declaration stored before it.
        testing::execute_raw(db, "UPDATE declarations SET id_number_index = NULL")
            .await
            .unwrap();
        let code = recover(db, &id, PHONE).await;
        assert_eq!(tracks(db, &code).await, None, "not found without its index");
        db.close().await;

        let db = Db::open(&t.url).await.unwrap();
        let code = recover(&db, &id, PHONE).await;
        assert!(tracks(&db, &code).await.is_some(), "{}", db.backend_name());
        assert_eq!(
            zhenxing_store::keys::fill_missing_indexes(&db)
                .await
                .unwrap(),
            0,
            "nothing left to fill"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn photos_go_with_a_declaration_to_its_readers_only() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let png = b"\x89PNG\r\n\x1a\n the damage".to_vec();
        let pdf = b"%PDF-1.7 a hospital bill".to_vec();
        let photos = [
            files::accept("房屋.png", png.clone()).unwrap(),
            files::accept("收费单.pdf", pdf).unwrap(),
        ];
        let d = declaration(&testing::test_id_number(45), PHONE)
            .check(today)
            .unwrap();
        let declared = portal::declare_with_files(db, &d, &photos, &PortalPolicy::default(), today)
            .await
            .unwrap()
            .unwrap();
        let county = Scope::new(DivisionCode::parse("500229000000").unwrap());
        let elsewhere = Scope::new(DivisionCode::parse("500238000000").unwrap());
        let lead = zhenxing_store::warnings::household_warnings(
            db,
            &county,
            &format!("SB-500229-{}", declared.id),
        )
        .await
        .unwrap()[0]
            .id;
        let rows = portal::declarations_of_warning(db, &county, lead)
            .await
            .unwrap();
        let listed = portal::declaration_files(db, &rows[0]).await.unwrap();
        let names: Vec<&str> = listed.iter().map(|f| f.file_name.as_str()).collect();
        assert_eq!(names, ["房屋.png", "收费单.pdf"]);
        assert_eq!(listed[0].content_type, "image/png");
        let file = portal::declaration_file(db, &county, (lead, declared.id), 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(file, ("房屋.png".into(), "image/png".into(), png.clone()));
        // Outside the lead's division, another lead's number, a number past the last: nothing.
        for (scope, key, number) in [
            (&elsewhere, (lead, declared.id), 1),
            (&county, (lead + 1, declared.id), 1),
            (&county, (lead, declared.id + 1), 1),
            (&county, (lead, declared.id), 3),
        ] {
            let found = portal::declaration_file(db, scope, key, number)
                .await
                .unwrap();
            assert!(found.is_none(), "{key:?} {number}");
        }
        // Never edited, never deleted.
        for sql in [
            "UPDATE declaration_files SET content = content || content",
            "UPDATE declaration_files SET file_name = 'x.png'",
            "DELETE FROM declaration_files",
        ] {
            assert!(testing::execute_raw(db, sql).await.is_err(), "{sql}");
        }
        // When the lead moves to another county (a merge), its declaration's files follow.
        for sql in [
            "UPDATE warnings SET county_code = '500154', division_code = '500154122200'",
            "UPDATE declarations SET county_code = '500154', division_code = '500154122200'",
        ] {
            testing::execute_raw(db, sql).await.unwrap();
        }
        let moved = Scope::new(DivisionCode::parse("500154000000").unwrap());
        let file = portal::declaration_file(db, &moved, (lead, declared.id), 1)
            .await
            .unwrap();
        assert_eq!(file.map(|f| f.2), Some(png));
        // The audit record says how many files came, never their contents or the numbers.
        let trail = zhenxing_store::audit::recent(db, 1000).await.unwrap();
        let op = trail
            .iter()
            .find(|r| r.action == "portal.declaration")
            .unwrap();
        assert!(
            op.after_data.as_deref().unwrap().contains("\"files\":2"),
            "{op:?}"
        );
    })
    .await;
}
