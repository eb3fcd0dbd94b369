//! Small text values of the registry: household numbers, names, phone numbers.

use crate::lang::Text;
use crate::text;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    Empty,
    TooLong {
        max: usize,
        found: usize,
    },
    /// A character refused by [`check_characters`], at its 1-based position in the value.
    ForbiddenCharacter {
        position: usize,
        character: char,
    },
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
            TextError::ForbiddenCharacter {
                position,
                character,
            } => {
                let code = format!("U+{:04X}", u32::from(*character));
                text!(
                    "第{position}个字符（{code}）是不可见的控制字符或文字方向控制符，不能使用；请删去后重新输入",
                    "character {position} ({code}) is an invisible control or text-direction character, which is not allowed; delete it and type the text again"
                )
            }
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

/// Whether a free-text field may hold line breaks (and tabs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Names, addresses, titles: one line.
    One,
    /// Notes, accounts, letters: line breaks (CR, LF) and tabs are kept.
    Many,
}

/// Characters no free text may hold, because they are invisible and change what the text
/// shows or how files carrying it read back: C0 and C1 controls and DEL (a NUL or a stray CR
/// breaks an export's re-import), and the bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069), with which U+202E followed by "gpj.exe" displays as "exe.jpg". Line breaks and
/// tabs only where `lines` is [`Lines::Many`]. Every free-text field of the domain goes through
/// this check, so forms, imports and the API refuse the same characters with the same message.
pub fn check_characters(value: &str, lines: Lines) -> Result<(), TextError> {
    let forbidden = |c: char| match c {
        '\n' | '\r' | '\t' => lines == Lines::One,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control(),
    };
    match value.chars().enumerate().find(|&(_, c)| forbidden(c)) {
        Some((i, character)) => Err(TextError::ForbiddenCharacter {
            position: i + 1,
            character,
        }),
        None => Ok(()),
    }
}

fn clean(input: &str, max: usize) -> Result<String, TextError> {
    let s = input.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    if s.is_empty() {
        return Err(TextError::Empty);
    }
    check_characters(s, Lines::One)?;
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
bounded_text!(
    /// The unit an account holder works in (工作单位): "城口县乡村振兴局", "巴山镇人民政府".
    UnitName,
    100
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
        crate::mask::mask_phone(&self.0)
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
    fn invisible_controls_and_direction_overrides_are_refused_with_their_place() {
        for (value, position, character) in [
            ("重庆市\u{0}巫山县", 4, '\u{0}'),
            ("\u{202E}县山巫", 1, '\u{202E}'),
            ("ab\u{2066}c", 3, '\u{2066}'),
            ("a\u{7F}", 2, '\u{7F}'),
            ("a\u{85}", 2, '\u{85}'),
            ("a\u{1B}[31m", 2, '\u{1B}'),
        ] {
            let expected = Err(TextError::ForbiddenCharacter {
                position,
                character,
            });
            assert_eq!(check_characters(value, Lines::One), expected, "{value:?}");
            assert_eq!(check_characters(value, Lines::Many), expected, "{value:?}");
        }
        assert!(check_characters("第一行\r\n第二行\t", Lines::Many).is_ok());
        assert!(check_characters("第一行\n第二行", Lines::One).is_err());
        assert!(check_characters("重庆市巫山县双龙镇·阿依古丽 No.5 (东)", Lines::One).is_ok());
        let message = TextError::ForbiddenCharacter {
            position: 4,
            character: '\u{202E}',
        }
        .text();
        assert!(message.zh.contains("第4个字符") && message.zh.contains("U+202E"));
        assert!(message.en.contains("character 4") && message.en.contains("U+202E"));
    }

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
            Err(TextError::ForbiddenCharacter {
                position: 2,
                character: '\u{7}'
            })
        );
        assert!(matches!(
            PersonName::parse("王\u{202E}华"),
            Err(TextError::ForbiddenCharacter {
                position: 2,
                character: '\u{202E}'
            })
        ));
        assert!(matches!(
            HouseholdNo::parse(&"1".repeat(41)),
            Err(TextError::TooLong { max: 40, found: 41 })
        ));
    }
}
