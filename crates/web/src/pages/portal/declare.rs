//! Self-declaration: a household tells the bureau of a hardship.

use super::*;

/// The refusal of a place the division table does not have (a form kept from before the table
/// was updated, or a forged code).
pub(super) fn not_in_table(field: &'static str) -> Vec<FieldError> {
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
pub(super) fn problems(errors: Vec<FieldError>, c: &Chrome) -> Vec<Problem> {
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
pub(super) struct DeclarePage {
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

pub(super) fn event_checks(chosen: &[String], lang: Lang) -> Vec<Check> {
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
pub(super) struct ReceivedPage {
    p: Public,
    heading: String,
    what_next: String,
    number: i64,
    tracking_code: String,
    /// A declaration's code can be replaced when lost (`/portal/recover`); a ticket's cannot.
    recoverable: bool,
}

/// What was received: a declaration or a ticket.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Received {
    Declaration,
    Ticket,
}

pub(super) fn received(p: Public, what: Received, s: portal::Submitted) -> Response {
    let (heading_key, next_key) = match what {
        Received::Declaration => ("portal-declare-received", "portal-declare-next"),
        Received::Ticket => ("portal-ask-received", "portal-ask-next"),
    };
    let page = ReceivedPage {
        heading: p.c.t(heading_key),
        what_next: p.c.t(next_key),
        number: s.id,
        tracking_code: s.tracking_code,
        recoverable: what == Received::Declaration,
        p,
    };
    page.p.show(&page, false)
}

/// A checked submission stored, or the problems to show on its form again; a place that is
/// not in the division table (`place_field`) is one of them.
pub(super) async fn store_checked<T>(
    checked: Result<T, Vec<FieldError>>,
    place_field: &'static str,
    store: impl AsyncFnOnce(T) -> zhenxing_store::Result<Option<Submitted>>,
) -> AppResult<Result<Submitted, Vec<FieldError>>> {
    match checked {
        Err(errors) => Ok(Err(errors)),
        Ok(valid) => Ok(store(valid).await?.ok_or_else(|| not_in_table(place_field))),
    }
}

/// A self-declaration, with up to [`MAX_TICKET_FILES`] photos or scans (multipart from the
/// page's form; URL-encoded without files).
pub async fn declare(
    State(state): State<AppState>,
    visit: Visit,
    request: Request,
) -> AppResult<Response> {
    let (f, files, refused_files) = read_form_with_files(&state, request).await?;
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
    let checked = with_refused_files(form.check(today), refused_files);
    let store = async |d| portal::declare_with_files(&state.db, &d, &files, &policy, today).await;
    let errors = match store_checked(checked, "village", store).await? {
        Ok(s) => {
            return Ok(received(p, Received::Declaration, s));
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
