//! The plan: which villages were former poverty villages, and how many members of lifted-out
//! and of ordinary households each village gets. Budgets are fixed here, before any household
//! is drawn, with largest-remainder apportionment, so the totals are exact at every scale and
//! each county can then be generated on its own (in parallel, or pipelined with the writes).

use crate::counties;
use crate::rng::{Rng, mix};
use std::collections::BTreeMap;
use std::fmt;
use time::Date;
use zhenxing_core::{DivisionCode, Text, text};

/// Members of households lifted out of poverty at scale 1: the 190.6万 of the record.
pub const LIFTED_OUT_MEMBERS: f64 = 1_906_000.0;
/// Former poverty villages, at every scale.
pub const FORMER_POVERTY_VILLAGES: usize = 1_919;
/// People under monitoring at scale 1 in September 2021 (DOMAIN.md 0), the history's calibration
/// point.
pub const MONITORED_MEMBERS: f64 = 68_869.0;
/// Share of everyone monitored since 2020 who had been identified by September 2021: the rest
/// came in during the following years (no quota, DOMAIN.md 1.2), so today's registry holds
/// `MONITORED_MEMBERS / SHARE_MONITORED_BY_SEPTEMBER_2021` monitored people at scale 1.
/// An approximation [U]: the record gives the 2021 caseload, not the later ones.
pub const SHARE_MONITORED_BY_SEPTEMBER_2021: f64 = 0.6;
/// Share of lifted-out members living in the former poverty counties.
const SHARE_IN_POVERTY_COUNTIES: f64 = 0.8;

/// How the registry is drawn: `zhenxing generate --scale S --seed N [--ordinary-members N]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthConfig {
    /// 1.0 reproduces the figures of the record.
    pub scale: f64,
    pub seed: u64,
    /// Members of ordinary rural households; by default half the lifted-out members.
    pub ordinary_members: Option<u64>,
    /// The date ages are counted on (and after which nobody is born).
    pub today: Date,
}

impl SynthConfig {
    pub fn new(scale: f64, seed: u64, today: Date) -> SynthConfig {
        SynthConfig {
            scale,
            seed,
            ordinary_members: None,
            today,
        }
    }
}

/// A village committee (村) that can receive households, with the place name used in the
/// households' addresses (`城口县葛城街道太白村`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageInput {
    pub code: DivisionCode,
    pub place: String,
}

impl VillageInput {
    /// Without names from the division table: the address names only the county.
    pub fn new(code: DivisionCode) -> VillageInput {
        let county = code.county_digits().parse().ok().and_then(counties::name);
        VillageInput {
            code,
            place: county.unwrap_or("重庆市").to_owned(),
        }
    }

    /// From the names of the county, township and village as the division table has them;
    /// `太白村村民委员会` becomes `太白村`.
    pub fn named(code: DivisionCode, county: &str, township: &str, village: &str) -> VillageInput {
        let village = zhenxing_core::division::short_name(village);
        VillageInput {
            code,
            place: format!("{county}{township}{village}"),
        }
    }
}

impl From<DivisionCode> for VillageInput {
    fn from(code: DivisionCode) -> VillageInput {
        VillageInput::new(code)
    }
}

/// The village committees of a division table given as `(code, name)` pairs, with their
/// addresses built from the names of their county and township. Other rows are only used for
/// the names; communities (社区) and townships get no households.
pub fn villages_from_divisions<'a>(
    divisions: impl IntoIterator<Item = (DivisionCode, &'a str)>,
) -> Vec<VillageInput> {
    let rows: Vec<(DivisionCode, &str)> = divisions.into_iter().collect();
    let names: BTreeMap<DivisionCode, &str> = rows
        .iter()
        .filter(|(c, _)| !c.is_village_committee())
        .map(|&(c, n)| (c, n))
        .collect();
    let mut villages: Vec<VillageInput> = rows
        .iter()
        .filter(|(c, _)| c.is_village_committee())
        .map(|&(code, name)| {
            let township = code
                .parent()
                .and_then(|t| names.get(&t).copied())
                .unwrap_or("");
            let county = code
                .county()
                .and_then(|c| names.get(&c).copied())
                .or_else(|| code.county_digits().parse().ok().and_then(counties::name))
                .unwrap_or("");
            VillageInput::named(code, county, township, name)
        })
        .collect();
    villages.sort_by_key(|v| v.code);
    villages.dedup_by(|a, b| a.code == b.code);
    villages
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    /// The scale is not a positive finite number.
    InvalidScale(f64),
    /// No village committee among the divisions.
    NoVillages,
    /// The former poverty counties hold fewer village committees than there were former
    /// poverty villages.
    NotEnoughFormerPovertyVillages { available: usize },
}

impl PlanError {
    pub fn text(&self) -> Text {
        match self {
            PlanError::InvalidScale(s) => {
                text!(
                    "规模{s}无效：应为正数",
                    "invalid scale {s}: it must be a positive number"
                )
            }
            PlanError::NoVillages => text!(
                "区划表中没有村民委员会：请先导入区划",
                "the division table has no village committees: load the divisions first"
            ),
            PlanError::NotEnoughFormerPovertyVillages { available } => {
                let required = FORMER_POVERTY_VILLAGES;
                text!(
                    "18个脱贫区县只有{available}个村，不足{required}个脱贫村",
                    "the former poverty counties have only {available} villages, fewer than the {required} former poverty villages"
                )
            }
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl std::error::Error for PlanError {}

#[derive(Debug, Clone)]
pub(crate) struct VillagePlan {
    pub code: DivisionCode,
    pub place: String,
    /// Sizes of the households lifted out of poverty, then of the ordinary ones.
    pub lifted: Vec<u8>,
    pub ordinary: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct CountyPlan {
    pub code: DivisionCode,
    pub number: u32,
    pub former_poverty: bool,
    pub villages: Vec<VillagePlan>,
    pub lifted: u64,
    pub ordinary: u64,
    /// Members monitored today (everyone identified since 2020, eliminated or not).
    pub monitored: u64,
    /// Of those, the members identified by September 2021 (the history's calibration point).
    pub monitored_by_september_2021: u64,
}

/// The budgets of a synthetic registry. Generate it county by county with
/// [`Plan::generate_county`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) seed: u64,
    pub(crate) today: Date,
    pub(crate) counties: Vec<CountyPlan>,
    county_codes: Vec<DivisionCode>,
    former_poverty_villages: Vec<DivisionCode>,
    lifted: u64,
    ordinary: u64,
    monitored: u64,
}

/// Tag of the random stream used for planning (county streams use the county number).
const PLAN_STREAM: u64 = 0x504C_414E;

/// Plans the registry over `villages` (village committees; other codes are ignored) with
/// `former_poverty_counties` (the 18; any code inside a county stands for it).
pub fn plan(
    config: &SynthConfig,
    villages: &[VillageInput],
    former_poverty_counties: &[DivisionCode],
) -> Result<Plan, PlanError> {
    if !(config.scale.is_finite() && config.scale > 0.0) {
        return Err(PlanError::InvalidScale(config.scale));
    }
    let mut villages: Vec<&VillageInput> = villages
        .iter()
        .filter(|v| v.code.is_village_committee())
        .collect();
    villages.sort_by_key(|v| v.code);
    villages.dedup_by(|a, b| a.code == b.code);
    if villages.is_empty() {
        return Err(PlanError::NoVillages);
    }
    let poverty: Vec<DivisionCode> = former_poverty_counties
        .iter()
        .filter_map(DivisionCode::county)
        .collect();
    let mut rng = Rng::stream(config.seed, PLAN_STREAM);

    // Counties in code order, each with its villages in code order.
    let mut counties: Vec<CountyPlan> = Vec::new();
    for v in &villages {
        let county = v.code.county().unwrap_or(v.code);
        if counties.last().is_none_or(|c| c.code != county) {
            counties.push(CountyPlan {
                code: county,
                number: county.county_digits().parse().unwrap_or(0),
                former_poverty: poverty.contains(&county),
                villages: Vec::new(),
                lifted: 0,
                ordinary: 0,
                monitored: 0,
                monitored_by_september_2021: 0,
            });
        }
        if let Some(c) = counties.last_mut() {
            c.villages.push(VillagePlan {
                code: v.code,
                place: v.place.clone(),
                lifted: Vec::new(),
                ordinary: Vec::new(),
            });
        }
    }

    let former = choose_former_poverty_villages(&mut rng, &counties)?;
    let is_former = |code: &DivisionCode| former.binary_search(code).is_ok();

    let lifted = (LIFTED_OUT_MEMBERS * config.scale).round() as u64;
    let ordinary = config.ordinary_members.unwrap_or(lifted.div_ceil(2));
    let others_have_villages = counties.iter().any(|c| !c.former_poverty);
    let in_poverty = if others_have_villages {
        (lifted as f64 * SHARE_IN_POVERTY_COUNTIES).round() as u64
    } else {
        lifted
    };

    // Weights per village. Former poverty villages are denser in households lifted out of
    // poverty; the richer counties hold more ordinary households.
    let mut lifted_weights: Vec<Vec<f64>> = Vec::with_capacity(counties.len());
    let mut ordinary_weights: Vec<Vec<f64>> = Vec::with_capacity(counties.len());
    for c in &counties {
        let key = if counties::is_national_key(c.number) {
            1.0
        } else {
            0.75
        };
        let mut lw = Vec::with_capacity(c.villages.len());
        let mut ow = Vec::with_capacity(c.villages.len());
        for v in &c.villages {
            let jitter = rng.uniform(0.7, 1.3);
            lw.push(if c.former_poverty {
                let density = if is_former(&v.code) { 2.5 } else { 1.0 };
                density * key * jitter
            } else {
                jitter
            });
            let ordinary_density = if c.former_poverty { 1.0 } else { 1.4 };
            ow.push(ordinary_density * rng.uniform(0.7, 1.3));
        }
        lifted_weights.push(lw);
        ordinary_weights.push(ow);
    }
    // County budgets: the lifted-out members split between the two groups of counties, then
    // within each group by the villages' weights.
    let county_weight = |w: &Vec<f64>| w.iter().sum::<f64>();
    let group = |poor: bool| -> Vec<f64> {
        counties
            .iter()
            .zip(&lifted_weights)
            .map(|(c, w)| {
                if c.former_poverty == poor {
                    county_weight(w)
                } else {
                    0.0
                }
            })
            .collect()
    };
    let lifted_budgets: Vec<u64> = apportion(in_poverty, &group(true))
        .into_iter()
        .zip(apportion(lifted - in_poverty, &group(false)))
        .map(|(a, b)| a + b)
        .collect();
    let ordinary_budgets = apportion(
        ordinary,
        &ordinary_weights
            .iter()
            .map(county_weight)
            .collect::<Vec<_>>(),
    );
    // Households are drawn per county so that small scales keep realistic household sizes,
    // then dealt to the villages by weight.
    for (i, c) in counties.iter_mut().enumerate() {
        let mut county_rng = Rng::stream(config.seed, PLAN_STREAM ^ u64::from(c.number) << 20);
        let lifted_sizes = household_sizes(&mut county_rng, lifted_budgets[i]);
        let ordinary_sizes = household_sizes(&mut county_rng, ordinary_budgets[i]);
        deal(&lifted_sizes, &lifted_weights[i], &mut c.villages, |v| {
            &mut v.lifted
        });
        deal(
            &ordinary_sizes,
            &ordinary_weights[i],
            &mut c.villages,
            |v| &mut v.ordinary,
        );
        c.lifted = lifted_budgets[i];
        c.ordinary = ordinary_budgets[i];
    }

    // The monitored caseload follows the population at risk, and the former poverty counties
    // (the national key ones most) keep several times the others' share of it, with some
    // spread between counties of the same kind.
    let monitored =
        (MONITORED_MEMBERS / SHARE_MONITORED_BY_SEPTEMBER_2021 * config.scale).round() as u64;
    let by_september_2021 = (MONITORED_MEMBERS * config.scale).round() as u64;
    let monitored_weights: Vec<f64> = counties
        .iter()
        .map(|c| {
            let kind = match (c.former_poverty, counties::is_national_key(c.number)) {
                (true, true) => 2.4,
                (true, false) => 1.6,
                _ => 0.55,
            };
            (c.lifted as f64 + 0.5 * c.ordinary as f64) * kind * rng.lognormal(1.0, 0.25)
        })
        .collect();
    for ((c, m), early) in counties
        .iter_mut()
        .zip(apportion(monitored, &monitored_weights))
        .zip(apportion(by_september_2021, &monitored_weights))
    {
        c.monitored = m;
        c.monitored_by_september_2021 = early;
    }

    Ok(Plan {
        seed: config.seed,
        today: config.today,
        county_codes: counties.iter().map(|c| c.code).collect(),
        counties,
        former_poverty_villages: former,
        lifted,
        ordinary,
        monitored,
    })
}

/// Household sizes 1 to 7 (weights in ‰): mean about 2.9, as in the rural registry where many
/// old people live alone or as a couple.
const HOUSEHOLD_SIZES: [u32; 7] = [170, 290, 210, 170, 100, 45, 15];

/// Sizes of households that add up to exactly `members` (only the last one is cut to fit).
fn household_sizes(rng: &mut Rng, members: u64) -> Vec<u8> {
    let mut sizes = Vec::with_capacity((members / 2) as usize + 1);
    let mut left = members;
    while left > 0 {
        let n = (rng.weighted(&HOUSEHOLD_SIZES) as u64 + 1).min(left);
        sizes.push(n as u8);
        left -= n;
    }
    rng.shuffle(&mut sizes);
    sizes
}

/// Deals the households to the villages, a number of households proportional to the weights.
fn deal(
    sizes: &[u8],
    weights: &[f64],
    villages: &mut [VillagePlan],
    slot: impl Fn(&mut VillagePlan) -> &mut Vec<u8>,
) {
    let counts = apportion(sizes.len() as u64, weights);
    let mut next = 0;
    for (v, count) in villages.iter_mut().zip(counts) {
        let end = next + count as usize;
        slot(v).extend_from_slice(&sizes[next..end]);
        next = end;
    }
}

/// Picks exactly 1,919 villages inside the former poverty counties: a quota per county by its
/// number of villages (national key counties weigh double), then villages at random.
fn choose_former_poverty_villages(
    rng: &mut Rng,
    counties: &[CountyPlan],
) -> Result<Vec<DivisionCode>, PlanError> {
    let poverty: Vec<&CountyPlan> = counties.iter().filter(|c| c.former_poverty).collect();
    let available: usize = poverty.iter().map(|c| c.villages.len()).sum();
    if available < FORMER_POVERTY_VILLAGES {
        return Err(PlanError::NotEnoughFormerPovertyVillages { available });
    }
    let caps: Vec<u64> = poverty.iter().map(|c| c.villages.len() as u64).collect();
    let weights: Vec<f64> = poverty
        .iter()
        .map(|c| {
            let key = if counties::is_national_key(c.number) {
                1.0
            } else {
                0.5
            };
            c.villages.len() as f64 * key
        })
        .collect();
    let quotas = apportion_capped(FORMER_POVERTY_VILLAGES as u64, &weights, &caps);
    let mut chosen = Vec::with_capacity(FORMER_POVERTY_VILLAGES);
    for (c, quota) in poverty.iter().zip(quotas) {
        let mut order: Vec<usize> = (0..c.villages.len()).collect();
        rng.shuffle(&mut order);
        chosen.extend(order[..quota as usize].iter().map(|&i| c.villages[i].code));
    }
    chosen.sort();
    Ok(chosen)
}

/// Splits `total` into integers proportional to `weights` that sum to `total` exactly
/// (largest remainder; ties go to the earlier index). Equal shares when all weights are 0.
pub(crate) fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let sum: f64 = weights.iter().sum();
    let weights: Vec<f64> = if sum > 0.0 {
        weights.to_vec()
    } else {
        vec![1.0; weights.len()]
    };
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut shares: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut given: u64 = shares.iter().sum();
    // Float error can only be tiny; correct it either way.
    while given > total {
        if let Some(i) = (0..shares.len()).max_by_key(|&i| shares[i]) {
            shares[i] -= 1;
            given -= 1;
        }
    }
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for i in order.iter().cycle().take((total - given) as usize) {
        shares[*i] += 1;
    }
    shares
}

/// [`apportion`] with a cap per item; what a capped item cannot take goes to the others.
/// `total` must not exceed the sum of the caps.
fn apportion_capped(total: u64, weights: &[f64], caps: &[u64]) -> Vec<u64> {
    let mut shares = vec![0u64; weights.len()];
    let mut open: Vec<usize> = (0..weights.len()).filter(|&i| caps[i] > 0).collect();
    let mut left = total;
    while left > 0 && !open.is_empty() {
        let w: Vec<f64> = open.iter().map(|&i| weights[i]).collect();
        let split = apportion(left, &w);
        let mut next = Vec::new();
        for (&i, s) in open.iter().zip(split) {
            let take = s.min(caps[i] - shares[i]);
            shares[i] += take;
            left -= take;
            if shares[i] < caps[i] {
                next.push(i);
            }
        }
        open = next;
    }
    shares
}

impl Plan {
    /// The 1,919 former poverty villages (in code order), all inside the former poverty
    /// counties, whatever the scale.
    pub fn former_poverty_villages(&self) -> &[DivisionCode] {
        &self.former_poverty_villages
    }

    /// Counties that receive households (those with village committees), in code order.
    pub fn counties(&self) -> &[DivisionCode] {
        &self.county_codes
    }

    /// The day the registry is generated for (its history runs up to it).
    pub fn today(&self) -> Date {
        self.today
    }

    /// Members of households lifted out of poverty: round(1,906,000 × scale).
    pub fn lifted_out_members(&self) -> u64 {
        self.lifted
    }

    pub fn ordinary_members(&self) -> u64 {
        self.ordinary
    }

    pub fn total_members(&self) -> u64 {
        self.lifted + self.ordinary
    }

    /// The monitored caseload of today's registry aimed at: everyone identified since 2020,
    /// round(68,869 / 0.6 × scale) people. The generated figure can fall a little short where a
    /// county has too few households at risk.
    pub fn monitored_members_target(&self) -> u64 {
        self.monitored
    }

    /// Of those, the people identified by September 2021: round(68,869 × scale), the record's
    /// caseload of that month.
    pub fn monitored_in_september_2021_target(&self) -> u64 {
        self.counties
            .iter()
            .map(|c| c.monitored_by_september_2021)
            .sum()
    }

    /// Members (lifted-out, ordinary) planned for a county; `None` if it gets no households.
    pub fn county_members(&self, county: &DivisionCode) -> Option<(u64, u64)> {
        self.county(county).map(|c| (c.lifted, c.ordinary))
    }

    pub(crate) fn county(&self, county: &DivisionCode) -> Option<&CountyPlan> {
        let county = county.county()?;
        self.counties
            .binary_search_by(|c| c.code.cmp(&county))
            .ok()
            .map(|i| &self.counties[i])
    }

    /// A stable per-village number of village groups (村民小组) for addresses.
    pub(crate) fn groups(code: &DivisionCode) -> i64 {
        let n: u64 = code.as_str().parse().unwrap_or(0);
        4 + (mix(n) % 10) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(0, &[1.0, 2.0]), vec![0, 0]);
        assert_eq!(apportion(5, &[0.0, 0.0]), vec![3, 2]);
        let w: Vec<f64> = (0..1000).map(|i| f64::from(i % 7) + 0.3).collect();
        assert_eq!(apportion(1_906_000, &w).iter().sum::<u64>(), 1_906_000);
    }

    #[test]
    fn capped_apportion_respects_caps() {
        let s = apportion_capped(10, &[10.0, 1.0, 1.0], &[2, 10, 10]);
        assert_eq!(s.iter().sum::<u64>(), 10);
        assert_eq!(s[0], 2);
    }

    #[test]
    fn village_names_are_shortened() {
        let code = DivisionCode::parse("500229102201").unwrap_or_else(|e| panic!("{e}"));
        let v = VillageInput::named(code, "城口县", "葛城街道", "太白村村民委员会");
        assert_eq!(v.place, "城口县葛城街道太白村");
        assert_eq!(VillageInput::new(code).place, "城口县");
    }
}
