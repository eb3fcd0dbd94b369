//! Home, announcements, notices, privacy, contact and the cookie notice.

use super::*;

pub struct ItemLine {
    pub id: i64,
    pub title: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
pub(super) struct HomePage {
    p: Public,
    announcements: Vec<ItemLine>,
    policies: Vec<ItemLine>,
}

pub async fn home(State(state): State<AppState>, visit: Visit) -> AppResult<Response> {
    let p = visit.frame(&state, "portal-title", "/portal");
    let lang = p.c.tr.lang;
    let mut announcements = Vec::new();
    let mut policies = Vec::new();
    for a in portal::published(&state.db, today_in_china()).await? {
        let line = ItemLine {
            id: a.id,
            title: a.title(lang).to_owned(),
            date: a.publish_on.clone().unwrap_or_default(),
        };
        match AnnouncementKind::from_code(&a.kind) {
            Some(AnnouncementKind::Policy) => policies.push(line),
            _ => announcements.push(line),
        }
    }
    let page = HomePage {
        p,
        announcements,
        policies,
    };
    Ok(page.p.show(&page, false))
}

#[derive(Template)]
#[template(path = "portal_announcement.html")]
pub(super) struct AnnouncementPage {
    p: Public,
    title: String,
    kind: String,
    date: String,
    paragraphs: Vec<String>,
    untranslated: bool,
}

pub async fn announcement(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let a = portal::announcement(&state.db, id)
        .await?
        .filter(|a| a.is_public(today_in_china()))
        .ok_or(AppError::NotFound)?;
    let here = format!("/portal/announcements/{id}");
    let mut p = visit.frame(&state, "portal-title", &here);
    let lang = p.c.tr.lang;
    p.c.title = a.title(lang).to_owned();
    let page = AnnouncementPage {
        title: a.title(lang).to_owned(),
        kind: AnnouncementKind::from_code(&a.kind)
            .map(|k| k.label(lang).to_owned())
            .unwrap_or_default(),
        date: a.publish_on.clone().unwrap_or_default(),
        paragraphs: paragraphs(a.body(lang)),
        untranslated: lang == Lang::En && a.body_en.is_empty(),
        p,
    };
    Ok(page.p.show(&page, false))
}

/// A text's paragraphs (blank lines between them), shown as text: the template escapes them.
pub fn paragraphs(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Template)]
#[template(path = "portal_notices.html")]
pub(super) struct NoticesPage {
    p: Public,
    place: Place,
}

pub async fn notices(
    State(state): State<AppState>,
    visit: Visit,
    Params(q): Params<PlaceQuery>,
) -> AppResult<Response> {
    let mut p = visit.frame(&state, "portal-notices-title", "");
    let place = place(&state, &q, p.c.tr.lang).await?;
    p.here = format!("/portal/notices?{}", place_query(&place));
    let page = NoticesPage { p, place };
    Ok(page.p.show(&page, false))
}

#[derive(Template)]
#[template(path = "portal_text.html")]
pub(super) struct TextPage {
    p: Public,
    heading: String,
    /// Message keys of the paragraphs.
    keys: Vec<&'static str>,
}

pub(super) const PRIVACY_KEYS: &[&str] = &[
    "portal-privacy-who",
    "portal-privacy-what",
    "portal-privacy-why",
    "portal-privacy-who-sees",
    "portal-privacy-keep",
    "portal-privacy-cookies",
    "portal-privacy-rights",
];

pub(super) const CONTACT_KEYS: &[&str] = &[
    "portal-contact-line",
    "portal-contact-address",
    "portal-contact-hours",
    "portal-contact-village",
];

pub(super) fn text_page(
    state: &AppState,
    visit: &Visit,
    (title_key, here, keys): (&str, &str, &[&'static str]),
) -> Response {
    let p = visit.frame(state, title_key, here);
    let page = TextPage {
        heading: p.c.title.clone(),
        keys: keys.to_vec(),
        p,
    };
    page.p.show(&page, false)
}

pub async fn privacy(State(state): State<AppState>, visit: Visit) -> Response {
    let what = ("portal-privacy-title", "/portal/privacy", PRIVACY_KEYS);
    text_page(&state, &visit, what)
}

pub async fn contact(State(state): State<AppState>, visit: Visit) -> Response {
    let what = ("portal-contact-title", "/portal/contact", CONTACT_KEYS);
    text_page(&state, &visit, what)
}

#[derive(Deserialize)]
pub struct CookieForm {
    csrf: String,
    back: Option<String>,
}

/// "I agree" on the cookie notice: remembered for a year in a cookie of its own.
pub async fn agree_cookies(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CookieForm>,
) -> AppResult<Response> {
    check_portal_csrf(&headers, &form.csrf)?;
    // Only local portal paths: an open redirect would let a link send people elsewhere.
    let back = form
        .back
        .filter(|b| b.starts_with("/portal") && !b.contains("//"))
        .map_or_else(
            || "/portal".to_owned(),
            |b| crate::pages::local_or(Some(&b), "/portal"),
        );
    Ok(with_cookies(
        Redirect::to(&back).into_response(),
        vec![cookie(
            &state,
            COOKIE_NOTICE_COOKIE,
            "agreed",
            Some(31_536_000),
        )],
    ))
}
