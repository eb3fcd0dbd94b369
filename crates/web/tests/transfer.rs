#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Import and export from the browser: uploads run as background jobs with a status page, all
//! or nothing, within the account's division; exports are CSV with a BOM, full numbers, for
//! exporting roles only, and audited.

mod common;

use common::{Client, Response, Server, fixture};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// Uploads `content` as `file_name`; returns the final status page of the job.
async fn import(
    client: &mut Client,
    file_name: &str,
    content: &[u8],
    reason: &str,
    dry_run: bool,
) -> Response {
    let csrf = client.csrf().await;
    let mut fields = vec![("csrf", csrf.as_str()), ("reason", reason)];
    if dry_run {
        fields.push(("dry_run", "yes"));
    }
    let started = client
        .post_multipart("/import", &fields, Some(("file", file_name, content)))
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.header("location").unwrap().to_owned();
    assert!(location.starts_with("/import/"), "{location}");
    let page = client.until_settled(&location).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// Row numbers of the problems table.
fn problem_rows(page: &Response) -> Vec<u64> {
    let table = page.element("problems");
    table
        .split("<tr><td class=\"n\">")
        .skip(1)
        .filter_map(|r| r[..r.find('<').unwrap()].parse().ok())
        .collect()
}

async fn household_count(server: &Server) -> i64 {
    server.test_db.db.stats(None).await.unwrap().households
}

#[tokio::test]
async fn a_good_file_is_imported_and_its_households_appear() {
    for server in Server::all_with(zhenxing_web::WebConfig::default(), false).await {
        let mut admin = server.signed_in("admin").await;
        let form = admin.get("/import").await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("enctype=\"multipart/form-data\""));
        assert_eq!(admin.get("/households/CK0001").await.status, 404);

        // CK0001 is monitored: creating it so would set its category outside the procedures,
        // which nothing on the web does (the CLI's legacy import brings such households in).
        let page = import(
            &mut admin,
            "good-utf8.csv",
            &read("good-utf8.csv"),
            "2026年度动态调整",
            false,
        )
        .await;
        assert!(
            page.element("verdict").contains("导入被拒绝"),
            "{}",
            page.body
        );
        assert_eq!(problem_rows(&page), [2]);
        let table = page.element("problems");
        assert!(
            table.contains("监测对象类别") && table.contains("--legacy-monitoring"),
            "{table}"
        );
        assert_eq!(household_count(&server).await, 0);

        // The same households, none monitored.
        let unmonitored = String::from_utf8(read("good-utf8.csv"))
            .unwrap()
            .replace(",脱贫不稳定户,", ",,");
        let unmonitored = unmonitored.as_bytes();

        // Check only: everything passes, nothing is written.
        let page = import(&mut admin, "good-utf8.csv", unmonitored, "试运行", true).await;
        let verdict = page.element("verdict");
        assert!(
            verdict.contains("试运行") && verdict.contains("新建4户"),
            "{verdict}"
        );
        assert_eq!(household_count(&server).await, 0);

        let page = import(
            &mut admin,
            "good-utf8.csv",
            unmonitored,
            "2026年度动态调整",
            false,
        )
        .await;
        let verdict = page.element("verdict");
        assert!(verdict.contains("导入完成"), "{}", page.body);
        assert!(
            verdict.contains("新建4户") && verdict.contains("写入成员12人"),
            "{verdict}"
        );
        assert!(page.element("problems").is_empty());
        assert_eq!(household_count(&server).await, 4);
        let household = admin.get("/households/CK0001").await;
        assert_eq!(household.status, 200);
        assert!(household.body.contains("王建国"));

        // The trail names the person and the reason.
        let trail = zhenxing_store::audit::recent(&server.test_db.db, 10)
            .await
            .unwrap();
        assert!(trail.iter().any(|r| r.action == "registry.write"
            && r.actor == "admin"
            && r.reason.as_deref() == Some("2026年度动态调整 (web import good-utf8.csv)")));

        // The same file again changes nothing.
        let page = import(&mut admin, "again.csv", unmonitored, "复核", false).await;
        assert!(page.element("verdict").contains("4户不变"), "{}", page.body);
        // The import page lists the account's recent imports.
        let form = admin.get("/import").await;
        assert!(form.element("recent-imports").contains("again.csv"));
    }
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_every_problem_listed() {
    for server in Server::all().await {
        let before = zhenxing_store::audit::recent(&server.test_db.db, 1)
            .await
            .unwrap()[0]
            .seq;
        let mut admin = server.signed_in("admin").await;
        let page = import(
            &mut admin,
            "bad-many.csv",
            &read("bad-many.csv"),
            "测试",
            false,
        )
        .await;
        let verdict = page.element("verdict");
        assert!(verdict.contains("导入被拒绝"), "{}", page.body);
        assert!(verdict.contains("未写入任何数据"));
        let expected = std::fs::read_to_string(fixture("bad-many.expected.txt")).unwrap();
        let rows = problem_rows(&page);
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            let row: u64 = line.split('\t').next().unwrap().parse().unwrap();
            assert!(rows.contains(&row), "row {row} missing from {rows:?}");
        }
        // The problems table names the column as the file wrote it, masks ID numbers.
        let table = page.element("problems");
        assert!(table.contains("证件号码"));
        assert!(table.contains("********"), "ID numbers masked: {table}");
        let bad = String::from_utf8(read("bad-many.csv")).unwrap();
        for id in bad
            .split([',', '\n', '\r'])
            .filter(|v| v.len() == 18 && v.bytes().take(17).all(|b| b.is_ascii_digit()))
        {
            assert!(!table.contains(id), "{id} shown in full");
        }
        // Nothing was written, not even an audit record.
        assert_eq!(household_count(&server).await, 4);
        let after = zhenxing_store::audit::recent(&server.test_db.db, 5)
            .await
            .unwrap();
        assert!(
            after
                .iter()
                .filter(|r| r.seq > before)
                .all(|r| r.action != "registry.write"),
            "{after:?}"
        );

        // In English, the reasons are English.
        let csrf = admin.csrf().await;
        admin
            .post_form("/lang", &[("csrf", &csrf), ("lang", "en")])
            .await;
        let page = import(
            &mut admin,
            "bad-many.csv",
            &read("bad-many.csv"),
            "test",
            false,
        )
        .await;
        assert!(page.element("verdict").contains("Import refused"));
        assert!(page.element("problems").contains("wrong check character"));

        // A file that is not a table at all.
        let page = import(&mut admin, "x.csv", &read("bad-binary.csv"), "test", false).await;
        assert!(page.element("verdict").contains("Import refused"));
        assert_eq!(problem_rows(&page).len(), 0);
        assert!(!page.element("problems").is_empty());
    }
}

#[tokio::test]
async fn xls_and_ods_workbooks_import_like_xlsx_and_a_damaged_one_is_refused() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        // The server holds the fixture's four households; LibreOffice's .xls and .ods of the
        // same sheet hold the same registry, so every household is read and found unchanged.
        for name in ["good-libreoffice.xls", "good-libreoffice.ods"] {
            let page = import(&mut admin, name, &read(name), "复核", false).await;
            let verdict = page.element("verdict");
            assert!(verdict.contains("导入完成"), "{name}: {}", page.body);
            assert!(verdict.contains("4户不变"), "{name}: {verdict}");
        }
        let page = import(
            &mut admin,
            "bad-truncated.xls",
            &read("bad-truncated.xls"),
            "测试",
            false,
        )
        .await;
        assert!(
            page.element("verdict").contains("导入被拒绝"),
            "{}",
            page.body
        );
        assert!(
            page.element("problems").contains("已损坏或不完整"),
            "{}",
            page.body
        );
        assert_eq!(household_count(&server).await, 4);
    }
}

#[tokio::test]
async fn a_village_cadre_imports_only_households_of_the_village() {
    for server in Server::all().await {
        let mut lixin = server.signed_in("lixin").await;
        // The fixture holds households of three other villages as well.
        let page = import(
            &mut lixin,
            "good-utf8.csv",
            &read("good-utf8.csv"),
            "更新",
            false,
        )
        .await;
        assert!(
            page.element("verdict").contains("导入被拒绝"),
            "{}",
            page.body
        );
        let table = page.element("problems");
        for outside in ["500229104201", "500238101203", "500238103202"] {
            assert!(table.contains(outside), "{outside}: {table}");
        }
        assert!(!table.contains(">500229102202<"), "own village is fine");
        assert_eq!(problem_rows(&page), [6, 9, 12]);

        // Only CK0001 (the village's own household), with a new address: accepted.
        let good = String::from_utf8(read("good-utf8.csv")).unwrap();
        let own: Vec<&str> = good
            .lines()
            .enumerate()
            .filter(|(i, l)| *i == 0 || l.contains(",CK0001,"))
            .map(|(_, l)| l)
            .collect();
        let own = own.join("\r\n").replace("立新村3组", "立新村4组");
        let page = import(&mut lixin, "ck0001.csv", own.as_bytes(), "搬迁", false).await;
        assert!(page.element("verdict").contains("更新1户"), "{}", page.body);
        let household = lixin.get("/households/CK0001").await;
        assert!(household.body.contains("立新村4组"));

        // Its category was written as stored (no change); another one is refused at its first
        // row: only the procedures change it.
        let changed = own.replace(",脱贫不稳定户,", ",突发严重困难户,");
        let page = import(
            &mut lixin,
            "category.csv",
            changed.as_bytes(),
            "调整",
            false,
        )
        .await;
        assert!(
            page.element("verdict").contains("导入被拒绝"),
            "{}",
            page.body
        );
        assert_eq!(problem_rows(&page), [2]);
        assert!(page.element("problems").contains("监测对象类别"));
        let (stored, _) = zhenxing_store::registry::household(&server.test_db.db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.monitoring_category.as_deref(),
            Some("unstable_lifted_out")
        );

        // Moving another village's household in by its number is refused too.
        let moved = String::from_utf8(read("good-utf8.csv"))
            .unwrap()
            .lines()
            .enumerate()
            .filter(|(i, l)| *i == 0 || l.contains(",CK0002,"))
            .map(|(_, l)| l.replace("500229104201,", "500229102202,"))
            .collect::<Vec<_>>()
            .join("\r\n");
        let page = import(&mut lixin, "move.csv", moved.as_bytes(), "迁入", false).await;
        assert!(
            page.element("verdict").contains("导入被拒绝"),
            "{}",
            page.body
        );
        assert!(page.element("problems").contains("CK0002"));
        let (stored, _) = zhenxing_store::registry::household(&server.test_db.db, "CK0002")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.division_code, "500229104201");
    }
}

#[tokio::test]
async fn uploads_need_the_role_the_token_a_reason_and_a_size_within_the_limit() {
    for server in Server::all().await {
        for name in ["auditor", "department"] {
            let mut client = server.signed_in(name).await;
            assert_eq!(client.get("/import").await.status, 403, "{name}");
            let refused = client
                .post_multipart(
                    "/import",
                    &[("reason", "x")],
                    Some(("file", "a.csv", &read("good-utf8.csv"))),
                )
                .await;
            assert_eq!(refused.status, 403, "{name}");
        }
        let mut admin = server.signed_in("admin").await;
        // No CSRF token.
        let refused = admin
            .post_multipart(
                "/import",
                &[("reason", "x")],
                Some(("file", "a.csv", &read("good-utf8.csv"))),
            )
            .await;
        assert_eq!(refused.status, 403);
        // No reason, no file.
        let csrf = admin.csrf().await;
        let refused = admin
            .post_multipart(
                "/import",
                &[("csrf", &csrf), ("reason", " ")],
                Some(("file", "a.csv", &read("good-utf8.csv"))),
            )
            .await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("导入原因"));
        let refused = admin
            .post_multipart("/import", &[("csrf", &csrf), ("reason", "x")], None)
            .await;
        assert_eq!(refused.status, 422);
        assert!(refused.element("errors").contains("请选择"));
        // Someone else's job is not found.
        let page = import(&mut admin, "a.csv", &read("good-utf8.csv"), "x", true).await;
        assert!(page.element("verdict").contains("试运行"));
        let job = admin.get("/import").await;
        let recent = job.element("recent-imports");
        let href = recent.split("href=\"").nth(1).unwrap();
        let href = &href[..href.find('"').unwrap()];
        let mut other = server.signed_in("chengkou").await;
        assert_eq!(other.get(href).await.status, 404);
        assert_eq!(admin.get(href).await.status, 200);
        assert_eq!(admin.get("/import/nothing").await.status, 404);
    }

    let config = zhenxing_web::WebConfig {
        max_upload_bytes: 1024,
        ..zhenxing_web::WebConfig::default()
    };
    for server in Server::all_with(config, true).await {
        let mut admin = server.signed_in("admin").await;
        let csrf = admin.csrf().await;
        let refused = admin
            .post_multipart(
                "/import",
                &[("csrf", &csrf), ("reason", "x")],
                Some(("file", "a.csv", &read("good-utf8.csv"))),
            )
            .await;
        assert_eq!(refused.status, 413);
        assert!(
            refused
                .element("errors")
                .contains("文件超过上传上限（1 MiB）")
        );
    }
}

#[tokio::test]
async fn exports_are_csv_with_full_numbers_for_exporting_roles_and_audited() {
    for server in Server::all().await {
        let mut chengkou = server.signed_in("chengkou").await;
        let export = chengkou.get("/export").await;
        assert_eq!(export.status, 200, "{}", export.body);
        assert_eq!(
            export.header("content-type"),
            Some("text/csv; charset=utf-8")
        );
        let disposition = export.header("content-disposition").unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\"registry-500229000000-"),
            "{disposition}"
        );
        assert!(export.body.starts_with('\u{feff}'), "UTF-8 with a BOM");
        assert!(export.body.contains("\r\n"));
        // Full numbers (an export must import back), only the county's households.
        assert!(export.body.contains("500229198203150139"));
        assert!(export.body.contains("13900230001"));
        assert!(!export.body.contains("****"));
        assert!(export.body.contains("CK0001") && export.body.contains("CK0002"));
        assert!(!export.body.contains("WX0001"));
        assert_eq!(export.body.lines().count(), 1 + 7);

        // One village; a division outside the scope is not found.
        let village = chengkou.get("/export?division=500229104201").await;
        assert_eq!(village.status, 200);
        assert!(!village.body.contains("CK0001") && village.body.contains("CK0002"));
        assert_eq!(
            chengkou.get("/export?division=500238000000").await.status,
            404
        );
        assert_eq!(chengkou.get("/export?division=junk").await.status, 404);

        // Audited, with the person and the division.
        let trail = zhenxing_store::audit::recent(&server.test_db.db, 10)
            .await
            .unwrap();
        let exports: Vec<_> = trail
            .iter()
            .filter(|r| r.action == "registry.export")
            .collect();
        assert_eq!(exports.len(), 2);
        assert!(exports.iter().all(|r| r.actor == "chengkou"));
        assert_eq!(exports[1].division_code.as_deref(), Some("500229000000"));

        // The export imports back unchanged.
        let page = import(
            &mut chengkou,
            "export.csv",
            export.body.as_bytes(),
            "回导",
            false,
        )
        .await;
        assert!(page.element("verdict").contains("2户不变"), "{}", page.body);

        // Not for village cadres, auditors, departments.
        for name in ["lixin", "auditor", "department"] {
            let mut client = server.signed_in(name).await;
            assert_eq!(client.get("/export").await.status, 403, "{name}");
        }
    }
}
