//! The masking rules (`zhenxing_core::mask`): examples of each rule, and properties that no valid
//! ID number (15 or 18 characters, with an `X`) and no mobile number ever comes out whole from
//! any public masking function, alone, inside longer text, with other digits glued to it, or
//! anywhere in a JSON value.

use proptest::prelude::*;
use serde_json::{Value, json};
use time::{Date, Duration, macros::date};
use zhenxing_core::mask::{
    mask_field, mask_free_text, mask_id_number, mask_json, mask_json_text, mask_phone,
};
use zhenxing_core::{IdNumber, Phone};

#[test]
fn values_of_id_and_phone_fields_keep_only_their_ends() {
    assert_eq!(mask_id_number("50022919800101001X"), "500229********001X");
    assert_eq!(mask_id_number("500229800101001"), "500229******001");
    assert_eq!(
        mask_id_number("50022919601102051743"),
        "500229********0517**"
    );
    assert_eq!(mask_phone("13800000001"), "138****0001");
    assert_eq!(mask_phone("12"), "**");
}

#[test]
fn values_of_any_other_length_are_masked_entirely() {
    // The import report used to show these whole (under 14 characters) or with their ends.
    assert_eq!(mask_id_number("123"), "***");
    assert_eq!(mask_id_number("5002291980010100"), "****************");
    assert_eq!(mask_phone("1390023000"), "**********");
    assert_eq!(mask_phone("+8613900230001"), "**************");
}

#[test]
fn fields_are_masked_by_their_names() {
    assert_eq!(mask_field("id_number", "123"), "***");
    assert_eq!(mask_field("applicant_phone", "13900230001"), "139****0001");
    assert_eq!(
        mask_field("address", "石柱县 13900230001"),
        "石柱县 139****0001"
    );
    assert_eq!(mask_field("address", "下路镇2组"), "下路镇2组");
}

#[test]
fn masks_numbers_in_recorded_json() {
    let before = r#"{"phone":"13900230001","members":{"500229198203150139":{"id_number":"500229198203150139","name":"王建国"}},"address":"x"}"#;
    let shown = mask_json_text(before);
    assert!(!shown.contains("500229198203150139"), "{shown}");
    assert!(!shown.contains("13900230001"), "{shown}");
    assert!(shown.contains("500229********0139"), "{shown}");
    assert!(shown.contains("139****0001"), "{shown}");
    assert!(shown.contains("王建国"));
    let list = r#"{"members":[{"id_number":"50022919601102051743","phone":"13900230002"}]}"#;
    let shown = mask_json_text(list);
    assert!(!shown.contains("5002291960110205"), "{shown}");
    assert!(!shown.contains("13900230002"), "{shown}");
}

#[test]
fn json_keeps_what_is_not_a_number_of_a_person() {
    let mut value = json!({
        "household_no": "5002291002010001",
        "division": "500229100201",
        "size": 4,
        "note": "2026年度动态调整，电话13900230001",
        "members": {"500229198203150139": {}, "500229198203150120": {}},
    });
    mask_json(&mut value);
    assert_eq!(value["household_no"], "5002291002010001");
    assert_eq!(value["division"], "500229100201");
    assert_eq!(value["size"], 4);
    assert_eq!(value["note"], "2026年度动态调整，电话139****0001");
    // Two ID numbers that mask alike stay two members.
    assert_eq!(value["members"].as_object().map(|m| m.len()), Some(2));
}

#[test]
fn json_numbers_that_are_personal_numbers_are_masked() {
    let mut value = json!({"phone": 13900230001_u64, "contact": 13900230002_u64, "n": 3});
    mask_json(&mut value);
    assert_eq!(value["phone"], "139****0001");
    assert_eq!(value["contact"], "139****0002");
    assert_eq!(value["n"], 3);
}

#[test]
fn text_that_is_not_json_is_masked_as_free_text() {
    assert_eq!(mask_json_text("电话 13900230001"), "电话 139****0001");
}

#[test]
fn masks_numbers_in_free_text() {
    assert_eq!(
        mask_free_text("户主500229198203150139，电话13900230001"),
        "户主500229********0139，电话139****0001"
    );
    assert_eq!(mask_free_text("2026年度动态调整"), "2026年度动态调整");
    // Full-width digits are digits; a lower-case x is a check character.
    assert_eq!(
        mask_free_text("５００２２９１９８２０３１５０１３９"),
        "５００２２９********０１３９"
    );
    assert_eq!(
        mask_free_text("身份证50022919800101001x"),
        "身份证500229********001x"
    );
}

#[test]
fn division_codes_and_household_numbers_stay_readable() {
    for s in ["500229100201", "5002291002010001", "500229 100201 2026"] {
        assert_eq!(mask_free_text(s), s);
    }
}

#[test]
fn numbers_glued_together_are_each_masked() {
    // The ID number's last digits and the phone number's first form one more possible mobile
    // number ("13913900230"): masked too.
    assert_eq!(
        mask_free_text("50022919820315013913900230001"),
        "500229********0**********0001"
    );
    assert_eq!(
        mask_free_text("2026500229198203150139"),
        "2026500229********0139"
    );
    assert_eq!(mask_free_text("电话1390023000123号"), "电话139****000123号");
}

// ---------------------------------------------------------------------------------------------
// Properties

/// A valid 18-character ID number; `with_x` makes its check character `X`.
fn id_number(with_x: bool) -> impl Strategy<Value = String> {
    let province = prop::sample::select(vec![
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65",
    ]);
    (province, 0u32..10_000, 0i64..45_000, 0u16..900).prop_map(
        move |(province, county, days, sequence)| {
            let address = format!("{province}{county:04}");
            let born = date!(1900 - 01 - 01) + Duration::days(days);
            compose(&address, born, sequence, with_x)
        },
    )
}

fn compose(address: &str, born: Date, first_sequence: u16, with_x: bool) -> String {
    (first_sequence..=999)
        .chain(0..first_sequence)
        .filter_map(|sequence| IdNumber::compose(address, born, sequence))
        .map(|id| id.as_str().to_owned())
        .find(|id| !with_x || id.ends_with('X'))
        .unwrap_or_else(|| unreachable!("one sequence in eleven ends with X"))
}

/// A legacy 15-digit ID number: the 18-character form of a person born in the 1900s without the
/// century and the check character.
fn legacy_id_number() -> impl Strategy<Value = String> {
    (id_number(false), 0i64..36_000).prop_map(|(id, days)| {
        let born = date!(1900 - 01 - 01) + Duration::days(days);
        let id = compose(&id[..6], born, 100, false);
        format!("{}{}", &id[..6], &id[8..17])
    })
}

fn mobile() -> impl Strategy<Value = String> {
    "1[3-9][0-9]{9}"
}

/// Any of the numbers a person has: 18 characters (with or without `X`) or a mobile number.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![id_number(false), id_number(true), mobile()]
}

/// Text around a number: anything, digits included.
fn surrounding() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[0-9]{0,20}",
        "[0-9Xx ，,：:号电话身份证]{0,20}",
    ]
}

/// Text around a number that does not touch it with a digit.
fn separated() -> impl Strategy<Value = (String, String)> {
    let side = "[0-9 a-wyzA-WYZ，。：电话]{0,12}";
    (side, side)
        .prop_map(|(before, after): (String, String)| (format!("{before} "), format!("，{after}")))
}

fn shown_whole(output: &str, number: &str) -> bool {
    output.contains(number) || output.contains(&number.to_lowercase())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_number_comes_out_of_the_field_masks_whole(n in number(), key in "[a-z_]{0,12}") {
        for shown in [
            mask_id_number(&n),
            mask_phone(&n),
            mask_field(&key, &n),
            mask_field("id_number", &n),
            mask_field("phone", &n),
        ] {
            prop_assert!(!shown_whole(&shown, &n), "{n} → {shown}");
        }
    }

    #[test]
    fn no_valid_number_comes_out_of_its_type_whole(id in id_number(true), phone in mobile()) {
        let id = IdNumber::parse_at(&id, date!(2100 - 01 - 01)).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        for shown in [id.masked(), id.to_string(), format!("{id:?}")] {
            prop_assert!(!shown_whole(&shown, id.as_str()), "{shown}");
        }
        let phone = Phone::parse(&phone).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        for shown in [phone.masked(), phone.to_string(), format!("{phone:?}")] {
            prop_assert!(!shown_whole(&shown, phone.as_str()), "{shown}");
        }
    }

    #[test]
    fn no_number_comes_out_of_free_text_whole(
        before in surrounding(),
        n in number(),
        after in surrounding(),
        lower in any::<bool>(),
    ) {
        let n = if lower { n.to_lowercase() } else { n };
        let text = format!("{before}{n}{after}");
        let shown = mask_free_text(&text);
        prop_assert!(!shown_whole(&shown, &n), "{text} → {shown}");
        prop_assert!(!shown_whole(&mask_json_text(&text), &n));
        prop_assert!(!shown_whole(&mask_field("note", &text), &n));
    }

    #[test]
    fn no_legacy_id_number_comes_out_of_free_text_whole(
        (before, after) in separated(),
        n in legacy_id_number(),
    ) {
        let text = format!("{before}{n}{after}");
        for shown in [mask_free_text(&text), mask_id_number(&n), mask_json_text(&text)] {
            prop_assert!(!shown_whole(&shown, &n), "{text} → {shown}");
        }
    }

    #[test]
    fn several_numbers_in_one_text_are_all_masked(
        parts in prop::collection::vec((surrounding(), number()), 1..5),
    ) {
        let text: String = parts.iter().map(|(s, n)| format!("{s}{n}")).collect();
        let shown = mask_free_text(&text);
        for (_, n) in &parts {
            prop_assert!(!shown_whole(&shown, n), "{text} → {shown}");
        }
    }

    #[test]
    fn no_number_comes_out_of_json_whole(
        n in number(),
        key in prop_oneof![
            Just("id_number".to_owned()),
            Just("phone".to_owned()),
            Just("members".to_owned()),
            "[a-z_]{1,12}",
        ],
        (before, after) in (surrounding(), surrounding()),
        place in 0..6,
    ) {
        let inside = format!("{before}{n}{after}");
        let value = match place {
            0 => json!({ key.clone(): n.clone() }),
            1 => json!({ "members": { n.clone(): { key.clone(): "x" } } }),
            2 => json!({ key.clone(): [inside.clone(), { "note": inside.clone() }] }),
            3 => json!([{ inside.clone(): { key.clone(): null } }]),
            4 => match n.parse::<u64>() {
                Ok(number) => json!({ key.clone(): number, "list": [number] }),
                Err(_) => json!({ key.clone(): n.clone() }),
            },
            _ => Value::String(inside.clone()),
        };
        let text = value.to_string();
        let shown = mask_json_text(&text);
        prop_assert!(!shown_whole(&shown, &n), "{text} → {shown}");
        let mut masked = value;
        mask_json(&mut masked);
        let shown = masked.to_string();
        prop_assert!(!shown_whole(&shown, &n), "{text} → {shown}");
    }
}
