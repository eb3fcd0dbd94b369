#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Migration 0017 on an SQLite database made before issue 15: SQLite cannot change the role
//! CHECK constraint, so the accounts table is rebuilt with its sessions and API tokens set aside;
//! the accounts, their live sessions and tokens must come through, and the new role fit.

use zhenxing_core::china_time::{now_stored, stored};
use zhenxing_core::{DivisionCode, Role};
use zhenxing_store::credentials::{hash_password, token_hash};
use zhenxing_store::{DatabaseUrl, Db};

#[tokio::test]
async fn an_sqlite_database_before_issue_15_keeps_its_accounts_sessions_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("before.db").display());
    let old = Db::connect(&DatabaseUrl::parse(&url).unwrap())
        .await
        .unwrap();
    let Db::Sqlite(pool) = &old else {
        panic!("not SQLite")
    };
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    sqlx::migrate::Migrator::new(migrations)
        .await
        .unwrap()
        .run_to(16, pool)
        .await
        .unwrap();

    // What a database of issue 14 holds: an administrator with a session and an API token.
    let now = now_stored();
    let later = stored(time::OffsetDateTime::now_utc() + time::Duration::days(1));
    let (session, api_token) = ("a".repeat(64), "zx_old_token");
    let statements: [(&str, Vec<String>); 4] = [
        (
            "INSERT INTO divisions (code, level, kind, name_zh, name_en, version_year) \
             VALUES ($1, 'province', 'municipality', '重庆市', 'Chongqing', 2023)",
            vec!["500000000000".into()],
        ),
        (
            "INSERT INTO accounts (name, role, division_code, password_hash, created_at, \
             password_changed_at) VALUES ('wang', 'municipal_admin', '500000000000', $1, $2, $2)",
            vec![hash_password("Old-password-2025").unwrap(), now.clone()],
        ),
        (
            "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, \
             expires_at) VALUES ($1, 1, 'csrf', $2, $2, $3)",
            vec![token_hash(&session), now.clone(), later.clone()],
        ),
        (
            "INSERT INTO api_tokens (token_hash, account_id, created_at, expires_at) \
             VALUES ($1, 1, $2, $3)",
            vec![token_hash(api_token), now.clone(), later.clone()],
        ),
    ];
    for (sql, binds) in statements {
        let mut query = sqlx::query(sql);
        for b in binds {
            query = query.bind(b);
        }
        query.execute(pool).await.unwrap();
    }
    old.close().await;

    let db = Db::open(&url).await.unwrap();
    let found = db.session(&session).await.unwrap().unwrap();
    assert_eq!(found.account.name, "wang");
    // The administrator is now the system administrator and must enrol a second factor.
    assert_eq!(found.account.role, Role::MunicipalAdmin);
    assert!(found.must_enrol);
    assert!(!found.account.factor_enrolled);
    assert_eq!(
        db.account_by_api_token(api_token)
            .await
            .unwrap()
            .unwrap()
            .name,
        "wang"
    );
    let municipality = DivisionCode::parse("500000000000").unwrap();
    db.create_account(
        "anquan",
        Role::SecurityAdmin,
        &municipality,
        "New-security-2026",
        "cli:root",
    )
    .await
    .unwrap();
    let Db::Sqlite(pool) = &db else {
        panic!("not SQLite")
    };
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
}
