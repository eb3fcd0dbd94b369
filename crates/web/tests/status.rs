#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The server answers over real HTTP on port 0 against a fresh database.

mod common;

use common::Server;

#[tokio::test]
async fn health_and_sign_in_page_answer_with_security_headers() {
    for server in Server::all().await {
        let health = server.get("/healthz").await;
        assert_eq!(health.status, 200, "{}", health.body);
        assert!(health.body.contains(r#"{"status":"ok"}"#));

        // Not signed in: the start page sends to the public portal, which links to the
        // sign-in page for staff; the sign-in page links back.
        let home = server.get("/").await;
        assert_eq!(home.status, 303);
        assert_eq!(home.header("location"), Some("/portal"));
        let portal = server.get("/portal").await;
        assert_eq!(portal.status, 200);
        assert!(portal.body.contains(r#"<a href="/login" id="staff-login""#));
        assert!(portal.body.contains("工作人员登录"));
        let english = server.get("/portal?lang=en").await;
        assert!(english.body.contains("Staff sign-in"));

        let page = server.get("/login").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains(r#"<a href="/portal" id="public-portal">"#)
        );
        assert!(page.body.contains("演示系统"), "a demo says so");
        for (header, value) in [
            ("content-security-policy", "default-src 'none'"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ] {
            assert!(
                page.header(header).is_some_and(|v| v.contains(value)),
                "{header} missing"
            );
        }
        let cookie = page.header("set-cookie").unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));

        let english = server.get("/login?lang=en").await;
        assert!(english.body.contains("Sign in"));

        let missing = server.get("/nowhere/%3Cscript%3E").await;
        assert_eq!(missing.status, 404);
        assert!(
            !missing.body.contains("<script>"),
            "nothing from the URL is echoed"
        );
    }
}
