//! The cryptography zhenxing protects personal data and its audit trail with, in one place.
//!
//! A deployment chooses a [`Suite`] at setup: the international algorithms (AES-256-GCM,
//! HMAC-SHA-256) by default, or the national ones that the commercial cryptography assessment
//! (GB/T 39786) expects (SM4-GCM, HMAC-SM3). Both run through the same GCM construction of
//! RustCrypto, so the two differ only in the block cipher and the hash.
//!
//! Keys live in a [`KeyRing`]: numbered data keys (the highest is current; older ones stay to
//! read what they encrypted until a rotation has re-encrypted it), a separate key for the blind
//! index that exact lookups use, and the suite. A key ring is read from a key file or from the
//! environment and never from the database; the database keeps only a [`KeyRing::key_check`]
//! per key, so that a wrong key is refused at start instead of reading as garbage.
//!
//! Pure: no I/O but reading and writing the key file, no database, no async.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use hmac::KeyInit as _;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

mod field;
pub use field::{FIELD_PREFIX, is_sealed_field};

/// The algorithms of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Suite {
    /// AES-256-GCM and HMAC-SHA-256.
    #[default]
    International,
    /// SM4-GCM and HMAC-SM3 (GB/T 32907, GB/T 32905).
    National,
}

impl Suite {
    /// `international` (or `aes`) and `national` (or `sm`).
    pub fn parse(s: &str) -> Option<Suite> {
        match s.trim().to_ascii_lowercase().as_str() {
            "international" | "aes" | "aes-256-gcm" => Some(Suite::International),
            "national" | "sm" | "sm4" | "sm4-gcm" => Some(Suite::National),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Suite::International => "international",
            Suite::National => "national",
        }
    }

    /// The cipher and the MAC, as an assessor reads them.
    pub fn algorithms(self) -> &'static str {
        match self {
            Suite::International => "AES-256-GCM, HMAC-SHA-256",
            Suite::National => "SM4-GCM, HMAC-SM3",
        }
    }

    /// The length of a data key: 256 bits for AES-256, 128 bits for SM4.
    pub fn data_key_len(self) -> usize {
        match self {
            Suite::International => 32,
            Suite::National => 16,
        }
    }

    /// HMAC of `parts` (each length-prefixed, so that ("ab","c") and ("a","bc") differ) under
    /// `key` with the suite's hash: 32 bytes for both SHA-256 and SM3.
    pub fn mac(self, key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        fn run<M: hmac::Mac>(mut m: M, parts: &[&[u8]]) -> [u8; 32] {
            for part in parts {
                m.update(&(part.len() as u64).to_be_bytes());
                m.update(part);
            }
            let mut out = [0u8; 32];
            out.copy_from_slice(&m.finalize().into_bytes()[..32]);
            out
        }
        match self {
            Suite::International => {
                match hmac::Hmac::<sha2_for_hmac::Sha256>::new_from_slice(key) {
                    Ok(m) => run(m, parts),
                    Err(_) => unreachable_hmac(),
                }
            }
            Suite::National => match hmac::Hmac::<sm3::Sm3>::new_from_slice(key) {
                Ok(m) => run(m, parts),
                Err(_) => unreachable_hmac(),
            },
        }
    }

    /// Whether `tag` is the MAC of `parts` under `key`, compared in constant time.
    pub fn verify_mac(self, key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
        constant_time_eq(&self.mac(key, parts), tag)
    }
}

/// HMAC takes keys of any length; this is never reached.
fn unreachable_hmac() -> [u8; 32] {
    [0u8; 32]
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Equal bytes, in time that depends only on the length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

/// A blind index keeps the MAC's first 128 bits: two of a billion values collide with a
/// chance of about 2^-68, and half the width halves what the index costs to store and sort.
pub const BLIND_INDEX_BYTES: usize = 16;

/// Nonces drawn per refill of a thread's pool.
const NONCES_PER_REFILL: usize = 341;
const NONCE_POOL_BYTES: usize = 12 * NONCES_PER_REFILL;

/// A random 96-bit nonce from the operating system's source, through a per-thread pool refilled
/// 4 KiB at a time: one system call per 341 nonces instead of one each (a full-scale import
/// seals millions of values, and the calls were most of sealing's cost). Each byte is handed
/// out once and wiped. The pool would be copied into a forked child, so a process that forks
/// without exec must not seal in the child; zhenxing never does (it only spawns `pg_dump`).
fn nonce() -> [u8; 12] {
    use std::cell::RefCell;
    thread_local! {
        static POOL: RefCell<(Box<[u8; NONCE_POOL_BYTES]>, usize)> =
            RefCell::new((Box::new([0u8; NONCE_POOL_BYTES]), NONCE_POOL_BYTES));
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let (bytes, used) = &mut *pool;
        if *used == NONCE_POOL_BYTES {
            fill_random(&mut bytes[..]);
            *used = 0;
        }
        let mut out = [0u8; 12];
        let taken = &mut bytes[*used..*used + 12];
        out.copy_from_slice(taken);
        taken.fill(0);
        *used += 12;
        out
    })
}

fn fill_random(bytes: &mut [u8]) {
    // The operating system's random source failing is not something a process can recover
    // from, and carrying on with predictable keys or nonces would be worse than stopping.
    #[allow(clippy::expect_used)]
    getrandom::fill(bytes).expect("the operating system's random source failed");
}

/// Why a key ring or a sealed value was refused. Every message says what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("key ring: {0}")]
    KeyRing(String),
    #[error(
        "a value was encrypted with data key {0}, which the key ring does not hold: give the key file that holds it"
    )]
    UnknownKey(u32),
    #[error(
        "a value does not decrypt with data key {0}: the key is not the one it was encrypted with, or the value was altered"
    )]
    Undecryptable(u32),
    #[error("a value is not in the sealed format ({0})")]
    Malformed(&'static str),
}

/// An AEAD under one data key.
#[derive(Clone)]
enum Cipher {
    Aes(Box<aes_gcm::Aes256Gcm>),
    Sm4(Box<aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>>),
}

impl Cipher {
    fn new(suite: Suite, key: &[u8]) -> Result<Cipher, CryptoError> {
        let wrong = || {
            CryptoError::KeyRing(format!(
                "a {} data key is {} bytes, this one is {}",
                suite.algorithms(),
                suite.data_key_len(),
                key.len()
            ))
        };
        Ok(match suite {
            Suite::International => Cipher::Aes(Box::new(
                aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| wrong())?,
            )),
            Suite::National => Cipher::Sm4(Box::new(
                aes_gcm::AesGcm::new_from_slice(key).map_err(|_| wrong())?,
            )),
        })
    }

    /// `nonce ‖ ciphertext ‖ tag`, with a random 96-bit nonce.
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        use aes_gcm::aead::{Aead, Payload};
        let nonce_bytes = nonce();
        let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::from(nonce_bytes);
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        let sealed = match self {
            Cipher::Aes(c) => c.encrypt(&nonce, payload),
            Cipher::Sm4(c) => c.encrypt(&nonce, payload),
        };
        // Encryption fails only for messages longer than GCM allows (64 GiB).
        let sealed = sealed.unwrap_or_default();
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        out
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        use aes_gcm::aead::{Aead, Payload};
        if sealed.len() < 12 + 16 {
            return None;
        }
        let (nonce_bytes, body) = sealed.split_at(12);
        let nonce_bytes: [u8; 12] = nonce_bytes.try_into().ok()?;
        let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::from(nonce_bytes);
        let payload = Payload { msg: body, aad };
        match self {
            Cipher::Aes(c) => c.decrypt(&nonce, payload).ok(),
            Cipher::Sm4(c) => c.decrypt(&nonce, payload).ok(),
        }
    }
}

/// A secret, hex in the key file, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn generate(len: usize) -> Secret {
        let mut bytes = vec![0u8; len];
        fill_random(&mut bytes);
        Secret(bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Keys do not linger in freed memory.
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// The keys of a deployment. See the crate documentation.
#[derive(Clone)]
pub struct KeyRing {
    suite: Suite,
    data: BTreeMap<u32, (Secret, Cipher)>,
    index_key: Secret,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("suite", &self.suite)
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The key file, as JSON. Hex keys; `data_keys` by number, the highest current.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    suite: String,
    data_keys: BTreeMap<u32, String>,
    index_key: String,
}

const KEY_FILE_FORMAT: &str = "zhenxing-keys/1";

impl KeyRing {
    /// A new key ring with data key 1 and an index key.
    pub fn generate(suite: Suite) -> KeyRing {
        let mut ring = KeyRing {
            suite,
            data: BTreeMap::new(),
            index_key: Secret::generate(32),
        };
        ring.insert(1, Secret::generate(suite.data_key_len()))
            .unwrap_or_default();
        ring
    }

    fn insert(&mut self, id: u32, key: Secret) -> Result<(), CryptoError> {
        let cipher = Cipher::new(self.suite, key.bytes())?;
        self.data.insert(id, (key, cipher));
        Ok(())
    }

    /// Adds a new data key and makes it current; its number.
    pub fn add_data_key(&mut self) -> u32 {
        let id = self.current() + 1;
        self.insert(id, Secret::generate(self.suite.data_key_len()))
            .unwrap_or_default();
        id
    }

    /// Forgets data key `id` (after a rotation re-encrypted everything it had encrypted).
    pub fn retire(&mut self, id: u32) -> Result<(), CryptoError> {
        if id == self.current() {
            return Err(CryptoError::KeyRing(format!(
                "data key {id} is the current key and cannot be retired"
            )));
        }
        self.data.remove(&id);
        Ok(())
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The number of the key new values are encrypted with.
    pub fn current(&self) -> u32 {
        self.data.keys().next_back().copied().unwrap_or(0)
    }

    /// The numbers of the data keys held.
    pub fn data_key_ids(&self) -> Vec<u32> {
        self.data.keys().copied().collect()
    }

    /// The key ring in the key file's text.
    pub fn to_file_text(&self) -> String {
        let file = KeyFile {
            format: KEY_FILE_FORMAT.to_owned(),
            suite: self.suite.code().to_owned(),
            data_keys: self
                .data
                .iter()
                .map(|(id, (key, _))| (*id, hex::encode(key.bytes())))
                .collect(),
            index_key: hex::encode(self.index_key.bytes()),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
    }

    /// A key ring from the key file's text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<KeyRing, CryptoError> {
        let err = |reason: String| CryptoError::KeyFile {
            path: source.to_owned(),
            reason,
        };
        let file: KeyFile = serde_json::from_str(text).map_err(|e| {
            err(format!(
                "not a zhenxing key file ({e}); it is the JSON that `zhenxing keys init` writes"
            ))
        })?;
        if file.format != KEY_FILE_FORMAT {
            return Err(err(format!(
                "format \"{}\" is not \"{KEY_FILE_FORMAT}\"",
                file.format
            )));
        }
        let suite = Suite::parse(&file.suite).ok_or_else(|| {
            err(format!(
                "suite \"{}\" is neither \"international\" nor \"national\"",
                file.suite
            ))
        })?;
        if file.data_keys.is_empty() {
            return Err(err("it holds no data key".to_owned()));
        }
        let index_key = hex::decode(file.index_key.trim())
            .map_err(|_| err("index_key is not hexadecimal".to_owned()))?;
        if index_key.len() < 32 {
            return Err(err(format!(
                "index_key is {} bytes; it must be at least 32",
                index_key.len()
            )));
        }
        let mut ring = KeyRing {
            suite,
            data: BTreeMap::new(),
            index_key: Secret(index_key),
        };
        for (id, hex_key) in &file.data_keys {
            if *id == 0 {
                return Err(err("data keys are numbered from 1".to_owned()));
            }
            let key = hex::decode(hex_key.trim())
                .map_err(|_| err(format!("data key {id} is not hexadecimal")))?;
            ring.insert(*id, Secret(key)).map_err(|e| match e {
                CryptoError::KeyRing(reason) => err(format!("data key {id}: {reason}")),
                other => other,
            })?;
        }
        Ok(ring)
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<KeyRing, CryptoError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CryptoError::KeyFile {
            path: shown.clone(),
            reason: if e.kind() == std::io::ErrorKind::NotFound {
                "it does not exist: give the key file this registry was set up with (--key-file or ZHENXING_KEY_FILE), or restore it from the key backup".to_owned()
            } else {
                format!("cannot be read: {e}")
            },
        })?;
        KeyRing::parse(&text, &shown)
    }

    /// Writes the key file readable by its owner only, through a temporary file and a rename,
    /// so that a crash leaves either the old file or the new one.
    pub fn save(&self, path: &Path) -> Result<(), CryptoError> {
        let err = |e: std::io::Error| CryptoError::KeyFile {
            path: path.display().to_string(),
            reason: format!("cannot be written: {e}"),
        };
        let tmp = path.with_extension("tmp-keys");
        {
            use std::io::Write as _;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp).map_err(err)?;
            file.write_all(self.to_file_text().as_bytes())
                .map_err(err)?;
            file.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// What the database keeps to recognise data key `id` without holding it: a MAC of a
    /// fixed text under the key, hex. `None` when the ring does not hold `id`.
    pub fn key_check(&self, id: u32) -> Option<String> {
        self.data.get(&id).map(|(key, _)| {
            hex::encode(
                self.suite
                    .mac(key.bytes(), &[b"zhenxing key check", &id.to_be_bytes()]),
            )
        })
    }

    /// The same for the index key: a blind index is only as good as the key it was made with.
    pub fn index_key_check(&self) -> String {
        hex::encode(
            self.suite
                .mac(self.index_key.bytes(), &[b"zhenxing index key check"]),
        )
    }

    /// Encrypts `plaintext` with the current key, bound to `context` (the field's name, so that
    /// a value cannot be moved to another kind of field): `zx1:<key>:<base64>`.
    pub fn seal_field(&self, context: &str, plaintext: &str) -> String {
        let id = self.current();
        let Some((_, cipher)) = self.data.get(&id) else {
            return String::new();
        };
        let sealed = cipher.seal(plaintext.as_bytes(), context.as_bytes());
        format!("{FIELD_PREFIX}{id}:{}", BASE64.encode(sealed))
    }

    /// Decrypts a value [`KeyRing::seal_field`] made under the same `context`.
    pub fn open_field(&self, context: &str, sealed: &str) -> Result<String, CryptoError> {
        let (id, body) = field::split(sealed)?;
        let (_, cipher) = self.data.get(&id).ok_or(CryptoError::UnknownKey(id))?;
        let bytes = BASE64
            .decode(body)
            .map_err(|_| CryptoError::Malformed("not base64"))?;
        let plain = cipher
            .open(&bytes, context.as_bytes())
            .ok_or(CryptoError::Undecryptable(id))?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed("not UTF-8 inside"))
    }

    /// The data key a sealed value names.
    pub fn key_of(sealed: &str) -> Result<u32, CryptoError> {
        field::split(sealed).map(|(id, _)| id)
    }

    /// Encrypts bytes (a backup) with the current key: `key id (4 bytes, big-endian) ‖ nonce ‖
    /// ciphertext ‖ tag`.
    pub fn seal_bytes(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let id = self.current();
        let Some((_, cipher)) = self.data.get(&id) else {
            return Vec::new();
        };
        let mut out = id.to_be_bytes().to_vec();
        out.extend(cipher.seal(plaintext, context.as_bytes()));
        out
    }

    /// Decrypts what [`KeyRing::seal_bytes`] made.
    pub fn open_bytes(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 4 {
            return Err(CryptoError::Malformed("too short"));
        }
        let (id, body) = sealed.split_at(4);
        let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        let (_, cipher) = self.data.get(&id).ok_or(CryptoError::UnknownKey(id))?;
        cipher
            .open(body, context.as_bytes())
            .ok_or(CryptoError::Undecryptable(id))
    }

    /// The blind index of `value` for exact lookups of a field (`context`): a MAC under the
    /// index key, hex. The same value always gives the same index; without the key, the index
    /// tells nothing about the value.
    pub fn blind_index(&self, context: &str, value: &str) -> String {
        let mac = self.suite.mac(
            self.index_key.bytes(),
            &[context.as_bytes(), value.as_bytes()],
        );
        hex::encode(&mac[..BLIND_INDEX_BYTES])
    }
}

#[cfg(test)]
mod tests;
