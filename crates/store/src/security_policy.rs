//! The password and session policy (issue 15): one settings row (`security.policy`, JSON), set
//! on the security administrator's page and read where it applies: password checks, sign-in
//! (lockout, expiry, the second factor), and every session lookup (idle and absolute limits,
//! sessions per account). No row means the defaults below. Every change is audited with the
//! policy before and after.

use crate::audit::{AuditEntry, Operation};
use crate::credentials::PasswordRules;
use crate::procedures::write_setting;
use crate::{Db, Result, StoreError, on_pool};
use serde::{Deserialize, Serialize};
use time::Duration;
use zhenxing_core::{Text, text};

const KEY: &str = "security.policy";

/// The password and session policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Shortest password, in characters.
    pub min_length: u32,
    /// How many of the four classes (lower-case, upper-case, digits, other) a password needs.
    pub min_classes: u32,
    /// A password older than this many days must be changed at sign-in; 0: never expires.
    pub max_age_days: u32,
    /// Consecutive failed sign-ins (wrong password or wrong code) that lock an account...
    pub lockout_failures: u32,
    /// ...for this many minutes.
    pub lockout_minutes: u32,
    /// A session unused for this many minutes ends.
    pub idle_minutes: u32,
    /// A session ends this many minutes after sign-in, used or not.
    pub absolute_minutes: u32,
    /// Sessions an account may have at once; a new sign-in ends the oldest beyond this.
    pub max_sessions: u32,
    /// Every role signs in with a second factor, not only the three administrators.
    pub factor_for_all: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            min_length: 10,
            min_classes: 3,
            max_age_days: 90,
            lockout_failures: 5,
            lockout_minutes: 15,
            idle_minutes: 30,
            absolute_minutes: 12 * 60,
            max_sessions: 3,
            factor_for_all: false,
        }
    }
}

/// The bounds of each number of the policy, with its names for error messages.
struct Bound {
    zh: &'static str,
    en: &'static str,
    min: u32,
    max: u32,
}

impl SecurityPolicy {
    fn bounds(&self) -> [(u32, Bound); 8] {
        let b = |zh, en, min, max| Bound { zh, en, min, max };
        [
            (
                self.min_length,
                b("密码最短长度", "minimum password length", 8, 64),
            ),
            (
                self.min_classes,
                b("密码字符类别数", "character classes", 2, 4),
            ),
            (
                self.max_age_days,
                b("密码最长使用天数", "maximum password age", 0, 365),
            ),
            (
                self.lockout_failures,
                b("锁定前失败次数", "failures before lockout", 3, 10),
            ),
            (
                self.lockout_minutes,
                b("锁定分钟数", "lockout minutes", 1, 24 * 60),
            ),
            (
                self.idle_minutes,
                b("会话空闲分钟数", "idle session minutes", 5, 240),
            ),
            (
                self.absolute_minutes,
                b("会话最长分钟数", "absolute session minutes", 30, 24 * 60),
            ),
            (
                self.max_sessions,
                b("每账号会话数", "sessions per account", 1, 20),
            ),
        ]
    }

    /// Every problem of a policy, in words; Ok when it may be stored.
    pub fn check(&self) -> std::result::Result<(), Vec<Text>> {
        let mut problems: Vec<Text> = self
            .bounds()
            .iter()
            .filter(|(value, b)| !(b.min..=b.max).contains(value))
            .map(|(value, b)| {
                let (zh, en, min, max) = (b.zh, b.en, b.min, b.max);
                text!(
                    "{zh}须在{min}到{max}之间（填写的是{value}）",
                    "the {en} must be between {min} and {max} (it was {value})"
                )
            })
            .collect();
        if self.absolute_minutes < self.idle_minutes {
            problems.push(text!(
                "会话最长分钟数不能小于空闲分钟数",
                "the absolute session limit cannot be shorter than the idle limit"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub fn password_rules(&self) -> PasswordRules {
        PasswordRules {
            min_chars: self.min_length as usize,
            min_classes: self.min_classes as usize,
        }
    }

    pub fn idle(&self) -> Duration {
        Duration::minutes(self.idle_minutes.into())
    }

    pub fn absolute(&self) -> Duration {
        Duration::minutes(self.absolute_minutes.into())
    }

    pub fn lockout(&self) -> Duration {
        Duration::minutes(self.lockout_minutes.into())
    }

    /// Whether an account of `role` must sign in with a second factor.
    pub fn requires_factor(&self, role: zhenxing_core::Role) -> bool {
        self.factor_for_all || role.requires_second_factor()
    }
}

impl Db {
    /// The policy in force: the stored row, or the defaults when none was ever set.
    pub async fn security_policy(&self) -> Result<SecurityPolicy> {
        let value: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1").bind(KEY).fetch_optional(pool).await?);
        match value {
            None => Ok(SecurityPolicy::default()),
            Some(v) => serde_json::from_str(&v)
                .map_err(|e| StoreError::Corrupt(format!("setting {KEY} does not parse: {e}"))),
        }
    }

    /// Stores a new policy after [`SecurityPolicy::check`], audited with before and after;
    /// the problems otherwise (nothing changes).
    pub async fn set_security_policy(
        &self,
        actor: &str,
        new: &SecurityPolicy,
    ) -> Result<std::result::Result<(), Vec<Text>>> {
        if let Err(problems) = new.check() {
            return Ok(Err(problems));
        }
        let old = self.security_policy().await?;
        let as_json = |p: &SecurityPolicy| serde_json::to_value(p).unwrap_or_default();
        let mut tx = self.begin_write().await?;
        let operation = Operation::begin(
            &mut tx,
            AuditEntry {
                actor: actor.to_owned(),
                action: "settings.security_policy".into(),
                object_type: "settings".into(),
                object_id: Some("security_policy".into()),
                before: Some(as_json(&old)),
                after: Some(as_json(new)),
                ..Default::default()
            },
        )
        .await?;
        let value = serde_json::to_string(new)
            .map_err(|e| StoreError::Corrupt(format!("policy does not serialise: {e}")))?;
        write_setting(&mut tx, KEY, &value, actor, operation.seq()).await?;
        operation.finish(&mut tx, None).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_bounds_are_named() {
        assert!(SecurityPolicy::default().check().is_ok());
        let bad = SecurityPolicy {
            min_length: 4,
            idle_minutes: 60,
            absolute_minutes: 30,
            ..SecurityPolicy::default()
        };
        let problems = bad.check().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].en.contains("minimum password length"));
        assert!(problems[1].en.contains("absolute"));
    }
}
