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
    /// The write would set or change what the procedures recorded on the household (the
    /// category staying as stored); see [`MonitoringPermission`](super::MonitoringPermission).
    /// Values as stored ([`crate::records::MonitoringColumns`]); `None` for empty.
    OutcomeOutsideProcedures {
        household_no: String,
        field: MonitoringField,
        stored: Option<String>,
        written: Option<String>,
    },
}

/// A field that a completed case records on a household, besides the category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringField {
    IdentifiedOn,
    RiskTypes,
    RiskEliminatedOn,
    EliminationMethod,
}

impl MonitoringField {
    /// The field's name as the registry format's header says it.
    pub fn label(self) -> zhenxing_core::Text {
        use zhenxing_core::Text;
        match self {
            MonitoringField::IdentifiedOn => Text::new("识别监测时间", "Identified on"),
            MonitoringField::RiskTypes => Text::new("致贫返贫风险", "Risk types"),
            MonitoringField::RiskEliminatedOn => Text::new("风险消除时间", "Risk eliminated on"),
            MonitoringField::EliminationMethod => Text::new("风险消除方式", "Elimination method"),
        }
    }

    /// A stored value as a registry file writes it: dates as they are, risk types and the
    /// method by their Chinese names (codes that zhenxing does not know as they are).
    fn shown(self, stored: Option<&str>) -> zhenxing_core::Text {
        use zhenxing_core::Text;
        use zhenxing_core::elimination::EliminationMethod;
        use zhenxing_core::monitoring::RiskType;
        let Some(value) = stored else {
            return Text::new("空", "empty");
        };
        match self {
            MonitoringField::IdentifiedOn | MonitoringField::RiskEliminatedOn => {
                Text::new(value, value)
            }
            MonitoringField::RiskTypes => {
                let names = |label: fn(RiskType) -> &'static str| {
                    value
                        .split(',')
                        .map(|code| RiskType::from_code(code).map_or(code, label))
                        .collect::<Vec<_>>()
                };
                Text::new(
                    names(RiskType::zh).join("、"),
                    names(RiskType::en).join(", "),
                )
            }
            MonitoringField::EliminationMethod => match EliminationMethod::from_code(value) {
                Some(m) => Text::new(m.zh(), m.en()),
                None => Text::new(value, value),
            },
        }
    }
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
            Conflict::OutcomeOutsideProcedures {
                household_no,
                field,
                stored,
                written,
            } => f
                .debug_struct("OutcomeOutsideProcedures")
                .field("household_no", household_no)
                .field("field", field)
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
    Monitoring(MonitoringField),
}

impl Conflict {
    pub fn household_no(&self) -> &str {
        match self {
            Conflict::UnknownDivision { household_no, .. }
            | Conflict::IdNumberInAnotherHousehold { household_no, .. }
            | Conflict::DuplicateInWrite { household_no, .. }
            | Conflict::MonitoringOutsideProcedures { household_no, .. }
            | Conflict::OutcomeOutsideProcedures { household_no, .. } => household_no,
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
            Conflict::OutcomeOutsideProcedures { field, .. } => ConflictField::Monitoring(*field),
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
            Conflict::OutcomeOutsideProcedures { field, written, .. } => match written {
                Some(_) => field.shown(written.as_deref()).zh,
                None => String::new(),
            },
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
            Conflict::OutcomeOutsideProcedures {
                household_no,
                field,
                stored,
                written,
            } => {
                let (label, from, to) = (
                    field.label(),
                    field.shown(stored.as_deref()),
                    field.shown(written.as_deref()),
                );
                let (column_zh, column_en) = (label.zh, label.en);
                let (from_zh, to_zh, from_en, to_en) = (from.zh, to.zh, from.en, to.en);
                text!(
                    "户{household_no}的“{column_zh}”不能由“{from_zh}”改为“{to_zh}”：它由识别纳入或风险消除程序办结时记录（见 docs/procedures.md），不能通过修改、接口或导入改变。请在此列填写登记库中的值“{from_zh}”（重新导出的文件已包含）；zhenxing 启用前已认定的监测对象，由市级管理员用 zhenxing import registry 文件 --legacy-monitoring --reason 原因 导入",
                    "household {household_no}: '{column_en}' cannot change from '{from_en}' to '{to_en}': it is recorded when an identification or risk-elimination case completes (see docs/procedures.md), not through an edit, the API or an import. Write the registry's value '{from_en}' in this column (a fresh export has it); households monitored before zhenxing are brought in by the municipal administrator with zhenxing import registry FILE --legacy-monitoring --reason REASON"
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
