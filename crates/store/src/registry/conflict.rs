//! Why a write is refused: the conflicts, per household, and how an importer shows them.

use serde::Serialize;

/// Why a write was refused, per household. `Debug` masks ID numbers.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// The household's village is not in the division table.
    UnknownDivision {
        household_no: String,
        division_code: String,
    },
    /// A member's ID number is registered in another household that this write leaves as is.
    IdNumberInAnotherHousehold {
        household_no: String,
        id_number: String,
        registered_in: String,
    },
    /// The same household number twice in one write, or (with `id_number`) the same person in
    /// two of its households. Importers report these first; the store refuses them anyway, since
    /// PostgreSQL's per-county unique constraints cannot.
    DuplicateInWrite {
        household_no: String,
        id_number: Option<String>,
    },
    /// The write would set or change the household's monitoring category (a new household
    /// with one counts), which only the procedures change; see [`MonitoringPermission`](super::MonitoringPermission).
    /// Codes of [`zhenxing_core::MonitoringCategory`]; `None` for not monitored.
    MonitoringOutsideProcedures {
        household_no: String,
        stored: Option<String>,
        written: Option<String>,
    },
}

impl std::fmt::Debug for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conflict::UnknownDivision {
                household_no,
                division_code,
            } => f
                .debug_struct("UnknownDivision")
                .field("household_no", household_no)
                .field("division_code", division_code)
                .finish(),
            Conflict::IdNumberInAnotherHousehold {
                household_no,
                id_number,
                registered_in,
            } => f
                .debug_struct("IdNumberInAnotherHousehold")
                .field("household_no", household_no)
                .field("id_number", &zhenxing_core::mask::mask_id_number(id_number))
                .field("registered_in", registered_in)
                .finish(),
            Conflict::DuplicateInWrite {
                household_no,
                id_number,
            } => f
                .debug_struct("DuplicateInWrite")
                .field("household_no", household_no)
                .field(
                    "id_number",
                    &id_number
                        .as_deref()
                        .map(zhenxing_core::mask::mask_id_number),
                )
                .finish(),
            Conflict::MonitoringOutsideProcedures {
                household_no,
                stored,
                written,
            } => f
                .debug_struct("MonitoringOutsideProcedures")
                .field("household_no", household_no)
                .field("stored", stored)
                .field("written", written)
                .finish(),
        }
    }
}

/// The registry field a conflict is about, so that an importer can point at its column (and,
/// for a member's ID number, at the member's row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictField<'a> {
    DivisionCode,
    HouseholdNo,
    IdNumber(&'a str),
    MonitoringCategory,
}

impl Conflict {
    pub fn household_no(&self) -> &str {
        match self {
            Conflict::UnknownDivision { household_no, .. }
            | Conflict::IdNumberInAnotherHousehold { household_no, .. }
            | Conflict::DuplicateInWrite { household_no, .. }
            | Conflict::MonitoringOutsideProcedures { household_no, .. } => household_no,
        }
    }

    pub fn field(&self) -> ConflictField<'_> {
        match self {
            Conflict::UnknownDivision { .. } => ConflictField::DivisionCode,
            Conflict::IdNumberInAnotherHousehold { id_number, .. }
            | Conflict::DuplicateInWrite {
                id_number: Some(id_number),
                ..
            } => ConflictField::IdNumber(id_number),
            Conflict::DuplicateInWrite {
                id_number: None, ..
            } => ConflictField::HouseholdNo,
            Conflict::MonitoringOutsideProcedures { .. } => ConflictField::MonitoringCategory,
        }
    }

    /// The value to show beside the conflict in a report: ID numbers masked, categories by
    /// their Chinese label (as registry files write them).
    pub fn shown_value(&self) -> String {
        match self {
            Conflict::UnknownDivision { division_code, .. } => division_code.clone(),
            Conflict::IdNumberInAnotherHousehold { id_number, .. }
            | Conflict::DuplicateInWrite {
                id_number: Some(id_number),
                ..
            } => zhenxing_core::mask::mask_id_number(id_number),
            Conflict::DuplicateInWrite {
                id_number: None,
                household_no,
            } => household_no.clone(),
            Conflict::MonitoringOutsideProcedures { written, .. } => {
                category_label(written.as_deref()).zh
            }
        }
    }

    pub fn text(&self) -> zhenxing_core::Text {
        use zhenxing_core::text;
        match self {
            Conflict::UnknownDivision { division_code, .. } => text!(
                "区划代码{division_code}不在登记库的区划表中；请核对代码，或先导入新的区划",
                "division code {division_code} is not in the registry's division table; check the code or import the new division first"
            ),
            Conflict::IdNumberInAnotherHousehold { registered_in, .. } => text!(
                "该证件号码已登记在户{registered_in}中；一人只能属于一户。如需迁户，请在同一文件中同时提交户{registered_in}（不含此人）",
                "this ID number is already registered in household {registered_in}; a person belongs to one household only. To move the person, include household {registered_in} (without them) in the same file"
            ),
            Conflict::DuplicateInWrite {
                id_number: None, ..
            } => text!(
                "同一户编号在本次写入中出现两次",
                "the same household number appears twice in this write"
            ),
            Conflict::DuplicateInWrite {
                id_number: Some(_), ..
            } => text!(
                "同一证件号码在本次写入的两户中出现；一人只能属于一户",
                "the same ID number is in two households of this write; a person belongs to one household only"
            ),
            Conflict::MonitoringOutsideProcedures {
                stored, written, ..
            } => {
                let (from, to) = (
                    category_label(stored.as_deref()),
                    category_label(written.as_deref()),
                );
                let (from_zh, to_zh, from_en, to_en) = (from.zh, to.zh, from.en, to.en);
                text!(
                    "监测对象类别不能由“{from_zh}”改为“{to_zh}”：它是监测程序的结果，只在识别纳入或风险消除程序办结时改变（见 docs/procedures.md），不能通过修改、接口或导入改变。zhenxing 启用前已认定的监测对象，由市级管理员用 zhenxing import registry 文件 --legacy-monitoring --reason 原因 导入",
                    "the monitoring category cannot change from '{from_en}' to '{to_en}': it is the outcome of the monitoring procedures and changes only when an identification or risk-elimination case completes (see docs/procedures.md), not through an edit, the API or an import. Households monitored before zhenxing are brought in by the municipal administrator with zhenxing import registry FILE --legacy-monitoring --reason REASON"
                )
            }
        }
    }
}

/// A stored category code by its labels; "none" for a household not monitored.
fn category_label(code: Option<&str>) -> zhenxing_core::Text {
    match code {
        None => zhenxing_core::Text::new("无", "none"),
        Some(c) => match zhenxing_core::MonitoringCategory::from_code(c) {
            Some(category) => zhenxing_core::Text::new(category.zh(), category.en()),
            None => zhenxing_core::Text::new(c, c),
        },
    }
}
