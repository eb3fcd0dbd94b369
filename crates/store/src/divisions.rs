//! The division table: Chongqing's 2023 statistical division list, built into the binary from
//! `data/divisions.csv` (so a user's checkout needs nothing else), with English names and the
//! 18 former poverty counties flagged. Imports of newer lists go through [`upsert`].

use crate::bulk::{Batch, ColType};
use crate::{Db, Result, StoreError, on_pool};
use serde::Serialize;
use zhenxing_core::{DivisionCode, DivisionLevel, text};

const BUILT_IN: &str = include_str!("../../../data/divisions.csv");
/// The reference year of the built-in list (the NBS list of 2023).
pub const BUILT_IN_YEAR: i64 = 2023;
pub const MUNICIPALITY: &str = "500000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Division {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub former_poverty_county: Option<String>,
    pub former_poverty_village: bool,
    pub version_year: i64,
}

impl Division {
    pub fn new(
        code: DivisionCode,
        kind: &str,
        name_zh: &str,
        name_en: &str,
        year: i64,
    ) -> Division {
        Division {
            code: code.as_str().to_owned(),
            parent_code: code.parent().map(|p| p.as_str().to_owned()),
            level: code.level().code_name().to_owned(),
            kind: kind.to_owned(),
            name_zh: name_zh.to_owned(),
            name_en: name_en.to_owned(),
            former_poverty_county: None,
            former_poverty_village: false,
            version_year: year,
        }
    }
}

/// The built-in list, parsed. A malformed built-in file is a build defect, reported as corrupt.
pub fn built_in() -> Result<Vec<Division>> {
    let mut out = vec![Division::new(
        DivisionCode::parse(MUNICIPALITY).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        "municipality",
        "重庆市",
        "Chongqing Municipality",
        BUILT_IN_YEAR,
    )];
    let mut reader = csv::Reader::from_reader(BUILT_IN.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| StoreError::Corrupt(format!("data/divisions.csv: {e}")))?;
        let code = DivisionCode::parse(&record[0])
            .map_err(|e| StoreError::Corrupt(format!("data/divisions.csv: {e}")))?;
        let mut division = Division::new(code, &record[3], &record[1], &record[2], BUILT_IN_YEAR);
        if !record[4].is_empty() {
            division.former_poverty_county = Some(record[4].to_owned());
        }
        out.push(division);
    }
    Ok(out)
}

const COLUMNS: &[(&str, ColType)] = &[
    ("code", ColType::Text),
    ("parent_code", ColType::Text),
    ("level", ColType::Text),
    ("kind", ColType::Text),
    ("name_zh", ColType::Text),
    ("name_en", ColType::Text),
    ("former_poverty_county", ColType::Text),
    ("former_poverty_village", ColType::Bool),
    ("version_year", ColType::Int),
];

impl Db {
    pub async fn seed_divisions_if_empty(&self) -> Result<bool> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT count(*) FROM divisions")
            .fetch_one(pool).await?);
        if count > 0 {
            return Ok(false);
        }
        self.upsert_divisions(&built_in()?, "system").await?;
        Ok(true)
    }

    /// Inserts new divisions and renames existing ones, in one transaction with an audit record.
    /// Flags (former poverty) of existing divisions are kept.
    pub async fn upsert_divisions(
        &self,
        divisions: &[Division],
        actor: &str,
    ) -> Result<UpsertSummary> {
        let mut tx = self.begin_write().await?;
        let existing: Vec<(String, String, String)> = crate::on_tx!(&mut tx, conn =>
            sqlx::query_as("SELECT code, name_zh, name_en FROM divisions").fetch_all(conn).await?);
        let existing: std::collections::HashMap<String, (String, String)> = existing
            .into_iter()
            .map(|(c, zh, en)| (c, (zh, en)))
            .collect();
        let mut summary = UpsertSummary::default();
        let mut batch = Batch::new("divisions", COLUMNS);
        for d in divisions {
            match existing.get(&d.code) {
                None => {
                    summary.added += 1;
                    batch
                        .row()
                        .text(Some(d.code.clone()))
                        .text(d.parent_code.clone())
                        .text(Some(d.level.clone()))
                        .text(Some(d.kind.clone()))
                        .text(Some(d.name_zh.clone()))
                        .text(Some(d.name_en.clone()))
                        .text(d.former_poverty_county.clone())
                        .bool(Some(d.former_poverty_village))
                        .int(Some(d.version_year));
                }
                Some((zh, en)) if *zh != d.name_zh || *en != d.name_en => {
                    summary.renamed += 1;
                    crate::on_tx!(&mut tx, conn => sqlx::query(
                        "UPDATE divisions SET name_zh = $1, name_en = $2, version_year = $3 WHERE code = $4")
                        .bind(&d.name_zh).bind(&d.name_en).bind(d.version_year).bind(&d.code)
                        .execute(conn).await.map(drop)?);
                }
                Some(_) => summary.unchanged += 1,
            }
        }
        batch.flush(&mut tx).await?;
        crate::audit::append(
            &mut tx,
            vec![crate::audit::AuditEntry {
                actor: actor.to_owned(),
                action: "divisions.import".into(),
                object_type: "divisions".into(),
                after: Some(serde_json::to_value(&summary).unwrap_or_default()),
                ..Default::default()
            }],
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    pub async fn division(&self, code: &DivisionCode) -> Result<Option<Division>> {
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Division>(
            "SELECT code, parent_code, level, kind, name_zh, name_en, former_poverty_county, \
             former_poverty_village, version_year FROM divisions WHERE code = $1")
            .bind(code.as_str()).fetch_optional(pool).await?))
    }

    /// The divisions within `within` (itself included) that `typed` names, as a person writes
    /// a place: the name last ("立新村", the committee left out, or the official or English
    /// name), optionally after names of its ancestors ("巴山镇 立新村", "城口县 巴山镇 立新村"),
    /// separated by spaces. At most `most`, in code order; more than one means the name is
    /// ambiguous and the caller asks which.
    pub async fn divisions_named(
        &self,
        within: &DivisionCode,
        typed: &str,
        most: usize,
    ) -> Result<Vec<Division>> {
        let words: Vec<&str> = typed
            .split(|c: char| c.is_whitespace() || matches!(c, '/' | '·' | '，' | ','))
            .filter(|w| !w.is_empty())
            .collect();
        let Some((last, above)) = words.split_last() else {
            return Ok(Vec::new());
        };
        let named = |d: &Division, word: &str| {
            d.name_zh == word
                || zhenxing_core::division::short_name(&d.name_zh) == word
                || d.name_en.eq_ignore_ascii_case(word)
        };
        let (lo, hi) = crate::browse::code_range(within);
        // The official name starts with what people call it (立新村 → 立新村村民委员会).
        let prefix = format!("{}%", last.replace(['%', '_'], ""));
        let candidates: Vec<Division> = on_pool!(self, pool => sqlx::query_as::<_, Division>(
            "SELECT code, parent_code, level, kind, name_zh, name_en, former_poverty_county, \
             former_poverty_village, version_year FROM divisions \
             WHERE code BETWEEN $1 AND $2 AND (name_zh LIKE $3 OR lower(name_en) = lower($4)) \
             ORDER BY code LIMIT 500")
            .bind(&lo).bind(&hi).bind(&prefix).bind(*last).fetch_all(pool).await?);
        let mut found = Vec::new();
        for d in candidates.into_iter().filter(|d| named(d, last)) {
            if !above.is_empty() {
                let Ok(code) = DivisionCode::parse(&d.code) else {
                    continue;
                };
                let path = self.division_path(&code).await?;
                let ancestors = &path[..path.len().saturating_sub(1)];
                if !above.iter().all(|w| ancestors.iter().any(|a| named(a, w))) {
                    continue;
                }
            }
            found.push(d);
            if found.len() == most {
                break;
            }
        }
        Ok(found)
    }

    /// The divisions strictly below `within` down to `deepest`, in code order (a township
    /// before its villages): what a filter "by village, by name" offers.
    pub async fn divisions_below(
        &self,
        within: &DivisionCode,
        deepest: zhenxing_core::DivisionLevel,
    ) -> Result<Vec<Division>> {
        let (lo, hi) = crate::browse::code_range(within);
        let levels: &[&str] = match deepest {
            zhenxing_core::DivisionLevel::Province => &[],
            zhenxing_core::DivisionLevel::County => &["county"],
            zhenxing_core::DivisionLevel::Township => &["county", "township"],
            zhenxing_core::DivisionLevel::Village => &["county", "township", "village"],
        };
        let levels = levels
            .iter()
            .map(|l| format!("'{l}'"))
            .collect::<Vec<_>>()
            .join(", ");
        if levels.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT code, parent_code, level, kind, name_zh, name_en, former_poverty_county, \
             former_poverty_village, version_year FROM divisions \
             WHERE code BETWEEN $1 AND $2 AND code <> $3 AND level IN ({levels}) ORDER BY code"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, Division>(sqlx::AssertSqlSafe(sql))
            .bind(&lo).bind(&hi).bind(within.as_str()).fetch_all(pool).await?),
        )
    }

    /// Every division code in the table (a few tens of thousands at most).
    pub async fn division_codes(&self) -> Result<std::collections::HashSet<String>> {
        let codes: Vec<String> = on_pool!(self, pool =>
            sqlx::query_scalar("SELECT code FROM divisions").fetch_all(pool).await?);
        Ok(codes.into_iter().collect())
    }

    /// Village committees (村), where rural households live, in code order.
    pub async fn village_committees(&self) -> Result<Vec<DivisionCode>> {
        let codes: Vec<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT code FROM divisions WHERE level = 'village' AND kind = 'village' ORDER BY code")
            .fetch_all(pool).await?);
        codes
            .iter()
            .map(|c| DivisionCode::parse(c).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    pub async fn former_poverty_counties(&self) -> Result<Vec<DivisionCode>> {
        let codes: Vec<String> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT code FROM divisions WHERE level = 'county' AND former_poverty_county IS NOT NULL ORDER BY code")
            .fetch_all(pool).await?);
        codes
            .iter()
            .map(|c| DivisionCode::parse(c).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }
}

/// Replaces the set of former poverty villages inside the caller's write transaction (the
/// synthetic registry chooses them; a real deployment imports the list).
pub async fn set_former_poverty_villages(
    tx: &mut crate::Tx,
    villages: &[DivisionCode],
    actor: &str,
) -> Result<()> {
    crate::on_tx!(tx, conn => sqlx::query(
        "UPDATE divisions SET former_poverty_village = FALSE WHERE former_poverty_village")
        .execute(conn).await.map(drop)?);
    for chunk in villages.chunks(500) {
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "UPDATE divisions SET former_poverty_village = TRUE WHERE code IN ({placeholders})"
        );
        crate::on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(v.as_str());
            }
            q.execute(conn).await.map(drop)?
        });
    }
    crate::audit::append(
        tx,
        vec![crate::audit::AuditEntry {
            actor: actor.to_owned(),
            action: "divisions.former_poverty_villages".into(),
            object_type: "divisions".into(),
            after: Some(serde_json::json!({ "villages": villages.len() })),
            ..Default::default()
        }],
    )
    .await
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpsertSummary {
    pub added: u64,
    pub renamed: u64,
    pub unchanged: u64,
}

/// The parent a new division needs: `None` for a province or county (counties hang under the
/// municipality), else the township or county code.
pub fn required_parent(code: &DivisionCode) -> Option<DivisionCode> {
    match code.level() {
        DivisionLevel::Province | DivisionLevel::County => None,
        _ => code.parent(),
    }
}

/// Messages for division import problems.
pub fn missing_parent_text(code: &str, parent: &str) -> zhenxing_core::Text {
    text!(
        "区划{code}的上级{parent}既不在文件中，也不在登记库中；请先导入上级区划",
        "the parent {parent} of division {code} is neither in the file nor in the registry; import the parent first"
    )
}

impl Db {
    /// Every division's code and Chinese name, in code order.
    pub async fn division_names(&self) -> Result<Vec<(DivisionCode, String)>> {
        let rows: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT code, name_zh FROM divisions ORDER BY code").fetch_all(pool).await?);
        rows.into_iter()
            .map(|(c, n)| {
                Ok((
                    DivisionCode::parse(&c).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    n,
                ))
            })
            .collect()
    }

    /// The names of the divisions in `codes` (villages, most often) and of their parents
    /// (townships), for lists that show where a row belongs in words rather than by code.
    /// Codes not in the registry are left out.
    pub async fn place_names(
        &self,
        codes: &[&str],
    ) -> Result<std::collections::HashMap<String, PlaceName>> {
        let mut names = std::collections::HashMap::new();
        let mut unique: Vec<&str> = codes.to_vec();
        unique.sort_unstable();
        unique.dedup();
        // Bounded so that neither backend meets its limit of bound parameters.
        for chunk in unique.chunks(500) {
            let marks = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT d.code, d.name_zh, d.name_en, p.name_zh, p.name_en FROM divisions d \
                 LEFT JOIN divisions p ON p.code = d.parent_code WHERE d.code IN ({marks})"
            );
            let rows: Vec<PlaceRow> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for code in chunk {
                    q = q.bind(*code);
                }
                q.fetch_all(pool).await?
            });
            for (code, name_zh, name_en, parent_zh, parent_en) in rows {
                names.insert(
                    code,
                    PlaceName {
                        name_zh,
                        name_en,
                        parent_zh: parent_zh.unwrap_or_default(),
                        parent_en: parent_en.unwrap_or_default(),
                    },
                );
            }
        }
        Ok(names)
    }
}

/// Code, names, and the parent's names (absent at the top).
type PlaceRow = (String, String, String, Option<String>, Option<String>);

/// A division's name and its parent's, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceName {
    pub name_zh: String,
    pub name_en: String,
    pub parent_zh: String,
    pub parent_en: String,
}
