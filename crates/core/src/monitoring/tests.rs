use super::classify::years_before;
use super::*;
use crate::department::{AllowanceKind, DisasterKind, EnrolmentStatus, HousingGrade, Signal};
use crate::enums::{HouseholdType, Labor, MonitoringCategory, SchoolStatus};
use crate::lang::Text;
use crate::money::Fen;
use time::Date;
use time::Month;
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
    assert_eq!(empty.problems().len(), 3 + 13);
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
        outpatient: false,
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

/// An outpatient claim of `yuan` on `day`.
fn outpatient(yuan: &str, day: Date) -> Signal {
    Signal::OutOfPocket {
        amount: Fen::parse(yuan).unwrap(),
        date: day,
        outpatient: true,
    }
}

#[test]
fn outpatient_spending_is_summed_per_month_from_500_yuan() {
    let r = rules();
    let p = r.prepare(TODAY);
    let members = [adult(), adult()];
    let h = household(HouseholdType::Ordinary, 9_000, &members);
    // Below: 499.99 in March.
    let below = [
        outpatient("300", date!(2026 - 03 - 02)),
        outpatient("199.99", date!(2026 - 03 - 31)),
    ];
    assert_eq!(p.classify_department(&h, &below), Assessment::default());
    // At: 500.00 in March, from two claims.
    let at = [
        outpatient("300", date!(2026 - 03 - 02)),
        outpatient("200", date!(2026 - 03 - 31)),
    ];
    let a = p.classify_department(&h, &at);
    assert_eq!(rule_ids(&a), vec![RuleId::OutpatientOutOfPocket]);
    assert_eq!(a.risk_types, vec![RiskType::Illness]);
    // Above the income threshold: large rigid spending makes a sudden hardship.
    assert_eq!(a.category, Some(MonitoringCategory::SuddenHardship));
    let t = a.reasons[0].text();
    assert!(
        t.zh.contains("2026年3月门诊结算2笔，合规自付支出合计500.00元，达到门诊每月筛查线500.00元"),
        "{t}"
    );
    assert!(
        t.en.contains("2 outpatient claims in March 2026")
            && t.en.contains("500.00 yuan in all")
            && t.en.contains("threshold of 500.00 yuan"),
        "{t}"
    );
    // Above, in two months: the month with the most is named, the other counted. Months are
    // not summed together: 400 in May and 400 in June raise nothing.
    let a = p.classify_department(
        &h,
        &[
            outpatient("900", date!(2026 - 05 - 10)),
            outpatient("650", date!(2026 - 04 - 10)),
            outpatient("400", date!(2026 - 06 - 10)),
        ],
    );
    assert_eq!(
        a.reasons[0].detail,
        Detail::OutpatientMonth {
            out_of_pocket: Fen::from_yuan(900),
            threshold: Fen::from_yuan(500),
            year: 2026,
            month: Month::May,
            claims: 1,
            months: 2,
        }
    );
    assert!(a.reasons[0].text().zh.contains("另有1个月也达到"));
    let spread = [
        outpatient("400", date!(2026 - 05 - 10)),
        outpatient("400", date!(2026 - 06 - 10)),
    ];
    assert_eq!(p.classify_department(&h, &spread), Assessment::default());
    // The same month of another year is another month.
    let years = [
        outpatient("400", date!(2025 - 05 - 10)),
        outpatient("400", date!(2026 - 05 - 10)),
    ];
    assert_eq!(p.classify_department(&h, &years), Assessment::default());
    // Inpatient claims (or claims of no stated type) count towards the total only.
    let mixed = [
        outpatient("300", date!(2026 - 03 - 02)),
        Signal::OutOfPocket {
            amount: Fen::from_yuan(300),
            date: date!(2026 - 03 - 03),
            outpatient: false,
        },
    ];
    assert_eq!(p.classify_department(&h, &mixed), Assessment::default());
    // The monthly amount is the rule set's: 600 a month makes 500 too little.
    let mut higher = rules();
    higher.triggers.outpatient_out_of_pocket = Some(OutpatientTrigger {
        enabled: true,
        monthly: Some(Fen::from_yuan(600)),
    });
    assert_eq!(
        higher.prepare(TODAY).classify_department(&h, &at),
        Assessment::default()
    );
    // A lifted-out household's outpatient claims also reach the total of 5,000 yuan: both
    // rules, the total first.
    let lifted = household(HouseholdType::LiftedOut, 9_000, &members);
    let a = p.classify_department(&lifted, &[outpatient("5000", date!(2026 - 03 - 02))]);
    assert_eq!(
        rule_ids(&a),
        vec![RuleId::MedicalOutOfPocket, RuleId::OutpatientOutOfPocket]
    );
    assert_eq!(a.risk_types, vec![RiskType::Illness]);
}

/// The school year's costs of `yuan` for the member at `member`.
fn costs(member: u16, school_year: u16, yuan: &str) -> Signal {
    Signal::SchoolCosts {
        member,
        school_year,
        amount: Fen::parse(yuan).unwrap(),
    }
}

#[test]
fn non_compulsory_schooling_costs_above_10000_yuan_a_school_year() {
    let r = rules();
    let p = r.prepare(TODAY);
    let members = [adult(), adult(), adult()];
    let h = household(HouseholdType::LiftedOut, 9_000, &members);
    // Below and at: nothing ("超过", strictly above).
    assert_eq!(
        p.classify_department(&h, &[costs(1, 2025, "9999.99")]),
        Assessment::default()
    );
    assert_eq!(
        p.classify_department(&h, &[costs(1, 2025, "10000")]),
        Assessment::default()
    );
    // Above by one fen.
    let a = p.classify_department(&h, &[costs(1, 2025, "10000.01")]);
    assert_eq!(rule_ids(&a), vec![RuleId::SchoolingCosts]);
    assert_eq!(a.risk_types, vec![RiskType::Schooling]);
    assert_eq!(a.category, Some(MonitoringCategory::SuddenHardship));
    let t = a.reasons[0].text();
    assert!(
        t.zh.contains(
            "2025—2026学年非义务教育阶段教育费用合计10000.01元（1名学生），超过筛查线10000.00元"
        ),
        "{t}"
    );
    assert!(
        t.en.contains("non-compulsory schooling costs of 10000.01 yuan in school year 2025–2026 (1 student), above the screening threshold of 10000.00 yuan"),
        "{t}"
    );
    // Two students of one household in the same school year are summed; other years are not.
    let a = p.classify_department(
        &h,
        &[
            costs(1, 2025, "6000"),
            costs(2, 2025, "4500"),
            costs(2, 2024, "9000"),
        ],
    );
    assert_eq!(
        a.reasons[0].detail,
        Detail::SchoolingCosts {
            costs: Fen::from_yuan(10_500),
            threshold: Fen::from_yuan(10_000),
            school_year: 2025,
            students: 2,
        }
    );
    assert_eq!(
        p.classify_department(&h, &[costs(1, 2024, "6000"), costs(1, 2025, "6000")]),
        Assessment::default()
    );
    // Switched off: nothing.
    let mut off = rules();
    off.triggers.schooling_costs = Some(SchoolCostsTrigger {
        enabled: false,
        above: Some(Fen::from_yuan(10_000)),
    });
    assert_eq!(
        off.prepare(TODAY)
            .classify_department(&h, &[costs(1, 2025, "20000")]),
        Assessment::default()
    );
}

#[test]
fn rule_sets_saved_before_the_outpatient_and_schooling_triggers_behave_as_before() {
    let mut old = serde_json::to_value(rules()).unwrap();
    for t in ["outpatient_out_of_pocket", "schooling_costs"] {
        old["triggers"].as_object_mut().unwrap().remove(t);
    }
    let old: RuleSet = serde_json::from_value(old).unwrap();
    assert_eq!(old.triggers.outpatient_out_of_pocket, None);
    assert_eq!(old.triggers.schooling_costs, None);
    let members = [adult(), adult()];
    let h = household(HouseholdType::Ordinary, 9_000, &members);
    let signals = [
        outpatient("800", date!(2026 - 03 - 02)),
        costs(1, 2025, "15000"),
    ];
    assert_eq!(
        old.prepare(TODAY).classify_department(&h, &signals),
        Assessment::default()
    );
    assert_eq!(
        rule_ids(&rules().prepare(TODAY).classify_department(&h, &signals)),
        vec![RuleId::OutpatientOutOfPocket, RuleId::SchoolingCosts]
    );
    // A new file must name them; when on, with a positive amount.
    let en: Vec<String> = old.problems().into_iter().map(|t| t.en).collect();
    assert_eq!(en.len(), 2, "{en:?}");
    assert!(
        en[0].contains("'outpatient_out_of_pocket' is missing"),
        "{en:?}"
    );
    assert!(en[1].contains("'schooling_costs' is missing"), "{en:?}");
    let mut bad = rules();
    bad.triggers.outpatient_out_of_pocket = Some(OutpatientTrigger {
        enabled: true,
        monthly: None,
    });
    bad.triggers.schooling_costs = Some(SchoolCostsTrigger {
        enabled: true,
        above: Some(Fen::ZERO),
    });
    let en: Vec<String> = bad.problems().into_iter().map(|t| t.en).collect();
    assert_eq!(en.len(), 2, "{en:?}");
    assert!(en[0].contains("monthly_yuan is missing"), "{en:?}");
    assert!(
        en[1].contains("above_yuan of the screening rule 'schooling_costs' must be above 0"),
        "{en:?}"
    );
    // The parameters as a file writes them.
    let json = serde_json::to_value(rules().triggers).unwrap();
    assert_eq!(json["outpatient_out_of_pocket"]["monthly_yuan"], 500);
    assert_eq!(json["schooling_costs"]["above_yuan"], 10_000);
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
