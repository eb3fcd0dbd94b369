//! The map of Chongqing's 38 districts and counties (`data/chongqing-counties.geojson`,
//! built in), coloured by any indicator.
//!
//! **Projection.** Equirectangular, with longitude scaled by the cosine of the latitude at the
//! middle of the extent (about 30.2° N): x = (λ − λ_min) cos φ_m, y = φ_max − φ, then scaled to
//! 600 units wide. Over Chongqing's 4° of latitude the scale error of this projection stays
//! within about ±3 %, invisible at the size of a web page; shapes keep their look and no
//! projection library is needed. Polygons and MultiPolygons are drawn with every vertex (no
//! simplification); coordinates are rounded to 0.1 of a viewBox unit and written as relative
//! moves from the rounded previous vertex (so the rounding does not drift), and a vertex that
//! rounds onto the previous one is not written again, nor the closing vertex of a ring (`z`
//! draws that side); a ring left with fewer than 3 vertices (a sliver that encloses no area at
//! this precision) is left out. The paths are computed once per process.
//! Measured: the whole map with its 38 links is about 158 KB (38 KB gzipped), against 426 KB
//! for the GeoJSON (`cargo run -p zhenxing-charts --example gallery -- DIR` prints the sizes).
//!
//! **Classes.** [`Classing::Quantiles`] (the one the pages use): five classes holding about the
//! same number of counties each, bounds taken from the values themselves. The 38 units mix
//! dense urban districts and large rural counties, so most indicators are skewed; equal
//! intervals would paint most counties in one or two colours. [`Classing::EqualIntervals`] is
//! there for indicators whose absolute scale matters (a share from 0 to 100 %). A class holds
//! its lower bound and not its upper one, except the last, which holds the maximum. Equal
//! quantile bounds (ties) merge, so there may be fewer than five classes. A county without a
//! value (or with NaN) is grey and the legend says so in the caller's words.
//!
//! **Colours.** ColorBrewer Blues, light to dark ([`crate::BLUES`]); never alone: each county's
//! `<title>` (its tooltip and accessible name) gives the name and the value, and the legend
//! gives the bounds of each class and how many counties it holds.

use crate::svg::{
    close, escape, finite, format_value, legend_row, open, open_with_links, tenths_str,
};
use crate::{BLUES, Labels, NO_DATA_GREY};
use std::fmt::Write;
use std::sync::OnceLock;
use zhenxing_core::Lang;

const GEOJSON: &str = include_str!("../../../data/chongqing-counties.geojson");
const MAP_WIDTH: f64 = 600.0;
const MARGIN: f64 = 10.0;
const TOP: f64 = 36.0;
const LEGEND_WIDTH: f64 = 190.0;

/// A county (district or county) of the map, with its outline as an SVG path.
#[derive(Debug, Clone, PartialEq)]
pub struct County {
    /// The 6-digit GB/T 2260 code.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The `d` of its `<path>`, in the map's viewBox units.
    pub path: String,
}

impl County {
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.name_zh,
            Lang::En => &self.name_en,
        }
    }
}

/// An indicator's value for one county, by its 6-digit code.
#[derive(Debug, Clone, PartialEq)]
pub struct MapValue {
    pub code: String,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classing {
    Quantiles,
    EqualIntervals,
}

/// A class of the legend: `[from, to)` (the last `[from, to]`), its colour and how many of the
/// values fall in it.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendClass {
    pub from: f64,
    pub to: f64,
    pub fill: &'static str,
    pub count: usize,
}

struct Map {
    counties: Vec<County>,
    height: f64,
}

type Ring = Vec<(f64, f64)>;

fn rings_of(geometry: &serde_json::Value) -> Vec<Ring> {
    let ring = |r: &serde_json::Value| -> Ring {
        r.as_array()
            .map(|pts| {
                pts.iter()
                    .filter_map(|p| {
                        let p = p.as_array()?;
                        Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
                    })
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect()
            })
            .unwrap_or_default()
    };
    let polygon = |p: &serde_json::Value| -> Vec<Ring> {
        p.as_array()
            .map(|rs| rs.iter().map(ring).collect())
            .unwrap_or_default()
    };
    let coords = &geometry["coordinates"];
    match geometry["type"].as_str() {
        Some("Polygon") => polygon(coords),
        Some("MultiPolygon") => coords
            .as_array()
            .map(|ps| ps.iter().flat_map(polygon).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn push_tenths(d: &mut String, v: i64) {
    let s = tenths_str(v);
    if !d.is_empty() && !s.starts_with('-') && !d.ends_with(['M', 'l']) {
        d.push(' ');
    }
    d.push_str(&s);
}

fn build() -> Map {
    let parsed: serde_json::Value = serde_json::from_str(GEOJSON).unwrap_or_default();
    let features = parsed["features"].as_array().cloned().unwrap_or_default();
    let shapes: Vec<(&serde_json::Value, Vec<Ring>)> = features
        .iter()
        .map(|f| (&f["properties"], rings_of(&f["geometry"])))
        .collect();
    let all = || shapes.iter().flat_map(|(_, rs)| rs.iter().flatten());
    let (mut lon0, mut lon1, mut lat0, mut lat1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(lon, lat) in all() {
        lon0 = lon0.min(lon);
        lon1 = lon1.max(lon);
        lat0 = lat0.min(lat);
        lat1 = lat1.max(lat);
    }
    let k_lon = ((lat0 + lat1) / 2.0).to_radians().cos();
    let span = (lon1 - lon0) * k_lon;
    let k = if span > 0.0 { MAP_WIDTH / span } else { 1.0 };
    let height = if lat1 > lat0 { (lat1 - lat0) * k } else { 0.0 };
    let project = |(lon, lat): (f64, f64)| -> (i64, i64) {
        let x = MARGIN + (lon - lon0) * k_lon * k;
        let y = TOP + (lat1 - lat) * k;
        ((x * 10.0).round() as i64, (y * 10.0).round() as i64)
    };
    let counties = shapes
        .iter()
        .filter_map(|(props, rings)| {
            let text = |key: &str| props[key].as_str().map(str::to_owned);
            let mut d = String::new();
            for ring in rings {
                let mut kept: Vec<(i64, i64)> = Vec::with_capacity(ring.len());
                for &p in ring {
                    let p = project(p);
                    if kept.last() != Some(&p) {
                        kept.push(p);
                    }
                }
                // The closing vertex repeats the first; `z` draws that side.
                if kept.len() > 1 && kept.first() == kept.last() {
                    kept.pop();
                }
                // Fewer than 3 vertices enclose no area at this precision.
                let [(x0, y0), ..] = kept[..] else { continue };
                if kept.len() < 3 {
                    continue;
                }
                let mut r = String::from("M");
                push_tenths(&mut r, x0);
                r.push(',');
                r.push_str(&tenths_str(y0));
                r.push('l');
                for w in kept.windows(2) {
                    push_tenths(&mut r, w[1].0 - w[0].0);
                    push_tenths(&mut r, w[1].1 - w[0].1);
                }
                r.push('z');
                d.push_str(&r);
            }
            Some(County {
                code: text("code")?,
                name_zh: text("name_zh")?,
                name_en: text("name_en")?,
                path: d,
            })
        })
        .collect();
    Map { counties, height }
}

fn map() -> &'static Map {
    static MAP: OnceLock<Map> = OnceLock::new();
    MAP.get_or_init(build)
}

/// The counties of the built-in map, in the file's order.
pub fn counties() -> &'static [County] {
    &map().counties
}

fn spread(classes: usize) -> Vec<&'static str> {
    match classes {
        0 => Vec::new(),
        1 => vec![BLUES[2]],
        c => (0..c)
            .map(|i| BLUES[(i * (BLUES.len() - 1) + (c - 1) / 2) / (c - 1)])
            .collect(),
    }
}

/// The legend classes of a set of values (missing values left out): at most five, see the
/// module documentation. Empty when no value is finite.
pub fn classes(values: &[f64], classing: Classing) -> Vec<LegendClass> {
    let mut v: Vec<f64> = values.iter().copied().filter_map(finite).collect();
    v.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (v.first(), v.last()) else {
        return Vec::new();
    };
    let n = v.len();
    let wanted = BLUES.len();
    let mut lower: Vec<f64> = match classing {
        Classing::Quantiles => (0..wanted.min(n))
            .map(|i| v[i * n / wanted.min(n)])
            .collect(),
        Classing::EqualIntervals => (0..wanted)
            .map(|i| min + (max - min) * i as f64 / wanted as f64)
            .collect(),
    };
    lower.dedup();
    let fills = spread(lower.len());
    let mut out: Vec<LegendClass> = lower
        .iter()
        .enumerate()
        .map(|(i, &from)| LegendClass {
            from,
            to: lower.get(i + 1).copied().unwrap_or(max),
            fill: fills.get(i).copied().unwrap_or(BLUES[2]),
            count: 0,
        })
        .collect();
    for x in v {
        if let Some(i) = class_of(&out, x) {
            out[i].count += 1;
        }
    }
    out
}

fn class_of(classes: &[LegendClass], x: f64) -> Option<usize> {
    if !x.is_finite() {
        return None;
    }
    classes.iter().rposition(|c| c.from <= x).or(Some(0))
}

/// Javascript URLs are not written; everything else is escaped.
fn safe_href(url: &str) -> String {
    let scheme: String = url
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(11)
        .collect::<String>()
        .to_ascii_lowercase();
    if scheme.starts_with("javascript:")
        || scheme.starts_with("data:")
        || scheme.starts_with("vbscript:")
    {
        "#".into()
    } else {
        escape(url)
    }
}

/// The map coloured by `values` (one per 6-digit county code; the first value given for a code
/// counts), county names in `lang`. Each county is an `<a href>` to `href(code)` holding a
/// `<title>` ("name: value", or "name: no data") and its `<path>`, or, when `href` gives
/// `None` (a county the reader may not open), a `<g>` holding the same; the legend gives each
/// class's bounds and count, and the grey of "no data" when a county lacks a value. Without
/// any value the whole map is grey and the legend says "no data".
pub fn choropleth(
    labels: &Labels<'_>,
    values: &[MapValue],
    classing: Classing,
    lang: Lang,
    href: &dyn Fn(&str) -> Option<String>,
) -> String {
    let map = map();
    let value_of = |code: &str| {
        values
            .iter()
            .find(|v| v.code == code)
            .and_then(|v| finite(v.value))
    };
    let shown: Vec<f64> = map
        .counties
        .iter()
        .filter_map(|c| value_of(&c.code))
        .collect();
    let legend = classes(&shown, classing);
    let height = (TOP + map.height + MARGIN).max(TOP + 40.0 + 20.0 * 7.0);
    let width = MARGIN * 2.0 + MAP_WIDTH + LEGEND_WIDTH;
    let linked = map.counties.iter().any(|c| href(&c.code).is_some());
    let mut s = if linked {
        open_with_links(labels, width, height)
    } else {
        open(labels, width, height)
    };
    s.push_str(r##"<g class="zx-counties" stroke="#fff" stroke-width="0.6" fill-rule="evenodd">"##);
    let mut missing = 0;
    for county in &map.counties {
        let name = escape(county.name(lang));
        let (fill, value) = match value_of(&county.code) {
            Some(v) => (
                class_of(&legend, v)
                    .and_then(|i| legend.get(i))
                    .map(|c| c.fill)
                    .unwrap_or(NO_DATA_GREY),
                escape(&format_value(v)),
            ),
            None => {
                missing += 1;
                (NO_DATA_GREY, escape(labels.no_data))
            }
        };
        let _ = match href(&county.code) {
            Some(url) => write!(
                s,
                r#"<a href="{}"><title>{name}: {value}</title><path d="{}" fill="{fill}"/></a>"#,
                safe_href(&url),
                county.path,
            ),
            None => write!(
                s,
                r#"<g><title>{name}: {value}</title><path d="{}" fill="{fill}"/></g>"#,
                county.path,
            ),
        };
    }
    s.push_str("</g><g class=\"zx-legend\">");
    let x = MARGIN * 2.0 + MAP_WIDTH;
    let mut y = TOP + 8.0;
    for class in &legend {
        let text = format!(
            "{} – {} ({})",
            format_value(class.from),
            format_value(class.to),
            class.count
        );
        legend_row(&mut s, x, y, class.fill, &text);
        y += 20.0;
    }
    if missing > 0 || legend.is_empty() {
        let text = format!("{} ({missing})", labels.no_data);
        legend_row(&mut s, x, y, NO_DATA_GREY, &text);
    }
    let _ = write!(s, "</g>");
    close(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_map_has_the_38_counties() {
        let c = counties();
        assert_eq!(c.len(), 38);
        assert!(
            c.iter()
                .all(|c| c.code.len() == 6 && c.code.starts_with("50"))
        );
        assert!(
            c.iter()
                .all(|c| c.path.starts_with('M') && c.path.ends_with('z'))
        );
        // The 7 MultiPolygons give more than one sub-path.
        assert!(c.iter().filter(|c| c.path.matches('M').count() > 1).count() >= 7);
        assert!(
            map().height > 500.0 && map().height < 700.0,
            "{}",
            map().height
        );
    }

    /// The numbers of a path: `M` x,y `l` dx dy … `z`, separated by a space, a comma or the
    /// sign of the next number.
    fn sub_paths(d: &str) -> Vec<Vec<f64>> {
        let mut out = Vec::new();
        for sub in d.split('M').filter(|s| !s.is_empty()) {
            let body = sub
                .trim_end_matches('z')
                .replace(['l', ','], " ")
                .replace('-', " -");
            let nums = body
                .split_whitespace()
                .map(|t| {
                    assert!(t.split('.').nth(1).is_none_or(|f| f.len() == 1), "{t}");
                    t.parse::<f64>().unwrap_or(f64::NAN)
                })
                .collect();
            out.push(nums);
        }
        out
    }

    #[test]
    fn coordinates_have_one_decimal_and_stay_in_the_view_box() {
        let (w, h) = (MARGIN + MAP_WIDTH, TOP + map().height);
        let mut vertices = 0;
        for county in counties() {
            for nums in sub_paths(&county.path) {
                assert!(nums.len() >= 6 && nums.len() % 2 == 0, "{}", county.code);
                let (mut x, mut y) = (0.0, 0.0);
                for pair in nums.chunks(2) {
                    x += pair[0];
                    y += pair[1];
                    vertices += 1;
                    assert!(x >= MARGIN - 0.05 && x <= w + 0.05, "{} x {x}", county.code);
                    assert!(y >= TOP - 0.05 && y <= h + 0.05, "{} y {y}", county.code);
                }
            }
        }
        // Every vertex of the GeoJSON (20,246) but those that round onto the previous one.
        assert!(vertices > 15_000 && vertices <= 20_246, "{vertices}");
    }

    #[test]
    fn quantile_bounds_of_one_to_ten() {
        // Sorted 1..=10, five classes: lower bounds at ranks 0, 2, 4, 6, 8 -> 1, 3, 5, 7, 9;
        // two values in each class; the last runs to the maximum, 10.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let c = classes(&v, Classing::Quantiles);
        let bounds: Vec<(f64, f64, usize)> = c.iter().map(|c| (c.from, c.to, c.count)).collect();
        assert_eq!(
            bounds,
            [
                (1.0, 3.0, 2),
                (3.0, 5.0, 2),
                (5.0, 7.0, 2),
                (7.0, 9.0, 2),
                (9.0, 10.0, 2)
            ]
        );
        assert_eq!(c.iter().map(|c| c.fill).collect::<Vec<_>>(), BLUES);
    }

    #[test]
    fn equal_interval_bounds_ties_and_nothing() {
        // 0..=100 in five equal intervals of 20; 100 falls in the last class.
        let c = classes(
            &[0.0, 10.0, 50.0, 100.0, f64::NAN],
            Classing::EqualIntervals,
        );
        let bounds: Vec<(f64, f64, usize)> = c.iter().map(|c| (c.from, c.to, c.count)).collect();
        assert_eq!(
            bounds,
            [
                (0.0, 20.0, 2),
                (20.0, 40.0, 0),
                (40.0, 60.0, 1),
                (60.0, 80.0, 0),
                (80.0, 100.0, 1)
            ]
        );
        // All equal: one class holding them all.
        let same = classes(&[7.0; 4], Classing::Quantiles);
        assert_eq!(same.len(), 1);
        assert_eq!((same[0].from, same[0].to, same[0].count), (7.0, 7.0, 4));
        assert!(classes(&[f64::NAN], Classing::EqualIntervals).is_empty());
        // Two distinct values among ties: two classes, the lightest and the darkest blue.
        let two = classes(&[1.0, 1.0, 1.0, 1.0, 9.0], Classing::Quantiles);
        assert_eq!(
            two.iter().map(|c| c.fill).collect::<Vec<_>>(),
            [BLUES[0], BLUES[4]]
        );
    }

    #[test]
    fn dangerous_links_are_not_written() {
        assert_eq!(safe_href(" JavaScript:alert(1)"), "#");
        assert_eq!(safe_href("java\tscript:alert(1)"), "#");
        assert_eq!(
            safe_href("/divisions/500101?a=1&b=2"),
            "/divisions/500101?a=1&amp;b=2"
        );
    }
}
