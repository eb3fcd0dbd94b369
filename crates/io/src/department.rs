//! Other departments' files (issue 4 item 3): one format per [`DepartmentKind`], keyed by
//! resident ID number, in CSV (UTF-8, UTF-8 with a BOM, GB18030) or XLSX, with Chinese or
//! English headers in any order. The formats are documented column by column in
//! `docs/department-formats.md`; [`columns`] is the catalogue (a test checks the two agree).
//!
//! [`parse_department`] reads a whole file and returns its records, or every problem with its
//! row, column, field, value (ID numbers masked) and what to do. Any problem refuses the whole
//! file. An ID number that is valid but not in the registry is not a problem here: matching is
//! the store's, and unmatched records are reported back, not refused.

use crate::registry::for_each_data_row;
use crate::table::{Cell, TableReader};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use time::{Date, Month};
use zhenxing_core::department::{
    AllowanceKind, CareType, CivilEvent, DepartmentKind, DisasterKind, EnrolmentStatus,
    HousingGrade, SchoolYearCosts,
};
pub use zhenxing_core::department::{DepartmentRecord, RecordData};
use zhenxing_core::mask::{mask_free_text, mask_id_number};
use zhenxing_core::{Fen, IdNumber, Lang, Text, text};

mod columns;
use columns::matches_header;
pub use columns::{Column, Field, columns};

/// A problem with a department file: where (row as a spreadsheet shows it, column header as
/// written, the format's field), the value (ID numbers masked) and what is wrong and what to
/// do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// 0 for the file as a whole, 1 for the header row.
    pub row: u64,
    pub column: String,
    /// The format's field name (`out_of_pocket`), empty for a whole row or file.
    pub field: String,
    pub value: String,
    pub reason: Text,
}

impl RowProblem {
    /// "第3行，列“合规自付金额（元）”（字段out_of_pocket），值“abc”：…".
    pub fn render(&self, lang: Lang) -> String {
        let mut out = match (lang, self.row) {
            (Lang::Zh, 0) => "文件".to_owned(),
            (Lang::En, 0) => "file".to_owned(),
            (Lang::Zh, r) => format!("第{r}行"),
            (Lang::En, r) => format!("row {r}"),
        };
        if !self.column.is_empty() {
            match lang {
                Lang::Zh => out.push_str(&format!("，列“{}”", self.column)),
                Lang::En => out.push_str(&format!(", column “{}”", self.column)),
            }
            if !self.field.is_empty() {
                match lang {
                    Lang::Zh => out.push_str(&format!("（字段{}）", self.field)),
                    Lang::En => out.push_str(&format!(" (field {})", self.field)),
                }
            }
        }
        if !self.value.is_empty() {
            match lang {
                Lang::Zh => out.push_str(&format!("，值“{}”", self.value)),
                Lang::En => out.push_str(&format!(", value “{}”", self.value)),
            }
        }
        out.push_str(match lang {
            Lang::Zh => "：",
            Lang::En => ": ",
        });
        out.push_str(self.reason.get(lang));
        out
    }
}

/// A department file read whole: its records when `problems` is empty.
#[derive(Debug, Clone, Default)]
pub struct ParsedDepartment {
    /// The file's name as shown to people.
    pub file: String,
    /// Data rows read (blank rows skipped).
    pub rows: u64,
    pub records: Vec<DepartmentRecord>,
    /// Any problem refuses the whole file.
    pub problems: Vec<RowProblem>,
    /// Columns that are not part of the format (ignored).
    pub warnings: Vec<RowProblem>,
}

impl ParsedDepartment {
    pub fn is_accepted(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Where each of the format's columns is in the file.
struct Layout {
    index: HashMap<Field, (usize, &'static Column)>,
    headers: Vec<String>,
}

impl Layout {
    fn header(&self, field: Field) -> String {
        self.index
            .get(&field)
            .map(|(i, _)| self.headers[*i].clone())
            .unwrap_or_default()
    }
}

fn whole_file(reason: Text) -> RowProblem {
    RowProblem {
        row: 0,
        column: String::new(),
        field: String::new(),
        value: String::new(),
        reason,
    }
}

fn read_layout(
    kind: DepartmentKind,
    headers: &[String],
    parsed: &mut ParsedDepartment,
) -> Option<Layout> {
    let format = columns(kind);
    let mut index: HashMap<Field, (usize, &'static Column)> = HashMap::new();
    for (i, header) in headers.iter().enumerate() {
        if header.trim().is_empty() {
            continue;
        }
        match format.iter().find(|c| matches_header(c, header)) {
            Some(c) => {
                if index.insert(c.field, (i, c)).is_some() {
                    parsed.problems.push(RowProblem {
                        row: 1,
                        column: header.clone(),
                        field: c.key.to_owned(),
                        value: String::new(),
                        reason: text!(
                            "此列出现了两次；请删去其中一列",
                            "this column appears twice; delete one of them"
                        ),
                    });
                }
            }
            None => {
                let (kzh, ken) = (kind.zh(), kind.en());
                parsed.warnings.push(RowProblem {
                    row: 1,
                    column: header.clone(),
                    field: String::new(),
                    value: String::new(),
                    reason: text!(
                        "不是{kzh}数据格式的列，已忽略",
                        "not a column of the {ken} format; ignored"
                    ),
                })
            }
        }
    }
    let missing: Vec<&Column> = format
        .iter()
        .filter(|c| c.required && !index.contains_key(&c.field))
        .collect();
    if !missing.is_empty() {
        // Another department's file? Say so: the columns alone cannot be fixed by adding them.
        let other = DepartmentKind::ALL.iter().copied().find(|k| {
            *k != kind
                && columns(*k)
                    .iter()
                    .filter(|c| c.required && c.field != Field::IdNumber)
                    .all(|c| headers.iter().any(|h| matches_header(c, h)))
        });
        if let Some(other) = other {
            let (kzh, ken, ozh, oen) = (kind.zh(), kind.en(), other.zh(), other.en());
            let code = other.code();
            parsed.problems.push(RowProblem {
                row: 1,
                column: String::new(),
                field: String::new(),
                value: String::new(),
                reason: text!(
                    "此文件的列是{ozh}数据的格式，不是所选的{kzh}数据；请选择类别“{ozh}”（{code}）重新上传，或选择正确的文件",
                    "this file has the columns of {oen} data, not of the {ken} data chosen; upload it again as kind '{oen}' ({code}), or choose the right file"
                ),
            });
        }
        for c in missing {
            let (zh, en, key) = (c.header_zh, c.header_en, c.key);
            parsed.problems.push(RowProblem {
                row: 1,
                column: zh.to_owned(),
                field: key.to_owned(),
                value: String::new(),
                reason: text!(
                    "缺少必需的列“{zh}”；请在表头加上此列（中文“{zh}”或英文“{en}”）",
                    "the required column '{en}' is missing; add it to the header row (Chinese '{zh}' or English '{en}')"
                ),
            });
        }
    }
    parsed.problems.is_empty().then(|| Layout {
        index,
        headers: headers.to_vec(),
    })
}

/// The text of a cell; numbers as typed where that is exact, else as the spreadsheet shows
/// them.
fn cell_text(cell: Cell<'_>) -> Cow<'_, str> {
    match cell {
        Cell::Empty => Cow::Borrowed(""),
        Cell::Text(s) => Cow::Borrowed(s.trim()),
        Cell::Number(n) => Cow::Owned(cell.as_text_lossless().unwrap_or_else(|| format!("{n}"))),
    }
}

/// Parses a date as departments' systems and spreadsheets write it.
pub fn parse_date(input: &str) -> Option<Date> {
    let s = input.trim();
    // A spreadsheet date with a time ("2026-03-01 00:00:00", "2026-03-01T08:30").
    let s = s.split([' ', 'T']).next().unwrap_or(s);
    let digits = |t: &str| !t.is_empty() && t.len() <= 4 && t.bytes().all(|b| b.is_ascii_digit());
    let (y, m, d) = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        (&s[..4], &s[4..6], &s[6..])
    } else if let Some(rest) = s.strip_suffix('日') {
        let (y, rest) = rest.split_once('年')?;
        let (m, d) = rest.split_once('月')?;
        (y, m, d)
    } else {
        let mut parts = s.split(['-', '/', '.']);
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    if y.len() != 4 || !digits(y) || !digits(m) || !digits(d) || m.len() > 2 || d.len() > 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// [`parse_date`], with what to write instead when it is not a date.
pub fn parse_date_or_why(s: &str) -> Result<Date, Text> {
    parse_date(s).ok_or_else(|| {
        text!(
            "“{s}”不是日期；请写成2026-03-01、2026/3/1、20260301或2026年3月1日",
            "'{s}' is not a date; write it as 2026-03-01, 2026/3/1, 20260301 or 2026年3月1日"
        )
    })
}

struct RowReader<'a, 'r> {
    layout: &'a Layout,
    row: crate::table::Row<'r>,
    problems: Vec<RowProblem>,
}

impl RowReader<'_, '_> {
    fn raw(&self, field: Field) -> Option<(String, &'static Column)> {
        let (i, c) = self.layout.index.get(&field)?;
        Some((cell_text(self.row.get(*i)).into_owned(), c))
    }

    fn problem(&mut self, field: Field, value: &str, reason: Text) {
        let key = self
            .layout
            .index
            .get(&field)
            .map(|(_, c)| c.key)
            .unwrap_or_default();
        self.problems.push(RowProblem {
            row: self.row.number,
            column: self.layout.header(field),
            field: key.to_owned(),
            // Reports get printed and mailed around: the row number finds the value in the file.
            value: match field {
                Field::IdNumber => mask_id_number(value),
                _ => mask_free_text(value),
            },
            reason,
        });
    }

    /// A value that must be present; `parse` says what is wrong and what to do.
    fn required<T>(&mut self, field: Field, parse: impl Fn(&str) -> Result<T, Text>) -> Option<T> {
        let (raw, c) = self.raw(field)?;
        if raw.is_empty() {
            let (vzh, ven) = (c.values_zh, c.values_en);
            self.problem(
                field,
                "",
                text!(
                    "必填项为空；请填写：{vzh}",
                    "required value is empty; fill in {ven}"
                ),
            );
            return None;
        }
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.problem(field, &raw, reason);
                None
            }
        }
    }

    fn optional_text(&mut self, field: Field) -> Option<String> {
        self.raw(field)
            .map(|(raw, _)| raw)
            .filter(|raw| !raw.is_empty())
    }

    fn id_number(&mut self, today: Date) -> Option<IdNumber> {
        let (i, _) = *self.layout.index.get(&Field::IdNumber)?;
        let cell = self.row.get(i);
        if let Cell::Number(n) = cell
            && cell.as_text_lossless().is_none()
        {
            self.problem(
                Field::IdNumber,
                &format!("{n:e}"),
                zhenxing_core::IdNumberError::StoredAsNumber.text(),
            );
            return None;
        }
        let raw = cell_text(cell);
        if raw.is_empty() {
            self.problem(
                Field::IdNumber,
                "",
                text!(
                    "必填项为空；请填写18位居民身份证号码",
                    "required value is empty; fill in the 18-digit resident ID number"
                ),
            );
            return None;
        }
        match IdNumber::parse_at(&raw, today) {
            Ok(id) => Some(id),
            Err(e) => {
                let reason = e.text();
                let (zh, en) = (reason.zh, reason.en);
                self.problem(
                    Field::IdNumber,
                    &raw,
                    text!(
                        "{zh}；在部门系统中改正后重新导出（整个文件未导入）",
                        "{en}; correct it in the department's system and export the file again (nothing was imported)"
                    ),
                );
                None
            }
        }
    }

    fn date(&mut self, today: Date) -> Option<Date> {
        self.required(Field::Date, |s| {
            let date = parse_date_or_why(s)?;
            if date > today {
                return Err(text!(
                    "日期{date}晚于今天（{today}）；部门数据只能报告已经发生的事，请核对日期",
                    "the date {date} is after today ({today}); department data reports what has happened: check the date"
                ));
            }
            Ok(date)
        })
    }
}

fn amount(s: &str) -> Result<Fen, Text> {
    Fen::parse_non_negative(s).map_err(|e| {
        let t = e.text();
        let (zh, en) = (t.zh, t.en);
        text!(
            "{zh}；请填写以元为单位、最多两位小数的非负数，如1234.50",
            "{en}; write a non-negative amount in yuan with at most 2 decimals, such as 1234.50"
        )
    })
}

fn short_text(max: usize) -> impl Fn(&str) -> Result<String, Text> {
    move |s: &str| {
        if s.chars().count() > max || s.chars().any(char::is_control) {
            Err(text!(
                "内容过长（最多{max}字）或含控制字符；请核对",
                "too long (at most {max} characters) or holds control characters; check it"
            ))
        } else {
            Ok(s.to_owned())
        }
    }
}

/// The first school year a department file may report costs for; earlier ones are typos.
const FIRST_SCHOOL_YEAR: u16 = 2000;

/// A school year as education systems write it: `2025-2026`, `2025—2026学年`, `2025/26`,
/// `2025学年` or `2025` (the year it starts in). Not one that starts after this year.
pub fn parse_school_year(input: &str, today: Date) -> Result<u16, Text> {
    let s = input.trim();
    let bare = s.strip_suffix("学年").unwrap_or(s).trim();
    let wrong = || {
        text!(
            "“{s}”不是学年；请写成2025-2026或2025—2026学年（开始的年份在前）",
            "'{s}' is not a school year; write it as 2025-2026 (the year it starts in first)"
        )
    };
    let year = |t: &str| {
        (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u16>().ok())
            .flatten()
    };
    let mut parts = bare
        .split(['-', '—', '–', '/', '~', '～', '至'])
        .map(str::trim);
    let start = parts.next().and_then(year).ok_or_else(wrong)?;
    match (parts.next(), parts.next()) {
        (None, _) => {}
        (Some(end), None)
            if year(end) == Some(start + 1)
                || (end.len() == 2 && end.parse::<u16>().ok() == Some((start + 1) % 100)) => {}
        _ => return Err(wrong()),
    }
    let this_year = u16::try_from(today.year()).unwrap_or(u16::MAX);
    if !(FIRST_SCHOOL_YEAR..=this_year).contains(&start) {
        let end = start + 1;
        return Err(text!(
            "学年{start}—{end}不在{FIRST_SCHOOL_YEAR}年至今年（{this_year}年）开始的学年之内；请核对",
            "the school year {start}–{end} does not start between {FIRST_SCHOOL_YEAR} and this year ({this_year}); check it"
        ));
    }
    Ok(start)
}

/// An education row's school year and costs: both or neither.
fn school_costs(r: &mut RowReader<'_, '_>, today: Date) -> Result<Option<SchoolYearCosts>, ()> {
    let has_year_column = r.layout.index.contains_key(&Field::SchoolYear);
    match (
        r.optional_text(Field::SchoolYear),
        r.optional_text(Field::SchoolCosts),
    ) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => {
            let school_year = r.required(Field::SchoolYear, |s| parse_school_year(s, today));
            let amount = r.required(Field::SchoolCosts, amount);
            match (school_year, amount) {
                (Some(school_year), Some(amount)) => Ok(Some(SchoolYearCosts {
                    school_year,
                    amount,
                })),
                _ => Err(()),
            }
        }
        (Some(year), None) => {
            r.problem(
                Field::SchoolCosts,
                "",
                text!(
                    "填写了学年“{year}”，但非义务教育阶段费用为空；请填写该学年的费用，或删去学年",
                    "the school year '{year}' is given but the non-compulsory schooling costs are empty; fill in that year's costs, or delete the school year"
                ),
            );
            Err(())
        }
        (None, Some(costs)) if has_year_column => {
            r.problem(
                Field::SchoolYear,
                "",
                text!(
                    "填写了非义务教育阶段费用{costs}，但学年为空；请填写费用所属学年，如2025-2026",
                    "non-compulsory schooling costs of {costs} are given but the school year is empty; fill in the school year of the costs, such as 2025-2026"
                ),
            );
            Err(())
        }
        (None, Some(costs)) => {
            r.problem(
                Field::SchoolCosts,
                &costs,
                text!(
                    "费用须注明所属学年；请在表头加上“学年”列（英文“School year”），并逐行填写，如2025-2026",
                    "costs need their school year; add the column '学年' (English 'School year') to the header row and fill it in, such as 2025-2026"
                ),
            );
            Err(())
        }
    }
}

fn civil_event(s: &str) -> Result<CivilEvent, Text> {
    match s.trim() {
        "享受" | "新增" | "发放中" => Ok(CivilEvent::Granted),
        "停保" | "退出" | "取消" => Ok(CivilEvent::Stopped),
        other => CivilEvent::parse(other),
    }
}

fn allowance_kind(s: &str) -> Result<AllowanceKind, Text> {
    match s.trim() {
        "最低生活保障" | "农村低保" => Ok(AllowanceKind::Dibao),
        "特困供养" | "特困人员" | "特困人员救助供养" => {
            Ok(AllowanceKind::ExtremePoverty)
        }
        other => AllowanceKind::parse(other),
    }
}

fn read_record(
    r: &mut RowReader<'_, '_>,
    kind: DepartmentKind,
    today: Date,
) -> Option<DepartmentRecord> {
    let id_number = r.id_number(today);
    let date = r.date(today);
    let data = match kind {
        DepartmentKind::Medical => {
            let settlement_no = r.required(Field::SettlementNo, short_text(64));
            let hospital = r.required(Field::Hospital, short_text(200));
            let out_of_pocket = r.required(Field::OutOfPocket, amount);
            // Optional: a settlement without it counts towards the total only.
            let care_type = match r.optional_text(Field::CareType) {
                None => Ok(None),
                Some(_) => r
                    .required(Field::CareType, CareType::parse_loose)
                    .map(Some)
                    .ok_or(()),
            };
            RecordData::Medical {
                settlement_no: settlement_no?,
                hospital: hospital?,
                out_of_pocket: out_of_pocket?,
                care_type: care_type.ok()?,
            }
        }
        DepartmentKind::Education => {
            let status = r.required(Field::EnrolmentStatus, EnrolmentStatus::parse);
            let school = r.optional_text(Field::School);
            let costs = school_costs(r, today);
            RecordData::Education {
                status: status?,
                school,
                costs: costs.ok()?,
            }
        }
        DepartmentKind::Housing => RecordData::Housing {
            grade: r.required(Field::Grade, HousingGrade::parse_loose)?,
        },
        DepartmentKind::Disaster => {
            let disaster_kind = r.required(Field::DisasterKind, DisasterKind::parse);
            let loss = r.required(Field::Loss, amount);
            RecordData::Disaster {
                disaster_kind: disaster_kind?,
                loss: loss?,
            }
        }
        DepartmentKind::CivilAffairs => {
            let event = r.required(Field::Event, civil_event)?;
            let raw = r.optional_text(Field::AllowanceKind);
            let assistance_kind = match (event, raw) {
                (CivilEvent::Died, None) => None,
                (CivilEvent::Died, Some(raw)) => {
                    r.problem(
                        Field::AllowanceKind,
                        &raw,
                        text!(
                            "事项为“死亡”时救助类别应留空；请删去此值，或把事项改为“发放”或“停发”",
                            "leave the assistance kind empty when the event is died; delete it, or make the event granted or stopped"
                        ),
                    );
                    return None;
                }
                (_, None) => {
                    r.problem(
                        Field::AllowanceKind,
                        "",
                        text!(
                            "事项为“发放”或“停发”时须填写救助类别：低保、特困或临时救助",
                            "an event granted or stopped needs the assistance kind: dibao, extreme-poverty support or temporary assistance"
                        ),
                    );
                    return None;
                }
                (_, Some(raw)) => match allowance_kind(&raw) {
                    Ok(k) => Some(k),
                    Err(reason) => {
                        r.problem(Field::AllowanceKind, &raw, reason);
                        return None;
                    }
                },
            };
            RecordData::CivilAffairs {
                event,
                assistance_kind,
            }
        }
        DepartmentKind::Unemployment => RecordData::Unemployment,
    };
    Some(DepartmentRecord {
        row: r.row.number,
        id_number: id_number?,
        date: date?,
        data,
    })
}

/// SHA-256 of a file's bytes, in hexadecimal: the same bytes uploaded twice are recognised.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Reads a department file of `kind` whole. Never panics on input; every problem is in
/// `problems` with its row, column and field.
pub fn parse_department(path: &Path, kind: DepartmentKind, today: Date) -> ParsedDepartment {
    let mut parsed = ParsedDepartment {
        file: crate::error::display_name(path),
        ..Default::default()
    };
    let mut table = match TableReader::open(path) {
        Ok(t) => t,
        Err(e) => {
            parsed.problems.push(whole_file(Text::new(e.zh(), e.en())));
            return parsed;
        }
    };
    let Some(layout) = read_layout(kind, table.headers(), &mut parsed) else {
        return parsed;
    };
    let mut read_problems = Vec::new();
    let mut first_row_of: HashMap<String, u64> = HashMap::new();
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut rows = 0u64;
    for_each_data_row(&mut table, &mut read_problems, |row| {
        rows += 1;
        let mut r = RowReader {
            layout: &layout,
            row,
            problems: Vec::new(),
        };
        if let Some(record) = read_record(&mut r, kind, today) {
            let key = record.natural_key();
            match first_row_of.get(&key) {
                Some(&first) => {
                    r.problem(
                        Field::IdNumber,
                        record.id_number.as_str(),
                        text!(
                            "与第{first}行是同一条记录（证件号码及识别该记录的各列相同）；请删去重复的一行",
                            "the same record as row {first} (same ID number and the columns that identify a record); delete the repeated row"
                        ),
                    );
                }
                None => {
                    first_row_of.insert(key, record.row);
                    records.push(record);
                }
            }
        }
        problems.append(&mut r.problems);
        true
    });
    for p in read_problems {
        problems.push(RowProblem {
            row: p.row,
            column: p.column,
            field: String::new(),
            value: p.value,
            reason: p.reason,
        });
    }
    if rows == 0 && problems.is_empty() {
        problems.push(whole_file(text!(
            "文件只有表头，没有数据行；请导出含数据的文件",
            "the file has a header but no data rows; export a file with data"
        )));
    }
    problems.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    parsed.rows = rows;
    parsed.problems = problems;
    parsed.records = if parsed.problems.is_empty() {
        records
    } else {
        Vec::new()
    };
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_forms_departments_write() {
        let d = Date::from_calendar_date(2026, Month::March, 1).unwrap();
        for s in [
            "2026-03-01",
            "2026/3/1",
            "2026.03.01",
            "20260301",
            "2026年3月1日",
            "2026-03-01 00:00:00",
            " 2026-3-1 ",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        for s in [
            "2026-02-30",
            "26-3-1",
            "2026-03",
            "abc",
            "",
            "2026-03-01-02",
            "202603011",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn every_kind_has_the_id_number_and_a_date() {
        for kind in DepartmentKind::ALL {
            let cols = columns(*kind);
            assert!(
                cols.iter()
                    .any(|c| c.field == Field::IdNumber && c.required)
            );
            assert!(cols.iter().any(|c| c.field == Field::Date && c.required));
            let mut keys: Vec<&str> = cols.iter().map(|c| c.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), cols.len(), "{kind:?}: keys are unique");
        }
    }
}
