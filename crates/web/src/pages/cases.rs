//! The statutory procedures on the web (issue 5): the cases of the viewer's division, the most
//! urgent first, with those near or past their time limit marked; one page per case with its
//! progress, every step signed and dated, its attachments, and a form for each step the viewer
//! may take now (`zhenxing_core::procedure::may_take`); the form that opens a case from a lead;
//! the printable public notice of a village; and the time-limit settings. Reading needs
//! `ReadCases`, acting `WorkCases`, the settings `ManageSettings`.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult, OutcomeExt};
use crate::pages::households::scoped_household;
use crate::pages::{
    Chrome, Fields, blank, render, render_form, risk_labels, saved_redirect, whole_days, yuan,
};
use crate::pages::{Params, parse_id};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use serde_json::Value;
use time::{Date, Duration};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::china_time::{china_day, china_day_text};
use zhenxing_core::mask::mask_free_text;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::procedure::{
    CaseKind, CaseState, Conditions, DayCounting, EliminationMethod, EmergencyCause,
    ProcedurePolicy, Stage, Step, StepKind, Urgency, VerificationForm, may_take,
};
use zhenxing_core::warning::WarningChannel;
use zhenxing_core::{Action, DivisionCode, DivisionLevel, Fen, Lang, MonitoringCategory, Text};
use zhenxing_store::procedures::{
    self, CaseFilter, CaseListRow, CaseRow, NoticeEntry, OpenRequest, StepRequest,
};

const PAGE_SIZE: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(inbox))
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

// ---------------------------------------------------------------------------------------------
// The inbox

#[derive(Deserialize, Default)]
pub struct InboxParams {
    filter: Option<String>,
    kind: Option<String>,
}

struct Line {
    id: i64,
    household_no: String,
    head_name: String,
    division_code: String,
    kind: String,
    stage: String,
    emergency: bool,
    opened_on: String,
    due_on: String,
    /// Days since the lead, of the limit ("day 13 of 15").
    elapsed: String,
    urgency: &'static str,
}

struct Tab {
    code: &'static str,
    label: String,
    count: Option<i64>,
    current: bool,
}

struct NotificationLine {
    id: i64,
    case_id: i64,
    message: String,
    at: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct InboxPage {
    c: Chrome,
    tabs: Vec<Tab>,
    filter: String,
    kinds: Vec<(&'static str, String)>,
    kind: String,
    lines: Vec<Line>,
    notifications: Vec<NotificationLine>,
    limit_days: i64,
    truncated: bool,
}

fn line(r: CaseListRow, lang: Lang, today: Date, policy: &ProcedurePolicy) -> Line {
    let c = r.case;
    let urgency = c.urgency(today, policy);
    let elapsed = parse_date(&c.opened_on)
        .map(|opened| (today - opened).whole_days())
        .filter(|_| urgency != Urgency::NotTimed)
        .map(|d| d.to_string())
        .unwrap_or_default();
    Line {
        id: c.id,
        head_name: r.head_name.unwrap_or_default(),
        kind: label_of(Some(&c.kind), CaseKind::from_code, CaseKind::label, lang),
        stage: label_of(Some(&c.stage), Stage::from_code, Stage::label, lang),
        emergency: c.emergency.is_some(),
        opened_on: c.opened_on,
        due_on: c.due_on.unwrap_or_default(),
        elapsed,
        urgency: urgency_code(urgency),
        household_no: c.household_no,
        division_code: c.division_code,
    }
}

pub async fn inbox(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<InboxParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let filter_code = blank(&params.filter).unwrap_or("open");
    let filter = CaseFilter::from_code(filter_code).ok_or_else(|| {
        AppError::bad_request(
            format!("未知的筛选“{filter_code}”"),
            format!("unknown filter '{filter_code}'"),
        )
    })?;
    let kind_code = blank(&params.kind).unwrap_or("");
    let kind = match kind_code {
        "" => None,
        code => Some(CaseKind::from_code(code).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的程序“{code}”"),
                format!("unknown procedure '{code}'"),
            )
        })?),
    };
    let policy = procedures::policy(&state.db).await?;
    let scope = account.scope();
    let mut rows = procedures::inbox(
        &state.db,
        &scope,
        filter,
        kind,
        today,
        &policy,
        PAGE_SIZE + 1,
    )
    .await?;
    let truncated = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let counts = procedures::inbox_counts(&state.db, &scope, today, &policy).await?;
    let notifications = procedures::unread_notifications(&state.db, &scope)
        .await?
        .into_iter()
        .map(|n| NotificationLine {
            id: n.id,
            case_id: n.case_id,
            message: mask_free_text(if lang == Lang::Zh {
                &n.message_zh
            } else {
                &n.message_en
            }),
            at: china_day_text(&n.created_at),
        })
        .collect();
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("cases-title");
    let tab = |code: &'static str, count: Option<i64>| Tab {
        code,
        label: c.t(&format!("cases-tab-{code}")),
        count,
        current: code == filter_code,
    };
    let tabs = vec![
        tab("open", Some(counts.open)),
        tab("urgent", Some(counts.urgent)),
        tab("overdue", Some(counts.overdue)),
        tab("closed", None),
    ];
    let page = InboxPage {
        tabs,
        filter: filter_code.to_owned(),
        kinds: CaseKind::ALL
            .iter()
            .map(|k| (k.code(), k.label(lang).to_owned()))
            .collect(),
        kind: kind_code.to_owned(),
        lines: rows
            .into_iter()
            .map(|r| line(r, lang, today, &policy))
            .collect(),
        notifications,
        limit_days: policy.limit_days,
        truncated,
        c,
    };
    Ok(render(&page))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn read_notification(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> AppResult<Response> {
    viewer.check_csrf(&form.csrf)?;
    let account = viewer.may(Action::ReadCases)?;
    let id = parse_id(&id)?;
    if !procedures::mark_read(&state.db, account, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/cases").into_response())
}

// ---------------------------------------------------------------------------------------------
// One case

struct StageMark {
    label: String,
    done: bool,
    current: bool,
}

struct HistoryLine {
    number: i64,
    label: String,
    happened_on: String,
    actor: String,
    role: String,
    note: String,
    details: Vec<String>,
    recorded_at: String,
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

struct StepForm {
    code: &'static str,
    label: String,
}

struct AttachmentLine {
    id: i64,
    file_name: String,
    size: String,
    uploaded_by: String,
    uploaded_at: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct DetailPage {
    c: Chrome,
    case: CaseRow,
    head_name: String,
    kind: String,
    stage: String,
    lead: String,
    emergency: String,
    category: String,
    risks: String,
    method: String,
    urgency: &'static str,
    stages: Vec<StageMark>,
    history: Vec<HistoryLine>,
    attachments: Vec<AttachmentLine>,
    forms: Vec<StepForm>,
    can_attach: bool,
    categories: Vec<Choice>,
    risk_choices: Vec<Choice>,
    problems: Vec<Choice>,
    methods: Vec<Choice>,
    open_objections: Vec<u32>,
    today: String,
    notice_end: String,
    errors: Vec<String>,
    note: String,
}

/// The stages a case passes through, in order. Both procedures take the same stages;
/// identification's data comparison runs alongside the village's steps and shows in the
/// history, not as a stage.
const STAGE_PATH: [Stage; 7] = [
    Stage::Verification,
    Stage::Appraisal,
    Stage::Notice,
    Stage::TownshipReview,
    Stage::CountyApproval,
    Stage::Announcement,
    Stage::Completed,
];

/// A step's recorded content in words (ID numbers never appear: notes are masked).
fn detail_lines(step: &str, details: &str, c: &Chrome, lang: Lang) -> Vec<String> {
    let v: Value = serde_json::from_str(details).unwrap_or(Value::Null);
    let get = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    let text = |k: &str| get(k).as_str().map(str::to_owned).unwrap_or_default();
    let mut out = Vec::new();
    let mut push = |key: &str, value: String| {
        if !value.is_empty() {
            out.push(format!("{}: {}", c.t(key), value));
        }
    };
    let yes_no = |b: bool| c.t(if b { "cases-yes" } else { "cases-no" });
    match step {
        "open" => {
            push(
                "cases-lead",
                label_of(
                    get("channel").as_str(),
                    WarningChannel::from_code,
                    WarningChannel::label,
                    lang,
                ),
            );
            if let Some(w) = get("warning_id").as_i64() {
                push("cases-from-warning", w.to_string());
            }
            push(
                "cases-emergency",
                label_of(
                    get("emergency").as_str(),
                    EmergencyCause::from_code,
                    EmergencyCause::label,
                    lang,
                ),
            );
        }
        "verify" => {
            push("cases-visited-on", text("visited_on"));
            if let Some(f) = get("per_capita_income_fen").as_i64() {
                push("cases-income", yuan(f));
            }
            if let Some(f) = get("rigid_spending_fen").as_i64() {
                push("cases-rigid-spending", yuan(f));
            }
            let problems: Vec<String> = get("problems")
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|p| c.t(&format!("cases-problem-{p}")))
                        .collect()
                })
                .unwrap_or_default();
            let none = c.t("cases-problems-none");
            push(
                "cases-problems",
                if problems.is_empty() {
                    none
                } else {
                    problems.join(if lang == Lang::Zh { "、" } else { ", " })
                },
            );
            push(
                "cases-category",
                label_of(
                    get("category").as_str(),
                    MonitoringCategory::from_code,
                    MonitoringCategory::label,
                    lang,
                ),
            );
            push("cases-risks", risk_labels(&text("risks"), lang));
            if let Some(b) = get("commitment_signed").as_bool() {
                push("cases-commitment", yes_no(b));
            }
        }
        "compare" => {
            if let Some(b) = get("consistent").as_bool() {
                push("cases-consistent", yes_no(b));
            }
        }
        "appraise" => {
            push("cases-held-on", text("held_on"));
            if let Some(n) = get("attendance").as_i64() {
                push("cases-attendance", n.to_string());
            }
            push("cases-participants", mask_free_text(&text("participants")));
            if let Some(b) = get("agreed").as_bool() {
                push("cases-agreed", yes_no(b));
            }
        }
        "post_notice" => {
            push("cases-notice-starts", text("starts_on"));
            push("cases-notice-ends", text("ends_on"));
        }
        "object" => push("cases-received-on", text("received_on")),
        "resolve_objection" => {
            if let Some(n) = get("objection").as_i64() {
                push("cases-objection-number", n.to_string());
            }
        }
        "county_approve" => {
            push(
                "cases-category",
                label_of(
                    get("category").as_str(),
                    MonitoringCategory::from_code,
                    MonitoringCategory::label,
                    lang,
                ),
            );
            push("cases-risks", risk_labels(&text("risks"), lang));
            push(
                "cases-method",
                label_of(
                    get("method").as_str(),
                    EliminationMethod::from_code,
                    EliminationMethod::label,
                    lang,
                ),
            );
        }
        "announce" => push("cases-announced-on", text("on")),
        _ => {}
    }
    out
}

async fn detail_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: Vec<String>,
    note: String,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let lang = viewer.lang;
    let detail = procedures::case(&state.db, &account.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let case_state: CaseState = detail.case.state()?;
    let today = today_in_china();
    let policy = procedures::policy(&state.db).await?;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("case-title"), detail.case.id);
    let may_work = account.may(Action::WorkCases);
    let forms: Vec<StepForm> = StepKind::ALL
        .iter()
        .copied()
        .filter(|k| *k != StepKind::Open)
        .filter(|k| may_work && may_take(&case_state, *k, account.role).is_ok())
        .map(|k| StepForm {
            code: k.code(),
            label: k.label(lang).to_owned(),
        })
        .collect();
    let current = case_state.stage;
    let current_rank = STAGE_PATH.iter().position(|s| *s == current);
    let stages = STAGE_PATH
        .iter()
        .enumerate()
        .map(|(i, s)| StageMark {
            label: s.label(lang).to_owned(),
            done: current_rank.is_some_and(|r| i < r) || current == Stage::Completed,
            current: *s == current,
        })
        .collect();
    let history = detail
        .steps
        .iter()
        .map(|s| HistoryLine {
            number: s.number,
            label: label_of(Some(&s.step), StepKind::from_code, StepKind::label, lang),
            happened_on: s.happened_on.clone(),
            actor: s.actor.clone(),
            role: label_of(
                Some(&s.actor_role),
                zhenxing_core::Role::from_code,
                zhenxing_core::Role::label,
                lang,
            ),
            note: mask_free_text(&s.note),
            details: detail_lines(&s.step, &s.details, &c, lang),
            recorded_at: zhenxing_core::china_time::china_time_text(&s.recorded_at),
        })
        .collect();
    let attachments = detail
        .attachments
        .iter()
        .map(|a| AttachmentLine {
            id: a.id,
            file_name: a.file_name.clone(),
            size: format!("{:.1} KB", a.size_bytes as f64 / 1024.0),
            uploaded_by: a.uploaded_by.clone(),
            uploaded_at: china_day_text(&a.uploaded_at),
        })
        .collect();
    let chosen_category = case_state.category;
    let chosen_risks = case_state.risks.clone();
    let open_objections = case_state
        .objections
        .iter()
        .enumerate()
        .filter(|(_, resolved)| !**resolved)
        .map(|(i, _)| i as u32 + 1)
        .collect();
    let notice_start = case_state.appraised_on.unwrap_or(today).max(today);
    let page = DetailPage {
        head_name: detail.head_name.clone().unwrap_or_default(),
        kind: case_state.kind.label(lang).to_owned(),
        stage: current.label(lang).to_owned(),
        lead: label_of(
            detail.case.lead_channel.as_deref(),
            WarningChannel::from_code,
            WarningChannel::label,
            lang,
        ),
        emergency: label_of(
            detail.case.emergency.as_deref(),
            EmergencyCause::from_code,
            EmergencyCause::label,
            lang,
        ),
        category: chosen_category
            .map(|m| m.label(lang).to_owned())
            .unwrap_or_default(),
        risks: risk_labels(&detail.case.risk_types, lang),
        method: label_of(
            detail.case.method.as_deref(),
            EliminationMethod::from_code,
            EliminationMethod::label,
            lang,
        ),
        urgency: urgency_code(detail.case.urgency(today, &policy)),
        stages,
        history,
        attachments,
        can_attach: may_work && !current.is_final(),
        forms,
        categories: choices(
            MonitoringCategory::ALL,
            MonitoringCategory::code,
            MonitoringCategory::label,
            lang,
            |m| Some(m) == chosen_category,
        ),
        risk_choices: choices(RiskType::ALL, RiskType::code, RiskType::label, lang, |r| {
            chosen_risks.contains(&r)
        }),
        problems: PROBLEMS
            .iter()
            .map(|p| Choice {
                code: p,
                label: c.t(&format!("cases-problem-{p}")),
                checked: false,
            })
            .collect(),
        methods: choices(
            EliminationMethod::ALL,
            EliminationMethod::code,
            EliminationMethod::label,
            lang,
            |_| false,
        ),
        open_objections,
        today: today.to_string(),
        notice_end: (notice_start + Duration::days(policy.notice_days - 1)).to_string(),
        errors,
        note,
        case: detail.case,
        c,
    };
    Ok(render_form(&page, !page.errors.is_empty()))
}

const PROBLEMS: [&str; 6] = [
    "food",
    "clothing",
    "schooling",
    "medical_insurance",
    "housing",
    "water",
];

pub async fn detail(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    detail_page(&state, &viewer, id, Vec::new(), String::new()).await
}

/// The procedures' readers of a form's fields (`pages::Fields`).
impl Fields {
    fn date(&self, name: &str, what: (&str, &str)) -> Result<Date, Text> {
        let value = self.one(name);
        parse_date(&value).ok_or_else(|| {
            let (zh, en) = what;
            Text::new(
                format!("请填写{zh}（年-月-日）"),
                format!("give {en} (year-month-day)"),
            )
        })
    }

    fn yes(&self, name: &str) -> Result<bool, Text> {
        match self.one(name).as_str() {
            "yes" => Ok(true),
            "no" => Ok(false),
            _ => Err(Text::new("请选择“是”或“否”", "choose yes or no")),
        }
    }

    fn amount(&self, name: &str, what: (&str, &str)) -> Result<Fen, Text> {
        let value = self.one(name);
        let (zh, en) = what;
        if value.is_empty() {
            return Err(Text::new(
                format!("请填写{zh}（元）"),
                format!("give {en} (yuan)"),
            ));
        }
        Fen::parse(&value).map_err(|e| {
            let t = e.text();
            Text::new(format!("{zh}：{}", t.zh), format!("{en}: {}", t.en))
        })
    }

    fn risks(&self) -> Result<Vec<RiskType>, Text> {
        self.all("risk")
            .iter()
            .map(|r| RiskType::parse(r))
            .collect()
    }

    fn category(&self) -> Result<Option<MonitoringCategory>, Text> {
        match self.one("category").as_str() {
            "" => Ok(None),
            code => MonitoringCategory::parse(code).map(Some),
        }
    }
}

/// The step a form describes, or what is wrong with the form.
fn step_from(code: &str, kind: CaseKind, f: &Fields) -> Result<Step, Text> {
    let note = f.one("note");
    Ok(match code {
        "verify" => {
            let identification = kind == CaseKind::Identification;
            Step::Verify(VerificationForm {
                visited_on: f.date("visited_on", ("入户日期", "the day of the visit"))?,
                per_capita_income: f.amount(
                    "income",
                    (
                        "近12个月家庭人均纯收入",
                        "the per-capita net income of the last 12 months",
                    ),
                )?,
                rigid_spending: f.amount("rigid_spending", ("刚性支出", "the rigid spending"))?,
                problems: Conditions {
                    food: f.has("problem", "food"),
                    clothing: f.has("problem", "clothing"),
                    schooling: f.has("problem", "schooling"),
                    medical_insurance: f.has("problem", "medical_insurance"),
                    housing: f.has("problem", "housing"),
                    water: f.has("problem", "water"),
                },
                category: if identification { f.category()? } else { None },
                risks: if identification {
                    f.risks()?
                } else {
                    Vec::new()
                },
                commitment_signed: identification && f.has("commitment", "yes"),
                note,
            })
        }
        "compare" => Step::Compare {
            consistent: f.yes("consistent")?,
            note,
        },
        "appraise" => Step::Appraise {
            held_on: f.date("held_on", ("评议日期", "the day of the appraisal"))?,
            attendance: f.one("attendance").parse().map_err(|_| {
                Text::new(
                    "请填写参加人数（整数）",
                    "give the number of participants (a whole number)",
                )
            })?,
            participants: f.one("participants"),
            agreed: f.yes("agreed")?,
            note,
        },
        "post_notice" => Step::PostNotice {
            starts_on: f.date("starts_on", ("公示开始日期", "the first day of the notice"))?,
            ends_on: f.date("ends_on", ("公示结束日期", "the last day of the notice"))?,
        },
        "object" => Step::Object {
            received_on: f.date(
                "received_on",
                ("收到异议的日期", "the day the objection came"),
            )?,
            note,
        },
        "resolve_objection" => Step::ResolveObjection {
            number: f
                .one("number")
                .parse()
                .map_err(|_| Text::new("请选择要处理的异议", "choose the objection to resolve"))?,
            note,
        },
        "close_notice" => Step::CloseNotice { note },
        "township_approve" => Step::TownshipApprove { note },
        "county_approve" => Step::CountyApprove {
            category: f.category()?,
            risks: f.risks()?,
            method: match f.one("method").as_str() {
                "" => None,
                m => Some(EliminationMethod::parse(m)?),
            },
            note,
        },
        "announce" => Step::Announce {
            on: f.date("on", ("公告日期", "the day of the announcement"))?,
            note,
        },
        "reject" => Step::Reject { reason: note },
        "withdraw" => Step::Withdraw { reason: note },
        "comment" => Step::Comment { note },
        _ => return Err(Text::new("未知的办理步骤", "unknown step")),
    })
}

pub async fn take_step(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, code)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let fields = Fields(pairs);
    viewer.check_csrf(&fields.one("csrf"))?;
    let account = viewer.may(Action::WorkCases)?;
    let id = parse_id(&id)?;
    if StepKind::from_code(&code).is_none_or(|k| k == StepKind::Open) {
        return Err(AppError::NotFound);
    }
    // Outside the account's division the case does not exist, whatever the form says.
    let detail = procedures::case(&state.db, &account.scope(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = detail.case.kind()?;
    let version: i64 = fields
        .one("version")
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "the version is not valid"))?;
    let note = fields.one("note");
    let step = match step_from(&code, kind, &fields) {
        Ok(step) => step,
        Err(why) => {
            return detail_page(
                &state,
                &viewer,
                id,
                vec![why.get(viewer.lang).to_owned()],
                note,
            )
            .await;
        }
    };
    let policy = procedures::policy(&state.db).await?;
    let request = StepRequest {
        case_id: id,
        expected_version: version,
        step,
    };
    match procedures::take_step(&state.db, account, &request, &policy)
        .await?
        .or_refused()?
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(why) => {
            detail_page(
                &state,
                &viewer,
                id,
                vec![why.get(viewer.lang).to_owned()],
                note,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Attachments

pub async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    use crate::upload::{UploadError, small_bytes, small_text};
    let account = viewer.may(Action::WorkCases)?;
    let id = parse_id(&id)?;
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut checked = false;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| UploadError::from(e).into_app_error())?;
        let Some(mut field) = field else { break };
        match field.name().unwrap_or("") {
            "csrf" => {
                csrf = small_text(&mut field, 200)
                    .await
                    .map_err(UploadError::into_app_error)?;
                viewer.check_csrf(&csrf)?;
                checked = true;
            }
            "file" if checked => {
                let name = field.file_name().unwrap_or("").to_owned();
                // One more byte than allowed tells a file that is too large from one that fits.
                let bytes = small_bytes(&mut field, zhenxing_store::files::MAX_FILE_BYTES + 1)
                    .await
                    .map_err(UploadError::into_app_error)?;
                file = Some((name, bytes));
            }
            _ => crate::upload::skip(&mut field)
                .await
                .map_err(UploadError::into_app_error)?,
        }
    }
    viewer.check_csrf(&csrf)?;
    let Some((name, bytes)) = file else {
        return detail_page(
            &state,
            &viewer,
            id,
            vec![
                Text::new("请选择要上传的文件", "choose a file to upload")
                    .get(viewer.lang)
                    .to_owned(),
            ],
            String::new(),
        )
        .await;
    };
    match procedures::attach(&state.db, account, id, &name, &bytes)
        .await?
        .or_refused()?
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(why) => {
            detail_page(
                &state,
                &viewer,
                id,
                vec![why.get(viewer.lang).to_owned()],
                String::new(),
            )
            .await
        }
    }
}

pub async fn download(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, file)): Path<(String, String)>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let (id, file) = (parse_id(&id)?, parse_id(&file)?);
    let (name, content_type, bytes) = procedures::attachment(&state.db, &account.scope(), id, file)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::pages::send_attachment(&name, &content_type, bytes))
}

// ---------------------------------------------------------------------------------------------
// Opening a case

#[derive(Template)]
#[template(path = "case_open.html")]
struct OpenPage {
    c: Chrome,
    no: String,
    head_name: String,
    kinds: Vec<Choice>,
    channels: Vec<Choice>,
    emergencies: Vec<Choice>,
    warning: String,
    found_on: String,
    today: String,
    note: String,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct OpenParams {
    kind: Option<String>,
    warning: Option<String>,
}

struct OpenInput {
    kind: String,
    channel: String,
    emergency: String,
    warning: String,
    found_on: String,
    note: String,
}

async fn open_page(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
    input: OpenInput,
    errors: Vec<String>,
) -> AppResult<Response> {
    viewer.may(Action::WorkCases)?;
    let lang = viewer.lang;
    let (record, _) = scoped_household(state, viewer, no).await?;
    let head_name = record.head_name().unwrap_or_default().to_owned();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("case-open-title"), record.household_no);
    let today = today_in_china().to_string();
    let page = OpenPage {
        kinds: choices(CaseKind::ALL, CaseKind::code, CaseKind::label, lang, |k| {
            k.code() == input.kind
        }),
        channels: choices(
            WarningChannel::ALL,
            WarningChannel::code,
            WarningChannel::label,
            lang,
            |ch| ch.code() == input.channel,
        ),
        emergencies: choices(
            EmergencyCause::ALL,
            EmergencyCause::code,
            EmergencyCause::label,
            lang,
            |e| e.code() == input.emergency,
        ),
        warning: input.warning,
        found_on: if input.found_on.is_empty() {
            today.clone()
        } else {
            input.found_on
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

pub async fn open_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    Params(params): Params<OpenParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WorkCases)?;
    let mut input = OpenInput {
        kind: blank(&params.kind).unwrap_or("identification").to_owned(),
        channel: "visit".to_owned(),
        emergency: String::new(),
        warning: String::new(),
        found_on: String::new(),
        note: String::new(),
    };
    // A lead from a verified warning: its channel, and the day it was raised.
    if let Some(w) = blank(&params.warning).and_then(|w| w.parse::<i64>().ok())
        && let Some(w) = zhenxing_store::warnings::warning(&state.db, &account.scope(), w).await?
        && w.household_no == no
    {
        input.warning = w.id.to_string();
        input.channel = WarningChannel::of_source(&w.source)
            .map(|c| c.code().to_owned())
            .unwrap_or_default();
        input.found_on = china_day(&w.opened_at)
            .map(|d| d.to_string())
            .unwrap_or_default();
    }
    open_page(&state, &viewer, &no, input, Vec::new()).await
}

pub async fn open_submit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Fields(pairs);
    viewer.check_csrf(&f.one("csrf"))?;
    let account = viewer.may(Action::WorkCases)?;
    let lang = viewer.lang;
    let input = OpenInput {
        kind: f.one("kind"),
        channel: f.one("channel"),
        emergency: f.one("emergency"),
        warning: f.one("warning"),
        found_on: f.one("found_on"),
        note: f.one("note"),
    };
    let mut errors = Vec::new();
    let kind = CaseKind::from_code(&input.kind);
    if kind.is_none() {
        errors.push(Text::new("请选择程序", "choose the procedure"));
    }
    let channel = match input.channel.as_str() {
        "" => None,
        code => WarningChannel::from_code(code),
    };
    let emergency = match input.emergency.as_str() {
        "" => None,
        code => EmergencyCause::from_code(code),
    };
    let warning_id = match input.warning.as_str() {
        "" => None,
        w => match w.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                errors.push(Text::new("预警编号有误", "the warning number is not valid"));
                None
            }
        },
    };
    let found_on = parse_date(&input.found_on);
    if found_on.is_none() {
        errors.push(Text::new(
            "请填写发现线索的日期（年-月-日）",
            "give the day the lead was found (year-month-day)",
        ));
    }
    let (Some(kind), Some(found_on), true) = (kind, found_on, errors.is_empty()) else {
        let errors = errors.iter().map(|e| e.get(lang).to_owned()).collect();
        return open_page(&state, &viewer, &no, input, errors).await;
    };
    let request = OpenRequest {
        household_no: no.clone(),
        kind,
        channel: if kind == CaseKind::Identification {
            channel
        } else {
            None
        },
        warning_id,
        found_on,
        emergency: emergency.filter(|_| kind == CaseKind::Identification),
        note: input.note.clone(),
    };
    let policy = procedures::policy(&state.db).await?;
    match procedures::open_case(&state.db, account, &request, &policy)
        .await?
        .or_refused()?
    {
        Ok(id) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(why) => open_page(&state, &viewer, &no, input, vec![why.get(lang).to_owned()]).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The public notice of a village

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    c: Chrome,
    place: String,
    village: String,
    entries: Vec<NoticeLine>,
    today: String,
}

struct NoticeLine {
    kind: String,
    head_name: String,
    village_group: String,
    category: String,
    period: String,
}

/// The names of a village and the divisions above it (county, township, village).
async fn place_names(
    state: &AppState,
    village: &DivisionCode,
    lang: Lang,
) -> AppResult<Vec<String>> {
    let mut codes = vec![*village];
    let mut code = *village;
    while let Some(parent) = code.parent() {
        if parent.level() == DivisionLevel::Province {
            break;
        }
        codes.push(parent);
        code = parent;
    }
    let mut names = Vec::new();
    for code in codes.iter().rev() {
        if let Some(d) = state.db.division(code).await? {
            names.push(if lang == Lang::Zh {
                d.name_zh
            } else {
                d.name_en
            });
        }
    }
    Ok(names)
}

/// The notice as posted on the village's noticeboard and on the public portal: no account
/// needed, and nothing but names, village groups, categories and dates (DOMAIN.md 1.7).
pub async fn notice(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(village): Path<String>,
) -> AppResult<Response> {
    let code = DivisionCode::parse(&village).map_err(|_| AppError::NotFound)?;
    if code.level() != DivisionLevel::Village {
        return Err(AppError::NotFound);
    }
    if state.db.division(&code).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let lang = viewer.lang;
    let today = today_in_china();
    let entries: Vec<NoticeEntry> =
        procedures::notices(&state.db, code.as_str(), today, 30).await?;
    let names = place_names(&state, &code, lang).await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("notice-title");
    let sep = if lang == Lang::Zh { "至" } else { " to " };
    let page = NoticePage {
        village: names.last().cloned().unwrap_or_default(),
        place: names.join(if lang == Lang::Zh { "" } else { ", " }),
        entries: entries
            .into_iter()
            .map(|e| NoticeLine {
                kind: e.kind.label(lang).to_owned(),
                head_name: e.head_name,
                village_group: e.village_group.unwrap_or_default(),
                category: e
                    .category
                    .map(|m| m.label(lang).to_owned())
                    .unwrap_or_default(),
                period: format!("{}{sep}{}", e.starts_on, e.ends_on),
            })
            .collect(),
        today: today.to_string(),
        c,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------------------
// Settings: the time limits

#[derive(Template)]
#[template(path = "procedure_settings.html")]
struct SettingsPage {
    c: Chrome,
    limit_days: String,
    working: bool,
    notice_days: String,
    near_days: String,
    errors: Vec<String>,
    saved: bool,
}

#[derive(Deserialize, Default)]
pub struct SettingsParams {
    saved: Option<String>,
}

fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    p: (&str, bool, &str, &str),
    errors: Vec<String>,
    saved: bool,
) -> Response {
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("settings-procedures-title");
    let page = SettingsPage {
        limit_days: p.0.to_owned(),
        working: p.1,
        notice_days: p.2.to_owned(),
        near_days: p.3.to_owned(),
        errors,
        saved,
        c,
    };
    render_form(&page, !page.errors.is_empty())
}

pub async fn settings_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<SettingsParams>,
) -> AppResult<Response> {
    viewer.may(Action::ManageSettings)?;
    let p = procedures::policy(&state.db).await?;
    Ok(settings_page(
        &state,
        &viewer,
        (
            &p.limit_days.to_string(),
            p.counting == DayCounting::Working,
            &p.notice_days.to_string(),
            &p.near_days.to_string(),
        ),
        Vec::new(),
        blank(&params.saved).is_some(),
    ))
}

pub async fn settings_save(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Fields(pairs);
    viewer.check_csrf(&f.one("csrf"))?;
    let account = viewer.may(Action::ManageSettings)?;
    let lang = viewer.lang;
    let (limit, notice, near) = (
        f.one("limit_days"),
        f.one("notice_days"),
        f.one("near_days"),
    );
    let working = f.has("counting", "working");
    let parsed = (
        whole_days(&limit, ("办理时限", "the time limit")),
        whole_days(&notice, ("公示期", "the notice period")),
        whole_days(&near, ("临期提醒", "the warning before the limit")),
    );
    let problems = match parsed {
        (Ok(limit_days), Ok(notice_days), Ok(near_days)) => {
            let new = ProcedurePolicy {
                limit_days,
                counting: if working {
                    DayCounting::Working
                } else {
                    DayCounting::Calendar
                },
                notice_days,
                near_days,
            };
            match procedures::set_policy(&state.db, &account.name, &new).await? {
                Ok(()) => return Ok(saved_redirect("/settings/procedures")),
                Err(problems) => problems,
            }
        }
        (a, b, c) => [a.err(), b.err(), c.err()].into_iter().flatten().collect(),
    };
    Ok(settings_page(
        &state,
        &viewer,
        (&limit, working, &notice, &near),
        problems.iter().map(|p| p.get(lang).to_owned()).collect(),
        false,
    ))
}
