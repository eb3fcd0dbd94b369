//! The household page: members, incomes, housing and water, findings, history; and the
//! audited reveal of full ID and phone numbers.

use super::history::describe_changes;
use super::scoped_household;
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, NoFields};
use crate::pages::divisions::{Crumb, crumbs};
use crate::pages::{Chrome, render, yuan};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use zhenxing_core::checks::check_household;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::mask::{mask_id_number, mask_phone};
use zhenxing_core::{
    Action, DivisionCode, Education, Fen, HealthCondition, HouseholdType, Labor,
    MonitoringCategory, Relation, SchoolStatus,
};
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
    village_group: String,
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
    monitoring: Option<crate::pages::timeline::MonitoringBlock>,
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

/// Shows the household with full ID and phone numbers, for roles that need them; every reveal
/// is an audited operation.
pub async fn reveal(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::RevealPersonalNumbers)?;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    let revealed = zhenxing_store::audit::Revealed {
        object_type: "household",
        object_id: record.household_no.clone(),
        county_code: record.county_code().to_owned(),
        division_code: record.division_code.clone(),
        reason: None,
    };
    zhenxing_store::audit::record_reveal(&state.db, &account.name, revealed).await?;
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
            at: zhenxing_core::china_time::china_time_text(&h.at),
            actor: h.actor,
            action: c.t(match h.action.as_str() {
                "create" => "history-create",
                "update" => "history-update",
                _ => "history-change",
            }),
            reason: h.reason.unwrap_or_default(),
            changes: describe_changes(&c.tr, h.before_data.as_deref(), h.after_data.as_deref()),
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
        village_group: record.village_group.clone().unwrap_or_default(),
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
        monitoring: crate::pages::timeline::monitoring_block(
            state,
            account,
            &c,
            lang,
            &record.household_no,
        )
        .await?,
        c,
    };
    Ok(render(&page))
}
