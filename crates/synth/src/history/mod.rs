//! The history of a county's monitored caseload since 2021 (issue 17 item 1, first part;
//! decision 0019): for each household the plan monitors, the identification that brought it in,
//! its responsible cadre and measures, and, for most of those identified early, the risk
//! elimination that took it out; a few households with cases in every stage and some rejected
//! or withdrawn. Nothing here is written as a final state: every step of every case is taken
//! through `zhenxing_core::procedure::apply` with the role that takes it on the day it happens,
//! every pairing and measure is checked by its draft's `build`, and an elimination runs only when
//! `zhenxing_core::elimination::preconditions` hold on its day. A step the rules refuse is a bug
//! here, reported with the household and the reason.
//!
//! Pure and deterministic: the county's own random stream (apart from the households' stream, so
//! that adding history changes no household's draws), and `today` as an input.

mod tickets;
mod warnings;

use crate::monitoring::THRESHOLD;
use crate::names;
use crate::rng::Rng;
use time::{Date, Duration, Month};
use warnings::{Ending, Warnings};
use zhenxing_core::assistance::{
    Measure, MeasureCategory, MeasureDraft, MeasureFact, MeasureStatus, PairingDraft,
    PoliticalStatus, categories_for_risk, check_cancel_reason,
};
use zhenxing_core::checks::whole_household_without_labor;
use zhenxing_core::elimination::{
    EliminationFacts, EliminationMethod, RigidSpending, all_hold, check_method, preconditions,
};
use zhenxing_core::history::{
    CaseHistory, HouseholdMeasure, HouseholdPairing, TakenStep, TicketHistory, WarningHistory,
    YearIncome,
};
use zhenxing_core::monitoring::{MonitoringOutcome, RiskType};
use zhenxing_core::procedure::{
    CaseKind, CaseState, Conditions, ProcedurePolicy, Stage, Step, VerificationForm, apply,
};
use zhenxing_core::warning::{WarningChannel, WarningKind};
use zhenxing_core::{
    DocumentNumber, Fen, HealthCondition, HouseholdDraft, HouseholdType, IncomeItems, Labor,
    MonitoringCategory, Role, SchoolStatus, Sex,
};

/// The first day the history covers: the transition period began with 2021.
pub const HISTORY_STARTS: Date = match Date::from_calendar_date(2021, Month::January, 4) {
    Ok(d) => d,
    Err(_) => panic!("a valid date"),
};

/// The first leads: the monitoring mechanism began with the State Council's guidance of
/// 2020-03-20 (DOMAIN.md 1.1), before the transition period.
pub const MONITORING_BEGAN: Date = match Date::from_calendar_date(2020, Month::April, 1) {
    Ok(d) => d,
    Err(_) => panic!("a valid date"),
};

/// The record's calibration point (DOMAIN.md 0): 68,869 people monitored around September
/// 2021, 84.8% of them with their risk eliminated.
pub const CALIBRATION_DAY: Date = match Date::from_calendar_date(2021, Month::September, 15) {
    Ok(d) => d,
    Err(_) => panic!("a valid date"),
};

/// What the procedures recorded on a monitored household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedOutcome {
    pub identified_on: Date,
    pub risk_types: Vec<RiskType>,
    pub eliminated: Option<(Date, EliminationMethod)>,
}

/// A county's history.
#[derive(Debug, Clone, Default)]
pub struct CountyHistory {
    pub cases: Vec<CaseHistory>,
    pub pairings: Vec<HouseholdPairing>,
    pub measures: Vec<HouseholdMeasure>,
    /// The warnings that did not open a case (a case's lead is with the case): dismissed
    /// leads, new risks of monitored households, and those still waiting today.
    pub warnings: Vec<WarningHistory>,
    /// The public line's tickets about the county's villages.
    pub tickets: Vec<TicketHistory>,
    /// The households' incomes of completed years (`crate::income_years`).
    pub incomes: Vec<YearIncome>,
    /// By the index of the household in the county's drafts.
    pub outcomes: Vec<(usize, SimulatedOutcome)>,
}

/// Share of the later identifications (after September 2021) by year of the lead: a steady
/// flow, the rules having no quota (DOMAIN.md 1.2).
const YEAR_WEIGHTS: [(i32, u32); 6] = [
    (2021, 5),
    (2022, 22),
    (2023, 20),
    (2024, 18),
    (2025, 18),
    (2026, 17),
];

/// Share of the caseload of September 2021 identified in 2020 under the first mechanism (the
/// rest in 2021 up to August); with most of them eliminated by then, as the record has it.
const SHARE_IDENTIFIED_IN_2020: f64 = 0.88;
/// Chance that a household identified early enough has its risk eliminated by the calibration
/// day (the record: 84.8% of the caseload).
const ELIMINATED_BY_CALIBRATION: f64 = 0.97;
/// Chance that a monitored household reports a new risk while it is monitored.
const NEW_RISK: f64 = 0.15;
/// Chance that a household whose risk was eliminated falls back into a risk later and is
/// identified again.
const REENTRY: f64 = 0.04;

/// Chance that a household identified in a year has had its risk eliminated by now, if the
/// preconditions allow it: most of 2021's by 2023 (DOMAIN.md 0 has 84.8% of the 2021 caseload
/// eliminated), fewer of later years. Households without labour are never eliminated (1.9), so
/// the share eliminated is lower than the chance.
fn elimination_chance(identified: i32) -> f64 {
    match identified {
        ..=2021 => 0.93,
        2022 => 0.85,
        2023 => 0.72,
        2024 => 0.55,
        2025 => 0.28,
        _ => 0.05,
    }
}

/// Shares of monitored households with a lapse of assistance, as real caseloads have and the
/// coverage check exists to find: no responsible cadre yet, the first measure still not
/// implemented, no development-type measure although someone can work.
const LAPSE_NO_CADRE: f64 = 0.045;
const LAPSE_LATE_MEASURE: f64 = 0.03;
const LAPSE_NO_DEVELOPMENT: f64 = 0.15;

/// Share of a household's later measures given up.
const CANCELLED: f64 = 0.04;

/// The lapses drawn for one household.
#[derive(Debug, Clone, Copy)]
struct Lapses {
    first_measure_late: bool,
    no_development: bool,
}

/// The units that send responsible cadres (帮扶单位), after the county's name.
const UNITS: [&str; 8] = [
    "农业农村委员会",
    "乡村振兴局",
    "人力资源和社会保障局",
    "卫生健康委员会",
    "教育委员会",
    "民政局",
    "住房和城乡建设委员会",
    "供销合作社",
];

/// The county's responsible cadres (帮扶责任人) as they are paired: a cadre keeps up to five
/// households, then the next one is called on.
struct Cadres<'a> {
    county: &'a str,
    people: Vec<Cadre>,
}

struct Cadre {
    name: zhenxing_core::PersonName,
    sex: Sex,
    unit: String,
    phone: zhenxing_core::Phone,
    households: u32,
}

impl<'a> Cadres<'a> {
    fn new(county: &'a str) -> Cadres<'a> {
        Cadres {
            county,
            people: Vec::new(),
        }
    }

    /// The cadre who takes the next household.
    fn next(&mut self, rng: &mut Rng) -> &Cadre {
        if self.people.last().is_none_or(|c| c.households >= 5) {
            let (name, sex) = names::someone(rng, 0.7, 1965, 30);
            let unit = format!("{}{}", self.county, UNITS[rng.index(UNITS.len())]);
            self.people.push(Cadre {
                name,
                sex,
                unit,
                phone: names::phone(rng),
                households: 0,
            });
        }
        let last = self.people.len() - 1;
        let cadre = &mut self.people[last];
        cadre.households += 1;
        cadre
    }
}

/// Simulates the history of one county. `drafts` are the county's households with the plan's
/// monitoring categories; the income of a household whose risk was eliminated is raised to what
/// the elimination found (above the threshold). `county` is the county's name;
/// `by_september_2021` the members of its caseload identified by the calibration day.
pub fn simulate(
    rng: &mut Rng,
    drafts: &mut [HouseholdDraft],
    county: &str,
    by_september_2021: u64,
    today: Date,
) -> Result<CountyHistory, String> {
    let policy = ProcedurePolicy::default();
    let mut sim = Sim {
        policy: &policy,
        today,
        warnings: Warnings::new(today),
    };
    let mut history = CountyHistory::default();
    let latest_lead = today - Duration::days(30);
    if latest_lead < MONITORING_BEGAN {
        return Ok(history);
    }
    let leads = lead_days(rng, drafts, by_september_2021, latest_lead);
    let mut cadres = Cadres::new(county);
    for (i, lead) in leads {
        let d = &mut drafts[i];
        let Some(category) = d.monitoring_category else {
            continue;
        };
        let risks = risks_of(rng, d, category);
        let (approved, facts) = sim.identified(
            rng,
            d,
            category,
            &risks,
            lead,
            &mut cadres,
            false,
            &mut history,
        )?;
        let mut outcome = SimulatedOutcome {
            identified_on: approved,
            risk_types: risks.clone(),
            eliminated: None,
        };
        let income_when_identified = d.income;
        let eliminated = match elimination_lead(rng, approved, &facts, latest_lead) {
            Some(lead) => sim
                .elimination(rng, d, &risks, &facts, approved, lead)?
                .map(|case| (lead, case)),
            None => None,
        };
        let Some((elimination_lead, case)) = eliminated else {
            sim.new_risk(rng, d, &risks, approved, latest_lead, &mut history)?;
            history.outcomes.push((i, outcome));
            continue;
        };
        let (Some(day), Some(method)) = (case.approved_on(), case.state.method) else {
            return Err(format!("{}: elimination without approval", d.household_no));
        };
        outcome.eliminated = Some((day, method));
        history.cases.push(case);
        sim.new_risk(rng, d, &risks, approved, elimination_lead, &mut history)?;
        // A few fall back into a risk later and are identified again.
        let again = add_months(day, rng.range(6, 30)) + Duration::days(rng.range(0, 27));
        if again <= latest_lead && rng.chance(REENTRY) {
            // The income the elimination found is lost again (the household's registry
            // income is today's).
            d.income = income_when_identified;
            let risks = risks_of(rng, d, category);
            let (approved, _) = sim.identified(
                rng,
                d,
                category,
                &risks,
                again,
                &mut cadres,
                true,
                &mut history,
            )?;
            outcome = SimulatedOutcome {
                identified_on: approved,
                risk_types: risks,
                eliminated: None,
            };
        }
        history.outcomes.push((i, outcome));
    }
    history
        .cases
        .extend(sim.open_and_unsuccessful(rng, drafts)?);
    sim.dismissed_and_waiting(rng, drafts, latest_lead, &mut history)?;
    let mut villages: Vec<_> = drafts.iter().map(|d| d.division).collect();
    villages.dedup();
    history.tickets = tickets::simulate(rng, &villages, drafts.len(), HISTORY_STARTS, today)?;
    Ok(history)
}

/// The day of each monitored household's lead, by the household's index. The caseload of the
/// calibration day (`by_september_2021` members) is taken first, mostly from households who
/// can work (whose risk can be eliminated: the record has 84.8% of it eliminated by then) and
/// mostly identified in 2020; the others come in year by year after it ([`YEAR_WEIGHTS`]).
/// In the order of the leads, so that a cadre's households are paired in time order.
fn lead_days(
    rng: &mut Rng,
    drafts: &[HouseholdDraft],
    by_september_2021: u64,
    latest: Date,
) -> Vec<(usize, Date)> {
    let mut order: Vec<(f64, usize)> = drafts
        .iter()
        .enumerate()
        .filter(|(_, d)| d.monitoring_category.is_some())
        .map(|(i, d)| {
            let later = if without_labor(d) { 0.8 } else { 0.0 };
            (rng.uniform(0.0, 1.0) + later, i)
        })
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let early_end = Date::from_calendar_date(2021, Month::August, 31).unwrap_or(CALIBRATION_DAY);
    let mut left = by_september_2021;
    let mut leads = Vec::with_capacity(order.len());
    for (_, i) in order {
        let members = drafts[i].members.len() as u64;
        let day = if members <= left && early_end <= latest {
            left -= members;
            if rng.chance(SHARE_IDENTIFIED_IN_2020) {
                day_between(rng, MONITORING_BEGAN, HISTORY_STARTS - Duration::days(5))
            } else {
                day_between(rng, HISTORY_STARTS, early_end)
            }
        } else {
            lead_day(rng, CALIBRATION_DAY.min(latest), latest)
        };
        leads.push((i, day));
    }
    leads.sort_by_key(|&(i, day)| (day, i));
    leads
}

/// When a household's risk elimination is led, if it is: for the early caseload, mostly before
/// the calibration day; otherwise with the chance of its year, 6 to 20 months after the
/// identification. The income must have been above the threshold for half a year (since its
/// first measure was implemented) and the lead must have happened by `latest`.
fn elimination_lead(
    rng: &mut Rng,
    approved: Date,
    facts: &[MeasureFact],
    latest: Date,
) -> Option<Date> {
    let first_implemented = facts.iter().filter_map(|m| m.implemented_on).min()?;
    let earliest =
        add_months(approved, 6).max(add_months(first_implemented, 6)) + Duration::days(1);
    let before_calibration = CALIBRATION_DAY - Duration::days(20);
    let lead = if earliest <= before_calibration && rng.chance(ELIMINATED_BY_CALIBRATION) {
        day_between(rng, earliest, before_calibration)
    } else if rng.chance(elimination_chance(approved.year())) {
        (add_months(approved, rng.range(6, 20)) + Duration::days(rng.range(0, 20))).max(earliest)
    } else {
        return None;
    };
    (lead <= latest).then_some(lead)
}

/// A day from `first` to `last` (both included; `first` if the span is empty).
fn day_between(rng: &mut Rng, first: Date, last: Date) -> Date {
    let span = (last - first).whole_days();
    first + Duration::days(if span > 0 { rng.range(0, span) } else { 0 })
}

/// A lead's day from `from` to `latest`: a year by [`YEAR_WEIGHTS`] (by the share of it
/// between the bounds), a day within it.
fn lead_day(rng: &mut Rng, from: Date, latest: Date) -> Date {
    let span = |year: i32| {
        let first = Date::from_calendar_date(year, Month::January, 1)
            .unwrap_or(from)
            .max(from);
        let last = Date::from_calendar_date(year, Month::December, 31)
            .unwrap_or(latest)
            .min(latest);
        (first, last)
    };
    let weights: Vec<u32> = YEAR_WEIGHTS
        .iter()
        .map(|&(year, w)| {
            let (first, last) = span(year);
            let days = (last - first).whole_days() + 1;
            if days > 0 {
                (i64::from(w) * days / 365) as u32
            } else {
                0
            }
        })
        .collect();
    if weights.iter().all(|&w| w == 0) {
        return from.min(latest);
    }
    let (first, last) = span(YEAR_WEIGHTS[rng.weighted(&weights)].0);
    day_between(rng, first, last)
}

/// `months` calendar months after `day` (the day of the month kept where it exists).
fn add_months(day: Date, months: i64) -> Date {
    let total = i64::from(day.year()) * 12 + i64::from(u8::from(day.month()) - 1) + months;
    let year = (total.div_euclid(12)) as i32;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, day.day().min(last)).unwrap_or(day)
}

/// The risk types a verification finds on the household: what its members and conditions show,
/// the main one first, at most three.
fn risks_of(rng: &mut Rng, d: &HouseholdDraft, category: MonitoringCategory) -> Vec<RiskType> {
    let mut risks: Vec<RiskType> = Vec::new();
    let add = |risks: &mut Vec<RiskType>, r: RiskType| {
        if !risks.contains(&r) && risks.len() < 3 {
            risks.push(r);
        }
    };
    let ill = d.members.iter().any(|m| {
        m.health.has(HealthCondition::SeriousIllness) || m.health.has(HealthCondition::Chronic)
    });
    if category == MonitoringCategory::SuddenHardship || d.out_of_pocket >= Fen::from_yuan(5_000) {
        add(
            &mut risks,
            if rng.chance(0.85) {
                RiskType::Illness
            } else {
                RiskType::Accident
            },
        );
    }
    if ill {
        add(&mut risks, RiskType::Illness);
    }
    // The national data checks (DOMAIN.md 1.5): 因残 needs a member with a disability
    // certificate; a member without basic medical insurance needs 因病.
    if d.members
        .iter()
        .any(|m| matches!(m.document, DocumentNumber::DisabilityCertificate(..)))
    {
        add(&mut risks, RiskType::Disability);
    }
    if d.members.iter().any(|m| !m.medical_insurance) {
        add(&mut risks, RiskType::Illness);
    }
    if d.housing_safe == Some(false) {
        add(&mut risks, RiskType::UnsafeHousing);
    }
    if d.water_safe == Some(false) {
        add(&mut risks, RiskType::UnsafeWater);
    }
    let workers = d
        .members
        .iter()
        .filter(|m| matches!(m.labor, Labor::Ordinary | Labor::Skilled))
        .count();
    if workers == 0 {
        add(&mut risks, RiskType::LackOfLabor);
    }
    if d.members.iter().any(|m| {
        matches!(
            m.school_status,
            Some(
                SchoolStatus::SeniorHigh
                    | SchoolStatus::SecondaryVocational
                    | SchoolStatus::HigherVocational
                    | SchoolStatus::TechnicianCollege
                    | SchoolStatus::Undergraduate
            )
        )
    }) {
        add(&mut risks, RiskType::Schooling);
    }
    if risks.is_empty() {
        add(
            &mut risks,
            rng.pick(&[
                (5, RiskType::UnstableEmployment),
                (2, RiskType::IndustryFailure),
                (1, RiskType::NaturalDisaster),
                (1, RiskType::Other),
            ]),
        );
    }
    risks
}

/// The conditions of the six a verification finds failing, from the registry.
fn problems_of(d: &HouseholdDraft) -> Conditions {
    Conditions {
        housing: d.housing_safe == Some(false),
        water: d.water_safe == Some(false),
        medical_insurance: d.members.iter().any(|m| !m.medical_insurance),
        ..Conditions::default()
    }
}

/// 整户无劳动力, as the store's elimination facts read it.
fn without_labor(d: &HouseholdDraft) -> bool {
    whole_household_without_labor(d.members.iter().map(|m| m.labor))
}

fn per_capita(d: &HouseholdDraft) -> Fen {
    d.income
        .per_capita_net(d.members.len() as u32)
        .unwrap_or(Fen::ZERO)
}

const VILLAGE_MEETING: &str = "村两委、村民代表、驻村工作队";

/// Whether a procedure runs against the time limit (identification) or not (elimination).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pace {
    Timed,
    Untimed,
}

/// The stages open cases are left in, and how many days before today their lead was found.
const STAGES_OPEN: [(Stage, i64); 6] = [
    (Stage::Verification, 1),
    (Stage::Appraisal, 3),
    (Stage::Notice, 7),
    (Stage::TownshipReview, 16),
    (Stage::CountyApproval, 19),
    (Stage::Announcement, 22),
];

struct Sim<'a> {
    policy: &'a ProcedurePolicy,
    today: Date,
    warnings: Warnings,
}

/// A case being walked step by step.
struct Walk<'a> {
    case: CaseHistory,
    policy: &'a ProcedurePolicy,
}

impl<'a> Walk<'a> {
    fn new(
        policy: &'a ProcedurePolicy,
        d: &HouseholdDraft,
        kind: CaseKind,
        channel: WarningChannel,
        opened_on: Date,
    ) -> Walk<'a> {
        Walk {
            case: CaseHistory {
                household_no: d.household_no.as_str().to_owned(),
                division: d.division,
                kind,
                channel,
                opened_on,
                due_on: (kind == CaseKind::Identification).then(|| policy.due_on(opened_on)),
                steps: Vec::new(),
                state: CaseState::opened(kind, opened_on, None),
                lead: None,
            },
            policy,
        }
    }

    /// Takes a step through the state machine on `on`; the rules' refusal is an error.
    fn take(&mut self, step: Step, role: Role, on: Date) -> Result<(), String> {
        let next = apply(&self.case.state, &step, role, on, self.policy).map_err(|why| {
            format!(
                "{} {:?} {:?} on {on}: {}",
                self.case.household_no,
                self.case.kind,
                step.kind(),
                why.en
            )
        })?;
        self.case.steps.push(TakenStep {
            step,
            role,
            on,
            before: self.case.state.stage,
            after: next.stage,
        });
        self.case.state = next;
        Ok(())
    }

    fn stage(&self) -> Stage {
        self.case.state.stage
    }
}

impl<'a> Sim<'a> {
    /// A household identified from a lead on `lead`: the completed identification, its
    /// responsible cadre (a few wait for theirs: a lapse the coverage check finds) and its
    /// measures, all added to `history`; a household identified again (`paired`) keeps the
    /// cadre it has. Returns the day of the approval and the measures.
    #[allow(clippy::too_many_arguments)]
    fn identified(
        &mut self,
        rng: &mut Rng,
        d: &HouseholdDraft,
        category: MonitoringCategory,
        risks: &[RiskType],
        lead: Date,
        cadres: &mut Cadres<'_>,
        paired: bool,
        history: &mut CountyHistory,
    ) -> Result<(Date, Vec<MeasureFact>), String> {
        let today = self.today;
        let case = self.identification(rng, d, category, risks, lead)?;
        let approved = case
            .approved_on()
            .ok_or_else(|| format!("{}: identification without approval", d.household_no))?;
        let announced = case.closed_on().unwrap_or(approved);
        history.cases.push(case);
        if !paired && !rng.chance(LAPSE_NO_CADRE) {
            let cadre = cadres.next(rng);
            let starts_on = (announced + Duration::days(rng.range(1, 10))).min(today);
            let pairing = PairingDraft {
                name: cadre.name.as_str().to_owned(),
                sex: Some(cadre.sex),
                political_status: Some(if rng.chance(0.85) {
                    PoliticalStatus::PartyMember
                } else {
                    PoliticalStatus::Masses
                }),
                unit: cadre.unit.clone(),
                phone: cadre.phone.as_str().to_owned(),
                starts_on,
                ends_on: None,
            }
            .build(today)
            .map_err(|e| format!("{}: pairing refused: {e:?}", d.household_no))?;
            history.pairings.push(HouseholdPairing {
                household_no: d.household_no.as_str().to_owned(),
                division: d.division,
                pairing,
            });
        }
        let lapses = Lapses {
            first_measure_late: rng.chance(LAPSE_LATE_MEASURE),
            no_development: rng.chance(LAPSE_NO_DEVELOPMENT),
        };
        let measures = measures_for(rng, d, risks, announced, today, lapses)?;
        let facts = measures
            .iter()
            .map(|(m, _)| MeasureFact {
                category: m.category,
                status: m.status,
                implemented_on: m.implemented_on,
                risk: m.risk,
            })
            .collect();
        for (measure, cancel_reason) in measures {
            history.measures.push(HouseholdMeasure {
                household_no: d.household_no.as_str().to_owned(),
                division: d.division,
                measure,
                cancel_reason,
            });
        }
        Ok((approved, facts))
    }

    /// The identification of a household the plan monitors, completed and (mostly) entered in
    /// the national system.
    fn identification(
        &mut self,
        rng: &mut Rng,
        d: &HouseholdDraft,
        category: MonitoringCategory,
        risks: &[RiskType],
        lead: Date,
    ) -> Result<CaseHistory, String> {
        let channel = rng.pick(&[
            (4, WarningChannel::Visit),
            (2, WarningChannel::Screening),
            (2, WarningChannel::Department),
            (2, WarningChannel::SelfDeclaration),
        ]);
        let mut walk = self.opened_from_lead(rng, d, channel, category, risks, lead)?;
        self.identification_steps(rng, &mut walk, d, category, risks, Stage::Completed)?;
        Ok(walk.case)
    }

    /// An identification opened on `opened_on` from its lead: a warning raised a few days
    /// before, assigned to the village cadre and verified that day.
    fn opened_from_lead(
        &mut self,
        rng: &mut Rng,
        d: &HouseholdDraft,
        channel: WarningChannel,
        category: MonitoringCategory,
        risks: &[RiskType],
        opened_on: Date,
    ) -> Result<Walk<'a>, String> {
        let raised = opened_on - Duration::days(rng.range(1, 4));
        let lead = self.warnings.raise(
            rng,
            d,
            WarningKind::Lead,
            channel,
            Some(category),
            risks,
            raised,
            Ending::Verified(opened_on),
        )?;
        let mut walk = Walk::new(
            self.policy,
            d,
            CaseKind::Identification,
            lead.channel,
            opened_on,
        );
        walk.case.lead = Some(lead);
        Ok(walk)
    }

    /// A new risk of a monitored household, with a chance, some months after its
    /// identification and settled a month before `until` (an active warning would block the
    /// elimination): verified (the risk was one of its own) or dismissed.
    fn new_risk(
        &mut self,
        rng: &mut Rng,
        d: &HouseholdDraft,
        risks: &[RiskType],
        identified: Date,
        until: Date,
        history: &mut CountyHistory,
    ) -> Result<(), String> {
        let (first, last) = (identified + Duration::days(60), until - Duration::days(40));
        if last <= first || !rng.chance(NEW_RISK) {
            return Ok(());
        }
        let on = day_between(rng, first, last);
        let settled = on + Duration::days(rng.range(2, 6));
        let ending = if rng.chance(0.65) {
            Ending::Verified(settled)
        } else {
            Ending::Dismissed(settled)
        };
        let channel = rng.pick(&[
            (5, WarningChannel::Visit),
            (2, WarningChannel::Department),
            (1, WarningChannel::SelfDeclaration),
        ]);
        let risk = &risks[..risks.len().min(1)];
        let w = self.warnings.raise(
            rng,
            d,
            WarningKind::MonitoredRisk,
            channel,
            d.monitoring_category,
            risk,
            on,
            ending,
        )?;
        history.warnings.push(w);
        Ok(())
    }

    /// Leads that home verification dismissed over the years, on households never monitored,
    /// and the warnings still waiting today (raised in the last two weeks, some past their
    /// time): leads on households without a case, new risks of monitored households whose
    /// risk is not eliminated.
    fn dismissed_and_waiting(
        &mut self,
        rng: &mut Rng,
        drafts: &[HouseholdDraft],
        latest: Date,
        history: &mut CountyHistory,
    ) -> Result<(), String> {
        let with_open_case: std::collections::HashSet<&str> = history
            .cases
            .iter()
            .filter(|c| c.closed_on().is_none())
            .map(|c| c.household_no.as_str())
            .collect();
        let eliminated: std::collections::HashSet<usize> = history
            .outcomes
            .iter()
            .filter(|(_, o)| o.eliminated.is_some())
            .map(|(i, _)| *i)
            .collect();
        let monitored = drafts
            .iter()
            .filter(|d| d.monitoring_category.is_some())
            .count();
        if drafts.is_empty() {
            return Ok(());
        }
        let mut warnings = Vec::new();
        for _ in 0..monitored {
            let d = &drafts[rng.index(drafts.len())];
            if d.monitoring_category.is_some() {
                continue;
            }
            let on = lead_day(rng, MONITORING_BEGAN, latest);
            let channel = rng.pick(&[
                (4, WarningChannel::Visit),
                (3, WarningChannel::Screening),
                (2, WarningChannel::SelfDeclaration),
                (1, WarningChannel::Department),
            ]);
            let risks = [rng.pick(&[
                (4, RiskType::Illness),
                (2, RiskType::UnstableEmployment),
                (1, RiskType::Accident),
                (1, RiskType::Schooling),
            ])];
            let ending = Ending::Dismissed(on + Duration::days(rng.range(2, 7)));
            warnings.push(self.warnings.raise(
                rng,
                d,
                WarningKind::Lead,
                channel,
                None,
                &risks,
                on,
                ending,
            )?);
        }
        let mut waiting: std::collections::HashSet<usize> = std::collections::HashSet::new();
        let leads = (monitored / 40).max(usize::from(monitored > 0));
        let risks = (monitored / 80).max(usize::from(monitored > 0));
        let mut tries = 0;
        while waiting.len() < leads + risks && tries < 50 * (leads + risks) {
            tries += 1;
            let i = rng.index(drafts.len());
            let d = &drafts[i];
            let wanted = if waiting.len() < leads {
                d.monitoring_category.is_none()
            } else {
                d.monitoring_category.is_some() && !eliminated.contains(&i)
            };
            if !wanted || with_open_case.contains(d.household_no.as_str()) || !waiting.insert(i) {
                continue;
            }
            let (kind, category, risk) = match d.monitoring_category {
                None => (WarningKind::Lead, None, RiskType::Illness),
                Some(c) => (
                    WarningKind::MonitoredRisk,
                    Some(c),
                    RiskType::UnstableEmployment,
                ),
            };
            // Reported by people: today's screening warnings are the monitoring run's to raise.
            let on = self.today - Duration::days(rng.range(0, 14));
            let channel = rng.pick(&[
                (3, WarningChannel::Visit),
                (2, WarningChannel::SelfDeclaration),
            ]);
            let ending = Ending::Waiting {
                assigned: rng.chance(0.5),
            };
            warnings.push(self.warnings.raise(
                rng,
                d,
                kind,
                channel,
                category,
                &[risk],
                on,
                ending,
            )?);
        }
        history.warnings.extend(warnings);
        Ok(())
    }

    /// Walks an identification until it reaches `until` (or is completed and entered).
    fn identification_steps(
        &self,
        rng: &mut Rng,
        walk: &mut Walk<'_>,
        d: &HouseholdDraft,
        category: MonitoringCategory,
        risks: &[RiskType],
        until: Stage,
    ) -> Result<(), String> {
        let mut day = walk.case.opened_on + Duration::days(rng.range(0, 2));
        let visited = day;
        walk.take(
            Step::Verify(VerificationForm {
                visited_on: visited,
                per_capita_income: per_capita(d),
                rigid_spending: d.out_of_pocket,
                rigid_spending_resolved: false,
                problems: problems_of(d),
                category: Some(category),
                risks: risks.to_vec(),
                commitment_signed: true,
                note: "入户核实收支和“两不愁三保障”情况，农户签署承诺授权书".into(),
            }),
            Role::VillageCadre,
            day,
        )?;
        if walk.stage() >= until {
            return Ok(());
        }
        day += Duration::days(rng.range(1, 2));
        walk.take(
            Step::Compare {
                consistent: true,
                note: String::new(),
            },
            Role::TownshipOfficer,
            day,
        )?;
        day += Duration::days(rng.range(0, 2));
        let approve = Step::CountyApprove {
            category: Some(category),
            risks: risks.to_vec(),
            method: None,
            note: "同意纳入监测".into(),
        };
        self.village_to_announcement(rng, walk, day, Pace::Timed, approve, until)
    }

    /// The steps every procedure takes after the verification (DOMAIN.md 1.7, 1.9): democratic
    /// appraisal, public notice (identification: sometimes an objection, then resolved), the
    /// notice closed, the township's review, the county's `approve`, the announcement and the
    /// entry in the national system; stopping once the case has reached `until`.
    fn village_to_announcement(
        &self,
        rng: &mut Rng,
        walk: &mut Walk<'_>,
        mut day: Date,
        pace: Pace,
        approve: Step,
        until: Stage,
    ) -> Result<(), String> {
        // Days between steps: an identification runs against its time limit, an elimination
        // waits on nobody's clock.
        let gap = |rng: &mut Rng, timed: (i64, i64), untimed: (i64, i64)| {
            let (lo, hi) = if pace == Pace::Timed { timed } else { untimed };
            Duration::days(rng.range(lo, hi))
        };
        walk.take(
            Step::Appraise {
                held_on: day,
                attendance: rng.range(9, 25) as u32,
                participants: VILLAGE_MEETING.into(),
                agreed: true,
                note: String::new(),
            },
            Role::VillageCadre,
            day,
        )?;
        if walk.stage() >= until {
            return Ok(());
        }
        let ends = day + Duration::days(rng.range(4, 6));
        walk.take(
            Step::PostNotice {
                starts_on: day,
                ends_on: ends,
            },
            Role::VillageCadre,
            day,
        )?;
        if walk.case.kind == CaseKind::Identification && rng.chance(0.06) {
            let objected = day + Duration::days(rng.range(1, 3));
            walk.take(
                Step::Object {
                    received_on: objected,
                    note: "村民反映该户有未申报的务工收入".into(),
                },
                Role::VillageCadre,
                objected,
            )?;
            walk.take(
                Step::ResolveObjection {
                    number: 1,
                    note: "经核实务工收入已计入，异议不成立".into(),
                },
                Role::TownshipOfficer,
                objected + Duration::days(1),
            )?;
        }
        if until == Stage::Notice {
            return Ok(());
        }
        day = ends + gap(rng, (1, 2), (1, 3));
        walk.take(
            Step::CloseNotice {
                note: "公示期满无异议".into(),
            },
            Role::VillageCadre,
            day,
        )?;
        if walk.stage() >= until {
            return Ok(());
        }
        day += gap(rng, (0, 2), (1, 5));
        let township_note = match walk.case.kind {
            CaseKind::Identification => "同意纳入，报区县审批",
            CaseKind::Elimination => "同意标注风险消除",
        };
        walk.take(
            Step::TownshipApprove {
                note: township_note.into(),
            },
            Role::TownshipOfficer,
            day,
        )?;
        if walk.stage() >= until {
            return Ok(());
        }
        day += gap(rng, (0, 3), (1, 7));
        walk.take(approve, Role::CountyOfficer, day)?;
        if walk.stage() >= until {
            return Ok(());
        }
        day += gap(rng, (0, 2), (0, 3));
        walk.take(
            Step::Announce {
                on: day,
                note: String::new(),
            },
            Role::TownshipOfficer,
            day,
        )?;
        self.record_national(rng, walk, day)
    }

    /// 录入建档 within a week, unless that is still to come.
    fn record_national(
        &self,
        rng: &mut Rng,
        walk: &mut Walk<'_>,
        from: Date,
    ) -> Result<(), String> {
        let on = from + Duration::days(rng.range(1, 7));
        if on > self.today {
            return Ok(());
        }
        let number = national_number(rng, &walk.case.household_no);
        walk.take(
            Step::RecordNational {
                on,
                record_number: Some(number),
                note: String::new(),
            },
            Role::CountyOfficer,
            on,
        )
    }

    /// The risk elimination of a monitored household opened on `lead`, when the preconditions
    /// hold on that day: income raised above the threshold by the measures, the rigid spending
    /// resolved. `None` when they do not (a household without labour is never eliminated).
    fn elimination(
        &self,
        rng: &mut Rng,
        d: &mut HouseholdDraft,
        risks: &[RiskType],
        measures: &[MeasureFact],
        identified_on: Date,
        lead: Date,
    ) -> Result<Option<CaseHistory>, String> {
        let members = d.members.len() as u32;
        let before = per_capita(d);
        let target = Fen((THRESHOLD.0 as f64 * rng.uniform(1.15, 1.7)) as i64);
        let income = if before > THRESHOLD { before } else { target };
        let without_labor = without_labor(d);
        let since = measures
            .iter()
            .filter_map(|m| m.implemented_on)
            .min()
            .unwrap_or(identified_on);
        let implemented: Vec<MeasureFact> = measures
            .iter()
            .filter(|m| m.implemented_on.is_some_and(|on| on <= lead))
            .cloned()
            .collect();
        let facts = EliminationFacts {
            identified_on: Some(identified_on),
            registered_on: MONITORING_BEGAN,
            risk_types: risks.to_vec(),
            measures: implemented.clone(),
            per_capita_net_income: income,
            threshold: Some(THRESHOLD),
            // Low when identified, at the elimination's level since the first measure took
            // effect.
            income_history: vec![(identified_on, before), (since, income)],
            open_needs: Vec::new(),
            whole_household_without_labor: without_labor,
            rigid_spending: Some(RigidSpending {
                visited_on: lead,
                amount: d.out_of_pocket,
                resolved: true,
                in_elimination: true,
            }),
            open_warnings: Vec::new(),
        };
        if !all_hold(&preconditions(&facts, lead)) {
            return Ok(None);
        }
        // The household's income is what the elimination's verification found: the wage
        // income carries the difference (a public-welfare job, steadier work).
        if income > before {
            let [wage, business, property, transfer, expense] = d.income.as_array();
            let raise = Fen((income.0 - before.0) * i64::from(members));
            d.income = IncomeItems::new(wage + raise, business, property, transfer, expense)
                .ok_or_else(|| format!("{}: a negative income item", d.household_no))?;
        }
        let method = if check_method(EliminationMethod::ByAssistance, &implemented).is_ok() {
            EliminationMethod::ByAssistance
        } else {
            EliminationMethod::Natural
        };
        let channel = WarningChannel::Visit;
        let mut walk = Walk::new(self.policy, d, CaseKind::Elimination, channel, lead);
        let mut day = lead + Duration::days(rng.range(0, 3));
        walk.take(
            Step::Verify(VerificationForm {
                visited_on: day,
                per_capita_income: per_capita(d),
                rigid_spending: d.out_of_pocket,
                rigid_spending_resolved: true,
                problems: Conditions::default(),
                category: None,
                risks: Vec::new(),
                commitment_signed: false,
                note: "收入稳定超过监测范围，刚性支出已由医保和救助报销".into(),
            }),
            Role::VillageCadre,
            day,
        )?;
        day += Duration::days(rng.range(1, 4));
        let approve = Step::CountyApprove {
            category: None,
            risks: Vec::new(),
            method: Some(method),
            note: String::new(),
        };
        self.village_to_announcement(
            rng,
            &mut walk,
            day,
            Pace::Untimed,
            approve,
            Stage::Completed,
        )?;
        Ok(Some(walk.case))
    }

    /// Cases that are not (yet) an outcome: identifications open in every stage, led in the last
    /// weeks, and older ones rejected at the appraisal or withdrawn, on the county's poorest
    /// households that are not monitored.
    fn open_and_unsuccessful(
        &mut self,
        rng: &mut Rng,
        drafts: &[HouseholdDraft],
    ) -> Result<Vec<CaseHistory>, String> {
        let monitored = drafts
            .iter()
            .filter(|d| d.monitoring_category.is_some())
            .count();
        let mut poorest: Vec<(Fen, usize)> = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| d.monitoring_category.is_none())
            .map(|(i, d)| (per_capita(d), i))
            .collect();
        poorest.sort();
        let open = (monitored / 60).max(usize::from(monitored > 0));
        let unsuccessful = (monitored / 30).max(usize::from(monitored > 0));
        let mut cases = Vec::new();
        for (n, &(_, i)) in poorest.iter().take(open + unsuccessful).enumerate() {
            let d = &drafts[i];
            let category = match d.household_type {
                HouseholdType::LiftedOut => MonitoringCategory::UnstableLiftedOut,
                HouseholdType::Ordinary => MonitoringCategory::MarginalAtRisk,
            };
            let risks = risks_of(rng, d, category);
            if n < open {
                // How far it has gone decides how long ago its lead was (some stages a day or
                // two past the time limit).
                let k = (n + rng.index(STAGES_OPEN.len())) % STAGES_OPEN.len();
                let (until, back) = STAGES_OPEN[k];
                let lead = self.today - Duration::days(back + rng.range(0, 2));
                let channel = WarningChannel::Visit;
                let mut walk = self.opened_from_lead(rng, d, channel, category, &risks, lead)?;
                if until > Stage::Verification {
                    self.identification_steps(rng, &mut walk, d, category, &risks, until)?;
                }
                // A walk that would need a day after today has not happened yet: left out.
                if walk.case.steps.iter().all(|s| s.on <= self.today) {
                    cases.push(walk.case);
                }
            } else {
                let lead = lead_day(rng, HISTORY_STARTS, self.today - Duration::days(60));
                let channel = WarningChannel::SelfDeclaration;
                let mut walk = self.opened_from_lead(rng, d, channel, category, &risks, lead)?;
                if rng.chance(0.4) {
                    walk.take(
                        Step::Withdraw {
                            reason: "农户表示收入已恢复，不再申请".into(),
                        },
                        Role::VillageCadre,
                        lead + Duration::days(1),
                    )?;
                } else {
                    self.identification_steps(
                        rng,
                        &mut walk,
                        d,
                        category,
                        &risks,
                        Stage::Verification,
                    )?;
                    let day = lead + Duration::days(3);
                    walk.take(
                        Step::Appraise {
                            held_on: day,
                            attendance: rng.range(9, 25) as u32,
                            participants: VILLAGE_MEETING.into(),
                            agreed: false,
                            note: "评议认为该户家庭收入稳定，不符合纳入条件".into(),
                        },
                        Role::VillageCadre,
                        day,
                    )?;
                }
                cases.push(walk.case);
            }
        }
        Ok(cases)
    }
}

/// A national record number: the household's village code and a serial (the national system's
/// household numbers are digits).
fn national_number(rng: &mut Rng, household_no: &str) -> String {
    let village: String = household_no
        .chars()
        .filter(char::is_ascii_digit)
        .take(12)
        .collect();
    format!("{village}{:08}", rng.below(100_000_000))
}

/// The measures of a newly identified household: one for each risk type (the first category
/// that addresses it, so that an eliminated risk has its measure, as the national data checks
/// ask), the safety net when nobody can work, else a development-type measure; the first begun
/// within days of the announcement and implemented within a month, the others within months
/// (or still planned when that is yet to come).
fn measures_for(
    rng: &mut Rng,
    d: &HouseholdDraft,
    risks: &[RiskType],
    announced: Date,
    today: Date,
    lapses: Lapses,
) -> Result<Vec<(Measure, Option<String>)>, String> {
    let mut plans: Vec<(MeasureCategory, Option<RiskType>)> = Vec::new();
    for &risk in risks {
        if let Some(&category) = categories_for_risk(risk).first()
            && !plans.iter().any(|(c, _)| *c == category)
        {
            plans.push((category, Some(risk)));
        }
    }
    if without_labor(d) {
        // No one can work: the safety net (兜底).
        if !plans
            .iter()
            .any(|(c, _)| *c == MeasureCategory::SocialSecurity)
        {
            plans.push((MeasureCategory::SocialSecurity, Some(RiskType::LackOfLabor)));
        }
    } else if !lapses.no_development {
        let category = rng.pick(&[
            (4, MeasureCategory::Industry),
            (3, MeasureCategory::Employment),
            (2, MeasureCategory::PublicWelfareJob),
            (1, MeasureCategory::Finance),
        ]);
        if !plans.iter().any(|(c, _)| *c == category) {
            plans.push((category, None));
        }
    }
    // Beside them: the Rain and Dew plan for a member in vocational or higher education, the
    // sending unit's social help, better living conditions, the follow-up support of a
    // relocated household, a road to the house.
    let studying = d.members.iter().any(|m| {
        matches!(
            m.school_status,
            Some(
                SchoolStatus::SecondaryVocational
                    | SchoolStatus::HigherVocational
                    | SchoolStatus::TechnicianCollege
                    | SchoolStatus::Undergraduate
            )
        )
    });
    let extras = [
        (MeasureCategory::OtherEducation, studying),
        (MeasureCategory::SocialHelp, rng.chance(0.12)),
        (MeasureCategory::LivingConditions, rng.chance(0.05)),
        (
            MeasureCategory::Relocation,
            d.household_type == HouseholdType::LiftedOut && rng.chance(0.03),
        ),
        (MeasureCategory::Infrastructure, rng.chance(0.02)),
    ];
    for (category, wanted) in extras {
        if wanted && !plans.iter().any(|(c, _)| *c == category) {
            plans.push((category, None));
        }
    }
    let mut out = Vec::new();
    for (n, (category, risk)) in plans.into_iter().enumerate() {
        let (start, take) = if n == 0 {
            ((1, 8), (5, 20))
        } else {
            ((3, 25), (15, 90))
        };
        let starts_on = announced + Duration::days(rng.range(start.0, start.1));
        if starts_on > today {
            continue;
        }
        let done = starts_on + Duration::days(rng.range(take.0, take.1));
        let late = n == 0 && lapses.first_measure_late;
        // Now and then a later measure is given up before it is carried out (the household
        // declined it, or another measure met the need): recorded, then cancelled with a reason.
        let cancelled = n > 0 && rng.chance(CANCELLED);
        let (status, implemented_on) = if done <= today && !late && !cancelled {
            (MeasureStatus::Implemented, Some(done))
        } else {
            (MeasureStatus::Planned, None)
        };
        let (content, amount) = measure_content(category);
        let measure = MeasureDraft {
            category,
            content: content.into(),
            amount: amount.map(Fen::from_yuan),
            starts_on,
            ends_on: None,
            status,
            implemented_on,
            risk,
        }
        .build(today)
        .map_err(|e| format!("{}: measure refused: {e:?}", d.household_no))?;
        if cancelled {
            let reason = check_cancel_reason("农户自愿放弃，已由其他帮扶措施解决")
                .map_err(|why| format!("{}: cancellation refused: {}", d.household_no, why.en))?;
            let mut measure = measure;
            measure.status = MeasureStatus::Cancelled;
            out.push((measure, Some(reason)));
        } else {
            out.push((measure, None));
        }
    }
    Ok(out)
}

/// What a measure of a category typically is, and its amount in yuan.
fn measure_content(category: MeasureCategory) -> (&'static str, Option<i64>) {
    use MeasureCategory::*;
    match category {
        Industry => ("发放中蜂养殖产业补助，技术员上门指导", Some(3_000)),
        Employment => ("推荐到区内农业园区务工，落实稳岗补贴", Some(1_500)),
        Finance => ("发放脱贫人口小额信贷，财政贴息", Some(50_000)),
        PublicWelfareJob => ("安排村级保洁员公益性岗位", Some(6_000)),
        Health => ("落实医疗救助和大病保险报销，家庭医生签约服务", Some(8_000)),
        CompulsoryEducation => ("落实义务教育阶段学生资助", Some(1_000)),
        OtherEducation => ("申请雨露计划职业教育补助", Some(3_000)),
        SocialSecurity => ("纳入农村最低生活保障", Some(4_800)),
        Housing => ("实施农村危房改造", Some(20_000)),
        DrinkingWater => ("接通集中供水管网入户", Some(800)),
        SocialHelp => ("帮扶单位结对慰问和爱心捐助", Some(2_000)),
        Relocation => ("易地扶贫搬迁后续扶持", None),
        LivingConditions => ("改造厨房厕所，完善入户便道", Some(5_000)),
        Infrastructure => ("修建产业路连通入户", None),
    }
}

/// Writes on each household what its completed cases recorded (the identification's day and
/// risk types, the elimination's day and method), as a completed case writes them.
pub fn record_outcomes(drafts: &mut [HouseholdDraft], history: &CountyHistory) {
    for (i, outcome) in &history.outcomes {
        if let Some(d) = drafts.get_mut(*i) {
            d.monitoring_outcome = MonitoringOutcome {
                identified_on: Some(outcome.identified_on),
                risk_types: outcome.risk_types.clone(),
                risk_eliminated_on: outcome.eliminated.map(|(day, _)| day),
                elimination_method: outcome.eliminated.map(|(_, method)| method),
            };
        }
    }
}
