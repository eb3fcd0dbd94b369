//! Incomes from year to year (issue 17 item 1, decision 0019): a household's per-capita net
//! income in each completed year, walked back from its current income items, so that the
//! screening rule `income_drop` has last year's figure to compare with; and rural dibao
//! (农村最低生活保障) following a low income.
//!
//! - [`simulate`] gives the completed years of one household ([`YearIncome`]). Walking back
//!   from the current year, each earlier year's per-capita net income is the later one divided
//!   by that year's growth: the rural income growth of the year ([`GROWTH`], faster for
//!   lifted-out households) with log-normal noise, or, for [`DROP_SHARE`] of household-years, a
//!   drop of 30 % to 55 % (an earner's illness, a lost job, a failed harvest), which the
//!   `income_drop` rule (30 % in the built-in rule sets) finds when it is switched on. A
//!   monitored household's history then meets its [`LowIncome`] constraint: at or below the
//!   monitoring threshold in the year it was identified, above it from the year its risk was
//!   eliminated.
//! - [`dibao_follows_income`] grants dibao to most households of the current year below the
//!   year's rural dibao line ([`dibao_line`]) and withdraws it from most of those well above it;
//!   the others keep what they had (a household's dibao is reviewed, not redrawn, each year).
//!   [`simulate`] applies the same rule to the past years' `dibao_members`, walking back from
//!   the draft's current dibao: call [`dibao_follows_income`] first.
//!
//! Neither changes the draft's income items: they are the current year's, drawn by
//! `income::draw` (which counts the dibao drawn before it among the transfers).
//!
//! Deterministic for the random stream, with the crate's own arithmetic only (see [`crate::rng`]).

use crate::monitoring::THRESHOLD;
use crate::rng::Rng;
use std::ops::RangeInclusive;
use zhenxing_core::history::YearIncome;
use zhenxing_core::{Fen, HealthCondition, HouseholdDraft, HouseholdType, Labor, Member};

/// A monitored household's income constraint: its per-capita net income was at or below the
/// monitoring threshold ([`THRESHOLD`]) in the year it was `identified`, and above it in every
/// year from the year its risk was `eliminated` (a year after identification; an elimination
/// in the year of identification counts from the next year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowIncome {
    pub identified: i32,
    pub eliminated: Option<i32>,
}

/// Growth of the per-capita net income in a year over the year before: `(year, lifted-out
/// households, other households)`. Approximations, not official figures: rural per-capita
/// income in Chongqing grew by about 10 % in 2021 and 6–8 % a year since (the municipal
/// statistical bulletins' order of magnitude); lifted-out households a couple of points
/// faster, as the transition policies aim at. Years outside the table take its nearest year.
pub const GROWTH: &[(i32, f64, f64)] = &[
    (2018, 0.100, 0.070),
    (2019, 0.100, 0.070),
    (2020, 0.090, 0.065),
    (2021, 0.100, 0.070),
    (2022, 0.080, 0.060),
    (2023, 0.090, 0.065),
    (2024, 0.085, 0.060),
    (2025, 0.080, 0.060),
];

/// Log-standard-deviation of a household's yearly change around the year's growth. Small
/// enough that the noise alone never makes a drop of 30 % (the normal's tails stop at ±4.2σ).
const NOISE: f64 = 0.08;

/// Share of household-years with a drop of 30 % or more.
pub const DROP_SHARE: f64 = 0.04;

/// The rural dibao standard of Chongqing (农村低保标准), yuan per person and year. APPROXIMATIONS
/// for the demo, not the published figures: about 6,000 yuan in 2021 (500 yuan a month), rising
/// about 5 % a year, and as much less before. Years after the table rise 5 % a year from its
/// last; years before it take its first.
pub const DIBAO_LINE: &[(i32, i64)] = &[
    (2019, 5_400),
    (2020, 5_700),
    (2021, 6_000),
    (2022, 6_300),
    (2023, 6_600),
    (2024, 6_960),
    (2025, 7_300),
];

/// A household below the dibao line gets it with this probability (the others have not
/// applied, or own something that rules it out).
const GRANT: f64 = 0.8;
/// A household above this multiple of the line is well above it ...
const WELL_ABOVE: f64 = 1.5;
/// ... and loses its dibao with this probability (the others' review is still to come).
const WITHDRAW: f64 = 0.8;
/// When some members are vulnerable, the whole household gets dibao with this probability,
/// else only they do.
const WHOLE_HOUSEHOLD: f64 = 0.7;

/// The rural dibao line of `year`, per person (see [`DIBAO_LINE`]).
pub fn dibao_line(year: i32) -> Fen {
    let (first_year, first) = DIBAO_LINE[0];
    let (last_year, last) = DIBAO_LINE[DIBAO_LINE.len() - 1];
    if year <= first_year {
        return Fen::from_yuan(first);
    }
    if let Some(&(_, yuan)) = DIBAO_LINE.iter().find(|(y, _)| *y == year) {
        return Fen::from_yuan(yuan);
    }
    let mut yuan = last as f64;
    for _ in last_year..year.min(last_year + 50) {
        yuan *= 1.05;
    }
    Fen::from_yuan((yuan + 0.5) as i64)
}

/// The growth of `year` over the year before (see [`GROWTH`]).
fn growth(year: i32, lifted: bool) -> f64 {
    let row = GROWTH
        .iter()
        .min_by_key(|(y, _, _)| (y - year).unsigned_abs())
        .copied()
        .unwrap_or((year, 0.08, 0.06));
    if lifted { row.1 } else { row.2 }
}

/// Members counted in `year`: those born by its end (at least one).
fn members_in(draft: &HouseholdDraft, year: i32) -> u32 {
    let n = draft
        .members
        .iter()
        .filter(|m| m.document.id().birth_date().year() <= year)
        .count();
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// Disabled, seriously ill, or an old person without labour ability, in `year`.
fn vulnerable(m: &Member, year: i32) -> bool {
    m.health.has(HealthCondition::Disabled)
        || m.health.has(HealthCondition::SeriousIllness)
        || m.labor == Labor::NoLabor && year - m.document.id().birth_date().year() >= 60
}

fn dibao_count(draft: &HouseholdDraft) -> u32 {
    let n = draft
        .members
        .iter()
        .filter(|m| m.dibao == Some(true))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether a household of per-capita net income `per_capita` gets dibao in a year whose line
/// is `line`, given whether it had it (the year after, walking back; the year before, forward).
fn keeps_dibao(rng: &mut Rng, per_capita: Fen, line: Fen, had: bool) -> bool {
    if per_capita < line {
        had || rng.chance(GRANT)
    } else if per_capita.as_yuan_f64() > line.as_yuan_f64() * WELL_ABOVE {
        had && !rng.chance(WITHDRAW)
    } else {
        had
    }
}

/// The members who get dibao when a household is granted it: the whole household, or (now and
/// then, when some are vulnerable) only the vulnerable ones. Their positions.
fn dibao_group(rng: &mut Rng, draft: &HouseholdDraft, year: i32) -> Vec<usize> {
    let weak: Vec<usize> = (0..draft.members.len())
        .filter(|&i| vulnerable(&draft.members[i], year))
        .collect();
    if weak.is_empty() || rng.chance(WHOLE_HOUSEHOLD) {
        (0..draft.members.len()).collect()
    } else {
        weak
    }
}

/// Dibao in `year` (the current year) following the draft's per-capita net income: granted to
/// most households below [`dibao_line`]`(year)` (the whole household mostly), withdrawn from
/// most above 1.5 times it, unchanged for the others. Only the members' `dibao` changes.
pub fn dibao_follows_income(rng: &mut Rng, draft: &mut HouseholdDraft, year: i32) {
    let n = u32::try_from(draft.members.len()).unwrap_or(u32::MAX);
    let Some(per_capita) = draft.income.per_capita_net(n) else {
        return;
    };
    let had = dibao_count(draft) > 0;
    let has = keeps_dibao(rng, per_capita, dibao_line(year), had);
    if has == had {
        return;
    }
    if has {
        for i in dibao_group(rng, draft, year) {
            draft.members[i].dibao = Some(true);
        }
    } else {
        for m in &mut draft.members {
            if m.dibao == Some(true) {
                m.dibao = Some(false);
            }
        }
    }
}

/// The household's income in each of the completed `years` (oldest first), the draft's income
/// items being those of the year after the last. Walked back from the current per-capita net
/// income (a current figure below 1,000 yuan, a failed season, counts as 1,000), each earlier
/// year the later one divided by a growth factor (see the module documentation), then held to
/// `constraint`; a year's members are those born by its end, and its dibao members follow
/// [`dibao_follows_income`]'s rule from the draft's current dibao back. The draft is not
/// changed.
pub fn simulate(
    rng: &mut Rng,
    draft: &HouseholdDraft,
    years: RangeInclusive<i32>,
    constraint: Option<LowIncome>,
) -> Vec<YearIncome> {
    let (first, last) = (*years.start(), *years.end());
    if first > last {
        return Vec::new();
    }
    let lifted = draft.household_type == HouseholdType::LiftedOut;
    let n = u32::try_from(draft.members.len()).unwrap_or(u32::MAX);
    let current = draft
        .income
        .per_capita_net(n)
        .unwrap_or(Fen::ZERO)
        .as_yuan_f64();
    let threshold = THRESHOLD.as_yuan_f64();
    let mut later = current.max(1_000.0);
    let mut later_dibao = dibao_count(draft);
    // Drawn once: who gets dibao in a year the household gets it and has none the year after.
    let group = u32::try_from(dibao_group(rng, draft, last).len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(usize::try_from(last - first + 1).unwrap_or(0));
    for year in (first..=last).rev() {
        // How the year after came from this one.
        let factor = if rng.chance(DROP_SHARE) {
            rng.uniform(0.45, 0.70)
        } else {
            (1.0 + growth(year + 1, lifted)) * rng.lognormal(1.0, NOISE)
        };
        let mut per_capita = later / factor;
        if let Some(c) = constraint {
            let eliminated = c.eliminated.map(|e| e.max(c.identified + 1));
            if year == c.identified && per_capita > threshold * 0.98 {
                per_capita = threshold * rng.uniform(0.70, 0.98);
            } else if eliminated.is_some_and(|e| year >= e) && per_capita < threshold * 1.05 {
                per_capita = threshold * rng.uniform(1.05, 1.35);
            }
        }
        let members = members_in(draft, year);
        let net = Fen::from_yuan((per_capita * f64::from(members) + 0.5) as i64);
        let per_capita_net = net.per_capita(members).unwrap_or(Fen::ZERO);
        let had = later_dibao > 0;
        let dibao = if keeps_dibao(rng, per_capita_net, dibao_line(year), had) {
            if had { later_dibao } else { group }.min(members)
        } else {
            0
        };
        out.push(YearIncome {
            household_no: draft.household_no.as_str().to_owned(),
            year,
            net_income: net,
            per_capita_net,
            members,
            dibao_members: dibao,
        });
        later = per_capita_net.as_yuan_f64();
        later_dibao = dibao;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::IdAllocator;
    use time::macros::date;
    use zhenxing_core::monitoring::MonitoringOutcome;
    use zhenxing_core::{
        DivisionCode, DocumentNumber, Health, HouseholdNo, IncomeItems, PersonName, Relation, Sex,
    };

    const TODAY: time::Date = date!(2025 - 06 - 30);

    /// A household of `n` people whose per-capita net income is `per_capita` yuan.
    fn draft(
        ids: &mut IdAllocator,
        rng: &mut Rng,
        no: u32,
        n: usize,
        per_capita: i64,
    ) -> HouseholdDraft {
        let members = (0..n)
            .map(|i| {
                // A child born in 2022 in households of two or more.
                let age = [45, 3, 16, 70, 27][i % 5];
                let born =
                    time::Date::from_calendar_date(TODAY.year() - age, time::Month::March, 1)
                        .unwrap_or(TODAY);
                let sex = if i % 2 == 0 { Sex::Male } else { Sex::Female };
                let (id, _) = ids.allocate(rng, born, sex);
                Member {
                    name: PersonName::parse("张三").unwrap_or_else(|e| panic!("{e:?}")),
                    document: DocumentNumber::Resident(id),
                    relation: if i == 0 {
                        Relation::Head
                    } else {
                        Relation::Son
                    },
                    ethnicity: None,
                    education: None,
                    school_status: None,
                    health: if rng.chance(0.1) {
                        Health::from_conditions(&[HealthCondition::Disabled])
                    } else {
                        Health::HEALTHY
                    },
                    labor: Labor::Ordinary,
                    work_months: None,
                    medical_insurance: true,
                    dibao: Some(rng.chance(0.05)),
                }
            })
            .collect();
        HouseholdDraft {
            household_no: HouseholdNo::parse(&format!("500229102202{no:04}"))
                .unwrap_or_else(|e| panic!("{e:?}")),
            division: DivisionCode::parse("500229102202").unwrap_or_else(|e| panic!("{e}")),
            household_type: if no.is_multiple_of(3) {
                HouseholdType::Ordinary
            } else {
                HouseholdType::LiftedOut
            },
            lifted_out_year: None,
            monitoring_category: None,
            phone: None,
            address: None,
            village_group: None,
            income: IncomeItems::new(
                Fen::from_yuan(per_capita * n as i64),
                Fen::ZERO,
                Fen::ZERO,
                Fen::ZERO,
                Fen::ZERO,
            )
            .unwrap_or_default(),
            out_of_pocket: Fen::ZERO,
            housing_safe: Some(true),
            water_safe: Some(true),
            monitoring_outcome: MonitoringOutcome::default(),
            members,
        }
    }

    /// `count` households with log-normal incomes around 14,000 yuan a head.
    fn population(seed: u64, count: u32) -> Vec<HouseholdDraft> {
        let mut rng = Rng::from_seed(seed);
        let mut ids = IdAllocator::new(500229, TODAY);
        (0..count)
            .map(|no| {
                let n = 1 + rng.index(5);
                let per_capita = rng.lognormal(14_000.0, 0.5) as i64;
                draft(&mut ids, &mut rng, no, n, per_capita)
            })
            .collect()
    }

    fn per_capita(d: &HouseholdDraft) -> Fen {
        d.income
            .per_capita_net(d.members.len() as u32)
            .unwrap_or(Fen::ZERO)
    }

    #[test]
    fn the_same_stream_gives_the_same_years() {
        let households = population(1, 200);
        let run = |seed| {
            let mut rng = Rng::from_seed(seed);
            households
                .iter()
                .map(|d| simulate(&mut rng, d, 2021..=2024, None))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let years: Vec<i32> = run(7)[0].iter().map(|y| y.year).collect();
        assert_eq!(years, vec![2021, 2022, 2023, 2024]);
        #[allow(clippy::reversed_empty_ranges)] // the point: no completed year
        let none = simulate(&mut Rng::from_seed(1), &households[0], 2024..=2021, None);
        assert!(none.is_empty());
    }

    #[test]
    fn the_figures_add_up_and_the_draft_is_left_alone() {
        let households = population(2, 300);
        let mut rng = Rng::from_seed(3);
        for d in &households {
            let before = d.clone();
            let years = simulate(&mut rng, d, 2019..=2024, None);
            assert_eq!(d, &before);
            let newborn = usize::from(d.members.len() > 1);
            for y in &years {
                let born = if y.year < 2022 { newborn } else { 0 };
                assert_eq!(y.members as usize, d.members.len() - born, "{y:?}");
                assert_eq!(y.household_no, d.household_no.as_str());
                assert!(y.members >= 1 && y.members as usize <= d.members.len());
                assert!(y.dibao_members <= y.members, "{y:?}");
                assert_eq!(y.net_income.per_capita(y.members), Some(y.per_capita_net));
                assert!(y.per_capita_net > Fen::ZERO, "{y:?}");
            }
        }
    }

    #[test]
    fn dibao_follows_income_leaves_the_income_items_alone() {
        let mut households = population(4, 300);
        let mut rng = Rng::from_seed(5);
        for d in &mut households {
            let (income, n) = (d.income, d.members.len());
            dibao_follows_income(&mut rng, d, 2025);
            assert_eq!((d.income, d.members.len()), (income, n));
        }
    }

    #[test]
    fn incomes_grow_mostly_and_drop_sometimes() {
        let households = population(6, 3_000);
        let mut rng = Rng::from_seed(9);
        let (mut pairs, mut drops, mut growth) = (0u32, 0u32, 0.0);
        for d in &households {
            let mut series: Vec<Fen> = simulate(&mut rng, d, 2021..=2024, None)
                .iter()
                .map(|y| y.per_capita_net)
                .collect();
            // The current year: a drop into it is what the screening sees.
            if per_capita(d).as_yuan_f64() < 1_000.0 {
                continue;
            }
            series.push(per_capita(d));
            for w in series.windows(2) {
                let change = w[1].as_yuan_f64() / w[0].as_yuan_f64();
                pairs += 1;
                if change <= 0.70 {
                    drops += 1;
                } else {
                    growth += change - 1.0;
                }
            }
        }
        let share = f64::from(drops) / f64::from(pairs);
        assert!((0.03..=0.05).contains(&share), "{drops} drops in {pairs}");
        let mean = growth / f64::from(pairs - drops);
        assert!((0.06..=0.11).contains(&mean), "mean growth {mean}");
    }

    #[test]
    fn a_monitored_households_history_meets_its_constraint() {
        let households = population(10, 2_000);
        let mut rng = Rng::from_seed(11);
        let mut checked = 0;
        for (i, d) in households.iter().enumerate() {
            let identified = 2021 + (i % 3) as i32;
            let eliminated = (i % 4 != 0).then_some(identified + 1 + (i % 2) as i32);
            let c = LowIncome {
                identified,
                eliminated,
            };
            let years = simulate(&mut rng, d, 2020..=2024, Some(c));
            for y in &years {
                if y.year == identified {
                    assert!(y.per_capita_net <= THRESHOLD, "{y:?} {c:?}");
                    checked += 1;
                }
                if eliminated.is_some_and(|e| y.year >= e) {
                    assert!(y.per_capita_net > THRESHOLD, "{y:?} {c:?}");
                }
            }
        }
        assert_eq!(checked, 2_000);
        // An elimination in the year of identification counts from the next year.
        let c = LowIncome {
            identified: 2022,
            eliminated: Some(2022),
        };
        let years = simulate(&mut rng, &households[0], 2021..=2024, Some(c));
        assert!(years[1].per_capita_net <= THRESHOLD);
        assert!(years[2].per_capita_net > THRESHOLD && years[3].per_capita_net > THRESHOLD);
    }

    #[test]
    fn dibao_households_are_mostly_low_income() {
        let mut households = population(12, 5_000);
        // A tail of low incomes, as the registry has.
        let mut low = population(13, 400);
        for d in &mut low {
            let n = d.members.len() as i64;
            d.income = IncomeItems::new(
                Fen::from_yuan(n * 4_500),
                Fen::ZERO,
                Fen::ZERO,
                Fen::ZERO,
                Fen::ZERO,
            )
            .unwrap_or_default();
        }
        households.extend(low);
        let mut rng = Rng::from_seed(14);
        for d in &mut households {
            dibao_follows_income(&mut rng, d, 2025);
        }
        let line = dibao_line(2025);
        let with: Vec<&HouseholdDraft> = households.iter().filter(|d| dibao_count(d) > 0).collect();
        let low_with = with.iter().filter(|d| per_capita(d) < line).count();
        let below = households.iter().filter(|d| per_capita(d) < line).count();
        assert!(
            low_with * 2 > with.len(),
            "{low_with} of {} dibao households below the line",
            with.len()
        );
        assert!(
            low_with * 10 >= below * 7,
            "{low_with} of the {below} below the line have dibao"
        );
        // Inertia: some well above keep it.
        assert!(
            with.iter()
                .any(|d| per_capita(d).as_yuan_f64() > line.as_yuan_f64() * WELL_ABOVE)
        );

        // The past years follow the same rule.
        let mut rows = Vec::new();
        for d in &households {
            rows.extend(simulate(&mut rng, d, 2021..=2024, None));
        }
        let with: Vec<&YearIncome> = rows.iter().filter(|y| y.dibao_members > 0).collect();
        let low_with = with
            .iter()
            .filter(|y| y.per_capita_net < dibao_line(y.year))
            .count();
        assert!(low_with * 2 > with.len(), "{low_with} of {}", with.len());
    }

    #[test]
    fn the_dibao_line_rises_by_the_year() {
        assert_eq!(dibao_line(2021), Fen::from_yuan(6_000));
        assert_eq!(dibao_line(2010), dibao_line(2019));
        assert!(dibao_line(2026) > dibao_line(2025));
        assert!(dibao_line(3000) > dibao_line(2026));
        assert!(
            (2019..2030)
                .collect::<Vec<_>>()
                .windows(2)
                .all(|w| dibao_line(w[0]) < dibao_line(w[1]))
        );
    }
}
