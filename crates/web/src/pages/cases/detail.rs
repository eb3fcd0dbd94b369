//! One case: its progress, history, attachments and the forms of the steps the viewer may take.

use super::*;

pub(super) struct StageMark {
    label: String,
    done: bool,
    current: bool,
}

pub(super) struct HistoryLine {
    number: i64,
    label: String,
    happened_on: String,
    actor: String,
    role: String,
    note: String,
    details: Vec<String>,
    recorded_at: String,
}

pub(super) struct StepForm {
    code: &'static str,
    label: String,
}

pub(super) struct AttachmentLine {
    id: i64,
    file_name: String,
    size: String,
    uploaded_by: String,
    uploaded_at: String,
}

#[derive(Template)]
#[template(path = "case.html")]
pub(super) struct DetailPage {
    c: Chrome,
    case: CaseRow,
    head_name: String,
    /// The village and its township, in words.
    place: String,
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
    record_number: String,
    /// The home verification form's values: as the refused form had them, else the defaults.
    visited_on: String,
    income: String,
    rigid_spending: String,
    commitment: bool,
    rigid_resolved: bool,
    /// What the step just taken did ("已办理“入户核实”；当前环节：民主评议").
    done: Option<String>,
    /// The refused form (its step, what it held, its problems by field), if one was refused.
    kept: Kept,
}

impl DetailPage {
    /// The problems of a refused form's field, for the template.
    fn errors_of(&self, field: &str) -> Vec<&str> {
        self.kept
            .field_errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, e)| e.as_str())
            .collect()
    }

    /// The problems of `field` when the refused form is `step`'s (forms share field names).
    fn errors_at(&self, step: &str, field: &str) -> Vec<&str> {
        if self.kept.step == step {
            self.errors_of(field)
        } else {
            Vec::new()
        }
    }

    /// What the refused form of `step` held in `name`, else `default`.
    fn kept_value(&self, step: &str, name: &str, default: &str) -> String {
        self.kept.value(step, name, default)
    }

    /// Whether the refused form of `step` had `name=value` chosen.
    fn kept_choice(&self, step: &str, name: &str, value: &str) -> bool {
        self.kept.ticked(step, name, value, false)
    }
}

/// What a refused form had typed, shown again in it, and its problems by field.
#[derive(Debug, Default)]
pub(super) struct Kept {
    /// The step whose form was refused (empty: none).
    pub(super) step: String,
    pub(super) fields: Fields,
    /// (field, problem in the reader's language).
    pub(super) field_errors: Vec<(String, String)>,
    /// The step just taken (`?done=CODE` after a step), for the message saying what happened.
    pub(super) done: String,
}

impl Kept {
    /// What the refused form of `step` held in `name`; `default` for any other form.
    fn value(&self, step: &str, name: &str, default: &str) -> String {
        if self.step == step {
            self.fields.one(name)
        } else {
            default.to_owned()
        }
    }

    /// Whether the refused form of `step` had `name=value` ticked; `default` otherwise.
    fn ticked(&self, step: &str, name: &str, value: &str, default: bool) -> bool {
        if self.step == step {
            self.fields.has(name, value)
        } else {
            default
        }
    }
}

/// The stages a case passes through, in order. Both procedures take the same stages;
/// identification's data comparison runs alongside the village's steps and shows in the
/// history, not as a stage.
pub(super) const STAGE_PATH: [Stage; 7] = [
    Stage::Verification,
    Stage::Appraisal,
    Stage::Notice,
    Stage::TownshipReview,
    Stage::CountyApproval,
    Stage::Announcement,
    Stage::Completed,
];

/// A step's recorded content in words (ID numbers never appear: notes are masked).
pub(super) fn detail_lines(step: &str, details: &str, c: &Chrome, lang: Lang) -> Vec<String> {
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
            if get("rigid_spending_resolved").as_bool() == Some(true) {
                push("case-rigid-resolved", c.t("cases-yes"));
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
        "record_national" => {
            push("case-national-on", text("on"));
            push("case-national-number", text("record_number"));
        }
        _ => {}
    }
    out
}

pub(super) async fn detail_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    errors: Vec<String>,
    kept: Kept,
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
        place: Places::of(state, lang, [detail.case.division_code.as_str()])
            .await?
            .label(&detail.case.division_code),
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
            |m| kept.ticked(&kept.step, "category", m.code(), Some(m) == chosen_category),
        ),
        risk_choices: choices(RiskType::ALL, RiskType::code, RiskType::label, lang, |r| {
            kept.ticked(&kept.step, "risk", r.code(), chosen_risks.contains(&r))
        }),
        problems: PROBLEMS
            .iter()
            .map(|p| Choice {
                code: p,
                label: c.t(&format!("cases-problem-{p}")),
                checked: kept.ticked("verify", "problem", p, false),
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
        note: kept.value(&kept.step, "note", ""),
        record_number: kept.value("record_national", "record_number", ""),
        visited_on: kept.value("verify", "visited_on", &today.to_string()),
        income: kept.value("verify", "income", ""),
        rigid_spending: kept.value("verify", "rigid_spending", "0"),
        commitment: kept.ticked("verify", "commitment", "yes", false),
        rigid_resolved: kept.ticked("verify", "rigid_resolved", "yes", false),
        done: StepKind::from_code(&kept.done).map(|step| {
            Text::new(
                format!(
                    "已办理“{}”；当前环节：{}",
                    step.label(Lang::Zh),
                    current.label(Lang::Zh)
                ),
                format!(
                    "'{}' recorded; the case is now at: {}",
                    step.label(Lang::En),
                    current.label(Lang::En)
                ),
            )
            .get(lang)
            .to_owned()
        }),
        kept,
        case: detail.case,
        c,
    };
    Ok(render_form(&page, !page.errors.is_empty()))
}

pub(super) const PROBLEMS: [&str; 6] = [
    "food",
    "clothing",
    "schooling",
    "medical_insurance",
    "housing",
    "water",
];

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
    let kept = Kept {
        done: params.done.unwrap_or_default(),
        ..Kept::default()
    };
    detail_page(&state, &viewer, id, Vec::new(), kept).await
}
