//! Poverty measures (issue 6 item 2; docs/poverty-measures.md): the Foster–Greer–Thorbecke
//! family on per-capita net income and the Alkire–Foster multidimensional index over the needs
//! the domain watches (DOMAIN.md 1.4, 1.5). Pure: the store gathers the households of a
//! division, these functions count.
//!
//! **FGT** ([`fgt`]): `P_α = (1/n) Σ_{poor} ((z − y_i)/z)^α` for α = 0, 1, 2, where n is the
//! number of people, y_i a person's per-capita net income and z the monitoring threshold.
//! The decisions:
//! - **Who is poor: y ≤ z.** zhenxing's monitoring range is "per-capita net income at or
//!   below the monitoring threshold" (the rule `income` in [`crate::monitoring`]), so the
//!   headcount P0 counts at or below. The original FGT paper counts strictly below; that ratio
//!   is given too ([`Fgt::p0_strict`]). P1 and P2 are the same either way, since a person at the
//!   threshold has a gap of 0.
//! - **Per person.** Every member of a household has the household's per-capita income, so
//!   the input is `(per-capita income, members)` pairs and each pair counts `members` times.
//!   A household of 0 members counts for nobody.
//! - **Negative income** (a business loss larger than the other income, DOMAIN.md 2.3) counts
//!   as poor with a normalised gap of 1, as if the income were 0: the gap measures the shortfall
//!   of what the household has, and the measures stay in [0, 1].
//! - **Exact sums.** Gaps are summed in fen as integers (`u128`); only the final ratios are
//!   `f64`. The threshold must be above 0 and at most 100,000 yuan ([`MAX_THRESHOLD`], the same
//!   bound a rule set's threshold has), which keeps every sum far from overflowing.
//! - **Nobody** (an empty division): `Ok(None)`; a ratio over no people has no value.
//!
//! **Alkire–Foster** ([`alkire_foster`], Alkire and Foster 2011): each unit has a deprivation
//! vector (deprived or not in each dimension) and a population weight; its weighted deprivation
//! score is `c_i = Σ_j w_j g0_ij`. A unit is poor when `c_i ≥ k` (the poverty cut-off, "k
//! exactly reached" is poor). H = poor people / people, A = the average share of the weighted
//! dimensions in which the poor are deprived, M0 = H × A, and each dimension's censored
//! headcount ratio (poor and deprived in it) and percentage contribution to M0
//! (`(w_j/W) × CH_j / M0`; they add up to 1). The function is general ([`AfSpec`]: any number
//! of dimensions, weights and cut-off); the published example of the paper runs through it in
//! the tests, as does the domain's index.
//! - **Weights are integers** (relative shares, normalised by their sum W), and so is k, so
//!   that "c_i ≥ k" is decided exactly and not by floating-point luck at k = 1/3.
//! - **Unknown is not deprived.** A dimension without a value (`None`: housing safety left
//!   blank) counts as not deprived, as in the screening rules ("unknown is not unsafe");
//!   [`Af::people_with_unknown`] says how many people had at least one unknown, so a page can
//!   show how much the figure rests on blanks.
//!
//! **The domain's index** ([`multidimensional`], [`DOMAIN_WEIGHTS`], [`DOMAIN_CUTOFF`]): the
//! unit of identification is the household (the registry records the 三保障 checks per
//! household, DOMAIN.md 1.5), weighted by its members, so H and M0 are shares of people. The
//! six dimensions and their nested weights follow the exit standard of the poverty campaign,
//! 一收入、两不愁、三保障, three pillars of 1/3 each:
//! - income (per-capita net income at or below the threshold): 1/3;
//! - 两不愁: food and clothing 1/6, drinking water 1/6 (water safety was assessed as part of
//!   不愁吃 in the exit checks);
//! - 三保障: compulsory education, basic medical insurance, housing safety, 1/9 each.
//!
//! As integers over W = 18: 6, 3, 3, 2, 2, 2. The cut-off is k = 1/3 (6 of 18), the global
//! MPI's: a household deprived in one whole pillar is poor. Income alone therefore makes a
//! household poor, which matches the monitoring rules (income alone is a risk); without it, it
//! takes food and water, or food (or water) with two of the three guarantees, or the three
//! guarantees together.

use crate::enums::labelled_enum;
use crate::lang::Text;
use crate::money::Fen;
use crate::monitoring::HouseholdFacts;
use crate::text;
use serde::Serialize;

/// The largest threshold the measures accept: 100,000 yuan, as for a rule set's threshold.
pub const MAX_THRESHOLD: Fen = Fen(100_000 * 100);
/// The largest sum of weights an [`AfSpec`] accepts; far more than any index needs.
pub const MAX_TOTAL_WEIGHT: u32 = 1_000_000;

labelled_enum!(
    /// A dimension of the domain's multidimensional index, in the order of [`DOMAIN_WEIGHTS`].
    Dimension, "贫困维度", "dimension", [
    (Income, "income", "人均纯收入不高于监测范围", "per-capita net income at or below the threshold"),
    (FoodAndClothing, "food_and_clothing", "吃穿有困难", "food or clothing not assured"),
    (Water, "water", "饮水出现安全问题", "unsafe drinking water"),
    (Education, "education", "义务教育阶段适龄儿童少年失学辍学", "a child of compulsory-school age out of school"),
    (MedicalInsurance, "medical_insurance", "有成员未参加基本医疗保险", "a member without basic medical insurance"),
    (Housing, "housing", "住房出现安全问题", "unsafe housing"),
]);

/// The weights of [`Dimension::ALL`], as integer shares of 18 (see the module documentation).
pub const DOMAIN_WEIGHTS: [u32; 6] = [6, 3, 3, 2, 2, 2];
/// The poverty cut-off of the domain's index: 6 of 18, that is k = 1/3.
pub const DOMAIN_CUTOFF: u32 = 6;

/// Why a measure cannot be computed: the parameters are wrong (never the data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeasureError {
    /// The threshold is 0, negative or above [`MAX_THRESHOLD`].
    Threshold(Fen),
    /// An index without dimensions.
    NoDimensions,
    /// A weight of 0: the dimension would not count at all.
    ZeroWeight { dimension: usize },
    /// The weights add up to more than [`MAX_TOTAL_WEIGHT`].
    WeightsTooLarge,
    /// The cut-off is 0 (everybody poor) or above the sum of the weights (nobody).
    Cutoff { k: u32, total: u32 },
    /// A unit's deprivation vector has another length than the weights.
    Length {
        unit: usize,
        expected: usize,
        got: usize,
    },
}

impl MeasureError {
    pub fn text(&self) -> Text {
        match self {
            MeasureError::Threshold(z) => text!(
                "监测范围{z}不可用：须大于0且不超过10万元",
                "the threshold {z} cannot be used: it must be above 0 and at most 100000 yuan"
            ),
            MeasureError::NoDimensions => text!(
                "多维贫困指数至少需要一个维度",
                "a multidimensional index needs at least one dimension"
            ),
            MeasureError::ZeroWeight { dimension } => {
                let n = dimension + 1;
                text!(
                    "第{n}个维度的权重为0；每个维度的权重须大于0",
                    "dimension {n} has a weight of 0; every weight must be above 0"
                )
            }
            MeasureError::WeightsTooLarge => text!(
                "权重之和超过1000000；请用较小的整数表示同样的比例",
                "the weights add up to more than 1000000; use smaller integers in the same ratio"
            ),
            MeasureError::Cutoff { k, total } => text!(
                "贫困临界值k={k}须在1到权重之和{total}之间",
                "the poverty cut-off k = {k} must be between 1 and the sum of the weights, {total}"
            ),
            MeasureError::Length {
                unit,
                expected,
                got,
            } => {
                let n = unit + 1;
                text!(
                    "第{n}个单位有{got}个维度的取值，应为{expected}个",
                    "unit {n} has values for {got} dimensions instead of {expected}"
                )
            }
        }
    }
}

impl std::fmt::Display for MeasureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for MeasureError {}

fn check_threshold(z: Fen) -> Result<(), MeasureError> {
    if z.0 <= 0 || z > MAX_THRESHOLD {
        Err(MeasureError::Threshold(z))
    } else {
        Ok(())
    }
}

fn ratio(num: u128, den: u128) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// The FGT measures of a population against a threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fgt {
    pub threshold: Fen,
    pub households: u64,
    pub people: u64,
    /// Households and people at or below the threshold.
    pub poor_households: u64,
    pub poor_people: u64,
    /// People strictly below the threshold (the original FGT definition).
    pub poor_people_strict: u64,
    /// Headcount ratio, at or below the threshold.
    pub p0: f64,
    /// Headcount ratio, strictly below the threshold.
    pub p0_strict: f64,
    /// Poverty gap index.
    pub p1: f64,
    /// Squared poverty gap index.
    pub p2: f64,
}

/// The sums the FGT measures are ratios of, against one threshold: additive, so that a
/// division's sums are its villages' sums added ([`FgtSums::merge`]) and the measures of any
/// division come from them without reading its households again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FgtSums {
    pub households: u64,
    pub people: u64,
    pub poor_households: u64,
    pub poor_people: u64,
    pub poor_people_strict: u64,
    /// Σ over poor people of the gap z − y in fen.
    pub gap_sum: u128,
    /// Σ over poor people of (z − y)² in fen².
    pub gap2_sum: u128,
}

impl FgtSums {
    /// Counts a household of `members` people with a per-capita income against `threshold`
    /// (checked by the caller: [`fgt`] does, and the figures read it from a rule set, whose
    /// threshold is checked when it is saved).
    pub fn add(&mut self, threshold: Fen, income: Fen, members: u32) {
        if members == 0 {
            return;
        }
        let m = u64::from(members);
        self.households += 1;
        self.people += m;
        if income > threshold {
            return;
        }
        self.poor_households += 1;
        self.poor_people += m;
        if income < threshold {
            self.poor_people_strict += m;
        }
        // 0 ≤ gap ≤ z: a negative income has the gap of an income of 0.
        let gap = u128::try_from(threshold.0 - income.0.max(0)).unwrap_or(0);
        self.gap_sum += gap * u128::from(m);
        self.gap2_sum += gap * gap * u128::from(m);
    }

    /// Adds another population's sums (against the same threshold).
    pub fn merge(&mut self, o: &FgtSums) {
        self.households += o.households;
        self.people += o.people;
        self.poor_households += o.poor_households;
        self.poor_people += o.poor_people;
        self.poor_people_strict += o.poor_people_strict;
        self.gap_sum += o.gap_sum;
        self.gap2_sum += o.gap2_sum;
    }

    /// The measures; `None` when the sums hold nobody.
    pub fn measures(&self, threshold: Fen) -> Option<Fgt> {
        if self.people == 0 || threshold.0 <= 0 {
            return None;
        }
        let n = u128::from(self.people);
        let z = threshold.0 as f64;
        Some(Fgt {
            threshold,
            households: self.households,
            people: self.people,
            poor_households: self.poor_households,
            poor_people: self.poor_people,
            poor_people_strict: self.poor_people_strict,
            p0: ratio(u128::from(self.poor_people), n),
            p0_strict: ratio(u128::from(self.poor_people_strict), n),
            p1: self.gap_sum as f64 / (n as f64 * z),
            p2: self.gap2_sum as f64 / (n as f64 * z * z),
        })
    }
}

/// The FGT measures over `(per-capita net income, members)` pairs; see the module
/// documentation for the choices. `Ok(None)` when the pairs hold nobody.
pub fn fgt<I>(threshold: Fen, households: I) -> Result<Option<Fgt>, MeasureError>
where
    I: IntoIterator<Item = (Fen, u32)>,
{
    check_threshold(threshold)?;
    let mut sums = FgtSums::default();
    for (income, members) in households {
        sums.add(threshold, income, members);
    }
    Ok(sums.measures(threshold))
}

/// The parameters of an Alkire–Foster index: one integer weight per dimension and the poverty
/// cut-off k on the same scale (poor when the weighted deprivation score is at least k).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfSpec {
    weights: Vec<u32>,
    k: u32,
    total: u32,
}

impl AfSpec {
    pub fn new(weights: Vec<u32>, k: u32) -> Result<AfSpec, MeasureError> {
        if weights.is_empty() {
            return Err(MeasureError::NoDimensions);
        }
        if let Some(dimension) = weights.iter().position(|&w| w == 0) {
            return Err(MeasureError::ZeroWeight { dimension });
        }
        let total = weights
            .iter()
            .try_fold(0u32, |acc, &w| acc.checked_add(w))
            .filter(|&t| t <= MAX_TOTAL_WEIGHT)
            .ok_or(MeasureError::WeightsTooLarge)?;
        if k == 0 || k > total {
            return Err(MeasureError::Cutoff { k, total });
        }
        Ok(AfSpec { weights, k, total })
    }

    /// The domain's index: [`DOMAIN_WEIGHTS`] and [`DOMAIN_CUTOFF`].
    pub fn domain() -> AfSpec {
        AfSpec {
            weights: DOMAIN_WEIGHTS.to_vec(),
            k: DOMAIN_CUTOFF,
            total: DOMAIN_WEIGHTS.iter().sum(),
        }
    }

    pub fn weights(&self) -> &[u32] {
        &self.weights
    }

    pub fn cutoff(&self) -> u32 {
        self.k
    }

    pub fn total_weight(&self) -> u32 {
        self.total
    }
}

/// One dimension's figures in an [`Af`] result, all shares of people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionFigures {
    /// The weight normalised to the sum of the weights.
    pub weight: f64,
    /// People deprived in this dimension, poor or not.
    pub uncensored_headcount: f64,
    /// People poor and deprived in this dimension.
    pub censored_headcount: f64,
    /// Share of M0 due to this dimension, `weight × censored_headcount / M0` (0 when M0 is 0).
    pub contribution: f64,
}

/// The Alkire–Foster measures of a population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Af {
    pub units: u64,
    pub people: u64,
    pub poor_units: u64,
    pub poor_people: u64,
    /// People in units with at least one unknown dimension.
    pub people_with_unknown: u64,
    /// Multidimensional headcount ratio.
    pub h: f64,
    /// Average intensity among the poor (0 when nobody is poor).
    pub a: f64,
    /// Adjusted headcount ratio, H × A.
    pub m0: f64,
    /// In the order of the spec's weights.
    pub dimensions: Vec<DimensionFigures>,
}

/// Deprivation in a dimension measured by an achievement against a cut-off, as in Alkire and
/// Foster: deprived when strictly below. `None` (unknown) for a NaN achievement or cut-off.
pub fn deprived_below(achievement: f64, cutoff: f64) -> Option<bool> {
    (!achievement.is_nan() && !cutoff.is_nan()).then_some(achievement < cutoff)
}

/// A unit's deprivation vector from its achievements and the dimensions' cut-offs
/// ([`deprived_below`] in each dimension). A missing achievement or cut-off (a shorter slice)
/// is unknown, so the vector always has as many entries as the longer of the two.
pub fn deprivations(achievements: &[f64], cutoffs: &[f64]) -> Vec<Option<bool>> {
    (0..achievements.len().max(cutoffs.len()))
        .map(|j| deprived_below(*achievements.get(j)?, *cutoffs.get(j)?))
        .collect()
}

/// The sums the Alkire–Foster measures are ratios of, for one [`AfSpec`]: additive like
/// [`FgtSums`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AfSums {
    pub units: u64,
    pub people: u64,
    pub poor_units: u64,
    pub poor_people: u64,
    pub people_with_unknown: u64,
    /// Σ over poor people of their score c_i, in weight units.
    pub score_sum: u128,
    /// People deprived in each dimension, poor or not.
    pub deprived: Vec<u128>,
    /// People poor and deprived in each dimension.
    pub censored: Vec<u128>,
}

impl AfSums {
    /// No units yet, for an index of `spec`'s dimensions.
    pub fn new(spec: &AfSpec) -> AfSums {
        let d = spec.weights.len();
        AfSums {
            deprived: vec![0; d],
            censored: vec![0; d],
            ..AfSums::default()
        }
    }

    /// Counts a unit of `members` people with its deprivation vector (`Some(true)` deprived,
    /// `Some(false)` not, `None` unknown, counted as not deprived). The vector must have one
    /// entry per dimension of `spec`; `unit` numbers it in the error.
    pub fn add(
        &mut self,
        spec: &AfSpec,
        unit: usize,
        g0: &[Option<bool>],
        members: u32,
    ) -> Result<(), MeasureError> {
        let d = spec.weights.len();
        if g0.len() != d || self.deprived.len() != d {
            return Err(MeasureError::Length {
                unit,
                expected: d,
                got: g0.len(),
            });
        }
        if members == 0 {
            return Ok(());
        }
        let m = u128::from(members);
        self.units += 1;
        self.people += u64::from(members);
        if g0.iter().any(Option::is_none) {
            self.people_with_unknown += u64::from(members);
        }
        let score: u32 = g0
            .iter()
            .zip(&spec.weights)
            .filter(|(g, _)| **g == Some(true))
            .map(|(_, w)| *w)
            .sum();
        let poor = score >= spec.k;
        if poor {
            self.poor_units += 1;
            self.poor_people += u64::from(members);
            self.score_sum += u128::from(score) * m;
        }
        for (j, g) in g0.iter().enumerate() {
            if *g == Some(true) {
                self.deprived[j] += m;
                if poor {
                    self.censored[j] += m;
                }
            }
        }
        Ok(())
    }

    /// Adds another population's sums (for the same spec).
    pub fn merge(&mut self, o: &AfSums) {
        self.units += o.units;
        self.people += o.people;
        self.poor_units += o.poor_units;
        self.poor_people += o.poor_people;
        self.people_with_unknown += o.people_with_unknown;
        self.score_sum += o.score_sum;
        if self.deprived.len() < o.deprived.len() {
            self.deprived.resize(o.deprived.len(), 0);
            self.censored.resize(o.censored.len(), 0);
        }
        for (a, b) in self.deprived.iter_mut().zip(&o.deprived) {
            *a += b;
        }
        for (a, b) in self.censored.iter_mut().zip(&o.censored) {
            *a += b;
        }
    }

    /// The measures; `None` when the sums hold nobody.
    pub fn measures(&self, spec: &AfSpec) -> Option<Af> {
        if self.people == 0 {
            return None;
        }
        let n = u128::from(self.people);
        let total = u128::from(spec.total);
        let dimensions = spec
            .weights
            .iter()
            .enumerate()
            .map(|(j, &w)| {
                let deprived = self.deprived.get(j).copied().unwrap_or(0);
                let censored = self.censored.get(j).copied().unwrap_or(0);
                DimensionFigures {
                    weight: ratio(u128::from(w), total),
                    uncensored_headcount: ratio(deprived, n),
                    censored_headcount: ratio(censored, n),
                    contribution: ratio(u128::from(w) * censored, self.score_sum),
                }
            })
            .collect();
        Some(Af {
            units: self.units,
            people: self.people,
            poor_units: self.poor_units,
            poor_people: self.poor_people,
            people_with_unknown: self.people_with_unknown,
            h: ratio(u128::from(self.poor_people), n),
            a: ratio(self.score_sum, u128::from(self.poor_people) * total),
            m0: ratio(self.score_sum, n * total),
            dimensions,
        })
    }
}

/// The Alkire–Foster measures over units, each a deprivation vector (`Some(true)` deprived,
/// `Some(false)` not, `None` unknown, counted as not deprived) and its number of people.
/// `Ok(None)` when the units hold nobody; a vector of the wrong length is an error.
pub fn alkire_foster<I, D>(spec: &AfSpec, units: I) -> Result<Option<Af>, MeasureError>
where
    I: IntoIterator<Item = (D, u32)>,
    D: AsRef<[Option<bool>]>,
{
    let mut sums = AfSums::new(spec);
    for (index, (vector, members)) in units.into_iter().enumerate() {
        sums.add(spec, index, vector.as_ref(), members)?;
    }
    Ok(sums.measures(spec))
}

/// What the domain's index needs to know about one household. The flags follow the
/// registry's wording; `None` is unknown (not recorded), which is not a deprivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdProfile {
    pub per_capita_net_income: Fen,
    pub members: u32,
    /// 吃穿不愁: the registry has no field for it; the latest home verification says.
    pub food_and_clothing_assured: Option<bool>,
    pub water_safe: Option<bool>,
    /// A child of compulsory-school age out of school (as the screening rule decides it).
    pub child_out_of_school: Option<bool>,
    pub member_without_medical_insurance: Option<bool>,
    pub housing_safe: Option<bool>,
}

impl HouseholdProfile {
    /// The profile of a household from the screening facts; the facts hold neither food and
    /// clothing nor the out-of-school decision (it depends on the rule set's ages), so the
    /// caller passes them.
    pub fn from_facts(
        facts: &HouseholdFacts<'_>,
        food_and_clothing_assured: Option<bool>,
        child_out_of_school: Option<bool>,
    ) -> HouseholdProfile {
        HouseholdProfile {
            per_capita_net_income: facts.per_capita_net_income,
            members: u32::try_from(facts.members.len()).unwrap_or(u32::MAX),
            food_and_clothing_assured,
            water_safe: facts.water_safe,
            child_out_of_school,
            member_without_medical_insurance: Some(
                facts.members.iter().any(|m| !m.medical_insurance),
            ),
            housing_safe: facts.housing_safe,
        }
    }

    /// The deprivation vector in the order of [`Dimension::ALL`].
    pub fn deprivations(&self, threshold: Fen) -> [Option<bool>; 6] {
        [
            Some(self.per_capita_net_income <= threshold),
            self.food_and_clothing_assured.map(|ok| !ok),
            self.water_safe.map(|ok| !ok),
            self.child_out_of_school,
            self.member_without_medical_insurance,
            self.housing_safe.map(|ok| !ok),
        ]
    }
}

/// The domain's multidimensional index ([`AfSpec::domain`]) of households against the
/// monitoring threshold; the figures of [`Af::dimensions`] are in the order of
/// [`Dimension::ALL`]. `Ok(None)` when the households hold nobody.
pub fn multidimensional<'a, I>(threshold: Fen, households: I) -> Result<Option<Af>, MeasureError>
where
    I: IntoIterator<Item = &'a HouseholdProfile>,
{
    check_threshold(threshold)?;
    alkire_foster(
        &AfSpec::domain(),
        households
            .into_iter()
            .map(|h| (h.deprivations(threshold), h.members)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    fn yuan(y: i64) -> Fen {
        Fen::from_yuan(y)
    }

    #[test]
    fn fgt_textbook_incomes_one_to_ten_against_five() {
        // Ten people, incomes 1..=10 yuan, z = 5.
        // At or below: 1, 2, 3, 4, 5 -> P0 = 5/10; strictly below: 1..=4 -> 4/10.
        // Gaps (z - y)/z: 4/5, 3/5, 2/5, 1/5, 0 -> sum 10/5 = 2 -> P1 = 2/10 = 0.2.
        // Squares: 16/25 + 9/25 + 4/25 + 1/25 + 0 = 30/25 = 1.2 -> P2 = 1.2/10 = 0.12.
        let m = fgt(yuan(5), (1..=10).map(|y| (yuan(y), 1)))
            .unwrap()
            .unwrap();
        assert_eq!((m.people, m.poor_people, m.poor_people_strict), (10, 5, 4));
        assert!(close(m.p0, 0.5), "{m:?}");
        assert!(close(m.p0_strict, 0.4), "{m:?}");
        assert!(close(m.p1, 0.2), "{m:?}");
        assert!(close(m.p2, 0.12), "{m:?}");
    }

    #[test]
    fn fgt_weights_by_members() {
        // Household A: 4 members at 3,000 yuan; household B: 1 member at 9,000; z = 6,000.
        // People 5, poor 4 -> P0 = 0.8. Gap of A = 3000/6000 = 1/2 -> P1 = 4 × 1/2 / 5 = 0.4;
        // P2 = 4 × 1/4 / 5 = 0.2. The same as five one-person households.
        let m = fgt(yuan(6000), [(yuan(3000), 4), (yuan(9000), 1)])
            .unwrap()
            .unwrap();
        assert_eq!((m.households, m.poor_households), (2, 1));
        assert!(
            close(m.p0, 0.8) && close(m.p1, 0.4) && close(m.p2, 0.2),
            "{m:?}"
        );
        let expanded = [3000, 3000, 3000, 3000, 9000].map(|y| (yuan(y), 1));
        let e = fgt(yuan(6000), expanded).unwrap().unwrap();
        assert_eq!((e.p0, e.p1, e.p2), (m.p0, m.p1, m.p2));
    }

    #[test]
    fn fgt_at_the_threshold_is_poor_with_no_gap() {
        // One person exactly at z, one a fen above: P0 = 1/2, strictly below 0, no gap.
        let m = fgt(yuan(6000), [(yuan(6000), 1), (Fen(600_001), 1)])
            .unwrap()
            .unwrap();
        assert_eq!((m.poor_people, m.poor_people_strict), (1, 0));
        assert!(close(m.p0, 0.5) && m.p0_strict == 0.0 && m.p1 == 0.0 && m.p2 == 0.0);
    }

    #[test]
    fn fgt_negative_income_has_a_gap_of_one() {
        // A loss of 2,000 yuan per person counts as 0: gap 1, so P1 = P2 = 1/2 with one
        // person at z + 1 yuan beside it.
        let m = fgt(yuan(6000), [(yuan(-2000), 1), (yuan(6001), 1)])
            .unwrap()
            .unwrap();
        assert!(
            close(m.p0, 0.5) && close(m.p1, 0.5) && close(m.p2, 0.5),
            "{m:?}"
        );
        // Extreme incomes do not overflow.
        let x = fgt(
            MAX_THRESHOLD,
            [(Fen(i64::MIN), u32::MAX), (Fen(i64::MAX), 1)],
        )
        .unwrap()
        .unwrap();
        assert!(x.p1 > 0.99 && x.p1 <= 1.0 && x.p2 <= 1.0, "{x:?}");
    }

    #[test]
    fn fgt_nobody_and_bad_thresholds() {
        assert_eq!(fgt(yuan(6000), []), Ok(None));
        assert_eq!(fgt(yuan(6000), [(yuan(1), 0)]), Ok(None));
        assert_eq!(fgt(Fen(0), []), Err(MeasureError::Threshold(Fen(0))));
        assert!(fgt(yuan(-1), [(yuan(1), 1)]).is_err());
        assert!(fgt(Fen(MAX_THRESHOLD.0 + 1), [(yuan(1), 1)]).is_err());
        assert!(fgt(MAX_THRESHOLD, [(yuan(1), 1)]).is_ok());
        let e = MeasureError::Threshold(Fen(0)).text();
        assert!(e.zh.contains("监测范围") && e.en.contains("threshold"));
    }

    /// Alkire and Foster (2011), section 3: four persons, four dimensions, equal weights.
    /// Rows are persons; the cut-offs are z = (13, 12, 3, 1). This matrix is the paper's as
    /// we recall it (the stored references did not hold the paper's text to check it against).
    const AF_Y: [[f64; 4]; 4] = [
        [13.1, 14.0, 4.0, 1.0],
        [15.2, 7.0, 5.0, 0.0],
        [12.5, 10.0, 1.0, 0.0],
        [20.0, 11.0, 3.0, 1.0],
    ];
    const AF_Z: [f64; 4] = [13.0, 12.0, 3.0, 1.0];

    fn g0(y: &[[f64; 4]], z: &[f64; 4]) -> Vec<(Vec<Option<bool>>, u32)> {
        y.iter().map(|row| (deprivations(row, z), 1)).collect()
    }

    #[test]
    fn af_published_example() {
        // g0 (deprived when y < z):
        //   person 1: 13.1≥13, 14≥12, 4≥3, 1≥1          -> 0 0 0 0, c = 0
        //   person 2: 15.2≥13, 7<12, 5≥3, 0<1           -> 0 1 0 1, c = 2
        //   person 3: 12.5<13, 10<12, 1<3, 0<1          -> 1 1 1 1, c = 4
        //   person 4: 20≥13, 11<12, 3≥3, 1≥1            -> 0 1 0 0, c = 1
        // k = 2: persons 2 and 3 are poor. H = 2/4 = 1/2; A = (2 + 4)/(2 × 4) = 3/4;
        // M0 = 6/16 = 3/8. Censored headcounts: d1 1/4, d2 2/4, d3 1/4, d4 2/4;
        // contributions (1/4 × CH_j / M0): 1/6, 1/3, 1/6, 1/3.
        let units = g0(&AF_Y, &AF_Z);
        let spec = AfSpec::new(vec![1; 4], 2).unwrap();
        let m = alkire_foster(&spec, units.clone()).unwrap().unwrap();
        assert_eq!((m.people, m.poor_people), (4, 2));
        assert!(
            close(m.h, 0.5) && close(m.a, 0.75) && close(m.m0, 0.375),
            "{m:?}"
        );
        let ch: Vec<f64> = m.dimensions.iter().map(|d| d.censored_headcount).collect();
        assert_eq!(ch, [0.25, 0.5, 0.25, 0.5]);
        let contrib: Vec<f64> = m.dimensions.iter().map(|d| d.contribution).collect();
        for (got, want) in contrib
            .iter()
            .zip([1.0 / 6.0, 1.0 / 3.0, 1.0 / 6.0, 1.0 / 3.0])
        {
            assert!(close(*got, want), "{contrib:?}");
        }
        // Union (k = 1): persons 2, 3, 4; H = 3/4, A = 7/12, M0 = 7/16.
        let union = alkire_foster(&AfSpec::new(vec![1; 4], 1).unwrap(), units.clone())
            .unwrap()
            .unwrap();
        assert!(close(union.h, 0.75) && close(union.a, 7.0 / 12.0));
        assert!(close(union.m0, 7.0 / 16.0));
        // Intersection (k = 4): person 3 only; H = 1/4, A = 1, M0 = 1/4.
        let inter = alkire_foster(&AfSpec::new(vec![1; 4], 4).unwrap(), units)
            .unwrap()
            .unwrap();
        assert!(close(inter.h, 0.25) && close(inter.a, 1.0) && close(inter.m0, 0.25));
    }

    #[test]
    fn af_matrix_of_the_brief_through_the_definitions() {
        // The matrix the brief quoted, y = [[13.1,14,4,1],[6.7,10,1,0],[7.8,9,2,0],
        // [26,10,5,1]] with the same cut-offs, gives c = (0, 4, 4, 1) by the definitions
        // (not the (2, 4, 3, 0) the brief guessed): person 2 and 3 are below every cut-off,
        // person 4 only in dimension 2 (10 < 12). k = 2: H = 1/2, A = 8/8 = 1, M0 = 1/2.
        let y = [
            [13.1, 14.0, 4.0, 1.0],
            [6.7, 10.0, 1.0, 0.0],
            [7.8, 9.0, 2.0, 0.0],
            [26.0, 10.0, 5.0, 1.0],
        ];
        let m = alkire_foster(&AfSpec::new(vec![1; 4], 2).unwrap(), g0(&y, &AF_Z))
            .unwrap()
            .unwrap();
        assert!(
            close(m.h, 0.5) && close(m.a, 1.0) && close(m.m0, 0.5),
            "{m:?}"
        );
    }

    #[test]
    fn af_spec_is_checked() {
        assert_eq!(AfSpec::new(vec![], 1), Err(MeasureError::NoDimensions));
        assert_eq!(
            AfSpec::new(vec![1, 0], 1),
            Err(MeasureError::ZeroWeight { dimension: 1 })
        );
        assert_eq!(
            AfSpec::new(vec![1, 1], 3),
            Err(MeasureError::Cutoff { k: 3, total: 2 })
        );
        assert!(AfSpec::new(vec![1, 1], 0).is_err());
        assert_eq!(
            AfSpec::new(vec![u32::MAX, 1], 1),
            Err(MeasureError::WeightsTooLarge)
        );
        assert_eq!(AfSpec::domain().total_weight(), 18);
        assert_eq!(
            AfSpec::new(DOMAIN_WEIGHTS.to_vec(), DOMAIN_CUTOFF),
            Ok(AfSpec::domain())
        );
        let spec = AfSpec::new(vec![1, 1], 1).unwrap();
        let bad = alkire_foster(&spec, [(vec![Some(true)], 1)]);
        assert_eq!(
            bad,
            Err(MeasureError::Length {
                unit: 0,
                expected: 2,
                got: 1
            })
        );
    }

    #[test]
    fn af_nobody_and_nan() {
        let spec = AfSpec::new(vec![1, 1], 1).unwrap();
        let none: [(Vec<Option<bool>>, u32); 0] = [];
        assert_eq!(alkire_foster(&spec, none), Ok(None));
        assert_eq!(alkire_foster(&spec, [(vec![Some(true); 2], 0)]), Ok(None));
        assert_eq!(deprived_below(f64::NAN, 1.0), None);
        assert_eq!(deprived_below(1.0, f64::NAN), None);
        assert_eq!(deprived_below(f64::NEG_INFINITY, 1.0), Some(true));
        assert_eq!(
            deprivations(&[1.0, 5.0], &[2.0, 5.0, 1.0]),
            [Some(true), Some(false), None]
        );
        // Nobody poor: A and every contribution are 0, not NaN.
        let m = alkire_foster(&spec, [(vec![Some(false), None], 3)])
            .unwrap()
            .unwrap();
        assert_eq!((m.h, m.a, m.m0), (0.0, 0.0, 0.0));
        assert_eq!(m.people_with_unknown, 3);
        assert!(m.dimensions.iter().all(|d| d.contribution == 0.0));
    }

    fn profile(income: i64, members: u32) -> HouseholdProfile {
        HouseholdProfile {
            per_capita_net_income: yuan(income),
            members,
            food_and_clothing_assured: Some(true),
            water_safe: Some(true),
            child_out_of_school: Some(false),
            member_without_medical_insurance: Some(false),
            housing_safe: Some(true),
        }
    }

    #[test]
    fn domain_index_cutoff_and_weights() {
        let z = yuan(6000);
        // a: income exactly at the threshold, nothing else: score 6 = k -> poor.
        let a = profile(6000, 2);
        // b: food and water (3 + 3 = 6 = k) -> poor.
        let b = HouseholdProfile {
            food_and_clothing_assured: Some(false),
            water_safe: Some(false),
            ..profile(9000, 3)
        };
        // c: food and education (3 + 2 = 5 < 6) -> not poor, but deprived in both.
        let c = HouseholdProfile {
            food_and_clothing_assured: Some(false),
            child_out_of_school: Some(true),
            ..profile(9000, 4)
        };
        // d: housing blank (unknown, not deprived), everything else fine -> not poor.
        let d = HouseholdProfile {
            housing_safe: None,
            ..profile(9000, 1)
        };
        let m = multidimensional(z, &[a, b, c, d]).unwrap().unwrap();
        // People 2 + 3 + 4 + 1 = 10; poor 2 + 3 = 5 -> H = 1/2.
        // Scores of the poor: a 6, b 6 -> Σ m c = 2×6 + 3×6 = 30; A = 30 / (5 × 18) = 1/3;
        // M0 = 30 / (10 × 18) = 1/6.
        assert_eq!((m.people, m.poor_people, m.poor_units), (10, 5, 2));
        assert!(close(m.h, 0.5) && close(m.a, 1.0 / 3.0) && close(m.m0, 1.0 / 6.0));
        assert_eq!(m.people_with_unknown, 1);
        let by = |dim: Dimension| {
            let i = Dimension::ALL.iter().position(|x| *x == dim).unwrap();
            m.dimensions[i].clone()
        };
        // Income: 2 poor people -> CH = 2/10; contribution 6 × 2 / 30 = 2/5.
        assert!(close(by(Dimension::Income).censored_headcount, 0.2));
        assert!(close(by(Dimension::Income).contribution, 0.4));
        // Food: b's 3 poor (c's 4 are deprived but not poor) -> CH 3/10, uncensored 7/10;
        // contribution 3 × 3 / 30 = 3/10; water the same.
        assert!(close(
            by(Dimension::FoodAndClothing).censored_headcount,
            0.3
        ));
        assert!(close(
            by(Dimension::FoodAndClothing).uncensored_headcount,
            0.7
        ));
        assert!(close(by(Dimension::Water).contribution, 0.3));
        assert_eq!(by(Dimension::Education).censored_headcount, 0.0);
        assert!(close(by(Dimension::Education).uncensored_headcount, 0.4));
        let total: f64 = m.dimensions.iter().map(|d| d.contribution).sum();
        assert!(close(total, 1.0));
        // One fen above the threshold, a is no longer poor.
        let a2 = HouseholdProfile {
            per_capita_net_income: Fen(600_001),
            ..a
        };
        let m2 = multidimensional(z, &[a2]).unwrap().unwrap();
        assert_eq!(m2.poor_people, 0);
        // The three guarantees together: 2 + 2 + 2 = 6 -> poor.
        let g = HouseholdProfile {
            child_out_of_school: Some(true),
            member_without_medical_insurance: Some(true),
            housing_safe: Some(false),
            ..profile(9000, 1)
        };
        assert_eq!(multidimensional(z, &[g]).unwrap().unwrap().poor_people, 1);
        assert_eq!(multidimensional(z, &[]), Ok(None));
        assert!(multidimensional(Fen(0), &[g]).is_err());
    }

    #[test]
    fn domain_weights_are_the_documented_shares() {
        let spec = AfSpec::domain();
        let shares: Vec<f64> = spec
            .weights()
            .iter()
            .map(|w| f64::from(*w) / f64::from(spec.total_weight()))
            .collect();
        let want = [
            1.0 / 3.0,
            1.0 / 6.0,
            1.0 / 6.0,
            1.0 / 9.0,
            1.0 / 9.0,
            1.0 / 9.0,
        ];
        assert!(shares.iter().zip(want).all(|(a, b)| close(*a, b)));
        assert_eq!(Dimension::ALL.len(), DOMAIN_WEIGHTS.len());
        assert_eq!(spec.cutoff() * 3, spec.total_weight());
    }

    proptest::proptest! {
        /// Any incomes and household sizes: 0 ≤ P2 ≤ P1 ≤ P0 ≤ 1 and P0_strict ≤ P0.
        #[test]
        fn fgt_orders_and_bounds(
            rows in proptest::collection::vec((proptest::num::i64::ANY, 0u32..20), 0..40),
            z in 1i64..=MAX_THRESHOLD.0,
        ) {
            let rows: Vec<(Fen, u32)> = rows.into_iter().map(|(y, m)| (Fen(y), m)).collect();
            match fgt(Fen(z), rows.iter().copied()).unwrap() {
                None => proptest::prop_assert!(rows.iter().all(|r| r.1 == 0)),
                Some(m) => {
                    proptest::prop_assert!(0.0 <= m.p2 && m.p2 <= m.p1 + 1e-12);
                    proptest::prop_assert!(m.p1 <= m.p0 + 1e-12 && m.p0 <= 1.0);
                    proptest::prop_assert!(m.p0_strict <= m.p0);
                }
            }
        }

        /// The sums are additive: split anywhere, the two parts' sums merged give the measures
        /// of the whole (what lets a division's figures be its villages' sums).
        #[test]
        fn sums_merge_like_the_whole(
            rows in proptest::collection::vec(
                (-1_000_000i64..2_000_000, 0u32..9, proptest::collection::vec(proptest::option::of(proptest::bool::ANY), 6)),
                0..40,
            ),
            split in 0usize..40,
            z in 1i64..=MAX_THRESHOLD.0,
        ) {
            let z = Fen(z);
            let spec = AfSpec::domain();
            let split = split.min(rows.len());
            let (mut fgt_parts, mut af_parts) = ([FgtSums::default(); 2], [AfSums::new(&spec), AfSums::new(&spec)]);
            for (i, (y, m, g)) in rows.iter().enumerate() {
                let part = usize::from(i >= split);
                fgt_parts[part].add(z, Fen(*y), *m);
                af_parts[part].add(&spec, i, g, *m).unwrap();
            }
            let [mut fgt_whole, second] = fgt_parts;
            fgt_whole.merge(&second);
            let [mut af_whole, second] = af_parts;
            af_whole.merge(&second);
            proptest::prop_assert_eq!(
                fgt_whole.measures(z),
                fgt(z, rows.iter().map(|r| (Fen(r.0), r.1))).unwrap()
            );
            proptest::prop_assert_eq!(
                af_whole.measures(&spec),
                alkire_foster(&spec, rows.iter().map(|r| (r.2.clone(), r.1))).unwrap()
            );
        }

        /// Any deprivation vectors, weights and cut-off: M0 = H × A, all in [0, 1], and the
        /// contributions add up to 1 when anybody is poor.
        #[test]
        fn af_identities(
            weights in proptest::collection::vec(1u32..10, 1..7),
            k_share in 0.0f64..1.0,
            units in proptest::collection::vec(
                (proptest::collection::vec(proptest::option::of(proptest::bool::ANY), 7), 0u32..9),
                0..30,
            ),
        ) {
            let total: u32 = weights.iter().sum();
            let k = ((f64::from(total) * k_share).ceil() as u32).clamp(1, total);
            let spec = AfSpec::new(weights.clone(), k).unwrap();
            let units: Vec<(Vec<Option<bool>>, u32)> = units
                .into_iter()
                .map(|(g, m)| (g[..weights.len()].to_vec(), m))
                .collect();
            if let Some(m) = alkire_foster(&spec, units).unwrap() {
                proptest::prop_assert!((m.m0 - m.h * m.a).abs() < 1e-12);
                proptest::prop_assert!(m.h <= 1.0 && m.a <= 1.0 && m.m0 <= m.h);
                proptest::prop_assert!(m.m0 == 0.0 || m.a >= f64::from(k) / f64::from(total) - 1e-12);
                let sum: f64 = m.dimensions.iter().map(|d| d.contribution).sum();
                proptest::prop_assert!(m.poor_people == 0 || (sum - 1.0).abs() < 1e-9);
            }
        }
    }
}
