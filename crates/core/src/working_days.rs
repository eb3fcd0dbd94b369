//! Working days as offices in China count them: Monday to Friday, except the public holidays of
//! the State Council's annual notice (国务院办公厅关于某年部分节假日安排的通知), and including the
//! weekend days that notice makes working days (调休上班). Time limits counted in working days
//! (DOMAIN.md 1.7: 20 working days in some provinces) follow it.
//!
//! The notices of 2021 to 2026 ship with zhenxing (`data/public-holidays.csv`, checked by a test
//! per year); a later year's notice is added in the same format (`zhenxing holidays add`). For a
//! year without its notice, working days are Monday to Friday, and [`WorkCalendar::knows_year`]
//! lets a page say so.

use crate::lang::Text;
use crate::text;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use time::{Date, Duration, Weekday};

/// The columns of a holiday file, in order.
pub const HOLIDAY_FILE_COLUMNS: [&str; 7] = [
    "year",
    "notice",
    "name_zh",
    "name_en",
    "off_from",
    "off_to",
    "working_days",
];

/// The notices that ship with zhenxing.
const BUILT_IN: &str = include_str!("../data/public-holidays.csv");

/// The longest holiday a notice has given (the Spring Festival of 2026: 9 days), with room.
const MAX_HOLIDAY_DAYS: i64 = 12;
/// How far from its holiday a swapped working day may be (the National Day of 2026: 11 days).
const MAX_SWAP_DISTANCE_DAYS: i64 = 21;

/// One item of a notice: a holiday, its days off and the weekend days worked instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayPeriod {
    /// The year the notice is for (the 2023 New Year holiday begins on 31 December 2022).
    pub year: i32,
    /// The notice's number and the day it was issued.
    pub notice: String,
    pub name: Text,
    pub off_from: Date,
    pub off_to: Date,
    /// 调休上班日: Saturdays or Sundays that are working days.
    pub working_days: Vec<Date>,
}

impl HolidayPeriod {
    fn days_off(&self) -> impl Iterator<Item = Date> + '_ {
        let mut next = Some(self.off_from);
        std::iter::from_fn(move || {
            let d = next?;
            next = d.next_day().filter(|n| *n <= self.off_to);
            Some(d)
        })
    }
}

/// What is wrong in a holiday file: the line (1-based, counting comments), the column when one
/// is at fault, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayFileError {
    pub line: usize,
    pub column: Option<&'static str>,
    pub message: Text,
}

impl HolidayFileError {
    pub fn text(&self) -> Text {
        let line = self.line;
        let (zh, en) = (&self.message.zh, &self.message.en);
        match self.column {
            Some(column) => text!(
                "第{line}行，“{column}”列：{zh}",
                "line {line}, column '{column}': {en}"
            ),
            None => text!("第{line}行：{zh}", "line {line}: {en}"),
        }
    }
}

impl std::fmt::Display for HolidayFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.text().fmt(f)
    }
}

fn parse_date(value: &str) -> Result<Date, Text> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(value.trim(), &format).map_err(|_| {
        text!(
            "“{value}”不是日期；请写成 2026-10-01 的形式",
            "'{value}' is not a date; write it as 2026-10-01"
        )
    })
}

fn weekday_text(d: Date) -> Text {
    let (zh, en) = match d.weekday() {
        Weekday::Monday => ("星期一", "a Monday"),
        Weekday::Tuesday => ("星期二", "a Tuesday"),
        Weekday::Wednesday => ("星期三", "a Wednesday"),
        Weekday::Thursday => ("星期四", "a Thursday"),
        Weekday::Friday => ("星期五", "a Friday"),
        Weekday::Saturday => ("星期六", "a Saturday"),
        Weekday::Sunday => ("星期日", "a Sunday"),
    };
    Text::new(zh, en)
}

/// Reads one row; `Err` names the column at fault.
fn parse_row(cells: &[&str]) -> Result<HolidayPeriod, (&'static str, Text)> {
    let [
        year,
        notice,
        name_zh,
        name_en,
        off_from,
        off_to,
        working_days,
    ] = cells
    else {
        let columns = HOLIDAY_FILE_COLUMNS.join(",");
        let n = cells.len();
        return Err((
            "year",
            text!(
                "应有7列（{columns}），这里有{n}列；名称里不能有英文逗号",
                "expected 7 columns ({columns}), found {n}; names may not contain commas"
            ),
        ));
    };
    let year_value = year.trim();
    let year: i32 = year_value
        .parse()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| {
            (
                "year",
                text!(
                    "“{year_value}”不是2000至2100之间的年份",
                    "'{year_value}' is not a year between 2000 and 2100"
                ),
            )
        })?;
    let required = |column: &'static str, value: &str| {
        let value = value.trim();
        if value.is_empty() {
            Err((column, text!("不能为空", "must not be empty")))
        } else {
            Ok(value.to_owned())
        }
    };
    let notice = required("notice", notice)?;
    let name = Text::new(required("name_zh", name_zh)?, required("name_en", name_en)?);
    let off_from = parse_date(off_from).map_err(|e| ("off_from", e))?;
    let off_to = parse_date(off_to).map_err(|e| ("off_to", e))?;
    if off_to < off_from {
        return Err((
            "off_to",
            text!(
                "最后一天 {off_to} 早于第一天 {off_from}",
                "the last day {off_to} is before the first day {off_from}"
            ),
        ));
    }
    let length = (off_to - off_from).whole_days() + 1;
    if length > MAX_HOLIDAY_DAYS {
        return Err((
            "off_to",
            text!(
                "放假{length}天，超过{MAX_HOLIDAY_DAYS}天；请核对通知",
                "{length} days off, more than {MAX_HOLIDAY_DAYS}; check the notice"
            ),
        ));
    }
    if off_from.year() != year && off_to.year() != year {
        return Err((
            "off_from",
            text!(
                "{off_from} 至 {off_to} 不在{year}年",
                "{off_from} to {off_to} is not in {year}"
            ),
        ));
    }
    let mut swapped = Vec::new();
    for value in working_days
        .split(';')
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        let d = parse_date(value).map_err(|e| ("working_days", e))?;
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            let Text {
                zh: weekday_zh,
                en: weekday_en,
            } = weekday_text(d);
            return Err((
                "working_days",
                text!(
                    "调休上班日 {d} 是{weekday_zh}，本来就上班；调休上班日只能是星期六或星期日",
                    "the swapped working day {d} is {weekday_en}, a working day anyway; swapped working days are Saturdays or Sundays"
                ),
            ));
        }
        if (off_from..=off_to).contains(&d) {
            return Err((
                "working_days",
                text!(
                    "调休上班日 {d} 在放假期间（{off_from} 至 {off_to}）内",
                    "the swapped working day {d} falls inside the days off ({off_from} to {off_to})"
                ),
            ));
        }
        let distance = if d < off_from {
            (off_from - d).whole_days()
        } else {
            (d - off_to).whole_days()
        };
        if distance > MAX_SWAP_DISTANCE_DAYS {
            return Err((
                "working_days",
                text!(
                    "调休上班日 {d} 距离放假期间{distance}天，超过{MAX_SWAP_DISTANCE_DAYS}天；请核对通知",
                    "the swapped working day {d} is {distance} days from the days off, more than {MAX_SWAP_DISTANCE_DAYS}; check the notice"
                ),
            ));
        }
        swapped.push(d);
    }
    Ok(HolidayPeriod {
        year,
        notice,
        name,
        off_from,
        off_to,
        working_days: swapped,
    })
}

/// Reads a holiday file ([`HOLIDAY_FILE_COLUMNS`], comma-separated, UTF-8, a header line, `#`
/// comments). All or nothing: every error found is returned, with its line and column.
pub fn parse_holiday_file(content: &str) -> Result<Vec<HolidayPeriod>, Vec<HolidayFileError>> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut errors = Vec::new();
    let mut periods: Vec<(usize, HolidayPeriod)> = Vec::new();
    let mut header_seen = false;
    for (index, raw) in content.lines().enumerate() {
        let line = index + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = row.split(',').collect();
        if !header_seen {
            header_seen = true;
            let found: Vec<&str> = cells.iter().map(|c| c.trim()).collect();
            if found != HOLIDAY_FILE_COLUMNS {
                let columns = HOLIDAY_FILE_COLUMNS.join(",");
                errors.push(HolidayFileError {
                    line,
                    column: None,
                    message: text!(
                        "第一行应是表头 {columns}",
                        "the first line must be the header {columns}"
                    ),
                });
                break;
            }
            continue;
        }
        match parse_row(&cells) {
            Ok(period) => periods.push((line, period)),
            Err((column, message)) => errors.push(HolidayFileError {
                line,
                column: Some(column),
                message,
            }),
        }
    }
    if !header_seen {
        let columns = HOLIDAY_FILE_COLUMNS.join(",");
        errors.push(HolidayFileError {
            line: 1,
            column: None,
            message: text!(
                "文件是空的；第一行应是表头 {columns}",
                "the file is empty; the first line must be the header {columns}"
            ),
        });
    }
    // A day is off in one holiday at most, and never both off and worked.
    let mut seen: BTreeMap<Date, usize> = BTreeMap::new();
    for (line, period) in &periods {
        for d in period.days_off().chain(period.working_days.iter().copied()) {
            if let Some(first) = seen.insert(d, *line) {
                errors.push(HolidayFileError {
                    line: *line,
                    column: Some("off_from"),
                    message: text!(
                        "{d} 已在第{first}行出现；一天只能属于一个假期",
                        "{d} already appears on line {first}; a day belongs to one holiday only"
                    ),
                });
                break;
            }
        }
    }
    if errors.is_empty() {
        Ok(periods.into_iter().map(|(_, p)| p).collect())
    } else {
        Err(errors)
    }
}

/// `periods` as a holiday file (header and rows), which [`parse_holiday_file`] reads back.
pub fn holiday_file_text(periods: &[HolidayPeriod]) -> String {
    let mut out = HOLIDAY_FILE_COLUMNS.join(",");
    out.push('\n');
    for p in periods {
        let working: Vec<String> = p.working_days.iter().map(Date::to_string).collect();
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            p.year,
            p.notice,
            p.name.zh,
            p.name.en,
            p.off_from,
            p.off_to,
            working.join(";")
        ));
    }
    out
}

/// The days off and the swapped working days of the years whose notices are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeMap<i32, Vec<HolidayPeriod>>,
    off: BTreeSet<Date>,
    working: BTreeSet<Date>,
}

impl WorkCalendar {
    /// The calendar of the given notices' holidays.
    pub fn from_periods(periods: impl IntoIterator<Item = HolidayPeriod>) -> WorkCalendar {
        let mut by_year: BTreeMap<i32, Vec<HolidayPeriod>> = BTreeMap::new();
        for p in periods {
            by_year.entry(p.year).or_default().push(p);
        }
        WorkCalendar::from_years(by_year)
    }

    fn from_years(years: BTreeMap<i32, Vec<HolidayPeriod>>) -> WorkCalendar {
        let mut off = BTreeSet::new();
        let mut working = BTreeSet::new();
        for p in years.values().flatten() {
            off.extend(p.days_off());
            working.extend(p.working_days.iter().copied());
        }
        WorkCalendar {
            years,
            off,
            working,
        }
    }

    /// The notices that ship with zhenxing (2021 to 2026).
    pub fn built_in() -> &'static WorkCalendar {
        static CALENDAR: OnceLock<WorkCalendar> = OnceLock::new();
        // The file is compiled in and a test reads it, so it always parses; were it not to,
        // the counting falls back to Monday to Friday rather than stopping the server.
        CALENDAR.get_or_init(|| {
            parse_holiday_file(BUILT_IN)
                .map(WorkCalendar::from_periods)
                .unwrap_or_default()
        })
    }

    /// This calendar with the years of `periods` added, each replacing the same year here.
    pub fn with_years(&self, periods: impl IntoIterator<Item = HolidayPeriod>) -> WorkCalendar {
        let mut years = self.years.clone();
        for (year, list) in WorkCalendar::from_periods(periods).years {
            years.insert(year, list);
        }
        WorkCalendar::from_years(years)
    }

    /// Whether the notice for `year` is known (otherwise its working days are Monday to Friday).
    pub fn knows_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The years whose notices are known, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether `year`'s notice is one that ships with zhenxing, unchanged.
    pub fn is_built_in(&self, year: i32) -> bool {
        self.years
            .get(&year)
            .is_some_and(|mine| WorkCalendar::built_in().years.get(&year) == Some(mine))
    }

    /// The holidays of `year`'s notice, in the notice's order.
    pub fn periods(&self, year: i32) -> &[HolidayPeriod] {
        self.years.get(&year).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        if self.working.contains(&d) {
            return true;
        }
        !self.off.contains(&d) && !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// `date` moved by `days` working days (negative: back); the day itself does not count.
    /// Dates beyond the `time` crate's range stay where they are.
    pub fn add_working_days(&self, date: Date, days: i64) -> Date {
        let step = Duration::days(if days < 0 { -1 } else { 1 });
        let mut d = date;
        let mut left = days.unsigned_abs();
        while left > 0 {
            let Some(next) = d.checked_add(step) else {
                return d;
            };
            d = next;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }
}

#[cfg(test)]
mod tests;
