//! A household's monitoring history as it happened: the cases with every step taken (what, by
//! which role, on which day), the responsible cadre and the measures, and its income in each
//! completed year ([`YearIncome`]). `synth` simulates it for the demo (decision 0019) and `store`
//! writes it in bulk; both read these plain types, checked where they were made (every step by
//! [`crate::procedure::apply`], every pairing and measure by its draft's `build`).

use crate::DivisionCode;
use crate::Fen;
use crate::access::Role;
use crate::assistance::{Measure, Pairing};
use crate::enums::MonitoringCategory;
use crate::monitoring::{Reason, RiskType};
use crate::procedure::{CaseKind, CaseState, Stage, Step};
use crate::warning::{WarningChannel, WarningKind, WarningStatus};
use time::Date;

/// A case with the steps it took, in order.
#[derive(Debug, Clone)]
pub struct CaseHistory {
    pub household_no: String,
    pub division: DivisionCode,
    pub kind: CaseKind,
    pub channel: WarningChannel,
    pub opened_on: Date,
    pub due_on: Option<Date>,
    pub steps: Vec<TakenStep>,
    /// The state after the last step.
    pub state: CaseState,
    /// The warning the case was opened from, verified on the day the case opened.
    pub lead: Option<WarningHistory>,
}

impl CaseHistory {
    /// The day of the county's approval.
    pub fn approved_on(&self) -> Option<Date> {
        self.steps
            .iter()
            .find(|s| matches!(s.step, Step::CountyApprove { .. }))
            .map(|s| s.on)
    }

    /// The day the case reached a final stage.
    pub fn closed_on(&self) -> Option<Date> {
        self.steps
            .iter()
            .find(|s| s.after.is_final() && !s.before.is_final())
            .map(|s| s.on)
    }

    /// The national record's number, once entered (录入建档).
    pub fn record_number(&self) -> Option<String> {
        self.steps
            .iter()
            .find_map(|s| s.step.national_record_number())
    }
}

/// One step: what, by which role, on which day, and the stages around it.
#[derive(Debug, Clone)]
pub struct TakenStep {
    pub step: Step,
    pub role: Role,
    pub on: Date,
    pub before: Stage,
    pub after: Stage,
}

/// A responsible cadre paired with a household.
#[derive(Debug, Clone)]
pub struct HouseholdPairing {
    pub household_no: String,
    pub division: DivisionCode,
    pub pairing: Pairing,
}

/// A measure recorded for a household.
#[derive(Debug, Clone)]
pub struct HouseholdMeasure {
    pub household_no: String,
    pub division: DivisionCode,
    pub measure: Measure,
    /// Why it was cancelled, when it was (checked by [`crate::assistance::check_cancel_reason`]).
    pub cancel_reason: Option<String>,
}

/// A warning as it was raised and dealt with: every step checked by
/// [`crate::warning::plan_step`] where it was made.
#[derive(Debug, Clone)]
pub struct WarningHistory {
    pub household_no: String,
    pub division: DivisionCode,
    pub channel: WarningChannel,
    /// As stored: `department:<kind>` for a department's data, else the channel's code.
    pub source: String,
    pub kind: WarningKind,
    pub category: Option<MonitoringCategory>,
    pub risks: Vec<RiskType>,
    pub reasons: Vec<WarningReason>,
    pub opened_on: Date,
    /// The village cadre it was assigned to, on which day, with which deadline.
    pub assigned: Option<Assignment>,
    /// How it was settled, if it was.
    pub settled: Option<Settlement>,
    /// Where it stands after its last step.
    pub status: WarningStatus,
    /// The self-declaration it came from (checked by [`crate::portal::DeclarationForm::check`]),
    /// made on `opened_on`.
    pub declaration: Option<crate::portal::Declaration>,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub cadre: String,
    pub on: Date,
    pub deadline: Date,
}

#[derive(Debug, Clone)]
pub struct Settlement {
    pub on: Date,
    pub by: String,
    /// The verification's note or the dismissal's reason.
    pub note: String,
}

/// Why a warning was raised: a rule of the rule set in force, or what a person reported (a
/// cadre's visit, a household's self-declaration).
#[derive(Debug, Clone)]
pub enum WarningReason {
    Rule(Reason),
    Report {
        by: String,
        on: Date,
        note: String,
    },
    /// The warning's declaration, worded as the portal words it.
    Declared,
}

/// A ticket of the public line as it was received and worked: every step checked by
/// [`crate::portal::ticket_step_allowed`] where it was made.
#[derive(Debug, Clone)]
pub struct TicketHistory {
    /// As the public's form gave it, checked by [`crate::portal::TicketForm::check`].
    pub ticket: crate::portal::Ticket,
    pub received_on: Date,
    pub due_on: Date,
    /// The officer it was assigned to, and the day.
    pub assigned: Option<(String, Date)>,
    /// The answer, who gave it and the day.
    pub answer: Option<TicketAnswer>,
    pub closed_on: Option<Date>,
    pub status: crate::portal::TicketStatus,
}

#[derive(Debug, Clone)]
pub struct TicketAnswer {
    pub text: String,
    pub by: String,
    pub on: Date,
}

/// A household's income in one completed year (the current year's is in its income items):
/// the year's household net income, the per-capita net income (the net divided by `members`,
/// rounded as [`Fen::per_capita`]), the members that year and those who received rural dibao.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearIncome {
    pub household_no: String,
    pub year: i32,
    pub net_income: Fen,
    pub per_capita_net: Fen,
    pub members: u32,
    pub dibao_members: u32,
}
