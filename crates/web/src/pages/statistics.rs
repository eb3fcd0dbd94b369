//! Statistics (issue 6): `/statistics/{code}`, the dashboard of a division (headline figures,
//! charts drawn on the server as SVG by `zhenxing_charts`, each with its numbers in a table,
//! the poverty measures, the procedures and coverage counts, and the children one level
//! down); `/statistics` for the account's own division; `/statistics/map`, the 38 counties
//! coloured by an indicator; `/statistics/method`, how the poverty measures are computed.
//!
//! The figures come from `state.figures` (`zhenxing_store::figure_cache`), so every page
//! reflects the last committed write. Reading needs `ReadRegistry`, within the account's scope
//! (outside it answers as a division that does not exist). On the map, a county is coloured
//! and linked only when it lies inside the account's scope: a county officer sees their own
//! county, a township officer or village cadre none (their county's figures cover divisions
//! outside their scope), and the map says so.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::Params;
use crate::pages::divisions::{Crumb, children_heading_key, division_name, scoped_division_record};
use crate::pages::{Chrome, blank, count, render, yuan};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use zhenxing_charts::{
    Bar, Bin, Classing, Labels, MapValue, Orientation, Series, Threshold, bar_chart, choropleth,
    histogram, line_chart, stacked_bar_chart,
};
use zhenxing_core::assistance::{MeasureCategory, MeasureStatus};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{Action, DivisionCode, DivisionLevel, Lang, MonitoringCategory};
use zhenxing_store::poverty_figures::PovertyFigures;
use zhenxing_store::rollups::{ChildFigures, Figures, WARNING_AGE_BANDS};
use zhenxing_store::snapshots::{self, Month};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/statistics", get(own_division))
        .route("/statistics/map", get(map_page))
        .route("/statistics/method", get(method_page))
        .route("/statistics/{code}", get(dashboard))
}

/// One cell of a table; `key` names the figure (`Figures::entries`) when the cell holds one
/// of the division's own figures, so that tests and scripts can read it.
pub struct Cell {
    pub key: String,
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    fn plain(text: String) -> Cell {
        Cell {
            key: String::new(),
            text,
            href: None,
        }
    }

    fn figure(key: impl Into<String>, value: i64) -> Cell {
        Cell {
            key: key.into(),
            text: count(value),
            href: None,
        }
    }

    fn link(mut self, href: Option<String>) -> Cell {
        self.href = href;
        self
    }
}

pub struct Row {
    pub label: String,
    pub cells: Vec<Cell>,
}

/// A chart and its numbers.
pub struct Chart {
    pub id: &'static str,
    pub heading: String,
    pub svg: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// A sentence under the table, when the picture needs one.
    pub note: String,
}

pub struct ChildRow {
    pub code: String,
    pub name: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct DashboardPage {
    c: Chrome,
    code: String,
    name: String,
    today: String,
    crumbs: Vec<Crumb>,
    headline: Vec<Row>,
    charts: Vec<Chart>,
    trend: Option<Chart>,
    poverty: Vec<Row>,
    poverty_note: String,
    procedures: Vec<Row>,
    child_heading: String,
    child_columns: Vec<String>,
    children: Vec<ChildRow>,
    is_village: bool,
}

/// `/statistics`: the account's own division.
async fn own_division(Extension(viewer): Extension<Viewer>) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?;
    Ok(Redirect::to(&format!("/statistics/{}", account.division.as_str())).into_response())
}

fn labels<'a>(title: &'a str, description: &'a str, no_data: &'a str) -> Labels<'a> {
    Labels {
        title,
        description,
        no_data,
    }
}

/// The dashboard's breadcrumb: each step inside the account's scope links to its dashboard.
async fn crumbs(state: &AppState, viewer: &Viewer, code: &DivisionCode) -> AppResult<Vec<Crumb>> {
    let scope = viewer.account()?.scope();
    Ok(state
        .db
        .division_path(code)
        .await?
        .iter()
        .map(|d| Crumb {
            name: division_name(viewer, d),
            href: scope
                .contains_code(&d.code)
                .then(|| format!("/statistics/{}", d.code)),
        })
        .collect())
}

/// The headline figures: (key of `Figures::entries`, message key).
const HEADLINE: [(&str, &str); 13] = [
    ("lifted_out.households", "stats-lifted-out-households"),
    ("lifted_out.members", "stats-lifted-out-members"),
    ("ordinary.households", "stats-ordinary-households"),
    ("ordinary.members", "stats-ordinary-members"),
    ("monitored.households", "stats-monitored-households"),
    ("monitored.members", "stats-monitored-members"),
    ("risk.not_eliminated.households", "stats-not-eliminated"),
    ("risk.by_assistance.households", "stats-by-assistance"),
    ("risk.naturally.households", "stats-naturally"),
    ("risk.method_unknown.households", "stats-method-unknown"),
    ("seed.lifted_out_members", "stats-seed-members"),
    ("seed.former_poverty_villages", "stats-seed-villages"),
    ("seed.former_poverty_counties", "stats-seed-counties"),
];

fn entry(entries: &[(String, i64)], key: &str) -> i64 {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|e| e.1)
        .unwrap_or(0)
}

fn households(f: &Figures) -> i64 {
    f.lifted_out.households + f.ordinary.households
}

fn members(f: &Figures) -> i64 {
    f.lifted_out.members + f.ordinary.members
}

fn headline(c: &Chrome, f: &Figures, level: DivisionLevel) -> Vec<Row> {
    let entries = f.entries();
    let mut rows = vec![
        Row {
            label: c.t("stats-households"),
            cells: vec![Cell::figure("households", households(f))],
        },
        Row {
            label: c.t("stats-members"),
            cells: vec![Cell::figure("members", members(f))],
        },
    ];
    for (key, label) in HEADLINE {
        // Former poverty counties are a property of counties: nothing to say below them.
        let below_county = matches!(level, DivisionLevel::Township | DivisionLevel::Village);
        if key == "seed.former_poverty_counties" && below_county
            || key == "seed.former_poverty_villages" && level == DivisionLevel::Village
        {
            continue;
        }
        rows.push(Row {
            label: c.t(label),
            cells: vec![Cell::figure(key, entry(&entries, key))],
        });
    }
    rows
}

fn monitored_chart(c: &Chrome, lang: Lang, f: &Figures, children: &[ChildFigures]) -> Chart {
    let heading = c.t("stats-chart-monitored");
    // Per child; a village, which has none, is its own single bar.
    let mut bars: Vec<(String, &Figures)> = children
        .iter()
        .map(|ch| (c.tr.name(&ch.name_zh, &ch.name_en).to_owned(), &ch.figures))
        .collect();
    if bars.is_empty() {
        bars.push((c.t("stats-this-division"), f));
    }
    let series: Vec<Series> = MonitoringCategory::ALL
        .iter()
        .map(|cat| Series {
            name: cat.label(lang).to_owned(),
            values: bars
                .iter()
                .map(|(_, fig)| fig.monitored_in(*cat).households as f64)
                .collect(),
        })
        .collect();
    let names: Vec<String> = bars.iter().map(|(n, _)| n.clone()).collect();
    let description = c.t("stats-chart-monitored-desc");
    let no_data = c.t("stats-no-data");
    let svg = stacked_bar_chart(&labels(&heading, &description, &no_data), &names, &series);
    let mut columns = vec![c.t("stats-col-division")];
    columns.extend(
        MonitoringCategory::ALL
            .iter()
            .map(|m| m.label(lang).to_owned()),
    );
    columns.push(c.t("stats-col-total"));
    let mut rows: Vec<Row> = if children.is_empty() {
        Vec::new()
    } else {
        bars.iter()
            .map(|(name, fig)| Row {
                label: name.clone(),
                cells: MonitoringCategory::ALL
                    .iter()
                    .map(|m| Cell::plain(count(fig.monitored_in(*m).households)))
                    .chain([Cell::plain(count(fig.monitored.households))])
                    .collect(),
            })
            .collect()
    };
    rows.push(Row {
        label: c.t("stats-col-total"),
        cells: MonitoringCategory::ALL
            .iter()
            .map(|m| {
                Cell::figure(
                    format!("monitored.{}.households", m.code()),
                    f.monitored_in(*m).households,
                )
            })
            .chain([Cell::figure("monitored.households", f.monitored.households)])
            .collect(),
    });
    Chart {
        id: "chart-monitored",
        heading,
        svg,
        columns,
        rows,
        note: String::new(),
    }
}

fn risk_chart(c: &Chrome, lang: Lang, f: &Figures) -> Chart {
    let heading = c.t("stats-chart-risk-types");
    let mut items: Vec<(String, String, zhenxing_store::rollups::Count)> = f
        .risk_types
        .iter()
        .map(|(r, n)| (r.code().to_owned(), r.label(lang).to_owned(), *n))
        .collect();
    items.push((
        "unrecorded".into(),
        c.t("stats-risk-unrecorded"),
        f.risk_types_unrecorded,
    ));
    let bars: Vec<Bar> = items
        .iter()
        .map(|(_, label, n)| Bar::new(label.clone(), n.households as f64))
        .collect();
    let description = c.t("stats-chart-risk-types-desc");
    let no_data = c.t("stats-no-data");
    let svg = bar_chart(
        &labels(&heading, &description, &no_data),
        &bars,
        Orientation::Horizontal,
    );
    Chart {
        id: "chart-risk-types",
        heading,
        svg,
        columns: vec![
            c.t("stats-col-risk-type"),
            c.t("stats-col-households"),
            c.t("stats-col-members"),
        ],
        rows: items
            .iter()
            .map(|(code, label, n)| Row {
                label: label.clone(),
                cells: vec![
                    Cell::figure(format!("risk_type.{code}.households"), n.households),
                    Cell::figure(format!("risk_type.{code}.members"), n.members),
                ],
            })
            .collect(),
        note: c.t("stats-risk-types-note"),
    }
}

fn measures_chart(c: &Chrome, lang: Lang, f: &Figures) -> Chart {
    let heading = c.t("stats-chart-measures");
    let find = |cat: MeasureCategory, st: MeasureStatus| {
        f.measures
            .iter()
            .find(|m| m.0 == cat && m.1 == st)
            .map(|m| (m.2, m.3))
            .unwrap_or((0, 0))
    };
    let names: Vec<String> = MeasureCategory::ALL
        .iter()
        .map(|m| m.label(lang).to_owned())
        .collect();
    let series: Vec<Series> = MeasureStatus::ALL
        .iter()
        .map(|st| Series {
            name: st.label(lang).to_owned(),
            values: MeasureCategory::ALL
                .iter()
                .map(|cat| find(*cat, *st).0 as f64)
                .collect(),
        })
        .collect();
    let description = c.t("stats-chart-measures-desc");
    let no_data = c.t("stats-no-data");
    let svg = stacked_bar_chart(&labels(&heading, &description, &no_data), &names, &series);
    let mut columns = vec![c.t("stats-col-category")];
    columns.extend(MeasureStatus::ALL.iter().map(|s| s.label(lang).to_owned()));
    columns.extend(MeasureStatus::ALL.iter().map(|s| {
        c.tr.t_args(
            "stats-col-amount",
            &[("status", s.label(lang).to_owned().into())],
        )
    }));
    let rows = MeasureCategory::ALL
        .iter()
        .map(|cat| Row {
            label: cat.label(lang).to_owned(),
            cells: MeasureStatus::ALL
                .iter()
                .map(|st| {
                    Cell::figure(
                        format!("measures.{}.{}.count", cat.code(), st.code()),
                        find(*cat, *st).0,
                    )
                })
                .chain(MeasureStatus::ALL.iter().map(|st| Cell {
                    key: format!("measures.{}.{}.amount", cat.code(), st.code()),
                    text: yuan(find(*cat, *st).1),
                    href: None,
                }))
                .collect(),
        })
        .collect();
    Chart {
        id: "chart-measures",
        heading,
        svg,
        columns,
        rows,
        note: String::new(),
    }
}

fn warnings_chart(c: &Chrome, lang: Lang, f: &Figures) -> Chart {
    let heading = c.t("stats-chart-warnings");
    let band = |b: &(i64, Option<i64>, &'static str, &'static str)| match lang {
        Lang::Zh => b.2,
        Lang::En => b.3,
    };
    let bars: Vec<Bar> = WARNING_AGE_BANDS
        .iter()
        .zip(f.active_warnings_by_age)
        .map(|(b, n)| Bar::new(band(b), n as f64))
        .collect();
    let description = c.t("stats-chart-warnings-desc");
    let no_data = c.t("stats-no-data");
    let svg = bar_chart(
        &labels(&heading, &description, &no_data),
        &bars,
        Orientation::Vertical,
    );
    let mut rows: Vec<Row> = WARNING_AGE_BANDS
        .iter()
        .zip(f.active_warnings_by_age)
        .map(|(b, n)| Row {
            label: band(b).to_owned(),
            cells: vec![Cell::figure(format!("warnings.age.{}", b.3), n)],
        })
        .collect();
    rows.extend(f.warnings_by_status.iter().map(|(st, n)| Row {
        label: c.tr.t_args(
            "stats-warnings-status",
            &[("status", st.label(lang).to_owned().into())],
        ),
        cells: vec![Cell::figure(format!("warnings.{}", st.code()), *n)],
    }));
    // Leads for identification apart from new risks of monitored households (issue 17 item 2).
    for (kind, all, active) in &f.warnings_by_kind {
        let kind_label = || kind.label(lang).to_owned().into();
        rows.push(Row {
            label: c
                .tr
                .t_args("stats-warnings-kind-active", &[("kind", kind_label())]),
            cells: vec![Cell::figure(
                format!("warnings.kind.{}.active", kind.code()),
                *active,
            )],
        });
        rows.push(Row {
            label: c
                .tr
                .t_args("stats-warnings-kind", &[("kind", kind_label())]),
            cells: vec![Cell::figure(format!("warnings.kind.{}", kind.code()), *all)],
        });
    }
    Chart {
        id: "chart-warnings",
        heading,
        svg,
        columns: vec![c.t("stats-col-warnings"), c.t("stats-col-count")],
        rows,
        note: String::new(),
    }
}

fn income_chart(c: &Chrome, f: &Figures) -> Chart {
    let heading = c.t("stats-chart-income");
    // The open-ended buckets (below 0, the top one) have no width to draw; they are in the
    // table below the picture.
    let bins: Vec<Bin> = f
        .income
        .buckets
        .iter()
        .filter_map(|b| {
            Some(Bin {
                from: b.from_yuan? as f64,
                to: b.to_yuan? as f64,
                count: u64::try_from(b.count.households).unwrap_or(0),
            })
        })
        .collect();
    let threshold = f.income.threshold_fen.map(|fen| Threshold {
        value: fen as f64 / 100.0,
        label: c
            .tr
            .t_args("stats-threshold", &[("yuan", yuan(fen).into())]),
    });
    let description = c.t("stats-chart-income-desc");
    let no_data = c.t("stats-no-data");
    let svg = histogram(
        &labels(&heading, &description, &no_data),
        &bins,
        threshold.as_ref(),
    );
    let mut rows: Vec<Row> = f
        .income
        .buckets
        .iter()
        .map(|b| Row {
            label: b.label(),
            cells: vec![
                Cell::figure(
                    format!("income.{}.households", b.label()),
                    b.count.households,
                ),
                Cell::figure(format!("income.{}.members", b.label()), b.count.members),
            ],
        })
        .collect();
    let at_or_below = f.income.at_or_below_threshold;
    rows.push(Row {
        label: match &threshold {
            Some(t) => c.tr.t_args(
                "stats-at-or-below",
                &[("threshold", t.label.clone().into())],
            ),
            None => c.t("stats-no-threshold"),
        },
        cells: vec![
            Cell::figure(
                "income.at_or_below_threshold.households",
                at_or_below.households,
            ),
            Cell::figure("income.at_or_below_threshold.members", at_or_below.members),
        ],
    });
    Chart {
        id: "chart-income",
        heading,
        svg,
        columns: vec![
            c.t("stats-col-income"),
            c.t("stats-col-households"),
            c.t("stats-col-members"),
        ],
        rows,
        note: c.t("stats-income-note"),
    }
}

/// The trend of the key figures from the monthly snapshots since the transition period began
/// (a line per month); `None` when there are none.
async fn trend_chart(
    state: &AppState,
    c: &Chrome,
    code: &DivisionCode,
    today: time::Date,
) -> AppResult<Option<Chart>> {
    let now = Month::of(today);
    let months = Month::TRANSITION_BEGAN.count_through(now);
    let points = snapshots::series(&state.db, code, now, months).await?;
    if points.is_empty() {
        return Ok(None);
    }
    let heading = c.t("stats-chart-trend");
    let months: Vec<String> = points.iter().map(|p| p.month.to_string()).collect();
    type Pick = fn(&snapshots::KeyFigures) -> i64;
    let lines: [(String, Pick); 4] = [
        (c.t("stats-monitored-households"), |k| {
            k.monitored_households
        }),
        (c.t("stats-not-eliminated"), |k| k.not_eliminated_households),
        (c.t("stats-trend-cases-open"), |k| k.cases_open),
        (c.t("stats-trend-cases-overdue"), |k| k.cases_overdue),
    ];
    let series: Vec<Series> = lines
        .iter()
        .map(|(label, pick)| Series {
            name: label.clone(),
            values: points.iter().map(|p| pick(&p.figures) as f64).collect(),
        })
        .collect();
    let description = c.t("stats-chart-trend-desc");
    let no_data = c.t("stats-no-data");
    let svg = line_chart(&labels(&heading, &description, &no_data), &months, &series);
    let mut columns = vec![c.t("stats-col-month")];
    columns.extend(lines.iter().map(|(label, _)| label.clone()));
    Ok(Some(Chart {
        id: "chart-trend",
        heading,
        svg,
        columns,
        rows: points
            .iter()
            .map(|p| Row {
                label: p.month.to_string(),
                cells: lines
                    .iter()
                    .map(|(_, pick)| Cell::plain(count(pick(&p.figures))))
                    .collect(),
            })
            .collect(),
        note: String::new(),
    }))
}

fn ratio(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// The poverty measures, from the division's (cached) figures: its villages' sums.
fn poverty_rows(c: &Chrome, figures: &Figures) -> (Vec<Row>, String) {
    let p = PovertyFigures::of(figures);
    let Some(threshold) = p.threshold else {
        return (Vec::new(), c.t("stats-no-threshold"));
    };
    // (message key, measure id, value as shown)
    let mut measures: Vec<(&str, &str, String)> = Vec::new();
    if let Some(fgt) = &p.fgt {
        measures.push(("stats-p0", "p0", ratio(fgt.p0)));
        measures.push(("stats-p1", "p1", ratio(fgt.p1)));
        measures.push(("stats-p2", "p2", format!("{:.4}", fgt.p2)));
    }
    let mut note =
        c.tr.t_args("stats-threshold", &[("yuan", yuan(threshold.0).into())]);
    if let Some(af) = &p.multidimensional {
        measures.push(("stats-af-h", "af-h", ratio(af.h)));
        measures.push(("stats-af-a", "af-a", ratio(af.a)));
        measures.push(("stats-af-m0", "af-m0", format!("{:.4}", af.m0)));
        let unknown = i64::try_from(af.people_with_unknown).unwrap_or(i64::MAX);
        note = format!(
            "{note} · {}",
            c.tr.t_args("stats-af-unknown", &[("people", count(unknown).into())])
        );
    }
    let rows: Vec<Row> = measures
        .into_iter()
        .map(|(label, id, text)| Row {
            label: c.t(label),
            cells: vec![Cell {
                key: id.to_owned(),
                text,
                href: None,
            }],
        })
        .collect();
    if rows.is_empty() {
        note = c.t("stats-no-data");
    }
    (rows, note)
}

fn procedure_rows(c: &Chrome, f: &Figures, code: &DivisionCode) -> Vec<Row> {
    let cases = c.can_cases.then(|| "/cases".to_owned());
    vec![
        Row {
            label: c.t("stats-cases-open"),
            cells: vec![Cell::figure("cases.open", f.open_cases_total()).link(cases.clone())],
        },
        Row {
            label: c.t("stats-cases-overdue"),
            cells: vec![
                Cell::figure("cases.overdue", f.overdue_cases)
                    .link(cases.map(|_| "/cases?filter=overdue".to_owned())),
            ],
        },
        Row {
            label: c.t("stats-warnings-active"),
            cells: vec![
                Cell::figure("warnings.active", f.active_warnings())
                    .link(c.can_read.then(|| "/warnings".to_owned())),
            ],
        },
        Row {
            label: c.t("stats-coverage-findings"),
            cells: vec![
                Cell::figure("coverage.with_findings", f.coverage.with_findings).link(
                    c.can_cases
                        .then(|| format!("/coverage?division={}", code.as_str())),
                ),
            ],
        },
    ]
}

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let (code, division) = scoped_division_record(&state, &viewer, &code).await?;
    let lang = viewer.lang;
    let today = today_in_china();
    let figures = state.figures.division(&state.db, &code, today).await?;
    let children = state.figures.children(&state.db, &code, today).await?;
    let name = division_name(&viewer, &division);
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = format!("{} · {name}", c.t("stats-title"));
    let charts = vec![
        monitored_chart(&c, lang, &figures, &children),
        risk_chart(&c, lang, &figures),
        measures_chart(&c, lang, &figures),
        warnings_chart(&c, lang, &figures),
        income_chart(&c, &figures),
    ];
    let trend = trend_chart(&state, &c, &code, today).await?;
    let (poverty, poverty_note) = poverty_rows(&c, &figures);
    let child_columns = CHILD_COLUMNS.iter().map(|k| c.t(k)).collect();
    let rows = children
        .iter()
        .map(|ch| ChildRow {
            code: ch.code.clone(),
            name: c.tr.name(&ch.name_zh, &ch.name_en).to_owned(),
            cells: child_cells(&ch.figures),
        })
        .collect();
    let child_heading = c.t(children_heading_key(code.level()));
    let page = DashboardPage {
        headline: headline(&c, &figures, code.level()),
        procedures: procedure_rows(&c, &figures, &code),
        crumbs: crumbs(&state, &viewer, &code).await?,
        code: code.as_str().to_owned(),
        name,
        today: today.to_string(),
        charts,
        trend,
        poverty,
        poverty_note,
        child_heading,
        child_columns,
        children: rows,
        is_village: code.level() == DivisionLevel::Village,
        c,
    };
    Ok(render(&page))
}

/// The columns of the children's table (message keys), in the order of [`child_cells`].
const CHILD_COLUMNS: [&str; 9] = [
    "stats-col-households",
    "stats-col-members",
    "stats-lifted-out-households",
    "stats-monitored-households",
    "stats-not-eliminated",
    "stats-col-below-threshold",
    "stats-cases-open",
    "stats-cases-overdue",
    "stats-coverage-findings",
];

fn child_cells(f: &Figures) -> Vec<String> {
    [
        households(f),
        members(f),
        f.lifted_out.households,
        f.monitored.households,
        f.risk_status.not_eliminated.households,
        f.income.at_or_below_threshold.households,
        f.open_cases_total(),
        f.overdue_cases,
        f.coverage.with_findings,
    ]
    .map(count)
    .to_vec()
}

/// The indicators the map can show: code in the address, message key, and how to class it.
const INDICATORS: [(&str, &str, Classing); 6] = [
    ("monitored", "stats-ind-monitored", Classing::Quantiles),
    (
        "monitored_per_1000",
        "stats-ind-monitored-per-1000",
        Classing::Quantiles,
    ),
    (
        "not_eliminated",
        "stats-ind-not-eliminated",
        Classing::Quantiles,
    ),
    ("overdue", "stats-ind-overdue", Classing::Quantiles),
    ("coverage", "stats-ind-coverage", Classing::Quantiles),
    // A share from 0 to 100 %: its absolute scale matters.
    (
        "below_threshold_share",
        "stats-ind-below-threshold-share",
        Classing::EqualIntervals,
    ),
];

/// An indicator's value for one county; NaN (no data) for a share of nobody.
fn indicator_value(indicator: &str, f: &Figures) -> f64 {
    let share = |part: i64, whole: i64, per: f64| {
        if whole > 0 {
            part as f64 * per / whole as f64
        } else {
            f64::NAN
        }
    };
    match indicator {
        "monitored_per_1000" => share(f.monitored.members, members(f), 1000.0),
        "not_eliminated" => f.risk_status.not_eliminated.households as f64,
        "overdue" => f.overdue_cases as f64,
        "coverage" => f.coverage.with_findings as f64,
        "below_threshold_share" => share(
            f.income.at_or_below_threshold.households,
            households(f),
            100.0,
        ),
        _ => f.monitored.households as f64,
    }
}

#[derive(Deserialize)]
pub struct MapParams {
    indicator: Option<String>,
}

pub struct MapRow {
    pub code: String,
    pub name: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "statistics_map.html")]
struct MapPage {
    c: Chrome,
    indicator: String,
    indicators: Vec<(String, String)>,
    svg: String,
    rows: Vec<MapRow>,
    note: String,
}

impl MapPage {
    /// The map page of `indicator` titled `title`: the chart (a map, or a ranked bar chart
    /// below the county), its table and a note.
    fn render(
        mut c: Chrome,
        indicator: &str,
        title: &str,
        svg: String,
        rows: Vec<MapRow>,
        note: String,
    ) -> Response {
        c.title = format!("{} · {title}", c.t("stats-map-title"));
        let page = MapPage {
            indicator: indicator.to_owned(),
            indicators: INDICATORS
                .iter()
                .map(|i| (i.0.to_owned(), c.t(i.1)))
                .collect(),
            svg,
            rows,
            note,
            c,
        };
        render(&page)
    }
}

fn shown_value(indicator: &str, v: f64) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    match indicator {
        "monitored_per_1000" | "below_threshold_share" => format!("{v:.2}"),
        _ => count(v as i64),
    }
}

pub async fn map_page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(params): Params<MapParams>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadRegistry)?;
    let scope = account.scope();
    let indicator = blank(&params.indicator).unwrap_or("monitored");
    let Some((indicator, indicator_key, classing)) =
        INDICATORS.iter().find(|i| i.0 == indicator).copied()
    else {
        let codes = INDICATORS.map(|i| i.0).join(", ");
        return Err(AppError::bad_request(
            format!("没有名为“{indicator}”的指标；可选：{codes}"),
            format!("there is no indicator '{indicator}'; the indicators are: {codes}"),
        ));
    };
    let today = today_in_china();
    let municipality = DivisionCode::parse(zhenxing_store::divisions::MUNICIPALITY)
        .map_err(|_| AppError::Internal)?;
    // The municipality's accounts see every county; a village's account has no map (its
    // county's figures hold other villages).
    let counties: Vec<(String, String, String, Figures)> = match scope.division().level() {
        DivisionLevel::Province => state
            .figures
            .children(&state.db, &municipality, today)
            .await?
            .into_iter()
            .map(|ch| (ch.code, ch.name_zh, ch.name_en, ch.figures))
            .collect(),
        _ => Vec::new(),
    };
    let c0 = Chrome::new(&state, &viewer, String::new());
    // Below the municipality there are no boundaries to draw: a county's townships (a
    // township's villages) ranked by the indicator instead of a map of one coloured county.
    if matches!(
        scope.division().level(),
        DivisionLevel::County | DivisionLevel::Township
    ) {
        let mut children: Vec<(String, String, f64)> = state
            .figures
            .children(&state.db, scope.division(), today)
            .await?
            .into_iter()
            .map(|ch| {
                let name = c0.tr.name(&ch.name_zh, &ch.name_en).to_owned();
                (ch.code, name, indicator_value(indicator, &ch.figures))
            })
            .collect();
        children.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let title = c0.t(indicator_key);
        let level_key = if scope.division().level() == DivisionLevel::County {
            "stats-map-ranked-townships"
        } else {
            "stats-map-ranked-villages"
        };
        let heading = format!("{} · {}", c0.t(level_key), title);
        let description = c0.t("stats-map-ranked-desc");
        let no_data = c0.t("stats-map-no-data");
        let bars: Vec<Bar> = children
            .iter()
            .map(|(_, name, v)| Bar::new(name.clone(), *v))
            .collect();
        let svg = bar_chart(
            &labels(&heading, &description, &no_data),
            &bars,
            Orientation::Horizontal,
        );
        let rows = children
            .into_iter()
            .map(|(code, name, v)| MapRow {
                code,
                name,
                value: shown_value(indicator, v),
            })
            .collect();
        let note = c0.t("stats-map-ranked-note");
        return Ok(MapPage::render(c0, indicator, &title, svg, rows, note));
    }
    let values: Vec<MapValue> = counties
        .iter()
        .map(|(code, _, _, f)| MapValue {
            code: code.chars().take(6).collect(),
            value: indicator_value(indicator, f),
        })
        .collect();
    let linked: Vec<String> = values.iter().map(|v| v.code.clone()).collect();
    let title = c0.t(indicator_key);
    let description = c0.t("stats-map-desc");
    let no_data = c0.t("stats-map-no-data");
    let svg = choropleth(
        &labels(&title, &description, &no_data),
        &values,
        classing,
        viewer.lang,
        &|county| {
            linked
                .iter()
                .any(|c| c == county)
                .then(|| format!("/statistics/{county}000000"))
        },
    );
    let rows = counties
        .iter()
        .zip(&values)
        .map(|((code, zh, en, _), v)| MapRow {
            code: code.clone(),
            name: c0.tr.name(zh, en).to_owned(),
            value: shown_value(indicator, v.value),
        })
        .collect();
    let note = match scope.division().level() {
        DivisionLevel::Province => String::new(),
        _ => c0.t("stats-map-below-county"),
    };
    Ok(MapPage::render(c0, indicator, &title, svg, rows, note))
}

#[derive(Template)]
#[template(path = "statistics_method.html")]
struct MethodPage {
    c: Chrome,
}

pub async fn method_page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Response> {
    viewer.may(Action::ReadRegistry)?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("stats-method-title");
    Ok(render(&MethodPage { c }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;

    /// The message keys held in tables (the i18n test finds only `t("…")` calls).
    #[test]
    fn every_tabled_key_is_defined_in_both_languages() {
        let i18n = I18n::new();
        let keys = HEADLINE
            .iter()
            .map(|h| h.1)
            .chain(INDICATORS.iter().map(|i| i.1))
            .chain(CHILD_COLUMNS);
        for key in keys {
            for lang in [Lang::Zh, Lang::En] {
                assert!(i18n.has(lang, key), "{key} in {lang:?}");
            }
        }
    }

    #[test]
    fn indicators_of_nobody_are_no_data() {
        let mut f = Figures::empty(
            DivisionCode::parse("500229000000").unwrap_or_else(|e| panic!("{e:?}")),
            time::macros::date!(2026 - 11 - 30),
            None,
        );
        f.overdue_cases = 3;
        assert!(indicator_value("monitored_per_1000", &f).is_nan());
        assert!(indicator_value("below_threshold_share", &f).is_nan());
        assert_eq!(indicator_value("overdue", &f), 3.0);
        assert_eq!(shown_value("below_threshold_share", f64::NAN), "–");
    }
}
