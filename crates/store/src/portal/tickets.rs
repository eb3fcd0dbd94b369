//! Tickets (complaints, reports about a person, questions): submitted by the public, worked in
//! the inbox of the ticket's division; and the county officers designated to read reports about
//! a person.

use super::intake::{Intake, Submitted};
use crate::accounts::Account;
use crate::audit::{AuditEntry, Operation};
use crate::browse::code_range;
use crate::files::{AcceptedFile, StoredFile, TICKET_FILES};
use crate::keys;
use crate::outcome::{Outcome, Written};
use crate::{Db, Result, StoreError, on_pool, on_tx};
use serde_json::json;
use time::{Date, Duration};
use zhenxing_core::china_time::now_stored;
use zhenxing_core::portal::{
    CONSENT_VERSION, PortalPolicy, Ticket, TicketStatus, TicketStep, may_read_person_report,
    ticket_step_allowed,
};
use zhenxing_core::{Action, DivisionCode, Role, Scope, text};

/// A ticket as stored. `phone` is the full number of a named requester: show it masked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub county_code: String,
    pub id: i64,
    pub division_code: String,
    pub kind: String,
    pub category: String,
    pub about_person: bool,
    pub subject: String,
    pub body: String,
    pub requester: Option<String>,
    pub phone: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<String>,
    pub closed_at: Option<String>,
    pub due_on: String,
    pub consent_version: String,
    pub consent_at: String,
    pub created_at: String,
    pub row_version: i64,
}

pub(super) const TICKET_SELECT: &str = "SELECT county_code, id, division_code, kind, category, about_person, \
    subject, body, requester, phone, status, assignee, answer, answered_by, answered_at, \
    closed_at, due_on, consent_version, consent_at, created_at, \
    CAST(row_version AS BIGINT) AS row_version FROM tickets";

impl TicketRow {
    /// The row as read, its sealed phone number opened.
    pub(super) fn opened(mut self) -> Result<TicketRow> {
        self.phone = keys::open_opt(&keys::TICKETS_PHONE, self.phone)?;
        Ok(self)
    }

    pub fn status(&self) -> Option<TicketStatus> {
        TicketStatus::from_code(&self.status)
    }

    /// Open and past its time limit.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.status().is_some_and(TicketStatus::is_open)
            && self.due_on.as_str() < today.to_string().as_str()
    }

    pub fn masked_phone(&self) -> Option<String> {
        self.phone.as_deref().map(zhenxing_core::mask::mask_phone)
    }
}

/// Stores a ticket with the files sent with it, routed to the county of its division and due
/// `policy.ticket_limit_days` from today, audited. `None` when the division is not in the
/// division table.
pub async fn submit_ticket(
    db: &Db,
    t: &Ticket,
    files: &[AcceptedFile],
    policy: &PortalPolicy,
    today: Date,
) -> Result<Option<Submitted>> {
    let due = (today + Duration::days(policy.ticket_limit_days)).to_string();
    let after = json!({"kind": t.kind.code(), "category": t.category.code(),
                       "named": t.requester.is_some(), "about_person": t.about_person,
                       "files": files.len(), "due_on": due, "consent_version": CONSENT_VERSION});
    let Some(mut intake) = Intake::begin(
        db,
        ("tickets", "portal.ticket", "ticket"),
        &t.division,
        after,
    )
    .await?
    else {
        return Ok(None);
    };
    let (requester, phone) = match &t.requester {
        Some((name, phone)) => (
            Some(name.as_str()),
            Some(keys::seal(&keys::TICKETS_PHONE, phone.as_str())?),
        ),
        None => (None, None),
    };
    let (id, seq) = (intake.id, intake.operation.seq());
    on_tx!(&mut intake.tx, conn => sqlx::query(
        "INSERT INTO tickets (county_code, id, division_code, code_hash, kind, category, \
         about_person, subject, body, requester, phone, status, due_on, consent_version, \
         consent_at, created_at, updated_at, created_seq, updated_seq, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'received', $12, $13, $14, $14, \
         $14, $15, $15, 1)")
        .bind(&intake.county_code).bind(id).bind(&intake.division).bind(&intake.code_hash)
        .bind(t.kind.code()).bind(t.category.code()).bind(t.about_person).bind(&t.subject)
        .bind(&t.body).bind(requester).bind(phone).bind(&due).bind(CONSENT_VERSION)
        .bind(&intake.now).bind(seq)
        .execute(conn).await.map(drop)?);
    TICKET_FILES
        .insert(
            &mut intake.tx,
            (&intake.county_code, id),
            files,
            &intake.now,
        )
        .await?;
    Ok(Some(intake.finish(None).await?))
}

/// The files sent with a ticket, read through [`ticket`] (which checks the reader).
pub async fn ticket_files(db: &Db, t: &TicketRow) -> Result<Vec<StoredFile>> {
    TICKET_FILES.list(db, (&t.county_code, t.id)).await
}

/// One file of a ticket the account may read: its name, content type and bytes.
pub async fn ticket_file(
    db: &Db,
    account: &Account,
    ticket_id: i64,
    number: i64,
) -> Result<Option<(String, String, Vec<u8>)>> {
    let Some(t) = ticket(db, account, ticket_id).await? else {
        return Ok(None);
    };
    TICKET_FILES.one(db, (&t.county_code, t.id), number).await
}

/// Whether the account is designated to read reports about a person in its county.
pub async fn is_designated(db: &Db, account: &Account) -> Result<bool> {
    let found: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT account_name FROM report_designations WHERE account_name = $1 AND county_code = $2")
        .bind(&account.name).bind(account.division.county_digits())
        .fetch_optional(pool).await?);
    Ok(found.is_some())
}

/// Whether the account reads reports about a person (`core::portal::may_read_person_report`).
pub async fn reads_person_reports(db: &Db, account: &Account) -> Result<bool> {
    let designated = account.role == Role::CountyOfficer && is_designated(db, account).await?;
    Ok(may_read_person_report(account.role, designated))
}

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketFilter {
    /// Received and assigned, the most urgent first.
    #[default]
    Open,
    /// Open and past the time limit.
    Overdue,
    /// Every ticket, newest first.
    All,
}

impl TicketFilter {
    pub const ALL: [TicketFilter; 3] =
        [TicketFilter::Open, TicketFilter::Overdue, TicketFilter::All];

    pub fn code(self) -> &'static str {
        match self {
            TicketFilter::Open => "open",
            TicketFilter::Overdue => "overdue",
            TicketFilter::All => "all",
        }
    }

    pub fn from_code(code: &str) -> Option<TicketFilter> {
        TicketFilter::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// The tickets of the account's division it may read (reports about a person only for those
/// who read them), at most `limit`.
pub async fn ticket_inbox(
    db: &Db,
    account: &Account,
    filter: TicketFilter,
    today: Date,
    limit: i64,
) -> Result<Vec<TicketRow>> {
    ticket_inbox_page(db, account, filter, None, today, limit, 0).await
}

/// A ticket still to be answered, and one also past its time limit (`$4`: today), as SQL: the
/// inbox's tabs and their counts use the same conditions.
const OPEN_TICKET: &str = "status IN ('received', 'assigned')";
const OVERDUE_TICKET: &str = "status IN ('received', 'assigned') AND due_on < $4";

/// How many tickets each [`TicketFilter`] of [`ticket_inbox`] holds, in its order
/// (`TicketFilter::ALL`).
pub async fn ticket_counts(
    db: &Db,
    account: &Account,
    within: Option<&DivisionCode>,
    today: Date,
) -> Result<[i64; 3]> {
    if !account.may(Action::ReadTickets) {
        return Ok([0; 3]);
    }
    let (low, high) = code_range(inbox_division(account, within));
    let person = reads_person_reports(db, account).await?;
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN {OPEN_TICKET} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN {OVERDUE_TICKET} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COUNT(*) AS BIGINT) \
         FROM tickets WHERE division_code BETWEEN $1 AND $2 AND (about_person = FALSE OR $3)"
    );
    let (open, overdue, all): (i64, i64, i64) = on_pool!(db, pool => sqlx::query_as(
        sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&low).bind(&high).bind(person).bind(today.to_string()).fetch_one(pool).await?);
    Ok([open, overdue, all])
}

/// The division an inbox covers: `within` (a village or township the list is narrowed to)
/// when it lies in the account's division, the account's division otherwise.
fn inbox_division<'a>(account: &'a Account, within: Option<&'a DivisionCode>) -> &'a DivisionCode {
    within
        .filter(|w| account.scope().contains(w))
        .unwrap_or(&account.division)
}

/// [`ticket_inbox`] from the `offset`-th ticket on (the inbox's later pages), narrowed to
/// `within` (inside the account's division) when given.
pub async fn ticket_inbox_page(
    db: &Db,
    account: &Account,
    filter: TicketFilter,
    within: Option<&DivisionCode>,
    today: Date,
    limit: i64,
    offset: i64,
) -> Result<Vec<TicketRow>> {
    if !account.may(Action::ReadTickets) {
        return Ok(Vec::new());
    }
    let (low, high) = code_range(inbox_division(account, within));
    let person = reads_person_reports(db, account).await?;
    let condition = match filter {
        TicketFilter::Open => format!("AND {OPEN_TICKET} ORDER BY due_on, id"),
        TicketFilter::Overdue => format!("AND {OVERDUE_TICKET} ORDER BY due_on, id"),
        TicketFilter::All => "ORDER BY id DESC".to_owned(),
    };
    // `about_person = FALSE OR $3` keeps one statement for both kinds of reader.
    let sql = format!(
        "{TICKET_SELECT} WHERE division_code BETWEEN $1 AND $2 AND (about_person = FALSE OR $3) \
         {condition} LIMIT {} OFFSET {}",
        limit.clamp(1, 501),
        offset.max(0)
    );
    let rows: Vec<TicketRow> = on_pool!(db, pool => {
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(&low).bind(&high).bind(person);
        let query = if filter == TicketFilter::Overdue {
            query.bind(today.to_string())
        } else {
            query
        };
        query.fetch_all(pool).await?
    });
    rows.into_iter().map(TicketRow::opened).collect()
}

/// One ticket, if the account may read it; `None` answers alike for a ticket outside the
/// account's division, a report about a person it may not read, and no ticket at all.
pub async fn ticket(db: &Db, account: &Account, id: i64) -> Result<Option<TicketRow>> {
    if !account.may(Action::ReadTickets) {
        return Ok(None);
    }
    let sql = format!("{TICKET_SELECT} WHERE id = $1");
    let row: Option<TicketRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id).fetch_optional(pool).await?);
    let Some(row) = row.filter(|t| account.scope().contains_code(&t.division_code)) else {
        return Ok(None);
    };
    if row.about_person && !reads_person_reports(db, account).await? {
        return Ok(None);
    }
    Ok(Some(row.opened()?))
}

/// The accounts a ticket can be assigned to: active accounts that work tickets, in the
/// ticket's county and with the ticket's division in their scope (and, for a report about a
/// person, only those who read such reports).
pub async fn ticket_assignees(db: &Db, t: &TicketRow) -> Result<Vec<Account>> {
    let Ok(county) = DivisionCode::parse(&format!("{:0<12}", t.county_code)) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for a in db.accounts(Some(&Scope::new(county))).await? {
        if a.disabled || !a.may(Action::WorkTickets) || !a.scope().contains_code(&t.division_code) {
            continue;
        }
        if t.about_person && !reads_person_reports(db, &a).await? {
            continue;
        }
        out.push(a);
    }
    Ok(out)
}

/// A step on a ticket as an officer asks for it.
#[derive(Debug, Clone)]
pub struct TicketStepRequest {
    pub ticket_id: i64,
    /// The `row_version` the officer's page showed.
    pub expected_version: i64,
    pub step: TicketStep,
    /// For [`TicketStep::Assign`]: the account name.
    pub assignee: Option<String>,
    /// For [`TicketStep::Answer`]: the answer the requester reads.
    pub answer: Option<String>,
}

/// The shortest and longest answer.
pub const ANSWER_CHARS: std::ops::RangeInclusive<usize> = 5..=4_000;

/// Applies a step to a ticket the actor may read and work, audited, guarded by `row_version`.
pub async fn take_ticket_step(
    db: &Db,
    actor: &Account,
    req: &TicketStepRequest,
) -> Result<Outcome<Written>> {
    let Some(t) = ticket(db, actor, req.ticket_id).await? else {
        return Ok(Outcome::NotFound);
    };
    if !actor.may(Action::WorkTickets) {
        return Ok(Outcome::Refused(text!(
            "您的角色不办理诉求",
            "your role does not handle tickets"
        )));
    }
    if t.row_version != req.expected_version {
        return Ok(Outcome::Stale);
    }
    let status = TicketStatus::from_code(&t.status)
        .ok_or_else(|| StoreError::Corrupt(format!("ticket status '{}'", t.status)))?;
    if let Err(reason) = ticket_step_allowed(status, req.step) {
        return Ok(Outcome::Refused(reason));
    }
    let (assignee, answer) = match req.step {
        TicketStep::Assign => {
            let name = req.assignee.as_deref().unwrap_or("").trim().to_owned();
            if !ticket_assignees(db, &t)
                .await?
                .iter()
                .any(|a| a.name == name)
            {
                return Ok(Outcome::Refused(text!(
                    "“{name}”不是可以办理此诉求的账号；请从列表中选择",
                    "'{name}' is not an account that may handle this ticket; choose one from the list"
                )));
            }
            (Some(name), None)
        }
        TicketStep::Answer => {
            let answer = req.answer.as_deref().unwrap_or("").trim().to_owned();
            let n = answer.chars().count();
            if !ANSWER_CHARS.contains(&n) {
                let (min, max) = (ANSWER_CHARS.start(), ANSWER_CHARS.end());
                return Ok(Outcome::Refused(text!(
                    "答复应为{min}至{max}个字，这里有{n}个",
                    "the answer must have {min} to {max} characters, this has {n}"
                )));
            }
            (None, Some(answer))
        }
        TicketStep::Close => (None, None),
    };
    let target = req.step.target();
    let now = now_stored();
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: format!("ticket.{}", req.step.code()),
            object_type: "ticket".into(),
            object_id: Some(t.id.to_string()),
            county_code: Some(t.county_code.clone()),
            division_code: Some(t.division_code.clone()),
            reason: answer.clone(),
            before: Some(json!({"status": t.status, "assignee": t.assignee})),
            after: Some(json!({"status": target.code(),
                               "assignee": assignee.clone().or(t.assignee.clone())})),
        },
    )
    .await?;
    let seq = operation.seq();
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE tickets SET status = $1, \
         assignee = COALESCE($2, assignee), \
         answer = COALESCE($3, answer), \
         answered_by = CASE WHEN $3 IS NULL THEN answered_by ELSE $4 END, \
         answered_at = CASE WHEN $3 IS NULL THEN answered_at ELSE $5 END, \
         closed_at = CASE WHEN $1 = 'closed' THEN $5 ELSE closed_at END, \
         updated_at = $5, updated_seq = $6, row_version = row_version + 1 \
         WHERE county_code = $7 AND id = $8 AND row_version = $9")
        .bind(target.code()).bind(&assignee).bind(&answer).bind(&actor.name).bind(&now)
        .bind(seq).bind(&t.county_code).bind(t.id).bind(req.expected_version)
        .execute(conn).await?.rows_affected());
    if changed != 1 {
        tx.rollback().await?;
        return Ok(Outcome::Stale);
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Written {
        id: t.id,
        version: t.row_version + 1,
    }))
}

// ---------------------------------------------------------------------------------------------
// Designated officers

/// A county officer designated to read reports about a person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Designation {
    pub account_name: String,
    pub county_code: String,
    pub designated_by: String,
    pub designated_at: String,
}

pub async fn designations(db: &Db) -> Result<Vec<Designation>> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT account_name, county_code, designated_by, designated_at \
         FROM report_designations ORDER BY county_code, account_name")
        .fetch_all(pool).await?))
}

/// Designates (`on`) a county officer to read its county's reports about a person, or ends the
/// designation, audited. `NotFound` for an unknown account; `Refused` for another role.
pub async fn designate(
    db: &Db,
    actor: &Account,
    account_name: &str,
    on: bool,
) -> Result<Outcome<Written>> {
    if !actor.may(Action::ManagePortal) {
        return Ok(Outcome::Refused(text!(
            "您的角色不能指定人员",
            "your role may not designate officers"
        )));
    }
    let Some(account) = db.account_by_name(account_name.trim()).await? else {
        return Ok(Outcome::NotFound);
    };
    if account.role != Role::CountyOfficer {
        let name = &account.name;
        return Ok(Outcome::Refused(text!(
            "只能指定区县工作人员；“{name}”不是",
            "only county officers can be designated; '{name}' is not one"
        )));
    }
    let county = account.division.county_digits().to_owned();
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: if on {
                "portal.designate".into()
            } else {
                "portal.undesignate".into()
            },
            object_type: "account".into(),
            object_id: Some(account.name.clone()),
            county_code: Some(county.clone()),
            ..Default::default()
        },
    )
    .await?;
    if on {
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO report_designations (account_name, county_code, designated_by, \
             designated_at, audit_seq) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (account_name) DO NOTHING")
            .bind(&account.name).bind(&county).bind(&actor.name).bind(now_stored())
            .bind(operation.seq())
            .execute(conn).await.map(drop)?);
    } else {
        on_tx!(&mut tx, conn => sqlx::query(
            "DELETE FROM report_designations WHERE account_name = $1")
            .bind(&account.name).execute(conn).await.map(drop)?);
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Written {
        id: account.id,
        version: 1,
    }))
}
