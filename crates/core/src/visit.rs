//! The monthly home visit (走访, issue 19): the fields a cadre confirms or changes, the checks
//! the form runs on the spot and the server runs again, and what a visit says on its own.
//!
//! **One definition of the checks.** [`form_checks`] is data: the server interprets it with
//! [`run_checks`], and the phone gets the same list as JSON and interprets it with
//! `crates/web/static/visit.js` (the browser test runs both on the same inputs and compares).
//! A check is blocking (the visit cannot be sent as it stands: an unanswered question, an amount
//! that is not money, a day after today) or a warning (the registry's consistency checks of
//! `checks`, which describe the unlikely, not the impossible: shown so that the cadre looks
//! again while still in the household).
//!
//! **Changes only.** The form carries, for every field, the value it was filled in with
//! (`was`) beside the value sent; a change is a field whose two differ ([`changes`]). The
//! server compares each change's `was` with what the registry holds now: a field changed in the
//! office meanwhile is a conflict, never overwritten ([`Conflict`]).

use crate::enums::{HealthCondition, SchoolStatus, labelled_enum};
use crate::lang::Text;
use crate::money::Fen;
use crate::monitoring::RiskType;
use crate::text;
use serde::Serialize;
use std::collections::BTreeMap;
use time::Date;

/// The version of the visit form. A form sent by an older version of the phone's app (its
/// fields meant something else) is refused with a request to reload, whatever else it holds.
pub const FORM_VERSION: u32 = 1;

/// The oldest visit day accepted: a visit is typed in within a month (paper forms first).
pub const MAX_VISIT_AGE_DAYS: i64 = 31;

/// The most a household income item may be on a visit form, in yuan: a larger figure is a typo.
pub const MAX_VISIT_YUAN: i64 = 10_000_000;

labelled_enum!(
    /// What became of a visit's changes.
    VisitOutcome, "走访结果", "outcome of the visit", [
    (Recorded, "recorded", "已记录（无变化）", "recorded (no change)"),
    (Applied, "applied", "变化已写入登记库", "changes written to the registry"),
    (Conflict, "conflict", "与办公室的修改冲突，待裁决", "conflicts with an office change: to decide"),
    (KeptOffice, "kept_office", "冲突已裁决：保留办公室的数据", "conflict decided: the office's values kept"),
    (AppliedVisit, "applied_visit", "冲突已裁决：采用走访的数据", "conflict decided: the visit's values written"),
]);

/// What kind of value a field holds, and so how it is written ([`canonical`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// `yes` or `no`.
    YesNo,
    /// `yes`, `no` or empty (not known).
    Tri,
    /// Yuan with two decimals: `1234.50`.
    Money,
    /// A [`SchoolStatus`] code, or empty.
    School,
    /// [`HealthCondition`] codes joined by commas in their declared order.
    Health,
}

/// The household's fields of the form, in the order shown, with their labels.
pub const HOUSEHOLD_FIELDS: &[(&str, FieldKind, &str, &str)] = &[
    (
        "food_clothing",
        FieldKind::YesNo,
        "吃穿不愁",
        "food and clothing assured",
    ),
    ("housing_safe", FieldKind::Tri, "住房安全", "safe housing"),
    (
        "water_safe",
        FieldKind::Tri,
        "饮水安全",
        "safe drinking water",
    ),
    (
        "wage",
        FieldKind::Money,
        "工资性收入（元/年）",
        "wage income (yuan a year)",
    ),
    (
        "business",
        FieldKind::Money,
        "生产经营性收入（元/年）",
        "business income (yuan a year)",
    ),
    (
        "property",
        FieldKind::Money,
        "财产性收入（元/年）",
        "property income (yuan a year)",
    ),
    (
        "transfer",
        FieldKind::Money,
        "转移性收入（元/年）",
        "transfer income (yuan a year)",
    ),
    (
        "business_expense",
        FieldKind::Money,
        "生产经营性支出（元/年）",
        "business expenses (yuan a year)",
    ),
    (
        "out_of_pocket",
        FieldKind::Money,
        "合规自付支出（元/年）",
        "out-of-pocket spending (yuan a year)",
    ),
];

/// Each member's fields, named `m<position>.<field>` (`m0.insured`), with their labels.
pub const MEMBER_FIELDS: &[(&str, FieldKind, &str, &str)] = &[
    (
        "insured",
        FieldKind::YesNo,
        "参加基本医保",
        "basic medical insurance",
    ),
    ("school", FieldKind::School, "在校生状况", "school status"),
    ("health", FieldKind::Health, "健康状况", "health"),
];

/// A field of the form, parsed from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VisitField {
    Household(&'static str),
    Member(usize, &'static str),
}

impl VisitField {
    /// `food_clothing`, `m3.school`; `None` for a name the form does not have.
    pub fn parse(name: &str) -> Option<VisitField> {
        if let Some((f, ..)) = HOUSEHOLD_FIELDS.iter().find(|(f, ..)| *f == name) {
            return Some(VisitField::Household(f));
        }
        let (position, field) = name.strip_prefix('m')?.split_once('.')?;
        if position.is_empty()
            || position.len() > 3
            || !position.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let position: usize = position.parse().ok()?;
        let (f, ..) = MEMBER_FIELDS.iter().find(|(f, ..)| *f == field)?;
        Some(VisitField::Member(position, f))
    }

    pub fn name(self) -> String {
        match self {
            VisitField::Household(f) => f.to_owned(),
            VisitField::Member(i, f) => format!("m{i}.{f}"),
        }
    }

    fn spec(self) -> (FieldKind, &'static str, &'static str) {
        let (table, f) = match self {
            VisitField::Household(f) => (HOUSEHOLD_FIELDS, f),
            VisitField::Member(_, f) => (MEMBER_FIELDS, f),
        };
        table
            .iter()
            .find(|(name, ..)| *name == f)
            .map_or((FieldKind::Tri, "", ""), |(_, k, zh, en)| (*k, *zh, *en))
    }

    pub fn kind(self) -> FieldKind {
        self.spec().0
    }

    /// The field's label; a member's names the member by position (the form shows the name).
    pub fn label(self) -> Text {
        let (_, zh, en) = self.spec();
        match self {
            VisitField::Household(_) => Text::new(zh, en),
            VisitField::Member(i, _) => {
                let n = i + 1;
                text!("第{n}位成员的{zh}", "member {n}'s {en}")
            }
        }
    }
}

/// A value written the one way the registry and the form compare it: `yes`/`no`/``, money as
/// yuan with two decimals, a school status code, health codes in order. Refused in words when
/// it is not a value of the field's kind.
pub fn canonical(kind: FieldKind, raw: &str) -> Result<String, Text> {
    let raw = raw.trim();
    match kind {
        FieldKind::YesNo | FieldKind::Tri => match raw {
            "yes" | "no" => Ok(raw.to_owned()),
            "" if kind == FieldKind::Tri => Ok(String::new()),
            "" => Err(text!("请选择“是”或“否”", "choose yes or no")),
            _ => Err(text!("只能选择“是”或“否”", "the answer is yes or no")),
        },
        FieldKind::Money => {
            let fen = Fen::parse_non_negative(raw).map_err(|e| e.text())?;
            if fen.0 > MAX_VISIT_YUAN * 100 {
                return Err(text!(
                    "金额超过{MAX_VISIT_YUAN}元，请核对",
                    "the amount is above {MAX_VISIT_YUAN} yuan: check it"
                ));
            }
            Ok(yuan(fen))
        }
        FieldKind::School => match raw {
            "" => Ok(String::new()),
            code => SchoolStatus::from_code(code)
                .map(|s| s.code().to_owned())
                .ok_or_else(|| text!("未知的在校生状况", "unknown school status")),
        },
        FieldKind::Health => {
            let mut found = Vec::new();
            for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let c = HealthCondition::from_code(part)
                    .ok_or_else(|| text!("未知的健康状况", "unknown health condition"))?;
                if !found.contains(&c) {
                    found.push(c);
                }
            }
            if found.is_empty() {
                return Err(text!("请选择健康状况", "choose the health condition"));
            }
            if found.contains(&HealthCondition::Healthy) && found.len() > 1 {
                return Err(text!(
                    "“健康”不能与疾病或残疾同时选择",
                    "'healthy' cannot go with an illness or disability"
                ));
            }
            Ok(HealthCondition::ALL
                .iter()
                .filter(|c| found.contains(c))
                .map(|c| c.code())
                .collect::<Vec<_>>()
                .join(","))
        }
    }
}

/// Money as the form writes it: `1234.50`.
pub fn yuan(fen: Fen) -> String {
    format!("{}.{:02}", fen.0 / 100, fen.0 % 100)
}

// ---------------------------------------------------------------------------------------------
// The checks: one definition, two interpreters

/// One check of the form. `fields` patterns use `*` for every member's position (`m*.insured`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Check {
    /// Every field matching `fields` has an answer.
    Answered { fields: &'static str },
    /// The visit day is not after today and at most `max_days_before` days before it.
    VisitDay { max_days_before: i64 },
    /// Every field matching `fields` is an amount of money ([`canonical`] with `Money`).
    Money { fields: &'static str },
    /// A member aged `min_age` to `max_age` on the visit day is in one of `allowed`.
    SchoolForAge {
        min_age: i32,
        max_age: i32,
        allowed: Vec<&'static str>,
    },
    /// A member in school at level `status` is `min_age` to `max_age` years old.
    AgeForSchool {
        status: &'static str,
        min_age: i32,
        max_age: i32,
    },
    /// A risk reported needs a note saying what was seen.
    NoteWithRisk,
}

/// A check with whether it blocks and what it says.
#[derive(Debug, Clone, Serialize)]
pub struct FormCheck {
    #[serde(flatten)]
    pub check: Check,
    pub blocking: bool,
    pub zh: String,
    pub en: String,
}

/// The checks of the visit form, in the order they are reported.
pub fn form_checks() -> Vec<FormCheck> {
    let blocking = |check: Check, t: Text| FormCheck {
        check,
        blocking: true,
        zh: t.zh,
        en: t.en,
    };
    let warning = |check: Check, t: Text| FormCheck {
        blocking: false,
        ..blocking(check, t)
    };
    let compulsory: Vec<&'static str> = SchoolStatus::ALL
        .iter()
        .filter(|s| s.is_compulsory())
        .map(|s| s.code())
        .collect();
    let max = MAX_VISIT_AGE_DAYS;
    let mut checks = vec![
        blocking(
            Check::VisitDay {
                max_days_before: max,
            },
            text!(
                "走访日期不能晚于今天，也不能早于{max}天前",
                "the day of the visit cannot be after today or more than {max} days ago"
            ),
        ),
        blocking(
            Check::Answered {
                fields: "food_clothing",
            },
            text!(
                "请确认吃穿是否有保障",
                "say whether food and clothing are assured"
            ),
        ),
        blocking(
            Check::Answered {
                fields: "m*.insured",
            },
            text!(
                "请回答该成员是否参加基本医保",
                "say whether this member has basic medical insurance"
            ),
        ),
        blocking(
            Check::Answered {
                fields: "m*.health",
            },
            text!("请选择该成员的健康状况", "choose this member's health"),
        ),
    ];
    for (f, kind, ..) in HOUSEHOLD_FIELDS {
        if *kind == FieldKind::Money {
            checks.push(blocking(
                Check::Money { fields: f },
                text!(
                    "请填写金额（元，最多两位小数，不超过{MAX_VISIT_YUAN}元）",
                    "give an amount in yuan (at most two decimals, at most {MAX_VISIT_YUAN})"
                ),
            ));
        }
    }
    checks.push(warning(
        Check::SchoolForAge {
            min_age: 7,
            max_age: 15,
            allowed: compulsory,
        },
        text!(
            "7至15岁儿童应在接受义务教育：请核实是否失学辍学",
            "a child aged 7 to 15 is in compulsory education: check whether the child has left school"
        ),
    ));
    for (status, min_age, max_age) in [
        ("primary", 5, 16),
        ("grade7", 10, 19),
        ("grade8", 11, 20),
        ("grade9", 12, 21),
        ("senior_high", 13, 25),
    ] {
        checks.push(warning(
            Check::AgeForSchool {
                status,
                min_age,
                max_age,
            },
            text!(
                "在校生状况与年龄不符：请核对",
                "the school status does not fit the member's age: check it"
            ),
        ));
    }
    checks.push(blocking(
        Check::NoteWithRisk,
        text!(
            "反映了风险：请在备注中写明看到的情况",
            "a risk is reported: say in the note what you saw"
        ),
    ));
    checks
}

/// What the checks read: the values sent (by field name), the visit day as typed, the risks
/// and note, and each member's age on the visit day (by position).
#[derive(Debug, Clone)]
pub struct CheckInput<'a> {
    pub values: &'a BTreeMap<String, String>,
    pub visited_on: &'a str,
    pub risks: &'a [String],
    pub note: &'a str,
    pub ages: &'a [i32],
}

/// One problem found by a check, on a field of the form (`visited_on`, `note` and `risk` are
/// fields too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: String,
    pub blocking: bool,
    pub zh: String,
    pub en: String,
}

fn field_names(pattern: &str, members: usize) -> Vec<String> {
    match pattern.strip_prefix("m*.") {
        Some(f) => (0..members).map(|i| format!("m{i}.{f}")).collect(),
        None => vec![pattern.to_owned()],
    }
}

/// Runs `checks` on a form as the phone does (`static/visit.js` is the same loop).
pub fn run_checks(checks: &[FormCheck], input: &CheckInput<'_>, today: Date) -> Vec<Problem> {
    let mut problems = Vec::new();
    let members = input.ages.len();
    let value = |name: &str| input.values.get(name).map_or("", |v| v.trim());
    for c in checks {
        let mut fail = |field: String| {
            problems.push(Problem {
                field,
                blocking: c.blocking,
                zh: c.zh.clone(),
                en: c.en.clone(),
            })
        };
        match &c.check {
            Check::Answered { fields } => {
                for name in field_names(fields, members) {
                    if value(&name).is_empty() {
                        fail(name);
                    }
                }
            }
            Check::VisitDay { max_days_before } => {
                let ok = crate::monitoring::parse_stored_date(input.visited_on.trim())
                    .is_some_and(|d| d <= today && (today - d).whole_days() <= *max_days_before);
                if !ok {
                    fail("visited_on".to_owned());
                }
            }
            Check::Money { fields } => {
                for name in field_names(fields, members) {
                    if canonical(FieldKind::Money, value(&name)).is_err() {
                        fail(name);
                    }
                }
            }
            Check::SchoolForAge {
                min_age,
                max_age,
                allowed,
            } => {
                for (i, age) in input.ages.iter().enumerate() {
                    let name = format!("m{i}.school");
                    if (min_age..=max_age).contains(&age) && !allowed.contains(&value(&name)) {
                        fail(name);
                    }
                }
            }
            Check::AgeForSchool {
                status,
                min_age,
                max_age,
            } => {
                for (i, age) in input.ages.iter().enumerate() {
                    let name = format!("m{i}.school");
                    if value(&name) == *status && !(min_age..=max_age).contains(&age) {
                        fail(name);
                    }
                }
            }
            Check::NoteWithRisk => {
                if !input.risks.is_empty() && input.note.trim().is_empty() {
                    fail("note".to_owned());
                }
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Changes and conflicts

/// One field the cadre changed: the value the form was filled in with and the value sent; for a
/// member's field, who the member was on the form (`was.m<position>.who`, the name), so that a
/// change is never applied to another person when the office has added or removed members since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Change {
    pub field: String,
    pub was: String,
    pub now: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
}

/// The name under which the form carries who a member was (`m3.who`).
pub fn member_who(position: usize) -> String {
    format!("m{position}.who")
}

/// The changes of a form: every field whose value sent differs from the value it was filled in
/// with, both in [`canonical`] form. A field the form does not have, or a value not of its kind,
/// is refused, named by field. `food_clothing` is an observation of the visit, not a registry
/// field, and is not a change.
pub fn changes(
    values: &BTreeMap<String, String>,
    was: &BTreeMap<String, String>,
) -> Result<Vec<Change>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, sent) in values {
        let Some(field) = VisitField::parse(name) else {
            problems.push(Problem {
                field: name.clone(),
                blocking: true,
                zh: "表单没有这一项：请更新应用后重填".to_owned(),
                en: "the form has no such field: update the app and fill it in again".to_owned(),
            });
            continue;
        };
        if field == VisitField::Household("food_clothing") {
            continue;
        }
        let label = field.label();
        let kind = field.kind();
        let now = canonical(kind, sent);
        let before = canonical(kind, was.get(name).map_or("", String::as_str));
        match (now, before) {
            (Ok(now), Ok(before)) if now != before => out.push(Change {
                field: name.clone(),
                was: before,
                now,
                who: match field {
                    VisitField::Member(i, _) => Some(
                        was.get(&member_who(i))
                            .map_or("", String::as_str)
                            .trim()
                            .to_owned(),
                    ),
                    VisitField::Household(_) => None,
                },
            }),
            (Ok(_), Ok(_)) => {}
            (Err(t), _) | (_, Err(t)) => problems.push(Problem {
                field: name.clone(),
                blocking: true,
                zh: format!("{}：{}", label.zh, t.zh),
                en: format!("{}: {}", label.en, t.en),
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A change the office made meanwhile to a field the visit changes too: the value the form was
/// filled in with, the office's value now, and the visit's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Conflict {
    pub field: String,
    pub was: String,
    pub office: String,
    pub visit: String,
}

/// The conflicts of `changes` with the registry as it is now (`current`, by field name, in
/// [`canonical`] form): a field whose value moved since the form was filled in, to something
/// other than what the visit says.
pub fn conflicts(changes: &[Change], current: &BTreeMap<String, String>) -> Vec<Conflict> {
    changes
        .iter()
        .filter_map(|c| {
            let office = current.get(&c.field).cloned().unwrap_or_default();
            (office != c.was && office != c.now).then(|| Conflict {
                field: c.field.clone(),
                was: c.was.clone(),
                office,
                visit: c.now.clone(),
            })
        })
        .collect()
}

/// A value for people: `是`/`yes`, money with its unit, a school status or health in words.
pub fn value_words(field: &str, value: &str) -> Text {
    let kind = VisitField::parse(field).map_or(FieldKind::Tri, VisitField::kind);
    match (kind, value) {
        (_, "") => text!("（未填）", "(not given)"),
        (FieldKind::YesNo | FieldKind::Tri, "yes") => text!("是", "yes"),
        (FieldKind::YesNo | FieldKind::Tri, "no") => text!("否", "no"),
        (FieldKind::Money, v) => text!("{v}元", "{v} yuan"),
        (FieldKind::School, v) => SchoolStatus::from_code(v)
            .map_or_else(|| Text::new(v, v), |s| Text::new(s.zh(), s.en())),
        (FieldKind::Health, v) => {
            let conditions: Vec<HealthCondition> = v
                .split(',')
                .filter_map(HealthCondition::from_code)
                .collect();
            Text::new(
                conditions
                    .iter()
                    .map(|c| c.zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                conditions
                    .iter()
                    .map(|c| c.en())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        }
        (_, v) => Text::new(v, v),
    }
}

/// What a cadre may see on a visit that makes it a warning on its own, beside the screening
/// rules: food and clothing not assured, and risks she reports (with her note).
pub fn observation_reasons(
    food_clothing_assured: bool,
    risks: &[RiskType],
    on: Date,
    who: &str,
    note: &str,
) -> Vec<(Option<RiskType>, Text)> {
    let mut out = Vec::new();
    if !food_clothing_assured {
        out.push((
            None,
            text!(
                "走访（{on}，{who}）：吃穿没有保障（两不愁未达标）",
                "visit ({on}, {who}): food and clothing are not assured"
            ),
        ));
    }
    if !risks.is_empty() {
        let zh: Vec<&str> = risks.iter().map(|r| r.zh()).collect();
        let en: Vec<&str> = risks.iter().map(|r| r.en()).collect();
        let (zh, en) = (zh.join("、"), en.join(", "));
        out.push((
            risks.first().copied(),
            text!(
                "走访（{on}，{who}）反映风险：{zh}；{note}",
                "visit ({on}, {who}) reports risks: {en}; {note}"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests;
