//! Accounts many at a time (issue 18, item 5): disabling or enabling the accounts ticked on the
//! list (`POST /accounts/bulk`), and creating the accounts of a CSV or workbook
//! (`POST /accounts/import`, the columns of `data/formats/accounts-columns.csv`). Both are all
//! or nothing: every problem is reported, with its account or its row and column, and nothing
//! changes until there are none. The passwords of imported accounts are generated and shown
//! once, as for one account made on the form.

use super::accounts::{
    CreateForm, NewPassword, admin, checks_you, page, resolve_division, result_page,
};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::i18n::Tr;
use crate::pages::place_names::Places;
use crate::pages::{Fields, render, with_status};
use crate::upload::{UploadError, file_name, multipart_rejected, save_file, skip, small_text};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use zhenxing_core::Text;
use zhenxing_io::accounts::parse_account_list;
use zhenxing_io::registry::Problem;
use zhenxing_store::account_profiles::{AccountProfile, CREATE_MOST, NewAccount};
use zhenxing_store::accounts::{AccountError, check_account_name};
use zhenxing_store::credentials::generate_password;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/bulk", post(bulk))
        .route("/accounts/import", post(import))
}

/// An imported account as the result shows it once: its generated password with it.
pub struct Imported {
    pub name: String,
    pub real_name: String,
    pub role: String,
    pub place: String,
    pub password: String,
}

/// What an import did: its problems (nothing created), or the accounts created.
#[derive(Default)]
pub struct ImportReport {
    pub file: String,
    pub problems: Vec<String>,
    pub created: Vec<Imported>,
}

/// Refused: the accounts page with the reasons, nothing changed.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    errors: Vec<String>,
    report: ImportReport,
    status: StatusCode,
) -> AppResult<Response> {
    let mut page = page(state, viewer, &CreateForm::default(), errors, None).await?;
    page.import = report;
    Ok(with_status(status, render(&page)))
}

/// Refused for one reason, said in the reader's language.
async fn refused_for(
    state: &AppState,
    viewer: &Viewer,
    why: Text,
    status: StatusCode,
) -> AppResult<Response> {
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    refused(
        state,
        viewer,
        vec![tr.text(&why)],
        ImportReport::default(),
        status,
    )
    .await
}

/// Disables or enables the accounts ticked on the list (`names`), every one or none.
/// Disabling asks for `confirm=yes`; nobody disables their own account; the three
/// administrators' accounts are the operator's.
pub async fn bulk(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    CsrfForm(fields): CsrfForm<Fields>,
) -> AppResult<Response> {
    let me = admin(&viewer)?.clone();
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let disabled = match fields.one("action").as_str() {
        "disable" => true,
        "enable" => false,
        _ => {
            return Err(AppError::bad_request(
                "请选择停用或启用",
                "choose disable or enable",
            ));
        }
    };
    let mut names: Vec<String> = fields
        .all("names")
        .into_iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    let mut problems: Vec<Text> = Vec::new();
    if names.is_empty() {
        problems.push(Text::new(
            "请先在列表中勾选账号",
            "tick the accounts on the list first",
        ));
    }
    if names.len() > CREATE_MOST {
        let (n, most) = (names.len(), CREATE_MOST);
        problems.push(Text::new(
            format!("一次最多处理{most}个账号，这次勾选了{n}个"),
            format!("at most {most} accounts at once; {n} are ticked"),
        ));
    }
    if disabled && !fields.has("confirm", "yes") {
        problems.push(Text::new(
            "请勾选确认后再提交：停用后这些账号的登录全部退出，API 令牌作废",
            "tick the confirmation and send again: disabling signs these accounts out and revokes their API tokens",
        ));
    }
    for name in names.iter().take(CREATE_MOST) {
        match state.db.account_by_name(name).await? {
            Some(a) if me.scope().contains(&a.division) => {
                if !me.role.may_set_password_of(a.role) {
                    problems.push(Text::new(
                        format!("账号“{name}”：{}", checks_you(a.role).zh),
                        format!("account '{name}': {}", checks_you(a.role).en),
                    ));
                } else if disabled && a.id == me.id {
                    problems.push(Text::new(
                        "不能停用您自己正在使用的账号",
                        "you cannot disable the account you are using",
                    ));
                }
            }
            // Outside the administrator's division an account does not exist.
            _ => problems.push(Text::new(
                format!("没有名为“{name}”的账号"),
                format!("there is no account named '{name}'"),
            )),
        }
    }
    if !problems.is_empty() {
        let mut errors: Vec<String> = problems.iter().map(|t| tr.text(t)).collect();
        errors.push(tr.t("accounts-bulk-nothing-changed"));
        return refused(
            &state,
            &viewer,
            errors,
            ImportReport::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if let Err(why) = state
        .db
        .set_accounts_disabled(&names, disabled, &me.name)
        .await?
    {
        return refused_for(&state, &viewer, why, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let n = names.len();
    let result = NewPassword {
        message: tr.text(&if disabled {
            Text::new(
                format!("已停用{n}个账号，其登录已全部退出："),
                format!("{n} accounts disabled and signed out:"),
            )
        } else {
            Text::new(
                format!("已启用{n}个账号（锁定已解除）："),
                format!("{n} accounts enabled (lockouts lifted):"),
            )
        }),
        name: names.join("、"),
        password: String::new(),
    };
    result_page(&state, &viewer, result).await
}

/// The largest account list accepted (a list of 500 accounts is far smaller).
const IMPORT_MOST_BYTES: usize = 2 << 20;

/// Creates the accounts of an uploaded list, every one or none.
pub async fn import(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let me = admin(&viewer)?.clone();
    let tr = Tr::new(state.i18n.clone(), viewer.lang);
    let mut multipart = multipart.map_err(multipart_rejected)?;
    let (mut csrf, mut name, mut file) = (String::new(), String::new(), None);
    let read: Result<(), UploadError> = async {
        while let Some(mut field) = multipart.next_field().await? {
            match field.name().unwrap_or("") {
                "csrf" => csrf = small_text(&mut field, 256).await?,
                "file" => {
                    name = file_name(field.file_name().unwrap_or(""));
                    file =
                        Some(save_file(&mut field, IMPORT_MOST_BYTES, "zhenxing-accounts-").await?);
                }
                _ => skip(&mut field).await?,
            }
        }
        Ok(())
    }
    .await;
    match read {
        Ok(()) => {}
        Err(UploadError::TooLarge) => {
            let why = Text::new(
                "账号清单文件过大（最大 2 MiB）；请分批导入",
                "the account list is too large (at most 2 MiB); import it in parts",
            );
            return refused_for(&state, &viewer, why, StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Err(e) => return Err(e.into_app_error()),
    }
    viewer.check_csrf(&csrf)?;
    let Some((temp, _)) = file.filter(|(_, size)| *size > 0) else {
        let why = Text::new(
            "请选择要导入的账号清单文件",
            "choose the account list to import",
        );
        return refused_for(&state, &viewer, why, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let path = temp.path().to_path_buf();
    let (rows, mut problems) = tokio::task::spawn_blocking(move || parse_account_list(&path))
        .await
        .map_err(|_| AppError::Internal)?;
    drop(temp);
    if rows.len() > CREATE_MOST {
        let (n, most) = (rows.len(), CREATE_MOST);
        problems.push(Problem {
            row: 0,
            column: String::new(),
            value: String::new(),
            reason: Text::new(
                format!("一次最多导入{most}个账号，这个文件有{n}个；请分批导入"),
                format!("at most {most} accounts are imported at once, this file has {n}; import them in parts"),
            ),
        });
    }
    let mut new = Vec::with_capacity(rows.len());
    let mut seen = std::collections::HashMap::new();
    for r in rows.iter().take(CREATE_MOST) {
        let mut problem = |column: &str, value: &str, reason: Text| {
            problems.push(Problem {
                row: r.row,
                column: column.to_owned(),
                value: value.to_owned(),
                reason,
            })
        };
        if let Err(why) = check_account_name(&r.name) {
            problem("账号 / Account", &r.name, why);
        } else if let Some(first) = seen.insert(r.name.clone(), r.row) {
            problem(
                "账号 / Account",
                &r.name,
                Text::new(
                    format!("与第{first}行的账号重复"),
                    format!("the same account as row {first}"),
                ),
            );
        } else if state.db.account_by_name(&r.name).await?.is_some() {
            problem(
                "账号 / Account",
                &r.name,
                Text::new("该账号已存在", "an account of this name already exists"),
            );
        }
        if !me.role.may_set_password_of(r.role) {
            problem("角色 / Role", r.role.zh(), checks_you(r.role));
        }
        let division = match resolve_division(&state, &me, &r.division).await? {
            Ok(d) => Some(d),
            Err((why, choices)) => {
                let why = if choices.is_empty() {
                    why
                } else {
                    let listed: Vec<String> = choices
                        .iter()
                        .map(|(code, path)| format!("{path}（{code}）"))
                        .collect();
                    Text::new(
                        format!("{}：{}", why.zh, listed.join("、")),
                        format!("{}: {}", why.en, listed.join(", ")),
                    )
                };
                problem("区划 / Division", &r.division, why);
                None
            }
        };
        if let Some(d) = division {
            if let Err(why) = r.role.fits_division(&d) {
                problem("区划 / Division", &r.division, why);
            }
            new.push(NewAccount {
                name: r.name.clone(),
                role: r.role,
                division: d,
                password: generate_password(),
                profile: AccountProfile {
                    real_name: Some(r.real_name.clone()),
                    unit: r.unit.clone(),
                    phone: r.phone.clone(),
                },
            });
        }
    }
    if problems.is_empty() && new.is_empty() {
        problems.push(Problem {
            row: 0,
            column: String::new(),
            value: String::new(),
            reason: Text::new("文件中没有账号", "the file holds no accounts"),
        });
    }
    let lang = viewer.lang;
    // Nothing is created while the file has a problem, nor when the store finds one.
    let found: Vec<String> = if problems.is_empty() {
        match state.db.create_accounts(&new, &me.name).await {
            Ok(_) => Vec::new(),
            Err(AccountError::Invalid(why)) => vec![tr.text(&why)],
            Err(AccountError::Store(e)) => return Err(e.into()),
        }
    } else {
        problems.sort_by_key(|p| p.row);
        problems.iter().map(|p| p.render(lang)).collect()
    };
    if !found.is_empty() {
        let report = ImportReport {
            file: name,
            problems: found,
            created: Vec::new(),
        };
        let errors = vec![tr.t("accounts-import-refused")];
        return refused(
            &state,
            &viewer,
            errors,
            report,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    tracing::info!(accounts = new.len(), "accounts imported");
    let places = Places::of(&state, lang, new.iter().map(|a| a.division.as_str())).await?;
    let report = ImportReport {
        file: name,
        problems: Vec::new(),
        created: new
            .into_iter()
            .map(|a| Imported {
                place: places.label(a.division.as_str()),
                real_name: a
                    .profile
                    .real_name
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
                role: a.role.label(lang).to_owned(),
                name: a.name,
                password: a.password,
            })
            .collect(),
    };
    let mut page = page(&state, &viewer, &CreateForm::default(), Vec::new(), None).await?;
    page.import = report;
    Ok(render(&page))
}
