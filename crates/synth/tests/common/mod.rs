//! The division table of Chongqing for the tests: `data/divisions.csv` of the repository, or
//! the shared 2023 table with the county list when that file is not there yet.

#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;
use time::Date;
use time::macros::date;
use zhenxing_core::{DivisionCode, Household};
use zhenxing_synth::{Plan, SynthConfig, VillageInput, plan, villages_from_divisions};

pub const TODAY: Date = date!(2025 - 06 - 30);

pub struct Chongqing {
    pub villages: Vec<VillageInput>,
    pub former_poverty_counties: Vec<DivisionCode>,
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn load() -> Chongqing {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut rows: Vec<(DivisionCode, String)> = Vec::new();
    let mut poverty = Vec::new();
    // The division list the product ships (data/divisions.csv, copied from the project's
    // reference data; a checkout has nothing beside it to fall back on).
    let text = read(&root.join("data/divisions.csv")).expect("data/divisions.csv");
    // code,name_zh,name_en,kind,former_poverty
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
        let c = code(f[0]);
        if f.last().is_some_and(|p| !p.is_empty()) && f[3] == "county" {
            poverty.push(c);
        }
        rows.push((c, f[1].to_owned()));
    }
    assert_eq!(poverty.len(), 18, "the 18 former poverty counties");
    Chongqing {
        villages: villages_from_divisions(rows.iter().map(|(c, n)| (*c, n.as_str()))),
        former_poverty_counties: poverty,
    }
}

pub fn chongqing() -> &'static Chongqing {
    static DATA: OnceLock<Chongqing> = OnceLock::new();
    DATA.get_or_init(load)
}

pub fn plan_at(scale: f64, seed: u64) -> Plan {
    let cq = chongqing();
    plan(
        &SynthConfig::new(scale, seed, TODAY),
        &cq.villages,
        &cq.former_poverty_counties,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

pub fn generate_all(plan: &Plan) -> Vec<Household> {
    plan.counties()
        .iter()
        .flat_map(|c| plan.generate_county(c))
        .collect()
}

/// Every field of a household in one line, for hashing.
pub fn render(h: &Household) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = write!(
        s,
        "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}",
        h.household_no,
        h.division,
        h.household_type,
        h.lifted_out_year,
        h.monitoring_category,
        h.phone.as_ref().map(|p| p.as_str()),
        h.address,
        h.income.as_array(),
        h.out_of_pocket,
        h.housing_safe,
        h.water_safe
    );
    for m in &h.members {
        let _ = write!(
            s,
            "|{},{},{:?},{:?},{:?},{:?},{},{:?},{:?},{},{:?}",
            m.name,
            m.document.to_column(),
            m.relation,
            m.ethnicity,
            m.education,
            m.school_status,
            m.health.to_zh(),
            m.labor,
            m.work_months,
            m.medical_insurance,
            m.dibao
        );
    }
    s
}

/// FNV-1a over the renderings of all households.
pub fn fingerprint(households: &[Household]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for h in households {
        for b in render(h).bytes().chain([b'\n']) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}
