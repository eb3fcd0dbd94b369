//! Reading households back: the household ⋈ member join folded into records, streamed by a
//! filter or a division, or one household by number.

use crate::keys;
use crate::records::{HouseholdRecord, MemberRecord};
use crate::{Db, Result, StoreError, Tx, on_pool, on_tx};
use futures_util::TryStreamExt;

/// Stored metadata that is not part of a record's content.
pub struct RowMeta {
    pub id: i64,
    pub version: i64,
    pub created_at: String,
    pub created_seq: i64,
}

/// One row of the household ⋈ member join.
#[derive(sqlx::FromRow)]
struct JoinedRow {
    h_id: i64,
    h_version: i64,
    h_created_at: String,
    h_created_seq: i64,
    household_no: String,
    division_code: String,
    household_type: String,
    lifted_out_year: Option<i64>,
    monitoring_category: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    village_group: Option<String>,
    wage_income: i64,
    business_income: i64,
    property_income: i64,
    transfer_income: i64,
    business_expense: i64,
    out_of_pocket: i64,
    housing_safe: Option<bool>,
    water_safe: Option<bool>,
    identified_on: Option<String>,
    risk_types: Option<String>,
    risk_eliminated_on: Option<String>,
    elimination_method: Option<String>,
    name: String,
    id_number: String,
    disability_category: Option<i64>,
    disability_level: Option<i64>,
    relation: String,
    sex: String,
    birth_date: String,
    ethnicity: Option<String>,
    education: Option<String>,
    school_status: Option<String>,
    health: String,
    labor: String,
    work_months: Option<i64>,
    medical_insurance: bool,
    dibao: Option<bool>,
}

pub(crate) const JOINED_SELECT: &str = "SELECT h.id AS h_id, h.version AS h_version, \
    h.created_at AS h_created_at, h.created_seq AS h_created_seq, h.household_no, h.division_code, h.household_type, \
    h.lifted_out_year, h.monitoring_category, h.phone, h.address, h.village_group, h.wage_income, h.business_income, \
    h.property_income, h.transfer_income, h.business_expense, h.out_of_pocket, h.housing_safe, \
    h.water_safe, h.identified_on, h.risk_types, h.risk_eliminated_on, h.elimination_method, m.name, m.id_number, m.disability_category, m.disability_level, m.relation, m.sex, \
    m.birth_date, m.ethnicity, m.education, m.school_status, m.health, m.labor, m.work_months, \
    m.medical_insurance, m.dibao \
    FROM households h JOIN members m ON m.county_code = h.county_code AND m.household_id = h.id";

/// Folds consecutive joined rows into household records.
struct Assembler {
    current: Option<(HouseholdRecord, RowMeta)>,
}

impl Assembler {
    /// The next row; the household before it when this row starts another. Sealed values are
    /// opened here, so that everything above the store sees the numbers.
    fn push(&mut self, row: JoinedRow) -> Result<Option<(HouseholdRecord, RowMeta)>> {
        let member = MemberRecord {
            name: row.name,
            id_number: keys::open(&keys::MEMBERS_ID_NUMBER, &row.id_number)?,
            disability_category: row.disability_category,
            disability_level: row.disability_level,
            relation: row.relation,
            sex: row.sex,
            birth_date: row.birth_date,
            ethnicity: row.ethnicity,
            education: row.education,
            school_status: row.school_status,
            health: row.health,
            labor: row.labor,
            work_months: row.work_months,
            medical_insurance: row.medical_insurance,
            dibao: row.dibao,
        };
        if let Some((record, meta)) = &mut self.current
            && meta.id == row.h_id
        {
            record.members.push(member);
            return Ok(None);
        }
        let record = HouseholdRecord {
            household_no: row.household_no,
            division_code: row.division_code,
            household_type: row.household_type,
            lifted_out_year: row.lifted_out_year,
            monitoring_category: row.monitoring_category,
            phone: keys::open_opt(&keys::HOUSEHOLDS_PHONE, row.phone)?,
            address: row.address,
            village_group: row.village_group,
            wage_income: row.wage_income,
            business_income: row.business_income,
            property_income: row.property_income,
            transfer_income: row.transfer_income,
            business_expense: row.business_expense,
            out_of_pocket: row.out_of_pocket,
            housing_safe: row.housing_safe,
            water_safe: row.water_safe,
            identified_on: row.identified_on,
            // A case approved without risk types stores an empty list as ''.
            risk_types: row.risk_types.filter(|r| !r.is_empty()),
            risk_eliminated_on: row.risk_eliminated_on,
            elimination_method: row.elimination_method,
            members: vec![member],
        };
        let meta = RowMeta {
            id: row.h_id,
            version: row.h_version,
            created_at: row.h_created_at,
            created_seq: row.h_created_seq,
        };
        Ok(self.current.replace((record, meta)))
    }
}

/// A value bound to a placeholder of a dynamically built filter.
pub(super) enum Bind {
    Text(String),
    Int(i64),
}

/// Streams household records matching `filter` (a `WHERE` clause over `h` and `m` with `$n`
/// placeholders for `binds`), in household id order.
pub(super) async fn stream_records(
    tx: &mut Tx,
    filter: &str,
    binds: &[Bind],
    each: &mut (dyn FnMut(HouseholdRecord, RowMeta) + Send),
) -> Result<()> {
    let sql = format!("{JOINED_SELECT} {filter} ORDER BY h.id, m.position");
    let mut assembler = Assembler { current: None };
    on_tx!(tx, conn => {
        let mut q = sqlx::query_as::<_, JoinedRow>(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        let mut rows = q.fetch(conn);
        while let Some(row) = rows.try_next().await? {
            if let Some((record, meta)) = assembler.push(row)? {
                each(record, meta);
            }
        }
    });
    if let Some((record, meta)) = assembler.current.take() {
        each(record, meta);
    }
    Ok(())
}

/// Streams households of a division (and everything under it; all when `None`) in id order,
/// outside any write transaction, for exports.
pub async fn for_each_household<E: From<StoreError>>(
    db: &Db,
    scope: Option<&zhenxing_core::DivisionCode>,
    mut each: impl FnMut(HouseholdRecord) -> Result<(), E> + Send,
) -> Result<u64, E> {
    let (filter, bind) = match scope {
        Some(code) => (
            "WHERE h.division_code LIKE $1",
            Some(format!("{}%", code.prefix())),
        ),
        None => ("", None),
    };
    let sql = format!("{JOINED_SELECT} {filter} ORDER BY h.id, m.position");
    let mut assembler = Assembler { current: None };
    let mut count = 0u64;
    let sql_error = |e: sqlx::Error| E::from(StoreError::from(e));
    on_pool!(db, pool => {
        let mut q = sqlx::query_as::<_, JoinedRow>(sqlx::AssertSqlSafe(sql));
        if let Some(b) = &bind {
            q = q.bind(b.as_str());
        }
        let mut rows = q.fetch(pool);
        while let Some(row) = rows.try_next().await.map_err(sql_error)? {
            if let Some((record, _)) = assembler.push(row).map_err(E::from)? {
                each(record)?;
                count += 1;
            }
        }
    });
    if let Some((record, _)) = assembler.current.take() {
        each(record)?;
        count += 1;
    }
    Ok(count)
}

const ONE_HOUSEHOLD: &str = " WHERE h.household_no = $1 ORDER BY h.id, m.position";

/// One household by number, with its version (for the household page and optimistic edits).
pub async fn household(db: &Db, household_no: &str) -> Result<Option<(HouseholdRecord, RowMeta)>> {
    let sql = format!("{JOINED_SELECT}{ONE_HOUSEHOLD}");
    let rows: Vec<JoinedRow> = on_pool!(db, pool => sqlx::query_as::<_, JoinedRow>(sqlx::AssertSqlSafe(sql))
        .bind(household_no).fetch_all(pool).await?);
    assemble_one(rows)
}

/// [`household`], read inside a write transaction (which holds the registry write lock, so
/// that what is read cannot change before the transaction writes).
pub(crate) async fn household_in(
    tx: &mut Tx,
    household_no: &str,
) -> Result<Option<(HouseholdRecord, RowMeta)>> {
    let sql = format!("{JOINED_SELECT}{ONE_HOUSEHOLD}");
    let rows: Vec<JoinedRow> = on_tx!(tx, conn => sqlx::query_as::<_, JoinedRow>(sqlx::AssertSqlSafe(sql))
        .bind(household_no).fetch_all(conn).await?);
    assemble_one(rows)
}

fn assemble_one(rows: Vec<JoinedRow>) -> Result<Option<(HouseholdRecord, RowMeta)>> {
    let mut assembler = Assembler { current: None };
    for row in rows {
        assembler.push(row)?;
    }
    Ok(assembler.current)
}
