#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The public portal in the store, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: a
//! self-declaration becomes a lead in the township's inbox in the same transaction; tickets go
//! from received to closed with stale steps refused; tracking codes open their own submission
//! only; reports about a person are read only by designated county officers (the auditor reads
//! the audit trail only, issue 15);
//! publications are public from their day on; everything is audited without personal numbers.

use time::Duration;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::portal::{
    AnnouncementForm, DeclarationForm, PortalPolicy, TicketForm, TicketStep,
};
use zhenxing_core::warning::{InboxPolicy, WarningChannel, WarningStatus};
use zhenxing_core::*;
use zhenxing_store::accounts::Account;
use zhenxing_store::portal::{self, TicketFilter, TicketStepRequest, Tracked};
use zhenxing_store::warnings::{self, InboxQuery, Raised, StatusFilter};
use zhenxing_store::{Db, testing};
use zhenxing_store::{Outcome, Written};

const VILLAGE: &str = "500229102202";
const TOWNSHIP: &str = "500229102000";
const COUNTY: &str = "500229000000";
const PASSWORD: &str = "Portal-Test-2026";

async fn account(db: &Db, name: &str, role: Role, division: &str) -> Account {
    db.create_account(
        name,
        role,
        &DivisionCode::parse(division).unwrap(),
        PASSWORD,
        "test",
    )
    .await
    .unwrap()
}

fn declaration(village: &str, id_number: &str) -> DeclarationForm {
    DeclarationForm {
        applicant: "王世华".into(),
        id_number: id_number.into(),
        village: village.into(),
        phone: "13900000001".into(),
        events: vec!["illness".into(), "job_loss".into()],
        account: "儿子失业，妻子需要手术".into(),
        commitment: Some("yes".into()),
        authorisation: Some("yes".into()),
        privacy: Some("yes".into()),
    }
}

fn ticket(kind: &str, category: &str, division: &str) -> TicketForm {
    TicketForm {
        kind: kind.into(),
        category: category.into(),
        division: division.into(),
        subject: "公益性岗位补贴".into(),
        body: "请问公益性岗位补贴如何申请？".into(),
        privacy: Some("yes".into()),
        ..TicketForm::default()
    }
}

#[tokio::test]
async fn a_declaration_is_a_lead_in_the_township_inbox() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let township = account(db, "zhaomin", Role::TownshipOfficer, TOWNSHIP).await;
        let other = account(db, "wuxi_town", Role::TownshipOfficer, "500238101000").await;
        // A registered member declares: the lead is on the household.
        let id = testing::test_id_number(7);
        testing::write_test_households(
            db,
            vec![testing::test_household("CK-P1", VILLAGE, &id, 9_000)],
        )
        .await;
        let policy = PortalPolicy::default();
        let d = declaration(VILLAGE, &id).check(today).unwrap();
        let first = portal::declare(db, &d, &policy, today)
            .await
            .unwrap()
            .unwrap();
        // Someone not registered declares in the same village: a provisional number.
        let unregistered = testing::test_id_number(8);
        let d2 = declaration(VILLAGE, &unregistered).check(today).unwrap();
        let second = portal::declare(db, &d2, &policy, today)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(first.tracking_code, second.tracking_code);

        let inbox = warnings::inbox(
            db,
            &township.scope(),
            &InboxQuery {
                status: StatusFilter::Active,
                channel: Some(WarningChannel::SelfDeclaration),
                limit: 50,
                ..InboxQuery::default()
            },
            today,
        )
        .await
        .unwrap();
        assert_eq!(inbox.len(), 2, "{inbox:?}");
        let registered = inbox.iter().find(|w| w.household_no == "CK-P1").unwrap();
        assert_eq!(registered.status, "new");
        assert_eq!(registered.division_code, VILLAGE);
        // Due for acceptance within the default 2 days.
        assert_eq!(
            registered.due_on.as_deref(),
            Some((today + Duration::days(2)).to_string().as_str())
        );
        assert!(registered.risk_types.contains("illness"));
        assert!(registered.risk_types.contains("unstable_employment"));
        let provisional = inbox.iter().find(|w| w.household_no != "CK-P1").unwrap();
        assert_eq!(provisional.household_no, format!("SB-500229-{}", second.id));
        // Another county's township sees nothing.
        let elsewhere = warnings::inbox(
            db,
            &other.scope(),
            &InboxQuery {
                limit: 50,
                ..InboxQuery::default()
            },
            today,
        )
        .await
        .unwrap();
        assert!(elsewhere.is_empty());

        // The officer reads the declaration behind the warning, numbers masked.
        let behind = portal::declarations_of_warning(db, &township.scope(), registered.id)
            .await
            .unwrap();
        assert_eq!(behind.len(), 1);
        assert_eq!(behind[0].masked_phone(), "139****0001");
        assert!(behind[0].masked_id_number().contains("********"));
        assert!(
            portal::declarations_of_warning(db, &other.scope(), registered.id)
                .await
                .unwrap()
                .is_empty()
        );

        // The applicant follows it: new, then accepted once the township assigns it.
        let Some(Tracked::Declaration { status, .. }) =
            portal::track(db, &first.tracking_code).await.unwrap()
        else {
            panic!("the code opens the declaration");
        };
        assert_eq!(status, WarningStatus::New);
        let cadre = account(db, "lihong", Role::VillageCadre, VILLAGE).await;
        let detail = warnings::warning(db, &township.scope(), registered.id)
            .await
            .unwrap()
            .unwrap();
        let step = warnings::take_step(
            db,
            &township,
            &warnings::StepRequest {
                warning_id: registered.id,
                expected_version: detail.row_version,
                step: zhenxing_core::warning::WarningStep::Assign {
                    deadline: today + Duration::days(5),
                },
                assignee: Some(cadre.name.clone()),
            },
            &zhenxing_core::warning::InboxPolicy::default(),
        )
        .await
        .unwrap();
        assert!(matches!(step, Outcome::Done(_)), "{step:?}");
        let lowercase = first.tracking_code.to_lowercase().replace('-', " ");
        let Some(Tracked::Declaration { status, .. }) =
            portal::track(db, &lowercase).await.unwrap()
        else {
            panic!("the code opens the declaration, typed in lower case with spaces");
        };
        assert_eq!(status, WarningStatus::Assigned);

        // The audit trail names the public as the actor and holds no personal numbers.
        let log = zhenxing_store::audit::recent(db, 100).await.unwrap();
        let declared: Vec<_> = log
            .iter()
            .filter(|e| e.action == "portal.declaration")
            .collect();
        assert_eq!(declared.len(), 2);
        for e in &declared {
            assert_eq!(e.actor, "public");
            let text = format!("{e:?}");
            for secret in [id.as_str(), unregistered.as_str(), "13900000001", "王世华"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        testing::assert_chain_intact(db).await;
    })
    .await;
}

#[tokio::test]
async fn a_village_not_in_the_table_stores_nothing() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let d = declaration("500229102299", &testing::test_id_number(1))
            .check(today)
            .unwrap();
        let out = portal::declare(db, &d, &PortalPolicy::default(), today)
            .await
            .unwrap();
        assert!(out.is_none());
        let t = ticket("consultation", "policy_execution", "500229999000")
            .check()
            .unwrap();
        assert!(
            portal::submit_ticket(db, &t, &[], &PortalPolicy::default(), today)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            zhenxing_store::audit::recent(db, 10)
                .await
                .unwrap()
                .iter()
                .all(|e| !e.action.starts_with("portal."))
        );
    })
    .await;
}

/// Takes a step that must succeed.
async fn step(db: &Db, who: &Account, id: i64, version: i64, s: TicketStep, text: &str) -> i64 {
    let out = portal::take_ticket_step(
        db,
        who,
        &TicketStepRequest {
            ticket_id: id,
            expected_version: version,
            step: s,
            assignee: Some(text.to_owned()),
            answer: Some(text.to_owned()),
        },
    )
    .await
    .unwrap();
    match out {
        Outcome::Done(Written { version, .. }) => version,
        other => panic!("{s:?} by {}: {other:?}", who.name),
    }
}

#[tokio::test]
async fn a_ticket_from_question_to_answer() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let county = account(db, "chenjie", Role::CountyOfficer, COUNTY).await;
        let township = account(db, "zhaomin", Role::TownshipOfficer, TOWNSHIP).await;
        let other_county = account(db, "wuxi", Role::CountyOfficer, "500238000000").await;
        let auditor = account(db, "auditor", Role::Auditor, "500000000000").await;
        let cadre = account(db, "lihong", Role::VillageCadre, VILLAGE).await;
        let policy = PortalPolicy {
            ticket_limit_days: 10,
            ..PortalPolicy::default()
        };
        portal::set_policy(db, "admin", &policy)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(portal::policy(db).await.unwrap(), policy);
        let t = ticket("consultation", "policy_execution", VILLAGE)
            .check()
            .unwrap();
        let s = portal::submit_ticket(db, &t, &[], &portal::policy(db).await.unwrap(), today)
            .await
            .unwrap()
            .unwrap();
        // Routed to the county of the village, due in 10 days.
        let row = portal::ticket(db, &county, s.id).await.unwrap().unwrap();
        assert_eq!(row.county_code, "500229");
        assert_eq!(row.due_on, (today + Duration::days(10)).to_string());
        assert!(!row.is_overdue(today));
        assert!(row.is_overdue(today + Duration::days(11)));
        assert!(row.requester.is_none() && row.phone.is_none());
        // Seen in the county's and the township's inbox, not elsewhere (nor by the auditor,
        // who reads the audit trail only).
        for who in [&county, &township] {
            let inbox = portal::ticket_inbox(db, who, TicketFilter::Open, today, 50)
                .await
                .unwrap();
            assert_eq!(inbox.len(), 1, "{}", who.name);
        }
        for who in [&other_county, &cadre, &auditor] {
            assert!(
                portal::ticket_inbox(db, who, TicketFilter::All, today, 50)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(portal::ticket(db, who, s.id).await.unwrap().is_none());
        }
        assert!(
            portal::ticket_inbox(db, &county, TicketFilter::Overdue, today, 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            portal::ticket_inbox(
                db,
                &county,
                TicketFilter::Overdue,
                today + Duration::days(11),
                50
            )
            .await
            .unwrap()
            .len(),
            1
        );

        // Closing before an answer is refused; a wrong assignee is refused; the auditor may not act.
        let refused = portal::take_ticket_step(
            db,
            &county,
            &TicketStepRequest {
                ticket_id: s.id,
                expected_version: 1,
                step: TicketStep::Close,
                assignee: None,
                answer: None,
            },
        )
        .await
        .unwrap();
        assert!(matches!(refused, Outcome::Refused(_)), "{refused:?}");
        let refused = portal::take_ticket_step(
            db,
            &county,
            &TicketStepRequest {
                ticket_id: s.id,
                expected_version: 1,
                step: TicketStep::Assign,
                assignee: Some("wuxi".into()),
                answer: None,
            },
        )
        .await
        .unwrap();
        assert!(matches!(refused, Outcome::Refused(_)), "{refused:?}");
        let refused = portal::take_ticket_step(
            db,
            &auditor,
            &TicketStepRequest {
                ticket_id: s.id,
                expected_version: 1,
                step: TicketStep::Answer,
                assignee: None,
                answer: Some("审计人员不能答复".into()),
            },
        )
        .await
        .unwrap();
        // The auditor reads no tickets (issue 15): for it the ticket does not exist.
        assert!(matches!(refused, Outcome::NotFound), "{refused:?}");

        let v = step(db, &county, s.id, 1, TicketStep::Assign, "zhaomin").await;
        // A page loaded before the assignment is stale.
        let stale = portal::take_ticket_step(
            db,
            &township,
            &TicketStepRequest {
                ticket_id: s.id,
                expected_version: 1,
                step: TicketStep::Answer,
                assignee: None,
                answer: Some("过时页面上的答复".into()),
            },
        )
        .await
        .unwrap();
        assert_eq!(stale, Outcome::Stale);
        let answer = "可向所在村提出申请，乡镇审核后安排。";
        let v = step(db, &township, s.id, v, TicketStep::Answer, answer).await;
        // The requester reads the answer with the code.
        let Some(Tracked::Ticket(seen)) = portal::track(db, &s.tracking_code).await.unwrap() else {
            panic!("the code opens the ticket");
        };
        assert_eq!(seen.status, "answered");
        assert_eq!(seen.answer.as_deref(), Some(answer));
        assert_eq!(seen.answered_by.as_deref(), Some("zhaomin"));
        step(db, &township, s.id, v, TicketStep::Close, "").await;
        let closed = portal::ticket(db, &county, s.id).await.unwrap().unwrap();
        assert_eq!(closed.status, "closed");
        assert!(closed.closed_at.is_some());
        testing::assert_chain_intact(db).await;
    })
    .await;
}

#[tokio::test]
async fn tracking_codes_open_only_their_own_submission() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let t = ticket("suggestion", "other", COUNTY).check().unwrap();
        let s = portal::submit_ticket(db, &t, &[], &PortalPolicy::default(), today)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(s.tracking_code.len(), 19);
        assert!(portal::track(db, &s.tracking_code).await.unwrap().is_some());
        // One character changed, malformed, empty, or the code's own hash: nothing.
        let mut wrong: Vec<char> = s.tracking_code.chars().collect();
        wrong[0] = if wrong[0] == 'A' { 'B' } else { 'A' };
        let wrong: String = wrong.into_iter().collect();
        for code in [wrong.as_str(), "", "not a code", "0000-0000-0000-0000"] {
            assert!(portal::track(db, code).await.unwrap().is_none(), "{code}");
        }
    })
    .await;
}

#[tokio::test]
async fn reports_about_a_person_only_for_designated_officers() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let admin = account(db, "admin", Role::MunicipalAdmin, "500000000000").await;
        let designated = account(db, "jiwei", Role::CountyOfficer, COUNTY).await;
        let county = account(db, "chenjie", Role::CountyOfficer, COUNTY).await;
        let township = account(db, "zhaomin", Role::TownshipOfficer, TOWNSHIP).await;
        let auditor = account(db, "auditor", Role::Auditor, "500000000000").await;
        let other_designated = account(db, "wuxi", Role::CountyOfficer, "500238000000").await;
        for who in [&designated, &other_designated] {
            assert!(matches!(
                portal::designate(db, &admin, &who.name, true)
                    .await
                    .unwrap(),
                Outcome::Done(_)
            ));
        }
        // Only county officers can be designated, only by the administrator.
        assert!(matches!(
            portal::designate(db, &admin, &township.name, true)
                .await
                .unwrap(),
            Outcome::Refused(_)
        ));
        assert!(matches!(
            portal::designate(db, &county, &county.name, true)
                .await
                .unwrap(),
            Outcome::Refused(_)
        ));
        assert_eq!(
            portal::designate(db, &admin, "nobody", true).await.unwrap(),
            Outcome::NotFound
        );
        let person = TicketForm {
            named: Some("yes".into()),
            requester: "李四".into(),
            phone: "13900000002".into(),
            ..ticket("report", "cadre_conduct", VILLAGE)
        }
        .check()
        .unwrap();
        assert!(person.about_person);
        let ordinary = ticket("report", "funds", VILLAGE).check().unwrap();
        let policy = PortalPolicy::default();
        let p = portal::submit_ticket(db, &person, &[], &policy, today)
            .await
            .unwrap()
            .unwrap();
        let o = portal::submit_ticket(db, &ordinary, &[], &policy, today)
            .await
            .unwrap()
            .unwrap();
        let sees = async |who: &Account| {
            let inbox = portal::ticket_inbox(db, who, TicketFilter::All, today, 50)
                .await
                .unwrap();
            let one = portal::ticket(db, who, p.id).await.unwrap();
            assert_eq!(
                inbox.iter().any(|t| t.id == p.id),
                one.is_some(),
                "{}",
                who.name
            );
            one.is_some()
        };
        assert!(sees(&designated).await);
        assert!(!sees(&auditor).await);
        assert!(!sees(&county).await);
        assert!(!sees(&township).await);
        assert!(!sees(&other_designated).await, "another county's designee");
        // The ordinary report is read by the county and the township as usual.
        assert!(portal::ticket(db, &county, o.id).await.unwrap().is_some());
        assert!(portal::ticket(db, &township, o.id).await.unwrap().is_some());
        // Only a designated officer can be assigned the person report, and the number is masked.
        let row = portal::ticket(db, &designated, p.id)
            .await
            .unwrap()
            .unwrap();
        let names: Vec<String> = portal::ticket_assignees(db, &row)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["jiwei"]);
        assert_eq!(row.masked_phone().as_deref(), Some("139****0002"));
        // The undesignated officer cannot act on it either: it answers as not found.
        let out = portal::take_ticket_step(
            db,
            &county,
            &TicketStepRequest {
                ticket_id: p.id,
                expected_version: 1,
                step: TicketStep::Answer,
                assignee: None,
                answer: Some("已转纪检部门核查".into()),
            },
        )
        .await
        .unwrap();
        assert_eq!(out, Outcome::NotFound);
        // Ending the designation ends the access.
        portal::designate(db, &admin, "jiwei", false).await.unwrap();
        assert!(!sees(&designated).await);
        let log = zhenxing_store::audit::recent(db, 100).await.unwrap();
        assert!(log.iter().filter(|e| e.action == "portal.ticket").all(|e| {
            !format!("{e:?}").contains("13900000002") && !format!("{e:?}").contains("李四")
        }));
    })
    .await;
}

#[tokio::test]
async fn publications_are_public_from_their_day_until_withdrawn() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let admin = account(db, "admin", Role::MunicipalAdmin, "500000000000").await;
        let county = account(db, "chenjie", Role::CountyOfficer, COUNTY).await;
        let draft = AnnouncementForm {
            kind: "announcement".into(),
            title_zh: "关于防止返贫动态监测的通知".into(),
            body_zh: "各区县：\n\n请做好监测工作。".into(),
            ..AnnouncementForm::default()
        }
        .check()
        .unwrap();
        let Outcome::Done(Written { id, version }) =
            portal::save_announcement(db, &admin, None, &draft)
                .await
                .unwrap()
        else {
            panic!("saved");
        };
        assert_eq!(
            portal::save_announcement(db, &county, None, &draft)
                .await
                .unwrap(),
            Outcome::NotFound
        );
        assert!(portal::published(db, today).await.unwrap().is_empty());
        // Translated: the edit is guarded by the version.
        let translated = zhenxing_core::portal::Announcement {
            title_en: "Notice on monitoring".into(),
            body_en: "To every county:\n\nplease monitor.".into(),
            ..draft.clone()
        };
        let Outcome::Done(Written { version, .. }) =
            portal::save_announcement(db, &admin, Some((id, version)), &translated)
                .await
                .unwrap()
        else {
            panic!("translated");
        };
        assert_eq!(
            portal::save_announcement(db, &admin, Some((id, version - 1)), &translated)
                .await
                .unwrap(),
            Outcome::Stale
        );
        // Scheduled for tomorrow: not public today, public tomorrow.
        let yesterday = today - Duration::days(1);
        assert!(matches!(
            portal::set_announcement_status(db, &admin, id, version, Some(yesterday), today)
                .await
                .unwrap(),
            Outcome::Refused(_)
        ));
        let tomorrow = today + Duration::days(1);
        let Outcome::Done(Written { version, .. }) =
            portal::set_announcement_status(db, &admin, id, version, Some(tomorrow), today)
                .await
                .unwrap()
        else {
            panic!("scheduled");
        };
        assert!(portal::published(db, today).await.unwrap().is_empty());
        let public = portal::published(db, tomorrow).await.unwrap();
        assert_eq!(public.len(), 1);
        assert_eq!(public[0].title(Lang::En), "Notice on monitoring");
        assert!(public[0].is_public(tomorrow) && !public[0].is_public(today));
        portal::set_announcement_status(db, &admin, id, version, None, today)
            .await
            .unwrap();
        assert!(portal::published(db, tomorrow).await.unwrap().is_empty());
        let actions: Vec<String> = zhenxing_store::audit::recent(db, 20)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .filter(|a| a.starts_with("announcement."))
            .collect();
        assert_eq!(actions.len(), 4, "{actions:?}");
    })
    .await;
}

/// The self-declaration leads of a scope, active first: (id, household number, row version).
async fn leads(db: &Db, scope: &Scope) -> Vec<(i64, String, i64)> {
    let today = today_in_china();
    let mut out = Vec::new();
    for row in warnings::inbox(
        db,
        scope,
        &InboxQuery {
            status: StatusFilter::All,
            channel: Some(WarningChannel::SelfDeclaration),
            limit: 50,
            ..InboxQuery::default()
        },
        today,
    )
    .await
    .unwrap()
    {
        let w = warnings::warning(db, scope, row.id).await.unwrap().unwrap();
        out.push((w.id, w.household_no, w.row_version));
    }
    out
}

#[tokio::test]
async fn a_provisional_lead_moves_to_its_registered_household_once() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let township = account(db, "zhaomin", Role::TownshipOfficer, TOWNSHIP).await;
        let auditor = account(db, "auditor", Role::Auditor, "500000000000").await;
        let policy = PortalPolicy::default();
        let declarant = testing::test_id_number(21);
        let d = declaration(VILLAGE, &declarant).check(today).unwrap();
        let first = portal::declare(db, &d, &policy, today)
            .await
            .unwrap()
            .unwrap();
        let provisional = format!("SB-500229-{}", first.id);
        assert!(portal::is_provisional_household_no(&provisional));
        assert!(!portal::is_provisional_household_no("CK-P2"));
        let (lead, no, version) = leads(db, &township.scope()).await.remove(0);
        assert_eq!(no, provisional);

        // Registered since, and declaring again: that lead is on the household and open.
        testing::write_test_households(
            db,
            vec![testing::test_household("CK-P2", VILLAGE, &declarant, 9_000)],
        )
        .await;
        portal::declare(db, &d, &policy, today)
            .await
            .unwrap()
            .unwrap();
        let open = leads(db, &township.scope())
            .await
            .into_iter()
            .find(|l| l.1 == "CK-P2")
            .unwrap();

        // Refused: a role that writes nothing, a stale page, an open lead already there.
        let refused = portal::link_household(db, &auditor, lead, version, "CK-P2")
            .await
            .unwrap();
        assert!(matches!(refused, Outcome::Refused(_)), "{refused:?}");
        let stale = portal::link_household(db, &township, lead, version + 1, "CK-P2")
            .await
            .unwrap();
        assert_eq!(stale, Outcome::Stale);
        let Outcome::Refused(reason) =
            portal::link_household(db, &township, lead, version, "CK-P2")
                .await
                .unwrap()
        else {
            panic!("an open lead on the household");
        };
        assert!(
            reason
                .en
                .contains("already has an open self-declaration warning"),
            "{reason:?}"
        );
        assert!(reason.zh.contains(&format!("第{}号", open.0)), "{reason:?}");
        let missing = portal::link_household(db, &township, lead + 100, version, "CK-P2")
            .await
            .unwrap();
        assert_eq!(missing, Outcome::NotFound);

        // Once that one is dismissed, the provisional lead moves.
        let dismissed = warnings::take_step(
            db,
            &township,
            &warnings::StepRequest {
                warning_id: open.0,
                expected_version: open.2,
                step: zhenxing_core::warning::WarningStep::Dismiss {
                    reason: "与另一条申报线索重复".into(),
                },
                assignee: None,
            },
            &zhenxing_core::warning::InboxPolicy::default(),
        )
        .await
        .unwrap();
        assert!(matches!(dismissed, Outcome::Done(_)), "{dismissed:?}");
        let done = portal::link_household(db, &township, lead, version, "CK-P2")
            .await
            .unwrap();
        assert_eq!(
            done,
            Outcome::Done(Written {
                id: lead,
                version: version + 1
            })
        );
        let w = warnings::warning(db, &township.scope(), lead)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (w.household_no.as_str(), w.status.as_str()),
            ("CK-P2", "new")
        );
        assert!(w.head_name.is_some(), "the registered household's head");
        for row in portal::declarations_of_warning(db, &township.scope(), lead)
            .await
            .unwrap()
        {
            assert_eq!(row.household_no, "CK-P2");
        }
        // The household's own history lists the lead now.
        let on_household = warnings::household_warnings(db, &township.scope(), "CK-P2")
            .await
            .unwrap();
        assert!(on_household.iter().any(|h| h.id == lead));
        // Linked once: no longer on a provisional number.
        let again = portal::link_household(db, &township, lead, version + 1, "CK-P2")
            .await
            .unwrap();
        assert!(matches!(again, Outcome::Refused(_)), "{again:?}");
        let trail = zhenxing_store::audit::recent(db, 100).await.unwrap();
        let linked: Vec<_> = trail
            .iter()
            .filter(|r| r.action == "warning.link_household")
            .collect();
        assert_eq!(linked.len(), 1);
        assert_eq!(linked[0].division_code.as_deref(), Some(VILLAGE));
        assert!(!format!("{trail:?}").contains(&declarant));
    })
    .await;
}

/// A village of 万州区 and one of 开州区: two counties.
const WANZHOU_VILLAGE: &str = "500101109200";
const KAIZHOU_VILLAGE: &str = "500154122200";

/// Every self-declaration lead in the municipality: (id, household, county, village, status).
async fn all_leads(db: &Db) -> Vec<(i64, String, String, String, String)> {
    let everywhere = Scope::new(DivisionCode::parse("500000000000").unwrap());
    let mut out = Vec::new();
    for (id, no, _) in leads(db, &everywhere).await {
        let w = warnings::warning(db, &everywhere, id)
            .await
            .unwrap()
            .unwrap();
        out.push((id, no, w.county_code, w.division_code, w.status));
    }
    out.sort();
    out
}

/// A report of a self-declaration on `household_no` by `actor`, as the report page sends it.
async fn report_by(db: &Db, actor: &Account, household_no: &str, note: &str) -> Option<Raised> {
    let report = warnings::Report {
        household_no: household_no.into(),
        channel: WarningChannel::SelfDeclaration,
        on: today_in_china(),
        risks: vec![zhenxing_core::monitoring::RiskType::Illness],
        category: None,
        note: note.into(),
    };
    warnings::report(db, actor, &report, &InboxPolicy::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_declaration_naming_another_countys_village_goes_to_the_households_own() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let policy = PortalPolicy::default();
        let wanzhou = account(db, "wanzhou", Role::CountyOfficer, "500101000000").await;
        let yuexi = account(db, "yuexi", Role::TownshipOfficer, "500154122000").await;
        let yuexi_cadre = account(db, "yuexi_cadre", Role::VillageCadre, KAIZHOU_VILLAGE).await;
        let id = testing::test_id_number(31);
        testing::write_test_households(
            db,
            vec![testing::test_household(
                "WZ-0001",
                WANZHOU_VILLAGE,
                &id,
                9_000,
            )],
        )
        .await;

        // Anyone may declare for 开州's village with the ID number of a 万州 household's member.
        let d = declaration(KAIZHOU_VILLAGE, &id).check(today).unwrap();
        let first = portal::declare(db, &d, &policy, today)
            .await
            .unwrap()
            .unwrap();
        let lead = all_leads(db).await;
        assert_eq!(lead.len(), 1, "{lead:?}");
        let (lead_id, no, county, village, status) = lead[0].clone();
        assert_eq!(
            (
                no.as_str(),
                county.as_str(),
                village.as_str(),
                status.as_str()
            ),
            ("WZ-0001", "500101", WANZHOU_VILLAGE, "new")
        );
        // The household's county reads the lead and the declaration behind it; the chosen
        // village's township and cadre see neither.
        assert_eq!(leads(db, &wanzhou.scope()).await.len(), 1);
        assert!(leads(db, &yuexi.scope()).await.is_empty());
        assert!(leads(db, &yuexi_cadre.scope()).await.is_empty());
        let behind = portal::declarations_of_warning(db, &wanzhou.scope(), lead_id)
            .await
            .unwrap();
        assert_eq!(behind.len(), 1);
        assert_eq!(behind[0].division_code, WANZHOU_VILLAGE);
        assert!(
            portal::declarations_of_warning(db, &yuexi.scope(), lead_id)
                .await
                .unwrap()
                .is_empty()
        );
        // The reason says which village the declarant chose.
        let w = warnings::warning(db, &wanzhou.scope(), lead_id)
            .await
            .unwrap()
            .unwrap();
        let (_, words) = &w.reason_texts()[0];
        assert!(
            words.zh.contains("岳溪村") && words.zh.contains(KAIZHOU_VILLAGE),
            "{words:?}"
        );
        assert!(words.en.contains("Yuexi Village"), "{words:?}");
        // The declarant's tracking code shows what they submitted, not where the person is
        // registered.
        let Some(Tracked::Declaration { division_code, .. }) =
            portal::track(db, &first.tracking_code).await.unwrap()
        else {
            panic!("the code opens the declaration");
        };
        assert_eq!(division_code, KAIZHOU_VILLAGE);
        let declared = zhenxing_store::audit::recent(db, 100).await.unwrap();
        let declared: Vec<_> = declared
            .iter()
            .filter(|e| e.action == "portal.declaration")
            .collect();
        assert_eq!(declared[0].division_code.as_deref(), Some(WANZHOU_VILLAGE));

        // A declaration for the household's own village and a report by its county merge into
        // that lead (they failed on the unique index, or opened a second lead, before).
        let own = declaration(WANZHOU_VILLAGE, &id).check(today).unwrap();
        portal::declare(db, &own, &policy, today)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            report_by(db, &wanzhou, "WZ-0001", "入户核实：户主住院").await,
            Some(Raised::Merged(lead_id))
        );
        let after = all_leads(db).await;
        assert_eq!(after.len(), 1, "{after:?}");
        assert_eq!(after[0].3, WANZHOU_VILLAGE);
        assert_eq!(
            portal::declarations_of_warning(db, &wanzhou.scope(), lead_id)
                .await
                .unwrap()
                .len(),
            2
        );
        testing::assert_chain_intact(db).await;
    })
    .await;
}

/// Runs SQL of several statements on the test database.
async fn execute(db: &Db, sql: &'static str) {
    match db {
        Db::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
        Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(drop),
    }
    .unwrap();
}

/// The repair of migration 0015, as that backend runs it.
async fn repair(db: &Db) {
    execute(
        db,
        match db {
            Db::Sqlite(_) => include_str!("../migrations/sqlite/0015_warnings_home.sql"),
            Db::Postgres(_) => include_str!("../migrations/postgres/0015_warnings_home.sql"),
        },
    )
    .await;
}

/// Each declaration: (id, county, village, chosen village, warning).
async fn declaration_rows(db: &Db) -> Vec<(i64, String, String, String, i64)> {
    let sql = "SELECT id, county_code, division_code, declared_division_code, warning_id \
               FROM declarations ORDER BY id";
    match db {
        Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
    }
    .unwrap()
}

#[tokio::test]
async fn leads_stored_in_another_division_before_the_fix_are_moved_home() {
    testing::each_backend(async |db: &Db| {
        let today = today_in_china();
        let policy = PortalPolicy::default();
        let wanzhou = account(db, "wanzhou", Role::CountyOfficer, "500101000000").await;
        let id = testing::test_id_number(32);
        testing::write_test_households(
            db,
            vec![testing::test_household(
                "WZ-0002",
                WANZHOU_VILLAGE,
                &id,
                9_000,
            )],
        )
        .await;
        let d = declaration(KAIZHOU_VILLAGE, &id).check(today).unwrap();
        let first = portal::declare(db, &d, &policy, today)
            .await
            .unwrap()
            .unwrap();
        let (stray, ..) = all_leads(db).await[0].clone();
        // Where the version before this fix stored it: in the chosen village, with the 万州
        // household's number.
        execute(
            db,
            "UPDATE warnings SET county_code = '500154', division_code = '500154122200'; \
             UPDATE declarations SET county_code = '500154', division_code = '500154122200';",
        )
        .await;
        if matches!(db, Db::Postgres(_)) {
            // PostgreSQL's unique index includes the county, so the household's own county
            // could open a second active lead beside it.
            execute(
                db,
                "INSERT INTO warnings (id, county_code, household_no, division_code, source, \
                 status, category, risk_types, reasons, fingerprint, rule_set_id, \
                 rule_set_version, opened_at, closed_at, updated_at, opened_seq, updated_seq, \
                 origin, assignee, deadline, due_on, assigned_at, resolution, resolved_by, \
                 row_version) \
                 SELECT id + 100, '500101', household_no, '500101109200', source, status, \
                 category, risk_types, reasons, fingerprint, rule_set_id, rule_set_version, \
                 opened_at, closed_at, updated_at, opened_seq, updated_seq, origin, assignee, \
                 deadline, due_on, assigned_at, resolution, resolved_by, row_version \
                 FROM warnings",
            )
            .await;
        }
        assert!(leads(db, &wanzhou.scope()).await.len() < all_leads(db).await.len());

        repair(db).await;
        let moved = all_leads(db).await;
        let kept = if matches!(db, Db::Postgres(_)) {
            // The one in the household's county is kept; the stray one is closed beside it.
            assert_eq!(moved.len(), 2, "{moved:?}");
            assert_eq!(moved[0].0, stray);
            assert_eq!(moved[0].4, "closed");
            assert_eq!(moved[1].4, "new");
            stray + 100
        } else {
            assert_eq!(moved.len(), 1, "{moved:?}");
            assert_eq!(moved[0].4, "new");
            stray
        };
        for (_, no, county, village, _) in &moved {
            assert_eq!(
                (no.as_str(), county.as_str(), village.as_str()),
                ("WZ-0002", "500101", WANZHOU_VILLAGE)
            );
        }
        assert_eq!(leads(db, &wanzhou.scope()).await.len(), moved.len());
        // The declaration follows the kept lead; its tracking page still shows the village the
        // declarant chose.
        let declarations = declaration_rows(db).await;
        assert_eq!(
            declarations,
            vec![(
                first.id,
                "500101".to_owned(),
                WANZHOU_VILLAGE.to_owned(),
                KAIZHOU_VILLAGE.to_owned(),
                kept
            )]
        );
        let Some(Tracked::Declaration {
            division_code,
            status,
            ..
        }) = portal::track(db, &first.tracking_code).await.unwrap()
        else {
            panic!("the code opens the declaration");
        };
        assert_eq!(
            (division_code.as_str(), status),
            (KAIZHOU_VILLAGE, WarningStatus::New)
        );

        // Run again: nothing changes.
        repair(db).await;
        assert_eq!(all_leads(db).await, moved);
        assert_eq!(declaration_rows(db).await, declarations);

        // The household's own reports merge into the kept lead.
        assert_eq!(
            report_by(db, &wanzhou, "WZ-0002", "入户核实").await,
            Some(Raised::Merged(kept))
        );
        // Should a second active lead ever be written, the error says it is a unique
        // violation (the web answers 409, not 500).
        let copy = "INSERT INTO warnings (id, county_code, household_no, division_code, source, \
            status, risk_types, reasons, fingerprint, opened_at, updated_at, opened_seq, \
            updated_seq) SELECT id + 1000, county_code, household_no, division_code, source, \
            status, risk_types, reasons, fingerprint, opened_at, updated_at, opened_seq, \
            updated_seq FROM warnings WHERE status = 'new'";
        let refused = match db {
            Db::Sqlite(p) => sqlx::query(copy).execute(p).await.map(drop),
            Db::Postgres(p) => sqlx::query(copy).execute(p).await.map(drop),
        }
        .unwrap_err();
        assert!(zhenxing_store::StoreError::from(refused).is_unique_violation());
    })
    .await;
}
