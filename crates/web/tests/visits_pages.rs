#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The village cadre's visits over HTTP (issue 19), on both databases: the round lists the
//! monitored households of her village, the form opens pre-filled, "no change" is one post,
//! a replayed submission is applied once, a photo that is not an image or a form of an older
//! version is refused in words with nothing recorded, a change made meanwhile in the office is
//! never overwritten and waits for a decision, and the offline parts (manifest, service worker,
//! script) are served; sign-out tells the browser to clear what it kept.

mod common;

use common::{Client, Response, Server};
use zhenxing_core::china_time::today_in_china;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0xe9, 0xfa, 0xdc, 0xd8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// The form's fields as the page serves them, every `was.` and value, then `changes` over them.
fn fields_of(form: &Response, key: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let body = form
        .body
        .split("id=\"visit-form\"")
        .nth(1)
        .expect("the page has the visit form");
    let mut fields = Vec::new();
    for part in body.split("<input type=\"hidden\" name=\"").skip(1) {
        let name = part.split('"').next().unwrap();
        let value = part
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or("");
        let value = common::unescape(value);
        if name == "key" {
            fields.push(("key".to_owned(), key.to_owned()));
        } else {
            fields.push((name.to_owned(), value.clone()));
        }
        if let Some(field) = name.strip_prefix("was.") {
            let sent = changes
                .iter()
                .find(|(k, _)| *k == field)
                .map_or(value, |(_, v)| (*v).to_owned());
            fields.push((field.to_owned(), sent));
        }
    }
    fields.push(("visited_on".into(), today_in_china().to_string()));
    fields.push(("food_clothing".into(), "yes".into()));
    fields
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

async fn json_client(server: &Server, name: &str) -> Client {
    let mut c = server.signed_in(name).await;
    c.headers.push(("accept".into(), "application/json".into()));
    c
}

#[tokio::test]
async fn a_cadre_records_her_round() {
    for server in Server::all().await {
        let mut c = server.signed_in("lixin").await;
        let round = c.get("/visits").await;
        assert_eq!(round.status, 200);
        assert!(
            round.body.contains("href=\"/visits/CK0001\""),
            "{}",
            round.body
        );
        assert!(
            round.body.contains("id=\"round-overdue\""),
            "never visited: overdue"
        );
        assert!(round.body.contains("rel=\"manifest\""));

        // The form is filled with what the registry holds.
        let form = c.get("/visits/CK0001").await;
        assert_eq!(form.status, 200);
        assert!(
            form.body.contains("name=\"was.wage\" value=\"14000.00\""),
            "{}",
            form.body
        );
        assert!(form.body.contains("id=\"wage\" value=\"14000.00\""));
        assert!(form.body.contains("id=\"no-change\""));
        assert!(form.body.contains("data-checks=\""));
        assert!(
            !form.body.contains("500229198203150139"),
            "no full ID number on the form"
        );

        // No change: one post.
        let mut fields = fields_of(&form, "aaaaaaaa-0000-4000-8000-000000000001", &[]);
        fields.push(("no_change".into(), "1".into()));
        let r = c.post_form("/visits/CK0001", &pairs(&fields)).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let done = r.header("location").unwrap().to_owned();
        assert!(done.starts_with("/visits?done=recorded"), "{done}");
        let round = c.get(&done).await;
        assert!(
            round.body.contains("id=\"done\""),
            "the step says what happened"
        );
        assert!(round.body.contains("id=\"round-done\""));

        // The same submission again (a lost answer): applied once.
        let mut j = json_client(&server, "lixin").await;
        let csrf = j.csrf().await;
        fields.retain(|(k, _)| k != "csrf");
        fields.push(("csrf".into(), csrf.clone()));
        let r = j.post_form("/visits/CK0001", &pairs(&fields)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["replayed"], true);
        let scope =
            zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse("500229102202").unwrap());
        let visits = zhenxing_store::visits::household_visits(&server.test_db.db, &scope, "CK0001")
            .await
            .unwrap();
        assert_eq!(visits.len(), 1);

        // A change, with a photo: written, the photo kept and shown.
        // The signature is a 600 KB image: larger than an ordinary form may be.
        let mut signature = vec![0xFF, 0xD8, 0xFF, 0xE0];
        signature.resize(600 * 1024, 0);
        let form = c.get("/visits/CK0001").await;
        let mut fields = fields_of(
            &form,
            "aaaaaaaa-0000-4000-8000-000000000002",
            &[("out_of_pocket", "9650")],
        );
        fields.retain(|(k, _)| k != "csrf");
        fields.push(("csrf".into(), csrf.clone()));
        let r = j
            .post_multipart_files(
                "/visits/CK0001",
                &pairs(&fields),
                &[("photo", "p.png", PNG), ("signature", "s.jpg", &signature)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let answer = r.json();
        assert_eq!(answer["status"], "applied");
        let page = c.get(answer["visit"].as_str().unwrap()).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("id=\"visit-photo\""));
        let photo = c
            .get(&format!("{}/file/photo", answer["visit"].as_str().unwrap()))
            .await;
        assert_eq!(photo.status, 200);
        assert_eq!(photo.header("content-type"), Some("image/png"));
        let (record, _) = zhenxing_store::registry::household(&server.test_db.db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.out_of_pocket, 965_000);
        // The timeline shows the visits.
        let timeline = c.get("/households/CK0001/timeline").await;
        assert!(
            timeline.body.contains("/visits/record/"),
            "{}",
            timeline.body
        );
        // Coverage counts the household as visited this month; 我的待办 has no overdue visit.
        let coverage = c.get("/coverage").await;
        assert!(
            coverage
                .body
                .contains("data-visited=\"1\" id=\"coverage-visited\""),
            "{}",
            coverage.body
        );
        // The township exports the round of its villages: the household visited this month.
        let mut township = server.signed_in("bashan").await;
        let round = township.get("/visits").await;
        assert!(
            round.body.contains("href=\"/visits.xlsx\""),
            "{}",
            round.body
        );
        let xlsx = township.get("/visits.xlsx").await;
        assert_eq!(xlsx.status, 200);
        let rows = xlsx.xlsx_rows();
        assert_eq!(rows[0][0], "户编号");
        let ck = rows
            .iter()
            .find(|r| r[0] == "CK0001")
            .expect("CK0001 in the round");
        assert_eq!(ck[4], "本月已走访");
        assert_eq!(ck[5], today_in_china().to_string());
        let tasks = c.get("/tasks").await;
        let line = tasks
            .body
            .split("data-task=\"tasks-visits-overdue\"")
            .nth(1)
            .unwrap();
        assert!(
            line.starts_with(" data-urgency=\"overdue\" class=\"done\""),
            "{line}"
        );
    }
}

#[tokio::test]
async fn bad_submissions_are_refused_and_record_nothing() {
    for server in Server::all().await {
        let mut c = server.signed_in("lixin").await;
        let mut j = json_client(&server, "lixin").await;
        let form = c.get("/visits/CK0001").await;
        let csrf = j.csrf().await;
        let with_csrf = |mut f: Vec<(String, String)>| {
            f.retain(|(k, _)| k != "csrf");
            f.push(("csrf".into(), csrf.clone()));
            f
        };
        // A "photo" that is not an image.
        let fields = with_csrf(fields_of(
            &form,
            "bbbbbbbb-0000-4000-8000-000000000001",
            &[],
        ));
        let r = j
            .post_multipart_files(
                "/visits/CK0001",
                &pairs(&fields),
                &[("photo", "photo.jpg", b"not an image at all")],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let problems = r.json()["problems"].clone();
        assert_eq!(problems[0]["field"], "photo");
        assert!(
            problems[0]["en"].as_str().unwrap().contains("JPEG"),
            "{problems}"
        );
        // A photo of more than 5 MB: refused by name.
        let mut big = vec![0xFF, 0xD8, 0xFF, 0xE0];
        big.resize(5 * 1024 * 1024 + 1, 0);
        let fields = with_csrf(fields_of(
            &form,
            "bbbbbbbb-0000-4000-8000-000000000004",
            &[],
        ));
        let r = j
            .post_multipart_files(
                "/visits/CK0001",
                &pairs(&fields),
                &[("photo", "big.jpg", &big)],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let problems = r.json()["problems"].clone();
        assert_eq!(problems[0]["field"], "photo");
        assert!(
            problems[0]["en"].as_str().unwrap().contains("5 MB"),
            "{problems}"
        );
        // A form of an older version of the app.
        let mut old = with_csrf(fields_of(
            &form,
            "bbbbbbbb-0000-4000-8000-000000000002",
            &[],
        ));
        old.retain(|(k, _)| k != "form_version");
        old.push(("form_version".into(), "0".into()));
        let r = j.post_form("/visits/CK0001", &pairs(&old)).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json()["problems"][0]["field"], "form_version");
        // A wrong amount, a day after today and a missing insurance answer, as a page: every
        // problem named, what was typed kept.
        let tomorrow = (today_in_china() + time::Duration::days(1)).to_string();
        let mut bad = fields_of(
            &form,
            "bbbbbbbb-0000-4000-8000-000000000003",
            &[("wage", "一万"), ("m1.insured", "")],
        );
        bad.retain(|(k, _)| k != "visited_on");
        bad.push(("visited_on".into(), tomorrow.clone()));
        let r = c.post_form("/visits/CK0001", &pairs(&bad)).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body.contains("value=\"一万\""),
            "the amount typed is kept"
        );
        assert!(r.body.contains(&format!("value=\"{tomorrow}\"")));
        for field in ["visited_on", "wage", "m1.insured"] {
            let line = r
                .body
                .split(&format!("data-for=\"{field}\">"))
                .nth(1)
                .unwrap();
            assert!(
                !line.starts_with("</p>"),
                "{field} has its problem next to it"
            );
        }
        // Nothing was recorded.
        let scope =
            zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse("500229102202").unwrap());
        assert!(
            zhenxing_store::visits::household_visits(&server.test_db.db, &scope, "CK0001")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn an_office_change_meanwhile_waits_for_a_decision() {
    for server in Server::all().await {
        let mut c = server.signed_in("lixin").await;
        let form = c.get("/visits/CK0001").await;
        // The county officer changes the wage after the cadre opened the form.
        let db = &server.test_db.db;
        let (mut record, meta) = zhenxing_store::registry::household(db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        record.wage_income = 1_600_000;
        db.edit_household(&record, meta.version, "chengkou", "web", "核实")
            .await
            .unwrap();
        let mut j = json_client(&server, "lixin").await;
        let csrf = j.csrf().await;
        let mut fields = fields_of(
            &form,
            "cccccccc-0000-4000-8000-000000000001",
            &[("wage", "12000")],
        );
        fields.retain(|(k, _)| k != "csrf");
        fields.push(("csrf".into(), csrf));
        let r = j.post_form("/visits/CK0001", &pairs(&fields)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let answer = r.json();
        assert_eq!(answer["status"], "conflict");
        assert_eq!(answer["conflicts"][0]["field"], "wage");
        assert_eq!(answer["conflicts"][0]["office"], "16000.00元");
        let visit = answer["visit"].as_str().unwrap().to_owned();
        // The office's value stands.
        let (now, _) = zhenxing_store::registry::household(db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.wage_income, 1_600_000);
        // The township sees it in its list and keeps the office's value.
        let mut t = server.signed_in("bashan").await;
        let list = t.get("/visits/conflicts").await;
        assert!(
            list.body.contains(&format!("href=\"{visit}\"")),
            "{}",
            list.body
        );
        let page = t.get(&visit).await;
        assert!(page.body.contains("id=\"keep-office\""));
        let csrf = t.csrf().await;
        let r = t
            .post_form(
                &format!("{visit}/decide"),
                &[("csrf", &csrf), ("choice", "office")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = t.get(r.header("location").unwrap()).await;
        assert!(
            page.body.contains("data-outcome=\"kept_office\""),
            "{}",
            page.body
        );
        // A second decision is refused.
        let r = t
            .post_form(
                &format!("{visit}/decide"),
                &[("csrf", &csrf), ("choice", "visit")],
            )
            .await;
        assert_eq!(r.status, 409);
        let (now, _) = zhenxing_store::registry::household(db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.wage_income, 1_600_000);
    }
}

#[tokio::test]
async fn the_offline_parts_are_served_and_sign_out_clears_them() {
    for server in Server::all().await {
        let mut anonymous = server.client();
        for (path, kind) in [
            ("/sw.js", "text/javascript"),
            ("/static/visit.js", "text/javascript"),
            ("/manifest.webmanifest", "application/manifest+json"),
        ] {
            let r = anonymous.get(path).await;
            assert_eq!(r.status, 200, "{path}");
            assert!(
                r.header("content-type").unwrap().starts_with(kind),
                "{path}"
            );
        }
        let manifest = anonymous.get("/manifest.webmanifest").await.json();
        assert_eq!(manifest["start_url"], "/visits");
        assert_eq!(manifest["display"], "standalone");
        // Scripts from the site only, never inline.
        let csp = anonymous
            .get("/login")
            .await
            .header("content-security-policy")
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        let mut c = server.signed_in("lixin").await;
        let csrf = c.csrf().await;
        let r = c.post_form("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(r.status, 303);
        assert_eq!(r.header("clear-site-data"), Some("\"cache\", \"storage\""));
    }
}
