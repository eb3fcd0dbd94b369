//! Writes a county's monitoring history (`zhenxing_core::history`: cases with their steps,
//! pairings, measures) in bulk, inside the caller's transaction, as one audit operation
//! (`history.generate`) that every case step points to. Used by `generate` for the demo's
//! history (decision 0019); the steps were taken through the state machine where they were
//! made, so here they are only stored, with the same content and columns as
//! `procedures::take_step` gives them.

use crate::audit::{AuditEntry, Operation};
use crate::bulk::{Batch, ColType};
use crate::portal::declaration_reason;
use crate::procedures::step_details;
use crate::warnings::{due_when_new, fingerprint, reason_json, report_reason, risk_codes};
use crate::{Result, StoreError, Tx, keys, on_tx};
use serde_json::json;
use time::{Date, PrimitiveDateTime, Time};
use zhenxing_core::MonitoringCategory;
use zhenxing_core::china_time::{CHINA, stored};
use zhenxing_core::history::{
    CaseHistory, HouseholdMeasure, HouseholdPairing, TicketHistory, WarningHistory, WarningReason,
    YearIncome,
};
use zhenxing_core::portal::Declaration;
use zhenxing_core::procedure::{EliminationMethod, StepKind};
use zhenxing_core::warning::InboxPolicy;

/// What the audit operation of a county's history says was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryCounts {
    pub cases: u64,
    pub steps: u64,
    pub pairings: u64,
    pub measures: u64,
    pub warnings: u64,
    pub tickets: u64,
    pub incomes: u64,
}

/// What a county's history holds, as [`write_county`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct CountyRecords<'a> {
    pub cases: &'a [CaseHistory],
    pub pairings: &'a [HouseholdPairing],
    pub measures: &'a [HouseholdMeasure],
    pub warnings: &'a [WarningHistory],
    pub tickets: &'a [TicketHistory],
    pub incomes: &'a [YearIncome],
}

impl std::ops::AddAssign for HistoryCounts {
    fn add_assign(&mut self, other: HistoryCounts) {
        self.cases += other.cases;
        self.steps += other.steps;
        self.pairings += other.pairings;
        self.measures += other.measures;
        self.warnings += other.warnings;
        self.tickets += other.tickets;
        self.incomes += other.incomes;
    }
}

const CASE_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("division_code", ColType::Text),
    ("kind", ColType::Text),
    ("stage", ColType::Text),
    ("lead_channel", ColType::Text),
    ("opened_on", ColType::Text),
    ("due_on", ColType::Text),
    ("compared", ColType::Bool),
    ("appraised_on", ColType::Text),
    ("notice_starts_on", ColType::Text),
    ("notice_ends_on", ColType::Text),
    ("objections", ColType::Text),
    ("category", ColType::Text),
    ("risk_types", ColType::Text),
    ("method", ColType::Text),
    ("approved_on", ColType::Text),
    ("closed_on", ColType::Text),
    ("opened_by", ColType::Text),
    ("row_version", ColType::Int),
    ("opened_seq", ColType::Int),
    ("updated_seq", ColType::Int),
    ("opened_at", ColType::Text),
    ("updated_at", ColType::Text),
    ("national_recorded_on", ColType::Text),
    ("national_record_number", ColType::Text),
    ("national_recorded_by", ColType::Text),
    ("warning_id", ColType::Int),
];

const TICKET_COLUMNS: &[(&str, ColType)] = &[
    ("county_code", ColType::Text),
    ("id", ColType::Int),
    ("division_code", ColType::Text),
    ("code_hash", ColType::Text),
    ("kind", ColType::Text),
    ("category", ColType::Text),
    ("about_person", ColType::Bool),
    ("subject", ColType::Text),
    ("body", ColType::Text),
    ("requester", ColType::Text),
    ("phone", ColType::Sealed(&keys::TICKETS_PHONE)),
    ("status", ColType::Text),
    ("assignee", ColType::Text),
    ("answer", ColType::Text),
    ("answered_by", ColType::Text),
    ("answered_at", ColType::Text),
    ("closed_at", ColType::Text),
    ("due_on", ColType::Text),
    ("consent_version", ColType::Text),
    ("consent_at", ColType::Text),
    ("created_at", ColType::Text),
    ("updated_at", ColType::Text),
    ("created_seq", ColType::Int),
    ("updated_seq", ColType::Int),
    ("row_version", ColType::Int),
];

const WARNING_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("division_code", ColType::Text),
    ("source", ColType::Text),
    ("status", ColType::Text),
    ("kind", ColType::Text),
    ("category", ColType::Text),
    ("risk_types", ColType::Text),
    ("reasons", ColType::Text),
    ("fingerprint", ColType::Text),
    ("rule_set_id", ColType::Int),
    ("rule_set_version", ColType::Int),
    ("opened_at", ColType::Text),
    ("closed_at", ColType::Text),
    ("updated_at", ColType::Text),
    ("opened_seq", ColType::Int),
    ("updated_seq", ColType::Int),
    ("origin", ColType::Text),
    ("assignee", ColType::Text),
    ("deadline", ColType::Text),
    ("due_on", ColType::Text),
    ("assigned_at", ColType::Text),
    ("resolution", ColType::Text),
    ("resolved_by", ColType::Text),
    ("row_version", ColType::Int),
];

const STEP_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("case_id", ColType::Int),
    ("number", ColType::Int),
    ("step", ColType::Text),
    ("stage_before", ColType::Text),
    ("stage_after", ColType::Text),
    ("happened_on", ColType::Text),
    ("actor", ColType::Text),
    ("actor_role", ColType::Text),
    ("note", ColType::Text),
    ("details", ColType::Text),
    ("recorded_at", ColType::Text),
    ("audit_seq", ColType::Int),
];

const PAIRING_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("division_code", ColType::Text),
    ("cadre_name", ColType::Text),
    ("sex", ColType::Text),
    ("political_status", ColType::Text),
    ("unit", ColType::Text),
    ("phone", ColType::Sealed(&keys::PAIRINGS_PHONE)),
    ("starts_on", ColType::Text),
    ("ends_on", ColType::Text),
    ("row_version", ColType::Int),
    ("created_seq", ColType::Int),
    ("updated_seq", ColType::Int),
    ("created_at", ColType::Text),
    ("updated_at", ColType::Text),
];

const MEASURE_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("division_code", ColType::Text),
    ("category", ColType::Text),
    ("content", ColType::Text),
    ("amount", ColType::Int),
    ("starts_on", ColType::Text),
    ("ends_on", ColType::Text),
    ("status", ColType::Text),
    ("implemented_on", ColType::Text),
    ("risk_type", ColType::Text),
    ("cancel_reason", ColType::Text),
    ("row_version", ColType::Int),
    ("created_seq", ColType::Int),
    ("updated_seq", ColType::Int),
    ("created_at", ColType::Text),
    ("updated_at", ColType::Text),
];

/// The stored instant of a day in the past: its working morning, China time.
fn at_morning(day: Date) -> String {
    at_hour(day, 10)
}

/// Later the same working day (a step after the morning's).
fn at_afternoon(day: Date) -> String {
    at_hour(day, 15)
}

fn at_hour(day: Date, hour: u8) -> String {
    let time = Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT);
    stored(PrimitiveDateTime::new(day, time).assume_offset(CHINA))
}

fn day_text(day: Option<Date>) -> Option<String> {
    day.map(|d| d.to_string())
}

/// The next free id of a table, in the transaction.
async fn next_id(tx: &mut Tx, table: &str) -> Result<i64> {
    let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM {table}");
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(conn).await?))
}

/// Writes the history of the county `county_code` as `actor` (the steps are signed by it, with
/// the role that took each). The households must be written already.
pub async fn write_county(
    tx: &mut Tx,
    actor: &str,
    county_code: &str,
    history: &CountyRecords<'_>,
) -> Result<HistoryCounts> {
    let CountyRecords {
        cases,
        pairings,
        measures,
        warnings,
        tickets,
        incomes,
    } = *history;
    let counts = HistoryCounts {
        cases: cases.len() as u64,
        steps: cases.iter().map(|c| c.steps.len() as u64 + 1).sum(),
        pairings: pairings.len() as u64,
        measures: measures.len() as u64,
        warnings: (warnings.len() + cases.iter().filter(|c| c.lead.is_some()).count()) as u64,
        tickets: tickets.len() as u64,
        incomes: incomes.len() as u64,
    };
    let operation = Operation::begin(
        tx,
        AuditEntry {
            actor: actor.to_owned(),
            action: "history.generate".into(),
            object_type: "county".into(),
            object_id: Some(county_code.to_owned()),
            county_code: Some(county_code.to_owned()),
            reason: Some(
                "合成的演示历史：每一步均经程序规则校验 / the demo's synthetic history, every step checked by the procedures' rules"
                    .into(),
            ),
            after: Some(json!({"cases": counts.cases, "steps": counts.steps,
                               "pairings": counts.pairings, "measures": counts.measures,
                               "warnings": counts.warnings, "tickets": counts.tickets,
                               "incomes": counts.incomes})),
            ..Default::default()
        },
    )
    .await?;
    let seq = operation.seq();
    let mut case_id = next_id(tx, "cases").await?;
    let mut step_id = next_id(tx, "case_steps").await?;
    let mut case_rows = Batch::new("cases", CASE_COLUMNS);
    let mut step_rows = Batch::new("case_steps", STEP_COLUMNS);
    let mut warning_rows = WarningWriter::new(tx, county_code, seq).await?;
    for case in cases {
        let lead = case.lead.as_ref().map(|w| warning_rows.push(w));
        let state = &case.state;
        let last_day = case.steps.last().map_or(case.opened_on, |s| s.on);
        let recorded = state.recorded_on;
        let (notice_starts, notice_ends) = state.notice.unzip();
        case_rows
            .row()
            .int(Some(case_id))
            .text(Some(county_code))
            .text(Some(&case.household_no))
            .text(Some(case.division.as_str()))
            .text(Some(case.kind.code()))
            .text(Some(state.stage.code()))
            .text(Some(case.channel.code()))
            .text(Some(case.opened_on.to_string()))
            .text(day_text(case.due_on))
            .bool(Some(state.compared))
            .text(day_text(state.appraised_on))
            .text(day_text(notice_starts))
            .text(day_text(notice_ends))
            .text(Some(
                serde_json::to_string(&state.objections).unwrap_or_else(|_| "[]".into()),
            ))
            .text(state.category.map(MonitoringCategory::code))
            .text(Some(risk_codes(&state.risks)))
            .text(state.method.map(EliminationMethod::code))
            .text(day_text(case.approved_on()))
            .text(day_text(case.closed_on()))
            .text(Some(actor))
            .int(Some(case.steps.len() as i64 + 1))
            .int(Some(seq))
            .int(Some(seq))
            .text(Some(at_morning(case.opened_on)))
            .text(Some(at_morning(last_day)))
            .text(day_text(recorded))
            .text(case.record_number())
            .text(recorded.map(|_| actor))
            .int(lead);
        // The lead, as `open_case` records it, then every step as `take_step` does.
        let open = json!({"channel": case.channel.code(), "warning_id": lead, "emergency": null});
        step_rows
            .row()
            .int(Some(step_id))
            .text(Some(county_code))
            .int(Some(case_id))
            .int(Some(1))
            .text(Some(StepKind::Open.code()))
            .text(None::<&str>)
            .text(Some(zhenxing_core::procedure::Stage::Verification.code()))
            .text(Some(case.opened_on.to_string()))
            .text(Some(actor))
            .text(Some(zhenxing_core::Role::VillageCadre.code()))
            .text(Some(""))
            .text(Some(open.to_string()))
            .text(Some(at_morning(case.opened_on)))
            .int(Some(seq));
        step_id += 1;
        for (number, s) in (2..).zip(&case.steps) {
            step_rows
                .row()
                .int(Some(step_id))
                .text(Some(county_code))
                .int(Some(case_id))
                .int(Some(number))
                .text(Some(s.step.kind().code()))
                .text(Some(s.before.code()))
                .text(Some(s.after.code()))
                .text(Some(s.step.happened_on().unwrap_or(s.on).to_string()))
                .text(Some(actor))
                .text(Some(s.role.code()))
                .text(Some(s.step.note().trim()))
                .text(Some(step_details(&s.step).to_string()))
                .text(Some(at_morning(s.on)))
                .int(Some(seq));
            step_id += 1;
        }
        case_id += 1;
        if step_rows.len() >= 20_000 {
            case_rows.flush(tx).await?;
            step_rows.flush(tx).await?;
        }
    }
    case_rows.flush(tx).await?;
    step_rows.flush(tx).await?;
    for w in warnings {
        warning_rows.push(w);
    }
    warning_rows.flush(tx).await?;

    let mut id = next_id(tx, "pairings").await?;
    let mut rows = Batch::new("pairings", PAIRING_COLUMNS);
    for p in pairings {
        let c = &p.pairing;
        let at = at_morning(c.starts_on);
        rows.row()
            .int(Some(id))
            .text(Some(county_code))
            .text(Some(&p.household_no))
            .text(Some(p.division.as_str()))
            .text(Some(c.name.as_str()))
            .text(c.sex.map(|s| s.code()))
            .text(c.political_status.map(|s| s.code()))
            .text(Some(&c.unit))
            .text(Some(c.phone.as_str()))
            .text(Some(c.starts_on.to_string()))
            .text(day_text(c.ends_on))
            .int(Some(1))
            .int(Some(seq))
            .int(Some(seq))
            .text(Some(&at))
            .text(Some(&at));
        id += 1;
    }
    rows.flush(tx).await?;

    let mut id = next_id(tx, "measures").await?;
    let mut rows = Batch::new("measures", MEASURE_COLUMNS);
    for m in measures {
        let x = &m.measure;
        rows.row()
            .int(Some(id))
            .text(Some(county_code))
            .text(Some(&m.household_no))
            .text(Some(m.division.as_str()))
            .text(Some(x.category.code()))
            .text(Some(&x.content))
            .int(x.amount.map(|a| a.0))
            .text(Some(x.starts_on.to_string()))
            .text(day_text(x.ends_on))
            .text(Some(x.status.code()))
            .text(day_text(x.implemented_on))
            .text(x.risk.map(|r| r.code()))
            .text(m.cancel_reason.as_deref())
            .int(Some(1 + i64::from(m.cancel_reason.is_some())))
            .int(Some(seq))
            .int(Some(seq))
            .text(Some(at_morning(x.starts_on)))
            .text(Some(at_morning(x.implemented_on.unwrap_or(x.starts_on))));
        id += 1;
    }
    rows.flush(tx).await?;

    let mut id = next_id(tx, "tickets").await?;
    let mut rows = Batch::new("tickets", TICKET_COLUMNS);
    for t in tickets {
        push_ticket(&mut rows, id, county_code, seq, t);
        id += 1;
    }
    rows.flush(tx).await?;
    crate::incomes::write_years(tx, county_code, seq, incomes).await?;
    operation.finish(tx, None).await?;
    Ok(counts)
}

const DECLARATION_COLUMNS: &[(&str, ColType)] = &[
    ("county_code", ColType::Text),
    ("id", ColType::Int),
    ("division_code", ColType::Text),
    ("declared_division_code", ColType::Text),
    ("code_hash", ColType::Text),
    ("applicant", ColType::Text),
    ("id_number", ColType::Sealed(&keys::DECLARATIONS_ID_NUMBER)),
    ("phone", ColType::Sealed(&keys::DECLARATIONS_PHONE)),
    ("events", ColType::Text),
    ("account", ColType::Text),
    ("household_no", ColType::Text),
    ("warning_id", ColType::Int),
    ("consent_version", ColType::Text),
    ("consent_at", ColType::Text),
    ("created_at", ColType::Text),
    ("created_seq", ColType::Int),
    ("id_number_index", ColType::IdNumberIndexOf(6)),
];

/// The county's warnings and the declarations behind the self-declared ones, numbered as they
/// are pushed.
struct WarningWriter<'a> {
    county_code: &'a str,
    seq: i64,
    rule_sets: RuleSetIds,
    warnings: Batch,
    declarations: Batch,
    next_warning: i64,
    next_declaration: i64,
    /// The declarations given a demo photo (number, when stored), written after them.
    photos: Vec<(i64, String)>,
}

/// Every how many synthetic declarations one carries a photo, so that the warning page shows
/// the files of a declaration in the demo.
const DEMO_PHOTO_EVERY: i64 = 5;

/// The demo's photo: an 8 × 8 grey-green PNG, named as synthetic.
const DEMO_PHOTO: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x08\x00\x00\x00\x08\x08\x02\x00\x00\x00\x4b\x6d\x29\xdc\x00\x00\x00\x11IDAT\x78\xda\x63\x98\xb5\xa1\x07\x2b\x62\x18\x5a\x12\x00\xec\xeb\x75\x81\x34\xac\x25\x49\x00\x00\x00\x00IEND\xae\x42\x60\x82";

impl<'a> WarningWriter<'a> {
    async fn new(tx: &mut Tx, county_code: &'a str, seq: i64) -> Result<WarningWriter<'a>> {
        Ok(WarningWriter {
            county_code,
            seq,
            rule_sets: RuleSetIds::read(tx).await?,
            warnings: Batch::new("warnings", WARNING_COLUMNS),
            declarations: Batch::new("declarations", DECLARATION_COLUMNS),
            next_warning: next_id(tx, "warnings").await?,
            next_declaration: next_id(tx, "declarations").await?,
            photos: Vec::new(),
        })
    }

    /// Adds a warning (and its declaration); its id.
    fn push(&mut self, w: &WarningHistory) -> i64 {
        let id = self.next_warning;
        self.next_warning += 1;
        let declaration = w.declaration.as_ref().map(|d| {
            let number = self.next_declaration;
            self.next_declaration += 1;
            if number % DEMO_PHOTO_EVERY == 0 {
                self.photos.push((number, at_morning(w.opened_on)));
            }
            push_declaration(
                &mut self.declarations,
                (number, self.seq),
                self.county_code,
                w,
                d,
                id,
            );
            number
        });
        push_warning(
            &mut self.warnings,
            (id, self.seq, declaration),
            self.county_code,
            &self.rule_sets,
            w,
        );
        id
    }

    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        self.warnings.flush(tx).await?;
        self.declarations.flush(tx).await?;
        let photo = crate::files::accept("示例照片（合成数据）.png", DEMO_PHOTO.to_vec())
            .map_err(|why| StoreError::Corrupt(why.en))?;
        for (number, at) in std::mem::take(&mut self.photos) {
            crate::files::DECLARATION_FILES
                .insert(
                    tx,
                    (self.county_code, number),
                    std::slice::from_ref(&photo),
                    &at,
                )
                .await?;
        }
        Ok(())
    }
}

/// A declaration's row, as `portal::declare` stores it (its tracking code drawn and dropped).
fn push_declaration(
    rows: &mut Batch,
    (id, seq): (i64, i64),
    county_code: &str,
    w: &WarningHistory,
    d: &Declaration,
    warning_id: i64,
) {
    let (_, code_hash) = crate::portal::intake::new_tracking_code();
    let at = at_morning(w.opened_on);
    let events: Vec<&str> = d.events.iter().map(|e| e.code()).collect();
    rows.row()
        .text(Some(county_code))
        .int(Some(id))
        .text(Some(w.division.as_str()))
        .text(Some(d.village.as_str()))
        .text(Some(code_hash))
        .text(Some(d.applicant.as_str()))
        .text(Some(d.id_number.as_str()))
        .text(Some(d.phone.as_str()))
        .text(Some(events.join(",")))
        .text(Some(&d.account))
        .text(Some(&w.household_no))
        .int(Some(warning_id))
        .text(Some(zhenxing_core::portal::CONSENT_VERSION))
        .text(Some(&at))
        .text(Some(&at))
        .int(Some(seq))
        .text(None::<&str>);
}

/// A warning's row, as `warnings::raise` opens it and `warnings::take_step` moves it: the
/// reasons as the rules, the report or the declaration (numbered `declaration`) gave them, the
/// assignment, the settlement.
fn push_warning(
    rows: &mut Batch,
    (id, seq, declaration): (i64, i64, Option<i64>),
    county_code: &str,
    rule_sets: &RuleSetIds,
    w: &WarningHistory,
) {
    let rule_set = w.reasons.iter().find_map(|r| match r {
        WarningReason::Rule(reason) => rule_sets
            .0
            .get(&(
                i64::from(reason.rule_set_year),
                i64::from(reason.rule_set_version),
            ))
            .map(|&id| (id, i64::from(reason.rule_set_version))),
        WarningReason::Report { .. } | WarningReason::Declared => None,
    });
    let reasons: Vec<serde_json::Value> = w
        .reasons
        .iter()
        .map(|r| match r {
            WarningReason::Rule(reason) => reason_json(reason),
            WarningReason::Report { by, on, note } => {
                report_reason(w.channel, *on, by, note, &w.risks)
            }
            WarningReason::Declared => match (&w.declaration, declaration) {
                (Some(d), Some(number)) => declaration_reason(d, w.opened_on, number, ("", "")),
                _ => serde_json::Value::Null,
            },
        })
        .collect();
    let origin = w.reasons.iter().find_map(|r| match r {
        WarningReason::Report { by, on, .. } => {
            Some(json!({"account": by, "on": on.to_string()}).to_string())
        }
        WarningReason::Declared => declaration.map(|number| {
            json!({"declaration": number, "on": w.opened_on.to_string()}).to_string()
        }),
        WarningReason::Rule(_) => None,
    });
    let reasons = serde_json::Value::Array(reasons).to_string();
    let risks = risk_codes(&w.risks);
    let fingerprint = fingerprint(w.category, &risks, &reasons);
    let opened_at = at_morning(w.opened_on);
    let assigned_at = w.assigned.as_ref().map(|a| at_afternoon(a.on));
    let closed_at = w.settled.as_ref().map(|s| at_afternoon(s.on));
    let due_on = match &w.assigned {
        Some(a) => a.deadline.to_string(),
        None => due_when_new(w.opened_on, &InboxPolicy::default()),
    };
    let steps = i64::from(w.assigned.is_some()) + i64::from(w.settled.is_some());
    rows.row()
        .int(Some(id))
        .text(Some(county_code))
        .text(Some(&w.household_no))
        .text(Some(w.division.as_str()))
        .text(Some(&w.source))
        .text(Some(w.status.code()))
        .text(Some(w.kind.code()))
        .text(w.category.map(MonitoringCategory::code))
        .text(Some(&risks))
        .text(Some(&reasons))
        .text(Some(&fingerprint))
        .int(rule_set.map(|(id, _)| id))
        .int(rule_set.map(|(_, version)| version))
        .text(Some(&opened_at))
        .text(closed_at.as_deref())
        .text(Some(
            closed_at
                .as_deref()
                .or(assigned_at.as_deref())
                .unwrap_or(&opened_at),
        ))
        .int(Some(seq))
        .int(Some(seq))
        .text(origin)
        .text(w.assigned.as_ref().map(|a| a.cadre.as_str()))
        .text(w.assigned.as_ref().map(|a| a.deadline.to_string()))
        .text(Some(due_on))
        .text(assigned_at.as_deref())
        .text(w.settled.as_ref().map(|s| s.note.as_str()))
        .text(w.settled.as_ref().map(|s| s.by.as_str()))
        .int(Some(1 + steps));
}

/// A ticket's row, as `portal::submit_ticket` stores it and `take_ticket_step` moves it. Its
/// tracking code is drawn and dropped: the history's requesters are not there to track it.
fn push_ticket(rows: &mut Batch, id: i64, county_code: &str, seq: i64, h: &TicketHistory) {
    let t = &h.ticket;
    let (_, code_hash) = crate::portal::intake::new_tracking_code();
    let received = at_morning(h.received_on);
    let answered_at = h.answer.as_ref().map(|a| at_afternoon(a.on));
    let closed_at = h.closed_on.map(at_afternoon);
    let updated = closed_at
        .clone()
        .or(answered_at.clone())
        .or(h.assigned.as_ref().map(|(_, on)| at_afternoon(*on)))
        .unwrap_or_else(|| received.clone());
    let steps = i64::from(h.assigned.is_some())
        + i64::from(h.answer.is_some())
        + i64::from(h.closed_on.is_some());
    rows.row()
        .text(Some(county_code))
        .int(Some(id))
        .text(Some(t.division.as_str()))
        .text(Some(code_hash))
        .text(Some(t.kind.code()))
        .text(Some(t.category.code()))
        .bool(Some(t.about_person))
        .text(Some(&t.subject))
        .text(Some(&t.body))
        .text(t.requester.as_ref().map(|(name, _)| name.as_str()))
        .text(t.requester.as_ref().map(|(_, phone)| phone.as_str()))
        .text(Some(h.status.code()))
        .text(h.assigned.as_ref().map(|(name, _)| name.as_str()))
        .text(h.answer.as_ref().map(|a| a.text.as_str()))
        .text(h.answer.as_ref().map(|a| a.by.as_str()))
        .text(answered_at)
        .text(closed_at)
        .text(Some(h.due_on.to_string()))
        .text(Some(zhenxing_core::portal::CONSENT_VERSION))
        .text(Some(&received))
        .text(Some(&received))
        .text(Some(updated))
        .int(Some(seq))
        .int(Some(seq))
        .int(Some(1 + steps));
}

/// The stored municipal rule sets by (year, version): a warning the rules raised names the one
/// whose rules fired, as a monitoring run's warnings do.
struct RuleSetIds(std::collections::HashMap<(i64, i64), i64>);

impl RuleSetIds {
    async fn read(tx: &mut Tx) -> Result<RuleSetIds> {
        let rows: Vec<(i64, i64, i64)> = on_tx!(tx, conn => sqlx::query_as(
            "SELECT CAST(year AS BIGINT), CAST(version AS BIGINT), CAST(id AS BIGINT) \
             FROM rule_sets WHERE jurisdiction = $1")
            .bind(zhenxing_core::monitoring::CHONGQING).fetch_all(conn).await?);
        Ok(RuleSetIds(
            rows.into_iter().map(|(y, v, id)| ((y, v), id)).collect(),
        ))
    }
}
