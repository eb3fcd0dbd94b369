//! Exports, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: the registry export writes the
//! import format, imports back unchanged, and is audited with who exported through which front
//! end; a report table is written as its extension says and audited as `report.export`.

use crate::support::{fixture, fixture_registry, import_legacy, request};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use zhenxing_app::export::{self, Exported, Exporter, Via};
use zhenxing_app::import::{self, Quiet};
use zhenxing_core::assistance::PairingDraft;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::report_table::find_report;
use zhenxing_core::{DivisionCode, Role, Sex};
use zhenxing_store::audit::AuditRecord;
use zhenxing_store::registry::MonitoringPermission;
use zhenxing_store::snapshots::Month;
use zhenxing_store::{Db, Outcome, assistance, testing};

async fn last_audit(db: &Db, action: &str) -> AuditRecord {
    zhenxing_store::audit::recent(db, 20)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.action == action)
        .unwrap_or_else(|| panic!("no {action} in the audit trail"))
}

fn after(record: &AuditRecord) -> Value {
    serde_json::from_str(record.after_data.as_deref().unwrap()).unwrap()
}

#[tokio::test]
async fn the_registry_export_imports_back_and_is_audited() {
    testing::each_backend(async |db: &Db| {
        fixture_registry(db).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chengkou.csv");
        let chengkou = DivisionCode::parse("500229000000").unwrap();
        let seen = AtomicU64::new(0);
        let exported = export::registry(
            db,
            Exporter {
                actor: "cli:test",
                via: Via::Cli,
            },
            Some(&chengkou),
            &path,
            "chengkou.csv",
            &|done, total| {
                assert_eq!(total, 2);
                seen.store(done, Ordering::Relaxed);
            },
        )
        .await
        .unwrap();
        assert_eq!(
            exported,
            Exported {
                households: 2,
                rows: 7
            }
        );
        assert_eq!(
            seen.load(Ordering::Relaxed),
            2,
            "progress up to the last household"
        );
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with a BOM");

        let record = last_audit(db, "registry.export").await;
        assert_eq!(record.actor, "cli:test");
        assert_eq!(record.division_code.as_deref(), Some("500229000000"));
        assert_eq!(record.county_code.as_deref(), Some("500229000000"));
        let after = after(&record);
        assert_eq!(after["via"], "cli");
        assert_eq!(after["households"], 2);
        assert_eq!(after["rows"], 7);
        assert!(after.get("from").is_none());

        // It imports back unchanged.
        let back = import_legacy(db, &path).await;
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.summary.unwrap().unchanged, 2);
    })
    .await;
}

#[tokio::test]
async fn a_report_table_is_written_by_its_extension_and_audited() {
    testing::each_backend(async |db: &Db| {
        fixture_registry(db).await;
        let dir = tempfile::tempdir().unwrap();
        let info = find_report("counts").unwrap();
        let municipality = DivisionCode::parse("500000000000").unwrap();
        let today = today_in_china();
        let month = Month::of(today);
        for name in ["counts.xlsx", "counts.csv"] {
            let table = zhenxing_store::report_tables::build(
                db,
                info,
                &municipality,
                month,
                today,
                "admin",
            )
            .await
            .unwrap()
            .unwrap();
            let expected_rows = table.rows.len();
            let path = dir.path().join(name);
            let rows = export::report(
                db,
                Exporter {
                    actor: "admin",
                    via: Via::Web {
                        client: "192.0.2.7",
                    },
                },
                table,
                &municipality,
                month,
                &path,
                name,
            )
            .await
            .unwrap();
            assert_eq!(rows, expected_rows);
            assert!(std::fs::metadata(&path).unwrap().len() > 0);
            let record = last_audit(db, "report.export").await;
            assert_eq!(record.object_id.as_deref(), Some(name));
            let after = after(&record);
            assert_eq!(after["format"], name.rsplit('.').next().unwrap());
            assert_eq!(after["via"], "web");
            assert_eq!(after["from"], "192.0.2.7");
            assert_eq!(after["month"], month.to_string());
        }
        // A file the writer does not know is refused, and nothing is audited for it.
        let table =
            zhenxing_store::report_tables::build(db, info, &municipality, month, today, "admin")
                .await
                .unwrap()
                .unwrap();
        let refused = export::report(
            db,
            Exporter {
                actor: "admin",
                via: Via::Cli,
            },
            table,
            &municipality,
            month,
            &dir.path().join("counts.pdf"),
            "counts.pdf",
        )
        .await
        .unwrap_err();
        assert!(refused.write_text().is_some(), "{refused}");
        assert_eq!(
            last_audit(db, "report.export").await.object_id.as_deref(),
            Some("counts.csv")
        );
    })
    .await;
}

/// The monitoring columns through the whole loop: a legacy import sets them, the export writes
/// them, the export imports back as a plain import without a change, and a plain import that
/// changes one is refused at its row and column, naming the household.
#[tokio::test]
async fn the_monitoring_columns_round_trip_and_only_a_legacy_import_changes_them() {
    testing::each_backend(async |db: &Db| {
        let legacy = import_legacy(db, &fixture("registry", "monitoring-columns.csv")).await;
        assert!(legacy.problems.is_empty(), "{:?}", legacy.problems);
        assert_eq!(legacy.summary.unwrap().monitoring_set, 1);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.csv");
        export::registry(
            db,
            Exporter {
                actor: "cli:test",
                via: Via::Cli,
            },
            None,
            &path,
            "all.csv",
            &|_, _| {},
        )
        .await
        .unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(
            written.contains(",脱贫不稳定户,2024-03-01,因病,因学,,,,2025-01-10,帮扶消除,"),
            "{written}"
        );

        let plain = request(MonitoringPermission::ProceduresOnly);
        let back = import::buffered(db, &path, &plain, None, Arc::new(Quiet))
            .await
            .unwrap();
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.summary.unwrap().unchanged, 4);

        // The openpyxl workbook (dates as date cells) is the same registry.
        let xlsx = fixture("registry", "monitoring-columns-openpyxl.xlsx");
        let same = import::buffered(db, &xlsx, &plain, None, Arc::new(Quiet))
            .await
            .unwrap();
        assert!(same.problems.is_empty(), "{:?}", same.problems);
        assert_eq!(same.summary.unwrap().unchanged, 4);

        let changed = dir.path().join("changed.csv");
        std::fs::write(
            &changed,
            written.replace(",2025-01-10,帮扶消除,", ",2025-01-10,自然消除,"),
        )
        .unwrap();
        let refused = import::buffered(db, &changed, &plain, None, Arc::new(Quiet))
            .await
            .unwrap();
        assert!(refused.summary.is_none());
        let found: Vec<(u64, &str)> = refused
            .problems
            .iter()
            .map(|p| (p.row, p.column.as_str()))
            .collect();
        assert_eq!(found, [(2, "风险消除方式")]);
        let reason = &refused.problems[0].reason;
        assert!(reason.zh.contains("户CK0001") && reason.zh.contains("--legacy-monitoring"));
        assert!(reason.en.contains("household CK0001"));
    })
    .await;
}

/// 帮扶责任人: the export writes the names of the household's cadres in force (never their
/// phone numbers); an import compares a filled cell with the pairings, warns at the cell when
/// they disagree, and never writes it.
#[tokio::test]
async fn the_responsible_cadre_is_exported_and_checked_on_import() {
    testing::each_backend(async |db: &Db| {
        fixture_registry(db).await;
        let today = today_in_china();
        let cadre = crate::support::account("lx_cadre", Role::VillageCadre, "500229102202");
        let pairing = PairingDraft {
            name: "张明".into(),
            sex: Some(Sex::Male),
            political_status: None,
            unit: "城口县农业农村委员会".into(),
            phone: "13912345678".into(),
            starts_on: today - time::Duration::days(10),
            ends_on: None,
        }
        .build(today)
        .unwrap();
        let added = assistance::add_pairing(db, &cadre, "CK0001", &pairing)
            .await
            .unwrap();
        assert!(matches!(added, Outcome::Done(_)), "{added:?}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.csv");
        let exporter = Exporter {
            actor: "cli:test",
            via: Via::Cli,
        };
        export::registry(db, exporter, None, &path, "all.csv", &|_, _| {})
            .await
            .unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.contains(",脱贫不稳定户,,,,,,,,,张明,"), "{written}");
        assert!(
            !written.contains("13912345678"),
            "a cadre's phone was exported"
        );

        let plain = request(MonitoringPermission::ProceduresOnly);
        let import = async |text: String| {
            let file = dir.path().join("in.csv");
            std::fs::write(&file, text).unwrap();
            import::buffered(db, &file, &plain, None, Arc::new(Quiet))
                .await
                .unwrap()
        };
        let back = import(written.clone()).await;
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.summary.unwrap().unchanged, 4);
        // Empty: not checked.
        let back = import(written.replace(",张明,", ",,")).await;
        assert!(back.problems.is_empty(), "{:?}", back.problems);

        // Another name, or a name for a household without a pairing: a warning at the cell,
        // the file imports, and no pairing is made or changed.
        let wrong = written.replace(",张明,", ",李四,").replace(
            "CK0002,一般农户,,,,,,,,,,,",
            "CK0002,一般农户,,,,,,,,,,,王五",
        );
        let warned = import(wrong).await;
        assert!(warned.problems.is_empty(), "{:?}", warned.problems);
        assert_eq!(warned.summary.unwrap().unchanged, 4);
        let found: Vec<(u64, &str)> = warned
            .warnings
            .iter()
            .filter(|w| w.column == "帮扶责任人")
            .map(|p| (p.row, p.column.as_str()))
            .collect();
        assert_eq!(found, [(2, "帮扶责任人"), (6, "帮扶责任人")]);
        let cadre_warnings: Vec<_> = warned
            .warnings
            .iter()
            .filter(|w| w.column == "帮扶责任人")
            .collect();
        let (ck0001, ck0002) = (&cadre_warnings[0].reason, &cadre_warnings[1].reason);
        assert!(ck0001.zh.contains("户CK0001的帮扶责任人“李四”") && ck0001.zh.contains("“张明”"));
        assert!(ck0001.en.contains("household CK0001") && ck0001.en.contains("not imported"));
        assert!(
            ck0002
                .en
                .contains("household CK0002 has no responsible cadre")
        );
        let still = assistance::responsible_cadres(
            db,
            assistance::CadresOf::Households(&["CK0001", "CK0002"]),
            today,
        )
        .await
        .unwrap();
        assert_eq!(
            still.get("CK0001").map(Vec::as_slice),
            Some(&["张明".to_owned()][..])
        );
        assert!(!still.contains_key("CK0002"));
    })
    .await;
}
