#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Working lists leave the screen (issue 18 item 3): every list says how many rows its filters
//! select over all its pages, and its XLSX and CSV exports hold exactly those rows, in the
//! page's order, with the village in words; every export is audited with its filters, a
//! searched ID number masked.

mod common;

use common::{Client, Response, Server};
use time::Duration;
use zhenxing_core::china_time::today_in_china;

/// The first cell of every data row of a CSV export (after the byte-order mark and header).
fn csv_rows(file: &Response) -> Vec<Vec<String>> {
    let text = file.body.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn audited(server: &Server, action: &str) -> Vec<zhenxing_store::audit::AuditRecord> {
    zhenxing_store::audit::recent(&server.test_db.db, 200)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .collect()
}

/// The values of the `data-id` attributes of a table's rows, in order.
fn row_ids(page: &Response, table: &str) -> Vec<String> {
    page.element(table)
        .split("<tr data-id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_household_list_counts_and_exports_what_its_filters_select() {
    for server in Server::all().await {
        let mut county = server.signed_in("chengkou").await;
        let page = county.get("/households").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.text_of("list-total"), "共 2 户");
        assert!(
            page.element("households").contains("巴山镇 立新村"),
            "the village in words: {}",
            page.element("households")
        );
        let link = page.element("export-xlsx");
        assert!(link.contains("href=\"/households.xlsx\""), "{link}");

        let file = county.get("/households.xlsx").await;
        assert_eq!(file.status, 200, "{}", file.body);
        let rows = file.xlsx_rows();
        assert_eq!(rows[0][0], "户编号", "{:?}", rows[0]);
        let numbers: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            numbers,
            ["CK0001", "CK0002"],
            "the county's households, in order"
        );
        assert_eq!(rows[1][2], "巴山镇 立新村");
        assert_eq!(rows[1][6], "5102.63", "an amount a spreadsheet sums");

        // A filter narrows the total, the page and the file alike.
        let filtered = county.get("/households?category=unstable_lifted_out").await;
        assert_eq!(filtered.text_of("list-total"), "共 1 户");
        assert!(
            filtered
                .element("export-csv")
                .contains("/households.csv?category=unstable_lifted_out")
        );
        let csv = county
            .get("/households.csv?category=unstable_lifted_out")
            .await;
        assert_eq!(csv.status, 200);
        let rows = csv_rows(&csv);
        assert_eq!(rows.len(), 2, "the header and CK0001: {rows:?}");
        assert_eq!(rows[1][0], "CK0001");

        // A search by ID number exports the household; the audit record masks the number.
        let id = "500229198203150139";
        let found = county.get(&format!("/households.xlsx?q={id}")).await;
        assert_eq!(found.xlsx_rows().len(), 2);
        let records = audited(&server, "households.export").await;
        assert_eq!(records.len(), 3, "every export audited");
        for r in &records {
            let after = r.after_data.as_deref().unwrap();
            assert!(
                !after.contains(id),
                "no full ID number in the audit: {after}"
            );
        }
        assert!(records.iter().any(|r| {
            let after: serde_json::Value =
                serde_json::from_str(r.after_data.as_deref().unwrap()).unwrap();
            after["filters"]["category"] == "unstable_lifted_out"
        }));

        // In English, the headers and the village are English.
        let mut english = server.signed_in("bashan").await;
        let csrf = english.csrf().await;
        english
            .post_form("/lang", &[("csrf", &csrf), ("lang", "en")])
            .await;
        let page = english.get("/households").await;
        assert_eq!(page.text_of("list-total"), "1 households in all");
        let rows = english.get("/households.xlsx").await.xlsx_rows();
        assert_eq!(rows[0][0], "Household no.", "{:?}", rows[0]);
        assert!(rows[1][2].contains("Bashan"), "{:?}", rows[1]);
    }
}

/// Opens an identification case for a new household of the cadre's village, found `days` ago.
async fn open_case(server: &Server, cadre: &mut Client, no: &str, n: u32, days: i64) {
    let household = zhenxing_store::testing::test_household(
        no,
        "500229102202",
        &zhenxing_store::testing::test_id_number(40 + n),
        5_000,
    );
    zhenxing_store::testing::write_test_households(&server.test_db.db, vec![household]).await;
    let form = cadre.get(&format!("/households/{no}/cases/new")).await;
    let found_on = (today_in_china() - Duration::days(days)).to_string();
    let sent = cadre
        .post_form(
            &format!("/households/{no}/cases/new"),
            &[
                ("csrf", &form.hidden("csrf")),
                ("kind", "identification"),
                ("channel", "visit"),
                ("warning", ""),
                ("found_on", &found_on),
                ("emergency", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
}

#[tokio::test]
async fn the_case_inbox_pages_counts_and_exports_every_case() {
    for server in Server::all().await {
        let mut cadre = server.signed_in("lixin").await;
        for (i, days) in [20, 13, 2].into_iter().enumerate() {
            open_case(&server, &mut cadre, &format!("CK-X{i}"), i as u32, days).await;
        }
        let page = cadre.get("/cases").await;
        assert!(
            page.element("list-export").is_empty(),
            "a cadre does not export names in bulk"
        );
        assert_eq!(cadre.get("/cases.xlsx").await.status, 403);

        let mut township = server.signed_in("bashan").await;
        let page = township.get("/cases").await;
        assert_eq!(page.text_of("list-total"), "共 3 件");
        assert!(page.element("cases").contains("巴山镇 立新村"));
        let shown = row_ids(&page, "cases");
        assert_eq!(shown.len(), 3);
        let rows = township.get("/cases.xlsx").await.xlsx_rows();
        assert_eq!(rows[0][0], "编号");
        let ids: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(ids, shown, "the page's cases in the page's order");
        let urgency = rows[0].iter().position(|h| h == "时限状态").unwrap();
        assert_eq!(rows[1][urgency], "已逾期", "{:?}", rows[1]);
        assert_eq!(rows[2][urgency], "临期", "{:?}", rows[2]);
        assert_eq!(rows[3][urgency], "", "{:?}", rows[3]);

        // The overdue tab: the one case past its limit, counted and exported alike.
        let overdue = township.get("/cases?filter=overdue").await;
        assert_eq!(overdue.text_of("list-total"), "共 1 件");
        let csv = township.get("/cases.csv?filter=overdue").await;
        assert_eq!(csv_rows(&csv).len(), 2);
        // Another procedure selects none.
        let none = township.get("/cases?kind=elimination").await;
        assert_eq!(none.text_of("list-total"), "共 0 件");
        assert_eq!(
            township
                .get("/cases.xlsx?kind=elimination")
                .await
                .xlsx_rows()
                .len(),
            1
        );
        // A page past the end is empty, not an error; a bad page number is refused.
        let past = township.get("/cases?page=3").await;
        assert_eq!(past.status, 200);
        assert!(past.body.contains("id=\"no-cases\""));
        assert!(past.body.contains("id=\"previous-page\""));
        assert_eq!(township.get("/cases?page=-1").await.status, 400);
        assert_eq!(audited(&server, "cases.export").await.len(), 3);
    }
}

#[tokio::test]
async fn coverage_findings_tickets_and_accounts_export() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        // CK0001 identified 40 days ago, with no cadre and no measure: two findings.
        let on = today_in_china() - Duration::days(40);
        zhenxing_store::testing::set_monitoring_dates(db, "CK0001", Some(on), "illness", None)
            .await;
        let mut county = server.signed_in("chengkou").await;
        let page = county.get("/coverage").await;
        assert_eq!(page.text_of("list-total"), "共 1 户");
        let findings = page.element("findings").matches("data-rule=").count();
        assert_eq!(findings, 2, "{}", page.element("findings"));
        let rows = county.get("/coverage.xlsx").await.xlsx_rows();
        assert_eq!(rows.len(), 1 + findings, "one row per finding: {rows:?}");
        assert_eq!(rows[1][0], "CK0001");
        assert_eq!(rows[1][2], "巴山镇 立新村");
        assert!(rows.iter().any(|r| r[3] == "无帮扶责任人"), "{rows:?}");
        assert!(!rows[1][5].is_empty(), "what to do");
        let record = audited(&server, "coverage.export").await;
        assert_eq!(record.len(), 1);
        assert_eq!(record[0].division_code.as_deref(), Some("500229000000"));

        // Tickets: the tab's count and every ticket of it.
        let policy = zhenxing_core::portal::PortalPolicy::default();
        let ticket = zhenxing_core::portal::TicketForm {
            kind: "consultation".into(),
            category: "policy_execution".into(),
            division: "500229102202".into(),
            subject: "补贴问题".into(),
            body: "公益性岗位补贴如何申请？".into(),
            privacy: Some("yes".into()),
            ..Default::default()
        }
        .check()
        .unwrap();
        for _ in 0..3 {
            zhenxing_store::portal::submit_ticket(db, &ticket, &[], &policy, today_in_china())
                .await
                .unwrap()
                .unwrap();
        }
        let page = county.get("/tickets?status=all").await;
        assert_eq!(page.text_of("list-total"), "共 3 件");
        assert!(page.element("ticket-list").contains("巴山镇 立新村"));
        let rows = county.get("/tickets.xlsx?status=all").await.xlsx_rows();
        let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(ids, ["3", "2", "1"], "newest first, as the page");
        assert_eq!(rows[1][1], "补贴问题");
        assert!(
            !rows
                .iter()
                .flatten()
                .any(|c| c.contains("公益性岗位补贴如何申请")),
            "never the ticket's text"
        );
        assert_eq!(
            county
                .get("/tickets.xlsx?status=overdue")
                .await
                .xlsx_rows()
                .len(),
            1
        );

        // Accounts: every account of the security administrator's division.
        let mut security = server.signed_in("security").await;
        let page = security.get("/accounts").await;
        assert_eq!(page.text_of("list-total"), "共 9 个账号");
        let rows = security.get("/accounts.csv").await;
        let rows = csv_rows(&rows);
        assert_eq!(rows.len(), 10, "{rows:?}");
        let lixin = rows.iter().find(|r| r[0] == "lixin").unwrap();
        // Account, real name, unit, phone (masked; none recorded here), role, place, code.
        assert_eq!(lixin[5], "巴山镇 立新村");
        assert_eq!(lixin[6], "500229102202");
        assert_eq!(audited(&server, "accounts.export").await.len(), 1);
    }
}

/// The rows of an XLSX file as openpyxl (a reader written by others, in Python) reads them;
/// none when Python or openpyxl is missing outside CI (in CI that fails: `.ci/run` installs
/// openpyxl).
fn openpyxl_rows(bytes: &[u8]) -> Option<Vec<Vec<String>>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xlsx");
    std::fs::write(&path, bytes).unwrap();
    let script = "import json, sys, openpyxl\n\
                  wb = openpyxl.load_workbook(sys.argv[1], read_only=True)\n\
                  ws = wb.worksheets[0]\n\
                  print(json.dumps([['' if c is None else str(c) for c in r] for r in ws.iter_rows(values_only=True)]))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output();
    match out {
        Ok(out) if out.status.success() => Some(serde_json::from_slice(&out.stdout).unwrap()),
        other => {
            let why = format!("python3 with openpyxl could not read the export: {other:?}");
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("{why}; skipped");
            None
        }
    }
}

/// An export opens in a reader written by others with the same cells as the page shows:
/// the household numbers, the village in words and the head's name.
#[tokio::test]
async fn an_export_opens_in_openpyxl() {
    for server in Server::all().await {
        let mut county = server.signed_in("chengkou").await;
        let file = county.get("/households.xlsx").await;
        assert_eq!(file.status, 200);
        let Some(rows) = openpyxl_rows(&file.bytes) else {
            return;
        };
        assert_eq!(
            rows,
            file.xlsx_rows(),
            "openpyxl and calamine read the same cells"
        );
        assert_eq!(rows[1][..3], ["CK0001", "王建国", "巴山镇 立新村"]);
    }
}
