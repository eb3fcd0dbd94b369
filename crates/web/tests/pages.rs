#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The registry in the browser, driven over HTTP: signing in and out, the division tree,
//! lists, search, the household page, editing (and its refusals), language, bad input.

mod common;

use common::{PASSWORD, Server};

fn edit_fields<'a>(
    csrf: &'a str,
    version: &'a str,
    wage: &'a str,
    reason: &'a str,
    address: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("version", version),
        ("reason", reason),
        ("household_type", "lifted_out"),
        ("lifted_out_year", "2016"),
        // As the form shows it: masked, which keeps the stored number.
        ("phone", "139****0001"),
        ("address", address),
        ("wage", wage),
        ("business", "3200"),
        ("property", "150"),
        ("transfer", "4860.50"),
        ("business_expense", "1800"),
        ("out_of_pocket", "8650"),
        ("housing_safe", "yes"),
        ("water_safe", "yes"),
    ]
}

#[tokio::test]
async fn sign_in_out_and_refusals() {
    for server in Server::all().await {
        let mut c = server.client();
        let wrong = c.sign_in("chengkou", "not the password").await;
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("账号或密码不正确"));
        let unknown = c.sign_in("nobody", PASSWORD).await;
        assert_eq!(unknown.status, 401);
        assert_eq!(
            wrong.body.replace("chengkou", ""),
            unknown
                .body
                .replace("nobody", "")
                .replace(&unknown.hidden("csrf"), &wrong.hidden("csrf")),
            "a wrong name and a wrong password look the same"
        );

        // A sign-in form without its CSRF cookie is refused.
        let mut fresh = server.client();
        let r = fresh
            .post_form(
                "/login",
                &[("name", "chengkou"), ("password", PASSWORD), ("csrf", "x")],
            )
            .await;
        assert_eq!(r.status, 403);

        let ok = c.sign_in("chengkou", PASSWORD).await;
        assert_eq!(ok.status, 303);
        let cookie = ok
            .headers
            .iter()
            .find(|(k, v)| k == "set-cookie" && v.starts_with("zx_session="))
            .map(|(_, v)| v.clone())
            .unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let home = c.get("/").await;
        assert_eq!(
            home.header("location"),
            Some("/tasks"),
            "我的待办 is the start page"
        );
        let county = c.get("/divisions/500229000000").await;
        assert_eq!(county.status, 200);
        assert!(county.body.contains("城口县"));
        assert!(county.body.contains("巴山镇"), "townships listed");

        // Sign out with the form's token; the old cookie no longer works.
        let csrf = c.csrf().await;
        let session = c.cookies.get("zx_session").cloned().unwrap();
        let out = c.post_form("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        let mut replay = server.client();
        replay.cookies.insert("zx_session".into(), session);
        assert_eq!(
            replay.get("/households").await.status,
            303,
            "to the sign-in page"
        );
    }
}

#[tokio::test]
async fn edit_an_income_with_a_reason_and_refuse_a_stale_form() {
    for server in Server::all().await {
        let mut c = server.signed_in("lixin").await;
        let form = c.get("/households/CK0001/edit").await;
        assert_eq!(form.status, 200);
        let csrf = form.hidden("csrf");
        let version = form.hidden("version");
        let before = c.get("/households/CK0001").await;
        assert!(
            before.body.contains("5,102.63"),
            "per-capita before: (14000+3200+150+4860.50-1800)/4"
        );

        // No reason: refused, nothing saved, the form keeps what was typed.
        let r = c
            .post_form(
                "/households/CK0001/edit",
                &edit_fields(&csrf, &version, "20000", "  ", ""),
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("请填写修改原因"));
        assert!(r.body.contains("value=\"20000\""));

        // Bad money: the field is named.
        let r = c
            .post_form(
                "/households/CK0001/edit",
                &edit_fields(&csrf, &version, "12,34.5.6", "raise", ""),
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("工资性收入"), "{}", r.body);

        // Saved, with script in a text field kept as text.
        let script = "<script>alert(1)</script>";
        let r = c
            .post_form(
                "/households/CK0001/edit",
                &edit_fields(&csrf, &version, "20000", "工资上涨 <b>", script),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let after = c.get("/households/CK0001").await;
        assert!(
            after.body.contains("6,602.63"),
            "per-capita after: (20000+3200+150+4860.50-1800)/4"
        );
        assert!(!after.body.contains(script), "never executed");
        assert!(after.body.contains("&#60;script&#62;"));
        assert!(
            after.body.contains("工资上涨 &#60;b&#62;"),
            "the reason is in the history"
        );

        // The same form posted again (double submit, or a colleague's stale form): refused.
        let r = c
            .post_form(
                "/households/CK0001/edit",
                &edit_fields(&csrf, &version, "1", "stale", ""),
            )
            .await;
        assert_eq!(r.status, 409);
        assert!(r.body.contains("已被他人修改"));
        let (record, meta) = zhenxing_store::registry::household(&server.test_db.db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.wage_income, 2_000_000);
        assert_eq!(record.phone.as_deref(), Some("13900230001"));
        assert_eq!(
            record.monitoring_category.as_deref(),
            Some("unstable_lifted_out")
        );
        assert_eq!(meta.version, 2);
        assert!(
            zhenxing_store::audit::verify(&server.test_db.db)
                .await
                .unwrap()
                .problems
                .is_empty()
        );
    }
}

/// CK0002 (一般农户, not monitored) as its edit form holds it, with `changes` laid over.
fn ck0002_fields<'a>(
    csrf: &'a str,
    version: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf", csrf),
        ("version", version),
        ("reason", "入户核实"),
        ("household_type", "ordinary"),
        ("lifted_out_year", ""),
        ("phone", "139****0002"),
        ("address", "重庆市城口县庙坝镇红岩村5组"),
        ("wage", "36000.00"),
        ("business", "8000.50"),
        ("property", "0.00"),
        ("transfer", "2400.00"),
        ("business_expense", "3000.00"),
        ("out_of_pocket", "1200.00"),
        ("housing_safe", "yes"),
        ("water_safe", "yes"),
    ];
    for (key, value) in changes {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = value,
            None => fields.push((key, value)),
        }
    }
    fields
}

#[tokio::test]
async fn the_edit_form_cannot_set_monitoring_and_masks_the_phone() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let stored = async |no: &str| {
            zhenxing_store::registry::household(db, no)
                .await
                .unwrap()
                .unwrap()
        };
        // A role that may reveal numbers sees the form masked too: a reveal is never implied.
        for name in ["other_village", "chengkou"] {
            let mut c = server.signed_in(name).await;
            let form = c.get("/households/CK0002/edit").await;
            assert_eq!(form.status, 200, "{name}");
            assert!(
                !form.body.contains("13900230002"),
                "{name}: the full number in the form"
            );
            assert!(form.body.contains("value=\"139****0002\""), "{name}");
            // The category is shown, not offered: a pointer to the procedures instead.
            assert!(!form.body.contains("name=\"category\""), "{name}");
            assert!(
                form.element("category")
                    .contains("href=\"/households/CK0002#monitoring\"")
            );
        }

        let mut c = server.signed_in("other_village").await;
        let form = c.get("/households/CK0002/edit").await;
        let (csrf, version) = (form.hidden("csrf"), form.hidden("version"));
        // A category sent anyway (the form has none): refused, nothing written.
        let r = c
            .post_form(
                "/households/CK0002/edit",
                &ck0002_fields(&csrf, &version, &[("category", "marginal_at_risk")]),
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(
            r.body.contains("监测对象类别") && r.body.contains("监测程序"),
            "{}",
            r.body
        );
        let (record, meta) = stored("CK0002").await;
        assert_eq!(record.monitoring_category, None);
        assert_eq!(meta.version.to_string(), version, "nothing was written");

        // The masked number sent back keeps the stored one.
        let r = c
            .post_form(
                "/households/CK0002/edit",
                &ck0002_fields(&csrf, &version, &[("address", "红岩村6组")]),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (record, meta) = stored("CK0002").await;
        assert_eq!(record.address.as_deref(), Some("红岩村6组"));
        assert_eq!(record.phone.as_deref(), Some("13900230002"));

        // A new number typed replaces it.
        let version = meta.version.to_string();
        let r = c
            .post_form(
                "/households/CK0002/edit",
                &ck0002_fields(&csrf, &version, &[("phone", "13900230099")]),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (record, _) = stored("CK0002").await;
        assert_eq!(record.phone.as_deref(), Some("13900230099"));
        assert_eq!(record.monitoring_category, None);
    }
}

#[tokio::test]
async fn members_are_added_and_removed_with_a_reason() {
    for server in Server::all().await {
        let mut c = server.signed_in("bashan").await;
        let page = c.get("/households/CK0001").await;
        let csrf = page.hidden("csrf");
        let version = page.hidden("version");
        // A newborn with a valid ID number (GB 11643 check digit computed by the core crate).
        let id =
            zhenxing_core::IdNumber::compose("500229", time::macros::date!(2025 - 03 - 01), 12)
                .unwrap();
        let r = c
            .post_form(
                "/households/CK0001/members",
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("reason", "新生儿落户"),
                    ("name", "王小花"),
                    ("id_number", id.as_str()),
                    ("relation", "之孙女"),
                    ("labor", "无劳动力"),
                    ("health", "健康"),
                    ("education", ""),
                    ("school_status", "学龄前儿童"),
                    ("medical_insurance", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = c.get("/households/CK0001").await;
        assert!(page.body.contains("王小花"));
        let version = page.hidden("version");
        // An ID number already in another household is refused with the reason.
        let r = c
            .post_form(
                "/households/CK0001/members",
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("reason", "x"),
                    ("name", "重复"),
                    ("id_number", "500229197605120419"),
                    ("relation", "之子"),
                    ("labor", "普通劳动力"),
                    ("health", "健康"),
                ],
            )
            .await;
        assert!(
            r.status == 409 || r.status == 400,
            "{} {}",
            r.status,
            r.body
        );
        // Removing the head is refused by the household rules.
        let r = c
            .post_form(
                "/households/CK0001/members/0/remove",
                &[("csrf", &csrf), ("version", &version), ("reason", "x")],
            )
            .await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("户主"), "{}", r.body);
        let r = c
            .post_form(
                "/households/CK0001/members/4/remove",
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("reason", "录入错误"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = c.get("/households/CK0001").await;
        let members = &page.body
            [page.body.find("id=\"members\"").unwrap()..page.body.find("id=\"history\"").unwrap()];
        assert!(!members.contains("王小花"), "removed");
        // The history names the member with a masked ID number, never the full one.
        assert!(page.body.contains("王小花"));
        assert!(
            !page.body.contains(id.as_str()),
            "no full ID number in the history"
        );
    }
}

#[tokio::test]
async fn lists_filters_search_and_bad_input() {
    for server in Server::all().await {
        let mut c = server.signed_in("admin").await;
        let all = c.get("/households").await;
        for (no, _) in common::HOUSEHOLDS {
            assert!(all.body.contains(no), "{no}");
        }
        let ordinary = c.get("/households?type=ordinary").await;
        assert!(ordinary.body.contains("CK0002") && !ordinary.body.contains("CK0001"));
        let monitored = c.get("/households?category=unstable_lifted_out").await;
        assert!(monitored.body.contains("CK0001"));
        let poor = c.get("/households?below=100").await;
        assert!(poor.body.contains("households-none") || poor.body.contains("没有符合条件"));
        // Full ID number, household number, name.
        for q in [
            "500229198203150139",
            "CK0001",
            "%E7%8E%8B%E5%BB%BA%E5%9B%BD",
        ] {
            let r = c.get(&format!("/households?q={q}")).await;
            assert!(r.body.contains("/households/CK0001"), "{q}");
            assert!(!r.body.contains("/households/WX0001"), "{q}");
        }
        // SQL metacharacters are just text.
        let r = c.get("/households?q=%27%20OR%201%3D1%20--").await;
        assert_eq!(r.status, 200);
        assert!(!r.body.contains("/households/CK0001"));
        // Unknown parameters and bad values: 400 naming the problem.
        let r = c.get("/households?colour=red").await;
        assert_eq!(r.status, 400);
        assert!(!r.body.contains("colour"), "{}", r.body);
        let r = c.get("/households?below=lots").await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("below"));
        let r = c.get("/households?category=rich").await;
        assert_eq!(r.status, 400);
        // Division outside a county officer's scope: as if it did not exist.
        let mut wuxi = server.signed_in("wuxi").await;
        assert_eq!(
            wuxi.get("/households?division=500229102202").await.status,
            404
        );
        assert_eq!(wuxi.get("/divisions/500229000000").await.status, 404);
        assert_eq!(wuxi.get("/divisions/not-a-code").await.status, 404);
    }
}

/// A query string a route cannot read, on every kind of page: a 400 page in the reader's
/// language that says what to do, never the framework's words or the parameters' names; under
/// `/api/` JSON as before.
#[tokio::test]
async fn bad_query_strings_get_a_page_a_person_understands() {
    for server in Server::all().await {
        let mut c = server.signed_in("admin").await;
        // The audit trail is the auditor's (issue 15): its page is asked by the auditor.
        let mut auditor = server.signed_in("auditor").await;
        for (path, client) in [
            "/households?page=500",
            "/households?page=abc",
            "/households?q=a&q=b",
            "/warnings?status=open&status=all",
            "/cases?kind=a&kind=b",
            "/monitoring/whatif?colour=red",
            "/audit?colour=red",
            "/statistics/map?indicator=a&indicator=b",
            "/reports?month=a&month=b",
            "/export?colour=red",
        ]
        .map(|p| (p, p.starts_with("/audit")))
        {
            let r = if client {
                auditor.get(path).await
            } else {
                c.get(path).await
            };
            assert_eq!(r.status, 400, "{path}: {}", r.body);
            assert!(
                r.body.contains("网址中的参数无法识别"),
                "{path}: {}",
                r.body
            );
            for framework in ["deserialize", "unknown field", "duplicate field", "colour"] {
                assert!(
                    !r.body.contains(framework),
                    "{path}: {framework} in {}",
                    r.body
                );
            }
        }
        // The reader's language.
        let csrf = c.csrf().await;
        c.post_form("/lang", &[("csrf", &csrf), ("lang", "en")])
            .await;
        let r = c.get("/households?page=abc").await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains("does not understand"), "{}", r.body);
        // The API answers JSON, naming the parameter for the program that sent it.
        let mut api = server.api_client("admin").await;
        let r = api.get("/api/v1/households?colour=red").await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "bad_request", "{}", r.body);
    }
}

#[tokio::test]
async fn pages_in_both_languages() {
    for server in Server::all().await {
        let mut c = server.signed_in("chengkou").await;
        let zh = c.get("/households/CK0001").await;
        assert!(zh.body.contains("lang=\"zh-CN\"") && zh.body.contains("家庭成员"));
        let csrf = zh.hidden("csrf");
        let r = c
            .post_form(
                "/lang",
                &[
                    ("csrf", &csrf),
                    ("lang", "en"),
                    ("back", "/households/CK0001"),
                ],
            )
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(r.header("location"), Some("/households/CK0001"));
        let en = c.get("/households/CK0001").await;
        assert!(en.body.contains("lang=\"en\"") && en.body.contains("Members"));
        assert!(
            en.body.contains("Chengkou County"),
            "division names in English"
        );
        // The choice is the account's: a new sign-in keeps it.
        let mut again = server.signed_in("chengkou").await;
        assert!(again.get("/households").await.body.contains("Households"));
        // No open redirect.
        let r = c
            .post_form(
                "/lang",
                &[("csrf", &csrf), ("lang", "zh"), ("back", "//evil.example")],
            )
            .await;
        assert_eq!(r.header("location"), Some("/"));
    }
}

/// Writes completed years of a household as the generator does (one audited operation).
async fn write_years(db: &zhenxing_store::Db, rows: &[zhenxing_core::history::YearIncome]) {
    zhenxing_store::testing::write_years(db, "500229", rows)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_household_page_shows_the_income_by_year() {
    use zhenxing_core::Fen;
    use zhenxing_core::history::YearIncome;
    let this_year = zhenxing_core::china_time::today_in_china().year();
    for server in Server::all().await {
        let mut c = server.signed_in("chengkou").await;
        let page = c.get("/households/CK0001").await;
        assert!(
            !page.body.contains("id=\"income-years\""),
            "no year recorded"
        );
        let year = |year: i32, yuan: i64, dibao: u32| YearIncome {
            household_no: "CK0001".into(),
            year,
            net_income: Fen::from_yuan(yuan * 4),
            per_capita_net: Fen::from_yuan(yuan),
            members: 4,
            dibao_members: dibao,
        };
        write_years(
            &server.test_db.db,
            &[
                year(this_year - 3, 20_000, 0),
                year(this_year - 2, 10_000, 4),
                year(this_year - 1, 10_850, 2),
            ],
        )
        .await;
        let page = c.get("/households/CK0001").await;
        assert!(page.body.contains("历年收入"), "{}", page.body);
        let table = page.element("income-years");
        let rows: Vec<&str> = table.split("<tr").skip(2).collect();
        assert_eq!(rows.len(), 4, "three years and this one: {table}");
        assert!(rows[0].contains(&(this_year - 3).to_string()) && rows[0].contains("20,000"));
        assert!(rows[1].starts_with(" class=\"drop\"") && rows[1].contains("-50.0"));
        assert!(
            rows[2].contains("+8.5") && rows[2].contains(">2<"),
            "{}",
            rows[2]
        );
        assert!(rows[3].contains("本年度"), "{}", rows[3]);

        let csrf = page.hidden("csrf");
        c.post_form(
            "/lang",
            &[
                ("csrf", &csrf),
                ("lang", "en"),
                ("back", "/households/CK0001"),
            ],
        )
        .await;
        let en = c.get("/households/CK0001").await;
        assert!(en.body.contains("Income by year") && en.body.contains("Members on dibao"));
    }
}

#[tokio::test]
async fn refusals_of_the_framework_read_like_ours() {
    for server in Server::all().await {
        let mut c = server.signed_in("chengkou").await;
        // A form missing its fields: a page that says so, not a bare text answer.
        let r = c.post_form("/households/CK0001/edit", &[("x", "1")]).await;
        assert_eq!(r.status, 400);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        assert!(r.body.contains("请求无法处理"), "{}", r.body);
        // A wrong method.
        let r = c.request("DELETE", "/households/CK0001", None, b"").await;
        assert_eq!(r.status, 405);
        assert!(r.body.contains("不接受这种请求方式"));
        // A body over the limit.
        let big = "a".repeat(300 * 1024);
        let r = c
            .post_form("/households/CK0001/edit", &[("address", &big)])
            .await;
        assert_eq!(r.status, 413);
        assert!(r.body.contains("提交的内容过大"));
        // Nothing changed.
        let (_, meta) = zhenxing_store::registry::household(&server.test_db.db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(meta.version, 1);
    }
}
