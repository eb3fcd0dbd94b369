//! The demo's cases: so that the procedures' pages have something to show, the demo opens up to
//! six identifications in the demo village at different points (just opened, overdue at the
//! appraisal, on notice with an open objection, at the township's review near its limit,
//! completed and waiting for its entry in the national system, and entered there), each step
//! taken by the demo account of its role through the store, as the web would. Only when the
//! demo accounts have opened no case yet, so a restarted demo keeps what people did; the
//! generated history's cases (`generate`, opened by its actor) are apart from these.

use super::users::DemoAccount;
use anyhow::{Result, anyhow};
use time::{Date, Duration};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::procedure::{CaseKind, Conditions, ProcedurePolicy, Step, VerificationForm};
use zhenxing_core::warning::WarningChannel;
use zhenxing_core::{Fen, MonitoringCategory, Role};
use zhenxing_store::Db;
use zhenxing_store::accounts::Account;
use zhenxing_store::browse::HouseholdFilter;
use zhenxing_store::procedures::{self, OpenRequest, Outcome, StepRequest};

/// How far each demo case goes: the days since its lead, and the last step it takes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    Opened,
    Verified,
    Objected,
    NoticeClosed,
    Completed,
    /// Completed and entered in the national system (录入建档).
    Recorded,
}

const PLAN: [(i64, Reach); 6] = [
    (2, Reach::Opened),
    (18, Reach::Verified),
    (8, Reach::Objected),
    (13, Reach::NoticeClosed),
    (14, Reach::Completed),
    (12, Reach::Recorded),
];

/// Opens and moves the demo cases, unless the database already has cases.
pub async fn seed_cases(db: &Db, accounts: &[DemoAccount]) -> Result<usize> {
    let find = |role: Role| -> Result<String> {
        accounts
            .iter()
            .find(|a| a.role == role)
            .map(|a| a.name.clone())
            .ok_or_else(|| anyhow!("the demo has no {} account", role.en()))
    };
    let account = async |role: Role| -> Result<Account> {
        let name = find(role)?;
        db.account_by_name(&name)
            .await?
            .ok_or_else(|| anyhow!("the demo account {name} is missing"))
    };
    let (cadre, township, county) = (
        account(Role::VillageCadre).await?,
        account(Role::TownshipOfficer).await?,
        account(Role::CountyOfficer).await?,
    );
    let policy = procedures::policy(db).await?;
    let today = today_in_china();
    let mut demo_cases = 0;
    for filter in [procedures::CaseFilter::Open, procedures::CaseFilter::Closed] {
        let listed = procedures::inbox(
            db,
            &township.scope(),
            &procedures::CaseInboxQuery::first(filter, 10_000),
            today,
            &policy,
        )
        .await?;
        demo_cases += listed
            .iter()
            .filter(|r| r.case.opened_by == cadre.name || r.case.opened_by == township.name)
            .count();
    }
    if demo_cases > 0 {
        return Ok(0);
    }
    // The demo village's households first; at small scales it may have too few that are not
    // monitored, and then the township's other villages, whose village steps the township
    // officer takes (the steps allow it).
    let mut candidates: Vec<(String, bool)> = Vec::new();
    for (scope, in_village) in [(cadre.division, true), (township.division, false)] {
        let filter = HouseholdFilter {
            scope,
            division: None,
            household_type: None,
            category: None,
            income_below: None,
            search: None,
        };
        let page = db.household_page(&filter, None, 200).await?;
        for h in page.households {
            let open_case = procedures::monitoring_view(db, &township.scope(), &h.household_no)
                .await?
                .and_then(|(_, open)| open);
            if h.monitoring_category.is_none()
                && open_case.is_none()
                && !candidates.iter().any(|(no, _)| *no == h.household_no)
            {
                let own = in_village || cadre.scope().contains_code(&h.division_code);
                candidates.push((h.household_no, own));
            }
        }
    }
    let mut opened = 0;
    for ((days, reach), (no, own)) in PLAN.iter().zip(candidates) {
        let people = People {
            cadre: if own { &cadre } else { &township },
            township: &township,
            county: &county,
        };
        walk(db, &people, &policy, &no, today, *days, *reach).await?;
        opened += 1;
    }
    Ok(opened)
}

struct People<'a> {
    /// Takes the village's steps: the village cadre, or the township officer outside her village.
    cadre: &'a Account,
    township: &'a Account,
    county: &'a Account,
}

async fn walk(
    db: &Db,
    p: &People<'_>,
    policy: &ProcedurePolicy,
    no: &str,
    today: Date,
    days: i64,
    reach: Reach,
) -> Result<()> {
    let ago = |d: i64| today - Duration::days(d);
    let lead = OpenRequest {
        household_no: no.to_owned(),
        kind: CaseKind::Identification,
        channel: Some(WarningChannel::Visit),
        warning_id: None,
        found_on: ago(days),
        emergency: None,
        note: "演示：走访发现家庭成员住院 / demo: a member in hospital".into(),
    };
    let id = match procedures::open_case(db, p.cadre, &lead, policy).await? {
        Outcome::Done(id) => id,
        other => return Err(anyhow!("demo case on {no} not opened: {other:?}")),
    };
    let mut version = 1;
    let mut take = async |who: &Account, step: Step| -> Result<()> {
        let request = StepRequest {
            case_id: id,
            expected_version: version,
            step,
        };
        match procedures::take_step(db, who, &request, policy).await? {
            Outcome::Done(moved) => {
                version = moved.version;
                Ok(())
            }
            other => Err(anyhow!("demo case {id}: step refused: {other:?}")),
        }
    };
    if reach < Reach::Verified {
        return Ok(());
    }
    take(
        p.cadre,
        Step::Verify(VerificationForm {
            visited_on: ago(days - 1),
            per_capita_income: Fen::from_yuan(5_400),
            rigid_spending: Fen::from_yuan(21_000),
            problems: Conditions::default(),
            category: Some(MonitoringCategory::SuddenHardship),
            risks: vec![RiskType::Illness],
            commitment_signed: true,
            rigid_spending_resolved: false,
            note: "住院自付较多 / large out-of-pocket hospital costs".into(),
        }),
    )
    .await?;
    if reach < Reach::Objected {
        return Ok(());
    }
    take(
        p.township,
        Step::Compare {
            consistent: true,
            note: String::new(),
        },
    )
    .await?;
    take(
        p.cadre,
        Step::Appraise {
            held_on: ago(days - 2),
            attendance: 11,
            participants: "村两委、村民代表、驻村工作队".into(),
            agreed: true,
            note: String::new(),
        },
    )
    .await?;
    take(
        p.cadre,
        Step::PostNotice {
            starts_on: ago(days - 2),
            ends_on: ago(days - 6),
        },
    )
    .await?;
    if reach == Reach::Objected {
        return take(
            p.cadre,
            Step::Object {
                received_on: ago(days - 4),
                note:
                    "村民反映该户有经营收入未申报 / a villager reports undeclared business income"
                        .into(),
            },
        )
        .await;
    }
    take(
        p.cadre,
        Step::CloseNotice {
            note: String::new(),
        },
    )
    .await?;
    if reach < Reach::Completed {
        return Ok(());
    }
    take(
        p.township,
        Step::TownshipApprove {
            note: "同意 / agreed".into(),
        },
    )
    .await?;
    take(
        p.county,
        Step::CountyApprove {
            category: Some(MonitoringCategory::SuddenHardship),
            risks: vec![RiskType::Illness],
            method: None,
            note: String::new(),
        },
    )
    .await?;
    take(
        p.township,
        Step::Announce {
            on: today,
            note: String::new(),
        },
    )
    .await?;
    if reach < Reach::Recorded {
        return Ok(());
    }
    take(
        p.township,
        Step::RecordNational {
            on: today,
            record_number: Some(format!("{}{id:05}", &no_digits(no))),
            note: "已录入全国防返贫监测信息系统 / entered in the national system".into(),
        },
    )
    .await
}

/// The digits of a household number (a plausible national record number is all digits).
fn no_digits(no: &str) -> String {
    no.chars().filter(char::is_ascii_digit).take(15).collect()
}
