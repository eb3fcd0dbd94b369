#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Account administration: the municipal administrator creates, disables, enables accounts and
//! resets passwords; everyone else is refused; forms without the CSRF token are refused.

mod common;

use common::{Client, PASSWORD, Response, Server};

/// The text of the element with `id` (tags removed).
fn text_of(page: &Response, id: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in page.element(id).chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

async fn create(
    admin: &mut Client,
    name: &str,
    role: &str,
    division: &str,
    password: &str,
) -> Response {
    let csrf = admin.csrf().await;
    admin
        .post_form(
            "/accounts",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("role", role),
                ("division", division),
                ("password", password),
            ],
        )
        .await
}

#[tokio::test]
async fn the_administrator_creates_an_account_that_can_sign_in() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        let list = admin.get("/accounts").await;
        assert_eq!(list.status, 200, "{}", list.body);
        let table = list.element("accounts");
        for name in ["chengkou", "lixin", "auditor"] {
            assert!(table.contains(name));
        }
        assert!(
            list.body.contains("村干部"),
            "role labels in the page's language"
        );

        // A generated password, shown once.
        let done = create(&mut admin, "xinzhuang", "village_cadre", "500229102202", "").await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(text_of(&done, "result-name"), "xinzhuang");
        let password = text_of(&done, "new-password");
        assert!(password.len() >= 12, "{password}");
        assert!(done.element("accounts").contains("xinzhuang"));
        let mut clerk = server.client();
        let signed = clerk.sign_in("xinzhuang", &password).await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        assert_eq!(clerk.get("/households/CK0001").await.status, 200);
        assert_eq!(clerk.get("/households/CK0002").await.status, 404, "scope");
        // Shown once: the list does not show it again.
        assert!(!admin.get("/accounts").await.body.contains(&password));

        // A typed password is not echoed back.
        let typed = "Typed-password-2026";
        let done = create(
            &mut admin,
            "wuxi_2",
            "county_officer",
            "500238000000",
            typed,
        )
        .await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(!done.body.contains(typed));
        let mut officer = server.client();
        assert_eq!(officer.sign_in("wuxi_2", typed).await.status, 303);

        // The trail names the administrator.
        let account = server
            .test_db
            .db
            .account_by_name("xinzhuang")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.division.as_str(), "500229102202");
        let recent = zhenxing_store::audit::recent(&server.test_db.db, 50)
            .await
            .unwrap();
        assert!(recent.iter().any(|r| r.action == "account.create"
            && r.actor == "admin"
            && r.object_id.as_deref() == Some("xinzhuang")));
    }
}

#[tokio::test]
async fn invalid_accounts_are_refused_on_the_form_in_the_page_language() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        // A village cadre attached to a county.
        let refused = create(&mut admin, "wrong", "village_cadre", "500229000000", "").await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let errors = refused.element("errors");
        assert!(
            errors.contains("村干部不能归属于区划500229000000"),
            "{errors}"
        );
        assert!(
            refused.body.contains("value=\"wrong\""),
            "the form keeps what was typed"
        );
        // Existing name, weak password, bad division, no role.
        let refused = create(&mut admin, "lixin", "village_cadre", "500229102202", "").await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("已存在"));
        let refused = create(
            &mut admin,
            "weak",
            "county_officer",
            "500229000000",
            "short",
        )
        .await;
        assert_eq!(refused.status, 422);
        let refused = create(&mut admin, "nowhere", "county_officer", "5002", "").await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("区划代码"));
        let refused = create(&mut admin, "norole", "", "500229000000", "").await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("请选择角色"));

        // In English once the administrator switches.
        let csrf = admin.csrf().await;
        let switched = admin
            .post_form(
                "/lang",
                &[("csrf", &csrf), ("lang", "en"), ("back", "/accounts")],
            )
            .await;
        assert_eq!(switched.status, 303);
        let refused = create(&mut admin, "wrong", "village_cadre", "500229000000", "").await;
        assert_eq!(refused.status, 422);
        let errors = refused.element("errors");
        assert!(
            errors.contains("village cadre cannot belong to division 500229000000"),
            "{errors}"
        );
        assert!(
            refused.body.contains("county officer"),
            "role labels in English"
        );
        for name in ["wrong", "weak", "nowhere", "norole"] {
            assert!(
                server
                    .test_db
                    .db
                    .account_by_name(name)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
}

#[tokio::test]
async fn only_the_administrator_manages_accounts() {
    for server in Server::all().await {
        for name in ["chengkou", "lixin", "auditor", "department"] {
            let mut client = server.signed_in(name).await;
            assert_eq!(client.get("/accounts").await.status, 403, "{name}");
            let csrf = client.csrf().await;
            let refused = client
                .post_form(
                    "/accounts",
                    &[
                        ("csrf", &csrf),
                        ("name", "sneaky"),
                        ("role", "municipal_admin"),
                        ("division", "500000000000"),
                    ],
                )
                .await;
            assert_eq!(refused.status, 403, "{name}");
            for action in ["/accounts/disable", "/accounts/password"] {
                let refused = client
                    .post_form(action, &[("csrf", &csrf), ("name", "admin")])
                    .await;
                assert_eq!(refused.status, 403, "{name} {action}");
            }
        }
        assert!(
            server
                .test_db
                .db
                .account_by_name("sneaky")
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        let refused = admin
            .post_form(
                "/accounts",
                &[
                    ("name", "forged"),
                    ("role", "municipal_admin"),
                    ("division", "500000000000"),
                ],
            )
            .await;
        assert_eq!(refused.status, 403);
        let refused = admin
            .post_form(
                "/accounts",
                &[
                    ("csrf", "0000"),
                    ("name", "forged"),
                    ("role", "municipal_admin"),
                    ("division", "500000000000"),
                ],
            )
            .await;
        assert_eq!(refused.status, 403);
        let refused = admin
            .post_form("/accounts/disable", &[("name", "lixin")])
            .await;
        assert_eq!(refused.status, 403);
        let refused = admin
            .post_form("/accounts/password", &[("name", "lixin")])
            .await;
        assert_eq!(refused.status, 403);
        let db = &server.test_db.db;
        assert!(db.account_by_name("forged").await.unwrap().is_none());
        assert!(!db.account_by_name("lixin").await.unwrap().unwrap().disabled);
        let mut lixin = server.client();
        assert_eq!(lixin.sign_in("lixin", PASSWORD).await.status, 303);
    }
}

#[tokio::test]
async fn disable_enable_and_reset_password() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        let mut lixin = server.signed_in("lixin").await;
        assert_eq!(lixin.get("/households").await.status, 200);

        let csrf = admin.csrf().await;
        let done = admin
            .post_form("/accounts/disable", &[("csrf", &csrf), ("name", "lixin")])
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        // The session ends and the account cannot sign in.
        assert_ne!(lixin.get("/households").await.status, 200);
        assert_eq!(
            server.client().sign_in("lixin", PASSWORD).await.status,
            401,
            "refused sign-in shows the form again"
        );
        assert!(
            admin
                .get("/accounts")
                .await
                .element("accounts")
                .contains("已停用")
        );

        let done = admin
            .post_form("/accounts/enable", &[("csrf", &csrf), ("name", "lixin")])
            .await;
        assert_eq!(done.status, 303);
        let mut lixin = server.client();
        assert_eq!(lixin.sign_in("lixin", PASSWORD).await.status, 303);

        // Not one's own account.
        let refused = admin
            .post_form("/accounts/disable", &[("csrf", &csrf), ("name", "admin")])
            .await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("不能停用"));
        assert_eq!(admin.get("/accounts").await.status, 200, "still signed in");

        // No such account.
        let missing = admin
            .post_form("/accounts/disable", &[("csrf", &csrf), ("name", "nobody")])
            .await;
        assert_eq!(missing.status, 404);

        // A new password, shown once; the old one stops working.
        let done = admin
            .post_form("/accounts/password", &[("csrf", &csrf), ("name", "bashan")])
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        let password = text_of(&done, "new-password");
        assert!(password.len() >= 12);
        assert_eq!(
            server.client().sign_in("bashan", PASSWORD).await.status,
            401
        );
        assert_eq!(
            server.client().sign_in("bashan", &password).await.status,
            303
        );

        let trail = zhenxing_store::audit::recent(&server.test_db.db, 100)
            .await
            .unwrap();
        for action in ["account.disable", "account.enable", "account.password"] {
            assert!(
                trail
                    .iter()
                    .any(|r| r.action == action && r.actor == "admin"),
                "{action}"
            );
        }
    }
}
