//! The warnings of a county's history (decision 0019): the lead of every identification, raised
//! a few days before the case by the rule set in force (screening, the medical department's
//! data) or by what a cadre's visit or a household's self-declaration reported, assigned to the
//! village cadre and verified on the day the case opened; leads that home verification
//! dismissed; new risks of monitored households, verified or dismissed; and the warnings still
//! waiting today, some past their time. Every step is checked by
//! `zhenxing_core::warning::plan_step`, as the inbox checks it; a refusal is a bug here.

use crate::names;
use crate::rng::Rng;
use std::collections::HashMap;
use time::{Date, Duration};
use zhenxing_core::history::{Assignment, Settlement, WarningHistory, WarningReason};
use zhenxing_core::monitoring::{
    Assessment, HouseholdFacts, MemberFacts, RiskType, RuleId, RuleSet, builtin,
};
use zhenxing_core::portal::{Declaration, DeclarationEvent, DeclarationForm};
use zhenxing_core::warning::{
    Actor, InboxPolicy, WarningChannel, WarningKind, WarningStatus, WarningStep, plan_step,
};
use zhenxing_core::{DivisionCode, Fen, HouseholdDraft, MonitoringCategory, Relation, Role};

/// How a warning ends in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Verified on the day (a lead that opens a case, a monitored household's real new risk).
    Verified(Date),
    /// Dismissed on the day after home verification.
    Dismissed(Date),
    /// Still waiting today: assigned or not.
    Waiting { assigned: bool },
}

/// The county's warnings as they are made: the rule sets by year, the inbox's policy and the
/// village cadre who verifies each village's warnings.
pub(super) struct Warnings {
    rules: Vec<RuleSet>,
    policy: InboxPolicy,
    cadres: HashMap<DivisionCode, String>,
    today: Date,
}

impl Warnings {
    pub(super) fn new(today: Date) -> Warnings {
        let mut rules = builtin();
        rules.sort_by_key(|r| r.year);
        Warnings {
            rules,
            policy: InboxPolicy::default(),
            cadres: HashMap::new(),
            today,
        }
    }

    /// What the rule set in force on `day` finds on the household (the latest year's after
    /// the last one published).
    fn assess(&self, d: &HouseholdDraft, day: Date) -> Assessment {
        let Some(rules) = self
            .rules
            .iter()
            .rev()
            .find(|r| i32::from(r.year) <= day.year())
            .or(self.rules.first())
        else {
            return Assessment::default();
        };
        let members = MemberFacts::of_members(&d.members);
        let n = d.members.len() as u32;
        let facts = HouseholdFacts {
            household_type: d.household_type,
            per_capita_net_income: d.income.per_capita_net(n).unwrap_or(Fen::ZERO),
            previous_per_capita_net_income: None,
            out_of_pocket: d.out_of_pocket,
            housing_safe: d.housing_safe,
            water_safe: d.water_safe,
            disaster_loss: None,
            members: &members,
        };
        rules.prepare(day).classify(&facts)
    }

    /// The village cadre who verifies the village's warnings.
    fn cadre(&mut self, rng: &mut Rng, village: DivisionCode) -> String {
        self.cadres
            .entry(village)
            .or_insert_with(|| names::someone(rng, 0.6, 1968, 25).0.as_str().to_owned())
            .clone()
    }

    /// A warning on the household raised on `on` through `channel` (the rules' reasons for
    /// screening and department data, falling back to a cadre's visit when no rule fires then),
    /// assigned, and ended as `ending` says.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn raise(
        &mut self,
        rng: &mut Rng,
        d: &HouseholdDraft,
        kind: WarningKind,
        channel: WarningChannel,
        category: Option<MonitoringCategory>,
        risks: &[RiskType],
        on: Date,
        ending: Ending,
    ) -> Result<WarningHistory, String> {
        let (channel, source, category, risks, reasons) =
            self.signal(rng, d, channel, category, risks, on);
        let declaration = match channel {
            WarningChannel::SelfDeclaration => Some(declaration(rng, d, &risks, on)?),
            _ => None,
        };
        let mut w = WarningHistory {
            household_no: d.household_no.as_str().to_owned(),
            division: d.division,
            channel,
            source,
            kind,
            category,
            risks,
            reasons,
            opened_on: on,
            assigned: None,
            settled: None,
            status: WarningStatus::New,
            declaration,
        };
        let cadre = self.cadre(rng, d.division);
        let settle_on = match ending {
            Ending::Verified(day) | Ending::Dismissed(day) => Some(day),
            Ending::Waiting { .. } => None,
        };
        let assign = match ending {
            Ending::Waiting { assigned } => assigned,
            _ => true,
        };
        if assign {
            let assigned_on = match settle_on {
                Some(day) => (on + Duration::days(rng.range(0, 1))).min(day),
                None => on + Duration::days(rng.range(0, 2)),
            }
            .min(self.today);
            let deadline = match settle_on {
                Some(day) => day.max(assigned_on + Duration::days(self.policy.default_days)),
                None => assigned_on + Duration::days(rng.range(3, self.policy.default_days)),
            };
            self.step(
                &mut w,
                WarningStep::Assign { deadline },
                Role::TownshipOfficer,
                assigned_on,
            )?;
            w.assigned = Some(Assignment {
                cadre: cadre.clone(),
                on: assigned_on,
                deadline,
            });
        }
        let settled = match ending {
            Ending::Verified(day) => {
                let note = verified_note(kind).to_owned();
                Some((day, WarningStep::Verify { note: note.clone() }, note))
            }
            Ending::Dismissed(day) => {
                let note = dismissed_note(rng, kind).to_owned();
                Some((
                    day,
                    WarningStep::Dismiss {
                        reason: note.clone(),
                    },
                    note,
                ))
            }
            Ending::Waiting { .. } => None,
        };
        if let Some((day, step, note)) = settled {
            self.step(&mut w, step, Role::VillageCadre, day)?;
            w.settled = Some(Settlement {
                on: day,
                by: cadre,
                note,
            });
        }
        Ok(w)
    }

    /// Takes a step through the inbox's rules; the assigned cadre verifies and dismisses.
    fn step(
        &self,
        w: &mut WarningHistory,
        step: WarningStep,
        role: Role,
        on: Date,
    ) -> Result<(), String> {
        let actor = Actor {
            role,
            is_assignee: role == Role::VillageCadre,
        };
        w.status = plan_step(w.status, &step, actor, on, &self.policy)
            .map_err(|why| format!("{} warning on {on}: {}", w.household_no, why.en))?;
        Ok(())
    }

    /// Why the warning was raised: the rules' reasons where the channel is a rule's, else what
    /// the cadre reported or the household declared (its declaration is made by [`declaration`]).
    #[allow(clippy::type_complexity)]
    fn signal(
        &mut self,
        rng: &mut Rng,
        d: &HouseholdDraft,
        channel: WarningChannel,
        category: Option<MonitoringCategory>,
        risks: &[RiskType],
        on: Date,
    ) -> (
        WarningChannel,
        String,
        Option<MonitoringCategory>,
        Vec<RiskType>,
        Vec<WarningReason>,
    ) {
        if matches!(
            channel,
            WarningChannel::Screening | WarningChannel::Department
        ) {
            let a = self.assess(d, on);
            let medical =
                |r: &&zhenxing_core::monitoring::Reason| r.rule() == RuleId::MedicalOutOfPocket;
            let reasons: Vec<_> = match channel {
                WarningChannel::Department => a.reasons.iter().filter(medical).cloned().collect(),
                _ => a
                    .reasons
                    .iter()
                    .filter(|r| !r.is_context())
                    .cloned()
                    .collect(),
            };
            if !reasons.is_empty() {
                let source = match channel {
                    WarningChannel::Department => "department:medical".to_owned(),
                    _ => channel.code().to_owned(),
                };
                let risks = if a.risk_types.is_empty() {
                    risks.to_vec()
                } else {
                    a.risk_types.clone()
                };
                let reasons = reasons.into_iter().map(WarningReason::Rule).collect();
                return (channel, source, a.category.or(category), risks, reasons);
            }
        }
        let channel = match channel {
            WarningChannel::SelfDeclaration => WarningChannel::SelfDeclaration,
            _ => WarningChannel::Visit,
        };
        let reason = match channel {
            WarningChannel::SelfDeclaration => WarningReason::Declared,
            _ => WarningReason::Report {
                by: self.cadre(rng, d.division),
                on,
                note: format!("入户走访发现{}", situation(risks)),
            },
        };
        (
            channel,
            channel.code().to_owned(),
            category,
            risks.to_vec(),
            vec![reason],
        )
    }
}

/// The household head's self-declaration on `on` (through the portal or the "渝悦·防贫" app),
/// checked by the portal form's own rules; a refusal is a bug here.
fn declaration(
    rng: &mut Rng,
    d: &HouseholdDraft,
    risks: &[RiskType],
    on: Date,
) -> Result<Declaration, String> {
    let head = d
        .members
        .iter()
        .find(|m| m.relation == Relation::Head)
        .or(d.members.first())
        .ok_or_else(|| format!("{}: a household without members", d.household_no))?;
    let phone = match &d.phone {
        Some(p) => p.as_str().to_owned(),
        None => names::phone(rng).as_str().to_owned(),
    };
    let mut events: Vec<String> = risks
        .iter()
        .map(|r| event_of(*r).code().to_owned())
        .collect();
    events.dedup();
    let tick = Some("on".to_owned());
    DeclarationForm {
        applicant: head.name.as_str().to_owned(),
        id_number: head.document.id().as_str().to_owned(),
        village: d.division.as_str().to_owned(),
        phone,
        events,
        account: situation(risks).to_owned(),
        commitment: tick.clone(),
        authorisation: tick.clone(),
        privacy: tick,
    }
    .check(on)
    .map_err(|e| format!("{}: a declaration refused: {e:?}", d.household_no))
}

/// The event of the declaration form that reports a risk.
fn event_of(risk: RiskType) -> DeclarationEvent {
    match risk {
        RiskType::Illness | RiskType::Disability => DeclarationEvent::Illness,
        RiskType::Accident => DeclarationEvent::Accident,
        RiskType::NaturalDisaster => DeclarationEvent::Disaster,
        RiskType::UnstableEmployment | RiskType::IndustryFailure => DeclarationEvent::JobLoss,
        RiskType::Schooling => DeclarationEvent::Schooling,
        RiskType::UnsafeHousing => DeclarationEvent::Housing,
        _ => DeclarationEvent::Other,
    }
}

/// What a visit or a declaration says of the household's situation, after its main risk.
fn situation(risks: &[RiskType]) -> &'static str {
    match risks.first() {
        Some(RiskType::Illness) => "家中有人患病，医疗支出较大，收入下降",
        Some(RiskType::Disability) => "家中有残疾人需要长期照料，收入来源少",
        Some(RiskType::LackOfLabor) => "家庭缺乏劳动力，收入来源不稳定",
        Some(RiskType::Schooling) => "子女上学费用负担重，家庭收入减少",
        Some(RiskType::Accident) => "家庭成员遭遇意外事故，支出骤增",
        Some(RiskType::NaturalDisaster) => "遭受自然灾害，房屋和庄稼受损",
        Some(RiskType::UnstableEmployment) => "务工就业不稳定，收入明显下降",
        _ => "家庭收入明显下降，生活出现困难",
    }
}

fn verified_note(kind: WarningKind) -> &'static str {
    match kind {
        WarningKind::Lead => "入户核实属实，收支情况符合纳入监测条件，启动识别程序",
        WarningKind::MonitoredRisk => "入户核实属实，已补充风险类型，帮扶责任人调整帮扶措施",
    }
}

fn dismissed_note(rng: &mut Rng, kind: WarningKind) -> &'static str {
    match kind {
        WarningKind::Lead => rng.pick(&[
            (
                4,
                "入户核实：家庭收入稳定，医疗费用已由医保报销，无返贫致贫风险",
            ),
            (3, "入户核实：外出务工收入未申报，实际收入高于监测范围"),
            (2, "入户核实：已参加基本医疗保险，系统数据未同步"),
            (1, "入户核实：住房已完成改造，饮水已接通集中供水"),
        ]),
        WarningKind::MonitoredRisk => rng.pick(&[
            (3, "入户核实：该风险已在现有帮扶措施中落实，无新增风险"),
            (2, "入户核实：医疗费用已报销，支出可控"),
        ]),
    }
}
