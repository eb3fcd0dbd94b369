//! Dynamic monitoring in the browser (issue 4): re-screening, the rule sets and what-if.
//!
//! - `GET /monitoring` (`Action::ReadRuleSets`) is the overview: the rule set in force, and for
//!   those who may re-screen (`Action::RunScreening`) a button and the status line of the run
//!   (phase, progress, counts, duration, who started it), with the last run's summary from the
//!   audit trail. `POST /monitoring/run` starts the app's shared pass (`monitoring::pass::screen`)
//!   for the account's division or a division inside it, on a blocking thread (the SQLite
//!   loaders read on the connection directly and would hold an async worker), one run at a time
//!   per server: a second start while one runs is answered 409 with the running one named. The
//!   page refreshes itself every two seconds while a run is in progress (`<meta refresh>`: the
//!   CSP allows no script). Reads go on during a run (SQLite WAL, PostgreSQL MVCC); the write
//!   is one transaction, so the warnings are as before or as after, never half.
//! - `GET /monitoring/rules` lists every saved version by year and jurisdiction, the one in
//!   force marked and assumed ones flagged with their note; `GET /monitoring/rules/{id}` shows
//!   one version's every parameter in words. `GET /monitoring/rules/new` (`ManageRuleSets`)
//!   offers a form pre-filled from the version in force (or `?from=ID`), built from the table
//!   [`TRIGGERS`], and `POST /monitoring/rules/new` or `/monitoring/rules/upload` (a JSON file in
//!   the format of `zhenxing monitor rules add`) save a new version through the store's
//!   `add_rule_set` (audited as `rules.add`). A rule set that `RuleSet::check` refuses comes back
//!   with every reason beside the form, and nothing is saved. There is no edit route.
//! - `GET /monitoring/whatif` (`Action::WhatIf`): a proposed threshold against the rule set in
//!   force, per division one level down (a link drills down), and the households that would
//!   enter or leave the monitoring range (number, village, per-capita income; no ID numbers),
//!   in pages. Nothing is written.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::pages::Params;
use crate::pages::divisions::{Crumb, division_name, scoped_division};
use crate::pages::{Chrome, blank, count, query_string, render, yuan};
use crate::upload::{UploadError, skip, small_bytes, small_text};
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use fluent_bundle::FluentValue;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zhenxing_app::monitoring::pass::{self, PassError, Phase, Progress, Screening};
use zhenxing_app::monitoring::{self as app_monitoring, WhatIfRequest};
use zhenxing_core::china_time::china_time_text;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::monitoring::{RuleId, RuleSet};
use zhenxing_core::{Action, DivisionCode, DivisionLevel, Fen, Text, text};
use zhenxing_engine::WhatIfCounts;
use zhenxing_store::accounts::Account;
use zhenxing_store::audit_query::{self, AuditFilter};
use zhenxing_store::monitoring::{self, StoredRuleSet};

/// Households per page of the what-if list.
const CHANGES_PER_PAGE: usize = 50;
/// The largest rule set file accepted.
const MAX_RULE_FILE: usize = 64 * 1024;

pub fn routes() -> Router<AppState> {
    let runs = Arc::new(Runs::default());
    Router::new()
        .route("/monitoring", get(overview))
        .route("/monitoring/run", post(start_run))
        .route("/monitoring/rules", get(rule_list))
        .route("/monitoring/rules/new", get(new_form).post(create))
        .route("/monitoring/rules/upload", post(upload))
        .route("/monitoring/rules/{id}", get(rule_page))
        .route("/monitoring/whatif", get(whatif))
        .layer(Extension(runs))
}

fn n(v: u64) -> FluentValue<'static> {
    FluentValue::from(v as f64)
}

fn seconds(d: Duration) -> FluentValue<'static> {
    FluentValue::from(format!("{:.1}", d.as_secs_f64()))
}

/// Seconds to the millisecond, for the steps of a run (evaluation takes milliseconds).
fn precise(d: Duration) -> FluentValue<'static> {
    FluentValue::from(format!("{:.3}", d.as_secs_f64()))
}

fn with_status(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    response
}

/// Saves the built-in rule sets on first use (as the CLI does), in the account's name.
async fn ensure_rule_sets(state: &AppState, account: &Account) -> AppResult<()> {
    monitoring::ensure_builtin_rule_sets(&state.db, &account.name).await?;
    Ok(())
}

/// A pass's error: its reason for the page, or an internal error (logged).
fn pass_reason(e: PassError) -> AppResult<Text> {
    match e {
        PassError::Stopped(t) => Ok(t),
        PassError::Store(e) => Err(e.into()),
    }
}

/// Runs a future on a thread of the blocking pool and waits for it: the monitoring loaders
/// read SQLite on the connection directly, which would otherwise hold an async worker.
async fn off_the_workers<T, F>(work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: AsyncFnOnce() -> T + Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a monitoring task stopped");
            AppError::Internal
        })
}

/// The division a run or a what-if covers, as the pass takes it: `None` for the whole
/// registry.
fn pass_scope(division: &DivisionCode) -> Option<DivisionCode> {
    (division.level() != DivisionLevel::Province).then_some(*division)
}

/// A division's name and code for a sentence, or "the whole registry".
async fn division_words(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    scope: Option<&DivisionCode>,
) -> AppResult<String> {
    Ok(match scope {
        None => tr.t("monitoring-whole-registry"),
        Some(code) => match state.db.division(code).await? {
            Some(d) => format!("{} ({})", division_name(viewer, &d), code.as_str()),
            None => code.as_str().to_owned(),
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Re-screening runs

/// The re-screening of this server: the one running, and the last one that ended.
#[derive(Default)]
pub struct Runs {
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    running: Option<Arc<Run>>,
    last: Option<Arc<Run>>,
}

const LOADING: u8 = 0;
const EVALUATING: u8 = 1;
const WRITING: u8 = 2;
const ENDED: u8 = 3;

pub struct Run {
    started_by: String,
    scope: Option<DivisionCode>,
    rule_set: Text,
    started_at: String,
    started: Instant,
    phase: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
    outcome: Mutex<Option<RunOutcome>>,
}

enum RunOutcome {
    Finished(Screening, Duration),
    /// Stopped: nothing was written. The reason, when it is one to tell.
    Failed(Option<Text>, Duration),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Runs {
    /// Registers `run` unless one is running; the running one otherwise.
    fn start(&self, run: Arc<Run>) -> Result<(), Arc<Run>> {
        let mut slot = lock(&self.slot);
        if let Some(running) = &slot.running {
            return Err(running.clone());
        }
        slot.running = Some(run);
        Ok(())
    }

    fn end(&self, run: &Arc<Run>, outcome: RunOutcome) {
        *lock(&run.outcome) = Some(outcome);
        run.phase.store(ENDED, Ordering::Release);
        let mut slot = lock(&self.slot);
        slot.running = None;
        slot.last = Some(run.clone());
    }

    fn running(&self) -> Option<Arc<Run>> {
        lock(&self.slot).running.clone()
    }

    fn last(&self) -> Option<Arc<Run>> {
        lock(&self.slot).last.clone()
    }
}

impl Run {
    fn report(&self, p: Progress) {
        let phase = match p.phase {
            Phase::Loading => LOADING,
            Phase::Evaluating => EVALUATING,
            Phase::Writing => WRITING,
        };
        self.done.store(p.done, Ordering::Relaxed);
        self.total.store(p.total, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
    }
}

/// A past run as the audit trail recorded it.
pub struct LastRun {
    pub summary: String,
    /// This server's timings of it, when it ran here.
    pub timings: Option<String>,
}

#[derive(Template)]
#[template(path = "monitoring.html")]
struct OverviewPage {
    c: Chrome,
    can_run: bool,
    can_whatif: bool,
    can_manage: bool,
    in_force: Option<RuleSetLine>,
    /// The status line of the run in progress.
    running: Option<String>,
    /// This server's last run, when it failed.
    failed: Option<String>,
    last: Option<LastRun>,
    division: String,
    errors: Vec<String>,
}

/// A rule set in one line, with its assumption flagged.
pub struct RuleSetLine {
    pub id: i64,
    pub label: String,
    pub threshold: String,
    pub assumed: bool,
    pub note: String,
}

fn rule_set_line(tr: &Tr, rs: &StoredRuleSet) -> RuleSetLine {
    RuleSetLine {
        id: rs.id,
        label: tr.text(&rs.rules.label()),
        threshold: rs.rules.threshold.map(|t| yuan(t.0)).unwrap_or_default(),
        assumed: rs.rules.assumed,
        note: rs
            .rules
            .note
            .as_ref()
            .map(|n| tr.text(n))
            .unwrap_or_default(),
    }
}

async fn status_line(state: &AppState, viewer: &Viewer, tr: &Tr, run: &Run) -> AppResult<String> {
    let (done, total) = (
        run.done.load(Ordering::Relaxed),
        run.total.load(Ordering::Relaxed),
    );
    let phase = match run.phase.load(Ordering::Acquire) {
        LOADING => tr.t_args(
            "monitoring-phase-loading",
            &[("done", n(done)), ("total", n(total))],
        ),
        EVALUATING => tr.t_args("monitoring-phase-evaluating", &[("total", n(total))]),
        _ => tr.t_args("monitoring-phase-writing", &[("total", n(total))]),
    };
    let division = division_words(state, viewer, tr, run.scope.as_ref()).await?;
    Ok(tr.t_args(
        "monitoring-running",
        &[
            ("division", FluentValue::from(division)),
            ("who", FluentValue::from(run.started_by.clone())),
            ("at", FluentValue::from(china_time_text(&run.started_at))),
            ("rules", FluentValue::from(tr.text(&run.rule_set))),
            ("seconds", seconds(run.started.elapsed())),
            ("phase", FluentValue::from(phase)),
        ],
    ))
}

/// The last run in the audit trail (from this server or the command line), in words.
async fn last_run(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    here: Option<&Arc<Run>>,
) -> AppResult<Option<LastRun>> {
    let filter = AuditFilter {
        action: Some("monitor.run".into()),
        ..Default::default()
    };
    let page = audit_query::search(&state.db, &filter, None, 1).await?;
    let Some(record) = page.records.first() else {
        return Ok(None);
    };
    let after: Value = record
        .after_data
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or(Value::Null);
    let int = |k: &str| after.get(k).and_then(Value::as_u64).unwrap_or(0);
    let rules = &after["rule_set"];
    let rule_set = format!(
        "{}/{} v{}",
        rules["year"],
        rules["jurisdiction"].as_str().unwrap_or(""),
        rules["version"]
    );
    let scope = after
        .get("scope")
        .and_then(Value::as_str)
        .and_then(|c| DivisionCode::parse(c).ok());
    let division = division_words(state, viewer, tr, scope.as_ref()).await?;
    let summary = tr.t_args(
        "monitoring-last-run",
        &[
            ("at", FluentValue::from(china_time_text(&record.at))),
            ("who", FluentValue::from(record.actor.clone())),
            ("division", FluentValue::from(division)),
            ("rules", FluentValue::from(rule_set)),
            ("evaluated", n(int("evaluated"))),
            ("opened", n(int("opened"))),
            ("updated", n(int("updated"))),
            ("closed", n(int("closed"))),
            ("unchanged", n(int("unchanged"))),
            ("settled", n(int("settled"))),
        ],
    );
    let timings = here.and_then(|run| match lock(&run.outcome).as_ref() {
        Some(RunOutcome::Finished(s, elapsed)) if s.summary.audit_seq == record.seq => {
            Some(tr.t_args(
                "monitoring-run-timings",
                &[
                    ("seconds", seconds(*elapsed)),
                    ("warned", n(s.warned)),
                    ("load", precise(s.load_time)),
                    ("evaluate", precise(s.evaluate_time)),
                    ("write", precise(s.write_time)),
                ],
            ))
        }
        _ => None,
    });
    Ok(Some(LastRun { summary, timings }))
}

async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
    runs: &Runs,
    division: Option<&str>,
    errors: Vec<String>,
) -> AppResult<(OverviewPage, bool)> {
    let account = viewer.may(Action::ReadRuleSets)?;
    ensure_rule_sets(state, account).await?;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("monitoring-title");
    let tr = c.tr.clone();
    let in_force = match pass::rule_set_in_force(&state.db, None).await {
        Ok(rs) => Some(rule_set_line(&tr, &rs)),
        Err(e) => {
            pass_reason(e)?;
            None
        }
    };
    let can_run = account.may(Action::RunScreening);
    let (mut running, mut failed, mut last) = (None, None, None);
    if can_run {
        if let Some(run) = runs.running() {
            running = Some(status_line(state, viewer, &tr, &run).await?);
        }
        let here = runs.last();
        if let Some(run) = &here
            && let Some(RunOutcome::Failed(reason, elapsed)) = lock(&run.outcome).as_ref()
        {
            let reason = reason
                .as_ref()
                .map(|r| tr.text(r))
                .unwrap_or_else(|| tr.t("monitoring-internal-error"));
            failed = Some(tr.t_args(
                "monitoring-run-failed",
                &[
                    ("who", FluentValue::from(run.started_by.clone())),
                    ("at", FluentValue::from(china_time_text(&run.started_at))),
                    ("seconds", seconds(*elapsed)),
                    ("reason", FluentValue::from(reason)),
                ],
            ));
        }
        last = last_run(state, viewer, &tr, here.as_ref()).await?;
    }
    let is_running = running.is_some();
    Ok((
        OverviewPage {
            can_run,
            can_whatif: account.may(Action::WhatIf),
            can_manage: account.may(Action::ManageRuleSets),
            in_force,
            running,
            failed,
            last,
            division: division.unwrap_or(account.division.as_str()).to_owned(),
            errors,
            c,
        },
        is_running,
    ))
}

fn overview_response(page: &OverviewPage, running: bool) -> Response {
    let mut response = render(page);
    if running {
        response
            .headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("2"));
    }
    response
}

pub async fn overview(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(runs): Extension<Arc<Runs>>,
) -> AppResult<Response> {
    let (page, running) = overview_page(&state, &viewer, &runs, None, Vec::new()).await?;
    Ok(overview_response(&page, running))
}

#[derive(Debug, Default, Deserialize)]
pub struct RunForm {
    #[serde(default)]
    pub csrf: String,
    /// Empty: the account's own division.
    #[serde(default)]
    pub division: String,
}

pub async fn start_run(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(runs): Extension<Arc<Runs>>,
    Form(form): Form<RunForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::RunScreening)?.clone();
    viewer.check_csrf(&form.csrf)?;
    ensure_rule_sets(&state, &account).await?;
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let typed = form.division.trim();
    let refuse = async |status: StatusCode, message: String| -> AppResult<Response> {
        let (page, running) =
            overview_page(&state, &viewer, &runs, Some(typed), vec![message]).await?;
        Ok(with_status(status, overview_response(&page, running)))
    };
    let division = if typed.is_empty() {
        account.division
    } else {
        match DivisionCode::parse(typed) {
            Ok(code) if account.scope().contains(&code) => code,
            Ok(_) => {
                let own = account.division.as_str();
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    tr.text(&text!(
                        "区划{typed}不在您账号的管辖范围（{own}）内；只能筛查本辖区",
                        "division {typed} is outside your account's division ({own}); you can re-screen your own division only"
                    )),
                )
                .await;
            }
            Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, tr.text(&e.text())).await,
        }
    };
    let scope = pass_scope(&division);
    let rule_set = match app_monitoring::rule_set_for(&state.db, scope.as_ref(), None).await {
        Ok(rs) => rs,
        Err(e) => {
            let reason = pass_reason(e)?;
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, tr.text(&reason)).await;
        }
    };
    let run = Arc::new(Run {
        started_by: account.name.clone(),
        scope,
        rule_set: rule_set.rules.label(),
        started_at: now_stored(),
        started: Instant::now(),
        phase: AtomicU8::new(LOADING),
        done: AtomicU64::new(0),
        total: AtomicU64::new(0),
        outcome: Mutex::new(None),
    });
    if let Err(running) = runs.start(run.clone()) {
        let message = tr.t_args(
            "monitoring-already-running",
            &[
                ("who", FluentValue::from(running.started_by.clone())),
                (
                    "at",
                    FluentValue::from(china_time_text(&running.started_at)),
                ),
            ],
        );
        return refuse(StatusCode::CONFLICT, message).await;
    }
    tracing::info!(account = account.id, "re-screening started");
    let db = state.db.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let progress = |p: Progress| run.report(p);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.block_on(pass::screen(
                &db,
                &rule_set,
                run.scope.as_ref(),
                &account.name,
                today_in_china(),
                &progress,
            ))
        }));
        let elapsed = run.started.elapsed();
        let outcome = match outcome {
            Ok(Ok(screening)) => RunOutcome::Finished(screening, elapsed),
            Ok(Err(PassError::Stopped(reason))) => RunOutcome::Failed(Some(reason), elapsed),
            Ok(Err(PassError::Store(e))) => {
                tracing::error!(error = %e, "re-screening failed");
                RunOutcome::Failed(None, elapsed)
            }
            Err(_) => {
                tracing::error!("re-screening panicked");
                RunOutcome::Failed(None, elapsed)
            }
        };
        tracing::info!(
            elapsed_ms = elapsed.as_millis() as u64,
            ok = matches!(outcome, RunOutcome::Finished(..)),
            "re-screening ended"
        );
        runs.end(&run, outcome);
    });
    Ok(Redirect::to("/monitoring").into_response())
}

// ---------------------------------------------------------------------------------------------
// Rule sets: the parameters, as a table of triggers

/// The kind of a trigger's parameter, for the form's input and the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An amount in yuan (`"5000"`, `"5000.50"`).
    Yuan,
    /// Whole years of age.
    Age,
    /// A whole percentage.
    Percent,
}

/// One screening trigger of `zhenxing_core::monitoring::Triggers`, by its name in the rule set
/// file, with its parameters (their names in the file). Its label is the `RuleId` of the same
/// code; a parameter's label is the message `monitoring-param-NAME` (underscores as hyphens).
pub struct TriggerDescriptor {
    pub key: &'static str,
    pub params: &'static [(&'static str, ParamKind)],
}

/// Every trigger the pages show and the form edits, in the order shown. Adding a trigger to
/// core's `Triggers` is one row here (and a label for a new parameter name); a test checks that
/// this table covers every trigger of the built-in rule sets.
pub const TRIGGERS: &[TriggerDescriptor] = &[
    TriggerDescriptor {
        key: "medical_out_of_pocket",
        params: &[
            ("lifted_out_yuan", ParamKind::Yuan),
            ("others_yuan", ParamKind::Yuan),
        ],
    },
    TriggerDescriptor {
        key: "child_out_of_school",
        params: &[("min_age", ParamKind::Age), ("max_age", ParamKind::Age)],
    },
    TriggerDescriptor {
        key: "unsafe_housing",
        params: &[],
    },
    TriggerDescriptor {
        key: "unsafe_water",
        params: &[],
    },
    TriggerDescriptor {
        key: "no_medical_insurance",
        params: &[],
    },
    TriggerDescriptor {
        key: "no_labor_ability",
        params: &[],
    },
    TriggerDescriptor {
        key: "income_drop",
        params: &[("percent", ParamKind::Percent)],
    },
    TriggerDescriptor {
        key: "disaster_loss",
        params: &[("loss_yuan", ParamKind::Yuan)],
    },
    TriggerDescriptor {
        key: "member_died",
        params: &[],
    },
    TriggerDescriptor {
        key: "unemployed",
        params: &[],
    },
    TriggerDescriptor {
        key: "allowance_stopped",
        params: &[],
    },
];

fn trigger_label(tr: &Tr, key: &str) -> String {
    RuleId::from_code(key)
        .map(|r| r.label(tr.lang).to_owned())
        .unwrap_or_else(|| key.to_owned())
}

fn param_key(name: &str) -> String {
    format!("monitoring-param-{}", name.replace('_', "-"))
}

fn unit(tr: &Tr, kind: ParamKind) -> String {
    tr.t(match kind {
        ParamKind::Yuan => "monitoring-unit-yuan",
        ParamKind::Age => "monitoring-unit-age",
        ParamKind::Percent => "monitoring-unit-percent",
    })
}

/// A parameter's value as the rule set file writes it, as text (`""` when absent).
fn scalar_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// A rule set's triggers as JSON objects by name (how the file writes them).
fn trigger_objects(rules: &RuleSet) -> Map<String, Value> {
    match serde_json::to_value(rules.triggers) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The list and one version

pub struct RuleRow {
    pub id: i64,
    pub year: u16,
    pub jurisdiction: String,
    pub version: u32,
    pub threshold: String,
    pub assumed: bool,
    pub note: String,
    pub created_at: String,
    pub created_by: String,
    pub in_force: bool,
}

#[derive(Template)]
#[template(path = "monitoring_rules.html")]
struct RulesPage {
    c: Chrome,
    rows: Vec<RuleRow>,
    can_manage: bool,
}

/// The jurisdiction's name and code.
async fn jurisdiction_words(state: &AppState, viewer: &Viewer, code: &str) -> AppResult<String> {
    Ok(match DivisionCode::parse(code) {
        Ok(parsed) => match state.db.division(&parsed).await? {
            Some(d) => format!("{} ({code})", division_name(viewer, &d)),
            None => code.to_owned(),
        },
        Err(_) => code.to_owned(),
    })
}

/// The id of the rule set the pass uses now, if any.
async fn in_force_id(state: &AppState) -> AppResult<Option<i64>> {
    match pass::rule_set_in_force(&state.db, None).await {
        Ok(rs) => Ok(Some(rs.id)),
        Err(e) => pass_reason(e).map(|_| None),
    }
}

pub async fn rule_list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRuleSets)?;
    ensure_rule_sets(&state, account).await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("monitoring-rules-title");
    let mut sets = monitoring::rule_sets(&state.db).await?;
    sets.sort_by(|a, b| {
        (b.rules.year, &a.rules.jurisdiction, b.rules.version).cmp(&(
            a.rules.year,
            &b.rules.jurisdiction,
            a.rules.version,
        ))
    });
    let in_force = in_force_id(&state).await?;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::with_capacity(sets.len());
    for s in &sets {
        let r = &s.rules;
        if !names.contains_key(&r.jurisdiction) {
            let words = jurisdiction_words(&state, &viewer, &r.jurisdiction).await?;
            names.insert(r.jurisdiction.clone(), words);
        }
        rows.push(RuleRow {
            id: s.id,
            year: r.year,
            jurisdiction: names.get(&r.jurisdiction).cloned().unwrap_or_default(),
            version: r.version,
            threshold: r.threshold.map(|t| yuan(t.0)).unwrap_or_default(),
            assumed: r.assumed,
            note: r.note.as_ref().map(|n| c.tr.text(n)).unwrap_or_default(),
            created_at: china_time_text(&s.created_at),
            created_by: s.created_by.clone(),
            in_force: in_force == Some(s.id),
        });
    }
    let page = RulesPage {
        rows,
        can_manage: account.may(Action::ManageRuleSets),
        c,
    };
    Ok(render(&page))
}

/// One trigger in words.
pub struct TriggerLine {
    pub key: String,
    pub label: String,
    pub state: String,
    pub enabled: bool,
    pub params: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "monitoring_rule.html")]
struct RulePage {
    c: Chrome,
    line: RuleSetLine,
    jurisdiction: String,
    year: u16,
    version: u32,
    created_at: String,
    created_by: String,
    in_force: bool,
    triggers: Vec<TriggerLine>,
    json: String,
    can_manage: bool,
}

fn trigger_lines(tr: &Tr, rules: &RuleSet) -> Vec<TriggerLine> {
    let objects = trigger_objects(rules);
    let mut lines: Vec<TriggerLine> = TRIGGERS
        .iter()
        .map(|d| {
            let object = objects.get(d.key).and_then(Value::as_object);
            let enabled = object
                .and_then(|o| o.get("enabled"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let params = d
                .params
                .iter()
                .map(|(name, kind)| {
                    let value = scalar_text(object.and_then(|o| o.get(*name)));
                    let shown = if value.is_empty() {
                        tr.t("monitoring-param-not-set")
                    } else {
                        format!("{value} {}", unit(tr, *kind))
                    };
                    (tr.t(&param_key(name)), shown)
                })
                .collect();
            TriggerLine {
                key: d.key.to_owned(),
                label: trigger_label(tr, d.key),
                state: tr.t(match (object.is_some(), enabled) {
                    (false, _) => "monitoring-trigger-missing",
                    (true, true) => "monitoring-trigger-on",
                    (true, false) => "monitoring-trigger-off",
                }),
                enabled,
                params,
            }
        })
        .collect();
    // A trigger the table does not know yet is still shown, as the file writes it.
    for (key, value) in &objects {
        if !value.is_null() && !TRIGGERS.iter().any(|d| d.key == key) {
            lines.push(TriggerLine {
                key: key.clone(),
                label: trigger_label(tr, key),
                state: value.to_string(),
                enabled: value.get("enabled").and_then(Value::as_bool) == Some(true),
                params: Vec::new(),
            });
        }
    }
    lines
}

pub async fn rule_page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRuleSets)?;
    ensure_rule_sets(&state, account).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let sets = monitoring::rule_sets(&state.db).await?;
    let Some(stored) = sets.into_iter().find(|s| s.id == id) else {
        return Err(AppError::NotFound);
    };
    let mut c = Chrome::new(&state, &viewer, String::new());
    let tr = c.tr.clone();
    let line = rule_set_line(&tr, &stored);
    c.title = line.label.clone();
    let r = &stored.rules;
    let page = RulePage {
        jurisdiction: jurisdiction_words(&state, &viewer, &r.jurisdiction).await?,
        year: r.year,
        version: r.version,
        created_at: china_time_text(&stored.created_at),
        created_by: stored.created_by.clone(),
        in_force: in_force_id(&state).await? == Some(stored.id),
        triggers: trigger_lines(&tr, r),
        json: serde_json::to_string_pretty(r).unwrap_or_default(),
        can_manage: account.may(Action::ManageRuleSets),
        line,
        c,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------------------
// A new version: the form, and the upload

/// The form's fields by name: `year`, `jurisdiction`, `assumed`, `note_zh`, `note_en`,
/// `threshold_yuan`, `TRIGGER.enabled`, `TRIGGER.PARAM`.
type FormValues = HashMap<String, String>;

/// The form filled in from a rule set.
fn form_values(rules: &RuleSet) -> FormValues {
    let mut v = FormValues::new();
    v.insert("year".into(), rules.year.to_string());
    v.insert("jurisdiction".into(), rules.jurisdiction.clone());
    if rules.assumed {
        v.insert("assumed".into(), "yes".into());
    }
    if let Some(note) = &rules.note {
        v.insert("note_zh".into(), note.zh.clone());
        v.insert("note_en".into(), note.en.clone());
    }
    if let Some(t) = rules.threshold {
        v.insert("threshold_yuan".into(), t.to_string());
    }
    let objects = trigger_objects(rules);
    for d in TRIGGERS {
        let Some(object) = objects.get(d.key).and_then(Value::as_object) else {
            continue;
        };
        if object.get("enabled").and_then(Value::as_bool) == Some(true) {
            v.insert(format!("{}.enabled", d.key), "yes".into());
        }
        for (name, _) in d.params {
            v.insert(format!("{}.{name}", d.key), scalar_text(object.get(*name)));
        }
    }
    v
}

/// The rule set a submitted form describes, or every reason it cannot be saved: values that
/// are not numbers, then every problem `RuleSet::check` finds in the rest.
fn rules_from_form(tr: &Tr, values: &FormValues) -> Result<RuleSet, Vec<String>> {
    let get = |name: &str| values.get(name).map(|s| s.trim()).unwrap_or("");
    let mut problems: Vec<String> = Vec::new();
    let mut object = Map::new();
    let year = get("year");
    if !year.is_empty() {
        match year.parse::<u16>() {
            Ok(y) => {
                object.insert("year".into(), Value::from(y));
            }
            Err(_) => problems.push(tr.text(&text!(
                "生效年度“{year}”不是年份",
                "the effective year '{year}' is not a year"
            ))),
        }
    }
    object.insert("jurisdiction".into(), Value::from(get("jurisdiction")));
    object.insert("assumed".into(), Value::from(!get("assumed").is_empty()));
    match (get("note_zh"), get("note_en")) {
        ("", "") => {}
        (zh, en) if zh.is_empty() || en.is_empty() => problems.push(tr.text(&text!(
            "说明须同时填写中文和英文（或都不填）",
            "give the note in both Chinese and English (or leave both empty)"
        ))),
        (zh, en) if zh.chars().count() > 500 || en.chars().count() > 500 => problems.push(tr.text(
            &text!("说明最多500字", "the note is at most 500 characters"),
        )),
        (zh, en) => {
            object.insert("note".into(), serde_json::json!({"zh": zh, "en": en}));
        }
    }
    let amount = |label: String, raw: &str, problems: &mut Vec<String>| -> Option<Value> {
        if raw.is_empty() {
            return None;
        }
        match Fen::parse(raw) {
            Ok(f) => Some(Value::from(f.to_string())),
            Err(e) => {
                problems.push(format!("{label}: {}", tr.text(&e.text())));
                None
            }
        }
    };
    if let Some(v) = amount(
        tr.t("monitoring-threshold"),
        get("threshold_yuan"),
        &mut problems,
    ) {
        object.insert("threshold_yuan".into(), v);
    }
    let mut triggers = Map::new();
    for d in TRIGGERS {
        let mut t = Map::new();
        let enabled = !get(&format!("{}.enabled", d.key)).is_empty();
        t.insert("enabled".into(), Value::from(enabled));
        for (name, kind) in d.params {
            let raw = get(&format!("{}.{name}", d.key));
            let label = format!("{} · {}", trigger_label(tr, d.key), tr.t(&param_key(name)));
            let value = match kind {
                ParamKind::Yuan => amount(label, raw, &mut problems),
                ParamKind::Age | ParamKind::Percent if raw.is_empty() => None,
                ParamKind::Age | ParamKind::Percent => match raw.parse::<u8>() {
                    Ok(n) => Some(Value::from(n)),
                    Err(_) => {
                        problems.push(tr.text(&text!(
                            "{label}：“{raw}”不是0至255之间的整数",
                            "{label}: '{raw}' is not a whole number from 0 to 255"
                        )));
                        None
                    }
                },
            };
            if let Some(v) = value {
                t.insert((*name).into(), v);
            }
        }
        triggers.insert(d.key.into(), Value::Object(t));
    }
    object.insert("triggers".into(), Value::Object(triggers));
    match serde_json::from_value::<RuleSet>(Value::Object(object)) {
        Ok(rules) => {
            problems.extend(rules.problems().iter().map(|p| tr.text(p)));
            if problems.is_empty() {
                Ok(rules)
            } else {
                Err(problems)
            }
        }
        Err(e) => {
            problems.push(e.to_string());
            Err(problems)
        }
    }
}

pub struct ParamField {
    pub name: String,
    pub id: String,
    pub label: String,
    pub value: String,
    pub unit: String,
    pub decimal: bool,
}

pub struct TriggerField {
    pub key: String,
    pub label: String,
    pub enabled: bool,
    pub params: Vec<ParamField>,
}

#[derive(Template)]
#[template(path = "monitoring_rule_form.html")]
struct FormPage {
    c: Chrome,
    from: Option<RuleSetLine>,
    year: String,
    jurisdiction: String,
    assumed: bool,
    note_zh: String,
    note_en: String,
    threshold: String,
    triggers: Vec<TriggerField>,
    problems: Vec<String>,
}

fn form_page(
    state: &AppState,
    viewer: &Viewer,
    from: Option<&StoredRuleSet>,
    values: &FormValues,
    problems: Vec<String>,
) -> FormPage {
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("monitoring-new-title");
    let tr = c.tr.clone();
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let triggers = TRIGGERS
        .iter()
        .map(|d| TriggerField {
            key: d.key.to_owned(),
            label: trigger_label(&tr, d.key),
            enabled: !get(&format!("{}.enabled", d.key)).is_empty(),
            params: d
                .params
                .iter()
                .map(|(name, kind)| ParamField {
                    name: format!("{}.{name}", d.key),
                    id: format!("{}-{name}", d.key),
                    label: tr.t(&param_key(name)),
                    value: get(&format!("{}.{name}", d.key)),
                    unit: unit(&tr, *kind),
                    decimal: *kind == ParamKind::Yuan,
                })
                .collect(),
        })
        .collect();
    FormPage {
        from: from.map(|rs| rule_set_line(&tr, rs)),
        year: get("year"),
        jurisdiction: get("jurisdiction"),
        assumed: !get("assumed").is_empty(),
        note_zh: get("note_zh"),
        note_en: get("note_en"),
        threshold: get("threshold_yuan"),
        triggers,
        problems,
        c,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    pub from: Option<String>,
}

/// The version a new one starts from: `?from=ID`, else the one in force.
async fn starting_point(state: &AppState, from: Option<&str>) -> AppResult<Option<StoredRuleSet>> {
    match from {
        Some(id) => {
            let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
            let sets = monitoring::rule_sets(&state.db).await?;
            Ok(Some(
                sets.into_iter()
                    .find(|s| s.id == id)
                    .ok_or(AppError::NotFound)?,
            ))
        }
        None => match pass::rule_set_in_force(&state.db, None).await {
            Ok(rs) => Ok(Some(rs)),
            Err(e) => pass_reason(e).map(|_| None),
        },
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<NewQuery>, AppError>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManageRuleSets)?;
    ensure_rule_sets(&state, account).await?;
    let Params(query) = params?;
    let from = starting_point(&state, blank(&query.from)).await?;
    let values = from
        .as_ref()
        .map(|rs| form_values(&rs.rules))
        .unwrap_or_default();
    Ok(render(&form_page(
        &state,
        &viewer,
        from.as_ref(),
        &values,
        Vec::new(),
    )))
}

/// Saves a checked rule set as the next version and shows it; or the form again, with every
/// reason, as 422.
async fn save(
    state: &AppState,
    viewer: &Viewer,
    account: &Account,
    rules: Result<RuleSet, Vec<String>>,
    values: &FormValues,
) -> AppResult<Response> {
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let problems = match rules {
        Ok(rules) => match monitoring::add_rule_set(&state.db, rules, &account.name).await? {
            Ok(stored) => {
                tracing::info!(account = account.id, rule_set = stored.id, "rule set saved");
                return Ok(
                    Redirect::to(&format!("/monitoring/rules/{}", stored.id)).into_response()
                );
            }
            Err(problems) => problems.iter().map(|p| tr.text(p)).collect(),
        },
        Err(problems) => problems,
    };
    let page = form_page(state, viewer, None, values, problems);
    Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManageRuleSets)?.clone();
    let values: FormValues = fields.into_iter().collect();
    viewer.check_csrf(values.get("csrf").map(String::as_str).unwrap_or(""))?;
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let rules = rules_from_form(&tr, &values);
    save(&state, &viewer, &account, rules, &values).await
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManageRuleSets)?.clone();
    let bad = |why: String| {
        AppError::bad_request(
            format!("上传请求有误：{why}"),
            format!("the upload request is not valid: {why}"),
        )
    };
    let mut multipart = multipart.map_err(|e| bad(e.body_text()))?;
    let (mut csrf, mut file) = (String::new(), None::<Vec<u8>>);
    let read = async {
        while let Some(mut field) = multipart.next_field().await? {
            match field.name().unwrap_or("") {
                "csrf" => csrf = small_text(&mut field, 256).await?,
                "file" => file = Some(small_bytes(&mut field, MAX_RULE_FILE).await?),
                _ => skip(&mut field).await?,
            }
        }
        Ok::<(), UploadError>(())
    };
    read.await.map_err(UploadError::into_app_error)?;
    viewer.check_csrf(&csrf)?;
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let bytes = file.unwrap_or_default();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        Err(text!(
            "请选择规则集文件（JSON，不能为空）",
            "choose the rule set file (JSON; it must not be empty)"
        ))
    } else {
        match std::str::from_utf8(body) {
            Ok(input) => monitoring::parse_rule_set_json(input),
            Err(_) => Err(text!(
                "规则集文件须为UTF-8编码的JSON文本",
                "a rule set file is JSON text in UTF-8"
            )),
        }
    };
    match parsed {
        // The form shows what the file held, so that it can be corrected there.
        Ok(rules) => {
            let values = form_values(&rules);
            let checked = rules
                .check()
                .map(|()| rules)
                .map_err(|problems| problems.iter().map(|p| tr.text(p)).collect());
            save(&state, &viewer, &account, checked, &values).await
        }
        Err(problem) => {
            let from = starting_point(&state, None).await?;
            let values = from
                .as_ref()
                .map(|rs| form_values(&rs.rules))
                .unwrap_or_default();
            let page = form_page(
                &state,
                &viewer,
                from.as_ref(),
                &values,
                vec![tr.text(&problem)],
            );
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What-if

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatIfQuery {
    pub threshold: Option<String>,
    pub year: Option<String>,
    pub division: Option<String>,
    pub page: Option<String>,
}

/// Counts of one division, as shown.
pub struct CountsRow {
    pub code: String,
    pub name: String,
    pub href: Option<String>,
    pub households: String,
    pub members: String,
    pub households_current: String,
    pub households_entering: String,
    pub members_entering: String,
    pub households_leaving: String,
    pub members_leaving: String,
}

fn counts_row(code: String, name: String, href: Option<String>, c: &WhatIfCounts) -> CountsRow {
    let k = |v: u64| count(i64::try_from(v).unwrap_or(i64::MAX));
    CountsRow {
        code,
        name,
        href,
        households: k(c.households),
        members: k(c.members),
        households_current: k(c.households_current),
        households_entering: k(c.households_entering),
        members_entering: k(c.members_entering),
        households_leaving: k(c.households_leaving),
        members_leaving: k(c.members_leaving),
    }
}

pub struct ChangeRow {
    pub household_no: String,
    pub village: String,
    pub income: String,
    pub entering: bool,
}

/// The outcome of a what-if, as shown.
pub struct WhatIfResult {
    pub proposed: String,
    pub current: String,
    pub total: CountsRow,
    pub child_heading: String,
    pub children: Vec<CountsRow>,
    pub changes: Vec<ChangeRow>,
    pub change_count: usize,
    pub page: usize,
    pub pages: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "monitoring_whatif.html")]
struct WhatIfPage {
    c: Chrome,
    crumbs: Vec<Crumb>,
    division: String,
    division_name: String,
    threshold: String,
    year: String,
    in_force: Option<RuleSetLine>,
    errors: Vec<String>,
    result: Option<WhatIfResult>,
}

fn whatif_href(threshold: &str, year: &str, division: &str, page: usize) -> String {
    let page = if page > 1 {
        page.to_string()
    } else {
        String::new()
    };
    format!(
        "/monitoring/whatif?{}",
        query_string(&[
            ("threshold", threshold),
            ("year", year),
            ("division", division),
            ("page", &page),
        ])
    )
}

pub async fn whatif(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<WhatIfQuery>, AppError>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WhatIf)?.clone();
    ensure_rule_sets(&state, &account).await?;
    let Params(query) = params?;
    let division = match blank(&query.division) {
        Some(code) => scoped_division(&viewer, code)?,
        None => account.division,
    };
    let Some(stored_division) = state.db.division(&division).await? else {
        return Err(AppError::NotFound);
    };
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("monitoring-whatif-title");
    let tr = c.tr.clone();
    let mut errors = Vec::new();
    let year_text = blank(&query.year).unwrap_or("").to_owned();
    let year = if year_text.is_empty() {
        None
    } else {
        match year_text.parse::<u16>() {
            Ok(y) => Some(y),
            Err(_) => {
                errors.push(tr.text(&text!(
                    "年度“{year_text}”不是年份",
                    "the year '{year_text}' is not a year"
                )));
                None
            }
        }
    };
    let rule_set = match pass::rule_set_in_force(&state.db, year).await {
        Ok(rs) => Some(rs),
        Err(e) => {
            errors.push(tr.text(&pass_reason(e)?));
            None
        }
    };
    let current = rule_set
        .as_ref()
        .map(app_monitoring::current_threshold)
        .unwrap_or(Fen::ZERO);
    let typed = blank(&query.threshold).map(str::to_owned);
    let proposed = match &typed {
        None => None,
        Some(t) => match pass::parse_threshold(t) {
            Ok(f) => Some(f),
            Err(e) => {
                errors.push(format!("{}: {}", tr.t("monitoring-threshold"), tr.text(&e)));
                None
            }
        },
    };
    let page_no = match blank(&query.page) {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| AppError::bad_request("页码有误", "the page number is not valid"))?,
    };
    let threshold_shown = typed.clone().unwrap_or_else(|| current.to_string());
    let mut result = None;
    if let (Some(proposed), Some(rule_set), true) = (proposed, &rule_set, errors.is_empty()) {
        let db = state.db.clone();
        let scope = pass_scope(&division);
        let rule_set = rule_set.clone();
        let child = pass::child_level(division.level());
        // A village has no divisions below it to count by.
        let levels = if division.level() == DivisionLevel::Village {
            Vec::new()
        } else {
            vec![child]
        };
        let computed = off_the_workers(async move || {
            let request = WhatIfRequest {
                rule_set: &rule_set,
                scope: scope.as_ref(),
                proposed,
                levels: &levels,
                changes: true,
            };
            app_monitoring::whatif(&db, &request, &pass::no_progress).await
        })
        .await?;
        let computed = match computed {
            Ok(w) => Some(w),
            Err(e) => {
                errors.push(tr.text(&pass_reason(e)?));
                None
            }
        };
        if let Some(w) = computed {
            let threshold_param = typed.clone().unwrap_or_default();
            let children = w
                .levels
                .iter()
                .flat_map(|(_, named)| named)
                .map(|named| {
                    let name = tr.name(&named.name_zh, &named.name_en).to_owned();
                    let href = whatif_href(&threshold_param, &year_text, &named.code, 1);
                    counts_row(named.code.clone(), name, Some(href), &named.counts)
                })
                .collect();
            let changes = &w.changes;
            let pages = changes.len().div_ceil(CHANGES_PER_PAGE).max(1);
            let page_no = page_no.min(pages);
            let shown: Vec<_> = changes
                .iter()
                .skip((page_no - 1) * CHANGES_PER_PAGE)
                .take(CHANGES_PER_PAGE)
                .collect();
            let mut village_names: BTreeMap<String, String> = BTreeMap::new();
            for ch in &shown {
                if village_names.contains_key(&ch.village) {
                    continue;
                }
                let name = match DivisionCode::parse(&ch.village) {
                    Ok(code) => state
                        .db
                        .division(&code)
                        .await?
                        .map(|d| division_name(&viewer, &d))
                        .unwrap_or_default(),
                    Err(_) => String::new(),
                };
                village_names.insert(ch.village.clone(), name);
            }
            let code = division.as_str();
            result = Some(WhatIfResult {
                proposed: yuan(proposed.0),
                current: yuan(current.0),
                total: counts_row(
                    code.to_owned(),
                    division_name(&viewer, &stored_division),
                    None,
                    &w.total,
                ),
                child_heading: tr.t(match child {
                    DivisionLevel::County => "monitoring-by-county",
                    DivisionLevel::Township => "monitoring-by-township",
                    _ => "monitoring-by-village",
                }),
                children,
                changes: shown
                    .iter()
                    .map(|ch| ChangeRow {
                        household_no: ch.household_no.clone(),
                        village: format!(
                            "{} ({})",
                            village_names.get(&ch.village).cloned().unwrap_or_default(),
                            ch.village
                        ),
                        income: yuan(ch.per_capita_net_income.0),
                        entering: ch.entering,
                    })
                    .collect(),
                change_count: changes.len(),
                page: page_no,
                pages,
                previous: (page_no > 1)
                    .then(|| whatif_href(&threshold_param, &year_text, code, page_no - 1)),
                next: (page_no < pages)
                    .then(|| whatif_href(&threshold_param, &year_text, code, page_no + 1)),
            });
        }
    }
    let scope = account.scope();
    let crumbs = state
        .db
        .division_path(&division)
        .await?
        .iter()
        .map(|d| Crumb {
            name: division_name(&viewer, d),
            href: scope
                .contains_code(&d.code)
                .then(|| whatif_href(typed.as_deref().unwrap_or(""), &year_text, &d.code, 1)),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = WhatIfPage {
        crumbs,
        division: division.as_str().to_owned(),
        division_name: division_name(&viewer, &stored_division),
        threshold: threshold_shown,
        year: year_text,
        in_force: rule_set.as_ref().map(|rs| rule_set_line(&tr, rs)),
        errors,
        result,
        c,
    };
    Ok(with_status(status, render(&page)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::i18n::I18n;
    use zhenxing_core::Lang;
    use zhenxing_core::monitoring::builtin;

    /// The table covers every trigger of the built-in rule sets, and every label exists.
    #[test]
    fn the_trigger_table_covers_every_trigger() {
        let i18n = Arc::new(I18n::new());
        for rules in builtin() {
            let objects = trigger_objects(&rules);
            let known: Vec<&str> = TRIGGERS.iter().map(|d| d.key).collect();
            for key in objects.keys() {
                assert!(
                    known.contains(&key.as_str()),
                    "add a row for the trigger {key} to TRIGGERS in pages/monitoring.rs"
                );
            }
        }
        for lang in [Lang::Zh, Lang::En] {
            for d in TRIGGERS {
                assert!(RuleId::from_code(d.key).is_some(), "{}: no RuleId", d.key);
                for (name, _) in d.params {
                    assert!(
                        i18n.has(lang, &param_key(name)),
                        "{lang:?}: no label {} for {}.{name}",
                        param_key(name),
                        d.key
                    );
                }
            }
        }
    }

    /// Every message key this module names (also those chosen by a `match` or passed to
    /// `t_args` on another line, which the crate-wide key test does not see) exists in both
    /// languages.
    #[test]
    fn every_key_named_here_exists() {
        let i18n = I18n::new();
        let source = include_str!("monitoring.rs");
        let keys: Vec<&str> = source
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| {
                (s.starts_with("monitoring-") || s.starts_with("audit-action-"))
                    && !s.contains(['{', ' '])
                    && !s.ends_with('-')
            })
            .collect();
        assert!(keys.len() > 20, "{keys:?}");
        for lang in [Lang::Zh, Lang::En] {
            for key in &keys {
                assert!(i18n.has(lang, key), "{lang:?}: no message {key}");
            }
        }
    }

    /// The form filled in from a rule set gives the same rule set back.
    #[test]
    fn the_form_round_trips_every_parameter() {
        let tr = Tr::new(Arc::new(I18n::new()), Lang::En);
        for rules in builtin() {
            let values = form_values(&rules);
            let back = rules_from_form(&tr, &values).unwrap();
            assert_eq!(
                back,
                RuleSet {
                    version: 0,
                    ..rules
                }
            );
        }
    }

    #[test]
    fn a_bad_form_gives_every_reason() {
        let tr = Tr::new(Arc::new(I18n::new()), Lang::En);
        let mut values = form_values(&builtin()[0]);
        values.insert("threshold_yuan".into(), "abc".into());
        values.insert("child_out_of_school.min_age".into(), "x".into());
        values.insert(
            "medical_out_of_pocket.lifted_out_yuan".into(),
            "30000".into(),
        );
        values.insert("note_en".into(), String::new());
        let problems = rules_from_form(&tr, &values).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("threshold"), "{all}");
        assert!(all.contains("'x' is not a whole number"), "{all}");
        assert!(all.contains("both Chinese and English"), "{all}");
        // From RuleSet::check: the medical thresholds contradict each other.
        assert!(all.contains("contradict"), "{all}");
    }
}
