//! Coverage checks (issue 5 item 4): no monitored household left without help, and no record
//! that contradicts itself. Pure: [`findings`] looks at the facts of one monitored household on
//! a day; the store gathers the facts for a whole division.
//!
//! The rules and their sources:
//!
//! - **No responsible cadre**: a household whose risk is not eliminated has nobody paired with
//!   it today (DOMAIN.md 5.4: the 帮扶责任人 is part of the household's record).
//! - **No measure a month after identification** ("识别后1个月及以上未落实帮扶措施", a check
//!   used in the field, DOMAIN.md 1.8; 1.10: "measures in place within about 1 month"): from the
//!   day one calendar month after identification on, with no implemented measure.
//! - **Labour but no development-type measure six months after identification** (DOMAIN.md 1.8:
//!   "has labour + risk not eliminated + no development measure after 6 months is an error";
//!   households with labour ability get mainly development-type measures): from six calendar
//!   months on, a member with ordinary or skilled labour, the risk not eliminated, and no
//!   implemented industry, employment, finance or public-welfare job measure.
//! - **The consistency rules of DOMAIN.md 1.5** (data-quality scripts for the national system):
//!   因残 without a member holding a disability certificate; 因务工就业不稳 when every member has
//!   lost or has no labour ability; unsafe water without 因安全饮水; a member without basic
//!   medical insurance without 因病; eliminated with 因残 but no social-security or social-help
//!   measure; eliminated with 因安全住房 but no safe-housing measure. One rule is added by
//!   analogy with the water rule and marked so: unsafe housing without 因安全住房 (the national
//!   form asks both questions side by side, DOMAIN.md 1.5).
//!
//! A household identified before zhenxing kept records has no identification date; its time is
//! counted from the day it was registered in zhenxing, and the finding says so.
//! Cancelled measures count for nothing; planned ones count only where a rule says "non-empty".

use crate::assistance::{MeasureCategory, MeasureFact, MeasureKind};
use crate::calendar::{add_months, months_between};
use crate::enums::{MonitoringCategory, labelled_enum};
use crate::lang::Text;
use crate::monitoring::RiskType;
use crate::text;
use time::Date;

labelled_enum!(
    /// The coverage checks, by their stable ids.
    CoverageRule, "帮扶覆盖检查", "coverage check", [
    (NoResponsibleCadre, "no_responsible_cadre", "无帮扶责任人", "no responsible cadre"),
    (NoMeasureAfterMonth, "no_measure_after_month", "识别1个月以上未落实帮扶措施", "no measure implemented a month after identification"),
    (NoDevelopmentAfterSixMonths, "no_development_after_six_months", "有劳动能力但6个月未落实开发式帮扶", "labour ability but no development-type measure after six months"),
    (DisabilityWithoutCertificate, "disability_without_certificate", "因残但无成员持残疾人证", "disability risk but no member with a disability certificate"),
    (EmploymentWithoutLabor, "employment_without_labor", "因务工就业不稳但全家无劳动力", "unstable-employment risk but nobody can work"),
    (UnsafeWaterWithoutRisk, "unsafe_water_without_risk", "饮水不安全但无因安全饮水风险", "unsafe water but no unsafe-water risk"),
    (UnsafeHousingWithoutRisk, "unsafe_housing_without_risk", "住房不安全但无因安全住房风险", "unsafe housing but no unsafe-housing risk"),
    (UninsuredWithoutIllness, "uninsured_without_illness", "有成员未参加基本医保但无因病风险", "a member without medical insurance but no illness risk"),
    (EliminatedDisabilityWithoutSupport, "eliminated_disability_without_support", "因残风险已消除但无综合保障或社会帮扶措施", "disability risk eliminated without social-security or social-help measure"),
    (EliminatedHousingWithoutMeasure, "eliminated_housing_without_measure", "因安全住房风险已消除但无住房安全保障措施", "housing risk eliminated without a safe-housing measure"),
]);

/// The day from which a household's monitoring is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitoredSince {
    pub on: Date,
    /// No identification date is recorded: `on` is the day of registration in zhenxing.
    pub from_registration: bool,
}

impl MonitoredSince {
    pub fn new(identified_on: Option<Date>, registered_on: Date) -> MonitoredSince {
        MonitoredSince {
            on: identified_on.unwrap_or(registered_on),
            from_registration: identified_on.is_none(),
        }
    }

    /// "自2026-04-12（识别日期）" / "since 2026-04-12 (identification)", or the same with the
    /// registration date and why.
    pub fn words(&self) -> Text {
        let on = self.on;
        if self.from_registration {
            text!(
                "自{on}（无识别日期，按在本系统建档日期计算）",
                "since {on} (no identification date recorded; counted from registration in zhenxing)"
            )
        } else {
            text!("自{on}（识别日期）", "since {on} (identification)")
        }
    }
}

/// What the checks need to know about one monitored household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageFacts {
    pub household_no: String,
    pub category: Option<MonitoringCategory>,
    pub risk_eliminated: bool,
    /// `None`: identified before zhenxing kept records.
    pub identified_on: Option<Date>,
    /// The day the household was registered in zhenxing.
    pub registered_on: Date,
    pub risk_types: Vec<RiskType>,
    /// Someone is paired with the household today (no end date, or an end date not past).
    pub has_active_pairing: bool,
    pub measures: Vec<MeasureFact>,
    /// A member's document is a disability certificate (残疾人证).
    pub any_disability_certificate: bool,
    /// Every member has lost or has no labour ability.
    pub all_without_labor: bool,
    /// A member with ordinary or skilled labour.
    pub any_full_labor: bool,
    pub water_safe: Option<bool>,
    pub housing_safe: Option<bool>,
    pub any_without_medical_insurance: bool,
}

/// One problem of one household: the rule, what is wrong (with the figures) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: CoverageRule,
    pub problem: Text,
    pub action: Text,
}

fn has_risk(f: &CoverageFacts, r: RiskType) -> bool {
    f.risk_types.contains(&r)
}

/// Every problem of a monitored household on `today` (nothing for a household that is not
/// monitored).
pub fn findings(f: &CoverageFacts, today: Date) -> Vec<Finding> {
    use CoverageRule::*;
    let mut out = Vec::new();
    if f.category.is_none() {
        return out;
    }
    let mut push = |rule, problem, action| {
        out.push(Finding {
            rule,
            problem,
            action,
        })
    };
    let since = MonitoredSince::new(f.identified_on, f.registered_on);
    let Text {
        zh: since_zh,
        en: since_en,
    } = since.words();
    let days = (today - since.on).whole_days();
    let active = !f.risk_eliminated;

    if active && !f.has_active_pairing {
        push(
            NoResponsibleCadre,
            text!(
                "风险未消除，目前没有在岗的帮扶责任人",
                "the risk is not eliminated and nobody is paired with the household now"
            ),
            text!(
                "为该户结对一名帮扶责任人（姓名、单位、联系电话、开始日期）",
                "pair a responsible cadre with the household (name, unit, phone, start date)"
            ),
        );
    }
    let implemented = f.measures.iter().filter(|m| m.is_implemented()).count();
    if implemented == 0 && today >= add_months(since.on, 1) {
        let planned = f
            .measures
            .iter()
            .filter(|m| m.is_live() && !m.is_implemented())
            .count();
        push(
            NoMeasureAfterMonth,
            text!(
                "识别已{days}天（{since_zh}），尚无已实施的帮扶措施（尚未实施{planned}项）",
                "{days} days since identification ({since_en}) and no measure implemented ({planned} not yet implemented)"
            ),
            text!(
                "落实至少一项帮扶措施并登记实施日期；已落实的请标记为已实施",
                "carry out at least one measure and record the day; mark measures already carried out as implemented"
            ),
        );
    }
    let months = months_between(since.on, today);
    let development = f
        .measures
        .iter()
        .any(|m| m.is_implemented() && m.category.kind() == MeasureKind::Development);
    if active && f.any_full_labor && !development && months >= 6 {
        push(
            NoDevelopmentAfterSixMonths,
            text!(
                "家中有劳动能力的成员，识别已{months}个月（{since_zh}），尚无已实施的开发式帮扶措施",
                "a member can work, {months} months since identification ({since_en}), and no development-type measure is implemented"
            ),
            text!(
                "落实产业、就业、金融或公益岗位帮扶，并登记为已实施",
                "carry out an industry, employment, finance or public-welfare job measure and record it as implemented"
            ),
        );
    }
    if has_risk(f, RiskType::Disability) && !f.any_disability_certificate {
        push(
            DisabilityWithoutCertificate,
            text!(
                "风险类型为因残，但没有成员的证件为残疾人证",
                "the risk is disability, but no member's document is a disability certificate"
            ),
            text!(
                "核实：成员已办残疾人证的，登记残疾人证号；否则更正风险类型",
                "check: record the disability certificate number of the member who has one; otherwise correct the risk type"
            ),
        );
    }
    if has_risk(f, RiskType::UnstableEmployment) && f.all_without_labor {
        push(
            EmploymentWithoutLabor,
            text!(
                "风险类型为因务工就业不稳，但全家成员均为无劳动力或丧失劳动力",
                "the risk is unstable employment, but every member has no or has lost labour ability"
            ),
            text!(
                "核实成员的劳动技能，或把风险类型更正为缺劳动力等",
                "check the members' labour ability, or correct the risk type (e.g. lack of labour)"
            ),
        );
    }
    if f.water_safe == Some(false) && !has_risk(f, RiskType::UnsafeWater) {
        push(
            UnsafeWaterWithoutRisk,
            text!(
                "登记为饮水不安全，但风险类型中没有因安全饮水",
                "drinking water is recorded as unsafe, but the risk types lack unsafe drinking water"
            ),
            text!(
                "补充风险类型“因安全饮水”，或核实后更正饮水情况",
                "add the risk type 'unsafe drinking water', or check and correct the water record"
            ),
        );
    }
    if f.housing_safe == Some(false) && !has_risk(f, RiskType::UnsafeHousing) {
        push(
            UnsafeHousingWithoutRisk,
            text!(
                "登记为住房不安全，但风险类型中没有因安全住房（参照饮水规则）",
                "housing is recorded as unsafe, but the risk types lack unsafe housing (by analogy with the water rule)"
            ),
            text!(
                "补充风险类型“因安全住房”，或核实后更正住房情况",
                "add the risk type 'unsafe housing', or check and correct the housing record"
            ),
        );
    }
    if f.any_without_medical_insurance && !has_risk(f, RiskType::Illness) {
        push(
            UninsuredWithoutIllness,
            text!(
                "有成员未参加基本医疗保险，但风险类型中没有因病",
                "a member has no basic medical insurance, but the risk types lack illness"
            ),
            text!(
                "帮助该成员参保；或补充风险类型“因病”",
                "help the member join basic medical insurance, or add the risk type 'illness'"
            ),
        );
    }
    let has_live = |categories: &[MeasureCategory]| {
        f.measures
            .iter()
            .any(|m| m.is_live() && categories.contains(&m.category))
    };
    if f.risk_eliminated
        && has_risk(f, RiskType::Disability)
        && !has_live(&[MeasureCategory::SocialSecurity, MeasureCategory::SocialHelp])
    {
        push(
            EliminatedDisabilityWithoutSupport,
            text!(
                "因残风险已标记消除，但没有综合保障或社会帮扶措施",
                "the disability risk is marked eliminated, but there is no social-security or social-help measure"
            ),
            text!(
                "登记已落实的综合保障或社会帮扶措施；若没有，核实风险消除是否成立",
                "record the social-security or social-help measure carried out; if there is none, check whether the elimination stands"
            ),
        );
    }
    if f.risk_eliminated
        && has_risk(f, RiskType::UnsafeHousing)
        && !has_live(&[MeasureCategory::Housing])
    {
        push(
            EliminatedHousingWithoutMeasure,
            text!(
                "因安全住房风险已标记消除，但没有住房安全保障措施",
                "the unsafe-housing risk is marked eliminated, but there is no safe-housing measure"
            ),
            text!(
                "登记已落实的住房安全保障措施；若没有，核实风险消除是否成立",
                "record the safe-housing measure carried out; if there is none, check whether the elimination stands"
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistance::MeasureStatus;
    use time::macros::date;

    const IDENTIFIED: Date = date!(2026 - 04 - 12);

    /// A household that passes every check.
    fn good() -> CoverageFacts {
        CoverageFacts {
            household_no: "500229-001".into(),
            category: Some(MonitoringCategory::MarginalAtRisk),
            risk_eliminated: false,
            identified_on: Some(IDENTIFIED),
            registered_on: date!(2024 - 01 - 01),
            risk_types: vec![RiskType::Illness],
            has_active_pairing: true,
            measures: vec![
                measure(MeasureCategory::Health, Some(date!(2026 - 04 - 20))),
                measure(
                    MeasureCategory::PublicWelfareJob,
                    Some(date!(2026 - 06 - 01)),
                ),
            ],
            any_disability_certificate: false,
            all_without_labor: false,
            any_full_labor: true,
            water_safe: Some(true),
            housing_safe: None,
            any_without_medical_insurance: false,
        }
    }

    fn measure(category: MeasureCategory, implemented_on: Option<Date>) -> MeasureFact {
        MeasureFact {
            category,
            status: if implemented_on.is_some() {
                MeasureStatus::Implemented
            } else {
                MeasureStatus::Planned
            },
            implemented_on,
            risk: None,
        }
    }

    fn rules(f: &CoverageFacts, today: Date) -> Vec<CoverageRule> {
        findings(f, today).into_iter().map(|x| x.rule).collect()
    }

    #[test]
    fn a_covered_household_has_no_finding() {
        assert_eq!(rules(&good(), date!(2026 - 12 - 01)), []);
        let not_monitored = CoverageFacts {
            category: None,
            has_active_pairing: false,
            ..good()
        };
        assert_eq!(rules(&not_monitored, date!(2026 - 12 - 01)), []);
    }

    #[test]
    fn no_cadre_only_while_the_risk_lasts() {
        let f = CoverageFacts {
            has_active_pairing: false,
            ..good()
        };
        assert_eq!(
            rules(&f, date!(2026 - 12 - 01)),
            [CoverageRule::NoResponsibleCadre]
        );
        let eliminated = CoverageFacts {
            risk_eliminated: true,
            ..f
        };
        assert_eq!(rules(&eliminated, date!(2026 - 12 - 01)), []);
    }

    #[test]
    fn no_measure_from_exactly_one_month() {
        let f = CoverageFacts {
            measures: vec![measure(MeasureCategory::Health, None)],
            any_full_labor: false,
            ..good()
        };
        assert_eq!(rules(&f, date!(2026 - 05 - 11)), []);
        let found = findings(&f, date!(2026 - 05 - 12));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, CoverageRule::NoMeasureAfterMonth);
        assert!(found[0].problem.zh.contains("识别已30天"), "{:?}", found[0]);
        assert!(
            found[0].problem.en.contains("(1 not yet implemented)"),
            "{:?}",
            found[0]
        );
        let cancelled = CoverageFacts {
            measures: vec![MeasureFact {
                status: MeasureStatus::Cancelled,
                ..measure(MeasureCategory::Health, Some(date!(2026 - 04 - 20)))
            }],
            ..f
        };
        assert_eq!(
            rules(&cancelled, date!(2026 - 05 - 12)),
            [CoverageRule::NoMeasureAfterMonth]
        );
    }

    #[test]
    fn counted_from_registration_without_an_identification_date() {
        let f = CoverageFacts {
            identified_on: None,
            measures: vec![],
            any_full_labor: false,
            ..good()
        };
        let found = findings(&f, date!(2024 - 02 - 01));
        assert_eq!(found.len(), 1);
        assert!(found[0].problem.zh.contains("按在本系统建档日期计算"));
        assert!(found[0].problem.en.contains("counted from registration"));
        assert_eq!(rules(&f, date!(2024 - 01 - 31)), []);
    }

    #[test]
    fn development_measure_from_exactly_six_months() {
        let f = CoverageFacts {
            measures: vec![measure(
                MeasureCategory::Health,
                Some(date!(2026 - 04 - 20)),
            )],
            ..good()
        };
        assert_eq!(rules(&f, date!(2026 - 10 - 11)), []);
        let found = findings(&f, date!(2026 - 10 - 12));
        assert_eq!(
            found.iter().map(|x| x.rule).collect::<Vec<_>>(),
            [CoverageRule::NoDevelopmentAfterSixMonths]
        );
        assert!(found[0].problem.en.contains("6 months"), "{found:?}");
        let without_labour = CoverageFacts {
            any_full_labor: false,
            ..f.clone()
        };
        assert_eq!(rules(&without_labour, date!(2026 - 12 - 01)), []);
        let planned_job = CoverageFacts {
            measures: vec![
                measure(MeasureCategory::Health, Some(date!(2026 - 04 - 20))),
                measure(MeasureCategory::Employment, None),
            ],
            ..f.clone()
        };
        assert_eq!(
            rules(&planned_job, date!(2026 - 12 - 01)),
            [CoverageRule::NoDevelopmentAfterSixMonths]
        );
        let eliminated = CoverageFacts {
            risk_eliminated: true,
            ..f
        };
        assert_eq!(rules(&eliminated, date!(2026 - 12 - 01)), []);
    }

    #[test]
    fn consistency_rules_of_the_national_scripts() {
        let today = date!(2026 - 12 - 01);
        let disability = CoverageFacts {
            risk_types: vec![RiskType::Illness, RiskType::Disability],
            ..good()
        };
        assert_eq!(
            rules(&disability, today),
            [CoverageRule::DisabilityWithoutCertificate]
        );
        let certified = CoverageFacts {
            any_disability_certificate: true,
            ..disability.clone()
        };
        assert_eq!(rules(&certified, today), []);

        let employment = CoverageFacts {
            risk_types: vec![RiskType::UnstableEmployment],
            all_without_labor: true,
            any_full_labor: false,
            ..good()
        };
        assert_eq!(
            rules(&employment, today),
            [CoverageRule::EmploymentWithoutLabor]
        );
        let can_work = CoverageFacts {
            all_without_labor: false,
            ..employment
        };
        assert_eq!(rules(&can_work, today), []);

        let water = CoverageFacts {
            water_safe: Some(false),
            ..good()
        };
        assert_eq!(rules(&water, today), [CoverageRule::UnsafeWaterWithoutRisk]);
        let water_risk = CoverageFacts {
            risk_types: vec![RiskType::Illness, RiskType::UnsafeWater],
            ..water
        };
        assert_eq!(rules(&water_risk, today), []);
        let housing = CoverageFacts {
            housing_safe: Some(false),
            ..good()
        };
        assert_eq!(
            rules(&housing, today),
            [CoverageRule::UnsafeHousingWithoutRisk]
        );

        let uninsured = CoverageFacts {
            any_without_medical_insurance: true,
            risk_types: vec![RiskType::Schooling],
            measures: vec![
                measure(
                    MeasureCategory::CompulsoryEducation,
                    Some(date!(2026 - 04 - 20)),
                ),
                measure(MeasureCategory::Employment, Some(date!(2026 - 04 - 20))),
            ],
            ..good()
        };
        assert_eq!(
            rules(&uninsured, today),
            [CoverageRule::UninsuredWithoutIllness]
        );
        let ill = CoverageFacts {
            risk_types: vec![RiskType::Schooling, RiskType::Illness],
            ..uninsured
        };
        assert_eq!(rules(&ill, today), []);
    }

    #[test]
    fn eliminated_risks_need_their_measures() {
        let today = date!(2026 - 12 - 01);
        let disability = CoverageFacts {
            risk_eliminated: true,
            risk_types: vec![RiskType::Disability],
            any_disability_certificate: true,
            ..good()
        };
        assert_eq!(
            rules(&disability, today),
            [CoverageRule::EliminatedDisabilityWithoutSupport]
        );
        let helped = CoverageFacts {
            measures: vec![measure(MeasureCategory::SocialHelp, None)],
            ..disability
        };
        assert_eq!(rules(&helped, today), [CoverageRule::NoMeasureAfterMonth]);
        let housing = CoverageFacts {
            risk_eliminated: true,
            risk_types: vec![RiskType::UnsafeHousing],
            ..good()
        };
        assert_eq!(
            rules(&housing, today),
            [CoverageRule::EliminatedHousingWithoutMeasure]
        );
        let rebuilt = CoverageFacts {
            measures: vec![measure(
                MeasureCategory::Housing,
                Some(date!(2026 - 05 - 01)),
            )],
            ..housing
        };
        assert_eq!(rules(&rebuilt, today), []);
    }
}
