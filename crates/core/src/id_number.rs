//! Resident ID numbers (GB 11643-1999) and the 20-digit disability certificate number.
//!
//! An [`IdNumber`] is always the 18-character form with an upper-case `X`: the legacy 15-digit
//! form is converted on parsing, full-width digits and surrounding spaces are normalised. It is
//! personal data: its `Debug` and `Display` print it masked; the full value is only reachable
//! through [`IdNumber::as_str`], which callers use for storage and for roles allowed to see it.

use crate::china_time::today_in_china;
use crate::enums::Sex;
use crate::lang::Text;
use crate::text;
use std::fmt;
use time::{Date, Month};

/// ISO 7064 MOD 11-2 weights, 2^(17-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Province-level prefixes of GB/T 2260, plus 81/82/83 (Hong Kong, Macao and Taiwan residence
/// permits). Prefixes that are no longer current inside a province stay valid: only the province
/// digits are checked, so a legacy county code (e.g. 500234, the former Kai County) is accepted.
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber([u8; 18]);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdNumberError {
    Empty,
    /// Looks like `5.00229E+17` or lost its last digits: a spreadsheet stored it as a number.
    StoredAsNumber,
    WrongLength(usize),
    NotADigit {
        position: usize,
        found: char,
    },
    UnknownProvince(String),
    ImpossibleBirthDate(String),
    BirthDateInFuture(String),
    WrongCheckCharacter {
        expected: char,
        found: char,
    },
    DisabilityCategory(char),
    DisabilityLevel(char),
}

impl IdNumberError {
    pub fn text(&self) -> Text {
        match self {
            IdNumberError::Empty => text!("证件号码为空", "the ID number is empty"),
            IdNumberError::StoredAsNumber => text!(
                "证件号码被电子表格存成了数字，末几位已被舍入丢失；请把该列设为“文本”格式后重新填写证件号码",
                "the ID number was stored by the spreadsheet as a number and its last digits were rounded away; format the column as Text and enter the ID numbers again"
            ),
            IdNumberError::WrongLength(n) => text!(
                "证件号码应为18位（或15位旧号、20位残疾人证号），这里是{n}位",
                "an ID number has 18 characters (or 15 for the old form, 20 for a disability certificate); this one has {n}"
            ),
            IdNumberError::NotADigit { position, found } => text!(
                "证件号码第{position}位“{found}”不是数字",
                "character {position} of the ID number, '{found}', is not a digit"
            ),
            IdNumberError::UnknownProvince(p) => text!(
                "证件号码前两位“{p}”不是省级行政区代码",
                "the first two digits '{p}' are not a province code"
            ),
            IdNumberError::ImpossibleBirthDate(d) => text!(
                "证件号码中的出生日期“{d}”不存在",
                "the birth date '{d}' in the ID number does not exist"
            ),
            IdNumberError::BirthDateInFuture(d) => text!(
                "证件号码中的出生日期“{d}”在今天之后",
                "the birth date '{d}' in the ID number is in the future"
            ),
            IdNumberError::WrongCheckCharacter { expected, found } => text!(
                "证件号码校验位错误：按前17位应为“{expected}”，实为“{found}”；请核对号码",
                "wrong check character: the first 17 digits give '{expected}', the number ends in '{found}'; check the number"
            ),
            IdNumberError::DisabilityCategory(c) => text!(
                "残疾人证号第19位残疾类别“{c}”应为1至7",
                "digit 19 of the disability certificate number, the category '{c}', must be 1 to 7"
            ),
            IdNumberError::DisabilityLevel(c) => text!(
                "残疾人证号第20位残疾等级“{c}”应为1至4",
                "digit 20 of the disability certificate number, the level '{c}', must be 1 to 4"
            ),
        }
    }
}

impl fmt::Display for IdNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for IdNumberError {}

/// Trims, maps full-width digits and letters to ASCII and upper-cases `x`.
fn normalise(input: &str) -> String {
    input
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}')
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            'x' | 'Ｘ' | 'ｘ' => 'X',
            _ => c,
        })
        .collect()
}

fn looks_like_a_spreadsheet_number(s: &str) -> bool {
    s.contains(['E', 'e']) && s.contains('+') || (s.contains('.') && s.len() > 12)
}

/// The check character for the first 17 digits (which the caller has verified are digits).
pub fn check_character(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn birth_date(digits: &[u8]) -> Result<Date, IdNumberError> {
    let num = |r: std::ops::Range<usize>| {
        digits[r]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
    };
    // The message is built only when the date is impossible: this runs for every age check.
    let impossible = || {
        let text = String::from_utf8_lossy(digits);
        IdNumberError::ImpossibleBirthDate(format!(
            "{}-{}-{}",
            &text[0..4],
            &text[4..6],
            &text[6..8]
        ))
    };
    let year = num(0..4) as i32;
    let month = Month::try_from(num(4..6) as u8).map_err(|_| impossible())?;
    if year < 1850 {
        return Err(impossible());
    }
    Date::from_calendar_date(year, month, num(6..8) as u8).map_err(|_| impossible())
}

impl IdNumber {
    /// Parses an 18- or 15-character resident ID number, as of `today` (birth dates after it are
    /// refused).
    pub fn parse_at(input: &str, today: Date) -> Result<IdNumber, IdNumberError> {
        let s = normalise(input);
        if s.is_empty() {
            return Err(IdNumberError::Empty);
        }
        if looks_like_a_spreadsheet_number(&s) {
            return Err(IdNumberError::StoredAsNumber);
        }
        let chars: Vec<char> = s.chars().collect();
        let len = chars.len();
        if len != 18 && len != 15 {
            return Err(IdNumberError::WrongLength(len));
        }
        // Every character is a digit, except an X as the check character of the 18-digit form.
        if let Some(position) = chars
            .iter()
            .enumerate()
            .position(|(i, c)| !(c.is_ascii_digit() || (i == 17 && *c == 'X')))
        {
            return Err(IdNumberError::NotADigit {
                position: position + 1,
                found: chars[position],
            });
        }
        let b = s.as_bytes();
        let mut first17 = [0u8; 17];
        if len == 18 {
            first17.copy_from_slice(&b[..17]);
            Self::from_parts(first17, Some(b[17]), today)
        } else {
            first17[..6].copy_from_slice(&b[..6]);
            first17[6..8].copy_from_slice(b"19");
            first17[8..].copy_from_slice(&b[6..15]);
            Self::from_parts(first17, None, today)
        }
    }

    /// Parses as of the current date (UTC+8, the date in China).
    pub fn parse(input: &str) -> Result<IdNumber, IdNumberError> {
        Self::parse_at(input, today_in_china())
    }

    fn from_parts(
        first17: [u8; 17],
        found_check: Option<u8>,
        today: Date,
    ) -> Result<IdNumber, IdNumberError> {
        let province = (first17[0] - b'0') * 10 + (first17[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::UnknownProvince(format!("{province:02}")));
        }
        let born = birth_date(&first17[6..14])?;
        if born > today {
            return Err(IdNumberError::BirthDateInFuture(born.to_string()));
        }
        let expected = check_character(&first17);
        if let Some(found) = found_check.filter(|f| *f != expected) {
            return Err(IdNumberError::WrongCheckCharacter {
                expected: expected as char,
                found: found as char,
            });
        }
        let mut all = [0u8; 18];
        all[..17].copy_from_slice(&first17);
        all[17] = expected;
        Ok(IdNumber(all))
    }

    /// Builds the ID number for a person (used by the synthetic registry): the check character is
    /// computed. Returns `None` if the parts do not form a valid number.
    pub fn compose(address: &str, born: Date, sequence: u16) -> Option<IdNumber> {
        let address: [u8; 6] = address.as_bytes().try_into().ok()?;
        if !address.iter().all(u8::is_ascii_digit)
            || sequence > 999
            || !(0..=9999).contains(&born.year())
        {
            return None;
        }
        let mut first17 = [b'0'; 17];
        first17[..6].copy_from_slice(&address);
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (0..width).rev() {
                first17[at + i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(6, 4, born.year() as u32);
        put(10, 2, born.month() as u32);
        put(12, 2, u32::from(born.day()));
        put(14, 3, u32::from(sequence));
        Self::from_parts(first17, None, Date::MAX).ok()
    }

    /// The first 17 digits as a number: a compact key for sets of millions of ID numbers (the
    /// check character follows from them).
    pub fn key(&self) -> u64 {
        self.0[..17]
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and 'X' are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The address code (county of household registration when the number was issued).
    pub fn address_code(&self) -> &str {
        &self.as_str()[..6]
    }

    pub fn birth_date(&self) -> Date {
        birth_date(&self.0[6..14]).unwrap_or(Date::MIN)
    }

    /// Sex from the 17th digit: odd is male, even is female.
    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: Date) -> i32 {
        let born = self.birth_date();
        let mut age = on.year() - born.year();
        if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
            age -= 1;
        }
        age
    }

    /// `500229********001X`: the address code and the last four characters.
    pub fn masked(&self) -> String {
        crate::mask::mask_id_number(self.as_str())
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Masked: an ID number never reaches a log or a page in full by accident.
impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Disability category and level from a 20-digit disability certificate number (DOMAIN.md 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Disability {
    /// 1 visual, 2 hearing, 3 speech, 4 physical, 5 intellectual, 6 mental, 7 multiple.
    pub category: u8,
    /// 1 (most severe) to 4.
    pub level: u8,
}

impl Disability {
    pub fn parse(category: char, level: char) -> Result<Disability, IdNumberError> {
        let category_digit = category.to_digit(10).filter(|d| (1..=7).contains(d));
        let level_digit = level.to_digit(10).filter(|d| (1..=4).contains(d));
        match (category_digit, level_digit) {
            (None, _) => Err(IdNumberError::DisabilityCategory(category)),
            (_, None) => Err(IdNumberError::DisabilityLevel(level)),
            (Some(c), Some(l)) => Ok(Disability {
                category: c as u8,
                level: l as u8,
            }),
        }
    }

    pub fn category_text(&self) -> Text {
        let (zh, en) = match self.category {
            1 => ("视力残疾", "visual"),
            2 => ("听力残疾", "hearing"),
            3 => ("言语残疾", "speech"),
            4 => ("肢体残疾", "physical"),
            5 => ("智力残疾", "intellectual"),
            6 => ("精神残疾", "mental"),
            _ => ("多重残疾", "multiple"),
        };
        Text::new(zh, en)
    }
}

/// What the registry's ID number column holds: a resident ID number, or a disability certificate
/// number (the resident ID number followed by the disability category and level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentNumber {
    Resident(IdNumber),
    DisabilityCertificate(IdNumber, Disability),
}

impl DocumentNumber {
    pub fn parse_at(input: &str, today: Date) -> Result<DocumentNumber, IdNumberError> {
        let s = normalise(input);
        let chars: Vec<char> = s.chars().collect();
        if chars.len() == 20 {
            let id = IdNumber::parse_at(&chars[..18].iter().collect::<String>(), today)?;
            let disability = Disability::parse(chars[18], chars[19])?;
            return Ok(DocumentNumber::DisabilityCertificate(id, disability));
        }
        IdNumber::parse_at(&s, today).map(DocumentNumber::Resident)
    }

    pub fn id(&self) -> &IdNumber {
        match self {
            DocumentNumber::Resident(id) | DocumentNumber::DisabilityCertificate(id, _) => id,
        }
    }

    pub fn disability(&self) -> Option<Disability> {
        match self {
            DocumentNumber::Resident(_) => None,
            DocumentNumber::DisabilityCertificate(_, d) => Some(*d),
        }
    }

    /// The number as it is written in the registry column (18 or 20 characters).
    pub fn to_column(&self) -> String {
        match self {
            DocumentNumber::Resident(id) => id.as_str().to_owned(),
            DocumentNumber::DisabilityCertificate(id, d) => {
                format!("{}{}{}", id.as_str(), d.category, d.level)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 29);

    #[test]
    fn the_standard_examples_are_valid() {
        for s in [
            "11010519491231002X",
            "440524188001010014",
            "513101198201130014",
        ] {
            let id = IdNumber::parse_at(s, TODAY).expect(s);
            assert_eq!(id.as_str(), s);
        }
    }

    #[test]
    fn sex_and_birth_date_come_from_the_digits() {
        let id = IdNumber::parse_at("500238198506150028", TODAY).unwrap();
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.birth_date(), date!(1985 - 06 - 15));
        assert_eq!(id.age_on(date!(2025 - 06 - 14)), 39);
        assert_eq!(id.age_on(date!(2025 - 06 - 15)), 40);
        assert_eq!(id.masked(), "500238********0028");
        assert_eq!(format!("{id}"), "500238********0028");
    }

    #[test]
    fn full_width_digits_lower_case_x_and_spaces_are_normalised() {
        let id = IdNumber::parse_at(" ５００２２９１９９００１０１００１ｘ　", TODAY).unwrap();
        assert_eq!(id.as_str(), "50022919900101001X");
    }

    #[test]
    fn the_legacy_form_is_converted() {
        let id = IdNumber::parse_at("500229900101001", TODAY).unwrap();
        assert_eq!(id.as_str(), "50022919900101001X");
    }

    #[test]
    fn legacy_county_codes_are_accepted() {
        let id = IdNumber::compose("500234", date!(1970 - 01 - 01), 11).unwrap();
        assert!(IdNumber::parse_at(id.as_str(), TODAY).is_ok());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            IdNumber::parse_at("500229199001010010", TODAY),
            Err(IdNumberError::WrongCheckCharacter {
                expected: 'X',
                found: '0'
            })
        );
        assert!(matches!(
            IdNumber::parse_at("500229199002300019", TODAY),
            Err(IdNumberError::ImpossibleBirthDate(_))
        ));
        assert_eq!(
            IdNumber::parse_at("5.00229E+17", TODAY),
            Err(IdNumberError::StoredAsNumber)
        );
        assert_eq!(
            IdNumber::parse_at("50022919900", TODAY),
            Err(IdNumberError::WrongLength(11))
        );
        let future = IdNumber::compose("500229", date!(2027 - 01 - 01), 11).unwrap();
        assert!(matches!(
            IdNumber::parse_at(future.as_str(), TODAY),
            Err(IdNumberError::BirthDateInFuture(_))
        ));
        assert!(matches!(
            IdNumber::parse_at("50022919900101001Y", TODAY),
            Err(IdNumberError::NotADigit { position: 18, .. })
        ));
        assert!(matches!(
            IdNumber::parse_at("50022919900101001中", TODAY),
            Err(IdNumberError::NotADigit { position: 18, .. })
        ));
    }

    #[test]
    fn disability_certificate_numbers_carry_category_and_level() {
        let doc = DocumentNumber::parse_at("50022919900101001X42", TODAY).unwrap();
        assert_eq!(doc.id().as_str(), "50022919900101001X");
        assert_eq!(
            doc.disability(),
            Some(Disability {
                category: 4,
                level: 2
            })
        );
        assert_eq!(doc.to_column(), "50022919900101001X42");
        assert_eq!(
            DocumentNumber::parse_at("50022919900101001X82", TODAY),
            Err(IdNumberError::DisabilityCategory('8'))
        );
        assert_eq!(
            DocumentNumber::parse_at("50022919900101001X45", TODAY),
            Err(IdNumberError::DisabilityLevel('5'))
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,30}") {
            let _ = DocumentNumber::parse_at(&s, TODAY);
        }

        #[test]
        fn a_composed_number_parses_back(days in 0i64..40000, seq in 0u16..1000) {
            let born = date!(1920 - 01 - 01) + time::Duration::days(days);
            if let Some(id) = IdNumber::compose("500229", born, seq) {
                let parsed = IdNumber::parse_at(id.as_str(), date!(2100 - 01 - 01)).unwrap();
                proptest::prop_assert_eq!(parsed.birth_date(), born);
                proptest::prop_assert_eq!(parsed.sex() == Sex::Male, seq % 2 == 1);
            }
        }
    }
}
