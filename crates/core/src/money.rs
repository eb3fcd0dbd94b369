//! Money as an integer number of fen (1 yuan = 100 fen). Never a float: sums of incomes must
//! add up exactly, in every report and at every level of the division tree.

use crate::lang::Text;
use crate::text;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber(String),
    TooManyDecimals(String),
    Negative(String),
    TooLarge(String),
}

impl MoneyError {
    pub fn text(&self) -> Text {
        match self {
            MoneyError::NotANumber(s) => text!(
                "“{s}”不是金额；请填写以元为单位的数字，如 1234.50",
                "'{s}' is not an amount; write a number of yuan such as 1234.50"
            ),
            MoneyError::TooManyDecimals(s) => text!(
                "金额“{s}”的小数超过两位（分）",
                "the amount '{s}' has more than two decimals (fen)"
            ),
            MoneyError::Negative(s) => text!(
                "金额“{s}”为负数；此项不能小于0",
                "the amount '{s}' is negative; this item cannot be below 0"
            ),
            MoneyError::TooLarge(s) => text!(
                "金额“{s}”过大，请核对",
                "the amount '{s}' is implausibly large; check it"
            ),
        }
    }
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for MoneyError {}

/// No household income item in this registry comes near a billion yuan; larger values are typos.
const MAX_YUAN: i64 = 1_000_000_000;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }

    /// Parses yuan with at most two decimals: `1234`, `1234.5`, `-12.30`, `1,234.50`, `¥1234`,
    /// full-width digits. Thousands separators must group by three.
    pub fn parse(input: &str) -> Result<Fen, MoneyError> {
        let shown = input.trim().to_owned();
        let mut s: String = shown
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                '．' => '.',
                '－' => '-',
                _ => c,
            })
            .collect();
        s = s
            .trim_start_matches(['¥', '￥'])
            .trim_end_matches('元')
            .trim()
            .to_owned();
        let not_a_number = || MoneyError::NotANumber(shown.clone());
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.as_str()),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let int_digits: String = if int_part.contains(',') {
            let groups: Vec<&str> = int_part.split(',').collect();
            let well_grouped = !groups[0].is_empty()
                && groups[0].len() <= 3
                && groups[1..].iter().all(|g| g.len() == 3);
            if !well_grouped {
                return Err(not_a_number());
            }
            groups.concat()
        } else {
            int_part.to_owned()
        };
        if int_digits.is_empty() || !int_digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_number());
        }
        let frac = frac_part.unwrap_or("");
        if !frac.bytes().all(|b| b.is_ascii_digit()) || frac_part == Some("") {
            return Err(not_a_number());
        }
        // Trailing zeros beyond fen are harmless (spreadsheets write 12.300).
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals(shown));
        }
        let yuan: i64 = int_digits
            .parse()
            .ok()
            .filter(|y| *y <= MAX_YUAN)
            .ok_or_else(|| MoneyError::TooLarge(shown.clone()))?;
        let fen: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
        let value = yuan * 100 + fen;
        Ok(Fen(if negative { -value } else { value }))
    }

    /// As [`Fen::parse`], refusing negative amounts (every income item and expense of the
    /// registry is >= 0; only the derived net income may be negative).
    pub fn parse_non_negative(input: &str) -> Result<Fen, MoneyError> {
        let value = Fen::parse(input)?;
        if value.0 < 0 {
            return Err(MoneyError::Negative(input.trim().to_owned()));
        }
        Ok(value)
    }

    /// Divides by a head count, rounding half away from zero to the fen.
    pub fn per_capita(self, people: u32) -> Option<Fen> {
        if people == 0 {
            return None;
        }
        let n = i64::from(people);
        let q = self.0 / n;
        let r = self.0 % n;
        let round = if 2 * r.abs() >= n { self.0.signum() } else { 0 };
        Some(Fen(q + round))
    }

    /// Yuan as a float, for charts and ratios only; never for sums.
    pub fn as_yuan_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// Yuan with two decimals: `1234.50`, `-0.05`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0 + rhs.0)
    }
}

impl Sub for Fen {
    type Output = Fen;
    fn sub(self, rhs: Fen) -> Fen {
        Fen(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_into_fen() {
        assert_eq!(Fen::parse("1234"), Ok(Fen(123_400)));
        assert_eq!(Fen::parse("1234.5"), Ok(Fen(123_450)));
        assert_eq!(Fen::parse(" 1,234.56 "), Ok(Fen(123_456)));
        assert_eq!(Fen::parse("-12.30"), Ok(Fen(-1_230)));
        assert_eq!(Fen::parse("¥６０００"), Ok(Fen(600_000)));
        assert_eq!(Fen::parse("12.300"), Ok(Fen(1_230)));
        assert_eq!(Fen::parse("0"), Ok(Fen(0)));
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        assert!(matches!(
            Fen::parse("12.345"),
            Err(MoneyError::TooManyDecimals(_))
        ));
        for bad in ["", "abc", "1.2.3", "12,34", "1e5", ".5", "5.", "--1"] {
            assert!(
                matches!(Fen::parse(bad), Err(MoneyError::NotANumber(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Fen::parse_non_negative("-1"),
            Err(MoneyError::Negative(_))
        ));
        assert!(matches!(
            Fen::parse("99999999999"),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn displays_yuan() {
        assert_eq!(Fen(123_450).to_string(), "1234.50");
        assert_eq!(Fen(-5).to_string(), "-0.05");
    }

    #[test]
    fn per_capita_rounds_half_away_from_zero() {
        assert_eq!(Fen(1000).per_capita(3), Some(Fen(333)));
        assert_eq!(Fen(1001).per_capita(2), Some(Fen(501)));
        assert_eq!(Fen(-1001).per_capita(2), Some(Fen(-501)));
        assert_eq!(Fen(1000).per_capita(0), None);
    }

    proptest::proptest! {
        #[test]
        fn display_parses_back(v in -10_000_000_000i64..10_000_000_000) {
            proptest::prop_assert_eq!(Fen::parse(&Fen(v).to_string()), Ok(Fen(v)));
        }
    }
}
