//! The password and session policy (issue 15), the security administrator's page
//! (`Action::ManageAccounts`): every number of `store::security_policy::SecurityPolicy` in
//! one form. A refused form keeps its input and says what is wrong; the store audits every
//! change with the policy before and after.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppResult;
use crate::extract::CsrfForm;
use crate::i18n::Tr;
use crate::pages::{Chrome, render_form};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use zhenxing_core::Action;
use zhenxing_store::security_policy::SecurityPolicy;

pub const POLICY_PATH: &str = "/security/policy";

pub fn routes() -> Router<AppState> {
    Router::new().route(POLICY_PATH, get(show).post(save))
}

/// One number of the form: its field name, label key, and value as typed.
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "security_policy.html")]
struct PolicyPage {
    c: Chrome,
    fields: Vec<Field>,
    factor_for_all: bool,
    errors: Vec<String>,
    saved: bool,
}

/// The form as posted: text, so that a refused value is shown back as typed.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    min_length: String,
    #[serde(default)]
    min_classes: String,
    #[serde(default)]
    max_age_days: String,
    #[serde(default)]
    lockout_failures: String,
    #[serde(default)]
    lockout_minutes: String,
    #[serde(default)]
    idle_minutes: String,
    #[serde(default)]
    absolute_minutes: String,
    #[serde(default)]
    max_sessions: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    factor_for_all: Option<String>,
}

impl PolicyForm {
    fn from_policy(p: &SecurityPolicy) -> PolicyForm {
        PolicyForm {
            min_length: p.min_length.to_string(),
            min_classes: p.min_classes.to_string(),
            max_age_days: p.max_age_days.to_string(),
            lockout_failures: p.lockout_failures.to_string(),
            lockout_minutes: p.lockout_minutes.to_string(),
            idle_minutes: p.idle_minutes.to_string(),
            absolute_minutes: p.absolute_minutes.to_string(),
            max_sessions: p.max_sessions.to_string(),
            factor_for_all: p.factor_for_all.then(|| "on".to_owned()),
        }
    }

    /// The numbers in the order of the form, with their field names.
    fn values(&self) -> [(&'static str, &str); 8] {
        [
            ("min_length", self.min_length.as_str()),
            ("min_classes", self.min_classes.as_str()),
            ("max_age_days", self.max_age_days.as_str()),
            ("lockout_failures", self.lockout_failures.as_str()),
            ("lockout_minutes", self.lockout_minutes.as_str()),
            ("idle_minutes", self.idle_minutes.as_str()),
            ("absolute_minutes", self.absolute_minutes.as_str()),
            ("max_sessions", self.max_sessions.as_str()),
        ]
    }

    /// The policy, or the fields that are not whole numbers.
    fn parse(&self, tr: &Tr) -> Result<SecurityPolicy, Vec<String>> {
        let mut numbers = [0u32; 8];
        let mut errors = Vec::new();
        for (slot, (name, value)) in numbers.iter_mut().zip(self.values()) {
            match value.trim().parse::<u32>() {
                Ok(n) => *slot = n,
                Err(_) => errors.push(format!(
                    "{}: {}",
                    tr.t(&format!("policy-{}", name.replace('_', "-"))),
                    tr.t("policy-not-a-number")
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let [
            min_length,
            min_classes,
            max_age_days,
            lockout_failures,
            lockout_minutes,
            idle_minutes,
            absolute_minutes,
            max_sessions,
        ] = numbers;
        Ok(SecurityPolicy {
            min_length,
            min_classes,
            max_age_days,
            lockout_failures,
            lockout_minutes,
            idle_minutes,
            absolute_minutes,
            max_sessions,
            factor_for_all: self.factor_for_all.is_some(),
        })
    }
}

fn page(
    state: &AppState,
    viewer: &Viewer,
    form: &PolicyForm,
    errors: Vec<String>,
    saved: bool,
) -> Response {
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("policy-title");
    let fields = form
        .values()
        .iter()
        .map(|(name, value)| Field {
            name,
            label: c.t(&format!("policy-{}", name.replace('_', "-"))),
            value: (*value).to_owned(),
        })
        .collect();
    let refused = !errors.is_empty();
    let page = PolicyPage {
        c,
        fields,
        factor_for_all: form.factor_for_all.is_some(),
        errors,
        saved,
    };
    render_form(&page, refused)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    query: Result<crate::pages::Params<ShowQuery>, crate::AppError>,
) -> AppResult<Response> {
    viewer.may(Action::ManageAccounts)?;
    let crate::pages::Params(query) = query?;
    let policy = state.db.security_policy().await?;
    Ok(page(
        &state,
        &viewer,
        &PolicyForm::from_policy(&policy),
        Vec::new(),
        query.saved.is_some(),
    ))
}

pub async fn save(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<PolicyForm>,
) -> AppResult<Response> {
    let me = viewer.may(Action::ManageAccounts)?;
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let policy = match form.parse(&tr) {
        Ok(p) => p,
        Err(errors) => return Ok(page(&state, &viewer, &form, errors, false)),
    };
    match state.db.set_security_policy(&me.name, &policy).await? {
        Ok(()) => Ok(Redirect::to(&format!("{POLICY_PATH}?saved=1")).into_response()),
        Err(problems) => {
            let errors = problems.iter().map(|t| tr.text(t)).collect();
            Ok(page(&state, &viewer, &form, errors, false))
        }
    }
}
