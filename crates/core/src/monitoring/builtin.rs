//! The built-in rule sets: 2021 as published for Chongqing, 2022 to 2025 ASSUMED.

use super::rule_set::{
    CHONGQING, DisasterTrigger, IncomeDropTrigger, MedicalTrigger, OutpatientTrigger, RuleSet,
    SchoolCostsTrigger, SchoolTrigger, Switch, Triggers,
};
use crate::lang::Text;
use crate::money::Fen;
use crate::text;

/// The built-in rule sets: 2021 as published for Chongqing, 2022 to 2025 ASSUMED (see the note
/// on each). Saved as version 1 of each year when the rule-set table is empty.
pub fn builtin() -> Vec<RuleSet> {
    let triggers = Triggers {
        medical_out_of_pocket: Some(MedicalTrigger {
            enabled: true,
            lifted_out: Some(Fen::from_yuan(5_000)),
            others: Some(Fen::from_yuan(20_000)),
        }),
        child_out_of_school: Some(SchoolTrigger {
            enabled: true,
            min_age: Some(7),
            max_age: Some(15),
        }),
        unsafe_housing: Some(Switch { enabled: true }),
        unsafe_water: Some(Switch { enabled: true }),
        no_medical_insurance: Some(Switch { enabled: true }),
        no_labor_ability: Some(Switch { enabled: true }),
        // Last year's income comes from the store's `household_incomes`; off until the bureau
        // switches it on (see the module documentation).
        income_drop: Some(IncomeDropTrigger {
            enabled: false,
            percent: Some(30),
        }),
        // Disaster losses come with the emergency-management department's files.
        disaster_loss: Some(DisasterTrigger {
            enabled: true,
            loss: Some(Fen::from_yuan(10_000)),
        }),
        // Deaths, allowances and unemployment come with civil affairs' and human resources'
        // files.
        member_died: Some(Switch { enabled: true }),
        unemployed: Some(Switch { enabled: true }),
        allowance_stopped: Some(Switch { enabled: true }),
        // DOMAIN.md 1.6, one county's department screening: outpatient out-of-pocket spending
        // of 500 yuan a month, non-compulsory schooling costs above 10,000 yuan a school year.
        outpatient_out_of_pocket: Some(OutpatientTrigger {
            enabled: true,
            monthly: Some(Fen::from_yuan(500)),
        }),
        schooling_costs: Some(SchoolCostsTrigger {
            enabled: true,
            above: Some(Fen::from_yuan(10_000)),
        }),
    };
    let mut sets = vec![RuleSet {
        year: 2021,
        jurisdiction: CHONGQING.into(),
        version: 1,
        assumed: false,
        note: Some(Text::new(
            "监测范围6000元依据渝委农组〔2021〕6号；医疗自付筛查线（脱贫人口5000元、其他20000元，门诊每月500元）和非义务教育阶段教育费用筛查线（每学年超过10000元）参照区县部门筛查实践",
            "threshold 6000 yuan per 渝委农组〔2021〕6号; the medical spending thresholds (5000 yuan for lifted-out households, 20000 for others, 500 a month for outpatient care) and the non-compulsory schooling costs threshold (above 10000 yuan a school year) follow counties' department-screening practice",
        )),
        threshold: Some(Fen::from_yuan(6_000)),
        triggers,
    }];
    for year in 2022..=2025u16 {
        sets.push(RuleSet {
            year,
            jurisdiction: CHONGQING.into(),
            version: 1,
            assumed: true,
            note: Some(text!(
                "假定值（演示）：重庆市{year}年度监测范围未查到，暂沿用2021年的6000元；须由市级按省定标准录入实际数值（作为新版本）",
                "ASSUMED (demo): Chongqing's {year} threshold was not found, so the 2021 value of 6000 yuan is carried forward; the bureau must enter the province's real value (as a new version)"
            )),
            threshold: Some(Fen::from_yuan(6_000)),
            triggers,
        });
    }
    sets
}
