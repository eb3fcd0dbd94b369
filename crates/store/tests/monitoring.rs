#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Monitoring in the store, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: rule sets are
//! versioned and never edited; a screening run writes warnings idempotently, updates changed
//! ones, closes those that no longer apply, and is all or nothing.

use std::collections::HashMap;
use time::macros::date;
use zhenxing_core::monitoring::{CHONGQING, HouseholdFacts, MemberFacts, RuleSet};
use zhenxing_core::*;
use zhenxing_store::monitoring::{self, ScreeningResult, ScreeningRun, StoredRuleSet};
use zhenxing_store::{Db, testing};

const VILLAGE: &str = "500229102202";
const OTHER_COUNTY_VILLAGE: &str = "500230001001";
const TODAY: time::Date = date!(2026 - 11 - 29);

use testing::{test_household as household, write_test_households as write};

/// The screening as the CLI does it, without the engine: load, classify, write.
async fn results(
    db: &Db,
    rules: &RuleSet,
    scope: Option<&DivisionCode>,
) -> (u64, Vec<ScreeningResult>) {
    let mut members: HashMap<i64, Vec<MemberFacts>> = HashMap::new();
    monitoring::load_members(db, scope, |m| {
        let d = m.birth_date;
        let birth_date = time::Date::from_calendar_date(
            d[..4].parse().unwrap(),
            time::Month::try_from(d[5..7].parse::<u8>().unwrap()).unwrap(),
            d[8..10].parse().unwrap(),
        )
        .unwrap();
        members
            .entry(m.household_id)
            .or_default()
            .push(MemberFacts {
                birth_date,
                school_status: m.school_status.and_then(SchoolStatus::from_code),
                labor: Labor::from_code(m.labor).unwrap(),
                medical_insurance: m.medical_insurance,
                disabled: m.health.contains("disabled"),
                seriously_ill: m.health.contains("serious_illness"),
            });
    })
    .await
    .unwrap();
    let prepared = rules.prepare(TODAY);
    let mut out = Vec::new();
    let n = monitoring::load_households(db, scope, Some(TODAY.year() - 1), |h| {
        let ms = members.get(&h.id).map(Vec::as_slice).unwrap_or(&[]);
        let facts = HouseholdFacts {
            household_type: HouseholdType::from_code(h.household_type).unwrap(),
            per_capita_net_income: Fen(h.per_capita_net_income),
            previous_per_capita_net_income: h.previous_per_capita_net_income.map(Fen),
            out_of_pocket: Fen(h.out_of_pocket),
            housing_safe: h.housing_safe,
            water_safe: h.water_safe,
            disaster_loss: None,
            members: ms,
        };
        let a = prepared.classify(&facts);
        out.extend(ScreeningResult::new(h.household_no, h.division_code, &a));
    })
    .await
    .unwrap();
    out.sort_by(|a, b| a.household_no.cmp(&b.household_no));
    (n, out)
}

async fn screen(
    db: &Db,
    rule_set: &StoredRuleSet,
    scope: Option<&DivisionCode>,
) -> monitoring::RunSummary {
    let (evaluated, results) = results(db, &rule_set.rules, scope).await;
    let run = ScreeningRun {
        rule_set,
        scope,
        evaluated,
        actor: "test",
    };
    monitoring::apply_screening(db, &run, results)
        .await
        .unwrap()
}

async fn current(db: &Db) -> StoredRuleSet {
    monitoring::ensure_builtin_rule_sets(db, "test")
        .await
        .unwrap();
    monitoring::current_rule_set(db, CHONGQING, 2021)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn rule_sets_are_versioned_and_never_edited() {
    testing::each_backend(async |db| {
        assert_eq!(
            monitoring::ensure_builtin_rule_sets(db, "test")
                .await
                .unwrap(),
            5
        );
        assert_eq!(
            monitoring::ensure_builtin_rule_sets(db, "test")
                .await
                .unwrap(),
            0
        );
        let sets = monitoring::rule_sets(db).await.unwrap();
        assert_eq!(sets.len(), 5);
        assert_eq!(sets[0].rules, monitoring_builtin_2021());
        let y2023 = monitoring::current_rule_set(db, CHONGQING, 2023)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((y2023.rules.year, y2023.rules.version), (2023, 1));
        assert!(y2023.rules.assumed);
        // Later years fall back to the latest year before them; none before 2021.
        let y2030 = monitoring::current_rule_set(db, CHONGQING, 2030)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(y2030.rules.year, 2025);
        assert!(
            monitoring::current_rule_set(db, CHONGQING, 2020)
                .await
                .unwrap()
                .is_none()
        );

        // A file's version is ignored: a new version is added, the old one stays.
        let mut file =
            monitoring::parse_rule_set_json(&serde_json::to_string(&y2023.rules).unwrap()).unwrap();
        assert_eq!(file, y2023.rules, "JSON round trip");
        file.threshold = Some(Fen::from_yuan(7_500));
        file.assumed = false;
        let v2 = monitoring::add_rule_set(db, file.clone(), "test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v2.rules.version, 2);
        let now = monitoring::current_rule_set(db, CHONGQING, 2023)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.id, v2.id);
        assert_eq!(now.rules.threshold, Some(Fen::from_yuan(7_500)));
        assert_eq!(monitoring::rule_sets(db).await.unwrap().len(), 6);

        // A bad rule set is refused with its reasons and writes nothing.
        file.threshold = Some(Fen::ZERO);
        let refused = monitoring::add_rule_set(db, file, "test")
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            refused[0].en.contains("threshold must be above 0"),
            "{refused:?}"
        );
        assert_eq!(monitoring::rule_sets(db).await.unwrap().len(), 6);

        // The table refuses edits.
        let update = "UPDATE rule_sets SET parameters = '{}' WHERE id = 1";
        let delete = "DELETE FROM rule_sets WHERE id = 1";
        for sql in [update, delete] {
            let refused = match db {
                Db::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
                Db::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
            };
            assert!(refused, "{sql} was accepted");
        }
        let report = zhenxing_store::audit::verify(db).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    })
    .await;
}

fn monitoring_builtin_2021() -> RuleSet {
    zhenxing_core::monitoring::builtin().remove(0)
}

#[test]
fn malformed_rule_set_files_are_refused_in_both_languages() {
    let e = monitoring::parse_rule_set_json("{\"year\": 2023, \"threshold_yuan\": ").unwrap_err();
    assert!(
        e.zh.contains("规则集文件有误") && e.en.contains("line 1"),
        "{e}"
    );
    let e =
        monitoring::parse_rule_set_json("{\"year\": 2023, \"thresold_yuan\": 6000}").unwrap_err();
    assert!(e.en.contains("thresold_yuan"), "{e}");
    let e = monitoring::parse_rule_set_json("{\"threshold_yuan\": \"abc\"}").unwrap_err();
    assert!(e.en.contains("not valid"), "{e}");
    let ok = monitoring::parse_rule_set_json("{\"threshold_yuan\": \"6500.50\"}").unwrap();
    assert_eq!(ok.threshold, Some(Fen(650_050)));
    assert!(
        !ok.problems().is_empty(),
        "missing year, jurisdiction and triggers"
    );
}

#[tokio::test]
async fn screening_is_idempotent_updates_and_closes() {
    testing::each_backend(async |db| {
        let rs = current(db).await;
        let low = household("CK-1", VILLAGE, "50022919900101001X", 5_000);
        let fine = household("CK-2", VILLAGE, "500238198506150028", 20_000);
        let mut water = household("CK-3", VILLAGE, "500101194910010071", 20_000);
        water.water_safe = Some(false);
        let elsewhere = household("WX-1", OTHER_COUNTY_VILLAGE, "11010519491231002X", 100);
        write(
            db,
            vec![low.clone(), fine.clone(), water.clone(), elsewhere],
        )
        .await;

        let first = screen(db, &rs, None).await;
        assert_eq!(
            (first.evaluated, first.opened, first.updated, first.closed),
            (4, 3, 0, 0)
        );
        let before = monitoring::warnings(db, None, false).await.unwrap();
        assert_eq!(
            before
                .iter()
                .map(|w| w.household_no.as_str())
                .collect::<Vec<_>>(),
            vec!["CK-1", "CK-3", "WX-1"]
        );
        let ck1 = &before[0];
        assert_eq!(ck1.category.as_deref(), Some("unstable_lifted_out"));
        assert_eq!(ck1.risk_types, "other");
        assert_eq!(
            (ck1.status.as_str(), ck1.county_code.as_str()),
            ("new", "500229")
        );
        assert!(ck1.reasons.contains("\"rule\":\"income\"") && ck1.reasons.contains("5000.00"));
        assert_eq!(ck1.opened_seq, first.audit_seq);
        assert_eq!(
            before[1].category, None,
            "unsafe water above the threshold: no category"
        );

        // Unchanged data: nothing changes.
        let again = screen(db, &rs, None).await;
        assert_eq!(
            (again.opened, again.updated, again.closed, again.unchanged),
            (0, 0, 0, 3)
        );
        assert_eq!(monitoring::warnings(db, None, false).await.unwrap(), before);

        // CK-1 rises above the threshold: closed. CK-3's water is fixed but its housing is
        // unsafe: updated. A scoped run leaves the other county alone.
        let mut risen = low.clone();
        risen.income = IncomeItems::new(
            Fen::from_yuan(9_000),
            Fen::ZERO,
            Fen::ZERO,
            Fen::ZERO,
            Fen::ZERO,
        )
        .unwrap();
        let mut housing = water.clone();
        housing.water_safe = Some(true);
        housing.housing_safe = Some(false);
        write(db, vec![risen, housing]).await;
        let chengkou = DivisionCode::parse("500229").unwrap();
        let third = screen(db, &rs, Some(&chengkou)).await;
        assert_eq!(
            (third.evaluated, third.opened, third.updated, third.closed),
            (3, 0, 1, 1)
        );
        let after = monitoring::warnings(db, None, false).await.unwrap();
        assert_eq!(after.len(), 3);
        assert_eq!(after[0].status, "closed");
        assert!(after[0].closed_at.is_some());
        assert_eq!(after[1].status, "new");
        assert_eq!(after[1].risk_types, "unsafe_housing");
        assert_eq!(after[1].updated_seq, third.audit_seq);
        assert_eq!(after[1].opened_seq, first.audit_seq);
        assert_eq!(after[2], before[2], "outside the scope: untouched");

        // Falling again opens a new warning; the closed one stays as history.
        write(db, vec![low]).await;
        let fourth = screen(db, &rs, None).await;
        assert_eq!((fourth.opened, fourth.unchanged), (1, 2));
        let all = monitoring::warnings(db, None, false).await.unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(monitoring::warnings(db, None, true).await.unwrap().len(), 3);

        // A new rule set version re-labels every open warning.
        let mut v2 = rs.rules.clone();
        v2.threshold = Some(Fen::from_yuan(4_000));
        let v2 = monitoring::add_rule_set(db, v2, "test")
            .await
            .unwrap()
            .unwrap();
        let fifth = screen(db, &v2, None).await;
        // CK-1 (5,000) is now above: closed; WX-1 and CK-3 re-labelled with version 2.
        assert_eq!((fifth.opened, fifth.updated, fifth.closed), (0, 2, 1));
        let open = monitoring::warnings(db, None, true).await.unwrap();
        assert!(
            open.iter()
                .all(|w| w.rule_set_id == Some(v2.id) && w.rule_set_version == Some(2))
        );

        // One audited operation per run, with the counts; the chain holds.
        let runs: Vec<_> = zhenxing_store::audit::recent(db, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.action == "monitor.run")
            .collect();
        assert_eq!(runs.len(), 5);
        let last: serde_json::Value =
            serde_json::from_str(runs[0].after_data.as_deref().unwrap()).unwrap();
        assert_eq!(last["closed"], 1);
        assert_eq!(last["updated"], 2);
        let report = zhenxing_store::audit::verify(db).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    })
    .await;
}

#[tokio::test]
async fn a_failing_run_leaves_the_warnings_as_they_were() {
    testing::each_backend(async |db| {
        let rs = current(db).await;
        let a = household("CK-1", VILLAGE, "50022919900101001X", 5_000);
        let b = household("CK-2", VILLAGE, "500238198506150028", 3_000);
        write(db, vec![a.clone(), b]).await;
        screen(db, &rs, None).await;
        let before = monitoring::warnings(db, None, false).await.unwrap();
        let audit_before = zhenxing_store::audit::verify(db).await.unwrap().records;

        // CK-1 changes (an update is written first), CK-2 is gone from the results (a close),
        // and a new warning names a village that does not exist: the insert fails mid-run.
        let mut changed = a;
        changed.water_safe = Some(false);
        write(db, vec![changed]).await;
        let audit_before = audit_before + 1;
        let (evaluated, mut results) = results(db, &rs.rules, None).await;
        results.retain(|r| r.household_no == "CK-1");
        let mut bogus = results[0].clone();
        bogus.household_no = "NOWHERE-1".into();
        bogus.division_code = "500229999999".into();
        results.push(bogus);
        let run = ScreeningRun {
            rule_set: &rs,
            scope: None,
            evaluated,
            actor: "test",
        };
        assert!(
            monitoring::apply_screening(db, &run, results)
                .await
                .is_err()
        );
        assert_eq!(monitoring::warnings(db, None, false).await.unwrap(), before);
        let report = zhenxing_store::audit::verify(db).await.unwrap();
        assert_eq!(
            report.records, audit_before,
            "no audit record of the failed run"
        );
        assert!(report.problems.is_empty());
    })
    .await;
}

const TOWNSHIP: &str = "500229102000";
const PASSWORD: &str = "Warnings-Test-2026";

/// The township officer and the village cadre of the inbox tests.
async fn inbox_people(
    db: &Db,
) -> (
    zhenxing_store::accounts::Account,
    zhenxing_store::accounts::Account,
) {
    let township = DivisionCode::parse(TOWNSHIP).unwrap();
    let village = DivisionCode::parse(VILLAGE).unwrap();
    let officer = db
        .create_account(
            "zhaomin",
            Role::TownshipOfficer,
            &township,
            PASSWORD,
            "test",
        )
        .await
        .unwrap();
    let cadre = db
        .create_account("lihong", Role::VillageCadre, &village, PASSWORD, "test")
        .await
        .unwrap();
    (officer, cadre)
}

/// The inbox on both backends: officers assign to the village's cadre with a deadline, only the
/// assignee (or an officer) records the outcome, a stale page cannot act, settled warnings are
/// not raised again by the same signal, and every step is audited.
#[tokio::test]
async fn the_inbox_takes_checked_audited_steps() {
    use zhenxing_core::warning::{InboxPolicy, WarningChannel, WarningStatus, WarningStep};
    use zhenxing_store::Outcome;
    use zhenxing_store::warnings::{
        self, InboxQuery, Raised, Report, StatusFilter, StepRequest, Stepped,
    };
    testing::each_backend(async |db: &Db| {
        let rules = current(db).await;
        write(
            db,
            vec![
                household("CK-W1", VILLAGE, "500229199001011231", 3_000),
                household("CK-W2", VILLAGE, "500229199001011258", 9_000),
            ],
        )
        .await;
        let first = screen(db, &rules, None).await;
        assert_eq!(first.opened, 1);
        let (officer, cadre) = inbox_people(db).await;
        let policy = InboxPolicy::default();
        let today = zhenxing_core::china_time::today_in_china();
        let query = InboxQuery {
            limit: 50,
            ..Default::default()
        };
        let inbox = warnings::inbox(db, &officer.scope(), &query, today)
            .await
            .unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].household_no, "CK-W1");
        assert_eq!(inbox[0].head_name.as_deref(), Some("测试"));
        let id = inbox[0].id;
        let counts = warnings::inbox_counts(db, &officer.scope(), today)
            .await
            .unwrap();
        assert_eq!((counts.new, counts.assigned, counts.overdue), (1, 0, 0));

        let assign = |version: i64, assignee: &str| StepRequest {
            warning_id: id,
            expected_version: version,
            step: WarningStep::Assign {
                deadline: today + time::Duration::days(7),
            },
            assignee: Some(assignee.to_owned()),
        };
        // A cadre does not assign; an officer assigns only to a cadre of the village.
        let refused = warnings::take_step(db, &cadre, &assign(1, "lihong"), &policy)
            .await
            .unwrap();
        assert!(matches!(refused, Outcome::Refused(_)), "{refused:?}");
        let refused = warnings::take_step(db, &officer, &assign(1, "zhaomin"), &policy)
            .await
            .unwrap();
        assert!(matches!(refused, Outcome::Refused(_)), "{refused:?}");
        let done = warnings::take_step(db, &officer, &assign(1, "lihong"), &policy)
            .await
            .unwrap();
        assert_eq!(
            done,
            Outcome::Done(Stepped {
                status: WarningStatus::Assigned,
                version: 2
            })
        );
        // The page the officer loaded before the assignment is stale now.
        let stale = warnings::take_step(db, &officer, &assign(1, "lihong"), &policy)
            .await
            .unwrap();
        assert_eq!(stale, Outcome::Stale);
        let mine = InboxQuery {
            assignee: Some("lihong".into()),
            limit: 50,
            ..Default::default()
        };
        assert_eq!(
            warnings::inbox(db, &cadre.scope(), &mine, today)
                .await
                .unwrap()
                .len(),
            1
        );
        let verify = StepRequest {
            warning_id: id,
            expected_version: 2,
            step: WarningStep::Verify {
                note: "入户核实：主要劳动力务工收入中断".into(),
            },
            assignee: None,
        };
        let done = warnings::take_step(db, &cadre, &verify, &policy)
            .await
            .unwrap();
        assert!(matches!(
            done,
            Outcome::Done(Stepped {
                status: WarningStatus::Verified,
                ..
            })
        ));
        let settled = warnings::take_step(
            db,
            &officer,
            &StepRequest {
                expected_version: 3,
                ..verify.clone()
            },
            &policy,
        )
        .await
        .unwrap();
        assert!(matches!(settled, Outcome::Refused(_)), "{settled:?}");
        let detail = warnings::warning(db, &officer.scope(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(detail.status, "verified");
        assert_eq!(detail.resolved_by.as_deref(), Some("lihong"));

        // The same signal is not raised again once settled.
        let again = screen(db, &rules, None).await;
        assert_eq!((again.opened, again.settled), (0, 1));
        let filter = InboxQuery {
            status: StatusFilter::Active,
            limit: 50,
            ..Default::default()
        };
        assert!(
            warnings::inbox(db, &officer.scope(), &filter, today)
                .await
                .unwrap()
                .is_empty()
        );

        // A cadre's visit opens a warning; a second report merges; the same one changes nothing.
        let visit = Report {
            household_no: "CK-W2".into(),
            channel: WarningChannel::Visit,
            on: today,
            risks: vec![zhenxing_core::monitoring::RiskType::Illness],
            category: None,
            note: "户主住院，家中无人务工".into(),
        };
        let opened = warnings::report(db, &cadre, &visit, &policy).await.unwrap();
        let Some(Raised::Opened(visit_id)) = opened else {
            panic!("{opened:?}")
        };
        let same = warnings::report(db, &cadre, &visit, &policy).await.unwrap();
        assert_eq!(same, Some(Raised::Unchanged(visit_id)));
        let more = Report {
            note: "子女辍学在家".into(),
            risks: vec![zhenxing_core::monitoring::RiskType::Schooling],
            ..visit.clone()
        };
        assert_eq!(
            warnings::report(db, &cadre, &more, &policy).await.unwrap(),
            Some(Raised::Merged(visit_id))
        );
        let merged = warnings::warning(db, &cadre.scope(), visit_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(merged.risk_types, "illness,schooling");
        assert_eq!(merged.reason_texts().len(), 2);
        assert_eq!(merged.source, "visit");
        // Outside the cadre's village the household does not exist.
        write(
            db,
            vec![household(
                "CQ-W3",
                OTHER_COUNTY_VILLAGE,
                "500230199001011237",
                9_000,
            )],
        )
        .await;
        let outside = Report {
            household_no: "CQ-W3".into(),
            ..visit.clone()
        };
        assert_eq!(
            warnings::report(db, &cadre, &outside, &policy)
                .await
                .unwrap(),
            None
        );
        let trail = zhenxing_store::audit::recent(db, 20).await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
        for expected in [
            "warning.assign",
            "warning.verify",
            "warning.report.visit",
            "monitor.run",
        ] {
            assert!(actions.contains(&expected), "{expected} in {actions:?}");
        }
        testing::assert_chain_intact(db).await;
    })
    .await;
}

/// Issue 17 item 2 on both backends: a warning on a household already monitored (identified,
/// risk not eliminated) is a new risk of a monitored household, not a lead, whichever channel
/// raised it; the inbox filters and counts the two kinds apart, as do the statistics; verifying
/// a new risk adds its risk types to the household's, audited.
#[tokio::test]
async fn a_warning_on_a_monitored_household_is_a_new_risk_not_a_lead() {
    use zhenxing_core::warning::{InboxPolicy, WarningChannel, WarningKind, WarningStep};
    use zhenxing_store::Outcome;
    use zhenxing_store::warnings::{self, InboxQuery, Raised, Report, StepRequest};
    testing::each_backend(async |db: &Db| {
        let rules = current(db).await;
        // Both below the threshold: the screening flags both; CK-M1 is monitored already.
        write(
            db,
            vec![
                household("CK-M1", VILLAGE, "500229199001011231", 3_000),
                household("CK-M2", VILLAGE, "500229199001011258", 3_000),
            ],
        )
        .await;
        testing::execute_raw(
            db,
            "UPDATE households SET monitoring_category = 'sudden_hardship' \
             WHERE household_no = 'CK-M1'",
        )
        .await
        .unwrap();
        testing::set_monitoring_dates(db, "CK-M1", Some(date!(2026 - 03 - 10)), "illness", None)
            .await;
        assert_eq!(screen(db, &rules, None).await.opened, 2);
        let village = DivisionCode::parse(VILLAGE).unwrap();
        let (officer, cadre) = inbox_people(db).await;
        let today = zhenxing_core::china_time::today_in_china();
        let of_kind = async |kind: WarningKind| -> Vec<String> {
            let query = InboxQuery {
                kind: Some(kind),
                limit: 50,
                ..Default::default()
            };
            warnings::inbox(db, &officer.scope(), &query, today)
                .await
                .unwrap()
                .into_iter()
                .map(|r| format!("{} {}", r.household_no, r.kind))
                .collect()
        };
        assert_eq!(
            of_kind(WarningKind::MonitoredRisk).await,
            ["CK-M1 monitored_risk"]
        );
        assert_eq!(of_kind(WarningKind::Lead).await, ["CK-M2 lead"]);
        let counts = warnings::inbox_counts(db, &officer.scope(), today)
            .await
            .unwrap();
        assert_eq!(
            (
                counts.new,
                counts.active_leads,
                counts.active_monitored_risks
            ),
            (2, 1, 1)
        );

        // A cadre's visit on the monitored household: a new risk too.
        let report = Report {
            household_no: "CK-M1".into(),
            channel: WarningChannel::Visit,
            on: today,
            risks: vec![
                zhenxing_core::monitoring::RiskType::Accident,
                zhenxing_core::monitoring::RiskType::Illness,
            ],
            category: None,
            note: "户主务工时摔伤骨折".into(),
        };
        let policy = InboxPolicy::default();
        let Some(Raised::Opened(id)) = warnings::report(db, &cadre, &report, &policy)
            .await
            .unwrap()
        else {
            panic!("the visit raised no warning");
        };
        let w = warnings::warning(db, &officer.scope(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(w.kind(), Some(WarningKind::MonitoredRisk));

        // Verified: the accident joins the household's risk types, after its own illness.
        let verify = StepRequest {
            warning_id: id,
            expected_version: w.row_version,
            step: WarningStep::Verify {
                note: "入户核实属实，需要康复期帮扶".into(),
            },
            assignee: None,
        };
        let done = warnings::take_step(db, &officer, &verify, &policy)
            .await
            .unwrap();
        assert!(matches!(done, Outcome::Done(_)), "{done:?}");
        let text = async |sql: &str| -> String {
            match db {
                Db::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_one(pool)
                    .await
                    .unwrap(),
                Db::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_one(pool)
                    .await
                    .unwrap(),
            }
        };
        assert_eq!(
            text("SELECT risk_types FROM households WHERE household_no = 'CK-M1'").await,
            "illness,accident"
        );
        assert_eq!(
            text(
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_items \
                  WHERE action = 'household.monitoring' AND object_id = 'CK-M1'"
            )
            .await,
            "1"
        );

        // The statistics count the kinds apart: two new risks (one still to handle), one lead.
        let figures = zhenxing_store::rollups::division_figures(db, &village, today)
            .await
            .unwrap();
        let entries: HashMap<String, i64> = figures.entries().into_iter().collect();
        assert_eq!(entries["warnings.kind.monitored_risk"], 2);
        assert_eq!(entries["warnings.kind.monitored_risk.active"], 1);
        assert_eq!(entries["warnings.kind.lead"], 1);
        assert_eq!(entries["warnings.kind.lead.active"], 1);
        testing::assert_chain_intact(db).await;
    })
    .await;
}
