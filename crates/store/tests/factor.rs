#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Issue 15 on SQLite and PostgreSQL: the second factor (enrolment, the two-step sign-in,
//! drift, replays, recovery codes, lockout, reset), the password and session policy (expiry,
//! sessions per account, idle limit, audited changes) and the security administrator's role.
//! Codes are computed here from the secret, at the current time step and its neighbours.

use zhenxing_core::{DivisionCode, Role};
use zhenxing_store::accounts::{Account, AccountError, FactorSignIn, SignIn};
use zhenxing_store::factor::{base32_decode, step_at, totp_code};
use zhenxing_store::security_policy::SecurityPolicy;
use zhenxing_store::{Db, audit, testing};

const PASSWORD: &str = "Factor-test-2026";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Waits, if needed, until at least `seconds` remain in the current time step, so that a test
/// that uses "now" and its neighbours does not see the step change under it.
async fn room_in_step(seconds: i64) {
    let into = unix_now().rem_euclid(30);
    if 30 - into < seconds {
        tokio::time::sleep(std::time::Duration::from_secs((30 - into + 1) as u64)).await;
    }
}

async fn account(db: &Db, name: &str, role: Role, division: &str) -> Account {
    db.create_account(name, role, &code(division), PASSWORD, "cli")
        .await
        .unwrap();
    db.waive_password_change(name, "cli").await.unwrap();
    db.account_by_name(name).await.unwrap().unwrap()
}

/// Enrols `account` with a code of the current step; the secret and the recovery codes.
async fn enrol(db: &Db, account: &Account) -> (Vec<u8>, Vec<String>) {
    let enrolment = db.begin_factor_enrolment(account).await.unwrap();
    assert!(enrolment.uri.starts_with("otpauth://totp/zhenxing:"));
    assert!(enrolment.uri.contains(&enrolment.secret_base32));
    let secret = base32_decode(&enrolment.secret_base32).unwrap();
    assert_eq!(secret.len(), 20);
    // A wrong code changes nothing.
    let wrong = totp_code(&secret, step_at(unix_now()) + 5);
    let refused = db.confirm_factor_enrolment(account, &wrong, "::1").await;
    assert!(matches!(refused, Err(AccountError::Invalid(t)) if t.en.contains("code is wrong")));
    assert!(
        !db.account_by_name(&account.name)
            .await
            .unwrap()
            .unwrap()
            .factor_enrolled
    );
    let codes = db
        .confirm_factor_enrolment(account, &totp_code(&secret, step_at(unix_now())), "::1")
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    // The secret is stored sealed with the data key: the database alone computes no code.
    let sql = "SELECT totp_secret FROM accounts WHERE name = $1";
    let stored: String = match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar(sql)
                .bind(&account.name)
                .fetch_one(p)
                .await
        }
        Db::Postgres(p) => {
            sqlx::query_scalar(sql)
                .bind(&account.name)
                .fetch_one(p)
                .await
        }
    }
    .unwrap();
    assert!(stored.starts_with("zx1:"), "{stored}");
    assert!(!stored.contains(&enrolment.secret_base32));
    (secret, codes)
}

async fn pending(db: &Db, name: &str) -> String {
    match db.sign_in(name, PASSWORD, "::1").await.unwrap() {
        SignIn::SecondFactor { pending } => pending,
        other => panic!("expected the second step, got {other:?}"),
    }
}

#[tokio::test]
async fn sign_in_takes_a_code_once_with_one_step_of_drift() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        room_in_step(8).await;
        let admin = account(db, "sysadmin", Role::MunicipalAdmin, "500000000000").await;
        // Without a factor, the administrator signs in and must enrol before anything else.
        let SignIn::Ok { session, .. } = db.sign_in("sysadmin", PASSWORD, "::1").await.unwrap()
        else {
            panic!("refused")
        };
        assert!(
            db.session(&session.token)
                .await
                .unwrap()
                .unwrap()
                .must_enrol
        );

        let (secret, recovery) = enrol(db, &admin).await;
        let now = step_at(unix_now());
        // The enrolment used the current step: its code is now a replay.
        let p = pending(db, "sysadmin").await;
        let replay = db
            .complete_sign_in(&p, &totp_code(&secret, now), "::1")
            .await
            .unwrap();
        assert!(matches!(replay, FactorSignIn::Retry));
        // Two steps ahead is too far; one step ahead is drift and accepted.
        let far = db
            .complete_sign_in(&p, &totp_code(&secret, now + 2), "::1")
            .await
            .unwrap();
        assert!(matches!(far, FactorSignIn::Retry));
        let FactorSignIn::Ok { account, session } = db
            .complete_sign_in(&p, &totp_code(&secret, now + 1), "::1")
            .await
            .unwrap()
        else {
            panic!("the next step's code was refused")
        };
        assert_eq!(account.name, "sysadmin");
        let found = db.session(&session.token).await.unwrap().unwrap();
        assert!(!found.must_enrol);
        // The pending sign-in is used up; it never was a session.
        assert!(db.session(&p).await.unwrap().is_none());
        assert!(matches!(
            db.complete_sign_in(&p, &totp_code(&secret, now + 1), "::1")
                .await
                .unwrap(),
            FactorSignIn::Expired
        ));
        // Every step at or before the last one used is a replay, even one step back.
        let p = pending(db, "sysadmin").await;
        for step in [now - 1, now, now + 1] {
            assert!(matches!(
                db.complete_sign_in(&p, &totp_code(&secret, step), "::1")
                    .await
                    .unwrap(),
                FactorSignIn::Retry
            ));
        }
        // A recovery code works once, typed loosely.
        let typed = recovery[3].to_uppercase().replace('-', " ");
        assert!(matches!(
            db.complete_sign_in(&p, &typed, "::1").await.unwrap(),
            FactorSignIn::Ok { .. }
        ));
        let p = pending(db, "sysadmin").await;
        assert!(matches!(
            db.complete_sign_in(&p, &recovery[3], "::1").await.unwrap(),
            FactorSignIn::Retry
        ));
        assert_eq!(db.unused_recovery_codes(admin.id).await.unwrap(), 9);

        let actions: Vec<String> = audit::recent(db, 40)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        for expected in [
            "factor.enrol",
            "factor.enrol_failed",
            "auth.password_ok",
            "auth.factor_failed",
            "auth.sign_in",
        ] {
            assert!(actions.iter().any(|a| a == expected), "{expected}");
        }
        let records = audit::recent(db, 40).await.unwrap();
        let text = format!("{records:?}");
        assert!(text.contains("replayed") && text.contains("recovery_code"));
        assert!(
            !text.contains(&recovery[0]),
            "recovery codes never reach the audit"
        );
        assert!(audit::verify(db).await.unwrap().problems.is_empty());
    }
}

#[tokio::test]
async fn wrong_codes_lock_and_a_reset_removes_the_factor() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        room_in_step(8).await;
        let policy = SecurityPolicy {
            lockout_failures: 3,
            ..SecurityPolicy::default()
        };
        db.set_security_policy("security", &policy)
            .await
            .unwrap()
            .unwrap();
        let auditor = account(db, "auditor2", Role::Auditor, "500000000000").await;
        let (secret, _) = enrol(db, &auditor).await;
        let p = pending(db, "auditor2").await;
        let wrong = "000000";
        let right = totp_code(&secret, step_at(unix_now()) + 1);
        assert!(wrong != right);
        assert!(matches!(
            db.complete_sign_in(&p, wrong, "::1").await.unwrap(),
            FactorSignIn::Retry
        ));
        assert!(matches!(
            db.complete_sign_in(&p, "not a code", "::1").await.unwrap(),
            FactorSignIn::Retry
        ));
        // The third failure locks: the pending sign-in ends, the right code opens nothing.
        assert!(matches!(
            db.complete_sign_in(&p, wrong, "::1").await.unwrap(),
            FactorSignIn::Expired
        ));
        assert!(matches!(
            db.complete_sign_in(&p, &right, "::1").await.unwrap(),
            FactorSignIn::Expired
        ));
        assert!(matches!(
            db.sign_in("auditor2", PASSWORD, "::1").await.unwrap(),
            SignIn::Refused
        ));

        // A reset needs a reason, removes the factor, and is audited with it.
        let no_reason = db.reset_factor("auditor2", "cli:root", " ").await;
        assert!(matches!(no_reason, Err(AccountError::Invalid(t)) if t.en.contains("reason")));
        db.reset_factor("auditor2", "cli:root", "lost phone")
            .await
            .unwrap();
        let after = db.account_by_name("auditor2").await.unwrap().unwrap();
        assert!(!after.factor_enrolled);
        assert_eq!(db.unused_recovery_codes(after.id).await.unwrap(), 0);
        let last = &audit::recent(db, 1).await.unwrap()[0];
        assert_eq!(last.action, "factor.reset");
        assert_eq!(last.reason.as_deref(), Some("lost phone"));
        assert!(matches!(
            db.reset_factor("ghost", "cli:root", "x").await,
            Err(AccountError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn the_policy_applies_and_every_change_is_audited() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        assert_eq!(
            db.security_policy().await.unwrap(),
            SecurityPolicy::default()
        );
        let officer = account(db, "officer", Role::CountyOfficer, "500229000000").await;

        // A refused policy changes nothing and says why.
        let bad = SecurityPolicy {
            max_sessions: 0,
            ..SecurityPolicy::default()
        };
        let problems = db.set_security_policy("security", &bad).await.unwrap();
        assert!(problems.unwrap_err()[0].en.contains("sessions per account"));
        assert_eq!(
            db.security_policy().await.unwrap(),
            SecurityPolicy::default()
        );

        // Two sessions at most: the third sign-in ends the oldest.
        let policy = SecurityPolicy {
            max_sessions: 2,
            min_length: 14,
            min_classes: 4,
            max_age_days: 30,
            ..SecurityPolicy::default()
        };
        db.set_security_policy("security", &policy)
            .await
            .unwrap()
            .unwrap();
        let change = &audit::recent(db, 1).await.unwrap()[0];
        assert_eq!(change.action, "settings.security_policy");
        assert_eq!(change.actor, "security");
        let before: serde_json::Value =
            serde_json::from_str(change.before_data.as_deref().unwrap()).unwrap();
        let after: serde_json::Value =
            serde_json::from_str(change.after_data.as_deref().unwrap()).unwrap();
        assert_eq!(before["max_sessions"], 3);
        assert_eq!(after["max_sessions"], 2);

        let mut tokens = Vec::new();
        for _ in 0..3 {
            let SignIn::Ok { session, .. } = db.sign_in("officer", PASSWORD, "::1").await.unwrap()
            else {
                panic!("refused")
            };
            tokens.push(session.token);
        }
        assert!(db.session(&tokens[0]).await.unwrap().is_none());
        assert!(db.session(&tokens[1]).await.unwrap().is_some());
        assert!(db.session(&tokens[2]).await.unwrap().is_some());

        // The password rules of the policy in force.
        let short = db
            .set_password("officer", "Short-pass-12", "security")
            .await;
        assert!(matches!(short, Err(AccountError::Invalid(t)) if t.en.contains("at least 14")));
        let three = db
            .set_password("officer", "lower-and-digits-12-UP", "security")
            .await;
        assert!(three.is_ok(), "{three:?}");
        let classes = db
            .set_password("officer", "lowerand-digits-1234", "security")
            .await;
        assert!(matches!(classes, Err(AccountError::Invalid(t)) if t.en.contains("at least 4")));

        // A password older than the maximum age must be changed at sign-in (audited).
        db.waive_password_change("officer", "cli").await.unwrap();
        age_password(db, officer.id).await;
        let SignIn::Ok { account: aged, .. } = db
            .sign_in("officer", "lower-and-digits-12-UP", "::1")
            .await
            .unwrap()
        else {
            panic!("refused")
        };
        assert!(aged.must_change_password);
        let expired = audit::recent(db, 3).await.unwrap();
        assert!(
            expired
                .iter()
                .any(|r| r.action == "account.password_expired")
        );

        // Every role needs a factor when the policy says so.
        let all = SecurityPolicy {
            factor_for_all: true,
            ..policy
        };
        db.set_security_policy("security", &all)
            .await
            .unwrap()
            .unwrap();
        account(db, "village", Role::VillageCadre, "500229001001").await;
        let SignIn::Ok { session, .. } = db.sign_in("village", PASSWORD, "::1").await.unwrap()
        else {
            panic!("refused")
        };
        assert!(
            db.session(&session.token)
                .await
                .unwrap()
                .unwrap()
                .must_enrol
        );
    }
}

/// Sets an account's password change date 400 days back (the tests' way to age it).
async fn age_password(db: &Db, id: i64) {
    let sql = "UPDATE accounts SET password_changed_at = '2020-01-01T00:00:00.000Z' WHERE id = $1";
    match db {
        Db::Sqlite(p) => sqlx::query(sql)
            .bind(id)
            .execute(p)
            .await
            .map(drop)
            .unwrap(),
        Db::Postgres(p) => sqlx::query(sql)
            .bind(id)
            .execute(p)
            .await
            .map(drop)
            .unwrap(),
    }
}

#[tokio::test]
async fn the_security_administrator_belongs_to_the_municipality() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        let security = account(db, "security", Role::SecurityAdmin, "500000000000").await;
        assert_eq!(security.role, Role::SecurityAdmin);
        let county = db
            .create_account(
                "security2",
                Role::SecurityAdmin,
                &code("500229000000"),
                PASSWORD,
                "cli",
            )
            .await;
        assert!(matches!(county, Err(AccountError::Invalid(t)) if t.en.contains("wrong level")));
    }
}
