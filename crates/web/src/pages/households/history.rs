//! A household's history as people read it: each change as "field: before → after", members
//! by name, money in yuan, ID and phone numbers masked.

use crate::pages::yuan;
use zhenxing_core::access::{mask_id_number, mask_phone};

/// "field: before → after" for each changed field, members by name with their changed fields;
/// ID and phone numbers always masked (the history is shown to every reader of the household).
pub fn describe_changes(before: Option<&str>, after: Option<&str>) -> String {
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
                            .map(|(k, x, y)| format!("{k}: {} → {}", shown(&k, x), shown(&k, y)))
                            .collect();
                        parts.push(format!("{who}: {}", fields.join(", ")));
                    }
                    _ => {}
                }
            }
        } else {
            parts.push(format!("{key}: {} → {}", shown(&key, b), shown(&key, a)));
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

/// A value for the history, masked when it is an ID or phone number.
fn shown(key: &str, value: Option<&serde_json::Value>) -> String {
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
    } else if key.contains("id_number") {
        mask_id_number(&s)
    } else if key.contains("phone") {
        mask_phone(&s)
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::describe_changes;

    #[test]
    fn history_masks_numbers_and_names_members() {
        let before = r#"{"phone":"13900230001","wage_income":100,"members":{"500229198203150139":{"name":"王建国","labor":"ordinary","id_number":"500229198203150139"}}}"#;
        let after = r#"{"phone":"13900230002","wage_income":200,"members":{"500229198203150139":{"name":"王建国","labor":"weak","id_number":"500229198203150139"},"500229202503010129":{"name":"王小花","id_number":"500229202503010129"}}}"#;
        let text = describe_changes(Some(before), Some(after));
        assert!(
            !text.contains("500229198203150139") && !text.contains("13900230001"),
            "{text}"
        );
        assert!(text.contains("+ 王小花 500229********0129"), "{text}");
        assert!(
            text.contains("王建国 500229********0139: labor: ordinary → weak"),
            "{text}"
        );
        assert!(text.contains("phone: 139****0001 → 139****0002"), "{text}");
        assert!(
            text.contains("wage_income: 1.00 → 2.00"),
            "money in yuan: {text}"
        );
    }
}
