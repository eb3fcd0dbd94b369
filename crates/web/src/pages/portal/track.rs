//! Tracking a declaration or a ticket by its number.

use super::*;

#[derive(Template)]
#[template(path = "portal_track.html")]
pub(super) struct TrackPage {
    p: Public,
    /// Nothing found for the code given (malformed and unknown alike).
    not_found: bool,
    result: Option<TrackResult>,
}

/// What the tracking page shows: never the ID number, the phone number or the text the
/// requester wrote (only its subject), and nothing about who handles it.
pub struct TrackResult {
    pub what: String,
    pub submitted: String,
    pub place: String,
    pub status: String,
    pub explanation: String,
    pub due_on: Option<String>,
    pub overdue: bool,
    pub subject: Option<String>,
    pub answer: Vec<String>,
    pub answered_at: Option<String>,
}

pub async fn track_form(State(state): State<AppState>, visit: Visit) -> AppResult<Response> {
    let p = visit.frame(&state, "portal-track-title", "/portal/track");
    let page = TrackPage {
        p,
        not_found: false,
        result: None,
    };
    Ok(page.p.show(&page, false))
}

pub(super) async fn place_name(state: &AppState, code: &str, lang: Lang) -> AppResult<String> {
    let Ok(code) = DivisionCode::parse(code) else {
        return Ok(String::new());
    };
    let path = state.db.division_path(&code).await?;
    let names: Vec<&str> = path
        .iter()
        .filter(|d| d.level != "province")
        .map(|d| {
            if lang == Lang::Zh {
                d.name_zh.as_str()
            } else {
                d.name_en.as_str()
            }
        })
        .collect();
    Ok(names.join(if lang == Lang::Zh { "" } else { ", " }))
}

pub async fn track(
    State(state): State<AppState>,
    visit: Visit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Fields(pairs);
    check_portal_csrf(&visit.headers, &f.one("csrf"))?;
    if !state.tracking_limiter.allow(&visit.viewer.client) {
        return Err(AppError::TooManyRequests(Text::new(
            "此网络地址查询过于频繁，请过一段时间再查。",
            "Too many look-ups from this network address; please try again later.",
        )));
    }
    let p = visit.frame(&state, "portal-track-title", "/portal/track");
    let lang = p.c.tr.lang;
    let code = f.one("code");
    let today = today_in_china();
    let found = if code.chars().count() > 64 {
        None
    } else {
        portal::track(&state.db, &code).await?
    };
    let result = match found {
        None => None,
        Some(Tracked::Declaration {
            submitted_at,
            division_code,
            status,
            due_on,
        }) => Some(TrackResult {
            what: p.c.t("portal-track-declaration"),
            submitted: china_day_text(&submitted_at),
            place: place_name(&state, &division_code, lang).await?,
            status: p
                .c
                .t(&format!("portal-declaration-status-{}", status.code())),
            explanation: p
                .c
                .t(&format!("portal-declaration-explain-{}", status.code())),
            overdue: due_on
                .as_deref()
                .is_some_and(|d| d < today.to_string().as_str()),
            due_on,
            subject: None,
            answer: Vec::new(),
            answered_at: None,
        }),
        Some(Tracked::Ticket(t)) => {
            let status = t.status();
            Some(TrackResult {
                what: TicketKind::from_code(&t.kind)
                    .map(|k| k.label(lang).to_owned())
                    .unwrap_or_default(),
                submitted: china_day_text(&t.created_at),
                place: place_name(&state, &t.division_code, lang).await?,
                status: status.map(|s| s.label(lang).to_owned()).unwrap_or_default(),
                explanation: String::new(),
                due_on: Some(t.due_on.clone()),
                overdue: t.is_overdue(today),
                subject: Some(t.subject.clone()),
                answer: t.answer.as_deref().map(paragraphs).unwrap_or_default(),
                answered_at: t.answered_at.as_deref().map(china_day_text),
            })
        }
    };
    let not_found = result.is_none();
    let page = TrackPage {
        p,
        not_found,
        result,
    };
    Ok(page.p.show(&page, not_found))
}
