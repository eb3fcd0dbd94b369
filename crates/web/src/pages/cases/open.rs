//! Opening a case from a lead on a household.

use super::*;

#[derive(Template)]
#[template(path = "case_open.html")]
pub(super) struct OpenPage {
    c: Chrome,
    no: String,
    head_name: String,
    kinds: Vec<Choice>,
    channels: Vec<Choice>,
    emergencies: Vec<Choice>,
    warning: String,
    found_on: String,
    today: String,
    note: String,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct OpenParams {
    kind: Option<String>,
    warning: Option<String>,
}

/// The form that opens a case (also what the page shows again when it is refused).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OpenInput {
    #[serde(deserialize_with = "trimmed")]
    kind: String,
    #[serde(deserialize_with = "trimmed")]
    channel: String,
    #[serde(deserialize_with = "trimmed")]
    emergency: String,
    #[serde(deserialize_with = "trimmed")]
    warning: String,
    #[serde(deserialize_with = "trimmed")]
    found_on: String,
    #[serde(deserialize_with = "trimmed")]
    note: String,
}

pub(super) async fn open_page(
    state: &AppState,
    viewer: &Viewer,
    no: &str,
    input: OpenInput,
    errors: Vec<String>,
) -> AppResult<Response> {
    viewer.may(Action::WorkCases)?;
    let lang = viewer.lang;
    let (record, _) = scoped_household(state, viewer, no).await?;
    let head_name = record.head_name().unwrap_or_default().to_owned();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = format!("{} {}", c.t("case-open-title"), record.household_no);
    let today = today_in_china().to_string();
    let page = OpenPage {
        kinds: choices(CaseKind::ALL, CaseKind::code, CaseKind::label, lang, |k| {
            k.code() == input.kind
        }),
        channels: choices(
            WarningChannel::ALL,
            WarningChannel::code,
            WarningChannel::label,
            lang,
            |ch| ch.code() == input.channel,
        ),
        emergencies: choices(
            EmergencyCause::ALL,
            EmergencyCause::code,
            EmergencyCause::label,
            lang,
            |e| e.code() == input.emergency,
        ),
        warning: input.warning,
        found_on: if input.found_on.is_empty() {
            today.clone()
        } else {
            input.found_on
        },
        today,
        note: input.note,
        errors,
        no: record.household_no,
        head_name,
        c,
    };
    Ok(render_form(&page, !page.errors.is_empty()))
}

pub async fn open_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    Params(params): Params<OpenParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WorkCases)?;
    let mut input = OpenInput {
        kind: blank(&params.kind).unwrap_or("identification").to_owned(),
        channel: "visit".to_owned(),
        emergency: String::new(),
        warning: String::new(),
        found_on: String::new(),
        note: String::new(),
    };
    // A lead from a verified warning: its channel, and the day it was raised.
    if let Some(w) = blank(&params.warning).and_then(|w| w.parse::<i64>().ok())
        && let Some(w) = zhenxing_store::warnings::warning(&state.db, &account.scope(), w).await?
        && w.household_no == no
    {
        input.warning = w.id.to_string();
        input.channel = WarningChannel::of_source(&w.source)
            .map(|c| c.code().to_owned())
            .unwrap_or_default();
        input.found_on = china_day(&w.opened_at)
            .map(|d| d.to_string())
            .unwrap_or_default();
    }
    open_page(&state, &viewer, &no, input, Vec::new()).await
}

pub async fn open_submit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(no): Path<String>,
    CsrfForm(input): CsrfForm<OpenInput>,
) -> AppResult<Response> {
    let account = viewer.may(Action::WorkCases)?;
    let lang = viewer.lang;
    let mut errors = Vec::new();
    let kind = CaseKind::from_code(&input.kind);
    if kind.is_none() {
        errors.push(Text::new("请选择程序", "choose the procedure"));
    }
    let channel = match input.channel.as_str() {
        "" => None,
        code => WarningChannel::from_code(code),
    };
    let emergency = match input.emergency.as_str() {
        "" => None,
        code => EmergencyCause::from_code(code),
    };
    let warning_id = match input.warning.as_str() {
        "" => None,
        w => match w.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                errors.push(Text::new("预警编号有误", "the warning number is not valid"));
                None
            }
        },
    };
    let found_on = parse_date(&input.found_on);
    if found_on.is_none() {
        errors.push(Text::new(
            "请填写发现线索的日期（年-月-日）",
            "give the day the lead was found (year-month-day)",
        ));
    }
    let (Some(kind), Some(found_on), true) = (kind, found_on, errors.is_empty()) else {
        let errors = errors.iter().map(|e| e.get(lang).to_owned()).collect();
        return open_page(&state, &viewer, &no, input, errors).await;
    };
    let request = OpenRequest {
        household_no: no.clone(),
        kind,
        channel: if kind == CaseKind::Identification {
            channel
        } else {
            None
        },
        warning_id,
        found_on,
        emergency: emergency.filter(|_| kind == CaseKind::Identification),
        note: input.note.clone(),
    };
    let policy = procedures::policy(&state.db).await?;
    match procedures::open_case(&state.db, account, &request, &policy)
        .await?
        .or_refused()?
    {
        Ok(id) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(why) => open_page(&state, &viewer, &no, input, vec![why.get(lang).to_owned()]).await,
    }
}
