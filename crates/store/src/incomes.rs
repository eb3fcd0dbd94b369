//! A household's income by completed year (`household_incomes`, migration 0025): the figures
//! the screening rule `income_drop` compares this year's per-capita net income with. The
//! current year's income is the household's income items; a row here is a year that is over.
//!
//! - [`write_years`] writes rows in bulk inside the caller's transaction and audit operation
//!   (as `history::write_county` writes cases and measures);
//! - [`of_household`] reads a household's years for its page, within a scope;
//! - the monitoring pass reads last year's per-capita figure in the same scan as the households
//!   (`monitoring::load_households`, a LEFT JOIN), and the elimination facts likewise;
//! - a household registered in another county takes its rows along with the rest of its file
//!   (`household_file`; the table is keyed, and distributed, by county).

use crate::bulk::{Batch, ColType};
use crate::{Db, Result, StoreError, Tx, on_pool};
use zhenxing_core::history::YearIncome;
use zhenxing_core::{Fen, Scope};

const COLUMNS: &[(&str, ColType)] = &[
    ("county_code", ColType::Text),
    ("household_no", ColType::Text),
    ("year", ColType::Int),
    ("net_income", ColType::Int),
    ("per_capita_net", ColType::Int),
    ("members", ColType::Int),
    ("dibao_members", ColType::Int),
    ("recorded_seq", ColType::Int),
];

/// Rows per flush.
const FLUSH_ROWS: usize = 50_000;

/// Writes the years of households of the county `county_code` (its 6 digits), recorded by the
/// audit operation `seq`, inside the caller's transaction; returns how many rows. The rows must
/// be new: a second row for a household's year is refused by the primary key (and the whole
/// transaction with it). The households need not be written yet (nothing refers to them), but
/// a row of a household that is not in the county is never read.
pub async fn write_years(
    tx: &mut Tx,
    county_code: &str,
    seq: i64,
    rows: &[YearIncome],
) -> Result<u64> {
    let mut batch = Batch::new("household_incomes", COLUMNS);
    for r in rows {
        batch
            .row()
            .text(Some(county_code))
            .text(Some(&r.household_no))
            .int(Some(i64::from(r.year)))
            .int(Some(r.net_income.0))
            .int(Some(r.per_capita_net.0))
            .int(Some(i64::from(r.members)))
            .int(Some(i64::from(r.dibao_members)))
            .int(Some(seq));
        if batch.len() >= FLUSH_ROWS {
            batch.flush(tx).await?;
        }
    }
    batch.flush(tx).await?;
    Ok(rows.len() as u64)
}

type Row = (i64, i64, i64, i64, i64, String);

fn year_income(
    household_no: &str,
    (year, net, per_capita, members, dibao, _): Row,
) -> Result<YearIncome> {
    let corrupt = |what: &str, value: i64| {
        StoreError::Corrupt(format!(
            "household_incomes of {household_no}: {what} {value} out of range"
        ))
    };
    Ok(YearIncome {
        household_no: household_no.to_owned(),
        year: i32::try_from(year).map_err(|_| corrupt("year", year))?,
        net_income: Fen(net),
        per_capita_net: Fen(per_capita),
        members: u32::try_from(members).map_err(|_| corrupt("members", members))?,
        dibao_members: u32::try_from(dibao).map_err(|_| corrupt("dibao_members", dibao))?,
    })
}

/// The completed years of the household `household_no`, oldest first; empty when it has none,
/// is not registered, or lies outside `scope`. One query: the rows joined to the household
/// where it is now (its county and village).
pub async fn of_household(db: &Db, scope: &Scope, household_no: &str) -> Result<Vec<YearIncome>> {
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT CAST(i.year AS BIGINT), i.net_income, i.per_capita_net, \
         CAST(i.members AS BIGINT), CAST(i.dibao_members AS BIGINT), h.division_code \
         FROM household_incomes i JOIN households h \
         ON h.county_code = i.county_code AND h.household_no = i.household_no \
         WHERE h.household_no = $1 ORDER BY i.year")
        .bind(household_no).fetch_all(pool).await?);
    rows.into_iter()
        .filter(|r| scope.contains_code(&r.5))
        .map(|r| year_income(household_no, r))
        .collect()
}
