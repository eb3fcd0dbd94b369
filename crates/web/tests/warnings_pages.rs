#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The warnings inbox over HTTP: a village cadre records a visit on her phone; the township
//! officer sees it in the inbox, assigns it back to her with a deadline; she verifies it; a
//! stale form is refused; other villages, counties and roles see or do nothing they should not.

mod common;

use common::{Client, Response, Server};

/// The warning id a report or step redirected to.
fn redirected_id(page: &Response) -> i64 {
    let location = page.header("location").unwrap_or_default();
    location
        .strip_prefix("/warnings/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no warning redirect: {} {}", page.status, page.body))
}

async fn report_visit(client: &mut Client, household: &str, note: &str) -> Response {
    client
        .report_visit(household, &["illness", "lack_of_labor"], note)
        .await
}

#[tokio::test]
async fn a_visit_goes_through_the_inbox_to_a_verified_lead() {
    for server in Server::all().await {
        let mut cadre = server.signed_in("lixin").await;
        let form = cadre.get("/households/CK0001/report").await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.element("report-form").contains("risk-illness"));
        let sent = report_visit(&mut cadre, "CK0001", "户主住院两周，家中无人务工").await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let id = redirected_id(&sent);

        // The township officer finds it in the inbox, new, and assigns it.
        let mut officer = server.signed_in("bashan").await;
        let inbox = officer.get("/warnings").await;
        assert_eq!(inbox.status, 200, "{}", inbox.body);
        let table = inbox.element("warnings");
        assert!(table.contains(&format!("data-id=\"{id}\"")), "{table}");
        assert!(table.contains("干部走访排查"), "{table}");
        let page = officer.get(&format!("/warnings/{id}")).await;
        assert!(page.element("reasons").contains("户主住院两周"));
        assert!(page.element("assignee-select").contains("lixin"));
        assert!(!page.element("assignee-select").contains("other_village"));
        let version = page.hidden("version");
        let csrf = page.hidden("csrf");
        let deadline =
            (zhenxing_core::china_time::today_in_china() + time::Duration::days(5)).to_string();
        let assigned = officer
            .post_form(
                &format!("/warnings/{id}/assign"),
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("assignee", "lixin"),
                    ("deadline", &deadline),
                ],
            )
            .await;
        assert_eq!(assigned.status, 303, "{}", assigned.body);
        // The same form again is stale: refused, nothing changes.
        let again = officer
            .post_form(
                &format!("/warnings/{id}/assign"),
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("assignee", "lixin"),
                    ("deadline", &deadline),
                ],
            )
            .await;
        assert_eq!(again.status, 409, "{}", again.body);

        // The cadre sees it assigned to her, and verifies it.
        let mine = cadre.get("/warnings?mine=1").await;
        assert!(
            mine.element("warnings")
                .contains(&format!("data-id=\"{id}\""))
        );
        let page = cadre.get(&format!("/warnings/{id}")).await;
        assert!(
            page.element("step-assign").is_empty(),
            "cadres do not assign"
        );
        let version = page.hidden("version");
        let csrf = page.hidden("csrf");
        let short = cadre
            .post_form(
                &format!("/warnings/{id}/verify"),
                &[("csrf", &csrf), ("version", &version), ("note", "是")],
            )
            .await;
        assert_eq!(short.status, 422, "{}", short.body);
        assert!(short.element("errors").contains("核实情况"));
        let verified = cadre
            .post_form(
                &format!("/warnings/{id}/verify"),
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("note", "入户核实属实：住院自付约两万元"),
                ],
            )
            .await;
        assert_eq!(verified.status, 303, "{}", verified.body);
        let page = officer.get(&format!("/warnings/{id}")).await;
        assert!(page.body.contains("data-status=\"verified\""));
        assert!(page.element("resolution").contains("住院自付约两万元"));
        let done = officer.get("/warnings?status=verified").await;
        assert!(
            done.element("warnings")
                .contains(&format!("data-id=\"{id}\""))
        );

        // Elsewhere it does not exist; the auditor and the security administrator read no
        // registry data (issue 15).
        let mut other = server.signed_in("other_village").await;
        assert_eq!(other.get(&format!("/warnings/{id}")).await.status, 404);
        let mut wuxi = server.signed_in("wuxi").await;
        assert_eq!(wuxi.get(&format!("/warnings/{id}")).await.status, 404);
        assert!(wuxi.get("/warnings").await.element("warnings").is_empty());
        for name in ["auditor", "security"] {
            let mut c = server.signed_in(name).await;
            assert_eq!(c.get(&format!("/warnings/{id}")).await.status, 403);
            assert_eq!(c.get("/warnings").await.status, 403);
        }
        let mut department = server.signed_in("department").await;
        assert_eq!(department.get("/warnings").await.status, 403);
    }
}

#[tokio::test]
async fn bad_reports_and_steps_are_refused_with_the_reason() {
    for server in Server::all().await {
        let mut cadre = server.signed_in("lixin").await;
        let csrf = cadre.csrf().await;
        let bad = cadre
            .post_form(
                "/households/CK0001/report",
                &[
                    ("csrf", &csrf),
                    ("channel", "rumour"),
                    ("on", "2999-01-01"),
                    ("risk", "bad_luck"),
                    ("note", "<script>alert(1)</script>"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        let errors = bad.element("errors");
        assert!(errors.contains("未知的来源"), "{errors}");
        assert!(errors.contains("晚于今天"), "{errors}");
        assert!(errors.contains("未知的风险类型"), "{errors}");
        assert!(!bad.body.contains("<script>alert"), "shown as text");
        // Another village's household is not found; a missing CSRF token is refused.
        assert_eq!(
            report_visit(&mut cadre, "CK0002", "情况说明文字")
                .await
                .status,
            404
        );
        let no_csrf = cadre
            .post_form("/households/CK0001/report", &[("channel", "visit")])
            .await;
        assert_eq!(no_csrf.status, 403);
        // Steps with a bad deadline or an unknown status filter answer 4xx with the reason.
        let id = redirected_id(&report_visit(&mut cadre, "CK0001", "家中房屋漏雨").await);
        let mut officer = server.signed_in("bashan").await;
        let page = officer.get(&format!("/warnings/{id}")).await;
        let (csrf, version) = (page.hidden("csrf"), page.hidden("version"));
        let past = officer
            .post_form(
                &format!("/warnings/{id}/assign"),
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("assignee", "lixin"),
                    ("deadline", "2020-01-01"),
                ],
            )
            .await;
        assert_eq!(past.status, 422, "{}", past.body);
        assert!(past.element("errors").contains("早于今天"));
        let dismissed = officer
            .post_form(
                &format!("/warnings/{id}/dismiss"),
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("note", "已修缮，经核实住房安全"),
                ],
            )
            .await;
        assert_eq!(dismissed.status, 303, "{}", dismissed.body);
        assert_eq!(officer.get("/warnings?status=nonsense").await.status, 400);
        assert_eq!(officer.get("/warnings/abc").await.status, 404);
    }
}

/// The stored UTC instants (`2026-12-06T19:38:54.482Z`) in a page.
fn raw_instants(body: &str) -> Vec<&str> {
    let bytes = body.as_bytes();
    let digits = |r: std::ops::Range<usize>| bytes[r].iter().all(u8::is_ascii_digit);
    (10..bytes.len().saturating_sub(9))
        .filter(|&i| {
            bytes[i] == b'T'
                && digits(i - 10..i - 6)
                && bytes[i - 6] == b'-'
                && digits(i + 1..i + 3)
                && bytes[i + 3] == b':'
                && body[i..].chars().take(14).any(|c| c == 'Z')
        })
        .map(|i| &body[i - 10..(i + 14).min(body.len())])
        .collect()
}

/// Every time a person reads on the warning, case and change-log pages is Beijing time in one
/// format: a fixed stored instant shows as its +8 hours value, and no page prints a stored
/// UTC instant.
#[tokio::test]
async fn times_are_beijing_time_on_warnings_cases_and_the_change_log() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let mut cadre = server.signed_in("lixin").await;
        let id = redirected_id(&report_visit(&mut cadre, "CK0001", "户主住院").await);
        let stored = "2026-12-06T19:38:54.482Z";
        match db {
            zhenxing_store::Db::Sqlite(p) => {
                sqlx::query("UPDATE warnings SET opened_at = ? WHERE id = ?")
                    .bind(stored)
                    .bind(id)
                    .execute(p)
                    .await
                    .unwrap();
            }
            zhenxing_store::Db::Postgres(p) => {
                sqlx::query("UPDATE warnings SET opened_at = $1 WHERE id = $2")
                    .bind(stored)
                    .bind(id)
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
        let beijing = "2026-12-07 03:38:54";
        let warning = cadre.get(&format!("/warnings/{id}")).await;
        assert_eq!(warning.status, 200, "{}", warning.body);
        assert!(warning.body.contains(beijing), "{}", warning.body);
        let timeline = cadre.get("/households/CK0001/timeline").await;
        assert_eq!(timeline.status, 200, "{}", timeline.body);
        assert!(
            timeline.element("timeline").contains(beijing),
            "{}",
            timeline.body
        );
        // A case opened on another household of the village: its steps' recorded times.
        zhenxing_store::testing::write_test_households(
            db,
            vec![zhenxing_store::testing::test_household(
                "CK-T1",
                "500229102202",
                &zhenxing_store::testing::test_id_number(41),
                5_200,
            )],
        )
        .await;
        let form = cadre
            .get("/households/CK-T1/cases/new?kind=identification")
            .await;
        assert_eq!(form.status, 200, "{}", form.body);
        let opened = cadre
            .post_form(
                "/households/CK-T1/cases/new",
                &[
                    ("csrf", &form.hidden("csrf")),
                    ("kind", "identification"),
                    ("channel", "visit"),
                    ("warning", ""),
                    (
                        "found_on",
                        &zhenxing_core::china_time::today_in_china().to_string(),
                    ),
                    ("emergency", ""),
                    ("note", "走访发现"),
                ],
            )
            .await;
        let case = opened.header("location").unwrap_or_default().to_owned();
        assert!(case.starts_with("/cases/"), "{}", opened.body);
        for path in [
            format!("/warnings/{id}"),
            "/warnings".to_owned(),
            case,
            "/cases".to_owned(),
            "/households/CK0001".to_owned(),
            "/households/CK0001/timeline".to_owned(),
        ] {
            let page = cadre.get(&path).await;
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(raw_instants(&page.body), Vec::<&str>::new(), "{path}");
        }
    }
}

/// The text of the statistics cell with `key` (its `data-key`).
fn figure_cell(page: &Response, key: &str) -> String {
    let marker = format!("data-key=\"{key}\"");
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {key} on the page"));
    let rest = &page.body[at..];
    let cell = rest.split_once('>').map_or("", |(_, r)| r);
    cell.split('<').next().unwrap_or("").trim().to_owned()
}

/// Issue 17 item 2: a visit on a household already monitored (the fixture's CK0001) is a new
/// risk of a monitored household, not a lead: the inbox shows its kind in a column, filters
/// and counts the kinds apart; its page names the responsible cadre and offers the assistance
/// page instead of an identification; verifying adds its risk types to the household's; the
/// statistics count it apart. A visit on a household not monitored stays a lead.
#[tokio::test]
async fn a_new_risk_of_a_monitored_household_goes_to_its_responsible_cadre() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let mut draft = zhenxing_store::testing::test_household(
            "CK-L1",
            "500229102202",
            &zhenxing_store::testing::test_id_number(7),
            5_200,
        );
        draft.address = Some("城口县巴山镇立新村5组".into());
        zhenxing_store::testing::write_test_households(db, vec![draft]).await;
        let mut cadre = server.signed_in("lixin").await;
        let today = zhenxing_core::china_time::today_in_china().to_string();
        // The household's responsible cadre, paired on the assistance page.
        let csrf = cadre.csrf().await;
        let paired = cadre
            .post_form(
                "/households/CK0001/assistance/pairings",
                &[
                    ("csrf", &csrf),
                    ("name", "王国华"),
                    ("unit", "城口县农业农村委"),
                    ("phone", "13912345678"),
                    ("starts_on", &today),
                    ("political_status", ""),
                ],
            )
            .await;
        assert_eq!(paired.status, 303, "{}", paired.body);

        let note = "户主务工时摔伤骨折";
        let risk = redirected_id(&cadre.report_visit("CK0001", &["accident"], note).await);
        let lead = redirected_id(&cadre.report_visit("CK-L1", &["accident"], note).await);

        let mut officer = server.signed_in("bashan").await;
        let inbox = officer.get("/warnings").await;
        let table = inbox.element("warnings");
        assert!(table.contains("监测户新风险"), "{table}");
        assert!(table.contains("识别线索"), "{table}");
        assert!(inbox.element("count-monitored-risks").contains(">1<"));
        assert!(inbox.element("count-leads").contains(">1<"));
        let risks = officer.get("/warnings?kind=monitored_risk").await;
        let table = risks.element("warnings");
        assert!(table.contains(&format!("data-id=\"{risk}\"")), "{table}");
        assert!(!table.contains(&format!("data-id=\"{lead}\"")), "{table}");
        assert!(table.contains("data-kind=\"monitored_risk\""));
        let leads = officer.get("/warnings?kind=lead").await;
        assert!(
            !leads
                .element("warnings")
                .contains(&format!("data-id=\"{risk}\""))
        );
        assert_eq!(officer.get("/warnings?kind=rumour").await.status, 400);

        // Its page: the responsible cadre and the assistance page, no identification.
        let page = officer.get(&format!("/warnings/{risk}")).await;
        assert!(page.element("kind").contains("监测户新风险"));
        assert!(
            page.element("responsible").contains("王国华"),
            "{}",
            page.body
        );
        assert!(
            page.element("monitored-risk")
                .contains("href=\"/households/CK0001/assistance\" id=\"update-assistance\"")
        );
        assert!(page.element("step-verify").contains("风险类型并入该户"));
        let verified = officer
            .warning_step(risk, "verify", "入户核实：户主摔伤，需康复期帮扶")
            .await;
        assert_eq!(verified.status, 303, "{}", verified.body);
        let page = officer.get(&format!("/warnings/{risk}")).await;
        assert!(!page.body.contains("id=\"open-identification\""));
        assert!(page.element("status").contains("风险类型已并入该户"));
        let household = officer.get("/households/CK0001").await;
        assert!(
            household.element("monitoring").contains("因意外事故"),
            "{}",
            household.element("monitoring")
        );

        // The lead, verified, leads to an identification.
        let page = officer.get(&format!("/warnings/{lead}")).await;
        assert!(page.element("kind").contains("识别线索"));
        assert!(!page.body.contains("id=\"monitored-risk\""));

        // The statistics count the kinds apart.
        let stats = officer.get("/statistics/500229102000").await;
        assert_eq!(stats.status, 200, "{}", stats.body);
        assert_eq!(figure_cell(&stats, "warnings.kind.monitored_risk"), "1");
        assert_eq!(
            figure_cell(&stats, "warnings.kind.monitored_risk.active"),
            "0"
        );
        assert_eq!(figure_cell(&stats, "warnings.kind.lead.active"), "1");
    }
}

/// The inbox leaves the screen: the export holds exactly the warnings its filters select, with
/// the page's columns in the reader's language and the village's name, audited; a village
/// cadre (who may not export names in bulk) gets no link and no file.
#[tokio::test]
async fn the_inbox_exports_what_its_filters_select() {
    for server in Server::all().await {
        let mut cadre = server.signed_in("lixin").await;
        let sent = report_visit(&mut cadre, "CK0001", "走访发现家庭收入明显下降").await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let page = cadre.get("/warnings").await;
        assert!(
            !page.body.contains("id=\"export-xlsx\""),
            "no export for a cadre"
        );
        assert_eq!(cadre.get("/warnings.xlsx").await.status, 403);

        let mut officer = server.signed_in("bashan").await;
        let inbox = officer.get("/warnings?source=visit").await;
        assert!(
            inbox
                .element("export-xlsx")
                .contains("/warnings.xlsx?status=active&#38;source=visit"),
            "{}",
            inbox.element("export-xlsx")
        );
        let shown: Vec<String> = inbox
            .body
            .split("<tr data-id=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next().map(str::to_owned))
            .collect();
        assert!(!shown.is_empty(), "{}", inbox.body);
        let file = officer
            .get("/warnings.xlsx?status=active&source=visit")
            .await;
        assert_eq!(file.status, 200, "{}", file.body);
        assert!(
            file.header("content-disposition")
                .unwrap_or_default()
                .contains("warnings-"),
            "{:?}",
            file.headers
        );
        let rows = file.xlsx_rows();
        assert_eq!(rows[0][0], "编号", "the page's columns: {:?}", rows[0]);
        assert!(rows[0].contains(&"户主".to_owned()) && rows[0].contains(&"是否逾期".to_owned()));
        let ids: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            ids, shown,
            "exactly the warnings the filters select, in the page's order"
        );
        let village = rows[0].iter().position(|h| h == "村（社区）").unwrap();
        assert_eq!(rows[1][village], "巴山镇 立新村", "the village in words");
        // Another source selects none of them.
        let none = officer
            .get("/warnings.xlsx?status=active&source=department")
            .await;
        assert_eq!(none.xlsx_rows().len(), 1, "the header only");
        let audit = zhenxing_store::audit_query::search(
            &server.test_db.db,
            &zhenxing_store::audit_query::AuditFilter::default(),
            None,
            100,
        )
        .await
        .unwrap();
        assert!(
            audit
                .records
                .iter()
                .filter(|r| r.action == "warnings.export" && r.actor == "bashan")
                .count()
                >= 2,
            "every export audited"
        );
    }
}

/// Batch assignment (issue 18 item 2): the township officer ticks warnings, or takes every new
/// warning shown, and assigns them with one deadline to one cadre or to each village's cadre.
/// All or nothing: a batch with one warning that cannot go to the chosen cadre assigns none,
/// shows every problem and keeps what was chosen; the inbox filters by village, by name.
#[tokio::test]
async fn many_warnings_are_assigned_at_once_or_not_at_all() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        // A second village of the township (民生村) with its household and its cadre.
        let minsheng = zhenxing_core::DivisionCode::parse("500229102204").unwrap();
        let households = vec![
            zhenxing_store::testing::test_household(
                "CK-M1",
                "500229102204",
                &zhenxing_store::testing::test_id_number(61),
                5_000,
            ),
            zhenxing_store::testing::test_household(
                "CK-L9",
                "500229102202",
                &zhenxing_store::testing::test_id_number(62),
                5_000,
            ),
        ];
        zhenxing_store::testing::write_test_households(db, households).await;
        db.create_account(
            "minsheng",
            zhenxing_core::Role::VillageCadre,
            &minsheng,
            common::PASSWORD,
            "test",
        )
        .await
        .unwrap();
        db.waive_password_change("minsheng", "test").await.unwrap();
        let mut lixin = server.signed_in("lixin").await;
        let mut ids = Vec::new();
        for no in ["CK0001", "CK-L9"] {
            ids.push(redirected_id(
                &report_visit(&mut lixin, no, "走访发现收入下降").await,
            ));
        }
        let mut minsheng_cadre = server.signed_in("minsheng").await;
        ids.push(redirected_id(
            &report_visit(&mut minsheng_cadre, "CK-M1", "走访发现家中有重病人").await,
        ));
        assert!(
            lixin
                .get("/warnings")
                .await
                .element("batch-assign")
                .is_empty(),
            "a cadre assigns nothing"
        );

        let mut officer = server.signed_in("bashan").await;
        let inbox = officer.get("/warnings?status=new").await;
        let form = inbox.element("batch-assign");
        for id in &ids {
            assert!(form.contains(&format!("id=\"pick-{id}\"")), "{form}");
        }
        assert!(
            inbox
                .element("batch-assignee")
                .contains("minsheng（巴山镇 民生村）")
        );
        // The village filter offers the township's villages by name.
        assert!(
            inbox.element("village").contains(">民生村</option>"),
            "{}",
            inbox.element("village")
        );
        let only = officer
            .get("/warnings?status=new&village=500229102204")
            .await;
        assert_eq!(only.text_of("list-total"), "共 1 条");
        assert!(only.element("warnings").contains("CK-M1"));
        assert_eq!(
            officer.get("/warnings?village=500238000000").await.status,
            404,
            "another county is no village of this list"
        );

        // Every new warning shown, all to lixin: the one of 民生村 cannot go to her, so none
        // is assigned, and the page keeps the choice and the deadline typed.
        let csrf = inbox.hidden("csrf");
        let deadline =
            (zhenxing_core::china_time::today_in_china() + time::Duration::days(9)).to_string();
        let shown: Vec<String> = inbox
            .body
            .split("name=\"shown\" value=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next().map(str::to_owned))
            .collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        let mut pairs = vec![
            ("csrf", csrf.as_str()),
            ("status", "new"),
            ("which", "shown"),
            ("assignee", "lixin"),
            ("deadline", deadline.as_str()),
        ];
        pairs.extend(shown.iter().map(|v| ("shown", v.as_str())));
        let refused = officer.post_form("/warnings/assign", &pairs).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let errors = refused.element("batch-errors");
        assert!(errors.contains("没有分派任何预警"), "{errors}");
        assert!(errors.contains(&format!("预警{}", ids[2])), "{errors}");
        assert!(
            refused
                .element("batch-deadline")
                .contains(&format!("value=\"{deadline}\"")),
            "the deadline typed is kept"
        );
        assert!(
            refused
                .element("batch-assignee")
                .contains("<option value=\"lixin\" selected>"),
            "the cadre chosen is kept"
        );
        let still = officer.get("/warnings?status=new").await;
        assert_eq!(
            still.text_of("list-total"),
            "共 3 条",
            "nothing was assigned"
        );

        // Each village's cadre: all three, one message saying so.
        pairs[3] = ("assignee", "");
        let done = officer.post_form("/warnings/assign", &pairs).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let location = done.header("location").unwrap().to_owned();
        let page = officer.get(&location).await;
        assert_eq!(
            page.text_of("done"),
            format!("已将3条预警分派给各村村干部，核实期限{deadline}")
        );
        let mine = lixin.get("/warnings?status=assigned&mine=1").await;
        assert_eq!(mine.text_of("list-total"), "共 2 条");
        let theirs = minsheng_cadre.get("/warnings?status=assigned&mine=1").await;
        assert_eq!(theirs.text_of("list-total"), "共 1 条");
        // The same form again is stale: the warnings changed since the page was shown.
        let again = officer.post_form("/warnings/assign", &pairs).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let audit = zhenxing_store::audit::recent(db, 50).await.unwrap();
        let batch = audit
            .iter()
            .find(|r| r.action == "warning.assign_batch")
            .expect("the batch is audited");
        assert_eq!(batch.item_count, 3);
        assert_eq!(batch.actor, "bashan");
    }
}
