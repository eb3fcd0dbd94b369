#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The audit pages: an auditor finds operations by person, record, division, action and date;
//! ID and phone numbers in what the trail recorded are masked; other roles are refused.

mod common;

use common::{Response, Server};
use zhenxing_store::audit::{AuditEntry, append_one};

/// The `data-action` of every row of the operations table, newest first.
fn actions(page: &Response) -> Vec<String> {
    attributes(page, "data-action")
}

fn attributes(page: &Response, name: &str) -> Vec<String> {
    let table = page.element("operations");
    let marker = format!("{name}=\"");
    table
        .match_indices(&marker)
        .map(|(i, _)| {
            let rest = &table[i + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

fn today() -> String {
    zhenxing_core::china_time::today_in_china().to_string()
}

/// chengkou changes CK0001's phone and a member's name, as the web edit does.
async fn edit_ck0001(server: &Server) {
    let db = &server.test_db.db;
    let (mut record, meta) = zhenxing_store::registry::household(db, "CK0001")
        .await
        .unwrap()
        .unwrap();
    record.phone = Some("13900230099".into());
    record.members[0].name = "王建华".into();
    let outcome = db
        .edit_household(&record, meta.version, "chengkou", "web", "电话号码更正")
        .await
        .unwrap();
    assert!(matches!(outcome, zhenxing_store::Outcome::Done(_)));
}

#[tokio::test]
async fn auditor_finds_sign_ins_and_edits_by_person_record_division_and_date() {
    for server in Server::all().await {
        let _officer = server.signed_in("chengkou").await;
        edit_ck0001(&server).await;
        let mut auditor = server.signed_in("auditor").await;

        let page = auditor.get("/audit").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.element("chain-status").contains("审计链完整"),
            "{}",
            page.element("chain")
        );

        // By person: chengkou's sign-in and edit, nobody else's.
        let page = auditor.get("/audit?actor=chengkou").await;
        assert_eq!(page.status, 200);
        assert_eq!(actions(&page), ["registry.write", "auth.sign_in"]);
        assert!(
            attributes(&page, "data-actor")
                .iter()
                .all(|a| a == "chengkou")
        );
        assert!(page.element("operations").contains("电话号码更正"));

        // By record: the edit and the creation of CK0001, no sign-in.
        let page = auditor.get("/audit?record=CK0001").await;
        let found = actions(&page);
        // The fixture brings CK0001 in as monitored before zhenxing: a legacy write.
        assert_eq!(
            found,
            ["registry.write", "registry.legacy_monitoring"],
            "{}",
            page.body
        );
        let actors = attributes(&page, "data-actor");
        assert_eq!(actors, ["chengkou", "test"]);
        // By record, an account: its creation and sign-ins.
        let page = auditor.get("/audit?record=auditor").await;
        assert!(actions(&page).contains(&"auth.sign_in".to_owned()));
        assert!(actions(&page).contains(&"account.create".to_owned()));

        // By date (Beijing days): today finds both, tomorrow nothing.
        let t = today();
        let page = auditor
            .get(&format!("/audit?actor=chengkou&from={t}&to={t}"))
            .await;
        assert_eq!(actions(&page), ["registry.write", "auth.sign_in"]);
        let tomorrow =
            (zhenxing_core::china_time::today_in_china() + time::Duration::DAY).to_string();
        let page = auditor
            .get(&format!("/audit?actor=chengkou&from={tomorrow}"))
            .await;
        assert!(actions(&page).is_empty());
        assert!(!page.element("no-results").is_empty());
        let page = auditor.get("/audit?actor=chengkou&to=2020-01-01").await;
        assert!(actions(&page).is_empty());

        // By action.
        let page = auditor.get("/audit?action=auth.sign_in").await;
        let found = actions(&page);
        assert!(found.len() >= 2 && found.iter().all(|a| a == "auth.sign_in"));

        // By division: the edit lies in Chengkou's village, not in Wuxi; Wuxi still finds the
        // operation that created its households.
        let page = auditor
            .get("/audit?division=500229102202&actor=chengkou")
            .await;
        assert_eq!(actions(&page), ["registry.write"]);
        let page = auditor.get("/audit?division=500238&actor=chengkou").await;
        assert!(actions(&page).is_empty());
        let page = auditor.get("/audit?division=500238000000").await;
        assert!(attributes(&page, "data-actor").iter().all(|a| a == "test"));
        let found = actions(&page);
        // The fixture's households come in as monitored before zhenxing (a legacy write).
        assert!(
            found.contains(&"registry.legacy_monitoring".to_owned()),
            "{found:?}"
        );
        assert!(
            found.contains(&"account.create".to_owned()),
            "wuxi's account"
        );

        // Bad input is a 400 that says what is wrong.
        let page = auditor.get("/audit?from=yesterday").await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("年-月-日"), "{}", page.body);
        let page = auditor.get("/audit?division=abc").await;
        assert_eq!(page.status, 400);
        let page = auditor.get("/audit?who=x").await;
        assert_eq!(page.status, 400);
    }
}

#[tokio::test]
async fn an_operation_shows_its_items_with_numbers_masked() {
    for server in Server::all().await {
        edit_ck0001(&server).await;
        let mut auditor = server.signed_in("auditor").await;
        let page = auditor
            .get("/audit?actor=chengkou&action=registry.write")
            .await;
        let seq = attributes(&page, "data-seq").pop().unwrap();
        let detail = auditor.get(&format!("/audit/{seq}")).await;
        assert_eq!(detail.status, 200, "{}", detail.body);
        let items = detail.element("items");
        assert!(items.contains("CK0001"), "{items}");
        assert!(items.contains("王建华") && items.contains("王建国"));
        assert!(items.contains("139****0099"), "{items}");
        assert!(items.contains("139****0001"), "{items}");
        assert!(items.contains("500229********0139"), "{items}");
        for full in ["13900230099", "13900230001", "500229198203150139"] {
            assert!(!detail.body.contains(full), "{full} shown in full");
        }
        assert!(detail.body.contains("电话号码更正"));

        let missing = auditor.get("/audit/999999").await;
        assert_eq!(missing.status, 404);
        let missing = auditor.get("/audit/x").await;
        assert_eq!(missing.status, 404);
    }
}

#[tokio::test]
async fn pages_of_fifty_newest_first() {
    for server in Server::all().await {
        for i in 0..60 {
            append_one(
                &server.test_db.db,
                AuditEntry {
                    actor: "bulk".into(),
                    action: "test.bulk".into(),
                    object_type: "test".into(),
                    object_id: Some(format!("n{i}")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        let mut auditor = server.signed_in("auditor").await;
        let first = auditor.get("/audit?actor=bulk").await;
        let seqs: Vec<i64> = attributes(&first, "data-seq")
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(seqs.len(), 50);
        assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
        let next = first.element("next-page");
        let href = next.split("href=\"").nth(1).unwrap();
        // Askama escapes `&` in attributes.
        let href = href[..href.find('"').unwrap()]
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        let second = auditor.get(&href).await;
        let more: Vec<i64> = attributes(&second, "data-seq")
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(more.len(), 10);
        assert!(more[0] < seqs[49]);
        assert!(second.element("next-page").is_empty());
        assert!(!second.element("first-page").is_empty());
    }
}

#[tokio::test]
async fn only_auditors_read_the_trail() {
    for server in Server::all().await {
        // Since issue 15 neither the system nor the security administrator reads it.
        for name in [
            "admin",
            "security",
            "chengkou",
            "bashan",
            "lixin",
            "department",
        ] {
            let mut client = server.signed_in(name).await;
            for path in ["/audit", "/audit/1", "/audit?actor=admin"] {
                let page = client.get(path).await;
                assert_eq!(page.status, 403, "{name} {path}");
            }
            let page = client.get("/account/password").await;
            assert!(
                !page.body.contains("href=\"/audit\""),
                "{name} sees no audit link"
            );
        }
        let mut auditor = server.signed_in("auditor").await;
        assert_eq!(auditor.get("/audit").await.status, 200);
        let anonymous = server.get("/audit").await;
        assert_ne!(anonymous.status, 200);
    }
}

/// A department upload that opened warnings in two counties is one operation; an auditor of
/// one county sees that county's items of it and only a count of the others, and finds it
/// neither by the other county's record nor by the other county's division.
#[tokio::test]
async fn a_county_auditor_sees_only_the_items_inside_the_county() {
    use zhenxing_core::{DivisionCode, Role};
    use zhenxing_store::audit::{AuditItem, Operation};
    for server in Server::all().await {
        let db = &server.test_db.db;
        db.create_account(
            "chengkou_auditor",
            Role::Auditor,
            &DivisionCode::parse("500229000000").unwrap(),
            common::PASSWORD,
            "test",
        )
        .await
        .unwrap();
        db.waive_password_change("chengkou_auditor", "test")
            .await
            .unwrap();
        // An auditor signs in with a second factor.
        let (secret, step) = common::enrol(db, "chengkou_auditor").await;
        let mut tx = db.begin_write().await.unwrap();
        let mut op = Operation::begin(
            &mut tx,
            AuditEntry {
                actor: "department".into(),
                action: "department.import".into(),
                object_type: "department_upload".into(),
                object_id: Some("1".into()),
                division_code: Some("500000000000".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        for (id, county, village, household) in [
            ("9101", "500229000000", "500229102202", "CKHOUSEHOLD1"),
            ("9102", "500238000000", "500238100201", "WXHOUSEHOLD2"),
        ] {
            op.item(
                &mut tx,
                AuditItem {
                    action: "warning.open",
                    object_type: "warning",
                    object_id: id.into(),
                    county_code: Some(county.into()),
                    division_code: Some(village.into()),
                    before: None,
                    after: Some(format!(r#"{{"household_no":"{household}"}}"#)),
                },
            )
            .await
            .unwrap();
        }
        let seq = op.seq();
        op.finish(&mut tx, None).await.unwrap();
        tx.commit().await.unwrap();

        let mut county = server.client();
        county.sign_in("chengkou_auditor", common::PASSWORD).await;
        let code = zhenxing_store::factor::totp_code(&secret, step + 1);
        assert_eq!(county.submit_code(&code).await.status, 303);
        let detail = county.get(&format!("/audit/{seq}")).await;
        assert_eq!(detail.status, 200, "{}", detail.body);
        assert!(detail.element("items").contains("CKHOUSEHOLD1"));
        for other in ["WXHOUSEHOLD2", "500238100201"] {
            assert!(
                !detail.body.contains(other),
                "{other} shown: {}",
                detail.body
            );
        }
        let items = detail.element("items");
        assert!(!items.contains("warning 9102"), "{items}");
        let hidden = detail.element("items-hidden");
        assert!(
            hidden.contains('1') && hidden.contains("未显示"),
            "{hidden}"
        );

        // The other county's record or division does not lead to the operation.
        let page = county.get("/audit?record=9102").await;
        assert!(attributes(&page, "data-seq").is_empty(), "{}", page.body);
        let page = county.get("/audit?division=500238").await;
        assert!(attributes(&page, "data-seq").is_empty(), "{}", page.body);
        let page = county.get("/audit?record=9101").await;
        assert_eq!(attributes(&page, "data-seq"), [seq.to_string()]);

        // The municipal auditor sees both items and no note.
        let mut auditor = server.signed_in("auditor").await;
        let detail = auditor.get(&format!("/audit/{seq}")).await;
        let items = detail.element("items");
        assert!(items.contains("CKHOUSEHOLD1") && items.contains("WXHOUSEHOLD2"));
        assert!(detail.element("items-hidden").is_empty());
    }
}

#[tokio::test]
async fn the_auditor_exports_what_the_filters_select_masked_and_the_export_is_audited() {
    for server in Server::all().await {
        let _officer = server.signed_in("chengkou").await;
        edit_ck0001(&server).await;
        // A reason with a full ID number: the export masks it as the page does.
        append_one(
            &server.test_db.db,
            AuditEntry {
                actor: "chengkou".into(),
                action: "personal_data.reveal".into(),
                object_type: "member".into(),
                object_id: Some("500229199001010012".into()),
                reason: Some("核对 500229199001010012".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut auditor = server.signed_in("auditor").await;

        let page = auditor.get("/audit?actor=chengkou").await;
        let shown = attributes(&page, "data-seq");
        assert!(
            page.element("export-xlsx")
                .contains("/audit.xlsx?actor=chengkou"),
            "{}",
            page.body
        );

        let file = auditor.get("/audit.xlsx?actor=chengkou").await;
        assert_eq!(file.status, 200, "{}", file.body);
        assert!(
            file.header("content-disposition")
                .unwrap_or_default()
                .contains("audit-"),
            "{:?}",
            file.headers
        );
        let rows = file.xlsx_rows();
        assert_eq!(
            rows[0],
            [
                "序号",
                "时间（北京时间）",
                "操作人",
                "操作",
                "对象",
                "区划",
                "原因",
                "明细数"
            ]
            .map(String::from),
            "the page's columns, in the reader's language"
        );
        let seqs: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(seqs, shown, "exactly the operations the filters select");
        assert!(rows[1..].iter().all(|r| r[2] == "chengkou"));
        let all_cells = rows.concat().join("|");
        assert!(!all_cells.contains("500229199001010012"), "{all_cells}");
        assert!(all_cells.contains("500229********0012"), "{all_cells}");

        // CSV: the same rows, UTF-8 with a byte-order mark.
        let csv = auditor.get("/audit.csv?actor=chengkou").await;
        assert_eq!(csv.status, 200);
        assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"));
        let lines = csv.body.trim_start_matches('\u{feff}').lines().count();
        assert_eq!(lines, rows.len());

        // Both exports are in the trail, as the auditor's own operations, with their filters.
        let page = auditor.get("/audit?action=audit.export").await;
        assert_eq!(actions(&page), ["audit.export", "audit.export"]);
        assert!(
            attributes(&page, "data-actor")
                .iter()
                .all(|a| a == "auditor")
        );
        let recent = zhenxing_store::audit::recent(&server.test_db.db, 1)
            .await
            .unwrap();
        let after = recent[0].after_data.clone().unwrap_or_default();
        assert!(after.contains("\"actor\":\"chengkou\""), "{after}");
        assert!(after.contains("\"format\":\"csv\""), "{after}");

        // Bad filters are refused as on the page; other roles may not export.
        let bad = auditor.get("/audit.xlsx?from=yesterday").await;
        assert_eq!(bad.status, 400);
        let mut officer = server.signed_in("chengkou").await;
        assert_eq!(officer.get("/audit.xlsx").await.status, 403);
        assert_eq!(officer.get("/audit.csv").await.status, 403);
    }
}
