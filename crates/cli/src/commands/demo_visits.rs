//! The demo's monthly visits (issue 19): so that the village cadres' rounds, the household
//! timelines and the coverage figure have something to show, every demo village cadre's
//! monitored households get last month's visit (most of them, one in four missed, so that the
//! round shows overdue households), and a third of them this month's (no change, or a change of
//! out-of-pocket spending written to the registry); one visit of the first village is in
//! conflict with an office change, for the township to decide. Each visit goes through the
//! store as the visit form's would. Only when no visit is recorded yet, so a restarted demo
//! keeps what people did.

use super::users::DemoAccount;
use anyhow::{Result, anyhow};
use time::{Date, Duration};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::visit::{Change, FORM_VERSION, yuan};
use zhenxing_core::warning::InboxPolicy;
use zhenxing_core::{Fen, Role};
use zhenxing_store::Db;
use zhenxing_store::visits::{self, NewVisit, Screened};

/// Records the demo visits, unless the database has visits already; how many were recorded.
pub async fn seed_visits(db: &Db, accounts: &[DemoAccount]) -> Result<usize> {
    if visits::any_recorded(db).await? {
        return Ok(0);
    }
    let today = today_in_china();
    let this_month = today.replace_day(1).unwrap_or(today);
    let last_month = (this_month - Duration::days(1))
        .replace_day(10)
        .unwrap_or(this_month);
    let no_screen = |_: &zhenxing_store::HouseholdRecord, _: &zhenxing_store::HouseholdRecord| {
        Screened::default()
    };
    let policy = InboxPolicy::default();
    let mut recorded = 0;
    let mut conflict_made = false;
    for demo in accounts
        .iter()
        .filter(|a| a.role == Role::VillageCadre && !a.disabled)
    {
        let cadre = db
            .account_by_name(&demo.name)
            .await?
            .ok_or_else(|| anyhow!("the demo account {} is missing", demo.name))?;
        for (i, row) in visits::round(db, &cadre.scope())
            .await?
            .into_iter()
            .enumerate()
        {
            let no = row.household_no;
            let key = |n: u32| {
                format!(
                    "demo-visit-{n}-{}",
                    no.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                )
            };
            let visit = |key: String, on: Date, changes: Vec<Change>, note: &str| NewVisit {
                key,
                household_no: no.clone(),
                visited_on: on,
                form_version: FORM_VERSION,
                no_change: changes.is_empty(),
                food_clothing: true,
                changes,
                risks: Vec::new(),
                declared: false,
                note: note.to_owned(),
                photo: None,
                signature: None,
            };
            let mut planned = Vec::new();
            if i % 4 != 3 {
                planned.push(visit(key(1), last_month, Vec::new(), ""));
            }
            if i % 3 == 0 && today > this_month {
                let on = this_month + Duration::days(i64::from((i % 2) as u8));
                let changes = if i % 2 == 1 {
                    let (record, _) = zhenxing_store::registry::household(db, &no)
                        .await?
                        .ok_or_else(|| anyhow!("demo household {no} is missing"))?;
                    let was = yuan(Fen(record.out_of_pocket));
                    let now = yuan(Fen(record.out_of_pocket + 200_000));
                    vec![Change {
                        field: "out_of_pocket".into(),
                        was,
                        now,
                        who: None,
                    }]
                } else {
                    Vec::new()
                };
                planned.push(visit(
                    key(2),
                    on.min(today),
                    changes,
                    "演示：例行走访 / demo: routine visit",
                ));
            }
            if !conflict_made && i == 0 {
                // Filled in before the office changed the wage: the office's value stays
                // until someone decides.
                let (record, _) = zhenxing_store::registry::household(db, &no)
                    .await?
                    .ok_or_else(|| anyhow!("demo household {no} is missing"))?;
                let office = record.wage_income;
                let change = Change {
                    field: "wage".into(),
                    was: yuan(Fen(office + 100_000)),
                    now: yuan(Fen(office + 50_000)),
                    who: None,
                };
                planned.push(visit(
                    key(3),
                    today,
                    vec![change],
                    "演示：务工收入减少 / demo: less work this year",
                ));
                conflict_made = true;
            }
            for v in planned {
                match visits::record(db, &cadre, &v, &no_screen, &policy).await? {
                    Ok(_) => recorded += 1,
                    Err(why) => return Err(anyhow!("demo visit to {no} refused: {why:?}")),
                }
            }
        }
    }
    Ok(recorded)
}
