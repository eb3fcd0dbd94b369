//! Passwords and random tokens. Passwords are hashed with argon2id (PHC string, random salt);
//! session and API tokens are 256 random bits, given to the client once and stored only as
//! their SHA-256, so that a copy of the database opens nothing.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use zhenxing_core::{Text, text};

/// The longest password accepted (argon2 would take more, a form field does not).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The password rules of the policy in force (MLPS 2.0 level 3 asks for length and
/// complexity; `security_policy::SecurityPolicy` holds them). The account's name and the
/// common list are refused whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordRules {
    pub min_chars: usize,
    /// How many of lower-case, upper-case, digits and other symbols.
    pub min_classes: usize,
}

impl Default for PasswordRules {
    fn default() -> Self {
        PasswordRules {
            min_chars: 10,
            min_classes: 3,
        }
    }
}

/// The common passwords refused whatever their length (`common_passwords.txt`, one a line,
/// lines starting with `#` are comments), lower-case.
fn common_passwords() -> &'static std::collections::HashSet<String> {
    static LIST: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

/// Whether a password is a common one, or a common word dressed with digits and symbols at
/// either end (`Password123!`, `2026-Zhenxing!`): guessers try those first.
fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let undressed = lower.trim_matches(|c: char| !c.is_alphanumeric());
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let list = common_passwords();
    [lower.as_str(), undressed, core]
        .iter()
        .any(|p| !p.is_empty() && list.contains(*p))
}

/// Whether a password is built from the account's name: the name itself, reversed, or inside
/// it (case-insensitive). A one- or two-letter name is only refused as the whole password.
fn contains_name(password: &str, account_name: &str) -> bool {
    let password = password.to_lowercase();
    let name = account_name.trim().to_lowercase();
    if name.is_empty() {
        return false;
    }
    let reversed: String = name.chars().rev().collect();
    if name.chars().count() < 3 {
        return password == name || password == reversed;
    }
    password.contains(&name) || password.contains(&reversed)
}

/// Checks a new password for the account `account_name` against the rules; the answer says
/// what is missing.
pub fn check_password_policy(
    password: &str,
    account_name: &str,
    rules: &PasswordRules,
) -> Result<(), Text> {
    let n = password.chars().count();
    let (min, classes_needed) = (rules.min_chars, rules.min_classes);
    if n < min {
        return Err(text!(
            "密码太短：至少{min}个字符",
            "the password is too short: at least {min} characters"
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < classes_needed {
        return Err(text!(
            "密码须包含以下四类中的至少{classes_needed}类：小写字母、大写字母、数字、其他符号",
            "the password must contain at least {classes_needed} of: lower-case letters, upper-case letters, digits, other symbols"
        ));
    }
    check_password_basics(password, account_name)
}

/// The checks of a password that no policy changes: not too long, not built from the account's
/// name, not a common password. The command line runs them before it opens the database (the
/// store checks the whole policy in force).
pub fn check_password_basics(password: &str, account_name: &str) -> Result<(), Text> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(text!(
            "密码太长：最多{MAX_PASSWORD_CHARS}个字符",
            "the password is too long: at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    if contains_name(password, account_name) {
        return Err(text!(
            "密码不能包含账号名（也不能是账号名倒写）",
            "the password must not contain the account's name (nor the name reversed)"
        ));
    }
    if is_common(password) {
        return Err(text!(
            "这是常用密码（或常用密码加数字、符号），容易被猜中，请换一个",
            "this is a common password (or a common one with digits and symbols added), easily guessed: choose another"
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id. CPU-heavy (tens of milliseconds): call it off the async
/// threads (`spawn_blocking`).
pub fn hash_password(password: &str) -> Result<String, Text> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| text!("无法计算密码哈希：{e}", "cannot hash the password: {e}"))
}

/// Whether `password` matches the stored PHC string. A malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a password nobody knows, verified against when the account name is unknown so
/// that a wrong name and a wrong password take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// 256 random bits as 64 hexadecimal characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    hex::encode(bytes)
}

/// A password for a new account: 16 characters from an alphabet without look-alikes
/// (no 0/O, 1/l/I), always with lower, upper, digit and symbol, so that it passes the policy.
pub fn generate_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"-_.+=#%";
    let sets = [LOWER, UPPER, DIGIT, SYMBOL];
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    // The first four characters take one from each class; rejection-free modulo bias over
    // alphabets this small is below 2^-7 per character and does not matter for 16 characters.
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let set = if i < 4 {
                sets[i]
            } else {
                sets[(*b as usize) % 3]
            };
            set[(*b as usize / 4) % set.len()] as char
        })
        .collect()
}

/// Compares two secrets in time that depends on their length only (CSRF tokens, codes).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `N` bytes from the operating system's random source (the portal's tracking codes).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

fn fill_random(bytes: &mut [u8]) {
    // The operating system's random source failing is not something a server can recover
    // from; serving with predictable tokens would be worse than stopping.
    #[allow(clippy::expect_used)]
    getrandom::fill(bytes).expect("the operating system's random number generator failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash_password("Correct-horse-9").unwrap();
        let b = hash_password("Correct-horse-9").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password("Correct-horse-9", &a));
        assert!(!verify_password("correct-horse-9", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..50 {
            let p = generate_password();
            assert_eq!(p.len(), 16);
            // The strictest policy the page allows: generated passwords pass every policy.
            let strictest = PasswordRules {
                min_chars: 16,
                min_classes: 4,
            };
            check_password_policy(&p, "someone", &strictest).unwrap();
        }
    }

    #[test]
    fn policy_names_what_is_missing() {
        let rules = PasswordRules::default();
        assert!(check_password_policy("short1A", "wang", &rules).is_err());
        assert!(check_password_policy("alllowercase", "wang", &rules).is_err());
        assert!(check_password_policy("lower-and-9-digits", "wang", &rules).is_ok());
        let four = PasswordRules {
            min_chars: 12,
            min_classes: 4,
        };
        let refused = check_password_policy("lower-and-9-digits", "wang", &four).unwrap_err();
        assert!(refused.en.contains("at least 4 of"), "{refused:?}");
        assert!(check_password_policy("Lower-and-9-digits", "wang", &four).is_ok());
    }

    #[test]
    fn policy_refuses_the_name_and_common_passwords() {
        let rules = PasswordRules::default();
        let refused = |p: &str, name: &str| check_password_policy(p, name, &rules).is_err();
        // The name, in any case, reversed, or inside.
        assert!(refused("Zhangsan-2026", "zhangsan"));
        assert!(refused("2026-NASGNAHZ!", "zhangsan"));
        assert!(refused("ZhangSan20261", "ZHANGSAN"));
        assert!(!refused("Qiao-Tou-2026!", "zhangsan"));
        // Common passwords, alone or dressed up; the Chinese favourites among them.
        for p in [
            "Password123!",
            "Woaini1314!!",
            "1qaz2wsx3edC",
            "Zhenxing2026!",
            "Qq123456789#",
            "A123456789!",
            "P@ssw0rd2026",
        ] {
            assert!(refused(p, "someone"), "{p}");
        }
        let message = check_password_policy("Woaini1314!!", "someone", &rules).unwrap_err();
        assert!(message.en.contains("common password"), "{message:?}");
        assert!(common_passwords().len() > 250);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let t = random_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, random_token());
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), t);
    }
}
