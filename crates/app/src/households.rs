//! Editing a household: the rules that turn a change as typed into a household the registry
//! accepts, shared by the edit page and the API's `PATCH`, so that the two cannot disagree
//! about what is allowed.

use serde::Deserialize;
use zhenxing_core::mask::mask_phone;
use zhenxing_core::{Fen, HouseholdType, IncomeItems, MonitoringCategory, Phone, Text};
use zhenxing_store::HouseholdRecord;

/// A change to a household as a person types it (the edit page) or a program sends it (the
/// API's patch, laid over [`HouseholdEdit::from_record`]). Money in yuan as typed; tri-state
/// safety as `""`, `yes`, `no`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HouseholdEdit {
    pub version: String,
    pub reason: String,
    pub household_type: String,
    pub lifted_out_year: String,
    /// Absent in the browser's form, which shows the category read-only: the stored one stays.
    /// The API's patch may name one, and the store refuses it unless it is the stored one
    /// (only the procedures change it).
    #[serde(default)]
    pub category: Option<String>,
    /// Shown masked ([`mask_phone`]); the masked value sent back keeps the stored number.
    pub phone: String,
    pub address: String,
    pub wage: String,
    pub business: String,
    pub property: String,
    pub transfer: String,
    pub business_expense: String,
    pub out_of_pocket: String,
    pub housing_safe: String,
    pub water_safe: String,
}

impl HouseholdEdit {
    pub fn from_record(record: &HouseholdRecord, version: i64) -> HouseholdEdit {
        let tri = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        let money = |f: i64| format!("{}.{:02}", f / 100, f % 100);
        HouseholdEdit {
            version: version.to_string(),
            reason: String::new(),
            household_type: record.household_type.clone(),
            lifted_out_year: record
                .lifted_out_year
                .map(|y| y.to_string())
                .unwrap_or_default(),
            category: None,
            phone: record.phone.as_deref().map(mask_phone).unwrap_or_default(),
            address: record.address.clone().unwrap_or_default(),
            wage: money(record.wage_income),
            business: money(record.business_income),
            property: money(record.property_income),
            transfer: money(record.transfer_income),
            business_expense: money(record.business_expense),
            out_of_pocket: money(record.out_of_pocket),
            housing_safe: tri(record.housing_safe).to_owned(),
            water_safe: tri(record.water_safe).to_owned(),
        }
    }
}

/// A reason for a change: required, at most 500 characters.
pub fn parse_reason(reason: &str) -> Result<String, Text> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(Text::new(
            "请填写修改原因（审计记录需要）",
            "give a reason for the change (the audit trail records it)",
        ));
    }
    if r.chars().count() > 500 {
        return Err(Text::new(
            "修改原因最多500字",
            "the reason is at most 500 characters",
        ));
    }
    Ok(r.to_owned())
}

/// Applies the edit to the household's draft; every problem is collected, named by field.
pub fn apply_edit(
    record: &HouseholdRecord,
    form: &HouseholdEdit,
) -> Result<HouseholdRecord, Vec<Text>> {
    let mut errors = Vec::new();
    let mut draft = match record.to_draft() {
        Ok(d) => d,
        Err(e) => return Err(vec![Text::new(e.clone(), e)]),
    };
    let field = |errors: &mut Vec<Text>, zh: &str, en: &str, t: Text| {
        errors.push(Text::new(
            format!("{zh}：{}", t.zh),
            format!("{en}: {}", t.en),
        ));
    };
    match HouseholdType::parse(&form.household_type) {
        Ok(t) => draft.household_type = t,
        Err(t) => field(&mut errors, "户类型", "household type", t),
    }
    draft.lifted_out_year = match form.lifted_out_year.trim() {
        "" => None,
        y => match y.parse::<u16>() {
            Ok(y) => Some(y),
            Err(_) => {
                field(
                    &mut errors,
                    "脱贫年度",
                    "year lifted out",
                    Text::new("须为年份", "must be a year"),
                );
                None
            }
        },
    };
    // A category named (by the API) is checked here and left to the store, which refuses a
    // change of it: one rule, one place.
    if let Some(category) = &form.category {
        draft.monitoring_category = match category.trim() {
            "" => None,
            c => match MonitoringCategory::parse(c) {
                Ok(c) => Some(c),
                Err(t) => {
                    field(&mut errors, "监测对象类别", "monitoring category", t);
                    None
                }
            },
        };
    }
    let stored_phone = record.phone.as_deref();
    draft.phone = match form.phone.trim() {
        "" => None,
        // The form showed the number masked: sent back unchanged, it keeps the stored number.
        p if stored_phone.is_some_and(|s| mask_phone(s) == p) => draft.phone.clone(),
        p => match Phone::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                field(&mut errors, "联系电话", "phone", e.text());
                None
            }
        },
    };
    let address = form.address.trim();
    if address.chars().count() > 200 {
        field(
            &mut errors,
            "住址",
            "address",
            Text::new("最多200字", "at most 200 characters"),
        );
    }
    draft.address = (!address.is_empty()).then(|| address.to_owned());
    let mut money = |zh: &str, en: &str, value: &str| -> Fen {
        match Fen::parse_non_negative(value.trim()) {
            Ok(f) => f,
            Err(e) => {
                field(&mut errors, zh, en, e.text());
                Fen::ZERO
            }
        }
    };
    let wage = money("工资性收入", "wage income", &form.wage);
    let business = money("生产经营性收入", "business income", &form.business);
    let property = money("财产性收入", "property income", &form.property);
    let transfer = money("转移性收入", "transfer income", &form.transfer);
    let expense = money(
        "生产经营性支出",
        "business expenses",
        &form.business_expense,
    );
    let out_of_pocket = money(
        "合规自付支出",
        "out-of-pocket spending",
        &form.out_of_pocket,
    );
    if let Some(income) = IncomeItems::new(wage, business, property, transfer, expense) {
        draft.income = income;
    }
    draft.out_of_pocket = out_of_pocket;
    let tri = |s: &str| match s {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    draft.housing_safe = tri(&form.housing_safe);
    draft.water_safe = tri(&form.water_safe);
    if !errors.is_empty() {
        return Err(errors);
    }
    match draft.build() {
        Ok(household) => Ok(HouseholdRecord::from_household(&household)),
        Err(errs) => Err(errs.iter().map(|e| e.text()).collect()),
    }
}
