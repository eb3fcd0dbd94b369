//! The monitoring pass: a struct-of-arrays snapshot of the registry and the evaluation of a
//! rule set over it, in parallel (rayon).
//!
//! Loading and evaluating are separate so that each can be timed alone: the store streams rows
//! into [`HouseholdColumns`] and [`MemberColumns`] (two plain scans, which can run side by side),
//! [`Snapshot::assemble`] groups the members under their households, and [`evaluate`] classifies
//! every household with [`zhenxing_core::monitoring::Prepared::classify`], returning only those
//! that raise a warning. [`whatif`] counts, per village, the households and people at or below
//! a proposed threshold and those who would enter or leave the monitoring range.
//!
//! The pass that runs all of it against the database (the store's loaders and
//! `apply_screening`) is `zhenxing_app::monitoring::pass`, once for the command line and the
//! web application.
//!
//! Architecture invariant: the engine knows nothing about SQL or files and does not depend on
//! the store; the rules themselves live in `core`, so that the engine, the store's tests and
//! the web application classify a household the same way.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use zhenxing_core::monitoring::{Assessment, HouseholdFacts, MemberFacts, Prepared};
use zhenxing_core::{Fen, HouseholdType, Text, text};

/// A row that does not parse: the store holds something zhenxing did not write.
use zhenxing_core::monitoring::unreadable_stored_value as corrupt;

/// A 12-digit division code as a number (the codes are all digits).
fn division_number(code: &str) -> Option<u64> {
    if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    code.parse().ok()
}

/// The household columns the rules read, one entry per household.
#[derive(Debug, Default, Clone)]
pub struct HouseholdColumns {
    pub ids: Vec<i64>,
    /// Household numbers, concatenated; `no_ends[i]` is where the i-th ends.
    no_text: String,
    no_ends: Vec<u32>,
    /// The village, as the number of its 12-digit code.
    pub division: Vec<u64>,
    pub lifted_out: Vec<bool>,
    pub member_count: Vec<u32>,
    pub per_capita_net_income: Vec<i64>,
    /// Last year's per-capita net income, where the registry has it (`income_drop` reads it).
    pub previous_per_capita_net_income: Vec<Option<i64>>,
    pub out_of_pocket: Vec<i64>,
    pub housing_safe: Vec<Option<bool>>,
    pub water_safe: Vec<Option<bool>>,
}

/// One household as the store reads it.
#[derive(Debug, Clone, Copy)]
pub struct HouseholdInput<'a> {
    pub id: i64,
    pub household_no: &'a str,
    pub division_code: &'a str,
    pub household_type: &'a str,
    pub member_count: i64,
    pub per_capita_net_income: i64,
    /// Last year's per-capita net income, if recorded.
    pub previous_per_capita_net_income: Option<i64>,
    pub out_of_pocket: i64,
    pub housing_safe: Option<bool>,
    pub water_safe: Option<bool>,
}

impl HouseholdColumns {
    pub fn with_capacity(n: usize) -> HouseholdColumns {
        HouseholdColumns {
            ids: Vec::with_capacity(n),
            no_text: String::with_capacity(n * 12),
            no_ends: Vec::with_capacity(n),
            division: Vec::with_capacity(n),
            lifted_out: Vec::with_capacity(n),
            member_count: Vec::with_capacity(n),
            per_capita_net_income: Vec::with_capacity(n),
            previous_per_capita_net_income: Vec::with_capacity(n),
            out_of_pocket: Vec::with_capacity(n),
            housing_safe: Vec::with_capacity(n),
            water_safe: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, h: HouseholdInput<'_>) -> Result<(), Text> {
        let division = division_number(h.division_code)
            .ok_or_else(|| corrupt("区划代码 / division code", h.division_code))?;
        let lifted_out = match HouseholdType::from_code(h.household_type) {
            Some(t) => t == HouseholdType::LiftedOut,
            None => return Err(corrupt("户类型 / household type", h.household_type)),
        };
        self.no_text.push_str(h.household_no);
        let end = u32::try_from(self.no_text.len()).map_err(|_| {
            text!(
                "登记库过大，无法一次筛查",
                "the registry is too large to screen at once"
            )
        })?;
        self.no_ends.push(end);
        self.ids.push(h.id);
        self.division.push(division);
        self.lifted_out.push(lifted_out);
        self.member_count
            .push(u32::try_from(h.member_count.max(0)).unwrap_or(u32::MAX));
        self.per_capita_net_income.push(h.per_capita_net_income);
        self.previous_per_capita_net_income
            .push(h.previous_per_capita_net_income);
        self.out_of_pocket.push(h.out_of_pocket);
        self.housing_safe.push(h.housing_safe);
        self.water_safe.push(h.water_safe);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn household_no(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.no_ends[i - 1] as usize
        };
        &self.no_text[start..self.no_ends[i] as usize]
    }

    /// The village's 12-digit code.
    pub fn division_code(&self, i: usize) -> String {
        format!("{:012}", self.division[i])
    }
}

/// The members, in the order the store streamed them, with their household's id.
#[derive(Debug, Default, Clone)]
pub struct MemberColumns {
    pub household_id: Vec<i64>,
    pub facts: Vec<MemberFacts>,
}

/// One member as the store reads it.
#[derive(Debug, Clone, Copy)]
pub struct MemberInput<'a> {
    pub household_id: i64,
    /// `YYYY-MM-DD`.
    pub birth_date: &'a str,
    pub school_status: Option<&'a str>,
    /// Condition codes joined by commas: `chronic,disabled`.
    pub health: &'a str,
    pub labor: &'a str,
    pub medical_insurance: bool,
}

impl MemberColumns {
    pub fn with_capacity(n: usize) -> MemberColumns {
        MemberColumns {
            household_id: Vec::with_capacity(n),
            facts: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, m: MemberInput<'_>) -> Result<(), Text> {
        let facts = MemberFacts::from_stored(
            m.birth_date,
            m.school_status,
            m.health,
            m.labor,
            m.medical_insurance,
        )?;
        self.household_id.push(m.household_id);
        self.facts.push(facts);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.facts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }
}

/// The registry as the rules see it: household columns, and each household's members
/// contiguous in one array.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub households: HouseholdColumns,
    /// Household i's members are `members[member_start[i]..member_start[i + 1]]`.
    member_start: Vec<u32>,
    members: Vec<MemberFacts>,
}

impl Snapshot {
    /// Groups the members under their households (a counting sort by household). Members of
    /// households not in the snapshot are left out.
    pub fn assemble(households: HouseholdColumns, members: MemberColumns) -> Snapshot {
        let n = households.len();
        let mut index: FxHashMap<i64, u32> = FxHashMap::default();
        index.reserve(n);
        for (i, id) in households.ids.iter().enumerate() {
            index.insert(*id, i as u32);
        }
        let owner: Vec<Option<u32>> = members
            .household_id
            .iter()
            .map(|id| index.get(id).copied())
            .collect();
        let mut member_start = vec![0u32; n + 1];
        for o in owner.iter().flatten() {
            member_start[*o as usize + 1] += 1;
        }
        for i in 0..n {
            member_start[i + 1] += member_start[i];
        }
        let mut next: Vec<u32> = member_start[..n].to_vec();
        let total = member_start[n] as usize;
        let placeholder = members.facts.first().copied();
        let mut grouped: Vec<MemberFacts> = match placeholder {
            Some(p) => vec![p; total],
            None => Vec::new(),
        };
        for (facts, o) in members.facts.into_iter().zip(owner) {
            if let Some(o) = o {
                let slot = &mut next[o as usize];
                grouped[*slot as usize] = facts;
                *slot += 1;
            }
        }
        Snapshot {
            households,
            member_start,
            members: grouped,
        }
    }

    /// A snapshot of households only (for what-if counts, which need no members).
    pub fn households_only(households: HouseholdColumns) -> Snapshot {
        let n = households.len();
        Snapshot {
            households,
            member_start: vec![0; n + 1],
            members: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.households.len()
    }

    pub fn is_empty(&self) -> bool {
        self.households.is_empty()
    }

    pub fn members_of(&self, i: usize) -> &[MemberFacts] {
        &self.members[self.member_start[i] as usize..self.member_start[i + 1] as usize]
    }

    /// The facts of household i.
    pub fn facts(&self, i: usize) -> HouseholdFacts<'_> {
        let h = &self.households;
        HouseholdFacts {
            household_type: if h.lifted_out[i] {
                HouseholdType::LiftedOut
            } else {
                HouseholdType::Ordinary
            },
            per_capita_net_income: Fen(h.per_capita_net_income[i]),
            previous_per_capita_net_income: h.previous_per_capita_net_income[i].map(Fen),
            out_of_pocket: Fen(h.out_of_pocket[i]),
            housing_safe: h.housing_safe[i],
            water_safe: h.water_safe[i],
            disaster_loss: None,
            members: self.members_of(i),
        }
    }
}

/// Classifies every household; returns `(index, assessment)` of those that raise a warning, in
/// snapshot order.
pub fn evaluate(snapshot: &Snapshot, rules: &Prepared<'_>) -> Vec<(u32, Assessment)> {
    (0..snapshot.len())
        .into_par_iter()
        .with_min_len(4_096)
        .filter_map(|i| {
            let a = rules.classify(&snapshot.facts(i));
            a.raises_warning().then_some((i as u32, a))
        })
        .collect()
}

/// What-if counts of one village.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WhatIfCounts {
    /// At or below the proposed threshold.
    pub households: u64,
    pub members: u64,
    /// At or below the proposed threshold, above the current one.
    pub households_entering: u64,
    pub members_entering: u64,
    /// At or below the current threshold, above the proposed one.
    pub households_leaving: u64,
    pub members_leaving: u64,
    /// At or below the current threshold.
    pub households_current: u64,
    pub members_current: u64,
}

impl WhatIfCounts {
    pub fn add(&mut self, o: &WhatIfCounts) {
        self.households += o.households;
        self.members += o.members;
        self.households_entering += o.households_entering;
        self.members_entering += o.members_entering;
        self.households_leaving += o.households_leaving;
        self.members_leaving += o.members_leaving;
        self.households_current += o.households_current;
        self.members_current += o.members_current;
    }

    fn is_zero(&self) -> bool {
        *self == WhatIfCounts::default()
    }
}

/// Per village (by the number of its code), the households and people at or below `proposed`,
/// and those entering or leaving compared with `current`. Villages with nothing to count are
/// left out.
pub fn whatif(snapshot: &Snapshot, current: Fen, proposed: Fen) -> BTreeMap<u64, WhatIfCounts> {
    let h = &snapshot.households;
    (0..snapshot.len())
        .into_par_iter()
        .with_min_len(16_384)
        .fold(FxHashMap::<u64, WhatIfCounts>::default, |mut acc, i| {
            let income = h.per_capita_net_income[i];
            let now = income <= current.0;
            let then = income <= proposed.0;
            let m = u64::from(h.member_count[i]);
            let c = WhatIfCounts {
                households: u64::from(then),
                members: if then { m } else { 0 },
                households_entering: u64::from(then && !now),
                members_entering: if then && !now { m } else { 0 },
                households_leaving: u64::from(now && !then),
                members_leaving: if now && !then { m } else { 0 },
                households_current: u64::from(now),
                members_current: if now { m } else { 0 },
            };
            if !c.is_zero() {
                acc.entry(h.division[i]).or_default().add(&c);
            }
            acc
        })
        .reduce(FxHashMap::default, |mut a, b| {
            for (k, v) in b {
                a.entry(k).or_default().add(&v);
            }
            a
        })
        .into_iter()
        .collect()
}

/// The households whose side of the threshold changes: `(index, entering)`, in snapshot order;
/// `entering` is true for those at or below `proposed` but above `current`.
pub fn whatif_changes(snapshot: &Snapshot, current: Fen, proposed: Fen) -> Vec<(u32, bool)> {
    let h = &snapshot.households;
    (0..snapshot.len())
        .into_par_iter()
        .with_min_len(16_384)
        .filter_map(|i| {
            let income = h.per_capita_net_income[i];
            let now = income <= current.0;
            let then = income <= proposed.0;
            (now != then).then_some((i as u32, then))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use zhenxing_core::monitoring::builtin;
    use zhenxing_core::{Labor, MonitoringCategory};

    fn household<'a>(id: i64, no: &'a str, kind: &'a str, income_yuan: i64) -> HouseholdInput<'a> {
        HouseholdInput {
            id,
            household_no: no,
            division_code: "500229102202",
            household_type: kind,
            member_count: 2,
            per_capita_net_income: income_yuan * 100,
            previous_per_capita_net_income: None,
            out_of_pocket: 0,
            housing_safe: Some(true),
            water_safe: Some(true),
        }
    }

    fn member(household_id: i64, labor: &'static str) -> MemberInput<'static> {
        MemberInput {
            household_id,
            birth_date: "1980-05-01",
            school_status: None,
            health: "healthy",
            labor,
            medical_insurance: true,
        }
    }

    fn snapshot() -> Snapshot {
        let mut h = HouseholdColumns::default();
        h.push(household(7, "CK-7", "lifted_out", 6_000)).unwrap();
        h.push(household(3, "CK-3", "ordinary", 9_000)).unwrap();
        h.push(household(5, "CK-5", "ordinary", 7_000)).unwrap();
        let mut m = MemberColumns::default();
        // Streamed out of order; one member of a household outside the snapshot.
        for (id, labor) in [
            (3, "none"),
            (7, "ordinary"),
            (3, "lost"),
            (99, "none"),
            (5, "ordinary"),
            (7, "weak"),
            (5, "skilled"),
        ] {
            m.push(member(id, labor)).unwrap();
        }
        Snapshot::assemble(h, m)
    }

    #[test]
    fn members_are_grouped_under_their_households() {
        let s = snapshot();
        assert_eq!(s.len(), 3);
        assert_eq!(s.households.household_no(1), "CK-3");
        assert_eq!(s.households.division_code(2), "500229102202");
        let labors: Vec<Vec<Labor>> = (0..3)
            .map(|i| s.members_of(i).iter().map(|m| m.labor).collect())
            .collect();
        assert_eq!(
            labors,
            vec![
                vec![Labor::Ordinary, Labor::Weak],
                vec![Labor::NoLabor, Labor::Lost],
                vec![Labor::Ordinary, Labor::Skilled]
            ]
        );
    }

    #[test]
    fn evaluation_returns_the_households_that_raise_a_warning() {
        let s = snapshot();
        let rules = builtin().remove(0);
        let found = evaluate(&s, &rules.prepare(date!(2026 - 11 - 29)));
        let idx: Vec<u32> = found.iter().map(|(i, _)| *i).collect();
        // CK-3 has no labour but an income above the threshold: context only, no warning.
        assert_eq!(idx, vec![0]);
        assert_eq!(
            found[0].1.category,
            Some(MonitoringCategory::UnstableLiftedOut)
        );
        let mut unsafe_water = s.clone();
        unsafe_water.households.water_safe[1] = Some(false);
        let found = evaluate(&unsafe_water, &rules.prepare(date!(2026 - 11 - 29)));
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].1.category, None, "above the threshold, not sudden");
        assert_eq!(
            found[1].1.risk_types,
            vec![
                zhenxing_core::monitoring::RiskType::UnsafeWater,
                zhenxing_core::monitoring::RiskType::LackOfLabor
            ]
        );
    }

    #[test]
    fn last_years_income_reaches_the_income_drop_rule() {
        let mut h = HouseholdColumns::default();
        // 10,000 last year, 5,000 now; 12,000 last year, 11,000 now; no last year.
        h.push(HouseholdInput {
            previous_per_capita_net_income: Some(1_000_000),
            ..household(1, "CK-1", "lifted_out", 5_000)
        })
        .unwrap();
        h.push(HouseholdInput {
            previous_per_capita_net_income: Some(1_200_000),
            ..household(2, "CK-2", "ordinary", 11_000)
        })
        .unwrap();
        h.push(household(3, "CK-3", "ordinary", 7_000)).unwrap();
        let s = Snapshot::households_only(h);
        assert_eq!(
            s.facts(0).previous_per_capita_net_income,
            Some(Fen::from_yuan(10_000))
        );
        assert_eq!(s.facts(2).previous_per_capita_net_income, None);
        let mut rules = builtin().remove(0);
        if let Some(d) = rules.triggers.income_drop.as_mut() {
            d.enabled = true;
        }
        let found = evaluate(&s, &rules.prepare(date!(2026 - 11 - 29)));
        assert_eq!(found.len(), 1, "{found:?}");
        let rules_fired: Vec<_> = found[0].1.reasons.iter().map(|r| r.rule()).collect();
        assert!(
            rules_fired.contains(&zhenxing_core::monitoring::RuleId::IncomeDrop),
            "{rules_fired:?}"
        );
    }

    #[test]
    fn whatif_counts_entering_and_leaving() {
        let s = snapshot();
        let up = whatif(&s, Fen::from_yuan(6_000), Fen::from_yuan(7_500));
        let v = up[&500_229_102_202];
        assert_eq!((v.households, v.members), (2, 4));
        assert_eq!((v.households_entering, v.members_entering), (1, 2));
        assert_eq!((v.households_leaving, v.households_current), (0, 1));
        assert_eq!(
            whatif_changes(&s, Fen::from_yuan(6_000), Fen::from_yuan(7_500)),
            vec![(2, true)]
        );
        assert_eq!(
            whatif_changes(&s, Fen::from_yuan(6_000), Fen::from_yuan(5_999)),
            vec![(0, false)]
        );
        let down = whatif(&s, Fen::from_yuan(6_000), Fen::from_yuan(5_999));
        let v = down[&500_229_102_202];
        assert_eq!(
            (v.households, v.households_leaving, v.members_leaving),
            (0, 1, 2)
        );
    }

    #[test]
    fn bad_stored_values_are_errors_not_panics() {
        let mut h = HouseholdColumns::default();
        assert!(
            h.push(HouseholdInput {
                division_code: "5002",
                ..household(1, "X", "ordinary", 1)
            })
            .is_err()
        );
        assert!(h.push(household(1, "X", "poor", 1)).is_err());
        let mut m = MemberColumns::default();
        for bad in [
            MemberInput {
                birth_date: "1980-02-30",
                ..member(1, "none")
            },
            MemberInput {
                birth_date: "19800101",
                ..member(1, "none")
            },
            MemberInput {
                health: "flu",
                ..member(1, "none")
            },
            MemberInput {
                school_status: Some("grade13"),
                ..member(1, "none")
            },
            member(1, "strong"),
        ] {
            assert!(m.push(bad).is_err(), "{bad:?}");
        }
        assert!(m.is_empty() && h.is_empty());
        let empty = Snapshot::assemble(h, m);
        assert!(evaluate(&empty, &builtin()[0].prepare(date!(2026 - 11 - 29))).is_empty());
    }
}
