//! The columns of the registry format, as in data/formats/registry-columns.csv (a test checks
//! that the two agree).

use crate::write::ColumnSpec;
use zhenxing_core::elimination::EliminationMethod;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::{
    Education, HealthCondition, HouseholdType, Labor, MonitoringCategory, Relation, SchoolStatus,
    Sex,
};

/// The five risk-type columns, in order: a household's risk types fill them from the first.
pub const RISK_TYPE_COLUMNS: [RegistryColumn; 5] = [
    RegistryColumn::RiskType1,
    RegistryColumn::RiskType2,
    RegistryColumn::RiskType3,
    RegistryColumn::RiskType4,
    RegistryColumn::RiskType5,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Household,
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistryColumn {
    DivisionCode,
    HouseholdNo,
    HouseholdType,
    LiftedOutYear,
    MonitoringCategory,
    IdentifiedOn,
    RiskType1,
    RiskType2,
    RiskType3,
    RiskType4,
    RiskType5,
    RiskEliminatedOn,
    EliminationMethod,
    ResponsibleCadre,
    Phone,
    Address,
    VillageGroup,
    WageIncome,
    BusinessIncome,
    PropertyIncome,
    TransferIncome,
    BusinessExpense,
    OutOfPocket,
    HousingSafe,
    WaterSafe,
    Name,
    IdNumber,
    Relation,
    Sex,
    Ethnicity,
    Education,
    SchoolStatus,
    Health,
    Labor,
    WorkMonths,
    MedicalInsurance,
    Dibao,
}

pub struct ColumnInfo {
    pub column: RegistryColumn,
    pub key: &'static str,
    pub header_zh: &'static str,
    pub header_en: &'static str,
    pub level: Level,
    pub required: bool,
}

macro_rules! columns {
    ($(($col:ident, $key:literal, $zh:literal, $en:literal, $level:ident, $req:literal)),+ $(,)?) => {
        pub const COLUMNS: &[ColumnInfo] = &[
            $(ColumnInfo {
                column: RegistryColumn::$col,
                key: $key,
                header_zh: $zh,
                header_en: $en,
                level: Level::$level,
                required: $req,
            }),+
        ];
    };
}

columns![
    (
        DivisionCode,
        "division_code",
        "行政区划代码",
        "Division code",
        Household,
        true
    ),
    (
        HouseholdNo,
        "household_no",
        "户编号",
        "Household number",
        Household,
        true
    ),
    (
        HouseholdType,
        "household_type",
        "户类型",
        "Household type",
        Household,
        true
    ),
    (
        LiftedOutYear,
        "lifted_out_year",
        "脱贫年度",
        "Year lifted out",
        Household,
        false
    ),
    (
        MonitoringCategory,
        "monitoring_category",
        "监测对象类别",
        "Monitoring category",
        Household,
        false
    ),
    (
        IdentifiedOn,
        "identified_on",
        "识别监测时间",
        "Identified on",
        Household,
        false
    ),
    (
        RiskType1,
        "risk_type_1",
        "致贫返贫风险1",
        "Risk type 1",
        Household,
        false
    ),
    (
        RiskType2,
        "risk_type_2",
        "致贫返贫风险2",
        "Risk type 2",
        Household,
        false
    ),
    (
        RiskType3,
        "risk_type_3",
        "致贫返贫风险3",
        "Risk type 3",
        Household,
        false
    ),
    (
        RiskType4,
        "risk_type_4",
        "致贫返贫风险4",
        "Risk type 4",
        Household,
        false
    ),
    (
        RiskType5,
        "risk_type_5",
        "致贫返贫风险5",
        "Risk type 5",
        Household,
        false
    ),
    (
        RiskEliminatedOn,
        "risk_eliminated_on",
        "风险消除时间",
        "Risk eliminated on",
        Household,
        false
    ),
    (
        EliminationMethod,
        "elimination_method",
        "风险消除方式",
        "Elimination method",
        Household,
        false
    ),
    (
        ResponsibleCadre,
        "responsible_cadre",
        "帮扶责任人",
        "Responsible cadre",
        Household,
        false
    ),
    (Phone, "phone", "联系电话", "Phone", Household, false),
    (Address, "address", "家庭住址", "Address", Household, false),
    (
        VillageGroup,
        "village_group",
        "村民小组",
        "Village group",
        Household,
        false
    ),
    (
        WageIncome,
        "wage_income",
        "工资性收入（元）",
        "Wage income (yuan)",
        Household,
        true
    ),
    (
        BusinessIncome,
        "business_income",
        "生产经营性收入（元）",
        "Business income (yuan)",
        Household,
        true
    ),
    (
        PropertyIncome,
        "property_income",
        "财产性收入（元）",
        "Property income (yuan)",
        Household,
        true
    ),
    (
        TransferIncome,
        "transfer_income",
        "转移性收入（元）",
        "Transfer income (yuan)",
        Household,
        true
    ),
    (
        BusinessExpense,
        "business_expense",
        "生产经营性支出（元）",
        "Business expense (yuan)",
        Household,
        true
    ),
    (
        OutOfPocket,
        "out_of_pocket",
        "合规自付支出（元）",
        "Compliant out-of-pocket spending (yuan)",
        Household,
        false
    ),
    (
        HousingSafe,
        "housing_safe",
        "住房是否安全",
        "Housing safe",
        Household,
        false
    ),
    (
        WaterSafe,
        "water_safe",
        "饮水是否安全",
        "Drinking water safe",
        Household,
        false
    ),
    (Name, "name", "姓名", "Name", Member, true),
    (IdNumber, "id_number", "证件号码", "ID number", Member, true),
    (
        Relation,
        "relation",
        "与户主关系",
        "Relation to head",
        Member,
        true
    ),
    (Sex, "sex", "性别", "Sex", Member, false),
    (Ethnicity, "ethnicity", "民族", "Ethnicity", Member, false),
    (
        Education,
        "education",
        "文化程度",
        "Education",
        Member,
        false
    ),
    (
        SchoolStatus,
        "school_status",
        "在校生状况",
        "School status",
        Member,
        false
    ),
    (Health, "health", "健康状况", "Health", Member, true),
    (Labor, "labor", "劳动技能", "Labour ability", Member, true),
    (
        WorkMonths,
        "work_months",
        "务工时间（月）",
        "Months of work away",
        Member,
        false
    ),
    (
        MedicalInsurance,
        "medical_insurance",
        "是否参加基本医疗保险",
        "Basic medical insurance",
        Member,
        true
    ),
    (
        Dibao,
        "dibao",
        "是否享受农村最低生活保障",
        "Rural minimum living allowance (dibao)",
        Member,
        false
    ),
];

impl RegistryColumn {
    pub fn info(self) -> &'static ColumnInfo {
        // COLUMNS lists every variant in declaration order.
        &COLUMNS[self as usize]
    }
}

/// Folds the ways people write a header: full-width or ASCII brackets, spaces, case.
pub(crate) fn header_key(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            _ => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Which registry column a header names, if any.
pub fn column_for_header(header: &str) -> Option<RegistryColumn> {
    let key = header_key(header);
    COLUMNS
        .iter()
        .find(|c| header_key(c.header_zh) == key || header_key(c.header_en) == key || c.key == key)
        .map(|c| c.column)
}

fn choices(values: &[&str]) -> Option<Vec<String>> {
    Some(values.iter().map(|v| v.to_string()).collect())
}

/// The columns of an export or template, with Chinese headers, text formatting for numbers that
/// must stay text, and the allowed values of enumerated columns.
pub fn template_columns() -> Vec<ColumnSpec> {
    COLUMNS
        .iter()
        .map(|c| {
            let mut spec = ColumnSpec::new(c.header_zh);
            spec.width = (c.header_zh.chars().count() as f64 * 2.2).max(10.0);
            let yes_no = choices(&["是", "否"]);
            match c.column {
                RegistryColumn::IdNumber => {
                    spec.text = true;
                    spec.width = 22.0;
                }
                RegistryColumn::Phone
                | RegistryColumn::DivisionCode
                | RegistryColumn::HouseholdNo => {
                    spec.text = true;
                    spec.width = 16.0;
                }
                RegistryColumn::HouseholdType => {
                    spec.choices = Some(HouseholdType::ALL.iter().map(|v| v.zh().into()).collect())
                }
                RegistryColumn::MonitoringCategory => {
                    spec.choices = Some(
                        MonitoringCategory::ALL
                            .iter()
                            .map(|v| v.zh().into())
                            .collect(),
                    )
                }
                RegistryColumn::RiskType1
                | RegistryColumn::RiskType2
                | RegistryColumn::RiskType3
                | RegistryColumn::RiskType4
                | RegistryColumn::RiskType5 => {
                    spec.choices = Some(RiskType::ALL.iter().map(|v| v.zh().into()).collect())
                }
                RegistryColumn::EliminationMethod => {
                    spec.choices = Some(
                        EliminationMethod::ALL
                            .iter()
                            .map(|v| v.zh().into())
                            .collect(),
                    )
                }
                RegistryColumn::Relation => {
                    spec.choices = Some(Relation::ALL.iter().map(|v| v.zh().into()).collect())
                }
                RegistryColumn::Sex => {
                    spec.choices = Some(Sex::ALL.iter().map(|v| v.zh().into()).collect())
                }
                RegistryColumn::Education => {
                    spec.choices = Some(Education::ALL.iter().map(|v| v.zh().into()).collect())
                }
                RegistryColumn::SchoolStatus => {
                    spec.choices = Some(SchoolStatus::ALL.iter().map(|v| v.zh().into()).collect())
                }
                // Combinations are allowed, so the list offers the single values only.
                RegistryColumn::Health => {
                    spec.choices =
                        Some(HealthCondition::ALL.iter().map(|v| v.zh().into()).collect())
                }
                RegistryColumn::Labor => {
                    spec.choices = Some(Labor::ALL.iter().map(|v| v.zh().into()).collect())
                }
                RegistryColumn::HousingSafe
                | RegistryColumn::WaterSafe
                | RegistryColumn::MedicalInsurance
                | RegistryColumn::Dibao => spec.choices = yes_no,
                RegistryColumn::LiftedOutYear
                | RegistryColumn::WageIncome
                | RegistryColumn::BusinessIncome
                | RegistryColumn::PropertyIncome
                | RegistryColumn::TransferIncome
                | RegistryColumn::BusinessExpense
                | RegistryColumn::OutOfPocket
                | RegistryColumn::WorkMonths => spec.number = true,
                _ => {}
            }
            spec
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_matches_the_documented_format() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/formats/registry-columns.csv"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), COLUMNS.len());
        for (row, info) in rows.iter().zip(COLUMNS) {
            assert_eq!(&row[0], info.key);
            assert_eq!(&row[1], info.header_zh);
            assert_eq!(&row[2], info.header_en);
            assert_eq!(&row[3] == "household", info.level == Level::Household);
            assert_eq!(&row[4] == "yes", info.required, "{}", info.key);
        }
        for (i, info) in COLUMNS.iter().enumerate() {
            assert_eq!(info.column as usize, i);
        }
    }

    #[test]
    fn headers_are_recognised_in_either_language() {
        assert_eq!(
            column_for_header(" 工资性收入(元) "),
            Some(RegistryColumn::WageIncome)
        );
        assert_eq!(
            column_for_header("WAGE INCOME (YUAN)"),
            Some(RegistryColumn::WageIncome)
        );
        assert_eq!(
            column_for_header("id_number"),
            Some(RegistryColumn::IdNumber)
        );
        assert_eq!(column_for_header("备注"), None);
    }
}
