//! The statutory procedures on the web (issue 5): the cases of the viewer's division, the most
//! urgent first, with those near or past their time limit marked; one page per case with its
//! progress, every step signed and dated, its attachments, and a form for each step the viewer
//! may take now (`zhenxing_core::procedure::may_take`); the form that opens a case from a lead;
//! the printable public notice of a village; the time-limit settings; and the month's
//! completed cases in the national system's columns (录入建档). Reading needs `ReadCases`,
//! acting `WorkCases`, the settings `ManageSettings`, the national file `ExportRegistry`.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult, OutcomeExt};
use crate::extract::{CsrfForm, NoFields, trimmed};
use crate::pages::households::scoped_household;
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat, ListHead};
use crate::pages::place_names::Places;
use crate::pages::{
    Chrome, Fields, blank, render, render_form, risk_labels, saved_redirect, whole_days, yuan,
};
use crate::pages::{Params, page_number, parse_id, query_string};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::Value;
use time::{Date, Duration};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::china_time::{china_day, china_day_text};
use zhenxing_core::mask::mask_free_text;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::procedure::{
    CaseKind, CaseState, Conditions, DayCounting, EliminationMethod, EmergencyCause,
    ProcedurePolicy, Stage, Step, StepKind, Urgency, VerificationForm, check_record_number,
    may_take,
};
use zhenxing_core::warning::WarningChannel;
use zhenxing_core::{Action, DivisionCode, DivisionLevel, Fen, Lang, MonitoringCategory, Text};
use zhenxing_io::ColumnSpec;
use zhenxing_store::procedures::{
    self, CaseFilter, CaseInboxQuery, CaseListRow, CaseRow, NoticeEntry, OpenRequest, StepRequest,
};
use zhenxing_store::snapshots::Month;

mod attachments;
mod detail;
mod inbox;
mod national;
mod notice;
mod open;
mod settings;
mod steps;

use attachments::*;
use detail::*;
use inbox::*;
use national::*;
use notice::*;
use open::*;
use settings::*;
use steps::*;

const PAGE_SIZE: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(inbox))
        .route("/cases.xlsx", get(export))
        .route("/cases.csv", get(export))
        .route("/cases/national", get(national_file))
        .route("/cases/{id}", get(detail))
        .route("/cases/{id}/steps/{step}", post(take_step))
        .route("/cases/{id}/attachments", post(upload))
        .route("/cases/{id}/attachments/{file}", get(download))
        .route("/cases/notifications/{id}/read", post(read_notification))
        .route(
            "/households/{no}/cases/new",
            get(open_form).post(open_submit),
        )
        .route("/notices/{village}", get(notice))
        .route(
            "/settings/procedures",
            get(settings_form).post(settings_save),
        )
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn label_of<T: Copy>(
    code: Option<&str>,
    parse: fn(&str) -> Option<T>,
    label: fn(T, Lang) -> &'static str,
    lang: Lang,
) -> String {
    code.and_then(parse)
        .map(|v| label(v, lang).to_owned())
        .unwrap_or_default()
}

/// "on time", "near" or "overdue" for the CSS class and the words beside it.
fn urgency_code(u: Urgency) -> &'static str {
    match u {
        Urgency::NotTimed => "",
        Urgency::OnTime => "on-time",
        Urgency::Near => "near",
        Urgency::Overdue => "overdue",
    }
}

/// The choices of a labelled enumeration (`T::ALL`), those `checked` says ticked.
fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T, Lang) -> &'static str,
    lang: Lang,
    checked: impl Fn(T) -> bool,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v),
            label: label(*v, lang).to_owned(),
            checked: checked(*v),
        })
        .collect()
}

struct Choice {
    code: &'static str,
    label: String,
    checked: bool,
}
