//! `zhenxing user …` and `zhenxing token create`: the accounts of the people who use zhenxing
//! and API tokens, from the command line; and the demo's accounts, one per role.
//!
//! A password never appears on the command line (where `ps` and the shell history would keep
//! it): it is the first line of standard input when that is piped, or it is generated and
//! printed once. Every change is audited by the store, with [`cli_actor`] as the actor.

use super::cli_actor;
use crate::UserCommand;
use crate::output::say;
use anyhow::Result;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::{DivisionCode, Lang, Role, Text, text};
use zhenxing_store::Db;
use zhenxing_store::accounts::{Account, AccountError, check_account_name};
use zhenxing_store::credentials::{check_password_basics, generate_password};
use zhenxing_store::divisions::Division;

/// A password for an account, and whether the person typed it or zhenxing made it up (and so
/// must show it).
pub enum Password {
    Given(String),
    Generated(String),
}

impl Password {
    fn as_str(&self) -> &str {
        match self {
            Password::Given(p) | Password::Generated(p) => p,
        }
    }
}

/// The first line of standard input when it is not a terminal and not empty (trailing newline
/// removed, nothing else: spaces are part of a password); otherwise a generated password.
/// A given password is checked here, before anything is opened, for what no policy changes
/// (the account's name, the common list, the length limit).
fn read_password(name: &str) -> Result<Password> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(Password::Generated(generate_password()));
    }
    let mut line = String::new();
    let n = stdin.lock().read_line(&mut line).map_err(|e| {
        anyhow::Error::new(text!(
            "无法从标准输入读取密码：{e}",
            "cannot read the password from standard input: {e}"
        ))
    })?;
    if n == 0 {
        return Ok(Password::Generated(generate_password()));
    }
    if let Some(l) = line.strip_suffix('\n') {
        line.truncate(l.len());
    }
    if let Some(l) = line.strip_suffix('\r') {
        line.truncate(l.len());
    }
    // What no policy changes is checked before the database is opened; the store checks the
    // length and classes of the policy in force.
    check_password_basics(&line, name).map_err(anyhow::Error::new)?;
    Ok(Password::Given(line))
}

/// A `user` command with its arguments checked and its password read: prepared before the
/// database is opened, so that a typo creates nothing (not even an SQLite file).
pub enum UserAction {
    Add {
        name: String,
        role: Role,
        division: DivisionCode,
        password: Password,
    },
    List {
        json: bool,
    },
    SetDisabled {
        name: String,
        disabled: bool,
    },
    Password {
        name: String,
        password: Password,
    },
    ResetFactor {
        name: String,
        reason: String,
    },
}

pub fn prepare(cmd: &UserCommand) -> Result<UserAction> {
    Ok(match cmd {
        UserCommand::Add {
            name,
            role,
            division,
        } => {
            check_account_name(name).map_err(anyhow::Error::new)?;
            let role = parse_role(role)?;
            let division =
                DivisionCode::parse(division).map_err(|e| anyhow::Error::new(e.text()))?;
            role.fits_division(&division).map_err(anyhow::Error::new)?;
            UserAction::Add {
                name: name.clone(),
                role,
                division,
                password: read_password(name)?,
            }
        }
        UserCommand::List { json } => UserAction::List { json: *json },
        UserCommand::Disable { name } => UserAction::SetDisabled {
            name: name.clone(),
            disabled: true,
        },
        UserCommand::Enable { name } => UserAction::SetDisabled {
            name: name.clone(),
            disabled: false,
        },
        UserCommand::Password { name } => UserAction::Password {
            name: name.clone(),
            password: read_password(name)?,
        },
        UserCommand::ResetFactor { name, reason } => UserAction::ResetFactor {
            name: name.clone(),
            reason: reason.clone(),
        },
    })
}

/// A role by code name, Chinese or English name; the refusal lists the code names too.
fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).map_err(|t| {
        let codes = Role::ALL
            .iter()
            .map(|r| r.code())
            .collect::<Vec<_>>()
            .join(", ");
        anyhow::Error::new(Text::new(
            format!("{}（代码：{codes}）", t.get(Lang::Zh)),
            format!("{} (or the codes {codes})", t.get(Lang::En)),
        ))
    })
}

/// The store's refusal, in words for the person; or its error.
fn refusal(e: AccountError) -> anyhow::Error {
    match e {
        AccountError::Invalid(t) => anyhow::Error::new(t),
        AccountError::Store(e) => anyhow::Error::new(e),
    }
}

fn no_such_account(name: &str) -> anyhow::Error {
    anyhow::Error::new(text!(
        "没有名为“{name}”的账号",
        "there is no account named '{name}'"
    ))
}

pub async fn run(db: &Db, lang: Lang, action: UserAction) -> Result<ExitCode> {
    let actor = cli_actor();
    match action {
        UserAction::Add {
            name,
            role,
            division,
            password,
        } => {
            let account = db
                .create_account(&name, role, &division, password.as_str(), &actor)
                .await
                .map_err(refusal)?;
            let place = division_label(db.division(&account.division).await?.as_ref(), lang);
            let role = account.role.label(lang);
            let code = account.division.as_str();
            outln!(
                "{}",
                text!(
                    "已创建账号“{name}”：{role}，{code} {place}；首次登录时须自行修改密码",
                    "account '{name}' created: {role}, {code} {place}; the password must be changed at the first sign-in"
                )
                .get(lang)
            );
            print_generated(lang, &password);
        }
        UserAction::List { json } => list(db, lang, json).await?,
        UserAction::SetDisabled { name, disabled } => {
            if !db.set_account_disabled(&name, disabled, &actor).await? {
                return Err(no_such_account(&name));
            }
            let t = if disabled {
                text!(
                    "账号“{name}”已停用；其会话已结束，API令牌已作废",
                    "account '{name}' disabled; its sessions are ended and its API tokens revoked"
                )
            } else {
                text!("账号“{name}”已启用", "account '{name}' enabled")
            };
            outln!("{}", t.get(lang));
        }
        UserAction::Password { name, password } => {
            db.set_password(&name, password.as_str(), &actor)
                .await
                .map_err(refusal)?;
            outln!(
                "{}",
                text!(
                    "账号“{name}”的密码已更改；其会话已结束，API令牌已作废；账号下次登录时须自行修改密码",
                    "the password of account '{name}' is changed; its sessions are ended and its API tokens revoked; the account must change the password at its next sign-in"
                )
                .get(lang)
            );
            print_generated(lang, &password);
        }
        UserAction::ResetFactor { name, reason } => {
            db.reset_factor(&name, &actor, &reason)
                .await
                .map_err(refusal)?;
            outln!(
                "{}",
                text!(
                    "账号“{name}”的动态口令和恢复码已清除，其会话已结束；如其角色或策略要求，下次登录时须重新绑定",
                    "the second factor and recovery codes of account '{name}' are removed and its sessions ended; if its role or the policy requires a factor, it enrols again at its next sign-in"
                )
                .get(lang)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A generated password: a line about it on stderr, then the password alone on stdout.
fn print_generated(lang: Lang, password: &Password) {
    if let Password::Generated(p) = password {
        eprintln!(
            "{}",
            say(
                lang,
                "已生成密码（只显示这一次，请交给账号本人）：",
                "generated password (shown only this once; give it to the account's holder):",
            )
        );
        outln!("{p}");
    }
}

fn division_label(d: Option<&Division>, lang: Lang) -> String {
    match d {
        Some(d) => match lang {
            Lang::Zh => d.name_zh.clone(),
            Lang::En => d.name_en.clone(),
        },
        None => "?".to_owned(),
    }
}

/// A lock that still holds (the store keeps an expired one until the next sign-in).
fn current_lock(a: &Account, now: &str) -> Option<String> {
    a.locked_until.clone().filter(|u| u.as_str() > now)
}

async fn list(db: &Db, lang: Lang, json: bool) -> Result<()> {
    let accounts = db.accounts(None).await?;
    let mut divisions: HashMap<String, Option<Division>> = HashMap::new();
    for a in &accounts {
        if let Entry::Vacant(e) = divisions.entry(a.division.as_str().to_owned()) {
            e.insert(db.division(&a.division).await?);
        }
    }
    let division_of = |a: &Account| divisions.get(a.division.as_str()).and_then(Option::as_ref);
    let now = now_stored();
    if json {
        let rows: Vec<serde_json::Value> = accounts
            .iter()
            .map(|a| {
                let d = division_of(a);
                serde_json::json!({
                    "name": a.name,
                    "role": a.role.code(),
                    "role_name": a.role.label(lang),
                    "division": a.division.as_str(),
                    "division_name_zh": d.map(|d| d.name_zh.as_str()),
                    "division_name_en": d.map(|d| d.name_en.as_str()),
                    "disabled": a.disabled,
                    "must_change_password": a.must_change_password,
                    "second_factor": a.factor_enrolled,
                    "locked_until": current_lock(a, &now),
                    "created_at": a.created_at,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if accounts.is_empty() {
        outln!("{}", say(lang, "没有账号", "no accounts"));
        return Ok(());
    }
    let header: Vec<String> = [
        ("账号", "name"),
        ("角色", "role"),
        ("区划", "division"),
        ("停用", "disabled"),
        ("锁定至", "locked until"),
        ("创建时间", "created"),
    ]
    .iter()
    .map(|(zh, en)| say(lang, zh, en))
    .collect();
    let yes_no = |b: bool| match (lang, b) {
        (Lang::Zh, true) => "是",
        (Lang::Zh, false) => "否",
        (Lang::En, true) => "yes",
        (Lang::En, false) => "no",
    };
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                a.role.label(lang).to_owned(),
                format!(
                    "{} {}",
                    a.division.as_str(),
                    division_label(division_of(a), lang)
                ),
                yes_no(a.disabled).to_owned(),
                current_lock(a, &now).unwrap_or_else(|| "-".to_owned()),
                a.created_at.clone(),
            ]
        })
        .collect();
    for line in table_lines(&header, &rows) {
        outln!("{line}");
    }
    Ok(())
}

/// The lines of a table: columns two spaces apart, padded by display width (a Chinese
/// character takes two columns).
fn table_lines(header: &[String], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .map(|cells| {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(w - width(cell) + 2));
                }
            }
            out
        })
        .collect()
}

fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            // CJK, Hangul, full-width forms: the wide characters of Chinese text.
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF => 2,
            0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// `zhenxing token create NAME [--days N]`: the token alone on the last line of stdout (for
/// scripts), what it is and until when it is valid (Beijing time) on stderr.
pub async fn token_create(db: &Db, lang: Lang, name: &str, days: Option<i64>) -> Result<ExitCode> {
    let new = db
        .create_api_token(name, days, &cli_actor())
        .await
        .map_err(refusal)?;
    let until = zhenxing_core::china_time::china_time_text(&new.expires_at);
    eprintln!(
        "{}",
        text!(
            "已为账号“{name}”创建API令牌，有效至{until}（北京时间）；只显示这一次，请求时放在“Authorization: Bearer 令牌”头中。账号改密码后令牌作废：",
            "API token created for account '{name}', valid until {until} (Beijing time); shown only this once; send it as 'Authorization: Bearer TOKEN'. It is revoked when the account's password changes:"
        )
        .get(lang)
    );
    outln!("{}", new.token);
    Ok(ExitCode::SUCCESS)
}

/// One of the demo's accounts and its password of this run.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub name: String,
    pub role: Role,
    pub division: DivisionCode,
    pub division_name: Text,
    pub password: String,
    pub disabled: bool,
}

/// 城口县, a former poverty county.
const DEMO_COUNTY: &str = "500229000000";

/// Makes sure the demo has one account per role, and a village cadre in every village of the
/// demo township, and gives each a freshly generated password
/// (a restarted demo resets the passwords of the accounts it finds);
/// [`print_demo_accounts`] prints them.
/// The township is the one of 城口县 with the most households, the village the one of that
/// township with the most households.
pub async fn ensure_demo_accounts(db: &Db) -> Result<Vec<DemoAccount>> {
    let municipality = demo_code(zhenxing_store::divisions::MUNICIPALITY)?;
    let county = demo_code(DEMO_COUNTY)?;
    let township = busiest_child(db, &county).await?;
    let village = busiest_child(db, &township).await?;
    let plan = [
        ("demo_admin", Role::MunicipalAdmin, &municipality),
        ("demo_security", Role::SecurityAdmin, &municipality),
        ("demo_county", Role::CountyOfficer, &county),
        ("demo_township", Role::TownshipOfficer, &township),
        ("demo_village", Role::VillageCadre, &village),
        ("demo_auditor", Role::Auditor, &municipality),
        ("demo_department", Role::DepartmentOfficer, &municipality),
    ];
    let actor = cli_actor();
    let mut accounts = Vec::with_capacity(plan.len());
    for (name, role, division) in plan {
        accounts.push(ensure_demo_account(db, name, role, division, &actor).await?);
    }
    // One village cadre in every other village of the township too, so that warnings of any
    // of its villages can be assigned (one by one or in a batch, to each village's cadre);
    // listed after the demo village's.
    let mut at = accounts
        .iter()
        .position(|a| a.role == Role::VillageCadre)
        .map_or(accounts.len(), |i| i + 1);
    for other in db.child_divisions(&township).await? {
        let code = demo_code(&other.division.code)?;
        if code == village {
            continue;
        }
        let name = format!("demo_village_{}", &code.as_str()[9..]);
        let account = ensure_demo_account(db, &name, Role::VillageCadre, &code, &actor).await?;
        accounts.insert(at, account);
        at += 1;
    }
    Ok(accounts)
}

/// A demo account with a new password: created, or found and reset (its second factor too).
async fn ensure_demo_account(
    db: &Db,
    name: &str,
    role: Role,
    division: &DivisionCode,
    actor: &str,
) -> Result<DemoAccount> {
    let password = generate_password();
    let account = match db.account_by_name(name).await? {
        Some(existing) => {
            db.set_password(name, &password, actor)
                .await
                .map_err(refusal)?;
            // Like the password, the second factor starts anew with each demo: whoever
            // tries it enrols their own authenticator app at the first sign-in.
            if existing.factor_enrolled {
                db.reset_factor(name, actor, "demo restarted")
                    .await
                    .map_err(refusal)?;
            }
            existing
        }
        None => {
            let new = zhenxing_store::account_profiles::NewAccount {
                name: name.to_owned(),
                role,
                division: *division,
                password: password.clone(),
                profile: demo_profile(db, name, role, division).await?,
            };
            db.create_accounts(&[new], actor)
                .await
                .map_err(refusal)?
                .pop()
                .ok_or_else(|| anyhow::anyhow!("the demo account {name} was not created"))?
        }
    };
    // The demo's passwords are printed for whoever tries it: no change is asked for.
    db.waive_password_change(name, actor).await?;
    let d = db.division(&account.division).await?;
    Ok(DemoAccount {
        division_name: Text::new(
            division_label(d.as_ref(), Lang::Zh),
            division_label(d.as_ref(), Lang::En),
        ),
        name: account.name,
        role: account.role,
        division: account.division,
        password,
        disabled: account.disabled,
    })
}

/// A plausible holder for a demo account: a name drawn by the account's name, the unit its
/// role works in, and a phone number of the fictional 139-0023 block.
async fn demo_profile(
    db: &Db,
    name: &str,
    role: Role,
    division: &DivisionCode,
) -> Result<zhenxing_store::account_profiles::AccountProfile> {
    const NAMES: [&str; 16] = [
        "王建国",
        "李秀英",
        "张德明",
        "刘桂兰",
        "陈志强",
        "杨春梅",
        "赵永富",
        "黄丽华",
        "周学文",
        "吴明芳",
        "徐大勇",
        "孙红梅",
        "马成林",
        "朱晓燕",
        "胡国平",
        "郭玉珍",
    ];
    let seed = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let place = db
        .division(division)
        .await?
        .map(|d| d.name_zh)
        .unwrap_or_default();
    let unit = match role {
        Role::MunicipalAdmin | Role::SecurityAdmin => "重庆市乡村振兴局".to_owned(),
        Role::Auditor => "重庆市审计局".to_owned(),
        Role::DepartmentOfficer => "重庆市医疗保障局".to_owned(),
        Role::CountyOfficer => format!("{place}乡村振兴局"),
        Role::TownshipOfficer => format!("{place}人民政府"),
        Role::VillageCadre => place,
    };
    let bad = |what: &str, e: zhenxing_core::TextError| {
        anyhow::anyhow!("demo profile {what}: {}", e.text().en)
    };
    Ok(zhenxing_store::account_profiles::AccountProfile {
        real_name: Some(
            zhenxing_core::PersonName::parse(NAMES[seed as usize % NAMES.len()])
                .map_err(|e| bad("name", e))?,
        ),
        unit: Some(zhenxing_core::UnitName::parse(&unit).map_err(|e| bad("unit", e))?),
        phone: Some(
            zhenxing_core::Phone::parse(&format!("1390023{:04}", seed % 10_000))
                .map_err(|e| bad("phone", e))?,
        ),
    })
}

fn demo_code(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| anyhow::Error::new(e.text()))
}

/// The child division with the most households (the first by code among equals).
async fn busiest_child(db: &Db, parent: &DivisionCode) -> Result<DivisionCode> {
    let children = db.child_divisions(parent).await?;
    let best = children.iter().reduce(|best, c| {
        if c.households > best.households {
            c
        } else {
            best
        }
    });
    let Some(best) = best else {
        let code = parent.as_str();
        return Err(anyhow::Error::new(text!(
            "区划{code}在区划表中没有下级区划，无法设置演示账号",
            "division {code} has no subdivisions in the division list: cannot set up the demo accounts"
        )));
    };
    DivisionCode::parse(&best.division.code).map_err(|e| anyhow::Error::new(e.text()))
}

pub fn print_demo_accounts(accounts: &[DemoAccount], lang: Lang) {
    eprintln!(
        "{}",
        say(
            lang,
            "演示账号（密码每次启动演示时重新生成）：",
            "Demo accounts (their passwords are generated anew each time the demo starts):",
        )
    );
    let header: Vec<String> = [
        ("账号", "name"),
        ("角色", "role"),
        ("区划", "division"),
        ("密码", "password"),
    ]
    .iter()
    .map(|(zh, en)| say(lang, zh, en))
    .collect();
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            let mut name = a.name.clone();
            if a.disabled {
                name.push_str(&say(lang, "（已停用）", " (disabled)"));
            }
            vec![
                name,
                a.role.label(lang).to_owned(),
                format!("{} {}", a.division.as_str(), a.division_name.get(lang)),
                a.password.clone(),
            ]
        })
        .collect();
    for line in table_lines(&header, &rows) {
        eprintln!("  {line}");
    }
}
