//! What the app's tests share: the fixtures, and a registry of the four fixture households.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use zhenxing_app::import::{self, ImportOutcome, Quiet};
use zhenxing_core::{DivisionCode, Lang, Role};
use zhenxing_store::Db;
use zhenxing_store::accounts::Account;
use zhenxing_store::registry::{MonitoringPermission, WriteRequest};

pub fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(dir)
        .join(name)
}

pub fn request(monitoring: MonitoringPermission) -> WriteRequest {
    WriteRequest {
        actor: "test".into(),
        source: "app test".into(),
        reason: Some("test".into()),
        dry_run: false,
        known_new: false,
        defer_counts: false,
        monitoring,
    }
}

/// Writes the four households of `fixtures/registry/good-utf8.csv` (CK0001 monitored before
/// zhenxing, hence the legacy permission).
pub async fn fixture_registry(db: &Db) {
    let outcome = import_legacy(db, &fixture("registry", "good-utf8.csv")).await;
    assert!(outcome.summary.is_some(), "{:?}", outcome.problems);
}

/// Imports a registry file as the CLI's buffered path does with `--legacy-monitoring`.
pub async fn import_legacy(db: &Db, path: &Path) -> ImportOutcome {
    import::buffered(
        db,
        path,
        &request(MonitoringPermission::LegacyMonitoring),
        None,
        Arc::new(Quiet),
    )
    .await
    .unwrap()
}

/// An account as the store reads it (not stored: the use cases take it as given).
pub fn account(name: &str, role: Role, division: &str) -> Account {
    Account {
        id: 1,
        name: name.into(),
        role,
        division: DivisionCode::parse(division).unwrap(),
        lang: Lang::Zh,
        disabled: false,
        locked_until: None,
        created_at: String::new(),
        must_change_password: false,
        factor_enrolled: false,
        password_changed_at: String::new(),
    }
}
