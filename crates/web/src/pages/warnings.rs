//! The warnings inbox (issue 4 item 5): the warnings of the viewer's division, the most urgent
//! first, with overdue ones marked; one page per warning with its reasons in words and the
//! steps the viewer may take (assign to a village cadre with a deadline, verify, dismiss with a
//! reason); and the short form a village cadre fills in on a phone to record a visit or a
//! self-declaration, which enters the same inbox. Reading needs `ReadRegistry`, acting
//! `WriteRegistry`; who may take which step is `zhenxing_core::warning::plan_step`.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult, OutcomeExt};
use crate::extract::CsrfForm;
use crate::pages::households::scoped_household;
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat, ListHead};
use crate::pages::place_names::{PlaceChoice, Places, chosen_place, place_choices};
use crate::pages::{Chrome, Fields, blank, query_string, render_form, risk_labels};
use crate::pages::{Params, page_number, parse_id};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::Value;
use time::{Date, Duration};
use zhenxing_core::china_time::china_day_text;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::mask::mask_free_text;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::warning::{
    Actor, InboxPolicy, StepKind, WarningChannel, WarningKind, WarningStatus, WarningStep,
    check_report, may_take,
};
use zhenxing_core::{Action, Lang, MonitoringCategory, Scope, Text};
use zhenxing_io::ColumnSpec;
use zhenxing_store::portal;
use zhenxing_store::warnings::{
    self, BatchAssignee, InboxQuery, InboxRow, Raised, Report, StatusFilter, StepRequest,
    WarningDetail,
};

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/warnings", get(inbox))
        .route("/warnings/assign", post(assign_batch))
        .route("/warnings.xlsx", get(export))
        .route("/warnings.csv", get(export))
        .route("/warnings/{id}", get(detail))
        .route("/warnings/{id}/assign", post(assign))
        .route("/warnings/{id}/verify", post(verify))
        .route("/warnings/{id}/dismiss", post(dismiss))
        .route("/warnings/{id}/reveal", post(reveal))
        .route(
            "/warnings/{id}/declarations/{declaration}/files/{number}",
            get(declaration_file),
        )
        .route("/warnings/{id}/link", post(link))
        .route(
            "/households/{no}/report",
            get(report_form).post(report_submit),
        )
}

pub(crate) fn policy() -> InboxPolicy {
    InboxPolicy::default()
}

/// "预警来源" of a stored source: the channel, and the department's kind when there is one.
fn source_label(source: &str, lang: Lang) -> String {
    let channel = WarningChannel::of_source(source)
        .map(|c| c.label(lang).to_owned())
        .unwrap_or_else(|| source.to_owned());
    match source.split_once(':') {
        Some((_, kind)) => format!("{channel} · {kind}"),
        None => channel,
    }
}

/// The status in words, as the kind reads it (a verified new risk is not a lead).
fn status_label(status: &str, kind: &str, lang: Lang) -> String {
    let kind = WarningKind::from_code(kind).unwrap_or(WarningKind::Lead);
    WarningStatus::from_code(status)
        .map(|s| {
            let (zh, en) = kind.status_words(s);
            Text::new(zh, en).get(lang).to_owned()
        })
        .unwrap_or_else(|| status.to_owned())
}

fn kind_label(kind: &str, lang: Lang) -> String {
    WarningKind::from_code(kind)
        .map(|k| k.label(lang).to_owned())
        .unwrap_or_else(|| kind.to_owned())
}

fn category_label(category: Option<&str>, lang: Lang) -> String {
    category
        .and_then(MonitoringCategory::from_code)
        .map(|c| c.label(lang).to_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The inbox

#[derive(Deserialize, Default)]
pub struct InboxParams {
    status: Option<String>,
    source: Option<String>,
    kind: Option<String>,
    mine: Option<String>,
    /// A village (or township, or county) below the account's division, by code; chosen by
    /// name from the page's list.
    village: Option<String>,
    page: Option<String>,
    /// After a batch assignment: how many, to whom (empty: each village's cadre), until when.
    assigned: Option<String>,
    to: Option<String>,
    deadline: Option<String>,
}

struct Line {
    id: i64,
    household_no: String,
    head_name: String,
    division_code: String,
    /// The village and its township, in words.
    place: String,
    source: String,
    status: String,
    status_code: String,
    kind: String,
    kind_code: String,
    category: String,
    risks: String,
    opened_on: String,
    due_on: String,
    assignee: String,
    overdue: bool,
    /// `ID:VERSION`, what a batch assignment of this warning sends.
    batch_value: String,
    /// Ticked in the batch form as it was sent (a refused batch keeps its choice).
    ticked: bool,
}

struct Tab {
    code: &'static str,
    label: String,
    count: i64,
    current: bool,
}

#[derive(Template)]
#[template(path = "warnings.html")]
struct InboxPage {
    c: Chrome,
    tabs: Vec<Tab>,
    sources: Vec<(&'static str, String)>,
    source: String,
    kinds: Vec<(&'static str, String)>,
    kind: String,
    /// Active warnings of each kind, counted apart.
    active_leads: i64,
    active_monitored_risks: i64,
    mine: bool,
    lines: Vec<Line>,
    next: Option<String>,
    previous: Option<String>,
    is_cadre: bool,
    /// The total over all pages and the export links.
    head: ListHead,
    /// The place filter: the chosen code and the choices by name.
    village: String,
    places: Vec<PlaceChoice>,
    /// The batch assignment form, for the roles that assign.
    batch: Option<BatchForm>,
    /// What the last step did ("已将3条预警分派给…").
    done: Option<String>,
    /// Why a batch assignment was refused.
    errors: Vec<String>,
}

/// The batch assignment form: the cadres of the listed villages, and what was sent when a
/// batch was refused.
#[derive(Default)]
struct BatchForm {
    /// (account name, "name（village）").
    cadres: Vec<(String, String)>,
    assignee: String,
    deadline: String,
    /// Why the batch was refused (shown above the list).
    errors: Vec<String>,
    /// The `ID:VERSION` values ticked when the batch was sent.
    ticked: Vec<String>,
    /// The filters the list was shown with, sent back with the form.
    status: String,
    source: String,
    kind: String,
    mine: String,
    village: String,
    page: String,
}

fn line(r: InboxRow, lang: Lang, today: Date, places: &Places) -> Line {
    Line {
        batch_value: format!("{}:{}", r.id, r.row_version),
        ticked: false,
        place: places.label(&r.division_code),
        overdue: r.is_overdue(today),
        id: r.id,
        head_name: r.head_name.clone().unwrap_or_default(),
        source: source_label(&r.source, lang),
        status: status_label(&r.status, &r.kind, lang),
        kind: kind_label(&r.kind, lang),
        category: category_label(r.category.as_deref(), lang),
        risks: risk_labels(&r.risk_types, lang),
        opened_on: china_day_text(&r.opened_at),
        due_on: r.due_on.clone().unwrap_or_default(),
        assignee: r.assignee.clone().unwrap_or_default(),
        status_code: r.status,
        kind_code: r.kind,
        household_no: r.household_no,
        division_code: r.division_code,
    }
}

/// The inbox's filters as its query gives them, checked; the same for the page and its export.
struct InboxFilter {
    status_code: String,
    source: String,
    kind_code: String,
    mine: bool,
    page: i64,
    /// The chosen place's code, or empty.
    village: String,
    /// The account's division, or the chosen place within it.
    scope: Scope,
    query: InboxQuery,
}

fn inbox_filter(
    params: &InboxParams,
    account: &zhenxing_store::accounts::Account,
) -> AppResult<InboxFilter> {
    let status_code = blank(&params.status).unwrap_or("active");
    let status = match status_code {
        "active" => StatusFilter::Active,
        "overdue" => StatusFilter::Overdue,
        "all" => StatusFilter::All,
        code => StatusFilter::Only(WarningStatus::from_code(code).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的预警状态“{code}”"),
                format!("unknown warning status '{code}'"),
            )
        })?),
    };
    let source = blank(&params.source).unwrap_or("");
    let channel = match source {
        "" => None,
        code => Some(WarningChannel::from_code(code).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的预警来源“{code}”"),
                format!("unknown warning source '{code}'"),
            )
        })?),
    };
    let kind_code = blank(&params.kind).unwrap_or("");
    let kind = match kind_code {
        "" => None,
        code => Some(WarningKind::from_code(code).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的预警类型“{code}”"),
                format!("unknown warning kind '{code}'"),
            )
        })?),
    };
    let mine = blank(&params.mine).is_some();
    let page = page_number(&params.page)?;
    let place = chosen_place(account, params.village.as_deref())?;
    Ok(InboxFilter {
        status_code: status_code.to_owned(),
        source: source.to_owned(),
        kind_code: kind_code.to_owned(),
        mine,
        page,
        village: place.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        scope: place.map_or_else(|| account.scope(), Scope::new),
        query: InboxQuery {
            status,
            channel,
            kind,
            assignee: mine.then(|| account.name.clone()),
            offset: page * PAGE_SIZE,
            limit: PAGE_SIZE + 1,
        },
    })
}

pub async fn inbox(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<InboxParams>,
) -> AppResult<Response> {
    let done = done_message(&params, viewer.lang);
    inbox_page(&state, &viewer, &params, None, done).await
}

/// "已将3条预警分派给各村村干部，期限2026-12-14": what a batch assignment did, from the query
/// it redirected to (counts and names only; nothing is read from the database).
fn done_message(params: &InboxParams, lang: Lang) -> Option<String> {
    let n: i64 = blank(&params.assigned)?.parse().ok()?;
    let deadline = blank(&params.deadline).and_then(parse_date)?;
    let to = blank(&params.to).map(str::to_owned);
    Some(match (lang, to) {
        (Lang::Zh, Some(to)) => format!("已将{n}条预警分派给{to}，核实期限{deadline}"),
        (Lang::Zh, None) => format!("已将{n}条预警分派给各村村干部，核实期限{deadline}"),
        (Lang::En, Some(to)) => format!("{n} warnings assigned to {to}, to verify by {deadline}"),
        (Lang::En, None) => {
            format!("{n} warnings assigned to each village's cadre, to verify by {deadline}")
        }
    })
}

/// Whether the account's role assigns warnings (the core's rule for the step).
fn assigns(account: &zhenxing_store::accounts::Account) -> bool {
    account.may(Action::WriteRegistry)
        && may_take(
            WarningStatus::New,
            StepKind::Assign,
            Actor {
                role: account.role,
                is_assignee: false,
            },
        )
        .is_ok()
}

/// The inbox as `params` select it; with a refused batch's form as it was sent.
async fn inbox_page(
    state: &AppState,
    viewer: &Viewer,
    params: &InboxParams,
    refused: Option<BatchForm>,
    done: Option<String>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let InboxFilter {
        status_code,
        source,
        kind_code,
        mine,
        page,
        village,
        scope,
        query,
    } = inbox_filter(params, account)?;
    let (status_code, source, kind_code) =
        (status_code.as_str(), source.as_str(), kind_code.as_str());
    let mut rows = warnings::inbox(&state.db, &scope, &query, today).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let counts = warnings::inbox_counts(&state.db, &scope, today).await?;
    let total = warnings::inbox_total(&state.db, &scope, &query, today).await?;
    let places = Places::of(state, lang, rows.iter().map(|r| r.division_code.as_str())).await?;
    let errors = refused
        .as_ref()
        .map(|b| b.errors.clone())
        .unwrap_or_default();
    let mut batch = None;
    if assigns(account) && rows.iter().any(|r| r.status() == Some(WarningStatus::New)) {
        let mut villages: Vec<&str> = rows
            .iter()
            .filter(|r| r.status() == Some(WarningStatus::New))
            .map(|r| r.division_code.as_str())
            .collect();
        villages.sort_unstable();
        villages.dedup();
        let mut cadres = Vec::new();
        for v in villages {
            for a in warnings::assignable_cadres(&state.db, v).await? {
                cadres.push((a.name.clone(), format!("{}（{}）", a.name, places.label(v))));
            }
        }
        let mut form = refused.unwrap_or_else(|| BatchForm {
            deadline: (today + Duration::days(policy().default_days)).to_string(),
            ..BatchForm::default()
        });
        form.cadres = cadres;
        form.status = status_code.to_owned();
        form.source = source.to_owned();
        form.kind = kind_code.to_owned();
        form.mine = if mine { "1".into() } else { String::new() };
        form.village = village.clone();
        form.page = page.to_string();
        batch = Some(form);
    }
    let ticked: Vec<String> = batch
        .as_ref()
        .map(|b: &BatchForm| b.ticked.clone())
        .unwrap_or_default();
    let c = Chrome::new(state, viewer, String::new());
    let tab = |code: &'static str, key: &str, count: i64| Tab {
        code,
        label: c.t(key),
        count,
        current: code == status_code,
    };
    let tabs = vec![
        tab(
            "active",
            "warnings-tab-active",
            counts.new + counts.assigned,
        ),
        tab("overdue", "warnings-tab-overdue", counts.overdue),
        tab("new", "warnings-tab-new", counts.new),
        tab("assigned", "warnings-tab-assigned", counts.assigned),
        tab("verified", "warnings-tab-verified", counts.verified),
        tab("dismissed", "warnings-tab-dismissed", counts.dismissed),
        tab("closed", "warnings-tab-closed", counts.closed),
    ];
    let sources = WarningChannel::ALL
        .iter()
        .map(|ch| (ch.code(), ch.label(lang).to_owned()))
        .collect();
    let mine_value = if mine { "1" } else { "" };
    let filters = |page: Option<&str>| {
        query_string(&[
            ("status", status_code),
            ("source", source),
            ("kind", kind_code),
            ("mine", mine_value),
            ("village", &village),
            ("page", page.unwrap_or("")),
        ])
    };
    let link = |p: i64| format!("/warnings?{}", filters(Some(&p.to_string())));
    let mut c = c;
    c.title = c.t("warnings-title");
    let head = ListHead::new(
        &c,
        "list-total-warnings",
        total,
        "/warnings",
        viewer
            .may(Action::ExportRegistry)
            .is_ok()
            .then(|| filters(None)),
    );
    let page_html = InboxPage {
        tabs,
        sources,
        source: source.to_owned(),
        kinds: WarningKind::ALL
            .iter()
            .map(|k| (k.code(), k.label(lang).to_owned()))
            .collect(),
        kind: kind_code.to_owned(),
        active_leads: counts.active_leads,
        active_monitored_risks: counts.active_monitored_risks,
        mine,
        lines: rows
            .into_iter()
            .map(|r| {
                let mut l = line(r, lang, today, &places);
                l.ticked = ticked.contains(&l.batch_value);
                l
            })
            .collect(),
        next: more.then(|| link(page + 1)),
        previous: (page > 0).then(|| link(page - 1)),
        is_cadre: account.role == zhenxing_core::Role::VillageCadre,
        head,
        places: place_choices(state, lang, account).await?,
        village,
        done,
        errors,
        c,
        batch,
    };
    let refused = !page_html.errors.is_empty();
    Ok(render_form(&page_html, refused))
}

/// Assigns the ticked warnings ("分派所选"), or every new warning the page showed ("分派本页
///全部"), to one village cadre or to each village's cadre, with one deadline: all of them or,
/// when any cannot be assigned, none, with the page shown again as it was sent and every
/// problem listed. Then back to the inbox with a message saying what happened.
pub async fn assign_batch(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(fields): CsrfForm<Fields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?;
    if !assigns(account) {
        return Err(AppError::Forbidden);
    }
    let params = InboxParams {
        status: Some(fields.one("status")),
        source: Some(fields.one("source")),
        kind: Some(fields.one("kind")),
        mine: Some(fields.one("mine")),
        village: Some(fields.one("village")),
        page: Some(fields.one("page")),
        ..InboxParams::default()
    };
    let which = if fields.one("which") == "shown" {
        "shown"
    } else {
        "id"
    };
    let values = fields.all(which);
    let warnings_sent = values
        .iter()
        .map(|v| {
            v.split_once(':')
                .and_then(|(id, version)| Some((id.parse().ok()?, version.parse().ok()?)))
        })
        .collect::<Option<Vec<(i64, i64)>>>()
        .ok_or_else(|| {
            AppError::bad_request("所选预警有误", "the selected warnings are not valid")
        })?;
    let assignee_name = fields.one("assignee");
    let deadline_text = fields.one("deadline");
    let mut form = BatchForm {
        assignee: assignee_name.clone(),
        deadline: deadline_text.clone(),
        ticked: if which == "id" { values } else { Vec::new() },
        ..BatchForm::default()
    };
    let Some(deadline) = parse_date(&deadline_text) else {
        form.errors.push(
            Text::new(
                "请填写核实期限（年-月-日）",
                "give the verification deadline (year-month-day)",
            )
            .get(viewer.lang)
            .to_owned(),
        );
        return inbox_page(&state, &viewer, &params, Some(form), None).await;
    };
    let request = warnings::BatchAssign {
        warnings: warnings_sent,
        assignee: if assignee_name.is_empty() {
            BatchAssignee::EachVillagesCadre
        } else {
            BatchAssignee::Named(assignee_name.clone())
        },
        deadline,
    };
    match warnings::assign_many(&state.db, account, &request, &policy())
        .await?
        .or_refused()?
    {
        Ok(assigned) => {
            let n = assigned.len().to_string();
            let deadline = deadline.to_string();
            Ok(Redirect::to(&format!(
                "/warnings?{}",
                query_string(&[
                    ("status", "assigned"),
                    ("village", &fields.one("village")),
                    ("assigned", &n),
                    ("to", &assignee_name),
                    ("deadline", &deadline),
                ])
            ))
            .into_response())
        }
        Err(reason) => {
            form.errors.push(reason.get(viewer.lang).to_owned());
            inbox_page(&state, &viewer, &params, Some(form), None).await
        }
    }
}

/// Warnings written per page of an export.
const EXPORT_PAGE: i64 = warnings::INBOX_MOST;

/// Every warning the inbox's filters select (all pages), with the page's columns and the
/// village's name, most urgent first; audited as `warnings.export`. Needs `ExportRegistry`,
/// like every export of names from the registry.
pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<InboxParams>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    let account = viewer.may(Action::ExportRegistry)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let filter = inbox_filter(&params, account)?;
    let c = Chrome::new(&state, &viewer, String::new());
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        ColumnSpec::number(c.t("warnings-col-id")),
        text("warnings-col-household"),
        text("warnings-col-head"),
        text("warnings-col-village"),
        text("warnings-col-kind"),
        text("warnings-col-source"),
        text("warnings-col-status"),
        text("warnings-col-overdue"),
        text("warnings-col-category"),
        text("warnings-col-risks"),
        text("warnings-col-opened"),
        text("warnings-col-due"),
        text("warnings-col-assignee"),
    ];
    let (yes, no) = (c.t("warnings-yes"), c.t("warnings-no"));
    let mut file = ListFile::create("warnings", format, &columns)?;
    let scope = filter.scope;
    let mut query = filter.query;
    query.offset = 0;
    query.limit = EXPORT_PAGE;
    loop {
        let rows = warnings::inbox(&state.db, &scope, &query, today).await?;
        let count = rows.len() as i64;
        let places =
            Places::of(&state, lang, rows.iter().map(|r| r.division_code.as_str())).await?;
        let lines = rows
            .into_iter()
            .map(|r| {
                let l = line(r, lang, today, &places);
                vec![
                    l.id.to_string(),
                    l.household_no,
                    l.head_name,
                    l.place,
                    l.kind,
                    l.source,
                    l.status,
                    if l.overdue { yes.clone() } else { no.clone() },
                    l.category,
                    l.risks,
                    l.opened_on,
                    l.due_on,
                    l.assignee,
                ]
            })
            .collect();
        file.write(lines).await?;
        if count < EXPORT_PAGE {
            break;
        }
        query.offset += EXPORT_PAGE;
    }
    let record = ExportRecord {
        action: "warnings.export",
        division: account.division,
        filters: serde_json::json!({
            "status": filter.status_code,
            "source": filter.source,
            "kind": filter.kind_code,
            "mine": filter.mine,
            "village": filter.village,
        }),
    };
    file.send(&state, &viewer, record).await
}

// ---------------------------------------------------------------------------------------------
// One warning

struct Step {
    code: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "warning.html")]
struct DetailPage {
    c: Chrome,
    w: WarningDetail,
    /// What the step just taken did.
    done: Option<String>,
    /// The village and its township, in words.
    place: String,
    /// When the warning was raised (`w.opened_at`), in Beijing time.
    opened_at: String,
    source: String,
    status: String,
    category: String,
    risks: String,
    reasons: Vec<(String, String)>,
    origins: Vec<String>,
    overdue: bool,
    steps: Vec<Step>,
    cadres: Vec<String>,
    default_deadline: String,
    max_deadline: String,
    today: String,
    errors: Vec<String>,
    note: String,
    /// A verified warning is a lead: the viewer may open an identification from it.
    can_open_case: bool,
    /// What the warning is to its household (lead, or new risk of a monitored household).
    kind: String,
    /// A new risk of a monitored household: its responsible cadres (active pairings: name and
    /// unit), who update risk types and measures on the assistance page.
    monitored_risk: bool,
    responsible: Vec<String>,
    /// The self-declarations from the public portal behind the warning (issue 7).
    declarations: Vec<crate::pages::portal_admin::DeclarationLine>,
    /// The viewer may reveal a declarant's full numbers (an audited POST).
    can_reveal: bool,
    /// The lead is on a provisional number and the viewer may carry it over to the registered
    /// household.
    can_link: bool,
    /// The household number typed into the link form, kept when it is refused.
    link_no: String,
}

/// What one answer of the warning page shows besides the warning.
#[derive(Default)]
struct Shown {
    errors: Vec<String>,
    /// The step just taken (`?done=CODE`), for the message saying what happened.
    done: String,
    note: String,
    /// The declaration whose full numbers are shown (after an audited reveal).
    revealed: Option<i64>,
    link_no: String,
}

/// What a warning's origin says, in words (department uploads, visits); ID numbers never.
fn origin_lines(origin: Option<&str>, c: &Chrome) -> Vec<String> {
    let values: Vec<Value> = origin
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    values
        .iter()
        .filter_map(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!(
                        "{}: {}",
                        c.t(&format!("warnings-origin-{}", origin_key(k))),
                        v
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .map(|s| mask_free_text(&s))
        .collect()
}

/// The origin fields the pages know by name; others show as "other".
fn origin_key(k: &str) -> &'static str {
    match k {
        "account" => "account",
        "on" => "on",
        "upload_id" => "upload",
        "file" => "file",
        "department" => "department",
        "rows" => "rows",
        "declaration" => "declaration",
        _ => "other",
    }
}

async fn detail_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    shown: Shown,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?;
    let lang = viewer.lang;
    let w = warnings::warning(&state.db, &account.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = today_in_china();
    let policy = policy();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("warning-title"), w.id);
    let mut steps = Vec::new();
    let mut cadres = Vec::new();
    if let Some(status) = w.status()
        && account.may(Action::WriteRegistry)
    {
        let actor = Actor {
            role: account.role,
            is_assignee: w.assignee.as_deref() == Some(account.name.as_str()),
        };
        for step in StepKind::ALL {
            if may_take(status, step, actor).is_ok() {
                // Verifying a new risk of a monitored household adds its risk types to the
                // household's; it is no lead for identification.
                let key = match (step, w.kind()) {
                    (StepKind::Verify, Some(WarningKind::MonitoredRisk)) => {
                        "warning-step-verify-monitored".to_owned()
                    }
                    _ => format!("warning-step-{}", step.code()),
                };
                steps.push(Step {
                    code: step.code(),
                    label: c.t(&key),
                });
            }
        }
        if steps.iter().any(|s| s.code == "assign") {
            cadres = warnings::assignable_cadres(&state.db, &w.division_code)
                .await?
                .into_iter()
                .map(|a| a.name)
                .collect();
        }
    }
    let monitored_risk = w.kind() == Some(WarningKind::MonitoredRisk);
    let responsible = if monitored_risk {
        zhenxing_store::assistance::household_assistance(
            &state.db,
            &account.scope(),
            &w.household_no,
        )
        .await?
        .map(|a| {
            a.pairings
                .iter()
                .filter(|p| p.is_active(today))
                .map(|p| format!("{}（{}）", p.cadre_name, p.unit))
                .collect()
        })
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    let done = done_step_message(&shown.done, &w, lang);
    let page = DetailPage {
        done,
        place: Places::of(state, lang, [w.division_code.as_str()])
            .await?
            .label(&w.division_code),
        opened_at: zhenxing_core::china_time::china_time_text(&w.opened_at),
        source: source_label(&w.source, lang),
        status: status_label(&w.status, &w.kind, lang),
        kind: kind_label(&w.kind, lang),
        monitored_risk,
        responsible,
        category: category_label(w.category.as_deref(), lang),
        risks: risk_labels(&w.risk_types, lang),
        reasons: w
            .reason_texts()
            .into_iter()
            .map(|(rule, text)| (rule, mask_free_text(text.get(lang))))
            .collect(),
        origins: origin_lines(w.origin.as_deref(), &c),
        overdue: w.is_overdue(today, &policy),
        steps,
        cadres,
        default_deadline: (today + Duration::days(policy.default_days)).to_string(),
        max_deadline: (today + Duration::days(policy.max_days)).to_string(),
        today: today.to_string(),
        errors: shown.errors,
        note: shown.note,
        can_open_case: w.status() == Some(WarningStatus::Verified)
            && !monitored_risk
            && account.may(Action::WorkCases),
        declarations: crate::pages::portal_admin::declaration_lines(
            state,
            account,
            &w,
            lang,
            shown.revealed,
        )
        .await?,
        can_reveal: account.may(Action::RevealPersonalNumbers),
        can_link: account.may(Action::WriteRegistry)
            && WarningChannel::of_source(&w.source) == Some(WarningChannel::SelfDeclaration)
            && portal::is_provisional_household_no(&w.household_no),
        link_no: shown.link_no,
        w,
        c,
    };
    Ok(render_form(&page, !page.errors.is_empty()))
}

#[derive(Deserialize, Default)]
pub struct DetailParams {
    done: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Params(params): Params<DetailParams>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let shown = Shown {
        done: params.done.unwrap_or_default(),
        ..Shown::default()
    };
    detail_page(&state, &viewer, id, shown).await
}

/// "已分派给 lixin，核实期限 2026-12-14": what the step just taken did, read from the warning
/// as it is now (the query names only the step).
fn done_step_message(step: &str, w: &WarningDetail, lang: Lang) -> Option<String> {
    let status = status_label(&w.status, &w.kind, lang);
    let text = match step {
        "assign" => {
            let who = w.assignee.clone().unwrap_or_default();
            let until = w.deadline.clone().unwrap_or_default();
            Text::new(
                format!("已分派给{who}，核实期限{until}"),
                format!("assigned to {who}, to verify by {until}"),
            )
        }
        "verify" | "dismiss" => Text::new(
            format!("已记录核实结果：{status}"),
            format!("the outcome is recorded: {status}"),
        ),
        "link" => Text::new(
            format!("已关联到已登记农户{}", w.household_no),
            format!("linked to the registered household {}", w.household_no),
        ),
        _ => return None,
    };
    Some(text.get(lang).to_owned())
}

/// 409: the warning changed since the page was loaded.
#[derive(Deserialize)]
pub struct StepForm {
    version: String,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

fn parse_version(version: &str) -> AppResult<i64> {
    version
        .trim()
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "the version is not valid"))
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

async fn step(
    state: AppState,
    viewer: Viewer,
    id: String,
    form: StepForm,
    code: &'static str,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?;
    let id = parse_id(&id)?;
    // Outside the account's division the warning does not exist, whatever the form says.
    warnings::warning(&state.db, &account.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let version = parse_version(&form.version)?;
    let note = form.note.clone().unwrap_or_default();
    let step = match code {
        "assign" => {
            let deadline = blank(&form.deadline).and_then(parse_date).ok_or_else(|| {
                AppError::bad_request(
                    "请填写核实期限（年-月-日）",
                    "give the verification deadline (year-month-day)",
                )
            })?;
            WarningStep::Assign { deadline }
        }
        "verify" => WarningStep::Verify { note: note.clone() },
        _ => WarningStep::Dismiss {
            reason: note.clone(),
        },
    };
    let request = StepRequest {
        warning_id: id,
        expected_version: version,
        step,
        assignee: form.assignee.clone().map(|a| a.trim().to_owned()),
    };
    match warnings::take_step(&state.db, account, &request, &policy())
        .await?
        .or_refused()?
    {
        Ok(_) => Ok(Redirect::to(&format!("/warnings/{id}?done={code}")).into_response()),
        Err(reason) => {
            let shown = Shown {
                errors: vec![reason.get(viewer.lang).to_owned()],
                note,
                ..Shown::default()
            };
            detail_page(&state, &viewer, id, shown).await
        }
    }
}

pub async fn assign(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StepForm>,
) -> AppResult<Response> {
    step(state, viewer, id, form, "assign").await
}

pub async fn verify(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StepForm>,
) -> AppResult<Response> {
    step(state, viewer, id, form, "verify").await
}

pub async fn dismiss(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StepForm>,
) -> AppResult<Response> {
    step(state, viewer, id, form, "dismiss").await
}

#[derive(Deserialize)]
pub struct RevealForm {
    declaration: String,
    #[serde(flatten)]
    purpose: crate::pages::reveal::PurposeForm,
}

/// The warning page with one declarant's full ID and phone numbers, for roles that may reveal
/// personal numbers; every reveal is an audited operation on the declaration, and the numbers
/// are shown on this answer only.
pub async fn reveal(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::RevealPersonalNumbers)?;
    let id = parse_id(&id)?;
    let declaration = parse_id(&form.declaration)?;
    let scope = account.scope();
    // Outside the account's division the warning and its declarations do not exist.
    warnings::warning(&state.db, &scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let d = portal::declarations_of_warning(&state.db, &scope, id)
        .await?
        .into_iter()
        .find(|d| d.id == declaration)
        .ok_or(AppError::NotFound)?;
    let purpose = form.purpose.check().map_err(AppError::BadRequest)?;
    let revealed = zhenxing_store::audit::Revealed {
        object_type: "declaration",
        object_id: d.id.to_string(),
        county_code: d.county_code.clone(),
        division_code: d.division_code.clone(),
        reason: Some(format!(
            "{purpose}；warning {id}: the declarant's ID and phone numbers"
        )),
    };
    zhenxing_store::audit::record_reveal(&state.db, &account.name, revealed).await?;
    let shown = Shown {
        revealed: Some(d.id),
        ..Shown::default()
    };
    detail_page(&state, &viewer, id, shown).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    version: String,
    household: String,
}

/// A photo or scan sent with a self-declaration behind the lead `id`, to whoever reads the lead
/// (in their division; elsewhere it does not exist). Never to the public.
pub async fn declaration_file(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, declaration, number)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?;
    let (id, declaration, number) = (parse_id(&id)?, parse_id(&declaration)?, parse_id(&number)?);
    let (name, content_type, bytes) =
        portal::declaration_file(&state.db, &account.scope(), (id, declaration), number)
            .await?
            .ok_or(AppError::NotFound)?;
    Ok(crate::pages::send_attachment(&name, &content_type, bytes))
}

/// "关联已登记农户": carries a self-declaration lead on a provisional number over to the
/// household registered since (`portal::link_household` checks the place and the members).
pub async fn link(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?;
    let id = parse_id(&id)?;
    let version = parse_version(&form.version)?;
    let household = form.household.trim();
    match portal::link_household(&state.db, account, id, version, household)
        .await?
        .or_refused()?
    {
        Ok(_) => Ok(Redirect::to(&format!("/warnings/{id}?done=link")).into_response()),
        Err(reason) => {
            let shown = Shown {
                errors: vec![reason.get(viewer.lang).to_owned()],
                // Typed by a person: an ID or phone number typed here by mistake is not echoed.
                link_no: mask_free_text(household),
                ..Shown::default()
            };
            detail_page(&state, &viewer, id, shown).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A visit or a self-declaration, recorded by a cadre

#[derive(Template)]
#[template(path = "warning_report.html")]
struct ReportPage {
    c: Chrome,
    no: String,
    head_name: String,
    channels: Vec<(&'static str, String, bool)>,
    risks: Vec<(&'static str, String, bool)>,
    categories: Vec<(&'static str, String, bool)>,
    on: String,
    today: String,
    note: String,
    errors: Vec<String>,
}

#[derive(Default)]
struct ReportInput {
    channel: String,
    on: String,
    risks: Vec<String>,
    category: String,
    note: String,
}

async fn report_page(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
    input: ReportInput,
    errors: Vec<String>,
) -> AppResult<Response> {
    viewer.may(Action::WriteRegistry)?;
    let lang = viewer.lang;
    let (record, _) = scoped_household(state, viewer, no).await?;
    let head_name = record.head_name().unwrap_or_default().to_owned();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("report-title"), record.household_no);
    let channel = if input.channel.is_empty() {
        "visit"
    } else {
        input.channel.as_str()
    };
    let today = today_in_china().to_string();
    let page = ReportPage {
        channels: [WarningChannel::Visit, WarningChannel::SelfDeclaration]
            .iter()
            .map(|ch| (ch.code(), ch.label(lang).to_owned(), ch.code() == channel))
            .collect(),
        risks: RiskType::ALL
            .iter()
            .map(|r| {
                (
                    r.code(),
                    r.label(lang).to_owned(),
                    input.risks.iter().any(|x| x == r.code()),
                )
            })
            .collect(),
        categories: MonitoringCategory::ALL
            .iter()
            .map(|m| {
                (
                    m.code(),
                    m.label(lang).to_owned(),
                    m.code() == input.category,
                )
            })
            .collect(),
        on: if input.on.is_empty() {
            today.clone()
        } else {
            input.on
        },
        today,
        note: input.note,
        errors,
        no: record.household_no,
        head_name,
        c,
    };
    Ok(render_form(&page, !page.errors.is_empty()))
}

pub async fn report_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
) -> AppResult<Response> {
    report_page(&state, &viewer, &no, ReportInput::default(), Vec::new()).await
}

pub async fn report_submit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(fields): CsrfForm<Fields>,
) -> AppResult<Response> {
    let field = |name: &str| fields.one(name);
    let account = viewer.may(Action::WriteRegistry)?;
    let lang = viewer.lang;
    let input = ReportInput {
        channel: field("channel"),
        on: field("on"),
        risks: fields
            .0
            .iter()
            .filter(|(k, _)| k == "risk")
            .map(|(_, v)| v.clone())
            .collect(),
        category: field("category"),
        note: field("note"),
    };
    let mut errors = Vec::new();
    let channel = match input.channel.as_str() {
        "visit" => WarningChannel::Visit,
        "self_declaration" => WarningChannel::SelfDeclaration,
        other => {
            errors.push(
                Text::new(
                    format!(
                        "未知的来源“{}”：请选择走访或农户申报",
                        mask_free_text(other)
                    ),
                    format!(
                        "unknown source '{}': choose a visit or a self-declaration",
                        mask_free_text(other)
                    ),
                )
                .get(lang)
                .to_owned(),
            );
            WarningChannel::Visit
        }
    };
    let mut risks = Vec::new();
    for code in &input.risks {
        match RiskType::from_code(code) {
            Some(r) if !risks.contains(&r) => risks.push(r),
            Some(_) => {}
            None => errors.push(
                Text::new(
                    format!("未知的风险类型“{}”", mask_free_text(code)),
                    format!("unknown risk type '{}'", mask_free_text(code)),
                )
                .get(lang)
                .to_owned(),
            ),
        }
    }
    let category = match input.category.as_str() {
        "" => None,
        code => match MonitoringCategory::from_code(code) {
            Some(c) => Some(c),
            None => {
                errors.push(
                    Text::new("未知的监测对象类别", "unknown monitoring category")
                        .get(lang)
                        .to_owned(),
                );
                None
            }
        },
    };
    let today = today_in_china();
    let on = match parse_date(&input.on) {
        Some(d) => d,
        None => {
            errors.push(
                Text::new("请填写日期（年-月-日）", "give the date (year-month-day)")
                    .get(lang)
                    .to_owned(),
            );
            today
        }
    };
    if let Err(problems) = check_report(on, today, &risks, &input.note) {
        errors.extend(problems.iter().map(|p| p.get(lang).to_owned()));
    }
    if !errors.is_empty() {
        return report_page(&state, &viewer, &no, input, errors).await;
    }
    let report = Report {
        household_no: no.clone(),
        channel,
        on,
        risks,
        category,
        note: input.note.clone(),
    };
    match warnings::report(&state.db, account, &report, &policy()).await? {
        None => Err(AppError::NotFound),
        Some(Raised::Opened(id) | Raised::Merged(id) | Raised::Unchanged(id)) => {
            Ok(Redirect::to(&format!("/warnings/{id}")).into_response())
        }
    }
}
