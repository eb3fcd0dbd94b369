//! The monitored caseload (DOMAIN.md 1.3): within a county, households are taken until the
//! county's target of monitored people is met.
//! - 脱贫不稳定户 / 边缘易致贫户: lifted-out / ordinary households whose per-capita net income is
//!   at or below the threshold, poorest first (with some noise: identification weighs more
//!   than income).
//! - 突发严重困难户 (either type): income above the threshold but large out-of-pocket medical
//!   spending, at the department-screening levels (≥ 5,000 yuan for lifted-out households,
//!   ≥ 20,000 for others), heaviest burden first.

use crate::rng::Rng;
use zhenxing_core::{Fen, HouseholdDraft, HouseholdType, MonitoringCategory};

/// The 2021 monitoring threshold of Chongqing (渝委农组〔2021〕6号), per person and year.
pub const THRESHOLD: Fen = Fen(600_000);
/// Share of the caseload in sudden severe hardship.
const SUDDEN_SHARE: f64 = 0.15;

pub fn assign(rng: &mut Rng, drafts: &mut [HouseholdDraft], target: u64) {
    if target == 0 {
        return;
    }
    let mut low: Vec<(f64, usize)> = Vec::new();
    let mut sudden: Vec<(f64, usize)> = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let n = d.members.len() as u32;
        let per_capita = d.income.per_capita_net(n).unwrap_or(Fen::ZERO);
        if per_capita <= THRESHOLD {
            low.push((per_capita.as_yuan_f64() * rng.uniform(0.8, 1.2), i));
        } else {
            let trigger = match d.household_type {
                HouseholdType::LiftedOut => Fen::from_yuan(5_000),
                HouseholdType::Ordinary => Fen::from_yuan(20_000),
            };
            if d.out_of_pocket >= trigger {
                let net = d.income.net().as_yuan_f64().max(1.0);
                sudden.push((-d.out_of_pocket.as_yuan_f64() / net, i));
            }
        }
    }
    low.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    sudden.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

    let sudden_target = (target as f64 * SUDDEN_SHARE).round() as u64;
    let mut remaining = target - sudden_target;
    take(drafts, &low, &mut remaining, |t| match t {
        HouseholdType::LiftedOut => MonitoringCategory::UnstableLiftedOut,
        HouseholdType::Ordinary => MonitoringCategory::MarginalAtRisk,
    });
    // What the poorest could not fill goes to the sudden cases, and the other way round.
    remaining += sudden_target;
    take(drafts, &sudden, &mut remaining, |_| {
        MonitoringCategory::SuddenHardship
    });
    take(drafts, &low, &mut remaining, |t| match t {
        HouseholdType::LiftedOut => MonitoringCategory::UnstableLiftedOut,
        HouseholdType::Ordinary => MonitoringCategory::MarginalAtRisk,
    });
}

/// Takes households in order while they fit in what remains of the target.
fn take(
    drafts: &mut [HouseholdDraft],
    order: &[(f64, usize)],
    remaining: &mut u64,
    category: impl Fn(HouseholdType) -> MonitoringCategory,
) {
    for &(_, i) in order {
        if *remaining == 0 {
            return;
        }
        let d = &mut drafts[i];
        let n = d.members.len() as u64;
        if d.monitoring_category.is_none() && n <= *remaining {
            d.monitoring_category = Some(category(d.household_type));
            *remaining -= n;
        }
    }
}
