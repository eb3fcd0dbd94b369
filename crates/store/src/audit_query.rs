//! The auditor's questions to the audit trail: who did what, to which record, where and when.
//! Newest first, in keyset pages by `seq`. Read-only; the trail itself is [`crate::audit`].
//!
//! A record is found where the trail names it: an operation's own object (an account, a
//! revealed household), an item of an operation (a household that an edit or an import
//! changed), or the operation that created a household (`households.created_seq`, since
//! creations are not itemised). A division is matched the same three ways. Every value is a
//! bound parameter; the SQL text is assembled only from fixed fragments, and the same text
//! serves SQLite and PostgreSQL.

use crate::audit::AuditRecord;
use crate::{Db, Result, on_pool};

/// What to look for; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Who: the actor exactly as recorded (an account name, `cli:USER`, `-`).
    pub actor: Option<String>,
    /// Which record: an object id such as a household number or an account name.
    pub object_id: Option<String>,
    /// Where: a division code prefix (digits, e.g. `500229` for a county). Operations whose
    /// division, an item's division, or a created household's division lies under it.
    pub division_prefix: Option<String>,
    /// The asking account's scope, matched like `division_prefix` (`None`: everything).
    pub scope_prefix: Option<String>,
    /// The operation, e.g. `registry.write` or `auth.sign_in`.
    pub action: Option<String>,
    /// From this instant on (inclusive), in the stored format (`2026-01-31T16:00:00.000Z`).
    pub at_from: Option<String>,
    /// Before this instant (exclusive), in the stored format.
    pub at_before: Option<String>,
}

/// One page of operations, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// The `before` of the next (older) page, when there is one.
    pub next_before: Option<i64>,
}

/// One item of an operation: a record it changed, with the changed fields before and after.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AuditItemRecord {
    pub seq: i64,
    pub item: i64,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub county_code: Option<String>,
    pub division_code: Option<String>,
    pub before_data: Option<String>,
    pub after_data: Option<String>,
}

const RECORD_COLUMNS: &str = "l.seq, l.at, l.actor, l.action, l.object_type, l.object_id, \
     l.county_code, l.division_code, l.reason, l.before_data, l.after_data, l.item_count, \
     l.items_digest, l.prev_hash, l.hash, l.hash_alg";

enum Bind {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause built from fixed fragments, with its parameters in order.
struct Conditions {
    clauses: Vec<String>,
    binds: Vec<Bind>,
}

impl Conditions {
    fn new() -> Conditions {
        Conditions {
            clauses: Vec::new(),
            binds: Vec::new(),
        }
    }

    /// The next placeholder (`$n`) for `value`.
    fn param(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn text(&mut self, value: &str) -> String {
        self.param(Bind::Text(value.to_owned()))
    }

    /// Operations touching a division code in `lo..=hi`, by any of the three ways.
    fn division(&mut self, prefix: &str) {
        let (lo, hi) = division_bounds(prefix);
        let (lo, hi) = (self.text(&lo), self.text(&hi));
        self.clauses.push(format!(
            "((l.division_code >= {lo} AND l.division_code <= {hi}) \
             OR EXISTS (SELECT 1 FROM audit_items i WHERE i.seq = l.seq \
                        AND i.division_code >= {lo} AND i.division_code <= {hi}) \
             OR l.seq IN (SELECT h.created_seq FROM households h \
                          WHERE h.division_code >= {lo} AND h.division_code <= {hi}))"
        ));
    }

    fn build(filter: &AuditFilter, seq: Option<i64>, before: Option<i64>) -> Conditions {
        let mut c = Conditions::new();
        if let Some(seq) = seq {
            let p = c.param(Bind::Int(seq));
            c.clauses.push(format!("l.seq = {p}"));
        }
        if let Some(before) = before {
            let p = c.param(Bind::Int(before));
            c.clauses.push(format!("l.seq < {p}"));
        }
        if let Some(actor) = &filter.actor {
            let p = c.text(actor);
            c.clauses.push(format!("l.actor = {p}"));
        }
        if let Some(action) = &filter.action {
            let p = c.text(action);
            c.clauses.push(format!("l.action = {p}"));
        }
        if let Some(from) = &filter.at_from {
            let p = c.text(from);
            c.clauses.push(format!("l.at >= {p}"));
        }
        if let Some(to) = &filter.at_before {
            let p = c.text(to);
            c.clauses.push(format!("l.at < {p}"));
        }
        // A scoped viewer finds an operation through its items in the scope only: asking for
        // another county's record or division must not reveal that an operation touched it.
        let scope = filter.scope_prefix.as_deref();
        if let Some(object) = &filter.object_id {
            let p = c.text(object);
            let (items_in_scope, households_in_scope) = match scope {
                Some(prefix) => {
                    let (lo, hi) = division_bounds(prefix);
                    let (lo, hi) = (c.text(&lo), c.text(&hi));
                    (
                        format!(" AND i.division_code >= {lo} AND i.division_code <= {hi}"),
                        format!(" AND h.division_code >= {lo} AND h.division_code <= {hi}"),
                    )
                }
                None => (String::new(), String::new()),
            };
            c.clauses.push(format!(
                "(l.object_id = {p} \
                 OR EXISTS (SELECT 1 FROM audit_items i WHERE i.seq = l.seq AND i.object_id = {p}{items_in_scope}) \
                 OR l.seq IN (SELECT h.created_seq FROM households h WHERE h.household_no = {p}{households_in_scope}))"
            ));
        }
        match (filter.division_prefix.as_deref(), scope) {
            (Some(asked), Some(scope)) => {
                // The narrower of the two when one lies within the other; else nothing.
                if asked.starts_with(scope) {
                    c.division(asked);
                } else if scope.starts_with(asked) {
                    c.division(scope);
                } else {
                    c.clauses.push("1 = 0".to_owned());
                }
            }
            (Some(prefix), None) | (None, Some(prefix)) => c.division(prefix),
            (None, None) => {}
        }
        c
    }

    fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The smallest and largest 12-digit division codes that start with `prefix`.
fn division_bounds(prefix: &str) -> (String, String) {
    let pad = 12usize.saturating_sub(prefix.len());
    (
        format!("{prefix}{}", "0".repeat(pad)),
        format!("{prefix}{}", "9".repeat(pad)),
    )
}

/// Runs `$sql` with `$binds` on either backend, as `query_as` into `$ty`, with `$fetch`.
macro_rules! run_query {
    ($db:expr, $ty:ty, $sql:expr, $binds:expr, $fetch:ident) => {
        on_pool!($db, pool => {
            let mut q = sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe($sql));
            for b in $binds {
                q = match b {
                    Bind::Text(t) => q.bind(t),
                    Bind::Int(i) => q.bind(i),
                };
            }
            q.$fetch(pool).await?
        })
    };
}

/// Operations matching `filter`, newest first: `limit` of them older than `before` (the
/// `seq` of the last one shown), or the newest when `before` is `None`.
pub async fn search(
    db: &Db,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<AuditPage> {
    let mut conditions = Conditions::build(filter, None, before);
    let limit_param = conditions.param(Bind::Int(i64::from(limit) + 1));
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM audit_log l {} ORDER BY l.seq DESC LIMIT {limit_param}",
        conditions.where_clause()
    );
    let mut records: Vec<AuditRecord> =
        run_query!(db, AuditRecord, sql, conditions.binds, fetch_all);
    let next_before = if records.len() > limit as usize {
        records.truncate(limit as usize);
        records.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(AuditPage {
        records,
        next_before,
    })
}

/// One operation by its `seq`, if it exists and (with `scope_prefix`) touches that division.
pub async fn operation(
    db: &Db,
    seq: i64,
    scope_prefix: Option<&str>,
) -> Result<Option<AuditRecord>> {
    let filter = AuditFilter {
        scope_prefix: scope_prefix.map(str::to_owned),
        ..AuditFilter::default()
    };
    let conditions = Conditions::build(&filter, Some(seq), None);
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM audit_log l {}",
        conditions.where_clause()
    );
    Ok(run_query!(
        db,
        AuditRecord,
        sql,
        conditions.binds,
        fetch_optional
    ))
}

/// The items of operation `seq` in order: `limit` of them after item number `after`. With
/// `scope_prefix`, only the items whose division lies under it: an operation that touched
/// several counties (a department upload) is shown to a county's auditor with that county's
/// items only. An item without a division is outside every scope but the municipality's.
pub async fn items(
    db: &Db,
    seq: i64,
    after: Option<i64>,
    limit: u32,
    scope_prefix: Option<&str>,
) -> Result<Vec<AuditItemRecord>> {
    let mut binds = vec![
        Bind::Int(seq),
        Bind::Int(after.unwrap_or(0)),
        Bind::Int(i64::from(limit)),
    ];
    let scope = scoped_items(scope_prefix, &mut binds);
    let sql = format!(
        "SELECT seq, item, action, object_type, object_id, county_code, division_code, \
         before_data, after_data FROM audit_items \
         WHERE seq = $1 AND item > $2{scope} ORDER BY item LIMIT $3"
    );
    let items: Vec<AuditItemRecord> = run_query!(db, AuditItemRecord, sql, binds, fetch_all);
    items
        .into_iter()
        .map(|mut i| {
            i.before_data = crate::keys::open_item_json_opt(i.before_data)?;
            i.after_data = crate::keys::open_item_json_opt(i.after_data)?;
            Ok(i)
        })
        .collect()
}

/// How many items of operation `seq` lie outside `scope_prefix` (0 without a scope): the
/// page says that they exist, never what they are.
pub async fn items_outside_scope(db: &Db, seq: i64, scope_prefix: Option<&str>) -> Result<i64> {
    let Some(prefix) = scope_prefix else {
        return Ok(0);
    };
    let (lo, hi) = division_bounds(prefix);
    let binds = vec![Bind::Int(seq), Bind::Text(lo), Bind::Text(hi)];
    let sql = "SELECT COUNT(*) FROM audit_items WHERE seq = $1 \
               AND (division_code IS NULL OR division_code < $2 OR division_code > $3)"
        .to_owned();
    let (count,): (i64,) = run_query!(db, (i64,), sql, binds, fetch_one);
    Ok(count)
}

/// The `AND` condition holding items to `scope_prefix`, its parameters appended to `binds`.
fn scoped_items(scope_prefix: Option<&str>, binds: &mut Vec<Bind>) -> String {
    let Some(prefix) = scope_prefix else {
        return String::new();
    };
    let (lo, hi) = division_bounds(prefix);
    binds.push(Bind::Text(lo));
    let lo = binds.len();
    binds.push(Bind::Text(hi));
    let hi = binds.len();
    format!(" AND division_code >= ${lo} AND division_code <= ${hi}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_prefixes_become_code_ranges() {
        assert_eq!(
            division_bounds("500229"),
            ("500229000000".to_owned(), "500229999999".to_owned())
        );
        assert_eq!(
            division_bounds("500229102202"),
            ("500229102202".to_owned(), "500229102202".to_owned())
        );
    }

    #[test]
    fn every_value_is_a_parameter() {
        let filter = AuditFilter {
            actor: Some("x' OR 1=1 --".into()),
            object_id: Some("CK0001".into()),
            division_prefix: Some("500229".into()),
            action: Some("registry.write".into()),
            at_from: Some("2026-01-01T00:00:00.000Z".into()),
            at_before: Some("2026-01-02T00:00:00.000Z".into()),
            scope_prefix: None,
        };
        let c = Conditions::build(&filter, None, Some(10));
        let sql = c.where_clause();
        assert!(!sql.contains("OR 1=1"), "{sql}");
        assert!(!sql.contains("CK0001"));
        assert_eq!(c.binds.len(), 8);
        assert!(sql.contains("$8"));
    }
}
