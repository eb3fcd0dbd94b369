//! A household's place in monitoring (issue 5): the block on the household page (status, the
//! open case, the links that open one, and the preconditions of risk elimination with their
//! figures), and the timeline page that puts everything that happened to the household in
//! order: registry changes (incomes among them), warnings, every step of every case, pairings
//! with responsible cadres, measures, eliminations and re-entries.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppResult;
use crate::pages::households::{describe_changes, scoped_household};
use crate::pages::{Chrome, render, risk_labels, yuan};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use zhenxing_core::assistance::{MeasureCategory, MeasureStatus};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::elimination::EliminationMethod;
use zhenxing_core::mask::mask_free_text;
use zhenxing_core::procedure::{CaseKind, MonitoringStatus, Stage, StepKind};
use zhenxing_core::warning::{WarningChannel, WarningStatus};
use zhenxing_core::{Action, Lang, MonitoringCategory};
use zhenxing_store::accounts::Account;
use zhenxing_store::procedures;

/// One precondition of risk elimination as the household page shows it.
pub struct PreconditionLine {
    pub holds: bool,
    pub label: String,
    pub detail: String,
}

/// The monitoring block of the household page.
pub struct MonitoringBlock {
    /// `not_monitored`, `monitored` or `eliminated`.
    pub status_code: &'static str,
    pub status: String,
    pub identified_on: String,
    pub risks: String,
    pub eliminated: String,
    pub open_case: Option<(i64, String)>,
    /// Links that open a case: (kind code, label).
    pub can_open: Vec<(&'static str, String)>,
    pub preconditions: Vec<PreconditionLine>,
    pub all_hold: bool,
}

/// What the household page shows about monitoring for `account`.
pub async fn monitoring_block(
    state: &AppState,
    account: &Account,
    c: &Chrome,
    lang: Lang,
    no: &str,
) -> AppResult<Option<MonitoringBlock>> {
    if !account.may(Action::ReadCases) {
        return Ok(None);
    }
    let scope = account.scope();
    let Some((view, open)) = procedures::monitoring_view(&state.db, &scope, no).await? else {
        return Ok(None);
    };
    let status = view.status();
    let today = today_in_china();
    let (status_code, key) = match status {
        MonitoringStatus::NotMonitored => ("not_monitored", "monitoring-not-monitored"),
        MonitoringStatus::Monitored => ("monitored", "monitoring-not-eliminated"),
        MonitoringStatus::Eliminated => ("eliminated", "monitoring-eliminated"),
    };
    let mut can_open = Vec::new();
    if open.is_none() && account.may(Action::WorkCases) {
        let kind = match status {
            MonitoringStatus::Monitored => CaseKind::Elimination,
            _ => CaseKind::Identification,
        };
        can_open.push((
            kind.code(),
            c.t(&format!("monitoring-open-{}", kind.code())),
        ));
    }
    let (preconditions, all_hold) = if status == MonitoringStatus::Monitored {
        match procedures::elimination_preconditions(&state.db, &scope, no, today).await? {
            Some((list, _)) => {
                let all = zhenxing_core::elimination::all_hold(&list);
                let lines = list
                    .into_iter()
                    .map(|p| PreconditionLine {
                        holds: p.holds,
                        label: p.condition.label(lang).to_owned(),
                        detail: p.detail.get(lang).to_owned(),
                    })
                    .collect();
                (lines, all)
            }
            None => (Vec::new(), false),
        }
    } else {
        (Vec::new(), false)
    };
    let eliminated = match (&view.risk_eliminated_on, &view.elimination_method) {
        (Some(on), method) => {
            let method = method
                .as_deref()
                .and_then(EliminationMethod::from_code)
                .map(|m| m.label(lang))
                .unwrap_or_default();
            format!("{on} {method}")
        }
        _ => String::new(),
    };
    Ok(Some(MonitoringBlock {
        status_code,
        status: c.t(key),
        identified_on: view.identified_on.clone().unwrap_or_else(|| match status {
            MonitoringStatus::NotMonitored => String::new(),
            _ => c.t("monitoring-identified-before-records"),
        }),
        risks: risk_labels(view.risk_types.as_deref().unwrap_or(""), lang),
        eliminated,
        open_case: open.map(|o| {
            let stage = Stage::from_code(&o.stage)
                .map(|s| s.label(lang).to_owned())
                .unwrap_or_default();
            let kind = CaseKind::from_code(&o.kind)
                .map(|k| k.label(lang).to_owned())
                .unwrap_or_default();
            (o.id, format!("{kind} · {stage}"))
        }),
        can_open,
        preconditions,
        all_hold,
    }))
}

// ---------------------------------------------------------------------------------------------
// The timeline

struct Event {
    /// `YYYY-MM-DD` or a timestamp: sorts in time order.
    at: String,
    kind: String,
    text: String,
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    c: Chrome,
    no: String,
    head_name: String,
    events: Vec<Event>,
}

pub async fn timeline(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let lang = viewer.lang;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    let scope = account.scope();
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = format!("{} {}", c.t("timeline-title"), record.household_no);
    let mut events = Vec::new();

    for h in
        zhenxing_store::audit::history(&state.db, "household", &record.household_no, 500).await?
    {
        let changes = describe_changes(&c.tr, h.before_data.as_deref(), h.after_data.as_deref());
        let what = match h.action.as_str() {
            "create" => c.t("history-create"),
            "update" => c.t("history-update"),
            _ => c.t("history-change"),
        };
        events.push(Event {
            at: zhenxing_core::china_time::china_time_text(&h.at),
            kind: c.t("timeline-registry"),
            text: format!("{what} · {} · {changes}", h.actor),
            link: None,
        });
    }

    for v in
        zhenxing_store::visits::household_visits(&state.db, &scope, &record.household_no).await?
    {
        let outcome = v
            .outcome()
            .map(|o| o.label(lang).to_owned())
            .unwrap_or_default();
        let mut text = format!("{} · {outcome}", v.visitor);
        let changed = v.changes().len();
        if changed > 0 {
            text.push_str(&format!(" · {changed}"));
        }
        events.push(Event {
            at: v.visited_on.clone(),
            kind: c.t("timeline-visit"),
            text,
            link: Some(format!("/visits/record/{}/{}", v.county_code, v.id)),
        });
    }

    for w in zhenxing_store::warnings::household_warnings(&state.db, &scope, &record.household_no)
        .await?
    {
        let source = WarningChannel::of_source(&w.source)
            .map(|ch| ch.label(lang).to_owned())
            .unwrap_or_else(|| w.source.clone());
        let risks = risk_labels(&w.risk_types, lang);
        events.push(Event {
            at: zhenxing_core::china_time::china_time_text(&w.opened_at),
            kind: c.t("timeline-warning"),
            text: format!("{} · {source} · {risks}", c.t("timeline-warning-raised")),
            link: Some(format!("/warnings/{}", w.id)),
        });
        if let (Some(closed), Some(status)) = (&w.closed_at, WarningStatus::from_code(&w.status)) {
            let by = w.resolved_by.clone().unwrap_or_default();
            let note = mask_free_text(w.resolution.as_deref().unwrap_or(""));
            events.push(Event {
                at: zhenxing_core::china_time::china_time_text(closed),
                kind: c.t("timeline-warning"),
                text: format!("{} · {by} {note}", status.label(lang)),
                link: Some(format!("/warnings/{}", w.id)),
            });
        }
    }

    for detail in procedures::household_cases(&state.db, &scope, &record.household_no).await? {
        let kind = CaseKind::from_code(&detail.case.kind)
            .map(|k| k.label(lang).to_owned())
            .unwrap_or_default();
        for s in &detail.steps {
            let step = StepKind::from_code(&s.step)
                .map(|k| k.label(lang).to_owned())
                .unwrap_or_default();
            let stage = Stage::from_code(&s.stage_after)
                .map(|k| k.label(lang).to_owned())
                .unwrap_or_default();
            let mut text = format!("{step} → {stage} · {}", s.actor);
            let note = mask_free_text(&s.note);
            if !note.is_empty() {
                text.push_str(&format!(" · {note}"));
            }
            events.push(Event {
                at: s.happened_on.clone(),
                kind: kind.clone(),
                text,
                link: Some(format!("/cases/{}", detail.case.id)),
            });
        }
        if detail.case.stage == Stage::Completed.code() {
            let outcome = match CaseKind::from_code(&detail.case.kind) {
                Some(CaseKind::Elimination) => {
                    let method = detail
                        .case
                        .method
                        .as_deref()
                        .and_then(EliminationMethod::from_code)
                        .map(|m| m.label(lang))
                        .unwrap_or_default();
                    format!("{} · {method}", c.t("timeline-eliminated"))
                }
                _ => {
                    let category = detail
                        .case
                        .category
                        .as_deref()
                        .and_then(MonitoringCategory::from_code)
                        .map(|m| m.label(lang))
                        .unwrap_or_default();
                    format!(
                        "{} · {category} · {}",
                        c.t("timeline-monitored"),
                        risk_labels(&detail.case.risk_types, lang)
                    )
                }
            };
            events.push(Event {
                at: detail.case.approved_on.clone().unwrap_or_default(),
                kind: c.t("timeline-outcome"),
                text: outcome,
                link: Some(format!("/cases/{}", detail.case.id)),
            });
        }
    }

    if let Some(help) =
        zhenxing_store::assistance::household_assistance(&state.db, &scope, &record.household_no)
            .await?
    {
        for p in &help.pairings {
            events.push(Event {
                at: p.starts_on.clone(),
                kind: c.t("timeline-pairing"),
                text: format!(
                    "{} · {} · {}",
                    c.t("timeline-pairing-start"),
                    p.cadre_name,
                    p.unit
                ),
                link: Some(format!("/households/{}/assistance", record.household_no)),
            });
            if let Some(end) = &p.ends_on {
                events.push(Event {
                    at: end.clone(),
                    kind: c.t("timeline-pairing"),
                    text: format!("{} · {}", c.t("timeline-pairing-end"), p.cadre_name),
                    link: Some(format!("/households/{}/assistance", record.household_no)),
                });
            }
        }
        for m in &help.measures {
            let category = m
                .category()
                .map(|k: MeasureCategory| k.label(lang).to_owned())
                .unwrap_or_default();
            let status = m
                .status()
                .map(|s: MeasureStatus| s.label(lang).to_owned())
                .unwrap_or_default();
            let amount = m
                .amount
                .map(|a| format!(" · ¥{}", yuan(a)))
                .unwrap_or_default();
            events.push(Event {
                at: m
                    .implemented_on
                    .clone()
                    .unwrap_or_else(|| m.starts_on.clone()),
                kind: c.t("timeline-measure"),
                text: format!(
                    "{category} · {} · {status}{amount}",
                    mask_free_text(&m.content)
                ),
                link: Some(format!("/households/{}/assistance", record.household_no)),
            });
        }
    }

    // Newest first; the day sorts before the time of the same day, which keeps dated steps
    // beside the records made on their day.
    events.sort_by(|a, b| b.at.cmp(&a.at));
    let head_name = record.head_name().unwrap_or_default().to_owned();
    let page = TimelinePage {
        no: record.household_no,
        head_name,
        events,
        c,
    };
    Ok(render(&page))
}

/// The timeline's route.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/households/{no}/timeline", axum::routing::get(timeline))
}
