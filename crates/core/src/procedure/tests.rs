use super::*;
use proptest::prelude::*;
use time::macros::date;

const OPENED: Date = date!(2026 - 03 - 02);

fn policy() -> ProcedurePolicy {
    ProcedurePolicy::default()
}

fn form(kind: CaseKind, on: Date) -> VerificationForm {
    VerificationForm {
        visited_on: on,
        per_capita_income: Fen(520_000),
        rigid_spending: Fen(2_340_000),
        problems: Conditions {
            medical_insurance: false,
            ..Conditions::default()
        },
        category: (kind == CaseKind::Identification).then_some(MonitoringCategory::SuddenHardship),
        risks: if kind == CaseKind::Identification {
            vec![RiskType::Illness]
        } else {
            Vec::new()
        },
        commitment_signed: kind == CaseKind::Identification,
        // An elimination's visit finds the 23,400 yuan of hospital bills reimbursed.
        rigid_spending_resolved: kind == CaseKind::Elimination,
        note: "住院自付较多".into(),
    }
}

fn note() -> String {
    "情况属实，同意".into()
}

/// Takes `step` as `role` on `day`, expecting success.
fn take(state: &CaseState, step: Step, role: Role, day: Date) -> CaseState {
    apply(state, &step, role, day, &policy())
        .unwrap_or_else(|e| panic!("{:?} by {role:?} refused: {}", step.kind(), e.en))
}

fn refused(state: &CaseState, step: Step, role: Role, day: Date) -> String {
    match apply(state, &step, role, day, &policy()) {
        Ok(next) => panic!("{:?} by {role:?} allowed: {next:?}", step.kind()),
        Err(e) => e.en,
    }
}

fn day(n: i64) -> Date {
    OPENED + Duration::days(n)
}

/// The identification of STORIES.md 1-4, step by step, each by its role.
#[test]
fn identification_walks_from_lead_to_monitored() {
    use Role::*;
    let s = CaseState::opened(CaseKind::Identification, OPENED, None);
    let s = take(
        &s,
        Step::Verify(form(CaseKind::Identification, day(0))),
        VillageCadre,
        day(0),
    );
    assert_eq!(s.stage, Stage::Appraisal);
    assert_eq!(s.category, Some(MonitoringCategory::SuddenHardship));
    // The comparison runs alongside the village's steps.
    let s = take(
        &s,
        Step::Compare {
            consistent: true,
            note: String::new(),
        },
        TownshipOfficer,
        day(1),
    );
    let s = take(
        &s,
        Step::Appraise {
            held_on: day(3),
            attendance: 12,
            participants: "村两委、村民代表、驻村工作队".into(),
            agreed: true,
            note: String::new(),
        },
        VillageCadre,
        day(3),
    );
    assert_eq!(s.stage, Stage::Notice);
    let s = take(
        &s,
        Step::PostNotice {
            starts_on: day(3),
            ends_on: day(7),
        },
        VillageCadre,
        day(3),
    );
    // Not before the five days are over.
    let why = refused(&s, Step::CloseNotice { note: note() }, VillageCadre, day(7));
    assert!(why.contains("until"), "{why}");
    let s = take(&s, Step::CloseNotice { note: note() }, VillageCadre, day(8));
    assert_eq!(s.stage, Stage::TownshipReview);
    let s = take(
        &s,
        Step::TownshipApprove { note: note() },
        TownshipOfficer,
        day(9),
    );
    let s = take(
        &s,
        Step::CountyApprove {
            category: Some(MonitoringCategory::SuddenHardship),
            risks: vec![RiskType::Illness],
            method: None,
            note: note(),
        },
        CountyOfficer,
        day(10),
    );
    assert_eq!(s.stage, Stage::Announcement);
    let s = take(
        &s,
        Step::Announce {
            on: day(11),
            note: String::new(),
        },
        TownshipOfficer,
        day(11),
    );
    assert_eq!(s.stage, Stage::Completed);
    assert!(
        apply(
            &s,
            &Step::Comment { note: note() },
            CountyOfficer,
            day(12),
            &policy()
        )
        .is_err()
    );
    // Step 7: the entry in the national system, by the township or the county, once.
    let record = |number: &str| Step::RecordNational {
        on: day(12),
        record_number: Some(number.into()),
        note: String::new(),
    };
    let why = refused(&s, record("5002401234567890123"), VillageCadre, day(12));
    assert!(why.contains("township or county officer"), "{why}");
    let why = refused(&s, record("5002 4012/3"), TownshipOfficer, day(12));
    assert!(why.contains("not ' '"), "{why}");
    let why = refused(&s, record(&"9".repeat(41)), TownshipOfficer, day(12));
    assert!(why.contains("too long (41"), "{why}");
    let early = Step::RecordNational {
        on: day(-5),
        record_number: None,
        note: String::new(),
    };
    let why = refused(&s, early, TownshipOfficer, day(12));
    assert!(why.contains("before the lead was found"), "{why}");
    let s = take(&s, record("5002401234567890123"), TownshipOfficer, day(12));
    assert_eq!((s.stage, s.recorded_on), (Stage::Completed, Some(day(12))));
    let why = refused(&s, record("5002401234567890123"), CountyOfficer, day(13));
    assert!(
        why.contains("was entered in the national system on 2026-03-14"),
        "{why}"
    );
}

#[test]
fn only_a_completed_case_is_entered_in_the_national_system() {
    let open = CaseState::opened(CaseKind::Elimination, OPENED, None);
    let step = Step::RecordNational {
        on: OPENED,
        record_number: None,
        note: String::new(),
    };
    let why = refused(&open, step.clone(), Role::CountyOfficer, OPENED);
    assert!(why.contains("once it is announced and completed"), "{why}");
    let rejected = CaseState {
        stage: Stage::Rejected,
        ..open.clone()
    };
    assert!(refused(&rejected, step.clone(), Role::CountyOfficer, OPENED).contains("completed"));
    // Without a number: the national system did not show one.
    let completed = CaseState {
        stage: Stage::Completed,
        ..open
    };
    let s = take(&completed, step, Role::CountyOfficer, OPENED);
    assert_eq!(s.recorded_on, Some(OPENED));
    assert_eq!(check_record_number("  "), Ok(None));
    assert_eq!(
        check_record_number(" CQ-5002401 "),
        Ok(Some("CQ-5002401".into()))
    );
}

#[test]
fn each_step_belongs_to_its_level() {
    use Role::*;
    let s = CaseState::opened(CaseKind::Identification, OPENED, None);
    let verify = Step::Verify(form(CaseKind::Identification, day(0)));
    assert!(refused(&s, verify.clone(), CountyOfficer, day(0)).contains("taken by"));
    assert!(refused(&s, verify.clone(), Auditor, day(0)).contains("taken by"));
    assert!(refused(&s, verify.clone(), MunicipalAdmin, day(0)).contains("taken by"));
    let s = take(&s, verify, TownshipOfficer, day(0));
    let compare = Step::Compare {
        consistent: true,
        note: String::new(),
    };
    assert!(refused(&s, compare.clone(), VillageCadre, day(1)).contains("taken by"));
    let s = take(&s, compare.clone(), CountyOfficer, day(1));
    assert!(refused(&s, compare, CountyOfficer, day(1)).contains("recorded"));
    // A step of a later stage is refused with the current stage named.
    let why = refused(
        &s,
        Step::TownshipApprove { note: note() },
        TownshipOfficer,
        day(1),
    );
    assert!(why.contains("democratic appraisal"), "{why}");
    // The county cannot take the township's review, nor the township the county's approval.
    let mut at_review = s.clone();
    at_review.stage = Stage::TownshipReview;
    assert!(
        refused(
            &at_review,
            Step::TownshipApprove { note: note() },
            CountyOfficer,
            day(9)
        )
        .contains("taken by")
    );
    let mut at_county = s.clone();
    at_county.stage = Stage::CountyApproval;
    let approve = Step::CountyApprove {
        category: Some(MonitoringCategory::MarginalAtRisk),
        risks: vec![RiskType::Illness],
        method: None,
        note: String::new(),
    };
    assert!(refused(&at_county, approve.clone(), TownshipOfficer, day(9)).contains("taken by"));
    // After the township's review, the village can no longer reject.
    let reject = Step::Reject {
        reason: "收入核实有误".into(),
    };
    assert!(refused(&at_review, reject.clone(), VillageCadre, day(9)).contains("taken by"));
    take(&at_review, reject, TownshipOfficer, day(9));
}

#[test]
fn an_open_objection_blocks_the_notice_until_resolved() {
    use Role::*;
    let mut s = CaseState::opened(CaseKind::Identification, OPENED, None);
    s.stage = Stage::Notice;
    s.compared = true;
    s.appraised_on = Some(day(2));
    let why = refused(
        &s,
        Step::Object {
            received_on: day(3),
            note: "该户有经营收入未申报".into(),
        },
        VillageCadre,
        day(3),
    );
    assert!(why.contains("not posted"), "{why}");
    let s = take(
        &s,
        Step::PostNotice {
            starts_on: day(2),
            ends_on: day(8),
        },
        VillageCadre,
        day(2),
    );
    let s = take(
        &s,
        Step::Object {
            received_on: day(4),
            note: "该户有经营收入未申报".into(),
        },
        VillageCadre,
        day(4),
    );
    assert_eq!(s.open_objections(), 1);
    let why = refused(&s, Step::CloseNotice { note: note() }, VillageCadre, day(9));
    assert!(why.contains("still open"), "{why}");
    assert!(
        refused(
            &s,
            Step::ResolveObjection {
                number: 2,
                note: "核实无此收入".into()
            },
            VillageCadre,
            day(5)
        )
        .contains("no objection 2")
    );
    let s = take(
        &s,
        Step::ResolveObjection {
            number: 1,
            note: "经核实，经营收入已计入".into(),
        },
        TownshipOfficer,
        day(5),
    );
    assert!(
        refused(
            &s,
            Step::ResolveObjection {
                number: 1,
                note: "再次处理".into()
            },
            VillageCadre,
            day(5)
        )
        .contains("no open objection")
    );
    let s = take(&s, Step::CloseNotice { note: note() }, VillageCadre, day(9));
    assert_eq!(s.stage, Stage::TownshipReview);
}

#[test]
fn short_notices_future_days_and_missing_content_are_refused() {
    use Role::*;
    let mut s = CaseState::opened(CaseKind::Identification, OPENED, None);
    s.stage = Stage::Notice;
    s.appraised_on = Some(day(2));
    let why = refused(
        &s,
        Step::PostNotice {
            starts_on: day(2),
            ends_on: day(5),
        },
        VillageCadre,
        day(2),
    );
    assert!(
        why.contains("4 day(s)") && why.contains("at least 5"),
        "{why}"
    );
    let why = refused(
        &s,
        Step::PostNotice {
            starts_on: day(1),
            ends_on: day(9),
        },
        VillageCadre,
        day(2),
    );
    assert!(why.contains("before the appraisal"), "{why}");
    let why = refused(
        &s,
        Step::PostNotice {
            starts_on: day(3),
            ends_on: day(9),
        },
        VillageCadre,
        day(2),
    );
    assert!(why.contains("after today"), "{why}");

    let s = CaseState::opened(CaseKind::Identification, OPENED, None);
    let mut f = form(CaseKind::Identification, day(1));
    let why = refused(&s, Step::Verify(f.clone()), VillageCadre, day(0));
    assert!(why.contains("after today"), "{why}");
    f.visited_on = day(-1);
    let why = refused(&s, Step::Verify(f.clone()), VillageCadre, day(0));
    assert!(why.contains("before the lead"), "{why}");
    f.visited_on = day(0);
    f.commitment_signed = false;
    let why = refused(&s, Step::Verify(f.clone()), VillageCadre, day(0));
    assert!(why.contains("commitment"), "{why}");
    f.commitment_signed = true;
    f.risks.clear();
    assert!(refused(&s, Step::Verify(f), VillageCadre, day(0)).contains("risk type"));
    let why = refused(
        &s,
        Step::Reject {
            reason: "不".into(),
        },
        VillageCadre,
        day(0),
    );
    assert!(why.contains("at least 4"), "{why}");
    // An appraisal that does not agree rejects the case, with its reason.
    let mut at_appraisal = s.clone();
    at_appraisal.stage = Stage::Appraisal;
    let no_reason = Step::Appraise {
        held_on: day(1),
        attendance: 9,
        participants: "村两委、村民代表".into(),
        agreed: false,
        note: String::new(),
    };
    assert!(refused(&at_appraisal, no_reason, VillageCadre, day(1)).contains("did not agree"));
    let rejected = take(
        &at_appraisal,
        Step::Appraise {
            held_on: day(1),
            attendance: 9,
            participants: "村两委、村民代表".into(),
            agreed: false,
            note: "家庭收入高于监测范围".into(),
        },
        VillageCadre,
        day(1),
    );
    assert_eq!(rejected.stage, Stage::Rejected);
}

/// DOMAIN.md 1.9 (c): an elimination's home visit that finds large rigid spending not resolved
/// stops the case there; an identification records it as a reason to monitor.
#[test]
fn elimination_verification_refuses_large_unresolved_rigid_spending() {
    let s = CaseState::opened(CaseKind::Elimination, OPENED, None);
    let mut unresolved = form(CaseKind::Elimination, day(0));
    unresolved.rigid_spending_resolved = false;
    let why = refused(
        &s,
        Step::Verify(unresolved.clone()),
        Role::VillageCadre,
        day(0),
    );
    assert!(why.contains("23400.00 yuan is large"), "{why}");
    assert!(why.contains("withdraw this case"), "{why}");
    let small = VerificationForm {
        rigid_spending: Fen(499_999),
        ..unresolved
    };
    take(&s, Step::Verify(small), Role::VillageCadre, day(0));
    let identification = CaseState::opened(CaseKind::Identification, OPENED, None);
    let mut found = form(CaseKind::Identification, day(0));
    found.rigid_spending_resolved = false;
    take(
        &identification,
        Step::Verify(found),
        Role::VillageCadre,
        day(0),
    );
}

#[test]
fn elimination_has_no_comparison_and_needs_a_method() {
    use Role::*;
    let s = CaseState::opened(CaseKind::Elimination, OPENED, None);
    let s = take(
        &s,
        Step::Verify(form(CaseKind::Elimination, day(0))),
        VillageCadre,
        day(0),
    );
    assert!(
        refused(
            &s,
            Step::Compare {
                consistent: true,
                note: String::new()
            },
            TownshipOfficer,
            day(0)
        )
        .contains("not a step")
    );
    let mut at_county = s.clone();
    at_county.stage = Stage::CountyApproval;
    let no_method = Step::CountyApprove {
        category: None,
        risks: Vec::new(),
        method: None,
        note: String::new(),
    };
    assert!(refused(&at_county, no_method, CountyOfficer, day(9)).contains("method"));
    let mut at_review = s.clone();
    at_review.stage = Stage::TownshipReview;
    // No comparison is needed before the township's review of an elimination.
    take(
        &at_review,
        Step::TownshipApprove { note: note() },
        TownshipOfficer,
        day(9),
    );
}

#[test]
fn opening_depends_on_the_household_and_the_lead() {
    use MonitoringStatus::*;
    let today = day(10);
    let open = |kind, role, status, busy, found| check_open(kind, role, status, busy, found, today);
    assert!(
        open(
            CaseKind::Identification,
            Role::VillageCadre,
            NotMonitored,
            false,
            today
        )
        .is_ok()
    );
    // Re-entry after elimination.
    assert!(
        open(
            CaseKind::Identification,
            Role::VillageCadre,
            Eliminated,
            false,
            today
        )
        .is_ok()
    );
    assert!(
        open(
            CaseKind::Identification,
            Role::VillageCadre,
            Monitored,
            false,
            today
        )
        .is_err()
    );
    assert!(
        open(
            CaseKind::Elimination,
            Role::VillageCadre,
            NotMonitored,
            false,
            today
        )
        .is_err()
    );
    assert!(
        open(
            CaseKind::Elimination,
            Role::VillageCadre,
            Monitored,
            false,
            today
        )
        .is_ok()
    );
    assert!(
        open(
            CaseKind::Elimination,
            Role::VillageCadre,
            Monitored,
            true,
            today
        )
        .is_err()
    );
    assert!(
        open(
            CaseKind::Identification,
            Role::Auditor,
            NotMonitored,
            false,
            today
        )
        .is_err()
    );
    assert!(
        open(
            CaseKind::Identification,
            Role::MunicipalAdmin,
            NotMonitored,
            false,
            today
        )
        .is_err()
    );
    let tomorrow = today + Duration::days(1);
    let why = open(
        CaseKind::Identification,
        Role::TownshipOfficer,
        NotMonitored,
        false,
        tomorrow,
    )
    .unwrap_err();
    assert!(why.en.contains("after today"), "{}", why.en);
    let stale = today - Duration::days(MAX_LEAD_AGE_DAYS + 1);
    assert!(
        open(
            CaseKind::Identification,
            Role::TownshipOfficer,
            NotMonitored,
            false,
            stale
        )
        .is_err()
    );
}

#[test]
fn time_limits_count_calendar_or_working_days() {
    let p = policy();
    let opened = date!(2026 - 03 - 02); // a Monday
    assert_eq!(p.due_on(opened), date!(2026 - 03 - 17));
    let u = |today| p.urgency(CaseKind::Identification, Stage::Notice, opened, today);
    assert_eq!(u(date!(2026 - 03 - 14)), Urgency::OnTime);
    // STORIES.md 3: red after 12 of 15 days.
    assert_eq!(u(date!(2026 - 03 - 15)), Urgency::Near);
    assert_eq!(u(date!(2026 - 03 - 17)), Urgency::Near);
    assert_eq!(u(date!(2026 - 03 - 18)), Urgency::Overdue);
    assert_eq!(
        p.urgency(
            CaseKind::Identification,
            Stage::Announcement,
            opened,
            date!(2026 - 04 - 30)
        ),
        Urgency::NotTimed
    );
    assert_eq!(
        p.urgency(
            CaseKind::Elimination,
            Stage::Notice,
            opened,
            date!(2026 - 04 - 30)
        ),
        Urgency::NotTimed
    );
    let working = ProcedurePolicy {
        limit_days: 20,
        counting: DayCounting::Working,
        ..p
    };
    // 20 working days from Monday 2 March: four weeks later, Monday 30 March.
    assert_eq!(working.due_on(opened), date!(2026 - 03 - 30));
    assert_eq!(
        working.add_days(date!(2026 - 03 - 30), -3),
        date!(2026 - 03 - 25)
    );
}

#[test]
fn working_days_are_counted_in_the_policys_calendar() {
    // A year added beyond the shipped notices (as `zhenxing holidays add` stores it): Monday
    // 4 January 2027 off, Saturday 9 January worked.
    let added = crate::working_days::parse_holiday_file(
        "year,notice,name_zh,name_en,off_from,off_to,working_days\n\
         2027,test notice,元旦,New Year's Day,2027-01-04,2027-01-04,2027-01-09\n",
    )
    .unwrap();
    let shipped = ProcedurePolicy {
        limit_days: 10,
        counting: DayCounting::Working,
        ..policy()
    };
    let with_2027 = ProcedurePolicy {
        calendar: shipped.calendar.with_years(added),
        ..shipped.clone()
    };
    let opened = date!(2027 - 01 - 01);
    // Shipped only: 2027 is Monday to Friday, so ten working days after Friday 1 January end on
    // Friday 15 January. With the notice: the 4th is off and the 9th counts, the same end.
    assert_eq!(shipped.due_on(opened), date!(2027 - 01 - 15));
    assert_eq!(with_2027.due_on(opened), date!(2027 - 01 - 15));
    // Five working days: shipped, the 4th to the 8th; with the notice, the 5th to Saturday the
    // 9th (the 4th is off).
    assert_eq!(shipped.add_days(opened, 5), date!(2027 - 01 - 08));
    assert_eq!(with_2027.add_days(opened, 5), date!(2027 - 01 - 09));
}

#[test]
fn policies_keep_the_statutory_minimum() {
    assert!(policy().check().is_ok());
    let short_notice = ProcedurePolicy {
        notice_days: 3,
        ..policy()
    };
    assert!(short_notice.check().is_err());
    let too_short = ProcedurePolicy {
        limit_days: 6,
        ..policy()
    };
    assert!(too_short.check().unwrap_err()[0].en.contains("between 7"));
    let longer_notice = ProcedurePolicy {
        notice_days: 7,
        ..policy()
    };
    assert!(longer_notice.check().is_ok());
    let mut s = CaseState::opened(CaseKind::Identification, OPENED, None);
    s.stage = Stage::Notice;
    let six_days = Step::PostNotice {
        starts_on: day(0),
        ends_on: day(5),
    };
    assert!(apply(&s, &six_days, Role::VillageCadre, day(0), &longer_notice).is_err());
    assert!(apply(&s, &six_days, Role::VillageCadre, day(0), &policy()).is_ok());
}

#[test]
fn emergencies_allow_measures_first_until_rejected() {
    let mut s = CaseState::opened(
        CaseKind::Identification,
        OPENED,
        Some(EmergencyCause::Disaster),
    );
    assert!(s.allows_measures_first());
    s.stage = Stage::Withdrawn;
    assert!(!s.allows_measures_first());
    assert!(!CaseState::opened(CaseKind::Identification, OPENED, None).allows_measures_first());
}

// ---- Property tests: random actions by random roles. ----

const ROLES: [Role; 6] = [
    Role::MunicipalAdmin,
    Role::CountyOfficer,
    Role::TownshipOfficer,
    Role::VillageCadre,
    Role::Auditor,
    Role::DepartmentOfficer,
];

/// A step of `kind` whose content is good or bad by `good`, dated `on`.
fn make_step(kind: StepKind, case: CaseKind, good: bool, on: Date, n: u32) -> Option<Step> {
    let words = if good { note() } else { String::new() };
    Some(match kind {
        StepKind::Open => return None,
        StepKind::Verify => {
            let mut f = form(case, on);
            f.commitment_signed = good || case == CaseKind::Elimination;
            Step::Verify(f)
        }
        StepKind::Compare => Step::Compare {
            consistent: good,
            note: String::new(),
        },
        StepKind::Appraise => Step::Appraise {
            held_on: on,
            attendance: 3 + n % 10,
            participants: "村民代表".into(),
            agreed: good || n.is_multiple_of(3),
            note: if n.is_multiple_of(2) {
                note()
            } else {
                String::new()
            },
        },
        StepKind::PostNotice => Step::PostNotice {
            starts_on: on,
            ends_on: on + Duration::days(i64::from(n % 9)),
        },
        StepKind::Object => Step::Object {
            received_on: on,
            note: words,
        },
        StepKind::ResolveObjection => Step::ResolveObjection {
            number: n % 3,
            note: words,
        },
        StepKind::CloseNotice => Step::CloseNotice { note: words },
        StepKind::TownshipApprove => Step::TownshipApprove { note: words },
        StepKind::CountyApprove => Step::CountyApprove {
            category: good.then_some(MonitoringCategory::MarginalAtRisk),
            risks: if good {
                vec![RiskType::Illness]
            } else {
                Vec::new()
            },
            method: good.then_some(EliminationMethod::Natural),
            note: String::new(),
        },
        StepKind::Announce => Step::Announce {
            on,
            note: String::new(),
        },
        StepKind::Reject => Step::Reject { reason: words },
        StepKind::Withdraw => Step::Withdraw { reason: words },
        StepKind::Comment => Step::Comment { note: words },
        StepKind::RecordNational => Step::RecordNational {
            on,
            record_number: good.then(|| format!("50024{n:015}")),
            note: words,
        },
    })
}

const ORDER: [Stage; 7] = [
    Stage::Verification,
    Stage::Appraisal,
    Stage::Notice,
    Stage::TownshipReview,
    Stage::CountyApproval,
    Stage::Announcement,
    Stage::Completed,
];

fn rank(stage: Stage) -> Option<usize> {
    ORDER.iter().position(|s| *s == stage)
}

/// What must hold of every reachable state.
fn check_invariants(s: &CaseState) {
    let r = rank(s.stage);
    if let Some(r) = r
        && r >= 3
    {
        let (starts, ends) = s.notice.expect("past the notice without one");
        assert!((ends - starts).whole_days() + 1 >= MIN_NOTICE_DAYS);
        assert_eq!(
            s.open_objections(),
            0,
            "past the notice with an open objection"
        );
        assert!(s.appraised_on.is_some());
    }
    if s.kind == CaseKind::Identification && r.is_some_and(|r| r >= 4) {
        assert!(s.compared, "reviewed without the data comparison");
    }
    if r.is_some_and(|r| r >= 5) {
        match s.kind {
            CaseKind::Identification => {
                assert!(s.category.is_some());
                assert!((1..=MAX_RISK_TYPES).contains(&s.risks.len()));
            }
            CaseKind::Elimination => assert!(s.method.is_some()),
        }
    }
    if s.kind == CaseKind::Elimination {
        assert!(!s.compared);
    }
}

/// A step that moves the case on (or at least may be taken), with the role that takes it and
/// the day: proof that a non-final state is not a dead end.
fn way_out(s: &CaseState) -> Option<(Step, Role, Date)> {
    let later = s.notice.map_or(s.opened_on, |(_, ends)| ends) + Duration::days(1);
    let forward = match s.stage {
        Stage::Verification => StepKind::Verify,
        Stage::Appraisal if s.kind == CaseKind::Identification && !s.compared => StepKind::Compare,
        Stage::Appraisal => StepKind::Appraise,
        Stage::Notice if s.notice.is_none() => StepKind::PostNotice,
        Stage::Notice if s.open_objections() > 0 => StepKind::ResolveObjection,
        Stage::Notice => StepKind::CloseNotice,
        Stage::TownshipReview if s.kind == CaseKind::Identification && !s.compared => {
            StepKind::Compare
        }
        Stage::TownshipReview => StepKind::TownshipApprove,
        Stage::CountyApproval => StepKind::CountyApprove,
        Stage::Announcement => StepKind::Announce,
        _ => return None,
    };
    let on = match forward {
        StepKind::PostNotice | StepKind::Appraise | StepKind::Verify => {
            s.appraised_on.unwrap_or(s.opened_on).max(s.opened_on)
        }
        _ => later,
    };
    let mut step = make_step(forward, s.kind, true, on, 4)?;
    if let Step::ResolveObjection { number, .. } = &mut step {
        *number = s.objections.iter().position(|r| !r).map(|i| i as u32 + 1)?;
    }
    let role = *roles_for(s.kind, forward, s.stage).first()?;
    Some((step, role, later.max(on)))
}

fn kind_strategy() -> impl Strategy<Value = StepKind> {
    (0..StepKind::ALL.len()).prop_map(|i| StepKind::ALL[i])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]
    #[test]
    fn random_actions_never_reach_an_invalid_state(
        elimination in any::<bool>(),
        actions in prop::collection::vec(
            (0..ROLES.len(), kind_strategy(), any::<bool>(), 0i64..40, 0u32..30, 0i64..3,
             any::<bool>()),
            1..60,
        ),
    ) {
        let kind = if elimination { CaseKind::Elimination } else { CaseKind::Identification };
        let mut s = CaseState::opened(kind, OPENED, None);
        let mut today = OPENED;
        for (role, step_kind, good, back, n, wait, push_on) in actions {
            today += Duration::days(wait);
            let on = OPENED.max(today - Duration::days(back % 10));
            // Half the actions are random; the other half move the case on, so that the later
            // stages are reached too.
            let (step, role) = match way_out(&s) {
                Some((step, role, day)) if push_on => {
                    today = today.max(day);
                    (step, role)
                }
                _ => {
                    // With good content, a step of the current stage by one of its roles (the
                    // interesting attempts); otherwise anything by anyone.
                    let (step_kind, role) = if good {
                        let open: Vec<StepKind> = StepKind::ALL
                            .iter()
                            .copied()
                            .filter(|k| !roles_for(kind, *k, s.stage).is_empty())
                            .collect();
                        let Some(k) = open.get(n as usize % open.len().max(1)).copied() else {
                            continue;
                        };
                        let roles = roles_for(kind, k, s.stage);
                        (k, roles[role % roles.len()])
                    } else {
                        (step_kind, ROLES[role])
                    };
                    let Some(step) = make_step(step_kind, kind, good, on, n) else { continue };
                    (step, role)
                }
            };
            match apply(&s, &step, role, today, &policy()) {
                Ok(next) => {
                    // A closed case takes one step only: a completed one is entered in the
                    // national system, once.
                    prop_assert!(
                        !s.stage.is_final()
                            || (s.stage == Stage::Completed
                                && step.kind() == StepKind::RecordNational
                                && s.recorded_on.is_none()),
                        "a closed case took {:?}", step.kind()
                    );
                    prop_assert!(roles_for(kind, step.kind(), s.stage).contains(&role));
                    // The stage only moves forward, or to a final stage.
                    if let (Some(a), Some(b)) = (rank(s.stage), rank(next.stage)) {
                        prop_assert!(b >= a, "{:?} → {:?}", s.stage, next.stage);
                    }
                    s = next;
                }
                Err(reason) => {
                    prop_assert!(!reason.zh.is_empty() && !reason.en.is_empty());
                }
            }
            check_invariants(&s);
            if !s.stage.is_final() {
                let (step, role, on) = way_out(&s).expect("a non-final state without a way out");
                let moved = apply(&s, &step, role, on, &policy());
                prop_assert!(moved.is_ok(), "{:?} stuck: {:?}", s, moved.err().map(|e| e.en));
                // And whoever may reject or withdraw can always end it.
                if s.stage.is_undecided() {
                    let end = Step::Withdraw { reason: "农户不再申请".into() };
                    prop_assert!(apply(&s, &end, Role::CountyOfficer, today, &policy()).is_ok());
                }
            }
        }
    }
}

#[test]
fn each_open_stage_waits_for_the_level_whose_step_it_is() {
    use Role::{CountyOfficer, TownshipOfficer, VillageCadre};
    let waits = |s: Stage| s.waits_for();
    assert_eq!(waits(Stage::Verification), Some(VillageCadre));
    assert_eq!(waits(Stage::Appraisal), Some(VillageCadre));
    assert_eq!(waits(Stage::Notice), Some(VillageCadre));
    assert_eq!(waits(Stage::TownshipReview), Some(TownshipOfficer));
    assert_eq!(waits(Stage::CountyApproval), Some(CountyOfficer));
    assert_eq!(waits(Stage::Announcement), Some(TownshipOfficer));
    for s in [Stage::Completed, Stage::Rejected, Stage::Withdrawn] {
        assert_eq!(waits(s), None);
    }
    // The level a stage waits for may take the step that moves it on.
    for s in Stage::ALL {
        if let (Some(role), Some(step)) = (s.waits_for(), s.next_step()) {
            assert!(
                roles_for(CaseKind::Identification, step, *s).contains(&role),
                "{s:?}"
            );
        }
    }
}
