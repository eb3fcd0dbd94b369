use super::classify::years_before;
use super::*;
use crate::department::{AllowanceKind, DisasterKind, EnrolmentStatus, HousingGrade, Signal};
use crate::enums::{HouseholdType, Labor, MonitoringCategory, SchoolStatus};
use crate::lang::Text;
use crate::money::Fen;
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 11 - 29);

fn rules() -> RuleSet {
    builtin().remove(0)
}

fn adult() -> MemberFacts {
    MemberFacts {
        birth_date: date!(1980 - 05 - 01),
        school_status: None,
        labor: Labor::Ordinary,
        medical_insurance: true,
        disabled: false,
        seriously_ill: false,
    }
}

fn household(
    kind: HouseholdType,
    per_capita_yuan: i64,
    members: &[MemberFacts],
) -> HouseholdFacts<'_> {
    HouseholdFacts {
        household_type: kind,
        per_capita_net_income: Fen::from_yuan(per_capita_yuan),
        previous_per_capita_net_income: None,
        out_of_pocket: Fen::ZERO,
        housing_safe: Some(true),
        water_safe: Some(true),
        disaster_loss: None,
        members,
    }
}

fn rule_ids(a: &Assessment) -> Vec<RuleId> {
    a.reasons.iter().map(Reason::rule).collect()
}

#[test]
fn builtin_rule_sets_pass_their_check() {
    let sets = builtin();
    assert_eq!(sets.len(), 5);
    for s in &sets {
        assert_eq!(s.check(), Ok(()), "{:?}", s.label());
    }
    assert_eq!(sets[0].threshold, Some(Fen::from_yuan(6_000)));
    assert!(!sets[0].assumed);
    assert!(sets[1..].iter().all(|s| s.assumed));
    assert!(
        sets[1]
            .note
            .as_ref()
            .is_some_and(|n| n.en.contains("ASSUMED"))
    );
}

#[test]
fn a_household_above_the_threshold_without_risk_has_no_assessment() {
    let members = [adult(), adult()];
    let r = rules();
    let a = r
        .prepare(TODAY)
        .classify(&household(HouseholdType::LiftedOut, 6_001, &members));
    assert_eq!(a, Assessment::default());
    assert!(!a.raises_warning());
}

#[test]
fn exactly_at_the_threshold_is_at_or_below() {
    let members = [adult()];
    let r = rules();
    let p = r.prepare(TODAY);
    let a = p.classify(&household(HouseholdType::LiftedOut, 6_000, &members));
    assert_eq!(a.category, Some(MonitoringCategory::UnstableLiftedOut));
    assert_eq!(rule_ids(&a), vec![RuleId::Income]);
    assert_eq!(a.risk_types, vec![RiskType::Other]);
    let text = a.reasons[0].text();
    assert!(
        text.zh.contains("6000.00") && text.zh.contains("第1版"),
        "{text}"
    );
    assert!(
        text.en.contains("rule income, rule set 2021 version 1"),
        "{text}"
    );

    let mut h = household(HouseholdType::Ordinary, 6_000, &members);
    h.per_capita_net_income = Fen(600_001);
    assert_eq!(p.classify(&h), Assessment::default());
    h.per_capita_net_income = Fen(600_000);
    assert_eq!(
        p.classify(&h).category,
        Some(MonitoringCategory::MarginalAtRisk)
    );
}

#[test]
fn medical_spending_by_household_type() {
    let members = [adult()];
    let r = rules();
    let p = r.prepare(TODAY);
    let mut h = household(HouseholdType::LiftedOut, 9_000, &members);
    h.out_of_pocket = Fen::from_yuan(5_000);
    let a = p.classify(&h);
    assert_eq!(a.category, Some(MonitoringCategory::SuddenHardship));
    assert_eq!(a.risk_types, vec![RiskType::Illness]);
    assert!(a.reasons[0].text().zh.contains("5000.00"));
    h.out_of_pocket = Fen(499_999);
    assert_eq!(p.classify(&h), Assessment::default());

    let mut h = household(HouseholdType::Ordinary, 9_000, &members);
    h.out_of_pocket = Fen::from_yuan(19_999);
    assert_eq!(p.classify(&h), Assessment::default());
    h.out_of_pocket = Fen::from_yuan(20_000);
    assert_eq!(
        p.classify(&h).category,
        Some(MonitoringCategory::SuddenHardship)
    );
    // Below the threshold as well: the income category wins, the risk is illness.
    h.per_capita_net_income = Fen::from_yuan(3_000);
    let a = p.classify(&h);
    assert_eq!(a.category, Some(MonitoringCategory::MarginalAtRisk));
    assert_eq!(
        rule_ids(&a),
        vec![RuleId::Income, RuleId::MedicalOutOfPocket]
    );
    assert_eq!(a.risk_types, vec![RiskType::Illness]);
}

#[test]
fn child_out_of_school_within_the_ages_only() {
    let r = rules();
    let p = r.prepare(TODAY);
    let child = |born: Date, status: Option<SchoolStatus>| MemberFacts {
        birth_date: born,
        school_status: status,
        ..adult()
    };
    // 7 today (born on this day 7 years ago), not in school.
    let members = [adult(), child(date!(2019 - 11 - 29), None)];
    let a = p.classify(&household(HouseholdType::Ordinary, 9_000, &members));
    assert_eq!(rule_ids(&a), vec![RuleId::ChildOutOfSchool]);
    assert_eq!(a.category, None, "above the threshold, not sudden");
    assert_eq!(a.risk_types, vec![RiskType::Schooling]);
    assert!(a.raises_warning());
    assert!(
        a.reasons[0].text().en.contains("member 2 is 7"),
        "{}",
        a.reasons[0].text()
    );
    // 6 (7 tomorrow), 16 (turned 16 today), or in school: nothing.
    for m in [
        child(date!(2019 - 11 - 30), None),
        child(date!(2010 - 11 - 29), None),
        child(date!(2012 - 01 - 01), Some(SchoolStatus::Grade8)),
        child(date!(2011 - 01 - 01), Some(SchoolStatus::SeniorHigh)),
    ] {
        let members = [adult(), m];
        assert_eq!(
            p.classify(&household(HouseholdType::Ordinary, 9_000, &members)),
            Assessment::default(),
            "{m:?}"
        );
    }
    // 15 (16 tomorrow), recorded below school age: out of school.
    let members = [
        adult(),
        child(date!(2010 - 11 - 30), Some(SchoolStatus::PreschoolAge)),
    ];
    let a = p.classify(&household(HouseholdType::Ordinary, 9_000, &members));
    assert_eq!(rule_ids(&a), vec![RuleId::ChildOutOfSchool]);
}

#[test]
fn housing_water_insurance_and_labour() {
    let r = rules();
    let p = r.prepare(TODAY);
    let members = [adult()];
    let mut h = household(HouseholdType::LiftedOut, 9_000, &members);
    h.housing_safe = Some(false);
    h.water_safe = None;
    let a = p.classify(&h);
    assert_eq!(rule_ids(&a), vec![RuleId::UnsafeHousing]);
    assert_eq!(a.risk_types, vec![RiskType::UnsafeHousing]);
    h.housing_safe = None;
    h.water_safe = Some(false);
    assert_eq!(p.classify(&h).risk_types, vec![RiskType::UnsafeWater]);

    let uninsured = [
        adult(),
        MemberFacts {
            medical_insurance: false,
            ..adult()
        },
    ];
    let a = p.classify(&household(HouseholdType::LiftedOut, 9_000, &uninsured));
    assert_eq!(rule_ids(&a), vec![RuleId::NoMedicalInsurance]);
    assert!(a.reasons[0].text().en.starts_with("1 of 2 members"));

    let none = [
        MemberFacts {
            labor: Labor::NoLabor,
            ..adult()
        },
        MemberFacts {
            labor: Labor::Lost,
            disabled: true,
            ..adult()
        },
    ];
    // Context only: above the threshold, no warning.
    let a = p.classify(&household(HouseholdType::LiftedOut, 9_000, &none));
    assert_eq!(a, Assessment::default());
    let a = p.classify(&household(HouseholdType::LiftedOut, 6_000, &none));
    assert_eq!(
        rule_ids(&a),
        vec![
            RuleId::Income,
            RuleId::NoLaborAbility,
            RuleId::DisabledMember
        ]
    );
    assert_eq!(
        a.risk_types,
        vec![RiskType::LackOfLabor, RiskType::Disability]
    );
    let weak = [
        none[0],
        MemberFacts {
            labor: Labor::Weak,
            ..adult()
        },
    ];
    assert_eq!(
        p.classify(&household(HouseholdType::LiftedOut, 9_000, &weak)),
        Assessment::default()
    );
}

#[test]
fn income_drop_and_disaster_when_enabled() {
    let mut r = rules();
    let members = [adult()];
    let mut h = household(HouseholdType::Ordinary, 7_000, &members);
    h.previous_per_capita_net_income = Some(Fen::from_yuan(10_000));
    h.disaster_loss = Some(Fen::from_yuan(10_000));
    r.triggers.disaster_loss = Some(DisasterTrigger {
        enabled: false,
        loss: Some(Fen::from_yuan(10_000)),
    });
    assert_eq!(
        r.prepare(TODAY).classify(&h),
        Assessment::default(),
        "both off"
    );
    r.triggers.income_drop = Some(IncomeDropTrigger {
        enabled: true,
        percent: Some(30),
    });
    r.triggers.disaster_loss = Some(DisasterTrigger {
        enabled: true,
        loss: Some(Fen::from_yuan(10_000)),
    });
    let a = r.prepare(TODAY).classify(&h);
    assert_eq!(rule_ids(&a), vec![RuleId::IncomeDrop, RuleId::DisasterLoss]);
    assert_eq!(a.category, Some(MonitoringCategory::SuddenHardship));
    assert_eq!(
        a.risk_types,
        vec![RiskType::Other, RiskType::NaturalDisaster]
    );
    assert!(a.reasons[0].text().zh.contains("降幅30%"));
    // 29.99%: not yet; no history: never.
    h.per_capita_net_income = Fen(700_001);
    h.disaster_loss = None;
    assert_eq!(r.prepare(TODAY).classify(&h), Assessment::default());
    h.previous_per_capita_net_income = None;
    h.per_capita_net_income = Fen::from_yuan(100);
    assert_eq!(
        rule_ids(&r.prepare(TODAY).classify(&h)),
        vec![RuleId::Income]
    );
}

#[test]
fn at_most_five_risk_types() {
    let r = rules();
    let members = [
        MemberFacts {
            labor: Labor::NoLabor,
            medical_insurance: false,
            disabled: true,
            seriously_ill: true,
            ..adult()
        },
        MemberFacts {
            birth_date: date!(2015 - 01 - 01),
            labor: Labor::NoLabor,
            ..adult()
        },
    ];
    let mut h = household(HouseholdType::LiftedOut, 1_000, &members);
    h.housing_safe = Some(false);
    h.water_safe = Some(false);
    h.out_of_pocket = Fen::from_yuan(8_000);
    let a = r.prepare(TODAY).classify(&h);
    assert_eq!(a.risk_types.len(), MAX_RISK_TYPES);
    assert_eq!(a.risk_types[0], RiskType::Illness);
    assert_eq!(a.category, Some(MonitoringCategory::UnstableLiftedOut));
    assert!(a.reasons.len() > 6);
}

#[test]
fn check_refuses_missing_and_contradictory_parameters() {
    let mut r = rules();
    r.threshold = Some(Fen::ZERO);
    r.year = 2019;
    r.jurisdiction = "500229102201".into();
    r.triggers.medical_out_of_pocket = Some(MedicalTrigger {
        enabled: true,
        lifted_out: Some(Fen::from_yuan(30_000)),
        others: Some(Fen::from_yuan(20_000)),
    });
    r.triggers.child_out_of_school = Some(SchoolTrigger {
        enabled: true,
        min_age: Some(15),
        max_age: Some(7),
    });
    r.triggers.unsafe_water = None;
    r.triggers.income_drop = Some(IncomeDropTrigger {
        enabled: true,
        percent: None,
    });
    r.triggers.disaster_loss = Some(DisasterTrigger {
        enabled: true,
        loss: Some(Fen(-1)),
    });
    let problems = r.check().unwrap_err();
    let en: Vec<&str> = problems.iter().map(|t| t.en.as_str()).collect();
    for needle in [
        "year 2019 is not between 2021 and 2035",
        "jurisdiction 500229102201 must be",
        "threshold must be above 0",
        "contradict each other: 30000.00 yuan",
        "from 15 is above to 7",
        "'unsafe_water' is missing",
        "parameter percent is missing",
        "loss_yuan of the screening rule 'disaster_loss' must be above 0",
    ] {
        assert!(
            en.iter().any(|e| e.contains(needle)),
            "{needle} not in {en:#?}"
        );
    }
    assert!(problems.iter().all(|t| !t.zh.is_empty()));
    // A disabled trigger needs no parameters.
    let mut r = rules();
    r.triggers.disaster_loss = Some(DisasterTrigger {
        enabled: false,
        loss: None,
    });
    assert_eq!(r.check(), Ok(()));
    assert!(
        RuleSet {
            year: 2023,
            ..rules()
        }
        .check()
        .is_ok()
    );
    let empty = RuleSet {
        year: 0,
        jurisdiction: String::new(),
        version: 0,
        assumed: false,
        note: None,
        threshold: None,
        triggers: Triggers::default(),
    };
    assert_eq!(empty.problems().len(), 3 + 11);
    // A rule set saved before the department triggers existed is read, and evaluates
    // them as off; a new file must name them.
    let mut old = serde_json::to_value(rules()).unwrap();
    for t in ["member_died", "unemployed", "allowance_stopped"] {
        old["triggers"].as_object_mut().unwrap().remove(t);
    }
    let old: RuleSet = serde_json::from_value(old).unwrap();
    assert_eq!(old.triggers.member_died, None);
    let en: Vec<String> = old.problems().into_iter().map(|t| t.en).collect();
    assert_eq!(en.len(), 3, "{en:?}");
    assert!(en[0].contains("'member_died' is missing"), "{en:?}");
    let members = [adult(), adult()];
    let h = household(HouseholdType::Ordinary, 9_000, &members);
    let died = [Signal::Died {
        member: 1,
        date: date!(2026 - 03 - 01),
    }];
    assert_eq!(
        old.prepare(TODAY).classify_department(&h, &died),
        Assessment::default()
    );
    assert!(
        rules()
            .prepare(TODAY)
            .classify_department(&h, &died)
            .raises_warning()
    );
}

#[test]
fn classification_of_a_registered_household() {
    use crate::enums::Relation;
    use crate::household::tests::{draft, member};
    let head = member("50022919900101001X", Relation::Head);
    let mut d = draft(vec![head]);
    d.water_safe = Some(false);
    let h = d.build().unwrap();
    let members = MemberFacts::of(&h);
    let facts = HouseholdFacts::of(&h, &members);
    let r = rules();
    let a = r.prepare(TODAY).classify(&facts);
    // No income at all: at or below the threshold, and unsafe water.
    assert_eq!(a.category, Some(MonitoringCategory::UnstableLiftedOut));
    assert_eq!(rule_ids(&a), vec![RuleId::Income, RuleId::UnsafeWater]);
    assert_eq!(a.risk_types, vec![RiskType::UnsafeWater]);
}

#[test]
fn department_medical_claims_are_summed_by_household_type() {
    let r = rules();
    let p = r.prepare(TODAY);
    let members = [adult(), adult()];
    let claim = |yuan: i64| Signal::OutOfPocket {
        amount: Fen::from_yuan(yuan),
        date: date!(2026 - 10 - 01),
    };
    let lifted = household(HouseholdType::LiftedOut, 9_000, &members);
    // 3,000 + 2,000 reaches 5,000 for a lifted-out household.
    let a = p.classify_department(&lifted, &[claim(3_000), claim(2_000)]);
    assert_eq!(rule_ids(&a), vec![RuleId::MedicalOutOfPocket]);
    assert_eq!(a.category, Some(MonitoringCategory::SuddenHardship));
    assert_eq!(a.risk_types, vec![RiskType::Illness]);
    let source = Text::new("来源：测试", "source: test");
    let text = a.reasons[0].text_from(Some(&source));
    assert!(
        text.zh.contains("合规自付支出合计5000.00元")
            && text.zh.contains("筛查线5000.00元")
            && text.zh.contains("2021年度规则集第1版；来源：测试"),
        "{text}"
    );
    assert!(text.en.contains("2 medical insurance claims"), "{text}");
    assert_eq!(
        p.classify_department(&lifted, &[claim(4_999)]),
        Assessment::default()
    );
    // 19,999 is below 20,000 for an ordinary household; at or below the threshold the
    // income rule decides the category and comes first.
    let ordinary = household(HouseholdType::Ordinary, 9_000, &members);
    assert_eq!(
        p.classify_department(&ordinary, &[claim(19_999)]),
        Assessment::default()
    );
    let poor = household(HouseholdType::Ordinary, 5_000, &members);
    let a = p.classify_department(&poor, &[claim(20_000)]);
    assert_eq!(
        rule_ids(&a),
        vec![RuleId::Income, RuleId::MedicalOutOfPocket]
    );
    assert_eq!(a.category, Some(MonitoringCategory::MarginalAtRisk));
    // The registry's own out-of-pocket figure is the screening's, not added here.
    let mut h = household(HouseholdType::LiftedOut, 9_000, &members);
    h.out_of_pocket = Fen::from_yuan(50_000);
    assert_eq!(p.classify_department(&h, &[]), Assessment::default());
}

#[test]
fn department_signals_each_raise_their_rule() {
    let r = rules();
    let p = r.prepare(TODAY);
    let day = date!(2026 - 09 - 01);
    let child = MemberFacts {
        birth_date: date!(2015 - 05 - 01),
        school_status: Some(SchoolStatus::Primary),
        ..adult()
    };
    let members = [adult(), child, adult()];
    let h = household(HouseholdType::LiftedOut, 9_000, &members);
    let one = |s: Signal| p.classify_department(&h, &[s]);
    let a = one(Signal::Enrolment {
        member: 1,
        status: EnrolmentStatus::DroppedOut,
        date: day,
    });
    assert_eq!(rule_ids(&a), vec![RuleId::ChildOutOfSchool]);
    assert_eq!(a.risk_types, vec![RiskType::Schooling]);
    assert!(
        a.reasons[0].text().zh.contains("第2名成员11岁"),
        "{}",
        a.reasons[0].text()
    );
    // An adult, or a child enrolled: nothing.
    for s in [
        Signal::Enrolment {
            member: 0,
            status: EnrolmentStatus::DroppedOut,
            date: day,
        },
        Signal::Enrolment {
            member: 1,
            status: EnrolmentStatus::Enrolled,
            date: day,
        },
        Signal::Housing {
            grade: HousingGrade::B,
            date: day,
        },
        Signal::Disaster {
            loss: Fen::from_yuan(9_999),
            kind: DisasterKind::Flood,
            date: day,
        },
        Signal::Allowance {
            member: 0,
            kind: AllowanceKind::Dibao,
            stopped: false,
            date: day,
        },
        Signal::Enrolment {
            member: 9,
            status: EnrolmentStatus::DroppedOut,
            date: day,
        },
    ] {
        assert_eq!(one(s), Assessment::default(), "{s:?}");
    }
    let a = one(Signal::Housing {
        grade: HousingGrade::D,
        date: day,
    });
    assert_eq!(rule_ids(&a), vec![RuleId::UnsafeHousing]);
    assert!(a.reasons[0].text().zh.contains("D级危房"));
    let a = p.classify_department(
        &h,
        &[
            Signal::Disaster {
                loss: Fen::from_yuan(6_000),
                kind: DisasterKind::Geological,
                date: day,
            },
            Signal::Disaster {
                loss: Fen::from_yuan(4_000),
                kind: DisasterKind::Flood,
                date: day,
            },
        ],
    );
    assert_eq!(rule_ids(&a), vec![RuleId::DisasterLoss]);
    assert_eq!(a.category, Some(MonitoringCategory::SuddenHardship));
    assert!(
        a.reasons[0].text().zh.contains("地质"),
        "the largest loss's kind"
    );
    let a = one(Signal::Died {
        member: 2,
        date: day,
    });
    assert_eq!(rule_ids(&a), vec![RuleId::MemberDied]);
    assert_eq!(a.risk_types, vec![RiskType::Other]);
    assert_eq!(a.category, None);
    let a = one(Signal::Unemployed {
        member: 0,
        date: day,
    });
    assert_eq!(a.risk_types, vec![RiskType::UnstableEmployment]);
    // Stopped is a signal; granted only explains it.
    let a = p.classify_department(
        &h,
        &[
            Signal::Allowance {
                member: 0,
                kind: AllowanceKind::Dibao,
                stopped: true,
                date: day,
            },
            Signal::Allowance {
                member: 2,
                kind: AllowanceKind::Temporary,
                stopped: false,
                date: day,
            },
        ],
    );
    assert_eq!(
        rule_ids(&a),
        vec![RuleId::AllowanceStopped, RuleId::AllowanceGranted]
    );
    assert!(a.raises_warning());
    // Switched off: nothing.
    let mut off = rules();
    off.triggers.unemployed = Some(Switch { enabled: false });
    assert_eq!(
        off.prepare(TODAY).classify_department(
            &h,
            &[Signal::Unemployed {
                member: 0,
                date: day
            }]
        ),
        Assessment::default()
    );
}

#[test]
fn years_before_handles_29_february() {
    assert_eq!(
        years_before(date!(2028 - 02 - 29), 7),
        date!(2021 - 02 - 28)
    );
    assert_eq!(age_on(date!(2021 - 02 - 28), date!(2028 - 02 - 29)), 7);
    assert_eq!(age_on(date!(2021 - 03 - 01), date!(2028 - 02 - 29)), 6);
}
