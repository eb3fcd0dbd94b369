//! The practitioners' consistency checks (DOMAIN.md 2.2, and the problem lists of story 11), as
//! named findings a person can read.
//!
//! Decision (docs/decisions/0017): a breach that makes the record contradict itself in
//! a way the system cannot resolve blocks an import ([`crate::HouseholdError`], and the field
//! errors of the importer: a sex that contradicts the ID number, an ID number in two households).
//! The checks here describe facts that are unlikely but possible, or that the national system
//! itself tolerates, so they warn: the household is registered and the finding is shown on its
//! page and in the village's problem list until someone fixes the data.

use crate::enums::{HealthCondition, Labor, Relation, SchoolStatus};
use crate::household::{Household, Member};
use crate::lang::Text;
use crate::text;
use serde::Serialize;
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Refuses the record.
    Blocking,
    /// Registers the record and lists the finding.
    Warning,
}

/// Each check has a stable code name, used in reports, the API and the problem lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    SeveralSpouses,
    SpouseSameSexAsHead,
    EducationAndSchoolStatusBoth,
    EducationAndSchoolStatusNeither,
    ElderlyWithFullLabor,
    WorkingAgeWithoutLabor,
    WorkAwayWithoutLabor,
    SchoolAgeNotInSchool,
    HeadUnder16,
    ChildOlderThanHead,
    CertificateWithoutDisability,
}

impl FindingCode {
    pub const ALL: &'static [FindingCode] = &[
        FindingCode::SeveralSpouses,
        FindingCode::SpouseSameSexAsHead,
        FindingCode::EducationAndSchoolStatusBoth,
        FindingCode::EducationAndSchoolStatusNeither,
        FindingCode::ElderlyWithFullLabor,
        FindingCode::WorkingAgeWithoutLabor,
        FindingCode::WorkAwayWithoutLabor,
        FindingCode::SchoolAgeNotInSchool,
        FindingCode::HeadUnder16,
        FindingCode::ChildOlderThanHead,
        FindingCode::CertificateWithoutDisability,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FindingCode::SeveralSpouses => "several_spouses",
            FindingCode::SpouseSameSexAsHead => "spouse_same_sex_as_head",
            FindingCode::EducationAndSchoolStatusBoth => "education_and_school_status_both",
            FindingCode::EducationAndSchoolStatusNeither => "education_and_school_status_neither",
            FindingCode::ElderlyWithFullLabor => "elderly_with_full_labor",
            FindingCode::WorkingAgeWithoutLabor => "working_age_without_labor",
            FindingCode::WorkAwayWithoutLabor => "work_away_without_labor",
            FindingCode::SchoolAgeNotInSchool => "school_age_not_in_school",
            FindingCode::HeadUnder16 => "head_under_16",
            FindingCode::ChildOlderThanHead => "child_older_than_head",
            FindingCode::CertificateWithoutDisability => "certificate_without_disability",
        }
    }

    /// What the rule says, for the list of rules in the documentation and the UI.
    pub fn rule(self) -> Text {
        match self {
            FindingCode::SeveralSpouses => {
                text!("每户至多一名配偶", "at most one spouse per household")
            }
            FindingCode::SpouseSameSexAsHead => text!(
                "配偶与户主性别不同",
                "the spouse and the head are of different sexes"
            ),
            FindingCode::EducationAndSchoolStatusBoth => text!(
                "文化程度与在校生状况只填其一",
                "fill either education or school status, not both"
            ),
            FindingCode::EducationAndSchoolStatusNeither => text!(
                "文化程度与在校生状况须填其一",
                "fill one of education and school status"
            ),
            FindingCode::ElderlyWithFullLabor => text!(
                "60岁及以上不应为普通或技能劳动力",
                "people aged 60 or more are not ordinary or skilled labour"
            ),
            FindingCode::WorkingAgeWithoutLabor => text!(
                "16至59岁、健康且不在校者一般应有劳动能力",
                "healthy people aged 16 to 59 not in school usually have labour ability"
            ),
            FindingCode::WorkAwayWithoutLabor => text!(
                "无劳动力或丧失劳动力者不应有外出务工月数",
                "people without labour ability do not work away from home"
            ),
            FindingCode::SchoolAgeNotInSchool => text!(
                "7至15岁儿童应在接受义务教育",
                "children aged 7 to 15 are in compulsory education"
            ),
            FindingCode::HeadUnder16 => text!(
                "户主一般应年满16岁",
                "the head of household is usually at least 16"
            ),
            FindingCode::ChildOlderThanHead => text!(
                "户主的子女不应比户主年长",
                "the head's children are not older than the head"
            ),
            FindingCode::CertificateWithoutDisability => text!(
                "持残疾人证者健康状况应含“残疾”",
                "a holder of a disability certificate has 'disability' in health"
            ),
        }
    }
}

/// One finding on one household (and, where it concerns one person, that member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    /// Index into the household's members.
    pub member: Option<usize>,
    pub text: Text,
}

/// Runs every check on a household as of `today`.
pub fn check_household(household: &Household, today: Date) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut warn = |code: FindingCode, member: Option<usize>, text: Text| {
        findings.push(Finding {
            code,
            severity: Severity::Warning,
            member,
            text,
        })
    };
    let head = household.head();
    let head_age = head.document.id().age_on(today);
    let spouses: Vec<usize> = indices(household, |m| m.relation == Relation::Spouse);
    if spouses.len() > 1 {
        let n = spouses.len();
        warn(
            FindingCode::SeveralSpouses,
            None,
            text!(
                "本户登记了{n}名配偶",
                "{n} spouses are registered in this household"
            ),
        );
    }
    for &i in &spouses {
        if household.members[i].sex() == head.sex() {
            let name = household.members[i].name.as_str();
            warn(
                FindingCode::SpouseSameSexAsHead,
                Some(i),
                text!(
                    "配偶{name}与户主性别相同（按证件号码第17位）；请核对与户主关系或证件号码",
                    "spouse {name} has the same sex as the head (by digit 17 of the ID numbers); check the relation or the ID number"
                ),
            );
        }
    }
    if head_age < 16 {
        let name = head.name.as_str();
        warn(
            FindingCode::HeadUnder16,
            None,
            text!(
                "户主{name}未满16岁（{head_age}岁）",
                "head {name} is under 16 ({head_age})"
            ),
        );
    }
    for (i, m) in household.members.iter().enumerate() {
        let name = m.name.as_str();
        let age = m.document.id().age_on(today);
        match (m.education, m.school_status) {
            (Some(_), Some(_)) => warn(
                FindingCode::EducationAndSchoolStatusBoth,
                Some(i),
                text!(
                    "{name}同时填了文化程度和在校生状况；在校者只填在校生状况",
                    "{name} has both education and school status; a student has only the school status"
                ),
            ),
            (None, None) => warn(
                FindingCode::EducationAndSchoolStatusNeither,
                Some(i),
                text!(
                    "{name}的文化程度和在校生状况都未填写",
                    "{name} has neither education nor school status"
                ),
            ),
            _ => {}
        }
        let labor_zh = m.labor.zh();
        let labor_en = m.labor.en();
        if age >= 60 && m.labor.is_full() {
            warn(
                FindingCode::ElderlyWithFullLabor,
                Some(i),
                text!(
                    "{name}{age}岁，劳动技能却为“{labor_zh}”",
                    "{name} is {age} but recorded as '{labor_en}'"
                ),
            );
        }
        let in_school = m.school_status.is_some_and(SchoolStatus::is_enrolled);
        if (16..60).contains(&age)
            && m.health.has(HealthCondition::Healthy)
            && !in_school
            && !m.labor.is_full()
        {
            warn(
                FindingCode::WorkingAgeWithoutLabor,
                Some(i),
                text!(
                    "{name}{age}岁、健康、不在校，劳动技能却为“{labor_zh}”；请核实",
                    "{name} is {age}, healthy and not in school, yet recorded as '{labor_en}'; verify"
                ),
            );
        }
        if m.work_months.unwrap_or(0) > 0 && m.labor.is_without() {
            let months = m.work_months.unwrap_or(0);
            warn(
                FindingCode::WorkAwayWithoutLabor,
                Some(i),
                text!(
                    "{name}劳动技能为“{labor_zh}”，却登记外出务工{months}个月",
                    "{name} is recorded as '{labor_en}' yet works away {months} months"
                ),
            );
        }
        if (7..=15).contains(&age) && !m.school_status.is_some_and(SchoolStatus::is_compulsory) {
            warn(
                FindingCode::SchoolAgeNotInSchool,
                Some(i),
                text!(
                    "{name}{age}岁，处于义务教育年龄，却未登记为小学或初中在校生；请核实是否失学辍学",
                    "{name} is {age}, of compulsory-education age, but not recorded in primary or junior secondary school; check whether the child has dropped out"
                ),
            );
        }
        if matches!(m.relation, Relation::Son | Relation::Daughter) && age > head_age {
            warn(
                FindingCode::ChildOlderThanHead,
                Some(i),
                text!(
                    "{name}登记为户主的子女，却比户主年长",
                    "{name} is recorded as the head's child but is older than the head"
                ),
            );
        }
        if m.document.disability().is_some() && !m.health.has(HealthCondition::Disabled) {
            warn(
                FindingCode::CertificateWithoutDisability,
                Some(i),
                text!(
                    "{name}持残疾人证，健康状况却未含“残疾”",
                    "{name} holds a disability certificate but health does not include 'disability'"
                ),
            );
        }
    }
    findings
}

fn indices(household: &Household, pred: impl Fn(&Member) -> bool) -> Vec<usize> {
    household
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| pred(m))
        .map(|(i, _)| i)
        .collect()
}

/// 整户无劳动力: the household has members and none of them can work (lost or no labour
/// ability). The screening rule, the elimination precondition and the demo's history ask it.
pub fn whole_household_without_labor(labor: impl IntoIterator<Item = Labor>) -> bool {
    let mut any = false;
    for l in labor {
        if !l.is_without() {
            return false;
        }
        any = true;
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::Education;
    use crate::household::tests::{draft, member};
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 29);

    fn codes(h: &Household) -> Vec<FindingCode> {
        check_household(h, TODAY)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn a_household_without_labour_has_members_and_none_can_work() {
        use Labor::*;
        assert!(whole_household_without_labor([Lost, NoLabor]));
        assert!(!whole_household_without_labor([Lost, Weak]));
        assert!(!whole_household_without_labor([NoLabor, Ordinary]));
        assert!(!whole_household_without_labor([]));
    }

    #[test]
    fn a_plain_household_has_no_findings() {
        let head = member("50022919900101001X", Relation::Head);
        let spouse = member("500238198506150028", Relation::Spouse);
        let h = draft(vec![head, spouse]).build().unwrap();
        assert_eq!(codes(&h), vec![]);
    }

    #[test]
    fn each_check_fires() {
        let head = member("50022919900101001X", Relation::Head); // male, 1990
        let mut spouse = member("500101194910010071", Relation::Spouse); // male, 1949
        spouse.school_status = Some(SchoolStatus::Primary);
        let mut second = member("500238198506150028", Relation::Spouse);
        second.education = None;
        second.health = crate::Health::HEALTHY;
        second.labor = Labor::NoLabor;
        second.work_months = Some(3);
        let child =
            crate::id_number::IdNumber::compose("500229", date!(2015 - 03 - 01), 12).unwrap();
        let mut kid = member(child.as_str(), Relation::Son);
        kid.education = Some(Education::Primary);
        let h = draft(vec![head, spouse, second, kid]).build().unwrap();
        let found = codes(&h);
        for expected in [
            FindingCode::SeveralSpouses,
            FindingCode::SpouseSameSexAsHead,
            FindingCode::EducationAndSchoolStatusBoth,
            FindingCode::EducationAndSchoolStatusNeither,
            FindingCode::ElderlyWithFullLabor,
            FindingCode::WorkingAgeWithoutLabor,
            FindingCode::WorkAwayWithoutLabor,
            FindingCode::SchoolAgeNotInSchool,
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
    }
}
