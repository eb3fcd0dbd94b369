//! Reading a registry file into households, with every problem reported at its row and column.
//! Nothing here touches the database: checks that need it (does the village exist, is an ID
//! number registered in another household) are the store's, and the importer maps its
//! conflicts back to rows with [`ParsedRegistry::rows_of`].

use super::columns::{COLUMNS, RegistryColumn, column_for_header};
use super::fields::{
    HouseholdFields, compare_household_fields, free_text, months, read_household_fields,
};
use super::report::{ImportReport, Problem};
use crate::sniff::FileKind;
use crate::table::{Cell, TableReader};
use crate::write::restore_neutralised;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use time::Date;
use zhenxing_core::enums::parse_yes_no;
use zhenxing_core::household::{FreeTextField, HouseholdDraft, HouseholdError};
use zhenxing_core::mask::{mask_free_text, mask_id_number, mask_phone};
use zhenxing_core::{
    DocumentNumber, Education, Fen, Health, Household, HouseholdNo, IdNumberError, IncomeItems,
    Labor, Member, PersonName, Relation, SchoolStatus, Sex, Text, checks, text,
};

/// A household's 帮扶责任人 cell, when not empty: the importer checks the names against the
/// household's pairings in force (the registry does not store them with the household).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadreCell {
    pub household_no: String,
    /// The household's first row, where the cell is checked.
    pub row: u64,
    pub names: Vec<String>,
}

/// The result of reading a file: households ready to write when the report has no problems.
pub struct ParsedRegistry {
    pub report: ImportReport,
    pub households: Vec<Household>,
    pub responsible_cadres: Vec<CadreCell>,
    /// First spreadsheet row of each household, parallel to `households`.
    first_rows: Vec<u64>,
    /// Spreadsheet row of each member, parallel to `households` and their members.
    member_rows: Vec<Vec<u64>>,
    layout: Option<Layout>,
}

impl ParsedRegistry {
    /// The header of a column as the file wrote it.
    pub fn header(&self, column: RegistryColumn) -> String {
        match &self.layout {
            Some(layout) => layout.header(column),
            None => column.info().header_zh.to_owned(),
        }
    }

    /// Finds rows by household number (and member ID number) for problems found later, e.g. by
    /// the store. Built once: O(households).
    pub fn locator(&self) -> RowLocator<'_> {
        RowLocator {
            parsed: self,
            index: self
                .households
                .iter()
                .enumerate()
                .map(|(i, h)| (h.household_no.as_str(), i))
                .collect(),
        }
    }
}

pub struct RowLocator<'a> {
    parsed: &'a ParsedRegistry,
    index: HashMap<&'a str, usize>,
}

impl RowLocator<'_> {
    /// The household's first row, or the row of its member with `id_number`; 0 if unknown.
    pub fn row(&self, household_no: &str, id_number: Option<&str>) -> u64 {
        let Some(&i) = self.index.get(household_no) else {
            return 0;
        };
        let first = self.parsed.first_rows[i];
        let offset = id_number.and_then(|id| {
            self.parsed.households[i]
                .members
                .iter()
                .position(|m| m.document.id().as_str() == id)
        });
        offset
            .map(|o| self.parsed.member_rows[i][o])
            .unwrap_or(first)
    }
}

struct Group {
    first_row: u64,
    fields: HouseholdFields,
    members: Vec<Member>,
    member_rows: Vec<u64>,
    /// A problem was reported for this household: it will not be built.
    refused: bool,
}

/// Where each registry column is in the file, and its header as written there.
struct Layout {
    index: HashMap<RegistryColumn, usize>,
    /// `index` as an array by column: the look-up of every cell of every row.
    slots: [Option<usize>; COLUMN_COUNT],
    headers: Vec<String>,
    /// A CSV file: its text cells may carry the apostrophe our CSV writer puts before a formula
    /// trigger (`crate::write::neutralise_formula`), which reading removes again.
    csv: bool,
}

const COLUMN_COUNT: usize = RegistryColumn::Dibao as usize + 1;

impl Layout {
    fn header(&self, column: RegistryColumn) -> String {
        match self.index.get(&column) {
            Some(&i) => self.headers[i].clone(),
            None => column.info().header_zh.to_owned(),
        }
    }
}

/// The text of a cell for a column; numbers are rendered as typed where that is exact.
fn cell_text(cell: Cell<'_>) -> Result<Cow<'_, str>, f64> {
    match cell {
        Cell::Empty => Ok(Cow::Borrowed("")),
        Cell::Text(s) => Ok(Cow::Borrowed(s.trim())),
        Cell::Number(n) => cell.as_text_lossless().map(Cow::Owned).ok_or(n),
    }
}

pub(super) struct RowReader<'r, 'a> {
    layout: &'a Layout,
    row: crate::table::Row<'r>,
    problems: Vec<Problem>,
}

impl<'r> RowReader<'r, '_> {
    fn raw(&self, column: RegistryColumn) -> Option<Cow<'r, str>> {
        let i = self.layout.slots[column as usize]?;
        match cell_text(self.row.get(i)) {
            Ok(Cow::Borrowed(s)) if self.layout.csv => Some(Cow::Borrowed(restore_neutralised(s))),
            Ok(s) => Some(s),
            // A fraction in a numeric cell: amounts keep it, other columns report it as is.
            Err(n) => Some(Cow::Owned(format!("{n}"))),
        }
    }

    pub(super) fn problem(&mut self, column: RegistryColumn, value: &str, reason: Text) {
        self.problems.push(Problem {
            row: self.row.number,
            column: self.layout.header(column),
            value: shown_value(column, value),
            reason,
        });
    }

    /// A value that must be present and parse.
    pub(super) fn required<T>(
        &mut self,
        column: RegistryColumn,
        parse: impl Fn(&str) -> Result<T, Text>,
    ) -> Option<T> {
        let raw = self.raw(column).unwrap_or_default();
        if raw.is_empty() {
            self.problem(column, "", text!("必填项为空", "required value is empty"));
            return None;
        }
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.problem(column, &raw, reason);
                None
            }
        }
    }

    /// A value that may be empty: `Some(None)` when empty, `None` when it does not parse.
    pub(super) fn optional<T>(
        &mut self,
        column: RegistryColumn,
        parse: impl Fn(&str) -> Result<T, Text>,
    ) -> Option<Option<T>> {
        let raw = self.raw(column).unwrap_or_default();
        if raw.is_empty() {
            return Some(None);
        }
        match parse(&raw) {
            Ok(v) => Some(Some(v)),
            Err(reason) => {
                self.problem(column, &raw, reason);
                None
            }
        }
    }

    fn id_number(&mut self, today: Date) -> Option<DocumentNumber> {
        let column = RegistryColumn::IdNumber;
        let Some(i) = self.layout.slots[column as usize] else {
            self.problem(column, "", text!("必填项为空", "required value is empty"));
            return None;
        };
        let cell = self.row.get(i);
        let raw = match cell_text(cell) {
            Ok(s) => s,
            Err(n) => {
                let shown = format!("{n:e}");
                self.problem(column, &shown, IdNumberError::StoredAsNumber.text());
                return None;
            }
        };
        if raw.is_empty() {
            self.problem(column, "", text!("必填项为空", "required value is empty"));
            return None;
        }
        match DocumentNumber::parse_at(&raw, today) {
            Ok(doc) => Some(doc),
            Err(e) => {
                self.problem(column, &raw, e.text());
                None
            }
        }
    }
}

/// A value as a report shows it: ID and phone numbers masked, and numbers typed into any other
/// column too, since reports get printed and mailed around (the row number finds the value in the
/// file).
fn shown_value(column: RegistryColumn, value: &str) -> String {
    match column {
        RegistryColumn::IdNumber => mask_id_number(value),
        RegistryColumn::Phone => mask_phone(value),
        _ => mask_free_text(value),
    }
}

fn read_member(r: &mut RowReader<'_, '_>, today: Date) -> Option<Member> {
    use RegistryColumn as C;
    let name = r.required(C::Name, |s| PersonName::parse(s).map_err(|e| e.text()));
    let document = r.id_number(today);
    let relation = r.required(C::Relation, Relation::parse);
    let sex = r.optional(C::Sex, Sex::parse);
    if let (Some(doc), Some(Some(sex))) = (&document, sex)
        && doc.id().sex() != sex
    {
        let (given, by_id) = (sex.zh(), doc.id().sex().zh());
        let (given_en, by_id_en) = (sex.en(), doc.id().sex().en());
        r.problem(C::Sex, given, text!(
                "性别“{given}”与证件号码不符（按第17位应为“{by_id}”）；请核对性别或证件号码",
                "sex '{given_en}' contradicts the ID number (digit 17 says '{by_id_en}'); check the sex or the ID number"
            ));
    }
    let member = Member {
        name: name?,
        document: document?,
        relation: relation?,
        ethnicity: r.optional(C::Ethnicity, free_text)?,
        education: r.optional(C::Education, Education::parse)?,
        school_status: r.optional(C::SchoolStatus, SchoolStatus::parse)?,
        health: r.required(C::Health, Health::parse)?,
        labor: r.required(C::Labor, Labor::parse)?,
        work_months: r.optional(C::WorkMonths, months)?,
        medical_insurance: r.required(C::MedicalInsurance, parse_yes_no)?,
        dibao: r.optional(C::Dibao, parse_yes_no)?,
    };
    Some(member)
}

/// Maps the header row; `None` when required columns are missing (nothing else can be read).
fn read_layout(headers: &[String], report: &mut ImportReport) -> Option<Layout> {
    let mut index = HashMap::new();
    for (i, header) in headers.iter().enumerate() {
        if header.trim().is_empty() {
            continue;
        }
        match column_for_header(header) {
            Some(column) => {
                if index.insert(column, i).is_some() {
                    report.problems.push(Problem {
                        row: 1,
                        column: header.clone(),
                        value: String::new(),
                        reason: text!(
                            "此列出现了两次；请删去其中一列",
                            "this column appears twice; delete one of them"
                        ),
                    });
                }
            }
            None => report.warnings.push(Problem {
                row: 1,
                column: header.clone(),
                value: String::new(),
                reason: text!(
                    "不是登记表的列，已忽略",
                    "not a column of the registry format; ignored"
                ),
            }),
        }
    }
    let mut complete = true;
    for info in COLUMNS.iter().filter(|c| c.required) {
        if !index.contains_key(&info.column) {
            complete = false;
            let (zh, en) = (info.header_zh, info.header_en);
            report.problems.push(Problem {
                row: 1,
                column: zh.to_owned(),
                value: String::new(),
                reason: text!(
                    "缺少必需的列“{zh}”；请在表头加上此列（中文“{zh}”或英文“{en}”）",
                    "the required column '{en}' is missing; add it to the header row (Chinese '{zh}' or English '{en}')"
                ),
            });
        }
    }
    (complete && report.problems.is_empty()).then(|| {
        let mut slots = [None; COLUMN_COUNT];
        for (column, i) in &index {
            slots[*column as usize] = Some(*i);
        }
        Layout {
            index,
            slots,
            headers: headers.to_vec(),
            csv: false,
        }
    })
}

/// The parsing state over the rows of one file.
struct Parser<'a> {
    layout: &'a Layout,
    today: Date,
    report: ImportReport,
    /// The households not yet handed on (streaming) or built, by group number: one or two when
    /// streaming, so memory stays bounded. Groups are numbered in the order they start.
    groups: FxHashMap<u32, Group>,
    group_count: usize,
    first_rows: Vec<u64>,
    numbers: Vec<Box<str>>,
    group_of: FxHashMap<Box<str>, u32>,
    /// Every ID number seen (by [`zhenxing_core::IdNumber::key`]): the row and household (group) it was first
    /// seen in. Compact because a registry holds millions.
    seen_ids: FxHashMap<u64, (u32, u32)>,
    last_group: Option<usize>,
    responsible_cadres: Vec<CadreCell>,
}

enum RowEffect {
    /// The row belongs to the household of the row before (or was refused).
    Same,
    /// The row starts a new household; the one before it, if any, is complete.
    Started { previous: Option<usize> },
    /// The row belongs to a household that was already handed on.
    Reopened,
}

impl<'a> Parser<'a> {
    fn new(layout: &'a Layout, today: Date, report: ImportReport) -> Parser<'a> {
        Parser {
            layout,
            today,
            report,
            groups: FxHashMap::default(),
            group_count: 0,
            first_rows: Vec::new(),
            numbers: Vec::new(),
            group_of: FxHashMap::default(),
            seen_ids: FxHashMap::default(),
            last_group: None,
            responsible_cadres: Vec::new(),
        }
    }

    fn take_row(&mut self, row: crate::table::Row<'_>) -> RowEffect {
        let number = row.number;
        let mut r = RowReader {
            layout: self.layout,
            row,
            problems: Vec::new(),
        };
        let Some(household_no) = r.required(RegistryColumn::HouseholdNo, |s| {
            HouseholdNo::parse(s).map_err(|e| e.text())
        }) else {
            self.report.problems.append(&mut r.problems);
            return RowEffect::Same;
        };
        let mut effect = RowEffect::Same;
        let group_index = match self
            .group_of
            .get(household_no.as_str())
            .map(|&g| g as usize)
        {
            Some(g) => match self.groups.get(&(g as u32)) {
                Some(group) => {
                    compare_household_fields(&mut r, &group.fields, group.first_row);
                    g
                }
                None => return RowEffect::Reopened,
            },
            None => {
                let fields = read_household_fields(&mut r, household_no.clone());
                // On the first row only: a later row that differs is reported as such.
                if let (Some(outcome), Some(category)) =
                    (&fields.outcome, fields.monitoring_category)
                {
                    outcome.check(category, &mut r);
                }
                if let Some(names) = fields.responsible_cadres.as_ref().filter(|n| !n.is_empty()) {
                    self.responsible_cadres.push(CadreCell {
                        household_no: household_no.as_str().to_owned(),
                        row: number,
                        names: names.iter().map(|n| n.as_str().to_owned()).collect(),
                    });
                }
                let g = self.group_count;
                self.group_count += 1;
                self.groups.insert(
                    g as u32,
                    Group {
                        first_row: number,
                        fields,
                        members: Vec::new(),
                        member_rows: Vec::new(),
                        refused: false,
                    },
                );
                self.first_rows.push(number);
                self.numbers.push(household_no.as_str().into());
                self.group_of.insert(household_no.as_str().into(), g as u32);
                effect = RowEffect::Started {
                    previous: self.last_group,
                };
                self.last_group = Some(g);
                g
            }
        };
        if let Some(member) = read_member(&mut r, self.today) {
            let id = member.document.id();
            match self.seen_ids.get(&id.key()) {
                Some(&(first_row, first_group)) => {
                    let first_group = first_group as usize;
                    let other = &self.numbers[first_group];
                    let shown = id.masked();
                    r.problem(RegistryColumn::IdNumber, &shown, if first_group == group_index {
                        text!("同一证件号码在本户第{first_row}行已出现", "the same ID number is already on row {first_row} of this household")
                    } else {
                        text!(
                            "同一证件号码已在第{first_row}行的户{other}中出现；一人只能属于一户",
                            "the same ID number is already on row {first_row}, in household {other}; a person belongs to one household only"
                        )
                    });
                }
                None => {
                    let row = u32::try_from(number).unwrap_or(u32::MAX);
                    self.seen_ids.insert(id.key(), (row, group_index as u32));
                    if let Some(group) = self.groups.get_mut(&(group_index as u32)) {
                        group.members.push(member);
                        group.member_rows.push(number);
                    }
                }
            }
        }
        if !r.problems.is_empty() {
            if let Some(group) = self.groups.get_mut(&(group_index as u32)) {
                group.refused = true;
            }
            self.report.problems.append(&mut r.problems);
        }
        effect
    }

    /// Builds a complete household; `None` if it was refused.
    fn finish_group(&mut self, g: usize) -> Option<(Household, u64, Vec<u64>)> {
        let group = self.groups.remove(&(g as u32))?;
        self.report.members += group.members.len() as u64;
        self.report.households += 1;
        if group.refused {
            return None;
        }
        build(group, self.layout, &mut self.report, self.today)
    }
}

/// Opens the file and reads its header; on failure the report says why.
fn open_table(path: &Path) -> Result<(TableReader, Layout, ImportReport), ImportReport> {
    let mut report = ImportReport {
        file: path.display().to_string(),
        ..Default::default()
    };
    let table = match TableReader::open(path) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(Problem {
                row: 0,
                column: String::new(),
                value: String::new(),
                reason: Text::new(e.zh(), e.en()),
            });
            return Err(report);
        }
    };
    match read_layout(table.headers(), &mut report) {
        Some(mut layout) => {
            layout.csv = matches!(table.kind(), FileKind::Csv(_));
            Ok((table, layout, report))
        }
        None => Err(report),
    }
}

/// Feeds every row of the table to `each`, recording read errors in the parser's report;
/// stops when `each` says so.
fn for_each_row(
    table: &mut TableReader,
    parser: &mut Parser<'_>,
    progress: &dyn Fn(u64),
    mut each: impl FnMut(&mut Parser<'_>, crate::table::Row<'_>) -> bool,
) {
    let mut read_problems = Vec::new();
    super::for_each_data_row(table, &mut read_problems, |row| {
        parser.report.rows += 1;
        if parser.report.rows.is_multiple_of(50_000) {
            progress(parser.report.rows);
        }
        each(parser, row)
    });
    parser.report.problems.append(&mut read_problems);
}

/// Reads a registry file (CSV in UTF-8, UTF-8 with BOM or GB18030; XLSX) into memory, whatever
/// the order of its rows. Never panics on input; every problem goes into the report.
pub fn parse_registry(path: &Path, today: Date, progress: &dyn Fn(u64)) -> ParsedRegistry {
    let mut parsed = ParsedRegistry {
        report: ImportReport::default(),
        households: Vec::new(),
        responsible_cadres: Vec::new(),
        first_rows: Vec::new(),
        member_rows: Vec::new(),
        layout: None,
    };
    let (mut table, layout, report) = match open_table(path) {
        Ok(opened) => opened,
        Err(report) => {
            parsed.report = report;
            return parsed;
        }
    };
    let mut parser = Parser::new(&layout, today, report);
    for_each_row(&mut table, &mut parser, progress, |parser, row| {
        parser.take_row(row);
        true
    });
    parser.seen_ids = FxHashMap::default();
    for g in 0..parser.group_count {
        if let Some((household, first_row, member_rows)) = parser.finish_group(g) {
            parsed.households.push(household);
            parsed.first_rows.push(first_row);
            parsed.member_rows.push(member_rows);
        }
    }
    let mut report = std::mem::take(&mut parser.report);
    report.sort();
    parsed.report = report;
    parsed.responsible_cadres = std::mem::take(&mut parser.responsible_cadres);
    parsed.layout = Some(layout);
    parsed
}

/// The result of streaming a file: the report, and where each household started.
pub struct StreamedRegistry {
    pub report: ImportReport,
    /// False when a household's rows were not together; the stream stopped there, and the
    /// caller reads the file again with [`parse_registry`].
    pub contiguous: bool,
    pub responsible_cadres: Vec<CadreCell>,
    /// The parser's own index, handed over as it is: household number → group, and each
    /// group's first row. Rebuilding it as one map would cost the writer a wait at the end.
    group_of: FxHashMap<Box<str>, u32>,
    first_rows: Vec<u64>,
    layout: Option<Layout>,
}

impl StreamedRegistry {
    pub fn first_row_of(&self, household_no: &str) -> u64 {
        self.group_of
            .get(household_no)
            .and_then(|&g| self.first_rows.get(g as usize))
            .copied()
            .unwrap_or(0)
    }

    pub fn header(&self, column: RegistryColumn) -> String {
        match &self.layout {
            Some(layout) => layout.header(column),
            None => column.info().header_zh.to_owned(),
        }
    }
}

/// Reads a registry file whose households' rows are together (as in every export), handing on
/// complete households in chunks of `chunk` as it goes, so that a caller can write while the
/// file is still being read and memory stays bounded. `emit` returns false to stop.
pub fn stream_registry(
    path: &Path,
    today: Date,
    progress: &dyn Fn(u64),
    chunk: usize,
    emit: &mut dyn FnMut(Vec<Household>) -> bool,
) -> StreamedRegistry {
    let mut streamed = StreamedRegistry {
        report: ImportReport::default(),
        contiguous: true,
        responsible_cadres: Vec::new(),
        group_of: FxHashMap::default(),
        first_rows: Vec::new(),
        layout: None,
    };
    let (mut table, layout, report) = match open_table(path) {
        Ok(opened) => opened,
        Err(report) => {
            streamed.report = report;
            return streamed;
        }
    };
    let mut parser = Parser::new(&layout, today, report);
    let mut ready: Vec<Household> = Vec::with_capacity(chunk);
    let mut stopped = false;
    for_each_row(
        &mut table,
        &mut parser,
        progress,
        |parser, row| match parser.take_row(row) {
            RowEffect::Same => true,
            RowEffect::Started { previous } => {
                if let Some((household, _, _)) = previous.and_then(|g| parser.finish_group(g)) {
                    ready.push(household);
                }
                if ready.len() >= chunk {
                    stopped = !emit(std::mem::replace(&mut ready, Vec::with_capacity(chunk)));
                }
                !stopped
            }
            RowEffect::Reopened => {
                streamed.contiguous = false;
                false
            }
        },
    );
    if streamed.contiguous && !stopped {
        if let Some((household, _, _)) = parser.last_group.and_then(|g| parser.finish_group(g)) {
            ready.push(household);
        }
        if !ready.is_empty() {
            emit(ready);
        }
    }
    let mut report = std::mem::take(&mut parser.report);
    report.sort();
    streamed.responsible_cadres = parser.responsible_cadres;
    streamed.group_of = parser.group_of;
    streamed.first_rows = parser.first_rows;
    streamed.report = report;
    streamed.layout = Some(layout);
    streamed
}

/// Builds one household and reports its structural errors and warnings.
fn build(
    group: Group,
    layout: &Layout,
    report: &mut ImportReport,
    today: Date,
) -> Option<(Household, u64, Vec<u64>)> {
    use RegistryColumn as C;
    let f = group.fields;
    let amounts: Option<Vec<Fen>> = f.amounts.iter().copied().collect();
    let amounts = amounts?;
    let income = IncomeItems::new(amounts[0], amounts[1], amounts[2], amounts[3], amounts[4])?;
    let draft = HouseholdDraft {
        household_no: f.household_no,
        division: f.division?,
        household_type: f.household_type?,
        lifted_out_year: f.lifted_out_year?,
        monitoring_category: f.monitoring_category?,
        phone: f.phone?,
        address: f.address?,
        village_group: f.village_group?,
        income,
        out_of_pocket: amounts[5],
        housing_safe: f.housing_safe?,
        water_safe: f.water_safe?,
        monitoring_outcome: f.outcome?.outcome,
        members: group.members,
    };
    let first_row = group.first_row;
    let member_rows = group.member_rows;
    let problem = |row: u64, column: C, value: String, reason: Text| Problem {
        row,
        column: layout.header(column),
        value,
        reason,
    };
    let relation_rows = |draft: &HouseholdDraft, wanted: Relation| -> Vec<u64> {
        draft
            .members
            .iter()
            .zip(&member_rows)
            .filter(|(m, _)| m.relation == wanted)
            .map(|(_, r)| *r)
            .collect()
    };
    let heads = relation_rows(&draft, Relation::Head);
    // Shown only for a refused household: rendered then, not for every household.
    let (year, category, division) = (
        draft.lifted_out_year,
        draft.monitoring_category,
        draft.division,
    );
    match draft.build() {
        Ok(household) => {
            for finding in checks::check_household(&household, today) {
                let row = finding.member.map(|i| member_rows[i]).unwrap_or(first_row);
                report.warnings.push(Problem {
                    row,
                    column: String::new(),
                    value: finding.code.code().to_owned(),
                    reason: finding.text,
                });
            }
            Some((household, first_row, member_rows))
        }
        Err(errors) => {
            let year_text = year.map(|y| y.to_string()).unwrap_or_default();
            let category_text = category.map(|c| c.zh().to_owned()).unwrap_or_default();
            let division_text = division.to_string();
            for error in errors {
                let reason = error.text();
                let found = match error {
                    HouseholdError::NoMembers | HouseholdError::DuplicateMember(_) => {
                        problem(first_row, C::HouseholdNo, String::new(), reason)
                    }
                    HouseholdError::NoHead => {
                        problem(first_row, C::Relation, String::new(), reason)
                    }
                    HouseholdError::SeveralHeads(_) => {
                        // Reported on every head after the first.
                        for &row in heads.iter().skip(2) {
                            report.problems.push(problem(
                                row,
                                C::Relation,
                                "户主".into(),
                                reason.clone(),
                            ));
                        }
                        problem(
                            heads.get(1).copied().unwrap_or(first_row),
                            C::Relation,
                            "户主".into(),
                            reason,
                        )
                    }
                    HouseholdError::LiftedOutYearMissing
                    | HouseholdError::LiftedOutYearForOrdinary(_)
                    | HouseholdError::LiftedOutYearOutOfRange(_) => {
                        problem(first_row, C::LiftedOutYear, year_text.clone(), reason)
                    }
                    HouseholdError::CategoryContradictsType(..) => problem(
                        first_row,
                        C::MonitoringCategory,
                        category_text.clone(),
                        reason,
                    ),
                    HouseholdError::NotAVillage(_) => {
                        problem(first_row, C::DivisionCode, division_text.clone(), reason)
                    }
                    // Refused where the cell is read; kept for completeness.
                    HouseholdError::Characters(FreeTextField::Address, _) => {
                        problem(first_row, C::Address, String::new(), reason)
                    }
                    HouseholdError::Characters(FreeTextField::Ethnicity(i), _) => problem(
                        member_rows.get(i).copied().unwrap_or(first_row),
                        C::Ethnicity,
                        String::new(),
                        reason,
                    ),
                };
                report.problems.push(found);
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_id_like_values() {
        assert_eq!(
            shown_value(RegistryColumn::IdNumber, "500229199001010010"),
            "500229********0010"
        );
        // Shown whole before the masking rules became one (`zhenxing_core::mask`): a short value
        // in the ID column may still be most of somebody's number.
        assert_eq!(shown_value(RegistryColumn::IdNumber, "123"), "***");
        assert_eq!(
            shown_value(RegistryColumn::Phone, "13900230001"),
            "139****0001"
        );
        assert_eq!(shown_value(RegistryColumn::Phone, "123"), "***");
        assert_eq!(shown_value(RegistryColumn::Name, "王"), "王");
    }
}
