//! Households and their members.
//!
//! A [`HouseholdDraft`] is what a form or a file row fills in; [`HouseholdDraft::build`] checks
//! the structural rules and gives a [`Household`], which cannot be changed afterwards except by
//! building a new one. Structural rules block (a household without exactly one head cannot be
//! registered); plausibility rules only warn and live in [`crate::checks`].

use crate::division::DivisionCode;
use crate::enums::{
    Education, HealthCondition, HouseholdType, Labor, MonitoringCategory, Relation, SchoolStatus,
    Sex,
};
use crate::id_number::DocumentNumber;
use crate::income::IncomeItems;
use crate::lang::Text;
use crate::money::Fen;
use crate::monitoring::MonitoringOutcome;
use crate::text;
use crate::text::{HouseholdNo, Lines, PersonName, Phone, TextError, check_characters};
use crate::village_group::VillageGroup;
use std::fmt;
use std::ops::Deref;

/// The items of a cell that lists several values, separated by any of `,，、;；/` as people
/// write lists in Chinese and English.
pub fn list_items(input: &str) -> impl Iterator<Item = &str> {
    input
        .split([',', '，', '、', ';', '；', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
}

/// 健康状况: one or more conditions; "healthy" stands alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Health(u8);

impl Health {
    pub const HEALTHY: Health = Health(1 << HealthCondition::Healthy as u8);

    /// Parses `健康`, `残疾,长期慢性病` (separated as [`list_items`] says).
    pub fn parse(input: &str) -> Result<Health, Text> {
        let mut bits = 0u8;
        for part in list_items(input) {
            bits |= 1 << HealthCondition::parse(part)? as u8;
        }
        let health = Health(bits);
        if bits == 0 {
            return Err(text!("健康状况为空", "health is empty"));
        }
        if health.has(HealthCondition::Healthy) && bits != Health::HEALTHY.0 {
            return Err(text!(
                "健康状况“{input}”自相矛盾：“健康”不能与疾病或残疾同时填写",
                "health '{input}' contradicts itself: 'healthy' cannot go with an illness or disability"
            ));
        }
        Ok(health)
    }

    pub fn from_conditions(conditions: &[HealthCondition]) -> Health {
        Health(conditions.iter().fold(0, |b, c| b | 1 << *c as u8))
    }

    pub fn has(self, condition: HealthCondition) -> bool {
        self.0 & (1 << condition as u8) != 0
    }

    pub fn conditions(self) -> impl Iterator<Item = HealthCondition> {
        HealthCondition::ALL
            .iter()
            .copied()
            .filter(move |c| self.has(*c))
    }

    /// The Chinese form used in the exchange files: `残疾,长期慢性病`.
    pub fn to_zh(self) -> String {
        self.conditions()
            .map(HealthCondition::zh)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Code names joined by commas, as stored: `chronic,disabled`.
    pub fn to_codes(self) -> String {
        self.conditions()
            .map(HealthCondition::code)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn bits(self) -> u8 {
        self.0
    }
}

/// A member of a household (家庭成员), identified by ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: PersonName,
    pub document: DocumentNumber,
    pub relation: Relation,
    pub ethnicity: Option<String>,
    pub education: Option<Education>,
    pub school_status: Option<SchoolStatus>,
    pub health: Health,
    pub labor: Labor,
    /// Months of work away from home in the year, 0 to 12.
    pub work_months: Option<u8>,
    pub medical_insurance: bool,
    pub dibao: Option<bool>,
}

impl Member {
    /// Sex follows from the ID number; a file that says otherwise is refused on import.
    pub fn sex(&self) -> Sex {
        self.document.id().sex()
    }
}

/// What a form or a file fills in before the household is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdDraft {
    pub household_no: HouseholdNo,
    /// The village (or community) the household lives in.
    pub division: DivisionCode,
    pub household_type: HouseholdType,
    pub lifted_out_year: Option<u16>,
    pub monitoring_category: Option<MonitoringCategory>,
    pub phone: Option<Phone>,
    pub address: Option<String>,
    /// 村民小组; when `None`, the village notice falls back to the end of the address.
    pub village_group: Option<VillageGroup>,
    pub income: IncomeItems,
    /// 合规自付支出: compliant out-of-pocket spending (medical and schooling after reimbursement).
    pub out_of_pocket: Fen,
    pub housing_safe: Option<bool>,
    pub water_safe: Option<bool>,
    /// What the monitoring procedures recorded; see [`MonitoringOutcome::check`] for why
    /// [`HouseholdDraft::build`] leaves its rules to the importers.
    pub monitoring_outcome: MonitoringOutcome,
    pub members: Vec<Member>,
}

/// The years of the poverty-alleviation campaign in which a registered household could exit.
pub const LIFTED_OUT_YEARS: std::ops::RangeInclusive<u16> = 2014..=2020;

/// A rule whose breach makes a household impossible to register as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HouseholdError {
    NoMembers,
    NoHead,
    SeveralHeads(usize),
    /// The same person twice in one household (index of the second occurrence).
    DuplicateMember(usize),
    LiftedOutYearMissing,
    LiftedOutYearForOrdinary(u16),
    LiftedOutYearOutOfRange(u16),
    CategoryContradictsType(MonitoringCategory, HouseholdType),
    NotAVillage(DivisionCode),
    /// A free-text field holds a character no text may hold ([`check_characters`]).
    Characters(FreeTextField, TextError),
}

/// The free-text fields of a household draft (names are [`PersonName`]s, checked when parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeTextField {
    Address,
    /// The ethnicity of the member at this index.
    Ethnicity(usize),
}

impl FreeTextField {
    /// The field's name, to put before a problem with it.
    pub fn label(self) -> Text {
        match self {
            FreeTextField::Address => text!("住址", "address"),
            FreeTextField::Ethnicity(i) => {
                let n = i + 1;
                text!("第{n}名成员的民族", "ethnicity of member {n}")
            }
        }
    }
}

impl HouseholdError {
    pub fn text(&self) -> Text {
        match self {
            HouseholdError::NoMembers => text!("户内没有成员", "the household has no members"),
            HouseholdError::NoHead => text!(
                "户内没有“户主”：每户须有且仅有一名户主",
                "the household has no head: each household has exactly one 户主"
            ),
            HouseholdError::SeveralHeads(n) => text!(
                "户内有{n}名“户主”：每户须有且仅有一名户主",
                "the household has {n} heads: each household has exactly one 户主"
            ),
            HouseholdError::DuplicateMember(_) => text!(
                "同一证件号码在本户出现两次",
                "the same ID number appears twice in this household"
            ),
            HouseholdError::LiftedOutYearMissing => text!(
                "脱贫户须填写脱贫年度（2014至2020）",
                "a household lifted out of poverty needs its year lifted out (2014 to 2020)"
            ),
            HouseholdError::LiftedOutYearForOrdinary(y) => text!(
                "一般农户不应有脱贫年度（此处为{y}）；请核对户类型",
                "an ordinary rural household has no year lifted out (here {y}); check the household type"
            ),
            HouseholdError::LiftedOutYearOutOfRange(y) => text!(
                "脱贫年度{y}不在2014至2020之间",
                "year lifted out {y} is not between 2014 and 2020"
            ),
            HouseholdError::CategoryContradictsType(c, t) => {
                let (czh, cen, tzh, ten) = (c.zh(), c.en(), t.zh(), t.en());
                text!(
                    "监测对象类别“{czh}”与户类型“{tzh}”矛盾：脱贫不稳定户须为脱贫户，边缘易致贫户须为一般农户",
                    "monitoring category '{cen}' contradicts household type '{ten}': an unstable lifted-out household must be lifted out, a marginal household at risk must be ordinary"
                )
            }
            HouseholdError::NotAVillage(code) => text!(
                "区划代码{code}不是村（社区）级：户须登记在村或社区",
                "division code {code} is not a village: households are registered in a village or community"
            ),
            HouseholdError::Characters(field, error) => {
                let (label, error) = (field.label(), error.text());
                Text::new(
                    format!("{}：{}", label.zh, error.zh),
                    format!("{}: {}", label.en, error.en),
                )
            }
        }
    }
}

impl fmt::Display for HouseholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl HouseholdDraft {
    /// Checks the structural rules and returns every breach, not only the first.
    pub fn build(self) -> Result<Household, Vec<HouseholdError>> {
        let mut errors = Vec::new();
        if self.division.level() != crate::DivisionLevel::Village {
            errors.push(HouseholdError::NotAVillage(self.division));
        }
        if self.members.is_empty() {
            errors.push(HouseholdError::NoMembers);
        } else {
            match self
                .members
                .iter()
                .filter(|m| m.relation == Relation::Head)
                .count()
            {
                0 => errors.push(HouseholdError::NoHead),
                1 => {}
                n => errors.push(HouseholdError::SeveralHeads(n)),
            }
        }
        for (i, m) in self.members.iter().enumerate() {
            if self.members[..i]
                .iter()
                .any(|other| other.document.id() == m.document.id())
            {
                errors.push(HouseholdError::DuplicateMember(i));
            }
        }
        match (self.household_type, self.lifted_out_year) {
            (HouseholdType::LiftedOut, None) => errors.push(HouseholdError::LiftedOutYearMissing),
            (HouseholdType::LiftedOut, Some(y)) if !LIFTED_OUT_YEARS.contains(&y) => {
                errors.push(HouseholdError::LiftedOutYearOutOfRange(y))
            }
            (HouseholdType::Ordinary, Some(y)) => {
                errors.push(HouseholdError::LiftedOutYearForOrdinary(y))
            }
            _ => {}
        }
        let free_texts = std::iter::once((FreeTextField::Address, &self.address)).chain(
            self.members
                .iter()
                .enumerate()
                .map(|(i, m)| (FreeTextField::Ethnicity(i), &m.ethnicity)),
        );
        for (field, value) in free_texts {
            if let Some(Err(e)) = value.as_deref().map(|v| check_characters(v, Lines::One)) {
                errors.push(HouseholdError::Characters(field, e));
            }
        }
        match (self.monitoring_category, self.household_type) {
            (Some(c @ MonitoringCategory::UnstableLiftedOut), t @ HouseholdType::Ordinary)
            | (Some(c @ MonitoringCategory::MarginalAtRisk), t @ HouseholdType::LiftedOut) => {
                errors.push(HouseholdError::CategoryContradictsType(c, t))
            }
            _ => {}
        }
        if errors.is_empty() {
            Ok(Household(self))
        } else {
            Err(errors)
        }
    }
}

/// A household that satisfies the structural rules. Read its fields through `Deref`; change it
/// by building a new draft (`to_draft`), which is checked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household(HouseholdDraft);

impl Deref for Household {
    type Target = HouseholdDraft;
    fn deref(&self) -> &HouseholdDraft {
        &self.0
    }
}

impl Household {
    pub fn to_draft(&self) -> HouseholdDraft {
        self.0.clone()
    }

    pub fn into_draft(self) -> HouseholdDraft {
        self.0
    }

    pub fn head(&self) -> &Member {
        // `build` guarantees exactly one head.
        self.members
            .iter()
            .find(|m| m.relation == Relation::Head)
            .unwrap_or(&self.members[0])
    }

    pub fn member_count(&self) -> u32 {
        self.members.len() as u32
    }

    pub fn per_capita_net_income(&self) -> Fen {
        self.income
            .per_capita_net(self.member_count())
            .unwrap_or(Fen::ZERO)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::id_number::IdNumber;
    use time::macros::date;

    pub fn member(id: &str, relation: Relation) -> Member {
        Member {
            name: PersonName::parse("测试").unwrap(),
            document: DocumentNumber::Resident(
                IdNumber::parse_at(id, date!(2026 - 01 - 01)).unwrap(),
            ),
            relation,
            ethnicity: None,
            education: Some(Education::Primary),
            school_status: None,
            health: Health::HEALTHY,
            labor: Labor::Ordinary,
            work_months: None,
            medical_insurance: true,
            dibao: None,
        }
    }

    pub fn draft(members: Vec<Member>) -> HouseholdDraft {
        HouseholdDraft {
            household_no: HouseholdNo::parse("CK-0001").unwrap(),
            division: DivisionCode::parse("500229102201").unwrap(),
            household_type: HouseholdType::LiftedOut,
            lifted_out_year: Some(2019),
            monitoring_category: None,
            phone: None,
            address: None,
            village_group: None,
            income: IncomeItems::default(),
            out_of_pocket: Fen::ZERO,
            housing_safe: Some(true),
            water_safe: Some(true),
            monitoring_outcome: MonitoringOutcome::default(),
            members,
        }
    }

    #[test]
    fn health_combinations() {
        let h = Health::parse("残疾，长期慢性病").unwrap();
        assert!(h.has(HealthCondition::Disabled) && h.has(HealthCondition::Chronic));
        assert_eq!(h.to_zh(), "长期慢性病,残疾");
        assert!(Health::parse("健康,残疾").is_err());
        assert!(Health::parse("").is_err());
        assert!(Health::parse("感冒").is_err());
    }

    #[test]
    fn control_and_direction_characters_in_free_text_are_refused() {
        let head = member("50022919900101001X", Relation::Head);
        let mut d = draft(vec![head.clone()]);
        d.address = Some("巫山县\u{0}双龙镇".into());
        d.members[0].ethnicity = Some("汉\u{202E}族".into());
        let errors = d.build().unwrap_err();
        assert_eq!(
            errors,
            vec![
                HouseholdError::Characters(
                    FreeTextField::Address,
                    TextError::ForbiddenCharacter {
                        position: 4,
                        character: '\u{0}'
                    }
                ),
                HouseholdError::Characters(
                    FreeTextField::Ethnicity(0),
                    TextError::ForbiddenCharacter {
                        position: 2,
                        character: '\u{202E}'
                    }
                ),
            ]
        );
        let message = errors[0].text();
        assert!(
            message.zh.starts_with("住址：第4个字符（U+0000）"),
            "{}",
            message.zh
        );
        assert!(
            message.en.starts_with("address: character 4 (U+0000)"),
            "{}",
            message.en
        );

        let mut d = draft(vec![head]);
        d.address = Some("重庆市巫山县双龙镇安静村3组".into());
        d.members[0].ethnicity = Some("土家族".into());
        assert!(d.build().is_ok());
    }

    #[test]
    fn structural_rules_block() {
        let head = member("50022919900101001X", Relation::Head);
        let ok = draft(vec![head.clone()]).build().unwrap();
        assert_eq!(ok.head().relation, Relation::Head);

        let errors = draft(vec![head.clone(), head.clone()]).build().unwrap_err();
        assert!(errors.contains(&HouseholdError::SeveralHeads(2)));
        assert!(errors.contains(&HouseholdError::DuplicateMember(1)));

        let mut d = draft(vec![member("500238198506150028", Relation::Spouse)]);
        d.lifted_out_year = None;
        d.monitoring_category = Some(MonitoringCategory::MarginalAtRisk);
        let errors = d.build().unwrap_err();
        assert!(errors.contains(&HouseholdError::NoHead));
        assert!(errors.contains(&HouseholdError::LiftedOutYearMissing));
        assert!(matches!(
            errors[2],
            HouseholdError::CategoryContradictsType(..)
        ));
    }
}
