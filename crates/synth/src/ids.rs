//! Resident ID numbers that are valid, unique across the registry and true to the person: the
//! address code of the county (or its legacy code for people registered before the county was
//! renamed), the birth date, and a sequence whose parity gives the sex.
//!
//! Uniqueness is by construction, not by lookup: a county's generation counts the numbers used
//! per (address code, birth date, sex), and address codes of different counties are disjoint
//! (each legacy code belongs to one county), so counties can be generated independently.

use crate::counties::{self, Legacy};
use crate::rng::{Rng, mix};
use time::Date;
use zhenxing_core::{IdNumber, Sex};

/// Sequences of one sex on one day: 1, 3, … 997 for men and 2, 4, … 998 for women (000 and 999
/// are left out, as issuing offices do).
const SLOTS: u16 = 499;
/// Coprime with 499, so slot k → (k × STRIDE + offset) mod 499 is a permutation: the sequences
/// of a day look scattered rather than 001, 003, 005.
const STRIDE: u32 = 211;
/// The earliest birth date the counters cover.
const FIRST_YEAR: i32 = 1900;

/// The share of people born before a county's renaming whose number keeps the old code.
const LEGACY_SHARE: f64 = 0.6;

pub struct IdAllocator {
    current: String,
    legacy: Option<(String, Legacy)>,
    first_day: i32,
    days: usize,
    today: Date,
    /// Numbers used per (code: current or legacy, day, sex).
    used: Vec<u16>,
}

impl IdAllocator {
    pub fn new(county: u32, today: Date) -> IdAllocator {
        let first_day = Date::from_calendar_date(FIRST_YEAR, time::Month::January, 1)
            .map(Date::to_julian_day)
            .unwrap_or(0);
        let days = (today.to_julian_day() - first_day + 1).max(1) as usize;
        IdAllocator {
            current: format!("{county:06}"),
            legacy: counties::legacy(county).map(|l| (format!("{:06}", l.code), l)),
            first_day,
            days,
            today,
            used: vec![0; days * 2 * 2],
        }
    }

    /// A new ID number for someone of `sex` born on `born` (before `today`), with the birth
    /// date it carries: if every sequence of that day is taken, a neighbouring day giving the
    /// same age is used.
    pub fn allocate(&mut self, rng: &mut Rng, born: Date, sex: Sex) -> (IdNumber, Date) {
        let use_legacy = match &self.legacy {
            Some((_, l)) => born.year() < l.current_from && rng.chance(LEGACY_SHARE),
            None => false,
        };
        let age = age_on(born, self.today);
        let julian = born.to_julian_day();
        for step in 0..800i32 {
            // 0, +1, -1, +2, -2, …
            let delta = if step % 2 == 1 {
                step / 2 + 1
            } else {
                -(step / 2)
            };
            let Ok(day) = Date::from_julian_day(julian + delta) else {
                continue;
            };
            if day > self.today || age_on(day, self.today) != age {
                continue;
            }
            if let Some(id) = self.take(day, sex, use_legacy) {
                return (id, day);
            }
        }
        // A whole year of one sex and age exhausted (~180,000 people) cannot happen at any
        // plausible scale; fall back to the other code rather than fail.
        let id = self
            .take(born, sex, !use_legacy)
            .unwrap_or_else(|| unreachable!("ID numbers exhausted for one birth date"));
        (id, born)
    }

    fn take(&mut self, day: Date, sex: Sex, legacy: bool) -> Option<IdNumber> {
        let offset = day.to_julian_day() - self.first_day;
        if offset < 0 || offset as usize >= self.days {
            return None;
        }
        let (code, code_index) = match (&self.legacy, legacy) {
            (Some((code, _)), true) => (code.as_str(), 1),
            _ => (self.current.as_str(), 0),
        };
        let sex_index = usize::from(sex == Sex::Female);
        let slot = (code_index * self.days + offset as usize) * 2 + sex_index;
        let k = self.used[slot];
        if k >= SLOTS {
            return None;
        }
        self.used[slot] = k + 1;
        let scatter = (mix(offset as u64 ^ (code_index as u64) << 40) % u64::from(SLOTS)) as u32;
        let p = (u32::from(k) * STRIDE + scatter) % u32::from(SLOTS);
        let sequence = match sex {
            Sex::Male => 1 + 2 * p,
            Sex::Female => 2 + 2 * p,
        };
        IdNumber::compose(code, day, sequence as u16)
    }
}

/// Age in whole years, as `IdNumber::age_on` counts it.
pub fn age_on(born: Date, on: Date) -> i32 {
    let mut age = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use time::macros::date;

    #[test]
    fn numbers_are_unique_with_the_right_sex_even_when_a_day_is_full() {
        let today = date!(2025 - 06 - 30);
        let mut ids = IdAllocator::new(500154, today);
        let mut rng = Rng::from_seed(5);
        let mut seen = HashSet::new();
        for i in 0..3000 {
            let sex = if i % 3 == 0 { Sex::Female } else { Sex::Male };
            let born = date!(1980 - 03 - 01);
            let (id, day) = ids.allocate(&mut rng, born, sex);
            assert_eq!(id.birth_date(), day);
            assert_eq!(id.sex(), sex);
            assert_eq!(id.age_on(today), age_on(born, today));
            assert!(["500154", "500234"].contains(&id.address_code()));
            assert!(seen.insert(id.as_str().to_owned()));
        }
        // Born after the renaming: always the current code.
        let (id, _) = ids.allocate(&mut rng, date!(2018 - 01 - 01), Sex::Male);
        assert_eq!(id.address_code(), "500154");
    }
}
