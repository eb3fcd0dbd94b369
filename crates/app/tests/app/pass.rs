//! The shared monitoring pass against a real database: SQLite always, PostgreSQL too when
//! `TEST_DATABASE_URL` names a server. The registry is the four households of
//! `fixtures/registry/good-utf8.csv`; every expectation is computed here from the parsed file
//! with core's own classification, not from the engine's snapshot. (The pass moved here from
//! `zhenxing-engine` with its code, issue 16.)

use crate::support::request;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;
use time::macros::date;
use zhenxing_app::monitoring::pass::{self, PassError, Phase, Progress};
use zhenxing_core::household::Household;
use zhenxing_core::monitoring::{HouseholdFacts, MemberFacts, RuleSet};
use zhenxing_core::{DivisionCode, DivisionLevel, Fen};
use zhenxing_store::Db;
use zhenxing_store::monitoring::{self, StoredRuleSet, WarningRecord};
use zhenxing_store::registry::MonitoringPermission;
use zhenxing_store::testing;

const TODAY: time::Date = date!(2026 - 11 - 29);

fn fixture() -> Vec<Household> {
    let path = crate::support::fixture("registry", "good-utf8.csv");
    let parsed = zhenxing_io::registry::parse_registry(&path, TODAY, &|_| {});
    assert!(parsed.report.problems.is_empty());
    parsed.households
}

async fn registry(db: &Db) -> Vec<Household> {
    let households = fixture();
    // The fixture's monitored household, registered before zhenxing.
    let request = request(MonitoringPermission::LegacyMonitoring);
    db.write_households(&households, &request, &|_| {})
        .await
        .unwrap();
    monitoring::ensure_builtin_rule_sets(db, "test")
        .await
        .unwrap();
    households
}

/// A valid resident ID number of 城口县, born 1980-01-01, with sequence number `n` (< 1000).
/// `n` more one-person households at 5,000 yuan a year (all at risk under 6,000), made from
/// the fixture's WX0002 with new numbers and people: enough for a write that takes a while.
async fn more_households(db: &Db, n: u32) {
    let template = fixture().pop().unwrap();
    let households =
        testing::one_person_households(&template, "CUT", "500229102202", 5_000, n, TODAY).unwrap();
    let request = request(MonitoringPermission::ProceduresOnly);
    db.write_households(&households, &request, &|_| {})
        .await
        .unwrap();
}

async fn rules_2021(db: &Db) -> StoredRuleSet {
    pass::rule_set_in_force(db, Some(2021)).await.unwrap()
}

/// The households that raise a warning under `rules`, by core's classification of the parsed
/// households, optionally within a division.
fn expected_warnings(
    households: &[Household],
    rules: &RuleSet,
    scope: Option<&str>,
) -> BTreeSet<String> {
    let prepared = rules.prepare(TODAY);
    households
        .iter()
        .filter(|h| scope.is_none_or(|s| h.division.as_str().starts_with(s)))
        .filter(|h| {
            let members = MemberFacts::of(h);
            prepared
                .classify(&HouseholdFacts::of(h, &members))
                .raises_warning()
        })
        .map(|h| h.household_no.as_str().to_owned())
        .collect()
}

fn open_households(warnings: &[WarningRecord]) -> BTreeSet<String> {
    warnings
        .iter()
        .filter(|w| matches!(w.status.as_str(), "new" | "assigned"))
        .map(|w| w.household_no.clone())
        .collect()
}

#[tokio::test]
async fn a_run_writes_the_warnings_core_expects_and_reports_its_progress() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        eprintln!("backend: {}", db.backend_name());
        let households = registry(db).await;
        let rs = rules_2021(db).await;
        let seen: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
        let record = |p: Progress| seen.lock().unwrap().push(p);
        let run = pass::screen(db, &rs, None, "test", TODAY, &record)
            .await
            .unwrap();
        let expected = expected_warnings(&households, &rs.rules, None);
        assert!(!expected.is_empty(), "the fixture has a household at risk");
        assert_eq!(run.summary.evaluated, households.len() as u64);
        assert_eq!(run.warned, expected.len() as u64);
        assert_eq!(run.summary.opened, expected.len() as u64);
        let stored = monitoring::warnings(db, None, true).await.unwrap();
        assert_eq!(open_households(&stored), expected);

        // Progress: loading (households and members), then evaluating, then writing.
        let seen = seen.into_inner().unwrap();
        let phases: Vec<Phase> = seen.iter().map(|p| p.phase).collect();
        let members: u64 = households.iter().map(|h| h.members.len() as u64).sum();
        assert_eq!(phases.first(), Some(&Phase::Loading));
        let last_loading = seen.iter().rfind(|p| p.phase == Phase::Loading).unwrap();
        assert_eq!(
            (last_loading.done, last_loading.total),
            (4 + members, 4 + members)
        );
        let order: Vec<Phase> = phases.iter().copied().fold(Vec::new(), |mut v, p| {
            if v.last() != Some(&p) {
                v.push(p);
            }
            v
        });
        assert_eq!(
            order,
            vec![Phase::Loading, Phase::Evaluating, Phase::Writing]
        );
        let writing = seen.iter().find(|p| p.phase == Phase::Writing).unwrap();
        assert_eq!(writing.total, expected.len() as u64);

        // Again: nothing changes.
        let again = pass::screen(db, &rs, None, "test", TODAY, &pass::no_progress)
            .await
            .unwrap();
        assert_eq!(
            (
                again.summary.opened,
                again.summary.updated,
                again.summary.closed
            ),
            (0, 0, 0)
        );
        assert_eq!(again.summary.unchanged, expected.len() as u64);

        // One county: only its households are evaluated.
        let wuxi = DivisionCode::parse("500238000000").unwrap();
        pass::check_scope(db, Some(&wuxi)).await.unwrap();
        let county = pass::screen(db, &rs, Some(&wuxi), "test", TODAY, &pass::no_progress)
            .await
            .unwrap();
        assert_eq!(county.summary.evaluated, 2);
        assert_eq!(
            county.warned,
            expected_warnings(&households, &rs.rules, Some("500238")).len() as u64
        );

        // A division that is not in the registry, and a year before any rule set.
        let nowhere = DivisionCode::parse("500229999999").unwrap();
        let refused = pass::check_scope(db, Some(&nowhere)).await.unwrap_err();
        assert!(
            matches!(&refused, PassError::Stopped(t) if t.en.contains("not in the registry")),
            "{refused}"
        );
        assert!(matches!(
            pass::rule_set_in_force(db, Some(2020)).await,
            Err(PassError::Stopped(_))
        ));
        let report = zhenxing_store::audit::verify(db).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        t.db.close().await;
    }
}

#[tokio::test]
async fn whatif_counts_what_the_households_say() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        let households = registry(db).await;
        let audit_before = zhenxing_store::audit::verify(db).await.unwrap().records;
        let current = Fen::from_yuan(6_000);
        // Exactly one household's income: "at or below" includes it.
        let exact = households[1].per_capita_net_income();
        for proposed in [Fen::from_yuan(12_000), Fen::from_yuan(2_000), exact] {
            let w = pass::whatif(db, None, current, proposed, &pass::no_progress)
                .await
                .unwrap();
            // Independently: per county, from each household's own per-capita income.
            let mut by_county: BTreeMap<String, [u64; 6]> = BTreeMap::new();
            let mut changes = Vec::new();
            for h in &households {
                let income = h.per_capita_net_income();
                let (now, then) = (income <= current, income <= proposed);
                let m = h.members.len() as u64;
                let county = format!("{}000000", &h.division.as_str()[..6]);
                let c = by_county.entry(county).or_default();
                c[0] += u64::from(then);
                c[1] += if then { m } else { 0 };
                c[2] += u64::from(then && !now);
                c[3] += if then && !now { m } else { 0 };
                c[4] += u64::from(now && !then);
                c[5] += if now && !then { m } else { 0 };
                if now != then {
                    changes.push((
                        h.division.as_str().to_owned(),
                        h.household_no.as_str().to_owned(),
                        income,
                        then,
                    ));
                }
            }
            by_county.retain(|_, c| c.iter().any(|v| *v > 0));
            let got: BTreeMap<String, [u64; 6]> = pass::named(db, &w.by(DivisionLevel::County))
                .await
                .unwrap()
                .into_iter()
                .map(|n| {
                    let c = n.counts;
                    (
                        n.code,
                        [
                            c.households,
                            c.members,
                            c.households_entering,
                            c.members_entering,
                            c.households_leaving,
                            c.members_leaving,
                        ],
                    )
                })
                .collect();
            // Counties where nothing is at or below either threshold are left out.
            let got_nonzero: BTreeMap<_, _> = got
                .into_iter()
                .filter(|(_, c)| c.iter().any(|v| *v > 0))
                .collect();
            assert_eq!(got_nonzero, by_county, "threshold {proposed}");
            let total: u64 = by_county.values().map(|c| c[0]).sum();
            assert_eq!(w.total.households, total);
            changes.sort();
            let listed: Vec<_> = w
                .changes()
                .into_iter()
                .map(|c| {
                    (
                        c.village,
                        c.household_no,
                        c.per_capita_net_income,
                        c.entering,
                    )
                })
                .collect();
            assert_eq!(listed, changes, "threshold {proposed}");
        }
        // Names come with the counts; townships and villages group under their county.
        let w = pass::whatif(
            db,
            None,
            current,
            Fen::from_yuan(20_000),
            &pass::no_progress,
        )
        .await
        .unwrap();
        let counties = pass::named(db, &w.by(DivisionLevel::County)).await.unwrap();
        assert!(counties.iter().any(|n| n.name_zh == "城口县"));
        let villages = w.by(DivisionLevel::Village);
        let townships = w.by(DivisionLevel::Township);
        let sum = |m: &BTreeMap<u64, zhenxing_engine::WhatIfCounts>| -> u64 {
            m.values().map(|c| c.households).sum()
        };
        assert_eq!(sum(&villages), w.total.households);
        assert_eq!(sum(&townships), w.total.households);
        assert!(townships.keys().all(|k| k % 1_000 == 0));
        // A division: only its households.
        let chengkou = DivisionCode::parse("500229000000").unwrap();
        let w = pass::whatif(
            db,
            Some(&chengkou),
            current,
            Fen::from_yuan(20_000),
            &pass::no_progress,
        )
        .await
        .unwrap();
        assert_eq!(
            w.total.households,
            households
                .iter()
                .filter(|h| h.division.as_str().starts_with("500229")
                    && h.per_capita_net_income() <= Fen::from_yuan(20_000))
                .count() as u64
        );
        // Nothing was written.
        assert_eq!(
            zhenxing_store::audit::verify(db).await.unwrap().records,
            audit_before
        );
        t.db.close().await;
    }
}

/// A run stopped at any point (its task dropped mid-way, as when the server shuts down)
/// leaves the warnings as they were before it or as they are after it. (A killed process is
/// the database's own rollback of an uncommitted transaction.)
#[tokio::test]
async fn a_run_cut_off_anywhere_leaves_the_warnings_before_or_after() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        eprintln!("backend: {}", db.backend_name());
        registry(db).await;
        more_households(db, 600).await;
        let rs = rules_2021(db).await;
        pass::screen(db, &rs, None, "test", TODAY, &pass::no_progress)
            .await
            .unwrap();
        let before = monitoring::warnings(db, None, false).await.unwrap();
        // A new version with a higher threshold: every open warning is updated (another rule
        // set) and new ones open.
        let mut higher = rs.rules.clone();
        higher.threshold = Some(Fen::from_yuan(15_000));
        let higher = monitoring::add_rule_set(db, higher, "test")
            .await
            .unwrap()
            .unwrap();
        // Cut off after 1 ms, 2 ms, ... (the timer's resolution), then 5 % longer each time,
        // until a run finishes.
        let mut seen = Vec::new();
        let mut cut = 0;
        let mut cut_while_writing = 0;
        let mut finished = false;
        let mut after_ms = 1u64;
        while after_ms < 60_000 {
            let phase: Mutex<Option<Phase>> = Mutex::new(None);
            let outcome = tokio::time::timeout(
                Duration::from_millis(after_ms),
                pass::screen(db, &higher, None, "test", TODAY, &|p: Progress| {
                    *phase.lock().unwrap() = Some(p.phase)
                }),
            )
            .await;
            match outcome {
                Err(_) => {
                    cut += 1;
                    if *phase.lock().unwrap() == Some(Phase::Writing) {
                        cut_while_writing += 1;
                    }
                }
                Ok(result) => {
                    result.unwrap();
                    finished = true;
                }
            }
            seen.push(monitoring::warnings(db, None, false).await.unwrap());
            if finished {
                break;
            }
            after_ms = (after_ms + 1).max(after_ms * 21 / 20);
        }
        eprintln!("cut off {cut} times ({cut_while_writing} while writing) before a run finished");
        assert!(cut > 0, "some runs were cut off");
        assert!(
            cut_while_writing > 0,
            "some runs were cut off while writing"
        );
        assert!(finished, "a run given enough polls finishes");
        let after = monitoring::warnings(db, None, false).await.unwrap();
        assert_ne!(before, after, "the higher threshold changes the warnings");
        for (i, state) in seen.iter().enumerate() {
            assert!(
                *state == before || *state == after,
                "after cutting run {} off, the warnings are half written",
                i + 1
            );
        }
        let report = zhenxing_store::audit::verify(db).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        t.db.close().await;
    }
}

/// Writes completed years of households of 城口县 in one audited operation.
async fn write_years(db: &Db, rows: &[zhenxing_core::history::YearIncome]) {
    zhenxing_store::testing::write_years(db, "500229", rows)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_pass_compares_with_last_years_income_when_the_drop_rule_is_on() {
    use zhenxing_core::history::YearIncome;
    use zhenxing_core::monitoring::RuleId;
    testing::each_backend(async |db: &Db| {
        monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();
        let mut rules = pass::rule_set_in_force(db, Some(2026)).await.unwrap().rules;
        if let Some(d) = rules.triggers.income_drop.as_mut() {
            d.enabled = true;
        }
        monitoring::add_rule_set(db, rules, "test")
            .await
            .unwrap()
            .unwrap();
        let rs = pass::rule_set_in_force(db, Some(2026)).await.unwrap();
        let village = "500229102202";
        let households: Vec<Household> = [("CK-1", 5_000), ("CK-2", 5_000), ("CK-3", 12_000)]
            .iter()
            .enumerate()
            .map(|(i, (no, income))| {
                let id = testing::test_id_number(i as u32 + 1);
                testing::test_household(no, village, &id, *income)
                    .build()
                    .unwrap()
            })
            .collect();
        db.write_households(
            &households,
            &request(MonitoringPermission::ProceduresOnly),
            &|_| {},
        )
        .await
        .unwrap();
        // Last year (the year before TODAY's): 10,000 for CK-1, 20,000 for CK-3; CK-2 has only
        // the year before.
        let year = |no: &str, year: i32, yuan: i64| YearIncome {
            household_no: no.into(),
            year,
            net_income: Fen::from_yuan(yuan),
            per_capita_net: Fen::from_yuan(yuan),
            members: 1,
            dibao_members: 0,
        };
        write_years(
            db,
            &[
                year("CK-1", 2025, 10_000),
                year("CK-2", 2024, 10_000),
                year("CK-3", 2025, 20_000),
            ],
        )
        .await;
        let run = pass::screen(db, &rs, None, "test", TODAY, &pass::no_progress)
            .await
            .unwrap();
        assert_eq!((run.summary.evaluated, run.warned), (3, 3));
        let drop = format!("\"rule\":\"{}\"", RuleId::IncomeDrop.code());
        let mut stored = monitoring::warnings(db, None, true).await.unwrap();
        stored.sort_by(|a, b| a.household_no.cmp(&b.household_no));
        let with_drop: Vec<&str> = stored
            .iter()
            .filter(|w| w.reasons.contains(&drop))
            .map(|w| w.household_no.as_str())
            .collect();
        assert_eq!(with_drop, vec!["CK-1", "CK-3"], "{stored:#?}");
        // CK-2 is warned for its income alone; CK-3, above the threshold, for the drop alone.
        assert!(stored[1].reasons.contains("\"rule\":\"income\""));
        assert_eq!(stored[2].category.as_deref(), Some("sudden_hardship"));
    })
    .await;
}
