//! Monthly trends: one line per series over the months, with a legend and month labels.
//!
//! A missing value (NaN, infinite) is a gap in its line. The y axis starts at 0 (or below,
//! for negative values) and ends at a round number above the highest value. Each series has
//! its own colour and dash pattern, and every point a `<title>` with its value.

use crate::svg::{
    close, empty, escape, finite, format_value, legend_row, nice_step, num, open, scale,
};
use crate::{CATEGORICAL, Labels, Series};
use std::fmt::Write;

const WIDTH: f64 = 640.0;
const DASHES: [&str; 4] = ["", "7 4", "2 3", "9 3 2 3"];

/// The line chart; each series is a `<g class="zx-series">` holding its `<path>`s (one per run of
/// months with values) and a `<circle>` with a `<title>` for each value.
pub fn line_chart(labels: &Labels<'_>, months: &[String], series: &[Series]) -> String {
    let values = || {
        series.iter().flat_map(|s| {
            s.values
                .iter()
                .take(months.len())
                .copied()
                .filter_map(finite)
        })
    };
    if months.is_empty() || values().next().is_none() {
        return empty(labels, WIDTH, 160.0);
    }
    let lo = values().fold(0.0, f64::min);
    let hi = values().fold(0.0, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = nice_step(span, 5.0);
    let lo = (lo / step).floor() * step;
    let mut hi = (hi / step).ceil() * step;
    if hi <= lo {
        hi = lo + step;
    }
    let (top, bottom, left, right) = (48.0, 270.0, 64.0, WIDTH - 36.0);
    let per_row = 4usize;
    let height = bottom + 44.0 + 20.0 * series.len().div_ceil(per_row) as f64;
    let mut s = open(labels, WIDTH, height);
    // Grid and y labels; at most a few dozen lines whatever the values.
    let mut tick = lo;
    for _ in 0..=20 {
        if tick > hi + step / 2.0 {
            break;
        }
        let y = num(scale(tick, lo, hi, bottom, top));
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#ddd"/><text class="zx-s" x="{}" y="{y}" dy="3" text-anchor="end">{}</text>"##,
            num(left - 4.0),
            escape(&format_value(tick)),
        );
        tick += step;
    }
    let n = months.len();
    let x_of = |i: usize| {
        if n == 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f64 / (n - 1) as f64
        }
    };
    let every = n.div_ceil(12).max(1);
    for (i, month) in months.iter().enumerate().step_by(every) {
        let _ = write!(
            s,
            r#"<text class="zx-s" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            num(x_of(i)),
            num(bottom + 16.0),
            escape(month)
        );
    }
    for (si, serie) in series.iter().enumerate() {
        let colour = CATEGORICAL[si % CATEGORICAL.len()];
        let dash = DASHES[si % DASHES.len()];
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let name = escape(&serie.name);
        let _ = write!(s, r#"<g class="zx-series">"#);
        let points: Vec<Option<(f64, f64)>> = (0..n)
            .map(|i| {
                let v = finite(serie.values.get(i).copied().unwrap_or(f64::NAN))?;
                Some((x_of(i), scale(v, lo, hi, bottom, top)))
            })
            .collect();
        for run in points.split(Option::is_none).filter(|r| r.len() > 1) {
            let d: Vec<String> = run
                .iter()
                .flatten()
                .enumerate()
                .map(|(k, (x, y))| {
                    format!("{}{},{}", if k == 0 { 'M' } else { 'L' }, num(*x), num(*y))
                })
                .collect();
            let _ = write!(
                s,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                d.join("")
            );
        }
        for (i, p) in points.iter().enumerate() {
            if let Some((x, y)) = p {
                let month = months.get(i).map(|m| escape(m)).unwrap_or_default();
                let v = serie.values.get(i).copied().unwrap_or(f64::NAN);
                let _ = write!(
                    s,
                    r#"<circle cx="{}" cy="{}" r="3" fill="{colour}"><title>{name} · {month}: {}</title></circle>"#,
                    num(*x),
                    num(*y),
                    escape(&format_value(v))
                );
            }
        }
        s.push_str("</g>");
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/><g class="zx-legend">"##
    );
    for (si, serie) in series.iter().enumerate() {
        let x = left + 140.0 * (si % per_row) as f64;
        let y = bottom + 34.0 + 20.0 * (si / per_row) as f64;
        let colour = CATEGORICAL[si % CATEGORICAL.len()];
        let _ = write!(
            s,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="2"{}/>"#,
            num(x - 22.0),
            num(y + 6.0),
            num(x - 4.0),
            num(y + 6.0),
            match DASHES[si % DASHES.len()] {
                "" => String::new(),
                d => format!(r#" stroke-dasharray="{d}""#),
            }
        );
        legend_row(&mut s, x, y, colour, &serie.name);
    }
    s.push_str("</g>");
    close(s)
}
