//! Households and members as stored: flat values with enumerations as code names. A record is
//! what the audit trail compares and what an export writes; it converts to and from the domain
//! types of zhenxing-core.

use serde::Serialize;
use zhenxing_core::elimination::EliminationMethod;
use zhenxing_core::household::HouseholdDraft;
use zhenxing_core::id_number::{Disability, DocumentNumber, IdNumber};
use zhenxing_core::monitoring::{MonitoringOutcome, parse_stored_date};
use zhenxing_core::{
    DivisionCode, Education, Fen, Health, HouseholdNo, HouseholdType, IncomeItems, Labor, Member,
    MonitoringCategory, PersonName, Phone, Relation, SchoolStatus, VillageGroup,
};

/// `Debug` masks the phone number: records must never reach a log in full.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
pub struct HouseholdRecord {
    pub household_no: String,
    pub division_code: String,
    pub household_type: String,
    pub lifted_out_year: Option<i64>,
    pub monitoring_category: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// 村民小组 (migration 0022). Left out of the audit trail's JSON when empty, so that the
    /// records written before the column keep their shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub village_group: Option<String>,
    pub wage_income: i64,
    pub business_income: i64,
    pub property_income: i64,
    pub transfer_income: i64,
    pub business_expense: i64,
    pub out_of_pocket: i64,
    pub housing_safe: Option<bool>,
    pub water_safe: Option<bool>,
    /// What the monitoring procedures recorded (migration 0009): dates as `YYYY-MM-DD`, risk
    /// types as codes joined by commas, the method's code. Left out of the audit trail's JSON
    /// when empty, as `village_group` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identified_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_types: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_eliminated_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elimination_method: Option<String>,
    pub members: Vec<MemberRecord>,
}

/// `Debug` masks the ID number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MemberRecord {
    pub name: String,
    pub id_number: String,
    pub disability_category: Option<i64>,
    pub disability_level: Option<i64>,
    pub relation: String,
    pub sex: String,
    pub birth_date: String,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub school_status: Option<String>,
    pub health: String,
    pub labor: String,
    pub work_months: Option<i64>,
    pub medical_insurance: bool,
    pub dibao: Option<bool>,
}

impl HouseholdRecord {
    /// The head of household's name, if the household has a head.
    pub fn head_name(&self) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.relation == "head")
            .map(|m| m.name.as_str())
    }

    pub fn from_household(h: &zhenxing_core::Household) -> HouseholdRecord {
        let [wage, business, property, transfer, expense] = h.income.as_array();
        let monitoring = MonitoringColumns::of_household(h);
        HouseholdRecord {
            household_no: h.household_no.as_str().to_owned(),
            division_code: h.division.as_str().to_owned(),
            household_type: h.household_type.code().to_owned(),
            lifted_out_year: h.lifted_out_year.map(i64::from),
            monitoring_category: monitoring.category,
            phone: h.phone.as_ref().map(|p| p.as_str().to_owned()),
            address: h.address.clone(),
            village_group: h.village_group.as_ref().map(|g| g.as_str().to_owned()),
            wage_income: wage.0,
            business_income: business.0,
            property_income: property.0,
            transfer_income: transfer.0,
            business_expense: expense.0,
            out_of_pocket: h.out_of_pocket.0,
            housing_safe: h.housing_safe,
            water_safe: h.water_safe,
            identified_on: monitoring.identified_on,
            risk_types: monitoring.risk_types,
            risk_eliminated_on: monitoring.risk_eliminated_on,
            elimination_method: monitoring.elimination_method,
            members: h.members.iter().map(MemberRecord::from_member).collect(),
        }
    }

    pub fn county_code(&self) -> &str {
        &self.division_code[..6]
    }

    pub fn income(&self) -> IncomeItems {
        IncomeItems::new(
            Fen(self.wage_income),
            Fen(self.business_income),
            Fen(self.property_income),
            Fen(self.transfer_income),
            Fen(self.business_expense),
        )
        .unwrap_or_default()
    }

    pub fn net_income(&self) -> i64 {
        self.income().net().0
    }

    pub fn per_capita_net_income(&self) -> i64 {
        self.income()
            .per_capita_net(self.members.len() as u32)
            .unwrap_or(Fen::ZERO)
            .0
    }

    pub fn is_lifted_out(&self) -> bool {
        self.household_type == HouseholdType::LiftedOut.code()
    }

    /// Back to the domain's draft; fails only on data changed outside zhenxing.
    pub fn to_draft(&self) -> Result<HouseholdDraft, String> {
        let bad = |field: &str, value: &str| format!("{}: {field} = {value:?}", self.household_no);
        Ok(HouseholdDraft {
            household_no: HouseholdNo::parse(&self.household_no)
                .map_err(|_| bad("household_no", &self.household_no))?,
            division: DivisionCode::parse(&self.division_code)
                .map_err(|_| bad("division_code", &self.division_code))?,
            household_type: HouseholdType::from_code(&self.household_type)
                .ok_or_else(|| bad("household_type", &self.household_type))?,
            lifted_out_year: self.lifted_out_year.map(|y| y as u16),
            monitoring_category: match &self.monitoring_category {
                None => None,
                Some(c) => Some(
                    MonitoringCategory::from_code(c)
                        .ok_or_else(|| bad("monitoring_category", c))?,
                ),
            },
            phone: match &self.phone {
                None => None,
                Some(p) => Some(Phone::parse(p).map_err(|_| bad("phone", "(masked)"))?),
            },
            address: self.address.clone(),
            village_group: match &self.village_group {
                None => None,
                Some(g) => Some(VillageGroup::parse(g).map_err(|_| bad("village_group", g))?),
            },
            income: self.income(),
            out_of_pocket: Fen(self.out_of_pocket),
            housing_safe: self.housing_safe,
            water_safe: self.water_safe,
            monitoring_outcome: self.monitoring_outcome().map_err(|field| {
                let value = match field {
                    "identified_on" => self.identified_on.as_deref(),
                    "risk_types" => self.risk_types.as_deref(),
                    "risk_eliminated_on" => self.risk_eliminated_on.as_deref(),
                    _ => self.elimination_method.as_deref(),
                };
                bad(field, value.unwrap_or_default())
            })?,
            members: self
                .members
                .iter()
                .map(|m| m.to_member().map_err(|f| bad(f, "(stored)")))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A household's monitoring fields as stored: the category and what the procedures recorded.
/// Only the procedures change them, and a legacy import (see
/// [`crate::registry::MonitoringPermission`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitoringColumns {
    pub category: Option<String>,
    pub identified_on: Option<String>,
    pub risk_types: Option<String>,
    pub risk_eliminated_on: Option<String>,
    pub elimination_method: Option<String>,
}

impl MonitoringColumns {
    pub fn of_household(h: &zhenxing_core::Household) -> MonitoringColumns {
        let outcome = &h.monitoring_outcome;
        MonitoringColumns {
            category: h.monitoring_category.map(|c| c.code().to_owned()),
            identified_on: outcome.identified_on.map(|d| d.to_string()),
            risk_types: outcome.risk_codes(),
            risk_eliminated_on: outcome.risk_eliminated_on.map(|d| d.to_string()),
            elimination_method: outcome.elimination_method.map(|m| m.code().to_owned()),
        }
    }

    pub fn of_record(r: &HouseholdRecord) -> MonitoringColumns {
        MonitoringColumns {
            category: r.monitoring_category.clone(),
            identified_on: r.identified_on.clone(),
            risk_types: r.risk_types.clone(),
            risk_eliminated_on: r.risk_eliminated_on.clone(),
            elimination_method: r.elimination_method.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == MonitoringColumns::default()
    }
}

impl HouseholdRecord {
    /// The stored monitoring fields as the domain's outcome; `Err` names an unreadable field.
    fn monitoring_outcome(&self) -> Result<MonitoringOutcome, &'static str> {
        let date = |value: &Option<String>, field: &'static str| match value {
            None => Ok(None),
            Some(d) => parse_stored_date(d).map(Some).ok_or(field),
        };
        Ok(MonitoringOutcome {
            identified_on: date(&self.identified_on, "identified_on")?,
            risk_types: crate::coverage::parse_risk_types(self.risk_types.as_deref())
                .map_err(|_| "risk_types")?,
            risk_eliminated_on: date(&self.risk_eliminated_on, "risk_eliminated_on")?,
            elimination_method: match &self.elimination_method {
                None => None,
                Some(m) => Some(EliminationMethod::from_code(m).ok_or("elimination_method")?),
            },
        })
    }
}

impl MemberRecord {
    pub fn from_member(m: &Member) -> MemberRecord {
        let id = m.document.id();
        let disability = m.document.disability();
        MemberRecord {
            name: m.name.as_str().to_owned(),
            id_number: id.as_str().to_owned(),
            disability_category: disability.map(|d| i64::from(d.category)),
            disability_level: disability.map(|d| i64::from(d.level)),
            relation: m.relation.code().to_owned(),
            sex: m.sex().code().to_owned(),
            birth_date: id.birth_date().to_string(),
            ethnicity: m.ethnicity.clone(),
            education: m.education.map(|e| e.code().to_owned()),
            school_status: m.school_status.map(|s| s.code().to_owned()),
            health: m.health.to_codes(),
            labor: m.labor.code().to_owned(),
            work_months: m.work_months.map(i64::from),
            medical_insurance: m.medical_insurance,
            dibao: m.dibao,
        }
    }

    /// The registry column: the ID number, followed by category and level for a disability
    /// certificate.
    pub fn document_number(&self) -> String {
        match (self.disability_category, self.disability_level) {
            (Some(c), Some(l)) => format!("{}{c}{l}", self.id_number),
            _ => self.id_number.clone(),
        }
    }

    fn to_member(&self) -> Result<Member, &'static str> {
        // Stored ID numbers were checked on the way in; re-parse without a date limit.
        let id = IdNumber::parse_at(&self.id_number, time::Date::MAX).map_err(|_| "id_number")?;
        let document = match (self.disability_category, self.disability_level) {
            (Some(c), Some(l)) => DocumentNumber::DisabilityCertificate(
                id,
                Disability::parse(
                    char::from_digit(c as u32, 10).unwrap_or('0'),
                    char::from_digit(l as u32, 10).unwrap_or('0'),
                )
                .map_err(|_| "disability")?,
            ),
            _ => DocumentNumber::Resident(id),
        };
        let codes: Vec<_> = self
            .health
            .split(',')
            .map(|c| zhenxing_core::HealthCondition::from_code(c).ok_or("health"))
            .collect::<Result<_, _>>()?;
        Ok(Member {
            name: PersonName::parse(&self.name).map_err(|_| "name")?,
            document,
            relation: Relation::from_code(&self.relation).ok_or("relation")?,
            ethnicity: self.ethnicity.clone(),
            education: match &self.education {
                None => None,
                Some(e) => Some(Education::from_code(e).ok_or("education")?),
            },
            school_status: match &self.school_status {
                None => None,
                Some(s) => Some(SchoolStatus::from_code(s).ok_or("school_status")?),
            },
            health: Health::from_conditions(&codes),
            labor: Labor::from_code(&self.labor).ok_or("labor")?,
            work_months: self.work_months.map(|m| m as u8),
            medical_insurance: self.medical_insurance,
            dibao: self.dibao,
        })
    }
}

use zhenxing_core::mask::{mask_id_number, mask_phone};

impl std::fmt::Debug for HouseholdRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HouseholdRecord")
            .field("household_no", &self.household_no)
            .field("division_code", &self.division_code)
            .field("household_type", &self.household_type)
            .field("monitoring_category", &self.monitoring_category)
            .field("phone", &self.phone.as_deref().map(mask_phone))
            .field("net_income", &self.net_income())
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MemberRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRecord")
            .field("id_number", &mask_id_number(&self.id_number))
            .field("relation", &self.relation)
            .field("sex", &self.sex)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_masks_personal_numbers() {
        let member = MemberRecord {
            name: "王世华".into(),
            id_number: "50022919900101001X".into(),
            disability_category: None,
            disability_level: None,
            relation: "head".into(),
            sex: "male".into(),
            birth_date: "1990-01-01".into(),
            ethnicity: None,
            education: None,
            school_status: None,
            health: "healthy".into(),
            labor: "ordinary".into(),
            work_months: None,
            medical_insurance: true,
            dibao: None,
        };
        let shown = format!("{member:?}");
        assert!(
            shown.contains("500229********001X") && !shown.contains("19900101"),
            "{shown}"
        );
        assert_eq!(mask_phone("13900000001"), "139****0001");
    }
}
