//! A household's columns on a row: read, and compared between the rows of one household. The
//! values' own parsers (free text, money, years, months) are here too; the members' columns use
//! some of them.

use super::columns::RegistryColumn;
use super::outcome::{OutcomeCells, read_outcome};
use super::parse::RowReader;
use zhenxing_core::enums::parse_yes_no;
use zhenxing_core::household::{LIFTED_OUT_YEARS, list_items};
use zhenxing_core::text::{Lines, check_characters};
use zhenxing_core::{
    DivisionCode, Fen, HouseholdNo, HouseholdType, MonitoringCategory, PersonName, Phone, Text,
    VillageGroup, text,
};

/// What one household's columns said on its first row; `None` where the value was refused.
pub(super) struct HouseholdFields {
    pub(super) division: Option<DivisionCode>,
    pub(super) household_no: HouseholdNo,
    pub(super) household_type: Option<HouseholdType>,
    pub(super) lifted_out_year: Option<Option<u16>>,
    pub(super) monitoring_category: Option<Option<MonitoringCategory>>,
    pub(super) outcome: Option<OutcomeCells>,
    pub(super) phone: Option<Option<Phone>>,
    pub(super) address: Option<Option<String>>,
    pub(super) village_group: Option<Option<VillageGroup>>,
    /// 帮扶责任人, in the order written; empty when the cell is. Checked against the stored
    /// pairings by the importer, never written.
    pub(super) responsible_cadres: Option<Vec<PersonName>>,
    pub(super) amounts: [Option<Fen>; 6],
    pub(super) housing_safe: Option<Option<bool>>,
    pub(super) water_safe: Option<Option<bool>>,
}

const AMOUNT_COLUMNS: [RegistryColumn; 6] = [
    RegistryColumn::WageIncome,
    RegistryColumn::BusinessIncome,
    RegistryColumn::PropertyIncome,
    RegistryColumn::TransferIncome,
    RegistryColumn::BusinessExpense,
    RegistryColumn::OutOfPocket,
];

/// A one-line free text (address, ethnicity): refused at its cell when it holds a character no
/// text may hold, as the household's own check would refuse it.
pub(super) fn free_text(s: &str) -> Result<String, Text> {
    check_characters(s, Lines::One)
        .map(|()| s.to_owned())
        .map_err(|e| e.text())
}

pub(super) fn money(s: &str) -> Result<Fen, Text> {
    Fen::parse_non_negative(s).map_err(|e| e.text())
}

pub(super) fn year(s: &str) -> Result<u16, Text> {
    s.parse::<u16>()
        .ok()
        .filter(|y| LIFTED_OUT_YEARS.contains(y))
        .ok_or_else(|| {
            text!(
                "脱贫年度“{s}”应为2014至2020之间的年份",
                "year lifted out '{s}' must be a year from 2014 to 2020"
            )
        })
}

pub(super) fn months(s: &str) -> Result<u8, Text> {
    s.parse::<u8>().ok().filter(|m| *m <= 12).ok_or_else(|| {
        text!(
            "务工时间“{s}”应为0至12的整数（月）",
            "months of work '{s}' must be a whole number from 0 to 12"
        )
    })
}

/// Names listed in one cell, separated as in the health column.
fn person_names(s: &str) -> Result<Vec<PersonName>, Text> {
    list_items(s)
        .map(|name| PersonName::parse(name).map_err(|e| e.text()))
        .collect()
}

/// Names as one cell shows them.
pub(super) fn joined_names(names: &[PersonName]) -> String {
    names
        .iter()
        .map(PersonName::as_str)
        .collect::<Vec<_>>()
        .join("、")
}

pub(super) fn read_household_fields(
    r: &mut RowReader<'_, '_>,
    household_no: HouseholdNo,
) -> HouseholdFields {
    use RegistryColumn as C;
    let mut amounts = [None; 6];
    for (slot, column) in amounts.iter_mut().zip(AMOUNT_COLUMNS) {
        *slot = if column == C::OutOfPocket {
            r.optional(column, money).map(|v| v.unwrap_or(Fen::ZERO))
        } else {
            r.required(column, money)
        };
    }
    HouseholdFields {
        division: r.required(C::DivisionCode, |s| {
            DivisionCode::parse(s).map_err(|e| e.text())
        }),
        household_no,
        household_type: r.required(C::HouseholdType, HouseholdType::parse),
        lifted_out_year: r.optional(C::LiftedOutYear, year),
        monitoring_category: r.optional(C::MonitoringCategory, MonitoringCategory::parse),
        outcome: read_outcome(r),
        phone: r.optional(C::Phone, |s| Phone::parse(s).map_err(|e| e.text())),
        address: r.optional(C::Address, free_text),
        village_group: r.optional(C::VillageGroup, |s| {
            VillageGroup::parse(s).map_err(|e| e.message())
        }),
        responsible_cadres: r
            .optional(C::ResponsibleCadre, person_names)
            .map(Option::unwrap_or_default),
        amounts,
        housing_safe: r.optional(C::HousingSafe, parse_yes_no),
        water_safe: r.optional(C::WaterSafe, parse_yes_no),
    }
}

/// Reports household columns of a later row that disagree with the household's first row. The
/// values are compared as shown in the report (a phone number masked); values that are equal
/// as parsed show the same, so only those that differ are rendered and compared again.
pub(super) fn compare_household_fields(
    r: &mut RowReader<'_, '_>,
    first: &HouseholdFields,
    first_row: u64,
) {
    use RegistryColumn as C;
    let later = read_household_fields(r, first.household_no.clone());
    let differs = |r: &mut RowReader<'_, '_>,
                   column: RegistryColumn,
                   a: Option<String>,
                   b: Option<String>| {
        if let (Some(a), Some(b)) = (a, b)
            && a != b
        {
            r.problem(column, &b, text!(
                    "同一户的户级信息各行应一致：第{first_row}行此列为“{a}”",
                    "household columns must agree on every row of a household: row {first_row} has '{a}' here"
                ));
        }
    };
    let show = |o: Option<Option<String>>| o.map(|v| v.unwrap_or_default());
    if first.division != later.division {
        differs(
            r,
            C::DivisionCode,
            first.division.map(|d| d.to_string()),
            later.division.map(|d| d.to_string()),
        );
    }
    if first.household_type != later.household_type {
        differs(
            r,
            C::HouseholdType,
            first.household_type.map(|t| t.zh().into()),
            later.household_type.map(|t| t.zh().into()),
        );
    }
    if first.lifted_out_year != later.lifted_out_year {
        differs(
            r,
            C::LiftedOutYear,
            show(first.lifted_out_year.map(|y| y.map(|y| y.to_string()))),
            show(later.lifted_out_year.map(|y| y.map(|y| y.to_string()))),
        );
    }
    if first.monitoring_category != later.monitoring_category {
        differs(
            r,
            C::MonitoringCategory,
            show(first.monitoring_category.map(|c| c.map(|c| c.zh().into()))),
            show(later.monitoring_category.map(|c| c.map(|c| c.zh().into()))),
        );
    }
    if let (Some(first), Some(later)) = (&first.outcome, &later.outcome) {
        for (column, a, b) in first.differences(later) {
            differs(r, column, Some(a), Some(b));
        }
    }
    if first.phone != later.phone {
        differs(
            r,
            C::Phone,
            show(first.phone.clone().map(|p| p.map(|p| p.masked()))),
            show(later.phone.map(|p| p.map(|p| p.masked()))),
        );
    }
    if first.address != later.address {
        differs(
            r,
            C::Address,
            show(first.address.clone()),
            show(later.address),
        );
    }
    if first.responsible_cadres != later.responsible_cadres {
        differs(
            r,
            C::ResponsibleCadre,
            first.responsible_cadres.as_deref().map(joined_names),
            later.responsible_cadres.as_deref().map(joined_names),
        );
    }
    if first.village_group != later.village_group {
        differs(
            r,
            C::VillageGroup,
            show(
                first
                    .village_group
                    .clone()
                    .map(|g| g.map(|g| g.to_string())),
            ),
            show(later.village_group.map(|g| g.map(|g| g.to_string()))),
        );
    }
    for (i, column) in AMOUNT_COLUMNS.into_iter().enumerate() {
        if first.amounts[i] != later.amounts[i] {
            differs(
                r,
                column,
                first.amounts[i].map(|f| f.to_string()),
                later.amounts[i].map(|f| f.to_string()),
            );
        }
    }
    let yes_no = |o: Option<Option<bool>>| {
        show(o.map(|b| b.map(|b| zhenxing_core::enums::yes_no_zh(b).to_owned())))
    };
    if first.housing_safe != later.housing_safe {
        differs(
            r,
            C::HousingSafe,
            yes_no(first.housing_safe),
            yes_no(later.housing_safe),
        );
    }
    if first.water_safe != later.water_safe {
        differs(
            r,
            C::WaterSafe,
            yes_no(first.water_safe),
            yes_no(later.water_safe),
        );
    }
}
