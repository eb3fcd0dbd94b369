//! The household page: members, incomes (this year's items, and the completed years of
//! `household_incomes` when there are any), housing and water, findings, history; and the
//! audited reveal of full ID and phone numbers.

use super::history::describe_changes;
use super::scoped_household;
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
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

/// One year of the income-by-year table.
pub struct IncomeYearRow {
    pub year: String,
    pub per_capita: String,
    /// Change from the year before in percent, one decimal, signed; empty for the first year.
    pub change: String,
    /// A drop of 30 % or more (the built-in rule sets' `income_drop` percentage).
    pub drop: bool,
    pub dibao_members: String,
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
    income_years: Vec<IncomeYearRow>,
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
    CsrfForm(form): CsrfForm<crate::pages::reveal::PurposeForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::RevealPersonalNumbers)?;
    let (record, _) = scoped_household(&state, &viewer, &no).await?;
    let purpose = form.check().map_err(AppError::BadRequest)?;
    let revealed = zhenxing_store::audit::Revealed {
        object_type: "household",
        object_id: record.household_no.clone(),
        county_code: record.county_code().to_owned(),
        division_code: record.division_code.clone(),
        reason: Some(purpose),
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
    let years =
        zhenxing_store::incomes::of_household(&state.db, &account.scope(), &record.household_no)
            .await?;
    let income_years = income_year_rows(&c, &years, &record, today.year());
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
        income_years,
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

/// The change from `before` to `now` in percent with one decimal (`+8.5`, `-31.0`), rounded
/// half away from zero; `None` when `before` is not positive.
fn change_percent(before: Fen, now: Fen) -> Option<(String, bool)> {
    if before.0 <= 0 {
        return None;
    }
    let diff = i128::from(now.0) - i128::from(before.0);
    let den = i128::from(before.0);
    // Tenths of a percent.
    let tenths = (diff * 2_000 + den * diff.signum()) / (2 * den);
    let sign = if tenths > 0 {
        "+"
    } else if tenths < 0 {
        "-"
    } else {
        ""
    };
    let abs = tenths.unsigned_abs();
    Some((
        format!("{sign}{}.{}", abs / 10, abs % 10),
        diff * 10 <= -3 * den,
    ))
}

/// The completed years, oldest first, then this year's figure from the income items when the
/// last completed year is the year before: the comparison the screening rule `income_drop`
/// makes. Empty when no year is recorded.
fn income_year_rows(
    c: &Chrome,
    years: &[zhenxing_core::history::YearIncome],
    record: &zhenxing_store::HouseholdRecord,
    this_year: i32,
) -> Vec<IncomeYearRow> {
    if years.is_empty() {
        return Vec::new();
    }
    let mut rows = Vec::with_capacity(years.len() + 1);
    let mut before: Option<(i32, Fen)> = None;
    let change = |before: Option<(i32, Fen)>, year: i32, now: Fen| {
        before
            .filter(|(y, _)| *y == year - 1)
            .and_then(|(_, b)| change_percent(b, now))
            .unwrap_or_default()
    };
    for y in years {
        let (change, drop) = change(before, y.year, y.per_capita_net);
        rows.push(IncomeYearRow {
            year: y.year.to_string(),
            per_capita: yuan(y.per_capita_net.0),
            change,
            drop,
            dibao_members: y.dibao_members.to_string(),
        });
        before = Some((y.year, y.per_capita_net));
    }
    if before.is_some_and(|(y, _)| y == this_year - 1) {
        let now = Fen(record.per_capita_net_income());
        let (change, drop) = change(before, this_year, now);
        let dibao = record
            .members
            .iter()
            .filter(|m| m.dibao == Some(true))
            .count();
        rows.push(IncomeYearRow {
            year: format!("{this_year} {}", c.t("income-years-current")),
            per_capita: yuan(now.0),
            change,
            drop,
            dibao_members: dibao.to_string(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::change_percent;
    use zhenxing_core::Fen;

    #[test]
    fn changes_are_in_tenths_of_a_percent() {
        let p = |a: i64, b: i64| change_percent(Fen::from_yuan(a), Fen::from_yuan(b));
        assert_eq!(p(10_000, 5_000), Some(("-50.0".into(), true)));
        assert_eq!(p(10_000, 7_000), Some(("-30.0".into(), true)));
        assert_eq!(p(10_000, 7_010), Some(("-29.9".into(), false)));
        // Rounded for display, flagged by the exact figures.
        assert_eq!(p(10_000, 7_001), Some(("-30.0".into(), false)));
        assert_eq!(p(10_000, 10_850), Some(("+8.5".into(), false)));
        assert_eq!(p(3, 4), Some(("+33.3".into(), false)));
        assert_eq!(p(3, 5), Some(("+66.7".into(), false)));
        assert_eq!(p(10_000, 10_000), Some(("0.0".into(), false)));
        assert_eq!(p(0, 5_000), None);
    }
}
