//! 我的待办 / My tasks (issue 18 item 1): the start page of every staff role that works
//! lists. For each kind of work in the account's division it shows the count and a link to the
//! inbox filtered to exactly that work, the most urgent first (past a time limit, then near
//! it, then the rest; nothing to do last). Every figure is the inbox's own number from the
//! inbox's own query (`warnings::inbox_counts`, `procedures::inbox_total`,
//! `portal::ticket_counts`, `coverage::report`), so the page and the list it links to never
//! disagree. The menu shows the actionable counts as badges ([`Badges`]), kept for a few
//! seconds per account and dropped whenever the account changes something.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::{Chrome, count, has_tasks, render};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::Date;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::warning::{Actor, StepKind, WarningStatus, may_take};
use zhenxing_core::{Action, Role};
use zhenxing_store::accounts::Account;
use zhenxing_store::procedures::{self, CaseFilter};
use zhenxing_store::warnings::{self, InboxQuery, StatusFilter};
use zhenxing_store::{coverage, department, portal};

/// How pressing a kind of work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// Past a time limit.
    Overdue,
    /// Near a time limit.
    Near,
    /// To do.
    Due,
}

/// One kind of work and how much of it there is.
pub struct Task {
    /// The message key of its name (`tasks-…`).
    pub key: &'static str,
    pub count: i64,
    /// The inbox filtered to this work.
    pub link: String,
    pub urgency: Urgency,
}

/// The counts the menu shows next to its entries: the work waiting for the account itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Badges {
    /// Warnings to assign (officers) or assigned to me (village cadres).
    pub warnings: i64,
    /// Cases waiting for my level's step and notices to close.
    pub cases: i64,
    /// Open tickets.
    pub tickets: i64,
}

impl Badges {
    pub fn total(&self) -> i64 {
        self.warnings + self.cases + self.tickets
    }
}

/// The warnings the account itself works on: to assign when its role assigns, else the ones
/// assigned to it; with the link to them.
async fn own_warnings(state: &AppState, account: &Account, today: Date) -> AppResult<Task> {
    let scope = account.scope();
    let assigns = may_take(
        WarningStatus::New,
        StepKind::Assign,
        Actor {
            role: account.role,
            is_assignee: false,
        },
    )
    .is_ok();
    let query = InboxQuery {
        status: StatusFilter::Only(if assigns {
            WarningStatus::New
        } else {
            WarningStatus::Assigned
        }),
        channel: None,
        kind: None,
        assignee: (!assigns).then(|| account.name.clone()),
        offset: 0,
        limit: 1,
    };
    let n = warnings::inbox_total(&state.db, &scope, &query, today).await?;
    Ok(if assigns {
        Task {
            key: "tasks-warnings-to-assign",
            count: n,
            link: "/warnings?status=new".into(),
            urgency: Urgency::Due,
        }
    } else {
        Task {
            key: "tasks-warnings-mine",
            count: n,
            link: "/warnings?status=assigned&mine=1".into(),
            urgency: Urgency::Due,
        }
    })
}

/// Cases at a stage that waits for the account's level, and notices to close.
async fn own_cases(state: &AppState, account: &Account, today: Date) -> AppResult<[Task; 2]> {
    let scope = account.scope();
    let policy = procedures::policy(&state.db).await?;
    let total = |filter| procedures::inbox_total(&state.db, &scope, filter, None, today, &policy);
    Ok([
        Task {
            key: "tasks-cases-waiting",
            count: total(CaseFilter::WaitingFor(account.role)).await?,
            link: "/cases?filter=waiting".into(),
            urgency: Urgency::Due,
        },
        Task {
            key: "tasks-notices-due",
            count: total(CaseFilter::NoticeDue).await?,
            link: "/cases?filter=notice_due".into(),
            urgency: Urgency::Due,
        },
    ])
}

/// The menu's badges for `account` (no queries for what its role does not work on).
pub async fn badges(state: &AppState, account: &Account) -> AppResult<Badges> {
    let today = today_in_china();
    let mut b = Badges::default();
    if account.may(Action::WriteRegistry) {
        b.warnings = own_warnings(state, account, today).await?.count;
    }
    if account.may(Action::WorkCases) {
        b.cases = own_cases(state, account, today)
            .await?
            .iter()
            .map(|t| t.count)
            .sum();
    }
    if account.may(Action::ReadTickets) {
        b.tickets = portal::ticket_counts(&state.db, account, None, today).await?[0];
    }
    Ok(b)
}

/// Every kind of work in the account's division, the most urgent first.
pub async fn tasks_of(state: &AppState, account: &Account) -> AppResult<Vec<Task>> {
    let today = today_in_china();
    let scope = account.scope();
    let mut tasks = Vec::new();
    let task = |key, count, link: &str, urgency| Task {
        key,
        count,
        link: link.to_owned(),
        urgency,
    };
    if account.may(Action::ReadRegistry) {
        let counts = warnings::inbox_counts(&state.db, &scope, today).await?;
        tasks.push(task(
            "tasks-warnings-overdue",
            counts.overdue,
            "/warnings?status=overdue",
            Urgency::Overdue,
        ));
        if account.may(Action::WriteRegistry) {
            let own = own_warnings(state, account, today).await?;
            let assigns = own.key == "tasks-warnings-to-assign";
            tasks.push(own);
            if assigns {
                tasks.push(task(
                    "tasks-warnings-to-verify",
                    counts.assigned,
                    "/warnings?status=assigned",
                    Urgency::Due,
                ));
            }
        }
    }
    if account.may(Action::ReadCases) {
        let policy = procedures::policy(&state.db).await?;
        let counts = procedures::inbox_counts(&state.db, &scope, today, &policy).await?;
        tasks.push(task(
            "tasks-cases-overdue",
            counts.overdue,
            "/cases?filter=overdue",
            Urgency::Overdue,
        ));
        tasks.push(task(
            "tasks-cases-urgent",
            counts.urgent,
            "/cases?filter=urgent",
            Urgency::Near,
        ));
        if account.may(Action::WorkCases) {
            tasks.extend(own_cases(state, account, today).await?);
        }
        if matches!(account.role, Role::TownshipOfficer | Role::CountyOfficer) {
            tasks.push(task(
                "tasks-cases-unrecorded",
                counts.unrecorded,
                "/cases?filter=unrecorded",
                Urgency::Due,
            ));
        }
        if let Some(report) = coverage::report(&state.db, &scope, &account.division, today).await? {
            tasks.push(task(
                "tasks-coverage",
                report.total.with_findings,
                "/coverage",
                Urgency::Due,
            ));
        }
    }
    if account.may(Action::WriteRegistry) {
        // The monthly round of visits (issue 19), the village cadre's main work.
        let (overdue, due, conflicts) = crate::pages::visits::task_counts(state, &scope).await?;
        tasks.push(task(
            "tasks-visits-overdue",
            overdue,
            "/visits?show=overdue",
            Urgency::Overdue,
        ));
        tasks.push(task(
            "tasks-visits-due",
            due,
            "/visits?show=due",
            Urgency::Due,
        ));
        tasks.push(task(
            "tasks-visit-conflicts",
            conflicts,
            "/visits/conflicts",
            Urgency::Due,
        ));
    }
    if account.may(Action::ReadTickets) {
        let [open, overdue, _] = portal::ticket_counts(&state.db, account, None, today).await?;
        tasks.push(task(
            "tasks-tickets-overdue",
            overdue,
            "/tickets?status=overdue",
            Urgency::Overdue,
        ));
        tasks.push(task(
            "tasks-tickets-open",
            open,
            "/tickets?status=open",
            Urgency::Due,
        ));
    }
    if account.may(Action::UploadDepartmentData) {
        tasks.push(task(
            "tasks-uploads-unmatched",
            unmatched_uploads(state, account, today).await?,
            "/department",
            Urgency::Due,
        ));
    }
    if account.may(Action::ManageAccounts) {
        let now = zhenxing_core::china_time::now_stored();
        let locked = state
            .db
            .accounts(Some(&scope))
            .await?
            .iter()
            .filter(|a| !a.disabled && a.locked_until.as_deref().is_some_and(|u| u > now.as_str()))
            .count() as i64;
        tasks.push(task(
            "tasks-accounts-locked",
            locked,
            "/accounts",
            Urgency::Due,
        ));
    }
    // Work to do first, the most pressing first; within a level, the larger count first.
    tasks.sort_by_key(|t| (t.count == 0, t.urgency, -t.count));
    Ok(tasks)
}

/// How long an upload's unmatched rows stay on the to-do list: the department checks them
/// against its own records and uploads again.
const UNMATCHED_DAYS: i64 = 30;

/// Department uploads of the last [`UNMATCHED_DAYS`] with rows that matched nobody in the
/// registry: the department officer's own; all of them for the administrator.
async fn unmatched_uploads(state: &AppState, account: &Account, today: Date) -> AppResult<i64> {
    let own = (account.role == Role::DepartmentOfficer).then_some(account.name.as_str());
    let since = (today - time::Duration::days(UNMATCHED_DAYS)).to_string();
    Ok(department::uploads(&state.db, own, 1_000)
        .await?
        .iter()
        .filter(|u| {
            u.unmatched > 0 && zhenxing_core::china_time::china_day_text(&u.created_at) >= since
        })
        .count() as i64)
}

struct Line {
    key: &'static str,
    count: String,
    link: String,
    urgency: &'static str,
    none: bool,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    c: Chrome,
    lines: Vec<Line>,
    today: String,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    let account = viewer.account()?;
    if !has_tasks(account) {
        return Err(AppError::Forbidden);
    }
    let tasks = tasks_of(&state, account).await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("tasks-title");
    let lines = tasks
        .into_iter()
        .map(|t| Line {
            key: t.key,
            count: count(t.count),
            link: t.link,
            urgency: match t.urgency {
                Urgency::Overdue => "overdue",
                Urgency::Near => "near",
                Urgency::Due => "due",
            },
            none: t.count == 0,
        })
        .collect();
    let page = TasksPage {
        lines,
        today: today_in_china().to_string(),
        c,
    };
    Ok(render(&page))
}

/// The menu's badges per account, for [`BADGE_LIFETIME`], so that a page view costs no
/// counting; an account's own change drops its entry ([`BadgeCache::forget`]), so what it
/// just did shows at once.
#[derive(Default)]
pub struct BadgeCache {
    entries: Mutex<HashMap<i64, (Instant, Badges)>>,
}

const BADGE_LIFETIME: Duration = Duration::from_secs(20);

impl BadgeCache {
    /// The account's badges; none when counting fails (the page is still served).
    pub async fn get(&self, state: &AppState, account: &Account) -> Option<Badges> {
        if let Ok(entries) = self.entries.lock()
            && let Some((at, b)) = entries.get(&account.id)
            && at.elapsed() < BADGE_LIFETIME
        {
            return Some(*b);
        }
        match badges(state, account).await {
            Ok(b) => {
                if let Ok(mut entries) = self.entries.lock() {
                    // Bounded by the number of accounts that signed in recently.
                    entries.retain(|_, (at, _)| at.elapsed() < BADGE_LIFETIME);
                    entries.insert(account.id, (Instant::now(), b));
                }
                Some(b)
            }
            Err(e) => {
                tracing::warn!(error = ?e, "the menu's counts could not be read");
                None
            }
        }
    }

    pub fn forget(&self, account: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&account);
        }
    }
}
