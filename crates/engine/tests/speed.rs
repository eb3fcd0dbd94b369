#![allow(clippy::unwrap_used)]
//! Evaluation alone over a synthetic snapshot of the full demo scale (about a million
//! households, 2.9 million members), timed. Ignored: no test asserts on time. Run it with
//! `cargo test -p zhenxing-engine --release --test speed -- --ignored --nocapture`.

use std::time::Instant;
use time::macros::date;
use zhenxing_core::monitoring::builtin;
use zhenxing_engine::{HouseholdColumns, HouseholdInput, MemberColumns, MemberInput, Snapshot};

const HOUSEHOLDS: i64 = 1_000_000;

fn snapshot() -> Snapshot {
    let mut h = HouseholdColumns::with_capacity(HOUSEHOLDS as usize);
    let mut m = MemberColumns::with_capacity(3 * HOUSEHOLDS as usize);
    let labors = ["ordinary", "skilled", "weak", "lost", "none"];
    let births = [
        "1950-03-01",
        "1978-07-15",
        "1985-01-30",
        "2014-09-09",
        "2019-12-31",
    ];
    for id in 1..=HOUSEHOLDS {
        // A spread of incomes around the threshold and a few of each trigger.
        let no = format!("H{id:08}");
        let village = format!("500229{:03}{:03}", 100 + id % 30, 200 + id % 40);
        h.push(HouseholdInput {
            id,
            household_no: &no,
            division_code: &village,
            household_type: if id % 3 == 0 {
                "ordinary"
            } else {
                "lifted_out"
            },
            member_count: 1 + id % 5,
            per_capita_net_income: 300_000 + (id * 7_919) % 2_000_000,
            // Last year's figure for most households, a third higher for one in 29.
            previous_per_capita_net_income: (id % 7 != 0).then(|| {
                let now = 300_000 + (id * 7_919) % 2_000_000;
                if id % 29 == 0 {
                    now * 4 / 3
                } else {
                    now * 19 / 20
                }
            }),
            out_of_pocket: if id % 37 == 0 { 800_000 } else { 0 },
            housing_safe: Some(id % 101 != 0),
            water_safe: Some(id % 103 != 0),
        })
        .unwrap();
        for k in 0..(1 + id % 5) {
            let j = ((id + k) % 5) as usize;
            m.push(MemberInput {
                household_id: id,
                birth_date: births[j],
                school_status: if j == 3 && id % 50 != 0 {
                    Some("primary")
                } else {
                    None
                },
                health: if id % 29 == 0 { "disabled" } else { "healthy" },
                labor: labors[j],
                medical_insurance: id % 97 != 0,
            })
            .unwrap();
        }
    }
    Snapshot::assemble(h, m)
}

#[test]
#[ignore]
fn evaluation_over_a_million_households() {
    let started = Instant::now();
    let s = snapshot();
    let built = started.elapsed();
    let rules = builtin().remove(0);
    let prepared = rules.prepare(date!(2026 - 11 - 29));
    let mut best = f64::MAX;
    let mut warnings = 0;
    for _ in 0..5 {
        let t = Instant::now();
        warnings = zhenxing_engine::evaluate(&s, &prepared).len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    let villages =
        zhenxing_engine::whatif(&s, zhenxing_core::Fen(600_000), zhenxing_core::Fen(750_000)).len();
    let whatif = t.elapsed().as_secs_f64();
    println!(
        "{} households: snapshot built in {:.3} s; evaluate best of 5 {:.1} ms ({warnings} warnings); what-if {:.1} ms ({villages} villages); {} rayon threads",
        s.len(),
        built.as_secs_f64(),
        best * 1e3,
        whatif * 1e3,
        rayon::current_num_threads()
    );
    assert!(warnings > 0);
}
