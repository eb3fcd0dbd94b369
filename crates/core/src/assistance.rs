//! Assistance (帮扶, issue 5 item 3): the measures recorded for a monitored household and the
//! responsible cadres paired with it. Pure: the store saves what [`MeasureDraft::build`] and
//! [`PairingDraft::build`] accept.
//!
//! - **Categories** ([`MeasureCategory`]) are the 14 measure tables of the national system's
//!   collection forms (DOMAIN.md 1.8, source S25), each with its dictionary id (`100A39` …
//!   `100A55`). The items inside each dictionary are not in DOMAIN.md, so a measure keeps the
//!   table id and the measure's content in words; no item code is made up.
//! - **Kinds** ([`MeasureKind`]): the national field 实施开发式帮扶措施情况 counts industry,
//!   employment, finance and public-welfare jobs as development-type (开发式帮扶; DOMAIN.md 1.8,
//!   S25 and S26f). 综合保障 (dibao, support for the extremely poor, temporary relief) is the
//!   social safety net (兜底保障) that households without labour ability rely on (DOMAIN.md 1.8
//!   principles, S37b). Everything else (health, education, housing, water, social help,
//!   relocation, living conditions, infrastructure) is "other assistance and guarantees".
//! - **Status** ([`MeasureStatus`]): planned or implemented, as the national field has
//!   尚未实施 / 已实施. Nothing is deleted: a measure recorded by mistake, or a plan dropped, is
//!   **cancelled** with a reason (a new, audited step); a cancelled measure counts for nothing.
//! - **Pairings** ([`PairingDraft`], DOMAIN.md 5.4): 姓名, 性别, 政治面貌, 帮扶(选派)单位名称,
//!   帮扶开始时间, 帮扶结束时间, 联系电话. A pairing ends by setting its end date.

use crate::enums::{Sex, labelled_enum};
use crate::lang::Text;
use crate::money::Fen;
use crate::monitoring::RiskType;
use crate::text;
use crate::text::{Lines, PersonName, Phone, check_characters};
use time::Date;

labelled_enum!(
    /// 帮扶措施类别: the 14 measure tables of the national collection forms (DOMAIN.md 1.8).
    MeasureCategory, "帮扶措施类别", "measure category", [
    (Industry, "industry", "产业帮扶", "industry"),
    (Employment, "employment", "就业帮扶", "employment"),
    (Finance, "finance", "金融帮扶", "finance (incl. microcredit)"),
    (PublicWelfareJob, "public_welfare_job", "公益岗位帮扶", "public-welfare job"),
    (Health, "health", "健康帮扶", "health"),
    (CompulsoryEducation, "compulsory_education", "义务教育保障", "compulsory education"),
    (OtherEducation, "other_education", "其他教育帮扶", "other education (e.g. Rain and Dew plan)"),
    (SocialSecurity, "social_security", "综合保障", "social security (dibao, extreme-poverty support, relief)"),
    (Housing, "housing", "住房安全保障", "safe housing"),
    (DrinkingWater, "drinking_water", "饮水安全保障", "safe drinking water"),
    (SocialHelp, "social_help", "社会帮扶", "social help"),
    (Relocation, "relocation", "搬迁", "relocation"),
    (LivingConditions, "living_conditions", "生产生活条件改善", "better production and living conditions"),
    (Infrastructure, "infrastructure", "基础设施建设", "infrastructure"),
]);

labelled_enum!(
    /// Development-type, safety net, or other (DOMAIN.md 1.8).
    MeasureKind, "帮扶措施性质", "kind of measure", [
    (Development, "development", "开发式帮扶", "development-type assistance"),
    (SafetyNet, "safety_net", "兜底保障", "social safety net"),
    (Support, "support", "其他帮扶与保障", "other assistance and guarantees"),
]);

impl MeasureCategory {
    /// The national dictionary that lists this category's measures (DOMAIN.md 1.8, S25).
    pub fn code_table(self) -> &'static str {
        use MeasureCategory::*;
        match self {
            Industry => "100A39",
            Employment => "100A40",
            Finance => "100A41",
            PublicWelfareJob => "100A42",
            Health => "100A45",
            CompulsoryEducation => "100A46",
            OtherEducation => "100A47",
            SocialSecurity => "100A48",
            Housing => "100A50",
            DrinkingWater => "100A51",
            SocialHelp => "100A52",
            Relocation => "100A53",
            LivingConditions => "100A54",
            Infrastructure => "100A55",
        }
    }

    /// Development-type (产业, 就业, 金融, 公益岗位: the national field 实施开发式帮扶措施情况),
    /// the safety net (综合保障), or other assistance.
    pub fn kind(self) -> MeasureKind {
        use MeasureCategory::*;
        match self {
            Industry | Employment | Finance | PublicWelfareJob => MeasureKind::Development,
            SocialSecurity => MeasureKind::SafetyNet,
            _ => MeasureKind::Support,
        }
    }
}

/// Which measure categories address a risk. The reasoning, per risk:
///
/// - illness: medical assistance (健康), dibao or relief when costs ruin the household (综合保障),
///   charity and pairing help (社会帮扶);
/// - disability: the safety net and social help (the DOMAIN.md 1.5 consistency rule for an
///   eliminated 因残 risk names exactly these two), and work the member can do (就业,
///   公益岗位), the development-type measures a disabled person can carry;
/// - schooling: the two education tables;
/// - unsafe housing: housing repair or relocation;
/// - unsafe water: water projects and the infrastructure that brings water;
/// - unstable employment: employment, a public-welfare job, or a business of the household's own;
/// - failure of the household's business: industry support and credit;
/// - lack of labour: the safety net, or a public-welfare job fitted to weak labour;
/// - natural disaster and accident: relief (综合保障 includes 临时救助), social help, and
///   rebuilding the house;
/// - other: any category, since the cause is known only in words.
pub fn categories_for_risk(risk: RiskType) -> &'static [MeasureCategory] {
    use MeasureCategory::*;
    match risk {
        RiskType::Illness => &[Health, SocialSecurity, SocialHelp],
        RiskType::Disability => &[
            SocialSecurity,
            SocialHelp,
            Employment,
            PublicWelfareJob,
            Health,
        ],
        RiskType::Schooling => &[CompulsoryEducation, OtherEducation],
        RiskType::UnsafeHousing => &[Housing, Relocation],
        RiskType::UnsafeWater => &[DrinkingWater, Infrastructure],
        RiskType::UnstableEmployment => &[Employment, PublicWelfareJob, Industry],
        RiskType::IndustryFailure => &[Industry, Finance],
        RiskType::LackOfLabor => &[SocialSecurity, PublicWelfareJob],
        RiskType::NaturalDisaster | RiskType::Accident => &[SocialSecurity, SocialHelp, Housing],
        RiskType::Other => MeasureCategory::ALL,
    }
}

labelled_enum!(
    /// 帮扶措施实施情况. Only planned and implemented are chosen when a measure is recorded;
    /// cancelled is a later step with a reason.
    MeasureStatus, "实施情况", "status", [
    (Planned, "planned", "尚未实施", "not yet implemented"),
    (Implemented, "implemented", "已实施", "implemented"),
    (Cancelled, "cancelled", "已取消", "cancelled"),
]);

/// What the coverage checks and the elimination preconditions need to know about one stored
/// measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasureFact {
    pub category: MeasureCategory,
    pub status: MeasureStatus,
    pub implemented_on: Option<Date>,
    pub risk: Option<RiskType>,
}

impl MeasureFact {
    pub fn is_implemented(&self) -> bool {
        self.status == MeasureStatus::Implemented
    }

    /// Planned or implemented: a cancelled measure counts for nothing.
    pub fn is_live(&self) -> bool {
        self.status != MeasureStatus::Cancelled
    }

    /// Implemented, and of a category that addresses one of `risks`, or recorded against one
    /// of them.
    pub fn addresses(&self, risks: &[RiskType]) -> bool {
        self.is_implemented()
            && risks
                .iter()
                .any(|&r| self.risk == Some(r) || categories_for_risk(r).contains(&self.category))
    }
}

/// What is wrong with one field of a form: the field's name (as the form names it) and the
/// problem and what to do, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: &'static str, message: Text) -> FieldError {
        FieldError { field, message }
    }
}

/// The shortest and longest content of a measure, in characters after trimming.
pub const CONTENT_CHARS: std::ops::RangeInclusive<usize> = 2..=500;
/// The largest amount of one measure: ten million yuan.
pub const MAX_AMOUNT_YUAN: i64 = 10_000_000;
/// The shortest and longest unit name of a pairing.
pub const UNIT_CHARS: std::ops::RangeInclusive<usize> = 2..=100;
/// The shortest and longest reason for cancelling a measure.
pub const REASON_CHARS: std::ops::RangeInclusive<usize> = 4..=500;

/// A measure as a form fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureDraft {
    pub category: MeasureCategory,
    pub content: String,
    pub amount: Option<Fen>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub status: MeasureStatus,
    pub implemented_on: Option<Date>,
    /// The risk the measure addresses, when the recorder names one.
    pub risk: Option<RiskType>,
}

/// A checked measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    pub category: MeasureCategory,
    /// Trimmed.
    pub content: String,
    pub amount: Option<Fen>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    /// Planned or implemented.
    pub status: MeasureStatus,
    /// Set exactly when implemented.
    pub implemented_on: Option<Date>,
    pub risk: Option<RiskType>,
}

/// Checks a text's length in characters after trimming; the problem in words.
fn check_chars(
    value: &str,
    range: &std::ops::RangeInclusive<usize>,
    what_zh: &str,
    what_en: &str,
) -> Result<String, Text> {
    let trimmed = value.trim();
    let n = trimmed.chars().count();
    let (min, max) = (range.start(), range.end());
    if n < *min {
        Err(text!(
            "请填写{what_zh}（至少{min}个字）",
            "write {what_en} (at least {min} characters)"
        ))
    } else if n > *max {
        Err(text!(
            "{what_zh}过长（{n}字），最多{max}字；请精简",
            "{what_en} is too long ({n} characters); shorten it to at most {max}"
        ))
    } else if let Err(e) = check_characters(trimmed, Lines::One) {
        let t = e.text();
        Err(Text::new(
            format!("{what_zh}：{}", t.zh),
            format!("{what_en}: {}", t.en),
        ))
    } else {
        Ok(trimmed.to_owned())
    }
}

/// `ends_on` not before `starts_on`.
fn check_end(starts_on: Date, ends_on: Option<Date>, errors: &mut Vec<FieldError>) {
    if let Some(end) = ends_on
        && end < starts_on
    {
        errors.push(FieldError::new(
            "ends_on",
            text!(
                "结束日期{end}早于开始日期{starts_on}；请改为开始日期当天或以后",
                "the end date {end} is before the start date {starts_on}; give the start date or a later day"
            ),
        ));
    }
}

/// Keeps the value when every check passed.
fn finish<T>(value: T, errors: Vec<FieldError>) -> Result<T, Vec<FieldError>> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

impl MeasureDraft {
    /// Checks every field on `today`; all problems at once, each with its field.
    pub fn build(&self, today: Date) -> Result<Measure, Vec<FieldError>> {
        let mut errors = Vec::new();
        let content = check_chars(&self.content, &CONTENT_CHARS, "措施内容", "the content")
            .unwrap_or_else(|e| {
                errors.push(FieldError::new("content", e));
                String::new()
            });
        if let Some(amount) = self.amount {
            let max = Fen::from_yuan(MAX_AMOUNT_YUAN);
            if amount < Fen::ZERO {
                errors.push(FieldError::new(
                    "amount",
                    text!(
                        "金额{amount}元为负数；请填写0或以上的金额，或留空",
                        "the amount {amount} yuan is negative; give 0 or more, or leave it empty"
                    ),
                ));
            } else if amount > max {
                errors.push(FieldError::new(
                    "amount",
                    text!(
                        "金额{amount}元超过{MAX_AMOUNT_YUAN}元；请核对单位（元）",
                        "the amount {amount} yuan is above {MAX_AMOUNT_YUAN} yuan; check that it is in yuan"
                    ),
                ));
            }
        }
        let starts_on = self.starts_on;
        let latest_start = crate::calendar::add_months(today, 12);
        if starts_on > latest_start {
            errors.push(FieldError::new(
                "starts_on",
                text!(
                    "开始日期{starts_on}在一年以后；请填写{latest_start}或以前的日期",
                    "the start date {starts_on} is more than a year ahead; give {latest_start} or earlier"
                ),
            ));
        }
        check_end(starts_on, self.ends_on, &mut errors);
        match (self.status, self.implemented_on) {
            (MeasureStatus::Implemented, None) => errors.push(FieldError::new(
                "implemented_on",
                text!(
                    "已实施的措施须填写实施日期",
                    "give the day an implemented measure was implemented"
                ),
            )),
            (MeasureStatus::Implemented, Some(on)) if on > today => {
                errors.push(FieldError::new(
                    "implemented_on",
                    text!(
                        "实施日期{on}晚于今天；还没有实施的请选“尚未实施”",
                        "the implementation date {on} is after today; choose 'not yet implemented' for a measure not carried out yet"
                    ),
                ))
            }
            (MeasureStatus::Implemented, Some(on)) if on < starts_on => {
                errors.push(FieldError::new(
                    "implemented_on",
                    text!(
                        "实施日期{on}早于开始日期{starts_on}；请核对两个日期",
                        "the implementation date {on} is before the start date {starts_on}; check both dates"
                    ),
                ))
            }
            (MeasureStatus::Planned, Some(_)) => errors.push(FieldError::new(
                "implemented_on",
                text!(
                    "尚未实施的措施不填实施日期；已实施的请选“已实施”",
                    "a measure not yet implemented has no implementation date; choose 'implemented' if it was"
                ),
            )),
            (MeasureStatus::Cancelled, _) => errors.push(FieldError::new(
                "status",
                text!(
                    "新登记的措施只能是“尚未实施”或“已实施”",
                    "a new measure is either not yet implemented or implemented"
                ),
            )),
            _ => {}
        }
        finish(
            Measure {
                category: self.category,
                content,
                amount: self.amount,
                starts_on,
                ends_on: self.ends_on,
                status: self.status,
                implemented_on: self.implemented_on,
                risk: self.risk,
            },
            errors,
        )
    }
}

/// Checks the day a planned measure is marked implemented: not in the future, not before it
/// started.
pub fn check_implemented_on(starts_on: Date, on: Date, today: Date) -> Result<(), Text> {
    if on > today {
        Err(text!(
            "实施日期{on}晚于今天；请在实施后再登记",
            "the implementation date {on} is after today; record it once the measure is implemented"
        ))
    } else if on < starts_on {
        Err(text!(
            "实施日期{on}早于措施开始日期{starts_on}；请核对",
            "the implementation date {on} is before the measure's start date {starts_on}; check it"
        ))
    } else {
        Ok(())
    }
}

/// Checks the reason for cancelling a measure; the trimmed reason.
pub fn check_cancel_reason(reason: &str) -> Result<String, Text> {
    check_chars(
        reason,
        &REASON_CHARS,
        "取消原因",
        "the reason for cancelling",
    )
}

/// Checks the day a pairing ends: not before it started, not in the future.
pub fn check_pairing_end(starts_on: Date, ends_on: Date, today: Date) -> Result<(), Text> {
    if ends_on < starts_on {
        Err(text!(
            "结束日期{ends_on}早于帮扶开始日期{starts_on}；请核对",
            "the end date {ends_on} is before the pairing's start {starts_on}; check it"
        ))
    } else if ends_on > today {
        Err(text!(
            "结束日期{ends_on}晚于今天；请在帮扶结束时再登记",
            "the end date {ends_on} is after today; record the end when it happens"
        ))
    } else {
        Ok(())
    }
}

labelled_enum!(
    /// 政治面貌 of a responsible cadre.
    PoliticalStatus, "政治面貌", "political status", [
    (PartyMember, "party_member", "中共党员", "member of the Communist Party of China"),
    (ProbationaryMember, "probationary_member", "中共预备党员", "probationary party member"),
    (LeagueMember, "league_member", "共青团员", "Communist Youth League member"),
    (DemocraticParty, "democratic_party", "民主党派成员", "member of a democratic party"),
    (Masses, "masses", "群众", "no party affiliation"),
]);

/// A pairing as a form fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingDraft {
    pub name: String,
    pub sex: Option<Sex>,
    pub political_status: Option<PoliticalStatus>,
    pub unit: String,
    pub phone: String,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
}

/// A checked pairing of a responsible cadre with a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    pub name: PersonName,
    pub sex: Option<Sex>,
    pub political_status: Option<PoliticalStatus>,
    pub unit: String,
    pub phone: Phone,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
}

impl PairingDraft {
    /// Checks every field on `today`; all problems at once, each with its field.
    pub fn build(&self, today: Date) -> Result<Pairing, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = PersonName::parse(&self.name).map_err(|e| {
            let Text { zh, en } = e.text();
            errors.push(FieldError::new(
                "name",
                text!(
                    "帮扶责任人姓名{zh}；请填写姓名",
                    "the responsible cadre's name {en}; give the name"
                ),
            ));
        });
        let phone = Phone::parse(&self.phone).map_err(|e| {
            let Text { zh, en } = e.text();
            errors.push(FieldError::new(
                "phone",
                text!(
                    "联系电话{zh}；请核对后重新填写",
                    "the phone number {en}; check it and type it again"
                ),
            ));
        });
        let unit = check_chars(&self.unit, &UNIT_CHARS, "帮扶单位名称", "the unit's name")
            .unwrap_or_else(|e| {
                errors.push(FieldError::new("unit", e));
                String::new()
            });
        let starts_on = self.starts_on;
        if starts_on > today {
            errors.push(FieldError::new(
                "starts_on",
                text!(
                    "帮扶开始日期{starts_on}晚于今天；请在结对后登记",
                    "the start date {starts_on} is after today; record the pairing once it starts"
                ),
            ));
        }
        check_end(starts_on, self.ends_on, &mut errors);
        match (name, phone) {
            (Ok(name), Ok(phone)) => finish(
                Pairing {
                    name,
                    sex: self.sex,
                    political_status: self.political_status,
                    unit,
                    phone,
                    starts_on,
                    ends_on: self.ends_on,
                },
                errors,
            ),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 01);

    fn measure() -> MeasureDraft {
        MeasureDraft {
            category: MeasureCategory::Health,
            content: " 医疗救助，报销住院自付部分 ".into(),
            amount: Some(Fen::from_yuan(8_000)),
            starts_on: date!(2026 - 11 - 01),
            ends_on: None,
            status: MeasureStatus::Implemented,
            implemented_on: Some(date!(2026 - 11 - 20)),
            risk: Some(RiskType::Illness),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn fourteen_categories_with_distinct_tables_and_four_development_types() {
        assert_eq!(MeasureCategory::ALL.len(), 14);
        let mut tables: Vec<_> = MeasureCategory::ALL
            .iter()
            .map(|c| c.code_table())
            .collect();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!(tables.len(), 14);
        let development: Vec<_> = MeasureCategory::ALL
            .iter()
            .filter(|c| c.kind() == MeasureKind::Development)
            .map(|c| c.code())
            .collect();
        assert_eq!(
            development,
            ["industry", "employment", "finance", "public_welfare_job"]
        );
        assert_eq!(
            MeasureCategory::SocialSecurity.kind(),
            MeasureKind::SafetyNet
        );
        assert_eq!(
            MeasureCategory::parse("综合保障"),
            Ok(MeasureCategory::SocialSecurity)
        );
    }

    #[test]
    fn every_risk_is_addressed_by_some_category() {
        for &risk in RiskType::ALL {
            assert!(!categories_for_risk(risk).is_empty(), "{risk:?}");
        }
        assert!(categories_for_risk(RiskType::Illness).contains(&MeasureCategory::Health));
        assert!(!categories_for_risk(RiskType::Schooling).contains(&MeasureCategory::Health));
        assert_eq!(categories_for_risk(RiskType::Other).len(), 14);
    }

    #[test]
    fn a_good_measure_is_trimmed() {
        let m = measure().build(TODAY).unwrap();
        assert_eq!(m.content, "医疗救助，报销住院自付部分");
        let planned = MeasureDraft {
            status: MeasureStatus::Planned,
            implemented_on: None,
            amount: None,
            ..measure()
        };
        assert!(planned.build(TODAY).is_ok());
    }

    #[test]
    fn content_and_amount_bounds() {
        let short = MeasureDraft {
            content: " 药 ".into(),
            ..measure()
        };
        assert_eq!(fields(&short.build(TODAY).unwrap_err()), ["content"]);
        let two = MeasureDraft {
            content: "救助".into(),
            ..measure()
        };
        assert!(two.build(TODAY).is_ok());
        let long = MeasureDraft {
            content: "字".repeat(501),
            ..measure()
        };
        assert_eq!(fields(&long.build(TODAY).unwrap_err()), ["content"]);
        let longest = MeasureDraft {
            content: "字".repeat(500),
            ..measure()
        };
        assert!(longest.build(TODAY).is_ok());
        for (yuan, ok) in [(0, true), (MAX_AMOUNT_YUAN, true), (-1, false)] {
            let d = MeasureDraft {
                amount: Some(Fen::from_yuan(yuan)),
                ..measure()
            };
            assert_eq!(d.build(TODAY).is_ok(), ok, "{yuan}");
        }
        let over = MeasureDraft {
            amount: Some(Fen(MAX_AMOUNT_YUAN * 100 + 1)),
            ..measure()
        };
        let errors = over.build(TODAY).unwrap_err();
        assert_eq!(fields(&errors), ["amount"]);
        assert!(errors[0].message.en.contains("check"), "{errors:?}");
    }

    #[test]
    fn dates_and_status_agree() {
        let cases = [
            (MeasureStatus::Implemented, None, "implemented_on"),
            (
                MeasureStatus::Implemented,
                Some(date!(2026 - 12 - 02)),
                "implemented_on",
            ),
            (
                MeasureStatus::Implemented,
                Some(date!(2026 - 10 - 31)),
                "implemented_on",
            ),
            (
                MeasureStatus::Planned,
                Some(date!(2026 - 11 - 02)),
                "implemented_on",
            ),
            (MeasureStatus::Cancelled, None, "status"),
        ];
        for (status, implemented_on, field) in cases {
            let d = MeasureDraft {
                status,
                implemented_on,
                ..measure()
            };
            assert_eq!(
                fields(&d.build(TODAY).unwrap_err()),
                [field],
                "{status:?} {implemented_on:?}"
            );
        }
        for on in [TODAY, date!(2026 - 11 - 01)] {
            let d = MeasureDraft {
                implemented_on: Some(on),
                ..measure()
            };
            assert!(d.build(TODAY).is_ok(), "{on}");
        }
        let ends_before = MeasureDraft {
            ends_on: Some(date!(2026 - 10 - 31)),
            ..measure()
        };
        assert_eq!(fields(&ends_before.build(TODAY).unwrap_err()), ["ends_on"]);
        let same_day = MeasureDraft {
            ends_on: Some(date!(2026 - 11 - 01)),
            ..measure()
        };
        assert!(same_day.build(TODAY).is_ok());
        let planned = |starts_on| MeasureDraft {
            starts_on,
            status: MeasureStatus::Planned,
            implemented_on: None,
            ..measure()
        };
        assert!(planned(date!(2027 - 12 - 01)).build(TODAY).is_ok());
        assert_eq!(
            fields(&planned(date!(2027 - 12 - 02)).build(TODAY).unwrap_err()),
            ["starts_on"]
        );
    }

    #[test]
    fn every_problem_at_once() {
        let d = MeasureDraft {
            content: String::new(),
            amount: Some(Fen(-1)),
            ends_on: Some(date!(2026 - 01 - 01)),
            implemented_on: None,
            ..measure()
        };
        assert_eq!(
            fields(&d.build(TODAY).unwrap_err()),
            ["content", "amount", "ends_on", "implemented_on"]
        );
    }

    #[test]
    fn marking_implemented_and_cancelling() {
        let start = date!(2026 - 11 - 01);
        assert!(check_implemented_on(start, TODAY, TODAY).is_ok());
        assert!(check_implemented_on(start, start, TODAY).is_ok());
        assert!(check_implemented_on(start, date!(2026 - 12 - 02), TODAY).is_err());
        assert!(check_implemented_on(start, date!(2026 - 10 - 31), TODAY).is_err());
        assert_eq!(check_cancel_reason(" 重复录入 ").unwrap(), "重复录入");
        assert!(check_cancel_reason("错了").is_err());
        assert!(check_pairing_end(start, start, TODAY).is_ok());
        assert!(check_pairing_end(start, date!(2026 - 10 - 31), TODAY).is_err());
        assert!(check_pairing_end(start, date!(2026 - 12 - 02), TODAY).is_err());
    }

    fn pairing() -> PairingDraft {
        PairingDraft {
            name: "刘德明".into(),
            sex: Some(Sex::Male),
            political_status: Some(PoliticalStatus::PartyMember),
            unit: "城口县农业农村委员会".into(),
            phone: "139 0000 0001".into(),
            starts_on: date!(2026 - 03 - 01),
            ends_on: None,
        }
    }

    #[test]
    fn a_good_pairing_keeps_a_normalised_phone() {
        let p = pairing().build(TODAY).unwrap();
        assert_eq!(p.phone.as_str(), "13900000001");
        assert_eq!(p.name.as_str(), "刘德明");
        assert_eq!(PoliticalStatus::parse("群众"), Ok(PoliticalStatus::Masses));
    }

    #[test]
    fn pairing_problems_name_their_fields() {
        let bad = PairingDraft {
            name: " ".into(),
            phone: "12345".into(),
            unit: "委".into(),
            starts_on: date!(2026 - 12 - 02),
            ends_on: Some(date!(2026 - 12 - 01)),
            ..pairing()
        };
        let errors = bad.build(TODAY).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["name", "phone", "unit", "starts_on", "ends_on"]
        );
        assert!(errors[1].message.en.contains("11-digit"), "{errors:?}");
        let today_start = PairingDraft {
            starts_on: TODAY,
            ..pairing()
        };
        assert!(today_start.build(TODAY).is_ok());
        let long_unit = PairingDraft {
            unit: "委".repeat(101),
            ..pairing()
        };
        assert_eq!(fields(&long_unit.build(TODAY).unwrap_err()), ["unit"]);
    }
}
