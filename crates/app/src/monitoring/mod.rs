//! Screening and what-if, as the CLI's `monitor` and the monitoring pages run them, over the
//! pass of [`pass`] (load, evaluate, write): the checks before a run, and a what-if with its
//! divisions named and its households listed.

pub mod pass;

use zhenxing_core::{DivisionCode, DivisionLevel, Fen};
use zhenxing_engine::WhatIfCounts;
use zhenxing_store::Db;
use zhenxing_store::monitoring::StoredRuleSet;

use pass::{Change, Named, OnProgress, PassError};

/// What a run or a what-if of `scope` (the whole registry when `None`) is checked against: the
/// division must exist, and a rule set must be in force for `year` (this year when `None`).
pub async fn rule_set_for(
    db: &Db,
    scope: Option<&DivisionCode>,
    year: Option<u16>,
) -> Result<StoredRuleSet, PassError> {
    pass::check_scope(db, scope).await?;
    pass::rule_set_in_force(db, year).await
}

/// The threshold a rule set holds (zero when it sets none).
pub fn current_threshold(rule_set: &StoredRuleSet) -> Fen {
    rule_set.rules.threshold.unwrap_or(Fen::ZERO)
}

/// A what-if: a proposed threshold against the rule set in force.
pub struct WhatIfRequest<'a> {
    pub rule_set: &'a StoredRuleSet,
    pub scope: Option<&'a DivisionCode>,
    pub proposed: Fen,
    /// The levels to count by, in this order.
    pub levels: &'a [DivisionLevel],
    /// Whether to list the households entering or leaving.
    pub changes: bool,
}

/// The outcome of a what-if. Nothing is written.
pub struct WhatIfReport {
    pub current: Fen,
    pub proposed: Fen,
    pub total: WhatIfCounts,
    /// Per level asked for, every division of it under the scope, named, in code order.
    pub levels: Vec<(DivisionLevel, Vec<Named>)>,
    /// By village and household number; empty unless asked for.
    pub changes: Vec<Change>,
}

/// Counts who would be at or below `proposed`, and who would enter or leave the monitoring
/// range compared with the rule set's threshold.
pub async fn whatif(
    db: &Db,
    request: &WhatIfRequest<'_>,
    progress: OnProgress<'_>,
) -> Result<WhatIfReport, PassError> {
    let current = current_threshold(request.rule_set);
    let result = pass::whatif(db, request.scope, current, request.proposed, progress).await?;
    let mut levels = Vec::with_capacity(request.levels.len());
    for level in request.levels {
        levels.push((*level, pass::named(db, &result.by(*level)).await?));
    }
    Ok(WhatIfReport {
        current,
        proposed: request.proposed,
        total: result.total,
        levels,
        changes: if request.changes {
            result.changes()
        } else {
            Vec::new()
        },
    })
}
