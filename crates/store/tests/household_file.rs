#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! A household registered again in another village takes its file along (issue 18's defect
//! of the previous session): its open case with its steps, its pairing and its measure move to
//! the new village, across a county line too, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL, where the rows are copied under the new county and the old ones deleted.

use time::Duration;
use zhenxing_core::assistance::{
    MeasureCategory, MeasureDraft, MeasureStatus, PairingDraft, PoliticalStatus,
};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::procedure::CaseKind;
use zhenxing_core::warning::WarningChannel;
use zhenxing_core::{DivisionCode, Fen, Role, Scope, Sex};
use zhenxing_store::accounts::Account;
use zhenxing_store::procedures::{self, OpenRequest};
use zhenxing_store::{Db, Outcome, assistance, testing};

const VILLAGE: &str = "500229102202";
/// A village of the same township.
const NEIGHBOUR: &str = "500229102204";
/// A village of 巫溪县.
const OTHER_COUNTY_VILLAGE: &str = "500238100205";

async fn account(db: &Db, name: &str, role: Role, division: &str) -> Account {
    db.create_account(
        name,
        role,
        &DivisionCode::parse(division).unwrap(),
        "correct horse battery staple 9",
        "test",
    )
    .await
    .unwrap()
}

/// CK-M1, monitored (unstable, lifted out) once `monitored`, registered in `village`.
fn household(village: &str, id: &str, monitored: bool) -> zhenxing_core::HouseholdDraft {
    let mut h = testing::test_household("CK-M1", village, id, 5_000);
    h.monitoring_category =
        monitored.then_some(zhenxing_core::MonitoringCategory::UnstableLiftedOut);
    h
}

fn scope(code: &str) -> Scope {
    Scope::new(DivisionCode::parse(code).unwrap())
}

/// (county_code, division_code) of every row of `table` about CK-M1 (or its cases).
async fn places(db: &Db, table: &str) -> Vec<(String, String)> {
    let sql = if table == "case_steps" {
        "SELECT s.county_code, c.division_code FROM case_steps s JOIN cases c \
         ON c.county_code = s.county_code AND c.id = s.case_id WHERE c.household_no = 'CK-M1'"
            .to_owned()
    } else {
        format!("SELECT county_code, division_code FROM {table} WHERE household_no = 'CK-M1'")
    };
    match db {
        Db::Sqlite(p) => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(p)
            .await
            .unwrap(),
        Db::Postgres(p) => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn a_household_registered_elsewhere_takes_its_file_along() {
    let today = today_in_china();
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        let id = testing::test_id_number(41);
        testing::write_test_households(db, vec![household(VILLAGE, &id, false)]).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();
        let cadre = account(db, "m_cadre", Role::VillageCadre, VILLAGE).await;
        let policy = procedures::policy(db).await.unwrap();
        let lead = OpenRequest {
            household_no: "CK-M1".into(),
            kind: CaseKind::Identification,
            channel: Some(WarningChannel::Visit),
            warning_id: None,
            found_on: today - Duration::days(2),
            emergency: None,
            note: "走访发现住院".into(),
        };
        let opened = procedures::open_case(db, &cadre, &lead, &policy)
            .await
            .unwrap();
        let Outcome::Done(case) = opened else {
            panic!("the case was not opened: {opened:?}");
        };
        // Monitored (as a legacy import records it), so that it has a pairing and a measure.
        testing::write_test_households(db, vec![household(VILLAGE, &id, true)]).await;
        let pairing = PairingDraft {
            name: "刘德明".into(),
            sex: Some(Sex::Male),
            political_status: Some(PoliticalStatus::PartyMember),
            unit: "城口县农业农村委员会".into(),
            phone: "13912345678".into(),
            starts_on: today - Duration::days(10),
            ends_on: None,
        }
        .build(today)
        .unwrap();
        assert!(matches!(
            assistance::add_pairing(db, &cadre, "CK-M1", &pairing)
                .await
                .unwrap(),
            Outcome::Done(_)
        ));
        let measure = MeasureDraft {
            category: MeasureCategory::ALL[0],
            content: "医疗救助".into(),
            amount: Some(Fen::from_yuan(800)),
            starts_on: today - Duration::days(5),
            ends_on: None,
            status: MeasureStatus::Planned,
            implemented_on: None,
            risk: Some(RiskType::Illness),
        }
        .build(today)
        .unwrap();
        assert!(matches!(
            assistance::add_measure(db, &cadre, "CK-M1", &measure)
                .await
                .unwrap(),
            Outcome::Done(_)
        ));

        // The household's member declares on the portal, with a photo: the declaration and
        // its lead are on the registered household.
        let declaration = zhenxing_core::portal::DeclarationForm {
            applicant: "测试申报人".into(),
            id_number: id.clone(),
            village: VILLAGE.into(),
            phone: "13900000001".into(),
            events: vec!["illness".into()],
            account: "妻子需要手术，无力支付".into(),
            commitment: Some("yes".into()),
            authorisation: Some("yes".into()),
            privacy: Some("yes".into()),
        }
        .check(today)
        .unwrap();
        let photo =
            zhenxing_store::files::accept("房屋.png", b"\x89PNG\r\n\x1a\n".to_vec()).unwrap();
        zhenxing_store::portal::declare_with_files(
            db,
            &declaration,
            &[photo],
            &zhenxing_core::portal::PortalPolicy::default(),
            today,
        )
        .await
        .unwrap()
        .unwrap();

        // Registered again in the neighbouring village: the file follows it there.
        testing::write_test_households(db, vec![household(NEIGHBOUR, &id, true)]).await;
        for table in [
            "cases",
            "pairings",
            "measures",
            "case_steps",
            "warnings",
            "declarations",
        ] {
            let rows = places(db, table).await;
            assert!(!rows.is_empty(), "{table}");
            assert!(
                rows.iter().all(|(c, d)| c == "500229" && d == NEIGHBOUR),
                "{table}: {rows:?}"
            );
        }
        assert!(
            procedures::case(db, &scope(VILLAGE), case)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            procedures::case(db, &scope(NEIGHBOUR), case)
                .await
                .unwrap()
                .is_some()
        );

        // Registered in 巫溪县: across the county line, the case with its history, the pairing
        // and the measure, read from the household's new county.
        testing::write_test_households(db, vec![household(OTHER_COUNTY_VILLAGE, &id, true)]).await;
        for table in ["cases", "pairings", "measures", "case_steps"] {
            let rows = places(db, table).await;
            assert!(
                !rows.is_empty()
                    && rows
                        .iter()
                        .all(|(c, d)| c == "500238" && d == OTHER_COUNTY_VILLAGE),
                "{table}: {rows:?}"
            );
        }
        let wuxi = scope("500238000000");
        let detail = procedures::case(db, &wuxi, case)
            .await
            .unwrap()
            .expect("the case in 巫溪县");
        assert!(!detail.steps.is_empty(), "its steps came along");
        assert!(
            procedures::case(db, &scope("500229000000"), case)
                .await
                .unwrap()
                .is_none()
        );
        let cases = procedures::household_cases(db, &wuxi, "CK-M1")
            .await
            .unwrap();
        assert_eq!(cases.len(), 1);
        let file = assistance::household_assistance(db, &wuxi, "CK-M1")
            .await
            .unwrap()
            .expect("the household in 巫溪县");
        assert_eq!((file.pairings.len(), file.measures.len()), (1, 1));
        // Unchanged once more: nothing moves, nothing is duplicated.
        testing::write_test_households(db, vec![household(OTHER_COUNTY_VILLAGE, &id, true)]).await;
        assert_eq!(places(db, "cases").await.len(), 1);
        // The photo is with its declaration, under the new county.
        let files = "SELECT f.county_code FROM declaration_files f JOIN declarations d \
                     ON d.county_code = f.county_code AND d.id = f.declaration_id \
                     WHERE d.household_no = 'CK-M1'";
        let counties: Vec<String> = match db {
            Db::Sqlite(p) => sqlx::query_scalar(files).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar(files).fetch_all(p).await.unwrap(),
        };
        assert_eq!(counties, vec!["500238".to_owned()]);
        assert_eq!(places(db, "pairings").await.len(), 1);
    }
}
