//! The rule data: a [`RuleSet`] and its triggers, as stored (serde, amounts in yuan), and
//! [`RuleSet::check`], which refuses missing or contradictory parameters.

use crate::division::{DivisionCode, DivisionLevel};
use crate::lang::Text;
use crate::money::Fen;
use crate::text;
use serde::{Deserialize, Serialize};

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

/// Out-of-pocket outpatient (门诊) spending of a household in one calendar month at or above an
/// amount (DOMAIN.md 1.6: 500 yuan a month in one county's screening).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutpatientTrigger {
    pub enabled: bool,
    #[serde(default, with = "yuan", rename = "monthly_yuan")]
    pub monthly: Option<Fen>,
}

/// A household's non-compulsory schooling costs in one school year **above** an amount
/// (DOMAIN.md 1.6: more than 10,000 yuan per school year in one county's screening).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolCostsTrigger {
    pub enabled: bool,
    #[serde(default, with = "yuan", rename = "above_yuan")]
    pub above: Option<Fen>,
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
    /// Outpatient out-of-pocket spending in a month (department data: the medical file's
    /// 医疗类别; 因病). Rule sets saved before it existed lack it: missing means off.
    #[serde(default)]
    pub outpatient_out_of_pocket: Option<OutpatientTrigger>,
    /// Non-compulsory schooling costs in a school year (department data: the education
    /// file's costs; 因学). Missing means off, as above.
    #[serde(default)]
    pub schooling_costs: Option<SchoolCostsTrigger>,
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
        match t.outpatient_out_of_pocket {
            None => out.push(missing("outpatient_out_of_pocket")),
            Some(o) if o.enabled => positive(
                "outpatient_out_of_pocket",
                "monthly_yuan",
                o.monthly,
                &mut out,
            ),
            Some(_) => {}
        }
        match t.schooling_costs {
            None => out.push(missing("schooling_costs")),
            Some(c) if c.enabled => positive("schooling_costs", "above_yuan", c.above, &mut out),
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
}
