//! The standard monthly report tables (issue 6 item 4) as data: the catalogue of reports
//! (code, Chinese and English titles, sheet name) and a filled [`ReportTable`] of cells.
//!
//! Four parts share this one shape so that no table is built twice: `core` holds it, the store
//! fills it (`zhenxing_store::report_tables`), `io` writes it as XLSX or CSV
//! (`zhenxing_io::reports`), and the CLI and the web pages show it.

/// One of the standard reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportInfo {
    /// The name on the command line and in the web address.
    pub code: &'static str,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    /// The worksheet's name (at most 31 characters, none of `[]:*?/\`).
    pub sheet_zh: &'static str,
}

impl ReportInfo {
    pub fn title(&self, lang: crate::Lang) -> &'static str {
        match lang {
            crate::Lang::Zh => self.title_zh,
            crate::Lang::En => self.title_en,
        }
    }

    /// The title for a table whose rows are divisions of `rows` level: the municipality's
    /// table is "分区县…" (by county), a county's names its townships ("分乡镇（街道）…"), a
    /// township's its villages ("分村（社区）…").
    pub fn title_for(&self, lang: crate::Lang, rows: crate::DivisionLevel) -> String {
        let (zh, en) = match rows {
            crate::DivisionLevel::Province | crate::DivisionLevel::County => {
                ("分区县", "by county")
            }
            crate::DivisionLevel::Township => ("分乡镇（街道）", "by township"),
            crate::DivisionLevel::Village => ("分村（社区）", "by village"),
        };
        match lang {
            crate::Lang::Zh => self.title_zh.replacen("分区县", zh, 1),
            crate::Lang::En => self.title_en.replacen("by county", en, 1),
        }
    }
}

/// The level of the rows of a division's report table: the divisions one level below it.
pub fn rows_level(division: crate::DivisionLevel) -> crate::DivisionLevel {
    match division {
        crate::DivisionLevel::Province => crate::DivisionLevel::County,
        crate::DivisionLevel::County => crate::DivisionLevel::Township,
        crate::DivisionLevel::Township | crate::DivisionLevel::Village => {
            crate::DivisionLevel::Village
        }
    }
}

/// The standard monthly tables, in the order the bureau sends them.
pub const REPORTS: [ReportInfo; 4] = [
    ReportInfo {
        code: "counts",
        title_zh: "分区县分类别户数和人数统计表",
        title_en: "Households and members by county and category",
        sheet_zh: "分类统计",
    },
    ReportInfo {
        code: "measures",
        title_zh: "分区县帮扶措施统计表",
        title_en: "Assistance measures by county and category",
        sheet_zh: "帮扶措施",
    },
    ReportInfo {
        code: "procedures",
        title_zh: "分区县识别和风险消除程序办理时效统计表",
        title_en: "Procedures and their timeliness by county",
        sheet_zh: "程序时效",
    },
    ReportInfo {
        code: "coverage",
        title_zh: "分区县帮扶覆盖检查问题统计表",
        title_en: "Coverage findings by county and rule",
        sheet_zh: "帮扶覆盖",
    },
];

/// The report named `code` (case-insensitive), if there is one.
pub fn find_report(code: &str) -> Option<&'static ReportInfo> {
    REPORTS
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code.trim()))
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Labels (division, category); not summed.
    Text,
    /// A count, summed in the totals row.
    Count,
    /// An amount in fen, shown in yuan, summed in the totals row.
    Yuan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportColumn {
    pub zh: String,
    pub en: String,
    pub kind: ColumnKind,
}

impl ReportColumn {
    pub fn new(zh: impl Into<String>, en: impl Into<String>, kind: ColumnKind) -> ReportColumn {
        ReportColumn {
            zh: zh.into(),
            en: en.into(),
            kind,
        }
    }
}

/// One cell: text for text columns, a number (a count, or fen) for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportCell {
    Text(String),
    Number(i64),
}

/// A report filled with figures, ready to show or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTable {
    pub info: ReportInfo,
    /// The level of the divisions its rows are (counties, townships or villages).
    pub rows_level: crate::DivisionLevel,
    /// The second line: division, month, and the day the figures are from, in both languages.
    pub subtitle: String,
    pub columns: Vec<ReportColumn>,
    pub rows: Vec<Vec<ReportCell>>,
    /// What an upward report carries under its table.
    pub footer: ReportFooter,
}

/// The footer of an upward report: 填报单位 (the division reported), 填表人 (the account or
/// operator that produced it), 审核人 (left blank: signed by hand on the printed table) and
/// 报出日期 (the day it was produced, Beijing time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportFooter {
    pub unit_zh: String,
    pub unit_en: String,
    pub filled_by: String,
    /// `YYYY-MM-DD`.
    pub reported_on: String,
}

impl ReportFooter {
    /// The footer's lines as (Chinese label, English label, value), in the order they are
    /// printed; the reviewer's value is empty.
    pub fn lines(&self, lang: crate::Lang) -> [(&'static str, &'static str, String); 4] {
        let unit = match lang {
            crate::Lang::Zh => self.unit_zh.clone(),
            crate::Lang::En => self.unit_en.clone(),
        };
        [
            ("填报单位", "Reporting unit", unit),
            ("填表人", "Prepared by", self.filled_by.clone()),
            ("审核人", "Reviewed by", String::new()),
            ("报出日期", "Date of report", self.reported_on.clone()),
        ]
    }
}

impl ReportTable {
    /// The title naming the level of its rows ([`ReportInfo::title_for`]).
    pub fn title(&self, lang: crate::Lang) -> String {
        self.info.title_for(lang, self.rows_level)
    }

    /// The totals of each column: `Some(sum)` for numeric columns, `None` for text.
    pub fn totals(&self) -> Vec<Option<i64>> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c.kind {
                ColumnKind::Text => None,
                _ => Some(
                    self.rows
                        .iter()
                        .map(|r| match r.get(i) {
                            Some(ReportCell::Number(n)) => *n,
                            _ => 0,
                        })
                        .sum(),
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_found_by_code_and_sheet_names_are_valid() {
        assert_eq!(find_report(" Counts ").map(|r| r.code), Some("counts"));
        assert!(find_report("nothing").is_none());
        for r in REPORTS {
            assert!(r.sheet_zh.chars().count() <= 31);
            assert!(!r.sheet_zh.contains(['[', ']', ':', '*', '?', '/', '\\']));
        }
    }

    #[test]
    fn a_title_names_the_level_of_its_rows() {
        use crate::{DivisionLevel, Lang};
        let counts = REPORTS[0];
        assert_eq!(
            counts.title_for(Lang::Zh, rows_level(DivisionLevel::Province)),
            "分区县分类别户数和人数统计表"
        );
        assert_eq!(
            counts.title_for(Lang::Zh, rows_level(DivisionLevel::County)),
            "分乡镇（街道）分类别户数和人数统计表"
        );
        for r in REPORTS {
            let en = r.title_for(Lang::En, DivisionLevel::Village);
            assert!(en.contains("by village"), "{en}");
            assert!(r.title_zh.starts_with("分区县"), "{}", r.title_zh);
        }
    }

    #[test]
    fn totals_sum_numbers_and_skip_text() {
        let table = ReportTable {
            info: REPORTS[0],
            rows_level: crate::DivisionLevel::County,
            subtitle: String::new(),
            columns: vec![
                ReportColumn::new("名称", "Name", ColumnKind::Text),
                ReportColumn::new("户", "Households", ColumnKind::Count),
                ReportColumn::new("金额", "Amount", ColumnKind::Yuan),
            ],
            rows: vec![
                vec![
                    ReportCell::Text("a".into()),
                    ReportCell::Number(2),
                    ReportCell::Number(150),
                ],
                vec![
                    ReportCell::Text("b".into()),
                    ReportCell::Number(5),
                    ReportCell::Number(-50),
                ],
            ],
            footer: ReportFooter::default(),
        };
        assert_eq!(table.totals(), vec![None, Some(7), Some(100)]);
    }
}
