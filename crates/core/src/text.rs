//! Small text values of the registry: household numbers, names, phone numbers.

use crate::lang::Text;
use crate::text;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    Empty,
    TooLong { max: usize, found: usize },
    ControlCharacter,
    Phone(String),
}

impl TextError {
    pub fn text(&self) -> Text {
        match self {
            TextError::Empty => text!("不能为空", "must not be empty"),
            TextError::TooLong { max, found } => text!(
                "过长：最多{max}个字符，这里有{found}个",
                "too long: at most {max} characters, this has {found}"
            ),
            TextError::ControlCharacter => text!(
                "含有不可见的控制字符",
                "contains invisible control characters"
            ),
            TextError::Phone(s) => text!(
                "“{s}”不是11位手机号码",
                "'{s}' is not an 11-digit mobile number"
            ),
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for TextError {}

fn clean(input: &str, max: usize) -> Result<String, TextError> {
    let s = input.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    if s.is_empty() {
        return Err(TextError::Empty);
    }
    if s.chars().any(char::is_control) {
        return Err(TextError::ControlCharacter);
    }
    let n = s.chars().count();
    if n > max {
        return Err(TextError::TooLong { max, found: n });
    }
    Ok(s.to_owned())
}

/// Declares a trimmed, non-empty, bounded text value.
macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(input: &str) -> Result<$name, TextError> {
                clean(input, $max).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// The household number (户编号): identifies a household within the registry.
    HouseholdNo,
    40
);
bounded_text!(
    /// A person's name. Names of ethnic minorities may contain `·`.
    PersonName,
    50
);

/// An 11-digit mainland mobile number. Personal data: shown masked (`139****0001`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts spaces, hyphens and a `+86` prefix around the 11 digits.
    pub fn parse(input: &str) -> Result<Phone, TextError> {
        let trimmed = input.trim();
        let mut digits: String = trimmed
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                _ => c,
            })
            .collect();
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_owned();
        }
        if digits.len() == 11
            && digits.starts_with('1')
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Phone(digits))
        } else {
            Err(TextError::Phone(trimmed.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_and_masked() {
        let p = Phone::parse("+86 139-0000-0001").unwrap();
        assert_eq!(p.as_str(), "13900000001");
        assert_eq!(p.to_string(), "139****0001");
        assert!(Phone::parse("1390000000").is_err());
        assert!(Phone::parse("23900000001").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse(" 王世华 ").unwrap().as_str(), "王世华");
        assert_eq!(PersonName::parse("  "), Err(TextError::Empty));
        assert_eq!(
            PersonName::parse("a\u{7}b"),
            Err(TextError::ControlCharacter)
        );
        assert!(matches!(
            HouseholdNo::parse(&"1".repeat(41)),
            Err(TextError::TooLong { max: 40, found: 41 })
        ));
    }
}
