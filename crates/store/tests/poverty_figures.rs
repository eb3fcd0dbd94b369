//! The poverty measures of a division, on every backend, against figures worked by hand.

use zhenxing_core::DivisionCode;
use zhenxing_core::china_time::today_in_china;
use zhenxing_store::poverty_figures::poverty_figures;
use zhenxing_store::testing::{self, test_household, test_id_number};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[tokio::test]
async fn fgt_and_the_multidimensional_index_of_a_county() {
    testing::each_backend(async |db| {
        let today = today_in_china();
        let county = DivisionCode::parse("500229000000").expect("a code");
        // No rule set in force: no threshold, no measures.
        let none = poverty_figures(db, &county, today).await.expect("figures");
        assert_eq!(none.threshold, None);
        assert!(none.fgt.is_none() && none.multidimensional.is_none());

        // Four one-person households in 城口县 against 6,000 yuan: 3,000 (income-poor, gap 1/2);
        // 6,000 (at the threshold: poor, gap 0); 9,000 in unsafe housing (score 2 of 18, not
        // poor); 12,000 with unsafe water and no medical insurance (3 + 2 = 5 < 6, not poor).
        // One household of 巫溪县 at 1,000 yuan must not count.
        let mut drafts = vec![
            test_household("P1", "500229102202", &test_id_number(1), 3_000),
            test_household("P2", "500229102202", &test_id_number(2), 6_000),
            test_household("P3", "500229104201", &test_id_number(3), 9_000),
            test_household("P4", "500229104201", &test_id_number(4), 12_000),
            test_household("P5", "500238101203", &test_id_number(5), 1_000),
        ];
        drafts[2].housing_safe = Some(false);
        drafts[3].water_safe = Some(false);
        drafts[3].members[0].medical_insurance = false;
        testing::write_test_households(db, drafts).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .expect("rule sets");

        let f = poverty_figures(db, &county, today).await.expect("figures");
        assert_eq!(f.threshold.map(|t| t.0), Some(600_000));
        let fgt = f.fgt.expect("FGT");
        assert_eq!((fgt.people, fgt.poor_people), (4, 2));
        // P0 = 2/4; P1 = (1/2 + 0)/4; P2 = (1/4 + 0)/4.
        assert!(close(fgt.p0, 0.5), "{fgt:?}");
        assert!(close(fgt.p1, 0.125), "{fgt:?}");
        assert!(close(fgt.p2, 0.0625), "{fgt:?}");
        let af = f.multidimensional.expect("AF");
        // Poor: the two income-poor (score 6 each). H = 2/4, A = 12/(2 × 18), M0 = 1/6.
        assert_eq!((af.people, af.poor_people), (4, 2));
        assert!(close(af.h, 0.5), "{af:?}");
        assert!(close(af.a, 1.0 / 3.0), "{af:?}");
        assert!(close(af.m0, 1.0 / 6.0), "{af:?}");
        // Food and clothing and schooling are not in the registry: unknown for everybody.
        assert_eq!(af.people_with_unknown, 4);

        // The municipality counts 巫溪县's household too: 3 of 5 poor.
        let city = DivisionCode::parse("500000000000").expect("a code");
        let all = poverty_figures(db, &city, today).await.expect("figures");
        let fgt = all.fgt.expect("FGT");
        assert_eq!((fgt.people, fgt.poor_people), (5, 3));
    })
    .await;
}
