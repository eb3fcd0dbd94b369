//! Figures for any division (issue 6 item 1): households and members by type, monitored
//! households by category, risk status and risk type, warnings by status and age, open and
//! overdue cases, measures, coverage findings, the income distribution against the threshold,
//! and the seed figures.
//!
//! Every figure is a sum of village leaves ([`village_figures`], in `rollups/leaves.rs`: one
//! `GROUP BY division_code` per source table over the division's code range), added with
//! [`Figures::add`]. [`division_figures`] reads them now; `figure_cache` keeps them between
//! requests and re-reads only the villages that the audit chain says were written
//! (docs/decisions/0014). No write path maintains anything for these figures beyond the
//! village counts `registry` already kept.
//!
//! Children add up to their parent, figure by figure ([`Figures::entries`]), with one
//! exception: the count of former poverty counties, which is a property of a county and is zero
//! for every township.

mod leaves;

pub(crate) use leaves::threshold;
pub use leaves::{Leaves, village_figures};

use crate::browse::code_range;
use crate::coverage;
use crate::{Db, Result, StoreError, on_pool};
use serde::Serialize;
use time::Date;
use zhenxing_core::assistance::{MeasureCategory, MeasureStatus};
use zhenxing_core::coverage::CoverageRule;
use zhenxing_core::monitoring::RiskType;
use zhenxing_core::poverty::{AfSpec, AfSums, FgtSums};
use zhenxing_core::procedure::{CaseKind, Stage};
use zhenxing_core::warning::{WarningKind, WarningStatus};
use zhenxing_core::{DivisionCode, DivisionLevel, MonitoringCategory};

/// Households and their members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    pub households: i64,
    pub members: i64,
}

impl Count {
    fn add(&mut self, households: i64, members: i64) {
        self.households += households;
        self.members += members;
    }

    fn add_count(&mut self, o: Count) {
        self.add(o.households, o.members);
    }
}

/// The figures of the record (STORIES.md 7: "1,906,000 people, 1,919 villages, 18 counties").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeedFigures {
    pub lifted_out_members: i64,
    pub former_poverty_villages: i64,
    /// 1 or 0 for a county; 0 below it.
    pub former_poverty_counties: i64,
}

/// Monitored households by where their risk stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RiskStatus {
    pub not_eliminated: Count,
    pub eliminated_by_assistance: Count,
    pub eliminated_naturally: Count,
    /// Eliminated before zhenxing kept records, without a recorded method (an import).
    pub eliminated_method_unknown: Count,
}

impl RiskStatus {
    /// All eliminated, whatever the method.
    pub fn eliminated(&self) -> Count {
        let mut c = self.eliminated_by_assistance;
        c.add(
            self.eliminated_naturally.households,
            self.eliminated_naturally.members,
        );
        c.add(
            self.eliminated_method_unknown.households,
            self.eliminated_method_unknown.members,
        );
        c
    }
}

/// The age bands of active warnings, in days since they were opened.
pub const WARNING_AGE_BANDS: [(i64, Option<i64>, &str, &str); 4] = [
    (0, Some(7), "0–7天", "0–7 days"),
    (8, Some(30), "8–30天", "8–30 days"),
    (31, Some(90), "31–90天", "31–90 days"),
    (91, None, "90天以上", "over 90 days"),
];

/// The lower edges of the income buckets in yuan; the first bucket is "below 0" and the last
/// is open above.
pub const INCOME_EDGES_YUAN: [i64; 10] = [
    0, 2_000, 4_000, 6_000, 8_000, 10_000, 15_000, 20_000, 30_000, 50_000,
];

/// One bucket of per-capita net income: `from_yuan <= income < to_yuan` (`None`: unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IncomeBucket {
    pub from_yuan: Option<i64>,
    pub to_yuan: Option<i64>,
    pub count: Count,
}

impl IncomeBucket {
    /// The bucket's label, e.g. `2,000–4,000`, `< 0`, `≥ 50,000` (yuan).
    pub fn label(&self) -> String {
        match (self.from_yuan, self.to_yuan) {
            (None, Some(to)) => format!("< {}", thousands(to)),
            (Some(from), None) => format!("≥ {}", thousands(from)),
            (Some(from), Some(to)) => format!("{}–{}", thousands(from), thousands(to)),
            (None, None) => "—".to_owned(),
        }
    }
}

/// `12345` → `12,345`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Per-capita net income of all households against the threshold of the rule set in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncomeDistribution {
    /// The threshold in fen; `None` when no rule set is in force (then nothing is counted at or
    /// below it).
    pub threshold_fen: Option<i64>,
    pub buckets: Vec<IncomeBucket>,
    pub at_or_below_threshold: Count,
}

/// Everything the dashboard and the report tables show for one division on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub division: DivisionCode,
    pub today: Date,
    pub seed: SeedFigures,
    pub lifted_out: Count,
    pub ordinary: Count,
    pub monitored: Count,
    /// In the order of `MonitoringCategory::ALL`.
    pub monitored_by_category: Vec<(MonitoringCategory, Count)>,
    pub risk_status: RiskStatus,
    /// Monitored households (and members) with each risk type; a household with two risks
    /// counts under both, so these do not add up to the monitored total.
    pub risk_types: Vec<(RiskType, Count)>,
    /// Monitored households without any recorded risk type (monitored before zhenxing).
    pub risk_types_unrecorded: Count,
    /// All warnings by status, in the order of `WarningStatus::ALL`.
    pub warnings_by_status: Vec<(WarningStatus, i64)>,
    /// Active warnings (new, assigned) by age, in the bands of [`WARNING_AGE_BANDS`].
    pub active_warnings_by_age: [i64; 4],
    /// Warnings by kind, in the order of `WarningKind::ALL`: all of them, and the active ones
    /// (leads for identification apart from new risks of monitored households).
    pub warnings_by_kind: Vec<(WarningKind, i64, i64)>,
    /// Open cases by kind and every stage that is not final, in the order of the enums.
    pub open_cases: Vec<(CaseKind, Stage, i64)>,
    /// Open identification cases at an undecided stage past their due day.
    pub overdue_cases: i64,
    /// Measures by category and status (every pair, in the order of the enums): count and the
    /// sum of their amounts in fen.
    pub measures: Vec<(MeasureCategory, MeasureStatus, i64, i64)>,
    pub coverage: coverage::Counts,
    pub income: IncomeDistribution,
    /// The FGT sums against the threshold in force (empty when none is): the measures of the
    /// division are `poverty.measures(threshold)`.
    pub poverty: FgtSums,
    /// The sums of the domain's Alkire–Foster index (`AfSpec::domain()`) against the same
    /// threshold: `multidimensional.measures(&AfSpec::domain())`.
    pub multidimensional: AfSums,
}

impl Figures {
    /// All figures zero (every enum value present, in order), for a division on a day.
    pub fn empty(division: DivisionCode, today: Date, threshold_fen: Option<i64>) -> Figures {
        Figures {
            division,
            today,
            seed: SeedFigures::default(),
            lifted_out: Count::default(),
            ordinary: Count::default(),
            monitored: Count::default(),
            monitored_by_category: MonitoringCategory::ALL
                .iter()
                .map(|c| (*c, Count::default()))
                .collect(),
            risk_status: RiskStatus::default(),
            risk_types: RiskType::ALL
                .iter()
                .map(|r| (*r, Count::default()))
                .collect(),
            risk_types_unrecorded: Count::default(),
            warnings_by_status: WarningStatus::ALL.iter().map(|s| (*s, 0)).collect(),
            active_warnings_by_age: [0; 4],
            warnings_by_kind: WarningKind::ALL.iter().map(|k| (*k, 0, 0)).collect(),
            open_cases: CaseKind::ALL
                .iter()
                .flat_map(|k| {
                    Stage::ALL
                        .iter()
                        .filter(|s| !s.is_final())
                        .map(move |s| (*k, *s, 0))
                })
                .collect(),
            overdue_cases: 0,
            measures: MeasureCategory::ALL
                .iter()
                .flat_map(|c| MeasureStatus::ALL.iter().map(move |s| (*c, *s, 0, 0)))
                .collect(),
            coverage: coverage::Counts::new(),
            income: IncomeDistribution {
                threshold_fen,
                buckets: (0..=INCOME_EDGES_YUAN.len())
                    .map(|i| IncomeBucket {
                        from_yuan: i
                            .checked_sub(1)
                            .and_then(|j| INCOME_EDGES_YUAN.get(j).copied()),
                        to_yuan: INCOME_EDGES_YUAN.get(i).copied(),
                        count: Count::default(),
                    })
                    .collect(),
                at_or_below_threshold: Count::default(),
            },
            poverty: FgtSums::default(),
            multidimensional: AfSums::new(&AfSpec::domain()),
        }
    }

    /// Adds `o`'s figures to these, figure by figure. Both come from [`Figures::empty`], so
    /// their lists hold the same keys in the same order. The division, the day and the
    /// threshold stay this one's.
    pub fn add(&mut self, o: &Figures) {
        fn counts<K>(into: &mut [(K, Count)], from: &[(K, Count)]) {
            for (a, b) in into.iter_mut().zip(from) {
                a.1.add(b.1.households, b.1.members);
            }
        }
        let seed = &mut self.seed;
        seed.lifted_out_members += o.seed.lifted_out_members;
        seed.former_poverty_villages += o.seed.former_poverty_villages;
        seed.former_poverty_counties += o.seed.former_poverty_counties;
        self.lifted_out.add_count(o.lifted_out);
        self.ordinary.add_count(o.ordinary);
        self.monitored.add_count(o.monitored);
        counts(&mut self.monitored_by_category, &o.monitored_by_category);
        let (s, t) = (&mut self.risk_status, &o.risk_status);
        s.not_eliminated.add_count(t.not_eliminated);
        s.eliminated_by_assistance
            .add_count(t.eliminated_by_assistance);
        s.eliminated_naturally.add_count(t.eliminated_naturally);
        s.eliminated_method_unknown
            .add_count(t.eliminated_method_unknown);
        counts(&mut self.risk_types, &o.risk_types);
        self.risk_types_unrecorded
            .add_count(o.risk_types_unrecorded);
        for (a, b) in self
            .warnings_by_status
            .iter_mut()
            .zip(&o.warnings_by_status)
        {
            a.1 += b.1;
        }
        for (a, b) in self
            .active_warnings_by_age
            .iter_mut()
            .zip(o.active_warnings_by_age)
        {
            *a += b;
        }
        for (a, b) in self.warnings_by_kind.iter_mut().zip(&o.warnings_by_kind) {
            a.1 += b.1;
            a.2 += b.2;
        }
        for (a, b) in self.open_cases.iter_mut().zip(&o.open_cases) {
            a.2 += b.2;
        }
        self.overdue_cases += o.overdue_cases;
        for (a, b) in self.measures.iter_mut().zip(&o.measures) {
            a.2 += b.2;
            a.3 += b.3;
        }
        self.coverage.add_counts(&o.coverage);
        for (a, b) in self.income.buckets.iter_mut().zip(&o.income.buckets) {
            a.count.add_count(b.count);
        }
        self.income
            .at_or_below_threshold
            .add_count(o.income.at_or_below_threshold);
        self.poverty.merge(&o.poverty);
        self.multidimensional.merge(&o.multidimensional);
    }

    pub fn open_cases_total(&self) -> i64 {
        self.open_cases.iter().map(|c| c.2).sum()
    }

    pub fn active_warnings(&self) -> i64 {
        self.active_warnings_by_age.iter().sum()
    }

    /// Measures of a status: count and amount in fen.
    pub fn measures_with_status(&self, status: MeasureStatus) -> (i64, i64) {
        self.measures
            .iter()
            .filter(|m| m.1 == status)
            .fold((0, 0), |(n, a), m| (n + m.2, a + m.3))
    }

    /// Monitored households of a category.
    pub fn monitored_in(&self, category: MonitoringCategory) -> Count {
        self.monitored_by_category
            .iter()
            .find(|c| c.0 == category)
            .map(|c| c.1)
            .unwrap_or_default()
    }

    /// Every additive figure by a stable key (`monitored.households`, `measures.health.planned.count`
    /// …), for comparing divisions and their children and for tests. The threshold itself is not
    /// a count and is left out.
    pub fn entries(&self) -> Vec<(String, i64)> {
        let mut out: Vec<(String, i64)> = Vec::new();
        let count = |out: &mut Vec<(String, i64)>, key: &str, c: Count| {
            out.push((format!("{key}.households"), c.households));
            out.push((format!("{key}.members"), c.members));
        };
        out.push((
            "seed.lifted_out_members".into(),
            self.seed.lifted_out_members,
        ));
        out.push((
            "seed.former_poverty_villages".into(),
            self.seed.former_poverty_villages,
        ));
        out.push((
            "seed.former_poverty_counties".into(),
            self.seed.former_poverty_counties,
        ));
        count(&mut out, "lifted_out", self.lifted_out);
        count(&mut out, "ordinary", self.ordinary);
        count(&mut out, "monitored", self.monitored);
        for (c, n) in &self.monitored_by_category {
            count(&mut out, &format!("monitored.{}", c.code()), *n);
        }
        let s = &self.risk_status;
        count(&mut out, "risk.not_eliminated", s.not_eliminated);
        count(&mut out, "risk.by_assistance", s.eliminated_by_assistance);
        count(&mut out, "risk.naturally", s.eliminated_naturally);
        count(&mut out, "risk.method_unknown", s.eliminated_method_unknown);
        for (r, n) in &self.risk_types {
            count(&mut out, &format!("risk_type.{}", r.code()), *n);
        }
        count(&mut out, "risk_type.unrecorded", self.risk_types_unrecorded);
        for (st, n) in &self.warnings_by_status {
            out.push((format!("warnings.{}", st.code()), *n));
        }
        for (band, n) in WARNING_AGE_BANDS.iter().zip(self.active_warnings_by_age) {
            out.push((format!("warnings.age.{}", band.3), n));
        }
        for (kind, all, active) in &self.warnings_by_kind {
            out.push((format!("warnings.kind.{}", kind.code()), *all));
            out.push((format!("warnings.kind.{}.active", kind.code()), *active));
        }
        for (kind, stage, n) in &self.open_cases {
            out.push((format!("cases.{}.{}", kind.code(), stage.code()), *n));
        }
        out.push(("cases.overdue".into(), self.overdue_cases));
        for (cat, st, n, amount) in &self.measures {
            out.push((format!("measures.{}.{}.count", cat.code(), st.code()), *n));
            out.push((
                format!("measures.{}.{}.amount", cat.code(), st.code()),
                *amount,
            ));
        }
        out.push(("coverage.monitored".into(), self.coverage.monitored));
        out.push(("coverage.with_findings".into(), self.coverage.with_findings));
        for rule in CoverageRule::ALL {
            out.push((format!("coverage.{}", rule.code()), self.coverage.of(*rule)));
        }
        for b in &self.income.buckets {
            count(&mut out, &format!("income.{}", b.label()), b.count);
        }
        count(
            &mut out,
            "income.at_or_below_threshold",
            self.income.at_or_below_threshold,
        );
        let p = &self.poverty;
        let wide = |n: u128| i64::try_from(n).unwrap_or(i64::MAX);
        let narrow = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        out.push(("fgt.households".into(), narrow(p.households)));
        out.push(("fgt.people".into(), narrow(p.people)));
        out.push(("fgt.poor_people".into(), narrow(p.poor_people)));
        out.push((
            "fgt.poor_people_strict".into(),
            narrow(p.poor_people_strict),
        ));
        out.push(("fgt.gap_sum".into(), wide(p.gap_sum)));
        out.push(("fgt.gap2_sum".into(), wide(p.gap2_sum)));
        let m = &self.multidimensional;
        out.push(("af.people".into(), narrow(m.people)));
        out.push(("af.poor_people".into(), narrow(m.poor_people)));
        out.push((
            "af.people_with_unknown".into(),
            narrow(m.people_with_unknown),
        ));
        out.push(("af.score_sum".into(), wide(m.score_sum)));
        for (j, (d, c)) in m.deprived.iter().zip(&m.censored).enumerate() {
            out.push((format!("af.deprived.{j}"), wide(*d)));
            out.push((format!("af.censored.{j}"), wide(*c)));
        }
        out
    }
}

/// A child division with its figures.
#[derive(Debug, Clone)]
pub struct ChildFigures {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub figures: Figures,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}' does not parse"))
}

/// The figures of `division` on `today`, read now: the sum of its villages' leaves.
pub async fn division_figures(db: &Db, division: &DivisionCode, today: Date) -> Result<Figures> {
    let leaves = village_figures(db, division, today).await?;
    let threshold = threshold(db, today).await?;
    let mut total = Figures::empty(*division, today, threshold);
    for leaf in leaves.values() {
        total.add(leaf);
    }
    total.seed.former_poverty_counties = former_poverty_counties(db, division).await?;
    Ok(total)
}

/// Former poverty counties at or under `division` (a property of a county, not of its
/// villages, so it is read from the division table, not summed).
pub async fn former_poverty_counties(db: &Db, division: &DivisionCode) -> Result<i64> {
    if !matches!(
        division.level(),
        DivisionLevel::Province | DivisionLevel::County
    ) {
        return Ok(0);
    }
    let (lo, hi) = code_range(division);
    Ok(on_pool!(db, pool => sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM divisions WHERE level = 'county' \
         AND former_poverty_county IS NOT NULL AND code BETWEEN $1 AND $2")
        .bind(&lo).bind(&hi).fetch_one(pool).await?))
}

/// Monitored households and members by category, risk status and risk type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Monitored {
    pub total: Count,
    pub by_category: Vec<(MonitoringCategory, Count)>,
    pub risk_status: RiskStatus,
    pub risk_types: Vec<(RiskType, Count)>,
    pub risk_types_unrecorded: Count,
}

/// The leaves of `parts` under `division`, summed.
async fn summed(
    db: &Db,
    division: &DivisionCode,
    today: Date,
    parts: leaves::Parts,
) -> Result<Figures> {
    let mut total = Figures::empty(*division, today, None);
    for leaf in leaves::read(db, division, today, parts).await?.values() {
        total.add(leaf);
    }
    Ok(total)
}

/// The monitored part of [`Figures`] alone: one `GROUP BY` over the division's monitored
/// households (for the report tables, which need nothing else of a child division).
pub async fn monitored_figures(db: &Db, division: &DivisionCode) -> Result<Monitored> {
    let today = zhenxing_core::china_time::today_in_china();
    let f = summed(db, division, today, leaves::Parts::Monitored).await?;
    Ok(Monitored {
        total: f.monitored,
        by_category: f.monitored_by_category,
        risk_status: f.risk_status,
        risk_types: f.risk_types,
        risk_types_unrecorded: f.risk_types_unrecorded,
    })
}

/// The measures of [`Figures`] alone: every (category, status) pair with its count and the sum
/// of its amounts in fen.
pub async fn measure_figures(
    db: &Db,
    division: &DivisionCode,
) -> Result<Vec<(MeasureCategory, MeasureStatus, i64, i64)>> {
    let today = zhenxing_core::china_time::today_in_china();
    Ok(summed(db, division, today, leaves::Parts::Measures)
        .await?
        .measures)
}

/// The band of [`WARNING_AGE_BANDS`] an age in days falls in (a warning opened "in the future",
/// after a clock change, counts as new).
pub fn age_band(days: i64) -> usize {
    WARNING_AGE_BANDS
        .iter()
        .position(|(_, to, _, _)| to.is_none_or(|to| days <= to))
        .unwrap_or(WARNING_AGE_BANDS.len() - 1)
}

/// The figures of each child division of `parent` (counties of the municipality, townships of a
/// county, villages of a township; none for a village), in code order.
pub async fn children_figures(
    db: &Db,
    parent: &DivisionCode,
    today: Date,
) -> Result<Vec<ChildFigures>> {
    let mut out = Vec::new();
    for child in db.child_divisions(parent).await? {
        let code = DivisionCode::parse(&child.division.code)
            .map_err(|_| corrupt("division code", &child.division.code))?;
        out.push(ChildFigures {
            figures: division_figures(db, &code, today).await?,
            code: child.division.code,
            name_zh: child.division.name_zh,
            name_en: child.division.name_en,
        });
    }
    Ok(out)
}

/// How the procedures of a month went (report 3): cases opened in the month, completed in it
/// (and of those, approved by the county within their time limit; a risk elimination has no
/// limit and counts as within), open at the end of the month (or today, for the current month),
/// of those past their limit, and rejected or withdrawn in the month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseTimeliness {
    pub opened: i64,
    pub completed: i64,
    pub completed_within_limit: i64,
    pub in_progress: i64,
    pub overdue: i64,
    pub rejected_or_withdrawn: i64,
}

impl CaseTimeliness {
    pub fn add(&mut self, o: &CaseTimeliness) {
        self.opened += o.opened;
        self.completed += o.completed;
        self.completed_within_limit += o.completed_within_limit;
        self.in_progress += o.in_progress;
        self.overdue += o.overdue;
        self.rejected_or_withdrawn += o.rejected_or_withdrawn;
    }
}

/// [`CaseTimeliness`] of the month `first..=last` for each child of `division` (keyed by the
/// child's code prefix: 6 digits under the municipality, 9 under a county, 12 below), with
/// one `GROUP BY` over the division's cases. `as_of` is the day the month is seen from: its last
/// day for a past month, today for the current one. A case is in progress on `as_of` when it
/// was opened by then and not closed by then; overdue when it is, besides, not yet approved by
/// the county on `as_of` (an undecided stage) and its due day is before it: the inboxes' overdue
/// figure (`procedures::inbox_counts`) on that day. Only identifications have a due day.
pub async fn case_timeliness(
    db: &Db,
    division: &DivisionCode,
    first: Date,
    last: Date,
    as_of: Date,
) -> Result<Vec<(String, CaseTimeliness)>> {
    let (lo, hi) = code_range(division);
    let child_len = match division.level() {
        zhenxing_core::DivisionLevel::Province => 6,
        zhenxing_core::DivisionLevel::County => 9,
        _ => 12,
    };
    let sql = format!(
        "SELECT substr(division_code, 1, {child_len}), \
         CAST(COALESCE(SUM(CASE WHEN opened_on BETWEEN $3 AND $4 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN stage = 'completed' AND closed_on BETWEEN $3 AND $4 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN stage = 'completed' AND closed_on BETWEEN $3 AND $4 \
           AND (due_on IS NULL OR kind <> 'identification' OR approved_on <= due_on) THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN opened_on <= $5 AND (closed_on IS NULL OR closed_on > $5) THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN opened_on <= $5 AND (closed_on IS NULL OR closed_on > $5) \
           AND (approved_on IS NULL OR approved_on > $5) \
           AND due_on < $5 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN stage IN ('rejected', 'withdrawn') AND closed_on BETWEEN $3 AND $4 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM cases WHERE division_code BETWEEN $1 AND $2 GROUP BY substr(division_code, 1, {child_len}) \
         ORDER BY 1"
    );
    let rows: Vec<(String, i64, i64, i64, i64, i64, i64)> = on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&lo).bind(&hi).bind(first.to_string()).bind(last.to_string()).bind(as_of.to_string())
        .fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(
            |(p, opened, completed, within, in_progress, overdue, rejected)| {
                (
                    p,
                    CaseTimeliness {
                        opened,
                        completed,
                        completed_within_limit: within,
                        in_progress,
                        overdue,
                        rejected_or_withdrawn: rejected,
                    },
                )
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_have_no_gaps() {
        assert_eq!(age_band(-3), 0);
        assert_eq!(age_band(0), 0);
        assert_eq!(age_band(7), 0);
        assert_eq!(age_band(8), 1);
        assert_eq!(age_band(30), 1);
        assert_eq!(age_band(31), 2);
        assert_eq!(age_band(90), 2);
        assert_eq!(age_band(91), 3);
        assert_eq!(age_band(10_000), 3);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(1_906_000), "1,906,000");
        assert_eq!(thousands(-15_000), "-15,000");
    }
}
