//! The procedures' time-limit settings.

use super::*;
use fluent_bundle::FluentValue;

#[derive(Template)]
#[template(path = "procedure_settings.html")]
pub(super) struct SettingsPage {
    c: Chrome,
    limit_days: String,
    working: bool,
    notice_days: String,
    near_days: String,
    errors: Vec<String>,
    saved: bool,
    /// Which years' holiday notices working days follow, and the years about to be counted
    /// without one.
    holidays: String,
    holidays_missing: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct SettingsParams {
    saved: Option<String>,
}

pub(super) async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    p: (&str, bool, &str, &str),
    errors: Vec<String>,
    saved: bool,
) -> AppResult<Response> {
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("settings-procedures-title");
    let calendar = state.db.work_calendar().await?;
    let tr = &c.tr;
    let years: Vec<String> = calendar.years().map(|y| y.to_string()).collect();
    let holidays = tr.t_args(
        "settings-holidays",
        &[("years", FluentValue::from(years.join(", ")))],
    );
    // A year's notice comes out in the autumn before it: from November the next year is due.
    let today = today_in_china();
    let due = if u8::from(today.month()) >= 11 {
        vec![today.year(), today.year() + 1]
    } else {
        vec![today.year()]
    };
    let holidays_missing = due
        .into_iter()
        .filter(|y| !calendar.knows_year(*y))
        .map(|y| {
            tr.t_args(
                "settings-holidays-missing",
                &[("year", FluentValue::from(y.to_string()))],
            )
        })
        .collect();
    let page = SettingsPage {
        limit_days: p.0.to_owned(),
        working: p.1,
        notice_days: p.2.to_owned(),
        near_days: p.3.to_owned(),
        errors,
        saved,
        holidays,
        holidays_missing,
        c,
    };
    Ok(render_form(&page, !page.errors.is_empty()))
}

pub async fn settings_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<SettingsParams>,
) -> AppResult<Response> {
    viewer.may(Action::ManageSettings)?;
    let p = procedures::policy(&state.db).await?;
    settings_page(
        &state,
        &viewer,
        (
            &p.limit_days.to_string(),
            p.counting == DayCounting::Working,
            &p.notice_days.to_string(),
            &p.near_days.to_string(),
        ),
        Vec::new(),
        blank(&params.saved).is_some(),
    )
    .await
}

/// The time limits, in days, and how days are counted (`counting=working`: working days).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LimitsForm {
    #[serde(deserialize_with = "trimmed")]
    limit_days: String,
    #[serde(deserialize_with = "trimmed")]
    notice_days: String,
    #[serde(deserialize_with = "trimmed")]
    near_days: String,
    #[serde(deserialize_with = "trimmed")]
    counting: String,
}

pub async fn settings_save(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(f): CsrfForm<LimitsForm>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ManageSettings)?;
    let lang = viewer.lang;
    let (limit, notice, near) = (f.limit_days, f.notice_days, f.near_days);
    let working = f.counting == "working";
    let parsed = (
        whole_days(&limit, ("办理时限", "the time limit")),
        whole_days(&notice, ("公示期", "the notice period")),
        whole_days(&near, ("临期提醒", "the warning before the limit")),
    );
    let problems = match parsed {
        (Ok(limit_days), Ok(notice_days), Ok(near_days)) => {
            let new = ProcedurePolicy {
                limit_days,
                counting: if working {
                    DayCounting::Working
                } else {
                    DayCounting::Calendar
                },
                notice_days,
                near_days,
                ..ProcedurePolicy::default()
            };
            match procedures::set_policy(&state.db, &account.name, &new).await? {
                Ok(()) => return Ok(saved_redirect("/settings/procedures")),
                Err(problems) => problems,
            }
        }
        (a, b, c) => [a.err(), b.err(), c.err()].into_iter().flatten().collect(),
    };
    settings_page(
        &state,
        &viewer,
        (&limit, working, &notice, &near),
        problems.iter().map(|p| p.get(lang).to_owned()).collect(),
        false,
    )
    .await
}
