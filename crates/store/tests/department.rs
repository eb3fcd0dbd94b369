#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Department data in the store, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: records
//! matched by ID number raise warnings with reasons that name the amount, the threshold, the
//! rule, the rule set and the source; the same file imported twice raises nothing twice; a later
//! file repeating a record does not raise it again; unmatched rows are reported back; an
//! uploader of a county matches its county only; every upload is one audited operation.

use std::path::{Path, PathBuf};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::department::DepartmentKind;
use zhenxing_core::{DivisionCode, Scope};
use zhenxing_store::department::{self, NewUpload, UnmatchedReason, UploadReport};
use zhenxing_store::registry::WriteRequest;
use zhenxing_store::warnings::{InboxQuery, StatusFilter, WarningDetail, inbox, warning};
use zhenxing_store::{Db, testing};

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(dir)
        .join(name)
}

/// A database holding the four households of the registry fixtures.
async fn registries() -> Vec<testing::TestDb> {
    let mut out = Vec::new();
    for t in testing::all().await.unwrap() {
        let parsed = zhenxing_io::registry::parse_registry(
            &fixture("registry", "good-utf8.csv"),
            today_in_china(),
            &|_| {},
        );
        assert!(parsed.report.problems.is_empty());
        let request = WriteRequest {
            actor: "test".into(),
            source: "fixture".into(),
            reason: None,
            dry_run: false,
            known_new: false,
            defer_counts: false,
            // The fixture's monitored household, registered before zhenxing.
            monitoring: zhenxing_store::registry::MonitoringPermission::LegacyMonitoring,
        };
        t.db.write_households(&parsed.households, &request, &|_| {})
            .await
            .unwrap();
        out.push(t);
    }
    out
}

async fn import_file(db: &Db, kind: DepartmentKind, path: &Path, division: &str) -> UploadReport {
    let today = today_in_china();
    let parsed = zhenxing_io::department::parse_department(path, kind, today);
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let sha = zhenxing_io::department::file_sha256(path).unwrap();
    department::import(
        db,
        &NewUpload {
            kind,
            file_name: &parsed.file,
            sha256: &sha,
            actor: "yb_officer",
            account_id: None,
            division: DivisionCode::parse(division).unwrap(),
        },
        &parsed.records,
        parsed.rows,
        today,
    )
    .await
    .unwrap()
}

async fn import(db: &Db, kind: DepartmentKind, name: &str) -> UploadReport {
    import_file(db, kind, &fixture("department", name), "500000000000").await
}

/// Every warning of a source, with its reasons.
async fn warnings_of(db: &Db, source: &str) -> Vec<WarningDetail> {
    let scope = Scope::new(DivisionCode::parse("500000000000").unwrap());
    let rows = inbox(
        db,
        &scope,
        &InboxQuery {
            status: StatusFilter::All,
            limit: 500,
            ..Default::default()
        },
        today_in_china(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    for r in rows.into_iter().filter(|r| r.source == source) {
        out.push(warning(db, &scope, r.id).await.unwrap().unwrap());
    }
    out.sort_by(|a, b| a.household_no.cmp(&b.household_no));
    out
}

fn reasons_zh(w: &WarningDetail) -> String {
    w.reason_texts()
        .into_iter()
        .map(|(_, t)| t.zh)
        .collect::<Vec<_>>()
        .join("\n")
}

fn rules(w: &WarningDetail) -> Vec<String> {
    w.reason_texts().into_iter().map(|(r, _)| r).collect()
}

async fn audit_actions(db: &Db) -> Vec<String> {
    zhenxing_store::audit::recent(db, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

#[tokio::test]
async fn medical_claims_raise_warnings_once() {
    for t in registries().await {
        let db = &t.db;
        let first = import(db, DepartmentKind::Medical, "medical.csv").await;
        let s = &first.summary;
        assert_eq!(
            (s.rows, s.matched, s.unmatched, s.repeated),
            (5, 4, 1, 0),
            "{}",
            db.backend_name()
        );
        assert_eq!((s.warnings_opened, s.warnings_merged), (2, 0));
        assert_eq!(first.same_file_as, None);
        assert_eq!(
            first.unmatched_rows,
            vec![department::UnmatchedRow {
                row: 6,
                id_number: "500229********5558".into(),
                reason: UnmatchedReason::NotRegistered,
            }]
        );
        // CK0001 (lifted out): 3,200 + 2,000.50 reaches 5,000; WX0001 (lifted out): 23,400;
        // CK0002 (ordinary): 19,999.99 stays under 20,000.
        let w = warnings_of(db, "department:medical").await;
        assert_eq!(
            w.iter()
                .map(|w| w.household_no.as_str())
                .collect::<Vec<_>>(),
            ["CK0001", "WX0001"]
        );
        let ck = reasons_zh(&w[0]);
        for needle in [
            "医保结算2笔，合规自付支出合计5200.50元，达到脱贫户医疗自付筛查线5000.00元",
            "规则medical_out_of_pocket",
            "年度规则集第1版",
            "来源：医疗保障部门数据，上传编号1“medical.csv”第2、3行",
        ] {
            assert!(ck.contains(needle), "{needle} not in {ck}");
        }
        assert!(reasons_zh(&w[1]).contains("合规自付支出合计23400.00元"));
        assert!(rules(&w[0]).contains(&"medical_out_of_pocket".to_owned()));
        assert_eq!(w[0].status, "new");
        assert_eq!(w[0].risk_types, "illness");
        let origin: serde_json::Value =
            serde_json::from_str(w[0].origin.as_deref().unwrap()).unwrap();
        assert_eq!(origin[0]["upload_id"], 1);
        assert_eq!(origin[0]["rows"], serde_json::json!([2, 3]));
        assert_eq!(origin[0]["department"], "medical");
        assert_eq!(department::record_count(db).await.unwrap(), 4);

        // The same file again: recognised, nothing raised, nothing stored twice.
        let again = import(db, DepartmentKind::Medical, "medical.csv").await;
        let s = &again.summary;
        assert_eq!((s.id, s.matched, s.repeated, s.unmatched), (2, 4, 4, 1));
        assert_eq!((s.warnings_opened, s.warnings_merged), (0, 0));
        assert_eq!(again.same_file_as, Some(1));
        assert!(again.raised.is_empty());
        assert_eq!(department::record_count(db).await.unwrap(), 4);
        assert_eq!(warnings_of(db, "department:medical").await.len(), 2);

        // A later file repeating a record with new ones: the repeated one is not counted
        // again (CK0001's new 900 alone is below 5,000); CK0002 reaches 20,000 now.
        let dir = tempfile::tempdir().unwrap();
        let later = dir.path().join("claims-later.csv");
        std::fs::write(
            &later,
            "证件号码,结算单号,结算日期,医疗机构,合规自付金额（元）\n\
             500229198203150139,YB2025030001,2025-03-02,城口县人民医院,3200.00\n\
             500229198203150139,YB2025090009,2025-09-09,城口县人民医院,900\n\
             500229199006300841,YB2025090010,2025-09-10,城口县人民医院,20000\n",
        )
        .unwrap();
        let third = import_file(db, DepartmentKind::Medical, &later, "500000000000").await;
        let s = &third.summary;
        assert_eq!((s.matched, s.repeated, s.warnings_opened), (3, 1, 1));
        assert_eq!(third.raised.len(), 1);
        assert_eq!(third.raised[0].rows, vec![4]);
        assert_eq!(third.raised[0].category.as_deref(), Some("sudden_hardship"));
        let w = warnings_of(db, "department:medical").await;
        assert_eq!(w.len(), 3);
        assert!(reasons_zh(&w[1]).contains("达到其他农户医疗自付筛查线20000.00元"));

        // One audited operation per upload, and the chain is whole.
        let actions = audit_actions(db).await;
        assert_eq!(
            actions.iter().filter(|a| *a == "department.import").count(),
            3
        );
        testing::assert_chain_intact(db).await;
        // The uploads, newest first, and one upload's report read back.
        let list = department::uploads(db, Some("yb_officer"), 10)
            .await
            .unwrap();
        assert_eq!(list.iter().map(|u| u.id).collect::<Vec<_>>(), [3, 2, 1]);
        assert!(
            department::uploads(db, Some("someone_else"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        let back = department::upload(db, 1, Some("yb_officer")).await.unwrap();
        assert_eq!(back.as_ref(), Some(&first));
        assert_eq!(
            department::upload(db, 1, Some("someone_else"))
                .await
                .unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn outpatient_months_and_school_costs_raise_their_rules() {
    for t in registries().await {
        let db = &t.db;
        let name = db.backend_name();
        // Outpatient claims per calendar month: CK0002 580 in March, WX0002 exactly 500 in
        // June; WX0001's 499.99 and 300 are in two months.
        let report = import(db, DepartmentKind::Medical, "medical-outpatient.csv").await;
        let s = &report.summary;
        assert_eq!((s.rows, s.matched, s.warnings_opened), (7, 7, 2), "{name}");
        let w = warnings_of(db, "department:medical").await;
        assert_eq!(
            w.iter()
                .map(|w| (w.household_no.clone(), rules(w)[0].clone()))
                .collect::<Vec<_>>(),
            [
                ("CK0002".to_owned(), "outpatient_out_of_pocket".to_owned()),
                ("WX0002".to_owned(), "outpatient_out_of_pocket".to_owned())
            ],
            "{name}"
        );
        let ck = reasons_zh(&w[0]);
        for needle in [
            "2025年3月门诊结算2笔，合规自付支出合计580.00元，达到门诊每月筛查线500.00元（规则outpatient_out_of_pocket，",
            "年度规则集第1版；来源：医疗保障部门数据，上传编号1“medical-outpatient.csv”第2、3行",
        ] {
            assert!(ck.contains(needle), "{needle} not in {ck}");
        }
        assert_eq!(w[0].category.as_deref(), Some("sudden_hardship"));
        assert!(
            w[0].risk_types.starts_with("illness"),
            "{}",
            w[0].risk_types
        );
        let wx = w[1]
            .reason_texts()
            .into_iter()
            .find(|(rule, _)| rule == "outpatient_out_of_pocket")
            .unwrap()
            .1
            .en;
        assert!(
            wx.contains(
                "1 outpatient claim in June 2025 with out-of-pocket spending of 500.00 yuan in all, reaching the monthly outpatient screening threshold of 500.00 yuan"
            ),
            "{wx}"
        );
        assert!(wx.contains("rows 6, 7"), "{wx}");

        // A school year's costs: 刘小梅's 12,800 is above 10,000, 向丽's 10,000 is not.
        let report = import(db, DepartmentKind::Education, "education-costs.csv").await;
        let s = &report.summary;
        assert_eq!((s.rows, s.matched, s.warnings_opened), (3, 3, 1), "{name}");
        let w = warnings_of(db, "department:education").await;
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].household_no, "CK0002");
        assert_eq!(rules(&w[0])[0], "schooling_costs");
        assert!(
            w[0].risk_types.starts_with("schooling"),
            "{}",
            w[0].risk_types
        );
        assert_eq!(w[0].category.as_deref(), Some("sudden_hardship"));
        let zh = reasons_zh(&w[0]);
        assert!(
            zh.contains("2025—2026学年非义务教育阶段教育费用合计12800.00元（1名学生），超过筛查线10000.00元（规则schooling_costs，"),
            "{zh}"
        );
        assert!(zh.contains("教育部门数据"), "{zh}");
        // Again: recognised, nothing raised.
        let again = import(db, DepartmentKind::Education, "education-costs.csv").await;
        assert_eq!(
            (again.summary.repeated, again.summary.warnings_opened),
            (3, 0)
        );
        assert!(again.raised.is_empty());
        testing::assert_chain_intact(db).await;
    }
}

/// A kind, its example file, and the (household, rule) pairs it must raise.
type Case = (
    DepartmentKind,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[tokio::test]
async fn every_kind_raises_its_rule() {
    for t in registries().await {
        let db = &t.db;
        let cases: &[Case] = &[
            (
                DepartmentKind::Education,
                "education.csv",
                &[("CK0001", "child_out_of_school")],
            ),
            (
                DepartmentKind::Housing,
                "housing.csv",
                &[("WX0002", "unsafe_housing")],
            ),
            (
                DepartmentKind::Disaster,
                "disaster.csv",
                &[("WX0001", "disaster_loss")],
            ),
            (
                DepartmentKind::CivilAffairs,
                "civil_affairs.csv",
                &[("CK0001", "member_died"), ("WX0001", "allowance_stopped")],
            ),
            (
                DepartmentKind::Unemployment,
                "unemployment.csv",
                &[("CK0002", "unemployed")],
            ),
        ];
        for (kind, file, expected) in cases {
            let report = import(db, *kind, file).await;
            let w = warnings_of(db, &kind.source()).await;
            let got: Vec<(&str, String)> = w
                .iter()
                .map(|w| {
                    // CK0001 is at or below the threshold: the income rule comes first and
                    // explains the category.
                    let fired = rules(w).into_iter().find(|r| r != "income").unwrap();
                    (w.household_no.as_str(), fired)
                })
                .collect();
            let want: Vec<(&str, String)> = expected
                .iter()
                .map(|(h, r)| (*h, (*r).to_owned()))
                .collect();
            assert_eq!(got, want, "{file} on {}", db.backend_name());
            assert_eq!(
                report.summary.warnings_opened as usize,
                expected.len(),
                "{file}"
            );
        }
        // The texts say what happened, in both languages, with the source.
        let civil = warnings_of(db, "department:civil_affairs").await;
        let died = reasons_zh(&civil[0]);
        assert!(died.contains("第4名成员于2025-10-01死亡"), "{died}");
        assert!(died.contains("民政部门数据"), "{died}");
        let stopped = civil[1]
            .reason_texts()
            .into_iter()
            .find(|(rule, _)| rule == "allowance_stopped")
            .unwrap()
            .1
            .en;
        assert!(
            stopped.contains("minimum living allowance (dibao) stopped on 2025-11-01"),
            "{stopped}"
        );
        // An allowance granted (刘德明, CK0002) raised nothing.
        assert!(!civil.iter().any(|w| w.household_no == "CK0002"));
        let disaster = warnings_of(db, "department:disaster").await;
        assert_eq!(disaster[0].category.as_deref(), Some("sudden_hardship"));
        assert!(reasons_zh(&disaster[0]).contains("因灾（洪涝，2025-07-20）损失12000.00元"));
        let school = warnings_of(db, "department:education").await;
        assert_eq!(school[0].risk_types, "schooling");
        let unemployed = warnings_of(db, "department:unemployment").await;
        // CK0002's head has a disability: context that names a second risk type.
        assert_eq!(unemployed[0].risk_types, "unstable_employment,disability");
    }
}

#[tokio::test]
async fn a_county_uploader_matches_its_county_only() {
    for t in registries().await {
        let db = &t.db;
        // 巫溪县: the 城口县 rows are unmatched, worded for the county.
        let report = import_file(
            db,
            DepartmentKind::Medical,
            &fixture("department", "medical.csv"),
            "500238000000",
        )
        .await;
        let s = &report.summary;
        assert_eq!((s.matched, s.unmatched, s.warnings_opened), (1, 4, 1));
        assert_eq!(
            report
                .unmatched_rows
                .iter()
                .map(|u| u.row)
                .collect::<Vec<_>>(),
            [2, 3, 4, 6]
        );
        let reason = report.unmatched_rows[0].reason.text(&s.division_code);
        assert!(
            reason.zh.contains("您辖区（500238000000）"),
            "{}",
            reason.zh
        );
        let w = warnings_of(db, "department:medical").await;
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].household_no, "WX0001");
    }
}
