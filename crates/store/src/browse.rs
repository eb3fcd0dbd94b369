//! Reading the registry the way people browse it: a division's children with their counts,
//! the path from the municipality down to a division, and pages of households under filters.
//!
//! Division scopes are code ranges (`BETWEEN '500229000000' AND '500229999999'`) rather than
//! `LIKE` patterns: both SQLite and PostgreSQL use an index for a range whatever the collation.
//! Lists are ordered by (division code, id), the `households_browse` index, and keyset-paginated
//! on it, so that a page of the whole municipality and page 1,000 cost what page 1 of a village
//! costs.

use crate::divisions::Division;
use crate::{Db, Result, on_pool};
use serde::Serialize;
use zhenxing_core::{DivisionCode, DivisionLevel, HouseholdType, IdNumber, MonitoringCategory};

/// The lowest and highest 12-digit code under a division.
pub fn code_range(division: &DivisionCode) -> (String, String) {
    let prefix = division.prefix();
    (format!("{prefix:0<12}"), format!("{prefix:9<12}"))
}

/// A child division with its registry counts.
#[derive(Debug, Clone, Serialize)]
pub struct ChildDivision {
    pub division: Division,
    pub households: i64,
    pub members: i64,
    pub lifted_out_households: i64,
    pub monitored_households: i64,
}

/// What a search box held, recognised: a full ID number, or text that is matched against
/// household numbers and members' names (household numbers may hold letters, names digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    IdNumber(IdNumber),
    Text(String),
}

impl Search {
    /// Recognises what was typed: a valid ID number, else text. `None` for blank input.
    pub fn recognise(input: &str) -> Option<Search> {
        let s = input.trim();
        if s.is_empty() {
            return None;
        }
        if let Ok(id) = IdNumber::parse(s) {
            return Some(Search::IdNumber(id));
        }
        Some(Search::Text(s.chars().take(50).collect()))
    }
}

/// Which households a list shows. `scope` is the account's division (always applied);
/// `division` narrows it further.
#[derive(Debug, Clone)]
pub struct HouseholdFilter {
    pub scope: DivisionCode,
    pub division: Option<DivisionCode>,
    pub household_type: Option<HouseholdType>,
    pub category: Option<MonitoringCategory>,
    /// Per-capita net income strictly below this many fen.
    pub income_below: Option<i64>,
    pub search: Option<Search>,
}

/// One line of a household list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HouseholdSummary {
    pub id: i64,
    pub household_no: String,
    pub division_code: String,
    pub village_zh: String,
    pub village_en: String,
    pub head_name: Option<String>,
    pub household_type: String,
    pub monitoring_category: Option<String>,
    pub member_count: i64,
    pub per_capita_net_income: i64,
}

/// A page of households and where the next page starts.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdPage {
    pub households: Vec<HouseholdSummary>,
    /// The id to pass as `after` for the next page; `None` on the last page.
    pub next_after: Option<i64>,
}

impl Db {
    /// The children of a division (counties of the municipality, townships of a county,
    /// villages of a township) with their counts, in code order.
    pub async fn child_divisions(&self, parent: &DivisionCode) -> Result<Vec<ChildDivision>> {
        let child_len: i64 = match parent.level() {
            DivisionLevel::Province => 6,
            DivisionLevel::County => 9,
            DivisionLevel::Township | DivisionLevel::Village => 12,
        };
        if parent.level() == DivisionLevel::Village {
            return Ok(Vec::new());
        }
        let children: Vec<Division> = on_pool!(self, pool => sqlx::query_as::<_, Division>(
            "SELECT code, parent_code, level, kind, name_zh, name_en, former_poverty_county, \
             former_poverty_village, version_year FROM divisions WHERE parent_code = $1 ORDER BY code")
            .bind(parent.as_str()).fetch_all(pool).await?);
        let (lo, hi) = code_range(parent);
        let counts: Vec<(String, i64, i64, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT substr(division_code, 1, $3) AS k, CAST(SUM(households) AS BIGINT), \
             CAST(SUM(members) AS BIGINT), CAST(SUM(lifted_out_households) AS BIGINT), \
             CAST(SUM(monitored_households) AS BIGINT) \
             FROM village_counts WHERE division_code BETWEEN $1 AND $2 GROUP BY k")
            .bind(&lo).bind(&hi).bind(child_len as i32).fetch_all(pool).await?);
        let counts: std::collections::HashMap<String, (i64, i64, i64, i64)> = counts
            .into_iter()
            .map(|(k, a, b, c, d)| (k, (a, b, c, d)))
            .collect();
        Ok(children
            .into_iter()
            .map(|division| {
                let key = &division.code[..child_len as usize];
                let (households, members, lifted_out_households, monitored_households) =
                    counts.get(key).copied().unwrap_or_default();
                ChildDivision {
                    division,
                    households,
                    members,
                    lifted_out_households,
                    monitored_households,
                }
            })
            .collect())
    }

    /// The division and its ancestors, from the municipality down (one query: every page's
    /// breadcrumb asks for it).
    pub async fn division_path(&self, code: &DivisionCode) -> Result<Vec<Division>> {
        let mut codes = vec![code.as_str().to_owned()];
        let mut current = *code;
        while let Some(parent) = current.parent() {
            codes.push(parent.as_str().to_owned());
            current = parent;
        }
        // At most four levels; unused places repeat the division's own code.
        let at = |i: usize| codes.get(i).unwrap_or(&codes[0]).clone();
        let mut path: Vec<Division> = on_pool!(self, pool => sqlx::query_as::<_, Division>(
            "SELECT code, parent_code, level, kind, name_zh, name_en, former_poverty_county, \
             former_poverty_village, version_year FROM divisions WHERE code IN ($1, $2, $3, $4)")
            .bind(at(0)).bind(at(1)).bind(at(2)).bind(at(3))
            .fetch_all(pool).await?);
        // Codes of higher levels have fewer significant digits: sorting by the code's
        // significant prefix length puts the municipality first.
        path.sort_by_key(|d| DivisionCode::parse(&d.code).map_or(0, |c| c.prefix().len()));
        Ok(path)
    }

    /// A page of households under the filter, in (division code, id) order, after the household
    /// `after` (the last id of the previous page).
    pub async fn household_page(
        &self,
        filter: &HouseholdFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<HouseholdPage> {
        let Some(within) = filter.within() else {
            return Ok(HouseholdPage {
                households: Vec::new(),
                next_after: None,
            });
        };
        let (lo, hi) = code_range(&within);
        // The cursor: the household `after` and its division code. The page starts at that
        // division code (an index seek) and skips the cursor's own village's households up to
        // and including it.
        let (start, after_code, after_id) = match after {
            Some(id) if id > 0 => {
                let code: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
                    "SELECT division_code FROM households WHERE id = $1")
                    .bind(id).fetch_optional(pool).await?);
                match code {
                    Some(code) if code >= lo => (code.clone(), code, id),
                    // A cursor outside the scope (or a deleted household): from the start.
                    _ => (lo.clone(), String::new(), 0),
                }
            }
            _ => (lo.clone(), String::new(), 0),
        };
        let mut binds = vec![
            Bind::Text(start),
            Bind::Text(hi),
            Bind::Text(after_code),
            Bind::Int(after_id),
        ];
        let mut sql = String::from(
            "SELECT h.id, h.household_no, h.division_code, d.name_zh AS village_zh, d.name_en AS village_en, \
             (SELECT m.name FROM members m WHERE m.county_code = h.county_code AND m.household_id = h.id \
              AND m.relation = 'head' ORDER BY m.position LIMIT 1) AS head_name, \
             h.household_type, h.monitoring_category, CAST(h.member_count AS BIGINT) AS member_count, \
             CAST(h.per_capita_net_income AS BIGINT) AS per_capita_net_income \
             FROM households h JOIN divisions d ON d.code = h.division_code \
             WHERE h.division_code >= $1 AND h.division_code <= $2 \
             AND NOT (h.division_code = $3 AND h.id <= $4)",
        );
        filter_conditions(filter, &mut sql, &mut binds)?;
        binds.push(Bind::Int(i64::from(limit) + 1));
        sql.push_str(&format!(
            " ORDER BY h.division_code, h.id LIMIT ${}",
            binds.len()
        ));
        let mut rows: Vec<HouseholdSummary> = on_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, HouseholdSummary>(sqlx::AssertSqlSafe(sql));
            for b in &binds {
                q = match b {
                    Bind::Text(t) => q.bind(t.as_str()),
                    Bind::Int(i) => q.bind(*i),
                };
            }
            q.fetch_all(pool).await?
        });
        let next_after = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(HouseholdPage {
            households: rows,
            next_after,
        })
    }

    /// How many households [`Db::household_page`] lists over all its pages ("共 N 户").
    pub async fn household_total(&self, filter: &HouseholdFilter) -> Result<i64> {
        let Some(within) = filter.within() else {
            return Ok(0);
        };
        let (lo, hi) = code_range(&within);
        let mut binds = vec![Bind::Text(lo), Bind::Text(hi)];
        let mut sql = String::from(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM households h \
             WHERE h.division_code >= $1 AND h.division_code <= $2",
        );
        filter_conditions(filter, &mut sql, &mut binds)?;
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
            for b in &binds {
                q = match b {
                    Bind::Text(t) => q.bind(t.as_str()),
                    Bind::Int(i) => q.bind(*i),
                };
            }
            q.fetch_one(pool).await?
        }))
    }
}

impl HouseholdFilter {
    /// The narrower of scope and chosen division; none when the chosen division is outside
    /// the scope, which selects nothing (the caller answers as if it did not exist).
    fn within(&self) -> Option<DivisionCode> {
        match &self.division {
            Some(d) if d.is_within(&self.scope) => Some(*d),
            Some(_) => None,
            None => Some(self.scope),
        }
    }
}

/// A value bound to a household list's query.
enum Bind {
    Text(String),
    Int(i64),
}

/// Appends the filter's conditions (type, category, income, search) to `sql`, numbering their
/// parameters after those already in `binds`. Only the conditions that apply are written, so
/// that each backend can plan with the index that serves them: monitored households walk the
/// `households_monitored` partial index; a search starts from the matching members and
/// household numbers.
fn filter_conditions(
    filter: &HouseholdFilter,
    sql: &mut String,
    binds: &mut Vec<Bind>,
) -> Result<()> {
    let mut condition = |sql_part: &str, bind: Bind| {
        binds.push(bind);
        sql.push_str(&sql_part.replace("$n", &format!("${}", binds.len())));
    };
    if let Some(t) = filter.household_type {
        condition(
            " AND h.household_type = $n",
            Bind::Text(t.code().to_owned()),
        );
    }
    if let Some(c) = filter.category {
        condition(
            " AND h.monitoring_category IS NOT NULL AND h.monitoring_category = $n",
            Bind::Text(c.code().to_owned()),
        );
    }
    if let Some(below) = filter.income_below {
        condition(" AND h.per_capita_net_income < $n", Bind::Int(below));
    }
    match &filter.search {
        None => {}
        // By the blind index: the stored number is sealed.
        Some(Search::IdNumber(id)) => condition(
            " AND h.id IN (SELECT m.household_id FROM members m WHERE m.id_number_index = $n)",
            Bind::Text(crate::keys::blind_id_number(id.as_str())?),
        ),
        Some(Search::Text(text)) => condition(
            " AND h.id IN (SELECT m.household_id FROM members m WHERE m.name = $n \
             UNION ALL SELECT x.id FROM households x WHERE x.household_no = $n)",
            Bind::Text(text.clone()),
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_exactly_the_division() {
        let county = DivisionCode::parse("500229000000").unwrap();
        assert_eq!(
            code_range(&county),
            ("500229000000".to_owned(), "500229999999".to_owned())
        );
        let city = DivisionCode::parse("500000000000").unwrap();
        assert_eq!(code_range(&city).1, "509999999999");
    }

    #[test]
    fn search_recognises_what_was_typed() {
        assert!(matches!(
            Search::recognise(" 11010519491231002X "),
            Some(Search::IdNumber(_))
        ));
        assert_eq!(
            Search::recognise("CK0001"),
            Some(Search::Text("CK0001".into()))
        );
        assert_eq!(Search::recognise("张三"), Some(Search::Text("张三".into())));
        assert_eq!(Search::recognise("  "), None);
    }
}
