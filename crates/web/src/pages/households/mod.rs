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
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat, ListHead};
use crate::pages::place_names::Places;
use crate::pages::{Chrome, blank, pager, query_string, render, yuan};
pub use crate::scope::{ListQuery, parse_filter, scoped_household};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use zhenxing_core::mask::mask_free_text;
use zhenxing_core::{Action, HouseholdType, Lang, MonitoringCategory};
use zhenxing_io::ColumnSpec;
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
    /// The total over all pages and the export links.
    head: ListHead,
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

/// One household of the list as the page and its export show it.
fn list_row(h: &HouseholdSummary, lang: Lang, places: &Places) -> ListRow {
    ListRow {
        household_no: h.household_no.clone(),
        village: places.label(&h.division_code),
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
    }
}

/// The list's filters as they appear in its links, in order.
fn filter_values(query: &ListQuery) -> [(&'static str, &str); 5] {
    [
        ("division", blank(&query.division).unwrap_or("")),
        ("type", blank(&query.household_type).unwrap_or("")),
        ("category", blank(&query.category).unwrap_or("")),
        ("below", blank(&query.below).unwrap_or("")),
        ("q", blank(&query.q).unwrap_or("")),
    ]
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
    let total = state.db.household_total(&filter).await?;
    let c = Chrome::new(&state, &viewer, String::new());
    let lang = viewer.lang;
    let places = Places::of(
        &state,
        lang,
        page.households.iter().map(|h| h.division_code.as_str()),
    )
    .await?;
    let rows = page
        .households
        .iter()
        .map(|h| list_row(h, lang, &places))
        .collect();
    let division = filter.division.unwrap_or(filter.scope);
    let values = filter_values(&query);
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
        head: ListHead::new(
            &c,
            "list-total-households",
            total,
            "/households",
            viewer
                .may(Action::ExportRegistry)
                .is_ok()
                .then(|| query_string(&values)),
        ),
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

/// Households written per page of an export.
const EXPORT_PAGE: u32 = 5_000;

/// Every household the list's filters select (all pages, from the start), with the page's
/// columns; audited as `households.export`, the search masked in the record. Needs
/// `ExportRegistry`. The registry's full exchange file is `/export`; this is the list.
pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<ListQuery>, AppError>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    viewer.may(Action::ExportRegistry)?;
    let Params(query) = params?;
    let (filter, _) = parse_filter(&viewer, &query)?;
    let lang = viewer.lang;
    let c = Chrome::new(&state, &viewer, String::new());
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        text("col-household-no"),
        text("col-head"),
        text("col-village"),
        text("col-type"),
        text("col-category"),
        ColumnSpec::number(c.t("col-members")),
        ColumnSpec::number(c.t("col-per-capita")),
    ];
    let mut file = ListFile::create("households", format, &columns)?;
    let mut after = None;
    loop {
        let page = state.db.household_page(&filter, after, EXPORT_PAGE).await?;
        let places = Places::of(
            &state,
            lang,
            page.households.iter().map(|h| h.division_code.as_str()),
        )
        .await?;
        let rows = page
            .households
            .iter()
            .map(|h| {
                let r = list_row(h, lang, &places);
                vec![
                    r.household_no,
                    r.head,
                    r.village,
                    r.household_type,
                    r.category,
                    r.member_count.to_string(),
                    // A number a spreadsheet sums: no thousands separators.
                    zhenxing_core::Fen(h.per_capita_net_income).to_string(),
                ]
            })
            .collect();
        file.write(rows).await?;
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let division = filter.division.unwrap_or(filter.scope);
    let mut filters = serde_json::Map::new();
    for (key, value) in filter_values(&query) {
        let value = if key == "q" {
            mask_free_text(value)
        } else {
            value.to_owned()
        };
        filters.insert(key.to_owned(), value.into());
    }
    let record = ExportRecord {
        action: "households.export",
        division,
        filters: filters.into(),
    };
    file.send(&state, &viewer, record).await
}
