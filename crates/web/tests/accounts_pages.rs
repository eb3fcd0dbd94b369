#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Account administration: the security administrator creates, disables, enables accounts and
//! resets passwords; everyone else is refused; forms without the CSRF token are refused.

mod common;

use common::{Client, PASSWORD, Response, Server};

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
                ("real_name", "测试人员"),
            ],
        )
        .await
}

/// Signs `name` in with the password someone else set, changes it on the change-password page
/// to `new`, and signs in again with it: the client, signed in.
async fn change_own_password(server: &Server, name: &str, current: &str, new: &str) -> Client {
    let mut c = server.client();
    assert_eq!(c.sign_in(name, current).await.status, 303);
    let page = c.get("/account/password").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"must-change\""), "{}", page.body);
    let csrf = page.hidden("csrf");
    let done = c
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", current),
                ("new", new),
                ("repeat", new),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("/login"));
    let mut c = server.client();
    assert_eq!(c.sign_in(name, new).await.status, 303);
    c
}

#[tokio::test]
async fn the_administrator_creates_an_account_that_can_sign_in() {
    for server in Server::all().await {
        let mut admin = server.signed_in("security").await;
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
        assert_eq!(done.text_of("result-name"), "xinzhuang");
        let password = done.text_of("new-password");
        assert!(password.len() >= 12, "{password}");
        assert!(done.element("accounts").contains("xinzhuang"));
        let mut clerk = server.client();
        let signed = clerk.sign_in("xinzhuang", &password).await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        // The administrator chose the password: the account changes it first.
        let mut clerk =
            change_own_password(&server, "xinzhuang", &password, "Xz-own-choice-2027").await;
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
        assert_eq!(
            officer.get("/households").await.header("location"),
            Some("/account/password")
        );

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
            && r.actor == "security"
            && r.object_id.as_deref() == Some("xinzhuang")));
    }
}

#[tokio::test]
async fn invalid_accounts_are_refused_on_the_form_in_the_page_language() {
    for server in Server::all().await {
        let mut admin = server.signed_in("security").await;
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
async fn only_the_security_administrator_manages_accounts() {
    for server in Server::all().await {
        // The system administrator no longer manages accounts (issue 15), nor does the auditor.
        for name in ["admin", "chengkou", "lixin", "auditor", "department"] {
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
            for action in [
                "/accounts/disable",
                "/accounts/password",
                "/accounts/factor-reset",
            ] {
                let refused = client
                    .post_form(action, &[("csrf", &csrf), ("name", "lixin")])
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
        let mut admin = server.signed_in("security").await;
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
        let mut admin = server.signed_in("security").await;
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

        // Not one's own account (an administrator's: the operator's, like the other two).
        let refused = admin
            .post_form(
                "/accounts/disable",
                &[("csrf", &csrf), ("name", "security")],
            )
            .await;
        assert_eq!(refused.status, 403);
        assert!(refused.element("errors").contains("安全管理员"));
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
        let password = done.text_of("new-password");
        assert!(password.len() >= 12);
        assert_eq!(
            server.client().sign_in("bashan", PASSWORD).await.status,
            401
        );
        assert_eq!(
            server.client().sign_in("bashan", &password).await.status,
            303
        );
        let mut bashan =
            change_own_password(&server, "bashan", &password, "Own-choice-2027x").await;
        assert_eq!(bashan.get("/households").await.status, 200);

        let trail = zhenxing_store::audit::recent(&server.test_db.db, 100)
            .await
            .unwrap();
        for action in ["account.disable", "account.enable", "account.password"] {
            assert!(
                trail
                    .iter()
                    .any(|r| r.action == action && r.actor == "security"),
                "{action}"
            );
        }
    }
}

/// Issues 14 and 15: none of the three administrators can take over another, or make a second
/// account of an administrator's role: the security administrator resets no administrator's
/// password or factor and creates no administrator account on the web (the operator does, with
/// `zhenxing user`), and the form does not offer those roles.
#[tokio::test]
async fn the_security_administrator_cannot_act_as_another_administrator() {
    for server in Server::all().await {
        let mut security = server.signed_in("security").await;
        let csrf = security.csrf().await;
        for (name, label) in [
            ("auditor", "审计人员"),
            ("admin", "系统管理员"),
            ("security", "安全管理员"),
        ] {
            let refused = security
                .post_form("/accounts/password", &[("csrf", &csrf), ("name", name)])
                .await;
            assert_eq!(refused.status, 403, "{}", refused.body);
            assert!(
                refused.element("errors").contains(label),
                "{}",
                refused.body
            );
            assert!(!refused.body.contains("id=\"new-password\""));
            let refused = security
                .post_form(
                    "/accounts/factor-reset",
                    &[("csrf", &csrf), ("name", name), ("reason", "lost phone")],
                )
                .await;
            assert_eq!(refused.status, 403, "{name} factor: {}", refused.body);
            for action in ["/accounts/disable", "/accounts/enable"] {
                let refused = security
                    .post_form(action, &[("csrf", &csrf), ("name", name)])
                    .await;
                assert_eq!(refused.status, 403, "{name} {action}");
            }
            let account = server.test_db.db.account_by_name(name).await.unwrap();
            assert!(!account.unwrap().disabled, "{name}");
        }
        // Their own passwords and factors still work, and nothing asks them to change.
        let mut auditor = server.signed_in("auditor").await;
        assert_eq!(auditor.get("/audit").await.status, 200);
        let trail = zhenxing_store::audit::recent(&server.test_db.db, 50)
            .await
            .unwrap();
        assert!(!trail.iter().any(|r| r.action == "account.password"));
        assert!(!trail.iter().any(|r| r.action == "factor.reset"));

        // No new administrator account either, and the form does not offer the roles.
        let db = &server.test_db.db;
        for role in ["auditor", "municipal_admin", "security_admin"] {
            let refused = create(&mut security, "admin2", role, "500000000000", "").await;
            assert_eq!(refused.status, 422, "{}", refused.body);
            assert!(db.account_by_name("admin2").await.unwrap().is_none());
        }
        let list = security.get("/accounts").await;
        for role in ["auditor", "municipal_admin", "security_admin"] {
            assert!(
                !list
                    .element("new-role")
                    .contains(&format!("value=\"{role}\""))
            );
        }
        // The administrators' rows have no reset button; the operators' do.
        let rows: Vec<&str> = list.element("accounts").split("<tr>").collect();
        // A row has its tick box cell, then the account's name cell.
        let row = |name: &str| {
            rows.iter()
                .find(|r| r.contains(&format!("</td><td>{name}<")))
                .unwrap_or_else(|| panic!("no row for {name}"))
                .to_string()
        };
        for name in ["auditor", "admin"] {
            for action in [
                "/accounts/password",
                "/accounts/disable",
                "/accounts/factor-reset",
            ] {
                assert!(!row(name).contains(action), "{name} {action}");
            }
        }
        assert!(row("chengkou").contains("/accounts/password"));
    }
}

/// Issue 14, item 5: an account whose password someone else set reaches only the
/// change-password page (both languages) until it changes it, and its API tokens open nothing.
#[tokio::test]
async fn a_password_set_by_someone_else_must_be_changed_first() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        db.set_password("chengkou", "Reset-by-operator-9", "cli")
            .await
            .unwrap();
        let token = db
            .create_api_token("chengkou", None, "cli")
            .await
            .unwrap()
            .token;
        let mut api = server.client();
        api.bearer = Some(token);
        assert_eq!(api.get("/api/v1/me").await.status, 401);

        let mut c = server.client();
        assert_eq!(
            c.sign_in("chengkou", "Reset-by-operator-9").await.status,
            303
        );
        for path in [
            "/",
            "/households",
            "/households/CK0001",
            "/audit",
            "/divisions/500229000000",
        ] {
            let r = c.get(path).await;
            assert_eq!(r.status, 303, "{path}");
            assert_eq!(r.header("location"), Some("/account/password"), "{path}");
        }
        let page = c.get("/account/password").await;
        assert!(page.body.contains("您的密码是他人设置的"), "{}", page.body);
        let csrf = page.hidden("csrf");
        let r = c
            .post_form(
                "/lang",
                &[
                    ("csrf", &csrf),
                    ("lang", "en"),
                    ("back", "/account/password"),
                ],
            )
            .await;
        assert_eq!(r.status, 303);
        let page = c.get("/account/password").await;
        assert!(
            page.body.contains("Your password was set by someone else"),
            "{}",
            page.body
        );
        // Mistakes come back on the page, in its language.
        let change = |current: &'static str, new: &'static str, repeat: &'static str| {
            [
                ("csrf", csrf.clone()),
                ("current", current.to_owned()),
                ("new", new.to_owned()),
                ("repeat", repeat.to_owned()),
            ]
        };
        for (form, why) in [
            (
                change("wrong", "Fresh-start-2027", "Fresh-start-2027"),
                "current password is wrong",
            ),
            (
                change(
                    "Reset-by-operator-9",
                    "Fresh-start-2027",
                    "Fresh-start-2028",
                ),
                "differ",
            ),
            (
                change("Reset-by-operator-9", "Chengkou-2027!", "Chengkou-2027!"),
                "must not contain the account",
            ),
            (
                change("Reset-by-operator-9", "Password2027!", "Password2027!"),
                "common password",
            ),
        ] {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = c.post_form("/account/password", &pairs).await;
            assert_eq!(r.status, 422, "{why}: {}", r.body);
            assert!(r.element("errors").contains(why), "{why}: {}", r.body);
        }
        let mut c = change_own_password(
            &server,
            "chengkou",
            "Reset-by-operator-9",
            "Fresh-start-2027",
        )
        .await;
        assert_eq!(c.get("/households/CK0001").await.status, 200);
        // The token made before the change stays dead.
        assert_eq!(api.get("/api/v1/me").await.status, 401);
        assert!(
            !db.account_by_name("chengkou")
                .await
                .unwrap()
                .unwrap()
                .must_change_password
        );
    }
}

/// Issue 14, item 9: a locked account, a disabled one and an unknown name get the same page
/// (the lockout still holds against the right password).
#[tokio::test]
async fn locked_disabled_and_unknown_names_answer_alike() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        for _ in 0..5 {
            assert_eq!(
                server
                    .client()
                    .sign_in("chengkou", "Wrong-guess-2026")
                    .await
                    .status,
                401
            );
        }
        assert!(
            db.account_by_name("chengkou")
                .await
                .unwrap()
                .unwrap()
                .locked_until
                .is_some()
        );
        db.set_account_disabled("lixin", true, "test")
            .await
            .unwrap();
        let answer = |r: Response| {
            let csrf = r.hidden("csrf");
            (
                r.status,
                r.element("login-message").to_owned(),
                r.body.replace(&csrf, "CSRF"),
            )
        };
        let locked = answer(server.client().sign_in("chengkou", PASSWORD).await);
        let disabled = answer(server.client().sign_in("lixin", PASSWORD).await);
        let unknown = answer(server.client().sign_in("nobody", PASSWORD).await);
        let wrong = answer(server.client().sign_in("bashan", "Wrong-guess-2026").await);
        assert_eq!(locked.0, 401);
        assert_eq!(locked.1, unknown.1);
        assert_eq!(disabled.1, unknown.1);
        assert_eq!(wrong.1, unknown.1);
        // The pages differ only by the name typed back into the form.
        assert_eq!(
            locked.2.replace("chengkou", "NAME"),
            unknown.2.replace("nobody", "NAME")
        );
        assert_eq!(
            disabled.2.replace("lixin", "NAME"),
            unknown.2.replace("nobody", "NAME")
        );
    }
}

/// Issue 14, item 9: `back=` goes only to a local path; a tab, a control character or a
/// direction mark sends the person to the default page, never elsewhere and never a 500.
#[tokio::test]
async fn back_goes_only_to_local_paths() {
    for server in Server::all().await {
        let mut c = server.signed_in("chengkou").await;
        let csrf = c.csrf().await;
        for (back, expected) in [
            ("/households", "/households"),
            ("/\t/evil.example", "/"),
            ("/%09/evil.example", "/"),
            ("/x\0y", "/"),
            ("/\u{202e}x", "/"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            (" /households", "/"),
        ] {
            let r = c
                .post_form("/lang", &[("csrf", &csrf), ("lang", "zh"), ("back", back)])
                .await;
            assert_eq!(r.status, 303, "{back:?}: {}", r.body);
            assert_eq!(r.header("location"), Some(expected), "{back:?}");
        }
        let mut visitor = server.client();
        let csrf = visitor.get("/portal").await.hidden("csrf");
        for back in ["/portal/\t/x", "/portal\0", "/portal/%09/evil.example"] {
            let r = visitor
                .post_form("/portal/cookies", &[("csrf", &csrf), ("back", back)])
                .await;
            assert_eq!(r.status, 303, "{back:?}: {}", r.body);
            assert_eq!(r.header("location"), Some("/portal"), "{back:?}");
        }
    }
}

/// Issue 14, item 7: behind trusted proxies the client is the rightmost address that is not a
/// proxy; a forged first entry changes nothing (the rate limit still applies, the trail keeps
/// the real address), and a header that does not parse is refused.
#[tokio::test]
async fn forwarded_for_is_read_from_the_right() {
    let config = zhenxing_web::WebConfig {
        trust_forwarded_for: true,
        trusted_proxies: zhenxing_web::security::parse_ip_ranges("127.0.0.1, 10.0.0.0/8").unwrap(),
        login_attempts_per_window: 5,
        ..zhenxing_web::WebConfig::default()
    };
    for server in Server::all_with(config, false).await {
        let mut statuses = Vec::new();
        for i in 0..8 {
            let mut c = server.client();
            c.headers.push((
                "X-Forwarded-For".into(),
                format!("198.51.100.{i}, 203.0.113.9, 10.1.1.1"),
            ));
            statuses.push(c.sign_in("nobody", "Wrong-guess-2026").await.status);
        }
        assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
        assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
        let trail = zhenxing_store::audit::recent(&server.test_db.db, 20)
            .await
            .unwrap();
        let failed: Vec<String> = trail
            .iter()
            .filter(|r| r.action == "auth.sign_in_failed")
            .map(|r| {
                let after: serde_json::Value =
                    serde_json::from_str(r.after_data.as_deref().unwrap()).unwrap();
                after["from"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(failed.len(), 5);
        assert!(failed.iter().all(|f| f == "203.0.113.9"), "{failed:?}");

        for bad in [
            "not-an-address",
            "203.0.113.9, ",
            "203.0.113.9, 10.0.0.1; x",
        ] {
            let mut c = server.client();
            c.headers.push(("X-Forwarded-For".into(), bad.into()));
            let r = c.get("/login").await;
            assert_eq!(r.status, 400, "{bad}: {}", r.body);
            assert!(r.body.contains("X-Forwarded-For"), "{}", r.body);
        }
    }
}

/// The account list searches by name or division name, filters by role, says when each
/// account last signed in, and its export holds what the search selects (issue 18 item 5).
#[tokio::test]
async fn the_account_list_searches_and_shows_the_last_sign_in() {
    for server in Server::all().await {
        // lixin signs in once, so that she has a last sign-in.
        server.signed_in("lixin").await;
        let mut security = server.signed_in("security").await;
        let by_place = security.get("/accounts?q=立新").await;
        assert_eq!(by_place.status, 200, "{}", by_place.body);
        assert_eq!(by_place.text_of("list-total"), "共 1 个账号");
        let table = by_place.element("accounts");
        assert!(table.contains(">lixin"), "{table}");
        let today = zhenxing_core::china_time::today_in_china().to_string();
        assert!(table.contains(&today), "the last sign-in: {table}");
        let cadres = security.get("/accounts?role=village_cadre").await;
        assert_eq!(cadres.text_of("list-total"), "共 2 个账号");
        assert_eq!(security.get("/accounts?role=nonsense").await.status, 400);
        assert!(
            cadres
                .element("export-csv")
                .contains("/accounts.csv?role=village_cadre")
        );
        let file = security.get("/accounts.csv?role=village_cadre").await;
        assert_eq!(file.body.trim_start_matches('\u{feff}').lines().count(), 3);
    }
}

/// The audit entries of `action` on `account`.
async fn audited(server: &Server, action: &str, account: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_id = $2";
    match &server.test_db.db {
        zhenxing_store::Db::Sqlite(p) => sqlx::query_scalar(sql)
            .bind(action)
            .bind(account)
            .fetch_one(p)
            .await
            .unwrap(),
        zhenxing_store::Db::Postgres(p) => sqlx::query_scalar(sql)
            .bind(action)
            .bind(account)
            .fetch_one(p)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn an_account_has_a_holder_and_its_division_is_chosen_by_name() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let mut admin = server.signed_in("security").await;
        let form = |name: &'static str, division: &'static str, phone: &'static str| {
            [
                ("name", name),
                ("role", "village_cadre"),
                ("division", division),
                ("password", ""),
                ("real_name", "李秀英"),
                ("unit", "红岩村村民委员会"),
                ("phone", phone),
            ]
        };
        let post = async |admin: &mut Client, fields: [(&'static str, &'static str); 7]| {
            let csrf = admin.csrf().await;
            let mut pairs = vec![("csrf", csrf.as_str())];
            pairs.extend_from_slice(&fields);
            let pairs: Vec<(String, String)> = pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            admin.post_form("/accounts", &refs).await
        };
        // Two 红岩村 in 城口县: the form asks which, keeps what was typed, and does not show
        // the phone number back.
        let refused = post(&mut admin, form("hongyan", "城口县 红岩村", "13900230077")).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(
            refused.element("errors").contains("不止一个"),
            "{}",
            refused.element("errors")
        );
        let choices = refused.element("division-choices");
        assert!(
            choices.contains("500229104201") && choices.contains("500229208204"),
            "{choices}"
        );
        assert!(
            choices.contains("庙坝镇 红岩村") && choices.contains("沿河乡 红岩村"),
            "{choices}"
        );
        assert!(
            refused
                .element("new-real-name")
                .contains("value=\"李秀英\"")
        );
        assert!(
            !refused.body.contains("13900230077"),
            "no phone number shown back"
        );
        assert!(!refused.element("phone-again").is_empty());
        // A name nowhere in the administrator's division.
        let refused = post(&mut admin, form("hongyan", "不存在村", "")).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused
                .element("errors")
                .contains("没有名为“不存在村”的区划")
        );
        // A bad phone number is refused with its reason.
        let refused = post(&mut admin, form("hongyan", "沿河乡 红岩村", "1234")).await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("手机号须为11位数字"));
        // The township before the name makes it one.
        let created = post(&mut admin, form("hongyan", "沿河乡 红岩村", "13900230077")).await;
        assert_eq!(created.status, 200, "{}", created.body);
        let account = db.account_by_name("hongyan").await.unwrap().unwrap();
        assert_eq!(account.division.as_str(), "500229208204");
        let profiles = db.account_profiles(&["hongyan"]).await.unwrap();
        let stored = &profiles["hongyan"];
        assert_eq!(
            stored.profile.real_name.as_ref().unwrap().as_str(),
            "李秀英"
        );
        assert_eq!(
            stored.profile.phone.as_ref().unwrap().as_str(),
            "13900230077"
        );
        // The list shows the holder, the phone masked, and finds the account by real name.
        let list = admin.get("/accounts?q=李秀英").await;
        assert_eq!(list.status, 200);
        let table = list.element("accounts");
        assert!(
            table.contains("hongyan") && table.contains("李秀英"),
            "{table}"
        );
        assert!(table.contains("139****0077"), "{table}");
        assert!(
            !list.body.contains("13900230077"),
            "the full number is never on the page"
        );
        // The profile edited; the phone left empty stays as it was.
        let csrf = admin.csrf().await;
        let version = stored.version.to_string();
        let saved = admin
            .post_form(
                "/accounts/profile",
                &[
                    ("csrf", &csrf),
                    ("name", "hongyan"),
                    ("version", &version),
                    ("real_name", "李秀兰"),
                    ("unit", "沿河乡人民政府"),
                    ("phone", ""),
                ],
            )
            .await;
        assert_eq!(saved.status, 200, "{}", saved.body);
        assert!(saved.element("result").contains("hongyan"));
        let now = &db.account_profiles(&["hongyan"]).await.unwrap()["hongyan"];
        assert_eq!(now.profile.real_name.as_ref().unwrap().as_str(), "李秀兰");
        assert_eq!(now.profile.phone.as_ref().unwrap().as_str(), "13900230077");
        // The same (now stale) form again: refused, what was typed kept, nothing changed.
        let stale = admin
            .post_form(
                "/accounts/profile",
                &[
                    ("csrf", &csrf),
                    ("name", "hongyan"),
                    ("version", &version),
                    ("real_name", "王五"),
                    ("unit", ""),
                    ("phone", ""),
                ],
            )
            .await;
        assert_eq!(stale.status, 409, "{}", stale.body);
        assert!(stale.element("profile-hongyan").contains("value=\"王五\""));
        let now = &db.account_profiles(&["hongyan"]).await.unwrap()["hongyan"];
        assert_eq!(now.profile.real_name.as_ref().unwrap().as_str(), "李秀兰");
        assert_eq!(audited(&server, "account.profile", "hongyan").await, 1);
    }
}

#[tokio::test]
async fn accounts_are_disabled_and_enabled_many_at_once_all_or_nothing() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let mut admin = server.signed_in("security").await;
        let bulk = async |admin: &mut Client, action: &str, names: &[&str], confirm: bool| {
            let csrf = admin.csrf().await;
            let mut pairs = vec![("csrf", csrf.as_str()), ("action", action)];
            for n in names {
                pairs.push(("names", n));
            }
            if confirm {
                pairs.push(("confirm", "yes"));
            }
            admin.post_form("/accounts/bulk", &pairs).await
        };
        // Without the confirmation, nothing.
        let refused = bulk(&mut admin, "disable", &["lixin", "bashan"], false).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.element("errors").contains("请勾选确认"));
        // One account the administrator may not manage spoils the batch.
        let refused = bulk(&mut admin, "disable", &["lixin", "admin"], true).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused.element("errors").contains("三类管理员"),
            "{}",
            refused.element("errors")
        );
        let refused = bulk(&mut admin, "disable", &["lixin", "nobody-here"], true).await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("nobody-here"));
        assert!(!db.account_by_name("lixin").await.unwrap().unwrap().disabled);
        // Nothing ticked.
        let refused = bulk(&mut admin, "enable", &[], false).await;
        assert_eq!(refused.status, 422);
        // Both, and they are signed out.
        let mut lixin = server.signed_in("lixin").await;
        let done = bulk(&mut admin, "disable", &["lixin", "bashan"], true).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(
            done.element("result").contains("已停用2个账号"),
            "{}",
            done.element("result")
        );
        for name in ["lixin", "bashan"] {
            assert!(db.account_by_name(name).await.unwrap().unwrap().disabled);
            assert_eq!(audited(&server, "account.disable", name).await, 1);
        }
        assert_eq!(lixin.get("/households").await.status, 303, "signed out");
        let done = bulk(&mut admin, "enable", &["lixin", "bashan"], false).await;
        assert_eq!(done.status, 200);
        assert!(
            !db.account_by_name("bashan")
                .await
                .unwrap()
                .unwrap()
                .disabled
        );
        // Malformed: an unknown action.
        assert_eq!(
            bulk(&mut admin, "delete", &["lixin"], true).await.status,
            400
        );
    }
}

#[tokio::test]
async fn an_account_list_is_imported_whole_or_not_at_all() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let mut admin = server.signed_in("security").await;
        let import = async |admin: &mut Client, file: &str, bytes: &[u8]| {
            let csrf = admin.csrf().await;
            admin
                .post_multipart(
                    "/accounts/import",
                    &[("csrf", &csrf)],
                    Some(("file", file, bytes)),
                )
                .await
        };
        // Five problems in four rows: nothing is created, each is named with its row and
        // column, the phone number masked.
        let bad = "账号,姓名,角色,区划,单位,手机号\n\
                   zhang_3,张三,村干部,巴山镇 立新村,立新村村民委员会,13900230101\n\
                   lixin,李四,村干部,巴山镇 立新村,,\n\
                   wang_5,王五,村长,城口县 红岩村,,12345678\n\
                   li_6,李六,村干部,城口县 红岩村,,\n";
        let refused = import(&mut admin, "accounts.csv", bad.as_bytes()).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let problems = refused.element("import-problems");
        for expected in [
            "第3行",
            "已存在",
            "第4行",
            "“村长”不是角色的取值",
            "手机号须为11位数字",
            "第5行",
            "不止一个",
            "沿河乡 红岩村（500229208204）",
        ] {
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
        assert!(
            !refused.body.contains("12345678"),
            "the phone number masked"
        );
        assert!(
            db.account_by_name("zhang_3").await.unwrap().is_none(),
            "nothing created"
        );
        // A GB18030 file, as Excel saves "CSV" on a Chinese Windows, with English headers:
        // every account created, the passwords shown once.
        let good = "Account,Real name,Role,Division,Unit,Phone\r\n\
                    zhang_3,张三,村干部,巴山镇 立新村,立新村村民委员会,139 0023 0101\r\n\
                    hongyan_2,王五,village cadre,沿河乡 红岩村,,\r\n\
                    ck_officer,赵六,county_officer,500229000000,城口县乡村振兴局,\r\n";
        let (gb, _, _) = encoding_rs::GB18030.encode(good);
        let created = import(&mut admin, "accounts.csv", &gb).await;
        assert_eq!(created.status, 200, "{}", created.body);
        let table = created.element("import-created");
        assert!(
            table.contains("zhang_3") && table.contains("张三") && table.contains("巴山镇 立新村"),
            "{table}"
        );
        assert_eq!(table.matches("<code").count(), 3, "one password each");
        for (name, division) in [
            ("zhang_3", "500229102202"),
            ("hongyan_2", "500229208204"),
            ("ck_officer", "500229000000"),
        ] {
            let a = db.account_by_name(name).await.unwrap().unwrap();
            assert_eq!(a.division.as_str(), division);
            assert!(a.must_change_password);
            assert_eq!(audited(&server, "account.create", name).await, 1);
        }
        let profiles = db.account_profiles(&["zhang_3"]).await.unwrap();
        assert_eq!(
            profiles["zhang_3"].profile.phone.as_ref().unwrap().as_str(),
            "13900230101"
        );
        // Importing the same file again: every name is taken, nothing changes.
        let again = import(&mut admin, "accounts.csv", &gb).await;
        assert_eq!(again.status, 422);
        assert_eq!(
            again.element("import-problems").matches("已存在").count(),
            3
        );
        // Not a table at all, or no file.
        let junk = import(&mut admin, "accounts.csv", b"\x00\x01\x02 not a table").await;
        assert_eq!(junk.status, 422, "{}", junk.body);
        let csrf = admin.csrf().await;
        let none = admin
            .post_multipart("/accounts/import", &[("csrf", &csrf)], None)
            .await;
        assert_eq!(none.status, 422);
        // Without the CSRF token: refused.
        let forged = admin
            .post_multipart(
                "/accounts/import",
                &[],
                Some(("file", "a.csv", good.as_bytes())),
            )
            .await;
        assert_eq!(forged.status, 403);
    }
}
