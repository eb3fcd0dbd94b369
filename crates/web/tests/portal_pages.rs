#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The public portal over HTTP, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: every
//! public page without an account, Chinese by default and English on request, with no
//! third-party request; every form with good and bad input (refusals name the field and the
//! reason, in both languages); the form token, the honeypot, the size limit and the rate limit;
//! HTML shown as text; the back office's publications, tickets and settings.

mod common;

use common::{Client, Response, Server};
use zhenxing_web::WebConfig;

const VILLAGE: &str = "500229102202";
const TOWNSHIP: &str = "500229102000";
const COUNTY: &str = "500229000000";

/// A valid ID number of someone not in the fixture (Beijing, 1949-12-31).
const ID_NUMBER: &str = "11010519491231002X";

fn place_query() -> String {
    format!("county={COUNTY}&township={TOWNSHIP}&village={VILLAGE}")
}

/// The visitor's form token, from a portal page (set as a cookie on the first visit).
async fn portal_csrf(c: &mut Client, path: &str) -> String {
    let page = c.get(path).await;
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    page.hidden("csrf")
}

fn declaration<'a>(csrf: &'a str, id_number: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("village", VILLAGE),
        ("website", ""),
        ("applicant", "王世华"),
        ("id_number", id_number),
        ("phone", "139 0000 0001"),
        ("events", "illness"),
        ("events", "job_loss"),
        ("account", "儿子失业，妻子需要手术"),
        ("commitment", "yes"),
        ("authorisation", "yes"),
        ("privacy", "yes"),
    ]
}

fn ticket<'a>(csrf: &'a str, subject: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("division", VILLAGE),
        ("website", ""),
        ("kind", "consultation"),
        ("category", "policy_execution"),
        ("subject", subject),
        ("body", "公益性岗位补贴如何申请？需要什么材料？"),
        ("privacy", "yes"),
    ]
}

/// The tracking code a "received" page shows.
fn tracking_code(page: &Response) -> String {
    let marker = "id=\"tracking-code\">";
    let start = page.body.find(marker).unwrap() + marker.len();
    let end = page.body[start..].find('<').unwrap();
    page.body[start..start + end].to_owned()
}

async fn track(c: &mut Client, code: &str) -> Response {
    let csrf = portal_csrf(c, "/portal/track").await;
    c.post_form("/portal/track", &[("csrf", &csrf), ("code", code)])
        .await
}

/// How many declarations, warnings or tickets are stored, read through the store.
async fn count(server: &Server, what: &str) -> i64 {
    let db = &server.test_db.db;
    let today = zhenxing_core::china_time::today_in_china();
    match what {
        // A declaration and its audit operation are one transaction.
        "declarations" => zhenxing_store::audit::recent(db, 1000)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == "portal.declaration")
            .count() as i64,
        "warnings" => {
            let scope = zhenxing_core::Scope::new(
                zhenxing_core::DivisionCode::parse("500000000000").unwrap(),
            );
            let c = zhenxing_store::warnings::inbox_counts(db, &scope, today)
                .await
                .unwrap();
            c.new + c.assigned + c.verified + c.dismissed + c.closed
        }
        // Every ticket, read from the table: no role reads all of them (a report about a
        // person is its designated officer's only, and the auditor reads the audit trail only).
        "tickets" => {
            let sql = "SELECT COUNT(*) FROM tickets";
            match db {
                zhenxing_store::Db::Sqlite(p) => {
                    sqlx::query_scalar(sql).fetch_one(p).await.unwrap()
                }
                zhenxing_store::Db::Postgres(p) => {
                    sqlx::query_scalar(sql).fetch_one(p).await.unwrap()
                }
            }
        }
        other => panic!("count of {other}"),
    }
}

#[tokio::test]
async fn public_pages_without_an_account_in_both_languages() {
    for server in Server::all().await {
        let mut c = server.client();
        for path in [
            "/portal",
            "/portal/privacy",
            "/portal/contact",
            "/portal/notices",
            "/portal/declare",
            "/portal/ask",
            "/portal/track",
        ] {
            let page = c.get(path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.body);
            assert!(page.body.contains("lang=\"zh-CN\""), "{path} in Chinese");
            assert!(page.body.contains("重庆市乡村振兴局"), "{path}");
            // No third-party request: nothing loaded from anywhere but this server.
            for outside in [
                "src=\"http",
                "href=\"http",
                "src=\"//",
                "href=\"//",
                "url(http",
            ] {
                assert!(!page.body.contains(outside), "{path} loads {outside}");
            }
            assert!(
                page.header("content-security-policy")
                    .unwrap()
                    .contains("default-src 'none'")
            );
            // The cookie notice, with its explicit "I agree".
            assert!(page.body.contains("id=\"cookie-notice\""), "{path}");
        }
        // Only necessary cookies: the form token, nothing else yet.
        let names: Vec<&String> = c.cookies.keys().collect();
        assert_eq!(names, ["zx_portal_csrf"], "{names:?}");
        // English on request, remembered.
        let en = c.get("/portal/privacy?lang=en").await;
        assert!(en.body.contains("lang=\"en\""));
        assert!(en.body.contains("Privacy statement"));
        assert_eq!(c.cookies.get("zx_lang").map(String::as_str), Some("en"));
        let again = c.get("/portal").await;
        assert!(again.body.contains("Public services"));
        // "I agree" hides the notice.
        let csrf = again.hidden("csrf");
        let agreed = c
            .post_form(
                "/portal/cookies",
                &[("csrf", &csrf), ("back", "/portal/contact")],
            )
            .await;
        assert_eq!(agreed.status, 303);
        assert_eq!(agreed.header("location"), Some("/portal/contact"));
        let after = c.get("/portal/contact").await;
        assert!(!after.body.contains("id=\"cookie-notice\""));
        // Not back to another site.
        let r = c
            .post_form(
                "/portal/cookies",
                &[("csrf", &csrf), ("back", "//evil.example")],
            )
            .await;
        assert_eq!(r.header("location"), Some("/portal"));
        // Without the token: refused.
        let r = c
            .post_form(
                "/portal/cookies",
                &[("csrf", "forged"), ("back", "/portal")],
            )
            .await;
        assert_eq!(r.status, 403);
    }
}

#[tokio::test]
async fn the_notice_finder_goes_county_township_village() {
    for server in Server::all().await {
        let mut c = server.client();
        let counties = c.get("/portal/notices").await;
        assert!(counties.body.contains(&format!("value=\"{COUNTY}\"")));
        assert!(!counties.body.contains("name=\"township\""));
        let townships = c.get(&format!("/portal/notices?county={COUNTY}")).await;
        assert!(townships.body.contains(&format!("value=\"{TOWNSHIP}\"")));
        assert!(!townships.body.contains("name=\"village\""));
        let villages = c
            .get(&format!(
                "/portal/notices?county={COUNTY}&township={TOWNSHIP}"
            ))
            .await;
        assert!(villages.body.contains(&format!("value=\"{VILLAGE}\"")));
        assert!(!villages.body.contains("id=\"open-notice\""));
        let chosen = c.get(&format!("/portal/notices?{}", place_query())).await;
        assert!(
            chosen
                .body
                .contains(&format!("href=\"/notices/{VILLAGE}\" id=\"open-notice\""))
        );
        assert_eq!(c.get(&format!("/notices/{VILLAGE}")).await.status, 200);
        // A township of another county, or nonsense, is ignored: the chooser starts there again.
        let mixed = c
            .get("/portal/notices?county=500229000000&township=500238101000&village=x")
            .await;
        assert_eq!(mixed.status, 200);
        assert!(!mixed.body.contains("id=\"open-notice\""));
        assert!(!mixed.body.contains("name=\"village\""));
    }
}

#[tokio::test]
async fn a_self_declaration_reaches_the_township_and_is_followed_by_its_code() {
    for server in Server::all().await {
        let mut c = server.client();
        // The form appears once a village is chosen.
        let empty = c.get("/portal/declare").await;
        assert!(!empty.body.contains("id=\"declare-form\""));
        let csrf = portal_csrf(&mut c, &format!("/portal/declare?{}", place_query())).await;
        let form = c.get(&format!("/portal/declare?{}", place_query())).await;
        assert!(form.body.contains("id=\"declare-form\""));
        assert!(form.body.contains("name=\"website\""), "the honeypot");
        let received = c
            .post_form("/portal/declare", &declaration(&csrf, ID_NUMBER))
            .await;
        assert_eq!(received.status, 200, "{}", received.body);
        assert!(received.body.contains("申报已收到"));
        let code = tracking_code(&received);
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(count(&server, "declarations").await, 1);

        // The township officer sees the lead in the inbox; the village cadre too.
        let mut officer = server.signed_in("bashan").await;
        let inbox = officer.get("/warnings?source=self_declaration").await;
        assert_eq!(inbox.status, 200);
        assert!(inbox.body.contains("SB-500229-1"), "{}", inbox.body);
        let mut elsewhere = server.signed_in("wuxi").await;
        let none = elsewhere.get("/warnings?source=self_declaration").await;
        assert!(!none.body.contains("SB-500229-1"));

        // The applicant follows it with the code, typed loosely.
        let tracked = track(&mut c, &code.to_lowercase().replace('-', " ")).await;
        assert_eq!(tracked.status, 200, "{}", tracked.body);
        assert!(tracked.body.contains("已收到，等待乡镇受理"));
        // The due date itself, not "within the time limit".
        let result = tracked.element("track-result");
        assert!(result.contains("办理时限"), "{result}");
        assert!(
            result.contains(
                &zhenxing_core::china_time::today_in_china()
                    .year()
                    .to_string()
            ),
            "a date: {result}"
        );
        assert!(!tracked.body.contains(ID_NUMBER) && !tracked.body.contains("13900000001"));
        // A wrong code tells nothing.
        let wrong = track(&mut c, "ZZZZ-ZZZZ-ZZZZ-ZZZZ").await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains("id=\"not-found\""));
        let junk = track(&mut c, "<script>").await;
        assert_eq!(junk.status, 422);
        assert_eq!(
            wrong.body.replace("ZZZZ", ""),
            junk.body.replace("ZZZZ", ""),
            "malformed and unknown codes answer alike"
        );
    }
}

#[tokio::test]
async fn bad_declarations_name_each_field_and_store_nothing() {
    for server in Server::all().await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, "/portal/declare").await;
        // A wrong check character, no commitment, an empty account.
        let mut bad = declaration(&csrf, "110105194912310021");
        bad.retain(|(k, _)| *k != "commitment" && *k != "account");
        let r = c.post_form("/portal/declare", &bad).await;
        assert_eq!(r.status, 422, "{}", r.body);
        for field in ["id_number", "commitment", "account"] {
            assert!(
                r.body.contains(&format!("data-field=\"{field}\"")),
                "{field}: {}",
                r.body
            );
        }
        assert!(r.body.contains("身份证号"));
        // What was typed is kept.
        assert!(r.body.contains("王世华"));
        // The same in English.
        c.get("/portal?lang=en").await;
        let r = c.post_form("/portal/declare", &bad).await;
        assert_eq!(r.status, 422);
        assert!(
            r.body.contains("please read and agree to the commitment"),
            "{}",
            r.body
        );
        // A village that is not one, and a phone that is not one.
        let mut bad = declaration(&csrf, ID_NUMBER);
        for (k, v) in bad.iter_mut() {
            if *k == "village" {
                *v = TOWNSHIP;
            }
            if *k == "phone" {
                *v = "12345";
            }
        }
        let r = c.post_form("/portal/declare", &bad).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("data-field=\"village\""));
        assert!(r.body.contains("data-field=\"phone\""));
        assert_eq!(count(&server, "declarations").await, 0);
        assert_eq!(count(&server, "warnings").await, 0);
    }
}

#[tokio::test]
async fn forged_bot_oversized_and_too_many_submissions_are_refused() {
    let config = WebConfig {
        portal_submissions_per_window: 2,
        ..WebConfig::default()
    };
    for server in Server::all_with(config, true).await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, "/portal/ask").await;
        // No token, or another visitor's token: refused.
        let r = c
            .post_form("/portal/ask", &ticket("forged-token", "补贴问题"))
            .await;
        assert_eq!(r.status, 403);
        let mut stranger = server.client();
        let r = stranger
            .post_form("/portal/ask", &ticket(&csrf, "补贴问题"))
            .await;
        assert_eq!(r.status, 403);
        // The honeypot filled in: refused, nothing stored.
        let mut bot = ticket(&csrf, "补贴问题");
        bot.retain(|(k, _)| *k != "website");
        bot.push(("website", "http://spam.example"));
        let r = c.post_form("/portal/ask", &bot).await;
        assert_eq!(r.status, 400);
        // Too large for the server (256 KiB): refused before it is read.
        let huge = "很".repeat(100_000);
        let mut big = ticket(&csrf, "补贴问题");
        big.retain(|(k, _)| *k != "body");
        big.push(("body", &huge));
        let r = c.post_form("/portal/ask", &big).await;
        assert_eq!(r.status, 413);
        // Too long for the field: refused with the field and the length.
        let long = "很".repeat(2_001);
        let mut over = ticket(&csrf, "补贴问题");
        over.retain(|(k, _)| *k != "body");
        over.push(("body", &long));
        let r = c.post_form("/portal/ask", &over).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("data-field=\"body\""));
        assert!(r.body.contains("2001"));
        assert_eq!(count(&server, "tickets").await, 0);
        // Only requests past the token and the honeypot count against the limit of two (the
        // oversized one never reached the handler): the long one was the first, this is the
        // second, the next one is refused.
        let ok = c.post_form("/portal/ask", &ticket(&csrf, "补贴问题")).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let limited = c.post_form("/portal/ask", &ticket(&csrf, "补贴问题")).await;
        assert_eq!(limited.status, 429);
        assert!(limited.body.contains("提交过于频繁"));
        assert_eq!(count(&server, "tickets").await, 1);
    }
}

#[tokio::test]
async fn files_go_with_a_ticket_and_bad_files_store_nothing() {
    let png: &[u8] = b"\x89PNG\r\n\x1a\n a noticeboard";
    let pdf: &[u8] = b"%PDF-1.7 a receipt";
    let mut big = b"%PDF-1.7".to_vec();
    big.resize(5 * 1024 * 1024 + 1, b' ');
    for server in Server::all().await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, &format!("/portal/ask?{}", place_query())).await;
        let fields = ticket(&csrf, "公示栏照片");
        // The page's form sends multipart, with the file input.
        let form = c.get(&format!("/portal/ask?{}", place_query())).await;
        assert!(form.body.contains("enctype=\"multipart/form-data\""));
        assert!(form.body.contains("type=\"file\" name=\"files\""));

        // A file that is not a photo or a scan, one too large, and one too many: each refused
        // with the file's name, the typed text kept, nothing stored.
        for (files, expect) in [
            (
                vec![("files", "说明.html", b"<script>x</script>".as_slice())],
                "说明.html",
            ),
            (
                vec![("files", "大扫描件.pdf", big.as_slice())],
                "大扫描件.pdf",
            ),
            (
                vec![
                    ("files", "1.png", png),
                    ("files", "2.png", png),
                    ("files", "3.png", png),
                    ("files", "4.png", png),
                ],
                "最多附3个文件",
            ),
        ] {
            let r = c.post_multipart_files("/portal/ask", &fields, &files).await;
            assert_eq!(r.status, 422, "{}", r.body);
            assert!(r.body.contains("data-field=\"files\""), "{}", r.body);
            assert!(r.body.contains(expect), "{expect}: {}", r.body);
            assert!(r.body.contains("公示栏照片"), "the subject is kept");
        }
        assert_eq!(count(&server, "tickets").await, 0);
        // Larger than the form may be at all: refused before it is read.
        let huge = vec![0u8; 17 * 1024 * 1024];
        let r = c
            .post_multipart_files("/portal/ask", &fields, &[("files", "huge.pdf", &huge)])
            .await;
        assert_eq!(r.status, 413);
        assert_eq!(count(&server, "tickets").await, 0);

        // A photo and a scan, and an empty file input beside them: stored with the ticket.
        let files = [
            ("files", "公示栏.png", png),
            ("files", "收据.pdf", pdf),
            ("files", "", b"".as_slice()),
        ];
        let r = c.post_multipart_files("/portal/ask", &fields, &files).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("诉求已收到"));
        assert_eq!(count(&server, "tickets").await, 1);

        // The county's officer sees and downloads them; a village cadre elsewhere cannot.
        let mut officer = server.signed_in("chengkou").await;
        let page = officer.get("/tickets/1").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("公示栏.png") && page.body.contains("收据.pdf"),
            "{}",
            page.body
        );
        let file = officer.get("/tickets/1/files/2").await;
        assert_eq!(file.status, 200);
        assert_eq!(file.header("content-type"), Some("application/pdf"));
        assert!(
            file.header("content-disposition")
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(file.bytes, pdf);
        assert_eq!(officer.get("/tickets/1/files/3").await.status, 404);
        let mut other = server.signed_in("wuxi").await;
        assert_eq!(other.get("/tickets/1/files/1").await.status, 404);
        assert_eq!(
            c.get("/tickets/1/files/1").await.status,
            303,
            "no account: sign in"
        );
    }
}

#[tokio::test]
async fn a_named_tickets_phone_is_masked_until_an_audited_reveal() {
    for server in Server::all().await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, &format!("/portal/ask?{}", place_query())).await;
        let mut named = ticket(&csrf, "请回电");
        named.extend([
            ("named", "yes"),
            ("requester", "李大姐"),
            ("phone", "13900001234"),
        ]);
        let r = c.post_form("/portal/ask", &named).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let reveals = async || {
            zhenxing_store::audit::recent(&server.test_db.db, 100)
                .await
                .unwrap()
                .iter()
                .filter(|e| e.action == "personal_data.reveal" && e.object_type == "ticket")
                .count()
        };

        let mut officer = server.signed_in("chengkou").await;
        let page = officer.get("/tickets/1").await;
        assert!(page.body.contains("139****1234"), "{}", page.body);
        assert!(!page.body.contains("13900001234"));
        assert_eq!(reveals().await, 0, "reading the ticket reveals nothing");
        let token = page.hidden("csrf");
        // Without the form token: refused, nothing revealed or recorded.
        assert_eq!(
            officer
                .post_form("/tickets/1/reveal", &[("csrf", "x")])
                .await
                .status,
            403
        );
        // A county officer elsewhere: the ticket does not exist for them.
        let mut other = server.signed_in("wuxi").await;
        let other_token = other.get("/tickets").await.hidden("csrf");
        let r = other
            .post_form("/tickets/1/reveal", &[("csrf", &other_token)])
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(reveals().await, 0);
        // The county's officer asks: the number, once, and the trail says who saw it.
        let shown = officer
            .post_form("/tickets/1/reveal", &[("csrf", &token)])
            .await;
        assert_eq!(shown.status, 400, "no purpose, no number: {}", shown.body);
        assert!(!shown.body.contains("13900001234"));
        assert_eq!(reveals().await, 0);
        let shown = officer
            .post_form(
                "/tickets/1/reveal",
                &[("csrf", &token), ("purpose", "contact")],
            )
            .await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        assert!(shown.body.contains("13900001234"));
        assert_eq!(reveals().await, 1);
        assert!(!officer.get("/tickets/1").await.body.contains("13900001234"));
    }
}

#[tokio::test]
async fn the_ticket_inbox_pages_through_every_ticket() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let today = zhenxing_core::china_time::today_in_china();
        let policy = zhenxing_core::portal::PortalPolicy::default();
        let t = zhenxing_core::portal::TicketForm {
            kind: "consultation".into(),
            category: "policy_execution".into(),
            division: VILLAGE.into(),
            subject: "补贴问题".into(),
            body: "公益性岗位补贴如何申请？".into(),
            privacy: Some("yes".into()),
            ..Default::default()
        }
        .check()
        .unwrap();
        for _ in 0..201 {
            zhenxing_store::portal::submit_ticket(db, &t, &[], &policy, today)
                .await
                .unwrap()
                .unwrap();
        }
        let mut officer = server.signed_in("chengkou").await;
        let rows = |r: &Response| r.body.matches("<tr><td><a href=\"/tickets/").count();
        let first = officer.get("/tickets?status=all").await;
        assert_eq!(rows(&first), 200, "{}", first.body);
        assert!(first.body.contains("/tickets/201\""), "newest first");
        for (tab, n) in [("open", 201), ("overdue", 0), ("all", 201)] {
            let marker = format!("id=\"tab-{tab}\"");
            let at = first.body.find(&marker).unwrap();
            let count = format!("<span class=\"count\">{n}</span>");
            assert!(first.body[at..at + 200].contains(&count), "{tab}: {n}");
        }
        assert!(
            first
                .body
                .contains("href=\"/tickets?status=all&#38;from=200\""),
            "{}",
            first.body
        );
        let second = officer.get("/tickets?status=all&from=200").await;
        assert_eq!(rows(&second), 1);
        assert!(second.body.contains("/tickets/1\""));
        assert!(!second.body.contains("id=\"next-page\""));
        assert_eq!(officer.get("/tickets?status=all&from=17").await.status, 400);
        // Narrowed to a village chosen by name: the village's tickets, its counts, its export.
        let page = officer.get("/tickets?status=all").await;
        assert!(
            page.element("village")
                .contains(&format!("value=\"{VILLAGE}\""))
        );
        assert!(
            page.element("village").contains("立新村"),
            "{}",
            page.element("village")
        );
        let narrowed = officer
            .get(&format!("/tickets?status=all&village={VILLAGE}"))
            .await;
        assert_eq!(rows(&narrowed), 200);
        assert!(
            narrowed.body.contains(&format!(
                "href=\"/tickets?status=all&#38;village={VILLAGE}&#38;from=200\""
            )),
            "the next page keeps the village"
        );
        let other = officer
            .get("/tickets?status=all&village=500229102204")
            .await;
        assert_eq!(rows(&other), 0);
        assert!(other.body.contains("id=\"no-tickets\""));
        let csv = officer
            .get("/tickets.csv?status=all&village=500229102204")
            .await;
        assert_eq!(csv.status, 200);
        assert_eq!(
            csv.body.trim_start_matches('\u{feff}').lines().count(),
            1,
            "the header only"
        );
        // Another county's village, or a malformed code: a division that does not exist.
        for bad in ["500238000000", "abc"] {
            assert_eq!(
                officer.get(&format!("/tickets?village={bad}")).await.status,
                404,
                "{bad}"
            );
        }
    }
}

#[tokio::test]
async fn a_ticket_is_answered_and_the_answer_read_with_the_code() {
    for server in Server::all().await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, &format!("/portal/ask?{}", place_query())).await;
        // Bad input: no kind, no category, a named request without a name.
        let r = c
            .post_form(
                "/portal/ask",
                &[
                    ("csrf", &csrf),
                    ("division", VILLAGE),
                    ("subject", "补贴"),
                    ("body", "问题内容说明"),
                    ("named", "yes"),
                    ("privacy", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status, 422);
        for field in ["kind", "category", "requester", "phone"] {
            assert!(
                r.body.contains(&format!("data-field=\"{field}\"")),
                "{field}"
            );
        }
        // HTML and script in the fields are kept as text.
        let script = "<script>alert(1)</script><b>补贴</b>";
        let received = c.post_form("/portal/ask", &ticket(&csrf, script)).await;
        assert_eq!(received.status, 200, "{}", received.body);
        assert!(received.body.contains("诉求已收到"));
        let code = tracking_code(&received);

        // The county officer works it.
        let mut officer = server.signed_in("chengkou").await;
        let inbox = officer.get("/tickets").await;
        assert_eq!(inbox.status, 200);
        assert!(
            inbox
                .body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{}",
            inbox.body
        );
        assert!(!inbox.body.contains("<script>alert"));
        let page = officer.get("/tickets/1").await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("<script>alert"));
        let csrf_officer = page.hidden("csrf");
        let version = page.hidden("version");
        let r = officer
            .post_form(
                "/tickets/1/steps/assign",
                &[
                    ("csrf", &csrf_officer),
                    ("version", &version),
                    ("assignee", "bashan"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        // The page says what happened: to whom, and by when.
        let location = r.header("location").unwrap().to_owned();
        assert_eq!(location, "/tickets/1?done=assign");
        let page = officer.get(&location).await;
        let done = page.text_of("done");
        assert!(done.starts_with("已分派给 bashan，答复期限 "), "{done}");
        // The same (now stale) page again: refused, nothing changed.
        let r = officer
            .post_form(
                "/tickets/1/steps/answer",
                &[
                    ("csrf", &csrf_officer),
                    ("version", &version),
                    ("answer", "过时的答复内容"),
                ],
            )
            .await;
        assert_eq!(r.status, 409);
        // The typed answer is kept, beside the reason.
        assert!(r.element("answer").contains("过时的答复内容"), "{}", r.body);
        assert!(r.element("errors").contains("已被他人修改"));
        let mut township = server.signed_in("bashan").await;
        let page = township.get("/tickets/1").await;
        let (csrf_t, version) = (page.hidden("csrf"), page.hidden("version"));
        let answer = "可向所在村提出申请，<i>乡镇</i>审核后安排。";
        let r = township
            .post_form(
                "/tickets/1/steps/answer",
                &[("csrf", &csrf_t), ("version", &version), ("answer", answer)],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = township.get(r.header("location").unwrap()).await;
        assert!(page.text_of("done").starts_with("已答复"), "{}", page.body);
        // Too short an answer is refused with the reason.
        let page = township.get("/tickets/1").await;
        let r = township
            .post_form(
                "/tickets/1/steps/answer",
                &[
                    ("csrf", &page.hidden("csrf")),
                    ("version", &page.hidden("version")),
                    ("answer", "好"),
                ],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(!r.element("errors").is_empty(), "{}", r.body);
        assert!(
            r.element("answer").contains(">好<"),
            "the answer kept: {}",
            r.body
        );
        // The requester reads the answer, as text.
        let tracked = track(&mut c, &code).await;
        assert_eq!(tracked.status, 200);
        assert!(tracked.body.contains("已答复"));
        assert!(
            tracked.body.contains("&#60;i&#62;乡镇&#60;/i&#62;"),
            "{}",
            tracked.body
        );
        assert!(tracked.body.contains("&#60;script&#62;"));
        assert!(!tracked.body.contains("<script>alert"));
        // Other roles: a village cadre may not read tickets; another county does not find it.
        let mut cadre = server.signed_in("lixin").await;
        assert_eq!(cadre.get("/tickets").await.status, 403);
        let mut wuxi = server.signed_in("wuxi").await;
        assert_eq!(wuxi.get("/tickets/1").await.status, 404);
    }
}

#[tokio::test]
async fn publications_from_draft_to_public_and_back() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        let form = admin.get("/portal-admin/announcements/new").await;
        assert_eq!(form.status, 200);
        let csrf = form.hidden("csrf");
        // Bad: no Chinese title.
        let r = admin
            .post_form(
                "/portal-admin/announcements",
                &[
                    ("csrf", &csrf),
                    ("version", "0"),
                    ("kind", "policy"),
                    ("title_zh", ""),
                    ("body_zh", "正文"),
                ],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("中文标题"));
        let r = admin
            .post_form(
                "/portal-admin/announcements",
                &[
                    ("csrf", &csrf),
                    ("version", "0"),
                    ("kind", "policy"),
                    ("title_zh", "防止返贫动态监测和帮扶工作指引"),
                    ("title_en", ""),
                    ("body_zh", "第一条 <em>监测</em>对象。\n\n第二条 识别程序。"),
                    ("body_en", ""),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let location = r.header("location").unwrap().to_owned();
        assert!(location.starts_with("/portal-admin/announcements/1"));
        // A draft is not public.
        let mut visitor = server.client();
        assert!(!visitor.get("/portal").await.body.contains("帮扶工作指引"));
        assert_eq!(visitor.get("/portal/announcements/1").await.status, 404);
        // Publish today.
        let page = admin.get("/portal-admin/announcements/1").await;
        let version = page.hidden("version");
        let r = admin
            .post_form(
                "/portal-admin/announcements/1/publish",
                &[("csrf", &csrf), ("version", &version), ("publish_on", "")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let home = visitor.get("/portal").await;
        assert!(home.body.contains("帮扶工作指引"));
        let page = visitor.get("/portal/announcements/1").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("&#60;em&#62;监测&#60;/em&#62;"));
        // In English, not yet translated: the Chinese text, said so.
        let en = visitor.get("/portal/announcements/1?lang=en").await;
        assert!(en.body.contains("id=\"untranslated\""));
        // A date in the past is refused.
        let page = admin.get("/portal-admin/announcements/1").await;
        let version = page.hidden("version");
        let r = admin
            .post_form(
                "/portal-admin/announcements/1/publish",
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("publish_on", "2020-01-01"),
                ],
            )
            .await;
        assert_eq!(r.status, 400);
        // Withdraw.
        let r = admin
            .post_form(
                "/portal-admin/announcements/1/withdraw",
                &[("csrf", &csrf), ("version", &version)],
            )
            .await;
        assert_eq!(r.status, 303);
        assert_eq!(visitor.get("/portal/announcements/1").await.status, 404);
        // Others may not.
        let mut county = server.signed_in("chengkou").await;
        assert_eq!(county.get("/portal-admin").await.status, 403);
    }
}

#[tokio::test]
async fn portal_settings_change_the_time_limits() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        let page = admin.get("/settings/portal").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("value=\"2\"") && page.body.contains("value=\"15\""));
        let csrf = page.hidden("csrf");
        let r = admin
            .post_form(
                "/settings/portal",
                &[("csrf", &csrf), ("accept_days", "0"), ("ticket_days", "x")],
            )
            .await;
        assert_eq!(r.status, 422);
        let r = admin
            .post_form(
                "/settings/portal",
                &[("csrf", &csrf), ("accept_days", "3"), ("ticket_days", "20")],
            )
            .await;
        assert_eq!(r.status, 303);
        // A ticket submitted now is due in 20 days.
        let mut c = server.client();
        let token = portal_csrf(&mut c, "/portal/ask").await;
        let received = c.post_form("/portal/ask", &ticket(&token, "时限")).await;
        assert_eq!(received.status, 200);
        let code = tracking_code(&received);
        let due =
            (zhenxing_core::china_time::today_in_china() + time::Duration::days(20)).to_string();
        assert!(track(&mut c, &code).await.body.contains(&due));
        // Designations: a county officer only.
        let r = admin
            .post_form(
                "/settings/portal/designations",
                &[("csrf", &csrf), ("designate", "on"), ("name", "bashan")],
            )
            .await;
        assert_eq!(r.status, 400);
        let r = admin
            .post_form(
                "/settings/portal/designations",
                &[("csrf", &csrf), ("designate", "on"), ("name", "chengkou")],
            )
            .await;
        assert_eq!(r.status, 303);
        assert!(
            admin
                .get("/settings/portal")
                .await
                .body
                .contains("chengkou")
        );
    }
}

/// What the test process logs, at the finest level.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Everything this test process logs from the first call on. A global subscriber, not a
    /// scoped one (`set_default`): under `cargo test` the other tests of this file run on other
    /// threads of the same process, and a scoped subscriber then missed the server's events
    /// (CI saw only two lines). The other tests' logs land here too, and none may hold a number.
    fn of_this_process() -> &'static Logs {
        static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other test of this file sets a global subscriber");
            logs
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Declares through the portal (as [`declaration`], with `id_number`) and returns the id of
/// the lead it raised.
async fn declare_lead(server: &Server, id_number: &str) -> i64 {
    let mut c = server.client();
    let csrf = portal_csrf(&mut c, &format!("/portal/declare?{}", place_query())).await;
    let received = c
        .post_form("/portal/declare", &declaration(&csrf, id_number))
        .await;
    assert_eq!(received.status, 200, "{}", received.body);
    let scope =
        zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse("500000000000").unwrap());
    let query = zhenxing_store::warnings::InboxQuery {
        status: zhenxing_store::warnings::StatusFilter::All,
        channel: Some(zhenxing_core::warning::WarningChannel::SelfDeclaration),
        limit: 10,
        ..Default::default()
    };
    let today = zhenxing_core::china_time::today_in_china();
    let leads = zhenxing_store::warnings::inbox(&server.test_db.db, &scope, &query, today)
        .await
        .unwrap();
    assert_eq!(leads.len(), 1, "{leads:?}");
    leads[0].id
}

/// Audit records with `action`, newest first.
async fn audited(server: &Server, action: &str) -> Vec<zhenxing_store::audit::AuditRecord> {
    zhenxing_store::audit::recent(&server.test_db.db, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .collect()
}

#[tokio::test]
async fn a_declarants_numbers_are_shown_only_after_an_audited_reveal() {
    let logs = Logs::of_this_process();
    const PHONE: &str = "13900000001";
    for server in Server::all().await {
        let id = declare_lead(&server, ID_NUMBER).await;
        let page_path = format!("/warnings/{id}");
        let reveal_path = format!("/warnings/{id}/reveal");

        // Masked on the ordinary page, with the button for a role that may reveal.
        let mut officer = server.signed_in("bashan").await;
        let page = officer.get(&page_path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("id=\"declaration-1\""), "{}", page.body);
        assert!(!page.body.contains(ID_NUMBER) && !page.body.contains(PHONE));
        assert!(page.body.contains("139****0001"), "{}", page.body);
        assert!(page.body.contains("id=\"reveal-declaration-1\""));

        // A village cadre reads the lead but may not reveal: no button, 403, nothing audited.
        let mut cadre = server.signed_in("lixin").await;
        let page = cadre.get(&page_path).await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("reveal-declaration-1"));
        let csrf = page.hidden("csrf");
        let refused = cadre
            .post_form(&reveal_path, &[("csrf", &csrf), ("declaration", "1")])
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(!refused.body.contains(ID_NUMBER) && !refused.body.contains(PHONE));
        assert!(audited(&server, "personal_data.reveal").await.is_empty());

        // A forged form, another county's officer, a declaration not behind this lead: refused,
        // nothing audited.
        let csrf = officer.csrf().await;
        let forged = officer
            .post_form(&reveal_path, &[("csrf", "forged"), ("declaration", "1")])
            .await;
        assert_eq!(forged.status, 403);
        let other = officer
            .post_form(&reveal_path, &[("csrf", &csrf), ("declaration", "2")])
            .await;
        assert_eq!(other.status, 404);
        let junk = officer
            .post_form(&reveal_path, &[("csrf", &csrf), ("declaration", "x'1")])
            .await;
        assert_eq!(junk.status, 404);
        let mut elsewhere = server.signed_in("wuxi").await;
        let elsewhere_csrf = elsewhere.csrf().await;
        let outside = elsewhere
            .post_form(
                &reveal_path,
                &[("csrf", &elsewhere_csrf), ("declaration", "1")],
            )
            .await;
        assert_eq!(outside.status, 404);
        assert!(audited(&server, "personal_data.reveal").await.is_empty());

        // Without a purpose: refused, nothing shown, nothing audited.
        let no_purpose = officer
            .post_form(&reveal_path, &[("csrf", &csrf), ("declaration", "1")])
            .await;
        assert_eq!(no_purpose.status, 400, "{}", no_purpose.body);
        assert!(!no_purpose.body.contains(ID_NUMBER) && !no_purpose.body.contains(PHONE));
        assert!(audited(&server, "personal_data.reveal").await.is_empty());

        // The officer reveals, saying why: the full numbers on this answer, and the reveal in
        // the trail with its purpose.
        let shown = officer
            .post_form(
                &reveal_path,
                &[
                    ("csrf", &csrf),
                    ("declaration", "1"),
                    ("purpose", "verification"),
                ],
            )
            .await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        assert!(shown.body.contains(ID_NUMBER) && shown.body.contains(PHONE));
        assert!(!shown.body.contains("id=\"reveal-declaration-1\""));
        assert!(shown.header("cache-control").unwrap().contains("no-store"));
        let reveals = audited(&server, "personal_data.reveal").await;
        assert_eq!(reveals.len(), 1, "{reveals:?}");
        let r = &reveals[0];
        assert_eq!(r.actor, "bashan");
        assert_eq!(r.object_type, "declaration");
        assert_eq!(r.object_id.as_deref(), Some("1"));
        assert_eq!(r.division_code.as_deref(), Some(VILLAGE));
        assert!(
            r.reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("用途：入户核实或数据比对需要核对证件号码"),
            "{:?}",
            r.reason
        );
        let trail = format!(
            "{:?}",
            zhenxing_store::audit::recent(&server.test_db.db, 1000)
                .await
                .unwrap()
        );
        assert!(
            !trail.contains(ID_NUMBER) && !trail.contains(PHONE),
            "{trail}"
        );

        // The township's officer may reveal too; the next ordinary page is masked again.
        let mut township = server.signed_in("bashan").await;
        let township_csrf = township.csrf().await;
        let by_township = township
            .post_form(
                &reveal_path,
                &[
                    ("csrf", &township_csrf),
                    ("declaration", "1"),
                    ("purpose", "contact"),
                ],
            )
            .await;
        assert_eq!(by_township.status, 200, "{}", by_township.body);
        assert!(by_township.body.contains(PHONE));
        assert_eq!(audited(&server, "personal_data.reveal").await.len(), 2);
        let again = officer.get(&page_path).await;
        assert!(!again.body.contains(ID_NUMBER) && !again.body.contains(PHONE));
    }
    let logged = logs.text();
    assert!(
        logged.contains("request"),
        "the server logged its requests: {logged}"
    );
    assert!(
        !logged.contains(ID_NUMBER) && !logged.contains(PHONE) && !logged.contains("139 0000 0001"),
        "no ID or phone number in the logs"
    );
}

/// Registers a household through the registry's write path (as the township does once the
/// applicant is found): `no` in `village`, its one member with `id_number`.
async fn register(server: &Server, no: &str, village: &str, id_number: &str) {
    zhenxing_store::testing::write_test_households(
        &server.test_db.db,
        vec![zhenxing_store::testing::test_household(
            no, village, id_number, 9_000,
        )],
    )
    .await;
}

#[tokio::test]
async fn a_provisional_lead_is_carried_over_to_the_registered_household() {
    // Minsheng village: the lead's township (巴山镇), not its village.
    const MINSHENG: &str = "500229102204";
    let declarant = zhenxing_store::testing::test_id_number(555);
    for server in Server::all().await {
        let id = declare_lead(&server, &declarant).await;
        let page_path = format!("/warnings/{id}");
        let link_path = format!("/warnings/{id}/link");
        let mut officer = server.signed_in("bashan").await;
        let page = officer.get(&page_path).await;
        assert!(page.body.contains("SB-500229-1"), "{}", page.body);
        assert!(page.body.contains("id=\"link-form\""));
        assert!(page.body.contains("关联已登记农户"));
        let csrf = page.hidden("csrf");
        let version = page.hidden("version");

        // The auditor reads the lead but changes nothing.
        let mut auditor = server.signed_in("auditor").await;
        let read = auditor.get(&page_path).await;
        assert!(!read.body.contains("link-form"));
        let auditor_csrf = read.hidden("csrf");
        let refused = auditor
            .post_form(
                &link_path,
                &[
                    ("csrf", &auditor_csrf),
                    ("version", &version),
                    ("household", "CK0001"),
                ],
            )
            .await;
        assert_eq!(refused.status, 403);

        // Each refusal names its reason, in the viewer's language; nothing moves.
        let link = async |c: &mut Client, csrf: &str, version: &str, no: &str| {
            c.post_form(
                &link_path,
                &[("csrf", csrf), ("version", version), ("household", no)],
            )
            .await
        };
        for (no, reason) in [
            ("NOPE0001", "在您的管辖范围内没有这个户编号的已登记农户"),
            ("WX0001", "在您的管辖范围内没有这个户编号的已登记农户"),
            ("", "在您的管辖范围内没有这个户编号的已登记农户"),
            ("CK0001", "申报人的身份证号不在户CK0001的成员中"),
        ] {
            let r = link(&mut officer, &csrf, &version, no).await;
            assert_eq!(r.status, 422, "{no}: {}", r.body);
            assert!(r.body.contains(reason), "{no}: {}", r.body);
            assert!(r.body.contains("id=\"link-form\""));
        }
        let mut county = server.signed_in("chengkou").await;
        let county_csrf = county.csrf().await;
        let r = link(&mut county, &county_csrf, &version, "CK0002").await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("不属同一乡镇"), "{}", r.body);
        // An ID number typed by mistake is not echoed.
        let r = link(&mut officer, &csrf, &version, &declarant).await;
        assert_eq!(r.status, 422);
        assert!(!r.body.contains(&declarant));
        assert!(audited(&server, "warning.link_household").await.is_empty());

        // The township registers the household in another village of the township.
        register(&server, "CK0100", MINSHENG, &declarant).await;
        // A page loaded before someone else acted on the lead: 409, nothing moves.
        let stale_version = (version.parse::<i64>().unwrap() - 1).to_string();
        let stale = link(&mut officer, &csrf, &stale_version, "CK0100").await;
        assert_eq!(stale.status, 409, "{}", stale.body);
        assert!(audited(&server, "warning.link_household").await.is_empty());

        let done = link(&mut officer, &csrf, &version, " CK0100 ").await;
        assert_eq!(done.status, 303, "{}", done.body);
        let back = format!("{page_path}?done=link");
        assert_eq!(done.header("location"), Some(back.as_str()));
        let page = officer.get(&back).await;
        assert!(
            page.text_of("done").contains("已关联到已登记农户CK0100"),
            "the page says what happened: {}",
            page.text_of("done")
        );
        assert!(
            page.body.contains("href=\"/households/CK0100\""),
            "{}",
            page.body
        );
        assert!(!page.body.contains("SB-500229-1"));
        assert!(!page.body.contains("link-form"), "linked once");
        assert!(page.body.contains(MINSHENG));
        let scope = zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse(COUNTY).unwrap());
        let db = &server.test_db.db;
        let w = zhenxing_store::warnings::warning(db, &scope, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (w.household_no.as_str(), w.division_code.as_str()),
            ("CK0100", MINSHENG)
        );
        assert_eq!(w.row_version, version.parse::<i64>().unwrap() + 1);
        let declarations = zhenxing_store::portal::declarations_of_warning(db, &scope, id)
            .await
            .unwrap();
        assert_eq!(declarations.len(), 1);
        assert_eq!(declarations[0].household_no, "CK0100");
        let links = audited(&server, "warning.link_household").await;
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].actor, "bashan");
        assert_eq!(links[0].division_code.as_deref(), Some(MINSHENG));
        assert_eq!(links[0].object_id.as_deref(), Some(id.to_string().as_str()));
        assert!(!format!("{links:?}").contains(&declarant));
        // The household's timeline and the inbox follow; the provisional number is gone.
        let inbox = officer.get("/warnings?source=self_declaration").await;
        assert!(inbox.body.contains("CK0100") && !inbox.body.contains("SB-500229-1"));
        // Linked once: the lead is no longer on a provisional number.
        let again = link(&mut officer, &csrf, &(w.row_version).to_string(), "CK0100").await;
        assert_eq!(again.status, 422);
        assert!(again.body.contains("只有临时申报编号"), "{}", again.body);
    }
}

#[tokio::test]
async fn a_declaration_about_another_countys_household_goes_to_that_county_only() {
    // 周红梅 is the head of WX0001 in 巫溪县 高杨村; anyone may type her ID number on a
    // declaration for 城口县 立新村.
    const WUXI_MEMBER: &str = "50023819861225068X";
    const GAOYANG: &str = "500238101203";
    for server in Server::all().await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, &format!("/portal/declare?{}", place_query())).await;
        let received = c
            .post_form("/portal/declare", &declaration(&csrf, WUXI_MEMBER))
            .await;
        assert_eq!(received.status, 200, "{}", received.body);
        let code = tracking_code(&received);
        // The declarant is not told where the person is registered.
        for registered in ["巫溪", "高杨", "WX0001", GAOYANG] {
            assert!(!received.body.contains(registered), "{registered}");
        }
        let tracked = track(&mut c, &code).await;
        assert_eq!(tracked.status, 200, "{}", tracked.body);
        assert!(tracked.body.contains("立新村"), "{}", tracked.body);
        for registered in ["巫溪", "高杨", "WX0001", GAOYANG] {
            assert!(!tracked.body.contains(registered), "{registered}");
        }

        // The lead is 巫溪's: its county officer sees it and opens it, with the village the
        // declarant chose in its reason.
        let db = &server.test_db.db;
        let everywhere =
            zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse("500000000000").unwrap());
        let query = zhenxing_store::warnings::InboxQuery {
            status: zhenxing_store::warnings::StatusFilter::All,
            limit: 10,
            ..Default::default()
        };
        let today = zhenxing_core::china_time::today_in_china();
        let leads = zhenxing_store::warnings::inbox(db, &everywhere, &query, today)
            .await
            .unwrap();
        assert_eq!(leads.len(), 1, "{leads:?}");
        assert_eq!(
            (
                leads[0].household_no.as_str(),
                leads[0].division_code.as_str()
            ),
            ("WX0001", GAOYANG)
        );
        let page_path = format!("/warnings/{}", leads[0].id);
        let mut wuxi = server.signed_in("wuxi").await;
        let inbox = wuxi.get("/warnings?source=self_declaration").await;
        assert!(inbox.body.contains("WX0001"), "{}", inbox.body);
        let page = wuxi.get(&page_path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("立新村"), "{}", page.body);
        // The chosen village's township officer and cadre neither see nor open it.
        for name in ["bashan", "lixin"] {
            let mut other = server.signed_in(name).await;
            let inbox = other.get("/warnings?source=self_declaration").await;
            assert_eq!(inbox.status, 200);
            assert!(!inbox.body.contains("WX0001"), "{name}: {}", inbox.body);
            assert_eq!(other.get(&page_path).await.status, 404, "{name}");
        }

        // A declaration for the household's own village and a report by 巫溪's officer merge
        // into that lead (both answered 500 before).
        let own =
            format!("/portal/declare?county=500238000000&township=500238101000&village={GAOYANG}");
        let csrf = portal_csrf(&mut c, &own).await;
        let mut form = declaration(&csrf, WUXI_MEMBER);
        for field in form.iter_mut().filter(|(k, _)| *k == "village") {
            field.1 = GAOYANG;
        }
        let again = c.post_form("/portal/declare", &form).await;
        assert_eq!(again.status, 200, "{}", again.body);
        let csrf = wuxi.csrf().await;
        let on = today.to_string();
        let reported = wuxi
            .post_form(
                "/households/WX0001/report",
                &[
                    ("csrf", &csrf),
                    ("channel", "self_declaration"),
                    ("on", &on),
                    ("risk", "illness"),
                    ("category", ""),
                    ("note", "入户核实：户主住院"),
                ],
            )
            .await;
        assert_eq!(reported.status, 303, "{}", reported.body);
        assert_eq!(reported.header("location"), Some(page_path.as_str()));
        let leads = zhenxing_store::warnings::inbox(db, &everywhere, &query, today)
            .await
            .unwrap();
        assert_eq!(leads.len(), 1, "{leads:?}");
        let page = wuxi.get(&page_path).await;
        assert!(page.body.contains("id=\"declaration-2\""), "{}", page.body);
    }
}

/// Asks for a new tracking code with `id_number` and `phone`.
async fn recover(c: &mut Client, id_number: &str, phone: &str) -> Response {
    let csrf = portal_csrf(c, "/portal/recover").await;
    c.post_form(
        "/portal/recover",
        &[
            ("csrf", &csrf),
            ("website", ""),
            ("id_number", id_number),
            ("phone", phone),
        ],
    )
    .await
}

#[tokio::test]
async fn a_lost_declaration_code_is_replaced_for_the_right_numbers_only() {
    let logs = Logs::of_this_process();
    // Numbers of no other test of this file (their logs land in the same place).
    const ID: &str = "500229198001010410";
    const PHONE: &str = "13912345678";
    const WRONG_PHONE: &str = "13987654321";
    let config = WebConfig {
        recoveries_per_window: 4,
        ..WebConfig::default()
    };
    for server in Server::all_with(config, true).await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, &format!("/portal/declare?{}", place_query())).await;
        let mut form = declaration(&csrf, ID);
        for (k, v) in form.iter_mut() {
            if *k == "phone" {
                *v = PHONE;
            }
        }
        let received = c.post_form("/portal/declare", &form).await;
        assert_eq!(received.status, 200, "{}", received.body);
        // "Shown only this once" links to the recovery; so does the tracking page.
        assert!(received.body.contains("只显示这一次"), "{}", received.body);
        assert!(received.body.contains("href=\"/portal/recover\""));
        let old = tracking_code(&received);
        assert!(
            c.get("/portal/track")
                .await
                .body
                .contains("href=\"/portal/recover\"")
        );
        // A ticket's code cannot be recovered: its page says "shown only this once" without
        // the link.
        let ask_csrf = portal_csrf(&mut c, "/portal/ask").await;
        let asked = c
            .post_form("/portal/ask", &ticket(&ask_csrf, "补贴问题"))
            .await;
        assert_eq!(asked.status, 200, "{}", asked.body);
        assert!(asked.body.contains("只显示这一次"));
        assert!(!asked.body.contains("/portal/recover"));
        let form_page = c.get("/portal/recover").await;
        assert_eq!(form_page.status, 200);
        assert!(form_page.body.contains("id=\"recover-form\""));

        // A wrong phone and an ID number that declared nothing answer the same page, status
        // and words, each with a code that opens nothing; the old code still works.
        let wrong = recover(&mut c, ID, WRONG_PHONE).await;
        let unknown = recover(&mut c, ID_NUMBER, PHONE).await;
        let right = recover(&mut c, ID, "139-1234-5678").await;
        for r in [&wrong, &unknown, &right] {
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(r.body.contains("id=\"recovered\""), "{}", r.body);
        }
        let strip = |r: &Response| r.body.replace(&tracking_code(r), "CODE");
        assert_eq!(strip(&wrong), strip(&unknown), "no match answers alike");
        assert_eq!(strip(&wrong), strip(&right), "a match answers alike too");
        for r in [&wrong, &unknown, &right] {
            for number in [ID, PHONE, WRONG_PHONE, ID_NUMBER] {
                assert!(!r.body.contains(number), "{number} on the page");
            }
        }
        for r in [&wrong, &unknown] {
            assert_eq!(track(&mut c, &tracking_code(r)).await.status, 422);
        }
        // The right pair's code tracks the declaration; the old one no longer does.
        let tracked = track(&mut c, &tracking_code(&right)).await;
        assert_eq!(tracked.status, 200, "{}", tracked.body);
        assert!(tracked.body.contains("已收到，等待乡镇受理"));
        assert_eq!(track(&mut c, &old).await.status, 422);

        // Numbers that cannot be: refused with the fields named, the numbers not shown again,
        // and not counted against the limit.
        for (id, phone) in [("500229198001010411", PHONE), (ID, "12345")] {
            let bad = recover(&mut c, id, phone).await;
            assert_eq!(bad.status, 422, "{}", bad.body);
            assert!(bad.body.contains("id=\"retype\""));
            assert!(!bad.body.contains(id) && !bad.body.contains(phone));
        }
        let both = recover(&mut c, "1234", "").await;
        assert!(both.body.contains("data-field=\"id_number\""));
        assert!(both.body.contains("data-field=\"phone\""));
        c.get("/portal/recover?lang=en").await;
        let english = recover(&mut c, "1234", PHONE).await;
        assert_eq!(english.status, 422);
        assert!(english.body.contains("ID number:"), "{}", english.body);
        let english = recover(&mut c, ID, WRONG_PHONE).await;
        assert_eq!(english.status, 200);
        assert!(english.body.contains("Your new tracking code"));

        // Four well-formed attempts from this address so far: the fifth is refused.
        let limited = recover(&mut c, ID, PHONE).await;
        assert_eq!(limited.status, 429, "{}", limited.body);
        assert!(!limited.body.contains("id=\"tracking-code\""));
        // A forged form is refused before anything.
        let forged = c
            .post_form(
                "/portal/recover",
                &[("csrf", "forged"), ("id_number", ID), ("phone", PHONE)],
            )
            .await;
        assert_eq!(forged.status, 403);

        // Every attempt that reached the registry is audited, the match on its declaration,
        // and no number is in the trail.
        let attempts = audited(&server, "portal.code_recovery").await;
        assert_eq!(attempts.len(), 4, "{attempts:?}");
        assert_eq!(attempts.iter().filter(|r| r.object_id.is_some()).count(), 1);
        let trail = format!(
            "{:?}",
            zhenxing_store::audit::recent(&server.test_db.db, 1000)
                .await
                .unwrap()
        );
        for number in [ID, PHONE, WRONG_PHONE] {
            assert!(!trail.contains(number), "{number} in the trail");
        }
    }
    let logged = logs.text();
    assert!(logged.contains("/portal/recover"), "requests were logged");
    for number in [ID, PHONE, WRONG_PHONE, "139-1234-5678"] {
        assert!(!logged.contains(number), "{number} in the logs");
    }
}

/// Guesses at one person's phone number from many addresses stop too: the recoveries of one ID
/// number are counted whatever the address; another ID number is not affected.
#[tokio::test]
async fn recoveries_of_one_id_number_are_limited_whatever_the_address() {
    const ID: &str = "500229198001010410";
    const OTHER_ID: &str = "11010519491231002X";
    let config = WebConfig {
        recoveries_per_window: 2,
        trust_forwarded_for: true,
        trusted_proxies: zhenxing_web::security::parse_ip_ranges("127.0.0.1").unwrap(),
        ..WebConfig::default()
    };
    for server in Server::all_with(config, true).await {
        let mut statuses = Vec::new();
        let mut last = None;
        for i in 0..4 {
            let mut c = server.client();
            c.headers
                .push(("X-Forwarded-For".into(), format!("198.51.100.{i}")));
            let r = recover(&mut c, ID, &format!("1391234567{i}")).await;
            statuses.push(r.status);
            last = Some(r);
        }
        assert_eq!(statuses, [200, 200, 429, 429], "{statuses:?}");
        let refused = last.unwrap();
        assert!(
            refused.body.contains("这个身份证号找回查询码的次数过多"),
            "{}",
            refused.body
        );
        let mut c = server.client();
        c.headers
            .push(("X-Forwarded-For".into(), "198.51.100.9".into()));
        let other = recover(&mut c, OTHER_ID, "13912345670").await;
        assert_eq!(other.status, 200, "{}", other.body);
    }
}

#[tokio::test]
async fn photos_go_with_a_declaration_to_the_staff_of_its_division() {
    let png: &[u8] = b"\x89PNG\r\n\x1a\n a flooded kitchen";
    for server in Server::all().await {
        let mut c = server.client();
        let csrf = portal_csrf(&mut c, &format!("/portal/declare?{}", place_query())).await;
        let form = c.get(&format!("/portal/declare?{}", place_query())).await;
        assert!(form.body.contains("enctype=\"multipart/form-data\""));
        assert!(form.body.contains("type=\"file\" name=\"files\""));
        let fields = declaration(&csrf, ID_NUMBER);

        // A file that is not a photo or a scan: refused with its name, the rest kept, nothing
        // stored.
        let bad = c
            .post_multipart_files(
                "/portal/declare",
                &fields,
                &[("files", "病历.docx", b"PK\x03\x04 not a photo".as_slice())],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.body.contains("data-field=\"files\""));
        assert!(bad.body.contains("病历.docx"), "{}", bad.body);
        assert!(bad.body.contains("王世华") && bad.body.contains("儿子失业，妻子需要手术"));
        assert!(
            bad.body
                .contains("value=\"job_loss\" id=\"event-job_loss\" checked")
        );
        assert_eq!(count(&server, "declarations").await, 0);

        // A photo: stored with the declaration.
        let r = c
            .post_multipart_files("/portal/declare", &fields, &[("files", "厨房.png", png)])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("申报已收到"));
        let code = tracking_code(&r);
        // The tracking page does not show it.
        let tracked = track(&mut c, &code).await;
        assert!(!tracked.body.contains("厨房.png"));

        let lead = {
            let scope = zhenxing_core::Scope::new(
                zhenxing_core::DivisionCode::parse("500000000000").unwrap(),
            );
            zhenxing_store::warnings::household_warnings(&server.test_db.db, &scope, "SB-500229-1")
                .await
                .unwrap()[0]
                .id
        };
        let path = format!("/warnings/{lead}/declarations/1/files/1");
        // The township's officer and the village's cadre see it on the lead and download it.
        for name in ["bashan", "lixin"] {
            let mut staff = server.signed_in(name).await;
            let page = staff.get(&format!("/warnings/{lead}")).await;
            assert!(page.body.contains("id=\"declaration-1-files\""), "{name}");
            assert!(page.body.contains(&format!("href=\"{path}\"")), "{name}");
            let file = staff.get(&path).await;
            assert_eq!(file.status, 200, "{name}");
            assert_eq!(file.header("content-type"), Some("image/png"));
            assert!(
                file.header("content-disposition")
                    .unwrap()
                    .starts_with("attachment;")
            );
            assert_eq!(file.bytes, png);
            let past = format!("/warnings/{lead}/declarations/1/files/2");
            assert_eq!(staff.get(&past).await.status, 404, "{name}");
        }
        // Another county's officer: it does not exist. The public: sign in first.
        let mut other = server.signed_in("wuxi").await;
        assert_eq!(other.get(&path).await.status, 404);
        assert_eq!(c.get(&path).await.status, 303);
    }
}
