//! Bar charts and stacked bar charts.
//!
//! Bars start at 0. A negative value is drawn as a bar of no length with its value written
//! beside it (the registry's figures are counts and amounts, not signed); a missing value (NaN,
//! infinite) the same, written "–". When no value is above 0 the scale runs to 1, so nothing
//! divides by zero.

use crate::svg::{
    close, empty, escape, finite, format_value, legend_row, num, open, scale, text_width,
};
use crate::{BLUES, CATEGORICAL, Labels};
use std::fmt::Write;

const WIDTH: f64 = 640.0;

/// One bar: a label and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
        }
    }
}

/// A named series of values, one per category (stacked bars) or per month (lines).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// Bars grow to the right, labels on the left: for long labels (division names).
    Horizontal,
    /// Bars grow upwards, labels below.
    Vertical,
}

fn length_of(v: f64) -> f64 {
    finite(v).filter(|v| *v > 0.0).unwrap_or(0.0)
}

fn scale_max<I: IntoIterator<Item = f64>>(values: I) -> f64 {
    let max = values.into_iter().map(length_of).fold(0.0, f64::max);
    if max > 0.0 { max } else { 1.0 }
}

/// A bar chart; each bar is a `<rect class="zx-bar">` with a `<title>` ("label: value") and its
/// value as text.
pub fn bar_chart(labels: &Labels<'_>, bars: &[Bar], orientation: Orientation) -> String {
    if bars.is_empty() {
        return empty(labels, WIDTH, 160.0);
    }
    let max = scale_max(bars.iter().map(|b| b.value));
    match orientation {
        Orientation::Horizontal => horizontal(labels, bars, max),
        Orientation::Vertical => vertical(labels, bars, max),
    }
}

fn horizontal(labels: &Labels<'_>, bars: &[Bar], max: f64) -> String {
    // The label column fits the longest label, within 60 to 320 units.
    let longest = bars
        .iter()
        .map(|b| text_width(&b.label, 12.0))
        .fold(0.0, f64::max);
    let left = (longest + 14.0).clamp(60.0, 320.0);
    let (row, top, right) = (24.0, 36.0, WIDTH - 70.0);
    let height = top + row * bars.len() as f64 + 12.0;
    let mut s = open(labels, WIDTH, height);
    for (i, bar) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let w = scale(length_of(bar.value), 0.0, max, 0.0, right - left);
        let label = escape(&bar.label);
        let value = escape(&format_value(bar.value));
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{label}</text><rect class="zx-bar" x="{left}" y="{}" width="{}" height="{}" fill="{}"><title>{label}: {value}</title></rect><text class="zx-v" x="{}" y="{}">{value}</text>"#,
            num(left - 6.0),
            num(y + 15.0),
            num(y + 3.0),
            num(w),
            num(row - 6.0),
            BLUES[3],
            num(left + w + 4.0),
            num(y + 15.0),
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#555"/>"##,
        num(height - 12.0)
    );
    close(s)
}

/// How the category labels under vertical bars are laid out.
struct AxisLabels {
    rotate: bool,
    /// Room below the axis.
    below: f64,
    /// Room left of the first bar.
    left: f64,
}

/// Labels wider than their slot are turned 40 degrees: they take the room below the axis
/// (sin 40° of their width) and, for the first bars, to the left (cos 40°).
fn axis_labels<'a>(labels: impl Iterator<Item = &'a str>, slots: usize) -> AxisLabels {
    let longest = labels.map(|l| text_width(l, 10.0)).fold(0.0, f64::max);
    let rotate = longest > (WIDTH - 40.0) / slots.max(1) as f64 * 0.95;
    let (below, left) = if rotate {
        let w = longest.min(240.0);
        (w * 0.65 + 24.0, (w * 0.77 + 4.0).max(20.0))
    } else {
        (40.0, 20.0)
    };
    AxisLabels {
        rotate,
        below,
        left,
    }
}

impl AxisLabels {
    /// The label (escaped) of the bar centred at `cx`, under the axis at `axis`.
    fn write(&self, s: &mut String, cx: f64, axis: f64, label: &str) {
        let y = axis + 16.0;
        let _ = write!(
            s,
            r#"<text class="zx-s" x="{}" y="{}" text-anchor="{}"{}>{label}</text>"#,
            num(cx),
            num(y),
            if self.rotate { "end" } else { "middle" },
            if self.rotate {
                format!(r#" transform="rotate(-40 {} {})""#, num(cx), num(y))
            } else {
                String::new()
            },
        );
    }
}

fn vertical(labels: &Labels<'_>, bars: &[Bar], max: f64) -> String {
    let axis = axis_labels(bars.iter().map(|b| b.label.as_str()), bars.len());
    let (below, left) = (axis.below, axis.left);
    let (top, bottom, right) = (48.0, 300.0, WIDTH - 20.0);
    let slot = (right - left) / bars.len() as f64;
    let height = bottom + below;
    let bar_w = (slot * 0.7).max(1.0);
    let mut s = open(labels, WIDTH, height);
    for (i, bar) in bars.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let h = scale(length_of(bar.value), 0.0, max, 0.0, bottom - top);
        let label = escape(&bar.label);
        let value = escape(&format_value(bar.value));
        let _ = write!(
            s,
            r#"<rect class="zx-bar" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{label}: {value}</title></rect><text class="zx-v" x="{}" y="{}" text-anchor="middle">{value}</text>"#,
            num(cx - bar_w / 2.0),
            num(bottom - h),
            num(bar_w),
            num(h),
            BLUES[3],
            num(cx),
            num(bottom - h - 4.0),
        );
        axis.write(&mut s, cx, bottom, &label);
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>"##
    );
    close(s)
}

/// Vertical stacked bars: one bar per category (labels turned like [`bar_chart`]'s when
/// they do not fit), one segment per series (in the order given, from the bottom), a legend
/// naming the series, each bar's total written above it and each
/// segment's value in its `<title>`. A series shorter than the categories has no segment for the
/// missing ones; negative and missing values count as 0 in the stack.
pub fn stacked_bar_chart(labels: &Labels<'_>, categories: &[String], series: &[Series]) -> String {
    if categories.is_empty() || series.is_empty() {
        return empty(labels, WIDTH, 160.0);
    }
    let value = |si: usize, ci: usize| -> f64 {
        series[si]
            .values
            .get(ci)
            .copied()
            .map(length_of)
            .unwrap_or(0.0)
    };
    let totals: Vec<f64> = (0..categories.len())
        .map(|ci| (0..series.len()).map(|si| value(si, ci)).sum())
        .collect();
    let max = scale_max(totals.iter().copied());
    let axis = axis_labels(categories.iter().map(String::as_str), categories.len());
    // Turned labels push the legend down by the room they take beyond the usual.
    let legend_shift = axis.below - 40.0;
    let (top, bottom, left, right) = (48.0, 280.0, axis.left, WIDTH - 20.0);
    let per_row = 4usize;
    let legend_rows = series.len().div_ceil(per_row);
    let height = bottom + 36.0 + legend_shift + 20.0 * legend_rows as f64;
    let slot = (right - left) / categories.len() as f64;
    let bar_w = (slot * 0.7).max(1.0);
    let mut s = open(labels, WIDTH, height);
    for (ci, category) in categories.iter().enumerate() {
        let cx = left + slot * (ci as f64 + 0.5);
        let cat = escape(category);
        let mut base = 0.0;
        for (si, serie) in series.iter().enumerate() {
            let v = value(si, ci);
            if v <= 0.0 {
                continue;
            }
            let y0 = scale(base, 0.0, max, bottom, top);
            let y1 = scale(base + v, 0.0, max, bottom, top);
            base += v;
            let shown = serie.values.get(ci).copied().unwrap_or(f64::NAN);
            let _ = write!(
                s,
                r#"<rect class="zx-seg" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{cat} · {}: {}</title></rect>"#,
                num(cx - bar_w / 2.0),
                num(y1),
                num(bar_w),
                num(y0 - y1),
                CATEGORICAL[si % CATEGORICAL.len()],
                escape(&serie.name),
                escape(&format_value(shown)),
            );
        }
        let _ = write!(
            s,
            r#"<text class="zx-v" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            num(cx),
            num(scale(totals[ci], 0.0, max, bottom, top) - 4.0),
            escape(&format_value(totals[ci])),
        );
        axis.write(&mut s, cx, bottom, &cat);
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/><g class="zx-legend">"##
    );
    for (si, serie) in series.iter().enumerate() {
        let x = 20.0 + 150.0 * (si % per_row) as f64;
        let y = bottom + 30.0 + legend_shift + 20.0 * (si / per_row) as f64;
        legend_row(
            &mut s,
            x,
            y,
            CATEGORICAL[si % CATEGORICAL.len()],
            &serie.name,
        );
    }
    s.push_str("</g>");
    close(s)
}
