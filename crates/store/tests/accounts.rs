#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Accounts, sign-in, sessions and tokens behave the same on SQLite and PostgreSQL.

use zhenxing_core::{DivisionCode, Role};
use zhenxing_store::accounts::{AccountError, SignIn};
use zhenxing_store::{audit, testing};

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

const PASSWORD: &str = "Village-cadre-2026";

#[tokio::test]
async fn accounts_are_created_checked_and_audited() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        let village = code("500229001001");
        let created = db
            .create_account("lihong", Role::VillageCadre, &village, PASSWORD, "cli")
            .await;
        let account = match created {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(account.role, Role::VillageCadre);
        assert!(account.scope().contains(&village));

        // Refusals say why.
        let again = db
            .create_account("lihong", Role::VillageCadre, &village, PASSWORD, "cli")
            .await;
        assert!(matches!(again, Err(AccountError::Invalid(t)) if t.en.contains("already exists")));
        let weak = db
            .create_account("weak", Role::VillageCadre, &village, "password", "cli")
            .await;
        assert!(matches!(weak, Err(AccountError::Invalid(t)) if t.en.contains("too short")));
        let wrong_level = db
            .create_account(
                "x1",
                Role::VillageCadre,
                &code("500229000000"),
                PASSWORD,
                "cli",
            )
            .await;
        assert!(
            matches!(wrong_level, Err(AccountError::Invalid(t)) if t.en.contains("wrong level"))
        );
        let unknown = db
            .create_account(
                "x2",
                Role::CountyOfficer,
                &code("500299000000"),
                PASSWORD,
                "cli",
            )
            .await;
        assert!(
            matches!(unknown, Err(AccountError::Invalid(t)) if t.en.contains("not in the division list"))
        );
        let bad_name = db
            .create_account(
                "a b",
                Role::CountyOfficer,
                &code("500229000000"),
                PASSWORD,
                "cli",
            )
            .await;
        assert!(matches!(bad_name, Err(AccountError::Invalid(_))));

        assert_eq!(db.accounts(None).await.unwrap().len(), 1);
        let records = audit::recent(db, 10).await.unwrap();
        assert_eq!(records[0].action, "account.create");
        assert!(
            !records.iter().any(|r| format!("{r:?}").contains(PASSWORD)),
            "passwords never reach the audit trail"
        );
        assert!(audit::verify(db).await.unwrap().problems.is_empty());
    }
}

#[tokio::test]
async fn sign_in_sessions_lockout_and_sign_out() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        let policy = zhenxing_store::security_policy::SecurityPolicy {
            lockout_failures: 3,
            ..Default::default()
        };
        db.set_security_policy("security", &policy)
            .await
            .unwrap()
            .unwrap();
        db.create_account(
            "zhang",
            Role::CountyOfficer,
            &code("500229000000"),
            PASSWORD,
            "cli",
        )
        .await
        .unwrap();

        // Unknown names and wrong passwords are refused alike.
        assert!(matches!(
            db.sign_in("nobody", PASSWORD, "127.0.0.1").await.unwrap(),
            SignIn::Refused
        ));
        assert!(matches!(
            db.sign_in("zhang", "wrong", "127.0.0.1").await.unwrap(),
            SignIn::Refused
        ));

        // A good sign-in opens a session found by its token only.
        let SignIn::Ok { session, .. } = db.sign_in("zhang", PASSWORD, "127.0.0.1").await.unwrap()
        else {
            panic!("sign-in refused")
        };
        let found = db.session(&session.token).await.unwrap().unwrap();
        assert_eq!(found.account.name, "zhang");
        assert_eq!(found.csrf_token, session.csrf_token);
        assert!(db.session("forged").await.unwrap().is_none());

        // Sign-out ends it.
        db.sign_out(&session.token, &found.account).await.unwrap();
        assert!(db.session(&session.token).await.unwrap().is_none());

        // Three failures in a row lock the account, even against the right password; the
        // answer is the same refusal as for a wrong password or an unknown name.
        for _ in 0..3 {
            assert!(matches!(
                db.sign_in("zhang", "wrong", "10.0.0.1").await.unwrap(),
                SignIn::Refused
            ));
        }
        assert!(
            db.account_by_name("zhang")
                .await
                .unwrap()
                .unwrap()
                .locked_until
                .is_some()
        );
        assert!(matches!(
            db.sign_in("zhang", PASSWORD, "10.0.0.1").await.unwrap(),
            SignIn::Refused
        ));

        let actions: Vec<String> = audit::recent(db, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        for expected in ["auth.sign_in", "auth.sign_out", "auth.sign_in_failed"] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected}: {actions:?}"
            );
        }
        assert!(audit::verify(db).await.unwrap().problems.is_empty());
    }
}

#[tokio::test]
async fn disabling_ends_sessions_and_tokens() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        db.create_account(
            "auditor1",
            Role::Auditor,
            &code("500000000000"),
            PASSWORD,
            "cli",
        )
        .await
        .unwrap();
        db.waive_password_change("auditor1", "cli").await.unwrap();
        let token = db
            .create_api_token("auditor1", None, "cli")
            .await
            .unwrap()
            .token;
        assert!(token.starts_with("zx_"));
        assert_eq!(
            db.account_by_api_token(&token).await.unwrap().unwrap().name,
            "auditor1"
        );
        let SignIn::Ok { session, .. } = db.sign_in("auditor1", PASSWORD, "::1").await.unwrap()
        else {
            panic!("sign-in refused")
        };

        assert!(
            db.set_account_disabled("auditor1", true, "admin")
                .await
                .unwrap()
        );
        assert!(db.session(&session.token).await.unwrap().is_none());
        assert!(db.account_by_api_token(&token).await.unwrap().is_none());
        assert!(matches!(
            db.sign_in("auditor1", PASSWORD, "::1").await.unwrap(),
            SignIn::Refused
        ));
        assert!(
            !db.set_account_disabled("ghost", true, "admin")
                .await
                .unwrap()
        );

        // Enabled again with a new password: old tokens stay revoked.
        assert!(
            db.set_account_disabled("auditor1", false, "admin")
                .await
                .unwrap()
        );
        db.set_password("auditor1", "Another-pass-77", "cli")
            .await
            .unwrap();
        assert!(db.account_by_api_token(&token).await.unwrap().is_none());
        let SignIn::Ok { account, .. } = db
            .sign_in("auditor1", "Another-pass-77", "::1")
            .await
            .unwrap()
        else {
            panic!("sign-in refused")
        };
        assert!(account.must_change_password);
    }
}

/// Runs one statement on either database (the tests' way to age a token).
async fn execute(db: &zhenxing_store::Db, sql: &'static str) {
    match db {
        zhenxing_store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
        zhenxing_store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop).unwrap(),
    }
}

/// Issue 14: a password set by someone else must be changed by the account before it works
/// for anything but the change; the change revokes the account's API tokens (audited).
#[tokio::test]
async fn a_password_set_by_someone_else_must_be_changed() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        db.create_account(
            "qian",
            Role::CountyOfficer,
            &code("500229000000"),
            PASSWORD,
            "admin",
        )
        .await
        .unwrap();
        let SignIn::Ok { account, .. } = db.sign_in("qian", PASSWORD, "::1").await.unwrap() else {
            panic!("sign-in refused")
        };
        assert!(
            account.must_change_password,
            "a new account must change its password"
        );
        // Its API tokens open nothing until then.
        let early = db
            .create_api_token("qian", None, "cli")
            .await
            .unwrap()
            .token;
        assert!(db.account_by_api_token(&early).await.unwrap().is_none());

        let refused = |r: Result<(), AccountError>, why: &str| match r {
            Err(AccountError::Invalid(t)) => assert!(t.en.contains(why), "{t:?}"),
            other => panic!("{other:?}"),
        };
        refused(
            db.change_own_password(&account, "Not-the-password-1", "Fresh-start-2027", "::1")
                .await,
            "current password is wrong",
        );
        refused(
            db.change_own_password(&account, PASSWORD, PASSWORD, "::1")
                .await,
            "differ",
        );
        refused(
            db.change_own_password(&account, PASSWORD, "Qian-2027-spring", "::1")
                .await,
            "account's name",
        );
        db.change_own_password(&account, PASSWORD, "Fresh-start-2027", "::1")
            .await
            .unwrap();
        let after = db.account_by_name("qian").await.unwrap().unwrap();
        assert!(!after.must_change_password);
        assert!(
            db.account_by_api_token(&early).await.unwrap().is_none(),
            "revoked by the change"
        );
        let fresh = db
            .create_api_token("qian", None, "cli")
            .await
            .unwrap()
            .token;
        assert_eq!(
            db.account_by_api_token(&fresh).await.unwrap().unwrap().name,
            "qian"
        );

        // An administrator's reset asks for a change again and revokes the tokens.
        db.set_password("qian", "Admin-chosen-2027", "admin")
            .await
            .unwrap();
        assert!(
            db.account_by_name("qian")
                .await
                .unwrap()
                .unwrap()
                .must_change_password
        );
        assert!(db.account_by_api_token(&fresh).await.unwrap().is_none());
        let records = audit::recent(db, 20).await.unwrap();
        let changed = records
            .iter()
            .find(|r| r.action == "account.password_changed")
            .unwrap();
        assert_eq!(changed.actor, "qian");
        let reset = records
            .iter()
            .find(|r| r.action == "account.password")
            .unwrap();
        let after: serde_json::Value =
            serde_json::from_str(reset.after_data.as_deref().unwrap()).unwrap();
        assert_eq!(after["tokens_revoked"], 1, "{after}");
        assert_eq!(after["must_change"], true);
        assert!(audit::verify(db).await.unwrap().problems.is_empty());
    }
}

/// Issue 14: API tokens expire (90 days unless asked, at most 365); an expired one answers
/// like an unknown one.
#[tokio::test]
async fn api_tokens_expire() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        db.create_account(
            "sun",
            Role::CountyOfficer,
            &code("500229000000"),
            PASSWORD,
            "cli",
        )
        .await
        .unwrap();
        db.waive_password_change("sun", "cli").await.unwrap();
        let now = time::OffsetDateTime::now_utc();
        let default = db.create_api_token("sun", None, "cli").await.unwrap();
        let day = |d: i64| zhenxing_core::china_time::stored(now + time::Duration::days(d));
        assert!(
            default.expires_at > day(89) && default.expires_at < day(91),
            "{}",
            default.expires_at
        );
        let short = db.create_api_token("sun", Some(1), "cli").await.unwrap();
        assert!(short.expires_at < day(2));
        for days in [0, -1, 366] {
            let r = db.create_api_token("sun", Some(days), "cli").await;
            assert!(matches!(r, Err(AccountError::Invalid(t)) if t.en.contains("1 to 365 days")));
        }
        let listed = db
            .api_tokens(db.account_by_name("sun").await.unwrap().unwrap().id)
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|t| t.expires_at.is_some() && !t.revoked));

        assert!(
            db.account_by_api_token(&short.token)
                .await
                .unwrap()
                .is_some()
        );
        execute(
            db,
            "UPDATE api_tokens SET expires_at = '2026-01-01T00:00:00.000Z'",
        )
        .await;
        assert!(
            db.account_by_api_token(&short.token)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            db.account_by_api_token(&default.token)
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// Issue 14: the password policy refuses the account's name and common passwords, in every
/// way a password is set.
#[tokio::test]
async fn passwords_like_the_name_or_common_are_refused() {
    for t in testing::all().await.unwrap() {
        let db = &t.db;
        let county = code("500229000000");
        let refused =
            |r: Result<zhenxing_store::accounts::Account, AccountError>, why: &str| match r {
                Err(AccountError::Invalid(t)) => assert!(t.en.contains(why), "{t:?}"),
                other => panic!("{other:?}"),
            };
        refused(
            db.create_account(
                "zhouwei",
                Role::CountyOfficer,
                &county,
                "Zhouwei-2026!",
                "cli",
            )
            .await,
            "account's name",
        );
        refused(
            db.create_account(
                "zhouwei",
                Role::CountyOfficer,
                &county,
                "2026!iewuohZ",
                "cli",
            )
            .await,
            "account's name",
        );
        refused(
            db.create_account(
                "zhouwei",
                Role::CountyOfficer,
                &county,
                "Woaini1314!!",
                "cli",
            )
            .await,
            "common password",
        );
        db.create_account("zhouwei", Role::CountyOfficer, &county, PASSWORD, "cli")
            .await
            .unwrap();
        let r = db.set_password("zhouwei", "Password123!", "cli").await;
        assert!(matches!(r, Err(AccountError::Invalid(t)) if t.en.contains("common password")));
    }
}
