//! The 12-digit statistical division code (统计用区划代码, DOMAIN.md 3.3).
//!
//! Digits 1-6 name the county (GB/T 2260), 7-9 the township (GB/T 10114), 10-12 the village or
//! community. The level and the parent follow from the digits, so no tree table is needed to
//! answer "is this village under that county?": it is a prefix test, which works the same in
//! SQLite and PostgreSQL (`code LIKE '500229%'`).

use crate::lang::Text;
use crate::text;
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode([u8; 12]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DivisionLevel {
    /// A province-level unit such as Chongqing (500000000000).
    Province,
    County,
    Township,
    /// A village committee (村) or a resident committee (社区): digits 10-12 are not zero.
    Village,
}

impl DivisionLevel {
    pub fn code_name(self) -> &'static str {
        match self {
            DivisionLevel::Province => "province",
            DivisionLevel::County => "county",
            DivisionLevel::Township => "township",
            DivisionLevel::Village => "village",
        }
    }

    pub fn label(self) -> Text {
        match self {
            DivisionLevel::Province => Text::new("省（直辖市）", "province"),
            DivisionLevel::County => Text::new("区县", "county"),
            DivisionLevel::Township => Text::new("乡镇（街道）", "township"),
            DivisionLevel::Village => Text::new("村（社区）", "village"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DivisionCodeError {
    Empty,
    WrongLength(usize),
    NotDigits(String),
    /// e.g. 500229000123: a village digit group under a zero township.
    Malformed(String),
}

impl DivisionCodeError {
    pub fn text(&self) -> Text {
        match self {
            DivisionCodeError::Empty => text!("区划代码为空", "the division code is empty"),
            DivisionCodeError::WrongLength(n) => text!(
                "区划代码应为12位数字（县级6位亦可），这里是{n}位",
                "a division code has 12 digits (or 6 for a county); this one has {n}"
            ),
            DivisionCodeError::NotDigits(s) => text!(
                "区划代码“{s}”含有非数字字符",
                "the division code '{s}' contains characters that are not digits"
            ),
            DivisionCodeError::Malformed(s) => text!(
                "区划代码“{s}”不成立：乡镇位为0时村级位必须为0",
                "the division code '{s}' is not well formed: with township digits 000 the village digits must be 000"
            ),
        }
    }
}

impl fmt::Display for DivisionCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for DivisionCodeError {}

impl DivisionCode {
    /// Accepts 12 digits, or 6 (a county) / 9 (a township) which are padded with zeros. A value a
    /// spreadsheet turned into a number (`500229102201.0`) is accepted when it is exact.
    pub fn parse(input: &str) -> Result<DivisionCode, DivisionCodeError> {
        let mut s = input.trim();
        if let Some(stripped) = s.strip_suffix(".0") {
            s = stripped;
        }
        if s.is_empty() {
            return Err(DivisionCodeError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionCodeError::NotDigits(s.to_owned()));
        }
        let mut code = [b'0'; 12];
        match s.len() {
            6 | 9 | 12 => code[..s.len()].copy_from_slice(s.as_bytes()),
            n => return Err(DivisionCodeError::WrongLength(n)),
        }
        let code = DivisionCode(code);
        let zero = |r: std::ops::Range<usize>| code.0[r].iter().all(|&b| b == b'0');
        if zero(0..2) || (zero(6..9) && !zero(9..12)) || (zero(2..6) && !zero(6..12)) {
            return Err(DivisionCodeError::Malformed(s.to_owned()));
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn zero(&self, r: std::ops::Range<usize>) -> bool {
        self.0[r].iter().all(|&b| b == b'0')
    }

    pub fn level(&self) -> DivisionLevel {
        if !self.zero(9..12) {
            DivisionLevel::Village
        } else if !self.zero(6..9) {
            DivisionLevel::Township
        } else if !self.zero(2..6) {
            DivisionLevel::County
        } else {
            DivisionLevel::Province
        }
    }

    /// The division one level up; `None` for a province.
    pub fn parent(&self) -> Option<DivisionCode> {
        let mut up = self.0;
        let cleared = match self.level() {
            DivisionLevel::Province => return None,
            DivisionLevel::County => 2..12,
            DivisionLevel::Township => 6..12,
            DivisionLevel::Village => 9..12,
        };
        up[cleared].fill(b'0');
        Some(DivisionCode(up))
    }

    /// The digits that matter at this level: every division under this one starts with them.
    pub fn prefix(&self) -> &str {
        let len = match self.level() {
            DivisionLevel::Province => 2,
            DivisionLevel::County => 6,
            DivisionLevel::Township => 9,
            DivisionLevel::Village => 12,
        };
        &self.as_str()[..len]
    }

    /// True when `self` is `ancestor` or lies under it.
    pub fn is_within(&self, ancestor: &DivisionCode) -> bool {
        self.as_str().starts_with(ancestor.prefix())
    }

    /// The county this division belongs to (itself for a county). `None` for a province.
    pub fn county(&self) -> Option<DivisionCode> {
        if self.level() == DivisionLevel::Province {
            return None;
        }
        let mut c = self.0;
        c[6..].fill(b'0');
        Some(DivisionCode(c))
    }

    /// The 6-digit county code (GB/T 2260), as in ID numbers.
    pub fn county_digits(&self) -> &str {
        &self.as_str()[..6]
    }

    /// For a village-level code: a village committee (村, digits 10-12 in 200-399) rather than
    /// an urban resident committee (社区, 001-199).
    pub fn is_village_committee(&self) -> bool {
        self.level() == DivisionLevel::Village && self.0[9] >= b'2'
    }
}

impl fmt::Debug for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DivisionCode({})", self.as_str())
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DivisionCode {
    type Err = DivisionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DivisionCode::parse(s)
    }
}

/// The name people use for a village or community: the division table's official name
/// without its committee (`立新村村民委员会` and `立新村民委员会` read `立新村`,
/// `滨江社区居民委员会` reads `滨江社区`); other names as they are.
pub fn short_name(name_zh: &str) -> String {
    const COMMITTEES: &[(&str, &str)] = &[
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("社区居民委员会", "社区"),
        ("居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居委会", "社区"),
    ];
    for (committee, kept) in COMMITTEES {
        if let Some(stem) = name_zh.strip_suffix(committee) {
            return if stem.ends_with(kept) {
                stem.to_owned()
            } else {
                format!("{stem}{kept}")
            };
        }
    }
    name_zh.to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_villages_short_name_drops_its_committee() {
        assert_eq!(short_name("立新村村民委员会"), "立新村");
        assert_eq!(short_name("立新村民委员会"), "立新村");
        assert_eq!(short_name("滨江社区居民委员会"), "滨江社区");
        assert_eq!(short_name("太白村委会"), "太白村");
        assert_eq!(short_name("巴山镇"), "巴山镇");
    }

    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn level_and_parent_follow_from_the_digits() {
        let village = code("500229102201");
        assert_eq!(village.level(), DivisionLevel::Village);
        assert!(village.is_village_committee());
        let township = village.parent().unwrap();
        assert_eq!(township.as_str(), "500229102000");
        assert_eq!(township.level(), DivisionLevel::Township);
        let county = township.parent().unwrap();
        assert_eq!(county, code("500229"));
        assert_eq!(county.level(), DivisionLevel::County);
        let province = county.parent().unwrap();
        assert_eq!(province.as_str(), "500000000000");
        assert_eq!(province.parent(), None);
        assert_eq!(village.county(), Some(county));
    }

    #[test]
    fn scope_is_a_prefix() {
        let village = code("500229102201");
        assert!(village.is_within(&code("500229")));
        assert!(village.is_within(&code("500229102")));
        assert!(village.is_within(&code("500000000000")));
        assert!(!village.is_within(&code("500238")));
        assert!(!village.is_within(&code("500229103")));
        assert!(!code("500229").is_within(&village));
    }

    #[test]
    fn bad_codes_are_refused_with_a_reason() {
        assert_eq!(DivisionCode::parse(""), Err(DivisionCodeError::Empty));
        assert_eq!(
            DivisionCode::parse("50022910220"),
            Err(DivisionCodeError::WrongLength(11))
        );
        assert!(matches!(
            DivisionCode::parse("5002291022O1"),
            Err(DivisionCodeError::NotDigits(_))
        ));
        assert!(matches!(
            DivisionCode::parse("500229000201"),
            Err(DivisionCodeError::Malformed(_))
        ));
        assert_eq!(code("500229102201.0"), code("500229102201"));
    }
}
