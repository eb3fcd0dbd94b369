//! The monitoring pass as the command line and the web application run it, written once:
//! load the registry (or a division) through the store's loaders into a [`Snapshot`], evaluate
//! the rule set in force, write the outcome with the store's `apply_screening`; and the what-if
//! counts, grouped by county, township or village, with the divisions' names.
//!
//! It moved here from `zhenxing-engine` (issue 16) so that the engine stays pure (no I/O, no
//! database, no dependency on `zhenxing-store`) and can be timed and tested alone: this module
//! orchestrates the store's functions and the engine's evaluation, and holds no SQL. Callers see the pass through a progress callback
//! ([`Progress`]): the CLI draws its progress bar from it, the web application its status line.

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::Date;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::monitoring::CHONGQING;
use zhenxing_core::{DivisionCode, DivisionLevel, Fen, Text, text};
use zhenxing_engine::{
    HouseholdColumns, HouseholdInput, MemberColumns, MemberInput, Snapshot, WhatIfCounts,
};
use zhenxing_store::monitoring::{self, RunSummary, ScreeningResult, ScreeningRun, StoredRuleSet};
use zhenxing_store::{Db, StoreError};

/// Why a pass stopped: a reason in words (an unknown division, no rule set in force, a stored
/// value zhenxing cannot read), or the database.
#[derive(Debug)]
pub enum PassError {
    Stopped(Text),
    Store(StoreError),
}

impl fmt::Display for PassError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassError::Stopped(t) => t.fmt(f),
            PassError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PassError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PassError::Stopped(t) => Some(t),
            PassError::Store(e) => Some(e),
        }
    }
}

impl From<StoreError> for PassError {
    fn from(e: StoreError) -> Self {
        PassError::Store(e)
    }
}

/// The step a pass is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading households and members; `done` and `total` count rows.
    Loading,
    /// Classifying; `total` is the number of households.
    Evaluating,
    /// Writing the warnings in one transaction; `total` is the households that raise one.
    Writing,
}

/// Where a pass is: its phase, and how far into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

/// A callback that hears the pass's progress (from the task running the pass).
pub type OnProgress<'a> = &'a (dyn Fn(Progress) + Sync);

/// For callers that do not show progress.
pub fn no_progress(_: Progress) {}

/// Rows between two progress reports while loading.
const TICK: u64 = 8_192;

/// A proposed threshold as typed (yuan): a non-negative amount above 0.
pub fn parse_threshold(input: &str) -> Result<Fen, Text> {
    let value = Fen::parse_non_negative(input).map_err(|e| e.text())?;
    if value.0 == 0 {
        return Err(text!(
            "监测范围须大于0元",
            "the threshold must be above 0 yuan"
        ));
    }
    Ok(value)
}

/// Refuses a division that is not in the registry's division table.
pub async fn check_scope(db: &Db, scope: Option<&DivisionCode>) -> Result<(), PassError> {
    if let Some(code) = scope
        && db.division(code).await?.is_none()
    {
        let c = code.as_str();
        return Err(PassError::Stopped(text!(
            "区划{c}不在登记库中",
            "division {c} is not in the registry"
        )));
    }
    Ok(())
}

/// The year the rule sets are looked up for when none is given: this year (Beijing).
pub fn this_year() -> u16 {
    u16::try_from(today_in_china().year()).unwrap_or(0)
}

/// The rule set in force in `year` (this year by default) for Chongqing: the latest version
/// of the latest year not after it.
pub async fn rule_set_in_force(db: &Db, year: Option<u16>) -> Result<StoredRuleSet, PassError> {
    let year = year.unwrap_or_else(this_year);
    monitoring::current_rule_set(db, CHONGQING, year)
        .await?
        .ok_or_else(|| {
            PassError::Stopped(text!(
                "{year}年度及以前没有适用于重庆市（{CHONGQING}）的规则集；请先添加规则集（zhenxing monitor rules add，或网页“监测预警”中的“新版本”）",
                "there is no rule set for Chongqing ({CHONGQING}) in force in {year}; add one first (zhenxing monitor rules add, or \"new version\" on the monitoring page)"
            ))
        })
}

/// Streams the registry (or a division) into a snapshot, with the members when
/// `with_members` and each household's per-capita net income of `previous_year` (from the
/// store's `household_incomes`, in the same scan) when given; the two scans run side by side.
pub async fn load(
    db: &Db,
    scope: Option<&DivisionCode>,
    with_members: bool,
    previous_year: Option<i32>,
    progress: OnProgress<'_>,
) -> Result<Snapshot, PassError> {
    let stats = db.stats(scope).await?;
    let households_expected = usize::try_from(stats.households).unwrap_or(0);
    let members_expected = if with_members {
        usize::try_from(stats.members).unwrap_or(0)
    } else {
        0
    };
    let total = (households_expected + members_expected) as u64;
    progress(Progress {
        phase: Phase::Loading,
        done: 0,
        total,
    });
    let done = AtomicU64::new(0);
    let step = |n: &mut u64| {
        *n += 1;
        if n.is_multiple_of(TICK) {
            let d = done.fetch_add(TICK, Ordering::Relaxed) + TICK;
            progress(Progress {
                phase: Phase::Loading,
                done: d.min(total),
                total,
            });
        }
    };
    let mut households = HouseholdColumns::with_capacity(households_expected);
    let mut members = MemberColumns::with_capacity(members_expected);
    let mut household_error: Option<Text> = None;
    let mut member_error: Option<Text> = None;
    let mut hn = 0u64;
    let households_future = monitoring::load_households(db, scope, previous_year, |h| {
        step(&mut hn);
        if household_error.is_some() {
            return;
        }
        if let Err(e) = households.push(HouseholdInput {
            id: h.id,
            household_no: h.household_no,
            division_code: h.division_code,
            household_type: h.household_type,
            member_count: h.member_count,
            per_capita_net_income: h.per_capita_net_income,
            previous_per_capita_net_income: h.previous_per_capita_net_income,
            out_of_pocket: h.out_of_pocket,
            housing_safe: h.housing_safe,
            water_safe: h.water_safe,
        }) {
            household_error = Some(e);
        }
    });
    let mut mn = 0u64;
    let members_future = async {
        if !with_members {
            return Ok(0);
        }
        monitoring::load_members(db, scope, |m| {
            step(&mut mn);
            if member_error.is_some() {
                return;
            }
            if let Err(e) = members.push(MemberInput {
                household_id: m.household_id,
                birth_date: m.birth_date,
                school_status: m.school_status,
                health: m.health,
                labor: m.labor,
                medical_insurance: m.medical_insurance,
            }) {
                member_error = Some(e);
            }
        })
        .await
    };
    tokio::try_join!(households_future, members_future)?;
    if let Some(e) = household_error.or(member_error) {
        return Err(PassError::Stopped(e));
    }
    progress(Progress {
        phase: Phase::Loading,
        done: total,
        total,
    });
    Ok(if with_members {
        Snapshot::assemble(households, members)
    } else {
        Snapshot::households_only(households)
    })
}

/// What a screening run did, and how long each step took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screening {
    pub summary: RunSummary,
    /// Households that raise a warning.
    pub warned: u64,
    pub load_time: Duration,
    pub evaluate_time: Duration,
    pub write_time: Duration,
}

/// A full screening run over the registry or a division (which the caller has checked with
/// [`check_scope`]): load (with last year's incomes: the year before `today`'s), evaluate
/// `rule_set` with ages counted on `today`, and write the warnings in one transaction
/// (`apply_screening`: all of it or none of it).
pub async fn screen(
    db: &Db,
    rule_set: &StoredRuleSet,
    scope: Option<&DivisionCode>,
    actor: &str,
    today: Date,
    progress: OnProgress<'_>,
) -> Result<Screening, PassError> {
    let started = Instant::now();
    let snapshot = load(db, scope, true, Some(today.year() - 1), progress).await?;
    let load_time = started.elapsed();

    progress(Progress {
        phase: Phase::Evaluating,
        done: 0,
        total: snapshot.len() as u64,
    });
    let started = Instant::now();
    let prepared = rule_set.rules.prepare(today);
    let found = zhenxing_engine::evaluate(&snapshot, &prepared);
    let evaluate_time = started.elapsed();

    progress(Progress {
        phase: Phase::Writing,
        done: 0,
        total: found.len() as u64,
    });
    let started = Instant::now();
    let h = &snapshot.households;
    let results: Vec<ScreeningResult> = found
        .par_iter()
        .filter_map(|(i, a)| {
            let i = *i as usize;
            ScreeningResult::new(h.household_no(i), &h.division_code(i), a)
        })
        .collect();
    let run = ScreeningRun {
        rule_set,
        scope,
        evaluated: snapshot.len() as u64,
        actor,
    };
    let summary = monitoring::apply_screening(db, &run, results).await?;
    let write_time = started.elapsed();
    tracing::info!(
        households = summary.evaluated,
        warnings = found.len(),
        load_ms = load_time.as_millis() as u64,
        evaluate_ms = evaluate_time.as_millis() as u64,
        write_ms = write_time.as_millis() as u64,
        "monitor run"
    );
    Ok(Screening {
        summary,
        warned: found.len() as u64,
        load_time,
        evaluate_time,
        write_time,
    })
}

/// A household whose side of the threshold changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub household_no: String,
    /// The village's 12-digit code.
    pub village: String,
    pub per_capita_net_income: Fen,
    /// At or below the proposed threshold and above the current one (else leaving).
    pub entering: bool,
}

/// What-if counts of a division, by village, with the snapshot they came from.
#[derive(Debug, Clone)]
pub struct WhatIf {
    pub current: Fen,
    pub proposed: Fen,
    /// By the number of the village's code.
    pub by_village: BTreeMap<u64, WhatIfCounts>,
    pub total: WhatIfCounts,
    /// Every division of the division table under the scope (code number, level): each of them
    /// appears in [`WhatIf::by`], with zeros where it has no household (渝中区 has no village).
    divisions: Vec<(u64, DivisionLevel)>,
    snapshot: Snapshot,
}

/// The number that divides a village's code down to its ancestor at `level`.
fn level_divisor(level: DivisionLevel) -> u64 {
    match level {
        DivisionLevel::Province => 10_000_000_000,
        DivisionLevel::County => 1_000_000,
        DivisionLevel::Township => 1_000,
        DivisionLevel::Village => 1,
    }
}

/// The level just below `level` (a village for a village).
pub fn child_level(level: DivisionLevel) -> DivisionLevel {
    match level {
        DivisionLevel::Province => DivisionLevel::County,
        DivisionLevel::County => DivisionLevel::Township,
        DivisionLevel::Township | DivisionLevel::Village => DivisionLevel::Village,
    }
}

impl WhatIf {
    /// The counts by division at `level` (by the number of its code): the villages' counts
    /// added up under their county, township or (for `Village`) themselves; every division of
    /// the level under the scope, with zeros where it has no household.
    pub fn by(&self, level: DivisionLevel) -> BTreeMap<u64, WhatIfCounts> {
        let d = level_divisor(level);
        let mut out: BTreeMap<u64, WhatIfCounts> = self
            .divisions
            .iter()
            .filter(|(_, l)| *l == level)
            .map(|(code, _)| (*code, WhatIfCounts::default()))
            .collect();
        for (v, c) in &self.by_village {
            out.entry(v / d * d).or_default().add(c);
        }
        out
    }

    /// The households entering or leaving the monitoring range, by village and household
    /// number.
    pub fn changes(&self) -> Vec<Change> {
        let h = &self.snapshot.households;
        let mut out: Vec<Change> =
            zhenxing_engine::whatif_changes(&self.snapshot, self.current, self.proposed)
                .into_iter()
                .map(|(i, entering)| {
                    let i = i as usize;
                    Change {
                        household_no: h.household_no(i).to_owned(),
                        village: h.division_code(i),
                        per_capita_net_income: Fen(h.per_capita_net_income[i]),
                        entering,
                    }
                })
                .collect();
        out.sort_by(|a, b| (&a.village, &a.household_no).cmp(&(&b.village, &b.household_no)));
        out
    }
}

/// How many households and people of a division (all when `None`) are at or below `proposed`,
/// and which would enter or leave the monitoring range compared with `current`. Reads only.
pub async fn whatif(
    db: &Db,
    scope: Option<&DivisionCode>,
    current: Fen,
    proposed: Fen,
    progress: OnProgress<'_>,
) -> Result<WhatIf, PassError> {
    let snapshot = load(db, scope, false, None, progress).await?;
    let by_village = zhenxing_engine::whatif(&snapshot, current, proposed);
    let mut total = WhatIfCounts::default();
    for c in by_village.values() {
        total.add(c);
    }
    let divisions = db
        .division_names()
        .await?
        .into_iter()
        .filter(|(code, _)| scope.is_none_or(|s| code.is_within(s)))
        .filter_map(|(code, _)| Some((code.as_str().parse().ok()?, code.level())))
        .collect();
    Ok(WhatIf {
        current,
        proposed,
        by_village,
        total,
        divisions,
        snapshot,
    })
}

/// A division's counts with its code and names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub code: String,
    /// Empty when the division is not in the division table.
    pub name_zh: String,
    pub name_en: String,
    pub counts: WhatIfCounts,
}

/// The counts of [`WhatIf::by`] with each division's code and names, in code order.
pub async fn named(db: &Db, counts: &BTreeMap<u64, WhatIfCounts>) -> Result<Vec<Named>, PassError> {
    let mut out = Vec::with_capacity(counts.len());
    for (code, c) in counts {
        let code = format!("{code:012}");
        let (name_zh, name_en) = match DivisionCode::parse(&code) {
            Ok(parsed) => match db.division(&parsed).await? {
                Some(d) => (d.name_zh, d.name_en),
                None => (String::new(), String::new()),
            },
            Err(_) => (String::new(), String::new()),
        };
        out.push(Named {
            code,
            name_zh,
            name_en,
            counts: *c,
        });
    }
    Ok(out)
}
