//! Sealing and opening values: a sealed column's values, their blind index, and the ID and phone
//! numbers inside audit items' JSON.

use super::rings::{crypto_error, no_ring, reload_all, rings_read};
use super::{AUDIT_ITEMS_DATA, ID_NUMBER_INDEX, SealedColumn};
use crate::{Result, StoreError};
use zhenxing_crypto::{KeyRing, is_sealed_field};

/// Seals `plaintext` for `column` with the current key.
pub fn seal(column: &SealedColumn, plaintext: &str) -> Result<String> {
    let rings = rings_read();
    let ring = &rings.last().ok_or_else(no_ring)?.ring;
    Ok(ring.seal_field(column.context, plaintext))
}

pub fn seal_opt(column: &SealedColumn, plaintext: Option<&str>) -> Result<Option<String>> {
    plaintext.map(|p| seal(column, p)).transpose()
}

/// The blind index of a full ID number, for `members.id_number_index` and lookups by it.
pub fn blind_id_number(id_number: &str) -> Result<String> {
    blind_index(ID_NUMBER_INDEX, id_number)
}

/// The blind index of `value` for exact matching in `context`: an HMAC under the index key, so
/// that even a value from a small space (anything holding an ID number) cannot be guessed from
/// it without the key.
pub fn blind_index(context: &str, value: &str) -> Result<String> {
    let rings = rings_read();
    let ring = &rings.last().ok_or_else(no_ring)?.ring;
    Ok(ring.blind_index(context, value))
}

/// The plaintext of a stored value of `column`. A value stored before encryption (no `zx1:`
/// prefix) reads as it is until the first open encrypts it. A value under a key no installed
/// ring holds makes the rings be read again from their sources (a rotation by another process
/// added the key) before it is refused.
pub fn open(column: &SealedColumn, stored: &str) -> Result<String> {
    if !is_sealed_field(stored) {
        return Ok(stored.to_owned());
    }
    match open_with_installed(column, stored) {
        Err(StoreError::Corrupt(_)) if reload_all() => open_with_installed(column, stored),
        other => other,
    }
}

pub fn open_opt(column: &SealedColumn, stored: Option<String>) -> Result<Option<String>> {
    stored.map(|s| open(column, &s)).transpose()
}

/// [`open`] in place.
pub fn open_in_place(column: &SealedColumn, value: &mut String) -> Result<()> {
    if is_sealed_field(value) {
        *value = open(column, value)?;
    }
    Ok(())
}

fn open_with_installed(column: &SealedColumn, stored: &str) -> Result<String> {
    let rings = rings_read();
    let mut error = None;
    for installed in rings.iter().rev() {
        match installed.ring.open_field(column.context, stored) {
            Ok(plain) => return Ok(plain),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    Err(error.map(crypto_error).unwrap_or_else(no_ring))
}

/// Field names whose string values are ID or phone numbers, and the object keyed by them.
const SENSITIVE_FIELDS: &[&str] = &["id_number", "phone"];
const KEYED_BY_ID_NUMBER: &str = "members";

/// An audit item's JSON with its ID and phone numbers sealed (the `id_number` and `phone`
/// fields at any depth, and the keys of `members`, which are ID numbers). The rest stays as it
/// is, so that what reads the items' other fields in SQL still does. JSON that is not in
/// serde_json's own form is sealed whole, so that opening gives back the very same text (the
/// items' digest in the audit chain is of the plaintext).
pub fn seal_item_json(text: &str) -> Result<String> {
    if !SENSITIVE_FIELDS.iter().any(|f| text.contains(f)) && !text.contains(KEYED_BY_ID_NUMBER) {
        return Ok(text.to_owned());
    }
    let canonical = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .filter(|v| serde_json::to_string(v).ok().as_deref() == Some(text));
    let Some(mut value) = canonical else {
        return seal(&AUDIT_ITEMS_DATA, text);
    };
    let rings = rings_read();
    let ring = &rings.last().ok_or_else(no_ring)?.ring;
    seal_walk(ring, &mut value);
    serde_json::to_string(&value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn seal_walk(ring: &KeyRing, value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            items.iter_mut().for_each(|v| seal_walk(ring, v));
        }
        return;
    };
    let entries = std::mem::take(map);
    for (key, mut v) in entries {
        match &mut v {
            Value::String(s) if SENSITIVE_FIELDS.contains(&key.as_str()) && !s.is_empty() => {
                *s = ring.seal_field(AUDIT_ITEMS_DATA.context, s);
            }
            Value::Object(members) if key == KEYED_BY_ID_NUMBER => {
                let inner = std::mem::take(members);
                for (id, mut m) in inner {
                    seal_walk(ring, &mut m);
                    members.insert(ring.seal_field(AUDIT_ITEMS_DATA.context, &id), m);
                }
            }
            _ => seal_walk(ring, &mut v),
        }
        map.insert(key, v);
    }
}

/// The plaintext of an audit item's JSON as [`seal_item_json`] stored it.
pub fn open_item_json(text: &str) -> Result<String> {
    if is_sealed_field(text) {
        return open(&AUDIT_ITEMS_DATA, text);
    }
    if !text.contains(zhenxing_crypto::FIELD_PREFIX) {
        return Ok(text.to_owned());
    }
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    open_walk(&mut value)?;
    serde_json::to_string(&value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn open_item_json_opt(text: Option<String>) -> Result<Option<String>> {
    text.map(|t| open_item_json(&t)).transpose()
}

fn open_walk(value: &mut serde_json::Value) -> Result<()> {
    use serde_json::Value;
    match value {
        Value::String(s) if is_sealed_field(s) => *s = open(&AUDIT_ITEMS_DATA, s)?,
        Value::Array(items) => {
            for v in items {
                open_walk(v)?;
            }
        }
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                open_walk(&mut v)?;
                let key = if is_sealed_field(&key) {
                    open(&AUDIT_ITEMS_DATA, &key)?
                } else {
                    key
                };
                map.insert(key, v);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DECLARATIONS_ID_NUMBER, HOUSEHOLDS_PHONE, MEMBERS_ID_NUMBER};

    fn with_test_ring() {
        crate::testing::install_test_keys();
    }

    #[test]
    fn audit_item_json_round_trips_with_its_numbers_sealed() {
        with_test_ring();
        let text = serde_json::json!({
            "phone": "13900230001",
            "wage_income": 14000,
            "members": {"500229198203150139": {"id_number": "500229198203150139", "name": "王建国"}},
        })
        .to_string();
        let sealed = seal_item_json(&text).unwrap();
        assert!(!sealed.contains("500229198203150139"), "{sealed}");
        assert!(!sealed.contains("13900230001"), "{sealed}");
        assert!(sealed.contains("\"wage_income\":14000"), "{sealed}");
        assert_eq!(open_item_json(&sealed).unwrap(), text);
        // Not serde_json's own form: sealed whole, opened to the same text.
        let spaced = "{ \"phone\": \"13900230001\" }";
        let sealed = seal_item_json(spaced).unwrap();
        assert!(is_sealed_field(&sealed));
        assert_eq!(open_item_json(&sealed).unwrap(), spaced);
        // Nothing to seal: unchanged.
        assert_eq!(seal_item_json("{\"a\":1}").unwrap(), "{\"a\":1}");
    }

    #[test]
    fn a_value_sealed_for_one_column_does_not_open_in_another() {
        with_test_ring();
        let sealed = seal(&MEMBERS_ID_NUMBER, "500229198203150139").unwrap();
        assert_eq!(
            open(&MEMBERS_ID_NUMBER, &sealed).unwrap(),
            "500229198203150139"
        );
        assert!(open(&DECLARATIONS_ID_NUMBER, &sealed).is_err());
        // Plaintext from before encryption reads as it is.
        assert_eq!(
            open(&HOUSEHOLDS_PHONE, "13900230001").unwrap(),
            "13900230001"
        );
    }
}
