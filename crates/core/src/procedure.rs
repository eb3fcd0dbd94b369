//! The statutory procedures (issue 5; DOMAIN.md 1.7, 1.9, 1.10) as one state machine: who may take
//! which step of an identification or a risk-elimination case, when, and with what content.
//! Pure: the store applies a step only after [`apply`] returns the case's next state.
//!
//! **Identification** (识别): a lead (a verified warning, a self-declaration, a cadre's visit, a
//! department alert) opens a case in home verification. The village records the verification
//! form and the household's signed commitment; the township or county records the data
//! comparison, which may run alongside the village's steps (DOMAIN.md 1.7 step 2) but must be
//! done before the township approves. The village records its democratic appraisal, posts the
//! public notice for at least five days, records objections and their resolution, and closes the
//! notice once its period is over with no objection open. The township reviews, the county
//! approves with the category and the risk types, and the announcement (in the township's name)
//! completes the case: the household is monitored, risk not eliminated.
//!
//! **Risk elimination** (风险消除) mirrors it without the data comparison: verification, appraisal
//! and notice, township review, county approval with the method, announcement.
//!
//! **录入建档** (step 7 of DOMAIN.md 1.7, and the flag of 1.9): once a case is completed, the
//! township or the county records its entry into the national monitoring system (全国防返贫监测
//! 信息系统): the day, and the national record's number when the system gave one. It is the one
//! step a completed case takes, once.
//!
//! Any step before the county's approval may **reject** the case (with the reason; the village is
//! told) or **withdraw** it (the household no longer applies). A **comment** adds a remark or a
//! correction to an open case. Nothing is edited or deleted: every step is a new record.

use crate::access::Role;
pub use crate::elimination::EliminationMethod;
use crate::enums::{MonitoringCategory, labelled_enum};
use crate::lang::Text;
use crate::money::Fen;
use crate::monitoring::{MAX_RISK_TYPES, RiskType};
use crate::text;
use crate::working_days::WorkCalendar;
use time::{Date, Duration};

labelled_enum!(
    /// The two procedures.
    CaseKind, "程序", "procedure", [
    (Identification, "identification", "监测对象识别", "identification for monitoring"),
    (Elimination, "elimination", "风险消除", "risk elimination"),
]);

labelled_enum!(
    /// Where a case stands. The last three are final.
    Stage, "办理环节", "stage", [
    (Verification, "verification", "入户核实", "home verification"),
    (Appraisal, "appraisal", "民主评议", "democratic appraisal"),
    (Notice, "notice", "村内公示", "village public notice"),
    (TownshipReview, "township_review", "乡镇审核", "township review"),
    (CountyApproval, "county_approval", "县级审批", "county approval"),
    (Announcement, "announcement", "结果公告", "announcement"),
    (Completed, "completed", "已办结", "completed"),
    (Rejected, "rejected", "未通过", "rejected"),
    (Withdrawn, "withdrawn", "已撤回", "withdrawn"),
]);

impl Stage {
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Completed | Stage::Rejected | Stage::Withdrawn)
    }

    /// Before the county's decision: the case may still be rejected or withdrawn, and the time
    /// limit runs.
    pub fn is_undecided(self) -> bool {
        matches!(
            self,
            Stage::Verification
                | Stage::Appraisal
                | Stage::Notice
                | Stage::TownshipReview
                | Stage::CountyApproval
        )
    }
}

labelled_enum!(
    /// Why an emergency case may get measures before it is approved (DOMAIN.md 1.7: disaster or
    /// accident, "可先行落实帮扶措施").
    EmergencyCause, "紧急情形", "emergency", [
    (Disaster, "disaster", "自然灾害", "natural disaster"),
    (Accident, "accident", "意外事故", "accident"),
]);

/// The shortest public notice the law allows (DOMAIN.md 1.7: at least five days).
pub const MIN_NOTICE_DAYS: i64 = 5;
/// A notice longer than this is a typo.
pub const MAX_NOTICE_DAYS: i64 = 30;
/// A lead older than this is stale: visit again.
pub const MAX_LEAD_AGE_DAYS: i64 = 90;
/// The shortest reason, note or comment accepted ("无" is not a reason).
pub const MIN_NOTE_CHARS: usize = 4;
/// The longest one kept.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// How days of the time limit are counted: DOMAIN.md 1.7 gives calendar days for the national
/// rule (15 days) and working days in some provinces (Anhui, Hainan: 20 working days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCounting {
    Calendar,
    /// Monday to Friday, except public holidays, and the weekend days worked instead, as the
    /// State Council's notice of the year sets them ([`crate::working_days`]).
    Working,
}

impl DayCounting {
    pub fn code(self) -> &'static str {
        match self {
            DayCounting::Calendar => "calendar",
            DayCounting::Working => "working",
        }
    }

    pub fn from_code(code: &str) -> Option<DayCounting> {
        match code {
            "calendar" => Some(DayCounting::Calendar),
            "working" => Some(DayCounting::Working),
            _ => None,
        }
    }
}

/// The time limits of the procedures: configurable per deployment (a `settings` row), checked
/// by [`ProcedurePolicy::check`], and the calendar their working days are counted in (the
/// shipped holiday notices and the years added to the database: `store::holidays`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedurePolicy {
    /// From the day the lead was found to the county's approval.
    pub limit_days: i64,
    pub counting: DayCounting,
    /// The notice period; never below [`MIN_NOTICE_DAYS`].
    pub notice_days: i64,
    /// A case this many days (of the counting) before its limit stands out as near.
    pub near_days: i64,
    /// Which days are working days, for [`DayCounting::Working`].
    pub calendar: WorkCalendar,
}

impl Default for ProcedurePolicy {
    fn default() -> ProcedurePolicy {
        // DOMAIN.md 1.7: "normally ≤ 15 days, including ≥ 5 days of village publicity";
        // STORIES.md 3 marks cases red after 12 of 15 days.
        ProcedurePolicy {
            limit_days: 15,
            counting: DayCounting::Calendar,
            notice_days: MIN_NOTICE_DAYS,
            near_days: 3,
            calendar: WorkCalendar::built_in().clone(),
        }
    }
}

/// How a case stands against its time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// Decided, closed, or a procedure without a statutory limit.
    NotTimed,
    OnTime,
    /// Within [`ProcedurePolicy::near_days`] of the limit.
    Near,
    Overdue,
}

impl ProcedurePolicy {
    /// Every problem of a proposed policy, in words.
    pub fn check(&self) -> Result<(), Vec<Text>> {
        let mut problems = Vec::new();
        let (limit, notice, near) = (self.limit_days, self.notice_days, self.near_days);
        if !(MIN_NOTICE_DAYS..=MAX_NOTICE_DAYS).contains(&notice) {
            problems.push(text!(
                "公示期{notice}天不合规：至少{MIN_NOTICE_DAYS}天，至多{MAX_NOTICE_DAYS}天",
                "a notice period of {notice} days is not allowed: at least {MIN_NOTICE_DAYS}, at most {MAX_NOTICE_DAYS}"
            ));
        }
        // The limit must leave room for the notice and a day on each side of it.
        let min_limit = notice.max(MIN_NOTICE_DAYS) + 2;
        if !(min_limit..=60).contains(&limit) {
            problems.push(text!(
                "办理时限{limit}天不合规：应在{min_limit}至60天之间（须包含公示期）",
                "a time limit of {limit} days is not allowed: between {min_limit} and 60 days (it includes the notice period)"
            ));
        }
        if near < 0 || near >= limit {
            problems.push(text!(
                "临期提醒{near}天不合规：应在0至{limit}天之间",
                "a warning {near} days before the limit is not allowed: between 0 and {limit} days"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The last day of the time limit for a case opened on `opened_on`.
    pub fn due_on(&self, opened_on: Date) -> Date {
        self.add_days(opened_on, self.limit_days)
    }

    /// How an undecided identification case opened on `opened_on` stands on `today`.
    pub fn urgency(&self, kind: CaseKind, stage: Stage, opened_on: Date, today: Date) -> Urgency {
        // DOMAIN.md fixes no time limit for risk elimination, which waits on the household's
        // situation rather than on the administration.
        if kind != CaseKind::Identification || !stage.is_undecided() {
            return Urgency::NotTimed;
        }
        let due = self.due_on(opened_on);
        if today > due {
            Urgency::Overdue
        } else if today > self.add_days(due, -self.near_days) {
            Urgency::Near
        } else {
            Urgency::OnTime
        }
    }

    /// `date` moved by `days` of the policy's counting (negative: back).
    pub fn add_days(&self, date: Date, days: i64) -> Date {
        match self.counting {
            DayCounting::Calendar => date + Duration::days(days),
            DayCounting::Working => self.calendar.add_working_days(date, days),
        }
    }
}

/// What a village cadre finds at the home (DOMAIN.md 1.7 step 1, STORIES.md 1): income of the
/// last twelve months, rigid spending, the six conditions, and, for identification, the
/// proposal and the household's signed commitment and authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationForm {
    pub visited_on: Date,
    /// Per-capita net income over the twelve months before the visit.
    pub per_capita_income: Fen,
    /// Out-of-pocket medical and schooling spending over the same months.
    pub rigid_spending: Fen,
    /// Risk elimination: the cadre found the rigid spending stably resolved (reimbursed,
    /// covered by a measure); a large amount needs it (DOMAIN.md 1.9 condition c).
    pub rigid_spending_resolved: bool,
    /// The six conditions the law watches; `true` means a problem was found.
    pub problems: Conditions,
    /// Identification: the category proposed.
    pub category: Option<MonitoringCategory>,
    /// Identification: the risk types found (1 to 5).
    pub risks: Vec<RiskType>,
    /// Identification: 承诺授权书 signed (and fingerprinted) by the household.
    pub commitment_signed: bool,
    pub note: String,
}

/// The six conditions of a home verification (两不愁三保障 and drinking water); `true` is a
/// problem.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions {
    pub food: bool,
    pub clothing: bool,
    pub schooling: bool,
    pub medical_insurance: bool,
    pub housing: bool,
    pub water: bool,
}

impl Conditions {
    pub fn any(&self) -> bool {
        self.food
            || self.clothing
            || self.schooling
            || self.medical_insurance
            || self.housing
            || self.water
    }

    /// The conditions with a problem, as (code, Chinese, English).
    pub fn listed(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        [
            (self.food, "food", "吃", "food"),
            (self.clothing, "clothing", "穿", "clothing"),
            (
                self.schooling,
                "schooling",
                "义务教育",
                "compulsory education",
            ),
            (
                self.medical_insurance,
                "medical_insurance",
                "基本医疗保险",
                "basic medical insurance",
            ),
            (self.housing, "housing", "住房安全", "housing safety"),
            (self.water, "water", "饮水安全", "drinking-water safety"),
        ]
        .into_iter()
        .filter(|(problem, ..)| *problem)
        .map(|(_, code, zh, en)| (code, zh, en))
        .collect()
    }
}

/// A step someone takes on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Verify(VerificationForm),
    /// 信息比对: the departments' data agree with the verification, or not (then say how).
    Compare {
        consistent: bool,
        note: String,
    },
    /// 民主评议: the meeting, who attended, and whether it agreed.
    Appraise {
        held_on: Date,
        attendance: u32,
        participants: String,
        agreed: bool,
        note: String,
    },
    /// 村内公示: posted on `starts_on`, up to and including `ends_on`.
    PostNotice {
        starts_on: Date,
        ends_on: Date,
    },
    /// An objection received during the notice.
    Object {
        received_on: Date,
        note: String,
    },
    /// How objection number `number` (1-based, in order of receipt) was resolved.
    ResolveObjection {
        number: u32,
        note: String,
    },
    /// The notice period is over and no objection is open.
    CloseNotice {
        note: String,
    },
    TownshipApprove {
        note: String,
    },
    /// Identification: category and risk types; elimination: the method.
    CountyApprove {
        category: Option<MonitoringCategory>,
        risks: Vec<RiskType>,
        method: Option<EliminationMethod>,
        note: String,
    },
    /// 结果公告, in the village in the township's name.
    Announce {
        on: Date,
        note: String,
    },
    Reject {
        reason: String,
    },
    Withdraw {
        reason: String,
    },
    /// A remark or a correction of an earlier step.
    Comment {
        note: String,
    },
    /// 录入建档: the completed case entered into the national system on `on`, under
    /// `record_number` when the system gave one.
    RecordNational {
        on: Date,
        record_number: Option<String>,
        note: String,
    },
}

labelled_enum!(
    /// The kinds of step, without their content: routes, forms and the audit trail use the code.
    StepKind, "办理步骤", "step", [
    (Open, "open", "登记线索", "lead recorded"),
    (Verify, "verify", "入户核实", "home verification"),
    (Compare, "compare", "信息比对", "data comparison"),
    (Appraise, "appraise", "民主评议", "democratic appraisal"),
    (PostNotice, "post_notice", "张贴公示", "notice posted"),
    (Object, "object", "收到异议", "objection received"),
    (ResolveObjection, "resolve_objection", "异议处理", "objection resolved"),
    (CloseNotice, "close_notice", "公示结束", "notice closed"),
    (TownshipApprove, "township_approve", "乡镇审核通过", "approved by the township"),
    (CountyApprove, "county_approve", "县级审批通过", "approved by the county"),
    (Announce, "announce", "结果公告", "announced"),
    (Reject, "reject", "不予通过", "rejected"),
    (Withdraw, "withdraw", "撤回", "withdrawn"),
    (Comment, "comment", "备注或更正", "comment or correction"),
    (RecordNational, "record_national", "录入建档", "entered in the national system"),
]);

impl Step {
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Verify(_) => StepKind::Verify,
            Step::Compare { .. } => StepKind::Compare,
            Step::Appraise { .. } => StepKind::Appraise,
            Step::PostNotice { .. } => StepKind::PostNotice,
            Step::Object { .. } => StepKind::Object,
            Step::ResolveObjection { .. } => StepKind::ResolveObjection,
            Step::CloseNotice { .. } => StepKind::CloseNotice,
            Step::TownshipApprove { .. } => StepKind::TownshipApprove,
            Step::CountyApprove { .. } => StepKind::CountyApprove,
            Step::Announce { .. } => StepKind::Announce,
            Step::Reject { .. } => StepKind::Reject,
            Step::Withdraw { .. } => StepKind::Withdraw,
            Step::Comment { .. } => StepKind::Comment,
            Step::RecordNational { .. } => StepKind::RecordNational,
        }
    }

    /// The words a step carries (note, reason), for the case's history and the audit trail.
    pub fn note(&self) -> &str {
        match self {
            Step::Verify(f) => &f.note,
            Step::Compare { note, .. }
            | Step::Appraise { note, .. }
            | Step::Object { note, .. }
            | Step::ResolveObjection { note, .. }
            | Step::CloseNotice { note }
            | Step::TownshipApprove { note }
            | Step::CountyApprove { note, .. }
            | Step::Announce { note, .. }
            | Step::Comment { note }
            | Step::RecordNational { note, .. } => note,
            Step::Reject { reason } | Step::Withdraw { reason } => reason,
            Step::PostNotice { .. } => "",
        }
    }

    /// 录入建档: the national record number as it is kept (trimmed; `None` when empty, or for
    /// another step).
    pub fn national_record_number(&self) -> Option<String> {
        match self {
            Step::RecordNational {
                record_number: Some(n),
                ..
            } => Some(n.trim()).filter(|n| !n.is_empty()).map(str::to_owned),
            _ => None,
        }
    }

    /// The day the step's event happened, when it carries one (else the day it is recorded).
    pub fn happened_on(&self) -> Option<Date> {
        match self {
            Step::Verify(f) => Some(f.visited_on),
            Step::Appraise { held_on, .. } => Some(*held_on),
            Step::PostNotice { starts_on, .. } => Some(*starts_on),
            Step::Object { received_on, .. } => Some(*received_on),
            Step::Announce { on, .. } | Step::RecordNational { on, .. } => Some(*on),
            _ => None,
        }
    }
}

/// A case as the state machine sees it: the stage and the few facts the next steps depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    pub kind: CaseKind,
    pub stage: Stage,
    /// The day the lead was found: the time limit counts from it, and no step happens before it.
    pub opened_on: Date,
    pub emergency: Option<EmergencyCause>,
    /// Identification: the data comparison is recorded.
    pub compared: bool,
    /// The day of the democratic appraisal, once held.
    pub appraised_on: Option<Date>,
    pub notice: Option<(Date, Date)>,
    /// Objections received, in order; `true` when resolved.
    pub objections: Vec<bool>,
    /// Identification: what the verification proposed (the county may change it).
    pub category: Option<MonitoringCategory>,
    pub risks: Vec<RiskType>,
    pub method: Option<EliminationMethod>,
    /// The day the completed case was entered into the national system (录入建档).
    pub recorded_on: Option<Date>,
}

impl CaseState {
    /// A new case in home verification.
    pub fn opened(kind: CaseKind, opened_on: Date, emergency: Option<EmergencyCause>) -> CaseState {
        CaseState {
            kind,
            stage: Stage::Verification,
            opened_on,
            emergency,
            compared: false,
            appraised_on: None,
            notice: None,
            objections: Vec::new(),
            category: None,
            risks: Vec::new(),
            method: None,
            recorded_on: None,
        }
    }

    pub fn open_objections(&self) -> usize {
        self.objections
            .iter()
            .filter(|resolved| !**resolved)
            .count()
    }

    /// An emergency identification not yet rejected or withdrawn: measures may come first.
    pub fn allows_measures_first(&self) -> bool {
        self.kind == CaseKind::Identification
            && self.emergency.is_some()
            && !matches!(self.stage, Stage::Rejected | Stage::Withdrawn)
    }
}

/// Where a household stands in monitoring, for deciding which case may be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitoringStatus {
    NotMonitored,
    /// Monitored, risk not eliminated.
    Monitored,
    /// Monitored once, risk eliminated: a new risk may bring it back (re-entry).
    Eliminated,
}

/// Who may open a case, on which household, and from what lead.
pub fn check_open(
    kind: CaseKind,
    role: Role,
    status: MonitoringStatus,
    has_open_case: bool,
    found_on: Date,
    today: Date,
) -> Result<(), Text> {
    if !matches!(
        role,
        Role::VillageCadre | Role::TownshipOfficer | Role::CountyOfficer
    ) {
        return Err(text!(
            "只有村干部、乡镇和区县工作人员可以登记办理",
            "only village cadres and township and county officers open cases"
        ));
    }
    if has_open_case {
        return Err(text!(
            "该户已有正在办理的程序，请在原程序中继续办理",
            "this household already has a case in progress; continue that one"
        ));
    }
    match (kind, status) {
        (CaseKind::Identification, MonitoringStatus::Monitored) => {
            return Err(text!(
                "该户已是监测对象（风险未消除），不需要再次识别",
                "this household is already monitored (risk not eliminated); it needs no identification"
            ));
        }
        (CaseKind::Elimination, MonitoringStatus::NotMonitored) => {
            return Err(text!(
                "该户不是监测对象，没有可消除的风险",
                "this household is not monitored; there is no risk to eliminate"
            ));
        }
        (CaseKind::Elimination, MonitoringStatus::Eliminated) => {
            return Err(text!(
                "该户风险已消除",
                "this household's risk is already eliminated"
            ));
        }
        _ => {}
    }
    check_past_day(found_on, today, None, ("发现线索", "the lead was found"))?;
    if today - found_on > Duration::days(MAX_LEAD_AGE_DAYS) {
        return Err(text!(
            "线索发现日期{found_on}已超过{MAX_LEAD_AGE_DAYS}天，请重新入户了解后以新的日期登记",
            "the lead was found on {found_on}, more than {MAX_LEAD_AGE_DAYS} days ago; visit again and record it with the new day"
        ));
    }
    Ok(())
}

/// The roles that take a kind of step at a stage (empty: nobody, at that stage).
pub fn roles_for(kind: CaseKind, step: StepKind, stage: Stage) -> &'static [Role] {
    use Role::{CountyOfficer as C, TownshipOfficer as T, VillageCadre as V};
    use Stage as S;
    use StepKind as K;
    // Entering the case into the national system is the township's or the county's work
    // (the counties' offices hold the national system's accounts; townships often key in).
    if (step, stage) == (K::RecordNational, S::Completed) {
        return &[T, C];
    }
    if stage.is_final() {
        return &[];
    }
    match (step, stage) {
        (K::Verify, S::Verification) => &[V, T],
        (K::Compare, S::Appraisal | S::Notice | S::TownshipReview)
            if kind == CaseKind::Identification =>
        {
            &[T, C]
        }
        (K::Appraise, S::Appraisal) => &[V, T],
        (K::PostNotice | K::Object | K::ResolveObjection | K::CloseNotice, S::Notice) => &[V, T],
        (K::TownshipApprove, S::TownshipReview) => &[T],
        (K::CountyApprove, S::CountyApproval) => &[C],
        (K::Announce, S::Announcement) => &[T, C],
        (K::Reject | K::Withdraw, S::Verification | S::Appraisal | S::Notice) => &[V, T, C],
        (K::Reject | K::Withdraw, S::TownshipReview) => &[T, C],
        (K::Reject | K::Withdraw, S::CountyApproval) => &[C],
        (K::Comment, _) => &[V, T, C],
        _ => &[],
    }
}

impl Stage {
    /// The step that moves a case on from this stage; none for a final stage.
    pub fn next_step(self) -> Option<StepKind> {
        match self {
            Stage::Verification => Some(StepKind::Verify),
            Stage::Appraisal => Some(StepKind::Appraise),
            Stage::Notice => Some(StepKind::CloseNotice),
            Stage::TownshipReview => Some(StepKind::TownshipApprove),
            Stage::CountyApproval => Some(StepKind::CountyApprove),
            Stage::Announcement => Some(StepKind::Announce),
            Stage::Completed | Stage::Rejected | Stage::Withdrawn => None,
        }
    }

    /// The level whose work the case waits for at this stage ("待我办理"): the first of the
    /// roles that may take [`Stage::next_step`], the one the step belongs to (the village's
    /// verification, which the township may also take, waits for the village).
    pub fn waits_for(self) -> Option<Role> {
        let step = self.next_step()?;
        [CaseKind::Identification, CaseKind::Elimination]
            .into_iter()
            .find_map(|kind| roles_for(kind, step, self).first().copied())
    }
}

/// Whether `role` may take a step of this kind on the case now, whatever its content: what a
/// page asks to decide which forms to offer.
pub fn may_take(state: &CaseState, step: StepKind, role: Role) -> Result<(), Text> {
    if step == StepKind::RecordNational {
        return may_record_national(state, role);
    }
    if state.stage.is_final() {
        let (zh, en) = (state.stage.zh(), state.stage.en());
        return Err(text!(
            "该程序已结束（{zh}），不能再办理；如有新情况，请登记新的程序",
            "this case is closed ({en}) and takes no more steps; open a new case if something new happens"
        ));
    }
    let roles = roles_for(state.kind, step, state.stage);
    if roles.is_empty() {
        let (step_zh, step_en) = (step.zh(), step.en());
        let (stage_zh, stage_en) = (state.stage.zh(), state.stage.en());
        return Err(text!(
            "当前环节是“{stage_zh}”，不能办理“{step_zh}”",
            "the case is at '{stage_en}'; '{step_en}' is not a step of it"
        ));
    }
    if !roles.contains(&role) {
        let who_zh = roles.iter().map(|r| r.zh()).collect::<Vec<_>>().join("、");
        let who_en = roles.iter().map(|r| r.en()).collect::<Vec<_>>().join(", ");
        let (step_zh, step_en) = (step.zh(), step.en());
        return Err(text!(
            "“{step_zh}”由{who_zh}办理",
            "'{step_en}' is taken by: {who_en}"
        ));
    }
    match step {
        StepKind::Compare if state.compared => Err(text!(
            "信息比对已登记；如需更正，请添加备注",
            "the data comparison is recorded; add a comment to correct it"
        )),
        StepKind::PostNotice if state.notice.is_some() => Err(text!(
            "公示已张贴；公示期不能更改，如有错误请驳回后重新办理",
            "the notice is posted; its period cannot change (reject and start again if it is wrong)"
        )),
        StepKind::Object | StepKind::CloseNotice if state.notice.is_none() => {
            Err(text!("尚未张贴公示", "the notice is not posted yet"))
        }
        StepKind::ResolveObjection if state.open_objections() == 0 => {
            Err(text!("没有待处理的异议", "there is no open objection"))
        }
        StepKind::CloseNotice if state.open_objections() > 0 => {
            let n = state.open_objections();
            Err(text!(
                "还有{n}条异议未处理；处理后才能结束公示",
                "{n} objection(s) are still open; resolve them before closing the notice"
            ))
        }
        StepKind::TownshipApprove if state.kind == CaseKind::Identification && !state.compared => {
            Err(text!(
                "信息比对尚未登记；比对后才能审核",
                "the data comparison is not recorded yet; it comes before the review"
            ))
        }
        _ => Ok(()),
    }
}

/// Applies `step` by `role` on `today`: the case's next state, or why not, in words. The
/// division check (the case lies in the actor's scope) is the store's.
pub fn apply(
    state: &CaseState,
    step: &Step,
    role: Role,
    today: Date,
    policy: &ProcedurePolicy,
) -> Result<CaseState, Text> {
    may_take(state, step.kind(), role)?;
    if let Some(day) = step.happened_on() {
        let what = match step.kind() {
            StepKind::Verify => ("入户核实", "the home visit"),
            StepKind::Appraise => ("民主评议", "the appraisal"),
            StepKind::PostNotice => ("公示开始", "the notice"),
            StepKind::Object => ("收到异议", "the objection"),
            StepKind::RecordNational => ("录入建档", "the entry in the national system"),
            _ => ("公告", "the announcement"),
        };
        check_past_day(day, today, Some(state.opened_on), what)?;
    }
    let mut next = state.clone();
    match step {
        Step::Verify(form) => {
            check_verification(state.kind, form)?;
            if state.kind == CaseKind::Identification {
                next.category = form.category;
                next.risks = form.risks.clone();
            }
            next.stage = Stage::Appraisal;
        }
        Step::Compare { consistent, note } => {
            // An inconsistency needs its explanation; an agreement may be noted briefly.
            if !consistent {
                check_note(note, ("比对不一致的情况", "how the data disagree"))?;
            } else {
                check_note_length(note)?;
            }
            next.compared = true;
        }
        Step::Appraise {
            held_on,
            attendance,
            participants,
            agreed,
            note,
        } => {
            if *attendance < 3 {
                return Err(text!(
                    "参加民主评议的人数应至少3人（填写实际人数）",
                    "a democratic appraisal has at least 3 participants (give the actual number)"
                ));
            }
            check_note(participants, ("参加人员", "who took part"))?;
            check_note_length(note)?;
            if !agreed {
                check_note(
                    note,
                    ("评议未通过的理由", "why the appraisal did not agree"),
                )?;
                next.stage = Stage::Rejected;
            } else {
                next.stage = Stage::Notice;
            }
            next.appraised_on = Some(*held_on);
        }
        Step::PostNotice { starts_on, ends_on } => {
            if let Some(appraised) = state.appraised_on
                && starts_on < &appraised
            {
                return Err(text!(
                    "公示开始日期{starts_on}早于民主评议日期{appraised}",
                    "the notice starts on {starts_on}, before the appraisal on {appraised}"
                ));
            }
            let days = (*ends_on - *starts_on).whole_days() + 1;
            let min = policy.notice_days.max(MIN_NOTICE_DAYS);
            if days < min {
                return Err(text!(
                    "公示期只有{days}天（{starts_on}至{ends_on}），至少{min}天",
                    "the notice runs {days} day(s) ({starts_on} to {ends_on}); it must run at least {min} days"
                ));
            }
            if days > MAX_NOTICE_DAYS {
                return Err(text!(
                    "公示期{days}天过长（至多{MAX_NOTICE_DAYS}天），请核对结束日期",
                    "a notice of {days} days is too long (at most {MAX_NOTICE_DAYS}); check the end date"
                ));
            }
            next.notice = Some((*starts_on, *ends_on));
        }
        Step::Object { received_on, note } => {
            let (starts_on, _) = state.notice.unwrap_or((state.opened_on, state.opened_on));
            if *received_on < starts_on {
                return Err(text!(
                    "异议收到日期{received_on}早于公示开始日期{starts_on}",
                    "the objection was received on {received_on}, before the notice started on {starts_on}"
                ));
            }
            check_note(note, ("异议内容", "what the objection says"))?;
            next.objections.push(false);
        }
        Step::ResolveObjection { number, note } => {
            let index = (*number as usize).checked_sub(1);
            match index.and_then(|i| state.objections.get(i)) {
                Some(false) => {}
                Some(true) => {
                    return Err(text!(
                        "第{number}条异议已处理",
                        "objection {number} is already resolved"
                    ));
                }
                None => {
                    let n = state.objections.len();
                    return Err(text!(
                        "没有第{number}条异议（共{n}条）",
                        "there is no objection {number} (there are {n})"
                    ));
                }
            }
            check_note(note, ("处理结果", "how it was resolved"))?;
            if let Some(i) = index {
                next.objections[i] = true;
            }
        }
        Step::CloseNotice { note } => {
            check_note_length(note)?;
            if let Some((_, ends_on)) = state.notice
                && today <= ends_on
            {
                return Err(text!(
                    "公示期到{ends_on}才结束，请在此后结束公示",
                    "the notice runs until {ends_on}; close it after that day"
                ));
            }
            next.stage = Stage::TownshipReview;
        }
        Step::TownshipApprove { note } => {
            check_note_length(note)?;
            next.stage = Stage::CountyApproval;
        }
        Step::CountyApprove {
            category,
            risks,
            method,
            note,
        } => {
            check_note_length(note)?;
            match state.kind {
                CaseKind::Identification => {
                    let Some(category) = category else {
                        return Err(text!(
                            "请选择监测对象类别",
                            "choose the monitoring category"
                        ));
                    };
                    check_risks(risks)?;
                    next.category = Some(*category);
                    next.risks = risks.clone();
                }
                CaseKind::Elimination => {
                    let Some(method) = method else {
                        return Err(text!(
                            "请选择风险消除方式（帮扶消除或自然消除）",
                            "choose the elimination method (by assistance or naturally)"
                        ));
                    };
                    next.method = Some(*method);
                }
            }
            next.stage = Stage::Announcement;
        }
        Step::Announce { note, .. } => {
            check_note_length(note)?;
            next.stage = Stage::Completed;
        }
        Step::Reject { reason } => {
            check_note(reason, ("不予通过的理由", "the reason for rejecting"))?;
            next.stage = Stage::Rejected;
        }
        Step::Withdraw { reason } => {
            check_note(reason, ("撤回的原因", "the reason for withdrawing"))?;
            next.stage = Stage::Withdrawn;
        }
        Step::Comment { note } => {
            check_note(note, ("备注或更正", "the comment or correction"))?;
        }
        Step::RecordNational {
            on, record_number, ..
        } => {
            check_note_length(step.note())?;
            if let Some(number) = record_number {
                check_record_number(number)?;
            }
            next.recorded_on = Some(*on);
        }
    }
    Ok(next)
}

fn check_verification(kind: CaseKind, form: &VerificationForm) -> Result<(), Text> {
    match verification_problems(kind, form).into_iter().next() {
        Some((_, problem)) => Err(problem),
        None => Ok(()),
    }
}

/// Every problem of a home verification form at once, each with the form field it is about
/// (`income`, `rigid_spending`, `note`, `rigid_resolved`, `category`, `risk`, `commitment`),
/// so that a refused form can say them all next to their fields.
pub fn verification_problems(kind: CaseKind, form: &VerificationForm) -> Vec<(&'static str, Text)> {
    let mut problems = Vec::new();
    // A business loss can make income negative; a million yuan a head either way is a typo.
    if form.per_capita_income.0.abs() > 100_000_000 {
        problems.push((
            "income",
            text!(
                "人均纯收入数值不合理，请核对",
                "the per-capita net income is not plausible; check it"
            ),
        ));
    }
    if form.rigid_spending.0 < 0 {
        problems.push((
            "rigid_spending",
            text!("刚性支出不能为负数", "rigid spending cannot be negative"),
        ));
    }
    if let Err(e) = check_note_length(&form.note) {
        problems.push(("note", e));
    }
    if kind == CaseKind::Elimination
        && let Err(e) = crate::elimination::check_rigid_spending(
            form.rigid_spending,
            form.rigid_spending_resolved,
        )
    {
        problems.push(("rigid_resolved", e));
    }
    if kind == CaseKind::Identification {
        if form.category.is_none() {
            problems.push((
                "category",
                text!("请选择拟纳入的监测对象类别", "choose the category proposed"),
            ));
        }
        if let Err(e) = check_risks(&form.risks) {
            problems.push(("risk", e));
        }
        if !form.commitment_signed {
            problems.push((
                "commitment",
                text!(
                    "农户尚未签署承诺授权书：签署后才能继续；农户不申请时请撤回",
                    "the household has not signed the commitment and authorisation: it is needed to go on; withdraw the case if the household does not apply"
                ),
            ));
        }
    }
    problems
}

fn check_risks(risks: &[RiskType]) -> Result<(), Text> {
    if risks.is_empty() {
        return Err(text!(
            "请至少选择一项风险类型",
            "choose at least one risk type"
        ));
    }
    if risks.len() > MAX_RISK_TYPES {
        return Err(text!(
            "风险类型最多{MAX_RISK_TYPES}项",
            "at most {MAX_RISK_TYPES} risk types"
        ));
    }
    Ok(())
}

/// A day that has happened: not after today, and not before the case began.
fn check_past_day(
    day: Date,
    today: Date,
    not_before: Option<Date>,
    (what_zh, what_en): (&str, &str),
) -> Result<(), Text> {
    if day > today {
        return Err(text!(
            "{what_zh}日期{day}晚于今天，请填写实际日期",
            "{what_en}: {day} is after today; give the actual day"
        ));
    }
    if let Some(first) = not_before
        && day < first
    {
        return Err(text!(
            "{what_zh}日期{day}早于发现线索的日期{first}",
            "{what_en}: {day} is before the lead was found on {first}"
        ));
    }
    Ok(())
}

fn check_note(note: &str, (what_zh, what_en): (&str, &str)) -> Result<(), Text> {
    let n = note.trim().chars().count();
    if n < MIN_NOTE_CHARS {
        return Err(text!(
            "请填写{what_zh}（至少{MIN_NOTE_CHARS}个字）",
            "write {what_en} (at least {MIN_NOTE_CHARS} characters)"
        ));
    }
    check_note_length(note)
}

fn check_note_length(note: &str) -> Result<(), Text> {
    let n = note.trim().chars().count();
    if n > MAX_NOTE_CHARS {
        return Err(text!(
            "文字过长（{n}字），最多{MAX_NOTE_CHARS}字",
            "the text is too long ({n} characters); at most {MAX_NOTE_CHARS}"
        ));
    }
    crate::text::check_characters(note.trim(), crate::text::Lines::Many).map_err(|e| e.text())
}

mod national;
use national::may_record_national;
pub use national::{MAX_RECORD_NUMBER_CHARS, check_record_number};

#[cfg(test)]
mod tests;
