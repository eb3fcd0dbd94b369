//! Dynamic monitoring (DOMAIN.md 1.3 to 1.6): the screening rules as versioned data, and the
//! classification of one household under them.
//!
//! A [`RuleSet`] is data, not code: an effective year, a jurisdiction (a division code), a
//! version, the monitoring threshold (per-capita net income) and the screening triggers with
//! their parameters. Rule sets are stored and never edited in place: a change is a new version.
//! [`RuleSet::check`] refuses a rule set with missing or contradictory parameters, with the
//! reasons in both languages. [`builtin`] holds the 2021 Chongqing rule set (threshold 6,000
//! yuan, 渝委农组〔2021〕6号) and, for 2022 to 2025, ASSUMED values (`assumed: true`): the
//! province sets each year's threshold, and the bureau must enter the real ones as new versions.
//!
//! [`Prepared::classify`] is a pure function of a household's facts ([`HouseholdFacts`]):
//! which of the three categories it would fall into, which risk types apply (at most five), and
//! why ([`Reason`]: the input, the threshold, the rule and the rule set's year and version).
//!
//! What counts as a risk (the decisions, also in README.md):
//! - **Income alone.** A per-capita net income at or below the threshold is itself a risk
//!   signal that needs a home visit: it raises a warning with the reason `income` even when no
//!   other rule fires, and the household would be 脱贫不稳定户 (lifted out) or 边缘易致贫户
//!   (ordinary). Its risk type is then 其他 until a cadre finds the cause, unless the household's
//!   members explain it: a member with a disability adds 因残, one with a serious illness 因病.
//! - **Context rules** explain a warning but never raise one on their own: a disabled or
//!   seriously ill member, and a **whole household without labour ability** (缺劳动力). On
//!   the synthetic registry one household in eight has no labour (elderly people living on
//!   pensions, most of them well above the threshold); warning on each would bury the inbox.
//!   With a low income or another warning, it adds 缺劳动力 and its reason, and DOMAIN.md 1.9
//!   keeps such a household monitored.
//! - **Above the threshold**, only a sudden severe difficulty makes the household
//!   突发严重困难户: large out-of-pocket medical spending, a sudden large income loss, a large
//!   disaster loss. The 三保障 and drinking-water triggers (a child out of school, unsafe
//!   housing, unsafe water, a member without basic medical insurance) still raise a warning,
//!   without a category: the problem must be fixed by the department concerned even when the
//!   household is not monitored.
//! - **Unknown is not unsafe.** Housing or water safety left blank does not fire a rule.
//! - **Out of school** means a child of compulsory-education age (7 to 15 by default, the same
//!   ages as the consistency check `school_age_not_in_school`) recorded with no school status or
//!   as "below school age"; a child in kindergarten or already in senior high school is not out
//!   of school.
//! - **Income loss** needs last year's per-capita net income; the registry keeps no income
//!   history yet, so the rule is disabled in the built-in rule sets. Its cause is unknown from
//!   the figures, so its risk type is 其他.
//! - **Department data** ([`Prepared::classify_department`], DOMAIN.md 1.6 部门筛查预警): other
//!   departments' records matched to a household feed the same triggers: medical claims (the
//!   household's out-of-pocket amounts in one file summed, against the lifted-out or the
//!   others' threshold), a child reported dropped out or not enrolled, a house assessed C or D,
//!   disaster losses (summed; on in the built-in rule sets from 10,000 yuan), and three
//!   triggers that only department data feeds: `member_died` (其他), `unemployed`
//!   (因务工就业不稳) and `allowance_stopped` (其他; an allowance granted is context, see
//!   [`crate::department`]). Rule sets saved before these three existed lack them, which
//!   means off; a new rule set must say on or off like every other trigger.

use crate::department::{AllowanceKind, DisasterKind, EnrolmentStatus, HousingGrade, Signal};
use crate::division::{DivisionCode, DivisionLevel};
use crate::enums::labelled_enum;
use crate::enums::{HealthCondition, HouseholdType, Labor, MonitoringCategory, SchoolStatus};
use crate::household::Household;
use crate::lang::Text;
use crate::money::Fen;
use crate::text;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

labelled_enum!(
    /// 致贫/返贫风险 (DOMAIN.md 1.5): up to five per household.
    RiskType, "风险类型", "risk type", [
    (Illness, "illness", "因病", "illness"),
    (Disability, "disability", "因残", "disability"),
    (Schooling, "schooling", "因学", "schooling"),
    (Accident, "accident", "因意外事故", "accident"),
    (IndustryFailure, "industry_failure", "因产业失败", "failure of the household's business"),
    (UnstableEmployment, "unstable_employment", "因务工就业不稳", "unstable work or employment"),
    (LackOfLabor, "lack_of_labor", "缺劳动力", "lack of labour"),
    (NaturalDisaster, "natural_disaster", "因自然灾害", "natural disaster"),
    (UnsafeHousing, "unsafe_housing", "因安全住房", "unsafe housing"),
    (UnsafeWater, "unsafe_water", "因安全饮水", "unsafe drinking water"),
    (Other, "other", "其他", "other"),
]);

labelled_enum!(
    /// The rules of a rule set, by their stable ids (recorded with every warning).
    RuleId, "筛查规则", "screening rule", [
    (Income, "income", "人均纯收入不高于监测范围", "per-capita net income at or below the monitoring threshold"),
    (MedicalOutOfPocket, "medical_out_of_pocket", "合规自付医疗支出较大", "large out-of-pocket medical spending"),
    (ChildOutOfSchool, "child_out_of_school", "义务教育阶段适龄儿童少年失学辍学", "child of compulsory-school age out of school"),
    (UnsafeHousing, "unsafe_housing", "住房出现安全问题", "unsafe housing"),
    (UnsafeWater, "unsafe_water", "饮水出现安全问题", "unsafe drinking water"),
    (NoMedicalInsurance, "no_medical_insurance", "有家庭成员未参加基本医疗保险", "a member without basic medical insurance"),
    (NoLaborAbility, "no_labor_ability", "整户无劳动能力", "whole household without labour ability"),
    (IncomeDrop, "income_drop", "收入大幅缩减", "sudden large income loss"),
    (DisasterLoss, "disaster_loss", "因灾损失较大", "large disaster loss"),
    (DisabledMember, "disabled_member", "家庭成员残疾", "a member with a disability"),
    (SeriouslyIllMember, "seriously_ill_member", "家庭成员患有大病", "a member with a serious illness"),
    (MemberDied, "member_died", "家庭成员死亡", "a member died"),
    (Unemployed, "unemployed", "家庭成员登记失业", "a member registered as unemployed"),
    (AllowanceStopped, "allowance_stopped", "社会救助停发", "social assistance stopped"),
    (AllowanceGranted, "allowance_granted", "正在享受社会救助", "receiving social assistance"),
]);

/// Chongqing (the municipality), the jurisdiction of the built-in rule sets.
pub const CHONGQING: &str = "500000000000";
/// The years a rule set may take effect: the transition period and the normalised mechanism
/// after it.
pub const RULE_YEARS: std::ops::RangeInclusive<u16> = 2021..=2035;
/// No threshold of per-capita net income comes near this; larger values are typos.
const MAX_THRESHOLD: Fen = Fen(100_000 * 100);

/// A trigger that is on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub enabled: bool,
}

/// Out-of-pocket (合规自付) medical spending at or above an amount (DOMAIN.md 1.6: 5,000 yuan
/// for lifted-out households, 20,000 for others in one county's screening).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedicalTrigger {
    pub enabled: bool,
    #[serde(default, with = "yuan", rename = "lifted_out_yuan")]
    pub lifted_out: Option<Fen>,
    #[serde(default, with = "yuan", rename = "others_yuan")]
    pub others: Option<Fen>,
}

/// A child of compulsory-education age (inclusive ages) out of school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolTrigger {
    pub enabled: bool,
    #[serde(default)]
    pub min_age: Option<u8>,
    #[serde(default)]
    pub max_age: Option<u8>,
}

/// Per-capita net income fell by at least this percentage from the previous year's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomeDropTrigger {
    pub enabled: bool,
    #[serde(default)]
    pub percent: Option<u8>,
}

/// A household's loss in a disaster at or above an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisasterTrigger {
    pub enabled: bool,
    #[serde(default, with = "yuan", rename = "loss_yuan")]
    pub loss: Option<Fen>,
}

/// The screening triggers. Each must be present in a rule set, on or off, so that a file
/// never switches a rule off by leaving it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub medical_out_of_pocket: Option<MedicalTrigger>,
    #[serde(default)]
    pub child_out_of_school: Option<SchoolTrigger>,
    #[serde(default)]
    pub unsafe_housing: Option<Switch>,
    #[serde(default)]
    pub unsafe_water: Option<Switch>,
    #[serde(default)]
    pub no_medical_insurance: Option<Switch>,
    #[serde(default)]
    pub no_labor_ability: Option<Switch>,
    #[serde(default)]
    pub income_drop: Option<IncomeDropTrigger>,
    #[serde(default)]
    pub disaster_loss: Option<DisasterTrigger>,
    /// A member's death reported by civil affairs (department data; 其他). Rule sets saved
    /// before this trigger existed lack it: missing means off when evaluating.
    #[serde(default)]
    pub member_died: Option<Switch>,
    /// A member registered as unemployed (department data; 因务工就业不稳).
    #[serde(default)]
    pub unemployed: Option<Switch>,
    /// Minimum living allowance, extreme-poverty support or temporary assistance stopped
    /// (department data; 其他).
    #[serde(default)]
    pub allowance_stopped: Option<Switch>,
}

/// A versioned set of monitoring rules. Amounts are written in yuan in files (`threshold_yuan`:
/// `6000` or `"6000.50"`). Fields left out of a file are reported by [`RuleSet::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default)]
    pub year: u16,
    /// The division the rule set applies to (12 digits; the municipality or a county).
    #[serde(default)]
    pub jurisdiction: String,
    /// Assigned by the store when the rule set is saved: 1, 2, ... per year and jurisdiction.
    #[serde(default)]
    pub version: u32,
    /// The values are assumptions (demo), not the province's published ones.
    #[serde(default)]
    pub assumed: bool,
    #[serde(default)]
    pub note: Option<Text>,
    /// 监测范围: per-capita net income at or below this is within the monitoring range.
    #[serde(default, with = "yuan", rename = "threshold_yuan")]
    pub threshold: Option<Fen>,
    #[serde(default)]
    pub triggers: Triggers,
}

/// Amounts in yuan: written as a whole number when they are whole yuan, else as a string with
/// two decimals; read from a number of whole yuan or a string in any form [`Fen::parse`] takes.
mod yuan {
    use crate::money::Fen;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Fen>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            None => s.serialize_none(),
            Some(f) if f.0 % 100 == 0 => s.serialize_i64(f.0 / 100),
            Some(f) => s.serialize_str(&f.to_string()),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Fen>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Int(y)) => y
                .checked_mul(100)
                .map(|f| Some(Fen(f)))
                .ok_or_else(|| serde::de::Error::custom(format!("{y} yuan is too large"))),
            Some(Raw::Text(t)) => Fen::parse(&t)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(e.text())),
        }
    }
}

impl RuleSet {
    /// Every missing or contradictory parameter, in words; empty when the rule set can be used.
    pub fn problems(&self) -> Vec<Text> {
        let mut out = Vec::new();
        let year = self.year;
        let (first, last) = (RULE_YEARS.start(), RULE_YEARS.end());
        if year == 0 {
            out.push(text!(
                "缺少生效年度（year）",
                "the effective year (year) is missing"
            ));
        } else if !RULE_YEARS.contains(&year) {
            out.push(text!(
                "生效年度{year}不在{first}至{last}之间",
                "the effective year {year} is not between {first} and {last}"
            ));
        }
        match DivisionCode::parse(&self.jurisdiction) {
            Ok(code)
                if matches!(
                    code.level(),
                    DivisionLevel::Province | DivisionLevel::County
                ) => {}
            Ok(code) => out.push(text!(
                "适用区划{code}须为市（省）级或区县级",
                "the jurisdiction {code} must be the municipality (province) or a county"
            )),
            Err(e) => {
                let (zh, en) = (e.text().zh, e.text().en);
                out.push(text!(
                    "适用区划（jurisdiction）有误：{zh}",
                    "the jurisdiction is not valid: {en}"
                ))
            }
        }
        match self.threshold {
            None => out.push(text!(
                "缺少监测范围（threshold_yuan，人均纯收入，元）",
                "the monitoring threshold (threshold_yuan, per-capita net income in yuan) is missing"
            )),
            Some(t) if t.0 <= 0 => out.push(text!(
                "监测范围须大于0元，此处为{t}元",
                "the monitoring threshold must be above 0 yuan; here it is {t}"
            )),
            Some(t) if t > MAX_THRESHOLD => out.push(text!(
                "监测范围{t}元过大（超过100000元），请核对",
                "the monitoring threshold {t} yuan is implausibly large (over 100000); check it"
            )),
            Some(_) => {}
        }
        let t = &self.triggers;
        let missing = |name: &str| {
            text!(
                "缺少筛查规则“{name}”：请写明启用（\"enabled\": true）或停用（\"enabled\": false）",
                "the screening rule '{name}' is missing: say whether it is on (\"enabled\": true) or off (\"enabled\": false)"
            )
        };
        let positive = |name: &str, field: &str, value: Option<Fen>, out: &mut Vec<Text>| {
            match value
        {
            None => out.push(text!(
                "筛查规则“{name}”已启用，但缺少参数{field}",
                "the screening rule '{name}' is on but its parameter {field} is missing"
            )),
            Some(v) if v.0 <= 0 => out.push(text!(
                "筛查规则“{name}”的参数{field}须大于0元，此处为{v}元",
                "the parameter {field} of the screening rule '{name}' must be above 0 yuan; here it is {v}"
            )),
            Some(_) => {}
        }
        };
        match t.medical_out_of_pocket {
            None => out.push(missing("medical_out_of_pocket")),
            Some(m) if m.enabled => {
                positive(
                    "medical_out_of_pocket",
                    "lifted_out_yuan",
                    m.lifted_out,
                    &mut out,
                );
                positive("medical_out_of_pocket", "others_yuan", m.others, &mut out);
                if let (Some(l), Some(o)) = (m.lifted_out, m.others)
                    && l > o
                {
                    out.push(text!(
                        "医疗自付筛查线自相矛盾：脱贫户{l}元高于其他农户{o}元；脱贫人口应在更低的支出上预警",
                        "the medical spending thresholds contradict each other: {l} yuan for lifted-out households is above {o} for others; lifted-out households are screened at a lower amount"
                    ));
                }
            }
            Some(_) => {}
        }
        match t.child_out_of_school {
            None => out.push(missing("child_out_of_school")),
            Some(s) if s.enabled => match (s.min_age, s.max_age) {
                (Some(min), Some(max)) => {
                    if min > max {
                        out.push(text!(
                            "义务教育年龄自相矛盾：起始{min}岁大于截止{max}岁",
                            "the compulsory-education ages contradict each other: from {min} is above to {max}"
                        ));
                    }
                    if !(3..=18).contains(&min) || !(3..=18).contains(&max) {
                        out.push(text!(
                            "义务教育年龄{min}至{max}岁不在3至18岁之间",
                            "the compulsory-education ages {min} to {max} are not between 3 and 18"
                        ));
                    }
                }
                _ => out.push(text!(
                    "筛查规则“child_out_of_school”已启用，但缺少年龄参数min_age或max_age",
                    "the screening rule 'child_out_of_school' is on but its ages min_age or max_age are missing"
                )),
            },
            Some(_) => {}
        }
        for (name, switch) in [
            ("unsafe_housing", t.unsafe_housing),
            ("unsafe_water", t.unsafe_water),
            ("no_medical_insurance", t.no_medical_insurance),
            ("no_labor_ability", t.no_labor_ability),
            ("member_died", t.member_died),
            ("unemployed", t.unemployed),
            ("allowance_stopped", t.allowance_stopped),
        ] {
            if switch.is_none() {
                out.push(missing(name));
            }
        }
        match t.income_drop {
            None => out.push(missing("income_drop")),
            Some(d) if d.enabled => match d.percent {
                None => out.push(text!(
                    "筛查规则“income_drop”已启用，但缺少降幅参数percent",
                    "the screening rule 'income_drop' is on but its parameter percent is missing"
                )),
                Some(p) if !(1..=99).contains(&p) => out.push(text!(
                    "收入降幅{p}%须在1%至99%之间",
                    "the income drop of {p}% must be between 1% and 99%"
                )),
                Some(_) => {}
            },
            Some(_) => {}
        }
        match t.disaster_loss {
            None => out.push(missing("disaster_loss")),
            Some(d) if d.enabled => positive("disaster_loss", "loss_yuan", d.loss, &mut out),
            Some(_) => {}
        }
        out
    }

    /// Refuses a rule set with missing or contradictory parameters, with every reason.
    pub fn check(&self) -> Result<(), Vec<Text>> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// "2021年重庆规则集第1版" / "rule set 2021/500000000000 version 1".
    pub fn label(&self) -> Text {
        let (y, j, v) = (self.year, &self.jurisdiction, self.version);
        let assumed = if self.assumed {
            Text::new("（假定值）", " (assumed values)")
        } else {
            Text::new("", "")
        };
        let (azh, aen) = (assumed.zh, assumed.en);
        text!(
            "{y}年度规则集（区划{j}）第{v}版{azh}",
            "rule set {y} for {j}, version {v}{aen}"
        )
    }

    /// The rules made ready for evaluation on `today` (ages are counted on that day).
    pub fn prepare(&self, today: Date) -> Prepared<'_> {
        let school = self
            .triggers
            .child_out_of_school
            .filter(|s| s.enabled)
            .and_then(|s| Some((s.min_age?, s.max_age?)))
            .filter(|(min, max)| min <= max)
            .map(|(min, max)| SchoolWindow {
                min,
                max,
                born_after: years_before(today, i32::from(max) + 1),
                born_on_or_before: years_before(today, i32::from(min)),
            });
        Prepared {
            rules: self,
            today,
            school,
        }
    }
}

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
        // No income history in the registry yet: see the module documentation.
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
    };
    let mut sets = vec![RuleSet {
        year: 2021,
        jurisdiction: CHONGQING.into(),
        version: 1,
        assumed: false,
        note: Some(Text::new(
            "监测范围6000元依据渝委农组〔2021〕6号；医疗自付筛查线（脱贫人口5000元、其他20000元）参照区县部门筛查实践",
            "threshold 6000 yuan per 渝委农组〔2021〕6号; the medical spending thresholds (5000 yuan for lifted-out households, 20000 for others) follow counties' department-screening practice",
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
        household
            .members
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

/// Why a rule fired: the input and the threshold, as numbers; [`Reason::text`] says it in
/// words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Income {
        per_capita: Fen,
        threshold: Fen,
    },
    Medical {
        out_of_pocket: Fen,
        threshold: Fen,
        lifted_out: bool,
    },
    OutOfSchool {
        /// Index of the member in the household.
        member: u16,
        age: i32,
        min_age: u8,
        max_age: u8,
    },
    UnsafeHousing,
    UnsafeWater,
    NoMedicalInsurance {
        uninsured: u16,
        members: u16,
    },
    NoLaborAbility {
        members: u16,
    },
    IncomeDrop {
        previous: Fen,
        current: Fen,
        /// The drop in whole percent (rounded down).
        drop_percent: i64,
        threshold_percent: u8,
    },
    DisasterLoss {
        loss: Fen,
        threshold: Fen,
    },
    DisabledMembers {
        count: u16,
    },
    SeriouslyIllMembers {
        count: u16,
    },
    /// Out-of-pocket spending summed over a household's claims in a medical insurance file.
    MedicalClaims {
        out_of_pocket: Fen,
        threshold: Fen,
        lifted_out: bool,
        claims: u16,
    },
    /// A child the education bureau reports as dropped out or not enrolled.
    DroppedOut {
        member: u16,
        age: i32,
        min_age: u8,
        max_age: u8,
        status: EnrolmentStatus,
        date: Date,
    },
    /// A housing safety assessment of grade C or D.
    DangerousHouse {
        grade: HousingGrade,
        date: Date,
    },
    /// Disaster losses reported by emergency management, summed per household.
    DisasterReported {
        loss: Fen,
        threshold: Fen,
        kind: DisasterKind,
        date: Date,
    },
    MemberDied {
        member: u16,
        date: Date,
    },
    Unemployed {
        member: u16,
        date: Date,
    },
    AllowanceStopped {
        member: u16,
        kind: AllowanceKind,
        date: Date,
    },
    AllowanceGranted {
        member: u16,
        kind: AllowanceKind,
        date: Date,
    },
}

/// One rule that fired on a household, with the rule set that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    pub detail: Detail,
    pub risk: Option<RiskType>,
    pub rule_set_year: u16,
    pub rule_set_version: u32,
}

impl Reason {
    pub fn rule(&self) -> RuleId {
        match self.detail {
            Detail::Income { .. } => RuleId::Income,
            Detail::Medical { .. } => RuleId::MedicalOutOfPocket,
            Detail::OutOfSchool { .. } => RuleId::ChildOutOfSchool,
            Detail::UnsafeHousing => RuleId::UnsafeHousing,
            Detail::UnsafeWater => RuleId::UnsafeWater,
            Detail::NoMedicalInsurance { .. } => RuleId::NoMedicalInsurance,
            Detail::NoLaborAbility { .. } => RuleId::NoLaborAbility,
            Detail::IncomeDrop { .. } => RuleId::IncomeDrop,
            Detail::DisasterLoss { .. } => RuleId::DisasterLoss,
            Detail::DisabledMembers { .. } => RuleId::DisabledMember,
            Detail::SeriouslyIllMembers { .. } => RuleId::SeriouslyIllMember,
            Detail::MedicalClaims { .. } => RuleId::MedicalOutOfPocket,
            Detail::DroppedOut { .. } => RuleId::ChildOutOfSchool,
            Detail::DangerousHouse { .. } => RuleId::UnsafeHousing,
            Detail::DisasterReported { .. } => RuleId::DisasterLoss,
            Detail::MemberDied { .. } => RuleId::MemberDied,
            Detail::Unemployed { .. } => RuleId::Unemployed,
            Detail::AllowanceStopped { .. } => RuleId::AllowanceStopped,
            Detail::AllowanceGranted { .. } => RuleId::AllowanceGranted,
        }
    }

    /// A rule about a sudden severe difficulty (突发严重困难).
    pub fn is_sudden(&self) -> bool {
        matches!(
            self.detail,
            Detail::Medical { .. }
                | Detail::MedicalClaims { .. }
                | Detail::IncomeDrop { .. }
                | Detail::DisasterLoss { .. }
                | Detail::DisasterReported { .. }
        )
    }

    /// Context rules explain a risk but never raise a warning on their own.
    pub fn is_context(&self) -> bool {
        matches!(
            self.detail,
            Detail::DisabledMembers { .. }
                | Detail::SeriouslyIllMembers { .. }
                | Detail::NoLaborAbility { .. }
                | Detail::AllowanceGranted { .. }
        )
    }

    /// The reason in words: the input, the threshold, and the rule with its rule set.
    pub fn text(&self) -> Text {
        self.text_from(None)
    }

    /// [`Reason::text`], with where the data came from (a department's file: see
    /// [`crate::department::DepartmentSource::text`]) after the rule set.
    pub fn text_from(&self, source: Option<&Text>) -> Text {
        let body = match self.detail {
            Detail::Income {
                per_capita,
                threshold,
            } => text!(
                "人均纯收入{per_capita}元，不高于监测范围{threshold}元，有返贫致贫风险，须入户核实",
                "per-capita net income {per_capita} yuan is at or below the monitoring threshold of {threshold} yuan: a risk to verify at home"
            ),
            Detail::Medical {
                out_of_pocket,
                threshold,
                lifted_out,
            } => {
                let (who_zh, who_en) = if lifted_out {
                    ("脱贫户", "lifted-out households")
                } else {
                    ("其他农户", "other households")
                };
                text!(
                    "合规自付支出{out_of_pocket}元，达到{who_zh}医疗自付筛查线{threshold}元",
                    "out-of-pocket spending of {out_of_pocket} yuan reaches the medical screening threshold for {who_en} of {threshold} yuan"
                )
            }
            Detail::OutOfSchool {
                member,
                age,
                min_age,
                max_age,
            } => {
                let n = member + 1;
                text!(
                    "第{n}名成员{age}岁，处于义务教育年龄（{min_age}至{max_age}岁），未登记在校",
                    "member {n} is {age}, of compulsory-education age ({min_age} to {max_age}), and not recorded in school"
                )
            }
            Detail::UnsafeHousing => text!("住房安全登记为“否”", "housing is recorded as not safe"),
            Detail::UnsafeWater => text!(
                "饮水安全登记为“否”",
                "drinking water is recorded as not safe"
            ),
            Detail::NoMedicalInsurance { uninsured, members } => text!(
                "{members}名成员中有{uninsured}名未参加基本医疗保险（筛查线：1名）",
                "{uninsured} of {members} members have no basic medical insurance (threshold: 1)"
            ),
            Detail::NoLaborAbility { members } => text!(
                "全部{members}名成员均无劳动力或丧失劳动力",
                "all {members} members have no or lost labour ability"
            ),
            Detail::IncomeDrop {
                previous,
                current,
                drop_percent,
                threshold_percent,
            } => text!(
                "人均纯收入由{previous}元降至{current}元，降幅{drop_percent}%，达到筛查线{threshold_percent}%",
                "per-capita net income fell from {previous} to {current} yuan, by {drop_percent}%, reaching the screening threshold of {threshold_percent}%"
            ),
            Detail::DisasterLoss { loss, threshold } => text!(
                "因灾损失{loss}元，达到筛查线{threshold}元",
                "a disaster loss of {loss} yuan reaches the screening threshold of {threshold} yuan"
            ),
            Detail::DisabledMembers { count } => {
                text!("{count}名成员残疾", "{count} member(s) with a disability")
            }
            Detail::SeriouslyIllMembers { count } => text!(
                "{count}名成员患有大病",
                "{count} member(s) with a serious illness"
            ),
            Detail::MedicalClaims {
                out_of_pocket,
                threshold,
                lifted_out,
                claims,
            } => {
                let (who_zh, who_en) = if lifted_out {
                    ("脱贫户", "lifted-out households")
                } else {
                    ("其他农户", "other households")
                };
                let record_en = if claims == 1 { "claim" } else { "claims" };
                text!(
                    "医保结算{claims}笔，合规自付支出合计{out_of_pocket}元，达到{who_zh}医疗自付筛查线{threshold}元",
                    "{claims} medical insurance {record_en} with out-of-pocket spending of {out_of_pocket} yuan in all, reaching the medical screening threshold for {who_en} of {threshold} yuan"
                )
            }
            Detail::DroppedOut {
                member,
                age,
                min_age,
                max_age,
                status,
                date,
            } => {
                let n = member + 1;
                let (szh, sen) = (status.zh(), status.en());
                text!(
                    "第{n}名成员{age}岁，处于义务教育年龄（{min_age}至{max_age}岁），教育部门报告其{date}起{szh}",
                    "member {n} is {age}, of compulsory-education age ({min_age} to {max_age}), and the education bureau reports them {sen} since {date}"
                )
            }
            Detail::DangerousHouse { grade, date } => {
                let (gzh, gen_) = (grade.zh(), grade.en());
                text!(
                    "住房安全性鉴定为{gzh}危房（{date}鉴定；C级、D级为危房）",
                    "the house was assessed {gen_} on {date}, a dangerous house (grades C and D are dangerous)"
                )
            }
            Detail::DisasterReported {
                loss,
                threshold,
                kind,
                date,
            } => {
                let (kzh, ken) = (kind.zh(), kind.en());
                text!(
                    "因灾（{kzh}，{date}）损失{loss}元，达到筛查线{threshold}元",
                    "a disaster loss ({ken}, {date}) of {loss} yuan reaches the screening threshold of {threshold} yuan"
                )
            }
            Detail::MemberDied { member, date } => {
                let n = member + 1;
                text!(
                    "第{n}名成员于{date}死亡，家庭劳动力、收入和人口须重新核实",
                    "member {n} died on {date}: the household's labour, income and size must be verified again"
                )
            }
            Detail::Unemployed { member, date } => {
                let n = member + 1;
                text!(
                    "第{n}名成员于{date}登记失业",
                    "member {n} registered as unemployed on {date}"
                )
            }
            Detail::AllowanceStopped { member, kind, date } => {
                let n = member + 1;
                let (kzh, ken) = (kind.zh(), kind.en());
                text!(
                    "第{n}名成员的{kzh}于{date}停发，须核实家庭是否有返贫致贫风险",
                    "member {n}'s {ken} stopped on {date}: check that the household does not fall back"
                )
            }
            Detail::AllowanceGranted { member, kind, date } => {
                let n = member + 1;
                let (kzh, ken) = (kind.zh(), kind.en());
                text!(
                    "第{n}名成员自{date}享受{kzh}（已有兜底保障）",
                    "member {n} receives {ken} since {date} (already assisted)"
                )
            }
        };
        let rule = self.rule().code();
        let (y, v) = (self.rule_set_year, self.rule_set_version);
        let (zh, en) = (body.zh, body.en);
        match source {
            None => text!(
                "{zh}（规则{rule}，{y}年度规则集第{v}版）",
                "{en} (rule {rule}, rule set {y} version {v})"
            ),
            Some(source) => {
                let (szh, sen) = (&source.zh, &source.en);
                text!(
                    "{zh}（规则{rule}，{y}年度规则集第{v}版；{szh}）",
                    "{en} (rule {rule}, rule set {y} version {v}; {sen})"
                )
            }
        }
    }
}

/// The classification of one household under a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assessment {
    /// The category the household would fall into (DOMAIN.md 1.3), if any.
    pub category: Option<MonitoringCategory>,
    /// At most five, strongest first.
    pub risk_types: Vec<RiskType>,
    /// Every rule that fired, warning rules first.
    pub reasons: Vec<Reason>,
}

impl Assessment {
    /// Whether the household gets a warning: a rule other than a context rule fired.
    pub fn raises_warning(&self) -> bool {
        self.reasons.iter().any(|r| !r.is_context())
    }
}

/// The most risk types a household carries (致贫/返贫风险1…5).
pub const MAX_RISK_TYPES: usize = 5;

#[derive(Debug, Clone, Copy)]
struct SchoolWindow {
    min: u8,
    max: u8,
    /// Born after this day: not yet `max + 1` years old.
    born_after: Date,
    /// Born on or before this day: at least `min` years old.
    born_on_or_before: Date,
}

/// A rule set ready for evaluation on one day.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<'r> {
    pub rules: &'r RuleSet,
    pub today: Date,
    school: Option<SchoolWindow>,
}

impl Prepared<'_> {
    /// Classifies one household. Pure, and allocation-free for a household no rule fires on.
    pub fn classify(&self, h: &HouseholdFacts<'_>) -> Assessment {
        let rules = self.rules;
        let t = &rules.triggers;
        let reason = |detail: Detail, risk: Option<RiskType>| Reason {
            detail,
            risk,
            rule_set_year: rules.year,
            rule_set_version: rules.version,
        };
        let mut reasons: Vec<Reason> = Vec::new();
        let lifted_out = h.household_type == HouseholdType::LiftedOut;
        let at_or_below = rules
            .threshold
            .is_some_and(|threshold| h.per_capita_net_income <= threshold);
        if let (true, Some(threshold)) = (at_or_below, rules.threshold) {
            reasons.push(reason(
                Detail::Income {
                    per_capita: h.per_capita_net_income,
                    threshold,
                },
                None,
            ));
        }
        if let Some(m) = t.medical_out_of_pocket.filter(|m| m.enabled) {
            let threshold = if lifted_out { m.lifted_out } else { m.others };
            if let Some(threshold) = threshold
                && threshold.0 > 0
                && h.out_of_pocket >= threshold
            {
                reasons.push(reason(
                    Detail::Medical {
                        out_of_pocket: h.out_of_pocket,
                        threshold,
                        lifted_out,
                    },
                    Some(RiskType::Illness),
                ));
            }
        }
        if let Some(w) = self.school {
            for (i, m) in h.members.iter().enumerate() {
                if m.birth_date > w.born_after
                    && m.birth_date <= w.born_on_or_before
                    && !m.school_status.is_some_and(SchoolStatus::is_enrolled)
                {
                    reasons.push(reason(
                        Detail::OutOfSchool {
                            member: u16::try_from(i).unwrap_or(u16::MAX),
                            age: age_on(m.birth_date, self.today),
                            min_age: w.min,
                            max_age: w.max,
                        },
                        Some(RiskType::Schooling),
                    ));
                }
            }
        }
        if t.unsafe_housing.is_some_and(|s| s.enabled) && h.housing_safe == Some(false) {
            reasons.push(reason(Detail::UnsafeHousing, Some(RiskType::UnsafeHousing)));
        }
        if t.unsafe_water.is_some_and(|s| s.enabled) && h.water_safe == Some(false) {
            reasons.push(reason(Detail::UnsafeWater, Some(RiskType::UnsafeWater)));
        }
        let members = count(h.members.len());
        if t.no_medical_insurance.is_some_and(|s| s.enabled) {
            let uninsured = count(h.members.iter().filter(|m| !m.medical_insurance).count());
            if uninsured > 0 {
                reasons.push(reason(
                    Detail::NoMedicalInsurance { uninsured, members },
                    Some(RiskType::Illness),
                ));
            }
        }
        if t.no_labor_ability.is_some_and(|s| s.enabled)
            && !h.members.is_empty()
            && h.members.iter().all(|m| m.labor.is_without())
        {
            reasons.push(reason(
                Detail::NoLaborAbility { members },
                Some(RiskType::LackOfLabor),
            ));
        }
        if let Some(d) = t.income_drop.filter(|d| d.enabled)
            && let (Some(p), Some(previous)) = (d.percent, h.previous_per_capita_net_income)
            && previous.0 > 0
        {
            let current = h.per_capita_net_income;
            let drop = i128::from(previous.0) - i128::from(current.0);
            if drop * 100 >= i128::from(p) * i128::from(previous.0) {
                let drop_percent = i64::try_from(drop * 100 / i128::from(previous.0)).unwrap_or(0);
                reasons.push(reason(
                    Detail::IncomeDrop {
                        previous,
                        current,
                        drop_percent,
                        threshold_percent: p,
                    },
                    Some(RiskType::Other),
                ));
            }
        }
        if let Some(d) = t.disaster_loss.filter(|d| d.enabled)
            && let (Some(threshold), Some(loss)) = (d.loss, h.disaster_loss)
            && threshold.0 > 0
            && loss >= threshold
        {
            reasons.push(reason(
                Detail::DisasterLoss { loss, threshold },
                Some(RiskType::NaturalDisaster),
            ));
        }
        if reasons.iter().all(Reason::is_context) {
            return Assessment::default();
        }
        self.finish(h, reasons, at_or_below)
    }

    /// Classifies one household on what a department's records say about it (`signals`),
    /// with the registry's facts for context. Only the rules that department data feeds can
    /// raise the warning: out-of-pocket medical spending (the household's claims in the file
    /// summed), a child of compulsory-school age dropped out or not enrolled, a house assessed
    /// C or D, disaster losses (summed), a death, unemployment, assistance stopped. An
    /// allowance granted is context. When the household's income is at or below the
    /// threshold, the income rule is added first: it decides the category, as in
    /// [`Prepared::classify`]; the members' health and a household without labour ability add
    /// their context too. The registry's own signals (unsafe water, no insurance, ...) are
    /// the screening's, not repeated here.
    pub fn classify_department(&self, h: &HouseholdFacts<'_>, signals: &[Signal]) -> Assessment {
        let rules = self.rules;
        let t = &rules.triggers;
        let reason = |detail: Detail, risk: Option<RiskType>| Reason {
            detail,
            risk,
            rule_set_year: rules.year,
            rule_set_version: rules.version,
        };
        let lifted_out = h.household_type == HouseholdType::LiftedOut;
        let on = |s: Option<Switch>| s.is_some_and(|s| s.enabled);
        let mut out_of_pocket = Fen::ZERO;
        let mut claims: u16 = 0;
        let mut loss = Fen::ZERO;
        let mut largest: Option<(Fen, DisasterKind, Date)> = None;
        let mut house: Option<(HousingGrade, Date)> = None;
        let mut members: Vec<Reason> = Vec::new();
        let mut context: Vec<Reason> = Vec::new();
        let mut seen: Vec<(u8, u16, u8)> = Vec::new();
        let mut first = |key: (u8, u16, u8)| {
            if seen.contains(&key) {
                false
            } else {
                seen.push(key);
                true
            }
        };
        for signal in signals {
            match *signal {
                Signal::OutOfPocket { amount, .. } => {
                    out_of_pocket = Fen(out_of_pocket.0.saturating_add(amount.0));
                    claims = claims.saturating_add(1);
                }
                Signal::Disaster {
                    loss: l,
                    kind,
                    date,
                } => {
                    loss = Fen(loss.0.saturating_add(l.0));
                    if largest.is_none_or(|(m, _, _)| l > m) {
                        largest = Some((l, kind, date));
                    }
                }
                Signal::Housing { grade, date } => {
                    if house.is_none_or(|(g, _)| grade > g) {
                        house = Some((grade, date));
                    }
                }
                Signal::Enrolment {
                    member,
                    status,
                    date,
                } => {
                    let Some(w) = self.school else { continue };
                    let Some(m) = h.members.get(usize::from(member)) else {
                        continue;
                    };
                    if status != EnrolmentStatus::Enrolled
                        && m.birth_date > w.born_after
                        && m.birth_date <= w.born_on_or_before
                        && first((0, member, 0))
                    {
                        members.push(reason(
                            Detail::DroppedOut {
                                member,
                                age: age_on(m.birth_date, self.today),
                                min_age: w.min,
                                max_age: w.max,
                                status,
                                date,
                            },
                            Some(RiskType::Schooling),
                        ));
                    }
                }
                Signal::Died { member, date } => {
                    if on(t.member_died) && first((1, member, 0)) {
                        members.push(reason(
                            Detail::MemberDied { member, date },
                            Some(RiskType::Other),
                        ));
                    }
                }
                Signal::Unemployed { member, date } => {
                    if on(t.unemployed) && first((2, member, 0)) {
                        members.push(reason(
                            Detail::Unemployed { member, date },
                            Some(RiskType::UnstableEmployment),
                        ));
                    }
                }
                Signal::Allowance {
                    member,
                    kind,
                    stopped: true,
                    date,
                } => {
                    if on(t.allowance_stopped) && first((3, member, kind as u8)) {
                        members.push(reason(
                            Detail::AllowanceStopped { member, kind, date },
                            Some(RiskType::Other),
                        ));
                    }
                }
                Signal::Allowance {
                    member,
                    kind,
                    stopped: false,
                    date,
                } => {
                    if first((4, member, kind as u8)) {
                        context.push(reason(
                            Detail::AllowanceGranted { member, kind, date },
                            None,
                        ));
                    }
                }
            }
        }
        let mut found: Vec<Reason> = Vec::new();
        let medical_threshold = t
            .medical_out_of_pocket
            .filter(|m| m.enabled)
            .and_then(|m| if lifted_out { m.lifted_out } else { m.others });
        if let Some(threshold) = medical_threshold
            && claims > 0
            && threshold.0 > 0
            && out_of_pocket >= threshold
        {
            found.push(reason(
                Detail::MedicalClaims {
                    out_of_pocket,
                    threshold,
                    lifted_out,
                    claims,
                },
                Some(RiskType::Illness),
            ));
        }
        // Children first after medical spending, as in `classify`.
        let (children, others): (Vec<Reason>, Vec<Reason>) = members
            .into_iter()
            .partition(|r| matches!(r.detail, Detail::DroppedOut { .. }));
        found.extend(children);
        if on(t.unsafe_housing)
            && let Some((grade, date)) = house
            && grade.is_unsafe()
        {
            found.push(reason(
                Detail::DangerousHouse { grade, date },
                Some(RiskType::UnsafeHousing),
            ));
        }
        if let Some(d) = t.disaster_loss.filter(|d| d.enabled)
            && let (Some(threshold), Some((_, kind, date))) = (d.loss, largest)
            && threshold.0 > 0
            && loss >= threshold
        {
            found.push(reason(
                Detail::DisasterReported {
                    loss,
                    threshold,
                    kind,
                    date,
                },
                Some(RiskType::NaturalDisaster),
            ));
        }
        found.extend(others);
        if found.is_empty() {
            return Assessment::default();
        }
        let at_or_below = rules
            .threshold
            .is_some_and(|threshold| h.per_capita_net_income <= threshold);
        let mut reasons = Vec::with_capacity(found.len() + 4);
        if let (true, Some(threshold)) = (at_or_below, rules.threshold) {
            reasons.push(reason(
                Detail::Income {
                    per_capita: h.per_capita_net_income,
                    threshold,
                },
                None,
            ));
        }
        reasons.extend(found);
        reasons.extend(context);
        if on(t.no_labor_ability)
            && !h.members.is_empty()
            && h.members.iter().all(|m| m.labor.is_without())
        {
            reasons.push(reason(
                Detail::NoLaborAbility {
                    members: count(h.members.len()),
                },
                Some(RiskType::LackOfLabor),
            ));
        }
        self.finish(h, reasons, at_or_below)
    }

    /// Adds the members' health as context, then the risk types and the category.
    fn finish(
        &self,
        h: &HouseholdFacts<'_>,
        mut reasons: Vec<Reason>,
        at_or_below: bool,
    ) -> Assessment {
        let rules = self.rules;
        let reason = |detail: Detail, risk: Option<RiskType>| Reason {
            detail,
            risk,
            rule_set_year: rules.year,
            rule_set_version: rules.version,
        };
        let lifted_out = h.household_type == HouseholdType::LiftedOut;
        // Context: what the members' health says about the cause.
        let disabled = count(h.members.iter().filter(|m| m.disabled).count());
        if disabled > 0 {
            reasons.push(reason(
                Detail::DisabledMembers { count: disabled },
                Some(RiskType::Disability),
            ));
        }
        let ill = count(h.members.iter().filter(|m| m.seriously_ill).count());
        if ill > 0 {
            reasons.push(reason(
                Detail::SeriouslyIllMembers { count: ill },
                Some(RiskType::Illness),
            ));
        }
        let mut risk_types: Vec<RiskType> = Vec::new();
        for r in reasons.iter().filter_map(|r| r.risk) {
            if !risk_types.contains(&r) && risk_types.len() < MAX_RISK_TYPES {
                risk_types.push(r);
            }
        }
        if risk_types.is_empty() {
            // Income alone: the cause is for the home visit to find.
            risk_types.push(RiskType::Other);
        }
        let category = if at_or_below {
            Some(if lifted_out {
                MonitoringCategory::UnstableLiftedOut
            } else {
                MonitoringCategory::MarginalAtRisk
            })
        } else if reasons.iter().any(Reason::is_sudden) {
            Some(MonitoringCategory::SuddenHardship)
        } else {
            None
        };
        Assessment {
            category,
            risk_types,
            reasons,
        }
    }
}

fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Age in whole years on `on` (as [`crate::IdNumber::age_on`]).
pub fn age_on(born: Date, on: Date) -> i32 {
    let mut age = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
}

/// The same day `years` years before `day`; 28 February for 29 February in a common year. A
/// person born on or before it is at least `years` old on `day`.
fn years_before(day: Date, years: i32) -> Date {
    let year = day.year() - years;
    Date::from_calendar_date(year, day.month(), day.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(Date::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
