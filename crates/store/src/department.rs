//! Department data screening (issue 4 item 3): an accepted department file's records are
//! matched to registry members by ID number, evaluated with the rule set in force
//! ([`zhenxing_core::monitoring::Prepared::classify_department`]) and raise warnings on the
//! members' households ([`crate::warnings::raise`], source `department:<kind>`).
//!
//! [`import`] does it all in one write transaction with one audit operation
//! (`department.import`): the upload row, one `department_records` row per new matched record,
//! and the warnings. A record is identified by its natural key (a medical settlement by its
//! number, the other kinds by what they report and the day; SHA-256 stored): a record already
//! imported, by this file or an earlier one, is counted as repeated and raises nothing again,
//! so importing the same file twice raises nothing twice. A household's new records of one
//! file are evaluated together (medical amounts summed). Rows whose ID number is not a member
//! of a rural household in the uploader's division are unmatched: kept in the upload's report
//! with the reason (ID numbers masked), never an error.
//!
//! Matching is by the `members_id_number` index, 500 numbers per query; the matched households'
//! facts (type, income, members) are read the same way, so an upload costs a few queries per
//! thousand rows, whatever the size of the registry.

use crate::audit::{AuditEntry, Operation};
use crate::bulk::{Batch, ColType};
use crate::keys;
use crate::monitoring::{current_rule_set, ensure_builtin_rule_sets};
use crate::placeholders;
use crate::warnings::{NewWarning, Raised, raise, reason_json};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::department::{DepartmentKind, DepartmentRecord, DepartmentSource};
use zhenxing_core::monitoring::{CHONGQING, HouseholdFacts, MemberFacts, Reason};
use zhenxing_core::warning::InboxPolicy;
use zhenxing_core::{
    Action, DivisionCode, DivisionLevel, Fen, HouseholdType, MonitoringCategory, Role, Scope, Text,
    mask::mask_id_number, text,
};

/// ID numbers per matching query.
const CHUNK: usize = 500;
/// Unmatched rows kept in an upload's report; the count is always complete.
pub const MAX_UNMATCHED_KEPT: usize = 20_000;

/// Who uploads what.
#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    pub kind: DepartmentKind,
    pub file_name: &'a str,
    /// SHA-256 of the file's bytes, in hexadecimal.
    pub sha256: &'a str,
    /// The account's name, or `cli:USER`.
    pub actor: &'a str,
    pub account_id: Option<i64>,
    /// The uploader's division: only households inside it are matched.
    pub division: DivisionCode,
}

/// Why a row matched nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedReason {
    /// No member of a rural household (in the uploader's division) has the ID number.
    NotRegistered,
}

impl UnmatchedReason {
    pub fn code(self) -> &'static str {
        match self {
            UnmatchedReason::NotRegistered => "not_registered",
        }
    }

    /// In words, for an uploader of `division`.
    pub fn text(self, division: &str) -> Text {
        let municipal = DivisionCode::parse(division)
            .map(|d| d.level() == DivisionLevel::Province)
            .unwrap_or(true);
        if municipal {
            text!(
                "登记库中没有此证件号码的农村家庭成员：证件号码未登记，或此人不在农村家庭中（或已从户中移除）",
                "no member of a rural household in the registry has this ID number: an unknown ID number, or a person not in a rural household (or removed from one)"
            )
        } else {
            text!(
                "您辖区（{division}）登记的农村家庭成员中没有此证件号码：证件号码未登记，或此人不在本辖区的农村家庭中（或已从户中移除）",
                "no member of a rural household registered in your division ({division}) has this ID number: an unknown ID number, or a person not in a rural household of your division (or removed from one)"
            )
        }
    }
}

/// A row that matched nobody, as the sender gets it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedRow {
    pub row: u64,
    /// Masked: `500229********0139`.
    pub id_number: String,
    pub reason: UnmatchedReason,
}

/// The rows of one household that raised (or added to) a warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedRows {
    pub rows: Vec<u64>,
    /// The rules that fired (codes), context included.
    pub rules: Vec<String>,
    pub category: Option<String>,
    /// `opened`, `merged` or `unchanged`.
    pub outcome: String,
}

/// An upload as stored, with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSummary {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub uploaded_by: String,
    pub division_code: String,
    pub created_at: String,
    pub rows: i64,
    /// Rows matched to a registry member (new and repeated).
    pub matched: i64,
    pub unmatched: i64,
    /// Matched rows already imported before (raise nothing again).
    pub repeated: i64,
    pub warnings_opened: i64,
    /// Warnings that were already open and took new reasons.
    pub warnings_merged: i64,
    pub audit_seq: i64,
}

/// What an upload did: its summary and its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadReport {
    pub summary: UploadSummary,
    /// An earlier upload of the very same bytes, if any.
    pub same_file_as: Option<i64>,
    pub unmatched_rows: Vec<UnmatchedRow>,
    pub raised: Vec<RaisedRows>,
    /// The rule set the records were evaluated with: "2025/500000000000/v1"; empty when not
    /// disclosed.
    pub rule_set: String,
    /// What this report tells ([`UploadReport::disclosed`]).
    pub disclosure: Disclosure,
}

/// How much of an upload's result its viewer is told. Matching and the rules read the registry
/// (members' health, the household's income and category): a viewer who may not read the
/// registry (a department officer) learns only what follows from their own file: rows read,
/// matched and unmatched counts, rows already imported, and which of their rows went to the
/// registry's staff for review. Staff who read the registry see the rules, the categories and
/// what became of each warning, as on the warnings themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    Full,
    OwnFileOnly,
}

impl Disclosure {
    pub fn for_role(role: Role) -> Disclosure {
        if role.may(Action::ReadRegistry) {
            Disclosure::Full
        } else {
            Disclosure::OwnFileOnly
        }
    }
}

/// The outcome of a row sent for review, as a viewer without the registry gets it.
pub const OUTCOME_REVIEW: &str = "review";

impl UploadReport {
    /// The report as `disclosure` allows. For [`Disclosure::OwnFileOnly`]: one entry per row
    /// that raised a warning, in row order (grouping rows by household would tell who lives
    /// together), with no rules, category or outcome ([`OUTCOME_REVIEW`]), no rule set, and
    /// no split of the warnings into opened and merged (which tells whether a household
    /// already had one): [`UploadReport::warnings_disclosed`] is false.
    pub fn disclosed(mut self, disclosure: Disclosure) -> UploadReport {
        if disclosure == Disclosure::Full {
            return self;
        }
        let mut rows: Vec<u64> = self.raised.iter().flat_map(|r| r.rows.clone()).collect();
        rows.sort_unstable();
        rows.dedup();
        self.raised = rows
            .into_iter()
            .map(|row| RaisedRows {
                rows: vec![row],
                rules: Vec::new(),
                category: None,
                outcome: OUTCOME_REVIEW.to_owned(),
            })
            .collect();
        self.rule_set = String::new();
        self.disclosure = disclosure;
        self
    }
}

/// What the report column holds.
#[derive(Serialize, Deserialize)]
struct StoredReport {
    same_file_as: Option<i64>,
    unmatched_rows: Vec<UnmatchedRow>,
    raised: Vec<RaisedRows>,
    rule_set: String,
}

/// A matched member: where the ID number lives.
#[derive(Debug, Clone)]
struct Match {
    household_id: i64,
    county_code: String,
    household_no: String,
    division_code: String,
}

/// A natural key as stored: its blind index under the index key (it holds the ID number, so an
/// unkeyed hash would give the number away to a guess). Records stored before issue 15 kept a
/// SHA-256: the first upload of each after the upgrade is not recognised as a repeat.
pub fn key_digest(natural_key: &str) -> Result<String> {
    keys::blind_index("department_records.natural_key", natural_key)
}

/// The households of the given ID numbers, found by the numbers' blind index.
async fn match_members(tx: &mut Tx, ids: &[&str]) -> Result<HashMap<String, Match>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut by_index: HashMap<String, &str> = HashMap::with_capacity(chunk.len());
        for id in chunk {
            by_index.insert(keys::blind_id_number(id)?, id);
        }
        let sql = format!(
            "SELECT m.id_number_index, m.household_id, h.county_code, h.household_no, h.division_code \
             FROM members m JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id \
             WHERE m.id_number_index IN ({})",
            placeholders(by_index.len(), 1)
        );
        let rows: Vec<(String, i64, String, String, String)> = on_tx!(tx, conn => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for index in by_index.keys() {
                q = q.bind(index.as_str());
            }
            q.fetch_all(conn).await?
        });
        for (index, household_id, county_code, household_no, division_code) in rows {
            let Some(id) = by_index.get(&index) else {
                continue;
            };
            out.insert(
                (*id).to_owned(),
                Match {
                    household_id,
                    county_code,
                    household_no,
                    division_code,
                },
            );
        }
    }
    Ok(out)
}

async fn known_keys(tx: &mut Tx, kind: &str, keys: &[String]) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in keys.chunks(CHUNK) {
        let sql = format!(
            "SELECT natural_key FROM department_records WHERE kind = $1 AND natural_key IN ({})",
            placeholders(chunk.len(), 2)
        );
        let rows: Vec<String> = on_tx!(tx, conn => {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(kind);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            q.fetch_all(conn).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// The facts the rules read of one household, with its members' ID numbers in order.
struct Facts {
    household_type: HouseholdType,
    per_capita_net_income: Fen,
    /// Last year's (`household_incomes`), if recorded.
    previous_per_capita_net_income: Option<Fen>,
    out_of_pocket: Fen,
    housing_safe: Option<bool>,
    water_safe: Option<bool>,
    members: Vec<MemberFacts>,
    id_numbers: Vec<String>,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

/// The facts of the households, with their per-capita net income of `previous_year`.
async fn load_facts(
    tx: &mut Tx,
    household_ids: &[i64],
    previous_year: i32,
) -> Result<HashMap<i64, Facts>> {
    let mut out: HashMap<i64, Facts> = HashMap::with_capacity(household_ids.len());
    type HouseholdRow = (
        i64,
        String,
        i64,
        i64,
        Option<bool>,
        Option<bool>,
        Option<i64>,
    );
    type MemberRow = (i64, String, String, Option<String>, String, String, bool);
    for chunk in household_ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT h.id, h.household_type, h.per_capita_net_income, h.out_of_pocket, \
             h.housing_safe, h.water_safe, i.per_capita_net FROM households h \
             LEFT JOIN household_incomes i ON i.county_code = h.county_code \
             AND i.household_no = h.household_no AND i.year = {previous_year} \
             WHERE h.id IN ({})",
            placeholders(chunk.len(), 1)
        );
        let rows: Vec<HouseholdRow> = on_tx!(tx, conn => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(conn).await?
        });
        for (id, household_type, per_capita, out_of_pocket, housing_safe, water_safe, previous) in
            rows
        {
            out.insert(
                id,
                Facts {
                    household_type: HouseholdType::from_code(&household_type)
                        .ok_or_else(|| corrupt("household type", &household_type))?,
                    per_capita_net_income: Fen(per_capita),
                    previous_per_capita_net_income: previous.map(Fen),
                    out_of_pocket: Fen(out_of_pocket),
                    housing_safe,
                    water_safe,
                    members: Vec::new(),
                    id_numbers: Vec::new(),
                },
            );
        }
        let sql = format!(
            "SELECT household_id, id_number, birth_date, school_status, health, labor, medical_insurance \
             FROM members WHERE household_id IN ({}) ORDER BY household_id, position",
            placeholders(chunk.len(), 1)
        );
        let rows: Vec<MemberRow> = on_tx!(tx, conn => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(conn).await?
        });
        for (household_id, id_number, birth, school, health, labor, insured) in rows {
            let facts =
                MemberFacts::from_stored(&birth, school.as_deref(), &health, &labor, insured)
                    .map_err(|t| StoreError::Corrupt(t.en))?;
            if let Some(h) = out.get_mut(&household_id) {
                h.members.push(facts);
                h.id_numbers
                    .push(keys::open(&keys::MEMBERS_ID_NUMBER, &id_number)?);
            }
        }
    }
    Ok(out)
}

const RECORD_COLUMNS: &[(&str, ColType)] = &[
    ("id", ColType::Int),
    ("county_code", ColType::Text),
    ("upload_id", ColType::Int),
    ("kind", ColType::Text),
    ("natural_key", ColType::Text),
    ("row_number", ColType::Int),
    ("id_number", ColType::Sealed(&keys::DEPARTMENT_ID_NUMBER)),
    ("household_no", ColType::Text),
    ("record_date", ColType::Text),
    ("data", ColType::Text),
];

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Imports an accepted department file's records (see the module documentation), as
/// `upload.actor`, evaluated with the Chongqing rule set in force on `today`.
pub async fn import(
    db: &Db,
    upload: &NewUpload<'_>,
    records: &[DepartmentRecord],
    rows: u64,
    today: Date,
) -> Result<UploadReport> {
    ensure_builtin_rule_sets(db, upload.actor).await?;
    let year = u16::try_from(today.year()).unwrap_or(0);
    let Some(rule_set) = current_rule_set(db, CHONGQING, year).await? else {
        return Err(StoreError::Config(text!(
            "{year}年度及以前没有适用于重庆市（{CHONGQING}）的规则集；请先添加规则集",
            "there is no rule set for Chongqing ({CHONGQING}) in force in {year}; add one first"
        )));
    };
    let mut tx = db.begin_write().await?;
    match import_in_transaction(&mut tx, upload, records, rows, today, &rule_set).await {
        Ok(report) => {
            tx.commit().await?;
            Ok(report)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

async fn import_in_transaction(
    tx: &mut Tx,
    upload: &NewUpload<'_>,
    records: &[DepartmentRecord],
    rows: u64,
    today: Date,
    rule_set: &crate::monitoring::StoredRuleSet,
) -> Result<UploadReport> {
    let kind = upload.kind.code();
    let scope = Scope::new(upload.division);
    let rules = &rule_set.rules;
    let rule_set_label = format!("{}/{}/v{}", rules.year, rules.jurisdiction, rules.version);
    let upload_id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM department_uploads")
        .fetch_one(conn).await?);
    let same_file_as: Option<i64> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT MIN(id) FROM department_uploads WHERE sha256 = $1")
        .bind(upload.sha256).fetch_one(conn).await?);
    let mut operation = Operation::begin(
        tx,
        AuditEntry {
            actor: upload.actor.to_owned(),
            action: "department.import".into(),
            object_type: "department_upload".into(),
            object_id: Some(upload_id.to_string()),
            division_code: Some(upload.division.as_str().to_owned()),
            ..Default::default()
        },
    )
    .await?;
    let seq = operation.seq();

    // Match by ID number, within the uploader's division.
    let mut ids: Vec<&str> = records.iter().map(|r| r.id_number.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut matches = match_members(tx, &ids).await?;
    matches.retain(|_, m| scope.contains_code(&m.division_code));

    let mut unmatched_rows = Vec::new();
    let mut unmatched = 0u64;
    let mut matched: Vec<(&DepartmentRecord, &Match, String)> = Vec::new();
    for r in records {
        match matches.get(r.id_number.as_str()) {
            Some(m) => matched.push((r, m, key_digest(&r.natural_key())?)),
            None => {
                unmatched += 1;
                if unmatched_rows.len() < MAX_UNMATCHED_KEPT {
                    unmatched_rows.push(UnmatchedRow {
                        row: r.row,
                        id_number: mask_id_number(r.id_number.as_str()),
                        reason: UnmatchedReason::NotRegistered,
                    });
                }
            }
        }
    }

    // Records seen before (in any upload) raise nothing again.
    let keys: Vec<String> = matched.iter().map(|(_, _, k)| k.clone()).collect();
    let known = known_keys(tx, kind, &keys).await?;
    let matched_count = matched.len() as u64;
    matched.retain(|(_, _, k)| !known.contains(k));
    let repeated = matched_count - matched.len() as u64;

    // The new records by household, in the order they first appear.
    let mut order: Vec<i64> = Vec::new();
    let mut by_household: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, (_, m, _)) in matched.iter().enumerate() {
        by_household
            .entry(m.household_id)
            .or_insert_with(|| {
                order.push(m.household_id);
                Vec::new()
            })
            .push(i);
    }
    let facts = load_facts(tx, &order, today.year() - 1).await?;
    let prepared = rules.prepare(today);
    let policy = InboxPolicy::default();
    let mut raised = Vec::new();
    let (mut opened, mut merged) = (0u64, 0u64);
    for household_id in &order {
        let (Some(f), Some(indexes)) = (facts.get(household_id), by_household.get(household_id))
        else {
            continue;
        };
        let signals: Vec<_> = indexes
            .iter()
            .flat_map(|&i| {
                let (r, _, _) = matched[i];
                let member = f
                    .id_numbers
                    .iter()
                    .position(|id| id == r.id_number.as_str())
                    .unwrap_or(0);
                r.signals(u16::try_from(member).unwrap_or(u16::MAX))
            })
            .collect();
        let household = HouseholdFacts {
            household_type: f.household_type,
            per_capita_net_income: f.per_capita_net_income,
            previous_per_capita_net_income: f.previous_per_capita_net_income,
            out_of_pocket: f.out_of_pocket,
            housing_safe: f.housing_safe,
            water_safe: f.water_safe,
            disaster_loss: None,
            members: &f.members,
        };
        let assessment = prepared.classify_department(&household, &signals);
        if !assessment.raises_warning() {
            continue;
        }
        let (_, m, _) = matched[indexes[0]];
        let rows: Vec<u64> = indexes.iter().map(|&i| matched[i].0.row).collect();
        let source = DepartmentSource {
            kind: upload.kind,
            upload_id,
            file: upload.file_name,
            rows: &rows,
        }
        .text();
        let outcome = raise(
            tx,
            &mut operation,
            NewWarning {
                household_no: m.household_no.clone(),
                division_code: m.division_code.clone(),
                source: upload.kind.source(),
                category: assessment.category,
                risk_types: assessment.risk_types.clone(),
                reasons: assessment
                    .reasons
                    .iter()
                    .map(|r| reason_with_source(r, &source))
                    .collect(),
                rule_set: Some((rule_set.id, i64::from(rules.version))),
                origin: Some(json!({
                    "upload_id": upload_id,
                    "file": upload.file_name,
                    "department": kind,
                    "rows": rows,
                })),
            },
            &policy,
        )
        .await?;
        let outcome = match outcome {
            Raised::Opened(_) => {
                opened += 1;
                "opened"
            }
            Raised::Merged(_) => {
                merged += 1;
                "merged"
            }
            Raised::Unchanged(_) => "unchanged",
        };
        raised.push(RaisedRows {
            rows,
            rules: assessment
                .reasons
                .iter()
                .map(|r| r.rule().code().to_owned())
                .collect(),
            category: assessment
                .category
                .map(|c| MonitoringCategory::code(c).to_owned()),
            outcome: outcome.to_owned(),
        });
    }

    // The upload, then its new records.
    let summary = UploadSummary {
        id: upload_id,
        kind: kind.to_owned(),
        file_name: upload.file_name.to_owned(),
        sha256: upload.sha256.to_owned(),
        uploaded_by: upload.actor.to_owned(),
        division_code: upload.division.as_str().to_owned(),
        created_at: now_stored(),
        rows: int(rows),
        matched: int(matched_count),
        unmatched: int(unmatched),
        repeated: int(repeated),
        warnings_opened: int(opened),
        warnings_merged: int(merged),
        audit_seq: seq,
    };
    let stored = StoredReport {
        same_file_as,
        unmatched_rows,
        raised,
        rule_set: rule_set_label,
    };
    let report_json =
        serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO department_uploads (id, kind, file_name, sha256, uploaded_by, account_id, \
         division_code, row_count, matched, unmatched, repeated, warnings_opened, warnings_merged, \
         report, created_at, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)")
        .bind(upload_id).bind(kind).bind(&summary.file_name).bind(&summary.sha256)
        .bind(&summary.uploaded_by).bind(upload.account_id).bind(&summary.division_code)
        .bind(summary.rows).bind(summary.matched).bind(summary.unmatched).bind(summary.repeated)
        .bind(summary.warnings_opened).bind(summary.warnings_merged).bind(&report_json)
        .bind(&summary.created_at).bind(seq)
        .execute(conn).await.map(drop)?);
    let mut next_id: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM department_records")
        .fetch_one(conn).await?);
    let mut batch = Batch::new("department_records", RECORD_COLUMNS);
    for (r, m, key) in &matched {
        let data =
            serde_json::to_string(&r.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        batch
            .row()
            .int(Some(next_id))
            .text(Some(m.county_code.as_str()))
            .int(Some(upload_id))
            .text(Some(kind))
            .text(Some(key.as_str()))
            .int(Some(int(r.row)))
            .text(Some(r.id_number.as_str()))
            .text(Some(m.household_no.as_str()))
            .text(Some(r.date.to_string()))
            .text(Some(data));
        next_id += 1;
        if batch.len() >= 10_000 {
            batch.flush(tx).await?;
        }
    }
    batch.flush(tx).await?;
    operation
        .finish(
            tx,
            Some(json!({
                "kind": kind,
                "file": summary.file_name,
                "sha256": summary.sha256,
                "rule_set": stored.rule_set,
                "rows": summary.rows,
                "matched": summary.matched,
                "unmatched": summary.unmatched,
                "repeated": summary.repeated,
                "warnings_opened": summary.warnings_opened,
                "warnings_merged": summary.warnings_merged,
            })),
        )
        .await?;
    Ok(UploadReport {
        summary,
        same_file_as: stored.same_file_as,
        unmatched_rows: stored.unmatched_rows,
        raised: stored.raised,
        rule_set: stored.rule_set,
        disclosure: Disclosure::Full,
    })
}

#[derive(sqlx::FromRow)]
struct UploadRow {
    id: i64,
    kind: String,
    file_name: String,
    sha256: String,
    uploaded_by: String,
    division_code: String,
    created_at: String,
    row_count: i64,
    matched: i64,
    unmatched: i64,
    repeated: i64,
    warnings_opened: i64,
    warnings_merged: i64,
    audit_seq: i64,
    report: String,
}

impl UploadRow {
    fn summary(self) -> (UploadSummary, String) {
        (
            UploadSummary {
                id: self.id,
                kind: self.kind,
                file_name: self.file_name,
                sha256: self.sha256,
                uploaded_by: self.uploaded_by,
                division_code: self.division_code,
                created_at: self.created_at,
                rows: self.row_count,
                matched: self.matched,
                unmatched: self.unmatched,
                repeated: self.repeated,
                warnings_opened: self.warnings_opened,
                warnings_merged: self.warnings_merged,
                audit_seq: self.audit_seq,
            },
            self.report,
        )
    }
}

const UPLOAD_COLUMNS: &str = "id, kind, file_name, sha256, uploaded_by, division_code, created_at, \
    row_count, matched, unmatched, repeated, warnings_opened, warnings_merged, audit_seq";

/// Uploads, newest first: one uploader's (`Some(name)`) or everyone's.
pub async fn uploads(db: &Db, uploaded_by: Option<&str>, limit: i64) -> Result<Vec<UploadSummary>> {
    let sql = format!(
        "SELECT {UPLOAD_COLUMNS}, '' AS report FROM department_uploads{} ORDER BY id DESC LIMIT {}",
        if uploaded_by.is_some() {
            " WHERE uploaded_by = $1"
        } else {
            ""
        },
        limit.clamp(1, 1_000)
    );
    let rows: Vec<UploadRow> = on_pool!(db, pool => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        if let Some(name) = uploaded_by {
            q = q.bind(name);
        }
        q.fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(|r| r.summary().0).collect())
}

/// One upload with its report: only the uploader's own (`Some(name)`), or any.
pub async fn upload(db: &Db, id: i64, uploaded_by: Option<&str>) -> Result<Option<UploadReport>> {
    let sql = format!("SELECT {UPLOAD_COLUMNS}, report FROM department_uploads WHERE id = $1");
    let row: Option<UploadRow> = on_pool!(db, pool =>
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?);
    let Some(row) = row.filter(|r| uploaded_by.is_none_or(|name| r.uploaded_by == name)) else {
        return Ok(None);
    };
    let (summary, report) = row.summary();
    let stored: StoredReport = serde_json::from_str(&report)
        .map_err(|e| StoreError::Corrupt(format!("upload {id}: {e}")))?;
    Ok(Some(UploadReport {
        summary,
        same_file_as: stored.same_file_as,
        unmatched_rows: stored.unmatched_rows,
        raised: stored.raised,
        rule_set: stored.rule_set,
        disclosure: Disclosure::Full,
    }))
}

/// How many department records are stored (for tests and figures).
pub async fn record_count(db: &Db) -> Result<i64> {
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM department_records").fetch_one(pool).await?))
}

/// A reason as stored ([`crate::warnings::reason_json`]), its words naming the source.
fn reason_with_source(r: &Reason, source: &Text) -> serde_json::Value {
    let mut value = reason_json(r);
    let words = r.text_from(Some(source));
    value["zh"] = serde_json::Value::String(words.zh);
    value["en"] = serde_json::Value::String(words.en);
    value
}
