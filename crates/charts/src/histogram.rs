//! The income histogram: the distribution of per-capita net income in bins, with the
//! monitoring threshold drawn as a labelled vertical line.
//!
//! The x axis runs from the lowest bin's lower bound to the highest bin's upper bound, widened
//! to take in the threshold when it lies outside. A bin whose bounds are missing (NaN,
//! infinite) or reversed is left out.

use crate::svg::{close, empty, escape, format_value, num, open, scale};
use crate::{BLUES, Labels};
use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 340.0;
/// The plot area; public to the tests through [`threshold_x`].
const LEFT: f64 = 50.0;
const RIGHT: f64 = 620.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 290.0;

/// A bin `[from, to)` and the number of people (or households) in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    pub from: f64,
    pub to: f64,
    pub count: u64,
}

/// The vertical line: a value on the x axis and its label ("监测范围 6000元").
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub value: f64,
    pub label: String,
}

fn valid(b: &Bin) -> bool {
    b.from.is_finite() && b.to.is_finite() && b.from < b.to
}

/// The x of a value on a histogram whose x axis runs from `lo` to `hi`.
pub(crate) fn threshold_x(value: f64, lo: f64, hi: f64) -> f64 {
    scale(value, lo, hi, LEFT, RIGHT)
}

/// The histogram: each bin a `<rect class="zx-bin">` with a `<title>` ("from–to: count") and its
/// count as text; the threshold a `<line class="zx-threshold">` with its label.
pub fn histogram(labels: &Labels<'_>, bins: &[Bin], threshold: Option<&Threshold>) -> String {
    let bins: Vec<Bin> = bins.iter().copied().filter(valid).collect();
    if bins.is_empty() {
        return empty(labels, WIDTH, 160.0);
    }
    let mut lo = bins.iter().map(|b| b.from).fold(f64::INFINITY, f64::min);
    let mut hi = bins.iter().map(|b| b.to).fold(f64::NEG_INFINITY, f64::max);
    if let Some(t) = threshold.filter(|t| t.value.is_finite()) {
        lo = lo.min(t.value);
        hi = hi.max(t.value);
    }
    let max = bins.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
    let mut s = open(labels, WIDTH, HEIGHT);
    for b in &bins {
        let x0 = threshold_x(b.from, lo, hi);
        let x1 = threshold_x(b.to, lo, hi);
        let h = scale(b.count as f64, 0.0, max, 0.0, BOTTOM - TOP);
        let range = format!("{}–{}", format_value(b.from), format_value(b.to));
        let _ = write!(
            s,
            r##"<rect class="zx-bin" x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#fff" stroke-width="0.5"><title>{}: {}</title></rect>"##,
            num(x0),
            num(BOTTOM - h),
            num(x1 - x0),
            num(h),
            BLUES[2],
            escape(&range),
            b.count,
        );
        if x1 - x0 >= 14.0 {
            let _ = write!(
                s,
                r#"<text class="zx-s" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                num((x0 + x1) / 2.0),
                num(BOTTOM - h - 3.0),
                b.count
            );
        }
    }
    // The x axis, with at most about eight labelled bin edges.
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="#555"/>"##
    );
    let every = bins.len().div_ceil(8).max(1);
    let mut edges: Vec<f64> = bins.iter().step_by(every).map(|b| b.from).collect();
    if let Some(last) = bins.last() {
        edges.push(last.to);
    }
    for e in edges {
        let x = threshold_x(e, lo, hi);
        let _ = write!(
            s,
            r##"<line x1="{0}" y1="{BOTTOM}" x2="{0}" y2="{1}" stroke="#555"/><text class="zx-s" x="{0}" y="{2}" text-anchor="middle">{3}</text>"##,
            num(x),
            num(BOTTOM + 4.0),
            num(BOTTOM + 16.0),
            escape(&format_value(e)),
        );
    }
    if let Some(t) = threshold.filter(|t| t.value.is_finite()) {
        let x = num(threshold_x(t.value, lo, hi));
        let _ = write!(
            s,
            r##"<line class="zx-threshold" x1="{x}" y1="{}" x2="{x}" y2="{BOTTOM}" stroke="#d55e00" stroke-width="2" stroke-dasharray="6 3"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"##,
            num(TOP - 8.0),
            num(TOP - 12.0),
            escape(&t.label),
        );
    }
    close(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_sits_at_its_value() {
        // Axis 0..10000 over x 50..620: 6000 is at 50 + 0.6 × 570 = 392.
        assert_eq!(threshold_x(6000.0, 0.0, 10000.0), 392.0);
        assert_eq!(threshold_x(0.0, 0.0, 10000.0), LEFT);
        assert_eq!(threshold_x(6000.0, 6000.0, 6000.0), LEFT);
    }
}
