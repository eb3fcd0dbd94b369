//! The live roll-ups and the monthly snapshots on a generated registry, on every backend:
//! children add up to their parent figure by figure, and a snapshot holds the same key figures
//! as the roll-ups.

#[path = "support/generated.rs"]
mod generated;

use generated::{generate, sprinkle};
use time::{Date, Duration};
use zhenxing_core::id_number::today_in_china;
use zhenxing_core::{DivisionCode, DivisionLevel};
use zhenxing_store::rollups::{self, Figures};
use zhenxing_store::snapshots::{self, KeyFigures, Month};
use zhenxing_store::{Db, testing};

const MUNICIPALITY: &str = "500000000000";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).expect("a division code")
}

fn value(entries: &[(String, i64)], key: &str) -> i64 {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|e| e.1)
        .unwrap_or_else(|| panic!("no figure {key}"))
}

/// Every figure of the parent equals the sum of its children's.
async fn check_children_add_up(db: &Db, parent: &DivisionCode, today: Date) -> Figures {
    let whole = rollups::division_figures(db, parent, today)
        .await
        .expect("figures");
    let children = rollups::children_figures(db, parent, today)
        .await
        .expect("children");
    assert!(!children.is_empty(), "{parent} has children");
    let expected = whole.entries();
    for (key, total) in &expected {
        // A county is a former poverty county; its townships are not.
        if key == "seed.former_poverty_counties" && parent.level() != DivisionLevel::Province {
            continue;
        }
        let sum: i64 = children
            .iter()
            .map(|c| value(&c.figures.entries(), key))
            .sum();
        assert_eq!(sum, *total, "{parent}: {key}");
    }
    for c in &children {
        assert_eq!(
            c.figures.entries().len(),
            expected.len(),
            "{}: the same figures",
            c.code
        );
    }
    whole
}

#[tokio::test]
async fn children_add_up_to_their_parent_and_snapshots_match() {
    testing::each_backend(async |db| {
        let today = today_in_china();
        generate(db, today).await;
        sprinkle(db, today).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .expect("rule sets");

        let city = check_children_add_up(db, &code(MUNICIPALITY), today).await;
        let e = city.entries();
        // The figures are not all zero: every part of the roll-up is exercised.
        for key in [
            "lifted_out.households",
            "ordinary.members",
            "monitored.households",
            "risk.not_eliminated.households",
            "risk.by_assistance.households",
            "risk.naturally.households",
            "risk.method_unknown.households",
            "risk_type.illness.households",
            "risk_type.unrecorded.households",
            "warnings.new",
            "warnings.closed",
            "cases.overdue",
            "coverage.monitored",
            "measures.health.implemented.count",
            "income.at_or_below_threshold.households",
            "seed.former_poverty_villages",
            "seed.former_poverty_counties",
        ] {
            assert!(value(&e, key) > 0, "{key} is zero");
        }
        let households = city.lifted_out.households + city.ordinary.households;
        assert_eq!(
            city.income
                .buckets
                .iter()
                .map(|b| b.count.households)
                .sum::<i64>(),
            households
        );
        assert_eq!(
            city.income.threshold_fen,
            Some(600_000),
            "the 2021 threshold, 6,000 yuan"
        );
        assert_eq!(
            city.monitored_by_category
                .iter()
                .map(|c| c.1.households)
                .sum::<i64>(),
            city.monitored.households
        );
        let s = city.risk_status;
        assert_eq!(
            s.not_eliminated.households + s.eliminated().households,
            city.monitored.households
        );
        assert_eq!(city.coverage.monitored, city.monitored.households);
        assert_eq!(
            city.active_warnings(),
            value(&e, "warnings.new") + value(&e, "warnings.assigned")
        );

        // The month's procedures seen from today: in progress and overdue are the live figures.
        let first = Month::of(today).first_day().expect("a day");
        let months = rollups::case_timeliness(db, &code(MUNICIPALITY), first, today, today)
            .await
            .expect("timeliness");
        assert!(months.iter().all(|(p, _)| p.len() == 6), "keyed by county");
        let mut t = rollups::CaseTimeliness::default();
        for (_, f) in &months {
            t.add(f);
        }
        assert_eq!(t.in_progress, city.open_cases_total());
        assert_eq!(t.overdue, city.overdue_cases);
        assert!(t.overdue > 0);
        assert!(t.completed > 0 && t.rejected_or_withdrawn > 0, "{t:?}");

        // Down the tree: the county with the most monitored households, then its busiest township.
        let counties = rollups::children_figures(db, &code(MUNICIPALITY), today)
            .await
            .expect("counties");
        let county = counties
            .iter()
            .max_by_key(|c| c.figures.monitored.households)
            .expect("a county");
        check_children_add_up(db, &code(&county.code), today).await;
        let townships = rollups::children_figures(db, &code(&county.code), today)
            .await
            .expect("townships");
        let township = townships
            .iter()
            .max_by_key(|c| c.figures.monitored.households)
            .expect("a township");
        check_children_add_up(db, &code(&township.code), today).await;

        // Snapshots: the same key figures as the live roll-ups, taken again = replaced.
        let month = Month::of(today);
        let first = snapshots::take(db, "test", month, today)
            .await
            .expect("taken")
            .expect("allowed");
        assert_eq!(first.replaced, 0);
        assert!(
            first.rows > 1_000,
            "{} rows: municipality, counties, townships",
            first.rows
        );
        let again = snapshots::take(db, "test", month, today)
            .await
            .expect("taken")
            .expect("allowed");
        assert_eq!(again.replaced as usize, first.rows);
        assert_eq!(again.rows, first.rows);
        for division in [code(MUNICIPALITY), code(&county.code), code(&township.code)] {
            let series = snapshots::series(db, &division, month, 12)
                .await
                .expect("a series");
            assert_eq!(series.len(), 1, "{division}");
            let live = rollups::division_figures(db, &division, today)
                .await
                .expect("figures");
            assert_eq!(
                series[0].figures,
                KeyFigures::from_figures(&live),
                "{division}"
            );
            assert_eq!(series[0].month, month);
            assert_eq!(series[0].as_of, today);
        }
        let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'snapshot.take'";
        let ops: i64 = match db {
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .expect("audit count");
        assert_eq!(ops, 2, "one audited operation per take");
        assert!(
            zhenxing_store::audit::verify(db)
                .await
                .expect("verify")
                .problems
                .is_empty()
        );

        // Months that cannot be taken are refused, and nothing changes.
        let next = Month::of(month.last_day().expect("a day") + Duration::days(1));
        assert!(
            snapshots::take(db, "test", next, today)
                .await
                .expect("no error")
                .is_err()
        );
        let old = month.previous().previous();
        assert!(
            snapshots::take(db, "test", old, today)
                .await
                .expect("no error")
                .is_err()
        );
        assert!(
            snapshots::series(db, &code(MUNICIPALITY), old, 1)
                .await
                .expect("a series")
                .is_empty()
        );
    })
    .await;
}
