#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Department data in the browser and by API token, on every configured database: a department
//! officer uploads a file and reads its result (counts, unmatched rows masked, rows that raised
//! warnings); a malformed file is refused with every problem and writes nothing; the API takes
//! the file as the body; another department officer sees none of it; the same file twice
//! raises nothing twice. A department officer, who may not read the registry, learns only what
//! follows from their own file: which rows went for review, never the rules, categories,
//! health or warnings behind them; the administrator, who reads the registry, sees them.

mod common;

use common::{PASSWORD, Server};
use zhenxing_core::monitoring::RuleId;
use zhenxing_core::{DivisionCode, HealthCondition, MonitoringCategory, Role};

/// Fails if `text` names a screening rule, a monitoring category, a health condition or a
/// warning's outcome, in either language or as a code.
fn assert_no_registry_words(text: &str) {
    let mut words: Vec<&str> = Vec::new();
    for r in RuleId::ALL {
        words.extend([r.zh(), r.en(), r.code()]);
    }
    for c in MonitoringCategory::ALL {
        words.extend([c.zh(), c.en(), c.code()]);
    }
    for h in HealthCondition::ALL
        .iter()
        .filter(|h| **h != HealthCondition::Healthy)
    {
        words.extend([h.zh(), h.en()]);
    }
    words.extend([
        "补充到已有预警",
        "已有预警中已包含",
        "added to an open warning",
        "already in an open warning",
        "\"merged\"",
        "\"opened\"",
        "\"unchanged\"",
        "2025/5000",
        "rule_set\":\"",
    ]);
    for word in words {
        assert!(
            !text.contains(word),
            "a department officer is told registry information ({word:?}):\n{text}"
        );
    }
}

fn department_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/department")
            .join(name),
    )
    .unwrap()
}

async fn audit_count(server: &Server) -> usize {
    zhenxing_store::audit::recent(&server.test_db.db, 1_000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_department_officer_uploads_and_reads_the_result() {
    for server in Server::all().await {
        server
            .test_db
            .db
            .create_account(
                "department2",
                Role::DepartmentOfficer,
                &DivisionCode::parse("500000000000").unwrap(),
                PASSWORD,
                "test",
            )
            .await
            .unwrap();
        server
            .test_db
            .db
            .waive_password_change("department2", "test")
            .await
            .unwrap();
        let mut c = server.signed_in("department").await;
        // Home is 我的待办 for every role that works lists, the department officer too.
        let home = c.get("/").await;
        assert_eq!(home.header("location"), Some("/tasks"));
        let form = c.get("/department").await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("id=\"no-uploads\""));
        let csrf = form.hidden("csrf");

        // A malformed file: refused with every problem, nothing written.
        let before = audit_count(&server).await;
        let bad = department_fixture("bad-medical.csv");
        let r = c
            .post_multipart(
                "/department",
                &[("csrf", &csrf), ("kind", "medical")],
                Some(("file", "bad-medical.csv", &bad)),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let problems = r.element("problems");
        assert_eq!(problems.matches("<tr>").count(), 1 + 7, "{problems}");
        assert!(problems.contains("out_of_pocket"));
        assert!(r.body.contains("bad-medical.csv"));
        assert_eq!(audit_count(&server).await, before, "nothing written");
        assert!(
            zhenxing_store::department::uploads(&server.test_db.db, None, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // The GB18030 claims file: accepted, then the result page.
        let file = department_fixture("medical-gb18030.csv");
        let r = c
            .post_multipart(
                "/department",
                &[("csrf", &csrf), ("kind", "medical")],
                Some(("file", "claims.csv", &file)),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let location = r.header("location").unwrap().to_owned();
        assert_eq!(location, "/department/uploads/1");
        let page = c.get(&location).await;
        assert_eq!(page.status, 200);
        assert!(
            page.element("rows").contains(">5<"),
            "{}",
            page.element("rows")
        );
        assert!(page.element("matched").contains(">4<"));
        assert!(page.element("unmatched").contains(">1<"));
        assert!(page.element("review").contains(">3<"), "{}", page.body);
        assert!(!page.body.contains("id=\"warnings\""));
        let unmatched = page.element("unmatched-rows");
        assert!(unmatched.contains("500229********5558"), "{unmatched}");
        assert!(
            !page.body.contains("500229199001015558"),
            "ID numbers masked"
        );
        // Rows 2 and 3 (one household's claims) and one more went for review, each on its own
        // line, without the rule, category or outcome behind them, nor the grouping by household.
        let raised = page.element("raised");
        assert!(raised.contains(">2<") && raised.contains(">3<"), "{raised}");
        assert!(!raised.contains("2, 3"), "{raised}");
        assert_no_registry_words(&page.body);
        // The administrator reads the registry: the rule is named.
        let mut admin = server.signed_in("admin").await;
        let full = admin.get(&location).await;
        assert!(
            full.element("raised").contains("合规自付医疗支出较大"),
            "{}",
            full.body
        );
        assert!(full.element("raised").contains("2, 3"));
        assert!(full.element("warnings").contains(">2<"));

        // The same file again: nothing raised, and the page says it was seen before.
        let r = c
            .post_multipart(
                "/department",
                &[("csrf", &csrf), ("kind", "medical")],
                Some(("file", "claims.csv", &file)),
            )
            .await;
        assert_eq!(r.status, 303);
        let page = c.get("/department/uploads/2").await;
        assert!(page.element("review").contains(">0<"));
        assert!(page.element("repeated").contains(">4<"));
        assert!(page.body.contains("id=\"same-file\""));

        // The list shows both; another department officer sees neither; the admin sees all.
        let list = c.get("/department").await;
        assert!(list.element("uploads").contains("/department/uploads/2"));
        assert_no_registry_words(&list.body);
        let mut other = server.signed_in("department2").await;
        assert_eq!(other.get("/department/uploads/1").await.status, 404);
        assert_eq!(
            other.get("/department/uploads/1").await.body,
            other.get("/department/uploads/999").await.body,
            "someone else's upload answers like one that does not exist"
        );
        let theirs = other.get("/department").await;
        assert!(theirs.body.contains("id=\"no-uploads\""));
        assert_eq!(admin.get("/department/uploads/1").await.status, 200);
        assert!(
            admin
                .get("/department")
                .await
                .element("uploads")
                .contains("department")
        );

        // No kind, no file: the form again.
        let r = c
            .post_multipart("/department", &[("csrf", &csrf), ("kind", "")], None)
            .await;
        assert_eq!(r.status, 422);
        assert!(r.element("errors").contains("<li>"));
        // A forged form is refused.
        let r = c
            .post_multipart(
                "/department",
                &[("csrf", "forged"), ("kind", "medical")],
                Some(("file", "claims.csv", &file)),
            )
            .await;
        assert_eq!(r.status, 403);
    }
}

/// The triggers of DOMAIN.md 1.6 that department data alone feeds: outpatient spending in a
/// month (the medical file's 医疗类别) and a school year's non-compulsory costs (the education
/// file's 学年 and costs), uploaded in the browser and by API token.
#[tokio::test]
async fn outpatient_months_and_school_costs_raise_warnings() {
    for server in Server::all().await {
        let mut c = server.signed_in("department").await;
        let csrf = c.get("/department").await.hidden("csrf");
        let file = department_fixture("medical-outpatient.csv");
        let r = c
            .post_multipart(
                "/department",
                &[("csrf", &csrf), ("kind", "medical")],
                Some(("file", "outpatient.csv", &file)),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let location = r.header("location").unwrap().to_owned();
        let page = c.get(&location).await;
        assert!(page.element("rows").contains(">7<"), "{}", page.body);
        // CK0002's rows 2 and 3 (580 in March) and WX0002's 6 and 7 (500 in June).
        assert!(page.element("review").contains(">4<"), "{}", page.body);
        assert_no_registry_words(&page.body);
        let mut admin = server.signed_in("admin").await;
        let full = admin.get(&location).await;
        let raised = full.element("raised");
        assert!(raised.contains("门诊合规自付支出较大"), "{raised}");
        assert!(
            raised.contains("2, 3") && raised.contains("6, 7"),
            "{raised}"
        );

        let mut api = server.api_client("department").await;
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=education",
                Some("text/csv"),
                &department_fixture("education-costs.csv"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let j = r.json();
        assert_eq!(j["upload"]["rows"], 3);
        // 刘小梅's 12,800 is above 10,000; 向丽's 10,000 is not.
        assert_eq!(
            j["raised"],
            serde_json::json!([{"rows": [2], "rules": [], "category": null, "outcome": "review"}])
        );
        assert_no_registry_words(&r.body);
        let mut admin_api = server.api_client("admin").await;
        let all = admin_api.get("/api/v1/department-uploads").await;
        let listed = all.json();
        let newest = &listed["items"][0];
        assert_eq!(newest["warnings_opened"], 1, "{}", all.body);
        let id = newest["id"].as_i64().unwrap();
        let full = admin.get(&format!("/department/uploads/{id}")).await;
        assert!(
            full.element("raised")
                .contains("非义务教育阶段教育支出较大"),
            "{}",
            full.body
        );
    }
}

#[tokio::test]
async fn uploads_by_api_token() {
    for server in Server::all().await {
        let mut api = server.api_client("department").await;
        let file = department_fixture("education.csv");
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=education&file_name=xueji.csv",
                Some("text/csv"),
                &file,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let j = r.json();
        assert_eq!(j["accepted"], true);
        assert_eq!(j["upload"]["file_name"], "xueji.csv");
        assert_eq!(j["upload"]["rows"], 3);
        assert_eq!(j["upload"]["matched"], 2);
        assert_eq!(j["unmatched_rows"][0]["row"], 4);
        assert_eq!(j["unmatched_rows"][0]["id_number"], "500229********5558");
        assert_eq!(j["unmatched_rows"][0]["reason_code"], "not_registered");
        assert!(!r.body.contains("500229199001015558"));
        // The rows that went for review, and nothing of the registry behind them.
        assert_eq!(j["raised"][0]["rows"], serde_json::json!([2]));
        assert_eq!(j["raised"][0]["rules"], serde_json::json!([]));
        assert_eq!(j["raised"][0]["category"], serde_json::Value::Null);
        assert_eq!(j["raised"][0]["outcome"], "review");
        assert_eq!(j["rule_set"], serde_json::Value::Null);
        assert_eq!(j["upload"]["warnings_opened"], serde_json::Value::Null);
        assert_no_registry_words(&r.body);
        // The administrator, who reads the registry, is told the warnings.
        let mut admin = server.api_client("admin").await;
        let all = admin.get("/api/v1/department-uploads").await;
        assert_eq!(all.json()["items"][0]["warnings_opened"], 1, "{}", all.body);

        // Again: recognised, nothing raised.
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=education",
                Some("application/octet-stream"),
                &file,
            )
            .await;
        assert_eq!(r.status, 201);
        let j = r.json();
        assert_eq!(j["upload"]["repeated"], 2);
        assert_eq!(j["raised"], serde_json::json!([]));
        assert_eq!(j["same_file_as"], 1);

        // A malformed file: 422 with every problem, nothing written.
        let before = audit_count(&server).await;
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=medical",
                Some("text/csv"),
                &department_fixture("bad-medical.csv"),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let j = r.json();
        assert_eq!(j["accepted"], false);
        assert_eq!(j["errors"].as_array().unwrap().len(), 7);
        assert_eq!(j["errors"][0]["row"], 2);
        assert_eq!(j["errors"][0]["field"], "id_number");
        assert!(
            j["errors"][0]["message_en"]
                .as_str()
                .unwrap()
                .contains("check")
        );
        assert_eq!(audit_count(&server).await, before);
        // Another kind's file under the wrong kind.
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=medical",
                Some("text/csv"),
                &department_fixture("housing.csv"),
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("housing"));
        // Bad requests.
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=tax",
                Some("text/csv"),
                &file,
            )
            .await;
        assert_eq!(r.status, 400);
        assert!(r.json()["message_en"].as_str().unwrap().contains("medical"));
        let r = api
            .request("POST", "/api/v1/department-uploads?kind=medical", None, b"")
            .await;
        assert_eq!(r.status, 400);
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=medical&x=1",
                Some("text/csv"),
                &file,
            )
            .await;
        assert_eq!(r.status, 400);

        // The list: the token's account's own uploads.
        let list = api.get("/api/v1/department-uploads").await;
        assert_eq!(list.status, 200);
        assert_eq!(list.json()["items"].as_array().unwrap().len(), 2);
        assert_no_registry_words(&list.body);
        assert_eq!(
            list.json()["items"][0]["warnings_opened"],
            serde_json::Value::Null
        );

        // Who may not: a county officer's token; a browser session (even of the officer).
        let mut county = server.api_client("chengkou").await;
        let r = county
            .request(
                "POST",
                "/api/v1/department-uploads?kind=education",
                Some("text/csv"),
                &file,
            )
            .await;
        assert_eq!(r.status, 403);
        let mut session = server.signed_in("department").await;
        let r = session
            .request(
                "POST",
                "/api/v1/department-uploads?kind=education",
                Some("text/csv"),
                &file,
            )
            .await;
        assert_eq!(r.status, 403);
        assert_eq!(
            zhenxing_store::department::uploads(&server.test_db.db, None, 10)
                .await
                .unwrap()
                .len(),
            2
        );
    }
}
