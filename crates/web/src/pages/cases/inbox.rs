//! The inbox: the cases of the viewer's division, the most urgent first, and the notifications.

use super::*;

#[derive(Deserialize, Default)]
pub struct InboxParams {
    filter: Option<String>,
    kind: Option<String>,
}

pub(super) struct Line {
    id: i64,
    household_no: String,
    head_name: String,
    division_code: String,
    kind: String,
    stage: String,
    emergency: bool,
    opened_on: String,
    due_on: String,
    /// Days since the lead, of the limit ("day 13 of 15").
    elapsed: String,
    urgency: &'static str,
}

pub(super) struct Tab {
    code: &'static str,
    label: String,
    count: Option<i64>,
    current: bool,
}

pub(super) struct NotificationLine {
    id: i64,
    case_id: i64,
    message: String,
    at: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
pub(super) struct InboxPage {
    c: Chrome,
    tabs: Vec<Tab>,
    filter: String,
    kinds: Vec<(&'static str, String)>,
    kind: String,
    lines: Vec<Line>,
    notifications: Vec<NotificationLine>,
    limit_days: i64,
    truncated: bool,
    /// YYYY-MM: the national file's default month.
    this_month: String,
}

pub(super) fn line(r: CaseListRow, lang: Lang, today: Date, policy: &ProcedurePolicy) -> Line {
    let c = r.case;
    let urgency = c.urgency(today, policy);
    let elapsed = parse_date(&c.opened_on)
        .map(|opened| (today - opened).whole_days())
        .filter(|_| urgency != Urgency::NotTimed)
        .map(|d| d.to_string())
        .unwrap_or_default();
    Line {
        id: c.id,
        head_name: r.head_name.unwrap_or_default(),
        kind: label_of(Some(&c.kind), CaseKind::from_code, CaseKind::label, lang),
        stage: label_of(Some(&c.stage), Stage::from_code, Stage::label, lang),
        emergency: c.emergency.is_some(),
        opened_on: c.opened_on,
        due_on: c.due_on.unwrap_or_default(),
        elapsed,
        urgency: urgency_code(urgency),
        household_no: c.household_no,
        division_code: c.division_code,
    }
}

pub async fn inbox(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<InboxParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let filter_code = blank(&params.filter).unwrap_or("open");
    let filter = CaseFilter::from_code(filter_code).ok_or_else(|| {
        AppError::bad_request(
            format!("未知的筛选“{filter_code}”"),
            format!("unknown filter '{filter_code}'"),
        )
    })?;
    let kind_code = blank(&params.kind).unwrap_or("");
    let kind = match kind_code {
        "" => None,
        code => Some(CaseKind::from_code(code).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的程序“{code}”"),
                format!("unknown procedure '{code}'"),
            )
        })?),
    };
    let policy = procedures::policy(&state.db).await?;
    let scope = account.scope();
    let mut rows = procedures::inbox(
        &state.db,
        &scope,
        filter,
        kind,
        today,
        &policy,
        PAGE_SIZE + 1,
    )
    .await?;
    let truncated = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let counts = procedures::inbox_counts(&state.db, &scope, today, &policy).await?;
    let notifications = procedures::unread_notifications(&state.db, &scope)
        .await?
        .into_iter()
        .map(|n| NotificationLine {
            id: n.id,
            case_id: n.case_id,
            message: mask_free_text(if lang == Lang::Zh {
                &n.message_zh
            } else {
                &n.message_en
            }),
            at: china_day_text(&n.created_at),
        })
        .collect();
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("cases-title");
    let tab = |code: &'static str, count: Option<i64>| Tab {
        code,
        label: c.t(&format!("cases-tab-{code}")),
        count,
        current: code == filter_code,
    };
    let tabs = vec![
        tab("open", Some(counts.open)),
        tab("urgent", Some(counts.urgent)),
        tab("overdue", Some(counts.overdue)),
        tab("closed", None),
        tab("unrecorded", Some(counts.unrecorded)),
    ];
    let page = InboxPage {
        tabs,
        filter: filter_code.to_owned(),
        kinds: CaseKind::ALL
            .iter()
            .map(|k| (k.code(), k.label(lang).to_owned()))
            .collect(),
        kind: kind_code.to_owned(),
        lines: rows
            .into_iter()
            .map(|r| line(r, lang, today, &policy))
            .collect(),
        notifications,
        limit_days: policy.limit_days,
        truncated,
        this_month: Month::of(today).to_string(),
        c,
    };
    Ok(render(&page))
}

pub async fn read_notification(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let id = parse_id(&id)?;
    if !procedures::mark_read(&state.db, account, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/cases").into_response())
}
