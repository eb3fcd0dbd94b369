//! Editing a household and its members, with a reason and optimistic concurrency.

use super::scoped_household;
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult, OutcomeExt};
use crate::extract::CsrfForm;
use crate::pages::divisions::{Crumb, crumbs};
use crate::pages::{Chrome, render_form};
use crate::pages::{blank, urlencode};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhenxing_app::households::{HouseholdEdit, apply_edit, parse_reason};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::id_number::DocumentNumber;
use zhenxing_core::{
    Action, DivisionCode, Education, Health, HouseholdType, Labor, Member, MonitoringCategory,
    PersonName, Relation, SchoolStatus, Text,
};
use zhenxing_store::HouseholdRecord;

#[derive(Template)]
#[template(path = "household_edit.html")]
struct EditPage {
    c: Chrome,
    crumbs: Vec<Crumb>,
    no: String,
    version: i64,
    form: EditForm,
    types: Vec<(String, String)>,
    /// The monitoring category's label, shown read-only: only the procedures change it.
    category: String,
    errors: Vec<String>,
}

/// The household form: the edit's fields (shared with the API, `zhenxing_app::households`)
/// and the CSRF token.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditForm {
    pub csrf: String,
    #[serde(flatten)]
    pub edit: HouseholdEdit,
}

impl EditForm {
    pub fn from_record(record: &HouseholdRecord, version: i64) -> EditForm {
        EditForm {
            csrf: String::new(),
            edit: HouseholdEdit::from_record(record, version),
        }
    }
}

/// The template reads the edit's fields as the form's.
impl std::ops::Deref for EditForm {
    type Target = HouseholdEdit;

    fn deref(&self) -> &HouseholdEdit {
        &self.edit
    }
}

fn edit_page(
    state: &AppState,
    viewer: &Viewer,
    crumbs: Vec<Crumb>,
    record: &HouseholdRecord,
    version: i64,
    form: EditForm,
    errors: Vec<String>,
) -> Response {
    let no = record.household_no.as_str();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("edit-title"), no);
    let lang = viewer.lang;
    let page = EditPage {
        crumbs,
        no: no.to_owned(),
        version,
        form,
        types: HouseholdType::ALL
            .iter()
            .map(|t| (t.code().to_owned(), t.label(lang).to_owned()))
            .collect(),
        category: record
            .monitoring_category
            .as_deref()
            .and_then(MonitoringCategory::from_code)
            .map(|t| t.label(lang).to_owned())
            .unwrap_or_default(),
        errors,
        c,
    };
    render_form(&page, !page.errors.is_empty())
}

pub async fn edit_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
) -> AppResult<Response> {
    let (record, meta) = scoped_household(&state, &viewer, &no).await?;
    viewer.may(Action::WriteRegistry)?;
    let division = DivisionCode::parse(&record.division_code).map_err(|_| AppError::Internal)?;
    let crumbs = crumbs(&state, &viewer, &division).await?;
    Ok(edit_page(
        &state,
        &viewer,
        crumbs,
        &record,
        meta.version,
        EditForm::from_record(&record, meta.version),
        Vec::new(),
    ))
}

/// Saves a household change made from `version`; a stale version is refused with a message.
async fn save(
    state: &AppState,
    viewer: &Viewer,
    record: &HouseholdRecord,
    version: i64,
    reason: &str,
) -> AppResult<()> {
    let account = viewer.may(Action::WriteRegistry)?;
    state
        .db
        .edit_household(record, version, &account.name, "web", reason)
        .await?
        .done()?;
    Ok(())
}

pub async fn edit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> AppResult<Response> {
    viewer.may(Action::WriteRegistry)?;
    let (record, meta) = scoped_household(&state, &viewer, &no).await?;
    let version: i64 = form
        .version
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "bad version"))?;
    let reason = parse_reason(&form.reason);
    let updated = apply_edit(&record, &form.edit);
    let mut errors: Vec<String> = Vec::new();
    let tr = crate::i18n::Tr::new(state.i18n.clone(), viewer.lang);
    if let Err(t) = &reason {
        errors.push(tr.text(t));
    }
    if let Err(ts) = &updated {
        errors.extend(ts.iter().map(|t| tr.text(t)));
    }
    if let (Ok(reason), Ok(updated)) = (&reason, &updated) {
        save(&state, &viewer, updated, version, reason).await?;
        return Ok(Redirect::to(&format!("/households/{}", urlencode(&no))).into_response());
    }
    let division = DivisionCode::parse(&record.division_code).map_err(|_| AppError::Internal)?;
    let crumbs = crumbs(&state, &viewer, &division).await?;
    let _ = meta;
    Ok(edit_page(
        &state, &viewer, crumbs, &record, version, form, errors,
    ))
}

#[derive(Debug, Deserialize)]
pub struct MemberForm {
    pub csrf: String,
    pub version: String,
    pub reason: String,
    pub name: String,
    pub id_number: String,
    pub relation: String,
    pub labor: String,
    pub health: String,
    pub education: Option<String>,
    pub school_status: Option<String>,
    pub medical_insurance: Option<String>,
}

fn member_from_form(form: &MemberForm) -> Result<Member, Vec<Text>> {
    let mut errors = Vec::new();
    let mut field = |zh: &str, en: &str, t: Text| {
        errors.push(Text::new(
            format!("{zh}：{}", t.zh),
            format!("{en}: {}", t.en),
        ));
    };
    let name = PersonName::parse(&form.name)
        .map_err(|e| field("姓名", "name", e.text()))
        .ok();
    let document = DocumentNumber::parse_at(&form.id_number, today_in_china())
        .map_err(|e| field("身份证号", "ID number", e.text()))
        .ok();
    let relation = Relation::parse(&form.relation)
        .map_err(|t| field("与户主关系", "relation", t))
        .ok();
    let labor = Labor::parse(&form.labor)
        .map_err(|t| field("劳动技能", "labour ability", t))
        .ok();
    let health = Health::parse(&form.health)
        .map_err(|t| field("健康状况", "health", t))
        .ok();
    let education = blank(&form.education)
        .map(|e| {
            Education::parse(e)
                .map_err(|t| field("文化程度", "education", t))
                .ok()
        })
        .unwrap_or(None);
    let school_status = blank(&form.school_status)
        .map(|e| {
            SchoolStatus::parse(e)
                .map_err(|t| field("在校生状况", "school status", t))
                .ok()
        })
        .unwrap_or(None);
    match (name, document, relation, labor, health) {
        (Some(name), Some(document), Some(relation), Some(labor), Some(health))
            if errors.is_empty() =>
        {
            Ok(Member {
                name,
                document,
                relation,
                ethnicity: None,
                education,
                school_status,
                health,
                labor,
                work_months: None,
                medical_insurance: form.medical_insurance.as_deref() == Some("yes"),
                dibao: None,
            })
        }
        _ => Err(errors),
    }
}

/// One refusal listing every problem, in both languages.
fn refused(texts: &[Text]) -> AppError {
    let joined =
        |pick: fn(&Text) -> &str, sep: &str| texts.iter().map(pick).collect::<Vec<_>>().join(sep);
    AppError::BadRequest(Text::new(
        joined(|t| t.zh.as_str(), "；"),
        joined(|t| t.en.as_str(), "; "),
    ))
}

/// A change to a household's members: the checks every such form passes (role, scope,
/// reason, version), the change itself, the household rules again, then the one save.
async fn change_members(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
    (version, reason): (&str, &str),
    change: impl FnOnce(&mut Vec<Member>) -> AppResult<()>,
) -> AppResult<Response> {
    viewer.may(Action::WriteRegistry)?;
    let (record, _) = scoped_household(state, viewer, no).await?;
    let reason = parse_reason(reason).map_err(AppError::BadRequest)?;
    let version: i64 = version
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "bad version"))?;
    let mut draft = record.to_draft().map_err(|_| AppError::Internal)?;
    change(&mut draft.members)?;
    let household = draft
        .build()
        .map_err(|errs| refused(&errs.iter().map(|e| e.text()).collect::<Vec<_>>()))?;
    save(
        state,
        viewer,
        &HouseholdRecord::from_household(&household),
        version,
        &reason,
    )
    .await?;
    Ok(Redirect::to(&format!("/households/{}", urlencode(no))).into_response())
}

pub async fn add_member(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> AppResult<Response> {
    let fields = (form.version.as_str(), form.reason.as_str());
    change_members(&state, &viewer, &no, fields, |members| {
        members.push(member_from_form(&form).map_err(|t| refused(&t))?);
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    pub csrf: String,
    pub version: String,
    pub reason: String,
}

pub async fn remove_member(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((no, position)): Path<(String, usize)>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> AppResult<Response> {
    let fields = (form.version.as_str(), form.reason.as_str());
    change_members(&state, &viewer, &no, fields, |members| {
        if position >= members.len() {
            return Err(AppError::NotFound);
        }
        members.remove(position);
        Ok(())
    })
    .await
}
