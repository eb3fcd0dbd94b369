//! Households: the filtered, keyset-paginated list with search (here), the household page
//! (`page`), its history (`history`), and editing with optimistic concurrency, including
//! adding and removing members (`edit`). Every change asks for a reason, which the audit trail
//! keeps.

mod edit;
mod history;
pub use history::describe_changes;
mod page;

pub use edit::{EditForm, add_member, edit, edit_form, remove_member};
pub use page::{detail, reveal};

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::Params;
use crate::pages::divisions::{Crumb, crumbs};
use crate::pages::{Chrome, blank, pager, render, yuan};
pub use crate::scope::{ListQuery, parse_filter, scoped_household};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use zhenxing_core::{Action, HouseholdType, MonitoringCategory};
use zhenxing_store::browse::HouseholdSummary;

const PAGE_SIZE: u32 = 50;

// ---------------------------------------------------------------------------------------------
// The list

pub struct ListRow {
    pub household_no: String,
    pub village: String,
    pub head: String,
    pub household_type: String,
    pub category: String,
    pub member_count: i64,
    pub income: String,
}

#[derive(Template)]
#[template(path = "households.html")]
struct ListPage {
    c: Chrome,
    crumbs: Vec<Crumb>,
    division: String,
    household_type: String,
    category: String,
    below: String,
    q: String,
    types: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    rows: Vec<ListRow>,
    next: Option<String>,
    first_page: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<ListQuery>, AppError>,
) -> AppResult<Response> {
    viewer.may(Action::ReadRegistry)?;
    let Params(query) = params?;
    let (filter, after) = parse_filter(&viewer, &query)?;
    let page = state.db.household_page(&filter, after, PAGE_SIZE).await?;
    let c = Chrome::new(&state, &viewer, String::new());
    let lang = viewer.lang;
    let rows = page
        .households
        .iter()
        .map(|h: &HouseholdSummary| ListRow {
            household_no: h.household_no.clone(),
            village: c.tr.name(&h.village_zh, &h.village_en).to_owned(),
            head: h.head_name.clone().unwrap_or_default(),
            household_type: HouseholdType::from_code(&h.household_type)
                .map(|t| t.label(lang).to_owned())
                .unwrap_or_default(),
            category: h
                .monitoring_category
                .as_deref()
                .and_then(MonitoringCategory::from_code)
                .map(|t| t.label(lang).to_owned())
                .unwrap_or_default(),
            member_count: h.member_count,
            income: yuan(h.per_capita_net_income),
        })
        .collect();
    let division = filter.division.unwrap_or(filter.scope);
    let values = [
        ("division", blank(&query.division).unwrap_or("")),
        ("type", blank(&query.household_type).unwrap_or("")),
        ("category", blank(&query.category).unwrap_or("")),
        ("below", blank(&query.below).unwrap_or("")),
        ("q", blank(&query.q).unwrap_or("")),
    ];
    let (next, first_page) = pager(
        "/households",
        &values,
        "after",
        page.next_after,
        after.is_none(),
    );
    let mut c = c;
    c.title = c.t("households-title");
    let page = ListPage {
        crumbs: crumbs(&state, &viewer, &division).await?,
        division: values[0].1.to_owned(),
        household_type: values[1].1.to_owned(),
        category: values[2].1.to_owned(),
        below: values[3].1.to_owned(),
        q: values[4].1.to_owned(),
        types: HouseholdType::ALL
            .iter()
            .map(|t| (t.code().to_owned(), t.label(lang).to_owned()))
            .collect(),
        categories: MonitoringCategory::ALL
            .iter()
            .map(|t| (t.code().to_owned(), t.label(lang).to_owned()))
            .collect(),
        rows,
        next,
        first_page,
        c,
    };
    Ok(render(&page))
}
