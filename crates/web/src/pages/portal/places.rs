//! The division chooser: county → township → village with GET forms, no script.

use super::*;

/// One choice of a select.
pub struct Opt {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// The state of a stepwise chooser: the options at each level and what is chosen so far.
pub struct Place {
    pub counties: Vec<Opt>,
    pub townships: Vec<Opt>,
    pub villages: Vec<Opt>,
    pub county: Option<DivisionCode>,
    pub township: Option<DivisionCode>,
    pub village: Option<DivisionCode>,
    /// The chosen names from the county down, joined.
    pub chosen: String,
}

impl Place {
    /// The deepest division chosen.
    pub fn deepest(&self) -> Option<DivisionCode> {
        self.village.or(self.township).or(self.county)
    }

    pub fn deepest_code(&self) -> String {
        self.deepest()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct PlaceQuery {
    county: Option<String>,
    township: Option<String>,
    village: Option<String>,
}

/// A code of the given level directly under `parent`; anything else is ignored (the chooser
/// starts over at that level).
pub(super) fn level_code(
    input: &Option<String>,
    level: DivisionLevel,
    parent: &DivisionCode,
) -> Option<DivisionCode> {
    let code = DivisionCode::parse(input.as_deref()?.trim()).ok()?;
    (code.level() == level && code.parent() == Some(*parent)).then_some(code)
}

pub(super) async fn options(
    state: &AppState,
    parent: &DivisionCode,
    chosen: Option<&DivisionCode>,
    lang: Lang,
) -> AppResult<Vec<Opt>> {
    Ok(state
        .db
        .child_divisions(parent)
        .await?
        .into_iter()
        .map(|c| Opt {
            selected: chosen.is_some_and(|d| d.as_str() == c.division.code),
            name: if lang == Lang::Zh {
                c.division.name_zh
            } else {
                c.division.name_en
            },
            code: c.division.code,
        })
        .collect())
}

/// One level of the chooser: the children of `parent` and the chosen one among them.
pub(super) async fn level(
    state: &AppState,
    parent: Option<DivisionCode>,
    input: &Option<String>,
    level: DivisionLevel,
    lang: Lang,
) -> AppResult<(Vec<Opt>, Option<DivisionCode>)> {
    let Some(parent) = parent else {
        return Ok((Vec::new(), None));
    };
    let chosen = level_code(input, level, &parent);
    let opts = options(state, &parent, chosen.as_ref(), lang).await?;
    let chosen = chosen.filter(|c| opts.iter().any(|o| o.code == c.as_str()));
    Ok((opts, chosen))
}

pub(super) async fn place(state: &AppState, q: &PlaceQuery, lang: Lang) -> AppResult<Place> {
    let municipality = DivisionCode::parse("500000000000").map_err(|_| AppError::Internal)?;
    let (counties, county) = level(
        state,
        Some(municipality),
        &q.county,
        DivisionLevel::County,
        lang,
    )
    .await?;
    let (townships, township) =
        level(state, county, &q.township, DivisionLevel::Township, lang).await?;
    let (villages, village) =
        level(state, township, &q.village, DivisionLevel::Village, lang).await?;
    let chosen: Vec<String> = [&counties, &townships, &villages]
        .iter()
        .filter_map(|opts| opts.iter().find(|o| o.selected).map(|o| o.name.clone()))
        .collect();
    Ok(Place {
        counties,
        townships,
        villages,
        county,
        township,
        village,
        chosen: chosen.join(" › "),
    })
}

/// The chooser as far as a submitted division code is valid (to show a refused form again).
pub(super) async fn place_of(state: &AppState, code: &str, lang: Lang) -> AppResult<Place> {
    let division = DivisionCode::parse(code.trim()).ok();
    let at = |level: DivisionLevel| {
        let mut d = division?;
        while d.level() != level {
            d = d.parent()?;
        }
        Some(d.as_str().to_owned())
    };
    let q = PlaceQuery {
        county: at(DivisionLevel::County),
        township: at(DivisionLevel::Township),
        village: at(DivisionLevel::Village),
    };
    place(state, &q, lang).await
}

/// The query string of a chosen place (for links that keep it).
pub(super) fn place_query(place: &Place) -> String {
    crate::pages::query_string(&[
        ("county", place.county.as_ref().map_or("", |c| c.as_str())),
        (
            "township",
            place.township.as_ref().map_or("", |c| c.as_str()),
        ),
        ("village", place.village.as_ref().map_or("", |c| c.as_str())),
    ])
}
