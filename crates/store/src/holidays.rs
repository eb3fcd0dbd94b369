//! The holiday notices a deployment adds to those that ship with zhenxing (issue 17 item 6):
//! one settings row per year (`holidays.YEAR`, the year's rows in the holiday file format of
//! `zhenxing_core::working_days`), added or replaced by `zhenxing holidays add`, audited with the
//! year's holidays before and after. [`Db::work_calendar`] is the shipped calendar with these
//! years over it: what time limits in working days are counted with.

use crate::audit::{AuditEntry, Operation};
use crate::procedures::write_setting;
use crate::{Db, Result, StoreError, on_pool};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use zhenxing_core::working_days::{
    HolidayPeriod, WorkCalendar, holiday_file_text, parse_holiday_file,
};

const PREFIX: &str = "holidays.";

fn periods_json(periods: &[HolidayPeriod]) -> Value {
    Value::Array(
        periods
            .iter()
            .map(|p| {
                json!({"notice": p.notice, "name_zh": p.name.zh, "name_en": p.name.en,
                       "off_from": p.off_from.to_string(), "off_to": p.off_to.to_string(),
                       "working_days": p.working_days.iter().map(|d| d.to_string())
                           .collect::<Vec<_>>()})
            })
            .collect(),
    )
}

impl Db {
    /// The years added to this deployment, each with its holidays.
    pub async fn added_holidays(&self) -> Result<Vec<HolidayPeriod>> {
        let rows: Vec<(String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT key, value FROM settings WHERE key LIKE 'holidays.%' ORDER BY key")
            .fetch_all(pool).await?);
        let mut periods = Vec::new();
        for (key, value) in rows {
            let parsed = parse_holiday_file(&value).map_err(|errors| {
                let first = errors.first().map(|e| e.text().en).unwrap_or_default();
                StoreError::Corrupt(format!("setting {key} does not parse: {first}"))
            })?;
            periods.extend(parsed);
        }
        Ok(periods)
    }

    /// The shipped notices with the years this deployment added over them.
    pub async fn work_calendar(&self) -> Result<WorkCalendar> {
        Ok(WorkCalendar::built_in().with_years(self.added_holidays().await?))
    }

    /// Adds the notices of the years in `periods` (parsed by
    /// `zhenxing_core::working_days::parse_holiday_file`), each replacing what the deployment
    /// had for that year (the shipped notice too), in one transaction, one audited operation
    /// per year. Returns the years.
    pub async fn add_holidays(&self, actor: &str, periods: &[HolidayPeriod]) -> Result<Vec<i32>> {
        let before = self.work_calendar().await?;
        let mut by_year: BTreeMap<i32, Vec<HolidayPeriod>> = BTreeMap::new();
        for p in periods {
            by_year.entry(p.year).or_default().push(p.clone());
        }
        let mut tx = self.begin_write().await?;
        for (year, list) in &by_year {
            let operation = Operation::begin(
                &mut tx,
                AuditEntry {
                    actor: actor.to_owned(),
                    action: "settings.holidays".into(),
                    object_type: "settings".into(),
                    object_id: Some(format!("{PREFIX}{year}")),
                    before: before
                        .knows_year(*year)
                        .then(|| periods_json(before.periods(*year))),
                    after: Some(periods_json(list)),
                    ..Default::default()
                },
            )
            .await?;
            write_setting(
                &mut tx,
                &format!("{PREFIX}{year}"),
                &holiday_file_text(list),
                actor,
                operation.seq(),
            )
            .await?;
            operation.finish(&mut tx, None).await?;
        }
        tx.commit().await?;
        Ok(by_year.into_keys().collect())
    }
}
