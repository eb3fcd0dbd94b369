//! The columns of each department's format: the catalogue [`columns`] (documented column by
//! column in `docs/department-formats.md`; a test checks the two agree) and how a header names
//! one of them.

use zhenxing_core::department::DepartmentKind;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    IdNumber,
    Name,
    Date,
    SettlementNo,
    Hospital,
    OutOfPocket,
    EnrolmentStatus,
    School,
    Grade,
    DisasterKind,
    Loss,
    Event,
    AllowanceKind,
    CareType,
    SchoolYear,
    SchoolCosts,
}

/// One column of a department format.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub field: Field,
    /// The field's stable name (also accepted as a header).
    pub key: &'static str,
    pub header_zh: &'static str,
    pub header_en: &'static str,
    /// Other headers departments' systems write for the same column.
    pub aliases: &'static [&'static str],
    pub required: bool,
    /// What the column holds, for the documentation and the messages.
    pub values_zh: &'static str,
    pub values_en: &'static str,
}

const fn col(
    field: Field,
    key: &'static str,
    header_zh: &'static str,
    header_en: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    values: (&'static str, &'static str),
) -> Column {
    Column {
        field,
        key,
        header_zh,
        header_en,
        aliases,
        required,
        values_zh: values.0,
        values_en: values.1,
    }
}

const ID: Column = col(
    Field::IdNumber,
    "id_number",
    "证件号码",
    "ID number",
    &["身份证号码", "身份证号", "公民身份号码", "身份证件号码"],
    true,
    (
        "18位居民身份证号码（15位旧号码亦可），按GB 11643校验",
        "18-digit resident ID number (the 15-digit legacy form too), checked per GB 11643",
    ),
);
const NAME: Column = col(
    Field::Name,
    "name",
    "姓名",
    "Name",
    &[],
    false,
    (
        "姓名（仅供核对，不参与比对）",
        "name (for reference; not used to match)",
    ),
);
const DATE_FORMS: (&str, &str) = (
    "日期，如2026-03-01、2026/3/1、20260301或2026年3月1日；不得晚于今天",
    "a date such as 2026-03-01, 2026/3/1, 20260301 or 2026年3月1日; not after today",
);

const MEDICAL: &[Column] = &[
    ID,
    NAME,
    col(
        Field::SettlementNo,
        "settlement_no",
        "结算单号",
        "Settlement number",
        &["结算ID", "结算流水号"],
        true,
        (
            "医保结算单号（与证件号码一起识别一笔结算）",
            "the settlement's number (with the ID number, identifies one settlement)",
        ),
    ),
    col(
        Field::Date,
        "settlement_date",
        "结算日期",
        "Settlement date",
        &[],
        true,
        DATE_FORMS,
    ),
    col(
        Field::Hospital,
        "hospital",
        "医疗机构",
        "Hospital",
        &["定点医疗机构", "医疗机构名称"],
        true,
        ("定点医疗机构名称", "name of the hospital or clinic"),
    ),
    col(
        Field::OutOfPocket,
        "out_of_pocket",
        "合规自付金额（元）",
        "Out-of-pocket amount (yuan)",
        &["合规自付金额", "政策范围内自付金额（元）"],
        true,
        (
            "报销后个人负担的合规自付金额，元，最多两位小数，不小于0",
            "the compliant amount paid by the patient after reimbursement, in yuan, at most 2 decimals, not negative",
        ),
    ),
    col(
        Field::CareType,
        "care_type",
        "医疗类别",
        "Type of care",
        &["就诊类型", "就医类型", "就诊类别"],
        false,
        (
            "门诊或住院（普通门诊、门诊慢特病、急诊按门诊）；可留空；门诊结算按月合计",
            "outpatient or inpatient (普通门诊, 门诊慢特病 and 急诊 count as outpatient); may be empty; outpatient claims are summed per month",
        ),
    ),
];

const EDUCATION: &[Column] = &[
    ID,
    NAME,
    col(
        Field::EnrolmentStatus,
        "enrolment_status",
        "学籍状态",
        "Enrolment status",
        &[],
        true,
        (
            "在读、辍学或未入学",
            "enrolled, dropped out or not enrolled",
        ),
    ),
    col(
        Field::Date,
        "status_date",
        "状态日期",
        "Status date",
        &["变动日期"],
        true,
        DATE_FORMS,
    ),
    col(
        Field::School,
        "school",
        "学校",
        "School",
        &["学校名称"],
        false,
        ("学校名称", "name of the school"),
    ),
    col(
        Field::SchoolYear,
        "school_year",
        "学年",
        "School year",
        &["费用学年", "就读学年"],
        false,
        (
            "费用所属学年，如2025-2026或2025—2026学年；与非义务教育阶段费用同时填写",
            "the school year of the costs, such as 2025-2026; given together with the costs",
        ),
    ),
    col(
        Field::SchoolCosts,
        "non_compulsory_costs",
        "非义务教育阶段费用（元）",
        "Non-compulsory schooling costs (yuan)",
        &["非义务教育阶段费用", "非义务教育阶段教育费用（元）"],
        false,
        (
            "该学年高中、中职或高校阶段家庭负担的学费、住宿费等（扣除资助后），元，最多两位小数，不小于0；与学年同时填写",
            "tuition, lodging and other costs the household paid that school year for senior high, vocational or higher education (after any aid), in yuan, at most 2 decimals, not negative; given together with the school year",
        ),
    ),
];

const HOUSING: &[Column] = &[
    ID,
    NAME,
    col(
        Field::Grade,
        "safety_grade",
        "鉴定等级",
        "Safety grade",
        &["房屋安全等级", "危房等级"],
        true,
        (
            "A、B、C或D（C级、D级为危房）",
            "A, B, C or D (C and D are dangerous houses)",
        ),
    ),
    col(
        Field::Date,
        "assessment_date",
        "鉴定日期",
        "Assessment date",
        &[],
        true,
        DATE_FORMS,
    ),
];

const DISASTER: &[Column] = &[
    ID,
    NAME,
    col(
        Field::DisasterKind,
        "disaster_kind",
        "灾害类别",
        "Disaster kind",
        &["灾种"],
        true,
        (
            "洪涝、地质、旱灾、生物、气象、地震或其他",
            "flood, geological hazard, drought, biological hazard, severe weather, earthquake or other",
        ),
    ),
    col(
        Field::Date,
        "disaster_date",
        "受灾日期",
        "Disaster date",
        &[],
        true,
        DATE_FORMS,
    ),
    col(
        Field::Loss,
        "loss",
        "损失金额（元）",
        "Loss (yuan)",
        &["直接经济损失（元）"],
        true,
        (
            "该户直接经济损失，元，最多两位小数，不小于0",
            "the household's direct economic loss, in yuan, at most 2 decimals, not negative",
        ),
    ),
];

const CIVIL_AFFAIRS: &[Column] = &[
    ID,
    NAME,
    col(
        Field::Event,
        "event",
        "事项",
        "Event",
        &["变动类型"],
        true,
        ("发放、停发或死亡", "granted, stopped or died"),
    ),
    col(
        Field::AllowanceKind,
        "assistance_kind",
        "救助类别",
        "Assistance kind",
        &[],
        true,
        (
            "低保、特困或临时救助；事项为“死亡”时留空",
            "dibao, extreme-poverty support or temporary assistance; empty when the event is died",
        ),
    ),
    col(
        Field::Date,
        "event_date",
        "日期",
        "Date",
        &["变动日期", "死亡日期"],
        true,
        DATE_FORMS,
    ),
];

const UNEMPLOYMENT: &[Column] = &[
    ID,
    NAME,
    col(
        Field::Date,
        "registration_date",
        "失业登记日期",
        "Unemployment registration date",
        &["登记日期"],
        true,
        DATE_FORMS,
    ),
];

/// The columns of a kind's format.
pub fn columns(kind: DepartmentKind) -> &'static [Column] {
    match kind {
        DepartmentKind::Medical => MEDICAL,
        DepartmentKind::Education => EDUCATION,
        DepartmentKind::Housing => HOUSING,
        DepartmentKind::Disaster => DISASTER,
        DepartmentKind::CivilAffairs => CIVIL_AFFAIRS,
        DepartmentKind::Unemployment => UNEMPLOYMENT,
    }
}

pub(super) fn matches_header(c: &Column, header: &str) -> bool {
    let key = crate::registry::header_key(header);
    crate::registry::header_key(c.header_zh) == key
        || crate::registry::header_key(c.header_en) == key
        || c.key == key
        || c.aliases
            .iter()
            .any(|a| crate::registry::header_key(a) == key)
}
