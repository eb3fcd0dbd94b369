//! A household's income items and compliant out-of-pocket spending, in yuan a year (rural
//! Chongqing, 2021-2025 orders of magnitude).
//!
//! The per-capita net income is drawn first, from a log-normal whose median depends on the
//! household type and its earning capacity (migrant workers, labour at home, none); that keeps
//! the distribution under control (median about 14,000 for lifted-out households, a left tail of
//! a few percent at or below the 6,000 threshold). It is then split into items by who lives in
//! the household:
//! - transfers that follow from the people: basic pensions for people of 60 and more,
//!   disability allowances, dibao, ecological and farmland subsidies;
//! - the rest between wages (months away × a monthly wage for migrant workers, local day
//!   labour, public-welfare posts), farming and livestock (net of costs), and money from
//!   children working elsewhere for old people on their own (a transfer).

use crate::people::Traits;
use crate::rng::Rng;
use zhenxing_core::{Fen, IncomeItems, Labor};

/// The household-level inputs besides its people.
#[derive(Debug, Clone, Copy)]
pub struct Situation {
    pub lifted: bool,
    /// Members receiving dibao.
    pub dibao_members: usize,
    /// Multiplier on the income level: lower in the former poverty counties.
    pub earning_level: f64,
}

fn yuan(x: f64) -> Fen {
    Fen::from_yuan((x.max(0.0) + 0.5) as i64)
}

/// Median per-capita net income by household type.
const MEDIAN_LIFTED: f64 = 15_000.0;
const MEDIAN_ORDINARY: f64 = 18_500.0;
/// Log-standard-deviation of the per-capita income around its median.
const SPREAD: f64 = 0.42;

pub fn draw(rng: &mut Rng, people: &[Traits], s: Situation) -> (IncomeItems, Fen) {
    // What the people earn, in relative terms, and the transfers they are entitled to.
    let mut wage_weight = 0.0;
    let mut farm_weight = 0.0;
    let mut transfer = 0.0;
    let mut has_migrant = false;
    let mut has_full = false;
    let mut has_elderly = false;
    let mut post_taken = false;
    for p in people {
        let full = p.labor.is_full();
        has_full |= full;
        if p.work_months > 0 {
            has_migrant = true;
            let skill = match p.labor {
                Labor::Skilled => 1.3,
                Labor::Weak => 0.7,
                _ => 1.0,
            };
            wage_weight += f64::from(p.work_months) * rng.lognormal(4_200.0, 0.3) * skill;
            if rng.chance(0.3) {
                farm_weight += rng.lognormal(800.0, 0.5);
            }
        } else if full {
            if rng.chance(0.5) {
                wage_weight += rng.lognormal(9_000.0, 0.5);
            }
            farm_weight += rng.lognormal(5_000.0, 0.6);
        } else if p.labor == Labor::Weak {
            farm_weight += rng.lognormal(2_600.0, 0.6);
            let post_share = if s.lifted { 0.12 } else { 0.02 };
            if !post_taken && (40..70).contains(&p.age) && rng.chance(post_share) {
                post_taken = true;
                wage_weight += 500.0 * rng.range(8, 12) as f64;
            }
        }
        if p.age >= 60 {
            has_elderly = true;
            transfer += rng.lognormal(1_900.0, 0.15);
        }
        if p.certificate.is_some() {
            transfer += rng.uniform(900.0, 1_500.0);
        }
    }
    transfer += rng.uniform(100.0, 900.0);
    for _ in 0..s.dibao_members {
        transfer += rng.lognormal(4_800.0, 0.2);
    }
    let mut support_weight = 0.0;
    if has_elderly && !has_migrant && rng.chance(0.55) {
        support_weight = rng.lognormal(4_000.0, 0.6);
    }
    if wage_weight + farm_weight + support_weight <= 0.0 {
        support_weight = 1.0;
    }
    let property = if s.lifted {
        if rng.chance(0.55) {
            rng.uniform(100.0, 800.0)
        } else {
            0.0
        }
    } else if rng.chance(0.35) {
        rng.lognormal(800.0, 0.8)
    } else {
        0.0
    };

    // The household's level, then what is left after transfers and property, shared out.
    let capacity = if has_migrant {
        1.12
    } else if has_full {
        0.92
    } else {
        0.72
    };
    let median = if s.lifted {
        MEDIAN_LIFTED
    } else {
        MEDIAN_ORDINARY
    };
    let mut per_capita = median * capacity * s.earning_level * rng.lognormal(1.0, SPREAD);
    if rng.chance(0.03) {
        // A bad year: illness of the earner, a failed harvest, a lost job.
        per_capita *= rng.uniform(0.3, 0.7);
    }
    let earned = (per_capita * people.len() as f64 - transfer - property).max(0.0);
    let total_weight = wage_weight + farm_weight + support_weight;
    let wage = earned * wage_weight / total_weight;
    let business = earned * farm_weight / total_weight;
    transfer += earned * support_weight / total_weight;

    let (business_gross, expense) = if business <= 0.0 {
        (0.0, 0.0)
    } else if rng.chance(0.003) {
        // A failed season: costs above the takings.
        let gross = business * rng.uniform(0.3, 0.8);
        (gross, gross * rng.uniform(1.05, 1.5))
    } else {
        let cost_share = rng.uniform(0.25, 0.5);
        let gross = business / (1.0 - cost_share);
        (gross, gross - business)
    };
    let items = IncomeItems::new(
        yuan(wage),
        yuan(business_gross),
        yuan(property),
        yuan(transfer),
        yuan(expense),
    )
    .unwrap_or_default();
    (items, out_of_pocket(rng, people, s.lifted))
}

/// Medical and schooling spending after reimbursement: small for most, large with a serious
/// illness, and now and then an accident or an operation.
fn out_of_pocket(rng: &mut Rng, people: &[Traits], lifted: bool) -> Fen {
    let mut total = 0.0;
    for p in people {
        if p.serious {
            total += rng.lognormal(7_000.0, 0.8);
        }
        if p.chronic {
            total += rng.lognormal(1_100.0, 0.7);
        }
        if p.disabled && rng.chance(0.5) {
            total += rng.lognormal(600.0, 0.8);
        }
        if p.healthy() && rng.chance(0.2) {
            total += rng.uniform(50.0, 600.0);
        }
    }
    if rng.chance(0.004) {
        total += rng.lognormal(22_000.0, 0.5);
    }
    // Health assistance (健康扶贫) reimburses more for households lifted out of poverty.
    if lifted {
        total *= 0.8;
    }
    yuan(total)
}
