//! Every row of the ID test vectors (fixtures/id-numbers.csv, copied from the project's
//! reference data) is a test.

use time::macros::date;
use zhenxing_core::{DocumentNumber, IdNumber};

#[test]
fn every_vector_gets_its_expected_verdict() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/id-numbers.csv");
    let text = std::fs::read_to_string(path).expect("fixtures/id-numbers.csv");
    let mut checked = 0;
    for (i, line) in text.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.splitn(3, ',').collect();
        let (id, valid, note) = (cols[0], cols[1] == "true", cols[2]);
        let parsed = IdNumber::parse_at(id, date!(2026 - 11 - 29));
        assert_eq!(
            parsed.is_ok(),
            valid,
            "row {}: {id} ({note}): {parsed:?}",
            i + 1
        );
        if let Ok(parsed) = parsed {
            assert_eq!(parsed.as_str().len(), 18);
            assert!(!parsed.as_str().contains('x'));
            if let Some(converted) = note.split("converts to ").nth(1) {
                assert_eq!(parsed.as_str(), converted.trim());
            }
            if note.contains("male") {
                let expected_female = note.contains("female");
                assert_eq!(
                    parsed.sex() == zhenxing_core::Sex::Female,
                    expected_female,
                    "{note}"
                );
            }
            // The registry column accepts the same numbers.
            assert!(DocumentNumber::parse_at(id, date!(2026 - 11 - 29)).is_ok());
        }
        checked += 1;
    }
    assert!(checked >= 11, "only {checked} vectors read");
}
