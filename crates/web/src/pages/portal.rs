//! The public portal (issue 7): no account, Chinese by default with an English switch
//! (`?lang=en` on any page, kept in a cookie), plain forms without script.
//!
//! - `/portal`: announcements and policy documents; `/portal/announcements/{id}`.
//! - `/portal/notices`: the village notices, found county → township → village.
//! - `/portal/declare`: self-declaration; `/portal/ask`: a question, report, complaint or
//!   suggestion; `/portal/track`: follow either with the tracking code.
//! - `/portal/privacy`, `/portal/contact`; `POST /portal/cookies`: the cookie notice's "I agree".
//!
//! Forms without a session carry a double-submit token (`zx_portal_csrf`), as the sign-in form
//! does. Submissions are limited per client address (`AppState::portal_limiter`, and
//! `AppState::tracking_limiter` for tracking codes), carry a hidden honeypot field, and are
//! stored before the page says "received". The tracking code travels in a POST body, never in a
//! URL (URLs end up in logs, histories and shared screenshots).

use crate::AppState;
use crate::auth::{
    LANG_COOKIE, Viewer, constant_time_eq, cookie, cookies, lang_code, with_cookies,
};
use crate::error::{AppError, AppResult};
use crate::pages::Params;
use crate::pages::{Chrome, Fields, render_form};
use crate::upload::{UploadError, capped_bytes, skip, small_text};
use askama::Template;
use axum::Router;
use axum::extract::{
    DefaultBodyLimit, Form, FromRequest, FromRequestParts, Multipart, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use zhenxing_core::assistance::FieldError;
use zhenxing_core::china_time::{china_day_text, today_in_china};
use zhenxing_core::portal::{
    AnnouncementKind, DeclarationEvent, DeclarationForm, MAX_TICKET_FILES, TicketCategory,
    TicketForm, TicketKind,
};
use zhenxing_core::{DivisionCode, DivisionLevel, Lang, Text, text};
use zhenxing_store::files::{self, AcceptedFile, MAX_FILE_BYTES};
use zhenxing_store::portal::{self, Submitted, Tracked};

/// The double-submit token of the portal's forms.
pub const PORTAL_CSRF_COOKIE: &str = "zx_portal_csrf";
/// Set when the visitor agreed to the cookie notice (hides the notice).
pub const COOKIE_NOTICE_COOKIE: &str = "zx_cookies";
/// The honeypot: a field hidden from people by the stylesheet, which simple bots fill in.
pub const HONEYPOT_FIELD: &str = "website";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/announcements/{id}", get(announcement))
        .route("/portal/notices", get(notices))
        .route("/portal/privacy", get(privacy))
        .route("/portal/contact", get(contact))
        .route("/portal/cookies", post(agree_cookies))
        .route("/portal/declare", get(declare_form).post(declare))
        .route(
            "/portal/ask",
            get(ask_form)
                .post(ask)
                .layer(DefaultBodyLimit::max(ASK_BODY_LIMIT)),
        )
        .route("/portal/track", get(track_form).post(track))
}

/// What every portal page needs besides its content: the chrome, the form token, whether the
/// cookie notice still shows, and the cookies to set.
pub struct Public {
    pub c: Chrome,
    pub csrf: String,
    pub show_cookie_notice: bool,
    /// The current page's path, for the language switch and the cookie notice's return.
    pub here: String,
    set_cookies: Vec<HeaderValue>,
}

impl Public {
    /// The page, with the cookies this request sets; `refused` answers 422 (a form shown again
    /// with its problems, or a tracking code that found nothing).
    fn show(&self, page: &impl Template, refused: bool) -> Response {
        with_cookies(render_form(page, refused), self.set_cookies.clone())
    }

    /// The English or Chinese link to the current page.
    pub fn other_lang_link(&self) -> String {
        let sep = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={}", self.here, self.c.other_lang())
    }
}

#[derive(Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

/// A request to the portal: who asks (an account or nobody), their cookies, and `?lang=`.
pub struct Visit {
    viewer: Viewer,
    headers: HeaderMap,
    lang: Option<String>,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> AppResult<Visit> {
        // The session layer puts a viewer on every request; without it the router is wrong.
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .ok_or(AppError::Internal)?;
        let lang = Query::<LangQuery>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|q| q.0.lang);
        Ok(Visit {
            viewer,
            headers: parts.headers.clone(),
            lang,
        })
    }
}

impl Visit {
    /// The frame of the page answering this visit (see [`public`]).
    fn frame(&self, state: &AppState, title_key: &str, here: &str) -> Public {
        public(state, self, title_key, here)
    }

    /// The checks every public submission passes before it is read: the form token, the
    /// honeypot, then the rate limit (last, so that a forged or bot request does not use up a
    /// person's allowance).
    fn admit(&self, state: &AppState, f: &Fields) -> AppResult<()> {
        check_portal_csrf(&self.headers, &f.one("csrf"))?;
        if !f.one(HONEYPOT_FIELD).is_empty() {
            tracing::info!("portal submission refused by the honeypot");
            return Err(AppError::bad_request(
                "提交未被接受。如果您是人工填写，请清空“网址”一栏后重新提交。",
                "The submission was not accepted. If you filled the form in yourself, leave the 'website' field empty and submit again.",
            ));
        }
        if !state.portal_limiter.allow(&self.viewer.client) {
            return Err(too_many());
        }
        Ok(())
    }
}

/// The portal page's frame for this request: the language from `?lang=` (remembered in a
/// cookie), else the cookie, else Chinese, the public's default (not the browser's language:
/// the bureau publishes in Chinese first).
fn public(state: &AppState, visit: &Visit, title_key: &str, here: &str) -> Public {
    let (headers, lang) = (&visit.headers, visit.lang.as_deref());
    let jar = cookies(headers);
    let mut viewer = visit.viewer.clone();
    let mut set_cookies = Vec::new();
    if let Some(lang) = lang.and_then(Lang::parse) {
        viewer.lang = lang;
        set_cookies.push(cookie(
            state,
            LANG_COOKIE,
            lang_code(lang),
            Some(31_536_000),
        ));
    } else if viewer.account.is_none() && !jar.contains_key(LANG_COOKIE) {
        viewer.lang = Lang::Zh;
    }
    let csrf = match jar.get(PORTAL_CSRF_COOKIE).filter(|t| t.len() == 64) {
        Some(token) => token.clone(),
        None => {
            let token = zhenxing_store::credentials::random_token();
            set_cookies.push(cookie(state, PORTAL_CSRF_COOKIE, &token, Some(86_400)));
            token
        }
    };
    let mut c = Chrome::new(state, &viewer, String::new());
    c.title = c.t(title_key);
    Public {
        c,
        csrf,
        show_cookie_notice: !jar.contains_key(COOKIE_NOTICE_COOKIE),
        here: here.to_owned(),
        set_cookies,
    }
}

/// Refuses a portal form whose token is not the visitor's cookie.
fn check_portal_csrf(headers: &HeaderMap, submitted: &str) -> AppResult<()> {
    let jar = cookies(headers);
    match jar.get(PORTAL_CSRF_COOKIE) {
        Some(expected)
            if !expected.is_empty()
                && constant_time_eq(expected.as_bytes(), submitted.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(AppError::Csrf),
    }
}

/// The portal's reader of a form's fields (`pages::Fields`).
impl Fields {
    /// A checkbox: its value when ticked (present and not blank).
    fn ticked(&self, name: &str) -> Option<String> {
        Some(self.one(name)).filter(|v| !v.is_empty())
    }
}

fn too_many() -> AppError {
    AppError::TooManyRequests(Text::new(
        "此网络地址提交过于频繁。您的内容没有保存，请过一段时间再提交；急事请拨打联系页面上的电话。",
        "Too many submissions from this network address. Nothing was saved; please submit again later, or for urgent matters call the number on the contact page.",
    ))
}

// ---------------------------------------------------------------------------------------------
// The division chooser: county → township → village with GET forms, no script.

/// One choice of a select.
pub struct Opt {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// The state of a stepwise chooser: the options at each level and what is chosen so far.
pub struct Place {
    pub counties: Vec<Opt>,
    pub townships: Vec<Opt>,
    pub villages: Vec<Opt>,
    pub county: Option<DivisionCode>,
    pub township: Option<DivisionCode>,
    pub village: Option<DivisionCode>,
    /// The chosen names from the county down, joined.
    pub chosen: String,
}

impl Place {
    /// The deepest division chosen.
    pub fn deepest(&self) -> Option<DivisionCode> {
        self.village.or(self.township).or(self.county)
    }

    pub fn deepest_code(&self) -> String {
        self.deepest()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct PlaceQuery {
    county: Option<String>,
    township: Option<String>,
    village: Option<String>,
}

/// A code of the given level directly under `parent`; anything else is ignored (the chooser
/// starts over at that level).
fn level_code(
    input: &Option<String>,
    level: DivisionLevel,
    parent: &DivisionCode,
) -> Option<DivisionCode> {
    let code = DivisionCode::parse(input.as_deref()?.trim()).ok()?;
    (code.level() == level && code.parent() == Some(*parent)).then_some(code)
}

async fn options(
    state: &AppState,
    parent: &DivisionCode,
    chosen: Option<&DivisionCode>,
    lang: Lang,
) -> AppResult<Vec<Opt>> {
    Ok(state
        .db
        .child_divisions(parent)
        .await?
        .into_iter()
        .map(|c| Opt {
            selected: chosen.is_some_and(|d| d.as_str() == c.division.code),
            name: if lang == Lang::Zh {
                c.division.name_zh
            } else {
                c.division.name_en
            },
            code: c.division.code,
        })
        .collect())
}

/// One level of the chooser: the children of `parent` and the chosen one among them.
async fn level(
    state: &AppState,
    parent: Option<DivisionCode>,
    input: &Option<String>,
    level: DivisionLevel,
    lang: Lang,
) -> AppResult<(Vec<Opt>, Option<DivisionCode>)> {
    let Some(parent) = parent else {
        return Ok((Vec::new(), None));
    };
    let chosen = level_code(input, level, &parent);
    let opts = options(state, &parent, chosen.as_ref(), lang).await?;
    let chosen = chosen.filter(|c| opts.iter().any(|o| o.code == c.as_str()));
    Ok((opts, chosen))
}

async fn place(state: &AppState, q: &PlaceQuery, lang: Lang) -> AppResult<Place> {
    let municipality = DivisionCode::parse("500000000000").map_err(|_| AppError::Internal)?;
    let (counties, county) = level(
        state,
        Some(municipality),
        &q.county,
        DivisionLevel::County,
        lang,
    )
    .await?;
    let (townships, township) =
        level(state, county, &q.township, DivisionLevel::Township, lang).await?;
    let (villages, village) =
        level(state, township, &q.village, DivisionLevel::Village, lang).await?;
    let chosen: Vec<String> = [&counties, &townships, &villages]
        .iter()
        .filter_map(|opts| opts.iter().find(|o| o.selected).map(|o| o.name.clone()))
        .collect();
    Ok(Place {
        counties,
        townships,
        villages,
        county,
        township,
        village,
        chosen: chosen.join(" › "),
    })
}

/// The chooser as far as a submitted division code is valid (to show a refused form again).
async fn place_of(state: &AppState, code: &str, lang: Lang) -> AppResult<Place> {
    let division = DivisionCode::parse(code.trim()).ok();
    let at = |level: DivisionLevel| {
        let mut d = division?;
        while d.level() != level {
            d = d.parent()?;
        }
        Some(d.as_str().to_owned())
    };
    let q = PlaceQuery {
        county: at(DivisionLevel::County),
        township: at(DivisionLevel::Township),
        village: at(DivisionLevel::Village),
    };
    place(state, &q, lang).await
}

/// The query string of a chosen place (for links that keep it).
fn place_query(place: &Place) -> String {
    crate::pages::query_string(&[
        ("county", place.county.as_ref().map_or("", |c| c.as_str())),
        (
            "township",
            place.township.as_ref().map_or("", |c| c.as_str()),
        ),
        ("village", place.village.as_ref().map_or("", |c| c.as_str())),
    ])
}

// ---------------------------------------------------------------------------------------------
// Home, announcements, notices, privacy, contact

pub struct ItemLine {
    pub id: i64,
    pub title: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
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
struct AnnouncementPage {
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
struct NoticesPage {
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
struct TextPage {
    p: Public,
    heading: String,
    /// Message keys of the paragraphs.
    keys: Vec<&'static str>,
}

const PRIVACY_KEYS: &[&str] = &[
    "portal-privacy-who",
    "portal-privacy-what",
    "portal-privacy-why",
    "portal-privacy-who-sees",
    "portal-privacy-keep",
    "portal-privacy-cookies",
    "portal-privacy-rights",
];

const CONTACT_KEYS: &[&str] = &[
    "portal-contact-line",
    "portal-contact-address",
    "portal-contact-hours",
    "portal-contact-village",
];

fn text_page(
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
            |b| super::local_or(Some(&b), "/portal"),
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

// ---------------------------------------------------------------------------------------------
// Self-declaration

/// The refusal of a place the division table does not have (a form kept from before the table
/// was updated, or a forged code).
fn not_in_table(field: &'static str) -> Vec<FieldError> {
    vec![FieldError::new(
        field,
        Text::new(
            "所选的地区不在区划表中，请重新选择",
            "the chosen place is not in the list of divisions; please choose again",
        ),
    )]
}

/// A check box of the form, with its state.
pub struct Check {
    pub code: &'static str,
    pub label: String,
    pub checked: bool,
}

/// A refusal: the field's label and the reason, in the visitor's language.
pub struct Problem {
    pub field: &'static str,
    pub label: String,
    pub message: String,
}

/// Each refusal with its field's label (`portal-field-<name>`) and the reason.
fn problems(errors: Vec<FieldError>, c: &Chrome) -> Vec<Problem> {
    errors
        .into_iter()
        .map(|e| Problem {
            field: e.field,
            label: c.t(&format!("portal-field-{}", e.field)),
            message: e.message.get(c.tr.lang).to_owned(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "portal_declare.html")]
struct DeclarePage {
    p: Public,
    place: Place,
    form: DeclarationForm,
    events: Vec<Check>,
    problems: Vec<Problem>,
}

impl DeclarePage {
    fn has_problem(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }
}

fn event_checks(chosen: &[String], lang: Lang) -> Vec<Check> {
    DeclarationEvent::ALL
        .iter()
        .map(|e| Check {
            code: e.code(),
            label: e.label(lang).to_owned(),
            checked: chosen.iter().any(|c| c == e.code()),
        })
        .collect()
}

pub async fn declare_form(
    State(state): State<AppState>,
    visit: Visit,
    Params(q): Params<PlaceQuery>,
) -> AppResult<Response> {
    let mut p = visit.frame(&state, "portal-declare-title", "");
    let lang = p.c.tr.lang;
    let place = place(&state, &q, lang).await?;
    p.here = format!("/portal/declare?{}", place_query(&place));
    let page = DeclarePage {
        form: DeclarationForm {
            village: place.deepest_code(),
            ..DeclarationForm::default()
        },
        events: event_checks(&[], lang),
        problems: Vec::new(),
        place,
        p,
    };
    Ok(page.p.show(&page, false))
}

#[derive(Template)]
#[template(path = "portal_received.html")]
struct ReceivedPage {
    p: Public,
    heading: String,
    what_next: String,
    number: i64,
    tracking_code: String,
}

fn received(p: Public, heading_key: &str, next_key: &str, s: portal::Submitted) -> Response {
    let page = ReceivedPage {
        heading: p.c.t(heading_key),
        what_next: p.c.t(next_key),
        number: s.id,
        tracking_code: s.tracking_code,
        p,
    };
    page.p.show(&page, false)
}

/// A checked submission stored, or the problems to show on its form again; a place that is
/// not in the division table (`place_field`) is one of them.
async fn store_checked<T>(
    checked: Result<T, Vec<FieldError>>,
    place_field: &'static str,
    store: impl AsyncFnOnce(T) -> zhenxing_store::Result<Option<Submitted>>,
) -> AppResult<Result<Submitted, Vec<FieldError>>> {
    match checked {
        Err(errors) => Ok(Err(errors)),
        Ok(valid) => Ok(store(valid).await?.ok_or_else(|| not_in_table(place_field))),
    }
}

pub async fn declare(
    State(state): State<AppState>,
    visit: Visit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Fields(pairs);
    visit.admit(&state, &f)?;
    let p = visit.frame(&state, "portal-declare-title", "/portal/declare");
    let lang = p.c.tr.lang;
    let form = DeclarationForm {
        applicant: f.one("applicant"),
        id_number: f.one("id_number"),
        village: f.one("village"),
        phone: f.one("phone"),
        events: f.all("events"),
        account: f.one("account"),
        commitment: f.ticked("commitment"),
        authorisation: f.ticked("authorisation"),
        privacy: f.ticked("privacy"),
    };
    let today = today_in_china();
    let policy = portal::policy(&state.db).await?;
    let store = async |d| portal::declare(&state.db, &d, &policy, today).await;
    let errors = match store_checked(form.check(today), "village", store).await? {
        Ok(s) => {
            return Ok(received(
                p,
                "portal-declare-received",
                "portal-declare-next",
                s,
            ));
        }
        Err(errors) => errors,
    };
    // Keep what was typed, and the place as far as it is valid.
    let place = place_of(&state, &form.village, lang).await?;
    let page = DeclarePage {
        events: event_checks(&form.events, lang),
        problems: problems(errors, &p.c),
        place,
        form,
        p,
    };
    Ok(page.p.show(&page, true))
}

// ---------------------------------------------------------------------------------------------
// Questions, reports, complaints, suggestions

#[derive(Template)]
#[template(path = "portal_ask.html")]
struct AskPage {
    p: Public,
    place: Place,
    form: TicketForm,
    kinds: Vec<Check>,
    categories: Vec<Check>,
    problems: Vec<Problem>,
}

impl AskPage {
    fn has_problem(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }
}

fn choice_checks<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T, Lang) -> &'static str,
    chosen: &str,
    lang: Lang,
) -> Vec<Check> {
    all.iter()
        .map(|v| Check {
            code: code(*v),
            label: label(*v, lang).to_owned(),
            checked: code(*v) == chosen,
        })
        .collect()
}

fn ask_page(p: Public, place: Place, form: TicketForm, problems: Vec<Problem>) -> AskPage {
    let lang = p.c.tr.lang;
    AskPage {
        kinds: choice_checks(
            TicketKind::ALL,
            TicketKind::code,
            TicketKind::label,
            &form.kind,
            lang,
        ),
        categories: choice_checks(
            TicketCategory::ALL,
            TicketCategory::code,
            TicketCategory::label,
            &form.category,
            lang,
        ),
        p,
        place,
        form,
        problems,
    }
}

pub async fn ask_form(
    State(state): State<AppState>,
    visit: Visit,
    Params(q): Params<PlaceQuery>,
) -> AppResult<Response> {
    let mut p = visit.frame(&state, "portal-ask-title", "");
    let place = place(&state, &q, p.c.tr.lang).await?;
    p.here = format!("/portal/ask?{}", place_query(&place));
    let form = TicketForm {
        division: place.deepest_code(),
        ..TicketForm::default()
    };
    let page = ask_page(p, place, form, Vec::new());
    Ok(page.p.show(&page, false))
}

/// The most a ticket's form may carry: its text and [`MAX_TICKET_FILES`] files.
pub const ASK_BODY_LIMIT: usize = MAX_TICKET_FILES * MAX_FILE_BYTES + 1024 * 1024;

/// The longest text field of a multipart form (the longest field, the details, is 2,000
/// characters: 6,000 bytes of UTF-8).
const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;

fn bad_form(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request(
        format!("表单有误：{e}"),
        format!("the form is not valid: {e}"),
    )
}

/// A ticket's form as sent: its fields, the files accepted, and the refusal of each other file.
/// Without files it may come URL-encoded, within the server's ordinary body limit; the page's
/// form sends multipart, within [`ASK_BODY_LIMIT`].
async fn read_ticket_form(
    state: &AppState,
    request: Request,
) -> AppResult<(Fields, Vec<AcceptedFile>, Vec<FieldError>)> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(bad_form)?;
        return Ok((Fields(pairs), Vec::new(), Vec::new()));
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(bad_form)?;
    let (mut pairs, mut files, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    let mut sent = 0;
    let upload = UploadError::into_app_error;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| upload(e.into()))? {
        let name = field.name().unwrap_or("").to_owned();
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            let value = small_text(&mut field, MAX_TEXT_FIELD_BYTES)
                .await
                .map_err(upload)?;
            pairs.push((name, value));
            continue;
        };
        if name != "files" {
            skip(&mut field).await.map_err(upload)?;
            continue;
        }
        // One byte more than allowed tells a file that is too large from one that fits.
        let bytes = capped_bytes(&mut field, MAX_FILE_BYTES + 1)
            .await
            .map_err(upload)?;
        if file_name.is_empty() && bytes.is_empty() {
            continue; // the file input left empty
        }
        sent += 1;
        if sent > MAX_TICKET_FILES {
            if sent == MAX_TICKET_FILES + 1 {
                refused.push(FieldError::new(
                    "files",
                    text!(
                        "最多附{MAX_TICKET_FILES}个文件",
                        "at most {MAX_TICKET_FILES} files may be attached"
                    ),
                ));
            }
            continue;
        }
        match files::accept(&file_name, bytes) {
            Ok(file) => files.push(file),
            Err(why) => refused.push(FieldError::new("files", why)),
        }
    }
    Ok((Fields(pairs), files, refused))
}

pub async fn ask(
    State(state): State<AppState>,
    visit: Visit,
    request: Request,
) -> AppResult<Response> {
    let (f, files, refused_files) = read_ticket_form(&state, request).await?;
    visit.admit(&state, &f)?;
    let p = visit.frame(&state, "portal-ask-title", "/portal/ask");
    let lang = p.c.tr.lang;
    let form = TicketForm {
        kind: f.one("kind"),
        category: f.one("category"),
        division: f.one("division"),
        subject: f.one("subject"),
        body: f.one("body"),
        named: f.ticked("named"),
        requester: f.one("requester"),
        phone: f.one("phone"),
        names_person: f.ticked("names_person"),
        privacy: f.ticked("privacy"),
    };
    // Nothing is stored while any file is refused: the visitor chooses the files again.
    let checked = match form.check() {
        Ok(t) if refused_files.is_empty() => Ok(t),
        Ok(_) => Err(refused_files),
        Err(mut errors) => {
            errors.extend(refused_files);
            Err(errors)
        }
    };
    let today = today_in_china();
    let policy = portal::policy(&state.db).await?;
    let store = async |t| portal::submit_ticket(&state.db, &t, &files, &policy, today).await;
    let errors = match store_checked(checked, "division", store).await? {
        Ok(s) => return Ok(received(p, "portal-ask-received", "portal-ask-next", s)),
        Err(errors) => errors,
    };
    let place = place_of(&state, &form.division, lang).await?;
    let problems = problems(errors, &p.c);
    let page = ask_page(p, place, form, problems);
    Ok(page.p.show(&page, true))
}

// ---------------------------------------------------------------------------------------------
// Tracking

#[derive(Template)]
#[template(path = "portal_track.html")]
struct TrackPage {
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

async fn place_name(state: &AppState, code: &str, lang: Lang) -> AppResult<String> {
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
            due_on: None,
            overdue: false,
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
