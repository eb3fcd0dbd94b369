//! `zhenxing report` and `zhenxing snapshot`: the standard monthly tables (filled by
//! `store::report_tables`, written and audited by `zhenxing_app::export::report`, as the web's
//! downloads are) and the monthly snapshot (`store::snapshots`).

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zhenxing_app::export::{self, Exporter, Via};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{DivisionCode, Lang, text};
use zhenxing_io::reports::{REPORTS, ReportInfo, find_report};
use zhenxing_store::Db;
use zhenxing_store::report_tables;
use zhenxing_store::snapshots::{self, Month};

use crate::output::say;

/// What was asked, checked before the database opens.
pub enum Request {
    List,
    Write {
        info: &'static ReportInfo,
        division: DivisionCode,
        month: Month,
        out: PathBuf,
    },
}

/// The month given (default: this month in China time), refused when malformed or in the
/// future.
pub fn parse_month(month: Option<&str>) -> Result<Month> {
    report_tables::requested_month(month, today_in_china()).map_err(anyhow::Error::new)
}

/// A file written as a table: `.xlsx` or `.csv`, refused before anything opens otherwise.
pub fn check_table_file(out: &std::path::Path) -> Result<()> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "xlsx" && ext != "csv" {
        let file = out.display();
        return Err(anyhow::Error::new(text!(
            "无法写入“{file}”：报表和上报文件只写成 .xlsx（Excel 工作簿）或 .csv（带 BOM 的 UTF-8）。请把扩展名改为 .xlsx 或 .csv",
            "cannot write '{file}': reports and upload files are written as .xlsx (Excel workbook) or .csv (UTF-8 with a BOM). Give the file a .xlsx or .csv extension"
        )));
    }
    Ok(())
}

fn names() -> String {
    REPORTS
        .iter()
        .map(|r| r.code)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn check_arguments(
    name: Option<&str>,
    list: bool,
    division: Option<&str>,
    month: Option<&str>,
    out: Option<&Path>,
) -> Result<Request> {
    if list {
        return Ok(Request::List);
    }
    let names = names();
    let Some(name) = name else {
        return Err(anyhow::Error::new(text!(
            "请给出报表名称（{names}），或用 --list 列出报表",
            "name a report ({names}), or list them with --list"
        )));
    };
    let info = find_report(name).ok_or_else(|| {
        anyhow::Error::new(text!(
            "没有名为“{name}”的报表；可用的报表：{names}",
            "there is no report named '{name}'; the reports are: {names}"
        ))
    })?;
    let Some(out) = out else {
        return Err(anyhow::Error::new(text!(
            "请用 --out 给出输出文件（.xlsx 或 .csv）",
            "give the file to write with --out (.xlsx or .csv)"
        )));
    };
    check_table_file(out)?;
    let division = match division {
        Some(d) => DivisionCode::parse(d).map_err(|e| anyhow::Error::new(e.text()))?,
        None => DivisionCode::parse(zhenxing_store::divisions::MUNICIPALITY)
            .map_err(|e| anyhow::Error::new(e.text()))?,
    };
    Ok(Request::Write {
        info,
        division,
        month: parse_month(month)?,
        out: out.to_path_buf(),
    })
}

pub fn list(lang: Lang) {
    outln!(
        "{:<12} {}",
        say(lang, "名称", "name"),
        say(lang, "标题", "title")
    );
    for r in REPORTS {
        outln!("{:<12} {} / {}", r.code, r.title_zh, r.title_en);
    }
}

pub async fn snapshot(db: &Db, lang: Lang, month: Month) -> Result<ExitCode> {
    match snapshots::take(db, &super::cli_actor(), month, today_in_china()).await? {
        Ok(t) => {
            outln!(
                "{}",
                match lang {
                    Lang::Zh => format!(
                        "{} 月快照：{} 个区划（全市、区县、乡镇），数据截至 {}；替换了 {} 行；审计序号 {}",
                        t.month, t.rows, t.as_of, t.replaced, t.seq
                    ),
                    Lang::En => format!(
                        "snapshot of {}: {} divisions (municipality, counties, townships), figures as of {}; {} rows replaced; audit seq {}",
                        t.month, t.rows, t.as_of, t.replaced, t.seq
                    ),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => Err(anyhow::Error::new(why)),
    }
}

pub async fn write(db: &Db, lang: Lang, request: Request) -> Result<ExitCode> {
    let Request::Write {
        info,
        division,
        month,
        out,
    } = request
    else {
        list(lang);
        return Ok(ExitCode::SUCCESS);
    };
    let today = today_in_china();
    let actor = super::cli_actor();
    let Some(table) = report_tables::build(db, info, &division, month, today, &actor).await? else {
        let c = division.as_str();
        return Err(anyhow::Error::new(text!(
            "区划{c}不在登记库中",
            "division {c} is not in the registry"
        )));
    };
    let exporter = Exporter {
        actor: &actor,
        via: Via::Cli,
    };
    let shown = out.display().to_string();
    let rows = export::report(db, exporter, table, &division, month, &out, &shown)
        .await
        .map_err(super::export::export_failed)?;
    outln!(
        "{}",
        match lang {
            Lang::Zh => format!("已写入 {}：{}，{} 行", out.display(), info.title_zh, rows),
            Lang::En => format!("wrote {}: {}, {} rows", out.display(), info.title_en, rows),
        }
    );
    Ok(ExitCode::SUCCESS)
}
