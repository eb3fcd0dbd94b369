//! A household's history as people read it: each change as "field: before → after", members
//! by name, money in yuan, ID and phone numbers masked.

use crate::i18n::Tr;
use crate::pages::yuan;
use zhenxing_core::mask::{mask_field, mask_id_number};
use zhenxing_core::{
    Education, HealthCondition, HouseholdType, Labor, MonitoringCategory, Relation, SchoolStatus,
    Sex,
};

/// The page label of a stored field, where the pages have one.
fn field_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "wage_income" => "income-wage",
        "business_income" => "income-business",
        "property_income" => "income-property",
        "transfer_income" => "income-transfer",
        "business_expense" => "income-business-expense",
        "out_of_pocket" => "income-out-of-pocket",
        "household_type" => "field-type",
        "lifted_out_year" => "field-lifted-out-year",
        "monitoring_category" => "field-category",
        "phone" => "field-phone",
        "address" => "field-address",
        "village_group" => "field-village-group",
        "housing_safe" => "field-housing-safe",
        "water_safe" => "field-water-safe",
        "name" => "col-name",
        "id_number" => "col-id-number",
        "relation" => "col-relation",
        "sex" => "col-sex",
        "birth_date" => "col-birth-date",
        "education" => "col-education",
        "school_status" => "col-school",
        "health" => "col-health",
        "labor" => "col-labor",
        "medical_insurance" => "col-insurance",
        _ => return None,
    })
}

/// An enumeration's stored code in the reader's language.
fn code_label(tr: &Tr, field: &str, code: &str) -> Option<String> {
    let lang = tr.lang;
    let one = |c: &str| -> Option<&'static str> {
        Some(match field {
            "household_type" => HouseholdType::from_code(c)?.label(lang),
            "monitoring_category" => MonitoringCategory::from_code(c)?.label(lang),
            "relation" => Relation::from_code(c)?.label(lang),
            "sex" => Sex::from_code(c)?.label(lang),
            "education" => Education::from_code(c)?.label(lang),
            "school_status" => SchoolStatus::from_code(c)?.label(lang),
            "labor" => Labor::from_code(c)?.label(lang),
            "health" => HealthCondition::from_code(c)?.label(lang),
            _ => return None,
        })
    };
    let labels: Option<Vec<&str>> = code.split(',').map(one).collect();
    labels.map(|l| l.join(", "))
}

/// "field: before → after" for each changed field, members by name with their changed fields;
/// ID and phone numbers always masked (the history is shown to every reader of the household).
pub fn describe_changes(tr: &Tr, before: Option<&str>, after: Option<&str>) -> String {
    use serde_json::{Map, Value};
    let parse = |s: Option<&str>| {
        s.and_then(|s| serde_json::from_str::<Map<String, Value>>(s).ok())
            .unwrap_or_default()
    };
    let (before, after) = (parse(before), parse(after));
    let mut parts = Vec::new();
    for (key, b, a) in union(&before, &after) {
        if b == a {
            continue;
        }
        if key == "members" {
            let empty = Map::new();
            let b = b.and_then(Value::as_object).unwrap_or(&empty);
            let a = a.and_then(Value::as_object).unwrap_or(&empty);
            for (id, mb, ma) in union(b, a) {
                let member = ma.or(mb);
                let name = member
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let who = format!("{name} {}", mask_id_number(&id));
                match (mb, ma) {
                    (None, Some(_)) => parts.push(format!("+ {who}")),
                    (Some(_), None) => parts.push(format!("− {who}")),
                    (Some(mb), Some(ma)) if mb != ma => {
                        let (mb, ma) = (
                            mb.as_object().cloned().unwrap_or_default(),
                            ma.as_object().cloned().unwrap_or_default(),
                        );
                        let fields: Vec<String> = union(&mb, &ma)
                            .into_iter()
                            .filter(|(_, x, y)| x != y)
                            .map(|(k, x, y)| {
                                format!(
                                    "{}: {} → {}",
                                    label(tr, &k),
                                    shown(tr, &k, x),
                                    shown(tr, &k, y)
                                )
                            })
                            .collect();
                        parts.push(format!("{who}: {}", fields.join(", ")));
                    }
                    _ => {}
                }
            }
        } else {
            parts.push(format!(
                "{}: {} → {}",
                label(tr, &key),
                shown(tr, &key, b),
                shown(tr, &key, a)
            ));
        }
    }
    parts.join("; ")
}

/// The keys of two objects, sorted, with both values.
fn union<'a>(
    a: &'a serde_json::Map<String, serde_json::Value>,
    b: &'a serde_json::Map<String, serde_json::Value>,
) -> Vec<(
    String,
    Option<&'a serde_json::Value>,
    Option<&'a serde_json::Value>,
)> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| (k.clone(), a.get(k), b.get(k)))
        .collect()
}

fn label(tr: &Tr, key: &str) -> String {
    field_key(key).map_or_else(|| key.to_owned(), |k| tr.t(k))
}

/// A value for the history: ID and phone numbers masked, by the field's name or inside a text.
fn shown(tr: &Tr, key: &str, value: Option<&serde_json::Value>) -> String {
    let s = match value {
        None | Some(serde_json::Value::Null) => return "–".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let is_money = matches!(
        key,
        "wage_income"
            | "business_income"
            | "property_income"
            | "transfer_income"
            | "business_expense"
            | "out_of_pocket"
            | "net_income"
            | "per_capita_net_income"
    );
    if is_money && let Some(fen) = value.and_then(serde_json::Value::as_i64) {
        yuan(fen)
    } else if let Some(value) = value.and_then(serde_json::Value::as_bool) {
        tr.t(if value { "yes" } else { "no" })
    } else if let Some(label) = code_label(tr, key, &s) {
        label
    } else {
        mask_field(key, &s)
    }
}

#[cfg(test)]
mod tests {
    use super::describe_changes;
    use crate::i18n::{I18n, Tr};
    use std::sync::Arc;
    use zhenxing_core::Lang;

    #[test]
    fn history_masks_numbers_and_names_members_in_the_readers_language() {
        let before = r#"{"phone":"13900230001","wage_income":100,"housing_safe":true,"members":{"500229198203150139":{"name":"王建国","labor":"ordinary","id_number":"500229198203150139"}}}"#;
        let after = r#"{"phone":"13900230002","wage_income":200,"housing_safe":false,"members":{"500229198203150139":{"name":"王建国","labor":"none","id_number":"500229198203150139"},"500229202503010129":{"name":"王小花","id_number":"500229202503010129"}}}"#;
        let i18n = Arc::new(I18n::new());
        let zh = describe_changes(&Tr::new(i18n.clone(), Lang::Zh), Some(before), Some(after));
        assert!(
            !zh.contains("500229198203150139") && !zh.contains("13900230001"),
            "{zh}"
        );
        assert!(zh.contains("+ 王小花 500229********0129"), "{zh}");
        assert!(
            zh.contains("王建国 500229********0139: 劳动技能: 普通劳动力 → 无劳动力"),
            "{zh}"
        );
        assert!(zh.contains("联系电话: 139****0001 → 139****0002"), "{zh}");
        assert!(
            zh.contains("工资性收入: 1.00 → 2.00"),
            "money in yuan: {zh}"
        );
        assert!(zh.contains("住房安全: 是 → 否"), "{zh}");
        let en = describe_changes(&Tr::new(i18n, Lang::En), Some(before), Some(after));
        assert!(en.contains("Wage income: 1.00 → 2.00"), "{en}");
    }
}
