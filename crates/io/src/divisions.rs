//! The division list format (data/formats/divisions-columns.csv): code, Chinese name, optional
//! English name. Where the English name is absent, a pinyin name is derived.

use crate::registry::Problem;
use crate::table::{Cell, TableReader};
use pinyin::ToPinyin;
use std::path::Path;
use zhenxing_core::{DivisionCode, Text, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRow {
    pub row: u64,
    pub code: DivisionCode,
    pub name_zh: String,
    pub name_en: String,
    /// The kind derived from the name's suffix (村, 社区, 镇, 乡, 街道) or the level.
    pub kind: String,
}

const SUFFIXES: &[(&str, &str, &str)] = &[
    ("村民委员会", "Village", "village"),
    ("社区居民委员会", "Community", "community"),
    ("居民委员会", "Community", "community"),
    ("社区", "Community", "community"),
    ("村", "Village", "village"),
    ("街道", "Subdistrict", "subdistrict"),
    ("镇", "Town", "town"),
    ("乡", "Township", "township"),
    ("自治县", "Autonomous County", "county"),
    ("县", "County", "county"),
    ("区", "District", "county"),
];

/// `立新村民委员会` → `Lixin Village`: pinyin of the stem, capitalised, plus the English suffix.
pub fn pinyin_name(name_zh: &str) -> (String, Option<&'static str>) {
    let (stem, suffix, kind) = SUFFIXES
        .iter()
        .find_map(|(zh, en, kind)| {
            name_zh
                .strip_suffix(zh)
                .map(|s| (s, Some(*en), Some(*kind)))
        })
        .unwrap_or((name_zh, None, None));
    let stem = stem.strip_suffix('村').unwrap_or(stem);
    let mut syllables = String::new();
    for (c, p) in stem.chars().zip(stem.to_pinyin()) {
        match p {
            Some(p) => syllables.push_str(p.plain()),
            None if c.is_alphanumeric() && c.is_ascii() => syllables.push(c),
            None => {}
        }
    }
    let mut chars = syllables.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name_zh.to_owned(),
    };
    if let Some(suffix) = suffix {
        out.push(' ');
        out.push_str(suffix);
    }
    (out, kind)
}

fn header_is(header: &str, names: &[&str]) -> bool {
    let h = header.trim().to_lowercase();
    names.iter().any(|n| h == n.to_lowercase())
}

/// Reads a division list; every problem is reported. Parent checks need the registry and are
/// the caller's.
pub fn parse_divisions(path: &Path) -> (Vec<DivisionRow>, Vec<Problem>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let file_problem = |reason: Text| Problem {
        row: 0,
        column: String::new(),
        value: String::new(),
        reason,
    };
    let mut table = match TableReader::open(path) {
        Ok(t) => t,
        Err(e) => return (rows, vec![file_problem(Text::new(e.zh(), e.en()))]),
    };
    let find = |names: &[&str]| table.headers().iter().position(|h| header_is(h, names));
    let code_col = find(&["代码", "Code", "code"]);
    let name_col = find(&["名称", "Name", "name", "name_zh"]);
    let en_col = find(&["英文名称", "English name", "name_en"]);
    let (Some(code_col), Some(name_col)) = (code_col, name_col) else {
        return (
            rows,
            vec![Problem {
                row: 1,
                column: "代码 / 名称".into(),
                value: String::new(),
                reason: text!(
                    "缺少必需的列“代码”或“名称”",
                    "the required column 'Code' or 'Name' is missing"
                ),
            }],
        );
    };
    let headers = table.headers().to_vec();
    let mut read_problems = Vec::new();
    crate::registry::for_each_data_row(&mut table, &mut read_problems, |row| {
        let text_of = |col: usize| -> String {
            match row.get(col) {
                Cell::Number(_) => row.get(col).as_text_lossless().unwrap_or_default(),
                other => other.as_str().unwrap_or("").trim().to_owned(),
            }
        };
        let raw_code = text_of(code_col);
        let name_zh = text_of(name_col);
        let name_en = en_col.map(text_of).unwrap_or_default();
        let code = match DivisionCode::parse(&raw_code) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(Problem {
                    row: row.number,
                    column: headers[code_col].clone(),
                    value: raw_code.clone(),
                    reason: e.text(),
                });
                None
            }
        };
        if name_zh.is_empty() {
            problems.push(Problem {
                row: row.number,
                column: headers[name_col].clone(),
                value: String::new(),
                reason: text!("名称为空", "the name is empty"),
            });
            return true;
        }
        let Some(code) = code else { return true };
        let (derived, kind) = pinyin_name(&name_zh);
        let kind = kind
            .map(str::to_owned)
            .unwrap_or_else(|| code.level().code_name().to_owned());
        rows.push(DivisionRow {
            row: row.number,
            code,
            name_zh,
            name_en: if name_en.is_empty() { derived } else { name_en },
            kind,
        });
        true
    });
    problems.append(&mut read_problems);
    (rows, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_names() {
        assert_eq!(pinyin_name("立新村民委员会").0, "Lixin Village");
        assert_eq!(pinyin_name("新华村村民委员会").0, "Xinhua Village");
        assert_eq!(
            pinyin_name("巴山镇"),
            ("Bashan Town".to_owned(), Some("town"))
        );
        assert_eq!(pinyin_name("葛城街道").0, "Gecheng Subdistrict");
    }
}
