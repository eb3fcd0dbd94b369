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
//!
//! One job per file: [`runs`] (the overview and the re-screening runs, a kind of
//! [`crate::jobs`]), [`triggers`] (the table of triggers the pages and the form are built from),
//! [`rules`] (the list and one version), [`rule_form`] (the form's fields to a `RuleSet` and
//! back), [`new_version`] (the form and the upload that save a version) and [`whatif`].

mod new_version;
mod rule_form;
mod rules;
mod runs;
mod triggers;
mod whatif;

pub use new_version::{NewQuery, ParamField, TriggerField, create, new_form, upload};
pub use rules::{RuleRow, TriggerLine, rule_list, rule_page};
pub use runs::{LastRun, Run, RunForm, RunOutcome, Runs, overview, start_run};
pub use triggers::{ParamKind, TRIGGERS, TriggerDescriptor};
pub use whatif::{ChangeRow, CountsRow, WhatIfQuery, WhatIfResult, whatif};

use crate::AppState;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::pages::{with_status, yuan};
use axum::Router;
use axum::routing::{get, post};
use fluent_bundle::FluentValue;
use std::time::Duration;
use zhenxing_app::monitoring::pass::PassError;
use zhenxing_core::{DivisionCode, DivisionLevel, Text};
use zhenxing_store::accounts::Account;
use zhenxing_store::monitoring::{self, StoredRuleSet};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/monitoring", get(overview))
        .route("/monitoring/run", post(start_run))
        .route("/monitoring/rules", get(rule_list))
        .route("/monitoring/rules/new", get(new_form).post(create))
        .route("/monitoring/rules/upload", post(upload))
        .route("/monitoring/rules/{id}", get(rule_page))
        .route("/monitoring/whatif", get(whatif))
}

fn n(v: u64) -> FluentValue<'static> {
    FluentValue::from(v as f64)
}

fn seconds(d: Duration) -> FluentValue<'static> {
    FluentValue::from(format!("{:.1}", d.as_secs_f64()))
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

/// The division a run or a what-if covers, as the pass takes it: `None` for the whole
/// registry.
fn pass_scope(division: &DivisionCode) -> Option<DivisionCode> {
    (division.level() != DivisionLevel::Province).then_some(*division)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::i18n::I18n;
    use zhenxing_core::Lang;

    /// Every message key these modules name (also those chosen by a `match` or passed to
    /// `t_args` on another line, which the crate-wide key test does not see) exists in both
    /// languages.
    #[test]
    fn every_key_named_here_exists() {
        let i18n = I18n::new();
        let sources = [
            include_str!("mod.rs"),
            include_str!("runs.rs"),
            include_str!("triggers.rs"),
            include_str!("rules.rs"),
            include_str!("rule_form.rs"),
            include_str!("new_version.rs"),
            include_str!("whatif.rs"),
        ];
        let keys: Vec<&str> = sources
            .iter()
            .flat_map(|source| source.split('"').skip(1).step_by(2))
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
}
