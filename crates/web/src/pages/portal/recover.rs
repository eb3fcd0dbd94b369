//! A lost tracking code (issue 18, item 9): a new one for the ID and phone numbers given with
//! a self-declaration. The answer is the same page whether or not a declaration matches
//! (`zhenxing_store::portal::recover_declaration_code`): a new code, which tracks the
//! declaration only when both numbers were right.

use super::*;

#[derive(Template)]
#[template(path = "portal_recover.html")]
pub(super) struct RecoverPage {
    p: Public,
    problems: Vec<Problem>,
    /// The new code, once the numbers were well formed.
    new_code: Option<String>,
}

impl RecoverPage {
    fn has_problem(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }
}

pub async fn recover_form(State(state): State<AppState>, visit: Visit) -> AppResult<Response> {
    let p = visit.frame(&state, "portal-recover-title", "/portal/recover");
    let page = RecoverPage {
        p,
        problems: Vec::new(),
        new_code: None,
    };
    Ok(page.p.show(&page, false))
}

/// The two numbers as typed, each checked for its form only (what does not depend on any
/// declaration, so it tells a stranger nothing). The messages never repeat a number.
fn check_numbers(
    id_number: &str,
    phone: &str,
) -> Result<(zhenxing_core::IdNumber, zhenxing_core::Phone), Vec<FieldError>> {
    let id = zhenxing_core::IdNumber::parse_at(id_number, today_in_china()).map_err(|e| {
        let t = e.text();
        FieldError::new(
            "id_number",
            Text::new(
                format!("身份证号：{}", t.zh),
                format!("ID number: {}", t.en),
            ),
        )
    });
    let phone = zhenxing_core::Phone::parse(phone).map_err(|_| {
        FieldError::new(
            "phone",
            text!(
                "电话号码应为11位手机号码，请填写申报时留的号码",
                "the phone number must be an 11-digit mobile number: give the one you gave with the declaration"
            ),
        )
    });
    match (id, phone) {
        (Ok(id), Ok(phone)) => Ok((id, phone)),
        (id, phone) => Err(id.err().into_iter().chain(phone.err()).collect()),
    }
}

pub async fn recover(
    State(state): State<AppState>,
    visit: Visit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Fields(pairs);
    visit.screen(&f)?;
    let p = visit.frame(&state, "portal-recover-title", "/portal/recover");
    // The numbers are not shown again on a refusal (full ID and phone numbers appear on no
    // public page): the problems say what to correct and the visitor types them again.
    let (id_number, phone) = match check_numbers(&f.one("id_number"), &f.one("phone")) {
        Ok(numbers) => numbers,
        Err(errors) => {
            let page = RecoverPage {
                problems: problems(errors, &p.c),
                new_code: None,
                p,
            };
            return Ok(page.p.show(&page, true));
        }
    };
    // Counted once the numbers are well formed: a typo costs an elderly visitor nothing, and
    // only a well-formed pair is a guess.
    if !state.recovery_limiter.allow(&visit.viewer.client) {
        return Err(AppError::TooManyRequests(Text::new(
            "此网络地址找回查询码的次数过多，请过一段时间再试；也可以向村（社区）或乡镇咨询办理进度。",
            "Too many tracking-code recoveries from this network address; please try again later, or ask your village or township about your declaration.",
        )));
    }
    // And per ID number, whatever the address: guessing one person's phone number from many
    // addresses stops too (the key is the number's keyed index, never the number).
    let index = zhenxing_store::keys::blind_id_number(id_number.as_str())?;
    if !state.recovery_id_limiter.allow_key(index) {
        return Err(AppError::TooManyRequests(Text::new(
            "这个身份证号找回查询码的次数过多，请过一段时间再试；也可以向村（社区）或乡镇咨询办理进度。",
            "Too many tracking-code recoveries for this ID number; please try again later, or ask your village or township about your declaration.",
        )));
    }
    let code = portal::recover_declaration_code(&state.db, &id_number, &phone).await?;
    let page = RecoverPage {
        p,
        problems: Vec::new(),
        new_code: Some(code),
    };
    Ok(page.p.show(&page, false))
}
