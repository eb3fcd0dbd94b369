//! Accounts, sign-in, sessions and API tokens. Every change to an account and every sign-in,
//! sign-out and failed sign-in is an audited operation, in the same transaction as the change.

use crate::audit::{self, AuditEntry};
use crate::credentials::{
    check_password_policy, dummy_hash, hash_password, random_token, token_hash, verify_password,
};
use crate::factor::check_code;
use crate::security_policy::SecurityPolicy;
use crate::{Db, Result, StoreError, on_pool, on_tx};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use zhenxing_core::china_time::{now_stored, stored};
use zhenxing_core::{DivisionCode, Lang, Role, Scope, Text, text};

/// A person's account, as the access policy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub division: DivisionCode,
    pub lang: Lang,
    pub disabled: bool,
    pub locked_until: Option<String>,
    pub created_at: String,
    /// The password was set by someone else (an administrator, the CLI): until the account
    /// changes it, it reaches only the change-password page and its API tokens open nothing.
    pub must_change_password: bool,
    /// A second factor is in force (`store::factor`).
    pub factor_enrolled: bool,
    pub password_changed_at: String,
}

impl Account {
    pub fn scope(&self) -> Scope {
        Scope::new(self.division)
    }

    pub fn may(&self, action: zhenxing_core::Action) -> bool {
        self.role.may(action)
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    name: String,
    role: String,
    division_code: String,
    lang: String,
    disabled: bool,
    locked_until: Option<String>,
    created_at: String,
    must_change_password: bool,
    factor_enrolled: bool,
    password_changed_at: String,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Account> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("account {}: {what}", r.name));
        Ok(Account {
            id: r.id,
            role: Role::from_code(&r.role).ok_or_else(|| corrupt("role"))?,
            division: DivisionCode::parse(&r.division_code).map_err(|_| corrupt("division"))?,
            lang: Lang::parse(&r.lang).unwrap_or_default(),
            disabled: r.disabled,
            locked_until: r.locked_until,
            created_at: r.created_at,
            must_change_password: r.must_change_password,
            factor_enrolled: r.factor_enrolled,
            password_changed_at: r.password_changed_at,
            name: r.name,
        })
    }
}

const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.role, a.division_code, a.lang, a.disabled, \
     a.locked_until, a.created_at, a.must_change_password, \
     (a.totp_enrolled_at IS NOT NULL) AS factor_enrolled, a.password_changed_at";

/// How long an API token lives when its maker does not say, and at most.
pub const API_TOKEN_DEFAULT_DAYS: i64 = 90;
pub const API_TOKEN_MAX_DAYS: i64 = 365;

/// How long a pending sign-in (password right, second factor not yet given) lasts.
pub const PENDING_SIGN_IN_MINUTES: i64 = 5;

/// A valid account name: 2 to 64 letters, digits, `_`, `-` or `.` (Chinese letters included).
pub fn check_account_name(name: &str) -> Result<(), Text> {
    let n = name.chars().count();
    if !(2..=64).contains(&n)
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(text!(
            "账号名须为2到64个字母、数字、“_”“-”或“.”",
            "an account name is 2 to 64 letters, digits, '_', '-' or '.'"
        ));
    }
    Ok(())
}

/// Why an account operation was refused, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(Text),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Store(StoreError::Sql(e))
    }
}

/// The outcome of a sign-in attempt. An unknown name, a wrong password, a locked and a
/// disabled account are told apart only in the audit trail: the person gets the same answer
/// after the same work, so that nobody learns which account names exist.
#[derive(Debug)]
pub enum SignIn {
    Ok {
        account: Account,
        session: NewSession,
    },
    /// The password was right and the account has a second factor: `pending` (for a cookie)
    /// names a pending sign-in that [`Db::complete_sign_in`] turns into a session with a code.
    /// It opens nothing by itself.
    SecondFactor {
        pending: String,
    },
    Refused,
}

/// The outcome of the second step of a sign-in.
#[derive(Debug)]
pub enum FactorSignIn {
    Ok {
        account: Account,
        session: NewSession,
    },
    /// The code was wrong or replayed; the pending sign-in stays (until it expires or the
    /// account locks) for another try.
    Retry,
    /// No such pending sign-in (expired, used, or the account locked meanwhile): sign in again.
    Expired,
}

/// An API token just made: the token is shown once, with its expiry.
#[derive(Debug)]
pub struct NewApiToken {
    pub token: String,
    pub expires_at: String,
}

/// An account's API token as listed (never the token itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenInfo {
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A session just opened: the token goes into the cookie and nowhere else.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
}

/// A session found from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub csrf_token: String,
    /// When the session ends whatever happens (its absolute limit), as stored (UTC).
    pub expires_at: String,
    /// The account's role or the policy requires a second factor and it has none: until it
    /// enrols, the session reaches only the enrolment page.
    pub must_enrol: bool,
}

async fn hash_off_thread(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Invalid(text!("内部错误：{e}", "internal error: {e}")))?
        .map_err(AccountError::Invalid)
}

async fn verify_off_thread(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false)
}

pub(crate) fn entry(
    actor: &str,
    action: &str,
    object: &str,
    after: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: "account".to_owned(),
        object_id: Some(object.to_owned()),
        after: Some(after),
        ..AuditEntry::default()
    }
}

impl Db {
    /// Creates an account; `actor` is who asked (an administrator's name, or `cli`). Its
    /// holder's profile is left empty ([`Db::create_accounts`] takes one).
    pub async fn create_account(
        &self,
        name: &str,
        role: Role,
        division: &DivisionCode,
        password: &str,
        actor: &str,
    ) -> Result<Account, AccountError> {
        let new = crate::account_profiles::NewAccount {
            name: name.to_owned(),
            role,
            division: *division,
            password: password.to_owned(),
            profile: Default::default(),
        };
        let mut created = self.create_accounts(&[new], actor).await?;
        created
            .pop()
            .ok_or_else(|| AccountError::Store(StoreError::Corrupt("account vanished".into())))
    }

    pub async fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.name = $1");
        let row: Option<AccountRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(name).fetch_optional(pool).await?);
        row.map(Account::try_from).transpose()
    }

    /// Every account, by name; with `scope`, only those whose division lies under it.
    pub async fn accounts(&self, scope: Option<&Scope>) -> Result<Vec<Account>> {
        let pattern = scope.map_or_else(|| "%".to_owned(), Scope::like_pattern);
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.division_code LIKE $1 ORDER BY a.name"
        );
        let rows: Vec<AccountRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(pattern).fetch_all(pool).await?);
        rows.into_iter().map(Account::try_from).collect()
    }

    /// Disables or enables an account; disabling also ends its sessions and revokes its tokens.
    /// Returns false when there is no such account.
    pub async fn set_account_disabled(
        &self,
        name: &str,
        disabled: bool,
        actor: &str,
    ) -> Result<bool> {
        Ok(self
            .set_accounts_disabled(&[name.to_owned()], disabled, actor)
            .await?
            .is_ok())
    }

    /// Sets a new password chosen by someone else (`actor`: an administrator, the CLI),
    /// checked against the policy. The account must change it at its next sign-in; its
    /// sessions end and its API tokens are revoked. Who may set whose password is the access
    /// policy's (`Role::may_set_password_of`), asked by the front end.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        actor: &str,
    ) -> Result<(), AccountError> {
        let rules = self.security_policy().await?.password_rules();
        check_password_policy(password, name, &rules).map_err(AccountError::Invalid)?;
        let hash = hash_off_thread(password.to_owned()).await?;
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "UPDATE accounts SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
             locked_until = NULL, must_change_password = TRUE, version = version + 1 \
             WHERE name = $3 RETURNING id")
            .bind(&hash).bind(now_stored()).bind(name).fetch_optional(conn).await?);
        let Some(id) = id else {
            tx.rollback().await?;
            return Err(AccountError::Invalid(text!(
                "没有名为“{name}”的账号",
                "there is no account named '{name}'"
            )));
        };
        let revoked = end_sessions_and_tokens(&mut tx, id).await?;
        audit::append(
            &mut tx,
            vec![entry(
                actor,
                "account.password",
                name,
                json!({"must_change": true, "tokens_revoked": revoked}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account changes its own password: `current` must be its password now, the new one
    /// must pass the policy and differ from it. Clears the must-change flag, ends every
    /// session of the account and revokes its API tokens (a stolen token dies with the old
    /// password); audited with the account as the actor.
    pub async fn change_own_password(
        &self,
        account: &Account,
        current: &str,
        new: &str,
        from: &str,
    ) -> Result<(), AccountError> {
        let stored_hash: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT password_hash FROM accounts WHERE id = $1 AND NOT disabled")
            .bind(account.id).fetch_optional(pool).await?);
        let Some(stored_hash) = stored_hash else {
            return Err(AccountError::Invalid(text!(
                "账号不可用",
                "the account is not available"
            )));
        };
        if !verify_off_thread(current.to_owned(), stored_hash).await {
            return Err(AccountError::Invalid(text!(
                "当前密码不正确",
                "the current password is wrong"
            )));
        }
        if current == new {
            return Err(AccountError::Invalid(text!(
                "新密码须与当前密码不同",
                "the new password must differ from the current one"
            )));
        }
        let rules = self.security_policy().await?.password_rules();
        check_password_policy(new, &account.name, &rules).map_err(AccountError::Invalid)?;
        let hash = hash_off_thread(new.to_owned()).await?;
        let mut tx = self.begin_write().await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE accounts SET password_hash = $1, password_changed_at = $2, failed_logins = 0, \
             locked_until = NULL, must_change_password = FALSE, version = version + 1 WHERE id = $3")
            .bind(&hash).bind(now_stored()).bind(account.id).execute(conn).await.map(drop)?);
        let revoked = end_sessions_and_tokens(&mut tx, account.id).await?;
        audit::append(
            &mut tx,
            vec![entry(
                &account.name,
                "account.password_changed",
                &account.name,
                json!({"from": from, "tokens_revoked": revoked}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lets an account keep a password someone else set, without changing it at sign-in: for
    /// the demo's accounts (whose passwords are printed for whoever tries the demo) and test
    /// fixtures. Only the operating-system operator reaches it; audited.
    pub async fn waive_password_change(&self, name: &str, actor: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "UPDATE accounts SET must_change_password = FALSE, version = version + 1 \
             WHERE name = $1 RETURNING id")
            .bind(name).fetch_optional(conn).await?);
        if id.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        audit::append(
            &mut tx,
            vec![entry(
                actor,
                "account.password_change_waived",
                name,
                json!({}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The language an account reads pages in.
    pub async fn set_account_lang(&self, account_id: i64, lang: Lang) -> Result<()> {
        let code = match lang {
            Lang::Zh => "zh",
            Lang::En => "en",
        };
        on_pool!(self, pool => sqlx::query("UPDATE accounts SET lang = $1 WHERE id = $2")
            .bind(code).bind(account_id).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Checks a name and password. An account with a second factor gets a pending sign-in
    /// ([`SignIn::SecondFactor`]), any other a session. `from` is the client's address,
    /// recorded in the audit trail. Failures count towards the account's lockout; a password
    /// older than the policy's maximum age must be changed (the account reaches only the
    /// change-password page until it is).
    pub async fn sign_in(&self, name: &str, password: &str, from: &str) -> Result<SignIn> {
        let policy = self.security_policy().await?;
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM accounts a WHERE a.name = $1");
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            account: AccountRow,
            password_hash: String,
        }
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(name).fetch_optional(pool).await?);
        let now = OffsetDateTime::now_utc();
        let now_text = stored(now);
        // Every attempt does the same work whatever the name (one password hash checked, one
        // audited write), so that neither the answer nor its time tells which names exist.
        let Some(row) = row else {
            verify_off_thread(password.to_owned(), dummy_hash().to_owned()).await;
            // The name typed is not recorded: people type passwords into the name field.
            audit::append_one(
                self,
                AuditEntry {
                    actor: "-".to_owned(),
                    action: "auth.sign_in_failed".to_owned(),
                    object_type: "account".to_owned(),
                    after: Some(json!({"from": from, "why": "unknown_account"})),
                    ..AuditEntry::default()
                },
            )
            .await?;
            return Ok(SignIn::Refused);
        };
        let mut account = Account::try_from(row.account)?;
        let matches = verify_off_thread(password.to_owned(), row.password_hash).await;
        let mut tx = self.begin_write().await?;
        if is_locked(&account, &now_text) {
            // The lock holds even against the right password until it runs out.
            audit::append(
                &mut tx,
                vec![entry(
                    &account.name,
                    "auth.sign_in_failed",
                    &account.name,
                    json!({"from": from, "why": "locked"}),
                )],
            )
            .await?;
            tx.commit().await?;
            return Ok(SignIn::Refused);
        }
        if !matches || account.disabled {
            let why = if account.disabled {
                "disabled"
            } else {
                "wrong_password"
            };
            record_failure(&mut tx, &account, &policy, "auth.sign_in_failed", why, from).await?;
            tx.commit().await?;
            return Ok(SignIn::Refused);
        }
        if policy.max_age_days > 0 && !account.must_change_password {
            let oldest = stored(now - Duration::days(policy.max_age_days.into()));
            if account.password_changed_at < oldest {
                on_tx!(&mut tx, conn => sqlx::query(
                    "UPDATE accounts SET must_change_password = TRUE, version = version + 1 WHERE id = $1")
                    .bind(account.id).execute(conn).await.map(drop)?);
                audit::append(
                    &mut tx,
                    vec![entry(
                        &account.name,
                        "account.password_expired",
                        &account.name,
                        json!({"changed_at": account.password_changed_at,
                               "max_age_days": policy.max_age_days}),
                    )],
                )
                .await?;
                account.must_change_password = true;
            }
        }
        if account.factor_enrolled {
            let pending = random_token();
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO pending_sign_ins (token_hash, account_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)")
                .bind(token_hash(&pending)).bind(account.id).bind(&now_text)
                .bind(stored(now + Duration::minutes(PENDING_SIGN_IN_MINUTES)))
                .execute(conn).await.map(drop)?);
            on_tx!(&mut tx, conn => sqlx::query("DELETE FROM pending_sign_ins WHERE expires_at < $1")
                .bind(&now_text).execute(conn).await.map(drop)?);
            audit::append(
                &mut tx,
                vec![entry(
                    &account.name,
                    "auth.password_ok",
                    &account.name,
                    json!({"from": from, "next": "second_factor"}),
                )],
            )
            .await?;
            tx.commit().await?;
            return Ok(SignIn::SecondFactor { pending });
        }
        let session = open_session(&mut tx, &account, &policy, from, "password").await?;
        tx.commit().await?;
        Ok(SignIn::Ok { account, session })
    }

    /// The second step of a sign-in: a time code or a recovery code for the pending sign-in
    /// `pending`. A wrong or replayed code counts towards the lockout; every outcome is
    /// audited.
    pub async fn complete_sign_in(
        &self,
        pending: &str,
        code: &str,
        from: &str,
    ) -> Result<FactorSignIn> {
        let policy = self.security_policy().await?;
        let now_text = now_stored();
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM pending_sign_ins p JOIN accounts a ON a.id = p.account_id \
             WHERE p.token_hash = $1 AND p.expires_at > $2 AND NOT a.disabled"
        );
        let hash = token_hash(pending);
        let row: Option<AccountRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&hash).bind(&now_text).fetch_optional(pool).await?);
        let Some(row) = row else {
            return Ok(FactorSignIn::Expired);
        };
        let account = Account::try_from(row)?;
        let mut tx = self.begin_write().await?;
        if is_locked(&account, &now_text) {
            on_tx!(&mut tx, conn => sqlx::query("DELETE FROM pending_sign_ins WHERE account_id = $1")
                .bind(account.id).execute(conn).await.map(drop)?);
            audit::append(
                &mut tx,
                vec![entry(
                    &account.name,
                    "auth.factor_failed",
                    &account.name,
                    json!({"from": from, "why": "locked"}),
                )],
            )
            .await?;
            tx.commit().await?;
            return Ok(FactorSignIn::Expired);
        }
        let check = check_code(&mut tx, account.id, code).await?;
        if !check.ok() {
            let locked = record_failure(
                &mut tx,
                &account,
                &policy,
                "auth.factor_failed",
                check.code(),
                from,
            )
            .await?;
            if locked {
                on_tx!(&mut tx, conn => sqlx::query("DELETE FROM pending_sign_ins WHERE account_id = $1")
                    .bind(account.id).execute(conn).await.map(drop)?);
            }
            tx.commit().await?;
            return Ok(if locked {
                FactorSignIn::Expired
            } else {
                FactorSignIn::Retry
            });
        }
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM pending_sign_ins WHERE token_hash = $1")
            .bind(&hash).execute(conn).await.map(drop)?);
        let session = open_session(&mut tx, &account, &policy, from, check.code()).await?;
        tx.commit().await?;
        Ok(FactorSignIn::Ok { account, session })
    }

    /// The live session of a cookie's token, if any; using it keeps it alive.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let policy = self.security_policy().await?;
        let now = OffsetDateTime::now_utc();
        let now_text = stored(now);
        let idle_limit = stored(now - policy.idle());
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, s.csrf_token, s.last_seen_at, s.expires_at FROM sessions s \
             JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND NOT a.disabled"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            account: AccountRow,
            csrf_token: String,
            last_seen_at: String,
            expires_at: String,
        }
        let hash = token_hash(token);
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&hash).bind(&now_text).bind(&idle_limit).fetch_optional(pool).await?);
        let Some(row) = row else { return Ok(None) };
        // Touch at most once a minute: a page view should not be a write.
        if row.last_seen_at < stored(now - Duration::minutes(1)) {
            on_pool!(self, pool => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(&now_text).bind(&hash).execute(pool).await.map(drop)?);
        }
        let account = Account::try_from(row.account)?;
        Ok(Some(Session {
            must_enrol: policy.requires_factor(account.role) && !account.factor_enrolled,
            account,
            csrf_token: row.csrf_token,
            expires_at: row.expires_at,
        }))
    }

    /// Ends a session (sign-out), audited.
    pub async fn sign_out(&self, token: &str, account: &Account) -> Result<()> {
        let mut tx = self.begin_write().await?;
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token)).execute(conn).await.map(drop)?);
        audit::append(
            &mut tx,
            vec![entry(
                &account.name,
                "auth.sign_out",
                &account.name,
                json!({}),
            )],
        )
        .await?;
        tx.commit().await
    }

    /// Creates an API token for an account, valid for `days` (default
    /// [`API_TOKEN_DEFAULT_DAYS`], at most [`API_TOKEN_MAX_DAYS`]); the token is returned
    /// once and stored hashed.
    pub async fn create_api_token(
        &self,
        name: &str,
        days: Option<i64>,
        actor: &str,
    ) -> Result<NewApiToken, AccountError> {
        let days = days.unwrap_or(API_TOKEN_DEFAULT_DAYS);
        if !(1..=API_TOKEN_MAX_DAYS).contains(&days) {
            return Err(AccountError::Invalid(text!(
                "API令牌的有效期须为1到{API_TOKEN_MAX_DAYS}天",
                "an API token is valid for 1 to {API_TOKEN_MAX_DAYS} days"
            )));
        }
        let Some(account) = self.account_by_name(name).await? else {
            return Err(AccountError::Invalid(text!(
                "没有名为“{name}”的账号",
                "there is no account named '{name}'"
            )));
        };
        if account.disabled {
            return Err(AccountError::Invalid(text!(
                "账号“{name}”已停用",
                "the account '{name}' is disabled"
            )));
        }
        let token = format!("zx_{}", random_token());
        let now = OffsetDateTime::now_utc();
        let expires_at = stored(now + Duration::days(days));
        let mut tx = self.begin_write().await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO api_tokens (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token)).bind(account.id).bind(stored(now)).bind(&expires_at)
            .execute(conn).await.map(drop)?);
        audit::append(
            &mut tx,
            vec![entry(
                actor,
                "token.create",
                name,
                json!({"expires_at": expires_at}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(NewApiToken { token, expires_at })
    }

    /// The account behind an API token: not revoked, not expired, the account neither
    /// disabled nor waiting for a password change. Anything else answers like an unknown token.
    pub async fn account_by_api_token(&self, token: &str) -> Result<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id \
             WHERE t.token_hash = $1 AND NOT t.revoked AND t.expires_at > $2 AND NOT a.disabled \
             AND NOT a.must_change_password"
        );
        let row: Option<AccountRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token_hash(token)).bind(now_stored()).fetch_optional(pool).await?);
        row.map(Account::try_from).transpose()
    }

    /// An account's API tokens, newest first (their expiry and state, never the tokens).
    pub async fn api_tokens(&self, account_id: i64) -> Result<Vec<ApiTokenInfo>> {
        let rows: Vec<ApiTokenInfo> = on_pool!(self, pool => sqlx::query_as(
            "SELECT created_at, expires_at, last_used_at, revoked FROM api_tokens \
             WHERE account_id = $1 ORDER BY created_at DESC")
            .bind(account_id).fetch_all(pool).await?);
        Ok(rows)
    }
}

fn is_locked(account: &Account, now_text: &str) -> bool {
    account
        .locked_until
        .as_deref()
        .is_some_and(|u| u > now_text)
}

/// Counts a failed sign-in step (wrong password, wrong or replayed code) towards the lockout
/// and audits it as `action` with `why`; whether the account is now locked.
async fn record_failure(
    tx: &mut crate::Tx,
    account: &Account,
    policy: &SecurityPolicy,
    action: &str,
    why: &str,
    from: &str,
) -> Result<bool> {
    let failures: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
        .bind(account.id).fetch_one(conn).await?);
    let now_locked = failures >= i64::from(policy.lockout_failures);
    if now_locked {
        let until = stored(OffsetDateTime::now_utc() + policy.lockout());
        on_tx!(tx, conn => sqlx::query(
            "UPDATE accounts SET locked_until = $1, failed_logins = 0 WHERE id = $2")
            .bind(until).bind(account.id).execute(conn).await.map(drop)?);
    }
    audit::append(
        tx,
        vec![entry(
            &account.name,
            action,
            &account.name,
            json!({"from": from, "why": why, "failures": failures, "locked": now_locked}),
        )],
    )
    .await?;
    Ok(now_locked)
}

/// Opens a session for an account that passed every step of sign-in (`by`: how the last step
/// was passed), ending its oldest sessions beyond the policy's number, audited.
async fn open_session(
    tx: &mut crate::Tx,
    account: &Account,
    policy: &SecurityPolicy,
    from: &str,
    by: &str,
) -> Result<NewSession> {
    let now = OffsetDateTime::now_utc();
    let now_text = stored(now);
    let session = NewSession {
        token: random_token(),
        csrf_token: random_token(),
    };
    on_tx!(tx, conn => sqlx::query(
        "UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(account.id).execute(conn).await.map(drop)?);
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $4, $5)")
        .bind(token_hash(&session.token)).bind(account.id).bind(&session.csrf_token)
        .bind(&now_text).bind(stored(now + policy.absolute()))
        .execute(conn).await.map(drop)?);
    // Expired sessions of everyone go with each sign-in: the table stays small without a
    // background job.
    on_tx!(tx, conn => sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2")
        .bind(&now_text).bind(stored(now - policy.idle())).execute(conn).await.map(drop)?);
    let ended = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM sessions WHERE account_id = $1 AND token_hash NOT IN \
         (SELECT token_hash FROM sessions WHERE account_id = $1 \
          ORDER BY created_at DESC, token_hash LIMIT $2)")
        .bind(account.id).bind(i64::from(policy.max_sessions))
        .execute(conn).await?.rows_affected());
    audit::append(
        tx,
        vec![entry(
            &account.name,
            "auth.sign_in",
            &account.name,
            json!({"from": from, "by": by, "oldest_sessions_ended": ended}),
        )],
    )
    .await?;
    Ok(session)
}

/// Ends every session of an account and revokes its API tokens; how many live tokens went.
pub(crate) async fn end_sessions_and_tokens(tx: &mut crate::Tx, account_id: i64) -> Result<u64> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account_id).execute(conn).await.map(drop)?);
    let revoked = on_tx!(tx, conn => sqlx::query(
        "UPDATE api_tokens SET revoked = TRUE WHERE account_id = $1 AND NOT revoked")
        .bind(account_id).execute(conn).await?.rows_affected());
    Ok(revoked)
}

impl Db {
    /// The last sign-in of each of `names` (from the audit trail's `auth.sign_in`), as stored
    /// (UTC); accounts that never signed in are left out.
    pub async fn last_sign_ins(
        &self,
        names: &[&str],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in names.chunks(200) {
            if chunk.is_empty() {
                continue;
            }
            let marks = (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT actor, MAX(at) FROM audit_log WHERE action = $1 AND actor IN ({marks}) \
                 GROUP BY actor"
            );
            let rows: Vec<(String, Option<String>)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind("auth.sign_in");
                for name in chunk {
                    q = q.bind(*name);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows.into_iter().filter_map(|(a, at)| Some((a, at?))));
        }
        Ok(out)
    }
}
