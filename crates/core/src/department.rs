//! Other departments' data (DOMAIN.md 1.6, 部门筛查预警): the kinds of file the bureau receives,
//! the values their columns take, and what one matched record says about a household
//! ([`Signal`]). The rules that turn signals into a warning are the rule set's, in
//! [`crate::monitoring::Prepared::classify_department`]; the file formats are in
//! `zhenxing-io` (`department`), documented in `docs/department-formats.md`.
//!
//! What an allowance record means (the decision, also in the format documentation): an
//! allowance **granted** (低保, 特困供养 or 临时救助 发放) means the household is already
//! assisted by the safety net: it is context that explains a warning raised by another record,
//! and never raises one alone. An allowance **stopped** (停发) is a signal: the household has
//! lost part of its transfer income, and a cadre should check that it does not fall back
//! (rule `allowance_stopped`, risk type 其他). A **death** is a signal too (rule `member_died`,
//! risk type 其他): the household's labour, income and size change and the registry must be
//! updated.

use crate::IdNumber;
use crate::enums::labelled_enum;
use crate::lang::Text;
use crate::money::Fen;
use crate::text;
use serde::Serialize;
use time::Date;

labelled_enum!(
    /// The departments whose files are screened, one file format each.
    DepartmentKind, "部门数据类别", "department data kind", [
    (Medical, "medical", "医保", "medical insurance"),
    (Education, "education", "教育", "education"),
    (Housing, "housing", "住建", "housing"),
    (Disaster, "disaster", "应急", "emergency management"),
    (CivilAffairs, "civil_affairs", "民政", "civil affairs"),
    (Unemployment, "unemployment", "人社", "human resources"),
]);

impl DepartmentKind {
    /// The `source` of the warnings this kind of file raises.
    pub fn source(self) -> String {
        format!("department:{}", self.code())
    }

    /// The department that sends the file, in words.
    pub fn department(self) -> Text {
        let (zh, en) = match self {
            DepartmentKind::Medical => ("医疗保障部门", "the medical insurance bureau"),
            DepartmentKind::Education => ("教育部门", "the education bureau"),
            DepartmentKind::Housing => ("住房城乡建设部门", "the housing and construction bureau"),
            DepartmentKind::Disaster => ("应急管理部门", "the emergency management bureau"),
            DepartmentKind::CivilAffairs => ("民政部门", "the civil affairs bureau"),
            DepartmentKind::Unemployment => (
                "人力资源社会保障部门",
                "the human resources and social security bureau",
            ),
        };
        Text::new(zh, en)
    }
}

labelled_enum!(
    /// 学籍状态 in an education bureau's file.
    EnrolmentStatus, "学籍状态", "enrolment status", [
    (Enrolled, "enrolled", "在读", "enrolled"),
    (DroppedOut, "dropped_out", "辍学", "dropped out"),
    (NotEnrolled, "not_enrolled", "未入学", "not enrolled"),
]);

labelled_enum!(
    /// 房屋安全性鉴定等级 (A to D); C is locally dangerous, D dangerous as a whole.
    HousingGrade, "房屋安全等级", "housing safety grade", [
    (A, "a", "A级", "grade A"),
    (B, "b", "B级", "grade B"),
    (C, "c", "C级", "grade C"),
    (D, "d", "D级", "grade D"),
]);

impl HousingGrade {
    /// C and D are dangerous houses (危房).
    pub fn is_unsafe(self) -> bool {
        matches!(self, HousingGrade::C | HousingGrade::D)
    }

    /// Also accepts `A`, `a`, `A级`, `grade a`, full-width letters.
    pub fn parse_loose(input: &str) -> Result<HousingGrade, Text> {
        let folded: String = input
            .trim()
            .chars()
            .map(|c| match c {
                'Ａ'..='Ｚ' | 'ａ'..='ｚ' => char::from_u32(c as u32 - 0xFEE0)
                    .unwrap_or(c)
                    .to_ascii_lowercase(),
                _ => c.to_ascii_lowercase(),
            })
            .collect();
        let bare = folded
            .trim_end_matches('级')
            .trim_start_matches("grade")
            .trim();
        HousingGrade::from_code(bare).map_or_else(|| HousingGrade::parse(input), Ok)
    }
}

labelled_enum!(
    /// 因自然灾害子项 (national dictionary 100A271).
    DisasterKind, "灾害类别", "disaster kind", [
    (Flood, "flood", "洪涝", "flood"),
    (Geological, "geological", "地质", "geological hazard"),
    (Drought, "drought", "旱灾", "drought"),
    (Biological, "biological", "生物", "biological hazard"),
    (Weather, "weather", "气象", "severe weather"),
    (Earthquake, "earthquake", "地震", "earthquake"),
    (Other, "other", "其他", "other"),
]);

labelled_enum!(
    /// 医疗类别 of a medical insurance settlement: outpatient settlements are also summed per
    /// calendar month (rule `outpatient_out_of_pocket`).
    CareType, "医疗类别", "type of care", [
    (Outpatient, "outpatient", "门诊", "outpatient"),
    (Inpatient, "inpatient", "住院", "inpatient"),
]);

impl CareType {
    /// Also accepts the names medical insurance systems give the kinds of outpatient care
    /// (普通门诊, 门诊慢特病, 急诊 …) and 住院治疗.
    pub fn parse_loose(input: &str) -> Result<CareType, Text> {
        match input.trim() {
            "普通门诊" | "门诊慢特病" | "门诊慢病" | "门诊特病" | "门慢" | "门特" | "门急诊"
            | "急诊" | "门诊统筹" => Ok(CareType::Outpatient),
            "住院治疗" | "普通住院" => Ok(CareType::Inpatient),
            other => CareType::parse(other),
        }
    }
}

labelled_enum!(
    /// The social assistance a civil affairs record is about.
    AllowanceKind, "救助类别", "assistance kind", [
    (Dibao, "dibao", "低保", "minimum living allowance (dibao)"),
    (ExtremePoverty, "extreme_poverty", "特困", "extreme-poverty support"),
    (Temporary, "temporary", "临时救助", "temporary assistance"),
]);

labelled_enum!(
    /// What a civil affairs record reports.
    CivilEvent, "事项", "event", [
    (Granted, "granted", "发放", "granted"),
    (Stopped, "stopped", "停发", "stopped"),
    (Died, "died", "死亡", "died"),
]);

/// What one matched department record says about a household. `member` is the member's
/// index in the household as the registry holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A medical insurance settlement: 合规自付 (out of pocket after reimbursement);
    /// `outpatient` when the file says it was outpatient care (门诊).
    OutOfPocket {
        amount: Fen,
        date: Date,
        outpatient: bool,
    },
    /// A child's enrolment status.
    Enrolment {
        member: u16,
        status: EnrolmentStatus,
        date: Date,
    },
    /// A housing safety assessment of the household's house.
    Housing { grade: HousingGrade, date: Date },
    /// A disaster loss reported for the household.
    Disaster {
        loss: Fen,
        kind: DisasterKind,
        date: Date,
    },
    /// Social assistance granted or stopped.
    Allowance {
        member: u16,
        kind: AllowanceKind,
        stopped: bool,
        date: Date,
    },
    /// A member's costs of non-compulsory schooling (高中, 中职, 高校 …) in the school year that
    /// starts in `school_year`.
    SchoolCosts {
        member: u16,
        school_year: u16,
        amount: Fen,
    },
    /// A member's death.
    Died { member: u16, date: Date },
    /// A member registered as unemployed.
    Unemployed { member: u16, date: Date },
}

/// Where the records behind a warning came from: the department, the upload and the rows of
/// the file (as a spreadsheet numbers them).
#[derive(Debug, Clone, Copy)]
pub struct DepartmentSource<'a> {
    pub kind: DepartmentKind,
    pub upload_id: i64,
    pub file: &'a str,
    pub rows: &'a [u64],
}

/// At most this many row numbers are named in a reason; the rest are counted.
const ROWS_NAMED: usize = 10;

impl DepartmentSource<'_> {
    /// "来源：医疗保障部门数据，第7次上传“claims.csv”第12、40行".
    pub fn text(&self) -> Text {
        let department = self.kind.department();
        let (dzh, den) = (department.zh, department.en);
        let (id, file) = (self.upload_id, self.file);
        let shown = &self.rows[..self.rows.len().min(ROWS_NAMED)];
        let list = |sep: &str| {
            shown
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(sep)
        };
        let (rows_zh, rows_en) = (list("、"), list(", "));
        let more = self.rows.len() - shown.len();
        let (more_zh, more_en) = if more > 0 {
            (
                format!("等{}行", self.rows.len()),
                format!(" and {more} more"),
            )
        } else {
            ("行".to_owned(), String::new())
        };
        let plural = if self.rows.len() == 1 { "row" } else { "rows" };
        text!(
            "来源：{dzh}数据，上传编号{id}“{file}”第{rows_zh}{more_zh}",
            "source: data from {den}, upload {id} \"{file}\", {plural} {rows_en}{more_en}"
        )
    }
}

/// What one record of a file says, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordData {
    Medical {
        settlement_no: String,
        hospital: String,
        #[serde(serialize_with = "yuan")]
        out_of_pocket: Fen,
        /// 医疗类别, when the file has the column and the row a value.
        #[serde(
            serialize_with = "code_of_care",
            skip_serializing_if = "Option::is_none"
        )]
        care_type: Option<CareType>,
    },
    Education {
        #[serde(serialize_with = "code_of_status")]
        status: EnrolmentStatus,
        school: Option<String>,
        /// A school year's non-compulsory schooling costs, when the row reports them.
        #[serde(skip_serializing_if = "Option::is_none")]
        costs: Option<SchoolYearCosts>,
    },
    Housing {
        #[serde(serialize_with = "code_of_grade")]
        grade: HousingGrade,
    },
    Disaster {
        #[serde(serialize_with = "code_of_disaster")]
        disaster_kind: DisasterKind,
        #[serde(serialize_with = "yuan")]
        loss: Fen,
    },
    CivilAffairs {
        #[serde(serialize_with = "code_of_event")]
        event: CivilEvent,
        #[serde(serialize_with = "code_of_allowance")]
        assistance_kind: Option<AllowanceKind>,
    },
    Unemployment,
}

/// What a household paid for a member's non-compulsory schooling (tuition, lodging, books …
/// after any aid) in one school year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SchoolYearCosts {
    /// The year the school year starts in: 2025 for 2025–2026.
    pub school_year: u16,
    #[serde(serialize_with = "yuan")]
    pub amount: Fen,
}

/// "2025—2026学年" / "school year 2025–2026".
pub fn school_year_text(start: u16) -> Text {
    let end = start.saturating_add(1);
    text!("{start}—{end}学年", "school year {start}–{end}")
}

fn yuan<S: serde::Serializer>(v: &Fen, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}
fn code_of_status<S: serde::Serializer>(v: &EnrolmentStatus, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.code())
}
fn code_of_care<S: serde::Serializer>(v: &Option<CareType>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(c) => s.serialize_str(c.code()),
        None => s.serialize_none(),
    }
}
fn code_of_grade<S: serde::Serializer>(v: &HousingGrade, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.code())
}
fn code_of_disaster<S: serde::Serializer>(v: &DisasterKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.code())
}
fn code_of_event<S: serde::Serializer>(v: &CivilEvent, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.code())
}
fn code_of_allowance<S: serde::Serializer>(
    v: &Option<AllowanceKind>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(k) => s.serialize_str(k.code()),
        None => s.serialize_none(),
    }
}

/// One accepted row of a department file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRecord {
    /// As a spreadsheet numbers it (header = 1).
    pub row: u64,
    pub id_number: IdNumber,
    pub date: Date,
    pub data: RecordData,
}

impl DepartmentRecord {
    /// What identifies the record whichever file it comes in: the same key twice is the same
    /// record (a medical settlement by its number; the other kinds by what they report and
    /// the day).
    pub fn natural_key(&self) -> String {
        let id = self.id_number.as_str();
        let date = self.date;
        match &self.data {
            RecordData::Medical { settlement_no, .. } => format!("medical|{id}|{settlement_no}"),
            // A school year's costs are another record than the status change of the same day
            // (records without costs keep the key they always had).
            RecordData::Education {
                status,
                costs: None,
                ..
            } => format!("education|{id}|{}|{date}", status.code()),
            RecordData::Education {
                status,
                costs: Some(c),
                ..
            } => format!(
                "education|{id}|{}|{date}|costs|{}",
                status.code(),
                c.school_year
            ),
            RecordData::Housing { grade } => format!("housing|{id}|{}|{date}", grade.code()),
            RecordData::Disaster { disaster_kind, .. } => {
                format!("disaster|{id}|{}|{date}", disaster_kind.code())
            }
            RecordData::CivilAffairs {
                event,
                assistance_kind,
            } => format!(
                "civil_affairs|{id}|{}|{}|{date}",
                event.code(),
                assistance_kind.map_or("", AllowanceKind::code)
            ),
            RecordData::Unemployment => format!("unemployment|{id}|{date}"),
        }
    }

    /// What the record says about the household of the member at index `member`: one signal,
    /// and a second for an education record that reports a school year's costs.
    pub fn signals(&self, member: u16) -> impl Iterator<Item = Signal> {
        let costs = match &self.data {
            RecordData::Education { costs: Some(c), .. } => Some(Signal::SchoolCosts {
                member,
                school_year: c.school_year,
                amount: c.amount,
            }),
            _ => None,
        };
        std::iter::once(self.signal(member)).chain(costs)
    }

    fn signal(&self, member: u16) -> Signal {
        let date = self.date;
        match &self.data {
            RecordData::Medical {
                out_of_pocket,
                care_type,
                ..
            } => Signal::OutOfPocket {
                amount: *out_of_pocket,
                date,
                outpatient: *care_type == Some(CareType::Outpatient),
            },
            RecordData::Education { status, .. } => Signal::Enrolment {
                member,
                status: *status,
                date,
            },
            RecordData::Housing { grade } => Signal::Housing {
                grade: *grade,
                date,
            },
            RecordData::Disaster {
                disaster_kind,
                loss,
            } => Signal::Disaster {
                loss: *loss,
                kind: *disaster_kind,
                date,
            },
            RecordData::CivilAffairs {
                event: CivilEvent::Died,
                ..
            } => Signal::Died { member, date },
            RecordData::CivilAffairs {
                event,
                assistance_kind,
            } => Signal::Allowance {
                member,
                kind: assistance_kind.unwrap_or(AllowanceKind::Dibao),
                stopped: *event == CivilEvent::Stopped,
                date,
            },
            RecordData::Unemployment => Signal::Unemployed { member, date },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn grades_parse_loosely() {
        for s in ["C", "c", "C级", "Ｃ", "grade C", " c "] {
            assert_eq!(HousingGrade::parse_loose(s), Ok(HousingGrade::C), "{s}");
        }
        assert!(HousingGrade::parse_loose("E").is_err());
        assert!(HousingGrade::D.is_unsafe() && !HousingGrade::B.is_unsafe());
    }

    #[test]
    fn the_source_names_the_department_upload_and_rows() {
        let rows = [12, 40];
        let s = DepartmentSource {
            kind: DepartmentKind::Medical,
            upload_id: 7,
            file: "claims.csv",
            rows: &rows,
        };
        let t = s.text();
        assert_eq!(
            t.zh,
            "来源：医疗保障部门数据，上传编号7“claims.csv”第12、40行"
        );
        assert!(
            t.en.contains("upload 7 \"claims.csv\", rows 12, 40"),
            "{}",
            t.en
        );
        let many: Vec<u64> = (2..20).collect();
        let t = DepartmentSource { rows: &many, ..s }.text();
        assert!(
            t.zh.ends_with("第2、3、4、5、6、7、8、9、10、11等18行"),
            "{}",
            t.zh
        );
        assert!(t.en.ends_with("and 8 more"), "{}", t.en);
        let _ = date!(2026 - 01 - 01);
    }
}
