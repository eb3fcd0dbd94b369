//! Account administration for the security administrator (`Action::ManageAccounts`): the list
//! of accounts, creating one (with a generated or typed password, shown once), disabling and
//! enabling (which lifts a lockout), resetting a password (generated, shown once) and
//! resetting a second factor (with a reason). The store audits every change, with the
//! administrator's account name as the actor. Nobody can disable their own account. The
//! security administrator creates and resets only the operators' accounts
//! (`Role::may_set_password_of`): the three administrators' accounts are the
//! operating-system operator's (`zhenxing user`). A password set here must be changed at the
//! next sign-in, on the change-password page ([`OWN_PASSWORD_PATH`]), which every signed-in
//! account has.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::i18n::Tr;
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat, ListHead};
use crate::pages::place_names::Places;
use crate::pages::{Chrome, Params, page_number, query_string, render, with_status};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use zhenxing_core::china_time::china_time_text;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::{Action, DivisionCode, Lang, Role, Text};
use zhenxing_io::ColumnSpec;
use zhenxing_store::accounts::{Account, AccountError};
use zhenxing_store::credentials::generate_password;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts.xlsx", get(export))
        .route("/accounts.csv", get(export))
        .route("/accounts/disable", post(disable))
        .route("/accounts/enable", post(enable))
        .route("/accounts/password", post(reset_password))
        .route("/accounts/factor-reset", post(reset_factor))
        .route(
            OWN_PASSWORD_PATH,
            get(own_password_form).post(change_own_password),
        )
}

/// Where an account changes its own password (and, when someone else set it, must).
pub const OWN_PASSWORD_PATH: &str = "/account/password";

pub struct AccountRow {
    pub name: String,
    pub role: String,
    pub division: String,
    /// The division in words.
    pub place: String,
    pub status: String,
    pub disabled: bool,
    pub locked: bool,
    pub created_at: String,
    /// The last sign-in, Beijing time; empty when never.
    pub last_sign_in: String,
    pub factor: String,
    pub factor_enrolled: bool,
    pub is_self: bool,
    /// The administrator may reset its password (not when its role checks the administrator's).
    pub may_reset: bool,
}

/// A password just set, shown on this page only.
pub struct NewPassword {
    pub message: String,
    pub name: String,
    pub password: String,
}

/// What the create form held, to show it again with the errors.
#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub division: String,
    /// Empty: generate one.
    #[serde(default)]
    pub password: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    /// How many accounts the search selects, and the export links.
    head: ListHead,
    next: Option<String>,
    previous: Option<String>,
    /// The search as typed, and every role for its filter.
    q: String,
    role_filter: String,
    all_roles: Vec<(String, String)>,
    rows: Vec<AccountRow>,
    roles: Vec<(String, String)>,
    form_name: String,
    form_role: String,
    form_division: String,
    errors: Vec<String>,
    result: Option<NewPassword>,
}

/// The accounts as the list and its export show them.
async fn account_rows(
    state: &AppState,
    c: &Chrome,
    me: &Account,
    accounts: &[Account],
) -> AppResult<Vec<AccountRow>> {
    let lang = c.tr.lang;
    let places = Places::of(state, lang, accounts.iter().map(|a| a.division.as_str())).await?;
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    let last = state.db.last_sign_ins(&names).await?;
    let now = now_stored();
    Ok(accounts
        .iter()
        .map(|a| {
            let locked = a.locked_until.as_deref().is_some_and(|u| u > now.as_str());
            let status = if a.disabled {
                c.t("accounts-status-disabled")
            } else if locked {
                format!(
                    "{} {}",
                    c.t("accounts-status-locked"),
                    china_time_text(a.locked_until.as_deref().unwrap_or(""))
                )
            } else {
                c.t("accounts-status-active")
            };
            let status = if a.must_change_password && !a.disabled {
                format!("{status} ({})", c.t("accounts-must-change"))
            } else {
                status
            };
            AccountRow {
                name: a.name.clone(),
                role: a.role.label(lang).to_owned(),
                division: a.division.as_str().to_owned(),
                place: places.label(a.division.as_str()),
                status,
                disabled: a.disabled,
                locked,
                created_at: china_time_text(&a.created_at),
                last_sign_in: last
                    .get(&a.name)
                    .map(|at| china_time_text(at))
                    .unwrap_or_default(),
                factor: c.t(if a.factor_enrolled {
                    "accounts-factor-on"
                } else {
                    "accounts-factor-off"
                }),
                factor_enrolled: a.factor_enrolled,
                is_self: a.id == me.id,
                may_reset: me.role.may_set_password_of(a.role),
            }
        })
        .collect())
}

/// Every account of the administrator's division with the list's columns (never a password
/// or a factor's secret); audited as `accounts.export`. Needs `ManageAccounts`.
pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(query): Params<AccountsQuery>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    let me = admin(&viewer)?;
    let accounts = searched(&state, me, &query, viewer.lang).await?;
    let c = Chrome::new(&state, &viewer, String::new());
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        text("accounts-field-name"),
        text("accounts-field-role"),
        text("accounts-field-division"),
        text("accounts-col-division-code"),
        text("accounts-col-status"),
        text("accounts-col-factor"),
        text("accounts-col-created"),
        text("accounts-col-last-sign-in"),
    ];
    let mut file = ListFile::create("accounts", format, &columns)?;
    let rows = account_rows(&state, &c, me, &accounts)
        .await?
        .into_iter()
        .map(|a| {
            vec![
                a.name,
                a.role,
                a.place,
                a.division,
                a.status,
                a.factor,
                a.created_at,
                a.last_sign_in,
            ]
        })
        .collect();
    file.write(rows).await?;
    let record = ExportRecord {
        action: "accounts.export",
        division: me.division,
        filters: serde_json::json!({"q": query.q.trim(), "role": query.role.trim()}),
    };
    file.send(&state, &viewer, record).await
}

/// The list's search: by name or division name, by role, and its page.
#[derive(Debug, Default, Deserialize)]
pub struct AccountsQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub page: Option<String>,
}

/// Accounts shown on one page of the list.
const ACCOUNTS_PAGE: usize = 50;

/// The accounts of the administrator's division that the search selects, in name order, with
/// the labels of their divisions (for the search by division name).
async fn searched(
    state: &AppState,
    me: &Account,
    query: &AccountsQuery,
    lang: Lang,
) -> AppResult<Vec<Account>> {
    let role = match query.role.trim() {
        "" => None,
        code => Some(Role::from_code(code).ok_or_else(|| {
            AppError::bad_request(
                format!("未知的角色“{code}”"),
                format!("unknown role '{code}'"),
            )
        })?),
    };
    let mut accounts = state.db.accounts(Some(&me.scope())).await?;
    let q = query.q.trim().to_lowercase();
    if !q.is_empty() {
        let places = Places::of(state, lang, accounts.iter().map(|a| a.division.as_str())).await?;
        accounts.retain(|a| {
            a.name.to_lowercase().contains(&q)
                || places
                    .label(a.division.as_str())
                    .to_lowercase()
                    .contains(&q)
                || a.division.as_str().starts_with(&q)
        });
    }
    if let Some(role) = role {
        accounts.retain(|a| a.role == role);
    }
    accounts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(accounts)
}

/// The administrator, if the role may manage accounts.
fn admin(viewer: &Viewer) -> AppResult<&Account> {
    viewer.may(Action::ManageAccounts)
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    form: &CreateForm,
    errors: Vec<String>,
    result: Option<NewPassword>,
) -> AppResult<AccountsPage> {
    list_page(
        state,
        viewer,
        &AccountsQuery::default(),
        form,
        errors,
        result,
    )
    .await
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    query: &AccountsQuery,
    form: &CreateForm,
    errors: Vec<String>,
    result: Option<NewPassword>,
) -> AppResult<AccountsPage> {
    let me = admin(viewer)?;
    let lang = viewer.lang;
    let accounts = searched(state, me, query, lang).await?;
    let page = page_number(&query.page)? as usize;
    let total = accounts.len();
    let shown: Vec<Account> = accounts
        .into_iter()
        .skip(page * ACCOUNTS_PAGE)
        .take(ACCOUNTS_PAGE)
        .collect();
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("accounts-title");
    let rows = account_rows(state, &c, me, &shown).await?;
    let filters = [("q", query.q.trim()), ("role", query.role.trim())];
    let link = |p: usize| {
        let p = p.to_string();
        let mut pairs = filters.to_vec();
        pairs.push(("page", &p));
        format!("/accounts?{}", query_string(&pairs))
    };
    Ok(AccountsPage {
        head: ListHead::new(
            &c,
            "list-total-accounts",
            total as i64,
            "/accounts",
            Some(query_string(&filters)),
        ),
        next: ((page + 1) * ACCOUNTS_PAGE < total).then(|| link(page + 1)),
        previous: (page > 0).then(|| link(page - 1)),
        q: query.q.trim().to_owned(),
        role_filter: query.role.trim().to_owned(),
        all_roles: Role::ALL
            .iter()
            .map(|r| (r.code().to_owned(), r.label(lang).to_owned()))
            .collect(),
        rows,
        roles: Role::ALL
            .iter()
            .filter(|r| me.role.may_set_password_of(**r))
            .map(|r| (r.code().to_owned(), r.label(lang).to_owned()))
            .collect(),
        form_name: form.name.clone(),
        form_role: form.role.clone(),
        form_division: form.division.clone(),
        errors,
        result,
        c,
    })
}

pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(query): Params<AccountsQuery>,
) -> AppResult<Response> {
    admin(&viewer)?;
    let page = list_page(
        &state,
        &viewer,
        &query,
        &CreateForm::default(),
        Vec::new(),
        None,
    )
    .await?;
    Ok(render(&page))
}

/// The create form's values, checked as far as the web layer can; the store checks the rest
/// (name, role against division level, password policy, existence of the division).
fn parse_create(me: &Account, form: &CreateForm) -> Result<(Role, DivisionCode), Vec<Text>> {
    let mut errors = Vec::new();
    let role = Role::from_code(form.role.trim())
        .or_else(|| Role::parse(form.role.trim()).ok())
        .ok_or_else(|| errors.push(Text::new("请选择角色", "choose a role for the account")))
        .ok();
    let division = match DivisionCode::parse(form.division.trim()) {
        Ok(d) if me.scope().contains(&d) => Some(d),
        Ok(d) => {
            let code = d.as_str().to_owned();
            errors.push(Text::new(
                format!("区划{code}不在您管理的范围内"),
                format!("division {code} is outside the part of the registry you manage"),
            ));
            None
        }
        Err(e) => {
            let t = e.text();
            errors.push(Text::new(
                format!("区划代码：{}", t.zh),
                format!("division code: {}", t.en),
            ));
            None
        }
    };
    if let Some(r) = role
        && !me.role.may_set_password_of(r)
    {
        errors.push(checks_you(r));
    }
    match (role, division) {
        (Some(r), Some(d)) if errors.is_empty() => Ok((r, d)),
        _ => Err(errors),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> AppResult<Response> {
    let me = admin(&viewer)?.clone();
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let name = form.name.trim().to_owned();
    let (role, division) = match parse_create(&me, &form) {
        Ok(ok) => ok,
        Err(errors) => {
            let errors = errors.iter().map(|t| tr.text(t)).collect();
            let page = page(&state, &viewer, &form, errors, None).await?;
            return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)));
        }
    };
    let typed = !form.password.is_empty();
    let password = if typed {
        form.password.clone()
    } else {
        generate_password()
    };
    match state
        .db
        .create_account(&name, role, &division, &password, &me.name)
        .await
    {
        Ok(account) => {
            tracing::info!(account = account.id, "account created");
            let result = NewPassword {
                message: tr.t(if typed {
                    "accounts-created-typed"
                } else {
                    "accounts-created"
                }),
                name: account.name.clone(),
                // A typed password is not shown back: the administrator knows it.
                password: if typed { String::new() } else { password },
            };
            let page = page(
                &state,
                &viewer,
                &CreateForm::default(),
                Vec::new(),
                Some(result),
            )
            .await?;
            Ok(render(&page))
        }
        Err(AccountError::Invalid(t)) => {
            let page = page(&state, &viewer, &form, vec![tr.text(&t)], None).await?;
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
        Err(AccountError::Store(e)) => Err(e.into()),
    }
}

/// The refusal to make or reset an account of one of the three administrators.
fn checks_you(role: Role) -> Text {
    let (zh, en) = (role.zh(), role.en());
    Text::new(
        format!(
            "{zh}是三类管理员之一，其账号不能由其他管理员创建或重置（密码、动态口令）；请由系统运维人员用命令行（zhenxing user）办理"
        ),
        format!(
            "a {en} is one of the three administrators: another administrator cannot create such an account or reset its password or second factor; the system's operator does it on the command line (zhenxing user)"
        ),
    )
}

#[derive(Debug, Deserialize)]
pub struct NameForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
}

/// The account named in a form, if it lies within the administrator's scope; otherwise
/// "not found", as for a name that does not exist.
async fn target(state: &AppState, viewer: &Viewer, name: &str) -> AppResult<Account> {
    let me = admin(viewer)?;
    if name.is_empty() || name.len() > 256 {
        return Err(AppError::NotFound);
    }
    match state.db.account_by_name(name).await? {
        Some(a) if me.scope().contains(&a.division) => Ok(a),
        _ => Err(AppError::NotFound),
    }
}

/// The security administrator and the account named in a form, when it may manage that
/// account (`Role::may_set_password_of`: the operators' only); otherwise the accounts page
/// with the refusal (403), and nothing done.
async fn managed(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
) -> AppResult<Result<(Account, Account), Response>> {
    let me = admin(viewer)?.clone();
    let account = target(state, viewer, name).await?;
    if me.role.may_set_password_of(account.role) {
        return Ok(Ok((me, account)));
    }
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let errors = vec![tr.text(&checks_you(account.role))];
    let page = page(state, viewer, &CreateForm::default(), errors, None).await?;
    Ok(Err(with_status(StatusCode::FORBIDDEN, render(&page))))
}

async fn set_disabled(
    state: AppState,
    viewer: Viewer,
    form: NameForm,
    disabled: bool,
) -> AppResult<Response> {
    // The three administrators' accounts are the operator's, disabling included.
    let (me, account) = match managed(&state, &viewer, form.name.trim()).await? {
        Ok(both) => both,
        Err(refused) => return Ok(refused),
    };
    if disabled && account.id == me.id {
        let tr = Tr::new(state.i18n.clone(), viewer.lang);
        let page = page(
            &state,
            &viewer,
            &CreateForm::default(),
            vec![tr.t("accounts-error-self")],
            None,
        )
        .await?;
        return Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)));
    }
    if !state
        .db
        .set_account_disabled(&account.name, disabled, &me.name)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/accounts").into_response())
}

pub async fn disable(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<NameForm>,
) -> AppResult<Response> {
    set_disabled(state, viewer, form, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<NameForm>,
) -> AppResult<Response> {
    set_disabled(state, viewer, form, false).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<NameForm>,
) -> AppResult<Response> {
    let (me, account) = match managed(&state, &viewer, form.name.trim()).await? {
        Ok(both) => both,
        Err(refused) => return Ok(refused),
    };
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let password = generate_password();
    match state
        .db
        .set_password(&account.name, &password, &me.name)
        .await
    {
        Ok(()) => {
            let result = NewPassword {
                message: tr.t("accounts-password-reset"),
                name: account.name.clone(),
                password,
            };
            let page = page(
                &state,
                &viewer,
                &CreateForm::default(),
                Vec::new(),
                Some(result),
            )
            .await?;
            Ok(render(&page))
        }
        Err(AccountError::Invalid(t)) => {
            let page = page(
                &state,
                &viewer,
                &CreateForm::default(),
                vec![tr.text(&t)],
                None,
            )
            .await?;
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
        Err(AccountError::Store(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ResetFactorForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub reason: String,
}

/// Removes an operator account's second factor (a lost phone), with a reason; audited.
pub async fn reset_factor(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<ResetFactorForm>,
) -> AppResult<Response> {
    let (me, account) = match managed(&state, &viewer, form.name.trim()).await? {
        Ok(both) => both,
        Err(refused) => return Ok(refused),
    };
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let reason: String = form.reason.chars().take(500).collect();
    let (errors, result) = match state
        .db
        .reset_factor(&account.name, &me.name, &reason)
        .await
    {
        Ok(()) => (
            Vec::new(),
            Some(NewPassword {
                message: tr.t("accounts-factor-reset"),
                name: account.name.clone(),
                password: String::new(),
            }),
        ),
        Err(AccountError::Invalid(t)) => (vec![tr.text(&t)], None),
        Err(AccountError::Store(e)) => return Err(e.into()),
    };
    let refused = !errors.is_empty();
    let page = page(&state, &viewer, &CreateForm::default(), errors, result).await?;
    let response = render(&page);
    Ok(if refused {
        with_status(StatusCode::UNPROCESSABLE_ENTITY, response)
    } else {
        response
    })
}

// ---------------------------------------------------------------------------------------------
// One's own password

#[derive(Template)]
#[template(path = "account_password.html")]
struct OwnPasswordPage {
    c: Chrome,
    /// Someone else set the password: it must be changed before anything else.
    must_change: bool,
    /// The password rules of the policy in force, in words.
    rules: String,
    errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct OwnPasswordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub repeat: String,
}

async fn own_password_page(
    state: &AppState,
    viewer: &Viewer,
    account: &Account,
    errors: Vec<String>,
) -> AppResult<Response> {
    let policy = state.db.security_policy().await?;
    let mut c = Chrome::new(state, viewer, String::new());
    c.title = c.t("account-password-title");
    let rules = c.tr.t_args(
        "account-password-rules",
        &[
            ("min", policy.min_length.into()),
            ("classes", policy.min_classes.into()),
        ],
    );
    let page = OwnPasswordPage {
        c,
        must_change: account.must_change_password,
        rules,
        errors,
    };
    let refused = !page.errors.is_empty();
    Ok(crate::pages::render_form(&page, refused))
}

pub async fn own_password_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    let account = viewer.account()?;
    own_password_page(&state, &viewer, account, Vec::new()).await
}

/// Changes the signed-in account's own password; every session ends (this one too) and the
/// account signs in again with the new password.
pub async fn change_own_password(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<OwnPasswordForm>,
) -> AppResult<Response> {
    let account = viewer.account()?;
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    if form.new != form.repeat {
        let errors = vec![tr.t("account-password-mismatch")];
        return own_password_page(&state, &viewer, account, errors).await;
    }
    if form.current.len() > 1024 || form.new.len() > 1024 {
        let errors = vec![tr.t("account-password-too-long")];
        return own_password_page(&state, &viewer, account, errors).await;
    }
    match state
        .db
        .change_own_password(account, &form.current, &form.new, &viewer.client)
        .await
    {
        Ok(()) => Ok(crate::auth::with_cookies(
            Redirect::to("/login").into_response(),
            vec![crate::auth::cookie(
                &state,
                crate::auth::SESSION_COOKIE,
                "",
                Some(0),
            )],
        )),
        Err(AccountError::Invalid(t)) => {
            own_password_page(&state, &viewer, account, vec![tr.text(&t)]).await
        }
        Err(AccountError::Store(e)) => Err(e.into()),
    }
}
