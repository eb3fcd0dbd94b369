//! Screening checks and what-if as the CLI and the monitoring pages run them, on SQLite and
//! (with `TEST_DATABASE_URL`) PostgreSQL, over the four fixture households: the divisions come
//! named per level asked for, their counts add up to the total, and the households listed as
//! entering or leaving are the ones counted.

use crate::support::fixture_registry;
use zhenxing_app::monitoring::pass::{Named, PassError, no_progress};
use zhenxing_app::monitoring::{self, WhatIfRequest};
use zhenxing_core::{DivisionCode, DivisionLevel, Fen};
use zhenxing_engine::WhatIfCounts;
use zhenxing_store::{Db, testing};

fn sum(rows: &[Named]) -> WhatIfCounts {
    let mut total = WhatIfCounts::default();
    for r in rows {
        total.add(&r.counts);
    }
    total
}

#[tokio::test]
async fn whatif_names_its_divisions_and_lists_who_moves() {
    testing::each_backend(async |db: &Db| {
        fixture_registry(db).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();
        let rule_set = monitoring::rule_set_for(db, None, None).await.unwrap();
        let current = monitoring::current_threshold(&rule_set);
        assert!(current > Fen::ZERO);

        // A threshold above every household's income: all four are in range.
        let levels = [DivisionLevel::County, DivisionLevel::Township];
        let everyone = monitoring::whatif(
            db,
            &WhatIfRequest {
                rule_set: &rule_set,
                scope: None,
                proposed: Fen::from_yuan(1_000_000),
                levels: &levels,
                changes: true,
            },
            &no_progress,
        )
        .await
        .unwrap();
        assert_eq!(everyone.current, current);
        assert_eq!((everyone.total.households, everyone.total.members), (4, 12));
        assert_eq!(everyone.levels.len(), 2);
        for (level, rows) in &everyone.levels {
            assert_eq!(sum(rows), everyone.total, "{level:?} adds up to the total");
        }
        let (_, counties) = &everyone.levels[0];
        let chengkou = counties.iter().find(|r| r.code == "500229000000").unwrap();
        assert_eq!(chengkou.name_zh, "城口县");
        assert_eq!(chengkou.counts.households, 2);
        let entering: Vec<&str> = everyone
            .changes
            .iter()
            .filter(|c| c.entering)
            .map(|c| c.household_no.as_str())
            .collect();
        assert_eq!(entering.len() as u64, everyone.total.households_entering);
        assert!(everyone.changes.iter().all(|c| c.village.len() == 12));

        // One county, by village, without the list.
        let chengkou_code = DivisionCode::parse("500229000000").unwrap();
        let rule_set = monitoring::rule_set_for(db, Some(&chengkou_code), None)
            .await
            .unwrap();
        let county = monitoring::whatif(
            db,
            &WhatIfRequest {
                rule_set: &rule_set,
                scope: Some(&chengkou_code),
                proposed: Fen::from_yuan(1_000_000),
                levels: &[DivisionLevel::Village],
                changes: false,
            },
            &no_progress,
        )
        .await
        .unwrap();
        assert_eq!(county.total.households, 2);
        assert!(county.changes.is_empty());
        let (_, villages) = &county.levels[0];
        assert!(villages.iter().all(|v| v.code.starts_with("500229")));
        assert_eq!(sum(villages), county.total);
    })
    .await;
}

#[tokio::test]
async fn a_division_not_in_the_registry_or_a_year_without_rules_stops_before_anything_runs() {
    testing::each_backend(async |db: &Db| {
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();
        let nowhere = DivisionCode::parse("500229999000").unwrap();
        match monitoring::rule_set_for(db, Some(&nowhere), None).await {
            Err(PassError::Stopped(why)) => {
                assert!(why.en.contains("500229999000"), "{}", why.en)
            }
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("a division not in the registry was accepted"),
        }
        match monitoring::rule_set_for(db, None, Some(1999)).await {
            Err(PassError::Stopped(why)) => assert!(why.en.contains("1999"), "{}", why.en),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("a rule set for 1999"),
        }
    })
    .await;
}
