#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Incomes by completed year (`household_incomes`, `zhenxing_store::incomes`), on SQLite and
//! (with `TEST_DATABASE_URL`) PostgreSQL: the rows written in bulk read back for the household
//! page within a scope; the monitoring loader joins last year's per-capita figure to each
//! household; a household registered in another county takes its years along; and a
//! screening with `income_drop` switched on warns of a drop from 10,000 to 5,000 yuan, and not
//! without last year's row.

use time::macros::date;
use zhenxing_core::history::YearIncome;
use zhenxing_core::monitoring::{CHONGQING, HouseholdFacts, RuleId};
use zhenxing_core::*;
use zhenxing_store::monitoring::{self, ScreeningResult, ScreeningRun};
use zhenxing_store::{Db, incomes, testing};

use testing::{test_household as household, test_id_number, write_test_households as write};

const VILLAGE: &str = "500229102202";
const OTHER_COUNTY_VILLAGE: &str = "500230001001";
const TODAY: time::Date = date!(2026 - 11 - 29);

fn year(no: &str, year: i32, per_capita_yuan: i64, members: u32, dibao: u32) -> YearIncome {
    YearIncome {
        household_no: no.to_owned(),
        year,
        net_income: Fen::from_yuan(per_capita_yuan * i64::from(members)),
        per_capita_net: Fen::from_yuan(per_capita_yuan),
        members,
        dibao_members: dibao,
    }
}

/// Writes `rows` of the county `county` in one audited operation; returns its sequence number.
async fn write_years(db: &Db, county: &str, rows: &[YearIncome]) -> i64 {
    zhenxing_store::testing::write_years(db, county, rows)
        .await
        .unwrap()
}

fn scope_of(code: &str) -> Scope {
    Scope::new(DivisionCode::parse(code).unwrap())
}

/// `(household number, last year's per-capita net income)` of every household, as the
/// monitoring pass loads them.
async fn previous(db: &Db, year: Option<i32>) -> Vec<(String, Option<i64>)> {
    let mut out = Vec::new();
    monitoring::load_households(db, None, year, |h| {
        out.push((h.household_no.to_owned(), h.previous_per_capita_net_income));
    })
    .await
    .unwrap();
    out.sort();
    out
}

#[tokio::test]
async fn years_written_in_bulk_read_back_within_the_scope() {
    testing::each_backend(async |db| {
        write(
            db,
            vec![
                household("CK-1", VILLAGE, &test_id_number(1), 8_000),
                household("CK-2", VILLAGE, &test_id_number(2), 9_000),
                household("WX-1", OTHER_COUNTY_VILLAGE, &test_id_number(3), 7_000),
            ],
        )
        .await;
        // Out of order, and more rows than one statement would want on SQLite's side.
        let mut rows = vec![
            year("CK-1", 2025, 10_000, 1, 0),
            year("CK-1", 2023, 8_500, 2, 2),
            year("CK-1", 2024, 9_250, 1, 1),
        ];
        rows.extend((1..=1_200).map(|i| year(&format!("GONE-{i}"), 2025, 6_000 + i, 3, 0)));
        let seq = write_years(db, "500229", &rows).await;
        write_years(db, "500230", &[year("WX-1", 2025, 3_000, 1, 1)]).await;

        let all = scope_of(CHONGQING);
        let ck1 = incomes::of_household(db, &all, "CK-1").await.unwrap();
        assert_eq!(ck1, vec![rows[1].clone(), rows[2].clone(), rows[0].clone()]);
        assert!(
            incomes::of_household(db, &all, "CK-2")
                .await
                .unwrap()
                .is_empty()
        );
        // Outside the scope, or not registered: nothing.
        assert!(
            incomes::of_household(db, &scope_of("500230000000"), "CK-1")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            incomes::of_household(db, &scope_of("500229102000"), "CK-1")
                .await
                .unwrap()
                .len(),
            3
        );
        assert!(
            incomes::of_household(db, &all, "GONE-1")
                .await
                .unwrap()
                .is_empty()
        );

        // The operation is named on every row, and the chain holds.
        let seqs: Vec<i64> = match db {
            Db::Sqlite(p) => sqlx::query_scalar(
                "SELECT DISTINCT recorded_seq FROM household_incomes WHERE county_code = '500229'",
            )
            .fetch_all(p)
            .await
            .unwrap(),
            Db::Postgres(p) => sqlx::query_scalar(
                "SELECT DISTINCT recorded_seq FROM household_incomes WHERE county_code = '500229'",
            )
            .fetch_all(p)
            .await
            .unwrap(),
        };
        assert_eq!(seqs, vec![seq]);
        testing::assert_chain_intact(db).await;

        // A second row for a household's year is refused, with everything else of the write.
        let mut tx = db.begin_write().await.unwrap();
        assert!(
            incomes::write_years(
                &mut tx,
                "500229",
                seq,
                &[year("CK-2", 2025, 1, 1, 0), rows[0].clone()]
            )
            .await
            .is_err()
        );
        tx.rollback().await.unwrap();
        assert!(
            incomes::of_household(db, &all, "CK-2")
                .await
                .unwrap()
                .is_empty()
        );

        // The monitoring loader: last year's figure, in the same scan.
        assert_eq!(
            previous(db, Some(2025)).await,
            vec![
                ("CK-1".into(), Some(1_000_000)),
                ("CK-2".into(), None),
                ("WX-1".into(), Some(300_000)),
            ]
        );
        assert_eq!(
            previous(db, Some(2024)).await,
            vec![
                ("CK-1".into(), Some(925_000)),
                ("CK-2".into(), None),
                ("WX-1".into(), None),
            ]
        );
        assert!(previous(db, None).await.iter().all(|(_, p)| p.is_none()));
    })
    .await;
}

#[tokio::test]
async fn a_household_moving_county_takes_its_years_along() {
    testing::each_backend(async |db| {
        let id = test_id_number(4);
        write(db, vec![household("CK-9", VILLAGE, &id, 8_000)]).await;
        write_years(
            db,
            "500229",
            &[
                year("CK-9", 2024, 7_000, 1, 0),
                year("CK-9", 2025, 9_000, 1, 0),
            ],
        )
        .await;
        // Registered again, in a village of 巫溪县.
        write(
            db,
            vec![household("CK-9", OTHER_COUNTY_VILLAGE, &id, 8_000)],
        )
        .await;
        let years = incomes::of_household(db, &scope_of("500230000000"), "CK-9")
            .await
            .unwrap();
        assert_eq!(
            years.iter().map(|y| y.year).collect::<Vec<_>>(),
            vec![2024, 2025]
        );
        assert_eq!(
            previous(db, Some(2025)).await,
            vec![("CK-9".into(), Some(900_000))]
        );
        // A change within the county leaves them where they are.
        write(
            db,
            vec![household("CK-9", OTHER_COUNTY_VILLAGE, &id, 8_500)],
        )
        .await;
        assert_eq!(
            incomes::of_household(db, &scope_of(CHONGQING), "CK-9")
                .await
                .unwrap()
                .len(),
            2
        );
    })
    .await;
}

/// The screening of the store's tests (load, classify, write), with last year's incomes.
async fn screen(db: &Db, rules: &monitoring::StoredRuleSet) {
    let prepared = rules.rules.prepare(TODAY);
    let mut results = Vec::new();
    let evaluated = monitoring::load_households(db, None, Some(TODAY.year() - 1), |h| {
        let facts = HouseholdFacts {
            household_type: HouseholdType::from_code(h.household_type).unwrap(),
            per_capita_net_income: Fen(h.per_capita_net_income),
            previous_per_capita_net_income: h.previous_per_capita_net_income.map(Fen),
            out_of_pocket: Fen(h.out_of_pocket),
            housing_safe: h.housing_safe,
            water_safe: h.water_safe,
            disaster_loss: None,
            members: &[],
        };
        let a = prepared.classify(&facts);
        results.extend(ScreeningResult::new(h.household_no, h.division_code, &a));
    })
    .await
    .unwrap();
    let run = ScreeningRun {
        rule_set: rules,
        scope: None,
        evaluated,
        actor: "test",
    };
    monitoring::apply_screening(db, &run, results)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_income_drop_from_last_year_raises_a_warning_when_the_rule_is_on() {
    testing::each_backend(async |db| {
        monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();
        let mut rules = monitoring::current_rule_set(db, CHONGQING, 2026)
            .await
            .unwrap()
            .unwrap()
            .rules;
        if let Some(d) = rules.triggers.income_drop.as_mut() {
            d.enabled = true;
        }
        let rules = monitoring::add_rule_set(db, rules, "test")
            .await
            .unwrap()
            .unwrap();
        // 10,000 last year, 5,000 now; 5,000 now and no row for last year; 20,000 to 12,000
        // (above the threshold: the drop alone); 20,000 to 18,000 (10 %: no drop).
        write(
            db,
            vec![
                household("CK-1", VILLAGE, &test_id_number(1), 5_000),
                household("CK-2", VILLAGE, &test_id_number(2), 5_000),
                household("CK-3", VILLAGE, &test_id_number(3), 12_000),
                household("CK-4", VILLAGE, &test_id_number(4), 18_000),
                household("CK-5", VILLAGE, &test_id_number(5), 12_000),
            ],
        )
        .await;
        write_years(
            db,
            "500229",
            &[
                year("CK-1", 2025, 10_000, 1, 0),
                // A year before last does not count.
                year("CK-2", 2024, 10_000, 1, 0),
                year("CK-3", 2025, 20_000, 1, 0),
                year("CK-4", 2025, 20_000, 1, 0),
            ],
        )
        .await;
        screen(db, &rules).await;
        let mut warnings = monitoring::warnings(db, None, true).await.unwrap();
        warnings.sort_by(|a, b| a.household_no.cmp(&b.household_no));
        let drop = RuleId::IncomeDrop.code();
        let with_drop: Vec<&str> = warnings
            .iter()
            .filter(|w| w.reasons.contains(&format!("\"rule\":\"{drop}\"")))
            .map(|w| w.household_no.as_str())
            .collect();
        assert_eq!(with_drop, vec!["CK-1", "CK-3"], "{warnings:#?}");
        let warned: Vec<&str> = warnings.iter().map(|w| w.household_no.as_str()).collect();
        assert_eq!(warned, vec!["CK-1", "CK-2", "CK-3"], "CK-2 for its income");
        let ck1 = &warnings[0];
        assert!(
            ck1.reasons.contains("10000.00") && ck1.reasons.contains("5000.00"),
            "{}",
            ck1.reasons
        );
        let ck3 = &warnings[2];
        assert_eq!(ck3.category.as_deref(), Some("sudden_hardship"));
    })
    .await;
}
