//! The classification of one household under a prepared rule set ([`Prepared::classify`]): its
//! category, risk types and reasons ([`Assessment`]).

use super::facts::HouseholdFacts;
use super::reasons::{Detail, Reason, RiskType};
use super::rule_set::RuleSet;
use crate::checks::whole_household_without_labor;
use crate::enums::{HouseholdType, MonitoringCategory, SchoolStatus};
use time::{Date, Month};

/// The classification of one household under a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assessment {
    /// The category the household would fall into (DOMAIN.md 1.3), if any.
    pub category: Option<MonitoringCategory>,
    /// At most five, strongest first.
    pub risk_types: Vec<RiskType>,
    /// Every rule that fired, warning rules first.
    pub reasons: Vec<Reason>,
}

impl Assessment {
    /// Whether the household gets a warning: a rule other than a context rule fired.
    pub fn raises_warning(&self) -> bool {
        self.reasons.iter().any(|r| !r.is_context())
    }
}

/// The most risk types a household carries (致贫/返贫风险1…5).
pub const MAX_RISK_TYPES: usize = 5;

#[derive(Debug, Clone, Copy)]
pub(super) struct SchoolWindow {
    pub(super) min: u8,
    pub(super) max: u8,
    /// Born after this day: not yet `max + 1` years old.
    pub(super) born_after: Date,
    /// Born on or before this day: at least `min` years old.
    pub(super) born_on_or_before: Date,
}

/// A rule set ready for evaluation on one day.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<'r> {
    pub rules: &'r RuleSet,
    pub today: Date,
    pub(super) school: Option<SchoolWindow>,
}

impl Prepared<'_> {
    /// Classifies one household. Pure, and allocation-free for a household no rule fires on.
    pub fn classify(&self, h: &HouseholdFacts<'_>) -> Assessment {
        let rules = self.rules;
        let t = &rules.triggers;
        let reason = |detail: Detail, risk: Option<RiskType>| Reason {
            detail,
            risk,
            rule_set_year: rules.year,
            rule_set_version: rules.version,
        };
        let mut reasons: Vec<Reason> = Vec::new();
        let lifted_out = h.household_type == HouseholdType::LiftedOut;
        let at_or_below = rules
            .threshold
            .is_some_and(|threshold| h.per_capita_net_income <= threshold);
        if let (true, Some(threshold)) = (at_or_below, rules.threshold) {
            reasons.push(reason(
                Detail::Income {
                    per_capita: h.per_capita_net_income,
                    threshold,
                },
                None,
            ));
        }
        if let Some(m) = t.medical_out_of_pocket.filter(|m| m.enabled) {
            let threshold = if lifted_out { m.lifted_out } else { m.others };
            if let Some(threshold) = threshold
                && threshold.0 > 0
                && h.out_of_pocket >= threshold
            {
                reasons.push(reason(
                    Detail::Medical {
                        out_of_pocket: h.out_of_pocket,
                        threshold,
                        lifted_out,
                    },
                    Some(RiskType::Illness),
                ));
            }
        }
        if let Some(w) = self.school {
            for (i, m) in h.members.iter().enumerate() {
                if m.birth_date > w.born_after
                    && m.birth_date <= w.born_on_or_before
                    && !m.school_status.is_some_and(SchoolStatus::is_enrolled)
                {
                    reasons.push(reason(
                        Detail::OutOfSchool {
                            member: u16::try_from(i).unwrap_or(u16::MAX),
                            age: age_on(m.birth_date, self.today),
                            min_age: w.min,
                            max_age: w.max,
                        },
                        Some(RiskType::Schooling),
                    ));
                }
            }
        }
        if t.unsafe_housing.is_some_and(|s| s.enabled) && h.housing_safe == Some(false) {
            reasons.push(reason(Detail::UnsafeHousing, Some(RiskType::UnsafeHousing)));
        }
        if t.unsafe_water.is_some_and(|s| s.enabled) && h.water_safe == Some(false) {
            reasons.push(reason(Detail::UnsafeWater, Some(RiskType::UnsafeWater)));
        }
        let members = count(h.members.len());
        if t.no_medical_insurance.is_some_and(|s| s.enabled) {
            let uninsured = count(h.members.iter().filter(|m| !m.medical_insurance).count());
            if uninsured > 0 {
                reasons.push(reason(
                    Detail::NoMedicalInsurance { uninsured, members },
                    Some(RiskType::Illness),
                ));
            }
        }
        if t.no_labor_ability.is_some_and(|s| s.enabled)
            && whole_household_without_labor(h.members.iter().map(|m| m.labor))
        {
            reasons.push(reason(
                Detail::NoLaborAbility { members },
                Some(RiskType::LackOfLabor),
            ));
        }
        if let Some(d) = t.income_drop.filter(|d| d.enabled)
            && let (Some(p), Some(previous)) = (d.percent, h.previous_per_capita_net_income)
            && previous.0 > 0
        {
            let current = h.per_capita_net_income;
            let drop = i128::from(previous.0) - i128::from(current.0);
            if drop * 100 >= i128::from(p) * i128::from(previous.0) {
                let drop_percent = i64::try_from(drop * 100 / i128::from(previous.0)).unwrap_or(0);
                reasons.push(reason(
                    Detail::IncomeDrop {
                        previous,
                        current,
                        drop_percent,
                        threshold_percent: p,
                    },
                    Some(RiskType::Other),
                ));
            }
        }
        if let Some(d) = t.disaster_loss.filter(|d| d.enabled)
            && let (Some(threshold), Some(loss)) = (d.loss, h.disaster_loss)
            && threshold.0 > 0
            && loss >= threshold
        {
            reasons.push(reason(
                Detail::DisasterLoss { loss, threshold },
                Some(RiskType::NaturalDisaster),
            ));
        }
        if reasons.iter().all(Reason::is_context) {
            return Assessment::default();
        }
        self.finish(h, reasons, at_or_below)
    }

    /// Adds the members' health as context, then the risk types and the category.
    pub(super) fn finish(
        &self,
        h: &HouseholdFacts<'_>,
        mut reasons: Vec<Reason>,
        at_or_below: bool,
    ) -> Assessment {
        let rules = self.rules;
        let reason = |detail: Detail, risk: Option<RiskType>| Reason {
            detail,
            risk,
            rule_set_year: rules.year,
            rule_set_version: rules.version,
        };
        let lifted_out = h.household_type == HouseholdType::LiftedOut;
        // Context: what the members' health says about the cause.
        let disabled = count(h.members.iter().filter(|m| m.disabled).count());
        if disabled > 0 {
            reasons.push(reason(
                Detail::DisabledMembers { count: disabled },
                Some(RiskType::Disability),
            ));
        }
        let ill = count(h.members.iter().filter(|m| m.seriously_ill).count());
        if ill > 0 {
            reasons.push(reason(
                Detail::SeriouslyIllMembers { count: ill },
                Some(RiskType::Illness),
            ));
        }
        let mut risk_types: Vec<RiskType> = Vec::new();
        for r in reasons.iter().filter_map(|r| r.risk) {
            if !risk_types.contains(&r) && risk_types.len() < MAX_RISK_TYPES {
                risk_types.push(r);
            }
        }
        if risk_types.is_empty() {
            // Income alone: the cause is for the home visit to find.
            risk_types.push(RiskType::Other);
        }
        let category = if at_or_below {
            Some(if lifted_out {
                MonitoringCategory::UnstableLiftedOut
            } else {
                MonitoringCategory::MarginalAtRisk
            })
        } else if reasons.iter().any(Reason::is_sudden) {
            Some(MonitoringCategory::SuddenHardship)
        } else {
            None
        };
        Assessment {
            category,
            risk_types,
            reasons,
        }
    }
}

impl RuleSet {
    /// The rules made ready for evaluation on `today` (ages are counted on that day).
    pub fn prepare(&self, today: Date) -> Prepared<'_> {
        let school = self
            .triggers
            .child_out_of_school
            .filter(|s| s.enabled)
            .and_then(|s| Some((s.min_age?, s.max_age?)))
            .filter(|(min, max)| min <= max)
            .map(|(min, max)| SchoolWindow {
                min,
                max,
                born_after: years_before(today, i32::from(max) + 1),
                born_on_or_before: years_before(today, i32::from(min)),
            });
        Prepared {
            rules: self,
            today,
            school,
        }
    }
}

pub(super) fn count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Age in whole years on `on` (as [`crate::IdNumber::age_on`]).
pub fn age_on(born: Date, on: Date) -> i32 {
    let mut age = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
}

/// The same day `years` years before `day`; 28 February for 29 February in a common year. A
/// person born on or before it is at least `years` old on `day`.
pub(super) fn years_before(day: Date, years: i32) -> Date {
    let year = day.year() - years;
    Date::from_calendar_date(year, day.month(), day.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(Date::MIN)
}
