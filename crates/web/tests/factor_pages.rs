#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Issue 15 through the real forms, on SQLite and PostgreSQL: the two-step sign-in with codes
//! computed here (right, wrong, replayed, a neighbouring step, a recovery code), enrolment from
//! the QR page, the security administrator's policy page and factor reset, the policy applied
//! (sessions per account, a factor for every role), and refusals recorded in the audit trail,
//! coalesced.

mod common;

use common::{Client, PASSWORD, Server, step_now};
use zhenxing_store::factor::{base32_decode, totp_code};

async fn audit_actions(server: &Server, n: i64) -> Vec<zhenxing_store::audit::AuditRecord> {
    zhenxing_store::audit::recent(&server.test_db.db, n)
        .await
        .unwrap()
}

#[tokio::test]
async fn signing_in_takes_the_password_then_a_code() {
    for server in Server::all().await {
        let secret = server.secrets["auditor"].clone();
        let mut c = server.client();
        let first = c.sign_in("auditor", PASSWORD).await;
        assert_eq!(first.status, 303);
        assert_eq!(first.header("location"), Some("/login/code"));
        // The pending state opens nothing: no page, no session.
        assert!(c.cookies.contains_key("zx_pending"));
        assert!(!c.cookies.contains_key("zx_session"));
        let audit = c.get("/audit").await;
        assert_eq!(audit.header("location"), Some("/login"));

        // A wrong code: the form again (401), still pending.
        let wrong = c.submit_code("000000").await;
        assert_eq!(wrong.status, 401, "{}", wrong.body);
        assert!(wrong.element("code-message").contains("不正确"));
        // The code of the last step used (the fixture's enrolment) is a replay.
        let replayed = c
            .submit_code(&totp_code(&secret, server.last_step("auditor")))
            .await;
        assert_eq!(replayed.status, 401);
        // The next code opens the session.
        let code = server.next_code("auditor").await;
        let ok = c.submit_code(&code).await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(ok.header("location"), Some("/"));
        assert!(!c.cookies.contains_key("zx_pending"));
        assert_eq!(c.get("/audit").await.status, 200);
        // The same code again, on a new sign-in, is a replay.
        let mut again = server.client();
        again.sign_in("auditor", PASSWORD).await;
        assert_eq!(again.submit_code(&code).await.status, 401);

        let trail = audit_actions(&server, 30).await;
        let failed: Vec<_> = trail
            .iter()
            .filter(|r| r.action == "auth.factor_failed")
            .map(|r| r.after_data.clone().unwrap_or_default())
            .collect();
        assert!(
            failed.iter().any(|a| a.contains("wrong_code")),
            "{failed:?}"
        );
        assert!(failed.iter().any(|a| a.contains("replayed")), "{failed:?}");
        assert!(
            trail
                .iter()
                .any(|r| r.action == "auth.sign_in" && r.actor == "auditor")
        );
        // The code form without a pending sign-in starts over.
        assert_eq!(
            server.client().get("/login/code").await.header("location"),
            Some("/login")
        );
    }
}

/// Enrols through the page as `c` (signed in, sent there): the QR code and key shown, a wrong
/// code refused, the right one accepted; the secret and the recovery codes.
async fn enrol_on_the_page(c: &mut Client) -> (Vec<u8>, Vec<String>) {
    let page = c.get("/account/factor").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg role=\"img\" id=\"factor-qr\""));
    let secret = base32_decode(&page.text_of("factor-secret")).unwrap();
    assert_eq!(secret.len(), 20);
    let csrf = page.hidden("csrf");
    let wrong = c
        .post_form("/account/factor", &[("csrf", &csrf), ("code", "123456")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.element("errors").contains("验证码不正确"));
    // The same key again, so that the app already scanned still fits.
    assert_eq!(
        base32_decode(&wrong.text_of("factor-secret")).unwrap(),
        secret
    );
    let done = c
        .post_form(
            "/account/factor",
            &[("csrf", &csrf), ("code", &totp_code(&secret, step_now()))],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes: Vec<String> = done
        .element("recovery-codes")
        .split("<li>")
        .skip(1)
        .map(|li| li.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    (secret, codes)
}

#[tokio::test]
async fn an_administrator_without_a_factor_enrols_before_anything_else() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let division = zhenxing_core::DivisionCode::parse("500000000000").unwrap();
        db.create_account(
            "auditor_new",
            zhenxing_core::Role::Auditor,
            &division,
            PASSWORD,
            "cli:root",
        )
        .await
        .unwrap();
        db.waive_password_change("auditor_new", "cli:root")
            .await
            .unwrap();
        let mut c = server.client();
        let r = c.sign_in("auditor_new", PASSWORD).await;
        assert_eq!(r.header("location"), Some("/"));
        // Every page but enrolment (and signing out) sends it to enrolment.
        for path in ["/audit", "/", "/account/password"] {
            let r = c.get(path).await;
            assert_eq!(r.header("location"), Some("/account/factor"), "{path}");
        }
        let page = c.get("/account/factor").await;
        assert!(page.body.contains("id=\"must-enrol\""));
        let (secret, codes) = enrol_on_the_page(&mut c).await;
        assert_eq!(c.get("/audit").await.status, 200);

        // From now on, two steps; a recovery code opens one sign-in, once.
        let mut phone_lost = server.client();
        let r = phone_lost.sign_in("auditor_new", PASSWORD).await;
        assert_eq!(r.header("location"), Some("/login/code"));
        assert_eq!(phone_lost.submit_code(&codes[0]).await.status, 303);
        let mut again = server.client();
        again.sign_in("auditor_new", PASSWORD).await;
        assert_eq!(again.submit_code(&codes[0]).await.status, 401);
        // A code one step ahead (the phone's clock a little fast) is accepted.
        let ahead = totp_code(&secret, step_now() + 1);
        assert_eq!(again.submit_code(&ahead).await.status, 303);
        let trail = audit_actions(&server, 40).await;
        assert!(
            trail
                .iter()
                .any(|r| r.action == "factor.enrol" && r.actor == "auditor_new")
        );
        assert!(!format!("{trail:?}").contains(&codes[1]));
    }
}

#[tokio::test]
async fn the_security_administrator_sets_the_policy_and_it_applies() {
    for server in Server::all().await {
        let mut security = server.signed_in("security").await;
        let page = security.get("/security/policy").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("id=\"policy-max_sessions\" value=\"20\"")
        );
        let csrf = page.hidden("csrf");
        let form = |min_length: &str, max_sessions: &str, all: bool| {
            let mut f = vec![
                ("csrf", csrf.clone()),
                ("min_length", min_length.to_owned()),
                ("min_classes", "3".to_owned()),
                ("max_age_days", "90".to_owned()),
                ("lockout_failures", "5".to_owned()),
                ("lockout_minutes", "15".to_owned()),
                ("idle_minutes", "30".to_owned()),
                ("absolute_minutes", "720".to_owned()),
                ("max_sessions", max_sessions.to_owned()),
            ];
            if all {
                f.push(("factor_for_all", "on".to_owned()));
            }
            f
        };
        let post = async |c: &mut Client, f: Vec<(&str, String)>| {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post_form("/security/policy", &pairs).await
        };
        // Refused forms keep their input and say what is wrong; nothing changes.
        let refused = post(&mut security, form("7", "1", false)).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused
                .element("errors")
                .contains("密码最短长度须在8到64之间")
        );
        assert!(
            refused
                .body
                .contains("id=\"policy-min_length\" value=\"7\"")
        );
        let refused = post(&mut security, form("12", "many", false)).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("value=\"many\""));
        let db = &server.test_db.db;
        assert_eq!(db.security_policy().await.unwrap().max_sessions, 20);

        // One session per account: a second sign-in ends the first.
        let saved = post(&mut security, form("12", "1", false)).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let change = &audit_actions(&server, 1).await[0];
        assert_eq!(change.action, "settings.security_policy");
        assert_eq!(change.actor, "security");
        assert!(
            change
                .before_data
                .as_deref()
                .unwrap()
                .contains("\"max_sessions\":20")
        );
        assert!(
            change
                .after_data
                .as_deref()
                .unwrap()
                .contains("\"max_sessions\":1")
        );
        let mut first = server.signed_in("lixin").await;
        assert_eq!(first.get("/households").await.status, 200);
        let mut second = server.signed_in("lixin").await;
        assert_eq!(second.get("/households").await.status, 200);
        assert_eq!(
            first.get("/households").await.header("location"),
            Some("/login")
        );
        // The password rules on the change-password page are the policy's.
        let own = second.get("/account/password").await;
        assert!(own.text_of("password-rules").contains("至少12个字符"));

        // A factor for every role: the village cadre is sent to enrol, and once enrolled the
        // security administrator can reset her factor (with a reason).
        let saved = post(&mut security, form("12", "3", true)).await;
        assert_eq!(saved.status, 303);
        assert_eq!(
            second.get("/households").await.header("location"),
            Some("/account/factor")
        );
        enrol_on_the_page(&mut second).await;
        assert_eq!(second.get("/households").await.status, 200);
        let accounts = security.get("/accounts").await;
        let csrf = accounts.hidden("csrf");
        assert!(accounts.body.contains("/accounts/factor-reset"));
        let no_reason = security
            .post_form(
                "/accounts/factor-reset",
                &[("csrf", &csrf), ("name", "lixin"), ("reason", " ")],
            )
            .await;
        assert_eq!(no_reason.status, 422);
        assert!(
            db.account_by_name("lixin")
                .await
                .unwrap()
                .unwrap()
                .factor_enrolled
        );
        let done = security
            .post_form(
                "/accounts/factor-reset",
                &[("csrf", &csrf), ("name", "lixin"), ("reason", "手机丢失")],
            )
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(
            !db.account_by_name("lixin")
                .await
                .unwrap()
                .unwrap()
                .factor_enrolled
        );
        let reset = &audit_actions(&server, 1).await[0];
        assert_eq!(
            (reset.action.as_str(), reset.actor.as_str()),
            ("factor.reset", "security")
        );
        assert_eq!(reset.reason.as_deref(), Some("手机丢失"));
        // Her sessions ended with it.
        assert_eq!(
            second.get("/households").await.header("location"),
            Some("/login")
        );
    }
}

#[tokio::test]
async fn refusals_are_audited_once_a_minute_per_client() {
    for server in Server::all().await {
        let mut lixin = server.signed_in("lixin").await;
        let before = audit_actions(&server, 1000).await.len();
        for _ in 0..5 {
            assert_eq!(lixin.get("/audit").await.status, 403);
        }
        let csrf_refused = lixin
            .post_form("/lang", &[("csrf", "forged"), ("lang", "en")])
            .await;
        assert_eq!(csrf_refused.status, 403);
        let trail = audit_actions(&server, 1000).await;
        let new: Vec<_> = trail[..trail.len() - before].iter().collect();
        let denied: Vec<_> = new.iter().filter(|r| r.action == "access.denied").collect();
        let csrf: Vec<_> = new
            .iter()
            .filter(|r| r.action == "access.csrf_failed")
            .collect();
        // The minute may turn during the five requests: one or two records, never five.
        assert!(
            (1..=2).contains(&denied.len()),
            "{} access.denied records",
            denied.len()
        );
        assert_eq!(denied[0].actor, "lixin");
        assert_eq!(denied[0].object_id.as_deref(), Some("/audit"));
        assert_eq!(csrf.len(), 1);
    }
}

#[tokio::test]
async fn rate_limited_sign_ins_are_audited() {
    let config = zhenxing_web::WebConfig {
        login_attempts_per_window: 2,
        ..zhenxing_web::WebConfig::default()
    };
    for server in Server::all_with(config, false).await {
        let mut c = server.client();
        for _ in 0..2 {
            assert_eq!(c.sign_in("lixin", "wrong-password").await.status, 401);
        }
        let limited = c.sign_in("lixin", PASSWORD).await;
        assert_eq!(limited.status, 429);
        let trail = audit_actions(&server, 5).await;
        let record = trail
            .iter()
            .find(|r| r.action == "auth.rate_limited")
            .expect("the rate-limited sign-in is in the audit trail");
        assert_eq!(record.object_id.as_deref(), Some("/login"));
        assert!(record.after_data.as_deref().unwrap().contains("127.0.0.1"));
    }
}
