//! Where a row of a list belongs, in words: a village's name with its township's, in the
//! reader's language, read once per page for the codes on it.

use crate::AppState;
use crate::error::AppResult;
use std::collections::HashMap;
use zhenxing_core::Lang;
use zhenxing_core::division::short_name;
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
