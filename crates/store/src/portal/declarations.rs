//! Self-declarations: [`declare`] stores one with the lead it raises in the township's warnings
//! inbox (and [`declare_with_files`] with the photos sent with it); [`link_household`] carries
//! a lead on a provisional number over to the registered household.

use super::intake::{Intake, Submitted};
use crate::accounts::Account;
use crate::audit::{AuditEntry, Operation};
use crate::files::{AcceptedFile, DECLARATION_FILES, StoredFile};
use crate::keys;
use crate::outcome::{Outcome, Written};
use crate::warnings::{NewWarning, Raised};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use serde_json::json;
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::portal::{CONSENT_VERSION, Declaration, PortalPolicy};
use zhenxing_core::warning::{InboxPolicy, WarningChannel};
use zhenxing_core::{Action, DivisionCode, Scope, text};

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
    declare_with_files(db, d, &[], policy, today).await
}

/// [`declare`] with the files sent with the declaration (photos, a bill: checked by
/// [`crate::files::accept`]), stored in the same transaction.
pub async fn declare_with_files(
    db: &Db,
    d: &Declaration,
    files: &[AcceptedFile],
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
    let name = d.applicant.as_str();
    let account = &d.account;
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
    let reason = declaration_reason(d, today, id, (&zh_chosen, &en_chosen));
    let risks = declared_risks(d);
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
         consent_version, consent_at, created_at, created_seq, id_number_index) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16)")
        .bind(&intake.county_code).bind(id).bind(&intake.division).bind(d.village.as_str())
        .bind(&intake.code_hash).bind(name)
        .bind(keys::seal(&keys::DECLARATIONS_ID_NUMBER, d.id_number.as_str())?)
        .bind(keys::seal(&keys::DECLARATIONS_PHONE, d.phone.as_str())?)
        .bind(events.join(",")).bind(account).bind(&household_no).bind(warning_id)
        .bind(CONSENT_VERSION).bind(&intake.now).bind(seq)
        .bind(keys::blind_id_number(d.id_number.as_str())?)
        .execute(conn).await.map(drop)?);
    DECLARATION_FILES
        .insert(
            &mut intake.tx,
            (&intake.county_code, id),
            files,
            &intake.now,
        )
        .await?;
    Ok(Some(
        intake
            .finish(Some(json!({"warning": warning_id, "files": files.len()})))
            .await?,
    ))
}

/// The reason of the warning a declaration raises, as stored: the day, the declaration's number
/// (and, when it was forwarded, the village the declarant chose), the applicant, the phone
/// masked, what happened and their own words.
pub(crate) fn declaration_reason(
    d: &Declaration,
    on: Date,
    id: i64,
    (zh_chosen, en_chosen): (&str, &str),
) -> serde_json::Value {
    let zh_events: Vec<&str> = d.events.iter().map(|e| e.zh()).collect();
    let en_events: Vec<&str> = d.events.iter().map(|e| e.en()).collect();
    let (name, phone, account) = (d.applicant.as_str(), d.phone.masked(), &d.account);
    let (zh_events, en_events) = (zh_events.join("、"), en_events.join(", "));
    json!({
        "rule": WarningChannel::SelfDeclaration.code(),
        "risk": d.events.first().map(|e| e.risk().code()),
        "zh": format!("农户自主申报（网上，{on}，申报第{id}号{zh_chosen}）：申请人{name}，电话{phone}；发生情况：{zh_events}；自述：{account}"),
        "en": format!("Self-declaration (online, {on}, declaration {id}{en_chosen}): applicant {name}, phone {phone}; what happened: {en_events}; in their words: {account}"),
    })
}

/// The risk types a declaration reports, each once, in the order of its events.
pub(crate) fn declared_risks(d: &Declaration) -> Vec<zhenxing_core::monitoring::RiskType> {
    let mut risks = Vec::new();
    for risk in d.events.iter().map(|e| e.risk()) {
        if !risks.contains(&risk) {
            risks.push(risk);
        }
    }
    risks
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

/// The files sent with a declaration the caller read through [`declarations_of_warning`]
/// (which checks the reader's division).
pub async fn declaration_files(db: &Db, d: &DeclarationRow) -> Result<Vec<StoredFile>> {
    DECLARATION_FILES.list(db, (&d.county_code, d.id)).await
}

/// One file of the declaration `declaration_id` behind the lead `warning_id`, read in `scope`:
/// its name, content type and bytes; `None` outside the scope, as for one that does not exist.
pub async fn declaration_file(
    db: &Db,
    scope: &Scope,
    (warning_id, declaration_id): (i64, i64),
    number: i64,
) -> Result<Option<(String, String, Vec<u8>)>> {
    if crate::warnings::warning(db, scope, warning_id)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let declarations = declarations_of_warning(db, scope, warning_id).await?;
    let Some(d) = declarations.iter().find(|d| d.id == declaration_id) else {
        return Ok(None);
    };
    DECLARATION_FILES
        .one(db, (&d.county_code, d.id), number)
        .await
}

// ---------------------------------------------------------------------------------------------
// A lead on a provisional number, carried over to the registered household

/// Whether a household number is the provisional one [`declare`] gives an applicant not found
/// in the registry (`SB-<county>-<declaration>`).
pub fn is_provisional_household_no(household_no: &str) -> bool {
    household_no.starts_with("SB-")
}

/// Ends a write transaction that wrote nothing, with `outcome`.
async fn refuse(tx: Tx, outcome: Outcome<Written>) -> Result<Outcome<Written>> {
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
) -> Result<Outcome<Written>> {
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
    // Carried over to a registered household, the lead is what that household's standing
    // makes it (a new risk when it is monitored).
    crate::warnings::decide_kind(&mut tx, &w.county_code, w.id).await?;
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
    Ok(Outcome::Done(Written {
        id: w.id,
        version: expected_version + 1,
    }))
}
