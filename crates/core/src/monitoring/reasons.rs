//! Why a rule fired: the rules' and the risk types' ids ([`RuleId`], [`RiskType`]), the numbers
//! behind a [`Reason`] ([`Detail`]) and the reason in words ([`Reason::text`]).

use crate::department::{
    AllowanceKind, DisasterKind, EnrolmentStatus, HousingGrade, school_year_text,
};
use crate::enums::labelled_enum;
use crate::lang::Text;
use crate::money::Fen;
use crate::text;
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
    (OutpatientOutOfPocket, "outpatient_out_of_pocket", "门诊合规自付支出较大", "large outpatient out-of-pocket spending in a month"),
    (SchoolingCosts, "schooling_costs", "非义务教育阶段教育支出较大", "large non-compulsory schooling costs"),
]);

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
    /// Outpatient out-of-pocket spending summed over a household's outpatient claims of one
    /// calendar month in a medical insurance file: the month with the most.
    OutpatientMonth {
        out_of_pocket: Fen,
        threshold: Fen,
        year: i32,
        month: Month,
        claims: u16,
        /// Months of the file at or above the threshold, this one included.
        months: u16,
    },
    /// Non-compulsory schooling costs summed over a household's members for one school year
    /// in an education file: the school year with the most.
    SchoolingCosts {
        costs: Fen,
        threshold: Fen,
        school_year: u16,
        students: u16,
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
            Detail::OutpatientMonth { .. } => RuleId::OutpatientOutOfPocket,
            Detail::SchoolingCosts { .. } => RuleId::SchoolingCosts,
        }
    }

    /// A rule about a sudden severe difficulty (突发严重困难): large rigid spending (medical,
    /// non-compulsory schooling) or a large loss of income or property.
    pub fn is_sudden(&self) -> bool {
        matches!(
            self.detail,
            Detail::Medical { .. }
                | Detail::MedicalClaims { .. }
                | Detail::OutpatientMonth { .. }
                | Detail::SchoolingCosts { .. }
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
            Detail::OutpatientMonth {
                out_of_pocket,
                threshold,
                year,
                month,
                claims,
                months,
            } => {
                let (m, month_en) = (month as u8, month);
                let record_en = if claims == 1 { "claim" } else { "claims" };
                let (more_zh, more_en) = match months.saturating_sub(1) {
                    0 => (String::new(), String::new()),
                    1 => (
                        "；另有1个月也达到".to_owned(),
                        "; 1 more month reaches it too".to_owned(),
                    ),
                    n => (
                        format!("；另有{n}个月也达到"),
                        format!("; {n} more months reach it too"),
                    ),
                };
                text!(
                    "{year}年{m}月门诊结算{claims}笔，合规自付支出合计{out_of_pocket}元，达到门诊每月筛查线{threshold}元{more_zh}",
                    "{claims} outpatient {record_en} in {month_en} {year} with out-of-pocket spending of {out_of_pocket} yuan in all, reaching the monthly outpatient screening threshold of {threshold} yuan{more_en}"
                )
            }
            Detail::SchoolingCosts {
                costs,
                threshold,
                school_year,
                students,
            } => {
                let year = school_year_text(school_year);
                let (yzh, yen) = (year.zh, year.en);
                let student_en = if students == 1 { "student" } else { "students" };
                text!(
                    "{yzh}非义务教育阶段教育费用合计{costs}元（{students}名学生），超过筛查线{threshold}元",
                    "non-compulsory schooling costs of {costs} yuan in {yen} ({students} {student_en}), above the screening threshold of {threshold} yuan"
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
