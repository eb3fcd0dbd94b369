//! Privacy masking: the one rule set for ID numbers and mobile numbers wherever a page, a report,
//! an API answer, an error or a log shows them. Every front end and every crate masks through
//! these functions; none has its own rule.
//!
//! The rules, and why:
//!
//! - **A value that should be an ID number** ([`mask_id_number`]): 18 characters keep the address
//!   code and the last four (`500229********001X`); 15 (the legacy form) keep the address code
//!   and the three sequence digits (`500229******013`), hiding the birth date as the 18-character
//!   mask does and showing nothing the 18-character mask of the same person would not; 20 (a
//!   disability certificate: the ID number, the category and the level) mask the ID number and
//!   the two digits of health data too (`500229********0517**`). **Anything else is masked
//!   entirely**, whatever its length. The import report used to show values under 14 characters
//!   whole and longer ones with their ends: a cell of an ID column that fails to parse is still
//!   most likely somebody's number (a digit lost, a digit too many, spaces inside), so the safe
//!   rule wins; the report's row and column find the cell in the file.
//! - **A value that should be a mobile number** ([`mask_phone`]): 11 characters keep the first
//!   three and the last four (`139****0001`); anything else is masked entirely, for the same
//!   reason (the import report used to show the ends of any value of 7 characters or more).
//! - **Free text** ([`mask_free_text`]: notes, reasons, what a person typed anywhere): people
//!   type their numbers anywhere, so every run of digits (ASCII or full-width, with an `X` as
//!   its last character) is looked at. A run shaped like an ID number (15, 18 or 20 characters)
//!   or a mobile number (11 digits starting with `1`) is masked as above. Runs shorter than 11
//!   digits (years, amounts, counts) hold neither and are left alone. Any other long run may be
//!   a number glued to other digits (`电话1390023000123号`): inside it, every 11 digits that form
//!   a mobile number (`1`, then `3`–`9`, as every mainland mobile number starts) and every 18
//!   characters that form an ID number (its check character right, a plausible birth date) are
//!   masked in their middle. Division codes (12 digits) and household numbers (a village code
//!   and a sequence) stay readable unless such a number is inside them.
//!   One limit: a legacy 15-digit ID number is recognised only as a run of its own. It has no
//!   check character, so glued to other digits it cannot be told from a household number (a
//!   village code and a sequence number look exactly like an address code and a birth date);
//!   15-digit numbers went out of use in 2013.
//! - **JSON** ([`mask_json`], [`mask_json_text`]: the audit trail's before and after): a member
//!   whose key names an ID or phone number (`id_number`, `phone`, `applicant_phone`, ...) is
//!   masked as such ([`mask_field`]), members keyed by ID number (under `members`) have their
//!   keys masked, and every other string, number and key is masked as free text.

use serde_json::Value;

use crate::id_number::check_character;

const HIDDEN: char = '*';

/// Masks a value that should be an ID number (or a disability certificate number): see the
/// module documentation for the rule. Never returns 11 consecutive characters of the input.
pub fn mask_id_number(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    match chars.len() {
        18 => keep_ends(&chars, 6, 4),
        15 => keep_ends(&chars, 6, 3),
        20 => {
            let mut shown = keep_ends(&chars[..18], 6, 4);
            shown.push_str("**");
            shown
        }
        n => hidden(n),
    }
}

/// Masks a value that should be a mobile number (`139****0001`); anything that is not 11
/// characters long is masked entirely.
pub fn mask_phone(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() == 11 {
        keep_ends(&chars, 3, 4)
    } else {
        hidden(chars.len())
    }
}

/// Masks a value by the name of the field that holds it: a field whose name holds `id_number`
/// as an ID number, one whose name holds `phone` as a mobile number, any other as free text.
pub fn mask_field(key: &str, value: &str) -> String {
    if key.contains("id_number") {
        mask_id_number(value)
    } else if key.contains("phone") {
        mask_phone(value)
    } else {
        mask_free_text(value)
    }
}

/// Masks the ID and mobile numbers in a text a person typed or a message quotes: see the module
/// documentation for the rule.
pub fn mask_free_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run: Vec<char> = Vec::new();
    for c in text.chars() {
        if digit(c).is_some() {
            run.push(c);
        } else if is_x(c) && !run.is_empty() {
            // An ID number's check character ends it: the run ends with it.
            run.push(c);
            out.push_str(&mask_run(&run));
            run.clear();
        } else {
            out.push_str(&mask_run(&run));
            run.clear();
            out.push(c);
        }
    }
    out.push_str(&mask_run(&run));
    out
}

/// Masks the ID and phone numbers in a JSON value in place: see the module documentation.
pub fn mask_json(value: &mut Value) {
    mask_json_under(value, None);
}

/// JSON text (the audit trail's before and after), masked and indented; text that is not JSON
/// is masked as free text.
pub fn mask_json_text(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            mask_json(&mut value);
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| mask_free_text(text))
        }
        Err(_) => mask_free_text(text),
    }
}

fn mask_json_under(value: &mut Value, key: Option<&str>) {
    let shown = |s: &str| match key {
        Some(key) => mask_field(key, s),
        None => mask_free_text(s),
    };
    match value {
        Value::String(s) => *s = shown(s),
        Value::Number(n) => {
            // A number stored as a JSON number is masked like its digits.
            let digits = n.to_string();
            let masked = shown(&digits);
            if masked != digits {
                *value = Value::String(masked);
            }
        }
        Value::Array(values) => values.iter_mut().for_each(|v| mask_json_under(v, key)),
        Value::Object(map) => {
            let keyed_by_id = key == Some("members");
            for (k, mut v) in std::mem::take(map) {
                mask_json_under(&mut v, Some(&k));
                let mut shown = if keyed_by_id {
                    mask_id_number(&k)
                } else {
                    mask_free_text(&k)
                };
                // Two numbers may mask alike: keep both.
                while map.contains_key(&shown) {
                    shown.push('\'');
                }
                map.insert(shown, v);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    chars[..head]
        .iter()
        .copied()
        .chain(std::iter::repeat_n(HIDDEN, n - head - tail))
        .chain(chars[n - tail..].iter().copied())
        .collect()
}

fn hidden(n: usize) -> String {
    std::iter::repeat_n(HIDDEN, n).collect()
}

/// The value of an ASCII or full-width digit.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => Some((c as u32 - '０' as u32) as u8),
        _ => None,
    }
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// Masks one run of digits (perhaps ending with an `X`) out of a free text.
fn mask_run(run: &[char]) -> String {
    let n = run.len();
    let ends_with_x = run.last().is_some_and(|&c| is_x(c));
    if n < 11 {
        return run.iter().collect();
    }
    if matches!(n, 15 | 20) && !ends_with_x || n == 18 {
        return mask_id_number(&run.iter().collect::<String>());
    }
    if n == 11 && !ends_with_x && digit(run[0]) == Some(1) {
        return mask_phone(&run.iter().collect::<String>());
    }
    // A number glued to other digits: hide the middle of every mobile or ID number inside.
    let digits: Vec<u8> = run.iter().map(|&c| digit(c).unwrap_or(b'X')).collect();
    let mut hide = vec![false; n];
    for start in 0..n {
        if start + 11 <= n && is_mobile(&digits[start..start + 11]) {
            hide[start + 3..start + 7].fill(true);
        }
        if start + 18 <= n && is_id_number(&digits[start..start + 18]) {
            hide[start + 6..start + 14].fill(true);
        }
    }
    run.iter()
        .zip(hide)
        .map(|(&c, hide)| if hide { HIDDEN } else { c })
        .collect()
}

/// Eleven digit values that form a mainland mobile number: `1`, then `3` to `9`.
fn is_mobile(digits: &[u8]) -> bool {
    digits[0] == 1 && (3..=9).contains(&digits[1]) && digits.iter().all(|&d| d <= 9)
}

/// Eighteen digit values (`b'X'` for an `X`) that form an ID number: the right check character
/// and a plausible birth date (year 1800–2099, month 1–12, day 1–31).
fn is_id_number(digits: &[u8]) -> bool {
    if !digits[..17].iter().all(|&d| d <= 9) {
        return false;
    }
    let ascii: Vec<u8> = digits[..17].iter().map(|d| b'0' + d).collect();
    let last = match digits[17] {
        b'X' => b'X',
        d => b'0' + d,
    };
    let number = |from: usize, to: usize| {
        digits[from..to]
            .iter()
            .fold(0u32, |n, &d| n * 10 + u32::from(d))
    };
    check_character(&ascii) == last
        && (1800..=2099).contains(&number(6, 10))
        && (1..=12).contains(&number(10, 12))
        && (1..=31).contains(&number(12, 14))
}
