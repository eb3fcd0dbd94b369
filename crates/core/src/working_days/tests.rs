use super::*;
use time::macros::date;

fn built_in() -> &'static WorkCalendar {
    WorkCalendar::built_in()
}

#[test]
fn the_shipped_notices_parse_and_cover_2021_to_2026() {
    let periods = parse_holiday_file(BUILT_IN).expect("the shipped file parses");
    assert_eq!(
        built_in().years().collect::<Vec<_>>(),
        (2021..=2026).collect::<Vec<_>>()
    );
    // Seven holidays a year, six when the Mid-Autumn Festival joins the National Day.
    for (year, items) in [
        (2021, 7),
        (2022, 7),
        (2023, 6),
        (2024, 7),
        (2025, 6),
        (2026, 7),
    ] {
        assert_eq!(built_in().periods(year).len(), items, "{year}");
    }
    assert_eq!(periods.len(), 40);
    assert!(!built_in().knows_year(2027));
}

/// One check per year against its notice: a day off that is a weekday, a swapped weekend day
/// that is worked, and a time limit that crosses the Spring Festival.
#[test]
fn a_calendar_written_as_a_file_reads_back_the_same() {
    let periods: Vec<HolidayPeriod> = (2021..=2026)
        .flat_map(|y| built_in().periods(y).to_vec())
        .collect();
    let text = holiday_file_text(&periods);
    assert_eq!(parse_holiday_file(&text), Ok(periods));
    assert!(built_in().is_built_in(2026));
    assert!(!built_in().is_built_in(2027));
}

#[test]
fn each_year_follows_its_notice() {
    let c = built_in();
    // 2021: Spring Festival 11–17 February; Sunday 7 and Saturday 20 February worked.
    assert!(!c.is_working_day(date!(2021 - 02 - 11)));
    assert!(c.is_working_day(date!(2021 - 02 - 07)));
    assert!(c.is_working_day(date!(2021 - 02 - 20)));
    assert_eq!(
        c.add_working_days(date!(2021 - 02 - 10), 1),
        date!(2021 - 02 - 18)
    );
    // 2022: Qingming 3–5 April, Saturday 2 April worked.
    assert!(c.is_working_day(date!(2022 - 04 - 02)));
    assert!(!c.is_working_day(date!(2022 - 04 - 04)));
    assert_eq!(
        c.add_working_days(date!(2022 - 01 - 28), 1),
        date!(2022 - 01 - 29)
    );
    assert_eq!(
        c.add_working_days(date!(2022 - 01 - 28), 3),
        date!(2022 - 02 - 07)
    );
    // 2023: New Year from 31 December 2022; Mid-Autumn and National Day 29 September – 6 October.
    assert!(!c.is_working_day(date!(2023 - 01 - 02)));
    assert!(!c.is_working_day(date!(2023 - 09 - 29)));
    assert!(c.is_working_day(date!(2023 - 10 - 07)));
    assert!(c.is_working_day(date!(2023 - 10 - 08)));
    // 2024: Spring Festival 10–17 February; Sundays 4 and 18 February worked.
    assert!(!c.is_working_day(date!(2024 - 02 - 16)));
    assert!(c.is_working_day(date!(2024 - 02 - 18)));
    // Thursday 8 February + 2: Friday 9 (New Year's Eve is worked), then Sunday 18.
    assert_eq!(
        c.add_working_days(date!(2024 - 02 - 08), 2),
        date!(2024 - 02 - 18)
    );
    // 2025: New Year's Day a Wednesday, no swap; Labour Day 1–5 May, Sunday 27 April worked.
    assert!(!c.is_working_day(date!(2025 - 01 - 01)));
    assert!(c.is_working_day(date!(2025 - 01 - 02)));
    assert!(c.is_working_day(date!(2025 - 04 - 27)));
    assert!(!c.is_working_day(date!(2025 - 05 - 05)));
    // 2026: Spring Festival 15–23 February; Saturdays 14 and 28 February worked.
    assert_eq!(
        c.add_working_days(date!(2026 - 02 - 13), 1),
        date!(2026 - 02 - 14)
    );
    assert_eq!(
        c.add_working_days(date!(2026 - 02 - 13), 2),
        date!(2026 - 02 - 24)
    );
    assert_eq!(
        c.add_working_days(date!(2026 - 02 - 24), -1),
        date!(2026 - 02 - 14)
    );
    assert!(c.is_working_day(date!(2026 - 09 - 20)));
    assert!(!c.is_working_day(date!(2026 - 10 - 07)));
}

#[test]
fn a_year_without_its_notice_counts_monday_to_friday() {
    let c = built_in();
    // Friday 1 January 2027 is a working day until the 2027 notice is added.
    assert!(c.is_working_day(date!(2027 - 01 - 01)));
    assert_eq!(
        c.add_working_days(date!(2027 - 03 - 05), 1),
        date!(2027 - 03 - 08)
    );
    let file = "year,notice,name_zh,name_en,off_from,off_to,working_days\n\
                2027,test,元旦,New Year's Day,2027-01-01,2027-01-03,\n";
    let added = c.with_years(parse_holiday_file(file).expect("parses"));
    assert!(added.knows_year(2027));
    assert!(!added.is_working_day(date!(2027 - 01 - 01)));
    // The years already known stay.
    assert!(!added.is_working_day(date!(2026 - 02 - 16)));
}

#[test]
fn an_added_year_replaces_the_same_year() {
    let file = "year,notice,name_zh,name_en,off_from,off_to,working_days\n\
                2026,corrected,端午节,Dragon Boat Festival,2026-06-19,2026-06-22,\n";
    let c = built_in().with_years(parse_holiday_file(file).expect("parses"));
    assert_eq!(c.periods(2026).len(), 1);
    assert!(!c.is_working_day(date!(2026 - 06 - 22)));
    // The replaced year's other holidays are gone: 16 February 2026 is a Monday again.
    assert!(c.is_working_day(date!(2026 - 02 - 16)));
}

fn errors(file: &str) -> Vec<String> {
    parse_holiday_file(file)
        .expect_err("refused")
        .iter()
        .map(|e| e.text().en)
        .collect()
}

#[test]
fn a_bad_file_is_refused_whole_with_line_and_column() {
    let header = "year,notice,name_zh,name_en,off_from,off_to,working_days";
    assert_eq!(
        errors(""),
        [
            "line 1: the file is empty; the first line must be the header year,notice,name_zh,name_en,off_from,off_to,working_days"
        ]
    );
    assert!(errors("date,kind\n")[0].starts_with("line 1: the first line must be the header"));
    let file = format!(
        "{header}\n\
         # a comment line counts\n\
         2027,n,春节,Spring Festival,2027-02-05,2027-02-11,2027-02-01\n\
         2027,n,清明节,Qingming,2027-04-05,2027-04-03,\n\
         2027,n,劳动节,Labour Day,2027-05-01,2027-05-05,2027-05-01\n\
         2027,n,端午节,,2027-06-09,2027-06-11,\n\
         2027,n,国庆节,National Day,2027-10-01,2027-10-31,\n\
         1999,n,元旦,New Year,2027-01-01,2027-01-01,\n\
         2027,n,元旦,New Year,2027/01/01,2027-01-01,\n\
         2027,n,x,y\n"
    );
    assert_eq!(
        errors(&file),
        [
            "line 3, column 'working_days': the swapped working day 2027-02-01 is a Monday, a working day anyway; swapped working days are Saturdays or Sundays",
            "line 4, column 'off_to': the last day 2027-04-03 is before the first day 2027-04-05",
            "line 5, column 'working_days': the swapped working day 2027-05-01 falls inside the days off (2027-05-01 to 2027-05-05)",
            "line 6, column 'name_en': must not be empty",
            "line 7, column 'off_to': 31 days off, more than 12; check the notice",
            "line 8, column 'year': '1999' is not a year between 2000 and 2100",
            "line 9, column 'off_from': '2027/01/01' is not a date; write it as 2026-10-01",
            "line 10, column 'year': expected 7 columns (year,notice,name_zh,name_en,off_from,off_to,working_days), found 4; names may not contain commas",
        ]
    );
    // In Chinese too.
    let zh: Vec<String> = parse_holiday_file(&file)
        .expect_err("refused")
        .iter()
        .map(|e| e.text().zh)
        .collect();
    assert_eq!(
        zh[1],
        "第4行，“off_to”列：最后一天 2027-04-03 早于第一天 2027-04-05"
    );
}

#[test]
fn a_day_belongs_to_one_holiday_and_is_not_both_off_and_worked() {
    let header = "year,notice,name_zh,name_en,off_from,off_to,working_days";
    let overlapping = format!(
        "{header}\n\
         2027,n,中秋节,Mid-Autumn,2027-09-15,2027-09-17,\n\
         2027,n,x,y,2027-09-17,2027-09-18,\n"
    );
    assert_eq!(
        errors(&overlapping),
        [
            "line 3, column 'off_from': 2027-09-17 already appears on line 2; a day belongs to one holiday only"
        ]
    );
    // Saturday 18 September 2027 off in one row and worked in another.
    let off_and_worked = format!(
        "{header}\n\
         2027,n,中秋节,Mid-Autumn,2027-09-15,2027-09-17,2027-09-18\n\
         2027,n,x,y,2027-09-18,2027-09-19,\n"
    );
    assert_eq!(errors(&off_and_worked).len(), 1);
    // A byte-order mark (as spreadsheet programs write) is fine.
    let with_bom = format!("\u{feff}{header}\n2027,n,元旦,New Year,2027-01-01,2027-01-01,\n");
    assert_eq!(parse_holiday_file(&with_bom).map(|p| p.len()), Ok(1));
}
