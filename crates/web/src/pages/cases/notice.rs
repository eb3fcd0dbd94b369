//! The printable public notice of a village.

use super::*;

#[derive(Template)]
#[template(path = "notice.html")]
pub(super) struct NoticePage {
    c: Chrome,
    place: String,
    village: String,
    entries: Vec<NoticeLine>,
    today: String,
}

pub(super) struct NoticeLine {
    kind: String,
    head_name: String,
    village_group: String,
    category: String,
    period: String,
    /// The notice period is over (it stays listed for a month after).
    ended: bool,
}

/// The names of a village and the divisions above it (county, township, village).
pub(super) async fn place_names(
    state: &AppState,
    village: &DivisionCode,
    lang: Lang,
) -> AppResult<Vec<String>> {
    let mut codes = vec![*village];
    let mut code = *village;
    while let Some(parent) = code.parent() {
        if parent.level() == DivisionLevel::Province {
            break;
        }
        codes.push(parent);
        code = parent;
    }
    let mut names = Vec::new();
    for code in codes.iter().rev() {
        if let Some(d) = state.db.division(code).await? {
            names.push(if lang == Lang::Zh {
                d.name_zh
            } else {
                d.name_en
            });
        }
    }
    Ok(names)
}

/// The notice as posted on the village's noticeboard and on the public portal: no account
/// needed, and nothing but names, village groups, categories and dates (DOMAIN.md 1.7).
pub async fn notice(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(village): Path<String>,
) -> AppResult<Response> {
    let code = DivisionCode::parse(&village).map_err(|_| AppError::NotFound)?;
    if code.level() != DivisionLevel::Village {
        return Err(AppError::NotFound);
    }
    if state.db.division(&code).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let lang = viewer.lang;
    let today = today_in_china();
    let entries: Vec<NoticeEntry> =
        procedures::notices(&state.db, code.as_str(), today, 30).await?;
    let names = place_names(&state, &code, lang).await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("notice-title");
    let sep = if lang == Lang::Zh { "至" } else { " to " };
    let page = NoticePage {
        village: names.last().cloned().unwrap_or_default(),
        place: names.join(if lang == Lang::Zh { "" } else { ", " }),
        entries: entries
            .into_iter()
            .map(|e| NoticeLine {
                kind: e.kind.label(lang).to_owned(),
                head_name: e.head_name,
                village_group: e.village_group.unwrap_or_default(),
                category: e
                    .category
                    .map(|m| m.label(lang).to_owned())
                    .unwrap_or_default(),
                period: format!("{}{sep}{}", e.starts_on, e.ends_on),
                ended: e.ends_on < today,
            })
            .collect(),
        today: today.to_string(),
        c,
    };
    Ok(render(&page))
}
