//! Writing households in the registry format (Chinese headers and values, as the national
//! system's exports are), so that an export re-imports to the same registry.

use super::columns::{COLUMNS, RISK_TYPE_COLUMNS, RegistryColumn, template_columns};
use crate::error::WriteError;
use crate::write::{TableWriter, create_writer};
use std::path::Path;
use zhenxing_core::enums::yes_no_zh;
use zhenxing_core::household::HouseholdDraft;

pub struct RegistryWriter {
    inner: Box<dyn TableWriter>,
    rows: u64,
}

impl RegistryWriter {
    /// `.csv` or `.xlsx` by extension; `expected_rows` (member count) lets an XLSX export too
    /// large for one sheet fail before any work is done.
    pub fn create(path: &Path, expected_rows: Option<u64>) -> Result<RegistryWriter, WriteError> {
        Ok(RegistryWriter {
            inner: create_writer(path, &template_columns(), expected_rows)?,
            rows: 0,
        })
    }

    /// Writes the household's rows, with the names of its cadres in force (its pairings: not
    /// a household field, so the caller looks them up).
    pub fn write_household(
        &mut self,
        household: &HouseholdDraft,
        responsible_cadres: &[String],
    ) -> Result<(), WriteError> {
        for i in 0..household.members.len() {
            let cells = record_cells(household, responsible_cadres, i);
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            self.inner.write_row(&refs)?;
            self.rows += 1;
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> Result<(), WriteError> {
        self.inner.finish()
    }
}

/// The cells of member `i`'s row, in the order of [`COLUMNS`]. Only the cadres' names: their
/// phone numbers are never exported.
pub fn record_cells(h: &HouseholdDraft, responsible_cadres: &[String], i: usize) -> Vec<String> {
    let m = &h.members[i];
    let [wage, business, property, transfer, expense] = h.income.as_array();
    let opt = |o: Option<String>| o.unwrap_or_default();
    let outcome = &h.monitoring_outcome;
    COLUMNS
        .iter()
        .map(|c| match c.column {
            RegistryColumn::DivisionCode => h.division.to_string(),
            RegistryColumn::HouseholdNo => h.household_no.to_string(),
            RegistryColumn::HouseholdType => h.household_type.zh().to_owned(),
            RegistryColumn::LiftedOutYear => opt(h.lifted_out_year.map(|y| y.to_string())),
            RegistryColumn::MonitoringCategory => {
                opt(h.monitoring_category.map(|c| c.zh().to_owned()))
            }
            RegistryColumn::IdentifiedOn => opt(outcome.identified_on.map(|d| d.to_string())),
            RegistryColumn::RiskType1
            | RegistryColumn::RiskType2
            | RegistryColumn::RiskType3
            | RegistryColumn::RiskType4
            | RegistryColumn::RiskType5 => {
                let index = RISK_TYPE_COLUMNS.iter().position(|r| *r == c.column);
                opt(index
                    .and_then(|i| outcome.risk_types.get(i))
                    .map(|r| r.zh().to_owned()))
            }
            RegistryColumn::RiskEliminatedOn => {
                opt(outcome.risk_eliminated_on.map(|d| d.to_string()))
            }
            RegistryColumn::EliminationMethod => {
                opt(outcome.elimination_method.map(|m| m.zh().to_owned()))
            }
            RegistryColumn::ResponsibleCadre => responsible_cadres.join("、"),
            RegistryColumn::Phone => opt(h.phone.as_ref().map(|p| p.as_str().to_owned())),
            RegistryColumn::Address => opt(h.address.clone()),
            RegistryColumn::VillageGroup => opt(h.village_group.as_ref().map(|g| g.to_string())),
            RegistryColumn::WageIncome => wage.to_string(),
            RegistryColumn::BusinessIncome => business.to_string(),
            RegistryColumn::PropertyIncome => property.to_string(),
            RegistryColumn::TransferIncome => transfer.to_string(),
            RegistryColumn::BusinessExpense => expense.to_string(),
            RegistryColumn::OutOfPocket => h.out_of_pocket.to_string(),
            RegistryColumn::HousingSafe => opt(h.housing_safe.map(|b| yes_no_zh(b).to_owned())),
            RegistryColumn::WaterSafe => opt(h.water_safe.map(|b| yes_no_zh(b).to_owned())),
            RegistryColumn::Name => m.name.to_string(),
            RegistryColumn::IdNumber => match m.document.disability() {
                Some(d) => format!("{}{}{}", m.document.id().as_str(), d.category, d.level),
                None => m.document.id().as_str().to_owned(),
            },
            RegistryColumn::Relation => m.relation.zh().to_owned(),
            RegistryColumn::Sex => m.sex().zh().to_owned(),
            RegistryColumn::Ethnicity => opt(m.ethnicity.clone()),
            RegistryColumn::Education => opt(m.education.map(|e| e.zh().to_owned())),
            RegistryColumn::SchoolStatus => opt(m.school_status.map(|s| s.zh().to_owned())),
            RegistryColumn::Health => m.health.to_zh(),
            RegistryColumn::Labor => m.labor.zh().to_owned(),
            RegistryColumn::WorkMonths => opt(m.work_months.map(|w| w.to_string())),
            RegistryColumn::MedicalInsurance => yes_no_zh(m.medical_insurance).to_owned(),
            RegistryColumn::Dibao => opt(m.dibao.map(|b| yes_no_zh(b).to_owned())),
        })
        .collect()
}
