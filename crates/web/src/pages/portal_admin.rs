//! The portal's back office (issue 7):
//!
//! - `/portal-admin`: publications (announcements and policy documents) for the administrator
//!   (`ManagePortal`): write in Chinese, translate into English, save drafts, publish from a
//!   day (today or later), withdraw; every change audited.
//! - `/tickets`, `/tickets/{id}`: the public line's tickets of the officer's division (`ReadTickets`),
//!   overdue ones first and marked; assign, answer, close (`WorkTickets`), guarded by the
//!   ticket's `row_version`. Reports about a person only for those who read them.
//! - `/settings/portal`: the time limits and the designated officers (`ManagePortal` for the
//!   designations, `ManageSettings` for the limits; both are the administrator's).

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult, OutcomeExt};
use crate::extract::{CsrfForm, trimmed};
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat, ListHead};
use crate::pages::place_names::{PlaceChoice, Places, chosen_place, place_choices};
use crate::pages::portal::paragraphs;
use crate::pages::{Chrome, blank, render, render_form, saved_redirect, whole_days};
use crate::pages::{Params, parse_id, query_string};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use time::Date;
use zhenxing_core::china_time::{china_time_text, today_in_china};
use zhenxing_core::portal::{
    AnnouncementForm, AnnouncementKind, AnnouncementStatus, PortalPolicy, TicketCategory,
    TicketKind, TicketStep, ticket_step_allowed,
};
use zhenxing_core::{Action, Lang, Text};
use zhenxing_io::ColumnSpec;
use zhenxing_store::Outcome;
use zhenxing_store::portal::{self, TicketFilter, TicketRow, TicketStepRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal-admin", get(announcements))
        .route("/portal-admin/announcements/new", get(new_announcement))
        .route("/portal-admin/announcements", post(create_announcement))
        .route(
            "/portal-admin/announcements/{id}",
            get(edit_announcement).post(save_announcement),
        )
        .route("/portal-admin/announcements/{id}/publish", post(publish))
        .route("/portal-admin/announcements/{id}/withdraw", post(withdraw))
        .route("/settings/portal", get(settings_form).post(settings_save))
        .route("/settings/portal/designations", post(designate))
        .route("/tickets", get(tickets))
        .route("/tickets.xlsx", get(export_tickets))
        .route("/tickets.csv", get(export_tickets))
        .route("/tickets/{id}", get(ticket))
        .route("/tickets/{id}/steps/{step}", post(ticket_step))
        .route("/tickets/{id}/files/{number}", get(ticket_file))
        .route("/tickets/{id}/reveal", post(reveal_ticket_phone))
}

// ---------------------------------------------------------------------------------------------
// Publications

pub struct AnnouncementLine {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub publish_on: String,
    pub translated: bool,
    pub public: bool,
}

#[derive(Template)]
#[template(path = "portal_admin.html")]
struct AdminPage {
    c: Chrome,
    lines: Vec<AnnouncementLine>,
}

pub async fn announcements(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    viewer.may(Action::ManagePortal)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let lines = portal::announcements(&state.db)
        .await?
        .into_iter()
        .map(|a| AnnouncementLine {
            id: a.id,
            kind: label(AnnouncementKind::from_code(&a.kind).map(|k| k.label(lang))),
            title: a.title(lang).to_owned(),
            status: label(a.status().map(|s| s.label(lang))),
            publish_on: a.publish_on.clone().unwrap_or_default(),
            translated: !a.title_en.is_empty() && !a.body_en.is_empty(),
            public: a.is_public(today),
        })
        .collect();
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("portal-admin-title");
    Ok(render(&AdminPage { c, lines }))
}

fn label(l: Option<&str>) -> String {
    l.unwrap_or_default().to_owned()
}

pub struct KindOption {
    pub code: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "portal_admin_edit.html")]
struct EditPage {
    c: Chrome,
    /// `None` for a new draft.
    id: Option<i64>,
    version: i64,
    form: AnnouncementForm,
    kinds: Vec<KindOption>,
    status: String,
    publish_on: String,
    published: bool,
    today: String,
    errors: Vec<String>,
    saved: bool,
}

fn edit_page(
    state: &AppState,
    viewer: &Viewer,
    existing: Option<&portal::AnnouncementRow>,
    form: AnnouncementForm,
    errors: Vec<String>,
    saved: bool,
) -> Response {
    let lang = viewer.lang;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t(if existing.is_some() {
        "portal-admin-edit-title"
    } else {
        "portal-admin-new-title"
    });
    let page = EditPage {
        id: existing.map(|a| a.id),
        version: existing.map_or(0, |a| a.row_version),
        kinds: AnnouncementKind::ALL
            .iter()
            .map(|k| KindOption {
                code: k.code(),
                label: k.label(lang).to_owned(),
                selected: form.kind == k.code(),
            })
            .collect(),
        status: label(existing.and_then(|a| a.status()).map(|s| s.label(lang))),
        publish_on: existing
            .and_then(|a| a.publish_on.clone())
            .unwrap_or_default(),
        published: existing.and_then(|a| a.status()) == Some(AnnouncementStatus::Published),
        today: today_in_china().to_string(),
        form,
        errors,
        saved,
        c,
    };
    render_form(&page, !page.errors.is_empty())
}

pub async fn new_announcement(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    viewer.may(Action::ManagePortal)?;
    let form = AnnouncementForm {
        kind: AnnouncementKind::Announcement.code().to_owned(),
        ..AnnouncementForm::default()
    };
    Ok(edit_page(&state, &viewer, None, form, Vec::new(), false))
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn edit_announcement(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Params(q): Params<SavedQuery>,
) -> AppResult<Response> {
    viewer.may(Action::ManagePortal)?;
    let a = portal::announcement(&state.db, parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = AnnouncementForm {
        kind: a.kind.clone(),
        title_zh: a.title_zh.clone(),
        title_en: a.title_en.clone(),
        body_zh: a.body_zh.clone(),
        body_en: a.body_en.clone(),
    };
    Ok(edit_page(
        &state,
        &viewer,
        Some(&a),
        form,
        Vec::new(),
        blank(&q.saved).is_some(),
    ))
}

/// The announcement editor's form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AnnouncementFields {
    #[serde(deserialize_with = "trimmed")]
    kind: String,
    #[serde(deserialize_with = "trimmed")]
    title_zh: String,
    #[serde(deserialize_with = "trimmed")]
    title_en: String,
    #[serde(deserialize_with = "trimmed")]
    body_zh: String,
    #[serde(deserialize_with = "trimmed")]
    body_en: String,
    /// The `row_version` the page showed (none for a new announcement).
    #[serde(deserialize_with = "trimmed")]
    version: String,
}

impl AnnouncementFields {
    fn announcement(&self) -> AnnouncementForm {
        AnnouncementForm {
            kind: self.kind.clone(),
            title_zh: self.title_zh.clone(),
            title_en: self.title_en.clone(),
            body_zh: self.body_zh.clone(),
            body_en: self.body_en.clone(),
        }
    }
}

/// A version a page sent back; one that is not a number matches no row (the store answers
/// stale or not found).
fn sent_version(version: &str) -> i64 {
    version.parse::<i64>().unwrap_or(-1)
}

async fn save(
    state: &AppState,
    viewer: &Viewer,
    existing: Option<portal::AnnouncementRow>,
    f: AnnouncementFields,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManagePortal)?;
    let form = f.announcement();
    match form.check() {
        Ok(a) => {
            let expected = sent_version(&f.version);
            let target = existing.as_ref().map(|e| (e.id, expected));
            let saved = portal::save_announcement(&state.db, account, target, &a)
                .await?
                .done()?;
            Ok(saved_redirect(&format!(
                "/portal-admin/announcements/{}",
                saved.id
            )))
        }
        Err(errors) => {
            let errors = errors
                .into_iter()
                .map(|e| e.message.get(viewer.lang).to_owned())
                .collect();
            Ok(edit_page(
                state,
                viewer,
                existing.as_ref(),
                form,
                errors,
                false,
            ))
        }
    }
}

pub async fn create_announcement(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(f): CsrfForm<AnnouncementFields>,
) -> AppResult<Response> {
    save(&state, &viewer, None, f).await
}

pub async fn save_announcement(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AnnouncementFields>,
) -> AppResult<Response> {
    viewer.may(Action::ManagePortal)?;
    let existing = portal::announcement(&state.db, parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    save(&state, &viewer, Some(existing), f).await
}

/// Publishing or withdrawing an announcement.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatusFields {
    #[serde(deserialize_with = "trimmed")]
    version: String,
    /// Publishing only: the first day (today when empty).
    #[serde(deserialize_with = "trimmed")]
    publish_on: String,
}

async fn change_status(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    f: StatusFields,
    publish: bool,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManagePortal)?;
    let id = parse_id(id)?;
    let expected = sent_version(&f.version);
    let today = today_in_china();
    let day = if publish {
        let raw = f.publish_on;
        let day = if raw.trim().is_empty() {
            today
        } else {
            Date::parse(
                raw.trim(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| {
                AppError::bad_request(
                    "发布日期应为 年-月-日，如 2026-12-01",
                    "the publication day must be year-month-day, such as 2026-12-01",
                )
            })?
        };
        Some(day)
    } else {
        None
    };
    portal::set_announcement_status(&state.db, account, id, expected, day, today)
        .await?
        .done()?;
    Ok(saved_redirect(&format!("/portal-admin/announcements/{id}")))
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<StatusFields>,
) -> AppResult<Response> {
    change_status(&state, &viewer, &id, f, true).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<StatusFields>,
) -> AppResult<Response> {
    change_status(&state, &viewer, &id, f, false).await
}

// ---------------------------------------------------------------------------------------------
// Settings: time limits and designated officers

#[derive(Template)]
#[template(path = "portal_settings.html")]
struct SettingsPage {
    c: Chrome,
    accept_days: String,
    ticket_days: String,
    designations: Vec<portal::Designation>,
    errors: Vec<String>,
    saved: bool,
}

async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    values: (String, String),
    errors: Vec<String>,
    saved: bool,
) -> AppResult<Response> {
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("portal-settings-title");
    let page = SettingsPage {
        accept_days: values.0,
        ticket_days: values.1,
        designations: portal::designations(&state.db).await?,
        errors,
        saved,
        c,
    };
    Ok(render_form(&page, !page.errors.is_empty()))
}

pub async fn settings_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(q): Params<SavedQuery>,
) -> AppResult<Response> {
    viewer.may(Action::ManageSettings)?;
    let p = portal::policy(&state.db).await?;
    settings_page(
        &state,
        &viewer,
        (
            p.declaration_accept_days.to_string(),
            p.ticket_limit_days.to_string(),
        ),
        Vec::new(),
        blank(&q.saved).is_some(),
    )
    .await
}

/// The portal's time limits, in days.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PolicyFields {
    #[serde(deserialize_with = "trimmed")]
    accept_days: String,
    #[serde(deserialize_with = "trimmed")]
    ticket_days: String,
}

pub async fn settings_save(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(f): CsrfForm<PolicyFields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManageSettings)?;
    let (accept, limit) = (f.accept_days, f.ticket_days);
    let parsed = (
        whole_days(
            &accept,
            ("申报受理时限", "the time to accept a declaration"),
        ),
        whole_days(&limit, ("诉求办理时限", "the time limit of a ticket")),
    );
    let problems = match parsed {
        (Ok(declaration_accept_days), Ok(ticket_limit_days)) => {
            let new = PortalPolicy {
                declaration_accept_days,
                ticket_limit_days,
            };
            match portal::set_policy(&state.db, &account.name, &new).await? {
                Ok(()) => {
                    return Ok(saved_redirect("/settings/portal"));
                }
                Err(problems) => problems,
            }
        }
        (a, b) => [a.err(), b.err()].into_iter().flatten().collect(),
    };
    let errors = problems
        .iter()
        .map(|p| p.get(viewer.lang).to_owned())
        .collect();
    settings_page(&state, &viewer, (accept, limit), errors, false).await
}

/// Designating an officer to handle tickets (`designate=off` takes it back).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DesignateFields {
    #[serde(deserialize_with = "trimmed")]
    name: String,
    #[serde(deserialize_with = "trimmed")]
    designate: String,
}

pub async fn designate(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(f): CsrfForm<DesignateFields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManagePortal)?;
    let on = f.designate != "off";
    portal::designate(&state.db, account, &f.name, on)
        .await?
        .done()?;
    Ok(saved_redirect("/settings/portal"))
}

// ---------------------------------------------------------------------------------------------
// Tickets

pub struct TicketLine {
    pub id: i64,
    pub kind: String,
    pub category: String,
    pub subject: String,
    pub division_code: String,
    /// The village and its township, in words.
    pub place: String,
    pub status: String,
    pub due_on: String,
    pub overdue: bool,
    pub about_person: bool,
    pub assignee: String,
}

fn ticket_line(t: &TicketRow, lang: Lang, today: Date, places: &Places) -> TicketLine {
    TicketLine {
        place: places.label(&t.division_code),
        id: t.id,
        kind: label(TicketKind::from_code(&t.kind).map(|k| k.label(lang))),
        category: label(TicketCategory::from_code(&t.category).map(|k| k.label(lang))),
        subject: t.subject.clone(),
        division_code: t.division_code.clone(),
        status: label(t.status().map(|s| s.label(lang))),
        due_on: t.due_on.clone(),
        overdue: t.is_overdue(today),
        about_person: t.about_person,
        assignee: t.assignee.clone().unwrap_or_default(),
    }
}

pub struct Tab {
    pub code: &'static str,
    pub key: &'static str,
    pub current: bool,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    c: Chrome,
    tabs: Vec<Tab>,
    /// The tickets of the current tab over all pages, and the export links.
    head: ListHead,
    lines: Vec<TicketLine>,
    next: Option<String>,
    first_page: Option<String>,
    /// The places the list can be narrowed to, by name, and the one chosen (a code; empty: all).
    places: Vec<PlaceChoice>,
    village: String,
}

#[derive(Deserialize, Default)]
pub struct TicketsQuery {
    status: Option<String>,
    /// A village or township below the account's division, by code, chosen by name.
    village: Option<String>,
    /// How many tickets the earlier pages showed.
    from: Option<String>,
}

/// Tickets on one page of the inbox.
const TICKETS_PER_PAGE: i64 = 200;

pub async fn tickets(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(q): Params<TicketsQuery>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadTickets)?;
    let filter = blank(&q.status)
        .and_then(TicketFilter::from_code)
        .unwrap_or_default();
    let place = chosen_place(account, blank(&q.village))?;
    let village = place.map(|p| p.as_str().to_owned()).unwrap_or_default();
    let today = today_in_china();
    let from = blank(&q.from)
        .map(|f| {
            f.parse::<i64>()
                .ok()
                .filter(|f| *f >= 0 && *f % TICKETS_PER_PAGE == 0)
        })
        .map(|f| {
            f.ok_or_else(|| {
                AppError::bad_request(
                    "参数from须为页的起点",
                    "parameter from must be the start of a page",
                )
            })
        })
        .transpose()?
        .unwrap_or(0);
    // One more than a page tells whether there is a next one.
    let mut rows = portal::ticket_inbox_page(
        &state.db,
        account,
        filter,
        place.as_ref(),
        today,
        TICKETS_PER_PAGE + 1,
        from,
    )
    .await?;
    let more = rows.len() as i64 > TICKETS_PER_PAGE;
    rows.truncate(TICKETS_PER_PAGE as usize);
    let (next, first_page) = crate::pages::pager(
        "/tickets",
        &[("status", filter.code()), ("village", &village)],
        "from",
        more.then_some(from + TICKETS_PER_PAGE),
        from == 0,
    );
    let places = Places::of(
        &state,
        viewer.lang,
        rows.iter().map(|t| t.division_code.as_str()),
    )
    .await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("tickets-title");
    let counts = portal::ticket_counts(&state.db, account, place.as_ref(), today).await?;
    let total = TicketFilter::ALL
        .into_iter()
        .zip(counts)
        .find(|(f, _)| *f == filter)
        .map_or(0, |(_, n)| n);
    let page = TicketsPage {
        head: ListHead::new(
            &c,
            "list-total-tickets",
            total,
            "/tickets",
            viewer
                .may(Action::ExportRegistry)
                .is_ok()
                .then(|| query_string(&[("status", filter.code()), ("village", &village)])),
        ),
        tabs: TicketFilter::ALL
            .into_iter()
            .zip(counts)
            .map(|(f, count)| Tab {
                count,
                code: f.code(),
                key: match f {
                    TicketFilter::Open => "tickets-tab-open",
                    TicketFilter::Overdue => "tickets-tab-overdue",
                    TicketFilter::All => "tickets-tab-all",
                },
                current: f == filter,
            })
            .collect(),
        lines: rows
            .iter()
            .map(|t| ticket_line(t, viewer.lang, today, &places))
            .collect(),
        next,
        first_page,
        places: place_choices(&state, viewer.lang, account).await?,
        village,
        c,
    };
    Ok(render(&page))
}

/// Every ticket of the tab (all pages) with the list's columns, never the requester or the
/// text; audited as `tickets.export`. Needs `ReadTickets` and `ExportRegistry`.
pub async fn export_tickets(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(q): Params<TicketsQuery>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadTickets)?;
    viewer.may(Action::ExportRegistry)?;
    let status = blank(&q.status).unwrap_or("");
    let filter = match status {
        "" => TicketFilter::default(),
        code => TicketFilter::from_code(code).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的筛选“{code}”"),
                format!("unknown filter '{code}'"),
            )
        })?,
    };
    let place = chosen_place(account, blank(&q.village))?;
    let today = today_in_china();
    let c = Chrome::new(&state, &viewer, String::new());
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        ColumnSpec::number(c.t("tickets-col-id")),
        text("tickets-col-subject"),
        text("col-village"),
        text("tickets-col-kind"),
        text("tickets-col-status"),
        text("tickets-col-due"),
        text("tickets-overdue"),
        text("tickets-col-assignee"),
    ];
    let mut file = ListFile::create("tickets", format, &columns)?;
    let mut from = 0;
    loop {
        let rows = portal::ticket_inbox_page(
            &state.db,
            account,
            filter,
            place.as_ref(),
            today,
            EXPORT_PAGE,
            from,
        )
        .await?;
        let count = rows.len() as i64;
        let places = Places::of(
            &state,
            viewer.lang,
            rows.iter().map(|t| t.division_code.as_str()),
        )
        .await?;
        let lines = rows
            .iter()
            .map(|t| {
                let l = ticket_line(t, viewer.lang, today, &places);
                vec![
                    l.id.to_string(),
                    l.subject,
                    l.place,
                    format!("{} · {}", l.kind, l.category),
                    l.status,
                    l.due_on,
                    if l.overdue {
                        c.t("tickets-overdue")
                    } else {
                        String::new()
                    },
                    l.assignee,
                ]
            })
            .collect();
        file.write(lines).await?;
        if count < EXPORT_PAGE {
            break;
        }
        from += EXPORT_PAGE;
    }
    let record = ExportRecord {
        action: "tickets.export",
        division: account.division,
        filters: serde_json::json!({ "status": filter.code(), "village": place.map(|p| p.as_str().to_owned()) }),
    };
    file.send(&state, &viewer, record).await
}

/// Tickets written per page of an export.
const EXPORT_PAGE: i64 = 5_000;

pub struct StepForm {
    pub code: &'static str,
    pub key: &'static str,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    c: Chrome,
    t: TicketLine,
    version: i64,
    body: Vec<String>,
    requester: String,
    phone: String,
    created_at: String,
    consent: String,
    answer: Vec<String>,
    answered: String,
    steps: Vec<StepForm>,
    assignees: Vec<String>,
    files: Vec<zhenxing_store::files::StoredFile>,
    /// The full phone number may be asked for (a named ticket, an account that may reveal).
    can_reveal: bool,
    /// What the step just taken did ("已分派给 张三，答复期限 2026-12-14").
    done: Option<String>,
    /// Why the step sent was refused, if it was.
    errors: Vec<String>,
    /// The answer a refused step had typed, kept in its form.
    kept_answer: String,
}

/// What a ticket page says about the step just taken or refused.
#[derive(Default)]
struct TicketFeedback {
    done: Option<TicketStep>,
    /// Why the step was refused, and the status the page answers with (422 for a refused
    /// form, 409 when someone else acted first).
    refused: Option<(Text, StatusCode)>,
    answer: String,
}

/// The message saying what a step did, read off the ticket as it is now.
fn ticket_done_text(step: TicketStep, t: &TicketLine) -> Text {
    match step {
        TicketStep::Assign => Text::new(
            format!("已分派给 {}，答复期限 {}", t.assignee, t.due_on),
            format!(
                "Assigned to {}; the answer is due by {}",
                t.assignee, t.due_on
            ),
        ),
        TicketStep::Answer => Text::new(
            "已答复：提问人凭查询码即可看到答复",
            "Answered: the requester reads the answer with the tracking code",
        ),
        TicketStep::Close => {
            Text::new("已办结，此件不再办理", "Closed: nothing more happens on it")
        }
    }
}

#[derive(Deserialize, Default)]
pub struct TicketParams {
    done: Option<String>,
}

impl TicketPage {
    fn may(&self, code: &str) -> bool {
        self.steps.iter().any(|s| s.code == code)
    }
}

pub async fn ticket(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Params(params): Params<TicketParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadTickets)?;
    let t = portal::ticket(&state.db, account, parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let feedback = TicketFeedback {
        done: params.done.as_deref().and_then(TicketStep::from_code),
        ..TicketFeedback::default()
    };
    ticket_page(&state, &viewer, account, t, false, feedback).await
}

/// The full phone number of a named ticket, on this answer only, for an account that may
/// reveal personal numbers and read the ticket; audited as `personal_data.reveal`.
pub async fn reveal_ticket_phone(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<crate::pages::reveal::PurposeForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadTickets)?;
    viewer.may(Action::RevealPersonalNumbers)?;
    let t = portal::ticket(&state.db, account, parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let purpose = form.check().map_err(AppError::BadRequest)?;
    let revealed = zhenxing_store::audit::Revealed {
        object_type: "ticket",
        object_id: t.id.to_string(),
        county_code: t.county_code.clone(),
        division_code: t.division_code.clone(),
        reason: Some(format!("{purpose}；ticket: the requester's phone")),
    };
    zhenxing_store::audit::record_reveal(&state.db, &account.name, revealed).await?;
    ticket_page(&state, &viewer, account, t, true, TicketFeedback::default()).await
}

/// The ticket page for `account`, which read `t` through `portal::ticket`.
async fn ticket_page(
    state: &AppState,
    viewer: &Viewer,
    account: &zhenxing_store::accounts::Account,
    t: TicketRow,
    revealed: bool,
    feedback: TicketFeedback,
) -> AppResult<Response> {
    let lang = viewer.lang;
    let today = today_in_china();
    let steps = match (account.may(Action::WorkTickets), t.status()) {
        (true, Some(status)) => TicketStep::ALL
            .into_iter()
            .filter(|s| ticket_step_allowed(status, *s).is_ok())
            .map(|s| StepForm {
                code: s.code(),
                key: match s {
                    TicketStep::Assign => "ticket-assign",
                    TicketStep::Answer => "ticket-answer",
                    TicketStep::Close => "ticket-close",
                },
            })
            .collect(),
        _ => Vec::new(),
    };
    let assignees = if steps.iter().any(|s| s.code == "assign") {
        portal::ticket_assignees(&state.db, &t)
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect()
    } else {
        Vec::new()
    };
    let places = Places::of(state, lang, [t.division_code.as_str()]).await?;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("ticket-title"), t.id);
    let anonymous = c.t("ticket-anonymous");
    let line = ticket_line(&t, lang, today, &places);
    let status = feedback.refused.as_ref().map(|(_, status)| *status);
    let page = TicketPage {
        done: feedback
            .done
            .map(|step| ticket_done_text(step, &line).get(lang).to_owned()),
        errors: feedback
            .refused
            .iter()
            .map(|(why, _)| why.get(lang).to_owned())
            .collect(),
        kept_answer: feedback.answer,
        t: line,
        version: t.row_version,
        body: paragraphs(&t.body),
        requester: t.requester.clone().unwrap_or(anonymous),
        phone: if revealed {
            t.phone.clone().unwrap_or_default()
        } else {
            t.masked_phone().unwrap_or_default()
        },
        can_reveal: !revealed && t.phone.is_some() && account.may(Action::RevealPersonalNumbers),
        created_at: china_time_text(&t.created_at),
        consent: format!("{} · {}", t.consent_version, china_time_text(&t.consent_at)),
        answer: t.answer.as_deref().map(paragraphs).unwrap_or_default(),
        answered: match (&t.answered_by, &t.answered_at) {
            (Some(by), Some(at)) => format!("{by} · {}", china_time_text(at)),
            _ => String::new(),
        },
        files: portal::ticket_files(&state.db, &t).await?,
        steps,
        assignees,
        c,
    };
    let response = render(&page);
    Ok(match status {
        Some(status) if response.status() == StatusCode::OK => {
            crate::pages::with_status(status, response)
        }
        _ => response,
    })
}

/// A file sent with a ticket, to whoever may read the ticket.
pub async fn ticket_file(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, number)): Path<(String, String)>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadTickets)?;
    let (id, number) = (parse_id(&id)?, parse_id(&number)?);
    let (name, content_type, bytes) = portal::ticket_file(&state.db, account, id, number)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::pages::send_attachment(&name, &content_type, bytes))
}

/// A step on a ticket: the version the page showed, and what the step needs (an assignee, an
/// answer).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TicketStepFields {
    #[serde(deserialize_with = "trimmed")]
    version: String,
    #[serde(deserialize_with = "trimmed")]
    assignee: String,
    #[serde(deserialize_with = "trimmed")]
    answer: String,
}

pub async fn ticket_step(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, step)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<TicketStepFields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WorkTickets)?;
    let id = parse_id(&id)?;
    let step = TicketStep::from_code(&step).ok_or(AppError::NotFound)?;
    let req = TicketStepRequest {
        ticket_id: id,
        expected_version: sent_version(&f.version),
        step,
        assignee: Some(f.assignee),
        answer: Some(f.answer),
    };
    let refused = match portal::take_ticket_step(&state.db, account, &req).await? {
        Outcome::Done(_) => {
            return Ok(Redirect::to(&format!("/tickets/{id}?done={}", step.code())).into_response());
        }
        Outcome::Refused(why) => (why, StatusCode::UNPROCESSABLE_ENTITY),
        // Someone else acted first: the page as it is now, with what was typed kept.
        Outcome::Stale => (AppError::stale_text(), StatusCode::CONFLICT),
        Outcome::NotFound => return Err(AppError::NotFound),
    };
    let t = portal::ticket(&state.db, account, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let feedback = TicketFeedback {
        done: None,
        refused: Some(refused),
        answer: req.answer.unwrap_or_default(),
    };
    ticket_page(&state, &viewer, account, t, false, feedback).await
}

// ---------------------------------------------------------------------------------------------
// Declarations behind a warning

/// A self-declaration as the warning page shows it: ID and phone numbers masked, the free text
/// with digit runs shaped like them masked too (people type their numbers anywhere).
pub struct DeclarationLine {
    pub id: i64,
    /// The full numbers are shown (after an audited reveal).
    pub revealed: bool,
    pub applicant: String,
    pub id_number: String,
    pub phone: String,
    pub events: String,
    pub account: String,
    pub submitted: String,
    pub consent: String,
    /// The photos and scans sent with it, downloaded from
    /// `/warnings/{lead}/declarations/{id}/files/{number}`.
    pub files: Vec<zhenxing_store::files::StoredFile>,
}

/// The declarations behind a self-declaration warning the account reads; none for others. The
/// ID and phone numbers are masked, except those of the declaration `revealed` (the caller
/// has checked the right and audited the reveal).
pub async fn declaration_lines(
    state: &AppState,
    account: &zhenxing_store::accounts::Account,
    w: &zhenxing_store::warnings::WarningDetail,
    lang: Lang,
    revealed: Option<i64>,
) -> AppResult<Vec<DeclarationLine>> {
    use zhenxing_core::warning::WarningChannel;
    if WarningChannel::of_source(&w.source) != Some(WarningChannel::SelfDeclaration) {
        return Ok(Vec::new());
    }
    let sep = if lang == Lang::Zh { "、" } else { ", " };
    let mut lines = Vec::new();
    for d in portal::declarations_of_warning(&state.db, &account.scope(), w.id).await? {
        let files = portal::declaration_files(&state.db, &d).await?;
        lines.push(DeclarationLine {
            revealed: revealed == Some(d.id),
            id_number: if revealed == Some(d.id) {
                d.id_number.clone()
            } else {
                d.masked_id_number()
            },
            phone: if revealed == Some(d.id) {
                d.phone.clone()
            } else {
                d.masked_phone()
            },
            id: d.id,
            events: d
                .events
                .split(',')
                .filter_map(zhenxing_core::portal::DeclarationEvent::from_code)
                .map(|e| e.label(lang))
                .collect::<Vec<_>>()
                .join(sep),
            account: zhenxing_core::mask::mask_free_text(&d.account),
            submitted: d.created_at,
            consent: format!("{} · {}", d.consent_version, d.consent_at),
            applicant: d.applicant,
            files,
        });
    }
    Ok(lines)
}
