//! The text form of a sealed field: `zx1:<data key number>:<base64 of nonce ‖ ciphertext ‖ tag>`.
//! Text, so that the same column type holds it on SQLite and PostgreSQL and a dump stays
//! readable as to which key each value needs.

use crate::CryptoError;

/// What every sealed field starts with (format 1).
pub const FIELD_PREFIX: &str = "zx1:";

/// Whether `value` is a sealed field (and not, say, a plaintext value from before encryption).
pub fn is_sealed_field(value: &str) -> bool {
    value.starts_with(FIELD_PREFIX)
}

pub(crate) fn split(sealed: &str) -> Result<(u32, &str), CryptoError> {
    let rest = sealed
        .strip_prefix(FIELD_PREFIX)
        .ok_or(CryptoError::Malformed("no zx1: prefix"))?;
    let (id, body) = rest
        .split_once(':')
        .ok_or(CryptoError::Malformed("no key number"))?;
    let id = id
        .parse::<u32>()
        .map_err(|_| CryptoError::Malformed("key number is not a number"))?;
    Ok((id, body))
}
