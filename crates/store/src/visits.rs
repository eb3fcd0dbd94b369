//! Home visits (issue 19): a record of its own in `visits` (migration 0029), recorded once per
//! idempotency key, with the cadre's changes written to the registry only where nobody changed
//! the same field in the office meanwhile (a conflict is kept, with both values, for the cadre
//! or the township to decide), and a warning only where what the visit records meets a rule.
//!
//! The form's fields and their canonical values are `zhenxing_core::visit`'s; the mapping of
//! those fields onto a [`HouseholdRecord`] is here ([`field_values`], [`with_changes`]), beside
//! the record type. Which screening reasons a visit raises is the caller's [`Screen`] (the
//! application crate classifies under the rule set in force), so that this module speaks SQL
//! and nothing else.

use crate::accounts::Account;
use crate::audit::{AuditEntry, AuditItem, Operation};
use crate::browse::code_range;
use crate::files::AcceptedFile;
use crate::registry::{MonitoringPermission, WriteRequest, household_in, write_in_transaction};
use crate::warnings::{NewWarning, Raised, raise, report_reason, risk_codes};
use crate::{Db, HouseholdRecord, Result, StoreError, Tx, on_pool, on_tx};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::visit::{
    Change, Conflict, FieldKind, VisitField, VisitOutcome, canonical, member_who,
    observation_reasons, yuan,
};
use zhenxing_core::warning::{InboxPolicy, WarningChannel};
use zhenxing_core::{Fen, Scope, Text, text};

/// A visit as the phone sends it, parsed.
#[derive(Debug, Clone)]
pub struct NewVisit {
    pub key: String,
    pub household_no: String,
    pub visited_on: Date,
    pub form_version: u32,
    pub no_change: bool,
    pub food_clothing: bool,
    pub changes: Vec<Change>,
    pub risks: Vec<RiskType>,
    /// The household declared the risks itself (a self-declaration taken on the visit).
    pub declared: bool,
    pub note: String,
    pub photo: Option<AcceptedFile>,
    pub signature: Option<AcceptedFile>,
}

/// What the screening rules say of a household before and after a visit's changes: the
/// reasons (as stored in `warnings.reasons`) of rules that fire after and did not before, their
/// risk types, and the rule set's (id, version).
#[derive(Debug, Clone, Default)]
pub struct Screened {
    pub reasons: Vec<Value>,
    pub risk_types: Vec<RiskType>,
    pub rule_set: Option<(i64, i64)>,
}

/// The screening of a visit's household, before and after its changes.
pub type Screen<'a> = &'a (dyn Fn(&HouseholdRecord, &HouseholdRecord) -> Screened + Sync);

/// What recording a visit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub county_code: String,
    pub id: i64,
    pub outcome: VisitOutcome,
    pub warning_id: Option<i64>,
    pub conflicts: Vec<Conflict>,
    /// The key had been recorded before: this is what it did then, and nothing was written now.
    pub replayed: bool,
}

/// Why a visit was not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No such household in the actor's scope.
    NotFound,
    /// The key names a visit of another household (a phone's bug or a forgery).
    KeyReused,
    /// The registry refused the changed household (in words).
    Invalid(Text),
}

/// The values of the form's registry fields in a record, by field name, in canonical form.
pub fn field_values(r: &HouseholdRecord) -> BTreeMap<String, String> {
    let tri = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let money = |f: i64| yuan(Fen(f));
    let mut v = BTreeMap::new();
    let mut put = |k: String, s: String| {
        v.insert(k, s);
    };
    put("housing_safe".into(), tri(r.housing_safe).into());
    put("water_safe".into(), tri(r.water_safe).into());
    put("wage".into(), money(r.wage_income));
    put("business".into(), money(r.business_income));
    put("property".into(), money(r.property_income));
    put("transfer".into(), money(r.transfer_income));
    put("business_expense".into(), money(r.business_expense));
    put("out_of_pocket".into(), money(r.out_of_pocket));
    for (i, m) in r.members.iter().enumerate() {
        put(member_who(i), m.name.clone());
        put(
            format!("m{i}.insured"),
            tri(Some(m.medical_insurance)).into(),
        );
        put(
            format!("m{i}.school"),
            m.school_status.clone().unwrap_or_default(),
        );
        put(
            format!("m{i}.health"),
            canonical(FieldKind::Health, &m.health).unwrap_or_else(|_| m.health.clone()),
        );
    }
    v
}

/// Why `changes` cannot be applied to `r` as it is now: a member's change whose member is
/// another person than the one on the form (the office added or removed members since).
pub fn members_moved(r: &HouseholdRecord, changes: &[Change]) -> Option<Text> {
    changes.iter().find_map(|c| {
        let Some(VisitField::Member(i, _)) = VisitField::parse(&c.field) else {
            return None;
        };
        let now = r.members.get(i).map(|m| m.name.as_str());
        (now != c.who.as_deref()).then(|| {
            let n = i + 1;
            text!(
                "填表后户内成员有变动（第{n}位成员已不是表上的人）：请重新打开该户的走访表单再填",
                "the household's members changed after the form was filled in (member {n} is no longer the person on the form): open the household's visit form again and fill it in"
            )
        })
    })
}

/// The record with `changes` applied (values already canonical, [`zhenxing_core::visit::changes`]).
pub fn with_changes(r: &HouseholdRecord, changes: &[Change]) -> Result<HouseholdRecord, Text> {
    let mut out = r.clone();
    let money = |v: &str| {
        Fen::parse_non_negative(v)
            .map(|f| f.0)
            .map_err(|e| e.text())
    };
    let tri = |v: &str| match v {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    for c in changes {
        let field = VisitField::parse(&c.field);
        match field {
            Some(VisitField::Household(f)) => match f {
                "housing_safe" => out.housing_safe = tri(&c.now),
                "water_safe" => out.water_safe = tri(&c.now),
                "wage" => out.wage_income = money(&c.now)?,
                "business" => out.business_income = money(&c.now)?,
                "property" => out.property_income = money(&c.now)?,
                "transfer" => out.transfer_income = money(&c.now)?,
                "business_expense" => out.business_expense = money(&c.now)?,
                "out_of_pocket" => out.out_of_pocket = money(&c.now)?,
                _ => {}
            },
            Some(VisitField::Member(i, f)) => {
                let Some(m) = out.members.get_mut(i) else {
                    let n = i + 1;
                    return Err(text!(
                        "户中没有第{n}位成员：家庭成员已变动，请重新打开表单",
                        "the household has no member {n}: its members changed; open the form again"
                    ));
                };
                match f {
                    "insured" => m.medical_insurance = c.now == "yes",
                    "school" => m.school_status = (!c.now.is_empty()).then(|| c.now.clone()),
                    "health" => m.health = c.now.clone(),
                    _ => {}
                }
            }
            None => {
                let f = &c.field;
                return Err(text!("表单没有“{f}”这一项", "the form has no field '{f}'"));
            }
        }
    }
    Ok(out)
}

/// The county of a household in `scope`, and its village.
async fn place(tx: &mut Tx, scope: &Scope, household_no: &str) -> Result<Option<(String, String)>> {
    let row: Option<(String, String)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT county_code, division_code FROM households WHERE household_no = $1")
        .bind(household_no).fetch_optional(conn).await?);
    Ok(row.filter(|(_, d)| scope.contains_code(d)))
}

#[derive(sqlx::FromRow)]
struct Stored {
    id: i64,
    household_no: String,
    outcome: String,
    warning_id: Option<i64>,
    conflicts: Option<String>,
}

fn stored_outcome(s: &str) -> Result<VisitOutcome> {
    VisitOutcome::from_code(s).ok_or_else(|| StoreError::Corrupt(format!("visit outcome '{s}'")))
}

fn stored_conflicts(s: Option<&str>) -> Result<Vec<Conflict>> {
    s.map_or(Ok(Vec::new()), |s| {
        serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("visit conflicts: {e}")))
    })
}

/// Records a visit by `actor`, once per key: in one transaction, the visit, its files, the
/// registry write of its changes (unless they conflict) and the warning it raises (if any).
pub async fn record(
    db: &Db,
    actor: &Account,
    v: &NewVisit,
    screen: Screen<'_>,
    policy: &InboxPolicy,
) -> Result<std::result::Result<Recorded, Refused>> {
    let mut tx = db.begin_write().await?;
    let Some((county, village)) = place(&mut tx, &actor.scope(), &v.household_no).await? else {
        tx.rollback().await?;
        return Ok(Err(Refused::NotFound));
    };
    let earlier: Option<Stored> = on_tx!(&mut tx, conn => sqlx::query_as(
        "SELECT id, household_no, outcome, warning_id, conflicts FROM visits \
         WHERE county_code = $1 AND idempotency_key = $2")
        .bind(&county).bind(&v.key).fetch_optional(conn).await?);
    if let Some(s) = earlier {
        tx.rollback().await?;
        if s.household_no != v.household_no {
            return Ok(Err(Refused::KeyReused));
        }
        return Ok(Ok(Recorded {
            county_code: county,
            id: s.id,
            outcome: stored_outcome(&s.outcome)?,
            warning_id: s.warning_id,
            conflicts: stored_conflicts(s.conflicts.as_deref())?,
            replayed: true,
        }));
    }
    let Some((before, _)) = household_in(&mut tx, &v.household_no).await? else {
        tx.rollback().await?;
        return Ok(Err(Refused::NotFound));
    };
    if let Some(why) = members_moved(&before, &v.changes) {
        tx.rollback().await?;
        return Ok(Err(Refused::Invalid(why)));
    }
    let conflicts = zhenxing_core::visit::conflicts(&v.changes, &field_values(&before));
    // Changes the registry holds already (the office made the same change) are not written again.
    let current = field_values(&before);
    let to_write: Vec<Change> = v
        .changes
        .iter()
        .filter(|c| current.get(&c.field) != Some(&c.now))
        .cloned()
        .collect();
    let outcome = if !conflicts.is_empty() {
        VisitOutcome::Conflict
    } else if to_write.is_empty() {
        VisitOutcome::Recorded
    } else {
        VisitOutcome::Applied
    };
    let mut screened = Screened::default();
    if outcome == VisitOutcome::Applied {
        let after = match with_changes(&before, &to_write) {
            Ok(a) => a,
            Err(t) => {
                tx.rollback().await?;
                return Ok(Err(Refused::Invalid(t)));
            }
        };
        let reason = format!("走访 visit {} ({})", v.visited_on, actor.name);
        write_household(&mut tx, &after, &actor.name, &reason).await?;
        screened = screen(&before, &after);
    }
    let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM visits WHERE county_code = $1")
        .bind(&county).fetch_one(conn).await?);
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: "visit.record".into(),
            object_type: "household".into(),
            object_id: Some(v.household_no.clone()),
            county_code: Some(county.clone()),
            division_code: Some(village.clone()),
            reason: (!v.note.trim().is_empty()).then(|| v.note.trim().to_owned()),
            ..Default::default()
        },
    )
    .await?;
    let warning_id = raise_for_visit(
        &mut tx,
        &mut operation,
        actor,
        v,
        &village,
        screened,
        policy,
    )
    .await?;
    let changes_json = serde_json::to_string(&v.changes).unwrap_or_else(|_| "[]".into());
    let conflicts_json = (!conflicts.is_empty())
        .then(|| serde_json::to_string(&conflicts).unwrap_or_else(|_| "[]".into()));
    let now = now_stored();
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO visits (county_code, id, household_no, division_code, visited_on, visitor, \
         idempotency_key, form_version, no_change, food_clothing, changes, risk_types, declared, \
         note, outcome, conflicts, warning_id, created_at, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)")
        .bind(&county).bind(id).bind(&v.household_no).bind(&village)
        .bind(v.visited_on.to_string()).bind(&actor.name).bind(&v.key)
        .bind(i64::from(v.form_version)).bind(v.no_change).bind(v.food_clothing)
        .bind(&changes_json).bind(risk_codes(&v.risks)).bind(v.declared).bind(v.note.trim())
        .bind(outcome.code()).bind(&conflicts_json).bind(warning_id).bind(&now)
        .bind(operation.seq())
        .execute(conn).await.map(drop)?);
    for (kind, file) in [("photo", &v.photo), ("signature", &v.signature)] {
        if let Some(f) = file {
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO visit_files (county_code, visit_id, kind, content_type, size_bytes, \
                 sha256, content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&county).bind(id).bind(kind).bind(f.content_type)
                .bind(f.bytes.len() as i64).bind(&f.sha256).bind(&f.bytes).bind(&now)
                .execute(conn).await.map(drop)?);
        }
    }
    operation
        .item(
            &mut tx,
            AuditItem {
                action: "visit.record",
                object_type: "visit",
                object_id: format!("{county}/{id}"),
                county_code: Some(county.clone()),
                division_code: Some(village.clone()),
                before: None,
                after: Some(
                    json!({"household_no": v.household_no, "visited_on": v.visited_on.to_string(),
                           "outcome": outcome.code(), "changes": v.changes.len(),
                           "photo": v.photo.is_some(), "signature": v.signature.is_some(),
                           "warning": warning_id})
                    .to_string(),
                ),
            },
        )
        .await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Ok(Recorded {
        county_code: county,
        id,
        outcome,
        warning_id,
        conflicts,
        replayed: false,
    }))
}

/// Writes a household changed by a visit through the registry's one write path, audited with
/// the visit as its reason.
async fn write_household(
    tx: &mut Tx,
    after: &HouseholdRecord,
    actor: &str,
    reason: &str,
) -> Result<()> {
    let request = WriteRequest {
        actor: actor.to_owned(),
        source: "visit".to_owned(),
        reason: Some(reason.to_owned()),
        dry_run: false,
        known_new: false,
        defer_counts: false,
        monitoring: MonitoringPermission::ProceduresOnly,
    };
    write_in_transaction(tx, std::slice::from_ref(after), &request, &|_| {}).await?;
    Ok(())
}

/// Raises the warnings a visit calls for: from the source `visit`, the rules that newly fire
/// and what the cadre saw (food and clothing lacking, risks she reports); from the source
/// `self_declaration`, risks the household declared to her. Each is merged into the
/// household's active warning from its source. The id of the first raised, if any.
async fn raise_for_visit(
    tx: &mut Tx,
    operation: &mut Operation,
    actor: &Account,
    v: &NewVisit,
    village: &str,
    screened: Screened,
    policy: &InboxPolicy,
) -> Result<Option<i64>> {
    let mut reasons = screened.reasons;
    let mut risks = screened.risk_types;
    let seen: &[RiskType] = if v.declared { &[] } else { &v.risks };
    for (risk, words) in observation_reasons(
        v.food_clothing,
        seen,
        v.visited_on,
        &actor.name,
        v.note.trim(),
    ) {
        reasons.push(json!({"rule": "visit", "risk": risk.map(RiskType::code),
                            "zh": words.zh, "en": words.en}));
    }
    for r in seen {
        if !risks.contains(r) {
            risks.push(*r);
        }
    }
    let origin = json!({"account": actor.name, "on": v.visited_on.to_string(), "visit_key": v.key});
    let mut raised = Vec::new();
    if !reasons.is_empty() {
        raised.push(NewWarning {
            household_no: v.household_no.clone(),
            division_code: village.to_owned(),
            source: WarningChannel::Visit.code().to_owned(),
            category: None,
            risk_types: risks,
            reasons,
            rule_set: screened.rule_set,
            origin: Some(origin.clone()),
        });
    }
    if v.declared && !v.risks.is_empty() {
        let channel = WarningChannel::SelfDeclaration;
        raised.push(NewWarning {
            household_no: v.household_no.clone(),
            division_code: village.to_owned(),
            source: channel.code().to_owned(),
            category: None,
            risk_types: v.risks.clone(),
            reasons: vec![report_reason(
                channel,
                v.visited_on,
                &actor.name,
                v.note.trim(),
                &v.risks,
            )],
            rule_set: None,
            origin: Some(origin),
        });
    }
    let mut first = None;
    for w in raised {
        let id = match raise(tx, operation, w, policy).await? {
            Raised::Opened(id) | Raised::Merged(id) | Raised::Unchanged(id) => id,
        };
        first.get_or_insert(id);
    }
    Ok(first)
}

/// How a conflict is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The office's values stay in the fields in conflict; the visit's other changes are written.
    KeepOffice,
    /// Every change of the visit is written.
    ApplyVisit,
}

/// Why a decision was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotDecided {
    NotFound,
    /// Decided already (by someone else, or a second tap).
    AlreadyDecided,
    /// A field in conflict changed again in the office: open the visit again.
    ChangedAgain,
    Invalid(Text),
}

/// A visit waiting for a decision, as `decide` reads it.
#[derive(sqlx::FromRow)]
struct Pending {
    household_no: String,
    division_code: String,
    visited_on: String,
    visitor: String,
    changes: String,
    conflicts: Option<String>,
    outcome: String,
    idempotency_key: String,
}

/// Decides a visit's conflict, by the visitor or an officer whose scope holds the village.
pub async fn decide(
    db: &Db,
    actor: &Account,
    county: &str,
    id: i64,
    choice: Choice,
    screen: Screen<'_>,
    policy: &InboxPolicy,
) -> Result<std::result::Result<VisitOutcome, NotDecided>> {
    let mut tx = db.begin_write().await?;
    let row: Option<Pending> = on_tx!(&mut tx, conn => sqlx::query_as(
            "SELECT household_no, division_code, visited_on, visitor, changes, conflicts, \
             outcome, idempotency_key FROM visits WHERE county_code = $1 AND id = $2")
            .bind(county).bind(id).fetch_optional(conn).await?);
    let Some(Pending {
        household_no: no,
        division_code: village,
        visited_on,
        visitor,
        changes,
        conflicts,
        outcome,
        idempotency_key: key,
    }) = row.filter(|r| actor.scope().contains_code(&r.division_code))
    else {
        tx.rollback().await?;
        return Ok(Err(NotDecided::NotFound));
    };
    if outcome != VisitOutcome::Conflict.code() {
        tx.rollback().await?;
        return Ok(Err(NotDecided::AlreadyDecided));
    }
    let changes: Vec<Change> = serde_json::from_str(&changes)
        .map_err(|e| StoreError::Corrupt(format!("visit changes: {e}")))?;
    let conflicts = stored_conflicts(conflicts.as_deref())?;
    let Some((before, _)) = household_in(&mut tx, &no).await? else {
        tx.rollback().await?;
        return Ok(Err(NotDecided::NotFound));
    };
    let current = field_values(&before);
    if conflicts
        .iter()
        .any(|c| current.get(&c.field) != Some(&c.office))
    {
        tx.rollback().await?;
        return Ok(Err(NotDecided::ChangedAgain));
    }
    if let Some(why) = members_moved(&before, &changes) {
        tx.rollback().await?;
        return Ok(Err(NotDecided::Invalid(why)));
    }
    let in_conflict = |c: &Change| conflicts.iter().any(|x| x.field == c.field);
    let to_write: Vec<Change> = changes
        .into_iter()
        .filter(|c| choice == Choice::ApplyVisit || !in_conflict(c))
        .filter(|c| current.get(&c.field) != Some(&c.now))
        .collect();
    let mut screened = Screened::default();
    if !to_write.is_empty() {
        let after = match with_changes(&before, &to_write) {
            Ok(a) => a,
            Err(t) => {
                tx.rollback().await?;
                return Ok(Err(NotDecided::Invalid(t)));
            }
        };
        let reason = format!("走访冲突裁决 visit conflict decided: {visited_on} ({visitor})");
        write_household(&mut tx, &after, &actor.name, &reason).await?;
        screened = screen(&before, &after);
    }
    let decided = match choice {
        Choice::KeepOffice => VisitOutcome::KeptOffice,
        Choice::ApplyVisit => VisitOutcome::AppliedVisit,
    };
    let mut operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: "visit.decide".into(),
            object_type: "household".into(),
            object_id: Some(no.clone()),
            county_code: Some(county.to_owned()),
            division_code: Some(village.clone()),
            ..Default::default()
        },
    )
    .await?;
    let mut warning_id: Option<i64> = None;
    if !screened.reasons.is_empty() {
        let raised = raise(
            &mut tx,
            &mut operation,
            NewWarning {
                household_no: no.clone(),
                division_code: village.clone(),
                source: "visit".to_owned(),
                category: None,
                risk_types: screened.risk_types,
                reasons: screened.reasons,
                rule_set: screened.rule_set,
                origin: Some(json!({"account": visitor, "on": visited_on, "visit_key": key})),
            },
            policy,
        )
        .await?;
        warning_id = Some(match raised {
            Raised::Opened(id) | Raised::Merged(id) | Raised::Unchanged(id) => id,
        });
    }
    let now = now_stored();
    on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE visits SET outcome = $1, decided_by = $2, decided_at = $3, \
         warning_id = COALESCE(warning_id, $4) WHERE county_code = $5 AND id = $6")
        .bind(decided.code()).bind(&actor.name).bind(&now).bind(warning_id)
        .bind(county).bind(id).execute(conn).await.map(drop)?);
    operation
        .item(
            &mut tx,
            AuditItem {
                action: "visit.decide",
                object_type: "visit",
                object_id: format!("{county}/{id}"),
                county_code: Some(county.to_owned()),
                division_code: Some(village),
                before: Some(json!({"outcome": "conflict"}).to_string()),
                after: Some(
                    json!({"outcome": decided.code(), "written": to_write.len()}).to_string(),
                ),
            },
        )
        .await?;
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Ok(decided))
}

// ---------------------------------------------------------------------------------------------
// Reading visits

/// A visit as lists and the timeline show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub county_code: String,
    pub id: i64,
    pub household_no: String,
    pub division_code: String,
    pub visited_on: String,
    pub visitor: String,
    pub no_change: bool,
    pub food_clothing: bool,
    pub changes: String,
    pub risk_types: String,
    pub declared: bool,
    pub note: String,
    pub outcome: String,
    pub conflicts: Option<String>,
    pub warning_id: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub created_at: String,
    pub has_photo: bool,
    pub has_signature: bool,
}

impl VisitRow {
    pub fn outcome(&self) -> Option<VisitOutcome> {
        VisitOutcome::from_code(&self.outcome)
    }

    pub fn changes(&self) -> Vec<Change> {
        serde_json::from_str(&self.changes).unwrap_or_default()
    }

    pub fn conflicts(&self) -> Vec<Conflict> {
        serde_json::from_str(self.conflicts.as_deref().unwrap_or("[]")).unwrap_or_default()
    }
}

const VISIT_COLUMNS: &str = "v.county_code, v.id, v.household_no, v.division_code, v.visited_on, \
     v.visitor, v.no_change, v.food_clothing, v.changes, v.risk_types, v.declared, v.note, \
     v.outcome, \
     v.conflicts, v.warning_id, v.decided_by, v.decided_at, v.created_at, \
     EXISTS (SELECT 1 FROM visit_files f WHERE f.county_code = v.county_code \
             AND f.visit_id = v.id AND f.kind = 'photo') AS has_photo, \
     EXISTS (SELECT 1 FROM visit_files f WHERE f.county_code = v.county_code \
             AND f.visit_id = v.id AND f.kind = 'signature') AS has_signature";

/// The visits of a household in `scope`, newest first.
pub async fn household_visits(db: &Db, scope: &Scope, household_no: &str) -> Result<Vec<VisitRow>> {
    let (low, high) = code_range(scope.division());
    let sql = format!(
        "SELECT {VISIT_COLUMNS} FROM visits v WHERE v.household_no = $1 \
         AND v.division_code BETWEEN $2 AND $3 ORDER BY v.visited_on DESC, v.id DESC"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(household_no).bind(&low).bind(&high).fetch_all(pool).await?),
    )
}

/// One visit in `scope`.
pub async fn visit(db: &Db, scope: &Scope, county: &str, id: i64) -> Result<Option<VisitRow>> {
    let sql =
        format!("SELECT {VISIT_COLUMNS} FROM visits v WHERE v.county_code = $1 AND v.id = $2");
    let row: Option<VisitRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(county).bind(id).fetch_optional(pool).await?);
    Ok(row.filter(|v| scope.contains_code(&v.division_code)))
}

/// The visits in `scope` whose changes wait for a decision, oldest first.
pub async fn open_conflicts(db: &Db, scope: &Scope) -> Result<Vec<VisitRow>> {
    let (low, high) = code_range(scope.division());
    let sql = format!(
        "SELECT {VISIT_COLUMNS} FROM visits v WHERE v.outcome = 'conflict' \
         AND v.division_code BETWEEN $1 AND $2 ORDER BY v.created_at, v.id LIMIT 500"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&low).bind(&high).fetch_all(pool).await?),
    )
}

/// A visit's photo or signature (content type, bytes), for a reader whose scope holds it.
pub async fn visit_file(
    db: &Db,
    scope: &Scope,
    county: &str,
    id: i64,
    kind: &str,
) -> Result<Option<(String, Vec<u8>)>> {
    if visit(db, scope, county, id).await?.is_none() {
        return Ok(None);
    }
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT content_type, content FROM visit_files \
         WHERE county_code = $1 AND visit_id = $2 AND kind = $3")
        .bind(county).bind(id).bind(kind).fetch_optional(pool).await?))
}

/// A household of a cadre's round: a monitored household of her scope with the day of its
/// last visit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoundRow {
    pub household_no: String,
    pub division_code: String,
    pub head_name: Option<String>,
    pub village_group: Option<String>,
    pub last_visit: Option<String>,
}

impl RoundRow {
    /// Visited on or after `month_start` (the first of this month).
    pub fn visited_since(&self, month_start: Date) -> bool {
        self.last_visit
            .as_deref()
            .is_some_and(|d| d >= month_start.to_string().as_str())
    }
}

/// The monitored households of `scope` whose risk is not eliminated (the monthly round), with
/// their last visit: not visited since the previous month first (overdue), then not visited
/// this month, then the rest; within each, by household number. At most 2,000.
pub async fn round(db: &Db, scope: &Scope) -> Result<Vec<RoundRow>> {
    let (low, high) = code_range(scope.division());
    let rows: Vec<RoundRow> = on_pool!(db, pool => sqlx::query_as(
        "SELECT h.household_no, h.division_code, \
         (SELECT m.name FROM members m WHERE m.county_code = h.county_code AND m.household_id = h.id AND m.relation = 'head' \
          ORDER BY m.position LIMIT 1) AS head_name, h.village_group, \
         (SELECT MAX(v.visited_on) FROM visits v WHERE v.county_code = h.county_code \
          AND v.household_no = h.household_no) AS last_visit \
         FROM households h WHERE h.division_code BETWEEN $1 AND $2 \
         AND h.monitoring_category IS NOT NULL AND h.risk_eliminated_on IS NULL \
         ORDER BY h.household_no LIMIT 2000")
        .bind(&low).bind(&high).fetch_all(pool).await?);
    Ok(rows)
}

/// Monitored households (risk not eliminated) of `scope`, and how many of them were visited on
/// or after `since`.
pub async fn visited_count(db: &Db, scope: &Scope, since: Date) -> Result<(i64, i64)> {
    let (low, high) = code_range(scope.division());
    let row: (i64, i64) = on_pool!(db, pool => sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN EXISTS (\
           SELECT 1 FROM visits v WHERE v.county_code = h.county_code \
           AND v.household_no = h.household_no AND v.visited_on >= $3) THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM households h WHERE h.division_code BETWEEN $1 AND $2 \
         AND h.monitoring_category IS NOT NULL AND h.risk_eliminated_on IS NULL")
        .bind(&low).bind(&high).bind(since.to_string()).fetch_one(pool).await?);
    Ok(row)
}

/// Whether any visit is recorded (the demo seeds visits only into a registry without any).
pub async fn any_recorded(db: &Db) -> Result<bool> {
    let n: i64 = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM visits LIMIT 1) AS v")
        .fetch_one(pool).await?);
    Ok(n > 0)
}
