//! Generating the households of one county from its plan: for each village, its planned
//! lifted-out then ordinary households (sizes fixed by the plan, so member totals are exact),
//! then the monitored caseload, then the structural check of each household.

use crate::counties;
use crate::family::{self, Planned};
use crate::history::{self, CountyHistory};
use crate::ids::{IdAllocator, age_on};
use crate::income::{self, Situation};
use crate::income_years::{self, LowIncome};
use crate::monitoring;
use crate::names;
use crate::people::{self, Traits};
use crate::plan::{CountyPlan, Plan, VillagePlan};
use crate::problems;
use crate::rng::Rng;
use time::Date;
use zhenxing_core::history::YearIncome;
use zhenxing_core::{
    DocumentNumber, Household, HouseholdDraft, HouseholdNo, HouseholdType, Labor, Member,
    MonitoringCategory, VillageGroup,
};

/// Years in which registered households were lifted out (‰), most in 2015-2017.
const LIFTED_OUT_YEARS: &[(u32, u16)] = &[
    (120, 2014),
    (200, 2015),
    (220, 2016),
    (180, 2017),
    (140, 2018),
    (100, 2019),
    (40, 2020),
];

impl Plan {
    /// All households of a county (empty for a county without a plan). Deterministic for
    /// (seed, county) and independent of the other counties, so counties can be generated in
    /// parallel or pipelined with the database writes.
    pub fn generate_county(&self, county: &zhenxing_core::DivisionCode) -> Vec<Household> {
        self.generate_county_with_history(county)
            .unwrap_or_else(|e| panic!("the synthetic history breaks a rule: {e}"))
            .0
    }

    /// The households of a county and the history of its monitored caseload since 2021
    /// ([`history`]): the households carry what the history's completed cases recorded.
    /// An error is a step, pairing or measure the rules refused: a bug of the simulation.
    pub fn generate_county_with_history(
        &self,
        county: &zhenxing_core::DivisionCode,
    ) -> Result<(Vec<Household>, CountyHistory), String> {
        match self.county(county) {
            Some(c) => generate(self.seed, self.today, c),
            None => Ok((Vec::new(), CountyHistory::default())),
        }
    }
}

/// Tag of the history's random streams (apart from the households', which it must not move).
const HISTORY_STREAM: u64 = 0x4849_5354_4f52_5900;

struct County {
    today: Date,
    ids: IdAllocator,
    ethnic_mix: [(u32, &'static str); 3],
    earning_level: f64,
    /// Reused for every household (avoids an allocation per household).
    traits: Vec<Traits>,
}

fn generate(
    seed: u64,
    today: Date,
    plan: &CountyPlan,
) -> Result<(Vec<Household>, CountyHistory), String> {
    let mut rng = Rng::stream(seed, u64::from(plan.number));
    let earning_level = match (plan.former_poverty, counties::is_national_key(plan.number)) {
        (true, true) => 0.94,
        (true, false) => 0.97,
        _ => 1.04,
    };
    let mut county = County {
        today,
        ids: IdAllocator::new(plan.number, today),
        ethnic_mix: counties::ethnic_mix(plan.number),
        earning_level,
        traits: Vec::with_capacity(7),
    };
    let expected = (plan.lifted + plan.ordinary) as f64 / 2.8;
    let mut drafts = Vec::with_capacity(expected as usize + 16);
    for village in &plan.villages {
        let count = village.lifted.len() + village.ordinary.len();
        let width = digits(count as u64).max(4);
        let households = village
            .lifted
            .iter()
            .map(|&n| (true, n))
            .chain(village.ordinary.iter().map(|&n| (false, n)));
        for (sequence, (lifted, n)) in (1..).zip(households) {
            let mut no = String::with_capacity(12 + width);
            no.push_str(village.code.as_str());
            push_digits(&mut no, sequence, width);
            drafts.push(household(
                &mut rng,
                &mut county,
                village,
                &no,
                lifted,
                usize::from(n),
            ));
        }
    }
    monitoring::assign(&mut rng, &mut drafts, plan.monitored);
    let mut history_rng = Rng::stream(seed ^ HISTORY_STREAM, u64::from(plan.number));
    let county_name = counties::name(plan.number).unwrap_or("");
    let history = history::simulate(
        &mut history_rng,
        &mut drafts,
        county_name,
        plan.monitored_by_september_2021,
        today,
    )?;
    let mut history = history;
    history::record_outcomes(&mut drafts, &history);
    history.incomes = incomes(seed, plan.number, today, &mut drafts);
    let households = drafts
        .into_iter()
        .map(|d| {
            d.build()
                .map_err(|e| format!("a synthetic household breaks a structural rule: {e:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((households, history))
}

/// Tag of the incomes' random streams.
const INCOME_STREAM: u64 = 0x494e_434f_4d45_5300;

/// Dibao as this year's income calls for it, and the incomes of completed years: last year's
/// for every household (what the income-drop rule compares with), and for a monitored
/// household every year since the one before its identification (the low year that brought it
/// in, and the years after its elimination above the threshold).
fn incomes(seed: u64, county: u32, today: Date, drafts: &mut [HouseholdDraft]) -> Vec<YearIncome> {
    let mut rng = Rng::stream(seed ^ INCOME_STREAM, u64::from(county));
    let last_year = today.year() - 1;
    let mut rows = Vec::with_capacity(drafts.len() + drafts.len() / 8);
    for d in drafts.iter_mut() {
        income_years::dibao_follows_income(&mut rng, d, today.year());
        // A household in sudden hardship was identified for its spending, not a low income.
        let outcome = &d.monitoring_outcome;
        let low = d.monitoring_category != Some(MonitoringCategory::SuddenHardship);
        let constraint = outcome.identified_on.filter(|_| low).map(|day| LowIncome {
            identified: day.year(),
            eliminated: outcome.risk_eliminated_on.map(|day| day.year()),
        });
        let first = match outcome.identified_on {
            Some(day) => (day.year() - 1).clamp(2019, last_year),
            None => last_year,
        };
        rows.extend(income_years::simulate(
            &mut rng,
            d,
            first..=last_year,
            constraint,
        ));
    }
    rows
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Appends `n` in decimal, zero-padded to `width` (cheaper than `format!` a million times).
pub(crate) fn push_digits(s: &mut String, n: u64, width: usize) {
    let len = digits(n).max(width);
    let mut buf = [b'0'; 20];
    let mut n = n;
    for b in buf[..len].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    s.push_str(std::str::from_utf8(&buf[..len]).unwrap_or(""));
}

/// A birth date giving `age` on `today`, and never after yesterday.
fn birth_date(rng: &mut Rng, age: i32, today: Date) -> Date {
    let year = today.year() - age;
    let day = rng.range(1, 365) as u16;
    let born = Date::from_ordinal_date(year, day)
        .or_else(|_| Date::from_ordinal_date(year, 365))
        .unwrap_or(today);
    // Not yet had this year's birthday: born in the year before.
    let born = if born >= today || age_on(born, today) != age {
        Date::from_ordinal_date(year - 1, day).unwrap_or(born)
    } else {
        born
    };
    if born >= today {
        today.previous_day().unwrap_or(today)
    } else {
        born
    }
}

fn household(
    rng: &mut Rng,
    county: &mut County,
    village: &VillagePlan,
    no: &str,
    lifted: bool,
    n: usize,
) -> HouseholdDraft {
    let problem = problems::draw(rng);
    let same_sex_spouse = problem == Some(problems::Problem::SpouseSameSexAsHead);
    let planned = family::compose(rng, n, lifted, same_sex_spouse);
    let ethnicity = rng.pick(&county.ethnic_mix);
    county.traits.clear();
    let mut members = Vec::with_capacity(n);
    for p in &planned {
        let (member, traits) = person(rng, county, p, ethnicity, lifted);
        members.push(member);
        county.traits.push(traits);
    }
    let dibao_members = dibao(rng, &mut members, &county.traits, lifted);
    let situation = Situation {
        lifted,
        dibao_members,
        earning_level: county.earning_level,
    };
    let (income, out_of_pocket) = income::draw(rng, &county.traits, situation);
    let phone = rng.chance(0.7).then(|| names::phone(rng));
    let group = rng.range(1, Plan::groups(&village.code));
    let mut draft = HouseholdDraft {
        household_no: HouseholdNo::parse(no).unwrap_or_else(|_| unreachable!("16+ digits")),
        division: village.code,
        household_type: if lifted {
            HouseholdType::LiftedOut
        } else {
            HouseholdType::Ordinary
        },
        lifted_out_year: lifted.then(|| rng.pick(LIFTED_OUT_YEARS)),
        monitoring_category: None,
        phone,
        address: Some(address(&village.place, group)),
        village_group: Some(VillageGroup::numbered(group as u32)),
        monitoring_outcome: Default::default(),
        income,
        out_of_pocket,
        housing_safe: Some(!rng.chance(0.005)),
        water_safe: Some(!rng.chance(0.005)),
        members,
    };
    if let Some(problem) = problem {
        problems::apply(rng, &mut draft, &county.traits, problem);
    }
    draft
}

/// `城口县葛城街道太白村3组`.
fn address(place: &str, group: i64) -> String {
    let mut s = String::with_capacity(place.len() + 6);
    s.push_str(place);
    push_digits(&mut s, group as u64, 1);
    s.push('组');
    s
}

fn person(
    rng: &mut Rng,
    county: &mut County,
    p: &Planned,
    household_ethnicity: &'static str,
    lifted: bool,
) -> (Member, Traits) {
    let born = birth_date(rng, p.age, county.today);
    let (id, born) = county.ids.allocate(rng, born, p.sex);
    let age = age_on(born, county.today);
    let (traits, education, school_status) = people::draw(rng, age, born.year(), p.sex, lifted);
    let ethnicity = if p.in_law && rng.chance(0.25) {
        rng.pick(&county.ethnic_mix)
    } else {
        household_ethnicity
    };
    let name = names::person_name(rng, p.surname, p.sex, born.year());
    let document = match traits.certificate {
        Some(d) => DocumentNumber::DisabilityCertificate(id, d),
        None => DocumentNumber::Resident(id),
    };
    let uninsured = if lifted { 0.005 } else { 0.012 };
    let member = Member {
        name,
        document,
        relation: p.relation,
        ethnicity: Some(ethnicity.to_owned()),
        education,
        school_status,
        health: traits.health(),
        labor: traits.labor,
        work_months: (traits.work_months > 0).then_some(traits.work_months),
        medical_insurance: !rng.chance(uninsured),
        dibao: Some(false),
    };
    (member, traits)
}

/// Rural dibao (农村最低生活保障), more likely without labour ability, with illness or
/// disability: usually the whole household, sometimes only its most vulnerable members.
/// Returns the number of members receiving it.
fn dibao(rng: &mut Rng, members: &mut [Member], traits: &[Traits], lifted: bool) -> usize {
    let no_full_labour = traits.iter().all(|t| !t.labor.is_full());
    let vulnerable =
        |t: &Traits| t.serious || t.disabled || t.labor == Labor::NoLabor && t.age >= 60;
    let any_vulnerable = traits.iter().any(vulnerable);
    let (base, labour, illness) = if lifted {
        (0.02, 0.06, 0.05)
    } else {
        (0.004, 0.02, 0.015)
    };
    let p = base
        + if no_full_labour { labour } else { 0.0 }
        + if any_vulnerable { illness } else { 0.0 };
    if !rng.chance(p) {
        return 0;
    }
    let whole = !any_vulnerable || rng.chance(0.7);
    let mut count = 0;
    for (m, t) in members.iter_mut().zip(traits) {
        if whole || vulnerable(t) {
            m.dibao = Some(true);
            count += 1;
        }
    }
    count
}
