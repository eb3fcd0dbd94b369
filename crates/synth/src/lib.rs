//! The deterministic synthetic registry behind `zhenxing generate` and `zhenxing demo`.
//!
//! At scale 1 it reproduces the figures of the record (DOMAIN.md 0): 1,906,000 members of
//! households lifted out of poverty, exactly; 1,919 former poverty villages, all in the 18
//! former poverty counties; ordinary rural households besides, and a monitored caseload of
//! about 69,000 people. People, incomes and the rest follow plausible distributions, with a
//! small share of deliberate data problems for the problem lists.
//!
//! Architecture invariant: no I/O. The caller reads the divisions (from the database), asks for
//! a [`plan`], then generates and writes county by county. The same seed gives the same
//! households, byte for byte, on every machine: the random generator is the crate's own
//! ([`rng`]), each county has its own stream, and no platform maths is used.
//!
//! ```text
//! let villages = villages_from_divisions(rows);       // (DivisionCode, name) of all divisions
//! let plan = plan(&config, &villages, &former_poverty_counties)?;
//! for county in plan.counties() { write(plan.generate_county(county)) }
//! ```

mod counties;
mod family;
mod generate;
pub mod history;
mod ids;
mod income;
pub mod income_years;
mod monitoring;
mod names;
mod people;
mod plan;
mod problems;
pub mod rng;

pub use monitoring::THRESHOLD as MONITORING_THRESHOLD;
pub use plan::{
    FORMER_POVERTY_VILLAGES, LIFTED_OUT_MEMBERS, MONITORED_MEMBERS, Plan, PlanError, SynthConfig,
    VillageInput, plan, villages_from_divisions,
};
pub use problems::SHARE as PROBLEM_SHARE;
