//! The dashboard's figures, kept between requests and brought up to date from the audit chain
//! on every read, so that every figure reflects the last committed write (issue 6).
//!
//! The cache holds the figures of every village (`rollups::village_figures`, the leaves) and
//! the sums above them (townships, counties, the municipality), computed on demand and kept
//! until a leaf under them changes. Every read first asks the database for the head of the
//! audit chain (`audit_head`, one row). Every write is audited, and all writes take the same
//! write lock ([`crate::Db::begin_write`]), so the chain's sequence numbers follow commit order.
//! When the head has moved, the cache reads the operations since the last one it saw, works
//! out which villages they touched, and reads those villages again: after an ordinary write
//! (a household, a warning step, a case step, a measure) that is one village, a dozen small
//! indexed queries. The sums above it are added up again from their children: a township
//! from its villages, a county from its townships, the municipality from its 38 counties.
//!
//! What costs more:
//! - The first read of a day, or after an operation the cache cannot place (a new rule set,
//!   division changes, the procedures' settings, more than [`MAX_OPS`] operations or
//!   [`MAX_ITEMS`] items since the last read): every leaf is read again, which is the cost of
//!   `division_figures` for the municipality (seconds at full scale; BENCHMARKS.md).
//! - An operation recorded against a township or a county without items: that division's
//!   villages are read again.
//!
//! A write itself costs nothing more: nothing is maintained in the write transaction beyond
//! the village counts `registry` already kept. Several server processes each keep their own
//! cache, each brought up to date from the same audit chain.

use crate::rollups::{self, ChildFigures, Figures, Leaves};
use crate::{Db, Result, on_pool};
use std::collections::{BTreeSet, HashMap, HashSet};
use time::Date;
use tokio::sync::Mutex;
use zhenxing_core::{DivisionCode, DivisionLevel};

/// More operations than this since the last read: read every leaf again.
pub const MAX_OPS: usize = 500;
/// More audit items than this since the last read (a bulk import, a screening run): read every
/// leaf again rather than list the villages.
pub const MAX_ITEMS: i64 = 5_000;

/// Holds the figures of every division between requests. One per process.
#[derive(Debug, Default)]
pub struct FigureCache {
    state: Mutex<Option<State>>,
}

/// A division's code and names.
#[derive(Debug, Clone)]
struct Named {
    code: String,
    name_zh: String,
    name_en: String,
}

#[derive(Debug)]
struct State {
    day: Date,
    /// The audit operation the leaves reflect (at least).
    seq: i64,
    threshold: Option<i64>,
    leaves: Leaves,
    /// Sums above the villages, by division code; dropped when a leaf under them changes.
    sums: HashMap<String, Figures>,
    /// Children of each division (parent code → children in code order).
    children: HashMap<String, Vec<Named>>,
    former_poverty_counties: HashSet<String>,
    /// How many times every leaf was read (for tests and the benchmark's notes).
    full_reads: u64,
}

/// What the operations since the last read touched.
#[derive(Debug, PartialEq, Eq)]
enum Touched {
    Nothing,
    /// Divisions whose villages must be read again (villages, or a township or county).
    Divisions(BTreeSet<String>),
    Everything,
}

/// How the cache came up to date (for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// How many times every leaf was read.
    pub full_reads: u64,
    /// The audit operation the figures reflect.
    pub seq: i64,
}

impl FigureCache {
    pub fn new() -> FigureCache {
        FigureCache::default()
    }

    /// The figures of `division` on `today`, reflecting every committed write.
    pub async fn division(&self, db: &Db, division: &DivisionCode, today: Date) -> Result<Figures> {
        let mut guard = self.current(db, today).await?;
        let state = guard
            .as_mut()
            .ok_or_else(|| crate::StoreError::Corrupt("figure cache not filled".into()))?;
        Ok(state.figures(division))
    }

    /// The figures of each child of `parent`, in code order (none for a village).
    pub async fn children(
        &self,
        db: &Db,
        parent: &DivisionCode,
        today: Date,
    ) -> Result<Vec<ChildFigures>> {
        let mut guard = self.current(db, today).await?;
        let state = guard
            .as_mut()
            .ok_or_else(|| crate::StoreError::Corrupt("figure cache not filled".into()))?;
        let children = state
            .children
            .get(parent.as_str())
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::with_capacity(children.len());
        for child in children {
            let Ok(code) = DivisionCode::parse(&child.code) else {
                continue;
            };
            out.push(ChildFigures {
                figures: state.figures(&code),
                code: child.code,
                name_zh: child.name_zh,
                name_en: child.name_en,
            });
        }
        Ok(out)
    }

    /// How the cache stands (for tests).
    pub async fn stats(&self) -> CacheStats {
        self.state
            .lock()
            .await
            .as_ref()
            .map(|s| CacheStats {
                full_reads: s.full_reads,
                seq: s.seq,
            })
            .unwrap_or_default()
    }

    /// The state, brought up to the audit chain's head for `today`.
    async fn current(
        &self,
        db: &Db,
        today: Date,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<State>>> {
        // The head is read before the leaves: what they read is at least as new.
        let head = audit_head(db).await?;
        let mut guard = self.state.lock().await;
        let touched = match guard.as_ref() {
            Some(s) if s.day == today && s.seq >= head => Touched::Nothing,
            Some(s) if s.day == today => touched_since(db, s.seq, head).await?,
            _ => Touched::Everything,
        };
        match touched {
            Touched::Nothing => {}
            Touched::Everything => {
                let full_reads = guard.as_ref().map_or(0, |s| s.full_reads);
                let mut state = State::read(db, today, head).await?;
                state.full_reads = full_reads + 1;
                *guard = Some(state);
            }
            Touched::Divisions(divisions) => {
                if let Some(state) = guard.as_mut() {
                    for code in divisions {
                        state.reread(db, &code).await?;
                    }
                    state.seq = head;
                }
            }
        }
        Ok(guard)
    }
}

/// code, parent code, Chinese and English names, former poverty county kind.
type DivisionRow = (String, Option<String>, String, String, Option<String>);

impl State {
    async fn read(db: &Db, today: Date, head: i64) -> Result<State> {
        let municipality = DivisionCode::parse(crate::divisions::MUNICIPALITY)
            .map_err(|_| crate::StoreError::Corrupt("municipality code".into()))?;
        let leaves = rollups::village_figures(db, &municipality, today).await?;
        let threshold = rollups::threshold(db, today).await?;
        let rows: Vec<DivisionRow> = on_pool!(db, pool => sqlx::query_as(
            "SELECT code, parent_code, name_zh, name_en, former_poverty_county FROM divisions ORDER BY code")
            .fetch_all(pool).await?);
        let mut children: HashMap<String, Vec<Named>> = HashMap::new();
        let mut former_poverty_counties = HashSet::new();
        for (code, parent, name_zh, name_en, county_kind) in rows {
            if county_kind.is_some() {
                former_poverty_counties.insert(code.clone());
            }
            if let Some(parent) = parent {
                children.entry(parent).or_default().push(Named {
                    code,
                    name_zh,
                    name_en,
                });
            }
        }
        Ok(State {
            day: today,
            seq: head,
            threshold,
            leaves,
            sums: HashMap::new(),
            children,
            former_poverty_counties,
            full_reads: 0,
        })
    }

    /// Reads the villages of `code` again and drops the sums above them.
    async fn reread(&mut self, db: &Db, code: &str) -> Result<()> {
        let Ok(division) = DivisionCode::parse(code) else {
            return Ok(());
        };
        let fresh = rollups::village_figures(db, &division, self.day).await?;
        let (lo, hi) = crate::browse::code_range(&division);
        let stale: Vec<String> = self.leaves.range(lo..=hi).map(|(k, _)| k.clone()).collect();
        for key in stale {
            self.leaves.remove(&key);
        }
        self.leaves.extend(fresh);
        self.sums.remove(division.as_str());
        let mut above = division.parent();
        while let Some(p) = above {
            self.sums.remove(p.as_str());
            above = p.parent();
        }
        Ok(())
    }

    /// The figures of `division`: a leaf, or the sum of its children (kept until a leaf under
    /// it changes).
    fn figures(&mut self, division: &DivisionCode) -> Figures {
        if division.level() == DivisionLevel::Village {
            return self
                .leaves
                .get(division.as_str())
                .cloned()
                .unwrap_or_else(|| Figures::empty(*division, self.day, self.threshold));
        }
        if let Some(f) = self.sums.get(division.as_str()) {
            return f.clone();
        }
        let mut total = Figures::empty(*division, self.day, self.threshold);
        let children: Vec<DivisionCode> = self
            .children
            .get(division.as_str())
            .map(|c| {
                c.iter()
                    .filter_map(|n| DivisionCode::parse(&n.code).ok())
                    .collect()
            })
            .unwrap_or_default();
        for child in children {
            let f = self.figures(&child);
            total.add(&f);
        }
        if division.level() == DivisionLevel::County
            && self.former_poverty_counties.contains(division.as_str())
        {
            total.seed.former_poverty_counties += 1;
        }
        self.sums
            .insert(division.as_str().to_owned(), total.clone());
        total
    }
}

/// The last operation of the audit chain (0 when it is empty).
async fn audit_head(db: &Db) -> Result<i64> {
    let seq: Option<i64> = on_pool!(db, pool => sqlx::query_scalar(
        "SELECT seq FROM audit_head WHERE id = 1").fetch_optional(pool).await?);
    Ok(seq.unwrap_or(0))
}

/// Operations that change no figure: sign-ins and accounts, reading personal numbers, exports,
/// the snapshots (which read the figures), and the public portal's own records (announcements,
/// tickets, its settings; a self-declaration's lead is a warning, recorded with its village).
fn changes_no_figure(action: &str, object_type: &str) -> bool {
    matches!(
        object_type,
        "account" | "snapshot" | "announcement" | "ticket"
    ) || matches!(
        action,
        "personal_data.reveal" | "registry.export" | "report.export" | "settings.portal"
    )
}

/// Operations whose effect reaches past any one division: the threshold (rule sets), the
/// division tree, the procedures' time limits (overdue cases everywhere).
fn changes_everything(action: &str, object_type: &str) -> bool {
    matches!(object_type, "divisions")
        || action == "settings.procedure"
        || (object_type == "rule_set" && action != "monitor.run")
}

/// What the operations after `after` up to `head` touched.
async fn touched_since(db: &Db, after: i64, head: i64) -> Result<Touched> {
    type Op = (i64, String, String, Option<String>, i64, Option<String>);
    let ops: Vec<Op> = on_pool!(db, pool => sqlx::query_as(
        "SELECT seq, action, object_type, division_code, item_count, after_data FROM audit_log \
         WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3")
        .bind(after).bind(head).bind(MAX_OPS as i64 + 1).fetch_all(pool).await?);
    if ops.len() > MAX_OPS {
        return Ok(Touched::Everything);
    }
    let mut divisions = BTreeSet::new();
    let mut with_items = Vec::new();
    let mut items = 0;
    for (seq, action, object_type, division, item_count, after) in ops {
        if changes_no_figure(&action, &object_type) {
            continue;
        }
        // A registry write itemises the households it changed, not those it created (their
        // `created_seq` names the operation): find the new ones' villages; a write that
        // created nothing and changed nothing touched nothing.
        if crate::registry::is_registry_write(&action) && item_count == 0 {
            if created(after.as_deref()) == Some(0) {
                continue;
            }
            let villages: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(
                "SELECT DISTINCT division_code FROM households WHERE created_seq = $1")
                .bind(seq).fetch_all(pool).await?);
            divisions.extend(villages);
            continue;
        }
        if changes_everything(&action, &object_type) {
            return Ok(Touched::Everything);
        }
        if item_count > 0 {
            with_items.push(seq);
            items += item_count;
            // The operation's own division only when it is a village: a township's or a
            // county's operation names its villages in its items.
            if let Some(d) = division.filter(|d| is_village(d)) {
                divisions.insert(d);
            }
            continue;
        }
        match division {
            Some(d) if DivisionCode::parse(&d).is_ok() => {
                divisions.insert(d);
            }
            // An operation with no division and no items: nothing tells where it acted.
            _ => return Ok(Touched::Everything),
        }
    }
    if items > MAX_ITEMS {
        return Ok(Touched::Everything);
    }
    for chunk in with_items.chunks(100) {
        let list = crate::placeholders(chunk.len(), 1);
        // A household that moved names its old village in `before_data`.
        let sql = format!(
            "SELECT division_code, CASE WHEN before_data LIKE '%\"division_code\"%' \
             THEN before_data END FROM audit_items WHERE seq IN ({list})"
        );
        let rows: Vec<(Option<String>, Option<String>)> = on_pool!(db, pool => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for seq in chunk {
                q = q.bind(*seq);
            }
            q.fetch_all(pool).await?
        });
        for (division, before) in rows {
            match division {
                Some(d) => {
                    divisions.insert(d);
                }
                None => return Ok(Touched::Everything),
            }
            if let Some(old) = before.as_deref().and_then(old_division) {
                divisions.insert(old);
            }
        }
    }
    // A division whose ancestor is also listed is read with it.
    let listed: Vec<DivisionCode> = divisions
        .iter()
        .filter_map(|d| DivisionCode::parse(d).ok())
        .collect();
    divisions.retain(|d| {
        !listed.iter().any(|a| {
            a.as_str() != d && a.level() != DivisionLevel::Village && d.starts_with(a.prefix())
        })
    });
    Ok(if divisions.is_empty() {
        Touched::Nothing
    } else {
        Touched::Divisions(divisions)
    })
}

fn is_village(code: &str) -> bool {
    DivisionCode::parse(code).is_ok_and(|c| c.level() == DivisionLevel::Village)
}

/// How many households a registry write's summary says it created.
fn created(after: Option<&str>) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_str(after?).ok()?;
    value.get("summary")?.get("created")?.as_i64()
}

/// The `division_code` of a `before_data` object, if it names one.
fn old_division(before: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(before).ok()?;
    value
        .get("division_code")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}
