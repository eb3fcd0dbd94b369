//! The poverty measures of a division (issue 6 item 2) against the monitoring threshold of the
//! rule set in force: the FGT family on per-capita net income and the domain's Alkire–Foster
//! index, both computed by `zhenxing_core::poverty` (the formulas live there and in
//! docs/poverty-measures.md); this module only gathers the households.
//!
//! One `GROUP BY` over the division's households (`households_division` range) gives the
//! distinct profiles with their counts: income (every income above the threshold folded into
//! one value, since FGT counts those people only and the income dimension only asks "at or
//! below"), members, housing and water safety, and whether a member lacks basic medical
//! insurance. The registry records neither food and clothing (a home verification's finding)
//! nor which child is out of school (the rule set's ages decide it, in the monitoring pass),
//! so those two dimensions are unknown here, which the index counts as not deprived and
//! reports in `Af::people_with_unknown`.
//!
//! Cost: like the income distribution of `rollups`, a pass over every household of the
//! division, plus a lookup of its members for the insurance flag.

use crate::browse::code_range;
use crate::monitoring::current_rule_set;
use crate::{Db, Result, StoreError, on_pool};
use time::Date;
use zhenxing_core::monitoring::CHONGQING;
use zhenxing_core::poverty::{Af, Fgt, HouseholdProfile, fgt, multidimensional};
use zhenxing_core::{DivisionCode, Fen};

/// The measures of one division; `None` where there is no threshold in force or nobody.
#[derive(Debug, Clone, PartialEq)]
pub struct PovertyFigures {
    pub threshold: Option<Fen>,
    pub fgt: Option<Fgt>,
    pub multidimensional: Option<Af>,
}

fn flag(code: i64) -> Option<bool> {
    match code {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// The FGT measures and the multidimensional index of the households of `division`, against
/// the threshold of the rule set in force in the year of `today`.
pub async fn poverty_figures(
    db: &Db,
    division: &DivisionCode,
    today: Date,
) -> Result<PovertyFigures> {
    let year = u16::try_from(today.year()).unwrap_or(0);
    let threshold = current_rule_set(db, CHONGQING, year)
        .await?
        .and_then(|s| s.rules.threshold);
    let Some(threshold) = threshold else {
        return Ok(PovertyFigures {
            threshold: None,
            fgt: None,
            multidimensional: None,
        });
    };
    let (lo, hi) = code_range(division);
    // -1 stands for unknown (NULL) in the two safety flags.
    let rows: Vec<(i64, i64, i64, i64, i64, i64)> = on_pool!(db, pool => sqlx::query_as(
        "SELECT income, members, housing, water, uninsured, CAST(COUNT(*) AS BIGINT) FROM ( \
           SELECT CASE WHEN h.per_capita_net_income <= $3 THEN h.per_capita_net_income ELSE $3 + 1 END AS income, \
             CAST(h.member_count AS BIGINT) AS members, \
             CAST(CASE WHEN h.housing_safe IS NULL THEN -1 WHEN h.housing_safe THEN 1 ELSE 0 END AS BIGINT) AS housing, \
             CAST(CASE WHEN h.water_safe IS NULL THEN -1 WHEN h.water_safe THEN 1 ELSE 0 END AS BIGINT) AS water, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM members m WHERE m.household_id = h.id \
               AND m.county_code = h.county_code AND NOT m.medical_insurance) THEN 1 ELSE 0 END AS BIGINT) AS uninsured \
           FROM households h WHERE h.division_code BETWEEN $1 AND $2) p \
         GROUP BY income, members, housing, water, uninsured")
        .bind(&lo).bind(&hi).bind(threshold.0).fetch_all(pool).await?);
    let profiles: Vec<(HouseholdProfile, usize)> = rows
        .into_iter()
        .map(|(income, members, housing, water, uninsured, n)| {
            (
                HouseholdProfile {
                    per_capita_net_income: Fen(income),
                    members: u32::try_from(members).unwrap_or(0),
                    food_and_clothing_assured: None,
                    water_safe: flag(water),
                    child_out_of_school: None,
                    member_without_medical_insurance: flag(uninsured),
                    housing_safe: flag(housing),
                },
                usize::try_from(n).unwrap_or(0),
            )
        })
        .collect();
    let each = || {
        profiles
            .iter()
            .flat_map(|(p, n)| std::iter::repeat_n(p, *n))
    };
    let invalid = |e: zhenxing_core::poverty::MeasureError| {
        StoreError::Corrupt(format!("the threshold in force: {}", e.text().en))
    };
    Ok(PovertyFigures {
        threshold: Some(threshold),
        fgt: fgt(
            threshold,
            each().map(|p| (p.per_capita_net_income, p.members)),
        )
        .map_err(invalid)?,
        multidimensional: multidimensional(threshold, each()).map_err(invalid)?,
    })
}
