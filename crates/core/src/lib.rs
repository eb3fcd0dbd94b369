//! The domain of zhenxing: the values a rural-revitalization registry holds and the rules over
//! them. Everything here is pure: no I/O, no async, no SQL, no HTTP. A value of a type from this
//! crate is valid by construction ("parse, don't validate"): the only way to get an [`IdNumber`]
//! is to parse one that passes GB 11643, and so on.
//!
//! Every message meant for a person is bilingual ([`Text`]): simplified Chinese and English.

pub mod access;
pub mod assistance;
pub mod calendar;
pub mod checks;
pub mod china_time;
pub mod coverage;
pub mod department;
pub mod division;
pub mod elimination;
pub mod enums;
pub mod history;
pub mod household;
pub mod id_number;
pub mod income;
pub mod lang;
pub mod mask;
pub mod money;
pub mod monitoring;
pub mod portal;
pub mod poverty;
pub mod procedure;
pub mod project;
pub mod report_table;
pub mod text;
pub mod village_group;
pub mod visit;
pub mod warning;
pub mod working_days;

pub use access::{Action, Role, Scope};
pub use checks::{Finding, FindingCode, Severity};
pub use division::{DivisionCode, DivisionCodeError, DivisionLevel};
pub use enums::{
    Education, HealthCondition, HouseholdType, Labor, MonitoringCategory, Relation, SchoolStatus,
    Sex,
};
pub use household::{Health, Household, HouseholdDraft, HouseholdError, Member};
pub use id_number::{Disability, DocumentNumber, IdNumber, IdNumberError};
pub use income::IncomeItems;
pub use lang::{Lang, Text};
pub use money::{Fen, MoneyError};
pub use text::{HouseholdNo, PersonName, Phone, TextError, UnitName};
pub use village_group::VillageGroup;
