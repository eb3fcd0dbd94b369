//! The inbox: the cases of the viewer's division, the most urgent first, and the notifications.

use super::*;
use crate::pages::place_names::{PlaceChoice, chosen_place, place_choices};
use zhenxing_core::Scope;
use zhenxing_store::accounts::Account;

#[derive(Deserialize, Default)]
pub struct InboxParams {
    filter: Option<String>,
    kind: Option<String>,
    /// A division below the account's own, chosen by name.
    village: Option<String>,
    page: Option<String>,
}

pub(super) struct Line {
    id: i64,
    household_no: String,
    head_name: String,
    division_code: String,
    /// The village and its township, in words.
    place: String,
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
    /// The total over all pages and the export links.
    head: ListHead,
    notifications: Vec<NotificationLine>,
    limit_days: i64,
    next: Option<String>,
    previous: Option<String>,
    /// YYYY-MM: the national file's default month.
    this_month: String,
    /// The place filter: the chosen code and the choices by name.
    village: String,
    places: Vec<PlaceChoice>,
}

pub(super) fn line(
    r: CaseListRow,
    lang: Lang,
    today: Date,
    policy: &ProcedurePolicy,
    places: &Places,
) -> Line {
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
        place: places.label(&c.division_code),
        division_code: c.division_code,
    }
}

/// The inbox's filters as its query gives them, checked; the same for the page and its export.
struct InboxFilter {
    filter_code: String,
    kind_code: String,
    page: i64,
    /// The chosen place's code, or empty.
    village: String,
    /// The account's division, or the chosen place within it.
    scope: Scope,
    query: CaseInboxQuery,
}

fn inbox_filter(params: &InboxParams, account: &Account) -> AppResult<InboxFilter> {
    let role = account.role;
    let filter_code = blank(&params.filter).unwrap_or("open");
    let filter = CaseFilter::from_code(filter_code, role).ok_or_else(|| {
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
    let page = page_number(&params.page)?;
    let place = chosen_place(account, params.village.as_deref())?;
    Ok(InboxFilter {
        filter_code: filter_code.to_owned(),
        kind_code: kind_code.to_owned(),
        page,
        village: place.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        scope: place.map_or_else(|| account.scope(), Scope::new),
        query: CaseInboxQuery {
            filter,
            kind,
            offset: page * PAGE_SIZE,
            limit: PAGE_SIZE + 1,
        },
    })
}

pub async fn inbox(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<InboxParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let InboxFilter {
        filter_code,
        kind_code,
        page,
        village,
        scope,
        query,
    } = inbox_filter(&params, account)?;
    let policy = procedures::policy(&state.db).await?;
    let mut rows = procedures::inbox(&state.db, &scope, &query, today, &policy).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let total =
        procedures::inbox_total(&state.db, &scope, query.filter, query.kind, today, &policy)
            .await?;
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
    let places = Places::of(
        &state,
        lang,
        rows.iter().map(|r| r.case.division_code.as_str()),
    )
    .await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("cases-title");
    let tab = |code: &'static str, count: Option<i64>| Tab {
        code,
        label: c.t(&format!("cases-tab-{code}")),
        count,
        current: code == filter_code,
    };
    let mut tabs = Vec::new();
    // The work of the viewer's own level first, for the roles that take steps.
    if account.may(Action::WorkCases) {
        let waiting = CaseFilter::WaitingFor(account.role);
        for (code, filter) in [("waiting", waiting), ("notice_due", CaseFilter::NoticeDue)] {
            let n =
                procedures::inbox_total(&state.db, &scope, filter, None, today, &policy).await?;
            tabs.push(tab(code, Some(n)));
        }
    }
    tabs.extend([
        tab("open", Some(counts.open)),
        tab("urgent", Some(counts.urgent)),
        tab("overdue", Some(counts.overdue)),
        tab("closed", None),
        tab("unrecorded", Some(counts.unrecorded)),
    ]);
    let link = |p: i64| {
        let p = p.to_string();
        format!(
            "/cases?{}",
            query_string(&[
                ("filter", &filter_code),
                ("kind", &kind_code),
                ("village", &village),
                ("page", &p),
            ])
        )
    };
    let page_html = InboxPage {
        tabs,
        kinds: CaseKind::ALL
            .iter()
            .map(|k| (k.code(), k.label(lang).to_owned()))
            .collect(),
        lines: rows
            .into_iter()
            .map(|r| line(r, lang, today, &policy, &places))
            .collect(),
        head: ListHead::new(
            &c,
            "list-total-cases",
            total,
            "/cases",
            viewer.may(Action::ExportRegistry).is_ok().then(|| {
                query_string(&[
                    ("filter", &filter_code),
                    ("kind", &kind_code),
                    ("village", &village),
                ])
            }),
        ),
        notifications,
        limit_days: policy.limit_days,
        next: more.then(|| link(page + 1)),
        previous: (page > 0).then(|| link(page - 1)),
        this_month: Month::of(today).to_string(),
        places: place_choices(&state, lang, account).await?,
        village,
        filter: filter_code,
        kind: kind_code,
        c,
    };
    Ok(render(&page_html))
}

/// Cases written per page of an export.
const EXPORT_PAGE: i64 = 5_000;

/// Every case the inbox's tab and filters select (all pages), with the page's columns, the
/// village in words and whether the case is near or past its limit; audited as
/// `cases.export`. Needs `ReadCases` and `ExportRegistry` (the rows name households).
pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<InboxParams>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    viewer.may(Action::ReadCases)?;
    let account = viewer.may(Action::ExportRegistry)?;
    let lang = viewer.lang;
    let today = today_in_china();
    let filter = inbox_filter(&params, account)?;
    let policy = procedures::policy(&state.db).await?;
    let c = Chrome::new(&state, &viewer, String::new());
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        ColumnSpec::number(c.t("cases-col-id")),
        text("cases-col-household"),
        text("cases-col-head"),
        text("cases-col-village"),
        text("cases-col-kind"),
        text("cases-col-stage"),
        text("cases-col-urgency"),
        text("cases-col-opened"),
        text("cases-col-due"),
        ColumnSpec::number(c.t("cases-col-elapsed")),
    ];
    let mut file = ListFile::create("cases", format, &columns)?;
    let scope = filter.scope;
    let mut query = filter.query;
    query.offset = 0;
    query.limit = EXPORT_PAGE;
    loop {
        let rows = procedures::inbox(&state.db, &scope, &query, today, &policy).await?;
        let count = rows.len() as i64;
        let places = Places::of(
            &state,
            lang,
            rows.iter().map(|r| r.case.division_code.as_str()),
        )
        .await?;
        let lines = rows
            .into_iter()
            .map(|r| {
                let emergency = r.case.emergency.is_some();
                let l = line(r, lang, today, &policy, &places);
                let mut kind = l.kind;
                if emergency {
                    kind = format!("{kind}（{}）", c.t("cases-emergency-badge"));
                }
                let urgency = match l.urgency {
                    "overdue" => c.t("cases-overdue"),
                    "near" => c.t("cases-near"),
                    _ => String::new(),
                };
                vec![
                    l.id.to_string(),
                    l.household_no,
                    l.head_name,
                    l.place,
                    kind,
                    l.stage,
                    urgency,
                    l.opened_on,
                    l.due_on,
                    l.elapsed,
                ]
            })
            .collect();
        file.write(lines).await?;
        if count < EXPORT_PAGE {
            break;
        }
        query.offset += EXPORT_PAGE;
    }
    let record = ExportRecord {
        action: "cases.export",
        division: account.division,
        filters: serde_json::json!({
            "filter": filter.filter_code,
            "kind": filter.kind_code,
            "village": filter.village,
        }),
    };
    file.send(&state, &viewer, record).await
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
