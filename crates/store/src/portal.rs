//! The public portal (issue 7, migration `0012_portal`; the rules are `zhenxing_core::portal`).
//!
//! - Publications: [`save_announcement`] (a new draft or an edit), [`publish_announcement`]
//!   (from a day, possibly in the future), [`withdraw_announcement`]; [`published`] is what the
//!   public sees. Every change is audited; edits are guarded by `row_version`.
//! - [`declare`]: a self-declaration, stored together with the lead it raises in the
//!   township's warnings inbox (`warnings::raise`, channel `self_declaration`) and its audit
//!   operation, in one write transaction, before the page says "received". A registered
//!   person's declaration goes to the village where the household is registered.
//! - [`submit_ticket`], then [`ticket_inbox`], [`ticket`] and [`take_ticket_step`] for the
//!   officers of the ticket's division.
//! - [`track`]: what the holder of a tracking code may read.
//! - [`policy`] and [`set_policy`]: the time limits; [`designate`]: the county officers who
//!   read reports about a person.
//!
//! Submissions from the public are audited with the actor `public`, and the audit record holds
//! neither the name, the ID number, the phone number nor the text: only what kind of thing was
//! submitted, where, and its number.

use crate::accounts::Account;
use crate::assistance::Outcome;
use crate::audit::{AuditEntry, Operation};
use crate::browse::code_range;
use crate::files::AcceptedFile;
use crate::keys;
use crate::procedures::write_setting;
use crate::warnings::{NewWarning, Raised};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Date, Duration};
use zhenxing_core::china_time::now_stored;
use zhenxing_core::portal::{
    Announcement, AnnouncementStatus, CONSENT_VERSION, Declaration, PortalPolicy, Ticket,
    TicketStatus, TicketStep, may_read_person_report, normalise_tracking_code, ticket_step_allowed,
    tracking_code,
};
use zhenxing_core::warning::{InboxPolicy, WarningChannel, WarningStatus};
use zhenxing_core::{Action, DivisionCode, Role, Scope, Text, text};

/// The actor of everything the public submits.
pub const PUBLIC_ACTOR: &str = "public";

// ---------------------------------------------------------------------------------------------
// Settings

const POLICY_KEYS: [&str; 2] = ["portal.declaration_accept_days", "portal.ticket_limit_days"];

/// The portal's time limits: the stored settings, or the defaults.
pub async fn policy(db: &Db) -> Result<PortalPolicy> {
    let rows: Vec<(String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT key, value FROM settings WHERE key LIKE 'portal.%'")
        .fetch_all(pool).await?);
    let mut p = PortalPolicy::default();
    for (key, value) in rows {
        let parsed = value
            .parse::<i64>()
            .map_err(|_| StoreError::Corrupt(format!("setting {key} = '{value}' does not parse")));
        match key.as_str() {
            "portal.declaration_accept_days" => p.declaration_accept_days = parsed?,
            "portal.ticket_limit_days" => p.ticket_limit_days = parsed?,
            _ => {}
        }
    }
    Ok(p)
}

fn policy_json(p: &PortalPolicy) -> serde_json::Value {
    json!({"declaration_accept_days": p.declaration_accept_days,
           "ticket_limit_days": p.ticket_limit_days})
}

/// Stores new time limits after [`PortalPolicy::check`], audited; every problem otherwise.
pub async fn set_policy(
    db: &Db,
    actor_name: &str,
    new: &PortalPolicy,
) -> Result<Result<(), Vec<Text>>> {
    if let Err(problems) = new.check() {
        return Ok(Err(problems));
    }
    let old = policy(db).await?;
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor_name.to_owned(),
            action: "settings.portal".into(),
            object_type: "settings".into(),
            object_id: Some("portal".into()),
            before: Some(policy_json(&old)),
            after: Some(policy_json(new)),
            ..Default::default()
        },
    )
    .await?;
    let values = [new.declaration_accept_days, new.ticket_limit_days];
    for (key, value) in POLICY_KEYS.iter().zip(values) {
        write_setting(
            &mut tx,
            key,
            &value.to_string(),
            actor_name,
            operation.seq(),
        )
        .await?;
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

// ---------------------------------------------------------------------------------------------
// Tracking codes

/// A new tracking code (80 random bits from the operating system) and the hash stored for it.
fn new_tracking_code() -> (String, String) {
    let code = tracking_code(&crate::credentials::random_bytes::<10>());
    let hash = code_hash(&code.replace('-', ""));
    (code, hash)
}

/// The stored form of a canonical tracking code. The code carries 80 random bits, so a plain
/// SHA-256 is enough: nobody can search that space, and the database never holds the code.
fn code_hash(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// A submission stored: its number and the tracking code, shown to the visitor once.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub id: i64,
    pub tracking_code: String,
}

/// What the holder of a tracking code reads.
#[derive(Debug, Clone)]
pub enum Tracked {
    Declaration {
        submitted_at: String,
        /// The village the declarant chose (not where the lead went: see [`declare`]).
        division_code: String,
        /// The lead's status in the township's inbox.
        status: WarningStatus,
    },
    Ticket(Box<TicketRow>),
}

/// What a tracking code opens, or `None` for a code that is malformed or unknown (the two
/// answer alike, and nothing about any other submission is read).
pub async fn track(db: &Db, input: &str) -> Result<Option<Tracked>> {
    let Some(canonical) = normalise_tracking_code(input) else {
        return Ok(None);
    };
    let hash = code_hash(&canonical);
    // The village the declarant chose, never the one the declaration was forwarded to.
    let declaration: Option<(String, String, String)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT d.created_at, COALESCE(d.declared_division_code, d.division_code), w.status \
         FROM declarations d \
         JOIN warnings w ON w.county_code = d.county_code AND w.id = d.warning_id \
         WHERE d.code_hash = $1")
        .bind(&hash).fetch_optional(pool).await?);
    if let Some((submitted_at, division_code, status)) = declaration {
        let status = WarningStatus::from_code(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("warning status '{status}'")))?;
        return Ok(Some(Tracked::Declaration {
            submitted_at,
            division_code,
            status,
        }));
    }
    let sql = format!("{TICKET_SELECT} WHERE code_hash = $1");
    let ticket: Option<TicketRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&hash).fetch_optional(pool).await?);
    Ok(ticket
        .map(TicketRow::opened)
        .transpose()?
        .map(|t| Tracked::Ticket(Box::new(t))))
}

/// The next id of a table whose ids are unique across counties (assigned under the write lock).
async fn next_id(tx: &mut Tx, table: &'static str) -> Result<i64> {
    let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM {table}");
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_one(conn).await?),
    )
}

/// What every public submission shares: a number in its table, a tracking code, the county it
/// is routed to, and its audit operation (actor `public`), inside one write transaction that
/// [`Intake::finish`] commits. Nothing is "received" before that commit.
struct Intake {
    tx: Tx,
    operation: Operation,
    id: i64,
    county_code: String,
    division: String,
    tracking_code: String,
    code_hash: String,
    now: String,
}

impl Intake {
    /// Starts storing a submission about `division` into `table`, audited as `action`; `None`
    /// when the division is not in the division table.
    async fn begin(
        db: &Db,
        kind: (&'static str, &str, &str),
        division: &DivisionCode,
        after: serde_json::Value,
    ) -> Result<Option<Intake>> {
        if db.division(division).await?.is_none() {
            return Ok(None);
        }
        let tx = db.begin_write().await?;
        Ok(Some(Intake::start(tx, kind, division, after).await?))
    }

    /// Starts storing, inside the write transaction `tx`, a submission routed to `division`
    /// (one of the division table).
    async fn start(
        mut tx: Tx,
        (table, action, object_type): (&'static str, &str, &str),
        division: &DivisionCode,
        after: serde_json::Value,
    ) -> Result<Intake> {
        let county_code = division.county_digits().to_owned();
        let (tracking_code, code_hash) = new_tracking_code();
        let id = next_id(&mut tx, table).await?;
        let operation = Operation::begin(
            &mut tx,
            AuditEntry {
                actor: PUBLIC_ACTOR.into(),
                action: action.into(),
                object_type: object_type.into(),
                object_id: Some(id.to_string()),
                county_code: Some(county_code.clone()),
                division_code: Some(division.as_str().to_owned()),
                after: Some(after),
                ..Default::default()
            },
        )
        .await?;
        Ok(Intake {
            tx,
            operation,
            id,
            county_code,
            division: division.as_str().to_owned(),
            tracking_code,
            code_hash,
            now: now_stored(),
        })
    }

    async fn finish(mut self, result: Option<serde_json::Value>) -> Result<Submitted> {
        self.operation.finish(&mut self.tx, result).await?;
        self.tx.commit().await?;
        Ok(Submitted {
            id: self.id,
            tracking_code: self.tracking_code,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Self-declarations

/// Stores a self-declaration with its lead in the warnings inbox of a village's township
/// (due for acceptance within `policy.declaration_accept_days`) and its audit operation, in
/// one transaction. When the ID number is a registered member's, the declaration and its lead
/// go to the village where that household is registered, whichever village the declarant
/// chose (the reason says which one they chose; the declarant is never told where the person
/// is registered), and the lead is on that household (merged into its active self-declaration
/// lead, if any). Otherwise they stay in the chosen village, the lead on a provisional number
/// `SB-<county>-<id>` that the township replaces by registering the household.
/// `None` when the chosen village is not in the division table.
pub async fn declare(
    db: &Db,
    d: &Declaration,
    policy: &PortalPolicy,
    today: Date,
) -> Result<Option<Submitted>> {
    let Some(chosen) = db.division(&d.village).await? else {
        return Ok(None);
    };
    let mut tx = db.begin_write().await?;
    // Read under the write lock: the household cannot change before the lead is stored.
    let registered: Option<(String, String)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT h.household_no, h.division_code FROM members m \
         JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id \
         WHERE m.id_number_index = $1 LIMIT 1")
        .bind(keys::blind_id_number(d.id_number.as_str())?).fetch_optional(conn).await?);
    let village = match &registered {
        Some((_, division)) => DivisionCode::parse(division)
            .map_err(|_| StoreError::Corrupt(format!("household division code '{division}'")))?,
        None => d.village,
    };
    let forwarded = village != d.village;
    let events: Vec<&str> = d.events.iter().map(|e| e.code()).collect();
    let after = json!({"events": events, "registered": registered.is_some(),
                       "chosen_village": d.village.as_str(), "forwarded": forwarded,
                       "consent_version": CONSENT_VERSION});
    let mut intake = Intake::start(
        tx,
        ("declarations", "portal.declaration", "declaration"),
        &village,
        after,
    )
    .await?;
    let id = intake.id;
    let household_no = match registered {
        Some((no, _)) => no,
        None => format!("SB-{}-{id}", intake.county_code),
    };
    let zh_events: Vec<&str> = d.events.iter().map(|e| e.zh()).collect();
    let en_events: Vec<&str> = d.events.iter().map(|e| e.en()).collect();
    let (name, phone, account) = (d.applicant.as_str(), d.phone.masked(), &d.account);
    let (zh_events, en_events) = (zh_events.join("、"), en_events.join(", "));
    let (zh_chosen, en_chosen) = if forwarded {
        let code = d.village.as_str();
        (
            format!(
                "，申报时选择的是{}（{code}），按户籍所在村转来",
                chosen.name_zh
            ),
            format!(
                "; the declarant chose {} ({code}), forwarded to the village where the household is registered",
                chosen.name_en
            ),
        )
    } else {
        (String::new(), String::new())
    };
    let reason = json!({
        "rule": WarningChannel::SelfDeclaration.code(),
        "risk": d.events.first().map(|e| e.risk().code()),
        "zh": format!("农户自主申报（网上，{today}，申报第{id}号{zh_chosen}）：申请人{name}，电话{phone}；发生情况：{zh_events}；自述：{account}"),
        "en": format!("Self-declaration (online, {today}, declaration {id}{en_chosen}): applicant {name}, phone {phone}; what happened: {en_events}; in their words: {account}"),
    });
    let mut risks = Vec::new();
    for risk in d.events.iter().map(|e| e.risk()) {
        if !risks.contains(&risk) {
            risks.push(risk);
        }
    }
    let inbox_policy = InboxPolicy {
        unassigned_days: policy.declaration_accept_days,
        ..InboxPolicy::default()
    };
    let raised = crate::warnings::raise(
        &mut intake.tx,
        &mut intake.operation,
        NewWarning {
            household_no: household_no.clone(),
            division_code: intake.division.clone(),
            source: WarningChannel::SelfDeclaration.code().to_owned(),
            category: None,
            risk_types: risks,
            reasons: vec![reason],
            rule_set: None,
            origin: Some(json!({"declaration": id, "on": today.to_string()})),
        },
        &inbox_policy,
    )
    .await?;
    let warning_id = match raised {
        Raised::Opened(w) | Raised::Merged(w) | Raised::Unchanged(w) => w,
    };
    let seq = intake.operation.seq();
    on_tx!(&mut intake.tx, conn => sqlx::query(
        "INSERT INTO declarations (county_code, id, division_code, declared_division_code, \
         code_hash, applicant, id_number, phone, events, account, household_no, warning_id, \
         consent_version, consent_at, created_at, created_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15)")
        .bind(&intake.county_code).bind(id).bind(&intake.division).bind(d.village.as_str())
        .bind(&intake.code_hash).bind(name)
        .bind(keys::seal(&keys::DECLARATIONS_ID_NUMBER, d.id_number.as_str())?)
        .bind(keys::seal(&keys::DECLARATIONS_PHONE, d.phone.as_str())?)
        .bind(events.join(",")).bind(account).bind(&household_no).bind(warning_id)
        .bind(CONSENT_VERSION).bind(&intake.now).bind(seq)
        .execute(conn).await.map(drop)?);
    Ok(Some(
        intake.finish(Some(json!({"warning": warning_id}))).await?,
    ))
}

/// A declaration as the back office reads it; `id_number` and `phone` are full values, shown
/// masked ([`DeclarationRow::masked_id_number`], [`DeclarationRow::masked_phone`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeclarationRow {
    pub county_code: String,
    pub id: i64,
    pub division_code: String,
    pub applicant: String,
    pub id_number: String,
    pub phone: String,
    pub events: String,
    pub account: String,
    pub household_no: String,
    pub warning_id: i64,
    pub consent_version: String,
    pub consent_at: String,
    pub created_at: String,
}

impl DeclarationRow {
    /// The row as read, its sealed numbers opened.
    fn opened(mut self) -> Result<DeclarationRow> {
        keys::open_in_place(&keys::DECLARATIONS_ID_NUMBER, &mut self.id_number)?;
        keys::open_in_place(&keys::DECLARATIONS_PHONE, &mut self.phone)?;
        Ok(self)
    }

    pub fn masked_id_number(&self) -> String {
        zhenxing_core::mask::mask_id_number(&self.id_number)
    }

    pub fn masked_phone(&self) -> String {
        zhenxing_core::mask::mask_phone(&self.phone)
    }
}

/// The declarations behind a warning in `scope` (one or more, when leads were merged).
pub async fn declarations_of_warning(
    db: &Db,
    scope: &Scope,
    warning_id: i64,
) -> Result<Vec<DeclarationRow>> {
    let rows: Vec<DeclarationRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT county_code, id, division_code, applicant, id_number, phone, events, account, \
         household_no, warning_id, consent_version, consent_at, created_at \
         FROM declarations WHERE warning_id = $1 ORDER BY id")
        .bind(warning_id).fetch_all(pool).await?);
    rows.into_iter()
        .filter(|d| scope.contains_code(&d.division_code))
        .map(DeclarationRow::opened)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tickets

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

const TICKET_SELECT: &str = "SELECT county_code, id, division_code, kind, category, about_person, \
    subject, body, requester, phone, status, assignee, answer, answered_by, answered_at, \
    closed_at, due_on, consent_version, consent_at, created_at, \
    CAST(row_version AS BIGINT) AS row_version FROM tickets";

impl TicketRow {
    /// The row as read, its sealed phone number opened.
    fn opened(mut self) -> Result<TicketRow> {
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
    for (number, f) in (1i64..).zip(files) {
        on_tx!(&mut intake.tx, conn => sqlx::query(
            "INSERT INTO ticket_files (county_code, ticket_id, number, file_name, content_type, \
             size_bytes, sha256, content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&intake.county_code).bind(id).bind(number).bind(&f.name).bind(f.content_type)
            .bind(f.bytes.len() as i64).bind(&f.sha256).bind(&f.bytes).bind(&intake.now)
            .execute(conn).await.map(drop)?);
    }
    Ok(Some(intake.finish(None).await?))
}

/// A file sent with a ticket, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketFile {
    pub number: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
}

/// The files sent with a ticket, read through [`ticket`] (which checks the reader).
pub async fn ticket_files(db: &Db, t: &TicketRow) -> Result<Vec<TicketFile>> {
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT number, file_name, content_type, size_bytes FROM ticket_files \
         WHERE county_code = $1 AND ticket_id = $2 ORDER BY number")
        .bind(&t.county_code).bind(t.id).fetch_all(pool).await?))
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
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT file_name, content_type, content FROM ticket_files \
         WHERE county_code = $1 AND ticket_id = $2 AND number = $3")
        .bind(&t.county_code).bind(t.id).bind(number).fetch_optional(pool).await?))
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
    ticket_inbox_page(db, account, filter, today, limit, 0).await
}

/// A ticket still to be answered, and one also past its time limit (`$4`: today), as SQL: the
/// inbox's tabs and their counts use the same conditions.
const OPEN_TICKET: &str = "status IN ('received', 'assigned')";
const OVERDUE_TICKET: &str = "status IN ('received', 'assigned') AND due_on < $4";

/// How many tickets each [`TicketFilter`] of [`ticket_inbox`] holds, in its order
/// (`TicketFilter::ALL`).
pub async fn ticket_counts(db: &Db, account: &Account, today: Date) -> Result<[i64; 3]> {
    if !account.may(Action::ReadTickets) {
        return Ok([0; 3]);
    }
    let (low, high) = code_range(&account.division);
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

/// [`ticket_inbox`] from the `offset`-th ticket on (the inbox's later pages).
pub async fn ticket_inbox_page(
    db: &Db,
    account: &Account,
    filter: TicketFilter,
    today: Date,
    limit: i64,
    offset: i64,
) -> Result<Vec<TicketRow>> {
    if !account.may(Action::ReadTickets) {
        return Ok(Vec::new());
    }
    let (low, high) = code_range(&account.division);
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
) -> Result<Outcome> {
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
    Ok(Outcome::Done {
        id: t.id,
        version: t.row_version + 1,
    })
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
pub async fn designate(db: &Db, actor: &Account, account_name: &str, on: bool) -> Result<Outcome> {
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
    Ok(Outcome::Done {
        id: account.id,
        version: 1,
    })
}

// ---------------------------------------------------------------------------------------------
// Publications

/// A publication as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnnouncementRow {
    pub id: i64,
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub status: String,
    pub publish_on: Option<String>,
    pub updated_by: String,
    pub updated_at: String,
    pub row_version: i64,
}

impl AnnouncementRow {
    pub fn status(&self) -> Option<AnnouncementStatus> {
        AnnouncementStatus::from_code(&self.status)
    }

    /// Whether the public sees it on `today`.
    pub fn is_public(&self, today: Date) -> bool {
        self.status() == Some(AnnouncementStatus::Published)
            && self
                .publish_on
                .as_deref()
                .is_some_and(|d| d <= today.to_string().as_str())
    }

    /// The title in `lang`; the Chinese one until the English translation is written.
    pub fn title(&self, lang: zhenxing_core::Lang) -> &str {
        match lang {
            zhenxing_core::Lang::En if !self.title_en.is_empty() => &self.title_en,
            _ => &self.title_zh,
        }
    }

    pub fn body(&self, lang: zhenxing_core::Lang) -> &str {
        match lang {
            zhenxing_core::Lang::En if !self.body_en.is_empty() => &self.body_en,
            _ => &self.body_zh,
        }
    }
}

const ANNOUNCEMENT_SELECT: &str = "SELECT id, kind, title_zh, title_en, body_zh, body_en, status, \
    publish_on, updated_by, updated_at, CAST(row_version AS BIGINT) AS row_version \
    FROM announcements";

/// Every publication, newest first (the back office's list).
pub async fn announcements(db: &Db) -> Result<Vec<AnnouncementRow>> {
    let sql = format!("{ANNOUNCEMENT_SELECT} ORDER BY id DESC");
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(pool).await?),
    )
}

/// What the public sees on `today`: published, from a publication day not after today, the
/// newest publication day first.
pub async fn published(db: &Db, today: Date) -> Result<Vec<AnnouncementRow>> {
    let sql = format!(
        "{ANNOUNCEMENT_SELECT} WHERE status = 'published' AND publish_on <= $1 \
         ORDER BY publish_on DESC, id DESC LIMIT 200"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(today.to_string()).fetch_all(pool).await?),
    )
}

pub async fn announcement(db: &Db, id: i64) -> Result<Option<AnnouncementRow>> {
    let sql = format!("{ANNOUNCEMENT_SELECT} WHERE id = $1");
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id).fetch_optional(pool).await?),
    )
}

fn announcement_json(a: &Announcement) -> serde_json::Value {
    json!({"kind": a.kind.code(), "title_zh": a.title_zh, "title_en": a.title_en,
           "body_zh_chars": a.body_zh.chars().count(), "body_en_chars": a.body_en.chars().count()})
}

/// Saves a new draft (`existing` None) or the text of an existing publication (its id and the
/// version the editor's page showed; a published one stays published with the new text).
pub async fn save_announcement(
    db: &Db,
    actor: &Account,
    existing: Option<(i64, i64)>,
    a: &Announcement,
) -> Result<Outcome> {
    if !actor.may(Action::ManagePortal) {
        return Ok(Outcome::NotFound);
    }
    let now = now_stored();
    let mut tx = db.begin_write().await?;
    let (id, version) = match existing {
        Some((id, expected)) => {
            let current: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
                "SELECT CAST(row_version AS BIGINT) FROM announcements WHERE id = $1")
                .bind(id).fetch_optional(conn).await?);
            match current {
                None => return Ok(Outcome::NotFound),
                Some(v) if v != expected => return Ok(Outcome::Stale),
                Some(v) => (id, v + 1),
            }
        }
        None => (next_id(&mut tx, "announcements").await?, 1),
    };
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: if existing.is_some() {
                "announcement.edit".into()
            } else {
                "announcement.draft".into()
            },
            object_type: "announcement".into(),
            object_id: Some(id.to_string()),
            after: Some(announcement_json(a)),
            ..Default::default()
        },
    )
    .await?;
    let seq = operation.seq();
    if existing.is_some() {
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE announcements SET kind = $1, title_zh = $2, title_en = $3, body_zh = $4, \
             body_en = $5, updated_by = $6, updated_at = $7, updated_seq = $8, \
             row_version = row_version + 1 WHERE id = $9")
            .bind(a.kind.code()).bind(&a.title_zh).bind(&a.title_en).bind(&a.body_zh)
            .bind(&a.body_en).bind(&actor.name).bind(&now).bind(seq).bind(id)
            .execute(conn).await.map(drop)?);
    } else {
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO announcements (id, kind, title_zh, title_en, body_zh, body_en, status, \
             publish_on, created_by, created_at, updated_by, updated_at, updated_seq, row_version) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', NULL, $7, $8, $7, $8, $9, 1)")
            .bind(id).bind(a.kind.code()).bind(&a.title_zh).bind(&a.title_en).bind(&a.body_zh)
            .bind(&a.body_en).bind(&actor.name).bind(&now).bind(seq)
            .execute(conn).await.map(drop)?);
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done { id, version })
}

/// Publishes from `on` (`Some`: today or a later day) or withdraws (`None`), audited.
pub async fn set_announcement_status(
    db: &Db,
    actor: &Account,
    id: i64,
    expected_version: i64,
    publish_on: Option<Date>,
    today: Date,
) -> Result<Outcome> {
    if !actor.may(Action::ManagePortal) {
        return Ok(Outcome::NotFound);
    }
    let Some(current) = announcement(db, id).await? else {
        return Ok(Outcome::NotFound);
    };
    if current.row_version != expected_version {
        return Ok(Outcome::Stale);
    }
    if let Some(day) = publish_on
        && day < today
    {
        return Ok(Outcome::Refused(text!(
            "发布日期不能早于今天（{today}）",
            "the publication day cannot be before today ({today})"
        )));
    }
    if publish_on.is_none() && current.status() != Some(AnnouncementStatus::Published) {
        return Ok(Outcome::Refused(text!(
            "只能撤回已发布的内容",
            "only a published item can be withdrawn"
        )));
    }
    let (status, action) = match publish_on {
        Some(_) => (AnnouncementStatus::Published, "announcement.publish"),
        None => (AnnouncementStatus::Withdrawn, "announcement.withdraw"),
    };
    let day = publish_on.map(|d| d.to_string());
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: action.into(),
            object_type: "announcement".into(),
            object_id: Some(id.to_string()),
            before: Some(json!({"status": current.status, "publish_on": current.publish_on})),
            after: Some(json!({"status": status.code(), "publish_on": day})),
            ..Default::default()
        },
    )
    .await?;
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE announcements SET status = $1, publish_on = COALESCE($2, publish_on), \
         updated_by = $3, updated_at = $4, updated_seq = $5, row_version = row_version + 1 \
         WHERE id = $6 AND row_version = $7")
        .bind(status.code()).bind(&day).bind(&actor.name).bind(now_stored())
        .bind(operation.seq()).bind(id).bind(expected_version)
        .execute(conn).await?.rows_affected());
    if changed != 1 {
        tx.rollback().await?;
        return Ok(Outcome::Stale);
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done {
        id,
        version: expected_version + 1,
    })
}

// ---------------------------------------------------------------------------------------------
// A lead on a provisional number, carried over to the registered household

/// Whether a household number is the provisional one [`declare`] gives an applicant not found
/// in the registry (`SB-<county>-<declaration>`).
pub fn is_provisional_household_no(household_no: &str) -> bool {
    household_no.starts_with("SB-")
}

/// Ends a write transaction that wrote nothing, with `outcome`.
async fn refuse(tx: Tx, outcome: Outcome) -> Result<Outcome> {
    tx.rollback().await?;
    Ok(outcome)
}

/// The household a lead is carried over to, as read under the write lock.
#[derive(sqlx::FromRow)]
struct LinkTarget {
    county_code: String,
    id: i64,
    household_no: String,
    division_code: String,
}

/// Moves the self-declaration lead `warning_id` (on a provisional number) onto the registered
/// household `household_no`, with its declarations, once the household has been registered:
/// the household must lie in the actor's scope and in the lead's township, and every
/// declarant's ID number must be one of its members'. One write transaction and one audited
/// operation (`warning.link_household`, on the household's village; its item names the lead's
/// old village, so both villages' figures are read again). `expected_version` is the lead's
/// `row_version` on the page the actor saw: [`Outcome::Stale`] when it changed since.
pub async fn link_household(
    db: &Db,
    actor: &Account,
    warning_id: i64,
    expected_version: i64,
    household_no: &str,
) -> Result<Outcome> {
    let Some(w) = crate::warnings::warning(db, &actor.scope(), warning_id).await? else {
        return Ok(Outcome::NotFound);
    };
    if !actor.may(Action::WriteRegistry) {
        return Ok(Outcome::Refused(text!(
            "您的角色不能修改预警",
            "your role may not change warnings"
        )));
    }
    if WarningChannel::of_source(&w.source) != Some(WarningChannel::SelfDeclaration)
        || !is_provisional_household_no(&w.household_no)
    {
        return Ok(Outcome::Refused(text!(
            "只有临时申报编号（SB-…）上的农户申报线索才能关联已登记农户",
            "only a self-declaration lead on a provisional number (SB-…) can be linked to a registered household"
        )));
    }
    if w.row_version != expected_version {
        return Ok(Outcome::Stale);
    }
    let household_no = household_no.trim();
    let not_found = || {
        Outcome::Refused(text!(
            "在您的管辖范围内没有这个户编号的已登记农户：请核对户编号",
            "there is no registered household with this number in your division: check the household number"
        ))
    };
    if household_no.is_empty() || household_no.chars().count() > 64 {
        return Ok(not_found());
    }
    let mut tx = db.begin_write().await?;
    // Read under the write lock: no registry write can change the household or its members
    // between these checks and the move.
    let target: Option<LinkTarget> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT county_code, id, household_no, division_code FROM households \
         WHERE household_no = $1")
        .bind(household_no).fetch_optional(conn).await?);
    let Some(target) = target.filter(|t| actor.scope().contains_code(&t.division_code)) else {
        return refuse(tx, not_found()).await;
    };
    let township = |code: &str| DivisionCode::parse(code).ok().and_then(|c| c.parent());
    if township(&target.division_code).is_none()
        || township(&target.division_code) != township(&w.division_code)
    {
        let (theirs, lead) = (&target.division_code, &w.division_code);
        return refuse(tx, Outcome::Refused(text!(
            "户{household_no}在{theirs}，而这条线索在{lead}，不属同一乡镇：只能关联本乡镇的农户",
            "household {household_no} is in {theirs} and this lead in {lead}, not the same township: only a household of the lead's township can be linked"
        )))
        .await;
    }
    let declarants: Vec<String> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT id_number FROM declarations WHERE county_code = $1 AND warning_id = $2")
        .bind(&w.county_code).bind(w.id).fetch_all(conn).await?);
    let declarants = declarants
        .iter()
        .map(|d| keys::open(&keys::DECLARATIONS_ID_NUMBER, d))
        .collect::<Result<Vec<_>>>()?;
    let members: Vec<String> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT id_number FROM members WHERE county_code = $1 AND household_id = $2")
        .bind(&target.county_code).bind(target.id).fetch_all(conn).await?);
    let members = members
        .iter()
        .map(|m| keys::open(&keys::MEMBERS_ID_NUMBER, m))
        .collect::<Result<Vec<_>>>()?;
    if declarants.is_empty() || declarants.iter().any(|d| !members.contains(d)) {
        let no = &target.household_no;
        return refuse(tx, Outcome::Refused(text!(
            "申报人的身份证号不在户{no}的成员中：请核对户编号，或先把申报人登记为该户成员",
            "the declarant's ID number is not that of a member of household {no}: check the household number, or first register the declarant as a member of it"
        )))
        .await;
    }
    if w.status().is_some_and(|s| s.is_active()) {
        let active: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT id FROM warnings WHERE household_no = $1 AND source = $2 \
             AND status IN ('new', 'assigned')")
            .bind(&target.household_no).bind(&w.source).fetch_optional(conn).await?);
        if let Some(other) = active {
            let no = &target.household_no;
            return refuse(tx, Outcome::Refused(text!(
                "户{no}已有在办的农户申报预警（第{other}号）：请在该预警中处理，并办结这条线索",
                "household {no} already has an open self-declaration warning (no. {other}): work it there and close this lead"
            )))
            .await;
        }
    }
    let before = json!({"household_no": w.household_no, "division_code": w.division_code});
    let after = json!({"household_no": target.household_no, "division_code": target.division_code});
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: "warning.link_household".into(),
            object_type: "warning".into(),
            object_id: Some(w.id.to_string()),
            county_code: Some(target.county_code.clone()),
            division_code: Some(target.division_code.clone()),
            before: Some(before.clone()),
            after: Some(after.clone()),
            ..Default::default()
        },
    )
    .await?;
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE warnings SET household_no = $1, division_code = $2, updated_at = $3, \
         updated_seq = $4, row_version = row_version + 1 \
         WHERE county_code = $5 AND id = $6 AND row_version = $7")
        .bind(&target.household_no).bind(&target.division_code).bind(now_stored())
        .bind(operation.seq()).bind(&w.county_code).bind(w.id).bind(expected_version)
        .execute(conn).await?.rows_affected());
    if changed != 1 {
        tx.rollback().await?;
        return Ok(Outcome::Stale);
    }
    on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE declarations SET household_no = $1, division_code = $2 \
         WHERE county_code = $3 AND warning_id = $4")
        .bind(&target.household_no).bind(&target.division_code).bind(&w.county_code).bind(w.id)
        .execute(conn).await.map(drop)?);
    operation
        .item(
            &mut tx,
            crate::audit::AuditItem {
                action: "warning.link_household",
                object_type: "warning",
                object_id: w.id.to_string(),
                county_code: Some(target.county_code.clone()),
                division_code: Some(target.division_code.clone()),
                before: Some(before.to_string()),
                after: Some(after.to_string()),
            },
        )
        .await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done {
        id: w.id,
        version: expected_version + 1,
    })
}
