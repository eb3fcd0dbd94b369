//! Fresh databases for tests: SQLite always, PostgreSQL when `TEST_DATABASE_URL` names a server
//! (each call creates a new database on it). In CI (`CI` set) a missing `TEST_DATABASE_URL` is
//! an error, so that the PostgreSQL half of the conformance suite can never be skipped silently.

use crate::{Db, Result};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A database that lives as long as this value (the SQLite file's directory is removed on drop;
/// PostgreSQL test databases are left for the throwaway cluster to take away).
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop (no dependency on `tempfile` outside tests).
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("zx_test_{}_{}_{}", std::process::id(), nanos, n)
}

/// The key ring every test database is encrypted with (fixed, so that a failing test's
/// database can be read back).
pub const TEST_KEYS: &str = r#"{
  "format": "zhenxing-keys/1",
  "suite": "international",
  "data_keys": { "1": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" },
  "index_key": "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
}"#;

/// Installs [`TEST_KEYS`] unless this process has a key ring already.
pub fn install_test_keys() {
    if crate::keys::current().is_none()
        && let Ok(ring) = zhenxing_crypto::KeyRing::parse(TEST_KEYS, "TEST_KEYS")
    {
        crate::keys::install_ring(ring, crate::keys::KeySource::Memory);
    }
}

/// A fresh temporary directory, removed when the value is dropped.
pub fn temp_dir() -> Result<TempDir> {
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    Ok(TempDir(dir))
}

pub async fn sqlite() -> Result<TestDb> {
    install_test_keys();
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    let url = format!("sqlite://{}", dir.join("registry.db").display());
    let db = Db::open(&url).await?;
    Ok(TestDb {
        db,
        url,
        _dir: Some(TempDir(dir)),
    })
}

/// `None` when no PostgreSQL server is configured (outside CI).
pub async fn postgres() -> Result<Option<TestDb>> {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        if std::env::var_os("CI").is_some() {
            panic!("TEST_DATABASE_URL is not set in CI: the PostgreSQL conformance tests must run");
        }
        return Ok(None);
    };
    install_test_keys();
    let name = unique_name();
    let admin = Db::connect(&crate::DatabaseUrl::parse(&admin_url)?).await?;
    if let Db::Postgres(pool) = &admin {
        let sql = format!("CREATE DATABASE {name}");
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    }
    admin.close().await;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin_url);
    let url = format!("{base}/{name}");
    let db = Db::open(&url).await?;
    Ok(Some(TestDb {
        db,
        url,
        _dir: None,
    }))
}

/// Every backend available: SQLite, then PostgreSQL if configured.
pub async fn all() -> Result<Vec<TestDb>> {
    let mut out = vec![sqlite().await?];
    if let Some(pg) = postgres().await? {
        out.push(pg);
    }
    Ok(out)
}

/// A valid ID number for tests: born 1980-01-01 in 城口县, sequence `n` (0 to 999).
pub fn test_id_number(n: u32) -> String {
    let body = format!("50022919800101{:03}", n % 1000);
    let check = zhenxing_core::id_number::check_character(body.as_bytes());
    format!("{body}{}", check as char)
}

/// `n` one-person households made from `template` (its first member kept, with a new ID
/// number from [`test_id_number`]): numbered `{prefix}0000`…, in `village`, with a yearly wage
/// income of `income_yuan`. For tests that need many households at a known income.
pub fn one_person_households(
    template: &zhenxing_core::Household,
    prefix: &str,
    village: &str,
    income_yuan: i64,
    n: u32,
    today: time::Date,
) -> std::result::Result<Vec<zhenxing_core::Household>, String> {
    use zhenxing_core::{DivisionCode, DocumentNumber, Fen, HouseholdNo, IdNumber, IncomeItems};
    let division = DivisionCode::parse(village).map_err(|e| e.text().en)?;
    let income = IncomeItems::new(
        Fen::from_yuan(income_yuan),
        Fen::ZERO,
        Fen::ZERO,
        Fen::ZERO,
        Fen::ZERO,
    )
    .ok_or("the income does not fit")?;
    (0..n)
        .map(|i| {
            let mut d = template.to_draft();
            d.household_no =
                HouseholdNo::parse(&format!("{prefix}{i:04}")).map_err(|e| format!("{e:?}"))?;
            d.division = division;
            d.income = income;
            d.members.truncate(1);
            let id = IdNumber::parse_at(&test_id_number(i), today).map_err(|e| format!("{e:?}"))?;
            let head = d.members.first_mut().ok_or("the template has no member")?;
            head.document = DocumentNumber::Resident(id);
            d.build().map_err(|e| format!("{e:?}"))
        })
        .collect()
}

/// A member named 测试 with this ID number: healthy, ordinary labour, insured.
pub fn test_member(id: &str, relation: zhenxing_core::Relation) -> zhenxing_core::Member {
    use zhenxing_core::*;
    let born_by = time::macros::date!(2026 - 01 - 01);
    Member {
        name: PersonName::parse("测试").expect("a valid name"),
        document: DocumentNumber::Resident(IdNumber::parse_at(id, born_by).expect("a valid ID")),
        relation,
        ethnicity: None,
        education: Some(Education::JuniorSecondary),
        school_status: None,
        health: Health::HEALTHY,
        labor: Labor::Ordinary,
        work_months: None,
        medical_insurance: true,
        dibao: None,
    }
}

/// A one-person lifted-out household with this yearly net income (= per-capita), its head a
/// [`test_member`] with this ID number.
pub fn test_household(
    no: &str,
    village: &str,
    id: &str,
    income_yuan: i64,
) -> zhenxing_core::HouseholdDraft {
    use zhenxing_core::*;
    HouseholdDraft {
        household_no: HouseholdNo::parse(no).expect("a valid household number"),
        division: DivisionCode::parse(village).expect("a valid division code"),
        household_type: HouseholdType::LiftedOut,
        lifted_out_year: Some(2019),
        monitoring_category: None,
        phone: None,
        address: None,
        village_group: None,
        monitoring_outcome: Default::default(),
        income: IncomeItems::new(
            Fen::from_yuan(income_yuan),
            Fen::ZERO,
            Fen::ZERO,
            Fen::ZERO,
            Fen::ZERO,
        )
        .expect("an income that fits"),
        out_of_pocket: Fen::ZERO,
        housing_safe: Some(true),
        water_safe: Some(true),
        members: vec![test_member(id, Relation::Head)],
    }
}

/// Writes drafts to the registry as the actor `test`, as households registered before zhenxing
/// (their monitoring categories too, as a legacy import would).
pub async fn write_test_households(db: &Db, drafts: Vec<zhenxing_core::HouseholdDraft>) {
    let records: Vec<crate::HouseholdRecord> = drafts
        .into_iter()
        .map(|d| crate::HouseholdRecord::from_household(&d.build().expect("a valid household")))
        .collect();
    let request = crate::registry::WriteRequest {
        actor: "test".into(),
        source: "test".into(),
        reason: None,
        dry_run: false,
        known_new: false,
        defer_counts: false,
        monitoring: crate::registry::MonitoringPermission::LegacyMonitoring,
    };
    db.write_households(&records, &request, &|_| {})
        .await
        .expect("the test households are written");
}

/// Records on a household what completed procedures record (migration 0009): the day of
/// identification, the risk types (codes joined by commas) and the day its risk was
/// eliminated, for tests that need a monitored household with a past without walking the
/// whole procedure.
pub async fn set_monitoring_dates(
    db: &Db,
    household_no: &str,
    identified_on: Option<time::Date>,
    risk_types: &str,
    risk_eliminated_on: Option<time::Date>,
) {
    let (identified, eliminated) = (
        identified_on.map(|d| d.to_string()),
        risk_eliminated_on.map(|d| d.to_string()),
    );
    crate::on_pool!(db, pool => sqlx::query(
        "UPDATE households SET identified_on = $1, risk_types = $2, risk_eliminated_on = $3 \
         WHERE household_no = $4")
        .bind(&identified).bind(risk_types).bind(&eliminated).bind(household_no)
        .execute(pool).await.map(drop))
    .expect("the monitoring dates are set");
}

/// What seven months do to a monitored household, for tests of risk elimination: it was
/// registered a year before `today`, identified 214 days before, and its income is now 5,000
/// yuan a head higher (stored values moved directly; the audit trail has no income change, so
/// the income history starts at registration).
pub async fn seven_months_later(db: &Db, no: &str, today: time::Date) {
    let registered = format!("{}T00:00:00.000Z", today - time::Duration::days(365));
    let identified = (today - time::Duration::days(214)).to_string();
    let sql = "UPDATE households SET created_at = $1, identified_on = $2, \
               wage_income = wage_income + 500000, net_income = net_income + 500000, \
               per_capita_net_income = per_capita_net_income + 500000 \
               WHERE household_no = $3";
    crate::on_pool!(db, pool => sqlx::query(sql)
        .bind(&registered).bind(&identified).bind(no)
        .execute(pool).await.map(|_| ()))
    .expect("the household's dates are moved");
}

/// Runs `test` on every backend available ([`all`]), naming each on stderr, and closes it.
pub async fn each_backend(test: impl AsyncFn(&Db)) {
    for t in all().await.expect("the test databases open") {
        eprintln!("backend: {}", t.db.backend_name());
        test(&t.db).await;
        t.db.close().await;
    }
}

/// Runs `sql` as it is, behind zhenxing's back, as someone holding the database's files could
/// (drop the append-only triggers, alter or delete audit records): for the tamper tests.
pub async fn execute_raw(db: &Db, sql: &str) -> std::result::Result<(), sqlx::Error> {
    crate::on_pool!(db, pool => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .map(drop))
}

/// Asserts that the audit chain of `db` verifies with no problem.
pub async fn assert_chain_intact(db: &Db) {
    let report = crate::audit::verify(db)
        .await
        .expect("the audit trail reads");
    assert!(
        report.problems.is_empty(),
        "{}: {:?}",
        db.backend_name(),
        report.problems
    );
}

/// Writes incomes of completed years of the county `county` in one audited operation, as
/// `generate` does; returns the operation's sequence number.
pub async fn write_years(
    db: &Db,
    county: &str,
    rows: &[zhenxing_core::history::YearIncome],
) -> Result<i64> {
    use crate::audit::{AuditEntry, Operation};
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: "test".into(),
            action: "incomes.test".into(),
            object_type: "county".into(),
            object_id: Some(county.into()),
            county_code: Some(county.into()),
            ..Default::default()
        },
    )
    .await?;
    let seq = operation.seq();
    crate::incomes::write_years(&mut tx, county, seq, rows).await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(seq)
}
