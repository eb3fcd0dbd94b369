//! The monitoring columns (识别监测时间, 致贫返贫风险1..5, 风险消除时间, 风险消除方式): what a
//! completed case records on a household, read with the same row-and-column reports as every
//! other column. Whether a file may set them is the store's decision (only a legacy import may
//! change them); the rules between them are [`MonitoringOutcome::check`]'s.

use super::columns::{RISK_TYPE_COLUMNS, RegistryColumn};
use super::parse::RowReader;
use crate::department::parse_date_or_why;
use time::Date;
use zhenxing_core::elimination::EliminationMethod;
use zhenxing_core::household::list_items;
use zhenxing_core::monitoring::{MonitoringOutcome, OutcomeField, RiskType};
use zhenxing_core::{MonitoringCategory, Text};

/// The outcome as a household's first row gave it, with the column of each risk type (a cell
/// may list several), so that a problem with one is shown where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OutcomeCells {
    pub(super) outcome: MonitoringOutcome,
    risk_columns: Vec<RegistryColumn>,
}

/// One cell of risk types: one or more, separated as in the health column.
fn risk_types(s: &str) -> Result<Vec<RiskType>, Text> {
    list_items(s).map(RiskType::parse).collect()
}

/// Reads the outcome columns; `None` when a cell was refused (and reported).
pub(super) fn read_outcome(r: &mut RowReader<'_, '_>) -> Option<OutcomeCells> {
    use RegistryColumn as C;
    let identified_on = r.optional(C::IdentifiedOn, parse_date_or_why);
    let mut cells = Some(OutcomeCells {
        outcome: MonitoringOutcome::default(),
        risk_columns: Vec::new(),
    });
    for column in RISK_TYPE_COLUMNS {
        match (r.optional(column, risk_types), &mut cells) {
            (Some(risks), Some(cells)) => {
                for risk in risks.unwrap_or_default() {
                    cells.outcome.risk_types.push(risk);
                    cells.risk_columns.push(column);
                }
            }
            (Some(_), None) => {}
            (None, _) => cells = None,
        }
    }
    let risk_eliminated_on = r.optional(C::RiskEliminatedOn, parse_date_or_why);
    let elimination_method = r.optional(C::EliminationMethod, EliminationMethod::parse);
    let mut cells = cells?;
    cells.outcome.identified_on = identified_on?;
    cells.outcome.risk_eliminated_on = risk_eliminated_on?;
    cells.outcome.elimination_method = elimination_method?;
    Some(cells)
}

impl OutcomeCells {
    fn column(&self, field: OutcomeField) -> RegistryColumn {
        match field {
            OutcomeField::IdentifiedOn => RegistryColumn::IdentifiedOn,
            OutcomeField::RiskType(i) => self
                .risk_columns
                .get(i)
                .copied()
                .unwrap_or(RegistryColumn::RiskType1),
            OutcomeField::RiskEliminatedOn => RegistryColumn::RiskEliminatedOn,
            OutcomeField::EliminationMethod => RegistryColumn::EliminationMethod,
        }
    }

    /// The cell of a field as the report shows it.
    fn shown(&self, field: OutcomeField) -> String {
        let o = &self.outcome;
        let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        match field {
            OutcomeField::IdentifiedOn => date(o.identified_on),
            OutcomeField::RiskType(i) => o
                .risk_types
                .get(i)
                .map(|r| r.zh().to_owned())
                .unwrap_or_default(),
            OutcomeField::RiskEliminatedOn => date(o.risk_eliminated_on),
            OutcomeField::EliminationMethod => o
                .elimination_method
                .map(|m| m.zh().to_owned())
                .unwrap_or_default(),
        }
    }

    /// Reports each breach of the rules between the fields, at its column of the household's
    /// first row.
    pub(super) fn check(&self, category: Option<MonitoringCategory>, r: &mut RowReader<'_, '_>) {
        for error in self.outcome.check(category) {
            let field = error.field();
            r.problem(self.column(field), &self.shown(field), error.text());
        }
    }

    /// The values of a later row that differ from the first row's, by column, as shown
    /// (equal values show the same).
    pub(super) fn differences(
        &self,
        later: &OutcomeCells,
    ) -> Vec<(RegistryColumn, String, String)> {
        let joined_risks = |o: &MonitoringOutcome| {
            o.risk_types
                .iter()
                .map(|r| r.zh())
                .collect::<Vec<_>>()
                .join("、")
        };
        let fields = [
            OutcomeField::IdentifiedOn,
            OutcomeField::RiskEliminatedOn,
            OutcomeField::EliminationMethod,
        ];
        fields
            .into_iter()
            .map(|f| (self.column(f), self.shown(f), later.shown(f)))
            .chain(std::iter::once((
                RegistryColumn::RiskType1,
                joined_risks(&self.outcome),
                joined_risks(&later.outcome),
            )))
            .filter(|(_, a, b)| a != b)
            .collect()
    }
}
