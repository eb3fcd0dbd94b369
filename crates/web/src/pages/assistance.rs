//! Assistance of one household (issue 5 item 3): its responsible cadres and its measures, with
//! the forms to pair a cadre, end a pairing, record a measure, mark it implemented or cancel
//! it. Reading needs `ReadCases`, writing `ManageAssistance`; both within the account's
//! division (outside it the household does not exist). Phone numbers show masked unless a role
//! that may reveal them asks to (an audited `personal_data.reveal`, as on the household page).
//! A form with mistakes comes back with each problem next to its field, the values kept and
//! nothing saved (422); a form made from a page that someone else changed since is refused
//! with words (409).

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult, OutcomeExt};
use crate::extract::CsrfForm;
use crate::pages::{Chrome, blank, render_form};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use time::Date;
use zhenxing_core::assistance::{
    FieldError, MeasureCategory, MeasureDraft, MeasureStatus, PairingDraft, PoliticalStatus,
};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::{Action, Fen, Lang, Sex, Text};
use zhenxing_store::assistance::{self, HouseholdAssistance, MeasureRow, PairingRow};
use zhenxing_store::{Outcome, Written};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/households/{no}/assistance", get(page))
        .route("/households/{no}/assistance/reveal", post(reveal))
        .route("/households/{no}/assistance/pairings", post(add_pairing))
        .route(
            "/households/{no}/assistance/pairings/{id}/end",
            post(end_pairing),
        )
        .route("/households/{no}/assistance/measures", post(add_measure))
        .route(
            "/households/{no}/assistance/measures/{id}/implement",
            post(implement),
        )
        .route(
            "/households/{no}/assistance/measures/{id}/cancel",
            post(cancel),
        )
}

/// The values of the two "new" forms, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct PairingForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    political_status: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct MeasureForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    implemented_on: String,
    #[serde(default)]
    risk: String,
}

/// A change to an existing pairing or measure: the version the page showed, a date or a reason.
#[derive(Deserialize)]
pub struct RowForm {
    version: String,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    /// The confirmation a dangerous action asks for (ending a pairing): `yes`.
    #[serde(default)]
    confirm: Option<String>,
}

/// Problems to show: per field of the "new" forms (`pairing-name`, `measure-content`, …), per
/// row (`pairing-3`, `measure-7`), or for the page.
#[derive(Default)]
pub struct Problems(Vec<(String, String)>);

impl Problems {
    /// The problem of a field or row, or "".
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    fn push(&mut self, key: impl Into<String>, text: &Text, lang: Lang) {
        self.0.push((key.into(), text.get(lang).to_owned()));
    }

    fn fields(&mut self, form: &str, errors: &[FieldError], lang: Lang) {
        for e in errors {
            self.push(format!("{form}-{}", e.field), &e.message, lang);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

struct PairingView {
    id: i64,
    name: String,
    sex: String,
    political_status: String,
    unit: String,
    phone: String,
    starts_on: String,
    ends_on: String,
    active: bool,
    version: i64,
}

struct MeasureView {
    id: i64,
    category: String,
    code_table: &'static str,
    kind: String,
    content: String,
    amount: String,
    starts_on: String,
    ends_on: String,
    status_code: String,
    status: String,
    implemented_on: String,
    risk: String,
    cancel_reason: String,
    version: i64,
}

#[derive(Template)]
#[template(path = "assistance.html")]
struct AssistancePage {
    c: Chrome,
    no: String,
    head_name: String,
    monitored: bool,
    pairings: Vec<PairingView>,
    measures: Vec<MeasureView>,
    can_manage: bool,
    can_reveal: bool,
    revealed: bool,
    today: String,
    problems: Problems,
    pairing_form: PairingForm,
    measure_form: MeasureForm,
    sexes: Vec<(&'static str, &'static str)>,
    political_statuses: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    risks: Vec<(&'static str, &'static str)>,
}

fn label<T: Copy>(
    code: Option<&str>,
    parse: fn(&str) -> Option<T>,
    l: impl Fn(T) -> &'static str,
) -> String {
    code.and_then(parse).map(l).unwrap_or_default().to_owned()
}

fn pairing_view(p: &PairingRow, lang: Lang, revealed: bool, today: Date) -> PairingView {
    PairingView {
        id: p.id,
        name: p.cadre_name.clone(),
        sex: label(p.sex.as_deref(), Sex::from_code, |s| s.label(lang)),
        political_status: label(
            p.political_status.as_deref(),
            PoliticalStatus::from_code,
            |s| s.label(lang),
        ),
        unit: p.unit.clone(),
        phone: if revealed {
            p.phone.clone()
        } else {
            p.masked_phone()
        },
        starts_on: p.starts_on.clone(),
        ends_on: p.ends_on.clone().unwrap_or_default(),
        active: p.ends_on.as_ref().is_none_or(|e| *e > today.to_string()),
        version: p.row_version,
    }
}

fn measure_view(m: &MeasureRow, lang: Lang) -> MeasureView {
    let category = m.category();
    MeasureView {
        id: m.id,
        category: category.map_or_else(|| m.category.clone(), |c| c.label(lang).to_owned()),
        code_table: category.map_or("", |c| c.code_table()),
        kind: category.map_or_else(String::new, |c| c.kind().label(lang).to_owned()),
        content: m.content.clone(),
        amount: m.amount.map(|a| Fen(a).to_string()).unwrap_or_default(),
        starts_on: m.starts_on.clone(),
        ends_on: m.ends_on.clone().unwrap_or_default(),
        status_code: m.status.clone(),
        status: m
            .status()
            .map_or_else(|| m.status.clone(), |s| s.label(lang).to_owned()),
        implemented_on: m.implemented_on.clone().unwrap_or_default(),
        risk: label(m.risk_type.as_deref(), RiskType::from_code, |r| {
            r.label(lang)
        }),
        cancel_reason: m.cancel_reason.clone().unwrap_or_default(),
        version: m.row_version,
    }
}

/// The household's assistance, if it lies in the viewer's division; reading needs `ReadCases`.
async fn load(state: &AppState, viewer: &Viewer, no: &str) -> AppResult<HouseholdAssistance> {
    let account = viewer.may(Action::ReadCases)?;
    if no.len() > 64 {
        return Err(AppError::NotFound);
    }
    assistance::household_assistance(&state.db, &account.scope(), no)
        .await?
        .ok_or(AppError::NotFound)
}

struct Shown {
    revealed: bool,
    problems: Problems,
    pairing_form: PairingForm,
    measure_form: MeasureForm,
}

impl Shown {
    fn plain() -> Shown {
        Shown {
            revealed: false,
            problems: Problems::default(),
            pairing_form: PairingForm::default(),
            measure_form: MeasureForm::default(),
        }
    }

    fn with_problems(problems: Problems) -> Shown {
        Shown {
            problems,
            ..Shown::plain()
        }
    }
}

async fn show(state: &AppState, viewer: &Viewer, no: &str, shown: Shown) -> AppResult<Response> {
    let a = load(state, viewer, no).await?;
    let account = viewer.may(Action::ReadCases)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let head_name = zhenxing_store::registry::household(&state.db, no)
        .await?
        .and_then(|(r, _)| r.head_name().map(str::to_owned))
        .unwrap_or_default();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("assistance-title"), a.household_no);
    let mut measure_form = shown.measure_form;
    if measure_form.status.is_empty() {
        measure_form.status = MeasureStatus::Planned.code().to_owned();
    }
    let revealed = shown.revealed;
    let page = AssistancePage {
        no: a.household_no.clone(),
        head_name,
        monitored: a.monitored,
        pairings: a
            .pairings
            .iter()
            .map(|p| pairing_view(p, lang, revealed, today))
            .collect(),
        measures: a.measures.iter().map(|m| measure_view(m, lang)).collect(),
        can_manage: account.may(Action::ManageAssistance),
        can_reveal: account.may(Action::RevealPersonalNumbers) && !a.pairings.is_empty(),
        revealed,
        today: today.to_string(),
        pairing_form: shown.pairing_form,
        measure_form,
        sexes: Sex::ALL.iter().map(|s| (s.code(), s.label(lang))).collect(),
        political_statuses: PoliticalStatus::ALL
            .iter()
            .map(|s| (s.code(), s.label(lang)))
            .collect(),
        categories: MeasureCategory::ALL
            .iter()
            .map(|m| {
                (
                    m.code(),
                    format!("{}（{}）", m.label(lang), m.kind().label(lang)),
                )
            })
            .collect(),
        statuses: [MeasureStatus::Planned, MeasureStatus::Implemented]
            .iter()
            .map(|s| (s.code(), s.label(lang)))
            .collect(),
        risks: RiskType::ALL
            .iter()
            .map(|r| (r.code(), r.label(lang)))
            .collect(),
        problems: shown.problems,
        c,
    };
    Ok(render_form(&page, !page.problems.is_empty()))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
) -> AppResult<Response> {
    show(&state, &viewer, &no, Shown::plain()).await
}

/// The page with the cadres' full phone numbers; every reveal is audited.
pub async fn reveal(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(form): CsrfForm<crate::pages::reveal::PurposeForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::RevealPersonalNumbers)?;
    let a = load(&state, &viewer, &no).await?;
    let purpose = form.check().map_err(AppError::BadRequest)?;
    let revealed = zhenxing_store::audit::Revealed {
        object_type: "household",
        object_id: a.household_no.clone(),
        county_code: a.county_code.clone(),
        division_code: a.division_code.clone(),
        reason: Some(format!("{purpose}；assistance: responsible cadres' phones")),
    };
    zhenxing_store::audit::record_reveal(&state.db, &account.name, revealed).await?;
    let shown = Shown {
        revealed: true,
        ..Shown::plain()
    };
    show(&state, &viewer, &no, shown).await
}

/// The right to manage assistance: 403 whatever the household.
fn may_manage(viewer: &Viewer) -> AppResult<&zhenxing_store::accounts::Account> {
    viewer.may(Action::ManageAssistance)
}

/// A date typed in a form (`YYYY-MM-DD`): `Ok(None)` when empty, the problem when malformed.
fn form_date(s: &str) -> Result<Option<Date>, Text> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    zhenxing_core::monitoring::parse_stored_date(s)
        .map(Some)
        .ok_or_else(|| {
            zhenxing_core::text!(
                "“{s}”不是日期；请按 年-月-日 填写，如 2026-05-01",
                "'{s}' is not a date; write year-month-day, e.g. 2026-05-01"
            )
        })
}

/// A required date: the problem goes under `key` when it is missing or malformed.
fn required_date(s: &str, key: &str, problems: &mut Problems, lang: Lang) -> Option<Date> {
    match form_date(s) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            problems.push(
                key,
                &Text::new("请填写日期（年-月-日）", "give the date (year-month-day)"),
                lang,
            );
            None
        }
        Err(e) => {
            problems.push(key, &e, lang);
            None
        }
    }
}

fn optional_date(s: &str, key: &str, problems: &mut Problems, lang: Lang) -> Option<Date> {
    form_date(s).unwrap_or_else(|e| {
        problems.push(key, &e, lang);
        None
    })
}

/// An optional choice by code: `None` when empty, the problem when unknown.
fn choice<T>(
    s: &str,
    parse: fn(&str) -> Result<T, Text>,
    key: &str,
    problems: &mut Problems,
    lang: Lang,
) -> Option<T> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    parse(s).map_err(|e| problems.push(key, &e, lang)).ok()
}

/// The built value, when neither the form's own checks nor the domain's found a problem (the
/// domain's go under the form's fields).
fn accepted<T>(
    built: Result<T, Vec<FieldError>>,
    form: &str,
    problems: &mut Problems,
    lang: Lang,
) -> Option<T> {
    match built {
        Ok(value) if problems.is_empty() => Some(value),
        Ok(_) => None,
        Err(errors) => {
            problems.fields(form, &errors, lang);
            None
        }
    }
}

/// What the store answered, as the answer to a form; `redo` shows the page again with the
/// refusal.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
    outcome: Outcome<Written>,
    key: String,
    redo: Shown,
) -> AppResult<Response> {
    match outcome.or_refused()? {
        Ok(_) => Ok(Redirect::to(&format!("/households/{no}/assistance")).into_response()),
        Err(reason) => {
            let mut shown = redo;
            shown.problems.push(key, &reason, viewer.lang);
            show(state, viewer, no, shown).await
        }
    }
}

pub async fn add_pairing(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(form): CsrfForm<PairingForm>,
) -> AppResult<Response> {
    let account = may_manage(&viewer)?;
    load(&state, &viewer, &no).await?;
    let lang = viewer.lang;
    let today = today_in_china();
    let mut problems = Problems::default();
    let sex = choice(&form.sex, Sex::parse, "pairing-sex", &mut problems, lang);
    let political_status = choice(
        &form.political_status,
        PoliticalStatus::parse,
        "pairing-political_status",
        &mut problems,
        lang,
    );
    let starts_on = required_date(&form.starts_on, "pairing-starts_on", &mut problems, lang);
    let ends_on = optional_date(&form.ends_on, "pairing-ends_on", &mut problems, lang);
    let redo = |problems| Shown {
        pairing_form: form.clone(),
        ..Shown::with_problems(problems)
    };
    // Without a start date the other fields are still checked, against today.
    let draft = PairingDraft {
        name: form.name.clone(),
        sex,
        political_status,
        unit: form.unit.clone(),
        phone: form.phone.clone(),
        starts_on: starts_on.unwrap_or(today),
        ends_on,
    };
    let Some(pairing) = accepted(draft.build(today), "pairing", &mut problems, lang) else {
        return show(&state, &viewer, &no, redo(problems)).await;
    };
    let outcome = assistance::add_pairing(&state.db, account, &no, &pairing).await?;
    answer(
        &state,
        &viewer,
        &no,
        outcome,
        "pairing".into(),
        redo(Problems::default()),
    )
    .await
}

pub async fn add_measure(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(form): CsrfForm<MeasureForm>,
) -> AppResult<Response> {
    let account = may_manage(&viewer)?;
    load(&state, &viewer, &no).await?;
    let lang = viewer.lang;
    let today = today_in_china();
    let mut problems = Problems::default();
    let category = choice(
        &form.category,
        MeasureCategory::parse,
        "measure-category",
        &mut problems,
        lang,
    );
    if category.is_none() && problems.get("measure-category").is_empty() {
        problems.push(
            "measure-category",
            &Text::new("请选择措施类别", "choose the category"),
            lang,
        );
    }
    let status = choice(
        &form.status,
        MeasureStatus::parse,
        "measure-status",
        &mut problems,
        lang,
    )
    .unwrap_or(MeasureStatus::Planned);
    let risk = choice(
        &form.risk,
        RiskType::parse,
        "measure-risk",
        &mut problems,
        lang,
    );
    let amount = match blank(&Some(form.amount.clone())) {
        None => None,
        Some(a) => Fen::parse(a)
            .map_err(|e| problems.push("measure-amount", &e.text(), lang))
            .ok(),
    };
    let starts_on = required_date(&form.starts_on, "measure-starts_on", &mut problems, lang);
    let ends_on = optional_date(&form.ends_on, "measure-ends_on", &mut problems, lang);
    let implemented_on = optional_date(
        &form.implemented_on,
        "measure-implemented_on",
        &mut problems,
        lang,
    );
    let redo = |problems| Shown {
        measure_form: form.clone(),
        ..Shown::with_problems(problems)
    };
    // Without a category or a start date the other fields are still checked.
    let draft = MeasureDraft {
        category: category.unwrap_or(MeasureCategory::Industry),
        content: form.content.clone(),
        amount,
        starts_on: starts_on.unwrap_or(today),
        ends_on,
        status,
        implemented_on,
        risk,
    };
    let Some(measure) = accepted(draft.build(today), "measure", &mut problems, lang) else {
        return show(&state, &viewer, &no, redo(problems)).await;
    };
    let outcome = assistance::add_measure(&state.db, account, &no, &measure).await?;
    answer(
        &state,
        &viewer,
        &no,
        outcome,
        "measure".into(),
        redo(Problems::default()),
    )
    .await
}

/// A change to one existing row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RowAction {
    EndPairing,
    Implement,
    Cancel,
}

/// Checks the token, the right, the household (in scope), the row (of that household) and the
/// version, reads the date or the reason, and asks the store; the answer to the form.
async fn change_row(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
    id: &str,
    form: &RowForm,
    action: RowAction,
) -> AppResult<Response> {
    let account = may_manage(viewer)?;
    load(state, viewer, no).await?;
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)?;
    let version: i64 = form
        .version
        .trim()
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "the version is not valid"))?;
    let scope = account.scope();
    // The row must belong to the household of the route: otherwise it does not exist here.
    let (owner, key) = if action == RowAction::EndPairing {
        let p = assistance::pairing(&state.db, &scope, id).await?;
        (p.map(|p| p.household_no), format!("pairing-{id}"))
    } else {
        let m = assistance::measure(&state.db, &scope, id).await?;
        (m.map(|m| m.household_no), format!("measure-{id}"))
    };
    if owner.as_deref() != Some(no) {
        return Err(AppError::NotFound);
    }
    let today = today_in_china();
    let on = if action == RowAction::Cancel {
        today
    } else {
        let mut problems = Problems::default();
        let typed = form.on.as_deref().unwrap_or("");
        let on = required_date(typed, &key, &mut problems, viewer.lang);
        // Ending a pairing leaves the household without this cadre: asked twice.
        if action == RowAction::EndPairing && form.confirm.as_deref() != Some("yes") {
            problems.push(
                &key,
                &Text::new(
                    "请勾选“确认结束结对”后再提交",
                    "tick 'confirm the end of the pairing' and send again",
                ),
                viewer.lang,
            );
        }
        match on {
            Some(on) if problems.0.is_empty() => on,
            _ => return show(state, viewer, no, Shown::with_problems(problems)).await,
        }
    };
    let db = &state.db;
    let outcome = match action {
        RowAction::EndPairing => {
            assistance::end_pairing(db, account, id, version, on, today).await?
        }
        RowAction::Implement => {
            assistance::mark_implemented(db, account, id, version, on, today).await?
        }
        RowAction::Cancel => {
            let reason = form.reason.as_deref().unwrap_or("");
            assistance::cancel_measure(db, account, id, version, reason).await?
        }
    };
    answer(state, viewer, no, outcome, key, Shown::plain()).await
}

pub async fn end_pairing(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((no, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RowForm>,
) -> AppResult<Response> {
    change_row(&state, &viewer, &no, &id, &form, RowAction::EndPairing).await
}

pub async fn implement(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((no, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RowForm>,
) -> AppResult<Response> {
    change_row(&state, &viewer, &no, &id, &form, RowAction::Implement).await
}

pub async fn cancel(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((no, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RowForm>,
) -> AppResult<Response> {
    change_row(&state, &viewer, &no, &id, &form, RowAction::Cancel).await
}
