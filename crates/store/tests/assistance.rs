#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Assistance, coverage and elimination facts in the store, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL: pairings and measures are written audited (phones masked),
//! within the actor's scope and role, with optimistic concurrency; the coverage report finds
//! what is missing per household and counts it per child division; the elimination facts
//! rebuild the income history from the audit trail.

use time::{Date, Duration};
use zhenxing_core::assistance::{
    MeasureCategory, MeasureDraft, MeasureStatus, PairingDraft, PoliticalStatus,
};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::coverage::CoverageRule;
use zhenxing_core::elimination::{BasicNeed, Condition, preconditions};
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::procedure::{CaseKind, EmergencyCause};
use zhenxing_core::warning::WarningChannel;
use zhenxing_core::{DivisionCode, Fen, MonitoringCategory, Relation, Role, Scope, Sex};
use zhenxing_store::accounts::Account;
use zhenxing_store::assistance;
use zhenxing_store::{Db, coverage, elimination, procedures, testing};
use zhenxing_store::{Outcome, Written};

const VILLAGE: &str = "500229102202";
const PHONE: &str = "13912345678";

/// CK0001: monitored, a head and a spouse, in the village; CK0002: not monitored, another
/// village of 城口县; WX0001: in 巫溪县.
async fn registries() -> Vec<testing::TestDb> {
    let mut out = Vec::new();
    for t in testing::all().await.unwrap() {
        let mut monitored =
            testing::test_household("CK0001", VILLAGE, &testing::test_id_number(1), 5_000);
        monitored.monitoring_category = Some(MonitoringCategory::UnstableLiftedOut);
        monitored.members.push(testing::test_member(
            &testing::test_id_number(2),
            Relation::Spouse,
        ));
        testing::write_test_households(
            &t.db,
            vec![
                monitored,
                testing::test_household(
                    "CK0002",
                    "500229104201",
                    &testing::test_id_number(3),
                    9_000,
                ),
                testing::test_household(
                    "WX0001",
                    "500238101203",
                    &testing::test_id_number(4),
                    9_000,
                ),
            ],
        )
        .await;
        out.push(t);
    }
    out
}

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

/// CK0001 identified `days` ago with these risks.
async fn identify(db: &Db, days: i64, risks: &str) {
    let on = today_in_china() - Duration::days(days);
    testing::set_monitoring_dates(db, "CK0001", Some(on), risks, None).await;
}

fn pairing_draft(today: Date) -> PairingDraft {
    PairingDraft {
        name: "刘德明".into(),
        sex: Some(Sex::Male),
        political_status: Some(PoliticalStatus::PartyMember),
        unit: "城口县农业农村委员会".into(),
        phone: PHONE.into(),
        starts_on: today - Duration::days(10),
        ends_on: None,
    }
}

fn measure_draft(today: Date, category: MeasureCategory, implemented: bool) -> MeasureDraft {
    MeasureDraft {
        category,
        content: "医疗救助，报销住院自付部分".into(),
        amount: Some(Fen::from_yuan(8_000)),
        starts_on: today - Duration::days(20),
        ends_on: None,
        status: if implemented {
            MeasureStatus::Implemented
        } else {
            MeasureStatus::Planned
        },
        implemented_on: implemented.then_some(today - Duration::days(5)),
        risk: Some(RiskType::Illness),
    }
}

fn done(outcome: Outcome<Written>) -> (i64, i64) {
    match outcome {
        Outcome::Done(Written { id, version }) => (id, version),
        other => panic!("expected Done, got {other:?}"),
    }
}

#[tokio::test]
async fn pairings_are_scoped_audited_masked_and_guarded() {
    let today = today_in_china();
    for t in registries().await {
        let db = &t.db;
        let cadre = account(db, "lx_cadre", Role::VillageCadre, VILLAGE).await;
        let other = account(db, "other_cadre", Role::VillageCadre, "500229104201").await;
        let auditor = account(db, "auditor1", Role::Auditor, "500000000000").await;
        let p = pairing_draft(today).build(today).unwrap();

        let refused = assistance::add_pairing(db, &auditor, "CK0001", &p)
            .await
            .unwrap();
        assert!(matches!(refused, Outcome::Refused(_)), "{refused:?}");
        assert_eq!(
            assistance::add_pairing(db, &other, "CK0001", &p)
                .await
                .unwrap(),
            Outcome::NotFound
        );
        assert_eq!(
            assistance::add_pairing(db, &cadre, "NOPE", &p)
                .await
                .unwrap(),
            Outcome::NotFound
        );
        let (id, version) = done(
            assistance::add_pairing(db, &cadre, "CK0001", &p)
                .await
                .unwrap(),
        );
        assert_eq!(version, 1);

        let scope = cadre.scope();
        let a = assistance::household_assistance(db, &scope, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert!(a.monitored);
        assert_eq!(a.pairings.len(), 1);
        assert_eq!(a.pairings[0].phone, PHONE);
        assert_eq!(a.pairings[0].masked_phone(), "139****5678");
        assert!(a.pairings[0].is_active(today));
        assert!(
            assistance::household_assistance(db, &other.scope(), "CK0001")
                .await
                .unwrap()
                .is_none()
        );

        // The audit trail holds the phone masked only.
        let items = zhenxing_store::audit::history(db, "pairing", &id.to_string(), 10)
            .await
            .unwrap();
        assert_eq!(items.len(), 1);
        let after = items[0].after_data.clone().unwrap();
        assert!(after.contains("139****5678"), "{after}");
        let records = zhenxing_store::audit::recent(db, 5).await.unwrap();
        assert_eq!(records[0].action, "assistance.pairing.add");
        for r in &records {
            assert!(!format!("{r:?}").contains(PHONE), "{r:?}");
        }

        // Ending: stale page, bad date, then once only.
        assert_eq!(
            assistance::end_pairing(db, &cadre, id, version + 1, today, today)
                .await
                .unwrap(),
            Outcome::Stale
        );
        let future =
            assistance::end_pairing(db, &cadre, id, version, today + Duration::days(1), today)
                .await
                .unwrap();
        assert!(matches!(future, Outcome::Refused(_)), "{future:?}");
        assert_eq!(
            assistance::end_pairing(db, &other, id, version, today, today)
                .await
                .unwrap(),
            Outcome::NotFound
        );
        let (_, v2) = done(
            assistance::end_pairing(db, &cadre, id, version, today, today)
                .await
                .unwrap(),
        );
        assert_eq!(v2, 2);
        let again = assistance::end_pairing(db, &cadre, id, v2, today, today)
            .await
            .unwrap();
        assert!(matches!(again, Outcome::Refused(_)), "{again:?}");
        let a = assistance::household_assistance(db, &scope, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            a.pairings[0].ends_on.as_deref(),
            Some(today.to_string().as_str())
        );
        assert!(a.pairings[0].is_active(today));
        assert!(!a.pairings[0].is_active(today + Duration::days(1)));
        zhenxing_store::audit::verify(db).await.unwrap();
    }
}

#[tokio::test]
async fn measures_need_a_monitored_household_and_move_forward_only() {
    let today = today_in_china();
    for t in registries().await {
        let db = &t.db;
        let officer = account(db, "ck_officer", Role::CountyOfficer, "500229000000").await;
        let planned = measure_draft(today, MeasureCategory::Health, false)
            .build(today)
            .unwrap();

        // CK0002 is not monitored: refused until an emergency case is open.
        let refused = assistance::add_measure(db, &officer, "CK0002", &planned)
            .await
            .unwrap();
        assert!(matches!(refused, Outcome::Refused(_)), "{refused:?}");
        let lead = procedures::OpenRequest {
            household_no: "CK0002".into(),
            kind: CaseKind::Identification,
            channel: Some(WarningChannel::Visit),
            warning_id: None,
            found_on: today,
            emergency: Some(EmergencyCause::Disaster),
            note: "山洪冲毁住房".into(),
        };
        let policy = procedures::policy(db).await.unwrap();
        let opened = procedures::open_case(db, &officer, &lead, &policy)
            .await
            .unwrap();
        assert!(matches!(opened, procedures::Outcome::Done(_)), "{opened:?}");
        done(
            assistance::add_measure(db, &officer, "CK0002", &planned)
                .await
                .unwrap(),
        );
        assert_eq!(
            assistance::add_measure(db, &officer, "WX0001", &planned)
                .await
                .unwrap(),
            Outcome::NotFound
        );

        let (id, v1) = done(
            assistance::add_measure(db, &officer, "CK0001", &planned)
                .await
                .unwrap(),
        );
        let too_early =
            assistance::mark_implemented(db, &officer, id, v1, today - Duration::days(30), today)
                .await
                .unwrap();
        assert!(matches!(too_early, Outcome::Refused(_)), "{too_early:?}");
        // Two people mark it at once: one wins, the other is told.
        let (_, v2) = done(
            assistance::mark_implemented(db, &officer, id, v1, today, today)
                .await
                .unwrap(),
        );
        assert_eq!(
            assistance::mark_implemented(db, &officer, id, v1, today, today)
                .await
                .unwrap(),
            Outcome::Stale
        );
        let twice = assistance::mark_implemented(db, &officer, id, v2, today, today)
            .await
            .unwrap();
        assert!(matches!(twice, Outcome::Refused(_)), "{twice:?}");

        let short = assistance::cancel_measure(db, &officer, id, v2, "错")
            .await
            .unwrap();
        assert!(matches!(short, Outcome::Refused(_)), "{short:?}");
        let (_, v3) = done(
            assistance::cancel_measure(db, &officer, id, v2, "重复录入，已在另一条登记")
                .await
                .unwrap(),
        );
        let m = assistance::measure(db, &officer.scope(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.status(), Some(MeasureStatus::Cancelled));
        assert_eq!(m.row_version, v3);
        assert_eq!(
            m.implemented_on.as_deref(),
            Some(today.to_string().as_str())
        );
        assert_eq!(m.amount, Some(800_000));
        let records = zhenxing_store::audit::recent(db, 3).await.unwrap();
        assert_eq!(records[0].action, "assistance.measure.cancel");
        assert_eq!(
            records[0].reason.as_deref(),
            Some("重复录入，已在另一条登记")
        );
        assert_eq!(records[1].action, "assistance.measure.implement");
        zhenxing_store::audit::verify(db).await.unwrap();
    }
}

#[tokio::test]
async fn coverage_finds_what_is_missing_and_counts_it_up_the_tree() {
    let today = today_in_china();
    for t in registries().await {
        let db = &t.db;
        identify(db, 40, "illness,disability").await;
        let city = DivisionCode::parse("500000000000").unwrap();
        let county = DivisionCode::parse("500229000000").unwrap();
        let village = DivisionCode::parse(VILLAGE).unwrap();
        let all = Scope::new(city);

        let r = coverage::report(db, &all, &village, today)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.total.monitored, 1);
        assert_eq!(r.households.len(), 1);
        let rules: Vec<CoverageRule> = r.households[0].findings.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            [
                CoverageRule::NoResponsibleCadre,
                CoverageRule::NoMeasureAfterMonth,
                CoverageRule::DisabilityWithoutCertificate,
            ]
        );
        assert!(
            r.households[0].findings[1]
                .problem
                .zh
                .contains("识别已40天")
        );
        assert_eq!(r.households[0].head_name.as_deref(), Some("测试"));

        let r = coverage::report(db, &all, &city, today)
            .await
            .unwrap()
            .unwrap();
        let chengkou = r
            .children
            .iter()
            .find(|c| c.code == "500229000000")
            .unwrap();
        assert_eq!(chengkou.counts.monitored, 1);
        assert_eq!(chengkou.counts.of(CoverageRule::NoResponsibleCadre), 1);
        let wuxi = r
            .children
            .iter()
            .find(|c| c.code == "500238000000")
            .unwrap();
        assert_eq!(wuxi.counts.monitored, 0);
        assert_eq!(r.total.with_findings, 1);
        let r = coverage::report(db, &all, &county, today)
            .await
            .unwrap()
            .unwrap();
        let sum: i64 = r.children.iter().map(|c| c.counts.with_findings).sum();
        assert_eq!(sum, 1);

        // Outside the account's scope: nothing.
        let wuxi_scope = Scope::new(DivisionCode::parse("500238000000").unwrap());
        assert!(
            coverage::report(db, &wuxi_scope, &village, today)
                .await
                .unwrap()
                .is_none()
        );

        // A cadre and an implemented measure clear the first two findings.
        let cadre = account(db, "lx_cadre", Role::VillageCadre, VILLAGE).await;
        let p = pairing_draft(today).build(today).unwrap();
        done(
            assistance::add_pairing(db, &cadre, "CK0001", &p)
                .await
                .unwrap(),
        );
        let m = measure_draft(today, MeasureCategory::Health, true)
            .build(today)
            .unwrap();
        done(
            assistance::add_measure(db, &cadre, "CK0001", &m)
                .await
                .unwrap(),
        );
        let r = coverage::report(db, &all, &village, today)
            .await
            .unwrap()
            .unwrap();
        let rules: Vec<CoverageRule> = r.households[0].findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules, [CoverageRule::DisabilityWithoutCertificate]);

        // Eliminated: no cadre needed, but 因残 needs its safety-net or social-help measure.
        testing::set_monitoring_dates(
            db,
            "CK0001",
            Some(today - Duration::days(40)),
            "illness,disability",
            Some(today),
        )
        .await;
        let r = coverage::report(db, &all, &village, today)
            .await
            .unwrap()
            .unwrap();
        let rules: Vec<CoverageRule> = r.households[0].findings.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            [
                CoverageRule::DisabilityWithoutCertificate,
                CoverageRule::EliminatedDisabilityWithoutSupport,
            ]
        );
    }
}

#[tokio::test]
async fn elimination_facts_rebuild_the_income_history_from_the_audit_trail() {
    let today = today_in_china();
    for t in registries().await {
        let db = &t.db;
        let city = Scope::new(DivisionCode::parse("500000000000").unwrap());
        let (before, meta) = zhenxing_store::registry::household(db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        let first = before.per_capita_net_income();
        // A raise in wages and one member fewer.
        let mut record = before.clone();
        record.wage_income += 2_000_000;
        record.members.retain(|m| m.relation != "spouse");
        assert_eq!(record.members.len(), 1);
        db.edit_household(&record, meta.version, "test", "web", "入户核实后更新收入")
            .await
            .unwrap();
        identify(db, 0, "illness").await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();

        let f = elimination::facts(db, &city, "CK0001", today, true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(f.identified_on, Some(today));
        assert_eq!(f.risk_types, [RiskType::Illness]);
        assert_eq!(
            f.income_history,
            [
                (today, Fen(first)),
                (today, Fen(record.per_capita_net_income()))
            ]
        );
        assert_eq!(f.per_capita_net_income, Fen(record.per_capita_net_income()));
        assert_eq!(f.open_needs, [BasicNeed::FoodAndClothing]);
        assert!(!f.whole_household_without_labor);
        let failing: Vec<Condition> = preconditions(&f, today)
            .into_iter()
            .filter(|p| !p.holds)
            .map(|p| p.condition)
            .collect();
        // Above the threshold now (25,000 yuan), but only since today.
        assert_eq!(
            failing,
            [
                Condition::MonitoredSixMonths,
                Condition::MeasureImplemented,
                Condition::IncomeStable,
                Condition::BasicNeedsMet,
            ]
        );
        let wuxi = Scope::new(DivisionCode::parse("500238000000").unwrap());
        assert!(
            elimination::facts(db, &wuxi, "CK0001", today, false)
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// The registry format's 帮扶责任人: the names of the cadres in force, by household, for an
/// export (by division) and an import's check (by household); an ended pairing drops out.
#[tokio::test]
async fn responsible_cadres_are_the_names_of_the_pairings_in_force() {
    use assistance::{CadresOf, responsible_cadres};
    let today = today_in_china();
    for t in registries().await {
        let db = &t.db;
        let cadre = account(db, "lx_cadre", Role::VillageCadre, VILLAGE).await;
        let p = pairing_draft(today).build(today).unwrap();
        let (id, version) = done(
            assistance::add_pairing(db, &cadre, "CK0001", &p)
                .await
                .unwrap(),
        );
        let expected =
            std::collections::HashMap::from([("CK0001".to_owned(), vec!["刘德明".to_owned()])]);
        let village = DivisionCode::parse(VILLAGE).unwrap();
        let elsewhere = DivisionCode::parse("500229104201").unwrap();
        for of in [
            CadresOf::Households(&["CK0001", "CK0002"]),
            CadresOf::Division(Some(&village)),
            CadresOf::Division(None),
        ] {
            assert_eq!(
                responsible_cadres(db, of, today).await.unwrap(),
                expected,
                "{of:?}"
            );
        }
        let none = responsible_cadres(db, CadresOf::Division(Some(&elsewhere)), today)
            .await
            .unwrap();
        assert!(none.is_empty(), "{none:?}");

        let yesterday = today - Duration::days(1);
        done(
            assistance::end_pairing(db, &cadre, id, version, yesterday, today)
                .await
                .unwrap(),
        );
        let ended = responsible_cadres(db, CadresOf::Households(&["CK0001"]), today)
            .await
            .unwrap();
        assert!(ended.is_empty(), "{ended:?}");
    }
}
