#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Accounts, sign-in, sessions and tokens behave the same on SQLite and PostgreSQL.

use zhenxing_core::{DivisionCode, Role};
use zhenxing_store::accounts::{AccountError, SessionPolicy, SignIn};
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
        let policy = SessionPolicy {
            max_failures: 3,
            ..SessionPolicy::default()
        };
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
            db.sign_in("nobody", PASSWORD, "127.0.0.1", &policy)
                .await
                .unwrap(),
            SignIn::Refused
        ));
        assert!(matches!(
            db.sign_in("zhang", "wrong", "127.0.0.1", &policy)
                .await
                .unwrap(),
            SignIn::Refused
        ));

        // A good sign-in opens a session found by its token only.
        let SignIn::Ok { session, .. } = db
            .sign_in("zhang", PASSWORD, "127.0.0.1", &policy)
            .await
            .unwrap()
        else {
            panic!("sign-in refused")
        };
        let found = db.session(&session.token, &policy).await.unwrap().unwrap();
        assert_eq!(found.account.name, "zhang");
        assert_eq!(found.csrf_token, session.csrf_token);
        assert!(db.session("forged", &policy).await.unwrap().is_none());

        // Sign-out ends it.
        db.sign_out(&session.token, &found.account).await.unwrap();
        assert!(db.session(&session.token, &policy).await.unwrap().is_none());

        // Three failures in a row lock the account, even against the right password.
        for _ in 0..2 {
            assert!(matches!(
                db.sign_in("zhang", "wrong", "10.0.0.1", &policy)
                    .await
                    .unwrap(),
                SignIn::Refused
            ));
        }
        assert!(matches!(
            db.sign_in("zhang", "wrong", "10.0.0.1", &policy)
                .await
                .unwrap(),
            SignIn::Locked { .. }
        ));
        assert!(matches!(
            db.sign_in("zhang", PASSWORD, "10.0.0.1", &policy)
                .await
                .unwrap(),
            SignIn::Locked { .. }
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
        let policy = SessionPolicy::default();
        db.create_account(
            "auditor1",
            Role::Auditor,
            &code("500000000000"),
            PASSWORD,
            "cli",
        )
        .await
        .unwrap();
        let token = db.create_api_token("auditor1", "cli").await.unwrap();
        assert!(token.starts_with("zx_"));
        assert_eq!(
            db.account_by_api_token(&token).await.unwrap().unwrap().name,
            "auditor1"
        );
        let SignIn::Ok { session, .. } = db
            .sign_in("auditor1", PASSWORD, "::1", &policy)
            .await
            .unwrap()
        else {
            panic!("sign-in refused")
        };

        assert!(
            db.set_account_disabled("auditor1", true, "admin")
                .await
                .unwrap()
        );
        assert!(db.session(&session.token, &policy).await.unwrap().is_none());
        assert!(db.account_by_api_token(&token).await.unwrap().is_none());
        assert!(matches!(
            db.sign_in("auditor1", PASSWORD, "::1", &policy)
                .await
                .unwrap(),
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
        db.set_password("auditor1", "Another-pass-77", "admin")
            .await
            .unwrap();
        assert!(db.account_by_api_token(&token).await.unwrap().is_none());
        assert!(matches!(
            db.sign_in("auditor1", "Another-pass-77", "::1", &policy)
                .await
                .unwrap(),
            SignIn::Ok { .. }
        ));
    }
}
