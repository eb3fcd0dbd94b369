//! Masking values read from a file before a report quotes them: the row number finds the
//! value in the file, and the report never repeats a whole ID number.

/// Masks the middle of an ID-like value for the report (the row number finds it in the file).
pub(crate) fn mask_id_like(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    if chars.len() >= 14 {
        let head: String = chars[..6].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
    } else {
        raw.to_owned()
    }
}
