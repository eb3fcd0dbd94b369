//! The account list format (data/formats/accounts-columns.csv): one account per row, for
//! creating many at once. Headers in Chinese or English, any order: 账号 / Account, 姓名 /
//! Real name, 角色 / Role, 区划 / Division (a 12-digit code, or a name as people write it:
//! "巴山镇 立新村"), optional 单位 / Unit and 手机号 / Phone. What the file alone can judge is
//! checked here (every problem, with its row and column; phone numbers masked); the division,
//! the account names taken and the role's fit with the division are the caller's, which
//! knows the registry.

use crate::registry::Problem;
use crate::table::{Cell, TableReader};
use std::path::Path;
use zhenxing_core::{PersonName, Phone, Role, Text, UnitName, text};

/// One row of an account list, its values parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountListRow {
    pub row: u64,
    pub name: String,
    pub real_name: PersonName,
    pub role: Role,
    /// As written: a code or a name, resolved by the caller.
    pub division: String,
    pub unit: Option<UnitName>,
    pub phone: Option<Phone>,
}

/// The columns of the format, as (Chinese header, English header, required).
pub const ACCOUNT_LIST_COLUMNS: [(&str, &str, bool); 6] = [
    ("账号", "Account", true),
    ("姓名", "Real name", true),
    ("角色", "Role", true),
    ("区划", "Division", true),
    ("单位", "Unit", false),
    ("手机号", "Phone", false),
];

fn header_is(header: &str, zh: &str, en: &str) -> bool {
    let h = header.trim();
    h == zh || h.eq_ignore_ascii_case(en)
}

/// Reads an account list (CSV in UTF-8 or GB18030, or a workbook); every problem is reported.
pub fn parse_account_list(path: &Path) -> (Vec<AccountListRow>, Vec<Problem>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut table = match TableReader::open(path) {
        Ok(t) => t,
        Err(e) => {
            let problem = Problem {
                row: 0,
                column: String::new(),
                value: String::new(),
                reason: Text::new(e.zh(), e.en()),
            };
            return (rows, vec![problem]);
        }
    };
    let headers = table.headers().to_vec();
    let columns: Vec<Option<usize>> = ACCOUNT_LIST_COLUMNS
        .iter()
        .map(|(zh, en, _)| headers.iter().position(|h| header_is(h, zh, en)))
        .collect();
    let missing: Vec<String> = ACCOUNT_LIST_COLUMNS
        .iter()
        .zip(&columns)
        .filter(|((_, _, required), found)| *required && found.is_none())
        .map(|((zh, en, _), _)| format!("{zh} / {en}"))
        .collect();
    if !missing.is_empty() {
        let (zh, en) = (missing.join("、"), missing.join(", "));
        let problem = Problem {
            row: 1,
            column: missing.join(", "),
            value: String::new(),
            reason: text!(
                "缺少必需的列：{zh}；表头须为：账号、姓名、角色、区划（可加单位、手机号）",
                "required columns are missing: {en}; the header must be: Account, Real name, Role, Division (and optionally Unit, Phone)"
            ),
        };
        return (rows, vec![problem]);
    }
    let mut read_problems = Vec::new();
    crate::registry::for_each_data_row(&mut table, &mut read_problems, |row| {
        let text_of = |i: usize| -> String {
            match columns[i] {
                Some(col) => match row.get(col) {
                    Cell::Number(_) => row.get(col).as_text_lossless().unwrap_or_default(),
                    other => other.as_str().unwrap_or("").trim().to_owned(),
                },
                None => String::new(),
            }
        };
        let column = |i: usize| columns[i].map(|c| headers[c].clone()).unwrap_or_default();
        let mut problem = |i: usize, value: String, reason: Text| {
            problems.push(Problem {
                row: row.number,
                column: column(i),
                value,
                reason,
            })
        };
        let name = text_of(0);
        if name.is_empty() {
            problem(
                0,
                String::new(),
                text!("账号为空", "the account name is empty"),
            );
        }
        let real_name = match PersonName::parse(&text_of(1)) {
            Ok(n) => Some(n),
            Err(e) => {
                problem(1, text_of(1), e.text());
                None
            }
        };
        let role = match Role::parse(&text_of(2)) {
            Ok(r) => Some(r),
            Err(why) => {
                problem(2, text_of(2), why);
                None
            }
        };
        let division = text_of(3);
        if division.is_empty() {
            problem(3, String::new(), text!("区划为空", "the division is empty"));
        }
        let unit = match text_of(4).as_str() {
            "" => Some(None),
            u => match UnitName::parse(u) {
                Ok(u) => Some(Some(u)),
                Err(e) => {
                    problem(4, u.to_owned(), e.text());
                    None
                }
            },
        };
        let phone = match text_of(5).as_str() {
            "" => Some(None),
            p => match Phone::parse(p) {
                Ok(p) => Some(Some(p)),
                Err(_) => {
                    // Never the number itself in a report that gets printed and mailed.
                    problem(
                        5,
                        zhenxing_core::mask::mask_phone(p),
                        text!(
                            "手机号须为11位数字，以1开头",
                            "a phone number is 11 digits starting with 1"
                        ),
                    );
                    None
                }
            },
        };
        if let (false, Some(real_name), Some(role), false, Some(unit), Some(phone)) = (
            name.is_empty(),
            real_name,
            role,
            division.is_empty(),
            unit,
            phone,
        ) {
            rows.push(AccountListRow {
                row: row.number,
                name,
                real_name,
                role,
                division,
                unit,
                phone,
            });
        }
        true
    });
    problems.append(&mut read_problems);
    (rows, problems)
}
