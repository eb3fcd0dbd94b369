//! The second factor (issue 15): time-based one-time codes (TOTP, RFC 6238: HMAC-SHA-1, six
//! digits, 30-second steps, one step of drift either side), which any authenticator app
//! computes, and ten one-time recovery codes for a lost phone.
//!
//! Enrolment: [`Db::begin_factor_enrolment`] keeps a new secret aside (not yet in force);
//! [`Db::confirm_factor_enrolment`] puts it in force once a code computed from it is right, and
//! returns the recovery codes, shown once and stored hashed. A code is accepted once: the step
//! it belongs to is stored, and a code of that step or an earlier one is refused as replayed.
//!
//! The secret is stored through [`seal_secret`] and read through [`open_secret`] only: sealed
//! with the data key like the ID numbers (`store::keys`), so that rotation, `keys status` and
//! the first-open encryption of plaintext cover it too.

use crate::accounts::{Account, AccountError, entry};
use crate::audit;
use crate::credentials::{random_bytes, token_hash};
use crate::{Db, Result, StoreError, on_pool, on_tx};
use hmac::{KeyInit, Mac};
use serde_json::json;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::text;

/// Seconds in one time step.
pub const STEP_SECONDS: i64 = 30;
/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Secret length in bytes (160 bits, RFC 4226's recommendation for HMAC-SHA-1).
const SECRET_BYTES: usize = 20;

/// The stored form of a secret: its base32 text sealed with the data key (`store::keys`), like
/// the ID numbers: whoever reads the database cannot compute anyone's codes. The only place that
/// writes one.
pub fn seal_secret(secret_base32: &str) -> Result<String> {
    crate::keys::seal(&crate::keys::ACCOUNTS_TOTP_SECRET, secret_base32)
}

/// The secret from its stored form. The only place that reads one. Plaintext base32 stored
/// before the secrets were sealed still reads (the first open seals it).
pub fn open_secret(sealed: &str) -> Result<Vec<u8>> {
    let mut text = sealed.to_owned();
    crate::keys::open_in_place(&crate::keys::ACCOUNTS_TOTP_SECRET, &mut text)?;
    base32_decode(&text)
        .ok_or_else(|| StoreError::Corrupt("a second-factor secret does not decode".into()))
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (what `otpauth://` URIs and authenticator apps use).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Base32 text back to bytes (case, spaces and padding ignored); None if it is not base32.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase() as u8;
        let value = BASE32.iter().position(|&x| x == c)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The time step of a Unix time.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The six-digit code of `secret` at time step `step` (RFC 6238 with RFC 4226's truncation).
pub fn totp_code(secret: &[u8], step: i64) -> String {
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[digest.len() - 1] & 0x0f) as usize;
    let number = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", number % 1_000_000)
}

/// The step among `now - 1 ..= now + 1` whose code is `code`, if any.
fn matching_step(secret: &[u8], code: &str, now_step: i64) -> Option<i64> {
    (now_step - 1..=now_step + 1).find(|step| {
        crate::credentials::constant_time_eq(totp_code(secret, *step).as_bytes(), code.as_bytes())
    })
}

/// The enrolment URI an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    // Unreserved characters stay, every other byte is percent-encoded (RFC 3986).
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// A recovery code as typed: letters and digits only, lower-case.
fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ten characters from an alphabet without look-alikes, shown as `xxxxx-xxxxx` (50 bits).
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes = random_bytes::<10>();
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What a second-factor code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// A time code of a step after the last one accepted.
    Accepted,
    /// An unused recovery code (now used).
    RecoveryCode,
    /// A right code of a step already used (or earlier).
    Replayed,
    Wrong,
}

impl CodeCheck {
    pub fn ok(self) -> bool {
        matches!(self, CodeCheck::Accepted | CodeCheck::RecoveryCode)
    }

    pub fn code(self) -> &'static str {
        match self {
            CodeCheck::Accepted => "totp",
            CodeCheck::RecoveryCode => "recovery_code",
            CodeCheck::Replayed => "replayed",
            CodeCheck::Wrong => "wrong_code",
        }
    }
}

/// Checks a code (six digits, or a recovery code) for an account inside the caller's write
/// transaction, and records what it uses (the step, the recovery code). The caller audits.
pub(crate) async fn check_code(
    tx: &mut crate::Tx,
    account_id: i64,
    code: &str,
) -> Result<CodeCheck> {
    let row: Option<(Option<String>, Option<i64>)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT totp_secret, totp_last_step FROM accounts WHERE id = $1")
        .bind(account_id).fetch_optional(conn).await?);
    let Some((Some(sealed), last_step)) = row else {
        return Ok(CodeCheck::Wrong);
    };
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let secret = open_secret(&sealed)?;
        let Some(step) = matching_step(&secret, code, step_at(unix_now())) else {
            return Ok(CodeCheck::Wrong);
        };
        if last_step.is_some_and(|last| step <= last) {
            return Ok(CodeCheck::Replayed);
        }
        on_tx!(tx, conn => sqlx::query("UPDATE accounts SET totp_last_step = $1 WHERE id = $2")
            .bind(step).bind(account_id).execute(conn).await.map(drop)?);
        return Ok(CodeCheck::Accepted);
    }
    let normalised = normalise_recovery_code(code);
    if normalised.len() != 10 {
        return Ok(CodeCheck::Wrong);
    }
    let used = on_tx!(tx, conn => sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 \
         AND used_at IS NULL")
        .bind(now_stored()).bind(account_id).bind(token_hash(&normalised))
        .execute(conn).await?.rows_affected());
    Ok(if used == 1 {
        CodeCheck::RecoveryCode
    } else {
        CodeCheck::Wrong
    })
}

/// A secret offered for enrolment: shown as a QR code and as text, in force once confirmed.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret_base32: String,
    pub uri: String,
}

/// The name authenticator apps show for zhenxing's codes.
pub const ISSUER: &str = "zhenxing";

impl Db {
    /// Keeps a new secret aside for `account` to enrol (replacing any earlier one not
    /// confirmed) and returns it. The factor in force, if any, stays until the new one is
    /// confirmed.
    pub async fn begin_factor_enrolment(&self, account: &Account) -> Result<Enrolment> {
        let secret_base32 = base32_encode(&random_bytes::<SECRET_BYTES>());
        on_pool!(self, pool => sqlx::query("UPDATE accounts SET totp_pending_secret = $1 WHERE id = $2")
            .bind(seal_secret(&secret_base32)?).bind(account.id).execute(pool).await.map(drop)?);
        Ok(Enrolment {
            uri: otpauth_uri(ISSUER, &account.name, &secret_base32),
            secret_base32,
        })
    }

    /// The secret kept aside for `account`, if any (the enrolment page shown again).
    pub async fn pending_enrolment(&self, account: &Account) -> Result<Option<Enrolment>> {
        let sealed: Option<Option<String>> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT totp_pending_secret FROM accounts WHERE id = $1")
            .bind(account.id).fetch_optional(pool).await?);
        let Some(sealed) = sealed.flatten() else {
            return Ok(None);
        };
        let secret_base32 = base32_encode(&open_secret(&sealed)?);
        Ok(Some(Enrolment {
            uri: otpauth_uri(ISSUER, &account.name, &secret_base32),
            secret_base32,
        }))
    }

    /// Puts the secret kept aside in force if `code` is its code now (one step either side),
    /// replacing the recovery codes; returns the new recovery codes, shown once. Audited; a
    /// wrong code changes nothing and is audited too.
    pub async fn confirm_factor_enrolment(
        &self,
        account: &Account,
        code: &str,
        from: &str,
    ) -> Result<Vec<String>, AccountError> {
        let Some(enrolment) = self.pending_enrolment(account).await? else {
            return Err(AccountError::Invalid(text!(
                "没有待确认的动态口令密钥，请重新开始绑定",
                "there is no secret waiting for confirmation: start the enrolment again"
            )));
        };
        let secret = base32_decode(&enrolment.secret_base32)
            .ok_or_else(|| StoreError::Corrupt("a second-factor secret does not decode".into()))?;
        let step = matching_step(&secret, code.trim(), step_at(unix_now()));
        let mut tx = self.begin_write().await?;
        let Some(step) = step else {
            audit::append(
                &mut tx,
                vec![entry(
                    &account.name,
                    "factor.enrol_failed",
                    &account.name,
                    json!({"from": from, "why": "wrong_code"}),
                )],
            )
            .await?;
            tx.commit().await?;
            return Err(AccountError::Invalid(text!(
                "验证码不正确：请输入验证器应用当前显示的6位数字（并检查手机时间是否准确）",
                "the code is wrong: type the six digits your authenticator app shows now (and check that the phone's clock is right)"
            )));
        };
        let now = now_stored();
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE accounts SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
             totp_enrolled_at = $1, totp_last_step = $2, version = version + 1 WHERE id = $3")
            .bind(&now).bind(step).bind(account.id).execute(conn).await.map(drop)?);
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account.id).execute(conn).await.map(drop)?);
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        for code in &codes {
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES ($1, $2, $3)")
                .bind(account.id).bind(token_hash(&normalise_recovery_code(code))).bind(&now)
                .execute(conn).await.map(drop)?);
        }
        audit::append(
            &mut tx,
            vec![entry(
                &account.name,
                "factor.enrol",
                &account.name,
                json!({"from": from, "recovery_codes": RECOVERY_CODES}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Removes an account's second factor and recovery codes (a lost phone), ending its
    /// sessions: it enrols again at its next sign-in if its role or the policy requires a
    /// factor. `actor` is the security administrator or `cli:USER`; `reason` is recorded.
    /// Who may reset whose factor is the access policy's (`Role::may_set_password_of`).
    pub async fn reset_factor(
        &self,
        name: &str,
        actor: &str,
        reason: &str,
    ) -> Result<(), AccountError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AccountError::Invalid(text!(
                "请说明重置动态口令的原因",
                "give the reason for resetting the second factor"
            )));
        }
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "UPDATE accounts SET totp_secret = NULL, totp_pending_secret = NULL, \
             totp_enrolled_at = NULL, totp_last_step = NULL, version = version + 1 \
             WHERE name = $1 RETURNING id")
            .bind(name).fetch_optional(conn).await?);
        let Some(id) = id else {
            tx.rollback().await?;
            return Err(AccountError::Invalid(text!(
                "没有名为“{name}”的账号",
                "there is no account named '{name}'"
            )));
        };
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(id).execute(conn).await.map(drop)?);
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(id).execute(conn).await.map(drop)?);
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM pending_sign_ins WHERE account_id = $1")
            .bind(id).execute(conn).await.map(drop)?);
        audit::append(
            &mut tx,
            vec![crate::audit::AuditEntry {
                reason: Some(reason.to_owned()),
                ..entry(actor, "factor.reset", name, json!({}))
            }],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many of an account's recovery codes are still unused.
    pub async fn unused_recovery_codes(&self, account_id: i64) -> Result<i64> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL")
            .bind(account_id).fetch_one(pool).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, with the last six of its eight digits.
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(totp_code(secret, step_at(time)), code, "{time}");
        }
    }

    #[test]
    fn base32_round_trip_and_rfc_4648_vector() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        let secret = random_bytes::<SECRET_BYTES>();
        assert_eq!(base32_decode(&base32_encode(&secret)).unwrap(), secret);
        assert!(base32_decode("not base32!").is_none());
        assert_eq!(open_secret("MZXW6YTBOI").unwrap(), b"foobar");
    }

    #[test]
    fn drift_of_one_step_either_side() {
        let secret = b"12345678901234567890";
        let now = 1000;
        for step in [now - 1, now, now + 1] {
            assert_eq!(
                matching_step(secret, &totp_code(secret, step), now),
                Some(step)
            );
        }
        for step in [now - 2, now + 2] {
            assert_eq!(matching_step(secret, &totp_code(secret, step), now), None);
        }
    }

    #[test]
    fn recovery_codes_are_typed_loosely() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(
            normalise_recovery_code(&code.to_uppercase().replace('-', " ")),
            code.replace('-', "")
        );
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let uri = otpauth_uri("zhenxing", "王 admin", "MZXW6YTBOI");
        assert!(
            uri.starts_with("otpauth://totp/zhenxing:%E7%8E%8B%20admin?secret=MZXW6YTBOI"),
            "{uri}"
        );
    }
}
