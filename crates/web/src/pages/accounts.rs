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
use zhenxing_core::{Action, DivisionCode, Lang, PersonName, Phone, Role, Text, UnitName};
use zhenxing_io::ColumnSpec;
use zhenxing_store::account_profiles::{AccountProfile, NewAccount};
use zhenxing_store::accounts::{Account, AccountError};
use zhenxing_store::credentials::generate_password;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts.xlsx", get(export))
        .route("/accounts.csv", get(export))
        .route("/accounts/disable", post(disable))
        .route("/accounts/profile", post(save_profile))
        .merge(super::account_batch::routes())
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
    /// Who holds it (empty: not recorded).
    pub real_name: String,
    pub unit: String,
    /// The phone number masked (`139****0001`); empty when none.
    pub phone: String,
    /// The version its profile form sends back.
    pub version: i64,
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
    /// A 12-digit code, or a name as people write it ("巴山镇 立新村").
    #[serde(default)]
    pub division: String,
    /// The code chosen among the divisions a name fits (it wins over `division`).
    #[serde(default)]
    pub division_choice: String,
    /// Empty: generate one.
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub real_name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
pub(super) struct AccountsPage {
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
    form_real_name: String,
    form_unit: String,
    /// A phone number was typed in the refused form: it is not shown back (full numbers
    /// appear only through an audited reveal), the form asks for it again.
    form_phone_dropped: bool,
    /// The divisions a name typed in the form could mean, (code, "城口县 巴山镇 立新村"), to
    /// choose from.
    division_choices: Vec<(String, String)>,
    /// Counties and townships of the administrator's division, as the division field suggests them.
    division_names: Vec<String>,
    errors: Vec<String>,
    result: Option<NewPassword>,
    /// A refused profile form: (account, real name, unit) as typed, shown again on its row.
    kept_profile: Option<(String, String, String)>,
    /// What an account list import found or did.
    pub(super) import: super::account_batch::ImportReport,
}

impl AccountsPage {
    /// What `account`'s profile form shows: the refused form's values, else the stored ones.
    fn profile_value(&self, account: &AccountRow, field: &str) -> String {
        match &self.kept_profile {
            Some((name, real_name, unit)) if *name == account.name => match field {
                "real_name" => real_name.clone(),
                _ => unit.clone(),
            },
            _ => match field {
                "real_name" => account.real_name.clone(),
                _ => account.unit.clone(),
            },
        }
    }

    /// Whether `account`'s profile form was the one refused (it shows open).
    fn profile_refused(&self, account: &AccountRow) -> bool {
        self.kept_profile
            .as_ref()
            .is_some_and(|(name, _, _)| *name == account.name)
    }
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
    let profiles = state.db.account_profiles(&names).await?;
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
            let stored = profiles.get(&a.name).cloned().unwrap_or_default();
            let profile = &stored.profile;
            AccountRow {
                real_name: profile
                    .real_name
                    .as_ref()
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
                unit: profile
                    .unit
                    .as_ref()
                    .map(|u| u.as_str().to_owned())
                    .unwrap_or_default(),
                phone: profile
                    .phone
                    .as_ref()
                    .map(|p| p.masked())
                    .unwrap_or_default(),
                version: stored.version,
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
        text("accounts-field-real-name"),
        text("accounts-field-unit"),
        text("accounts-field-phone"),
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
                a.real_name,
                a.unit,
                a.phone,
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
        let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
        let profiles = state.db.account_profiles(&names).await?;
        let held_by = |a: &Account| {
            profiles.get(&a.name).is_some_and(|p| {
                let p = &p.profile;
                p.real_name
                    .as_ref()
                    .is_some_and(|n| n.as_str().to_lowercase().contains(&q))
                    || p.unit
                        .as_ref()
                        .is_some_and(|u| u.as_str().to_lowercase().contains(&q))
            })
        };
        accounts.retain(|a| {
            held_by(a)
                || a.name.to_lowercase().contains(&q)
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
pub(super) fn admin(viewer: &Viewer) -> AppResult<&Account> {
    viewer.may(Action::ManageAccounts)
}

pub(super) async fn page(
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

/// The accounts page saying what was just done (and a password, shown once, if one was set).
pub(super) async fn result_page(
    state: &AppState,
    viewer: &Viewer,
    result: NewPassword,
) -> AppResult<Response> {
    let page = page(
        state,
        viewer,
        &CreateForm::default(),
        Vec::new(),
        Some(result),
    )
    .await?;
    Ok(render(&page))
}

/// Counties and townships of `within` as the division field suggests them ("城口县 巴山镇").
async fn division_names(state: &AppState, within: &DivisionCode) -> AppResult<Vec<String>> {
    let divisions = state
        .db
        .divisions_below(within, zhenxing_core::DivisionLevel::Township)
        .await?;
    let county_of: std::collections::HashMap<&str, &str> = divisions
        .iter()
        .filter(|d| d.level == "county")
        .map(|d| (&d.code[..6], d.name_zh.as_str()))
        .collect();
    Ok(divisions
        .iter()
        .map(|d| match (d.level.as_str(), county_of.get(&d.code[..6])) {
            ("township", Some(county)) => format!("{county} {}", d.name_zh),
            _ => d.name_zh.clone(),
        })
        .collect())
}

/// The most divisions offered when a typed name could mean several.
const DIVISION_CHOICES: usize = 20;

/// The division a form names, by code or by name, inside the administrator's division; or
/// why not, with the divisions a name could mean, (code, path in words), to choose from.
pub(super) async fn resolve_division(
    state: &AppState,
    me: &Account,
    typed: &str,
) -> AppResult<Result<DivisionCode, (Text, Vec<(String, String)>)>> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(Err((
            Text::new(
                "请填写所属区划（名称或12位代码）",
                "give the account's division (a name or the 12-digit code)",
            ),
            Vec::new(),
        )));
    }
    if typed.chars().all(|c| c.is_ascii_digit()) {
        return Ok(match DivisionCode::parse(typed) {
            Ok(d) if me.scope().contains(&d) => Ok(d),
            Ok(d) => {
                let code = d.as_str().to_owned();
                Err((
                    Text::new(
                        format!("区划{code}不在您管理的范围内"),
                        format!("division {code} is outside the part of the registry you manage"),
                    ),
                    Vec::new(),
                ))
            }
            Err(e) => {
                let t = e.text();
                Err((
                    Text::new(
                        format!("区划代码：{}", t.zh),
                        format!("division code: {}", t.en),
                    ),
                    Vec::new(),
                ))
            }
        });
    }
    let found = state
        .db
        .divisions_named(&me.division, typed, DIVISION_CHOICES + 1)
        .await?;
    if let [one] = found.as_slice()
        && let Ok(code) = DivisionCode::parse(&one.code)
    {
        return Ok(Ok(code));
    }
    if found.is_empty() {
        return Ok(Err((
            Text::new(
                format!(
                    "您管理的范围内没有名为“{typed}”的区划；请核对名称，或在名称前加上所属乡镇、区县（如“巴山镇 立新村”），或填写12位代码"
                ),
                format!(
                    "no division named '{typed}' in the part of the registry you manage; check the name, put its township or county before it (e.g. '巴山镇 立新村'), or give the 12-digit code"
                ),
            ),
            Vec::new(),
        )));
    }
    let mut choices = Vec::new();
    for d in found.iter().take(DIVISION_CHOICES) {
        let Ok(code) = DivisionCode::parse(&d.code) else {
            continue;
        };
        let path = state.db.division_path(&code).await?;
        let words: Vec<String> = path
            .iter()
            .skip(1)
            .map(|p| zhenxing_core::division::short_name(&p.name_zh))
            .collect();
        choices.push((d.code.clone(), words.join(" ")));
    }
    let n = found.len();
    Ok(Err((
        Text::new(
            format!(
                "名为“{typed}”的区划不止一个（{n}个）；请在下面选择一个，或在名称前加上所属乡镇、区县"
            ),
            format!(
                "more than one division ({n}) is named '{typed}'; choose one below, or put its township or county before the name"
            ),
        ),
        choices,
    )))
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
    // A refused form whose division name could mean several: the choices beside it.
    let division_choices = if errors.is_empty() || form.division.trim().is_empty() {
        Vec::new()
    } else {
        match resolve_division(state, me, &form.division).await? {
            Err((_, choices)) => choices,
            Ok(_) => Vec::new(),
        }
    };
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
        form_real_name: form.real_name.clone(),
        form_unit: form.unit.clone(),
        form_phone_dropped: !form.phone.trim().is_empty() && !errors.is_empty(),
        division_choices,
        division_names: division_names(state, &me.division).await?,
        errors,
        result,
        kept_profile: None,
        import: Default::default(),
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

/// The create form read into an account to make (its password still to choose), with every
/// problem the web layer can find; the store checks the rest (name, role against division
/// level, password policy, name taken).
async fn parse_create(
    state: &AppState,
    me: &Account,
    form: &CreateForm,
) -> AppResult<Result<(Role, DivisionCode, AccountProfile), Vec<Text>>> {
    let mut errors = Vec::new();
    let role = Role::from_code(form.role.trim())
        .or_else(|| Role::parse(form.role.trim()).ok())
        .ok_or_else(|| errors.push(Text::new("请选择角色", "choose a role for the account")))
        .ok();
    let typed = match form.division_choice.trim() {
        "" => &form.division,
        chosen => chosen,
    };
    let division = match resolve_division(state, me, typed).await? {
        Ok(d) => Some(d),
        Err((why, _)) => {
            errors.push(why);
            None
        }
    };
    if let Some(r) = role
        && !me.role.may_set_password_of(r)
    {
        errors.push(checks_you(r));
    }
    let profile = match profile_from(&form.real_name, &form.unit, &form.phone, true) {
        Ok(p) => Some(p),
        Err(mut why) => {
            errors.append(&mut why);
            None
        }
    };
    Ok(match (role, division, profile) {
        (Some(r), Some(d), Some(p)) if errors.is_empty() => Ok((r, d, p)),
        _ => Err(errors),
    })
}

/// A profile form's fields read: the real name (required when `name_required`), the unit and
/// the phone (optional; empty leaves it as it is).
fn profile_from(
    real_name: &str,
    unit: &str,
    phone: &str,
    name_required: bool,
) -> Result<AccountProfile, Vec<Text>> {
    let mut errors = Vec::new();
    if name_required && real_name.trim().is_empty() {
        errors.push(Text::new(
            "请填写姓名",
            "give the account holder's real name",
        ));
    }
    let labelled = |zh: &str, en: &str, e: zhenxing_core::TextError| {
        let t = e.text();
        Text::new(format!("{zh}：{}", t.zh), format!("{en}: {}", t.en))
    };
    let real_name = optional(real_name, PersonName::parse, &mut errors, |e| {
        labelled("姓名", "real name", e)
    });
    let unit = optional(unit, UnitName::parse, &mut errors, |e| {
        labelled("单位", "unit", e)
    });
    // Never the number in the message: it is shown back on the page.
    let phone = optional(phone, Phone::parse, &mut errors, |_| {
        Text::new(
            "手机号须为11位数字，以1开头",
            "a phone number is 11 digits starting with 1",
        )
    });
    if errors.is_empty() {
        Ok(AccountProfile {
            real_name,
            unit,
            phone,
        })
    } else {
        Err(errors)
    }
}

/// An optional field: `None` when empty, its value when it parses, else its problem noted.
fn optional<T, E>(
    value: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    errors: &mut Vec<Text>,
    why: impl Fn(E) -> Text,
) -> Option<T> {
    match value.trim() {
        "" => None,
        v => parse(v).map_err(|e| errors.push(why(e))).ok(),
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
    let (role, division, profile) = match parse_create(&state, &me, &form).await? {
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
    let new = NewAccount {
        name: name.clone(),
        role,
        division,
        password: password.clone(),
        profile,
    };
    match state.db.create_accounts(&[new], &me.name).await {
        Ok(mut created) => {
            let Some(account) = created.pop() else {
                return Err(AppError::NotFound);
            };
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
            result_page(&state, &viewer, result).await
        }
        Err(AccountError::Invalid(t)) => {
            let page = page(&state, &viewer, &form, vec![tr.text(&t)], None).await?;
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
        Err(AccountError::Store(e)) => Err(e.into()),
    }
}

/// The refusal to make or reset an account of one of the three administrators.
pub(super) fn checks_you(role: Role) -> Text {
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
pub(super) async fn managed(
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
            result_page(&state, &viewer, result).await
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

/// An account's profile form (on its row of the list): the phone is never shown in it, and
/// left empty it stays as it is.
#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub real_name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub phone: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> AppResult<Response> {
    let (me, account) = match managed(&state, &viewer, form.name.trim()).await? {
        Ok(both) => both,
        Err(refused) => return Ok(refused),
    };
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let refused = |errors: Vec<String>, status: StatusCode| {
        let (state, viewer, form) = (&state, &viewer, &form);
        async move {
            let mut page = page(state, viewer, &CreateForm::default(), errors, None).await?;
            page.kept_profile = Some((
                form.name.trim().to_owned(),
                form.real_name.clone(),
                form.unit.clone(),
            ));
            AppResult::Ok(with_status(status, render(&page)))
        }
    };
    let version: i64 = match form.version.trim().parse() {
        Ok(v) => v,
        Err(_) => {
            return Err(AppError::bad_request(
                "版本号有误",
                "the version is not valid",
            ));
        }
    };
    let profile = match profile_from(&form.real_name, &form.unit, &form.phone, false) {
        Ok(p) => p,
        Err(errors) => {
            let errors = errors.iter().map(|t| tr.text(t)).collect();
            return refused(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let saved = state
        .db
        .set_account_profile(
            &account.name,
            version,
            profile.real_name.as_ref(),
            profile.unit.as_ref(),
            profile.phone.as_ref(),
            &me.name,
        )
        .await?;
    if !saved {
        let errors = vec![tr.text(&AppError::stale_text())];
        return refused(errors, StatusCode::CONFLICT).await;
    }
    let result = NewPassword {
        message: tr.t("accounts-profile-saved"),
        name: account.name.clone(),
        password: String::new(),
    };
    result_page(&state, &viewer, result).await
}
