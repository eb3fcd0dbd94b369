//! The standard monthly report tables filled with figures (issue 6 item 4): one
//! [`ReportTable`] per report for the children of a division. The CLI's `report` command and
//! the web's report pages both call [`build`]; `zhenxing_io::reports` writes the result as a
//! file. Each table reads only what it shows (the leaf counts and the monitored households for
//! `counts`, the measures for `measures`, one `GROUP BY` over the cases for `procedures`, and
//! the coverage report's own per-child counts for `coverage`), not every figure of every child.

use crate::divisions::Division;
use crate::rollups::{self, Count};
use crate::snapshots::Month;
use crate::{Db, Result, StoreError};
use zhenxing_core::assistance::{MeasureCategory, MeasureStatus};
use zhenxing_core::coverage::CoverageRule;
use zhenxing_core::report_table::{
    ColumnKind, ReportCell, ReportColumn, ReportFooter, ReportInfo, ReportTable,
};
use zhenxing_core::{DivisionCode, DivisionLevel, MonitoringCategory, Text};

/// The month asked for (none: the month of `today`), refused when malformed or in the future.
pub fn requested_month(month: Option<&str>, today: time::Date) -> std::result::Result<Month, Text> {
    let month = match month.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m)?,
        None => Month::of(today),
    };
    month.check_not_future(today)?;
    Ok(month)
}

/// The divisions a report has rows for: the children of `division`, or for a village, which
/// has none, the village itself (its one-row table is what it reports to its township).
async fn row_divisions(db: &Db, division: &DivisionCode) -> Result<Vec<Division>> {
    if division.level() == DivisionLevel::Village {
        return Ok(db.division(division).await?.into_iter().collect());
    }
    Ok(db
        .child_divisions(division)
        .await?
        .into_iter()
        .map(|c| c.division)
        .collect())
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
    DivisionCode::parse(code)
        .map_err(|_| StoreError::Corrupt(format!("division code '{code}' does not parse")))
}

/// Fills one report for the children of `division` for `month` seen on `today`, produced by
/// `filled_by` (its footer's 填表人); `None` when the division is not in the registry.
pub async fn build(
    db: &Db,
    info: &'static ReportInfo,
    division: &DivisionCode,
    month: Month,
    today: time::Date,
    filled_by: &str,
) -> Result<Option<ReportTable>> {
    let Some(Division {
        name_zh, name_en, ..
    }) = db.division(division).await?
    else {
        return Ok(None);
    };
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
            for child in row_divisions(db, division).await? {
                let code = child_code(&child.code)?;
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
                let mut row = label_cells(&child);
                for n in counts {
                    row.push(ReportCell::Number(n.households));
                    row.push(ReportCell::Number(n.members));
                }
                rows.push(row);
            }
        }
        "measures" => {
            columns.push(col("措施类别", "Measure category", ColumnKind::Text));
            columns.push(col("尚未实施", "Not yet implemented", ColumnKind::Count));
            columns.push(col("已实施", "Implemented", ColumnKind::Count));
            columns.push(col("已取消", "Cancelled", ColumnKind::Count));
            columns.push(col(
                "尚未实施金额（元）",
                "Not yet implemented, amount (yuan)",
                ColumnKind::Yuan,
            ));
            columns.push(col(
                "已实施金额（元）",
                "Implemented amount (yuan)",
                ColumnKind::Yuan,
            ));
            for child in row_divisions(db, division).await? {
                let measures = rollups::measure_figures(db, &child_code(&child.code)?).await?;
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
                    let mut row = label_cells(&child);
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
            for child in row_divisions(db, division).await? {
                let code = &child.code;
                let mut t = rollups::CaseTimeliness::default();
                for (prefix, f) in &figures {
                    if code.starts_with(prefix.as_str()) {
                        t.add(f);
                    }
                }
                rows.push(vec![
                    ReportCell::Text(child.name_zh.clone()),
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
            let Some(report) = crate::coverage::report(db, &scope, division, today).await? else {
                return Ok(None);
            };
            // A village's one row is the report's total.
            let rows_of = if division.level() == DivisionLevel::Village {
                vec![crate::coverage::ChildCounts {
                    code: division.as_str().to_owned(),
                    name_zh: name_zh.clone(),
                    name_en: name_en.clone(),
                    counts: report.total,
                }]
            } else {
                report.children
            };
            for c in rows_of {
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
    Ok(Some(ReportTable {
        info: *info,
        rows_level: zhenxing_core::report_table::rows_level(division.level()),
        subtitle,
        columns,
        rows,
        footer: ReportFooter {
            unit_zh: name_zh,
            unit_en: name_en,
            filled_by: filled_by.to_owned(),
            reported_on: today.to_string(),
        },
    }))
}
