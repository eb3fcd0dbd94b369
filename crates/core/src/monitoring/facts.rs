//! What the rules read about a household and its members ([`HouseholdFacts`], [`MemberFacts`]),
//! from a [`Household`] or from stored values.

use crate::enums::{HealthCondition, HouseholdType, Labor, SchoolStatus};
use crate::household::Household;
use crate::lang::Text;
use crate::money::Fen;
use crate::text;
use time::{Date, Month};

/// What the rules need to know about one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFacts {
    pub birth_date: Date,
    pub school_status: Option<SchoolStatus>,
    pub labor: Labor,
    pub medical_insurance: bool,
    pub disabled: bool,
    pub seriously_ill: bool,
}

/// What the rules need to know about one household; members are borrowed so that a snapshot
/// of a million households can hand out views without copying.
#[derive(Debug, Clone, Copy)]
pub struct HouseholdFacts<'a> {
    pub household_type: HouseholdType,
    pub per_capita_net_income: Fen,
    /// Last year's per-capita net income, when known.
    pub previous_per_capita_net_income: Option<Fen>,
    /// 合规自付支出: out-of-pocket spending after reimbursement.
    pub out_of_pocket: Fen,
    pub housing_safe: Option<bool>,
    pub water_safe: Option<bool>,
    /// The household's loss in a disaster, when a department reported one.
    pub disaster_loss: Option<Fen>,
    pub members: &'a [MemberFacts],
}

/// A value read back from the registry that zhenxing cannot read: the data was changed outside
/// zhenxing. `what` names the field in both languages.
pub fn unreadable_stored_value(what: &str, value: &str) -> Text {
    text!(
        "登记库中的{what}“{value}”无法识别（数据可能在系统外被改动）",
        "the registry holds a {what} '{value}' that zhenxing cannot read (changed outside zhenxing?)"
    )
}

/// A stored `YYYY-MM-DD` date, read without a format description (millions per screening).
pub fn parse_stored_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

impl MemberFacts {
    /// A member's facts from the registry's stored columns (codes as stored: the birth date as
    /// `YYYY-MM-DD`, the school status and labour codes, the health codes joined by commas).
    /// An unknown value is refused in words: the data was changed outside zhenxing.
    #[inline]
    pub fn from_stored(
        birth_date: &str,
        school_status: Option<&str>,
        health: &str,
        labor: &str,
        medical_insurance: bool,
    ) -> Result<MemberFacts, Text> {
        let unreadable = unreadable_stored_value;
        let birth = parse_stored_date(birth_date)
            .ok_or_else(|| unreadable("出生日期 / birth date", birth_date))?;
        let school_status = match school_status {
            None => None,
            Some(code) => Some(
                SchoolStatus::from_code(code)
                    .ok_or_else(|| unreadable("在校生状况 / school status", code))?,
            ),
        };
        let labor = Labor::from_code(labor)
            .ok_or_else(|| unreadable("劳动技能 / labour ability", labor))?;
        let mut disabled = false;
        let mut seriously_ill = false;
        for part in health.split(',') {
            match part {
                "disabled" => disabled = true,
                "serious_illness" => seriously_ill = true,
                "healthy" | "chronic" => {}
                other => return Err(unreadable("健康状况 / health", other)),
            }
        }
        Ok(MemberFacts {
            birth_date: birth,
            school_status,
            labor,
            medical_insurance,
            disabled,
            seriously_ill,
        })
    }

    pub fn of(household: &Household) -> Vec<MemberFacts> {
        MemberFacts::of_members(&household.members)
    }

    /// The facts of members not yet built into a household (a draft's).
    pub fn of_members(members: &[crate::household::Member]) -> Vec<MemberFacts> {
        members
            .iter()
            .map(|m| MemberFacts {
                birth_date: m.document.id().birth_date(),
                school_status: m.school_status,
                labor: m.labor,
                medical_insurance: m.medical_insurance,
                disabled: m.health.has(HealthCondition::Disabled),
                seriously_ill: m.health.has(HealthCondition::SeriousIllness),
            })
            .collect()
    }
}

impl<'a> HouseholdFacts<'a> {
    /// The facts of a registered household, with its members' facts from [`MemberFacts::of`].
    pub fn of(household: &Household, members: &'a [MemberFacts]) -> HouseholdFacts<'a> {
        HouseholdFacts {
            household_type: household.household_type,
            per_capita_net_income: household.per_capita_net_income(),
            previous_per_capita_net_income: None,
            out_of_pocket: household.out_of_pocket,
            housing_safe: household.housing_safe,
            water_safe: household.water_safe,
            disaster_loss: None,
            members,
        }
    }
}
