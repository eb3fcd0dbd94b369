#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The JSON API under `/api/v1`, over real HTTP, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: every endpoint with a token, 401 without, scope, search, optimistic edits,
//! bad input answered with JSON 4xx (never 500), roles, and masked personal numbers.

mod common;

use common::{Response, Server};
use serde_json::{Value, json};

/// Every full ID and phone number of the fixture, as stored.
async fn full_numbers(server: &Server) -> Vec<String> {
    let mut numbers = Vec::new();
    for (no, _) in common::HOUSEHOLDS {
        let (record, _) = zhenxing_store::registry::household(&server.test_db.db, no)
            .await
            .unwrap()
            .unwrap();
        numbers.extend(record.phone.clone());
        numbers.extend(record.members.iter().map(|m| m.id_number.clone()));
    }
    assert!(numbers.len() > 10);
    numbers
}

/// An error answer: the status, JSON, with a code and the message in both languages.
fn assert_error(response: &Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status, status, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "not JSON: {:?} {}",
        response.header("content-type"),
        response.body
    );
    let body = response.json();
    assert_eq!(body["error"], code, "{body}");
    for key in ["message", "message_zh", "message_en"] {
        assert!(
            body[key].as_str().is_some_and(|m| !m.is_empty()),
            "{key} missing in {body}"
        );
    }
    body
}

fn item_numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["household_no"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_endpoint_answers_with_a_token_and_401_without() {
    for server in Server::all().await {
        let mut api = server.api_client("chengkou").await;

        let me = api.get("/api/v1/me").await;
        assert_eq!(me.status, 200, "{}", me.body);
        let me = me.json();
        assert_eq!(me["name"], "chengkou");
        assert_eq!(me["role"], "county_officer");
        assert_eq!(me["role_zh"], "区县工作人员");
        assert_eq!(me["role_en"], "county officer");
        assert_eq!(me["role_label"], "区县工作人员");
        assert_eq!(me["division"]["code"], "500229000000");
        assert_eq!(me["division"]["name_zh"], "城口县");
        assert_eq!(me["lang"], "zh");

        let county = api.get("/api/v1/divisions/500229000000").await;
        assert_eq!(county.status, 200, "{}", county.body);
        let county = county.json();
        assert_eq!(county["division"]["code"], "500229000000");
        assert_eq!(county["division"]["level"], "county");
        assert_eq!(county["figures"]["households"], 2);
        assert_eq!(county["figures"]["members"], 7);
        let children = county["children"].as_array().unwrap();
        assert!(children.len() > 5, "the county's townships");
        let bashan = children
            .iter()
            .find(|c| c["code"] == "500229102000")
            .unwrap();
        assert_eq!(bashan["households"], 1);
        assert_eq!(bashan["members"], 4);
        assert_eq!(bashan["level"], "township");

        let village = api.get("/api/v1/divisions/500229102202").await.json();
        assert_eq!(village["figures"]["households"], 1);
        assert_eq!(village["children"], json!([]));

        let page = api.get("/api/v1/households").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json();
        assert_eq!(item_numbers(&page), ["CK0001", "CK0002"]);
        assert_eq!(page["next_after"], Value::Null);
        let first = &page["items"][0];
        assert_eq!(first["village"]["code"], "500229102202");
        assert_eq!(first["head_name"], "王建国");
        assert_eq!(first["household_type"], "lifted_out");
        assert_eq!(first["member_count"], 4);
        assert!(first["per_capita_net_income"]["fen"].is_i64());

        // Keyset pages.
        let one = api.get("/api/v1/households?limit=1").await.json();
        assert_eq!(item_numbers(&one), ["CK0001"]);
        let after = one["next_after"].as_i64().unwrap();
        let two = api
            .get(&format!("/api/v1/households?limit=1&after={after}"))
            .await
            .json();
        assert_eq!(item_numbers(&two), ["CK0002"]);
        assert_eq!(two["next_after"], Value::Null);

        // Filters.
        let ordinary = api.get("/api/v1/households?type=ordinary").await.json();
        assert_eq!(item_numbers(&ordinary), ["CK0002"]);
        let township = api
            .get("/api/v1/households?division=500229102000")
            .await
            .json();
        assert_eq!(item_numbers(&township), ["CK0001"]);

        let household = api.get("/api/v1/households/CK0001").await;
        assert_eq!(household.status, 200, "{}", household.body);
        let household = household.json();
        assert_eq!(household["household_no"], "CK0001");
        assert_eq!(household["version"], 1);
        assert_eq!(household["village"]["code"], "500229102202");
        assert_eq!(household["household_type"], "lifted_out");
        assert_eq!(household["lifted_out_year"], 2016);
        assert_eq!(household["phone"], "139****0001");
        let income = &household["income"];
        assert_eq!(
            income["wage_income"],
            json!({"fen": 1_400_000, "yuan": "14000.00"})
        );
        assert_eq!(
            income["transfer_income"],
            json!({"fen": 486_050, "yuan": "4860.50"})
        );
        assert_eq!(
            income["out_of_pocket"],
            json!({"fen": 865_000, "yuan": "8650.00"})
        );
        // (14000 + 3200 + 150 + 4860.50 - 1800) / 4 people
        assert_eq!(
            income["net_income"],
            json!({"fen": 2_041_050, "yuan": "20410.50"})
        );
        assert_eq!(
            income["per_capita_net_income"],
            json!({"fen": 510_263, "yuan": "5102.63"})
        );
        let members = household["members"].as_array().unwrap();
        assert_eq!(members.len(), 4);
        assert_eq!(members[0]["name"], "王建国");
        assert_eq!(members[0]["id_number"], "500229********0139");
        assert_eq!(members[0]["relation"], "head");
        assert_eq!(members[0]["health"], json!(["healthy"]));

        // The document is public; everything else needs a token or a session.
        let doc = server.get("/api/openapi.json").await;
        assert_eq!(doc.status, 200);
        assert!(doc.json()["paths"]["/api/v1/households/{no}"]["patch"].is_object());
        let mut anonymous = server.client();
        for path in [
            "/api/v1/me",
            "/api/v1/divisions/500229000000",
            "/api/v1/households",
            "/api/v1/households/CK0001",
        ] {
            let r = anonymous.get(path).await;
            assert_error(&r, 401, "unauthorized");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
        let r = anonymous
            .json("PATCH", "/api/v1/households/CK0001", &json!({}))
            .await;
        assert_error(&r, 401, "unauthorized");
        let mut forged = server.client();
        forged.bearer = Some(format!("zx_{}", "0".repeat(64)));
        assert_error(&forged.get("/api/v1/me").await, 401, "unauthorized");
        assert_error(&forged.get("/api/v1/households").await, 401, "unauthorized");

        // The message comes in the account's language (Chinese by default) and in both.
        let missing = server
            .api_client("admin")
            .await
            .get("/api/v1/households/NOPE")
            .await;
        let body = assert_error(&missing, 404, "not_found");
        assert_eq!(body["message"], body["message_zh"]);
    }
}

#[tokio::test]
async fn records_outside_the_scope_answer_like_missing_ones() {
    for server in Server::all().await {
        let mut lixin = server.api_client("lixin").await;
        let own = lixin.get("/api/v1/households/CK0001").await;
        assert_eq!(own.status, 200, "{}", own.body);

        let missing = lixin.get("/api/v1/households/NOPE0001").await;
        let missing_body = assert_error(&missing, 404, "not_found");
        for no in ["CK0002", "WX0001", "WX0002"] {
            let hidden = lixin.get(&format!("/api/v1/households/{no}")).await;
            assert_eq!(assert_error(&hidden, 404, "not_found"), missing_body);
            assert_eq!(
                hidden.body, missing.body,
                "{no}: same body as a missing one"
            );
            // Nor can it be changed.
            let patch = lixin
                .json(
                    "PATCH",
                    &format!("/api/v1/households/{no}"),
                    &json!({"version": 1, "reason": "x", "wage_income": 0}),
                )
                .await;
            assert_eq!(patch.status, 404, "{}", patch.body);
            assert_eq!(patch.body, missing.body);
        }

        let list = lixin.get("/api/v1/households").await.json();
        assert_eq!(item_numbers(&list), ["CK0001"]);
        let hidden_list = lixin.get("/api/v1/households?division=500229104201").await;
        assert_error(&hidden_list, 404, "not_found");

        let own_division = lixin.get("/api/v1/divisions/500229102202").await;
        assert_eq!(own_division.status, 200);
        let nonexistent = lixin.get("/api/v1/divisions/500229102299").await;
        assert_error(&nonexistent, 404, "not_found");
        for code in ["500229104201", "500229000000", "500000000000", "not-a-code"] {
            let other = lixin.get(&format!("/api/v1/divisions/{code}")).await;
            assert_eq!(other.status, 404, "{code}");
            assert_eq!(other.body, nonexistent.body, "{code}");
        }

        // The county officer of Wuxi sees Wuxi only; Chengkou's do not exist for it.
        let mut wuxi = server.api_client("wuxi").await;
        let list = wuxi.get("/api/v1/households").await.json();
        assert_eq!(item_numbers(&list), ["WX0001", "WX0002"]);
        assert_eq!(
            wuxi.get("/api/v1/households/CK0001").await.body,
            missing.body
        );
    }
}

#[tokio::test]
async fn search_finds_names_numbers_and_full_id_numbers_and_nothing_else() {
    for server in Server::all().await {
        let mut admin = server.api_client("admin").await;
        let search = |q: &str| format!("/api/v1/households?{}", common::form_encode(&[("q", q)]));
        for (q, expected) in [
            ("王建国", vec!["CK0001"]),
            ("刘小梅", vec!["CK0002"]),
            ("CK0002", vec!["CK0002"]),
            ("WX0001", vec!["WX0001"]),
            ("500229198203150139", vec!["CK0001"]),
            ("50023819861225068x", vec!["WX0001"]),
            ("王", vec![]),
            ("' OR 1=1 --", vec![]),
            ("%", vec![]),
            ("\" OR \"\"=\"", vec![]),
            ("王建国'; DROP TABLE households; --", vec![]),
        ] {
            let r = admin.get(&search(q)).await;
            assert_eq!(r.status, 200, "{q}: {}", r.body);
            assert_eq!(item_numbers(&r.json()), expected, "q = {q}");
        }
        // The registry is intact after all that.
        let all = admin.get("/api/v1/households").await.json();
        assert_eq!(item_numbers(&all), ["CK0001", "CK0002", "WX0001", "WX0002"]);

        // Search stays within the scope.
        let mut other = server.api_client("other_village").await;
        assert_eq!(
            item_numbers(&other.get(&search("王建国")).await.json()),
            Vec::<String>::new()
        );
        assert_eq!(
            item_numbers(&other.get(&search("500229198203150139")).await.json()),
            Vec::<String>::new()
        );
        assert_eq!(
            item_numbers(&other.get(&search("刘德明")).await.json()),
            ["CK0002"]
        );
    }
}

#[tokio::test]
async fn a_change_saves_once_and_a_stale_one_changes_nothing() {
    for server in Server::all().await {
        let mut api = server.api_client("chengkou").await;
        let before = api.get("/api/v1/households/CK0001").await.json();
        let version = before["version"].as_i64().unwrap();

        let change = json!({
            "version": version,
            "reason": "入户核实2026年收入",
            "wage_income": 1_500_000,
            "out_of_pocket": 0,
            "water_safe": null,
            "housing_safe": false,
            "address": "重庆市城口县巴山镇立新村4组",
        });
        let saved = api
            .json("PATCH", "/api/v1/households/CK0001", &change)
            .await;
        assert_eq!(saved.status, 200, "{}", saved.body);
        let saved = saved.json();
        assert_eq!(saved["version"], version + 1);
        assert_eq!(
            saved["income"]["wage_income"],
            json!({"fen": 1_500_000, "yuan": "15000.00"})
        );
        assert_eq!(saved["income"]["out_of_pocket"]["fen"], 0);
        assert_eq!(saved["water_safe"], Value::Null);
        assert_eq!(saved["housing_safe"], false);
        assert_eq!(saved["address"], "重庆市城口县巴山镇立新村4组");
        // Fields not sent are left as they were.
        assert_eq!(
            saved["income"]["business_income"],
            before["income"]["business_income"]
        );
        assert_eq!(saved["phone"], before["phone"]);
        assert_eq!(saved["monitoring_category"], before["monitoring_category"]);
        assert_eq!(saved["members"], before["members"]);
        assert_eq!(api.get("/api/v1/households/CK0001").await.json(), saved);

        // The audit trail has the account, the reason and the source.
        let history = zhenxing_store::audit::history(&server.test_db.db, "household", "CK0001", 10)
            .await
            .unwrap();
        let last = &history[0];
        assert_eq!(last.actor, "chengkou");
        assert_eq!(last.action, "update");
        assert_eq!(last.reason.as_deref(), Some("入户核实2026年收入 (api)"));

        // The same change again, from the old version: refused, nothing written.
        let mut stale_change = change.clone();
        stale_change["wage_income"] = json!(1);
        stale_change["address"] = json!("别处");
        let stale = api
            .json("PATCH", "/api/v1/households/CK0001", &stale_change)
            .await;
        let body = assert_error(&stale, 409, "conflict");
        assert!(
            body["message_en"].as_str().unwrap().contains("changed"),
            "{body}"
        );
        assert!(
            body["message_zh"].as_str().unwrap().contains("修改"),
            "{body}"
        );
        assert_eq!(api.get("/api/v1/households/CK0001").await.json(), saved);
        let again = api
            .json("PATCH", "/api/v1/households/CK0001", &change)
            .await;
        assert_error(&again, 409, "conflict");
        assert_eq!(
            zhenxing_store::audit::history(&server.test_db.db, "household", "CK0001", 10)
                .await
                .unwrap()
                .len(),
            history.len()
        );

        // Clearing and setting the other fields.
        let cleared = api
            .json(
                "PATCH",
                "/api/v1/households/CK0001",
                &json!({
                    "version": version + 1,
                    "reason": "电话停用",
                    "phone": null,
                    "address": "",
                    // As stored: no change (only the procedures change it).
                    "monitoring_category": "unstable_lifted_out",
                    "housing_safe": true,
                }),
            )
            .await;
        assert_eq!(cleared.status, 200, "{}", cleared.body);
        let cleared = cleared.json();
        assert_eq!(cleared["version"], version + 2);
        assert_eq!(cleared["phone"], Value::Null);
        assert_eq!(cleared["address"], Value::Null);
        assert_eq!(cleared["monitoring_category"], "unstable_lifted_out");
        assert_eq!(cleared["housing_safe"], true);
        let phone = api
            .json(
                "PATCH",
                "/api/v1/households/CK0001",
                &json!({"version": version + 2, "reason": "新号码", "phone": "13900230009"}),
            )
            .await;
        assert_eq!(phone.status, 200, "{}", phone.body);
        assert_eq!(phone.json()["phone"], "139****0009");
        assert!(!phone.body.contains("13900230009"));
    }
}

#[tokio::test]
async fn a_patch_cannot_change_the_monitoring_category() {
    for server in Server::all().await {
        let mut api = server.api_client("chengkou").await;
        for (no, category) in [
            ("CK0001", Value::Null),
            ("CK0002", json!("marginal_at_risk")),
        ] {
            let path = format!("/api/v1/households/{no}");
            let before = api.get(&path).await.json();
            let change = json!({
                "version": before["version"],
                "reason": "核实",
                "monitoring_category": category,
                "address": "别处",
            });
            let r = api.json("PATCH", &path, &change).await;
            let body = assert_error(&r, 409, "conflict");
            let (en, zh) = (
                body["message_en"].as_str().unwrap(),
                body["message_zh"].as_str().unwrap(),
            );
            assert!(
                en.contains("monitoring category") && en.contains("procedures"),
                "{en}"
            );
            assert!(
                zh.contains("监测对象类别") && zh.contains("监测程序"),
                "{zh}"
            );
            assert_eq!(api.get(&path).await.json(), before, "{no}: nothing written");
        }

        // The masked number the household is read with keeps the stored one.
        let before = api.get("/api/v1/households/CK0002").await.json();
        let r = api
            .json(
                "PATCH",
                "/api/v1/households/CK0002",
                &json!({"version": before["version"], "reason": "核实", "phone": before["phone"],
                        "address": "红岩村6组"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let (record, _) = zhenxing_store::registry::household(&server.test_db.db, "CK0002")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.phone.as_deref(), Some("13900230002"));
        assert_eq!(record.address.as_deref(), Some("红岩村6组"));
    }
}

#[tokio::test]
async fn bad_input_is_a_json_400_never_a_500() {
    for server in Server::all().await {
        let mut api = server.api_client("chengkou").await;
        let version = api.get("/api/v1/households/CK0001").await.json()["version"]
            .as_i64()
            .unwrap();
        let path = "/api/v1/households/CK0001";

        // Bodies that are not JSON, or not declared as JSON.
        for (content_type, body) in [
            (
                Some("application/json"),
                &b"{\"version\": 1, \"reason\": "[..],
            ),
            (Some("application/json"), &b"not json"[..]),
            (Some("application/json"), &b""[..]),
            (Some("application/json"), &b"\xff\xfe{}"[..]),
            (
                Some("text/plain"),
                &b"{\"version\": 1, \"reason\": \"x\"}"[..],
            ),
            (
                Some("application/x-www-form-urlencoded"),
                &b"version=1&reason=x"[..],
            ),
            (None, &b"{\"version\": 1, \"reason\": \"x\"}"[..]),
        ] {
            let r = api.request("PATCH", path, content_type, body).await;
            let err = assert_error(&r, 400, "bad_request");
            assert!(
                err["message_en"].as_str().unwrap().contains("JSON"),
                "{content_type:?}: {err}"
            );
        }

        // JSON of the wrong shape: each problem names its field.
        for (body, field) in [
            (json!([1, 2, 3]), "JSON object"),
            (
                json!({"version": version, "reason": "x", "colour": "red"}),
                "colour",
            ),
            (
                json!({"version": version, "reason": "x", "wage_income": -100}),
                "wage_income",
            ),
            (
                json!({"version": version, "reason": "x", "wage_income": 12.5}),
                "wage_income",
            ),
            (
                json!({"version": version, "reason": "x", "wage_income": "100"}),
                "wage_income",
            ),
            (
                json!({"version": version, "reason": "x", "wage_income": null}),
                "wage_income",
            ),
            (
                json!({"version": version, "reason": "x", "transfer_income": 1e30}),
                "transfer_income",
            ),
            (
                json!({"version": version, "reason": "x", "business_expense": u64::MAX}),
                "business_expense",
            ),
            (
                json!({"version": version, "reason": "x", "water_safe": "yes"}),
                "water_safe",
            ),
            (
                json!({"version": version, "reason": "x", "phone": 13900230001_u64}),
                "phone",
            ),
            (json!({"version": "1", "reason": "x"}), "version"),
            (json!({"reason": "x"}), "version"),
            (json!({"version": version}), "reason"),
            (json!({"version": version, "reason": 5}), "reason"),
            // Values the registry refuses, named by what they are.
            (
                json!({"version": version, "reason": "x", "phone": "12345"}),
                "phone",
            ),
            (
                json!({"version": version, "reason": "x", "monitoring_category": "nonsense"}),
                "monitoring category",
            ),
            (
                json!({"version": version, "reason": "x", "wage_income": 100_000_000_000_000_i64}),
                "wage income",
            ),
            (
                json!({"version": version, "reason": "x", "address": "地".repeat(201)}),
                "address",
            ),
            (json!({"version": version, "reason": "   "}), "reason"),
            (
                json!({"version": version, "reason": "长".repeat(501)}),
                "reason",
            ),
        ] {
            let r = api.json("PATCH", path, &body).await;
            let err = assert_error(&r, 400, "bad_request");
            assert!(
                err["message_en"].as_str().unwrap().contains(field),
                "{body}: {err}"
            );
        }
        // None of that changed anything.
        assert_eq!(
            api.get(path).await.json()["version"],
            version,
            "nothing was written"
        );

        // Query strings.
        for query in [
            "foo=1",
            "division=500229000000&sort=name",
            "limit=0",
            "limit=201",
            "limit=abc",
            "limit=-1",
            "after=abc",
            "below=abc",
            "below=-5",
            "type=nonsense",
            "category=nonsense",
            "q=a&q=b",
        ] {
            let r = api.get(&format!("/api/v1/households?{query}")).await;
            assert_error(&r, 400, "bad_request");
        }
        let r = api.get("/api/v1/households?foo=1").await;
        let err = assert_error(&r, 400, "bad_request");
        assert!(err["message_en"].as_str().unwrap().contains("foo"), "{err}");
        let r = api.get("/api/v1/households?limit=500").await;
        let err = assert_error(&r, 400, "bad_request");
        assert!(
            err["message_en"].as_str().unwrap().contains("limit"),
            "{err}"
        );
        let r = api.get("/api/v1/households?division=abc").await;
        assert_error(&r, 404, "not_found");

        // Odd paths and methods.
        for path in [
            "/api/v1/households/%FF%FE",
            "/api/v1/households/%3Cscript%3E",
            &format!("/api/v1/households/{}", "9".repeat(500)),
            "/api/v1/divisions/%FF",
            "/api/v1/divisions/5002291022021",
            "/api/v1/nowhere",
        ] {
            let r = api.get(path).await;
            assert!(r.status == 400 || r.status == 404, "{path}: {}", r.status);
            assert!(
                r.header("content-type")
                    .unwrap()
                    .starts_with("application/json")
            );
            assert!(!r.body.contains("<script>"));
        }
        for (method, path) in [
            ("DELETE", "/api/v1/households/CK0001"),
            ("POST", "/api/v1/households/CK0001"),
            ("PATCH", "/api/v1/households"),
            ("POST", "/api/v1/me"),
        ] {
            let r = api
                .request(method, path, Some("application/json"), b"{}")
                .await;
            assert_error(&r, 405, "method_not_allowed");
        }

        // A body over the limit.
        let huge = json!({"version": version, "reason": "x".repeat(300 * 1024)});
        let r = api.json("PATCH", path, &huge).await;
        assert_error(&r, 413, "payload_too_large");
    }
}

#[tokio::test]
async fn roles_decide_who_reads_and_who_writes() {
    for server in Server::all().await {
        let change = json!({"version": 1, "reason": "核实", "wage_income": 0});

        // The auditor reads the audit trail only, the security administrator the accounts
        // only (issue 15): the registry's API refuses both, before anything is looked at.
        for name in ["auditor", "security"] {
            let mut c = server.api_client(name).await;
            assert_eq!(c.get("/api/v1/me").await.status, 200, "{name}");
            for path in ["/api/v1/households/CK0001", "/api/v1/households/NOPE"] {
                assert_error(&c.get(path).await, 403, "forbidden");
                let r = c.json("PATCH", path, &change).await;
                assert_error(&r, 403, "forbidden");
            }
            assert_error(&c.get("/api/v1/households").await, 403, "forbidden");
        }

        let mut department = server.api_client("department").await;
        let me = department.get("/api/v1/me").await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.json()["role"], "department_officer");
        for path in [
            "/api/v1/households",
            "/api/v1/households?foo=1",
            "/api/v1/households/CK0001",
            "/api/v1/households/NOPE",
            "/api/v1/divisions/500000000000",
            "/api/v1/divisions/500229000000",
        ] {
            let r = department.get(path).await;
            assert_error(&r, 403, "forbidden");
        }
        let r = department
            .json("PATCH", "/api/v1/households/CK0001", &change)
            .await;
        assert_error(&r, 403, "forbidden");

        // The browser session reads the API but does not write through it.
        let mut browser = server.signed_in("chengkou").await;
        assert_eq!(browser.get("/api/v1/me").await.json()["name"], "chengkou");
        assert_eq!(browser.get("/api/v1/households/CK0001").await.status, 200);
        let r = browser
            .json("PATCH", "/api/v1/households/CK0001", &change)
            .await;
        assert_error(&r, 403, "forbidden");

        // A village cadre writes in its village.
        let mut lixin = server.api_client("lixin").await;
        let r = lixin
            .json("PATCH", "/api/v1/households/CK0001", &change)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["income"]["wage_income"]["fen"], 0);
    }
}

#[tokio::test]
async fn no_answer_carries_a_full_id_or_phone_number() {
    for server in Server::all().await {
        let full = full_numbers(&server).await;
        let mut bodies = Vec::new();
        for account in ["admin", "chengkou", "bashan", "lixin", "wuxi"] {
            let first = bodies.len();
            let mut api = server.api_client(account).await;
            bodies.push(api.get("/api/v1/me").await.body);
            bodies.push(api.get("/api/v1/households").await.body);
            bodies.push(api.get("/api/v1/households?limit=200").await.body);
            bodies.push(api.get("/api/v1/divisions/500000000000").await.body);
            for (no, _) in common::HOUSEHOLDS {
                bodies.push(api.get(&format!("/api/v1/households/{no}")).await.body);
            }
            for id in &full {
                bodies.push(api.get(&format!("/api/v1/households?q={id}")).await.body);
            }
            // Every reader of the registry got numbers, masked (not an answer without them).
            let masked: usize = bodies[first..]
                .iter()
                .map(|b| b.matches("********").count())
                .sum();
            assert!(masked > 0, "{account}: no masked numbers in its answers");
        }
        let mut admin = server.api_client("admin").await;
        for (no, _) in common::HOUSEHOLDS {
            let version = admin.get(&format!("/api/v1/households/{no}")).await.json()["version"]
                .as_i64()
                .unwrap();
            let saved = admin
                .json(
                    "PATCH",
                    &format!("/api/v1/households/{no}"),
                    &json!({"version": version, "reason": "核实", "property_income": 100}),
                )
                .await;
            assert_eq!(saved.status, 200, "{}", saved.body);
            bodies.push(saved.body);
            // A refused change echoes nothing personal either.
            let refused = admin
                .json(
                    "PATCH",
                    &format!("/api/v1/households/{no}"),
                    &json!({"version": version + 1, "reason": "核实", "phone": "bad"}),
                )
                .await;
            assert_eq!(refused.status, 400, "{}", refused.body);
            bodies.push(refused.body);
        }
        let mut masked = 0;
        for body in &bodies {
            for number in &full {
                assert!(!body.contains(number.as_str()), "a full number in {body}");
            }
            masked += body.matches("********").count();
        }
        assert!(masked > 0, "the masked numbers are there");
        let detail = admin.get("/api/v1/households/WX0001").await.json();
        for member in detail["members"].as_array().unwrap() {
            let id = member["id_number"].as_str().unwrap();
            assert_eq!(id.len(), 18);
            assert_eq!(&id[6..14], "********", "{id}");
        }
        assert_eq!(detail["phone"], "139****0001");
    }
}
