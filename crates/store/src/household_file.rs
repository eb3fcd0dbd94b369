//! A household's file follows it when the registry moves it to another village
//! ([`move_file`], called by the write path). Its warnings, self-declarations, cases (with their
//! steps, attachments and notifications), pairings, measures and visits (with their photos) are
//! work on the household, done
//! by whoever is responsible for it now: left in the old village they would sit in the inbox of
//! a cadre who no longer has the household, and, across a county line, out of reach of the
//! household's own page (which reads them in its county). The audit trail keeps where each step
//! was taken.
//!
//! Each division column moves to the new place's division of the same level: the old village
//! becomes the new village, the old township the new township, the old county the new county
//! (a case's notification to the township goes to the new township). The rows are updated in
//! place, the cases' never-edited steps and attachments too, whose triggers allow that one
//! change (migration 0028). On a distributed PostgreSQL (Citus) `county_code` is the
//! distribution column, which is not changed in place: there the move is a copy under the new
//! county and a delete (decision 0013 lists it).

use crate::{Result, StoreError, Tx, on_tx};
use zhenxing_core::DivisionCode;

/// Moves the file of `household_no` from village `from` to village `to`.
pub(crate) async fn move_file(tx: &mut Tx, household_no: &str, from: &str, to: &str) -> Result<()> {
    if from == to {
        return Ok(());
    }
    let parse = |c: &str| {
        DivisionCode::parse(c).map_err(|_| StoreError::Corrupt(format!("division code '{c}'")))
    };
    let (from, to) = (parse(from)?, parse(to)?);
    // Division codes are twelve digits (parsed above), so they are written into the statements;
    // the household number, which a file supplies, is bound.
    let division = moved_division(&from, &to);
    let (old, new) = (&from.as_str()[..6], &to.as_str()[..6]);
    for t in TABLES {
        // Within a county only the division columns change.
        if old == new && !t.has_division {
            continue;
        }
        let division = if t.has_division {
            format!(", division_code = {division}")
        } else {
            String::new()
        };
        let key = match t.key {
            Key::Household => "household_no = $1".to_owned(),
            Key::MovedVisits => format!(
                "visit_id IN (SELECT id FROM visits WHERE county_code = '{new}' AND household_no = $1)"
            ),
            Key::Cases => format!(
                "case_id IN (SELECT id FROM cases WHERE county_code = '{old}' AND household_no = $1)"
            ),
            Key::MovedDeclarations => format!(
                "declaration_id IN (SELECT id FROM declarations \
                 WHERE county_code = '{new}' AND household_no = $1)"
            ),
        };
        let sql = format!(
            "UPDATE {} SET county_code = '{new}'{division} WHERE county_code = '{old}' AND {key}",
            t.name
        );
        on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(household_no).execute(conn).await.map(drop)?);
    }
    Ok(())
}

/// How a table's rows of the household are found.
enum Key {
    /// By household number.
    Household,
    /// By the household's cases, still under the old county (so these go before `cases`).
    Cases,
    /// By the household's declarations, already under the new county (so these go after
    /// `declarations`; on PostgreSQL the foreign key's cascade has moved them already).
    MovedDeclarations,
    /// By the household's visits, already under the new county (as declarations' files).
    MovedVisits,
}

/// A table of the file.
struct FileTable {
    name: &'static str,
    key: Key,
    has_division: bool,
}

/// The file's tables, in the order they are moved.
const TABLES: [FileTable; 12] = [
    FileTable {
        name: "case_steps",
        key: Key::Cases,
        has_division: false,
    },
    FileTable {
        name: "case_attachments",
        key: Key::Cases,
        has_division: false,
    },
    FileTable {
        name: "case_notifications",
        key: Key::Cases,
        has_division: true,
    },
    FileTable {
        name: "warnings",
        key: Key::Household,
        has_division: true,
    },
    FileTable {
        name: "declarations",
        key: Key::Household,
        has_division: true,
    },
    FileTable {
        name: "declaration_files",
        key: Key::MovedDeclarations,
        has_division: false,
    },
    FileTable {
        name: "cases",
        key: Key::Household,
        has_division: true,
    },
    FileTable {
        name: "pairings",
        key: Key::Household,
        has_division: true,
    },
    FileTable {
        name: "household_incomes",
        key: Key::Household,
        has_division: false,
    },
    FileTable {
        name: "measures",
        key: Key::Household,
        has_division: true,
    },
    FileTable {
        name: "visits",
        key: Key::Household,
        has_division: true,
    },
    FileTable {
        name: "visit_files",
        key: Key::MovedVisits,
        has_division: false,
    },
];

/// The SQL of a moved row's division: the new place's division of the level the old one had
/// (village, township, county), any other as it was.
fn moved_division(from: &DivisionCode, to: &DivisionCode) -> String {
    let mut arms = String::new();
    let (mut f, mut t) = (Some(*from), Some(*to));
    while let (Some(a), Some(b)) = (f, t) {
        if a.level() == zhenxing_core::DivisionLevel::Province {
            break;
        }
        arms.push_str(&format!(" WHEN '{}' THEN '{}'", a.as_str(), b.as_str()));
        (f, t) = (a.parent(), b.parent());
    }
    format!("CASE division_code{arms} ELSE division_code END")
}
