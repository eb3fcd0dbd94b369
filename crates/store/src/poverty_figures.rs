//! The poverty measures of a division (issue 6 item 2) against the monitoring threshold of the
//! rule set in force: the FGT family on per-capita net income and the domain's Alkire–Foster
//! index, computed by `zhenxing_core::poverty` (the formulas live there and in
//! docs/poverty-measures.md).
//!
//! The households are not read here: every village leaf of `rollups` carries the additive sums
//! the measures are ratios of (`Figures::poverty`, `Figures::multidimensional`, gathered in the
//! same pass as the income distribution), so a division's measures come from its summed
//! figures, and the dashboard takes them from the figure cache like every other figure. The
//! registry records neither food and clothing (a home verification's finding) nor which child is
//! out of school (the rule set's ages decide it, in the monitoring pass): both dimensions are
//! unknown, which the index counts as not deprived and reports in `Af::people_with_unknown`.

use crate::Db;
use crate::Result;
use crate::rollups::{Figures, division_figures};
use time::Date;
use zhenxing_core::poverty::{Af, AfSpec, Fgt};
use zhenxing_core::{DivisionCode, Fen};

/// The measures of one division; `None` where there is no threshold in force or nobody.
#[derive(Debug, Clone, PartialEq)]
pub struct PovertyFigures {
    pub threshold: Option<Fen>,
    pub fgt: Option<Fgt>,
    pub multidimensional: Option<Af>,
}

impl PovertyFigures {
    /// The measures of a division's figures.
    pub fn of(figures: &Figures) -> PovertyFigures {
        let threshold = figures.income.threshold_fen.map(Fen);
        PovertyFigures {
            threshold,
            fgt: threshold.and_then(|z| figures.poverty.measures(z)),
            multidimensional: threshold
                .and_then(|_| figures.multidimensional.measures(&AfSpec::domain())),
        }
    }
}

/// The FGT measures and the multidimensional index of the households of `division`, against
/// the threshold of the rule set in force in the year of `today`, read now.
pub async fn poverty_figures(
    db: &Db,
    division: &DivisionCode,
    today: Date,
) -> Result<PovertyFigures> {
    Ok(PovertyFigures::of(
        &division_figures(db, division, today).await?,
    ))
}
