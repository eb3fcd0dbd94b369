//! The inbox: the cases of a scope by filter, their counts, and what is late or near its limit.

use super::{CASE_COLUMNS, CaseRow};
use crate::browse::code_range;
use crate::{Db, Result, on_pool};
use serde::Serialize;
use time::Date;
use zhenxing_core::procedure::{CaseKind, ProcedurePolicy, Stage};
use zhenxing_core::{Role, Scope};

/// Which cases an inbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseFilter {
    /// Open cases, the nearest time limit first.
    #[default]
    Open,
    /// Open identification cases past their time limit.
    Overdue,
    /// Open identification cases within the warning days of their limit, or past it.
    Urgent,
    /// Closed cases, the latest first.
    Closed,
    /// Completed cases not yet entered in the national system (录入建档), the oldest first.
    Unrecorded,
    /// Open cases at a stage that waits for this role's level (待我办理), the nearest time
    /// limit first ([`Stage::waits_for`]).
    WaitingFor(Role),
    /// Village notices whose period is over and that are not yet closed (公示期满待结束),
    /// the longest over first.
    NoticeDue,
}

impl CaseFilter {
    pub fn code(self) -> &'static str {
        match self {
            CaseFilter::Open => "open",
            CaseFilter::Overdue => "overdue",
            CaseFilter::Urgent => "urgent",
            CaseFilter::Closed => "closed",
            CaseFilter::Unrecorded => "unrecorded",
            CaseFilter::WaitingFor(_) => "waiting",
            CaseFilter::NoticeDue => "notice_due",
        }
    }

    /// The filter of a code, as `role` reads it ("waiting" is what waits for its level).
    pub fn from_code(code: &str, role: Role) -> Option<CaseFilter> {
        [
            CaseFilter::Open,
            CaseFilter::Overdue,
            CaseFilter::Urgent,
            CaseFilter::Closed,
            CaseFilter::Unrecorded,
            CaseFilter::WaitingFor(role),
            CaseFilter::NoticeDue,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }
}

/// A row of an inbox: the case and the head of household's name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseListRow {
    #[sqlx(flatten)]
    pub case: CaseRow,
    pub head_name: Option<String>,
}

/// Counts for the inbox tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseCounts {
    pub open: i64,
    pub urgent: i64,
    pub overdue: i64,
    /// Completed, not yet entered in the national system.
    pub unrecorded: i64,
}

/// Which cases of a scope an inbox lists, and which page of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseInboxQuery {
    pub filter: CaseFilter,
    pub kind: Option<CaseKind>,
    /// Rows skipped, in the filter's order.
    pub offset: i64,
    pub limit: i64,
}

impl CaseInboxQuery {
    /// The first `limit` cases of a filter, of every kind.
    pub fn first(filter: CaseFilter, limit: i64) -> CaseInboxQuery {
        CaseInboxQuery {
            filter,
            kind: None,
            offset: 0,
            limit,
        }
    }
}

/// The condition and order of a filter, and the day its condition compares with (`$4`).
fn filter_condition(
    filter: CaseFilter,
    today: Date,
    policy: &ProcedurePolicy,
) -> (String, &'static str, String) {
    let (condition, order) = match filter {
        // `$4 <> ''` only keeps the parameter typed for PostgreSQL when the filter needs no day.
        CaseFilter::Open => (
            "c.closed_on IS NULL AND $4 <> ''".to_owned(),
            "c.due_on IS NULL, c.due_on, c.id",
        ),
        CaseFilter::Overdue | CaseFilter::Urgent => (late_condition("c.", "$4"), "c.due_on, c.id"),
        CaseFilter::Closed => (
            "c.closed_on IS NOT NULL AND $4 <> ''".to_owned(),
            "c.closed_on DESC, c.id DESC",
        ),
        CaseFilter::Unrecorded => (
            format!("{} AND $4 <> ''", unrecorded_condition("c.")),
            "c.closed_on, c.id",
        ),
        CaseFilter::WaitingFor(role) => {
            let stages = Stage::ALL
                .iter()
                .filter(|s| s.waits_for() == Some(role))
                .map(|s| format!("'{}'", s.code()))
                .collect::<Vec<_>>();
            let condition = if stages.is_empty() {
                "1 = 0 AND $4 <> ''".to_owned()
            } else {
                format!(
                    "c.closed_on IS NULL AND c.stage IN ({}) AND $4 <> ''",
                    stages.join(", ")
                )
            };
            (condition, "c.due_on IS NULL, c.due_on, c.id")
        }
        CaseFilter::NoticeDue => (
            format!(
                "c.closed_on IS NULL AND c.stage = '{}' AND c.notice_ends_on < $4",
                Stage::Notice.code()
            ),
            "c.notice_ends_on, c.id",
        ),
    };
    // Urgent: the last day before which a case is on time, for each counting; overdue: today.
    let bound = match filter {
        CaseFilter::Urgent => near_bound(today, policy),
        _ => today.to_string(),
    };
    (condition, order, bound)
}

/// A page of the cases of a scope by filter and kind.
pub async fn inbox(
    db: &Db,
    scope: &Scope,
    query: &CaseInboxQuery,
    today: Date,
    policy: &ProcedurePolicy,
) -> Result<Vec<CaseListRow>> {
    let (lo, hi) = code_range(scope.division());
    let (condition, order, bound) = filter_condition(query.filter, today, policy);
    // The stored case's columns, as every reader of a case takes them, under the alias `c`.
    let columns = CASE_COLUMNS
        .split(',')
        .map(|c| format!("c.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns}, \
         (SELECT m.name FROM members m JOIN households h ON h.id = m.household_id \
          WHERE h.household_no = c.household_no AND m.relation = 'head' \
          ORDER BY m.position LIMIT 1) AS head_name \
         FROM cases c WHERE c.division_code BETWEEN $1 AND $2 \
         AND ($3 = '' OR c.kind = $3) AND {condition} ORDER BY {order} LIMIT $5 OFFSET $6"
    );
    let kind = query.kind.map_or("", CaseKind::code);
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&lo).bind(&hi).bind(kind).bind(&bound).bind(query.limit).bind(query.offset)
        .fetch_all(pool).await?),
    )
}

/// How many cases [`inbox`] lists over all its pages ("共 N 件").
pub async fn inbox_total(
    db: &Db,
    scope: &Scope,
    filter: CaseFilter,
    kind: Option<CaseKind>,
    today: Date,
    policy: &ProcedurePolicy,
) -> Result<i64> {
    let (lo, hi) = code_range(scope.division());
    let (condition, _, bound) = filter_condition(filter, today, policy);
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM cases c WHERE c.division_code BETWEEN $1 AND $2 \
         AND ($3 = '' OR c.kind = $3) AND {condition}"
    );
    let kind = kind.map_or("", CaseKind::code);
    Ok(
        on_pool!(db, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&lo).bind(&hi).bind(kind).bind(&bound)
        .fetch_one(pool).await?),
    )
}

/// The one condition "this case is late on the day in `day`" (a bound parameter such as
/// `$3`): open, still in a stage that waits for a decision, and due before that day.
/// `prefix` is the table's alias with its dot (`"c."`) or empty. The inbox's overdue and
/// urgent lists and counts, the dashboard's leaves and the monthly snapshots all use it, so
/// that "overdue" means the same everywhere.
pub(crate) fn late_condition(prefix: &str, day: &str) -> String {
    let undecided = undecided_stages();
    format!(
        "{prefix}closed_on IS NULL AND {prefix}stage IN ({undecided}) AND {prefix}due_on < {day}"
    )
}

/// Completed and not yet entered in the national system.
fn unrecorded_condition(prefix: &str) -> String {
    let completed = Stage::Completed.code();
    format!("{prefix}stage = '{completed}' AND {prefix}national_recorded_on IS NULL")
}

pub(crate) fn undecided_stages() -> String {
    Stage::ALL
        .iter()
        .filter(|s| s.is_undecided())
        .map(|s| format!("'{}'", s.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A case is near its limit on `today` when its due day is before this day.
fn near_bound(today: Date, policy: &ProcedurePolicy) -> String {
    // Near when today > due − near (core's `ProcedurePolicy::urgency`), that is when
    // due < today + near (of the same counting).
    policy.add_days(today, policy.near_days).to_string()
}

/// The counts of open, urgent and overdue cases in a scope, and of completed ones waiting for
/// their entry in the national system.
pub async fn inbox_counts(
    db: &Db,
    scope: &Scope,
    today: Date,
    policy: &ProcedurePolicy,
) -> Result<CaseCounts> {
    let (lo, hi) = code_range(scope.division());
    let (urgent, overdue) = (late_condition("", "$3"), late_condition("", "$4"));
    let unrecorded = unrecorded_condition("");
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN closed_on IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {urgent} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {unrecorded} THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM cases WHERE division_code BETWEEN $1 AND $2 \
         AND (closed_on IS NULL OR ({unrecorded}))"
    );
    let (open, urgent, overdue, unrecorded): (i64, i64, i64, i64) = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&lo).bind(&hi).bind(near_bound(today, policy)).bind(today.to_string())
        .fetch_one(pool).await?);
    Ok(CaseCounts {
        open,
        urgent,
        overdue,
        unrecorded,
    })
}

/// Overdue cases per village under the code range `lo..=hi` on `today`: the same condition as
/// the overdue count of [`inbox_counts`], grouped (the dashboard's leaves).
pub async fn overdue_by_village(
    db: &Db,
    lo: &str,
    hi: &str,
    today: Date,
) -> Result<Vec<(String, i64)>> {
    let overdue = late_condition("", "$3");
    let sql = format!(
        "SELECT division_code, CAST(COUNT(*) AS BIGINT) FROM cases \
         WHERE division_code BETWEEN $1 AND $2 AND {overdue} GROUP BY division_code"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(lo).bind(hi).bind(today.to_string()).fetch_all(pool).await?),
    )
}
