//! The rule sets: the list of every saved version, and one version's every parameter in words.

use super::triggers::{TRIGGERS, param_key, scalar_text, trigger_label, trigger_objects, unit};
use super::{RuleSetLine, ensure_rule_sets, pass_reason, rule_set_line};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::pages::divisions::division_name;
use crate::pages::{Chrome, render, yuan};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;
use std::collections::HashMap;
use zhenxing_app::monitoring::pass;
use zhenxing_core::china_time::china_time_text;
use zhenxing_core::monitoring::RuleSet;
use zhenxing_core::{Action, DivisionCode};
use zhenxing_store::monitoring;

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
