//! `zhenxing report` and `zhenxing snapshot`: the standard monthly tables (figures from
//! `store::rollups`, files from `io::reports`) and the monthly snapshot (`store::snapshots`).

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zhenxing_core::assistance::{MeasureCategory, MeasureStatus};
use zhenxing_core::coverage::CoverageRule;
use zhenxing_core::id_number::today_in_china;
use zhenxing_core::{DivisionCode, DivisionLevel, Lang, MonitoringCategory, text};
use zhenxing_io::reports::{
    ColumnKind, REPORTS, ReportCell, ReportColumn, ReportInfo, ReportTable, find_report,
    write_report,
};
use zhenxing_store::Db;
use zhenxing_store::divisions::Division;
use zhenxing_store::rollups::{self, Count};
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
    let today = today_in_china();
    let month = match month {
        Some(m) => Month::parse(m).map_err(anyhow::Error::new)?,
        None => Month::of(today),
    };
    month.check_not_future(today).map_err(anyhow::Error::new)?;
    Ok(month)
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
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "xlsx" && ext != "csv" {
        let file = out.display();
        return Err(anyhow::Error::new(text!(
            "无法写入“{file}”：报表只写成 .xlsx（Excel 工作簿）或 .csv（带 BOM 的 UTF-8）。请把扩展名改为 .xlsx 或 .csv",
            "cannot write '{file}': reports are written as .xlsx (Excel workbook) or .csv (UTF-8 with a BOM). Give the file a .xlsx or .csv extension"
        )));
    }
    let division = match division {
        Some(d) => DivisionCode::parse(d).map_err(|e| anyhow::Error::new(e.text()))?,
        None => DivisionCode::parse(zhenxing_store::divisions::MUNICIPALITY)
            .map_err(|e| anyhow::Error::new(e.text()))?,
    };
    if division.level() == DivisionLevel::Village {
        let c = division.as_str();
        return Err(anyhow::Error::new(text!(
            "{c}是村级区划，下面没有可分行统计的区划；请给出乡镇、区县或全市",
            "{c} is a village, which has no divisions below it to make rows of; give a township, a county or the municipality"
        )));
    }
    Ok(Request::Write {
        info,
        division,
        month: parse_month(month)?,
        out: out.to_path_buf(),
    })
}

pub fn list(lang: Lang) {
    println!(
        "{:<12} {}",
        say(lang, "名称", "name"),
        say(lang, "标题", "title")
    );
    for r in REPORTS {
        println!("{:<12} {} / {}", r.code, r.title_zh, r.title_en);
    }
}

pub async fn snapshot(db: &Db, lang: Lang, month: Month) -> Result<ExitCode> {
    match snapshots::take(db, &super::cli_actor(), month, today_in_china()).await? {
        Ok(t) => {
            println!(
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
    let Some(d) = db.division(&division).await? else {
        let c = division.as_str();
        return Err(anyhow::Error::new(text!(
            "区划{c}不在登记库中",
            "division {c} is not in the registry"
        )));
    };
    let today = today_in_china();
    let table = build(db, info, &division, &d.name_zh, &d.name_en, month, today).await?;
    write_report(&out, &table)
        .map_err(|e| anyhow::Error::new(zhenxing_core::Text::new(e.zh(), e.en())))?;
    println!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "已写入 {}：{}，{} 行",
                out.display(),
                info.title_zh,
                table.rows.len()
            ),
            Lang::En => format!(
                "wrote {}: {}, {} rows",
                out.display(),
                info.title_en,
                table.rows.len()
            ),
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn col(zh: &str, en: &str, kind: ColumnKind) -> ReportColumn {
    ReportColumn::new(zh, en, kind)
}

fn label_columns() -> Vec<ReportColumn> {
    vec![
        col("名称", "Name", ColumnKind::Text),
        col("区划代码", "Code", ColumnKind::Text),
    ]
}

fn label_cells(d: &Division) -> Vec<ReportCell> {
    vec![
        ReportCell::Text(d.name_zh.clone()),
        ReportCell::Text(d.code.clone()),
    ]
}

fn child_code(code: &str) -> Result<DivisionCode> {
    DivisionCode::parse(code).map_err(|e| anyhow::Error::new(e.text()))
}

/// Fills one report for the children of `division`.
pub async fn build(
    db: &Db,
    info: &'static ReportInfo,
    division: &DivisionCode,
    name_zh: &str,
    name_en: &str,
    month: Month,
    today: time::Date,
) -> Result<ReportTable> {
    // The month is seen from its last day, or from today when it is the current month.
    let as_of = if month == Month::of(today) {
        today
    } else {
        month.last_day().unwrap_or(today)
    };
    let live_note = if info.code == "procedures" || as_of == today {
        (String::new(), String::new())
    } else {
        (
            format!("（本表为当前数据，截至 {today}）"),
            format!(" (this table holds current figures, as of {today})"),
        )
    };
    let subtitle = format!(
        "{name_zh} {month} 数据截至 {as_of}{} / {name_en}, {month}, figures as of {as_of}{}",
        live_note.0, live_note.1
    );
    let mut columns = label_columns();
    let mut rows = Vec::new();
    match info.code {
        "counts" => {
            let mut groups: Vec<(String, String)> = vec![
                ("脱贫户".into(), "lifted out".into()),
                ("一般农户".into(), "ordinary".into()),
                ("监测对象".into(), "monitored".into()),
            ];
            for c in MonitoringCategory::ALL {
                groups.push((c.zh().to_owned(), c.en().to_owned()));
            }
            groups.push(("风险未消除".into(), "risk not eliminated".into()));
            groups.push(("风险已消除".into(), "risk eliminated".into()));
            for (zh, en) in &groups {
                columns.push(col(
                    &format!("{zh}户数"),
                    &format!("{en}: households"),
                    ColumnKind::Count,
                ));
                columns.push(col(
                    &format!("{zh}人数"),
                    &format!("{en}: members"),
                    ColumnKind::Count,
                ));
            }
            // Only what the table shows: the leaf counts and the monitored households.
            for child in db.child_divisions(division).await? {
                let code = child_code(&child.division.code)?;
                let stats = db.stats(Some(&code)).await?;
                let m = rollups::monitored_figures(db, &code).await?;
                let mut counts: Vec<Count> = vec![
                    Count {
                        households: stats.lifted_out_households,
                        members: stats.lifted_out_members,
                    },
                    Count {
                        households: stats.ordinary_households,
                        members: stats.ordinary_members,
                    },
                    m.total,
                ];
                counts.extend(MonitoringCategory::ALL.iter().map(|c| {
                    m.by_category
                        .iter()
                        .find(|x| x.0 == *c)
                        .map(|x| x.1)
                        .unwrap_or_default()
                }));
                counts.push(m.risk_status.not_eliminated);
                counts.push(m.risk_status.eliminated());
                let mut row = label_cells(&child.division);
                for n in counts {
                    row.push(ReportCell::Number(n.households));
                    row.push(ReportCell::Number(n.members));
                }
                rows.push(row);
            }
        }
        "measures" => {
            columns.push(col("措施类别", "Measure category", ColumnKind::Text));
            columns.push(col("计划", "Planned", ColumnKind::Count));
            columns.push(col("已实施", "Implemented", ColumnKind::Count));
            columns.push(col("已取消", "Cancelled", ColumnKind::Count));
            columns.push(col(
                "计划金额（元）",
                "Planned amount (yuan)",
                ColumnKind::Yuan,
            ));
            columns.push(col(
                "已实施金额（元）",
                "Implemented amount (yuan)",
                ColumnKind::Yuan,
            ));
            for child in db.child_divisions(division).await? {
                let measures =
                    rollups::measure_figures(db, &child_code(&child.division.code)?).await?;
                for category in MeasureCategory::ALL {
                    let get = |s: MeasureStatus| {
                        measures
                            .iter()
                            .find(|m| m.0 == *category && m.1 == s)
                            .map(|m| (m.2, m.3))
                            .unwrap_or((0, 0))
                    };
                    let (p, i, x) = (
                        get(MeasureStatus::Planned),
                        get(MeasureStatus::Implemented),
                        get(MeasureStatus::Cancelled),
                    );
                    if p.0 + i.0 + x.0 == 0 {
                        continue;
                    }
                    let mut row = label_cells(&child.division);
                    row.push(ReportCell::Text(category.zh().to_owned()));
                    row.extend([p.0, i.0, x.0, p.1, i.1].map(ReportCell::Number));
                    rows.push(row);
                }
            }
        }
        "procedures" => {
            for (zh, en) in [
                ("本月受理", "Opened in the month"),
                ("本月办结", "Completed in the month"),
                ("其中按时办结", "of which within the limit"),
                ("月末在办", "In progress at the month's end"),
                ("其中逾期", "of which overdue"),
                ("本月未通过或撤回", "Rejected or withdrawn in the month"),
            ] {
                columns.push(col(zh, en, ColumnKind::Count));
            }
            let first = month.first_day().unwrap_or(as_of);
            let figures = rollups::case_timeliness(db, division, first, as_of, as_of).await?;
            for child in db.child_divisions(division).await? {
                let code = &child.division.code;
                let mut t = rollups::CaseTimeliness::default();
                for (prefix, f) in &figures {
                    if code.starts_with(prefix.as_str()) {
                        t.add(f);
                    }
                }
                rows.push(vec![
                    ReportCell::Text(child.division.name_zh.clone()),
                    ReportCell::Text(code.clone()),
                    ReportCell::Number(t.opened),
                    ReportCell::Number(t.completed),
                    ReportCell::Number(t.completed_within_limit),
                    ReportCell::Number(t.in_progress),
                    ReportCell::Number(t.overdue),
                    ReportCell::Number(t.rejected_or_withdrawn),
                ]);
            }
        }
        _ => {
            columns.push(col("监测户", "Monitored households", ColumnKind::Count));
            columns.push(col(
                "有问题的户",
                "Households with findings",
                ColumnKind::Count,
            ));
            for r in CoverageRule::ALL {
                columns.push(col(r.zh(), r.en(), ColumnKind::Count));
            }
            // One pass over the division's monitored households, counted per child.
            let scope = zhenxing_core::Scope::new(*division);
            let report = zhenxing_store::coverage::report(db, &scope, division, today)
                .await?
                .map(|r| r.children)
                .unwrap_or_default();
            for c in report {
                let mut row = vec![ReportCell::Text(c.name_zh), ReportCell::Text(c.code)];
                row.push(ReportCell::Number(c.counts.monitored));
                row.push(ReportCell::Number(c.counts.with_findings));
                for r in CoverageRule::ALL {
                    row.push(ReportCell::Number(c.counts.of(*r)));
                }
                rows.push(row);
            }
        }
    }
    Ok(ReportTable {
        info: *info,
        subtitle,
        columns,
        rows,
    })
}
