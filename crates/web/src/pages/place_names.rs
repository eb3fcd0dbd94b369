//! Where a row of a list belongs, in words: a village's name with its township's, in the
//! reader's language, read once per page for the codes on it.

use crate::AppState;
use crate::error::{AppError, AppResult};
use std::collections::HashMap;
use zhenxing_core::division::short_name;
use zhenxing_core::{DivisionCode, DivisionLevel, Lang};
use zhenxing_store::accounts::Account;
use zhenxing_store::divisions::PlaceName;

pub struct Places {
    names: HashMap<String, PlaceName>,
    lang: Lang,
}

impl Places {
    pub async fn of<'a>(
        state: &AppState,
        lang: Lang,
        codes: impl IntoIterator<Item = &'a str>,
    ) -> AppResult<Places> {
        let codes: Vec<&str> = codes.into_iter().collect();
        Ok(Places {
            names: state.db.place_names(&codes).await?,
            lang,
        })
    }

    /// A village reads "巴山镇 立新村" in Chinese (its committee left out), "Lixin Village,
    /// Bashan Town" in English; the code itself when the registry does not know it.
    pub fn label(&self, code: &str) -> String {
        match self.names.get(code) {
            None => code.to_owned(),
            Some(p) => match self.lang {
                Lang::Zh => format!("{} {}", p.parent_zh, short_name(&p.name_zh))
                    .trim()
                    .to_owned(),
                Lang::En if p.parent_en.is_empty() => p.name_en.clone(),
                Lang::En => format!("{}, {}", p.name_en, p.parent_en),
            },
        }
    }
}

/// One choice of a "村（社区）" filter: a division below the account's own, by name, with
/// the township (or county) it belongs to as its group.
pub struct PlaceChoice {
    pub code: String,
    pub label: String,
    pub group: String,
}

/// What an inbox's place filter offers an account: a township's villages; a county's
/// townships and villages (grouped by township); the municipality's counties. A village
/// cadre's list is its own village: nothing to choose.
pub async fn place_choices(
    state: &AppState,
    lang: Lang,
    account: &Account,
) -> AppResult<Vec<PlaceChoice>> {
    let deepest = match account.division.level() {
        DivisionLevel::Province => DivisionLevel::County,
        DivisionLevel::County | DivisionLevel::Township => DivisionLevel::Village,
        DivisionLevel::Village => return Ok(Vec::new()),
    };
    let below = state.db.divisions_below(&account.division, deepest).await?;
    let name = |d: &zhenxing_store::divisions::Division| match lang {
        Lang::Zh => short_name(&d.name_zh),
        Lang::En => d.name_en.clone(),
    };
    let mut group = String::new();
    let mut choices = Vec::with_capacity(below.len());
    for d in &below {
        let label = name(d);
        let is_village = d.level == "village";
        if !is_village && deepest == DivisionLevel::Village {
            group = label.clone();
        }
        choices.push(PlaceChoice {
            code: d.code.clone(),
            label: if is_village || deepest != DivisionLevel::Village {
                label
            } else {
                format!("{label}{}", whole(lang))
            },
            group: if is_village {
                group.clone()
            } else {
                String::new()
            },
        });
    }
    Ok(choices)
}

/// "（全部）": a township chosen as a whole, among its villages.
fn whole(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "（全部）",
        Lang::En => "(all)",
    }
}

/// The division a `village=CODE` filter names, within the account's scope; none for a blank
/// filter. A code outside the scope is a division that does not exist (404).
pub fn chosen_place(account: &Account, code: Option<&str>) -> AppResult<Option<DivisionCode>> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let code = DivisionCode::parse(code).map_err(|_| AppError::NotFound)?;
    if !account.scope().contains(&code) {
        return Err(AppError::NotFound);
    }
    Ok(Some(code))
}
