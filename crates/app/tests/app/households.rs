//! The edit rules that the edit page and the API's `PATCH` share: a change as typed becomes the
//! household the registry stores, every problem is named by its field, the masked phone number
//! sent back keeps the stored one, and a change needs a reason.

use zhenxing_app::households::{HouseholdEdit, apply_edit, parse_reason};
use zhenxing_store::HouseholdRecord;
use zhenxing_store::testing::{test_household, test_id_number};

fn record() -> HouseholdRecord {
    let mut draft = test_household("CK0100", "500229102202", &test_id_number(1), 6_000);
    draft.phone = Some(zhenxing_core::Phone::parse("13900230001").unwrap());
    HouseholdRecord::from_household(&draft.build().unwrap())
}

#[test]
fn the_form_of_a_household_gives_it_back_unchanged() {
    let stored = record();
    let edit = HouseholdEdit::from_record(&stored, 3);
    assert_eq!(edit.version, "3");
    assert_eq!(edit.wage, "6000.00");
    assert_ne!(edit.phone, "13900230001", "shown masked");
    assert!(apply_edit(&stored, &edit).ok() == Some(stored));
}

#[test]
fn a_change_is_applied_and_a_new_phone_number_replaces_the_stored_one() {
    let stored = record();
    let mut edit = HouseholdEdit::from_record(&stored, 1);
    edit.wage = "7,000".into();
    edit.phone = "13900230099".into();
    edit.water_safe = "no".into();
    let Ok(changed) = apply_edit(&stored, &edit) else {
        panic!("the change was refused");
    };
    assert_eq!(changed.wage_income, 700_000);
    assert_eq!(changed.phone.as_deref(), Some("13900230099"));
    assert_eq!(changed.water_safe, Some(false));
}

#[test]
fn every_problem_is_named_by_its_field() {
    let stored = record();
    let mut edit = HouseholdEdit::from_record(&stored, 1);
    edit.household_type = "城市居民".into();
    edit.lifted_out_year = "去年".into();
    edit.wage = "abc".into();
    edit.address = "村".repeat(201);
    let problems = apply_edit(&stored, &edit).err().unwrap();
    let en: Vec<&str> = problems.iter().map(|t| t.en.as_str()).collect();
    for field in [
        "household type:",
        "year lifted out:",
        "wage income:",
        "address:",
    ] {
        assert!(en.iter().any(|p| p.starts_with(field)), "{field} {en:?}");
    }
    assert!(problems.iter().all(|t| !t.zh.is_empty()));
}

#[test]
fn a_change_needs_a_reason_of_at_most_500_characters() {
    assert!(parse_reason("  ").is_err());
    assert!(parse_reason(&"因".repeat(501)).is_err());
    assert_eq!(parse_reason(" 年度动态调整 ").unwrap(), "年度动态调整");
}
