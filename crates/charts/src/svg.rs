//! The SVG document, escaping and number formatting shared by the charts.

use crate::Labels;
use std::fmt::Write;

/// Escapes a text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 (tab, LF and CR are).
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A value as shown on a chart: whole numbers without decimals, others with at most two,
/// a missing (NaN or infinite) value as "–".
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v.abs() >= 1e15 {
        return format!("{v:.3e}");
    }
    if v.fract() == 0.0 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// A coordinate with one decimal, without a trailing ".0".
pub(crate) fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let tenths = (v * 10.0).round() as i64;
    tenths_str(tenths)
}

pub(crate) fn tenths_str(tenths: i64) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    let a = tenths.unsigned_abs();
    if a.is_multiple_of(10) {
        format!("{sign}{}", a / 10)
    } else {
        format!("{sign}{}.{}", a / 10, a % 10)
    }
}

/// The opening of a picture: the root element, `<title>`, `<desc>`, the style and the title
/// drawn at the top.
pub(crate) fn open(labels: &Labels<'_>, width: f64, height: f64) -> String {
    open_as(labels, width, height, "img")
}

/// The opening of a picture with links inside (a map whose areas open their divisions): a
/// `group`, since an `img` is one image to assistive technology and may hold nothing to
/// focus (axe's `nested-interactive`).
pub(crate) fn open_with_links(labels: &Labels<'_>, width: f64, height: f64) -> String {
    open_as(labels, width, height, "group")
}

fn open_as(labels: &Labels<'_>, width: f64, height: f64, role: &str) -> String {
    let mut s = String::with_capacity(4096);
    let title = escape(labels.title);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="{role}" class="zx-chart">"#,
        num(width),
        num(height)
    );
    let _ = write!(
        s,
        r#"<title>{title}</title><desc>{}</desc>"#,
        escape(labels.description)
    );
    let _ = write!(s, "<style>{}</style>", crate::STYLE);
    let _ = write!(s, r#"<text class="zx-t" x="8" y="20">{title}</text>"#);
    s
}

pub(crate) fn close(mut s: String) -> String {
    s.push_str("</svg>");
    s
}

/// A picture with nothing to draw: the title and the "no data" words.
pub(crate) fn empty(labels: &Labels<'_>, width: f64, height: f64) -> String {
    let mut s = open(labels, width, height);
    let _ = write!(
        s,
        r#"<text class="zx-nodata" x="{}" y="{}" text-anchor="middle">{}</text>"#,
        num(width / 2.0),
        num(height / 2.0),
        escape(labels.no_data)
    );
    close(s)
}

/// A rough width of a text at `size` px in a sans-serif font: a CJK or full-width character is
/// about one em, another character about 0.6 em. Enough to make room for labels.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| {
            if (c as u32) >= 0x2e80 {
                size
            } else {
                size * 0.6
            }
        })
        .sum()
}

/// A finite value or nothing.
pub(crate) fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// A "nice" step (1, 2 or 5 × 10^n) for about `ticks` intervals over `span` (> 0).
pub(crate) fn nice_step(span: f64, ticks: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / ticks.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let step = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    } * mag;
    if step.is_finite() && step > 0.0 {
        step
    } else {
        span
    }
}

/// Maps `v` in `[lo, hi]` to `[a, b]`; a degenerate domain maps to `a`.
pub(crate) fn scale(v: f64, lo: f64, hi: f64, a: f64, b: f64) -> f64 {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return a;
    }
    let t = ((v - lo) / span).clamp(0.0, 1.0);
    a + t * (b - a)
}

/// Legend swatch and text, one row.
pub(crate) fn legend_row(s: &mut String, x: f64, y: f64, fill: &str, text: &str) {
    let _ = write!(
        s,
        r##"<rect class="zx-key" x="{}" y="{}" width="12" height="12" fill="{fill}" stroke="#555" stroke-width="0.5"/><text x="{}" y="{}">{}</text>"##,
        num(x),
        num(y),
        num(x + 16.0),
        num(y + 10.5),
        escape(text)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>\u{1}"),
            "&lt;script&gt;alert(&apos;x&apos;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("巫溪县\n"), "巫溪县\n");
    }

    #[test]
    fn formats_values_and_coordinates() {
        assert_eq!(format_value(1234.0), "1234");
        assert_eq!(format_value(0.126), "0.13");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(-0.001), "0");
        assert_eq!(format_value(f64::NAN), "–");
        assert_eq!(format_value(1e300), "1.000e300");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(-0.04), "0");
        assert_eq!(num(-0.06), "-0.1");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 5.0), 2.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
        assert_eq!(nice_step(f64::INFINITY, 5.0), 1.0);
        assert_eq!(scale(5.0, 0.0, 10.0, 0.0, 100.0), 50.0);
        assert_eq!(scale(5.0, 3.0, 3.0, 7.0, 100.0), 7.0);
    }
}
