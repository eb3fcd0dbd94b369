#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The store's conformance suite: every test runs against SQLite and (when `TEST_DATABASE_URL`
//! is set, always in CI) PostgreSQL, with the same expectations.

use time::macros::date;
use zhenxing_core::household::HouseholdDraft;
use zhenxing_core::*;
use zhenxing_store::Outcome;
use zhenxing_store::registry::{
    Conflict, LEGACY_MONITORING_ACTION, MonitoringField, MonitoringPermission, WRITE_ACTION,
    WriteRequest,
};
use zhenxing_store::{Db, HouseholdRecord, StoreError, testing};

fn member(id: &str, relation: Relation, name: &str) -> Member {
    Member {
        name: PersonName::parse(name).unwrap(),
        document: DocumentNumber::Resident(IdNumber::parse_at(id, date!(2026 - 01 - 01)).unwrap()),
        relation,
        ethnicity: Some("汉族".into()),
        education: Some(Education::JuniorSecondary),
        school_status: None,
        health: Health::HEALTHY,
        labor: Labor::Ordinary,
        work_months: Some(6),
        medical_insurance: true,
        dibao: Some(false),
    }
}

fn household(no: &str, village: &str, members: Vec<Member>) -> HouseholdRecord {
    let draft = HouseholdDraft {
        household_no: HouseholdNo::parse(no).unwrap(),
        division: DivisionCode::parse(village).unwrap(),
        household_type: HouseholdType::LiftedOut,
        lifted_out_year: Some(2019),
        monitoring_category: None,
        phone: Some(Phone::parse("13900000001").unwrap()),
        address: Some("城口县".into()),
        village_group: None,
        monitoring_outcome: Default::default(),
        income: IncomeItems::new(
            Fen::from_yuan(20_000),
            Fen::from_yuan(3_000),
            Fen::ZERO,
            Fen::from_yuan(1_000),
            Fen::from_yuan(500),
        )
        .unwrap(),
        out_of_pocket: Fen::ZERO,
        housing_safe: Some(true),
        water_safe: Some(true),
        members,
    };
    HouseholdRecord::from_household(&draft.build().unwrap())
}

/// 立新村, 巴山镇, 城口县 (the village of the stories).
const VILLAGE: &str = "500229102202";

fn request(dry_run: bool) -> WriteRequest {
    WriteRequest {
        actor: "test".into(),
        source: "conformance test".into(),
        reason: Some("testing".into()),
        dry_run,
        known_new: false,
        defer_counts: false,
        monitoring: MonitoringPermission::ProceduresOnly,
    }
}

fn legacy_request() -> WriteRequest {
    WriteRequest {
        monitoring: MonitoringPermission::LegacyMonitoring,
        source: "import registry old.xlsx".into(),
        ..request(false)
    }
}

async fn village() -> String {
    VILLAGE.to_owned()
}

fn two_households() -> Vec<HouseholdRecord> {
    vec![
        household(
            "CK-0001",
            VILLAGE,
            vec![
                member("50022919900101001X", Relation::Head, "王世华"),
                member("500238198506150028", Relation::Spouse, "李红"),
            ],
        ),
        household(
            "CK-0002",
            VILLAGE,
            vec![member("500101194910010071", Relation::Head, "张三")],
        ),
    ]
}

#[tokio::test]
async fn the_division_list_is_seeded_with_chongqing() {
    testing::each_backend(async |db| {
        let s = db.stats(None).await.unwrap();
        assert_eq!(s.counties, 38);
        assert_eq!(s.former_poverty_counties, 18);
        assert_eq!(s.townships, 1_031);
        assert_eq!(s.villages, 7_946);
        assert_eq!(s.communities, 3_324);
        let chengkou = db
            .division(&DivisionCode::parse("500229").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(chengkou.name_zh, "城口县");
        assert_eq!(chengkou.name_en, "Chengkou County");
        assert_eq!(chengkou.former_poverty_county.as_deref(), Some("national"));
        assert_eq!(chengkou.parent_code.as_deref(), Some("500000000000"));
        // Opening again neither duplicates nor fails.
        assert!(!db.seed_divisions_if_empty().await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn writes_are_counted_audited_and_idempotent() {
    testing::each_backend(async |db| {
        let _ = village().await;
        let batch = two_households();
        let s = db
            .write_households(&batch, &request(false), &|_| {})
            .await
            .unwrap();
        assert_eq!(
            (s.created, s.updated, s.unchanged, s.members_written),
            (2, 0, 0, 3)
        );
        let stats = db
            .stats(Some(&DivisionCode::parse("500229").unwrap()))
            .await
            .unwrap();
        assert_eq!(
            (stats.households, stats.members, stats.lifted_out_members),
            (2, 3, 3)
        );
        assert_eq!(db.stats_from_households().await.unwrap(), (2, 3, 3));

        // The same data again changes nothing.
        let s = db
            .write_households(&batch, &request(false), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.created, s.updated, s.unchanged), (0, 0, 2));

        // A changed income: one update with before and after in the audit trail.
        let mut changed = batch.clone();
        changed[0].wage_income = 1_000_000;
        let s = db
            .write_households(&changed, &request(false), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.created, s.updated, s.unchanged), (0, 1, 1));
        let history = zhenxing_store::audit::history(db, "household", "CK-0001", 10)
            .await
            .unwrap();
        assert_eq!(history[0].action, "update");
        assert_eq!(
            history[0].reason.as_deref(),
            Some("testing (conformance test)")
        );
        assert!(
            history[0]
                .before_data
                .as_deref()
                .unwrap()
                .contains("2000000"),
            "{:?}",
            history[0]
        );
        assert!(
            history[0]
                .after_data
                .as_deref()
                .unwrap()
                .contains("1000000")
        );
        assert_eq!(history[0].actor, "test");
        assert_eq!(history[1].action, "create");
        assert_eq!(history.len(), 2, "the unchanged write touched nothing");
        let (stored, meta) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, changed[0]);
        assert_eq!(meta.version, 2);

        // A member moves between two households written together.
        let mut moved = changed.clone();
        let spouse = moved[0].members.remove(1);
        moved[1].members.push(spouse);
        moved[1].members[1].relation = "other".into();
        let s = db
            .write_households(&moved, &request(false), &|_| {})
            .await
            .unwrap();
        assert_eq!(s.updated, 2);
        assert_eq!(db.stats_from_households().await.unwrap(), (2, 3, 3));

        let report = zhenxing_store::audit::verify(db).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.records, 5, "seed, then one operation per write");
        assert_eq!(
            report.items,
            1 + 2,
            "one change, then a move touching two households"
        );
    })
    .await;
}

#[tokio::test]
async fn conflicts_refuse_the_whole_write() {
    testing::each_backend(async |db| {
        db.write_households(&two_households(), &request(false), &|_| {}).await.unwrap();
        let before = db.stats(None).await.unwrap();
        let intruder = household(
            "CK-0003",
            "500229999999",
            vec![member("50022919900101001X", Relation::Head, "王世华")],
        );
        let fine = household(
            "CK-0004",
            VILLAGE,
            vec![member("500243201003010037", Relation::Head, "冉明")],
        );
        let err = db
            .write_households(&[fine, intruder], &request(false), &|_| {})
            .await
            .unwrap_err();
        let StoreError::Conflicts(conflicts) = err else { panic!("{err}") };
        assert_eq!(conflicts.len(), 2, "{conflicts:?}");
        assert!(conflicts.iter().any(|c| matches!(c, Conflict::UnknownDivision { .. })));
        assert!(conflicts.iter().any(|c| matches!(c,
            Conflict::IdNumberInAnotherHousehold { registered_in, .. } if registered_in == "CK-0001")));
        assert_eq!(db.stats(None).await.unwrap(), before, "nothing was written");
    })
    .await;
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    testing::each_backend(async |db| {
        let s = db
            .write_households(&two_households(), &request(true), &|_| {})
            .await
            .unwrap();
        assert_eq!(s.created, 2);
        assert_eq!(db.stats(None).await.unwrap().households, 0);
        assert_eq!(
            zhenxing_store::audit::verify(db).await.unwrap().records,
            1,
            "only the seed record"
        );
    })
    .await;
}

/// Someone rewrites what a change did, and who made an import.
const ITEM_UPDATE: &str = "UPDATE audit_items SET after_data = '{}' WHERE seq = 3 AND item = 1";
const LOG_UPDATE: &str = "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2";

#[tokio::test]
async fn the_audit_trail_cannot_be_changed_and_tampering_is_found() {
    testing::each_backend(async |db| {
        // The seed record (1), an import (2), a change with one item (3), another import (4).
        let both = two_households();
        db.write_households(&both[..1], &request(false), &|_| {})
            .await
            .unwrap();
        let mut changed = both[..1].to_vec();
        changed[0].wage_income += 100;
        db.write_households(&changed, &request(false), &|_| {})
            .await
            .unwrap();
        db.write_households(&both[1..], &request(false), &|_| {})
            .await
            .unwrap();
        testing::assert_chain_intact(db).await;
        for sql in [
            LOG_UPDATE,
            ITEM_UPDATE,
            "DELETE FROM audit_log WHERE seq = 4",
            "DELETE FROM audit_items",
        ] {
            assert!(
                testing::execute_raw(db, sql).await.is_err(),
                "the append-only triggers refuse: {sql}"
            );
        }
        // Someone with the database owner's rights drops the protection and edits records.
        let unprotect: &[&str] = match db {
            Db::Sqlite(_) => &[
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
                "DROP TRIGGER audit_items_no_update",
            ],
            Db::Postgres(_) => &[
                "ALTER TABLE audit_log DISABLE TRIGGER USER",
                "ALTER TABLE audit_items DISABLE TRIGGER USER",
            ],
        };
        for sql in unprotect {
            testing::execute_raw(db, sql).await.unwrap();
        }
        for sql in [
            LOG_UPDATE,
            ITEM_UPDATE,
            "DELETE FROM audit_log WHERE seq = 4",
        ] {
            testing::execute_raw(db, sql).await.unwrap();
        }
        let report = zhenxing_store::audit::verify(db).await.unwrap();
        use zhenxing_store::audit::ChainProblem::*;
        let mut problems = report.problems.clone();
        problems.sort_by_key(|p| format!("{p:?}"));
        assert_eq!(
            problems,
            vec![
                Altered { seq: 2 },
                ItemsAltered { seq: 3 },
                Missing {
                    from_seq: 4,
                    to_seq: 4
                }
            ]
        );
    })
    .await;
}

/// The one refusal of a write: the household and its category before and after.
fn monitoring_conflicts(err: StoreError) -> Vec<(String, Option<String>, Option<String>)> {
    let StoreError::Conflicts(conflicts) = err else {
        panic!("not refused with conflicts: {err}")
    };
    conflicts
        .into_iter()
        .map(|c| match c {
            Conflict::MonitoringOutsideProcedures {
                household_no,
                stored,
                written,
            } => (household_no, stored, written),
            other => panic!("another conflict: {other:?}"),
        })
        .collect()
}

const UNSTABLE: &str = "unstable_lifted_out";

#[tokio::test]
async fn a_write_that_sets_or_changes_the_monitoring_category_is_refused() {
    testing::each_backend(async |db| {
        let batch = two_households();
        db.write_households(&batch, &request(false), &|_| {})
            .await
            .unwrap();
        let before = db.stats(None).await.unwrap();
        let audit_before = zhenxing_store::audit::verify(db).await.unwrap().records;

        // A stored household made monitored, and a new household created monitored.
        let mut changed = batch.clone();
        changed[0].monitoring_category = Some(UNSTABLE.into());
        let mut new = household(
            "CK-0005",
            VILLAGE,
            vec![member("500243201003010037", Relation::Head, "冉明")],
        );
        new.monitoring_category = Some(UNSTABLE.into());
        changed.push(new);
        let err = db
            .write_households(&changed, &request(false), &|_| {})
            .await
            .unwrap_err();
        assert_eq!(
            monitoring_conflicts(err),
            [
                ("CK-0001".into(), None, Some(UNSTABLE.into())),
                ("CK-0005".into(), None, Some(UNSTABLE.into())),
            ]
        );
        // The check without writing (an import's report) finds the same.
        let found = db
            .conflicts(&changed, MonitoringPermission::ProceduresOnly)
            .await
            .unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        let text = found[0].text();
        assert!(text.zh.contains("监测对象类别") && text.zh.contains("--legacy-monitoring"));
        assert!(text.en.contains("monitoring category") && text.en.contains("procedures"));

        // An edit (the form's and the API's write) is refused alike.
        let (stored, meta) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        let mut edited = stored.clone();
        edited.monitoring_category = Some(UNSTABLE.into());
        let err = db
            .edit_household(&edited, meta.version, "cadre", "web", "核实")
            .await
            .unwrap_err();
        assert_eq!(monitoring_conflicts(err).len(), 1);

        assert_eq!(db.stats(None).await.unwrap(), before, "nothing was written");
        assert_eq!(
            zhenxing_store::audit::verify(db).await.unwrap().records,
            audit_before,
            "nothing was audited"
        );
        let (after, _) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.monitoring_category, None);
    })
    .await;
}

#[tokio::test]
async fn a_legacy_import_sets_monitoring_and_is_audited_as_such() {
    testing::each_backend(async |db| {
        let mut batch = two_households();
        batch[0].monitoring_category = Some(UNSTABLE.into());
        let s = db
            .write_households(&batch, &legacy_request(), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.created, s.monitoring_set), (2, 1));
        let (stored, _) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.monitoring_category.as_deref(), Some(UNSTABLE));
        assert_eq!(db.stats(None).await.unwrap().monitored_households, 1);
        let last = zhenxing_store::audit::recent(db, 1).await.unwrap();
        assert_eq!(last[0].action, LEGACY_MONITORING_ACTION);
        assert_eq!(
            last[0].reason.as_deref(),
            Some("testing (import registry old.xlsx)")
        );
        assert!(
            last[0]
                .after_data
                .as_deref()
                .unwrap()
                .contains("\"monitoring_set\":1"),
            "{:?}",
            last[0].after_data
        );
        let history = zhenxing_store::audit::history(db, "household", "CK-0001", 5)
            .await
            .unwrap();
        assert_eq!(history[0].operation, LEGACY_MONITORING_ACTION);

        // A legacy write may also end a legacy monitoring (the category removed).
        let mut ended = batch.clone();
        ended[0].monitoring_category = None;
        let s = db
            .write_households(&ended, &legacy_request(), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.updated, s.monitoring_set), (1, 1));
        assert_eq!(db.stats(None).await.unwrap().monitored_households, 0);
        testing::assert_chain_intact(db).await;
    })
    .await;
}

#[tokio::test]
async fn unchanged_monitoring_categories_are_no_change() {
    testing::each_backend(async |db| {
        let mut batch = two_households();
        batch[0].monitoring_category = Some(UNSTABLE.into());
        db.write_households(&batch, &legacy_request(), &|_| {})
            .await
            .unwrap();

        // The export re-imported: every household unchanged, as a plain write.
        let s = db
            .write_households(&batch, &request(false), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.created, s.updated, s.unchanged), (0, 0, 2));
        // Other fields of the monitored household change; its category stays.
        let mut changed = batch.clone();
        changed[0].wage_income += 10_000;
        let s = db
            .write_households(&changed, &request(false), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.updated, s.monitoring_set), (1, 0));
        assert_eq!(
            zhenxing_store::audit::recent(db, 1).await.unwrap()[0].action,
            WRITE_ACTION
        );
        let (stored, meta) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        let mut edited = stored.clone();
        edited.address = Some("城口县巴山镇".into());
        let saved = db
            .edit_household(&edited, meta.version, "cadre", "web", "核实")
            .await
            .unwrap();
        assert!(matches!(saved, Outcome::Done(_)), "{saved:?}");

        // Taking the category away is a change too.
        let mut removed = changed.clone();
        removed[0].monitoring_category = None;
        let err = db
            .write_households(&removed, &request(false), &|_| {})
            .await
            .unwrap_err();
        assert_eq!(
            monitoring_conflicts(err),
            [("CK-0001".into(), Some(UNSTABLE.into()), None)]
        );
    })
    .await;
}

/// What the procedures record, as a legacy import brings it for CK-0001: identified, two risk
/// types, risk eliminated by assistance.
fn with_procedures_record(mut batch: Vec<HouseholdRecord>) -> Vec<HouseholdRecord> {
    let h = &mut batch[0];
    h.monitoring_category = Some(UNSTABLE.into());
    h.identified_on = Some("2024-03-01".into());
    h.risk_types = Some("illness,schooling".into());
    h.risk_eliminated_on = Some("2025-01-10".into());
    h.elimination_method = Some("by_assistance".into());
    batch
}

/// The refusals of a write of the procedures' record: household, field, stored, written.
fn outcome_conflicts(err: StoreError) -> Vec<Conflict> {
    let StoreError::Conflicts(conflicts) = err else {
        panic!("not refused with conflicts: {err}")
    };
    conflicts
}

#[tokio::test]
async fn a_legacy_import_writes_the_procedures_record_and_is_audited() {
    testing::each_backend(async |db| {
        let batch = with_procedures_record(two_households());
        let s = db
            .write_households(&batch, &legacy_request(), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.created, s.monitoring_set), (2, 1));
        let (stored, _) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, batch[0], "stored as given");
        let draft = stored.to_draft().unwrap();
        assert_eq!(
            draft.monitoring_outcome.risk_types,
            [
                monitoring::RiskType::Illness,
                monitoring::RiskType::Schooling
            ]
        );

        // A later legacy import corrects the risk types: audited as a legacy write, with the
        // field before and after in the household's item.
        let mut corrected = batch.clone();
        corrected[0].risk_types = Some("illness".into());
        let s = db
            .write_households(&corrected, &legacy_request(), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.updated, s.unchanged, s.monitoring_set), (1, 1, 1));
        let history = zhenxing_store::audit::history(db, "household", "CK-0001", 5)
            .await
            .unwrap();
        assert_eq!(history[0].operation, LEGACY_MONITORING_ACTION);
        let item = zhenxing_store::audit::recent(db, 1).await.unwrap();
        assert_eq!(item[0].action, LEGACY_MONITORING_ACTION);
        let before = history[0].before_data.as_deref().unwrap_or_default();
        let after = history[0].after_data.as_deref().unwrap_or_default();
        assert!(
            before.contains("\"risk_types\":\"illness,schooling\""),
            "{before}"
        );
        assert!(after.contains("\"risk_types\":\"illness\""), "{after}");
        testing::assert_chain_intact(db).await;
    })
    .await;
}

#[tokio::test]
async fn a_plain_write_keeps_the_procedures_record_or_is_refused() {
    testing::each_backend(async |db| {
        let batch = with_procedures_record(two_households());
        db.write_households(&batch, &legacy_request(), &|_| {})
            .await
            .unwrap();

        // Written again as stored (an export re-imported): no change.
        let s = db
            .write_households(&batch, &request(false), &|_| {})
            .await
            .unwrap();
        assert_eq!((s.unchanged, s.updated), (2, 0));

        // Changed, or emptied (an empty cell is a value, as for the category): refused, each
        // field named with the household and what to do.
        let mut changed = batch.clone();
        changed[0].risk_types = Some("illness".into());
        changed[0].identified_on = None;
        let err = db
            .write_households(&changed, &request(false), &|_| {})
            .await
            .unwrap_err();
        let conflicts = outcome_conflicts(err);
        let fields: Vec<_> = conflicts
            .iter()
            .map(|c| match c {
                Conflict::OutcomeOutsideProcedures {
                    household_no,
                    field,
                    stored,
                    written,
                } => (
                    household_no.as_str(),
                    *field,
                    stored.as_deref(),
                    written.as_deref(),
                ),
                other => panic!("another conflict: {other:?}"),
            })
            .collect();
        assert_eq!(
            fields,
            [
                (
                    "CK-0001",
                    MonitoringField::IdentifiedOn,
                    Some("2024-03-01"),
                    None
                ),
                (
                    "CK-0001",
                    MonitoringField::RiskTypes,
                    Some("illness,schooling"),
                    Some("illness")
                ),
            ]
        );
        let text = conflicts[1].text();
        assert!(
            text.zh
                .contains("户CK-0001的“致贫返贫风险”不能由“因病、因学”改为“因病”")
                && text.zh.contains("--legacy-monitoring"),
            "{}",
            text.zh
        );
        assert!(
            text.en.contains("household CK-0001: 'Risk types'")
                && text.en.contains("Write the registry's value"),
            "{}",
            text.en
        );
        assert_eq!(conflicts[1].shown_value(), "因病");

        // A new household with a record, its category given, is refused alike.
        let mut new = with_procedures_record(vec![household(
            "CK-0005",
            VILLAGE,
            vec![member("500243201003010037", Relation::Head, "冉明")],
        )]);
        new[0].monitoring_category = None;
        let found = db
            .conflicts(&new, MonitoringPermission::ProceduresOnly)
            .await
            .unwrap();
        assert_eq!(found.len(), 4, "{found:?}");

        // An edit of another field keeps the record (the form's record carries it).
        let (stored, meta) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        let mut edited = stored.clone();
        edited.address = Some("城口县巴山镇".into());
        let saved = db
            .edit_household(&edited, meta.version, "cadre", "web", "核实")
            .await
            .unwrap();
        assert!(matches!(saved, Outcome::Done(_)), "{saved:?}");
        let (after, _) = zhenxing_store::registry::household(db, "CK-0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.risk_types.as_deref(), Some("illness,schooling"));
        assert_eq!(after.elimination_method.as_deref(), Some("by_assistance"));
    })
    .await;
}
