//! Time as the bureau counts it. Instants are stored in UTC (`2026-12-01T16:05:09.123Z`, sortable
//! as text); days, deadlines and "today" are days in China (UTC+8). Every conversion between the
//! two goes through here: taking the first ten characters of a stored instant gives the UTC day,
//! which is yesterday in China for anything done before 08:00.

use time::macros::{format_description, offset};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// China Standard Time, which has no daylight saving.
pub const CHINA: UtcOffset = offset!(+8);

/// The stored form of an instant: UTC with milliseconds.
pub const STORED: &[time::format_description::FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

const DAY: &[time::format_description::FormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// Today's date in China.
pub fn today_in_china() -> Date {
    OffsetDateTime::now_utc().to_offset(CHINA).date()
}

/// An instant in its stored form.
pub fn stored(instant: OffsetDateTime) -> String {
    instant
        .to_offset(UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_default()
}

/// The current instant in its stored form.
pub fn now_stored() -> String {
    stored(OffsetDateTime::now_utc())
}

/// The China day of a stored value: a plain date (`2026-12-01`) is that day; a UTC instant, or
/// its first thirteen characters (`2026-12-01T16`, to the hour, enough since China's offset is
/// whole hours), is the day it was in China. `None` when it is neither.
pub fn china_day(stored: &str) -> Option<Date> {
    let date = Date::parse(stored.get(..10)?, DAY).ok()?;
    if stored.len() == 10 {
        return Some(date);
    }
    if stored.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let hour: u8 = stored.get(11..13)?.parse().ok()?;
    let utc = PrimitiveDateTime::new(date, Time::from_hms(hour, 0, 0).ok()?).assume_utc();
    Some(utc.to_offset(CHINA).date())
}

/// The China day of a stored value as `YYYY-MM-DD`, for pages; the text as stored when it does
/// not parse (a page shows what there is rather than nothing).
pub fn china_day_text(stored: &str) -> String {
    china_day(stored).map_or_else(|| stored.to_owned(), |d| d.to_string())
}

/// A stored instant as Beijing time to the second (`2026-12-02 00:05:09`); the text as stored
/// when it does not parse.
pub fn china_time_text(stored: &str) -> String {
    let shown = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(stored, STORED)
        .ok()
        .and_then(|t| t.assume_utc().to_offset(CHINA).format(shown).ok())
        .unwrap_or_else(|| stored.to_owned())
}

/// The stored form of the first instant of a China day: a day's records are those stored at or
/// after its start and before the next day's.
pub fn start_of_china_day(day: Date) -> String {
    stored(PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(CHINA))
}

/// The first instant of the China day after `day`.
pub fn start_of_next_china_day(day: Date) -> String {
    start_of_china_day(day.saturating_add(Duration::DAY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn before_eight_in_the_morning_it_is_already_the_next_day_in_china() {
        assert_eq!(
            china_day("2026-12-01T15:59:59.999Z"),
            Some(date!(2026 - 12 - 01))
        );
        assert_eq!(
            china_day("2026-12-01T16:00:00.000Z"),
            Some(date!(2026 - 12 - 02))
        );
        assert_eq!(china_day("2026-12-31T23:00"), Some(date!(2027 - 01 - 01)));
        assert_eq!(china_day("2026-12-01T16"), Some(date!(2026 - 12 - 02)));
        assert_eq!(china_day("2026-12-01"), Some(date!(2026 - 12 - 01)));
    }

    #[test]
    fn what_is_not_a_day_is_none_and_shown_as_stored() {
        for bad in [
            "",
            "2026-12",
            "2026-13-01",
            "2026-12-01 16:00",
            "2026-12-01T",
            "2026-12-01T2x",
        ] {
            assert_eq!(china_day(bad), None, "{bad}");
        }
        assert_eq!(china_day_text("yesterday"), "yesterday");
        assert_eq!(china_time_text("yesterday"), "yesterday");
    }

    #[test]
    fn a_china_day_starts_at_four_in_the_afternoon_utc_the_day_before() {
        assert_eq!(
            start_of_china_day(date!(2026 - 12 - 02)),
            "2026-12-01T16:00:00.000Z"
        );
        assert_eq!(
            start_of_next_china_day(date!(2026 - 12 - 01)),
            "2026-12-01T16:00:00.000Z"
        );
        assert_eq!(
            china_time_text("2026-12-01T16:05:09.123Z"),
            "2026-12-02 00:05:09"
        );
        assert_eq!(
            stored(datetime!(2026-12-02 00:05:09.123 +8)),
            "2026-12-01T16:05:09.123Z"
        );
        assert_eq!(china_day(&now_stored()), Some(today_in_china()));
    }
}
