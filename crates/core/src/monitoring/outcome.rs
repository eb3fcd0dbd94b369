//! What the statutory procedures record on a monitored household (DOMAIN.md 1.7, 1.9), as the
//! national system's columns carry it: 识别监测时间, 致贫返贫风险1..5, 风险消除时间 and
//! 风险消除方式. A completed case writes them; only a legacy import may set them otherwise.

use super::classify::MAX_RISK_TYPES;
use super::reasons::RiskType;
use crate::elimination::EliminationMethod;
use crate::enums::MonitoringCategory;
use crate::lang::Text;
use crate::text;
use time::Date;

/// The procedures' outcome on one household; all empty for a household never identified.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MonitoringOutcome {
    /// The county's approval of the identification.
    pub identified_on: Option<Date>,
    /// In the order recorded (the first is the main risk); at most five, none twice.
    pub risk_types: Vec<RiskType>,
    /// The county's approval of the risk elimination; `None` while the risk stands.
    pub risk_eliminated_on: Option<Date>,
    pub elimination_method: Option<EliminationMethod>,
}

/// A field of [`MonitoringOutcome`], so that a problem can be shown at its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeField {
    IdentifiedOn,
    /// The risk type at this index of [`MonitoringOutcome::risk_types`].
    RiskType(usize),
    RiskEliminatedOn,
    EliminationMethod,
}

/// A breach of the rules between the outcome's fields (and the category).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeError {
    /// An outcome on a household without a monitoring category.
    WithoutCategory(OutcomeField),
    /// More than five risk types; the index is of the sixth.
    TooManyRiskTypes(usize),
    /// The risk type at `index` repeats the one at `first`.
    RepeatedRiskType {
        index: usize,
        first: usize,
        risk: RiskType,
    },
    EliminatedWithoutMethod,
    MethodWithoutElimination(EliminationMethod),
    EliminatedBeforeIdentified {
        identified_on: Date,
        eliminated_on: Date,
    },
}

impl MonitoringOutcome {
    pub fn is_empty(&self) -> bool {
        *self == MonitoringOutcome::default()
    }

    /// The rules a file's outcome must keep. Not part of [`crate::HouseholdDraft::build`]:
    /// a completed case may leave, say, an elimination without a method (the county approval
    /// names one only when given), and such a household must stay readable and editable.
    pub fn check(&self, category: Option<MonitoringCategory>) -> Vec<OutcomeError> {
        let mut errors = Vec::new();
        if category.is_none() {
            let given = [
                self.identified_on.map(|_| OutcomeField::IdentifiedOn),
                (!self.risk_types.is_empty()).then_some(OutcomeField::RiskType(0)),
                self.risk_eliminated_on
                    .map(|_| OutcomeField::RiskEliminatedOn),
                self.elimination_method
                    .map(|_| OutcomeField::EliminationMethod),
            ];
            errors.extend(
                given
                    .into_iter()
                    .flatten()
                    .map(OutcomeError::WithoutCategory),
            );
        }
        for (index, risk) in self.risk_types.iter().enumerate() {
            if let Some(first) = self.risk_types[..index].iter().position(|r| r == risk) {
                errors.push(OutcomeError::RepeatedRiskType {
                    index,
                    first,
                    risk: *risk,
                });
            }
        }
        if self.risk_types.len() > MAX_RISK_TYPES {
            errors.push(OutcomeError::TooManyRiskTypes(MAX_RISK_TYPES));
        }
        match (self.risk_eliminated_on, self.elimination_method) {
            (Some(_), None) => errors.push(OutcomeError::EliminatedWithoutMethod),
            (None, Some(method)) => errors.push(OutcomeError::MethodWithoutElimination(method)),
            _ => {}
        }
        if let (Some(identified_on), Some(eliminated_on)) =
            (self.identified_on, self.risk_eliminated_on)
            && eliminated_on < identified_on
        {
            errors.push(OutcomeError::EliminatedBeforeIdentified {
                identified_on,
                eliminated_on,
            });
        }
        errors
    }

    /// The risk types' codes joined by commas, as the registry stores them; `None` for none.
    pub fn risk_codes(&self) -> Option<String> {
        (!self.risk_types.is_empty()).then(|| {
            self.risk_types
                .iter()
                .map(|r| r.code())
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

impl OutcomeError {
    /// The field to show the problem at.
    pub fn field(&self) -> OutcomeField {
        match self {
            OutcomeError::WithoutCategory(field) => *field,
            OutcomeError::TooManyRiskTypes(index)
            | OutcomeError::RepeatedRiskType { index, .. } => OutcomeField::RiskType(*index),
            OutcomeError::EliminatedWithoutMethod => OutcomeField::EliminationMethod,
            OutcomeError::MethodWithoutElimination(_) => OutcomeField::EliminationMethod,
            OutcomeError::EliminatedBeforeIdentified { .. } => OutcomeField::RiskEliminatedOn,
        }
    }

    pub fn text(&self) -> Text {
        match self {
            OutcomeError::WithoutCategory(_) => text!(
                "此户没有监测对象类别：识别监测时间、致贫返贫风险、风险消除时间和方式只属于监测对象；请填写监测对象类别或清空此列",
                "this household has no monitoring category: the identification date, risk types and the risk elimination belong to monitored households only; fill in the monitoring category or empty this column"
            ),
            OutcomeError::TooManyRiskTypes(_) => {
                text!("致贫返贫风险最多五项", "at most five risk types")
            }
            OutcomeError::RepeatedRiskType { first, risk, .. } => {
                let (n, zh, en) = (first + 1, risk.zh(), risk.en());
                text!(
                    "致贫返贫风险“{zh}”重复（第{n}项已填写）；每项风险只填一次",
                    "risk type '{en}' is repeated (already risk type {n}); give each risk once"
                )
            }
            OutcomeError::EliminatedWithoutMethod => text!(
                "填写了风险消除时间，须同时填写风险消除方式（帮扶消除或自然消除）",
                "a risk elimination date needs its elimination method (帮扶消除 by assistance or 自然消除 naturally)"
            ),
            OutcomeError::MethodWithoutElimination(method) => {
                let (zh, en) = (method.zh(), method.en());
                text!(
                    "风险消除方式“{zh}”没有风险消除时间；请填写风险消除时间，风险未消除则清空此列",
                    "elimination method '{en}' has no risk elimination date; fill in the date, or empty this column if the risk is not eliminated"
                )
            }
            OutcomeError::EliminatedBeforeIdentified {
                identified_on,
                eliminated_on,
            } => text!(
                "风险消除时间{eliminated_on}早于识别监测时间{identified_on}；请核对日期",
                "the risk elimination date {eliminated_on} is before the identification date {identified_on}; check the dates"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn identified() -> MonitoringOutcome {
        MonitoringOutcome {
            identified_on: Some(date!(2024 - 03 - 01)),
            risk_types: vec![RiskType::Illness, RiskType::Schooling],
            risk_eliminated_on: Some(date!(2025 - 01 - 10)),
            elimination_method: Some(EliminationMethod::ByAssistance),
        }
    }

    #[test]
    fn a_complete_outcome_on_a_monitored_household_passes() {
        let category = Some(MonitoringCategory::MarginalAtRisk);
        assert_eq!(identified().check(category), vec![]);
        assert_eq!(MonitoringOutcome::default().check(None), vec![]);
    }

    #[test]
    fn each_breach_is_found_at_its_field() {
        let mut o = identified();
        o.risk_types = vec![
            RiskType::Illness,
            RiskType::Schooling,
            RiskType::Illness,
            RiskType::Accident,
            RiskType::Other,
            RiskType::LackOfLabor,
        ];
        o.risk_eliminated_on = Some(date!(2024 - 01 - 01));
        let fields: Vec<OutcomeField> = o
            .check(Some(MonitoringCategory::SuddenHardship))
            .iter()
            .map(OutcomeError::field)
            .collect();
        assert_eq!(
            fields,
            vec![
                OutcomeField::RiskType(2),
                OutcomeField::RiskType(5),
                OutcomeField::RiskEliminatedOn
            ]
        );
        let errors = identified().check(None);
        assert_eq!(errors.len(), 4);
        o = identified();
        o.elimination_method = None;
        assert_eq!(
            o.check(Some(MonitoringCategory::MarginalAtRisk)),
            vec![OutcomeError::EliminatedWithoutMethod]
        );
        o = identified();
        o.risk_eliminated_on = None;
        assert_eq!(
            o.check(Some(MonitoringCategory::MarginalAtRisk))[0].field(),
            OutcomeField::EliminationMethod
        );
    }

    #[test]
    fn risk_codes_join_in_order() {
        assert_eq!(
            identified().risk_codes().as_deref(),
            Some("illness,schooling")
        );
        assert_eq!(MonitoringOutcome::default().risk_codes(), None);
    }
}
