//! Households: the filtered, keyset-paginated list with search; the household page (members,
//! incomes, housing and water, findings, history); editing with optimistic concurrency;
//! adding and removing members. Every change asks for a reason, which the audit trail keeps.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::divisions::{Crumb, crumbs, scoped_division};
use crate::pages::{Chrome, count, render, yuan};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use zhenxing_core::access::{mask_id_number, mask_phone};
use zhenxing_core::checks::check_household;
use zhenxing_core::id_number::{DocumentNumber, today_in_china};
use zhenxing_core::{
    Action, DivisionCode, Education, Fen, Health, HealthCondition, HouseholdType, IncomeItems,
    Labor, Member, MonitoringCategory, PersonName, Phone, Relation, SchoolStatus, Text,
};
use zhenxing_store::HouseholdRecord;
use zhenxing_store::browse::{HouseholdFilter, HouseholdSummary, Search};
use zhenxing_store::edit::EditOutcome;
use zhenxing_store::registry::RowMeta;

const PAGE_SIZE: u32 = 50;

// ---------------------------------------------------------------------------------------------
// The list

/// The list's query string. Unknown parameters are refused (400), not ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub division: Option<String>,
    #[serde(rename = "type")]
    pub household_type: Option<String>,
    pub category: Option<String>,
    /// Per-capita net income below this many yuan.
    pub below: Option<String>,
    pub q: Option<String>,
    pub after: Option<String>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The filter a query asks for, within the account's scope; bad values are a 400 that names
/// the parameter.
pub fn parse_filter(
    viewer: &Viewer,
    query: &ListQuery,
) -> AppResult<(HouseholdFilter, Option<i64>)> {
    let account = viewer.may(Action::ReadRegistry)?;
    let division = match blank(&query.division) {
        Some(code) => Some(scoped_division(viewer, code)?),
        None => None,
    };
    let household_type = blank(&query.household_type)
        .map(|t| HouseholdType::parse(t).map_err(AppError::BadRequest))
        .transpose()?;
    let category = blank(&query.category)
        .map(|t| MonitoringCategory::parse(t).map_err(AppError::BadRequest))
        .transpose()?;
    let income_below = blank(&query.below)
        .map(|b| {
            Fen::parse_non_negative(b).map(|f| f.0).map_err(|e| {
                let t = e.text();
                AppError::BadRequest(Text::new(
                    format!("参数below（人均纯收入低于，元）：{}", t.zh),
                    format!(
                        "parameter below (per-capita net income below, yuan): {}",
                        t.en
                    ),
                ))
            })
        })
        .transpose()?;
    let after = blank(&query.after)
        .map(|a| {
            a.parse::<i64>().map_err(|_| {
                AppError::bad_request("参数after须为整数", "parameter after must be an integer")
            })
        })
        .transpose()?;
    let search = blank(&query.q).and_then(Search::recognise);
    Ok((
        HouseholdFilter {
            scope: account.division,
            division,
            household_type,
            category,
            income_below,
            search,
        },
        after,
    ))
}

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

fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    parts.join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let Query(query) = query.map_err(|e| {
        AppError::bad_request(
            format!("查询参数有误：{e}"),
            format!("bad query parameters: {e}"),
        )
    })?;
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
    let next = page.next_after.map(|a| {
        let after = a.to_string();
        let mut pairs = values.to_vec();
        pairs.push(("after", &after));
        format!("/households?{}", query_string(&pairs))
    });
    let first_page = after.map(|_| format!("/households?{}", query_string(&values)));
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

// ---------------------------------------------------------------------------------------------
// One household

/// The household if it exists and lies in the account's scope; otherwise "not found", the
/// same answer for both.
pub async fn scoped_household(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
) -> AppResult<(HouseholdRecord, RowMeta)> {
    let account = viewer.may(Action::ReadRegistry)?;
    if no.len() > 64 {
        return Err(AppError::NotFound);
    }
    let Some((record, meta)) = zhenxing_store::registry::household(&state.db, no).await? else {
        return Err(AppError::NotFound);
    };
    if !account.scope().contains_code(&record.division_code) {
        return Err(AppError::NotFound);
    }
    Ok((record, meta))
}

pub struct MemberRow {
    pub position: usize,
    pub name: String,
    pub id_number: String,
    pub relation: String,
    pub sex: String,
    pub birth_date: String,
    pub education: String,
    pub school_status: String,
    pub health: String,
    pub labor: String,
    pub work_months: String,
    pub medical_insurance: String,
    pub disability: String,
}

pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub changes: String,
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    c: Chrome,
    crumbs: Vec<Crumb>,
    no: String,
    version: i64,
    household_type: String,
    lifted_out_year: String,
    category: String,
    phone: String,
    address: String,
    income_rows: Vec<(String, String)>,
    net_income: String,
    per_capita: String,
    housing: String,
    water: String,
    members: Vec<MemberRow>,
    findings: Vec<String>,
    history: Vec<HistoryRow>,
    revealed: bool,
    can_reveal: bool,
    can_edit: bool,
}

fn yes_no(c: &Chrome, value: Option<bool>) -> String {
    match value {
        Some(true) => c.t("yes"),
        Some(false) => c.t("no"),
        None => c.t("unknown"),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
) -> AppResult<Response> {
    household_page(&state, &viewer, &no, false).await
}

#[derive(Deserialize)]
pub struct RevealForm {
    csrf: String,
}

/// Shows the household with full ID and phone numbers, for roles that need them; every reveal
/// is an audited operation.
pub async fn reveal(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    Form(form): Form<RevealForm>,
) -> AppResult<Response> {
    viewer.check_csrf(&form.csrf)?;
    let account = viewer.may(Action::RevealPersonalNumbers)?;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    zhenxing_store::audit::append_one(
        &state.db,
        zhenxing_store::audit::AuditEntry {
            actor: account.name.clone(),
            action: "personal_data.reveal".to_owned(),
            object_type: "household".to_owned(),
            object_id: Some(record.household_no.clone()),
            county_code: Some(record.county_code().to_owned()),
            division_code: Some(record.division_code.clone()),
            ..Default::default()
        },
    )
    .await?;
    household_page(&state, &viewer, &no, true).await
}

async fn household_page(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
    revealed: bool,
) -> AppResult<Response> {
    let (record, meta) = scoped_household(state, viewer, no).await?;
    let account = viewer.account()?;
    let lang = viewer.lang;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("household-title"), record.household_no);
    let label = |code: &Option<String>, f: fn(&str) -> Option<&'static str>| {
        code.as_deref().and_then(f).unwrap_or("").to_owned()
    };
    let members = record
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| MemberRow {
            position: i,
            name: m.name.clone(),
            id_number: if revealed {
                m.document_number()
            } else {
                mask_id_number(&m.id_number)
            },
            relation: Relation::from_code(&m.relation)
                .map(|r| r.label(lang).to_owned())
                .unwrap_or_default(),
            sex: zhenxing_core::Sex::from_code(&m.sex)
                .map(|s| s.label(lang).to_owned())
                .unwrap_or_default(),
            birth_date: m.birth_date.clone(),
            education: match lang {
                zhenxing_core::Lang::Zh => {
                    label(&m.education, |c| Education::from_code(c).map(Education::zh))
                }
                zhenxing_core::Lang::En => {
                    label(&m.education, |c| Education::from_code(c).map(Education::en))
                }
            },
            school_status: match lang {
                zhenxing_core::Lang::Zh => label(&m.school_status, |c| {
                    SchoolStatus::from_code(c).map(SchoolStatus::zh)
                }),
                zhenxing_core::Lang::En => label(&m.school_status, |c| {
                    SchoolStatus::from_code(c).map(SchoolStatus::en)
                }),
            },
            health: m
                .health
                .split(',')
                .filter_map(HealthCondition::from_code)
                .map(|h| h.label(lang))
                .collect::<Vec<_>>()
                .join(", "),
            labor: Labor::from_code(&m.labor)
                .map(|l| l.label(lang).to_owned())
                .unwrap_or_default(),
            work_months: m.work_months.map(|w| w.to_string()).unwrap_or_default(),
            medical_insurance: yes_no(&c, Some(m.medical_insurance)),
            disability: match (m.disability_category, m.disability_level) {
                (Some(cat), Some(level)) => format!("{cat}/{level}"),
                _ => String::new(),
            },
        })
        .collect();
    let today = today_in_china();
    let findings = match record.to_draft().map(|d| d.build()) {
        Ok(Ok(household)) => check_household(&household, today)
            .iter()
            .map(|f| {
                let who = f
                    .member
                    .and_then(|i| record.members.get(i))
                    .map(|m| format!("{}: ", m.name))
                    .unwrap_or_default();
                format!("{who}{}", c.tr.text(&f.text))
            })
            .collect(),
        Ok(Err(errors)) => errors.iter().map(|e| c.tr.text(&e.text())).collect(),
        Err(e) => vec![e],
    };
    let history = zhenxing_store::audit::history(&state.db, "household", &record.household_no, 20)
        .await?
        .into_iter()
        .map(|h| HistoryRow {
            at: h.at.replace('T', " ").trim_end_matches('Z').to_owned(),
            actor: h.actor,
            action: c.t(match h.action.as_str() {
                "create" => "history-create",
                "update" => "history-update",
                _ => "history-change",
            }),
            reason: h.reason.unwrap_or_default(),
            changes: describe_changes(h.before_data.as_deref(), h.after_data.as_deref()),
        })
        .collect();
    let income = record.income();
    let income_rows = [
        ("income-wage", income.wage()),
        ("income-business", income.business()),
        ("income-property", income.property()),
        ("income-transfer", income.transfer()),
        ("income-business-expense", income.business_expense()),
        ("income-out-of-pocket", Fen(record.out_of_pocket)),
    ]
    .iter()
    .map(|(k, f)| (c.t(k), yuan(f.0)))
    .collect();
    let page = HouseholdPage {
        crumbs: crumbs(
            state,
            viewer,
            &DivisionCode::parse(&record.division_code).map_err(|_| AppError::Internal)?,
        )
        .await?,
        no: record.household_no.clone(),
        version: meta.version,
        household_type: HouseholdType::from_code(&record.household_type)
            .map(|t| t.label(lang).to_owned())
            .unwrap_or_default(),
        lifted_out_year: record
            .lifted_out_year
            .map(|y| y.to_string())
            .unwrap_or_default(),
        category: record
            .monitoring_category
            .as_deref()
            .and_then(MonitoringCategory::from_code)
            .map(|t| t.label(lang).to_owned())
            .unwrap_or_default(),
        phone: record
            .phone
            .as_deref()
            .map(|p| {
                if revealed {
                    p.to_owned()
                } else {
                    mask_phone(p)
                }
            })
            .unwrap_or_default(),
        address: record.address.clone().unwrap_or_default(),
        income_rows,
        net_income: yuan(record.net_income()),
        per_capita: yuan(record.per_capita_net_income()),
        housing: yes_no(&c, record.housing_safe),
        water: yes_no(&c, record.water_safe),
        members,
        findings,
        history,
        revealed,
        can_reveal: account.may(Action::RevealPersonalNumbers),
        can_edit: account.may(Action::WriteRegistry),
        c,
    };
    Ok(render(&page))
}

/// "field: before → after" for each changed field, members by name with their changed fields;
/// ID and phone numbers always masked (the history is shown to every reader of the household).
fn describe_changes(before: Option<&str>, after: Option<&str>) -> String {
    use serde_json::{Map, Value};
    let parse = |s: Option<&str>| {
        s.and_then(|s| serde_json::from_str::<Map<String, Value>>(s).ok())
            .unwrap_or_default()
    };
    let (before, after) = (parse(before), parse(after));
    let mut parts = Vec::new();
    for (key, b, a) in union(&before, &after) {
        if b == a {
            continue;
        }
        if key == "members" {
            let empty = Map::new();
            let b = b.and_then(Value::as_object).unwrap_or(&empty);
            let a = a.and_then(Value::as_object).unwrap_or(&empty);
            for (id, mb, ma) in union(b, a) {
                let member = ma.or(mb);
                let name = member
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let who = format!("{name} {}", mask_id_number(&id));
                match (mb, ma) {
                    (None, Some(_)) => parts.push(format!("+ {who}")),
                    (Some(_), None) => parts.push(format!("− {who}")),
                    (Some(mb), Some(ma)) if mb != ma => {
                        let (mb, ma) = (
                            mb.as_object().cloned().unwrap_or_default(),
                            ma.as_object().cloned().unwrap_or_default(),
                        );
                        let fields: Vec<String> = union(&mb, &ma)
                            .into_iter()
                            .filter(|(_, x, y)| x != y)
                            .map(|(k, x, y)| format!("{k}: {} → {}", shown(&k, x), shown(&k, y)))
                            .collect();
                        parts.push(format!("{who}: {}", fields.join(", ")));
                    }
                    _ => {}
                }
            }
        } else {
            parts.push(format!("{key}: {} → {}", shown(&key, b), shown(&key, a)));
        }
    }
    parts.join("; ")
}

/// The keys of two objects, sorted, with both values.
fn union<'a>(
    a: &'a serde_json::Map<String, serde_json::Value>,
    b: &'a serde_json::Map<String, serde_json::Value>,
) -> Vec<(
    String,
    Option<&'a serde_json::Value>,
    Option<&'a serde_json::Value>,
)> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| (k.clone(), a.get(k), b.get(k)))
        .collect()
}

/// A value for the history, masked when it is an ID or phone number.
fn shown(key: &str, value: Option<&serde_json::Value>) -> String {
    let s = match value {
        None | Some(serde_json::Value::Null) => return "–".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let is_money = matches!(
        key,
        "wage_income"
            | "business_income"
            | "property_income"
            | "transfer_income"
            | "business_expense"
            | "out_of_pocket"
            | "net_income"
            | "per_capita_net_income"
    );
    if is_money && let Some(fen) = value.and_then(serde_json::Value::as_i64) {
        yuan(fen)
    } else if key.contains("id_number") {
        mask_id_number(&s)
    } else if key.contains("phone") {
        mask_phone(&s)
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::describe_changes;

    #[test]
    fn history_masks_numbers_and_names_members() {
        let before = r#"{"phone":"13900230001","wage_income":100,"members":{"500229198203150139":{"name":"王建国","labor":"ordinary","id_number":"500229198203150139"}}}"#;
        let after = r#"{"phone":"13900230002","wage_income":200,"members":{"500229198203150139":{"name":"王建国","labor":"weak","id_number":"500229198203150139"},"500229202503010129":{"name":"王小花","id_number":"500229202503010129"}}}"#;
        let text = describe_changes(Some(before), Some(after));
        assert!(
            !text.contains("500229198203150139") && !text.contains("13900230001"),
            "{text}"
        );
        assert!(text.contains("+ 王小花 500229********0129"), "{text}");
        assert!(
            text.contains("王建国 500229********0139: labor: ordinary → weak"),
            "{text}"
        );
        assert!(text.contains("phone: 139****0001 → 139****0002"), "{text}");
        assert!(
            text.contains("wage_income: 1.00 → 2.00"),
            "money in yuan: {text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Editing

#[derive(Template)]
#[template(path = "household_edit.html")]
struct EditPage {
    c: Chrome,
    crumbs: Vec<Crumb>,
    no: String,
    version: i64,
    form: EditForm,
    types: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    errors: Vec<String>,
}

/// The household form. Money in yuan as typed; tri-state safety as `""`, `yes`, `no`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditForm {
    pub csrf: String,
    pub version: String,
    pub reason: String,
    pub household_type: String,
    pub lifted_out_year: String,
    pub category: String,
    pub phone: String,
    pub address: String,
    pub wage: String,
    pub business: String,
    pub property: String,
    pub transfer: String,
    pub business_expense: String,
    pub out_of_pocket: String,
    pub housing_safe: String,
    pub water_safe: String,
}

impl EditForm {
    pub fn from_record(record: &HouseholdRecord, version: i64) -> EditForm {
        let tri = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        let money = |f: i64| format!("{}.{:02}", f / 100, f % 100);
        EditForm {
            csrf: String::new(),
            version: version.to_string(),
            reason: String::new(),
            household_type: record.household_type.clone(),
            lifted_out_year: record
                .lifted_out_year
                .map(|y| y.to_string())
                .unwrap_or_default(),
            category: record.monitoring_category.clone().unwrap_or_default(),
            phone: record.phone.clone().unwrap_or_default(),
            address: record.address.clone().unwrap_or_default(),
            wage: money(record.wage_income),
            business: money(record.business_income),
            property: money(record.property_income),
            transfer: money(record.transfer_income),
            business_expense: money(record.business_expense),
            out_of_pocket: money(record.out_of_pocket),
            housing_safe: tri(record.housing_safe).to_owned(),
            water_safe: tri(record.water_safe).to_owned(),
        }
    }
}

fn edit_page(
    state: &AppState,
    viewer: &Viewer,
    crumbs: Vec<Crumb>,
    no: &str,
    version: i64,
    form: EditForm,
    errors: Vec<String>,
) -> Response {
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
        categories: MonitoringCategory::ALL
            .iter()
            .map(|t| (t.code().to_owned(), t.label(lang).to_owned()))
            .collect(),
        errors,
        c,
    };
    let mut response = render(&page);
    if !page_errors_empty(&page) {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

fn page_errors_empty(page: &EditPage) -> bool {
    page.errors.is_empty()
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
        &no,
        meta.version,
        EditForm::from_record(&record, meta.version),
        Vec::new(),
    ))
}

/// A reason for a change: required, at most 500 characters.
pub fn parse_reason(reason: &str) -> Result<String, Text> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(Text::new(
            "请填写修改原因（审计记录需要）",
            "give a reason for the change (the audit trail records it)",
        ));
    }
    if r.chars().count() > 500 {
        return Err(Text::new(
            "修改原因最多500字",
            "the reason is at most 500 characters",
        ));
    }
    Ok(r.to_owned())
}

/// Applies the form to the household's draft; every problem is collected, named by field.
pub fn apply_form(record: &HouseholdRecord, form: &EditForm) -> Result<HouseholdRecord, Vec<Text>> {
    let mut errors = Vec::new();
    let mut draft = match record.to_draft() {
        Ok(d) => d,
        Err(e) => return Err(vec![Text::new(e.clone(), e)]),
    };
    let field = |errors: &mut Vec<Text>, zh: &str, en: &str, t: Text| {
        errors.push(Text::new(
            format!("{zh}：{}", t.zh),
            format!("{en}: {}", t.en),
        ));
    };
    match HouseholdType::parse(&form.household_type) {
        Ok(t) => draft.household_type = t,
        Err(t) => field(&mut errors, "户类型", "household type", t),
    }
    draft.lifted_out_year = match form.lifted_out_year.trim() {
        "" => None,
        y => match y.parse::<u16>() {
            Ok(y) => Some(y),
            Err(_) => {
                field(
                    &mut errors,
                    "脱贫年度",
                    "year lifted out",
                    Text::new("须为年份", "must be a year"),
                );
                None
            }
        },
    };
    draft.monitoring_category = match form.category.trim() {
        "" => None,
        c => match MonitoringCategory::parse(c) {
            Ok(c) => Some(c),
            Err(t) => {
                field(&mut errors, "监测对象类别", "monitoring category", t);
                None
            }
        },
    };
    draft.phone = match form.phone.trim() {
        "" => None,
        p => match Phone::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                field(&mut errors, "联系电话", "phone", e.text());
                None
            }
        },
    };
    let address = form.address.trim();
    if address.chars().count() > 200 {
        field(
            &mut errors,
            "住址",
            "address",
            Text::new("最多200字", "at most 200 characters"),
        );
    }
    draft.address = (!address.is_empty()).then(|| address.to_owned());
    let mut money = |zh: &str, en: &str, value: &str| -> Fen {
        match Fen::parse_non_negative(value.trim()) {
            Ok(f) => f,
            Err(e) => {
                field(&mut errors, zh, en, e.text());
                Fen::ZERO
            }
        }
    };
    let wage = money("工资性收入", "wage income", &form.wage);
    let business = money("生产经营性收入", "business income", &form.business);
    let property = money("财产性收入", "property income", &form.property);
    let transfer = money("转移性收入", "transfer income", &form.transfer);
    let expense = money(
        "生产经营性支出",
        "business expenses",
        &form.business_expense,
    );
    let out_of_pocket = money(
        "合规自付支出",
        "out-of-pocket spending",
        &form.out_of_pocket,
    );
    if let Some(income) = IncomeItems::new(wage, business, property, transfer, expense) {
        draft.income = income;
    }
    draft.out_of_pocket = out_of_pocket;
    let tri = |s: &str| match s {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    draft.housing_safe = tri(&form.housing_safe);
    draft.water_safe = tri(&form.water_safe);
    if !errors.is_empty() {
        return Err(errors);
    }
    match draft.build() {
        Ok(household) => Ok(HouseholdRecord::from_household(&household)),
        Err(errs) => Err(errs.iter().map(|e| e.text()).collect()),
    }
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
    match state
        .db
        .edit_household(record, version, &account.name, "web", reason)
        .await?
    {
        EditOutcome::Saved { .. } => Ok(()),
        EditOutcome::NotFound => Err(AppError::NotFound),
        EditOutcome::Stale { .. } => Err(AppError::Conflict(Text::new(
            "保存失败：自您打开此页以来，该户已被他人修改。您的修改未保存；请重新打开该户，核对后再改。",
            "Not saved: someone changed this household after you opened the page. Your change was not saved; open the household again, check it, and redo your change.",
        ))),
    }
}

pub async fn edit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    Form(form): Form<EditForm>,
) -> AppResult<Response> {
    viewer.check_csrf(&form.csrf)?;
    viewer.may(Action::WriteRegistry)?;
    let (record, meta) = scoped_household(&state, &viewer, &no).await?;
    let version: i64 = form
        .version
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "bad version"))?;
    let reason = parse_reason(&form.reason);
    let updated = apply_form(&record, &form);
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
        &state, &viewer, crumbs, &no, version, form, errors,
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

fn refused(tr: &crate::i18n::Tr, texts: &[Text]) -> AppError {
    let _ = tr;
    AppError::BadRequest(Text::new(
        texts
            .iter()
            .map(|t| t.zh.clone())
            .collect::<Vec<_>>()
            .join("；"),
        texts
            .iter()
            .map(|t| t.en.clone())
            .collect::<Vec<_>>()
            .join("; "),
    ))
}

pub async fn add_member(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    Form(form): Form<MemberForm>,
) -> AppResult<Response> {
    viewer.check_csrf(&form.csrf)?;
    viewer.may(Action::WriteRegistry)?;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    let tr = crate::i18n::Tr::new(state.i18n.clone(), viewer.lang);
    let reason = parse_reason(&form.reason).map_err(AppError::BadRequest)?;
    let version: i64 = form
        .version
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "bad version"))?;
    let member = member_from_form(&form).map_err(|t| refused(&tr, &t))?;
    let mut draft = record.to_draft().map_err(|_| AppError::Internal)?;
    draft.members.push(member);
    let household = draft
        .build()
        .map_err(|errs| refused(&tr, &errs.iter().map(|e| e.text()).collect::<Vec<_>>()))?;
    save(
        &state,
        &viewer,
        &HouseholdRecord::from_household(&household),
        version,
        &reason,
    )
    .await?;
    Ok(Redirect::to(&format!("/households/{}", urlencode(&no))).into_response())
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
    Form(form): Form<RemoveForm>,
) -> AppResult<Response> {
    viewer.check_csrf(&form.csrf)?;
    viewer.may(Action::WriteRegistry)?;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    let tr = crate::i18n::Tr::new(state.i18n.clone(), viewer.lang);
    let reason = parse_reason(&form.reason).map_err(AppError::BadRequest)?;
    let version: i64 = form
        .version
        .parse()
        .map_err(|_| AppError::bad_request("版本号有误", "bad version"))?;
    let mut draft = record.to_draft().map_err(|_| AppError::Internal)?;
    if position >= draft.members.len() {
        return Err(AppError::NotFound);
    }
    draft.members.remove(position);
    let household = draft
        .build()
        .map_err(|errs| refused(&tr, &errs.iter().map(|e| e.text()).collect::<Vec<_>>()))?;
    save(
        &state,
        &viewer,
        &HouseholdRecord::from_household(&household),
        version,
        &reason,
    )
    .await?;
    Ok(Redirect::to(&format!("/households/{}", urlencode(&no))).into_response())
}

/// Counts for templates.
pub fn members_label(n: i64) -> String {
    count(n)
}
