//! The second factor on the web (issue 15): the sign-in's second step ([`CODE_PATH`]: a code
//! from the authenticator app or a recovery code, for the pending sign-in that the password
//! opened), and enrolment ([`ENROL_PATH`]: the `otpauth://` URI as a QR code drawn as inline
//! SVG, the secret as text beside it, confirmation by a code, then the ten recovery codes shown
//! once). An account whose role or the policy requires a factor and has none is sent to
//! enrolment after its password, before anything else (`auth::session_layer`).

use crate::AppState;
use crate::auth::{
    LOGIN_CSRF_COOKIE, PENDING_COOKIE, SESSION_COOKIE, Viewer, cookie, cookies, lang_code,
    with_cookies,
};
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::i18n::Tr;
use crate::pages::{Chrome, render, render_form};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use zhenxing_store::accounts::{AccountError, FactorSignIn, PENDING_SIGN_IN_MINUTES};
use zhenxing_store::factor::Enrolment;

/// The sign-in's second step.
pub const CODE_PATH: &str = "/login/code";
/// Enrolment of one's own second factor.
pub const ENROL_PATH: &str = "/account/factor";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(CODE_PATH, get(code_page).post(code_submit))
        .route(ENROL_PATH, get(enrol_page).post(enrol_confirm))
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    c: Chrome,
    csrf: String,
    message: Option<String>,
}

fn code_form(state: &AppState, viewer: &Viewer, message: Option<String>) -> Response {
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let csrf = zhenxing_store::credentials::random_token();
    let refused = message.is_some();
    let page = CodePage {
        c: Chrome::new(state, viewer, tr.t("factor-code-title")),
        csrf: csrf.clone(),
        message,
    };
    let mut response = with_cookies(
        render(&page),
        vec![cookie(state, LOGIN_CSRF_COOKIE, &csrf, Some(3600))],
    );
    if refused {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    response
}

/// The code form, for a browser that holds a pending sign-in; anyone else starts at `/login`.
pub async fn code_page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
) -> Response {
    if viewer.account.is_some() {
        return Redirect::to("/").into_response();
    }
    if !cookies(&headers).contains_key(PENDING_COOKIE) {
        return Redirect::to("/login").into_response();
    }
    code_form(&state, &viewer, None)
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub async fn code_submit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    crate::auth::check_sign_in_step(&state, &viewer, &headers, &form.csrf)?;
    let jar = cookies(&headers);
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let Some(pending) = jar.get(PENDING_COOKIE).filter(|p| p.len() == 64) else {
        return Ok(Redirect::to("/login").into_response());
    };
    if form.code.len() > 64 {
        return Ok(code_form(&state, &viewer, Some(tr.t("factor-code-wrong"))));
    }
    match state
        .db
        .complete_sign_in(pending, &form.code, &viewer.client)
        .await?
    {
        FactorSignIn::Ok { account, session } => {
            tracing::info!(account = account.id, "signed in with a second factor");
            Ok(with_cookies(
                Redirect::to("/").into_response(),
                vec![
                    cookie(&state, SESSION_COOKIE, &session.token, None),
                    cookie(&state, PENDING_COOKIE, "", Some(0)),
                    cookie(&state, LOGIN_CSRF_COOKIE, "", Some(0)),
                    cookie(
                        &state,
                        crate::auth::LANG_COOKIE,
                        lang_code(account.lang),
                        Some(31_536_000),
                    ),
                ],
            ))
        }
        FactorSignIn::Retry => Ok(code_form(&state, &viewer, Some(tr.t("factor-code-wrong")))),
        FactorSignIn::Expired => Ok(with_cookies(
            crate::auth::login_form(&state, &viewer, String::new(), tr.t("factor-code-expired")),
            vec![cookie(&state, PENDING_COOKIE, "", Some(0))],
        )),
    }
}

/// The pending cookie's lifetime, the same as the store's pending sign-in.
pub fn pending_cookie_seconds() -> i64 {
    PENDING_SIGN_IN_MINUTES * 60
}

// ---------------------------------------------------------------------------------------------
// Enrolment

#[derive(Template)]
#[template(path = "account_factor.html")]
struct EnrolPage {
    c: Chrome,
    /// Required before anything else (the role or the policy).
    must_enrol: bool,
    /// A factor is in force already: enrolling replaces it.
    enrolled: bool,
    qr_svg: String,
    secret: String,
    errors: Vec<String>,
    /// After confirmation: the recovery codes, shown this once.
    recovery_codes: Vec<String>,
}

/// The QR code of an `otpauth://` URI as an SVG element (no script, no style element: the
/// Content-Security-Policy allows it inline).
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build()
            // The renderer writes an XML declaration first; inside HTML only the element goes.
            .split_once("<svg")
            .map(|(_, rest)| format!("<svg role=\"img\" id=\"factor-qr\"{rest}"))
            .unwrap_or_default(),
        Err(e) => {
            tracing::error!(error = %e, "QR code failed");
            String::new()
        }
    }
}

fn enrol_response(
    state: &AppState,
    viewer: &Viewer,
    must_enrol: bool,
    enrolled: bool,
    enrolment: Option<&Enrolment>,
    errors: Vec<String>,
    recovery_codes: Vec<String>,
) -> Response {
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("factor-enrol-title");
    let refused = !errors.is_empty();
    let page = EnrolPage {
        c,
        must_enrol,
        enrolled,
        qr_svg: enrolment.map(|e| qr_svg(&e.uri)).unwrap_or_default(),
        secret: enrolment
            .map(|e| spaced(&e.secret_base32))
            .unwrap_or_default(),
        errors,
        recovery_codes,
    };
    render_form(&page, refused)
}

/// The secret in groups of four, easier to type into an app by hand.
fn spaced(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The enrolment page: a new secret each time it is opened (an earlier one not confirmed is
/// dropped), shown as a QR code and as text.
pub async fn enrol_page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    let account = viewer.account()?;
    if viewer.via_api_token {
        return Err(AppError::Forbidden);
    }
    let enrolment = state.db.begin_factor_enrolment(account).await?;
    Ok(enrol_response(
        &state,
        &viewer,
        viewer.must_enrol,
        account.factor_enrolled,
        Some(&enrolment),
        Vec::new(),
        Vec::new(),
    ))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    code: String,
}

/// Confirms the secret shown with a code computed from it; then the recovery codes, once.
pub async fn enrol_confirm(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    let account = viewer.account()?;
    if viewer.via_api_token {
        return Err(AppError::Forbidden);
    }
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let result = if form.code.len() > 16 {
        Err(AccountError::Invalid(zhenxing_core::text!(
            "验证码是6位数字",
            "the code is six digits"
        )))
    } else {
        state
            .db
            .confirm_factor_enrolment(account, &form.code, &viewer.client)
            .await
    };
    match result {
        Ok(codes) => {
            let mut enrolled_viewer = viewer.clone();
            enrolled_viewer.must_enrol = false;
            Ok(enrol_response(
                &state,
                &enrolled_viewer,
                false,
                true,
                None,
                Vec::new(),
                codes,
            ))
        }
        Err(AccountError::Invalid(t)) => {
            // The same secret again, so that the app already scanned still fits.
            let enrolment = state.db.pending_enrolment(account).await?;
            Ok(enrol_response(
                &state,
                &viewer,
                viewer.must_enrol,
                account.factor_enrolled,
                enrolment.as_ref(),
                vec![tr.text(&t)],
                Vec::new(),
            ))
        }
        Err(AccountError::Store(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_an_inline_svg_element() {
        let svg = qr_svg("otpauth://totp/zhenxing:admin?secret=MZXW6YTBOI&issuer=zhenxing");
        assert!(
            svg.starts_with("<svg role=\"img\" id=\"factor-qr\""),
            "{svg}"
        );
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("<script") && !svg.contains("<style"));
    }

    #[test]
    fn secrets_are_shown_in_groups_of_four() {
        assert_eq!(spaced("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
