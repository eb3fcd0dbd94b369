//! What the API sends and receives. These are the API's own types, built from the store's
//! records: the domain and store types never derive `ToSchema`, so the document describes
//! exactly what goes over the wire and a change in the store cannot silently change the API.
//!
//! Enumerations go out as the registry's code names (`lifted_out`, `head`, ...). ID and phone
//! numbers always go out masked.

use crate::auth::{Viewer, lang_code};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zhenxing_core::mask::{mask_id_number, mask_phone};
use zhenxing_core::{Fen, Role};
use zhenxing_store::HouseholdRecord;
use zhenxing_store::accounts::Account;
use zhenxing_store::browse::{ChildDivision, HouseholdSummary};
use zhenxing_store::divisions::Division;
use zhenxing_store::registry::RowMeta;
use zhenxing_store::stats::RegistryStats;

/// The body of every error answer (4xx and 5xx).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// A stable machine-readable code: `unauthorized`, `not_found`, `forbidden`,
    /// `bad_request`, `conflict`, `payload_too_large`, `method_not_allowed`, `internal`, ...
    #[schema(example = "not_found")]
    pub error: String,
    /// The message in the account's language (or the request's `Accept-Language`).
    pub message: String,
    pub message_zh: String,
    pub message_en: String,
}

/// An amount of money: an exact number of fen (1 yuan = 100 fen) and the same amount in
/// yuan with two decimals.
#[derive(Debug, Serialize, ToSchema)]
pub struct Money {
    #[schema(example = 486050)]
    pub fen: i64,
    #[schema(example = "4860.50")]
    pub yuan: String,
}

impl Money {
    pub fn of(fen: i64) -> Money {
        Money {
            fen,
            yuan: Fen(fen).to_string(),
        }
    }
}

/// A division, by code, in both languages.
#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionRef {
    #[schema(example = "500229102202")]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

impl DivisionRef {
    pub fn of(d: &Division) -> DivisionRef {
        DivisionRef {
            code: d.code.clone(),
            name_zh: d.name_zh.clone(),
            name_en: d.name_en.clone(),
        }
    }
}

/// The account behind the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The account name.
    pub name: String,
    /// The role's code: `municipal_admin` (the system administrator), `security_admin`,
    /// `auditor`, `county_officer`, `township_officer`, `village_cadre` or
    /// `department_officer`.
    #[schema(example = "county_officer")]
    pub role: String,
    /// The role's name in the account's language.
    pub role_label: String,
    pub role_zh: String,
    pub role_en: String,
    /// The account's division: it sees and acts on records under it only.
    pub division: DivisionRef,
    /// The account's language: `zh` or `en`.
    #[schema(example = "zh")]
    pub lang: String,
}

impl Me {
    pub fn of(viewer: &Viewer, account: &Account, division: Option<&Division>) -> Me {
        let role: Role = account.role;
        Me {
            name: account.name.clone(),
            role: role.code().to_owned(),
            role_label: role.label(viewer.lang).to_owned(),
            role_zh: role.zh().to_owned(),
            role_en: role.en().to_owned(),
            division: match division {
                Some(d) => DivisionRef::of(d),
                None => DivisionRef {
                    code: account.division.as_str().to_owned(),
                    name_zh: String::new(),
                    name_en: String::new(),
                },
            },
            lang: lang_code(account.lang).to_owned(),
        }
    }
}

/// A division of the statistical division list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionInfo {
    #[schema(example = "500229000000")]
    pub code: String,
    pub parent_code: Option<String>,
    /// `province`, `county`, `township` or `village`.
    #[schema(example = "county")]
    pub level: String,
    /// The kind of division as the list names it (district, county, town, village committee...).
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    /// For a former poverty county, how it was designated.
    pub former_poverty_county: Option<String>,
    pub former_poverty_village: bool,
}

impl DivisionInfo {
    pub fn of(d: &Division) -> DivisionInfo {
        DivisionInfo {
            code: d.code.clone(),
            parent_code: d.parent_code.clone(),
            level: d.level.clone(),
            kind: d.kind.clone(),
            name_zh: d.name_zh.clone(),
            name_en: d.name_en.clone(),
            former_poverty_county: d.former_poverty_county.clone(),
            former_poverty_village: d.former_poverty_village,
        }
    }
}

/// Registry figures for a division.
#[derive(Debug, Serialize, ToSchema)]
pub struct Figures {
    pub counties: i64,
    pub former_poverty_counties: i64,
    pub townships: i64,
    /// Village committees (村).
    pub villages: i64,
    /// Urban resident committees (社区).
    pub communities: i64,
    pub former_poverty_villages: i64,
    pub households: i64,
    pub members: i64,
    pub lifted_out_households: i64,
    pub lifted_out_members: i64,
    pub ordinary_households: i64,
    pub ordinary_members: i64,
    pub monitored_households: i64,
    pub monitored_members: i64,
}

impl Figures {
    pub fn of(s: &RegistryStats) -> Figures {
        Figures {
            counties: s.counties,
            former_poverty_counties: s.former_poverty_counties,
            townships: s.townships,
            villages: s.villages,
            communities: s.communities,
            former_poverty_villages: s.former_poverty_villages,
            households: s.households,
            members: s.members,
            lifted_out_households: s.lifted_out_households,
            lifted_out_members: s.lifted_out_members,
            ordinary_households: s.ordinary_households,
            ordinary_members: s.ordinary_members,
            monitored_households: s.monitored_households,
            monitored_members: s.monitored_members,
        }
    }
}

/// A child division with its registry counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildDivisionInfo {
    pub code: String,
    pub level: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    /// A former poverty county or village.
    pub former_poverty: bool,
    pub households: i64,
    pub members: i64,
    pub lifted_out_households: i64,
    pub monitored_households: i64,
}

impl ChildDivisionInfo {
    pub fn of(c: &ChildDivision) -> ChildDivisionInfo {
        ChildDivisionInfo {
            code: c.division.code.clone(),
            level: c.division.level.clone(),
            kind: c.division.kind.clone(),
            name_zh: c.division.name_zh.clone(),
            name_en: c.division.name_en.clone(),
            former_poverty: c.division.former_poverty_county.is_some()
                || c.division.former_poverty_village,
            households: c.households,
            members: c.members,
            lifted_out_households: c.lifted_out_households,
            monitored_households: c.monitored_households,
        }
    }
}

/// A division with its figures and its children (counties of the municipality, townships of
/// a county, villages of a township; none for a village).
#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionDetail {
    pub division: DivisionInfo,
    pub figures: Figures,
    pub children: Vec<ChildDivisionInfo>,
}

/// The household list's query. Unknown parameters are refused with 400.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HouseholdQuery {
    /// Only households under this division (12-digit code, within the account's scope).
    pub division: Option<String>,
    /// Household type code (the Chinese or English label is accepted too).
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<HouseholdTypeCode>)]
    pub household_type: Option<String>,
    /// Monitoring category code (the Chinese or English label is accepted too).
    #[param(value_type = Option<MonitoringCategoryCode>)]
    pub category: Option<String>,
    /// Per-capita net income below this many yuan (up to two decimals).
    #[param(example = "10000", pattern = r"^\s*([0-9]{1,9}(\.[0-9]{1,2})?)?\s*$")]
    pub below: Option<String>,
    /// A name, a household number or a full ID number.
    pub q: Option<String>,
    /// Where the page starts: the `next_after` of the previous page.
    #[param(value_type = Option<i64>)]
    pub after: Option<String>,
    /// Households per page, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

/// The household type codes (`zhenxing_core::HouseholdType`), for the API's documentation.
#[derive(Debug, ToSchema)]
#[allow(non_camel_case_types, dead_code)]
pub enum HouseholdTypeCode {
    lifted_out,
    ordinary,
}

/// The monitoring category codes (`zhenxing_core::MonitoringCategory`), for the API's
/// documentation.
#[derive(Debug, ToSchema)]
#[allow(non_camel_case_types, dead_code)]
pub enum MonitoringCategoryCode {
    unstable_lifted_out,
    marginal_at_risk,
    sudden_hardship,
}

/// One household of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdListItem {
    #[schema(example = "CK0001")]
    pub household_no: String,
    pub village: DivisionRef,
    /// The head's name (none if the household has no head on record).
    pub head_name: Option<String>,
    /// `lifted_out` or `ordinary`.
    pub household_type: String,
    /// The monitoring category's code, if the household is monitored.
    pub monitoring_category: Option<String>,
    pub member_count: i64,
    pub per_capita_net_income: Money,
}

impl HouseholdListItem {
    pub fn of(h: &HouseholdSummary) -> HouseholdListItem {
        HouseholdListItem {
            household_no: h.household_no.clone(),
            village: DivisionRef {
                code: h.division_code.clone(),
                name_zh: h.village_zh.clone(),
                name_en: h.village_en.clone(),
            },
            head_name: h.head_name.clone(),
            household_type: h.household_type.clone(),
            monitoring_category: h.monitoring_category.clone(),
            member_count: h.member_count,
            per_capita_net_income: Money::of(h.per_capita_net_income),
        }
    }
}

/// A page of households.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdPage {
    pub items: Vec<HouseholdListItem>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

/// A household's income items, net income and per-capita net income.
#[derive(Debug, Serialize, ToSchema)]
pub struct Income {
    pub wage_income: Money,
    pub business_income: Money,
    pub property_income: Money,
    pub transfer_income: Money,
    pub business_expense: Money,
    /// Compliant out-of-pocket spending (合规自付支出).
    pub out_of_pocket: Money,
    /// Income items less business expenses.
    pub net_income: Money,
    pub per_capita_net_income: Money,
}

/// A member of a household.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdMember {
    pub name: String,
    /// Always masked: `500229********0139`.
    #[schema(example = "500229********0139")]
    pub id_number: String,
    /// For a disability certificate: the category and level digits.
    pub disability_category: Option<i64>,
    pub disability_level: Option<i64>,
    /// Relation to the head: `head`, `spouse`, `son`, ...
    pub relation: String,
    /// `male` or `female`.
    pub sex: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub ethnicity: Option<String>,
    pub education: Option<String>,
    pub school_status: Option<String>,
    /// Health condition codes (`healthy`, or one or more illnesses and disabilities).
    pub health: Vec<String>,
    pub labor: String,
    /// Months of work away from home in the year.
    pub work_months: Option<i64>,
    pub medical_insurance: bool,
    /// Receives the rural minimum living allowance (低保).
    pub dibao: Option<bool>,
}

/// A household with its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct Household {
    #[schema(example = "CK0001")]
    pub household_no: String,
    /// Pass back as `version` when changing the household.
    pub version: i64,
    pub village: DivisionRef,
    /// `lifted_out` or `ordinary`.
    pub household_type: String,
    pub lifted_out_year: Option<i64>,
    pub monitoring_category: Option<String>,
    /// Always masked: `139****0001`.
    #[schema(example = "139****0001")]
    pub phone: Option<String>,
    pub address: Option<String>,
    pub housing_safe: Option<bool>,
    pub water_safe: Option<bool>,
    pub income: Income,
    pub members: Vec<HouseholdMember>,
}

impl Household {
    pub fn of(record: &HouseholdRecord, meta: &RowMeta, village: Option<&Division>) -> Household {
        Household {
            household_no: record.household_no.clone(),
            version: meta.version,
            village: match village {
                Some(d) => DivisionRef::of(d),
                None => DivisionRef {
                    code: record.division_code.clone(),
                    name_zh: String::new(),
                    name_en: String::new(),
                },
            },
            household_type: record.household_type.clone(),
            lifted_out_year: record.lifted_out_year,
            monitoring_category: record.monitoring_category.clone(),
            phone: record.phone.as_deref().map(mask_phone),
            address: record.address.clone(),
            housing_safe: record.housing_safe,
            water_safe: record.water_safe,
            income: Income {
                wage_income: Money::of(record.wage_income),
                business_income: Money::of(record.business_income),
                property_income: Money::of(record.property_income),
                transfer_income: Money::of(record.transfer_income),
                business_expense: Money::of(record.business_expense),
                out_of_pocket: Money::of(record.out_of_pocket),
                net_income: Money::of(record.net_income()),
                per_capita_net_income: Money::of(record.per_capita_net_income()),
            },
            members: record
                .members
                .iter()
                .map(|m| HouseholdMember {
                    name: m.name.clone(),
                    id_number: mask_id_number(&m.id_number),
                    disability_category: m.disability_category,
                    disability_level: m.disability_level,
                    relation: m.relation.clone(),
                    sex: m.sex.clone(),
                    birth_date: m.birth_date.clone(),
                    ethnicity: m.ethnicity.clone(),
                    education: m.education.clone(),
                    school_status: m.school_status.clone(),
                    health: m
                        .health
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    labor: m.labor.clone(),
                    work_months: m.work_months,
                    medical_insurance: m.medical_insurance,
                    dibao: m.dibao,
                })
                .collect(),
        }
    }
}

/// A change to a household. `version` and `reason` are required; every other field is
/// optional and, when absent, left as it is. Money is in fen (non-negative integers).
/// Unknown fields are refused.
// Read field by field by `api::households::parse_patch`, so that every problem names its
// field; the serde attribute only tells the document that unknown fields are refused.
#[derive(Debug, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HouseholdPatch {
    /// The version the change was made from (the household's `version`); if the household
    /// has changed since, the change is refused with 409 and nothing is written.
    pub version: i64,
    /// Why: kept in the audit trail. Required, at most 500 characters.
    pub reason: String,
    #[schema(nullable = false, minimum = 0)]
    pub wage_income: Option<i64>,
    #[schema(nullable = false, minimum = 0)]
    pub business_income: Option<i64>,
    #[schema(nullable = false, minimum = 0)]
    pub property_income: Option<i64>,
    #[schema(nullable = false, minimum = 0)]
    pub transfer_income: Option<i64>,
    #[schema(nullable = false, minimum = 0)]
    pub business_expense: Option<i64>,
    #[schema(nullable = false, minimum = 0)]
    pub out_of_pocket: Option<i64>,
    /// Housing safe; null for unknown.
    #[schema(value_type = Option<bool>)]
    pub housing_safe: Option<Option<bool>>,
    /// Drinking water safe; null for unknown.
    #[schema(value_type = Option<bool>)]
    pub water_safe: Option<Option<bool>>,
    /// Monitoring category code (or label); null when the household is not monitored. Only the
    /// monitoring procedures change it: a value other than the stored one is refused with 409.
    #[schema(value_type = Option<String>)]
    pub monitoring_category: Option<Option<String>>,
    /// An 11-digit mobile number; null or empty to remove it. The masked number the household
    /// is read with keeps the stored one.
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// At most 200 characters; null or empty to remove it.
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
}

#[cfg(test)]
mod code_tests {
    use super::*;

    fn documented<T: utoipa::PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap_or_default();
        schema["enum"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The documented codes are exactly the domain's.
    #[test]
    fn documented_codes_are_the_domains() {
        let types: Vec<String> = zhenxing_core::HouseholdType::ALL
            .iter()
            .map(|t| t.code().to_owned())
            .collect();
        assert_eq!(documented::<HouseholdTypeCode>(), types);
        let categories: Vec<String> = zhenxing_core::MonitoringCategory::ALL
            .iter()
            .map(|t| t.code().to_owned())
            .collect();
        assert_eq!(documented::<MonitoringCategoryCode>(), categories);
    }
}
