//! The attributes of one person: health, schooling or education, labour ability, work away from
//! home. Each is drawn conditional on age (and on whether the household was registered poor),
//! and always so that the consistency checks of `zhenxing_core::checks` find nothing: students
//! have a school status and no education, 7 to 15 year olds are in compulsory school, people of
//! 60 and more are never ordinary or skilled labour, healthy working-age adults out of school
//! always are, and only people with some labour ability work away.

use crate::rng::Rng;
use zhenxing_core::{Disability, Education, Health, HealthCondition, Labor, SchoolStatus, Sex};

/// What income and monitoring need to know about a person, besides the member record.
#[derive(Debug, Clone, Copy)]
pub struct Traits {
    pub age: i32,
    pub labor: Labor,
    pub chronic: bool,
    pub serious: bool,
    pub disabled: bool,
    pub certificate: Option<Disability>,
    pub student: bool,
    pub work_months: u8,
}

impl Traits {
    pub fn health(&self) -> Health {
        let mut conditions = [HealthCondition::Healthy; 3];
        let mut n = 0;
        for (flag, condition) in [
            (self.chronic, HealthCondition::Chronic),
            (self.serious, HealthCondition::SeriousIllness),
            (self.disabled, HealthCondition::Disabled),
        ] {
            if flag {
                conditions[n] = condition;
                n += 1;
            }
        }
        if n == 0 {
            Health::HEALTHY
        } else {
            Health::from_conditions(&conditions[..n])
        }
    }

    pub fn healthy(&self) -> bool {
        !(self.chronic || self.serious || self.disabled)
    }
}

/// Draws a person's traits and schooling. `lifted` is true in households lifted out of poverty,
/// where illness and disability are more frequent (they were the main causes of poverty).
pub fn draw(
    rng: &mut Rng,
    age: i32,
    birth_year: i32,
    sex: Sex,
    lifted: bool,
) -> (Traits, Option<Education>, Option<SchoolStatus>) {
    let (chronic, serious, disabled) = health(rng, age, lifted);
    let certificate = if disabled && rng.chance(0.75) {
        Some(disability(rng))
    } else {
        None
    };
    let school = school_status(rng, age, lifted);
    let student = school.is_some_and(SchoolStatus::is_enrolled) && age >= 3;
    let education = match school {
        Some(_) => None,
        None => Some(education(rng, birth_year, sex, lifted, disabled)),
    };
    let mut traits = Traits {
        age,
        labor: Labor::NoLabor,
        chronic,
        serious,
        disabled,
        certificate,
        student,
        work_months: 0,
    };
    traits.labor = labor(rng, &traits, education);
    traits.work_months = work_months(rng, &traits);
    (traits, education, school)
}

fn health(rng: &mut Rng, age: i32, lifted: bool) -> (bool, bool, bool) {
    let (chronic, serious, disabled) = match age {
        ..=15 => (0.01, 0.003, 0.02),
        16..=44 => (0.05, 0.01, 0.045),
        45..=59 => (0.16, 0.025, 0.07),
        60..=74 => (0.32, 0.04, 0.09),
        _ => (0.42, 0.05, 0.12),
    };
    let factor = if lifted { 1.0 } else { 0.55 };
    (
        rng.chance(chronic * factor * if lifted { 1.15 } else { 1.6 }),
        rng.chance(serious * factor * if lifted { 1.0 } else { 1.5 }),
        rng.chance(disabled * factor),
    )
}

fn disability(rng: &mut Rng) -> Disability {
    // Category shares of China's disabled population: physical disability is the largest group.
    let category = rng.pick(&[(12, 1u8), (15, 2), (2, 3), (48, 4), (8, 5), (9, 6), (6, 7)]);
    let level = rng.pick(&[(10, 1u8), (25, 2), (30, 3), (35, 4)]);
    Disability { category, level }
}

/// `None` for people out of school (who get an education level instead).
fn school_status(rng: &mut Rng, age: i32, lifted: bool) -> Option<SchoolStatus> {
    use SchoolStatus::*;
    let status = match age {
        ..=2 => PreschoolAge,
        3..=5 => {
            if rng.chance(0.85) {
                Preschool
            } else {
                PreschoolAge
            }
        }
        6 => {
            if rng.chance(0.6) {
                Primary
            } else {
                Preschool
            }
        }
        7..=11 => Primary,
        12 => {
            if rng.chance(0.5) {
                Primary
            } else {
                Grade7
            }
        }
        13 => {
            if rng.chance(0.5) {
                Grade7
            } else {
                Grade8
            }
        }
        14 => {
            if rng.chance(0.5) {
                Grade8
            } else {
                Grade9
            }
        }
        15 => {
            if rng.chance(0.7) {
                Grade9
            } else {
                Grade8
            }
        }
        16..=18 => {
            if !rng.chance(if lifted { 0.8 } else { 0.86 }) {
                return None;
            }
            if age == 18 && rng.chance(0.4) {
                if rng.chance(0.5) {
                    HigherVocational
                } else {
                    Undergraduate
                }
            } else if rng.chance(0.6) {
                SeniorHigh
            } else {
                SecondaryVocational
            }
        }
        19..=22 => {
            if !rng.chance(if lifted { 0.38 } else { 0.45 }) {
                return None;
            }
            rng.pick(&[
                (45, Undergraduate),
                (45, HigherVocational),
                (10, TechnicianCollege),
            ])
        }
        23..=26 => {
            if !rng.chance(0.04) {
                return None;
            }
            if rng.chance(0.5) {
                Postgraduate
            } else {
                Undergraduate
            }
        }
        _ => return None,
    };
    Some(status)
}

fn education(rng: &mut Rng, birth_year: i32, sex: Sex, lifted: bool, disabled: bool) -> Education {
    use Education::*;
    // Weights of illiterate, primary, junior, senior, college, bachelor by birth cohort.
    let mut w: [u32; 6] = match birth_year {
        ..=1954 => [40, 45, 12, 3, 0, 0],
        1955..=1969 => [14, 45, 31, 8, 2, 0],
        1970..=1984 => [4, 30, 50, 12, 3, 1],
        1985..=1999 => [1, 10, 50, 20, 12, 7],
        _ => [1, 3, 42, 28, 18, 8],
    };
    if sex == Sex::Female && birth_year < 1975 {
        w[0] += w[0] / 2 + 2;
    }
    if lifted {
        w[0] += w[0] / 3;
        w[4] -= w[4] / 3;
        w[5] -= w[5] / 2;
    }
    if disabled {
        w[0] += 20;
    }
    [
        Illiterate,
        Primary,
        JuniorSecondary,
        SeniorSecondary,
        College,
        BachelorOrAbove,
    ][rng.weighted(&w)]
}

fn labor(rng: &mut Rng, t: &Traits, education: Option<Education>) -> Labor {
    use Labor::*;
    if t.age < 16 || t.student {
        return NoLabor;
    }
    if t.age >= 60 {
        let table: &[(u32, Labor)] = match (t.age, t.healthy()) {
            (60..=69, true) => &[(80, Weak), (8, Lost), (12, NoLabor)],
            (60..=69, false) => &[(45, Weak), (35, Lost), (20, NoLabor)],
            (70..=79, true) => &[(50, Weak), (10, Lost), (40, NoLabor)],
            (70..=79, false) => &[(20, Weak), (40, Lost), (40, NoLabor)],
            _ => &[(5, Weak), (25, Lost), (70, NoLabor)],
        };
        return rng.pick(table);
    }
    let skilled_share = match education {
        Some(Education::College | Education::BachelorOrAbove) => 0.35,
        Some(Education::SeniorSecondary) => 0.18,
        _ => 0.08,
    };
    let full = if rng.chance(skilled_share) {
        Skilled
    } else {
        Ordinary
    };
    if t.healthy() {
        return full;
    }
    // The worst condition decides.
    if t.serious {
        rng.pick(&[(10, full), (45, Weak), (45, Lost)])
    } else if t.disabled {
        let severe = t.certificate.is_some_and(|d| d.level <= 2);
        if severe {
            rng.pick(&[(25, Weak), (50, Lost), (25, NoLabor)])
        } else {
            rng.pick(&[(20, full), (55, Weak), (20, Lost), (5, NoLabor)])
        }
    } else {
        rng.pick(&[(62, full), (35, Weak), (3, Lost)])
    }
}

/// Months of work away from home; 0 for people who stay.
fn work_months(rng: &mut Rng, t: &Traits) -> u8 {
    let p = match (t.labor, t.age) {
        (Labor::Ordinary | Labor::Skilled, 18..=49) => 0.58,
        (Labor::Ordinary | Labor::Skilled, 16..=17 | 50..=59) => 0.32,
        (Labor::Weak, 16..=64) => 0.1,
        _ => 0.0,
    };
    if !rng.chance(p) {
        return 0;
    }
    let (lo, hi) = rng.pick(&[(60, (10, 12)), (30, (6, 9)), (10, (1, 5))]);
    rng.range(lo, hi) as u8
}
