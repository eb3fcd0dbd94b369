//! Home visits (issue 19) on both databases: a visit is a record of its own, recorded once per
//! key; a change is written to the registry unless the office changed the same field
//! meanwhile (then it waits, with both values, for a decision); a warning is raised only when a
//! screening rule fires that did not fire before, or the cadre saw food and clothing lacking
//! or reported a risk; the round, the month's coverage, and the file moving with the household.

use std::collections::BTreeMap;
use zhenxing_app::visits::{VisitForm, parse_visit, screen_with};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::visit::{FORM_VERSION, VisitOutcome};
use zhenxing_core::warning::InboxPolicy;
use zhenxing_core::{DivisionCode, MonitoringCategory, Role, Scope};
use zhenxing_store::accounts::Account;
use zhenxing_store::visits::{self, Choice, NotDecided, Recorded, Refused, field_values};
use zhenxing_store::{Db, HouseholdRecord, Outcome, testing};

const VILLAGE: &str = "500229102202";

async fn cadre(db: &Db) -> Account {
    db.create_account(
        "li_hong",
        Role::VillageCadre,
        &DivisionCode::parse(VILLAGE).unwrap(),
        "correct horse battery staple 9",
        "test",
    )
    .await
    .unwrap()
}

/// CK-V1: monitored, one member, 12,000 yuan of wages a year (above any monitoring line);
/// CK-V2 the same with 13,000.
async fn registry(db: &Db) {
    let mut drafts = Vec::new();
    for (no, n, wage) in [("CK-V1", 61, 12_000), ("CK-V2", 62, 13_000)] {
        let mut h = testing::test_household(no, VILLAGE, &testing::test_id_number(n), wage);
        h.monitoring_category = Some(MonitoringCategory::UnstableLiftedOut);
        drafts.push(h);
    }
    testing::write_test_households(db, drafts).await;
    zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
        .await
        .unwrap();
}

async fn household(db: &Db, no: &str) -> (HouseholdRecord, i64) {
    let (r, meta) = zhenxing_store::registry::household(db, no)
        .await
        .unwrap()
        .unwrap();
    (r, meta.version)
}

/// The form as the page serves it for `record`, with `changed` typed over it.
fn form(
    record: &HouseholdRecord,
    key: &str,
    changed: &[(&str, &str)],
    no_change: bool,
) -> VisitForm {
    let was = field_values(record);
    let mut fields: Vec<(String, String)> = vec![
        ("key".into(), key.into()),
        ("form_version".into(), FORM_VERSION.to_string()),
        ("visited_on".into(), today_in_china().to_string()),
        ("food_clothing".into(), "yes".into()),
    ];
    let mut values: BTreeMap<String, String> = was.clone();
    for (k, v) in changed {
        values.insert((*k).to_owned(), (*v).to_owned());
    }
    for (k, v) in &was {
        fields.push((format!("was.{k}"), v.clone()));
    }
    for (k, v) in values {
        if k != "food_clothing" {
            fields.push((k, v));
        }
    }
    if let Some((_, v)) = changed.iter().find(|(k, _)| *k == "food_clothing") {
        fields.retain(|(k, _)| k != "food_clothing");
        fields.push(("food_clothing".into(), (*v).to_owned()));
    }
    if no_change {
        fields.push(("no_change".into(), "1".into()));
    }
    VisitForm {
        fields,
        ..VisitForm::default()
    }
}

async fn record(db: &Db, account: &Account, f: VisitForm) -> Result<Recorded, Refused> {
    let today = today_in_china();
    let rule_set = zhenxing_app::visits::visit_rule_set(db).await;
    let screen = screen_with(rule_set.as_ref(), today);
    let hh: String = f
        .fields
        .iter()
        .find(|(k, _)| k == "household")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let (current, _) = household(db, &hh).await;
    let visit = parse_visit(&current, f, today).unwrap();
    visits::record(db, account, &visit, &screen, &InboxPolicy::default())
        .await
        .unwrap()
}

fn for_household(mut f: VisitForm, no: &str) -> VisitForm {
    f.fields.push(("household".into(), no.into()));
    f
}

/// Every visit recorded, of both households.
async fn count(db: &Db) -> usize {
    let scope = Scope::new(DivisionCode::parse(VILLAGE).unwrap());
    let mut n = 0;
    for no in ["CK-V1", "CK-V2"] {
        n += visits::household_visits(db, &scope, no)
            .await
            .unwrap()
            .len();
    }
    n
}

#[tokio::test]
async fn a_visit_is_recorded_once_and_changes_only_what_changed() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        registry(db).await;
        let li = cadre(db).await;
        let (v1, version) = household(db, "CK-V1").await;

        // No change: a visit of its own, nothing written, no warning.
        let key = "00000000-0000-4000-8000-000000000001";
        let r = record(db, &li, for_household(form(&v1, key, &[], true), "CK-V1"))
            .await
            .unwrap();
        assert_eq!(
            (r.outcome, r.warning_id, r.replayed),
            (VisitOutcome::Recorded, None, false)
        );
        assert_eq!(household(db, "CK-V1").await.1, version, "nothing written");
        // Sent again (a lost answer, a replay): the same visit, recorded once.
        let again = record(db, &li, for_household(form(&v1, key, &[], true), "CK-V1"))
            .await
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.id, r.id);
        assert_eq!(count(db).await, 1);
        // The same key for another household: refused.
        let (v2, _) = household(db, "CK-V2").await;
        assert_eq!(
            record(db, &li, for_household(form(&v2, key, &[], true), "CK-V2")).await,
            Err(Refused::KeyReused)
        );

        // One change above the line: written, audited as the visit, no warning.
        let key = "00000000-0000-4000-8000-000000000002";
        let r = record(
            db,
            &li,
            for_household(form(&v1, key, &[("wage", "11000")], false), "CK-V1"),
        )
        .await
        .unwrap();
        assert_eq!((r.outcome, r.warning_id), (VisitOutcome::Applied, None));
        let (after, new_version) = household(db, "CK-V1").await;
        assert_eq!(after.wage_income, 1_100_000);
        assert_eq!(new_version, version + 1);

        // An income at or below the monitoring line: a rule fires that did not, so a warning
        // from the visit, with the rule's reason.
        let key = "00000000-0000-4000-8000-000000000003";
        let r = record(
            db,
            &li,
            for_household(form(&after, key, &[("wage", "3000")], false), "CK-V1"),
        )
        .await
        .unwrap();
        let warning = r.warning_id.expect("the income rule raises a warning");
        let w = zhenxing_store::warnings::warning(db, &li.scope(), warning)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(w.source, "visit");
        assert!(w.reasons.contains("\"rule\":\"income\""), "{}", w.reasons);

        // A no-change visit on a household the rule already fires on raises nothing new.
        let (low, _) = household(db, "CK-V1").await;
        let key = "00000000-0000-4000-8000-000000000004";
        let r = record(db, &li, for_household(form(&low, key, &[], true), "CK-V1"))
            .await
            .unwrap();
        assert_eq!(r.warning_id, None);

        // Food and clothing not assured: the cadre's observation raises a warning on its own.
        let key = "00000000-0000-4000-8000-000000000005";
        let r = record(
            db,
            &li,
            for_household(form(&v2, key, &[("food_clothing", "no")], true), "CK-V2"),
        )
        .await
        .unwrap();
        assert!(r.warning_id.is_some());

        // Risks the household declares to the cadre on the visit: a self-declaration lead, with
        // the cadre's note, beside the visit's own warning.
        let key = "00000000-0000-4000-8000-000000000006";
        let mut f = for_household(form(&v2, key, &[], true), "CK-V2");
        f.fields.push(("risk".into(), "illness".into()));
        f.fields.push(("risk_source".into(), "declared".into()));
        f.fields.push(("note".into(), "户主说近期住院".into()));
        let r = record(db, &li, f).await.unwrap();
        let declared = zhenxing_store::warnings::warning(db, &li.scope(), r.warning_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(declared.source, "self_declaration");
        assert!(
            declared.reasons.contains("户主说近期住院"),
            "{}",
            declared.reasons
        );

        // The round and the month's coverage count the visits.
        let scope = Scope::new(DivisionCode::parse(VILLAGE).unwrap());
        let round = visits::round(db, &scope).await.unwrap();
        assert_eq!(round.len(), 2);
        assert!(
            round
                .iter()
                .all(|r| r.last_visit.as_deref() == Some(&*today_in_china().to_string()))
        );
        let first = today_in_china().replace_day(1).unwrap();
        assert_eq!(
            visits::visited_count(db, &scope, first).await.unwrap(),
            (2, 2)
        );
        let history = visits::household_visits(db, &scope, "CK-V1").await.unwrap();
        assert_eq!(history.len(), 4);
        assert_eq!(
            visits::household_visits(db, &scope, "CK-V2")
                .await
                .unwrap()
                .len(),
            2
        );
        testing::assert_chain_intact(db).await;
    }
}

#[tokio::test]
async fn an_office_change_meanwhile_is_never_overwritten() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        registry(db).await;
        let li = cadre(db).await;
        let (seen, version) = household(db, "CK-V1").await;
        // The office changes the wage and the water after the form was filled in on the phone.
        let mut office = seen.clone();
        office.wage_income = 1_500_000;
        office.water_safe = Some(false);
        assert!(matches!(
            db.edit_household(&office, version, "chengkou", "web", "核实务工收入")
                .await
                .unwrap(),
            Outcome::Done(_)
        ));
        // The visit changes the wage (conflict), the water to what the office says (agrees) and
        // the housing (nobody else touched it).
        let key = "00000000-0000-4000-8000-000000000011";
        let f = form(
            &seen,
            key,
            &[
                ("wage", "9000"),
                ("water_safe", "no"),
                ("housing_safe", "no"),
            ],
            false,
        );
        let r = record(db, &li, for_household(f.clone(), "CK-V1"))
            .await
            .unwrap();
        assert_eq!(r.outcome, VisitOutcome::Conflict);
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(r.conflicts[0].field, "wage");
        assert_eq!(
            (
                r.conflicts[0].office.as_str(),
                r.conflicts[0].visit.as_str()
            ),
            ("15000.00", "9000.00")
        );
        let (now, _) = household(db, "CK-V1").await;
        assert_eq!(now.wage_income, 1_500_000, "the office's change stands");
        assert_eq!(
            now.housing_safe,
            Some(true),
            "nothing of the visit is written yet"
        );
        let scope = Scope::new(DivisionCode::parse("500229102").unwrap());
        assert_eq!(visits::open_conflicts(db, &scope).await.unwrap().len(), 1);

        // The township keeps the office's wage: the visit's other change is written.
        let township = db
            .create_account(
                "township",
                Role::TownshipOfficer,
                &DivisionCode::parse("500229102").unwrap(),
                "correct horse battery staple 9",
                "test",
            )
            .await
            .unwrap();
        let rule_set = zhenxing_app::visits::visit_rule_set(db).await;
        let screen = screen_with(rule_set.as_ref(), today_in_china());
        let decided = visits::decide(
            db,
            &township,
            &r.county_code,
            r.id,
            Choice::KeepOffice,
            &screen,
            &InboxPolicy::default(),
        )
        .await
        .unwrap();
        assert_eq!(decided, Ok(VisitOutcome::KeptOffice));
        let (now, _) = household(db, "CK-V1").await;
        assert_eq!(
            (now.wage_income, now.housing_safe),
            (1_500_000, Some(false))
        );
        // Decided once.
        assert_eq!(
            visits::decide(
                db,
                &township,
                &r.county_code,
                r.id,
                Choice::ApplyVisit,
                &screen,
                &InboxPolicy::default()
            )
            .await
            .unwrap(),
            Err(NotDecided::AlreadyDecided)
        );
        assert!(visits::open_conflicts(db, &scope).await.unwrap().is_empty());

        // Another conflict, decided for the visit by the cadre herself: written.
        let (seen, version) = household(db, "CK-V2").await;
        let mut office = seen.clone();
        office.wage_income = 1_400_000;
        db.edit_household(&office, version, "chengkou", "web", "核实")
            .await
            .unwrap();
        let key = "00000000-0000-4000-8000-000000000012";
        let r = record(
            db,
            &li,
            for_household(form(&seen, key, &[("wage", "12500")], false), "CK-V2"),
        )
        .await
        .unwrap();
        assert_eq!(r.outcome, VisitOutcome::Conflict);
        // Changed again in the office before anyone decides: the decision waits for a new look.
        let (again, version) = household(db, "CK-V2").await;
        let mut office = again.clone();
        office.wage_income = 1_450_000;
        db.edit_household(&office, version, "chengkou", "web", "再核实")
            .await
            .unwrap();
        assert_eq!(
            visits::decide(
                db,
                &li,
                &r.county_code,
                r.id,
                Choice::ApplyVisit,
                &screen,
                &InboxPolicy::default()
            )
            .await
            .unwrap(),
            Err(NotDecided::ChangedAgain)
        );
        // Put back as it was when the conflict was recorded, then decided for the visit.
        let (again, version) = household(db, "CK-V2").await;
        let mut office = again.clone();
        office.wage_income = 1_400_000;
        db.edit_household(&office, version, "chengkou", "web", "改回")
            .await
            .unwrap();
        assert_eq!(
            visits::decide(
                db,
                &li,
                &r.county_code,
                r.id,
                Choice::ApplyVisit,
                &screen,
                &InboxPolicy::default()
            )
            .await
            .unwrap(),
            Ok(VisitOutcome::AppliedVisit)
        );
        assert_eq!(household(db, "CK-V2").await.0.wage_income, 1_250_000);
        testing::assert_chain_intact(db).await;
    }
}

#[tokio::test]
async fn a_members_change_never_lands_on_another_person() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        registry(db).await;
        let li = cadre(db).await;
        let (seen, version) = household(db, "CK-V1").await;
        // The office corrects the household's members after the phone kept the form: the
        // first member on the form is no longer the first member of the household.
        let mut office = seen.clone();
        office.members[0].name = "张另一人".into();
        db.edit_household(&office, version, "chengkou", "web", "更正成员")
            .await
            .unwrap();
        let key = "00000000-0000-4000-8000-000000000031";
        let f = form(&seen, key, &[("m0.insured", "no")], false);
        let refused = record(db, &li, for_household(f, "CK-V1"))
            .await
            .unwrap_err();
        let Refused::Invalid(why) = refused else {
            panic!("{refused:?}")
        };
        assert!(why.en.contains("members changed"), "{}", why.en);
        let (now, _) = household(db, "CK-V1").await;
        assert!(now.members[0].medical_insurance, "nothing written");
        assert_eq!(count(db).await, 0);
    }
}

#[tokio::test]
async fn bad_forms_are_refused_by_field() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        registry(db).await;
        let (v1, _) = household(db, "CK-V1").await;
        let today = today_in_china();
        let mut f = form(
            &v1,
            "00000000-0000-4000-8000-000000000021",
            &[("wage", "abc"), ("m0.insured", "")],
            false,
        );
        f.fields.retain(|(k, _)| k != "visited_on");
        f.fields.push((
            "visited_on".into(),
            (today + time::Duration::days(1)).to_string(),
        ));
        let problems = parse_visit(&v1, f, today).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"visited_on"), "{fields:?}");
        assert!(fields.contains(&"wage"), "{fields:?}");
        assert!(fields.contains(&"m0.insured"), "{fields:?}");
        // A form of an older version of the app: refused as a whole, saying so.
        let mut old = form(&v1, "00000000-0000-4000-8000-000000000022", &[], true);
        old.fields.retain(|(k, _)| k != "form_version");
        old.fields.push(("form_version".into(), "0".into()));
        let problems = parse_visit(&v1, old, today).unwrap_err();
        assert_eq!(problems[0].field, "form_version");
        assert!(problems[0].en.contains("older version"));
        assert_eq!(count(db).await, 0);
    }
}
