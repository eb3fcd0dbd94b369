//! Calendar months, as the rules of DOMAIN.md 1.8 and 1.9 count them ("one month after
//! identification", "monitored at least six months", "stable for half a year"): the same day of
//! a later month, or that month's last day when it is shorter. 31 January + 1 month is
//! 28 (or 29) February; 29 February + 12 months is 28 February.

use time::Date;

/// The same day `n` calendar months later (earlier when `n` is negative), clamped to the last
/// day of a shorter month. Dates beyond the `time` crate's range stay where they are.
pub fn add_months(d: Date, n: i32) -> Date {
    let index = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + n;
    let year = index.div_euclid(12);
    let Ok(month) = time::Month::try_from((index.rem_euclid(12) + 1) as u8) else {
        return d;
    };
    let day = d.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(d)
}

/// Whole calendar months from `from` to `to`: the largest `n` with `add_months(from, n) <= to`,
/// and 0 when `to` is before `from`.
pub fn months_between(from: Date, to: Date) -> i32 {
    if to <= from {
        return 0;
    }
    let mut n = (to.year() - from.year()) * 12 + i32::from(u8::from(to.month()))
        - i32::from(u8::from(from.month()));
    while n > 0 && add_months(from, n) > to {
        n -= 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn months_clamp_to_the_end_of_shorter_months() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2028 - 02 - 29), 12), date!(2029 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 12 - 01), -6), date!(2026 - 06 - 01));
        assert_eq!(add_months(date!(2026 - 03 - 31), -1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 15), 2), date!(2027 - 01 - 15));
    }

    #[test]
    fn whole_months_between() {
        assert_eq!(
            months_between(date!(2026 - 04 - 12), date!(2026 - 11 - 12)),
            7
        );
        assert_eq!(
            months_between(date!(2026 - 04 - 12), date!(2026 - 11 - 11)),
            6
        );
        assert_eq!(
            months_between(date!(2026 - 01 - 31), date!(2026 - 02 - 28)),
            1
        );
        assert_eq!(
            months_between(date!(2026 - 05 - 01), date!(2026 - 04 - 01)),
            0
        );
    }

    proptest! {
        #[test]
        fn months_between_inverts_add_months(
            days in 0i64..40_000, n in 0i32..240,
        ) {
            let from = date!(1950 - 01 - 01) + time::Duration::days(days);
            let to = add_months(from, n);
            prop_assert!(to >= from);
            prop_assert_eq!(months_between(from, to), n);
            prop_assert!(months_between(from, to - time::Duration::days(1)) < n.max(1));
        }
    }
}
