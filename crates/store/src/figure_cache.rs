//! Live figures for the dashboard pages, kept current by the audit chain.
//!
//! (Interface first; the incremental cache behind it follows in the next commit.)

use crate::rollups::{self, ChildFigures, Figures};
use crate::{Db, Result};
use time::Date;
use zhenxing_core::DivisionCode;

/// Holds the figures of every division between requests. One per process.
#[derive(Debug, Default)]
pub struct FigureCache {}

impl FigureCache {
    pub fn new() -> FigureCache {
        FigureCache::default()
    }

    /// The figures of `division` on `today`, reflecting every committed write.
    pub async fn division(&self, db: &Db, division: &DivisionCode, today: Date) -> Result<Figures> {
        rollups::division_figures(db, division, today).await
    }

    /// The figures of each child of `parent`, in code order (none for a village).
    pub async fn children(
        &self,
        db: &Db,
        parent: &DivisionCode,
        today: Date,
    ) -> Result<Vec<ChildFigures>> {
        rollups::children_figures(db, parent, today).await
    }
}
