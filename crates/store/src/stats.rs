//! Registry figures for any division, from the division table and the village leaf counts
//! (a SUM over at most a few thousand rows, whatever the size of the registry).

use crate::{Db, Result, on_pool};
use serde::Serialize;
use zhenxing_core::DivisionCode;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegistryStats {
    /// The division the figures are for (the municipality when none was given).
    pub division: String,
    pub counties: i64,
    pub former_poverty_counties: i64,
    pub townships: i64,
    /// Village committees (村).
    pub villages: i64,
    /// Urban resident committees (社区).
    pub communities: i64,
    pub former_poverty_villages: i64,
    pub households: i64,
    pub members: i64,
    pub lifted_out_households: i64,
    pub lifted_out_members: i64,
    pub ordinary_households: i64,
    pub ordinary_members: i64,
    pub monitored_households: i64,
    pub monitored_members: i64,
}

impl RegistryStats {
    /// Each figure with its Chinese and English label, in the order pages and the CLI show them.
    pub fn labelled(&self) -> [(&'static str, &'static str, i64); 14] {
        [
            ("区县", "counties", self.counties),
            (
                "其中脱贫区县",
                "former poverty counties",
                self.former_poverty_counties,
            ),
            ("乡镇（街道）", "townships", self.townships),
            ("村", "villages", self.villages),
            ("社区", "communities", self.communities),
            (
                "其中脱贫村",
                "former poverty villages",
                self.former_poverty_villages,
            ),
            ("户", "households", self.households),
            ("人", "members", self.members),
            (
                "脱贫户",
                "households lifted out of poverty",
                self.lifted_out_households,
            ),
            (
                "脱贫人口",
                "members of lifted-out households",
                self.lifted_out_members,
            ),
            ("一般农户", "ordinary households", self.ordinary_households),
            (
                "一般农户人口",
                "members of ordinary households",
                self.ordinary_members,
            ),
            ("监测户", "monitored households", self.monitored_households),
            ("监测人口", "monitored members", self.monitored_members),
        ]
    }
}

impl Db {
    pub async fn stats(&self, scope: Option<&DivisionCode>) -> Result<RegistryStats> {
        let prefix = format!("{}%", scope.map(|c| c.prefix()).unwrap_or("50"));
        let divisions: (i64, i64, i64, i64, i64, i64) = on_pool!(self, pool => sqlx::query_as(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN level = 'county' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN level = 'county' AND former_poverty_county IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN level = 'township' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN level = 'village' AND kind = 'village' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN level = 'village' AND kind <> 'village' THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN former_poverty_village THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM divisions WHERE code LIKE $1")
            .bind(&prefix).fetch_one(pool).await?);
        let counts: (i64, i64, i64, i64, i64, i64) = on_pool!(self, pool => sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(households), 0) AS BIGINT), CAST(COALESCE(SUM(members), 0) AS BIGINT), \
               CAST(COALESCE(SUM(lifted_out_households), 0) AS BIGINT), CAST(COALESCE(SUM(lifted_out_members), 0) AS BIGINT), \
               CAST(COALESCE(SUM(monitored_households), 0) AS BIGINT), CAST(COALESCE(SUM(monitored_members), 0) AS BIGINT) \
             FROM village_counts WHERE division_code LIKE $1")
            .bind(&prefix).fetch_one(pool).await?);
        Ok(RegistryStats {
            division: scope
                .map(|c| c.as_str().to_owned())
                .unwrap_or_else(|| crate::divisions::MUNICIPALITY.to_owned()),
            counties: divisions.0,
            former_poverty_counties: divisions.1,
            townships: divisions.2,
            villages: divisions.3,
            communities: divisions.4,
            former_poverty_villages: divisions.5,
            households: counts.0,
            members: counts.1,
            lifted_out_households: counts.2,
            lifted_out_members: counts.3,
            ordinary_households: counts.0 - counts.2,
            ordinary_members: counts.1 - counts.3,
            monitored_households: counts.4,
            monitored_members: counts.5,
        })
    }

    /// The figures recomputed from the household table itself, bypassing the leaf counts; the
    /// conformance tests compare the two.
    pub async fn stats_from_households(&self) -> Result<(i64, i64, i64)> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "SELECT count(*), CAST(COALESCE(SUM(member_count), 0) AS BIGINT), \
             (SELECT count(*) FROM members) FROM households")
            .fetch_one(pool).await?))
    }
}
