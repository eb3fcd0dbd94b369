//! Identification and risk-elimination cases (issue 5): opened from a lead, moved step by step
//! as `zhenxing_core::procedure` allows, each step signed by the acting account and audited.
//!
//! - [`open_case`] opens a case on a household in the actor's scope.
//! - [`take_step`] applies a step with optimistic concurrency on `row_version`: of two people
//!   acting on one case at once, one succeeds and the other is told the page is stale. A step
//!   that completes a case writes the household's monitoring fields in the same transaction.
//! - [`inbox`] lists the cases of a scope, the most urgent first; [`case`] reads one with its
//!   steps and attachments; [`notices`] the notices a village has posted.
//! - [`attach`] keeps a scan or photo with a case.
//! - [`policy`] and [`set_policy`] read and change the time limits (the `settings` table).
//!
//! One file per job (issue 16): `open` (opening a case), `step` (taking a step), `completion`
//! (what a completed case writes), `reading` (a case, a household's cases), `lists` (the inbox),
//! `villages` (notifications and public notices), `attachments` and `limits` (the time limits),
//! `national` (the month's completed cases for the national system).
//! This file keeps the stored case ([`CaseRow`]) they all read; the paths above are re-exported
//! here, so callers name `procedures::…` as before.

mod attachments;
mod completion;
mod limits;
mod lists;
mod national;
mod open;
mod reading;
mod step;
mod villages;

use crate::coverage::parse_risk_types;
use crate::{Result, StoreError};
use serde::Serialize;
use time::Date;
use zhenxing_core::MonitoringCategory;
use zhenxing_core::procedure::{
    CaseKind, CaseState, EliminationMethod, EmergencyCause, ProcedurePolicy, Stage, Urgency,
};

pub use crate::outcome::Outcome;

pub use attachments::{attach, attachment};
pub use completion::{allows_measures_first, elimination_preconditions, elimination_refusal};
pub(crate) use limits::write_setting;
pub use limits::{policy, set_policy};
pub use lists::{
    CaseCounts, CaseFilter, CaseInboxQuery, CaseListRow, inbox, inbox_counts, inbox_total,
    overdue_by_village,
};
pub use national::{NationalEntry, national_entries};
pub use open::{OpenRequest, open_case};
pub use reading::{
    AttachmentInfo, CaseDetail, MonitoringView, StepRecord, case, household_cases, monitoring_view,
};
pub(crate) use step::step_details;
pub use step::{Moved, StepRequest, take_step};
pub use villages::{NoticeEntry, Notification, mark_read, notices, unread_notifications};

/// A case as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub county_code: String,
    pub household_no: String,
    pub division_code: String,
    pub kind: String,
    pub stage: String,
    pub lead_channel: Option<String>,
    pub warning_id: Option<i64>,
    pub emergency: Option<String>,
    pub opened_on: String,
    pub due_on: Option<String>,
    pub compared: bool,
    pub appraised_on: Option<String>,
    pub notice_starts_on: Option<String>,
    pub notice_ends_on: Option<String>,
    pub objections: String,
    pub category: Option<String>,
    pub risk_types: String,
    pub method: Option<String>,
    pub approved_on: Option<String>,
    pub closed_on: Option<String>,
    pub opened_by: String,
    pub row_version: i64,
    pub opened_at: String,
    pub updated_at: String,
    /// 录入建档: the day the completed case was entered in the national system, its number
    /// there, and who recorded it.
    pub national_recorded_on: Option<String>,
    pub national_record_number: Option<String>,
    pub national_recorded_by: Option<String>,
}

const CASE_COLUMNS: &str = "id, county_code, household_no, division_code, kind, stage, \
    lead_channel, warning_id, emergency, opened_on, due_on, compared, appraised_on, \
    notice_starts_on, notice_ends_on, objections, category, risk_types, method, approved_on, \
    closed_on, opened_by, row_version, opened_at, updated_at, national_recorded_on, \
    national_record_number, national_recorded_by";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("case {what} '{value}' does not parse"))
}

fn parse_day(what: &str, value: &str) -> Result<Date> {
    Date::parse(value, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| corrupt(what, value))
}

fn parse_opt_day(what: &str, value: Option<&str>) -> Result<Option<Date>> {
    value.map(|v| parse_day(what, v)).transpose()
}

impl CaseRow {
    pub fn kind(&self) -> Result<CaseKind> {
        CaseKind::from_code(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))
    }

    pub fn stage(&self) -> Result<Stage> {
        Stage::from_code(&self.stage).ok_or_else(|| corrupt("stage", &self.stage))
    }

    /// The state the core's state machine works on.
    pub fn state(&self) -> Result<CaseState> {
        let notice = match (
            parse_opt_day("notice start", self.notice_starts_on.as_deref())?,
            parse_opt_day("notice end", self.notice_ends_on.as_deref())?,
        ) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        Ok(CaseState {
            kind: self.kind()?,
            stage: self.stage()?,
            opened_on: parse_day("opening day", &self.opened_on)?,
            emergency: self
                .emergency
                .as_deref()
                .map(|c| EmergencyCause::from_code(c).ok_or_else(|| corrupt("emergency", c)))
                .transpose()?,
            compared: self.compared,
            appraised_on: parse_opt_day("appraisal day", self.appraised_on.as_deref())?,
            notice,
            objections: serde_json::from_str(&self.objections)
                .map_err(|_| corrupt("objections", &self.objections))?,
            category: self
                .category
                .as_deref()
                .map(|c| MonitoringCategory::from_code(c).ok_or_else(|| corrupt("category", c)))
                .transpose()?,
            risks: parse_risk_types(Some(&self.risk_types))?,
            method: self
                .method
                .as_deref()
                .map(|c| EliminationMethod::from_code(c).ok_or_else(|| corrupt("method", c)))
                .transpose()?,
            recorded_on: parse_opt_day("national entry day", self.national_recorded_on.as_deref())?,
        })
    }

    /// How the case stands against its time limit on `today`.
    pub fn urgency(&self, today: Date, policy: &ProcedurePolicy) -> Urgency {
        match (
            self.kind(),
            self.stage(),
            parse_day("opening day", &self.opened_on),
        ) {
            (Ok(kind), Ok(stage), Ok(opened)) => policy.urgency(kind, stage, opened, today),
            _ => Urgency::NotTimed,
        }
    }
}
