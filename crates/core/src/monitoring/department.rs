//! The classification of one household on what other departments' records say about it
//! ([`Prepared::classify_department`], DOMAIN.md 1.6).

use super::classify::{Assessment, Prepared, age_on, count};
use super::facts::HouseholdFacts;
use super::reasons::{Detail, Reason, RiskType};
use super::rule_set::Switch;
use crate::checks::whole_household_without_labor;
use crate::department::{DisasterKind, EnrolmentStatus, HousingGrade, Signal};
use crate::enums::HouseholdType;
use crate::money::Fen;
use time::{Date, Month};

impl Prepared<'_> {
    /// Classifies one household on what a department's records say about it (`signals`),
    /// with the registry's facts for context. Only the rules that department data feeds can
    /// raise the warning: out-of-pocket medical spending (the household's claims in the file
    /// summed), outpatient out-of-pocket spending (its outpatient claims summed per calendar
    /// month), a child of compulsory-school age dropped out or not enrolled, non-compulsory
    /// schooling costs (its members' summed per school year), a house assessed C or D,
    /// disaster losses (summed), a death, unemployment, assistance stopped. An
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
        // Outpatient spending by calendar month: (year, month), sum, claims.
        let mut outpatient: Vec<((i32, Month), Fen, u16)> = Vec::new();
        // Schooling costs by school year: year, sum, members who paid.
        let mut schooling: Vec<(u16, Fen, Vec<u16>)> = Vec::new();
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
                Signal::OutOfPocket {
                    amount,
                    date,
                    outpatient: is_outpatient,
                } => {
                    out_of_pocket = Fen(out_of_pocket.0.saturating_add(amount.0));
                    claims = claims.saturating_add(1);
                    if is_outpatient {
                        let month = (date.year(), date.month());
                        match outpatient.iter_mut().find(|(m, _, _)| *m == month) {
                            Some((_, sum, n)) => {
                                *sum = Fen(sum.0.saturating_add(amount.0));
                                *n = n.saturating_add(1);
                            }
                            None => outpatient.push((month, amount, 1)),
                        }
                    }
                }
                Signal::SchoolCosts {
                    member,
                    school_year,
                    amount,
                } => match schooling.iter_mut().find(|(y, _, _)| *y == school_year) {
                    Some((_, sum, students)) => {
                        *sum = Fen(sum.0.saturating_add(amount.0));
                        if !students.contains(&member) {
                            students.push(member);
                        }
                    }
                    None => schooling.push((school_year, amount, vec![member])),
                },
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
        if let Some(threshold) = t
            .outpatient_out_of_pocket
            .filter(|o| o.enabled)
            .and_then(|o| o.monthly)
            .filter(|m| m.0 > 0)
        {
            outpatient.sort_by_key(|((year, month), _, _)| (*year, *month as u8));
            let reaching = outpatient.iter().filter(|(_, sum, _)| *sum >= threshold);
            let months = count(reaching.clone().count());
            // The month with the most; the earliest of equals.
            let most = reaching.fold(
                None,
                |best: Option<&((i32, Month), Fen, u16)>, m| match best {
                    Some(b) if b.1 >= m.1 => Some(b),
                    _ => Some(m),
                },
            );
            if let Some(&((year, month), sum, n)) = most {
                found.push(reason(
                    Detail::OutpatientMonth {
                        out_of_pocket: sum,
                        threshold,
                        year,
                        month,
                        claims: n,
                        months,
                    },
                    Some(RiskType::Illness),
                ));
            }
        }
        // Children first after medical spending, as in `classify`.
        let (children, others): (Vec<Reason>, Vec<Reason>) = members
            .into_iter()
            .partition(|r| matches!(r.detail, Detail::DroppedOut { .. }));
        found.extend(children);
        if let Some(threshold) = t
            .schooling_costs
            .filter(|c| c.enabled)
            .and_then(|c| c.above)
            .filter(|a| a.0 > 0)
        {
            // Strictly above: "超过10000元". The school year with the most; the earliest of
            // equals.
            schooling.sort_by_key(|(year, _, _)| *year);
            let most = schooling
                .iter()
                .filter(|(_, sum, _)| *sum > threshold)
                .fold(None, |best: Option<&(u16, Fen, Vec<u16>)>, y| match best {
                    Some(b) if b.1 >= y.1 => Some(b),
                    _ => Some(y),
                });
            if let Some((school_year, costs, students)) = most {
                found.push(reason(
                    Detail::SchoolingCosts {
                        costs: *costs,
                        threshold,
                        school_year: *school_year,
                        students: count(students.len()),
                    },
                    Some(RiskType::Schooling),
                ));
            }
        }
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
            && whole_household_without_labor(h.members.iter().map(|m| m.labor))
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
}
