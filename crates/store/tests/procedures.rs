#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The procedures in the store, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: a household
//! walks from a lead to monitored and, later, to risk eliminated and back; steps are refused out
//! of order, by the wrong role or outside the division; two people acting at once cannot both
//! succeed; steps are never edited; every step is audited and the chain stays whole.

use time::{Date, Duration};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::procedure::{CaseKind, Conditions, ProcedurePolicy, Step, VerificationForm};
use zhenxing_core::warning::WarningChannel;
use zhenxing_core::*;
use zhenxing_store::accounts::Account;
use zhenxing_store::procedures::{
    self, CaseFilter, CaseInboxQuery, Moved, OpenRequest, Outcome, StepRequest,
};
use zhenxing_store::{Db, testing};

const VILLAGE: &str = "500229102202";
const TOWNSHIP: &str = "500229102000";
const COUNTY: &str = "500229000000";
const OTHER_VILLAGE: &str = "500229102204";
const PASSWORD: &str = "Procedures-Test-2026";

struct People {
    cadre: Account,
    other_cadre: Account,
    township: Account,
    county: Account,
    admin: Account,
}

async fn people(db: &Db) -> People {
    let account = async |name: &str, role: Role, division: &str| {
        db.create_account(
            name,
            role,
            &DivisionCode::parse(division).unwrap(),
            PASSWORD,
            "test",
        )
        .await
        .unwrap()
    };
    People {
        cadre: account("lihong", Role::VillageCadre, VILLAGE).await,
        other_cadre: account("other", Role::VillageCadre, OTHER_VILLAGE).await,
        township: account("zhaomin", Role::TownshipOfficer, TOWNSHIP).await,
        county: account("chenjie", Role::CountyOfficer, COUNTY).await,
        admin: account("admin", Role::MunicipalAdmin, "500000000000").await,
    }
}

fn verification(on: Date) -> Step {
    Step::Verify(VerificationForm {
        visited_on: on,
        per_capita_income: Fen::from_yuan(5_200),
        rigid_spending: Fen::from_yuan(23_400),
        problems: Conditions::default(),
        category: Some(MonitoringCategory::SuddenHardship),
        risks: vec![RiskType::Illness],
        commitment_signed: true,
        rigid_spending_resolved: false,
        note: "住院自付23400元".into(),
    })
}

/// An elimination's home verification: the 23,400 yuan of the identification's visit, resolved
/// (or not) by the medical assistance reimbursement.
fn elimination_verification(on: Date, resolved: bool) -> Step {
    let Step::Verify(form) = verification(on) else {
        unreachable!()
    };
    Step::Verify(VerificationForm {
        category: None,
        risks: Vec::new(),
        commitment_signed: false,
        rigid_spending_resolved: resolved,
        note: if resolved {
            "住院自付23400元已由医疗救助报销".into()
        } else {
            form.note.clone()
        },
        ..form
    })
}

/// A cadre's visit reporting a new risk on the household: an active warning; its id.
async fn new_risk_reported(db: &Db, cadre: &Account, no: &str, on: Date) -> i64 {
    let report = zhenxing_store::warnings::Report {
        household_no: no.into(),
        channel: WarningChannel::Visit,
        on,
        risks: vec![RiskType::Accident],
        category: None,
        note: "户主务工时摔伤".into(),
    };
    match zhenxing_store::warnings::report(db, cadre, &report, &Default::default())
        .await
        .unwrap()
    {
        Some(zhenxing_store::warnings::Raised::Opened(id)) => id,
        other => panic!("{other:?}"),
    }
}

/// Settles a warning: dismissed by the township after a visit.
async fn dismissed(db: &Db, township: &Account, warning_id: i64) {
    let req = zhenxing_store::warnings::StepRequest {
        warning_id,
        expected_version: 1,
        step: zhenxing_core::warning::WarningStep::Dismiss {
            reason: "入户核实伤情轻微，已痊愈".into(),
        },
        assignee: None,
    };
    let done = zhenxing_store::warnings::take_step(db, township, &req, &Default::default())
        .await
        .unwrap();
    assert!(matches!(done, Outcome::Done(_)), "{done:?}");
}

async fn step(db: &Db, who: &Account, case_id: i64, version: i64, step: Step) -> Outcome<Moved> {
    let req = StepRequest {
        case_id,
        expected_version: version,
        step,
    };
    procedures::take_step(db, who, &req, &ProcedurePolicy::default())
        .await
        .unwrap()
}

/// Takes a step that must succeed; the case's new version.
async fn ok(db: &Db, who: &Account, case_id: i64, version: i64, s: Step) -> i64 {
    let kind = s.kind();
    match step(db, who, case_id, version, s).await {
        Outcome::Done(moved) => moved.version,
        other => panic!("{kind:?} by {}: {other:?}", who.name),
    }
}

async fn monitoring_fields(db: &Db, no: &str) -> (Option<String>, Option<String>, Option<String>) {
    let (_, meta) = zhenxing_store::registry::household(db, no)
        .await
        .unwrap()
        .unwrap();
    let _ = meta;
    let row: (Option<String>, Option<String>, Option<String>) = match db {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT monitoring_category, risk_types, risk_eliminated_on FROM households WHERE household_no = ?",
        )
        .bind(no)
        .fetch_one(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT monitoring_category, risk_types, risk_eliminated_on FROM households WHERE household_no = $1",
        )
        .bind(no)
        .fetch_one(pool)
        .await
        .unwrap(),
    };
    row
}

/// The story of one household, step by step: each step is a function of its own, and
/// [`named`] reports a failure with the step's name and the backend.
#[tokio::test]
async fn a_household_walks_from_lead_to_monitored_to_eliminated_and_back() {
    testing::each_backend(async |db: &Db| {
        let on = db.backend_name();
        let s = Story::set_up(db).await;
        let id = named(
            on,
            "a lead opens one case, inside the division",
            s.open_the_lead(),
        )
        .await;
        let v = named(
            on,
            "verification to the public notice",
            s.up_to_the_notice(id),
        )
        .await;
        let v = named(on, "an objection holds the notice", s.an_objection(id, v)).await;
        let v = named(
            on,
            "two people act on one page",
            s.two_people_at_once(id, v),
        )
        .await;
        named(
            on,
            "each level approves: monitored",
            s.each_level_approves(id, v),
        )
        .await;
        named(
            on,
            "a registry write keeps the procedure's fields",
            s.a_registry_write(),
        )
        .await;
        named(on, "a completed case takes nothing more", s.completed(id)).await;
        named(
            on,
            "the completed case is entered in the national system",
            s.entered_in_the_national_system(id),
        )
        .await;
        named(
            on,
            "elimination waits for its preconditions",
            s.elimination_waits(),
        )
        .await;
        named(
            on,
            "an elimination is withdrawn",
            s.an_elimination_withdrawn(),
        )
        .await;
        named(
            on,
            "an elimination to the end",
            s.an_elimination_completed(),
        )
        .await;
        named(on, "a new risk: re-entry", s.reentry()).await;
        named(on, "the inbox lists by scope", s.inbox_by_scope()).await;
        named(on, "steps are never edited", s.steps_are_never_edited()).await;
    })
    .await;
}

/// Runs one step of a story; if it fails, the test fails with the step's name and the backend
/// (and the step's own message), so that the report says which step broke.
async fn named<T>(backend: &str, name: &str, body: impl Future<Output = T>) -> T {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(body).catch_unwind().await {
        Ok(value) => value,
        Err(panic) => {
            let message = (panic.downcast_ref::<String>().map(String::as_str))
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("step \"{name}\" failed on {backend}: {message}");
        }
    }
}

/// What the story's steps share: one household (CK-P1), the people, the policy, the day, and
/// the two requests that open its cases.
struct Story<'a> {
    db: &'a Db,
    p: People,
    policy: ProcedurePolicy,
    today: Date,
    lead: OpenRequest,
    elimination: OpenRequest,
}

impl<'a> Story<'a> {
    async fn set_up(db: &'a Db) -> Story<'a> {
        let mut draft =
            testing::test_household("CK-P1", VILLAGE, &testing::test_id_number(1), 5_200);
        draft.address = Some("城口县巴山镇立新村3组".into());
        testing::write_test_households(db, vec![draft]).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();
        let today = today_in_china();
        let lead = OpenRequest {
            household_no: "CK-P1".into(),
            kind: CaseKind::Identification,
            channel: Some(WarningChannel::Visit),
            warning_id: None,
            found_on: today - Duration::days(10),
            emergency: None,
            note: "走访发现住院".into(),
        };
        let elimination = OpenRequest {
            kind: CaseKind::Elimination,
            channel: None,
            found_on: today,
            note: String::new(),
            ..lead.clone()
        };
        Story {
            db,
            p: people(db).await,
            policy: ProcedurePolicy::default(),
            today,
            lead,
            elimination,
        }
    }

    fn ago(&self, days: i64) -> Date {
        self.today - Duration::days(days)
    }

    /// After the verification: the village's democratic appraisal `held` days ago with
    /// `attendance` people, its notice from the next day for five days, closed, and the
    /// township's approval. The case's new version.
    async fn village_and_township_agree(&self, id: i64, v: i64, held: i64, attendance: u32) -> i64 {
        let (db, p) = (self.db, &self.p);
        let mut v = ok(
            db,
            &p.cadre,
            id,
            v,
            Step::Appraise {
                held_on: self.ago(held),
                attendance,
                participants: "村两委、村民代表".into(),
                agreed: true,
                note: String::new(),
            },
        )
        .await;
        v = ok(
            db,
            &p.cadre,
            id,
            v,
            Step::PostNotice {
                starts_on: self.ago(held - 1),
                ends_on: self.ago(held - 5),
            },
        )
        .await;
        v = ok(
            db,
            &p.cadre,
            id,
            v,
            Step::CloseNotice {
                note: String::new(),
            },
        )
        .await;
        ok(
            db,
            &p.township,
            id,
            v,
            Step::TownshipApprove {
                note: "同意".into(),
            },
        )
        .await
    }

    /// The case's id.
    async fn open_the_lead(&self) -> i64 {
        let (db, p, policy, lead) = (self.db, &self.p, &self.policy, &self.lead);
        // Outside the division the household does not exist; the administrator takes no step.
        let outside = procedures::open_case(db, &p.other_cadre, lead, policy)
            .await
            .unwrap();
        assert_eq!(outside, Outcome::NotFound);
        let admin = procedures::open_case(db, &p.admin, lead, policy)
            .await
            .unwrap();
        assert!(matches!(admin, Outcome::Refused(_)), "{admin:?}");
        let Outcome::Done(id) = procedures::open_case(db, &p.cadre, lead, policy)
            .await
            .unwrap()
        else {
            panic!("the lead was refused");
        };
        // A second case on the same household waits for the first.
        let again = procedures::open_case(db, &p.township, lead, policy)
            .await
            .unwrap();
        assert!(matches!(again, Outcome::Refused(_)), "{again:?}");
        id
    }

    /// The case's version after the notice is posted.
    async fn up_to_the_notice(&self, id: i64) -> i64 {
        let (db, p) = (self.db, &self.p);
        let v = ok(db, &p.cadre, id, 1, verification(self.ago(10))).await;
        // Out of order: the township cannot approve before the appraisal and the notice.
        let early = step(
            db,
            &p.township,
            id,
            v,
            Step::TownshipApprove {
                note: String::new(),
            },
        )
        .await;
        assert!(matches!(early, Outcome::Refused(_)), "{early:?}");
        let v = ok(
            db,
            &p.township,
            id,
            v,
            Step::Compare {
                consistent: true,
                note: String::new(),
            },
        )
        .await;
        let v = ok(
            db,
            &p.cadre,
            id,
            v,
            Step::Appraise {
                held_on: self.ago(9),
                attendance: 11,
                participants: "村两委、村民代表、驻村工作队".into(),
                agreed: true,
                note: String::new(),
            },
        )
        .await;
        // A notice shorter than five days is refused.
        let short = step(
            db,
            &p.cadre,
            id,
            v,
            Step::PostNotice {
                starts_on: self.ago(8),
                ends_on: self.ago(5),
            },
        )
        .await;
        assert!(matches!(short, Outcome::Refused(_)), "{short:?}");
        let v = ok(
            db,
            &p.cadre,
            id,
            v,
            Step::PostNotice {
                starts_on: self.ago(8),
                ends_on: self.ago(4),
            },
        )
        .await;

        // The notice lists the head's name, village group and category, nothing else.
        let board = procedures::notices(db, VILLAGE, self.today, 30)
            .await
            .unwrap();
        assert_eq!(board.len(), 1);
        assert_eq!(board[0].head_name, "测试");
        assert_eq!(board[0].village_group.as_deref(), Some("3组"));
        assert_eq!(board[0].category, Some(MonitoringCategory::SuddenHardship));
        v
    }

    /// The case's version once the objection is resolved.
    async fn an_objection(&self, id: i64, v: i64) -> i64 {
        let (db, p) = (self.db, &self.p);
        let v = ok(
            db,
            &p.cadre,
            id,
            v,
            Step::Object {
                received_on: self.ago(6),
                note: "该户有经营收入未申报".into(),
            },
        )
        .await;
        let blocked = step(
            db,
            &p.cadre,
            id,
            v,
            Step::CloseNotice {
                note: String::new(),
            },
        )
        .await;
        assert!(matches!(blocked, Outcome::Refused(_)), "{blocked:?}");
        ok(
            db,
            &p.township,
            id,
            v,
            Step::ResolveObjection {
                number: 1,
                note: "经核实，收入已计入".into(),
            },
        )
        .await
    }

    /// Two people act on the same page: one succeeds, the other is told. The case's version
    /// after the one that succeeded.
    async fn two_people_at_once(&self, id: i64, v: i64) -> i64 {
        let (db, p) = (self.db, &self.p);
        let first = step(
            db,
            &p.cadre,
            id,
            v,
            Step::CloseNotice {
                note: String::new(),
            },
        )
        .await;
        assert!(matches!(first, Outcome::Done(_)), "{first:?}");
        let second = step(
            db,
            &p.township,
            id,
            v,
            Step::Comment {
                note: "同一页面的第二次提交".into(),
            },
        )
        .await;
        assert_eq!(second, Outcome::Stale);
        v + 1
    }

    async fn each_level_approves(&self, id: i64, v: i64) {
        let (db, p) = (self.db, &self.p);
        let county_too_early = step(
            db,
            &p.county,
            id,
            v,
            Step::TownshipApprove {
                note: String::new(),
            },
        )
        .await;
        assert!(matches!(county_too_early, Outcome::Refused(_)));
        let v = ok(
            db,
            &p.township,
            id,
            v,
            Step::TownshipApprove {
                note: "同意上报".into(),
            },
        )
        .await;
        let v = ok(
            db,
            &p.county,
            id,
            v,
            Step::CountyApprove {
                category: Some(MonitoringCategory::SuddenHardship),
                risks: vec![RiskType::Illness],
                method: None,
                note: String::new(),
            },
        )
        .await;
        let _ = ok(
            db,
            &p.township,
            id,
            v,
            Step::Announce {
                on: self.today,
                note: String::new(),
            },
        )
        .await;

        let (category, risks, eliminated) = monitoring_fields(db, "CK-P1").await;
        assert_eq!(category.as_deref(), Some("sudden_hardship"));
        assert_eq!(risks.as_deref(), Some("illness"));
        assert_eq!(eliminated, None);
    }

    /// The registry replaces a household on any change (here its phone number and village
    /// group, as an import of an export or an edit would: the record it writes carries what
    /// the procedure wrote): that stays, and the notice names the household's own village
    /// group rather than the one read from its address.
    async fn a_registry_write(&self) {
        let db = self.db;
        let (stored, _) = zhenxing_store::registry::household(db, "CK-P1")
            .await
            .unwrap()
            .unwrap();
        let mut changed = stored.to_draft().unwrap();
        changed.address = Some("城口县巴山镇立新村3组".into());
        changed.village_group = Some(VillageGroup::parse("第五村民小组").unwrap());
        changed.phone = Some(Phone::parse("13900230011").unwrap());
        testing::write_test_households(db, vec![changed]).await;
        let (category, risks, _) = monitoring_fields(db, "CK-P1").await;
        assert_eq!(category.as_deref(), Some("sudden_hardship"));
        assert_eq!(
            risks.as_deref(),
            Some("illness"),
            "risk types survive a registry write"
        );
        let board = procedures::notices(db, VILLAGE, self.today, 30)
            .await
            .unwrap();
        assert_eq!(board[0].village_group.as_deref(), Some("第五村民小组"));
    }

    async fn completed(&self, id: i64) {
        let (db, p) = (self.db, &self.p);
        let view = procedures::monitoring_view(db, &p.county.scope(), "CK-P1")
            .await
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(view.identified_on, Some(self.today.to_string()));
        let detail = procedures::case(db, &p.county.scope(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(detail.case.stage, "completed");
        assert_eq!(detail.steps.len(), 11);
        assert!(detail.steps.iter().all(|s| !s.actor.is_empty()));
        // A closed case takes nothing more.
        let closed = step(
            db,
            &p.county,
            id,
            detail.case.row_version,
            Step::Comment {
                note: "补充说明材料".into(),
            },
        )
        .await;
        assert!(matches!(closed, Outcome::Refused(_)));
        // The village is told.
        let told = procedures::unread_notifications(db, &p.cadre.scope())
            .await
            .unwrap();
        assert_eq!(told.len(), 1);
        assert!(
            procedures::mark_read(db, &p.cadre, told[0].id)
                .await
                .unwrap()
        );
        assert!(
            !procedures::mark_read(db, &p.other_cadre, told[0].id)
                .await
                .unwrap()
        );
    }

    /// Step 7, 录入建档: the completed case waits in its list and in the month's upload file,
    /// the township records its entry (not the village, and only once); nothing else moves.
    async fn entered_in_the_national_system(&self, id: i64) {
        let (db, p, policy, today) = (self.db, &self.p, &self.policy, self.today);
        let scope = p.county.scope();
        let counts = procedures::inbox_counts(db, &scope, today, policy)
            .await
            .unwrap();
        assert_eq!(counts.unrecorded, 1);
        let waiting = procedures::inbox(
            db,
            &scope,
            &CaseInboxQuery::first(CaseFilter::Unrecorded, 10),
            today,
            policy,
        )
        .await
        .unwrap();
        assert_eq!(
            waiting.iter().map(|r| r.case.id).collect::<Vec<_>>(),
            vec![id]
        );
        let month = zhenxing_store::snapshots::Month::of(today);
        let county = DivisionCode::parse(COUNTY).unwrap();
        let entries = procedures::national_entries(db, &county, month)
            .await
            .unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        let (record, _) = zhenxing_store::registry::household(db, "CK-P1")
            .await
            .unwrap()
            .unwrap();
        let head = record
            .members
            .iter()
            .find(|m| m.relation == "head")
            .unwrap();
        let e = &entries[0];
        assert_eq!(
            (e.case_id, e.kind, e.household_no.as_str()),
            (id, CaseKind::Identification, "CK-P1")
        );
        assert_eq!(
            (e.head_name.as_str(), e.head_id_number.as_str()),
            (head.name.as_str(), head.id_number.as_str())
        );
        assert_eq!(e.places[0], "城口县");
        assert_eq!(e.identified_on, Some(today.to_string()));
        assert_eq!(e.category, Some(MonitoringCategory::SuddenHardship));
        assert_eq!(e.risks, vec![RiskType::Illness]);
        assert_eq!(
            (e.recorded_on.clone(), e.record_number.clone()),
            (None, None)
        );
        // Another month, another division: not there.
        let before = procedures::national_entries(db, &county, month.previous())
            .await
            .unwrap();
        assert!(before.is_empty());
        let elsewhere =
            procedures::national_entries(db, &DivisionCode::parse("500230000000").unwrap(), month)
                .await
                .unwrap();
        assert!(elsewhere.is_empty());

        let detail = procedures::case(db, &scope, id).await.unwrap().unwrap();
        let (version, closed_on) = (detail.case.row_version, detail.case.closed_on.clone());
        let record = |number: &str| Step::RecordNational {
            on: today,
            record_number: Some(number.into()),
            note: String::new(),
        };
        let Outcome::Refused(why) = step(db, &p.cadre, id, version, record("500229102")).await
        else {
            panic!("a village cadre recorded the national entry");
        };
        assert!(why.en.contains("township or county officer"), "{}", why.en);
        let v = ok(db, &p.township, id, version, record(" 50022910220200012 ")).await;
        assert_eq!(v, version + 1);
        let Outcome::Refused(why) = step(db, &p.county, id, v, record("50022910220200012")).await
        else {
            panic!("recorded twice");
        };
        assert!(
            why.en.contains("was entered in the national system on"),
            "{}",
            why.en
        );
        let detail = procedures::case(db, &scope, id).await.unwrap().unwrap();
        let c = &detail.case;
        assert_eq!(c.stage, "completed");
        assert_eq!(c.closed_on, closed_on, "the closing day stays");
        assert_eq!(c.national_recorded_on, Some(today.to_string()));
        assert_eq!(
            c.national_record_number.as_deref(),
            Some("50022910220200012")
        );
        assert_eq!(c.national_recorded_by.as_deref(), Some("zhaomin"));
        let last = detail.steps.last().unwrap();
        assert_eq!(
            (last.step.as_str(), last.actor.as_str()),
            ("record_national", "zhaomin")
        );
        // The household is not completed again, and the village is not told twice.
        assert!(
            procedures::unread_notifications(db, &p.cadre.scope())
                .await
                .unwrap()
                .is_empty()
        );
        let view = procedures::monitoring_view(db, &scope, "CK-P1")
            .await
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(view.identified_on, Some(today.to_string()));
        let counts = procedures::inbox_counts(db, &scope, today, policy)
            .await
            .unwrap();
        assert_eq!(counts.unrecorded, 0);
        let e = &procedures::national_entries(db, &county, month)
            .await
            .unwrap()[0];
        assert_eq!(e.recorded_on, Some(today.to_string()));
        assert_eq!(e.record_number.as_deref(), Some("50022910220200012"));
    }

    /// Identification again is refused; elimination with failed preconditions is refused with
    /// them; seven months later they hold.
    async fn elimination_waits(&self) {
        let (db, p, policy) = (self.db, &self.p, &self.policy);
        let twice = procedures::open_case(db, &p.cadre, &self.lead, policy)
            .await
            .unwrap();
        assert!(matches!(twice, Outcome::Refused(_)));
        // Right after identification the preconditions do not hold, and the refusal says which.
        let refused = procedures::open_case(db, &p.cadre, &self.elimination, policy)
            .await
            .unwrap();
        let Outcome::Refused(why) = refused else {
            panic!("{refused:?}")
        };
        assert!(why.en.contains("six months"), "{}", why.en);
        // Seven months pass: the household was registered a year ago, identified seven months
        // ago, its income rose above the threshold, and a public-welfare job was taken up.
        testing::seven_months_later(db, "CK-P1", self.today).await;
        let job = zhenxing_core::assistance::MeasureDraft {
            category: zhenxing_core::assistance::MeasureCategory::PublicWelfareJob,
            content: "村保洁员公益性岗位".into(),
            amount: Some(Fen::from_yuan(6_000)),
            starts_on: self.ago(200),
            ends_on: None,
            status: zhenxing_core::assistance::MeasureStatus::Implemented,
            implemented_on: Some(self.ago(190)),
            risk: Some(RiskType::Illness),
        }
        .build(self.today)
        .unwrap();
        let added = zhenxing_store::assistance::add_measure(db, &p.cadre, "CK-P1", &job)
            .await
            .unwrap();
        assert!(matches!(added, Outcome::Done(_)), "{added:?}");
    }

    /// Withdrawal is a step too: the case closes and nothing else changes.
    async fn an_elimination_withdrawn(&self) {
        let (db, p, policy, today) = (self.db, &self.p, &self.policy, self.today);
        let Outcome::Done(eid) = procedures::open_case(db, &p.cadre, &self.elimination, policy)
            .await
            .unwrap()
        else {
            panic!("elimination refused");
        };
        // DOMAIN.md 1.9 (c): the visit finds the 23,400 yuan of rigid spending; not resolved, the
        // verification is refused and says what to do.
        let Outcome::Refused(why) =
            step(db, &p.cadre, eid, 1, elimination_verification(today, false)).await
        else {
            panic!("large unresolved rigid spending accepted");
        };
        assert!(why.en.contains("23400.00 yuan is large"), "{}", why.en);
        assert!(why.zh.contains("已稳定解决"), "{}", why.zh);
        let mut v = ok(db, &p.cadre, eid, 1, elimination_verification(today, true)).await;
        v = ok(
            db,
            &p.cadre,
            eid,
            v,
            Step::Appraise {
                held_on: today,
                attendance: 9,
                participants: "村两委、村民代表".into(),
                agreed: true,
                note: String::new(),
            },
        )
        .await;
        // The notice starts today and runs five days: it cannot close today.
        v = ok(
            db,
            &p.cadre,
            eid,
            v,
            Step::PostNotice {
                starts_on: today,
                ends_on: today + Duration::days(4),
            },
        )
        .await;
        let not_yet = step(
            db,
            &p.cadre,
            eid,
            v,
            Step::CloseNotice {
                note: String::new(),
            },
        )
        .await;
        assert!(matches!(not_yet, Outcome::Refused(_)));
        ok(
            db,
            &p.township,
            eid,
            v,
            Step::Withdraw {
                reason: "农户收入尚不稳定".into(),
            },
        )
        .await;
        let (_, _, eliminated) = monitoring_fields(db, "CK-P1").await;
        assert_eq!(eliminated, None);
    }

    /// The elimination again, to the end this time (its notice posted days ago).
    async fn an_elimination_completed(&self) {
        let (db, p, policy, today) = (self.db, &self.p, &self.policy, self.today);
        let again = OpenRequest {
            found_on: self.ago(8),
            ..self.elimination.clone()
        };
        // DOMAIN.md 1.9 (e): a new risk reported on a visit stops the elimination until the
        // warning is settled.
        let first = new_risk_reported(db, &p.cadre, "CK-P1", today).await;
        let Outcome::Refused(why) = procedures::open_case(db, &p.cadre, &again, policy)
            .await
            .unwrap()
        else {
            panic!("elimination opened with an active warning");
        };
        assert!(
            why.en.contains(&format!("warning {first} (cadre's visit")),
            "{}",
            why.en
        );
        dismissed(db, &p.township, first).await;
        let Outcome::Done(eid) = procedures::open_case(db, &p.cadre, &again, policy)
            .await
            .unwrap()
        else {
            panic!("second elimination refused");
        };
        let mut v = ok(
            db,
            &p.cadre,
            eid,
            1,
            elimination_verification(self.ago(8), true),
        )
        .await;
        v = self.village_and_township_agree(eid, v, 7, 9).await;
        // Another new risk, reported while the case waits for the county: refused, then settled.
        let second = new_risk_reported(db, &p.cadre, "CK-P1", today).await;
        let approve = Step::CountyApprove {
            category: None,
            risks: Vec::new(),
            method: Some(zhenxing_core::procedure::EliminationMethod::ByAssistance),
            note: String::new(),
        };
        let Outcome::Refused(why) = step(db, &p.county, eid, v, approve).await else {
            panic!("eliminated with an active warning");
        };
        assert!(why.zh.contains(&format!("预警{second}")), "{}", why.zh);
        dismissed(db, &p.township, second).await;
        // The method must fit the measures: a development-type measure was implemented.
        v = ok(
            db,
            &p.county,
            eid,
            v,
            Step::CountyApprove {
                category: None,
                risks: Vec::new(),
                method: Some(zhenxing_core::procedure::EliminationMethod::ByAssistance),
                note: String::new(),
            },
        )
        .await;
        ok(
            db,
            &p.township,
            eid,
            v,
            Step::Announce {
                on: today,
                note: String::new(),
            },
        )
        .await;
        let (category, _, eliminated) = monitoring_fields(db, "CK-P1").await;
        assert_eq!(
            category.as_deref(),
            Some("sudden_hardship"),
            "the household stays in the registry"
        );
        assert_eq!(eliminated, Some(today.to_string()));
    }

    /// A new risk: re-entry by a new identification, which clears the elimination.
    async fn reentry(&self) {
        let (db, p, policy, today) = (self.db, &self.p, &self.policy, self.today);
        let reentry = OpenRequest {
            found_on: self.ago(9),
            ..self.lead.clone()
        };
        let Outcome::Done(rid) = procedures::open_case(db, &p.cadre, &reentry, policy)
            .await
            .unwrap()
        else {
            panic!("re-entry refused");
        };
        let mut v = ok(db, &p.cadre, rid, 1, verification(self.ago(9))).await;
        v = ok(
            db,
            &p.county,
            rid,
            v,
            Step::Compare {
                consistent: true,
                note: String::new(),
            },
        )
        .await;
        v = self.village_and_township_agree(rid, v, 8, 10).await;
        v = ok(
            db,
            &p.county,
            rid,
            v,
            Step::CountyApprove {
                category: Some(MonitoringCategory::UnstableLiftedOut),
                risks: vec![RiskType::Accident],
                method: None,
                note: String::new(),
            },
        )
        .await;
        ok(
            db,
            &p.township,
            rid,
            v,
            Step::Announce {
                on: today,
                note: String::new(),
            },
        )
        .await;
        let (category, risks, eliminated) = monitoring_fields(db, "CK-P1").await;
        assert_eq!(category.as_deref(), Some("unstable_lifted_out"));
        assert_eq!(risks.as_deref(), Some("accident"));
        assert_eq!(eliminated, None);
    }

    /// The county sees every case, the other village none.
    async fn inbox_by_scope(&self) {
        let (db, p, policy, today) = (self.db, &self.p, &self.policy, self.today);
        let all = procedures::inbox(
            db,
            &p.county.scope(),
            &CaseInboxQuery::first(CaseFilter::Closed, 50),
            today,
            policy,
        )
        .await
        .unwrap();
        assert_eq!(all.len(), 4);
        let none = procedures::inbox(
            db,
            &p.other_cadre.scope(),
            &CaseInboxQuery::first(CaseFilter::Closed, 50),
            today,
            policy,
        )
        .await
        .unwrap();
        assert!(none.is_empty());
    }

    /// Steps are never edited, by anyone; the audit chain stays whole.
    async fn steps_are_never_edited(&self) {
        let db = self.db;
        let edit = match db {
            Db::Sqlite(pool) => sqlx::query("UPDATE case_steps SET note = 'x'")
                .execute(pool)
                .await
                .map(|_| ()),
            Db::Postgres(pool) => sqlx::query("UPDATE case_steps SET note = 'x'")
                .execute(pool)
                .await
                .map(|_| ()),
        };
        assert!(edit.is_err());
        let chain = zhenxing_store::audit::verify(db).await.unwrap();
        assert!(chain.problems.is_empty(), "{:?}", chain.problems);
    }
}

#[tokio::test]
async fn overdue_cases_stand_out_and_the_time_limit_is_a_setting() {
    testing::each_backend(async |db: &Db| {
        let households = (0..4)
            .map(|i| {
                testing::test_household(
                    &format!("CK-T{i}"),
                    VILLAGE,
                    &testing::test_id_number(10 + i),
                    5_000,
                )
            })
            .collect();
        testing::write_test_households(db, households).await;
        let p = people(db).await;
        let today = today_in_china();
        let policy = procedures::policy(db).await.unwrap();
        assert_eq!(policy, ProcedurePolicy::default());
        // Opened 20, 13, 12 and 1 days ago: overdue, near (past 12 of 15 days), on time (12 of
        // 15 days, not past them), on time.
        for (i, days) in [20, 13, 12, 1].into_iter().enumerate() {
            let lead = OpenRequest {
                household_no: format!("CK-T{i}"),
                kind: CaseKind::Identification,
                channel: Some(WarningChannel::SelfDeclaration),
                warning_id: None,
                found_on: today - Duration::days(days),
                emergency: None,
                note: String::new(),
            };
            let opened = procedures::open_case(db, &p.cadre, &lead, &policy)
                .await
                .unwrap();
            assert!(matches!(opened, Outcome::Done(_)), "{opened:?}");
        }
        let counts = procedures::inbox_counts(db, &p.county.scope(), today, &policy)
            .await
            .unwrap();
        assert_eq!((counts.open, counts.urgent, counts.overdue), (4, 2, 1));
        let open = procedures::inbox(
            db,
            &p.township.scope(),
            &CaseInboxQuery::first(CaseFilter::Open, 50),
            today,
            &policy,
        )
        .await
        .unwrap();
        assert_eq!(
            open.iter()
                .map(|r| r.case.household_no.as_str())
                .collect::<Vec<_>>(),
            ["CK-T0", "CK-T1", "CK-T2", "CK-T3"]
        );
        // Pages follow one another in the same order, and the total counts them all.
        let second_page = procedures::inbox(
            db,
            &p.township.scope(),
            &CaseInboxQuery {
                offset: 2,
                limit: 2,
                ..CaseInboxQuery::first(CaseFilter::Open, 2)
            },
            today,
            &policy,
        )
        .await
        .unwrap();
        assert_eq!(
            second_page
                .iter()
                .map(|r| r.case.household_no.as_str())
                .collect::<Vec<_>>(),
            ["CK-T2", "CK-T3"]
        );
        let township_scope = p.township.scope();
        let total = |filter, kind| {
            procedures::inbox_total(db, &township_scope, filter, kind, today, &policy)
        };
        assert_eq!(total(CaseFilter::Open, None).await.unwrap(), 4);
        assert_eq!(total(CaseFilter::Overdue, None).await.unwrap(), 1);
        assert_eq!(
            total(CaseFilter::Urgent, Some(CaseKind::Identification))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            total(CaseFilter::Open, Some(CaseKind::Elimination))
                .await
                .unwrap(),
            0
        );
        let overdue = procedures::inbox(
            db,
            &p.township.scope(),
            &CaseInboxQuery::first(CaseFilter::Overdue, 50),
            today,
            &policy,
        )
        .await
        .unwrap();
        assert_eq!(overdue.len(), 1);
        assert_eq!(
            overdue[0].case.urgency(today, &policy),
            zhenxing_core::procedure::Urgency::Overdue
        );
        let urgent = procedures::inbox(
            db,
            &p.township.scope(),
            &CaseInboxQuery {
                kind: Some(CaseKind::Identification),
                ..CaseInboxQuery::first(CaseFilter::Urgent, 50)
            },
            today,
            &policy,
        )
        .await
        .unwrap();
        assert_eq!(urgent.len(), 2);
        // The list and the marks on the page agree: exactly the cases the core calls near or
        // overdue are urgent.
        for row in &open {
            let marked = matches!(
                row.case.urgency(today, &policy),
                zhenxing_core::procedure::Urgency::Near
                    | zhenxing_core::procedure::Urgency::Overdue
            );
            let listed = urgent.iter().any(|u| u.case.id == row.case.id);
            assert_eq!(marked, listed, "{}", row.case.household_no);
        }

        // A shorter notice than the law allows is refused; a longer limit is kept and audited.
        let bad = ProcedurePolicy {
            notice_days: 3,
            ..policy.clone()
        };
        assert!(
            procedures::set_policy(db, "admin", &bad)
                .await
                .unwrap()
                .is_err()
        );
        let longer = ProcedurePolicy {
            limit_days: 20,
            ..policy
        };
        procedures::set_policy(db, "admin", &longer)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(procedures::policy(db).await.unwrap(), longer);
        let chain = zhenxing_store::audit::verify(db).await.unwrap();
        assert!(chain.problems.is_empty());
    })
    .await;
}
