//! The warnings inbox (issue 4 item 5, DOMAIN.md 1.6): what may happen to a warning, and who may
//! make it happen. Pure: the store applies a step only after [`plan_step`] allows it.
//!
//! A warning is **new** when a channel raises it (the screening, a department's file, a
//! self-declaration, a cadre's visit). A township or county officer **assigns** it to a village
//! cadre for home verification with a deadline (and may reassign it). The cadre, or an officer
//! above, then records the outcome: **verified** (the risk is real: the warning becomes a lead for
//! the identification procedure) or **dismissed** (with the reason). The screening **closes** a
//! new or assigned warning whose signal went away. Verified, dismissed and closed are final:
//! nothing is deleted or edited afterwards, and a changed signal opens a new warning.

use crate::access::Role;
use crate::enums::labelled_enum;
use crate::lang::Text;
use crate::text;
use time::{Date, Duration};

labelled_enum!(
    /// Where a warning stands in the inbox.
    WarningStatus, "预警状态", "warning status", [
    (New, "new", "待分派", "new"),
    (Assigned, "assigned", "待入户核实", "assigned for home verification"),
    (Verified, "verified", "已核实，转为识别线索", "verified: a lead for identification"),
    (Dismissed, "dismissed", "已排除", "dismissed"),
    (Closed, "closed", "风险信号已消失", "closed: the signal went away"),
]);

impl WarningStatus {
    /// New and assigned warnings wait for someone; the others are settled for good.
    pub fn is_active(self) -> bool {
        matches!(self, WarningStatus::New | WarningStatus::Assigned)
    }
}

labelled_enum!(
    /// What a warning is to its household (issue 17 item 2), decided when the warning is raised
    /// from the household's standing at that moment ([`WarningKind::for_household`]): on a
    /// household not monitored (never, or its risk eliminated: re-entry) it is a **lead** for
    /// identification; on a monitored household (identified, risk not eliminated) it is a **new
    /// risk of a monitored household**, for its responsible cadre to add to the risk types and
    /// meet with measures, since such a household needs no identification. Decided once and
    /// stored rather than read from the household each time, so that a lead that led to an
    /// identification stays a lead in the counts after the household is monitored.
    WarningKind, "预警类型", "warning kind", [
    (Lead, "lead", "识别线索", "identification lead"),
    (MonitoredRisk, "monitored_risk", "监测户新风险", "new risk of a monitored household"),
]);

impl WarningKind {
    /// The kind of a warning raised on a household that is (or is not) monitored, risk not
    /// eliminated.
    pub fn for_household(monitored_not_eliminated: bool) -> WarningKind {
        if monitored_not_eliminated {
            WarningKind::MonitoredRisk
        } else {
            WarningKind::Lead
        }
    }

    /// What its status means, in words: a verified new risk of a monitored household is not a
    /// lead for identification but a risk added to the household's.
    pub fn status_words(self, status: WarningStatus) -> (&'static str, &'static str) {
        match (self, status) {
            (WarningKind::MonitoredRisk, WarningStatus::Verified) => (
                "已核实，风险类型已并入该户，由帮扶责任人更新帮扶措施",
                "verified: its risk types are added to the household's, for the responsible cadre to update the measures",
            ),
            _ => (status.zh(), status.en()),
        }
    }
}

/// The household's risk types with those of a verified new risk added after them, without
/// repeats and at most [`crate::monitoring::MAX_RISK_TYPES`] (the national field holds five):
/// the household's own come first.
pub fn merged_risk_types(
    household: &[crate::monitoring::RiskType],
    new: &[crate::monitoring::RiskType],
) -> Vec<crate::monitoring::RiskType> {
    let mut out: Vec<_> = Vec::new();
    for r in household.iter().chain(new) {
        if !out.contains(r) && out.len() < crate::monitoring::MAX_RISK_TYPES {
            out.push(*r);
        }
    }
    out
}

labelled_enum!(
    /// The four discovery channels of DOMAIN.md 1.6, as stored in `warnings.source`; department
    /// warnings are stored as `department:<kind>`.
    WarningChannel, "预警来源", "warning source", [
    (Screening, "screening", "系统筛查", "registry screening"),
    (Department, "department", "部门数据比对", "department data"),
    (SelfDeclaration, "self_declaration", "农户自主申报", "household's self-declaration"),
    (Visit, "visit", "干部走访排查", "cadre's visit"),
]);

impl WarningChannel {
    /// The channel of a stored source (`department:medical` is [`WarningChannel::Department`]).
    pub fn of_source(source: &str) -> Option<WarningChannel> {
        let channel = source.split_once(':').map_or(source, |(c, _)| c);
        WarningChannel::from_code(channel)
    }
}

/// A step someone takes on a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarningStep {
    /// To a village cadre's account, with the day home verification must be done by.
    Assign { deadline: Date },
    /// The home visit found the risk real.
    Verify { note: String },
    /// The home visit found no risk, or the warning is a mistake.
    Dismiss { reason: String },
}

/// The kinds of step, without their content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Assign,
    Verify,
    Dismiss,
}

impl StepKind {
    pub const ALL: [StepKind; 3] = [StepKind::Assign, StepKind::Verify, StepKind::Dismiss];

    /// The step's name in routes, forms and the audit trail (`warning.assign`, …).
    pub fn code(self) -> &'static str {
        match self {
            StepKind::Assign => "assign",
            StepKind::Verify => "verify",
            StepKind::Dismiss => "dismiss",
        }
    }
}

impl WarningStep {
    pub fn kind(&self) -> StepKind {
        match self {
            WarningStep::Assign { .. } => StepKind::Assign,
            WarningStep::Verify { .. } => StepKind::Verify,
            WarningStep::Dismiss { .. } => StepKind::Dismiss,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The status the warning takes.
    pub fn target(&self) -> WarningStatus {
        match self {
            WarningStep::Assign { .. } => WarningStatus::Assigned,
            WarningStep::Verify { .. } => WarningStatus::Verified,
            WarningStep::Dismiss { .. } => WarningStatus::Dismissed,
        }
    }
}

/// How long home verification may take: the default deadline and the longest one allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxPolicy {
    pub default_days: i64,
    pub max_days: i64,
    /// A new warning nobody assigned for this many days is overdue too.
    pub unassigned_days: i64,
}

impl Default for InboxPolicy {
    fn default() -> InboxPolicy {
        // DOMAIN.md 1.7: home verification is the first step of a 15-day identification; a
        // week for the visit leaves the rest of the procedure its time.
        InboxPolicy {
            default_days: 7,
            max_days: 30,
            unassigned_days: 3,
        }
    }
}

/// The shortest reason or note accepted: "无" is not a reason.
pub const MIN_NOTE_CHARS: usize = 4;
/// The longest reason or note kept.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// Who acts, and how they stand to the warning.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub role: Role,
    /// The warning is assigned to this account.
    pub is_assignee: bool,
}

/// Whether `actor` may take `step` on a warning in `status` on `today`; the status it leads to,
/// or the reason it may not, in words. The division check (the warning lies in the actor's
/// scope, the assignee is a village cadre of the household's village) is the store's, which
/// knows the accounts.
pub fn plan_step(
    status: WarningStatus,
    step: &WarningStep,
    actor: Actor,
    today: Date,
    policy: &InboxPolicy,
) -> Result<WarningStatus, Text> {
    may_take(status, step.kind(), actor)?;
    match step {
        WarningStep::Assign { deadline } => {
            if *deadline < today {
                return Err(text!(
                    "核实期限{deadline}早于今天，请选择今天或以后的日期",
                    "the deadline {deadline} is before today; choose today or a later day"
                ));
            }
            let max = policy.max_days;
            if *deadline > today + Duration::days(max) {
                return Err(text!(
                    "核实期限{deadline}超过{max}天，请选择更近的日期",
                    "the deadline {deadline} is more than {max} days away; choose a nearer day"
                ));
            }
        }
        WarningStep::Verify { note } | WarningStep::Dismiss { reason: note } => {
            check_note(note, step)?;
        }
    }
    Ok(step.target())
}

/// Whether `actor` may take a step of this kind on a warning in `status` at all, whatever the
/// step says (the deadline, the note): what a page asks to decide which forms to offer.
pub fn may_take(status: WarningStatus, kind: StepKind, actor: Actor) -> Result<(), Text> {
    if !status.is_active() {
        let (zh, en) = (status.zh(), status.en());
        return Err(text!(
            "该预警已处理（{zh}），不能再操作；如有新情况，会产生新的预警",
            "this warning is settled ({en}) and takes no more steps; a new signal raises a new warning"
        ));
    }
    let officer = matches!(
        actor.role,
        Role::MunicipalAdmin | Role::CountyOfficer | Role::TownshipOfficer
    );
    let records_outcome = officer || (actor.role == Role::VillageCadre && actor.is_assignee);
    match kind {
        StepKind::Assign if !officer => Err(text!(
            "只有乡镇、区县工作人员和市级管理员可以分派预警",
            "only township and county officers and the municipal administrator assign warnings"
        )),
        StepKind::Verify | StepKind::Dismiss if !records_outcome => Err(text!(
            "只有被分派的村干部或乡镇、区县工作人员可以登记核实结果",
            "only the village cadre it is assigned to, or a township or county officer, records the outcome"
        )),
        _ => Ok(()),
    }
}

fn check_note(note: &str, step: &WarningStep) -> Result<(), Text> {
    let (what_zh, what_en) = match step {
        WarningStep::Dismiss { .. } => ("排除理由", "the reason for dismissing"),
        _ => ("核实情况", "the verification note"),
    };
    let n = note.trim().chars().count();
    if n < MIN_NOTE_CHARS {
        return Err(text!(
            "请填写{what_zh}（至少{MIN_NOTE_CHARS}个字）",
            "write {what_en} (at least {MIN_NOTE_CHARS} characters)"
        ));
    }
    if n > MAX_NOTE_CHARS {
        return Err(text!(
            "{what_zh}过长（{n}字），最多{MAX_NOTE_CHARS}字",
            "{what_en} is too long ({n} characters); at most {MAX_NOTE_CHARS}"
        ));
    }
    Ok(())
}

/// How far back a visit or declaration may be recorded.
pub const REPORT_MAX_AGE_DAYS: i64 = 90;

/// Checks a cadre's record of a visit or a self-declaration: the day (not in the future, not
/// older than [`REPORT_MAX_AGE_DAYS`]), at least one risk observed, and what was seen in words.
/// Every problem, in words.
pub fn check_report(
    on: Date,
    today: Date,
    risks: &[crate::monitoring::RiskType],
    note: &str,
) -> Result<(), Vec<Text>> {
    let mut problems = Vec::new();
    if on > today {
        problems.push(text!(
            "日期{on}晚于今天，请填写走访或申报的实际日期",
            "the date {on} is after today; give the day of the visit or declaration"
        ));
    } else if today - on > Duration::days(REPORT_MAX_AGE_DAYS) {
        problems.push(text!(
            "日期{on}已超过{REPORT_MAX_AGE_DAYS}天，请核对；较早的情况请重新走访核实",
            "the date {on} is more than {REPORT_MAX_AGE_DAYS} days ago; check it, or visit again"
        ));
    }
    if risks.is_empty() {
        problems.push(text!(
            "请至少选择一项风险类型",
            "choose at least one risk type"
        ));
    }
    if risks.len() > crate::monitoring::MAX_RISK_TYPES {
        let max = crate::monitoring::MAX_RISK_TYPES;
        problems.push(text!(
            "风险类型最多选择{max}项",
            "choose at most {max} risk types"
        ));
    }
    let n = note.trim().chars().count();
    if n < MIN_NOTE_CHARS {
        problems.push(text!(
            "请写明看到或听到的情况（至少{MIN_NOTE_CHARS}个字）",
            "say what was seen or heard (at least {MIN_NOTE_CHARS} characters)"
        ));
    } else if n > MAX_NOTE_CHARS {
        problems.push(text!(
            "情况说明过长（{n}字），最多{MAX_NOTE_CHARS}字",
            "the description is too long ({n} characters); at most {MAX_NOTE_CHARS}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Whether a warning stands out as overdue on `today`: assigned and past its deadline, or new
/// and unassigned for longer than the policy allows.
pub fn is_overdue(
    status: WarningStatus,
    opened_on: Date,
    deadline: Option<Date>,
    today: Date,
    policy: &InboxPolicy,
) -> bool {
    match status {
        WarningStatus::Assigned => deadline.is_some_and(|d| d < today),
        WarningStatus::New => today - opened_on > Duration::days(policy.unassigned_days),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 01);

    fn actor(role: Role, is_assignee: bool) -> Actor {
        Actor { role, is_assignee }
    }

    fn plan(status: WarningStatus, step: &WarningStep, a: Actor) -> Result<WarningStatus, Text> {
        plan_step(status, step, a, TODAY, &InboxPolicy::default())
    }

    #[test]
    fn officers_assign_and_cadres_verify_what_is_theirs() {
        let assign = WarningStep::Assign {
            deadline: date!(2026 - 12 - 08),
        };
        let verify = WarningStep::Verify {
            note: "入户核实：住院自付较大".into(),
        };
        assert_eq!(
            plan(
                WarningStatus::New,
                &assign,
                actor(Role::TownshipOfficer, false)
            ),
            Ok(WarningStatus::Assigned)
        );
        assert!(
            plan(
                WarningStatus::New,
                &assign,
                actor(Role::VillageCadre, false)
            )
            .is_err()
        );
        assert!(plan(WarningStatus::New, &assign, actor(Role::Auditor, false)).is_err());
        assert!(
            plan(
                WarningStatus::Assigned,
                &verify,
                actor(Role::VillageCadre, false)
            )
            .is_err()
        );
        assert_eq!(
            plan(
                WarningStatus::Assigned,
                &verify,
                actor(Role::VillageCadre, true)
            ),
            Ok(WarningStatus::Verified)
        );
        assert_eq!(
            plan(
                WarningStatus::New,
                &verify,
                actor(Role::CountyOfficer, false)
            ),
            Ok(WarningStatus::Verified)
        );
        assert!(
            plan(
                WarningStatus::New,
                &verify,
                actor(Role::DepartmentOfficer, true)
            )
            .is_err()
        );
    }

    #[test]
    fn settled_warnings_take_no_step() {
        let dismiss = WarningStep::Dismiss {
            reason: "已外出务工，收入稳定".into(),
        };
        for status in [
            WarningStatus::Verified,
            WarningStatus::Dismissed,
            WarningStatus::Closed,
        ] {
            assert!(plan(status, &dismiss, actor(Role::MunicipalAdmin, false)).is_err());
        }
    }

    #[test]
    fn deadlines_and_reasons_are_checked() {
        let officer = actor(Role::TownshipOfficer, false);
        let past = WarningStep::Assign {
            deadline: date!(2026 - 11 - 30),
        };
        let far = WarningStep::Assign {
            deadline: date!(2027 - 02 - 01),
        };
        assert!(plan(WarningStatus::New, &past, officer).is_err());
        assert!(plan(WarningStatus::New, &far, officer).is_err());
        let short = WarningStep::Dismiss {
            reason: "无".into(),
        };
        let err = plan(WarningStatus::New, &short, officer).unwrap_err();
        assert!(err.zh.contains("排除理由"), "{err:?}");
        let long = WarningStep::Verify {
            note: "字".repeat(MAX_NOTE_CHARS + 1),
        };
        assert!(plan(WarningStatus::New, &long, officer).is_err());
    }

    #[test]
    fn overdue_means_past_the_deadline_or_left_unassigned() {
        let p = InboxPolicy::default();
        let opened = date!(2026 - 11 - 20);
        assert!(is_overdue(
            WarningStatus::Assigned,
            opened,
            Some(date!(2026 - 11 - 30)),
            TODAY,
            &p
        ));
        assert!(!is_overdue(
            WarningStatus::Assigned,
            opened,
            Some(TODAY),
            TODAY,
            &p
        ));
        assert!(is_overdue(WarningStatus::New, opened, None, TODAY, &p));
        assert!(!is_overdue(
            WarningStatus::New,
            date!(2026 - 11 - 29),
            None,
            TODAY,
            &p
        ));
        assert!(!is_overdue(
            WarningStatus::Dismissed,
            opened,
            None,
            TODAY,
            &p
        ));
    }

    #[test]
    fn reports_need_a_past_day_a_risk_and_words() {
        use crate::monitoring::RiskType;
        assert!(check_report(TODAY, TODAY, &[RiskType::Illness], "住院，自付较多").is_ok());
        let problems = check_report(date!(2026 - 12 - 02), TODAY, &[], "无").unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            check_report(date!(2026 - 01 - 01), TODAY, &[RiskType::Other], "家中失火").is_err()
        );
    }

    #[test]
    fn department_sources_belong_to_the_department_channel() {
        assert_eq!(
            WarningChannel::of_source("department:medical"),
            Some(WarningChannel::Department)
        );
        assert_eq!(
            WarningChannel::of_source("screening"),
            Some(WarningChannel::Screening)
        );
        assert_eq!(WarningChannel::of_source("rumour"), None);
    }

    #[test]
    fn a_warning_on_a_monitored_household_is_a_new_risk_not_a_lead() {
        assert_eq!(WarningKind::for_household(true), WarningKind::MonitoredRisk);
        assert_eq!(WarningKind::for_household(false), WarningKind::Lead);
        let (zh, en) = WarningKind::MonitoredRisk.status_words(WarningStatus::Verified);
        assert!(zh.contains("并入该户") && en.contains("added to the household"));
        assert_eq!(
            WarningKind::Lead.status_words(WarningStatus::Verified).1,
            WarningStatus::Verified.en()
        );
    }

    #[test]
    fn verified_new_risks_join_the_household_risk_types_up_to_five() {
        use crate::monitoring::RiskType::{self, Accident, Illness};
        assert_eq!(
            merged_risk_types(&[Illness], &[Accident, Illness]),
            [Illness, Accident]
        );
        let full = merged_risk_types(&RiskType::ALL[..4], &RiskType::ALL[3..]);
        assert_eq!(full.len(), crate::monitoring::MAX_RISK_TYPES);
        assert_eq!(full[..4], RiskType::ALL[..4]);
    }
}
