//! A new version of the rule set: the form (pre-filled from the version in force or `?from=ID`)
//! and the upload of a rule set file, both saved through the store's `add_rule_set`, or shown
//! again with every reason.

use super::rule_form::{FormValues, form_values, rules_from_form};
use super::triggers::{ParamKind, TRIGGERS, param_key, trigger_label, unit};
use super::{RuleSetLine, ensure_rule_sets, pass_reason, rule_set_line};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;

use crate::extract::CsrfForm;
use crate::pages::{Chrome, Params, blank, render, with_status};
use crate::upload::{UploadError, skip, small_bytes, small_text};
use askama::Template;
use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhenxing_app::monitoring::pass;
use zhenxing_core::monitoring::RuleSet;
use zhenxing_core::{Action, text};
use zhenxing_store::accounts::Account;
use zhenxing_store::monitoring::{self, StoredRuleSet};

/// The largest rule set file accepted.
const MAX_RULE_FILE: usize = 64 * 1024;

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
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManageRuleSets)?.clone();
    let values: FormValues = fields.into_iter().collect();
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
