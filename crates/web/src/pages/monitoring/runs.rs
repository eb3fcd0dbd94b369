//! The overview page and the re-screening runs: one at a time on the server (a kind of
//! [`crate::jobs`] job, `AppState::runs`), on a blocking thread, with a status line while it runs
//! and the last run's summary from the audit trail.

use super::{
    RuleSetLine, ensure_rule_sets, n, pass_reason, pass_scope, rule_set_line, seconds, with_status,
};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppResult;
use crate::extract::CsrfForm;
use crate::i18n::Tr;
use crate::jobs::{Job, Jobs, Kind, OneAtATime, Retention};
use crate::pages::divisions::division_name;
use crate::pages::{Chrome, render};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fluent_bundle::FluentValue;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;
use zhenxing_app::monitoring as app_monitoring;
use zhenxing_app::monitoring::pass::{self, PassError, Phase, Progress, Screening};
use zhenxing_core::china_time::{china_time_text, today_in_china};
use zhenxing_core::{Action, DivisionCode, Text, text};
use zhenxing_store::audit_query::{self, AuditFilter};

/// The re-screening runs of this server (`AppState::runs`): the one running, and the last one
/// that ended.
pub type Runs = Jobs<Run>;

const LOADING: u8 = 0;
const EVALUATING: u8 = 1;
const WRITING: u8 = 2;

/// A re-screening run: what it covers, under which rules, and its progress.
pub struct Run {
    scope: Option<DivisionCode>,
    rule_set: Text,
    phase: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
}

impl Kind for Run {
    type Outcome = RunOutcome;
    // Two runs at once would evaluate and write the same households' warnings.
    const ONE_AT_A_TIME: OneAtATime = OneAtATime::PerServer;
    // The last run is kept for the overview (its timings, or why it failed).
    const RETENTION: Retention = Retention {
        keep_for: None,
        keep_finished: 1,
    };
}

/// How a run ended.
pub enum RunOutcome {
    Finished(Screening),
    /// Stopped: nothing was written. The reason, when it is one to tell.
    Failed(Option<Text>),
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

/// Seconds to the millisecond, for the steps of a run (evaluation takes milliseconds).
fn precise(d: Duration) -> FluentValue<'static> {
    FluentValue::from(format!("{:.3}", d.as_secs_f64()))
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

async fn status_line(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    job: &Job<Run>,
) -> AppResult<String> {
    let run = &job.work;
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
            ("who", FluentValue::from(job.started_by.clone())),
            ("at", FluentValue::from(china_time_text(&job.started_at))),
            ("rules", FluentValue::from(tr.text(&run.rule_set))),
            ("seconds", seconds(job.elapsed())),
            ("phase", FluentValue::from(phase)),
        ],
    ))
}

/// The last run in the audit trail (from this server or the command line), in words.
async fn last_run(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    here: Option<&Arc<Job<Run>>>,
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
    let timings = here.and_then(|run| match run.outcome() {
        Some(RunOutcome::Finished(s)) if s.summary.audit_seq == record.seq => Some(tr.t_args(
            "monitoring-run-timings",
            &[
                ("seconds", seconds(run.elapsed())),
                ("warned", n(s.warned)),
                ("load", precise(s.load_time)),
                ("evaluate", precise(s.evaluate_time)),
                ("write", precise(s.write_time)),
            ],
        )),
        _ => None,
    });
    Ok(Some(LastRun { summary, timings }))
}

async fn overview_page(
    state: &AppState,
    viewer: &Viewer,
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
        if let Some(run) = state.runs.running() {
            running = Some(status_line(state, viewer, &tr, &run).await?);
        }
        let here = state.runs.last_finished();
        if let Some(run) = &here
            && let Some(RunOutcome::Failed(reason)) = run.outcome()
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
                    ("seconds", seconds(run.elapsed())),
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
) -> AppResult<Response> {
    let (page, running) = overview_page(&state, &viewer, None, Vec::new()).await?;
    Ok(overview_response(&page, running))
}

#[derive(Debug, Default, Deserialize)]
pub struct RunForm {
    /// Empty: the account's own division.
    #[serde(default)]
    pub division: String,
}

pub async fn start_run(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<RunForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::RunScreening)?.clone();
    ensure_rule_sets(&state, &account).await?;
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let typed = form.division.trim();
    let refuse = async |status: StatusCode, message: String| -> AppResult<Response> {
        let (page, running) = overview_page(&state, &viewer, Some(typed), vec![message]).await?;
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
    let work = Run {
        scope,
        rule_set: rule_set.rules.label(),
        phase: AtomicU8::new(LOADING),
        done: AtomicU64::new(0),
        total: AtomicU64::new(0),
    };
    let run = match state.runs.start(&account, work) {
        Ok(run) => run,
        Err(running) => {
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
    };
    tracing::info!(account = account.id, "re-screening started");
    let db = state.db.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let progress = |p: Progress| run.work.report(p);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.block_on(pass::screen(
                &db,
                &rule_set,
                run.work.scope.as_ref(),
                &account.name,
                today_in_china(),
                &progress,
            ))
        }));
        let outcome = match outcome {
            Ok(Ok(screening)) => RunOutcome::Finished(screening),
            Ok(Err(PassError::Stopped(reason))) => RunOutcome::Failed(Some(reason)),
            Ok(Err(PassError::Store(e))) => {
                tracing::error!(error = %e, "re-screening failed");
                RunOutcome::Failed(None)
            }
            Err(_) => {
                tracing::error!("re-screening panicked");
                RunOutcome::Failed(None)
            }
        };
        tracing::info!(
            elapsed_ms = run.elapsed().as_millis() as u64,
            ok = matches!(outcome, RunOutcome::Finished(..)),
            "re-screening ended"
        );
        run.finish(outcome);
    });
    Ok(Redirect::to("/monitoring").into_response())
}
