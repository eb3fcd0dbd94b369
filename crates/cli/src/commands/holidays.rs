//! `zhenxing holidays`: the State Council's holiday notices that time limits in working days
//! follow. The notices of 2021 to 2026 ship with zhenxing; `add` adds (or replaces) a year from a
//! file in the format of `zhenxing_core::working_days` (the file is read and checked before the
//! database is opened, and is added whole or not at all); `list` shows the calendar in use.

use crate::output::say;
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use zhenxing_core::Lang;
use zhenxing_core::working_days::{HolidayPeriod, parse_holiday_file};
use zhenxing_store::Db;

/// The holidays of a file, or the problems found in it (already printed).
pub fn read_file(lang: Lang, file: &Path) -> Result<Option<Vec<HolidayPeriod>>> {
    let shown = file.display().to_string();
    let Ok(content) = String::from_utf8(super::read_input_file(file)?) else {
        outln!(
            "{shown}: {}",
            say(
                lang,
                "节假日文件须为UTF-8编码的CSV文本（在表格软件中另存为“CSV UTF-8”）。未添加任何节假日。",
                "a holiday file is CSV text in UTF-8 (in a spreadsheet program, save as 'CSV UTF-8'). No holidays were added."
            )
        );
        return Ok(None);
    };
    match parse_holiday_file(&content) {
        Ok(periods) => Ok(Some(periods)),
        Err(errors) => {
            for e in &errors {
                outln!("{shown}: {}", e.text().get(lang));
            }
            let n = errors.len();
            outln!(
                "{}",
                say(
                    lang,
                    &format!("发现{n}处问题；未添加任何节假日。改正后再运行一次。"),
                    &format!(
                        "{n} problem(s) found; no holidays were added. Correct them and run again."
                    ),
                )
            );
            Ok(None)
        }
    }
}

/// Adds the years of `periods`, audited as the CLI's operator.
pub async fn add(db: &Db, lang: Lang, periods: &[HolidayPeriod]) -> Result<ExitCode> {
    let years = db.add_holidays(&super::cli_actor(), periods).await?;
    for year in years {
        let items: Vec<&HolidayPeriod> = periods.iter().filter(|p| p.year == year).collect();
        let holidays = items.len();
        let swapped: usize = items.iter().map(|p| p.working_days.len()).sum();
        outln!(
            "{}",
            say(
                lang,
                &format!("已添加{year}年的节假日：{holidays}个假期，{swapped}个调休上班日。"),
                &format!(
                    "Added the holidays of {year}: {holidays} holidays, {swapped} swapped working days."
                ),
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the calendar in use: each year with where its notice comes from, and its holidays.
pub async fn list(db: &Db, lang: Lang, year: Option<i32>, json: bool) -> Result<ExitCode> {
    let calendar = db.work_calendar().await?;
    let years: Vec<i32> = calendar
        .years()
        .filter(|y| year.is_none_or(|wanted| *y == wanted))
        .collect();
    if json {
        let value: Vec<serde_json::Value> = years
            .iter()
            .map(|y| {
                serde_json::json!({
                    "year": y,
                    "built_in": calendar.is_built_in(*y),
                    "holidays": calendar.periods(*y).iter().map(|p| serde_json::json!({
                        "notice": p.notice, "name_zh": p.name.zh, "name_en": p.name.en,
                        "off_from": p.off_from.to_string(), "off_to": p.off_to.to_string(),
                        "working_days": p.working_days.iter().map(|d| d.to_string())
                            .collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(wanted) = year
        && years.is_empty()
    {
        outln!(
            "{}",
            say(
                lang,
                &format!(
                    "没有{wanted}年的节假日通知：工作日按星期一至星期五计算。可用 zhenxing holidays add 添加。"
                ),
                &format!(
                    "No holiday notice for {wanted}: working days are Monday to Friday. Add it with zhenxing holidays add."
                ),
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    for y in years {
        let source = if calendar.is_built_in(y) {
            say(lang, "随系统提供", "shipped with zhenxing")
        } else {
            say(lang, "本系统添加", "added here")
        };
        outln!("{y} ({source})");
        for p in calendar.periods(y) {
            let worked: Vec<String> = p.working_days.iter().map(|d| d.to_string()).collect();
            let worked = if worked.is_empty() {
                String::new()
            } else {
                format!(
                    "  {} {}",
                    say(lang, "调休上班", "worked:"),
                    worked.join(", ")
                )
            };
            outln!(
                "  {:<12} {} – {}{worked}",
                p.name.get(lang),
                p.off_from,
                p.off_to
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
