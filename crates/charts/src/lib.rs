//! Pictures drawn on the server as SVG (issue 6 item 3): bar and stacked-bar charts, the
//! income histogram with the threshold line, monthly trends and the map of Chongqing's 38
//! districts and counties. Each function takes data and the words to show and returns an SVG
//! document as a `String`; nothing here does I/O, knows HTTP or holds a locale file, so the web
//! pages and the reports use the same pictures and the tests read them as XML.
//!
//! Every picture:
//! - is `<svg xmlns="http://www.w3.org/2000/svg" viewBox=… role="img">` (`role="group"` for a map
//!   whose counties are links: an image holds nothing to focus) with a `<title>` and a
//!   `<desc>` (for screen readers), in UTF-8;
//! - escapes every text for XML ([`escape`]), whoever wrote it;
//! - can be inlined in a page several times: no `id`s, and its style and classes are scoped by
//!   the `zx-` prefix (`<svg class="zx-chart">`), since a `<style>` in inline SVG applies to the
//!   whole page; class names (`zx-bar`, `zx-threshold`, …) are also what the tests look for;
//! - never relies on colour alone: bars carry their value as text, map counties their value in
//!   their `<title>`, lines their own dash pattern and marker;
//! - uses palettes readable in print and by colour-blind readers: ColorBrewer Blues (5
//!   classes) for sequential data and Okabe–Ito for categories;
//! - says "no data" (the caller's words, [`Labels::no_data`]) when there is nothing to draw,
//!   and still is a valid SVG;
//! - never panics: NaN and infinite values are missing values (drawn as nothing, shown as
//!   "–"), a zero or negative maximum does not divide by zero.
//!
//! The caller passes every word in the reader's language; county names come from the GeoJSON
//! in the language asked ([`Lang`]).

mod bars;
mod histogram;
mod line;
mod map;
mod svg;

pub use bars::{Bar, Orientation, Series, bar_chart, stacked_bar_chart};
pub use histogram::{Bin, Threshold, histogram};
pub use line::line_chart;
pub use map::{Classing, County, LegendClass, MapValue, choropleth, classes, counties};
pub use svg::{escape, format_value};
pub use zhenxing_core::Lang;

/// The words of a picture, in the reader's language.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    /// The picture's title, drawn at the top and given as `<title>`.
    pub title: &'a str,
    /// A sentence or two for screen readers (`<desc>`): what the picture shows.
    pub description: &'a str,
    /// Shown when there is nothing to draw ("暂无数据" / "no data").
    pub no_data: &'a str,
}

/// The pictures' own style, written into each as `<style>`. A page whose Content-Security-Policy
/// refuses inline styles serves the same rules in its stylesheet instead.
pub const STYLE: &str = ".zx-chart text{font-family:sans-serif;font-size:12px;fill:#222}.zx-chart .zx-t{font-size:15px;font-weight:bold}.zx-chart .zx-s{font-size:10px}";

/// ColorBrewer Blues, 5 classes (light to dark): sequential, print-friendly, colour-blind safe.
pub const BLUES: [&str; 5] = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
/// Okabe–Ito, for categories (series): distinguishable with the common colour-vision
/// deficiencies. Yellow is left out (too light on white).
pub const CATEGORICAL: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9", "#cc79a7", "#000000",
];
/// Counties without a value.
pub const NO_DATA_GREY: &str = "#d9d9d9";
