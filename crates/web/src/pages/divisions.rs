//! The division tree: a division's figures and its children (county → township → village)
//! with their counts, each a link one level down.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::{Chrome, count, render};
pub use crate::scope::scoped_division;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use zhenxing_core::{DivisionCode, DivisionLevel};
use zhenxing_store::browse::ChildDivision;
use zhenxing_store::divisions::Division;

/// One step of the breadcrumb: a link when it lies inside the account's scope.
pub struct Crumb {
    pub name: String,
    pub href: Option<String>,
}

pub struct ChildRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub former_poverty: bool,
    pub households: String,
    pub members: String,
    pub lifted_out_households: String,
    pub monitored_households: String,
}

#[derive(Template)]
#[template(path = "division.html")]
struct DivisionPage {
    c: Chrome,
    code: String,
    name: String,
    crumbs: Vec<Crumb>,
    figures: Vec<(String, String)>,
    child_heading: String,
    children: Vec<ChildRow>,
    is_village: bool,
}

/// The breadcrumb from the municipality to `code`; steps above the account's division are
/// shown as text only.
pub async fn crumbs(
    state: &AppState,
    viewer: &Viewer,
    code: &DivisionCode,
) -> AppResult<Vec<Crumb>> {
    let account = viewer.account()?;
    let path = state.db.division_path(code).await?;
    Ok(path
        .iter()
        .map(|d| Crumb {
            name: division_name(viewer, d),
            href: account
                .scope()
                .contains_code(&d.code)
                .then(|| format!("/divisions/{}", d.code)),
        })
        .collect())
}

pub fn division_name(viewer: &Viewer, d: &Division) -> String {
    match viewer.lang {
        zhenxing_core::Lang::Zh => d.name_zh.clone(),
        zhenxing_core::Lang::En => d.name_en.clone(),
    }
}

/// The message key of the heading over a division's children.
pub fn children_heading_key(level: DivisionLevel) -> &'static str {
    match level {
        DivisionLevel::Province => "division-children-counties",
        DivisionLevel::County => "division-children-townships",
        _ => "division-children-villages",
    }
}

/// A division from a URL with its record, if it lies in the account's scope and exists;
/// otherwise "not found".
pub async fn scoped_division_record(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
) -> AppResult<(DivisionCode, Division)> {
    let code = scoped_division(viewer, code)?;
    let division = state.db.division(&code).await?.ok_or(AppError::NotFound)?;
    Ok((code, division))
}

pub async fn division_page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let (code, division) = scoped_division_record(&state, &viewer, &code).await?;
    let stats = state.db.stats(Some(&code)).await?;
    let children: Vec<ChildDivision> = state.db.child_divisions(&code).await?;
    let c = Chrome::new(&state, &viewer, division_name(&viewer, &division));
    let figures = stats
        .labelled()
        .iter()
        .filter(|(_, en, _)| match code.level() {
            DivisionLevel::Province => true,
            DivisionLevel::County => *en != "counties" && *en != "former poverty counties",
            DivisionLevel::Township => {
                !matches!(*en, "counties" | "former poverty counties" | "townships")
            }
            DivisionLevel::Village => !matches!(
                *en,
                "counties"
                    | "former poverty counties"
                    | "townships"
                    | "villages"
                    | "communities"
                    | "former poverty villages"
            ),
        })
        .map(|(zh, en, n)| (c.tr.name(zh, en).to_owned(), count(*n)))
        .collect();
    let child_heading = c.t(children_heading_key(code.level()));
    let rows = children
        .iter()
        .map(|ch| ChildRow {
            code: ch.division.code.clone(),
            name: division_name(&viewer, &ch.division),
            kind: ch.division.kind.clone(),
            former_poverty: ch.division.former_poverty_county.is_some()
                || ch.division.former_poverty_village,
            households: count(ch.households),
            members: count(ch.members),
            lifted_out_households: count(ch.lifted_out_households),
            monitored_households: count(ch.monitored_households),
        })
        .collect();
    let page = DivisionPage {
        crumbs: crumbs(&state, &viewer, &code).await?,
        name: division_name(&viewer, &division),
        code: code.as_str().to_owned(),
        figures,
        child_heading,
        children: rows,
        is_village: code.level() == DivisionLevel::Village,
        c,
    };
    Ok(render(&page))
}
