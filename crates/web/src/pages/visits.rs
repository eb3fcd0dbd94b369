//! The village cadre's phone (issue 19): the monthly round of visits, the visit form pre-filled
//! with what the registry holds (one tap for "no change"), the visit's own page with its photo,
//! signature and any conflict with the office to decide, and the parts that make it work
//! without signal: the web app manifest, the service worker and `visit.js` (no build step:
//! plain JavaScript served from the binary). What a visit does is decided in
//! `zhenxing_app::visits` and `zhenxing_store::visits`.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat, ListHead};
use crate::pages::place_names::Places;
use crate::pages::{Chrome, Fields, parse_id, query_string, render, render_form};
use crate::scope::scoped_household;
use crate::upload::{UploadError, capped_bytes, small_text};
use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::json;
use std::collections::BTreeMap;
use zhenxing_app::visits::{VisitForm, ages_on, parse_visit, screen_with, visit_rule_set};
use zhenxing_core::china_time::{china_time_text, today_in_china};
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::visit::{
    FORM_VERSION, FieldKind, HOUSEHOLD_FIELDS, Problem, VisitField, VisitOutcome, form_checks,
    value_words,
};
use zhenxing_core::{Action, HealthCondition, Lang, Relation, SchoolStatus, Text, text};
use zhenxing_io::ColumnSpec;
use zhenxing_store::files::{self, AcceptedFile, MAX_FILE_BYTES};
use zhenxing_store::visits::{self, Choice, NotDecided, Recorded, Refused, RoundRow, field_values};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits", get(round))
        .route("/visits.xlsx", get(round_export))
        .route("/visits.csv", get(round_export))
        .route("/visits/conflicts", get(conflicts))
        .route(
            "/visits/{no}",
            get(form)
                .post(submit)
                .layer(axum::extract::DefaultBodyLimit::max(VISIT_BODY_LIMIT)),
        )
        .route("/visits/record/{county}/{id}", get(record_page))
        .route("/visits/record/{county}/{id}/decide", post(decide))
        .route("/visits/record/{county}/{id}/file/{kind}", get(file))
        .route("/sw.js", get(service_worker))
        .route("/manifest.webmanifest", get(manifest))
        .route("/static/visit.js", get(script))
}

/// The most a visit form may carry: a photo and a signature, and its text.
pub const VISIT_BODY_LIMIT: usize = 2 * MAX_FILE_BYTES + 256 * 1024;

fn first_of_month(d: time::Date) -> time::Date {
    d.replace_day(1).unwrap_or(d)
}

fn previous_month_start(d: time::Date) -> time::Date {
    let first = first_of_month(d);
    first_of_month(first - time::Duration::days(1))
}

// ---------------------------------------------------------------------------------------------
// The round

struct RoundLine {
    no: String,
    name: String,
    group: String,
    /// The village, on an officer's round.
    place: String,
    last_visit: String,
}

#[derive(Template)]
#[template(path = "visits.html")]
struct RoundPage {
    c: Chrome,
    overdue: Vec<RoundLine>,
    due: Vec<RoundLine>,
    done: Vec<RoundLine>,
    total: usize,
    /// "共 N 户" of the households shown, and the export links.
    head: ListHead,
    filtered: bool,
    conflicts: usize,
    message: Option<String>,
    session_ends: String,
    month: String,
}

/// The counts of a round: (not visited since last month, not visited this month, visited).
pub fn split_round(rows: Vec<RoundRow>, today: time::Date) -> [Vec<RoundRow>; 3] {
    let this_month = first_of_month(today);
    let last_month = previous_month_start(today);
    let (mut overdue, mut due, mut done) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        if r.visited_since(this_month) {
            done.push(r);
        } else if r.visited_since(last_month) {
            due.push(r);
        } else {
            overdue.push(r);
        }
    }
    [overdue, due, done]
}

#[derive(serde::Deserialize, Default)]
pub struct RoundQuery {
    done: Option<String>,
    no: Option<String>,
    /// `overdue`, `due` or `done`: one part of the round (from 我的待办); all of it otherwise.
    show: Option<String>,
}

/// The round of `account`, in its three parts, narrowed to the part `show` names: the one
/// query of the page and its export.
async fn round_parts(
    state: &AppState,
    account: &zhenxing_store::accounts::Account,
    show: Option<&str>,
) -> AppResult<(usize, [Vec<RoundRow>; 3])> {
    let rows = visits::round(&state.db, &account.scope()).await?;
    let total = rows.len();
    let [mut overdue, mut due, mut done] = split_round(rows, today_in_china());
    match show {
        Some("overdue") => (due, done) = (Vec::new(), Vec::new()),
        Some("due") => (overdue, done) = (Vec::new(), Vec::new()),
        Some("done") => (overdue, due) = (Vec::new(), Vec::new()),
        _ => {}
    }
    Ok((total, [overdue, due, done]))
}

async fn round(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<RoundQuery>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?;
    let today = today_in_china();
    let (total, parts) = round_parts(&state, account, q.show.as_deref()).await?;
    let shown: usize = parts.iter().map(Vec::len).sum();
    // Officers' rounds span villages: each line names its village.
    let places = Places::of(
        &state,
        viewer.lang,
        parts.iter().flatten().map(|r| r.division_code.as_str()),
    )
    .await?;
    let above_village = account.division.level() != zhenxing_core::DivisionLevel::Village;
    let line = |r: RoundRow| RoundLine {
        last_visit: r.last_visit.clone().unwrap_or_default(),
        name: r.head_name.clone().unwrap_or_default(),
        group: r.village_group.clone().unwrap_or_default(),
        place: if above_village {
            places.label(&r.division_code)
        } else {
            String::new()
        },
        no: r.household_no,
    };
    let [overdue, due, done] = parts;
    let conflicts = visits::open_conflicts(&state.db, &account.scope())
        .await?
        .len();
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("visits-title");
    let no =
        q.no.as_deref()
            .map(zhenxing_core::mask::mask_free_text)
            .unwrap_or_default();
    let message = q
        .done
        .as_deref()
        .and_then(VisitOutcome::from_code)
        .map(|o| done_message(o, &no).get(viewer.lang).to_owned());
    let export_query = viewer.may(Action::ExportRegistry).is_ok().then(|| {
        q.show
            .as_deref()
            .map(|s| query_string(&[("show", s)]))
            .unwrap_or_default()
    });
    let head = ListHead::new(
        &c,
        "list-total-households",
        shown as i64,
        "/visits",
        export_query,
    );
    let page = RoundPage {
        overdue: overdue.into_iter().map(line).collect(),
        due: due.into_iter().map(line).collect(),
        done: done.into_iter().map(line).collect(),
        total,
        head,
        filtered: q.show.is_some(),
        conflicts,
        message,
        session_ends: viewer.session_ends.clone().unwrap_or_default(),
        month: format!("{}-{:02}", today.year(), u8::from(today.month())),
        c,
    };
    Ok(render(&page))
}

/// The round as XLSX or CSV, as the page's `show` selects it, for those who may export.
async fn round_export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<RoundQuery>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?;
    viewer.may(Action::ExportRegistry)?;
    let (_, parts) = round_parts(&state, account, q.show.as_deref()).await?;
    let c = Chrome::new(&state, &viewer, String::new());
    let places = Places::of(
        &state,
        viewer.lang,
        parts.iter().flatten().map(|r| r.division_code.as_str()),
    )
    .await?;
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        text("col-household-no"),
        text("col-head"),
        text("col-village"),
        text("visits-col-group"),
        text("visits-col-state"),
        text("visits-last"),
    ];
    let mut file = ListFile::create("visits", format, &columns)?;
    let mut rows = Vec::new();
    for (part, key) in parts
        .into_iter()
        .zip(["visits-overdue", "visits-due", "visits-done"])
    {
        for r in part {
            rows.push(vec![
                r.household_no,
                r.head_name.unwrap_or_default(),
                places.label(&r.division_code),
                r.village_group.unwrap_or_default(),
                c.t(key),
                r.last_visit.unwrap_or_default(),
            ]);
        }
    }
    file.write(rows).await?;
    file.send(
        &state,
        &viewer,
        ExportRecord {
            action: "visits.export",
            division: account.division,
            filters: json!({"show": q.show}),
        },
    )
    .await
}

fn done_message(o: VisitOutcome, no: &str) -> Text {
    match o {
        VisitOutcome::Recorded => text!(
            "已记录{no}的走访：无变化",
            "the visit to {no} is recorded: no change"
        ),
        VisitOutcome::Applied => text!(
            "已记录{no}的走访，变化已写入登记库",
            "the visit to {no} is recorded and its changes written to the registry"
        ),
        VisitOutcome::Conflict => text!(
            "已记录{no}的走访，但有变化与办公室的修改冲突，未写入：请裁决或交乡镇处理",
            "the visit to {no} is recorded, but a change conflicts with an office change and was not written: decide it, or the township will"
        ),
        VisitOutcome::KeptOffice => text!(
            "冲突已裁决：保留办公室的数据",
            "conflict decided: the office's values kept"
        ),
        VisitOutcome::AppliedVisit => text!(
            "冲突已裁决：采用走访的数据",
            "conflict decided: the visit's values written"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The form

struct Choice2 {
    code: &'static str,
    label: String,
    on: bool,
}

struct MemberLine {
    i: usize,
    name: String,
    relation: String,
    age: i32,
    insured: String,
    schools: Vec<Choice2>,
    healths: Vec<Choice2>,
}

struct MoneyLine {
    name: &'static str,
    label: String,
    value: String,
}

#[derive(Template)]
#[template(path = "visit_form.html")]
struct FormPage {
    c: Chrome,
    no: String,
    head_name: String,
    key: String,
    form_version: u32,
    today: String,
    visited_on: String,
    food_clothing: String,
    housing_safe: String,
    water_safe: String,
    was: Vec<(String, String)>,
    money: Vec<MoneyLine>,
    members: Vec<MemberLine>,
    risks: Vec<Choice2>,
    note: String,
    /// The risks are the household's own declaration.
    declared: bool,
    measures: Vec<String>,
    last_visit: String,
    checks: String,
    errors: Vec<(String, String)>,
    open_changes: bool,
}

/// A submission key for a form served without the script (the script makes its own).
impl FormPage {
    /// The problems found on `field`, for the line under it.
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("；")
    }

    fn member_err(&self, i: &usize, field: &str) -> String {
        self.err(&format!("m{i}.{field}"))
    }
}

fn random_key() -> String {
    zhenxing_store::credentials::random_token()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect()
}

fn lang_label(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// The form for `record`, filled with `values` (what the registry holds, or what was sent).
async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    record: &zhenxing_store::HouseholdRecord,
    sent: Option<&VisitForm>,
    errors: Vec<Problem>,
) -> AppResult<Response> {
    let lang = viewer.lang;
    let account = viewer.may(Action::WriteRegistry)?;
    let today = today_in_china();
    let stored = field_values(record);
    let history =
        visits::household_visits(&state.db, &account.scope(), &record.household_no).await?;
    let last = history.first();
    let (sent_values, sent_was) = sent.map(VisitForm::values).unwrap_or_default();
    let was: BTreeMap<String, String> = if sent.is_some() {
        sent_was
    } else {
        stored.clone()
    };
    let value = |name: &str| -> String {
        sent_values
            .get(name)
            .or_else(|| stored.get(name))
            .cloned()
            .unwrap_or_default()
    };
    let food_clothing = sent_values
        .get("food_clothing")
        .cloned()
        .unwrap_or_else(|| match last {
            Some(v) if !v.food_clothing => "no".to_owned(),
            _ => "yes".to_owned(),
        });
    let money = HOUSEHOLD_FIELDS
        .iter()
        .filter(|(_, k, ..)| *k == FieldKind::Money)
        .map(|(name, _, zh, en)| MoneyLine {
            name,
            label: lang_label(lang, zh, en),
            value: value(name),
        })
        .collect();
    let ages = ages_on(record, today);
    let members = record
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let school = value(&format!("m{i}.school"));
            let health = value(&format!("m{i}.health"));
            MemberLine {
                i,
                name: m.name.clone(),
                relation: Relation::from_code(&m.relation)
                    .map(|r| r.label(lang).to_owned())
                    .unwrap_or_default(),
                age: ages.get(i).copied().unwrap_or(-1),
                insured: value(&format!("m{i}.insured")),
                schools: SchoolStatus::ALL
                    .iter()
                    .map(|s| Choice2 {
                        code: s.code(),
                        label: s.label(lang).to_owned(),
                        on: s.code() == school,
                    })
                    .collect(),
                healths: HealthCondition::ALL
                    .iter()
                    .map(|h| Choice2 {
                        code: h.code(),
                        label: h.label(lang).to_owned(),
                        on: health.split(',').any(|x| x == h.code()),
                    })
                    .collect(),
            }
        })
        .collect();
    let chosen_risks: Vec<String> = sent
        .map(|f| {
            f.fields
                .iter()
                .filter(|(k, _)| k == "risk")
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();
    let measures = zhenxing_store::assistance::household_assistance(
        &state.db,
        &account.scope(),
        &record.household_no,
    )
    .await?
    .map(|a| {
        a.measures
            .iter()
            .filter(|m| {
                m.status()
                    .is_some_and(|s| s != zhenxing_core::assistance::MeasureStatus::Cancelled)
            })
            .map(|m| {
                let category = m
                    .category()
                    .map(|k| k.label(lang).to_owned())
                    .unwrap_or_default();
                format!(
                    "{category} · {}",
                    zhenxing_core::mask::mask_free_text(&m.content)
                )
            })
            .collect()
    })
    .unwrap_or_default();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("visit-title"), record.household_no);
    let one = |name: &str| sent.map(|f| f.one(name)).unwrap_or_default();
    let refused = !errors.is_empty();
    let open_changes = refused
        || sent_values
            .iter()
            .any(|(k, v)| was.get(k).is_some_and(|w| w != v));
    let page = FormPage {
        no: record.household_no.clone(),
        head_name: record.head_name().unwrap_or_default().to_owned(),
        key: random_key(),
        form_version: FORM_VERSION,
        visited_on: Some(one("visited_on"))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| today.to_string()),
        today: today.to_string(),
        food_clothing,
        housing_safe: value("housing_safe"),
        water_safe: value("water_safe"),
        was: was.into_iter().collect(),
        money,
        members,
        risks: RiskType::ALL
            .iter()
            .map(|r| Choice2 {
                code: r.code(),
                label: r.label(lang).to_owned(),
                on: chosen_risks.iter().any(|x| x == r.code()),
            })
            .collect(),
        note: one("note"),
        declared: one("risk_source") == "declared",
        measures,
        last_visit: last.map(|v| v.visited_on.clone()).unwrap_or_default(),
        checks: serde_json::to_string(&form_checks()).unwrap_or_else(|_| "[]".into()),
        errors: errors
            .into_iter()
            .map(|p| (p.field, if lang == Lang::Zh { p.zh } else { p.en }))
            .collect(),
        open_changes,
        c,
    };
    Ok(render_form(&page, refused))
}

async fn form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
) -> AppResult<Response> {
    viewer.may(Action::WriteRegistry)?;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    form_page(&state, &viewer, &record, None, Vec::new()).await
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Reads the visit form: its text fields, and the photo and signature (each refused in words
/// when it is not a JPEG or PNG image, or too large; the form's other fields are still read).
async fn read_visit_form(
    state: &AppState,
    request: Request,
) -> AppResult<(VisitForm, Vec<Problem>)> {
    if !crate::upload::is_multipart(request.headers()) {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|e| {
                AppError::bad_request(
                    format!("表单有误：{e}"),
                    format!("the form is not valid: {e}"),
                )
            })?;
        return Ok((
            VisitForm {
                fields,
                ..VisitForm::default()
            },
            Vec::new(),
        ));
    }
    let upload = UploadError::into_app_error;
    let mut parts = Multipart::from_request(request, state).await.map_err(|e| {
        AppError::bad_request(
            format!("表单有误：{e}"),
            format!("the form is not valid: {e}"),
        )
    })?;
    let (mut form, mut problems) = (VisitForm::default(), Vec::new());
    while let Some(mut field) = parts.next_field().await.map_err(|e| upload(e.into()))? {
        let name = field.name().unwrap_or("").to_owned();
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            let value = small_text(&mut field, 16 * 1024).await.map_err(upload)?;
            form.fields.push((name, value));
            continue;
        };
        let bytes = capped_bytes(&mut field, MAX_FILE_BYTES + 1)
            .await
            .map_err(upload)?;
        if bytes.is_empty() || !matches!(name.as_str(), "photo" | "signature") {
            continue;
        }
        match accept_image(&file_name, bytes) {
            Ok(f) if name == "photo" => form.photo = Some(f),
            Ok(f) => form.signature = Some(f),
            Err(t) => problems.push(Problem {
                field: name,
                blocking: true,
                zh: t.zh,
                en: t.en,
            }),
        }
    }
    Ok((form, problems))
}

/// A photo or signature: a JPEG or PNG image of at most [`MAX_FILE_BYTES`].
fn accept_image(file_name: &str, bytes: Vec<u8>) -> Result<AcceptedFile, Text> {
    let f = files::accept(file_name, bytes)?;
    if !f.content_type.starts_with("image/") {
        let name = &f.name;
        return Err(text!(
            "“{name}”不是照片：只接受JPEG或PNG图片",
            "'{name}' is not a photo: only JPEG or PNG images are accepted"
        ));
    }
    Ok(f)
}

fn problems_json(problems: &[Problem]) -> serde_json::Value {
    json!(
        problems
            .iter()
            .map(|p| json!({"field": p.field, "zh": p.zh, "en": p.en}))
            .collect::<Vec<_>>()
    )
}

async fn submit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    request: Request,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?.clone();
    let json_wanted = wants_json(request.headers());
    let (form, file_problems) = read_visit_form(&state, request).await?;
    viewer.check_csrf(&form.one("csrf"))?;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    let today = today_in_china();
    let parsed = parse_visit(&record, form.clone(), today);
    let problems: Vec<Problem> = match &parsed {
        Ok(_) => file_problems,
        Err(p) => file_problems.into_iter().chain(p.iter().cloned()).collect(),
    };
    let visit = match parsed {
        Ok(v) if problems.is_empty() => v,
        _ => {
            if json_wanted {
                let body = json!({"status": "refused", "problems": problems_json(&problems)});
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
            }
            return form_page(&state, &viewer, &record, Some(&form), problems).await;
        }
    };
    let rule_set = visit_rule_set(&state.db).await;
    let screen = screen_with(rule_set.as_ref(), today);
    let policy = crate::pages::warnings::policy();
    let recorded = visits::record(&state.db, &account, &visit, &screen, &policy).await?;
    state.badges.forget(account.id);
    let lang = viewer.lang;
    match recorded {
        Ok(r) => Ok(recorded_answer(&r, &no, lang, json_wanted)),
        Err(Refused::NotFound) => Err(AppError::NotFound),
        Err(Refused::KeyReused) => {
            let t = text!(
                "提交编号已用于另一户的走访：请重新打开表单",
                "the submission key was used for another household's visit: open the form again"
            );
            if json_wanted {
                let body = json!({"status": "refused", "problems": [{"field": "key", "zh": t.zh, "en": t.en}]});
                return Ok((StatusCode::CONFLICT, Json(body)).into_response());
            }
            Err(AppError::bad_request(t.zh, t.en))
        }
        Err(Refused::Invalid(t)) => {
            if json_wanted {
                let body = json!({"status": "refused", "problems": [{"field": "", "zh": t.zh, "en": t.en}]});
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
            }
            let p = Problem {
                field: String::new(),
                blocking: true,
                zh: t.zh,
                en: t.en,
            };
            form_page(&state, &viewer, &record, Some(&form), vec![p]).await
        }
    }
}

fn record_link(r: &Recorded) -> String {
    format!("/visits/record/{}/{}", r.county_code, r.id)
}

fn recorded_answer(r: &Recorded, no: &str, lang: Lang, json_wanted: bool) -> Response {
    let message = done_message(r.outcome, no);
    if json_wanted {
        let conflicts: Vec<_> = r
            .conflicts
            .iter()
            .map(|c| {
                let label = VisitField::parse(&c.field)
                    .map(VisitField::label)
                    .unwrap_or_else(|| Text::new(&c.field, &c.field));
                json!({"field": c.field, "label": label.get(lang),
                       "was": value_words(&c.field, &c.was).get(lang),
                       "office": value_words(&c.field, &c.office).get(lang),
                       "visit": value_words(&c.field, &c.visit).get(lang)})
            })
            .collect();
        let body = json!({
            "status": r.outcome.code(),
            "replayed": r.replayed,
            "visit": record_link(r),
            "warning": r.warning_id,
            "message": message.get(lang),
            "conflicts": conflicts,
        });
        return Json(body).into_response();
    }
    if r.outcome == VisitOutcome::Conflict {
        return Redirect::to(&format!("{}?done=conflict", record_link(r))).into_response();
    }
    Redirect::to(&format!(
        "/visits?done={}&no={}",
        r.outcome.code(),
        crate::pages::urlencode(no)
    ))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// A visit's page, its files, and conflicts

struct ChangeLine {
    label: String,
    was: String,
    now: String,
}

struct ConflictLine {
    label: String,
    was: String,
    office: String,
    visit: String,
}

#[derive(Template)]
#[template(path = "visit_record.html")]
struct RecordPage {
    c: Chrome,
    v: visits::VisitRow,
    outcome: String,
    open_conflict: bool,
    can_decide: bool,
    changes: Vec<ChangeLine>,
    conflicts: Vec<ConflictLine>,
    risks: String,
    recorded_at: String,
    decided_at: String,
    message: Option<String>,
    file_base: String,
}

fn field_label(field: &str, lang: Lang) -> String {
    VisitField::parse(field)
        .map(|f| f.label().get(lang).to_owned())
        .unwrap_or_else(|| field.to_owned())
}

async fn record_page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((county, id)): Path<(String, String)>,
    Query(q): Query<RoundQuery>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?;
    let id = parse_id(&id)?;
    let Some(v) = visits::visit(&state.db, &account.scope(), &county, id).await? else {
        return Err(AppError::NotFound);
    };
    let lang = viewer.lang;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = format!(
        "{} {} {}",
        c.t("visit-record-title"),
        v.household_no,
        v.visited_on
    );
    let page = RecordPage {
        outcome: v
            .outcome()
            .map(|o| o.label(lang).to_owned())
            .unwrap_or_default(),
        open_conflict: v.outcome() == Some(VisitOutcome::Conflict),
        can_decide: account.may(Action::WriteRegistry),
        changes: v
            .changes()
            .iter()
            .map(|ch| ChangeLine {
                label: field_label(&ch.field, lang),
                was: value_words(&ch.field, &ch.was).get(lang).to_owned(),
                now: value_words(&ch.field, &ch.now).get(lang).to_owned(),
            })
            .collect(),
        conflicts: v
            .conflicts()
            .iter()
            .map(|x| ConflictLine {
                label: field_label(&x.field, lang),
                was: value_words(&x.field, &x.was).get(lang).to_owned(),
                office: value_words(&x.field, &x.office).get(lang).to_owned(),
                visit: value_words(&x.field, &x.visit).get(lang).to_owned(),
            })
            .collect(),
        risks: crate::pages::risk_labels(&v.risk_types, lang),
        recorded_at: china_time_text(&v.created_at),
        decided_at: v
            .decided_at
            .as_deref()
            .map(china_time_text)
            .unwrap_or_default(),
        message: q
            .done
            .as_deref()
            .and_then(VisitOutcome::from_code)
            .map(|o| done_message(o, &v.household_no).get(lang).to_owned()),
        file_base: format!("/visits/record/{}/{}/file", v.county_code, v.id),
        v,
        c,
    };
    Ok(render(&page))
}

async fn decide(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((county, id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<Fields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?.clone();
    let id = parse_id(&id)?;
    let choice = match f.one("choice").as_str() {
        "office" => Choice::KeepOffice,
        "visit" => Choice::ApplyVisit,
        _ => {
            return Err(AppError::bad_request(
                "请选择保留办公室的数据或采用走访的数据",
                "choose the office's values or the visit's",
            ));
        }
    };
    let today = today_in_china();
    let rule_set = visit_rule_set(&state.db).await;
    let screen = screen_with(rule_set.as_ref(), today);
    let policy = crate::pages::warnings::policy();
    let here = format!("/visits/record/{county}/{id}");
    match visits::decide(&state.db, &account, &county, id, choice, &screen, &policy).await? {
        Ok(o) => {
            state.badges.forget(account.id);
            Ok(Redirect::to(&format!("{here}?done={}", o.code())).into_response())
        }
        Err(NotDecided::NotFound) => Err(AppError::NotFound),
        Err(NotDecided::AlreadyDecided) => Err(AppError::Conflict(text!(
            "这次走访的冲突已经裁决过了",
            "this visit's conflict has been decided already"
        ))),
        Err(NotDecided::ChangedAgain) => Err(AppError::Conflict(text!(
            "办公室又修改了冲突的数据：请重新打开本页再裁决",
            "the office changed the data in conflict again: open this page again and decide"
        ))),
        Err(NotDecided::Invalid(t)) => Err(AppError::bad_request(t.zh, t.en)),
    }
}

async fn file(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((county, id, kind)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?;
    let id = parse_id(&id)?;
    if !matches!(kind.as_str(), "photo" | "signature") {
        return Err(AppError::NotFound);
    }
    let Some((content_type, bytes)) =
        visits::visit_file(&state.db, &account.scope(), &county, id, &kind).await?
    else {
        return Err(AppError::NotFound);
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "visit_conflicts.html")]
struct ConflictsPage {
    c: Chrome,
    rows: Vec<(String, String, String, String, String)>,
    total: String,
}

async fn conflicts(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WriteRegistry)?;
    let rows = visits::open_conflicts(&state.db, &account.scope()).await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("visit-conflicts-title");
    let lang = viewer.lang;
    let page = ConflictsPage {
        total: {
            let n = crate::pages::count(rows.len() as i64);
            text!("共{n}条", "{n} in all").get(lang).to_owned()
        },
        rows: rows
            .iter()
            .map(|v| {
                let fields: Vec<String> = v
                    .conflicts()
                    .iter()
                    .map(|x| field_label(&x.field, lang))
                    .collect();
                (
                    format!("/visits/record/{}/{}", v.county_code, v.id),
                    v.household_no.clone(),
                    v.visited_on.clone(),
                    v.visitor.clone(),
                    fields.join("、"),
                )
            })
            .collect(),
        c,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------------------
// Offline: the manifest, the service worker and the script

async fn manifest(Extension(viewer): Extension<Viewer>) -> Response {
    let (name, short) = match viewer.lang {
        Lang::Zh => ("振兴 · 走访", "走访"),
        Lang::En => ("zhenxing · visits", "Visits"),
    };
    let body = json!({
        "name": name,
        "short_name": short,
        "lang": if viewer.lang == Lang::Zh { "zh-CN" } else { "en" },
        "start_url": "/visits",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#9b1c1c",
        "icons": [{"src": "/favicon.ico", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    });
    (
        [(header::CONTENT_TYPE, "application/manifest+json")],
        body.to_string(),
    )
        .into_response()
}

async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/sw.js"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/visit.js"),
    )
        .into_response()
}

/// The visits due in `scope` for 我的待办: (overdue, due this month, conflicts to decide).
pub async fn task_counts(
    state: &AppState,
    scope: &zhenxing_core::Scope,
) -> AppResult<(i64, i64, i64)> {
    let rows = visits::round(&state.db, scope).await?;
    let [overdue, due, _] = split_round(rows, today_in_china());
    let conflicts = visits::open_conflicts(&state.db, scope).await?.len();
    Ok((overdue.len() as i64, due.len() as i64, conflicts as i64))
}
