//! The process's key rings: where they come from (the configuration, a key file, the
//! environment), which one is current, and reading them again after a rotation.

use crate::StoreError;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use zhenxing_crypto::{CryptoError, KeyRing, Suite};

/// Where the key ring comes from, as the operator gave it.
#[derive(Debug, Clone, Default)]
pub struct KeyConfig {
    /// `--key-file` / `ZHENXING_KEY_FILE`.
    pub key_file: Option<PathBuf>,
    /// `ZHENXING_KEYS`: the key file's JSON itself.
    pub keys_json: Option<String>,
    /// The suite of a key file generated for a new database (default: international).
    pub new_suite: Option<Suite>,
}

impl KeyConfig {
    /// The configuration from the environment alone (`ZHENXING_KEY_FILE`, `ZHENXING_KEYS`).
    pub fn from_env() -> KeyConfig {
        KeyConfig {
            key_file: std::env::var_os("ZHENXING_KEY_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            keys_json: std::env::var("ZHENXING_KEYS")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            new_suite: None,
        }
    }
}

/// The configuration [`crate::Db::open`] uses: set once by the command line, else the
/// environment's.
static CONFIGURED: RwLock<Option<KeyConfig>> = RwLock::new(None);

/// Sets the key configuration of every database this process opens from now on.
pub fn configure(config: KeyConfig) {
    *CONFIGURED.write().unwrap_or_else(|e| e.into_inner()) = Some(config);
}

pub fn configured() -> KeyConfig {
    CONFIGURED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(KeyConfig::from_env)
}

/// Where an installed ring was read from, so that it can be read again when a rotation by
/// another process added a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    Environment,
    /// Generated for an in-memory database, or installed by the test support.
    Memory,
}

impl KeySource {
    pub fn describe(&self) -> String {
        match self {
            KeySource::File(path) => path.display().to_string(),
            KeySource::Environment => "ZHENXING_KEYS".to_owned(),
            KeySource::Memory => "(in memory)".to_owned(),
        }
    }
}

pub(super) struct Installed {
    pub(super) ring: Arc<KeyRing>,
    pub(super) source: KeySource,
}

/// The rings of this process, the last one current.
static RINGS: RwLock<Vec<Installed>> = RwLock::new(Vec::new());

pub(super) fn rings_read() -> std::sync::RwLockReadGuard<'static, Vec<Installed>> {
    RINGS.read().unwrap_or_else(|e| e.into_inner())
}

fn rings_write() -> std::sync::RwLockWriteGuard<'static, Vec<Installed>> {
    RINGS.write().unwrap_or_else(|e| e.into_inner())
}

/// Makes `ring` the process's current ring (and keeps the others for reading).
pub fn install_ring(ring: KeyRing, source: KeySource) -> Arc<KeyRing> {
    let ring = Arc::new(ring);
    let mut rings = rings_write();
    let check = ring.index_key_check();
    rings.retain(|r| !(r.ring.index_key_check() == check && r.source == source));
    rings.push(Installed {
        ring: ring.clone(),
        source,
    });
    ring
}

/// The current ring, and where it came from.
pub fn current() -> Option<(Arc<KeyRing>, KeySource)> {
    rings_read()
        .last()
        .map(|r| (r.ring.clone(), r.source.clone()))
}

pub(super) fn no_ring() -> StoreError {
    StoreError::Corrupt(
        "no key ring is installed: the database must be opened through Db::open".to_owned(),
    )
}

pub(super) fn crypto_error(e: CryptoError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Reads every file- or environment-sourced ring again; whether any changed. A re-read ring
/// replaces the installed one only when every key the installed one holds is in it unchanged
/// (a rotation adds keys, it never changes one) and its index key is the same.
pub(super) fn reload_all() -> bool {
    let sources: Vec<(KeySource, Arc<KeyRing>)> = rings_read()
        .iter()
        .map(|r| (r.source.clone(), r.ring.clone()))
        .collect();
    let mut changed = false;
    for (source, old) in sources {
        let Some(fresh) = read_source(&source) else {
            continue;
        };
        if extends(&fresh, &old) && fresh.data_key_ids() != old.data_key_ids() {
            tracing::info!(
                key_file = %source.describe(),
                current_key = fresh.current(),
                "the key file holds a new data key: read again"
            );
            let mut rings = rings_write();
            for installed in rings.iter_mut() {
                if installed.source == source && Arc::ptr_eq(&installed.ring, &old) {
                    installed.ring = Arc::new(fresh.clone());
                    changed = true;
                }
            }
        }
    }
    changed
}

fn read_source(source: &KeySource) -> Option<KeyRing> {
    match source {
        KeySource::File(path) => KeyRing::load(path).ok(),
        KeySource::Environment => std::env::var("ZHENXING_KEYS")
            .ok()
            .and_then(|text| KeyRing::parse(&text, "ZHENXING_KEYS").ok()),
        KeySource::Memory => None,
    }
}

/// Whether `fresh` holds every key of `old`, unchanged, with the same suite and index key.
fn extends(fresh: &KeyRing, old: &KeyRing) -> bool {
    fresh.suite() == old.suite()
        && fresh.index_key_check() == old.index_key_check()
        && old
            .data_key_ids()
            .iter()
            .all(|id| fresh.key_check(*id).is_some() && fresh.key_check(*id) == old.key_check(*id))
}
