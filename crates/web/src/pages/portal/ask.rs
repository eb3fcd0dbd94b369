//! Questions, reports, complaints, suggestions (tickets, with files).

use super::*;

#[derive(Template)]
#[template(path = "portal_ask.html")]
pub(super) struct AskPage {
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

pub(super) fn choice_checks<T: Copy>(
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

pub(super) fn ask_page(
    p: Public,
    place: Place,
    form: TicketForm,
    problems: Vec<Problem>,
) -> AskPage {
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

/// The most a form with files may carry (a ticket's, a declaration's): its text and
/// [`MAX_TICKET_FILES`] files (a declaration takes as many).
pub const ASK_BODY_LIMIT: usize = MAX_TICKET_FILES * MAX_FILE_BYTES + 1024 * 1024;

/// The longest text field of a multipart form (the longest field, the details, is 2,000
/// characters: 6,000 bytes of UTF-8).
pub(super) const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;

pub(super) fn bad_form(e: impl std::fmt::Display) -> AppError {
    AppError::bad_request(
        format!("表单有误：{e}"),
        format!("the form is not valid: {e}"),
    )
}

/// A public form with files as sent (a ticket's, a declaration's, their files in the field
/// `files`): its fields, the files accepted, and the refusal of each other file. Without files
/// it may come URL-encoded, within the server's ordinary body limit; the pages' forms send
/// multipart, within [`ASK_BODY_LIMIT`].
pub(super) async fn read_form_with_files(
    state: &AppState,
    request: Request,
) -> AppResult<(Fields, Vec<AcceptedFile>, Vec<FieldError>)> {
    if !crate::upload::is_multipart(request.headers()) {
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

/// A checked form and the refusals of its files: nothing is stored while any file is refused
/// (the visitor chooses the files again), and every problem is listed at once.
pub(super) fn with_refused_files<T>(
    checked: Result<T, Vec<FieldError>>,
    refused_files: Vec<FieldError>,
) -> Result<T, Vec<FieldError>> {
    match checked {
        Ok(t) if refused_files.is_empty() => Ok(t),
        Ok(_) => Err(refused_files),
        Err(mut errors) => {
            errors.extend(refused_files);
            Err(errors)
        }
    }
}

pub async fn ask(
    State(state): State<AppState>,
    visit: Visit,
    request: Request,
) -> AppResult<Response> {
    let (f, files, refused_files) = read_form_with_files(&state, request).await?;
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
    let checked = with_refused_files(form.check(), refused_files);
    let today = today_in_china();
    let policy = portal::policy(&state.db).await?;
    let store = async |t| portal::submit_ticket(&state.db, &t, &files, &policy, today).await;
    let errors = match store_checked(checked, "division", store).await? {
        Ok(s) => return Ok(received(p, Received::Ticket, s)),
        Err(errors) => errors,
    };
    let place = place_of(&state, &form.division, lang).await?;
    let problems = problems(errors, &p.c);
    let page = ask_page(p, place, form, problems);
    Ok(page.p.show(&page, true))
}
