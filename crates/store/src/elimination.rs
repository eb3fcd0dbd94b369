//! The facts of one household for the risk-elimination preconditions
//! (`zhenxing_core::elimination`): what the procedure asks before an elimination case may
//! start, and what the household page shows.
//!
//! The per-capita net income history comes from the audit trail: every change of a household
//! is an `update` item of object type `household` whose before and after hold the fields that
//! changed (`registry::diff`: the five income items, and members keyed by ID number). Walking
//! the changes back from the current record gives the state before each change, so the
//! per-capita net income in effect from each change on. The first change point is the
//! household's registration in zhenxing (`households.created_at`) with its state as created;
//! what it earned before zhenxing is unknown.

use crate::assistance::{MEASURE_FACT_COLUMNS, MeasureFactRow};
use crate::coverage::{parse_risk_types, stored_day};
use crate::monitoring::current_rule_set;
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use serde_json::Value;
use time::Date;
use zhenxing_core::checks::whole_household_without_labor;
use zhenxing_core::elimination::{BasicNeed, EliminationFacts, OpenWarning};
use zhenxing_core::monitoring::{CHONGQING, HouseholdFacts, MemberFacts, RuleId};
use zhenxing_core::warning::{WarningChannel, WarningStatus};
use zhenxing_core::{Fen, HouseholdType, IncomeItems, Scope, Text};

/// The income items as `registry::diff` names them, in `IncomeItems::new`'s order.
const INCOME_FIELDS: [&str; 5] = [
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "business_expense",
];

#[derive(Clone, Copy)]
struct IncomeState {
    items: [i64; 5],
    members: i64,
}

impl IncomeState {
    fn per_capita(&self) -> Fen {
        let [w, b, p, t, e] = self.items;
        IncomeItems::new(Fen(w), Fen(b), Fen(p), Fen(t), Fen(e))
            .and_then(|i| i.per_capita_net(u32::try_from(self.members).unwrap_or(0)))
            .unwrap_or(Fen::ZERO)
    }

    /// The state before a change, from the change's before and after.
    fn undo(&mut self, before: &Value, after: &Value) {
        for (i, field) in INCOME_FIELDS.iter().enumerate() {
            if let Some(v) = before.get(field).and_then(Value::as_i64) {
                self.items[i] = v;
            }
        }
        let keys = |v: &Value| -> Vec<String> {
            v.get("members")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let (was, is) = (keys(before), keys(after));
        let removed = was.iter().filter(|k| !is.contains(k)).count();
        let added = is.iter().filter(|k| !was.contains(k)).count();
        self.members += i64::try_from(removed).unwrap_or(0) - i64::try_from(added).unwrap_or(0);
    }
}

/// The per-capita net income history of a household, oldest first: `(day, value in effect from
/// that day)`, starting with its registration.
async fn income_history(
    db: &Db,
    household_no: &str,
    current: IncomeState,
    registered_on: Date,
) -> Result<Vec<(Date, Fen)>> {
    let changes: Vec<(String, Option<String>, Option<String>)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT l.at, i.before_data, i.after_data FROM audit_items i \
         JOIN audit_log l ON l.seq = i.seq \
         WHERE i.object_type = 'household' AND i.object_id = $1 AND i.action = 'update' \
         ORDER BY i.seq DESC, i.item DESC")
        .bind(household_no).fetch_all(pool).await?);
    let parse = |s: &Option<String>| -> Value {
        s.as_deref()
            .and_then(|t| crate::keys::open_item_json(t).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null)
    };
    let mut state = current;
    let mut points = Vec::with_capacity(changes.len() + 1);
    for (at, before, after) in &changes {
        points.push((stored_day(at)?, state.per_capita()));
        state.undo(&parse(before), &parse(after));
    }
    points.push((registered_on, state.per_capita()));
    points.reverse();
    Ok(points)
}

/// The household's active warnings (new or assigned), oldest first.
const OPEN_WARNINGS: &str = "SELECT id, source, status, opened_at FROM warnings \
     WHERE household_no = $1 AND status IN ('new', 'assigned') ORDER BY id";

fn open_warning(
    (id, source, status, opened_at): (i64, String, String, String),
) -> Result<OpenWarning> {
    let source = WarningChannel::of_source(&source).map_or_else(
        || Text::new(source.clone(), source.clone()),
        |c| Text::new(c.zh(), c.en()),
    );
    let status = WarningStatus::from_code(&status)
        .map(|s| Text::new(s.zh(), s.en()))
        .ok_or_else(|| StoreError::Corrupt(format!("warning {id} has status '{status}'")))?;
    Ok(OpenWarning {
        id,
        raised_on: stored_day(&opened_at)?,
        source,
        status,
    })
}

async fn open_warnings(db: &Db, household_no: &str) -> Result<Vec<OpenWarning>> {
    let rows: Vec<(i64, String, String, String)> = on_pool!(db, pool => sqlx::query_as(OPEN_WARNINGS)
        .bind(household_no).fetch_all(pool).await?);
    rows.into_iter().map(open_warning).collect()
}

/// The household's active warnings, read in the caller's transaction.
pub(crate) async fn open_warnings_in_tx(
    tx: &mut Tx,
    household_no: &str,
) -> Result<Vec<OpenWarning>> {
    let rows: Vec<(i64, String, String, String)> = on_tx!(tx, conn => sqlx::query_as(OPEN_WARNINGS)
        .bind(household_no).fetch_all(conn).await?);
    rows.into_iter().map(open_warning).collect()
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    county_code: String,
    household_type: String,
    identified_on: Option<String>,
    risk_types: Option<String>,
    created_at: String,
    wage_income: i64,
    business_income: i64,
    property_income: i64,
    transfer_income: i64,
    business_expense: i64,
    out_of_pocket: i64,
    member_count: i64,
    per_capita_net_income: i64,
    housing_safe: Option<bool>,
    water_safe: Option<bool>,
    division_code: String,
    /// Last year's (`household_incomes`), if recorded.
    previous_per_capita_net: Option<i64>,
}

/// The elimination facts of a household in `scope` on `today`, or `None` (not found, outside
/// the scope). `food_and_clothing_at_risk` is what the latest home verification found: the
/// registry has no field for it.
pub async fn facts(
    db: &Db,
    scope: &Scope,
    household_no: &str,
    today: Date,
    food_and_clothing_at_risk: bool,
) -> Result<Option<EliminationFacts>> {
    let row: Option<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT h.id, h.county_code, h.household_type, h.identified_on, h.risk_types, \
         h.created_at, h.wage_income, h.business_income, h.property_income, h.transfer_income, \
         h.business_expense, h.out_of_pocket, h.member_count, h.per_capita_net_income, \
         h.housing_safe, h.water_safe, h.division_code, \
         i.per_capita_net AS previous_per_capita_net FROM households h \
         LEFT JOIN household_incomes i ON i.county_code = h.county_code \
         AND i.household_no = h.household_no AND i.year = $2 \
         WHERE h.household_no = $1")
        .bind(household_no).bind(today.year() - 1).fetch_optional(pool).await?);
    let Some(h) = row.filter(|h| scope.contains_code(&h.division_code)) else {
        return Ok(None);
    };
    let members: Vec<(String, Option<String>, String, String, bool)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT birth_date, school_status, health, labor, medical_insurance FROM members \
         WHERE county_code = $1 AND household_id = $2")
        .bind(&h.county_code).bind(h.id).fetch_all(pool).await?);
    let members = members
        .iter()
        .map(|(birth, school, health, labor, insured)| {
            MemberFacts::from_stored(birth, school.as_deref(), health, labor, *insured)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt(e.en))?;
    let sql = format!(
        "SELECT {MEASURE_FACT_COLUMNS} FROM measures WHERE county_code = $1 AND household_no = $2"
    );
    let measures: Vec<MeasureFactRow> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&h.county_code).bind(household_no).fetch_all(pool).await?);
    let measures = measures
        .iter()
        .map(MeasureFactRow::fact)
        .collect::<Result<Vec<_>>>()?;
    let year = u16::try_from(today.year()).unwrap_or(0);
    let rule_set = current_rule_set(db, CHONGQING, year).await?;

    let mut open_needs = Vec::new();
    if food_and_clothing_at_risk {
        open_needs.push(BasicNeed::FoodAndClothing);
    }
    // The school-age window is the rule set's; the other needs are the registry's own fields.
    if let Some(stored) = &rule_set {
        let household_type = HouseholdType::from_code(&h.household_type)
            .ok_or_else(|| StoreError::Corrupt(format!("household type '{}'", h.household_type)))?;
        let assessment = stored.rules.prepare(today).classify(&HouseholdFacts {
            household_type,
            per_capita_net_income: Fen(h.per_capita_net_income),
            previous_per_capita_net_income: h.previous_per_capita_net.map(Fen),
            out_of_pocket: Fen(h.out_of_pocket),
            housing_safe: h.housing_safe,
            water_safe: h.water_safe,
            disaster_loss: None,
            members: &members,
        });
        if assessment
            .reasons
            .iter()
            .any(|r| r.rule() == RuleId::ChildOutOfSchool)
        {
            open_needs.push(BasicNeed::Schooling);
        }
    }
    if members.iter().any(|m| !m.medical_insurance) {
        open_needs.push(BasicNeed::MedicalInsurance);
    }
    if h.housing_safe == Some(false) {
        open_needs.push(BasicNeed::Housing);
    }
    if h.water_safe == Some(false) {
        open_needs.push(BasicNeed::Water);
    }

    let registered_on = stored_day(&h.created_at)?;
    let current = IncomeState {
        items: [
            h.wage_income,
            h.business_income,
            h.property_income,
            h.transfer_income,
            h.business_expense,
        ],
        members: h.member_count,
    };
    Ok(Some(EliminationFacts {
        identified_on: h.identified_on.as_deref().map(stored_day).transpose()?,
        registered_on,
        risk_types: parse_risk_types(h.risk_types.as_deref())?,
        measures,
        per_capita_net_income: Fen(h.per_capita_net_income),
        threshold: rule_set.and_then(|s| s.rules.threshold),
        income_history: income_history(db, household_no, current, registered_on).await?,
        open_needs,
        whole_household_without_labor: whole_household_without_labor(
            members.iter().map(|m| m.labor),
        ),
        // The caller adds what the latest home verification recorded.
        rigid_spending: None,
        open_warnings: open_warnings(db, household_no).await?,
    }))
}
