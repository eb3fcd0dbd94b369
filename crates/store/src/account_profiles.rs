//! Accounts as a bureau keeps them (issue 18, item 5): who holds each one (real name, unit,
//! phone sealed at rest and shown masked), many created at once ([`Db::create_accounts`], the
//! CSV import's write: all or nothing) and many disabled or enabled at once
//! ([`Db::set_accounts_disabled`]). Each change is audited per account, in the transaction
//! that makes it; the phone number never enters the trail.

use crate::accounts::{Account, AccountError, check_account_name, end_sessions_and_tokens, entry};
use crate::audit::{self, AuditEntry};
use crate::credentials::{check_password_policy, hash_password};
use crate::{Db, Result, StoreError, keys, on_pool, on_tx};
use serde_json::json;
use std::collections::HashMap;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::{DivisionCode, PersonName, Phone, Role, Text, UnitName, text};

/// Who holds an account. Each part may be missing (accounts made before it was asked for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountProfile {
    pub real_name: Option<PersonName>,
    pub unit: Option<UnitName>,
    pub phone: Option<Phone>,
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub role: Role,
    pub division: DivisionCode,
    pub password: String,
    pub profile: AccountProfile,
}

/// An account's profile as stored, with the version its edit form sends back.
#[derive(Debug, Clone, Default)]
pub struct StoredProfile {
    pub profile: AccountProfile,
    pub version: i64,
}

/// The most accounts one import creates (each password is hashed with argon2id).
pub const CREATE_MOST: usize = 500;

fn row_text(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

impl Db {
    /// Creates every account of `new` or none: each is checked (name, role against its
    /// division's level, password policy, division in the table, name not taken, names not
    /// repeated), then all are written in one transaction with one `account.create` entry
    /// each. The first problem found is the error, naming the account when there are several.
    pub async fn create_accounts(
        &self,
        new: &[NewAccount],
        actor: &str,
    ) -> Result<Vec<Account>, AccountError> {
        if new.len() > CREATE_MOST {
            let (n, most) = (new.len(), CREATE_MOST);
            return Err(AccountError::Invalid(text!(
                "一次最多创建{most}个账号，这次有{n}个；请分批导入",
                "at most {most} accounts are created at once, this asks for {n}; import them in parts"
            )));
        }
        let several = new.len() > 1;
        let named = |name: &str, why: Text| {
            if several {
                Text::new(
                    format!("账号“{name}”：{}", why.zh),
                    format!("account '{name}': {}", why.en),
                )
            } else {
                why
            }
        };
        let rules = self.security_policy().await?.password_rules();
        let mut seen = std::collections::HashSet::new();
        for a in new {
            check_account_name(&a.name)
                .map_err(|why| AccountError::Invalid(named(&a.name, why)))?;
            a.role
                .fits_division(&a.division)
                .map_err(|why| AccountError::Invalid(named(&a.name, why)))?;
            check_password_policy(&a.password, &a.name, &rules)
                .map_err(|why| AccountError::Invalid(named(&a.name, why)))?;
            if self.division(&a.division).await?.is_none() {
                let code = a.division.as_str();
                return Err(AccountError::Invalid(named(
                    &a.name,
                    text!(
                        "区划代码{code}不在区划表中",
                        "division {code} is not in the division list"
                    ),
                )));
            }
            if !seen.insert(a.name.as_str()) {
                let name = &a.name;
                return Err(AccountError::Invalid(text!(
                    "账号“{name}”出现了不止一次",
                    "the account '{name}' is given more than once"
                )));
            }
        }
        let passwords: Vec<String> = new.iter().map(|a| a.password.clone()).collect();
        let hashes = tokio::task::spawn_blocking(move || {
            passwords
                .iter()
                .map(|p| hash_password(p))
                .collect::<std::result::Result<Vec<_>, Text>>()
        })
        .await
        .map_err(|e| AccountError::Invalid(text!("内部错误：{e}", "internal error: {e}")))?
        .map_err(AccountError::Invalid)?;
        let mut sealed = Vec::with_capacity(new.len());
        for a in new {
            sealed.push(keys::seal_opt(
                &keys::ACCOUNTS_PHONE,
                a.profile.phone.as_ref().map(Phone::as_str),
            )?);
        }
        let mut tx = self.begin_write().await?;
        let now = now_stored();
        let mut entries = Vec::with_capacity(new.len());
        for ((a, hash), phone) in new.iter().zip(&hashes).zip(&sealed) {
            let exists: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
                "SELECT id FROM accounts WHERE name = $1").bind(&a.name).fetch_optional(conn).await?);
            if exists.is_some() {
                tx.rollback().await?;
                let name = &a.name;
                return Err(AccountError::Invalid(text!(
                    "账号“{name}”已存在",
                    "an account named '{name}' already exists"
                )));
            }
            let real_name = a.profile.real_name.as_ref().map_or("", PersonName::as_str);
            let unit = a.profile.unit.as_ref().map_or("", UnitName::as_str);
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO accounts (name, role, division_code, password_hash, created_at, \
                 password_changed_at, must_change_password, real_name, unit, phone) \
                 VALUES ($1, $2, $3, $4, $5, $5, TRUE, $6, $7, $8)")
                .bind(&a.name).bind(a.role.code()).bind(a.division.as_str()).bind(hash)
                .bind(&now).bind(real_name).bind(unit).bind(phone)
                .execute(conn).await.map(drop)?);
            entries.push(AuditEntry {
                division_code: Some(a.division.as_str().to_owned()),
                ..entry(
                    actor,
                    "account.create",
                    &a.name,
                    json!({"role": a.role.code(), "division": a.division.as_str(),
                           "real_name": real_name, "unit": unit,
                           "phone": a.profile.phone.is_some()}),
                )
            });
        }
        audit::append(&mut tx, entries).await?;
        tx.commit().await?;
        let mut created = Vec::with_capacity(new.len());
        for a in new {
            created.push(self.account_by_name(&a.name).await?.ok_or_else(|| {
                AccountError::Store(StoreError::Corrupt("account vanished".into()))
            })?);
        }
        Ok(created)
    }

    /// The profiles of `names`, by account name (phones opened; the caller masks them).
    pub async fn account_profiles(&self, names: &[&str]) -> Result<HashMap<String, StoredProfile>> {
        let mut out = HashMap::new();
        for chunk in names.chunks(200) {
            if chunk.is_empty() {
                continue;
            }
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT name, real_name, unit, phone, version FROM accounts WHERE name IN ({marks})"
            );
            let rows: Vec<(String, String, String, Option<String>, i64)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for name in chunk {
                    q = q.bind(*name);
                }
                q.fetch_all(pool).await?
            });
            for (name, real_name, unit, phone, version) in rows {
                let corrupt = |what: &str| StoreError::Corrupt(format!("account {name}: {what}"));
                let phone = keys::open_opt(&keys::ACCOUNTS_PHONE, phone)?
                    .map(|p| Phone::parse(&p).map_err(|_| corrupt("phone")))
                    .transpose()?;
                let profile = AccountProfile {
                    real_name: row_text(&real_name)
                        .map(|n| PersonName::parse(&n).map_err(|_| corrupt("real name")))
                        .transpose()?,
                    unit: row_text(&unit)
                        .map(|u| UnitName::parse(&u).map_err(|_| corrupt("unit")))
                        .transpose()?,
                    phone,
                };
                out.insert(name, StoredProfile { profile, version });
            }
        }
        Ok(out)
    }

    /// Sets who holds `name` if the account is still at `version`: the real name and unit as
    /// given, the phone when `phone` is `Some` (kept otherwise). `Ok(false)`: the account changed
    /// since the form was read, or does not exist; nothing was written.
    pub async fn set_account_profile(
        &self,
        name: &str,
        version: i64,
        real_name: Option<&PersonName>,
        unit: Option<&UnitName>,
        phone: Option<&Phone>,
        actor: &str,
    ) -> Result<bool> {
        let sealed = keys::seal_opt(&keys::ACCOUNTS_PHONE, phone.map(Phone::as_str))?;
        let real_name = real_name.map_or("", PersonName::as_str);
        let unit = unit.map_or("", UnitName::as_str);
        let mut tx = self.begin_write().await?;
        let division: Option<String> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "UPDATE accounts SET real_name = $1, unit = $2, phone = COALESCE($3, phone), \
             version = version + 1 WHERE name = $4 AND version = $5 RETURNING division_code")
            .bind(real_name).bind(unit).bind(&sealed).bind(name).bind(version)
            .fetch_optional(conn).await?);
        let Some(division) = division else {
            tx.rollback().await?;
            return Ok(false);
        };
        audit::append(
            &mut tx,
            vec![AuditEntry {
                division_code: Some(division),
                ..entry(
                    actor,
                    "account.profile",
                    name,
                    json!({"real_name": real_name, "unit": unit, "phone_changed": phone.is_some()}),
                )
            }],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Disables or enables every account of `names` or none (an unknown name refuses the
    /// whole batch): disabling ends their sessions and revokes their tokens, enabling lifts a
    /// lockout, as [`Db::set_account_disabled`] does for one. The number changed; `Err` names
    /// the first account not found.
    pub async fn set_accounts_disabled(
        &self,
        names: &[String],
        disabled: bool,
        actor: &str,
    ) -> Result<std::result::Result<usize, Text>> {
        let action = if disabled {
            "account.disable"
        } else {
            "account.enable"
        };
        let mut tx = self.begin_write().await?;
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let row: Option<(i64, String)> = on_tx!(&mut tx, conn => sqlx::query_as(
                "UPDATE accounts SET disabled = $1, failed_logins = 0, locked_until = NULL, \
                 version = version + 1 WHERE name = $2 RETURNING id, division_code")
                .bind(disabled).bind(name).fetch_optional(conn).await?);
            let Some((id, division)) = row else {
                tx.rollback().await?;
                return Ok(Err(text!(
                    "没有名为“{name}”的账号，均未更改",
                    "there is no account named '{name}'; nothing was changed"
                )));
            };
            if disabled {
                end_sessions_and_tokens(&mut tx, id).await?;
            }
            entries.push(AuditEntry {
                division_code: Some(division),
                ..entry(
                    actor,
                    action,
                    name,
                    if names.len() > 1 {
                        json!({"batch": names.len()})
                    } else {
                        json!({})
                    },
                )
            });
        }
        audit::append(&mut tx, entries).await?;
        tx.commit().await?;
        Ok(Ok(names.len()))
    }
}
