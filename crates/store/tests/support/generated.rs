#![allow(dead_code)] // shared by the store's and the web's tests, each using a part
//! A generated registry for tests of the figures (shared with `crates/web/tests` through
//! `#[path]`): `generate` writes a small synthetic registry as the `generate` command does,
//! `sprinkle` adds risk types, eliminations, warnings, cases and measures.

use time::{Date, Duration};
use zhenxing_store::Db;
use zhenxing_store::registry::{WriteRequest, refresh_all_village_counts, write_in_transaction};
use zhenxing_synth::{SynthConfig, plan, villages_from_divisions};

/// A small generated registry (scale 0.002: about 3,800 lifted-out members and half as many
/// ordinary ones), written as `generate` writes it.
pub async fn generate(db: &Db, today: Date) {
    let names = db.division_names().await.expect("division names");
    let villages = villages_from_divisions(names.iter().map(|(c, n)| (*c, n.as_str())));
    let counties = db.former_poverty_counties().await.expect("counties");
    let plan = plan(&SynthConfig::new(0.002, 7, today), &villages, &counties).expect("a plan");
    let request = WriteRequest {
        actor: "test".into(),
        source: "test".into(),
        reason: None,
        dry_run: false,
        known_new: true,
        defer_counts: true,
        // Synthetic households monitored before zhenxing, as `generate` writes them.
        monitoring: zhenxing_store::registry::MonitoringPermission::LegacyMonitoring,
    };
    let mut tx = db.begin_write().await.expect("a write transaction");
    zhenxing_store::divisions::set_former_poverty_villages(
        &mut tx,
        plan.former_poverty_villages(),
        "test",
    )
    .await
    .expect("former poverty villages");
    for county in plan.counties() {
        let households = plan.generate_county(county);
        write_in_transaction(&mut tx, &households, &request, &|_| {})
            .await
            .expect("the county is written");
    }
    refresh_all_village_counts(&mut tx).await.expect("counts");
    tx.commit().await.expect("commit");
}

pub async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p)
            .await
            .map(drop),
        Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p)
            .await
            .map(drop),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

pub async fn monitored(db: &Db) -> Vec<(String, String, String)> {
    let sql = "SELECT county_code, household_no, division_code FROM households \
               WHERE monitoring_category IS NOT NULL ORDER BY household_no";
    match db {
        Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
    }
    .expect("monitored households")
}

/// Monitored households with a per-capita net income at or below the threshold of 6,000
/// yuan (the history raised the income of those whose risk it eliminated).
pub async fn at_risk(db: &Db) -> Vec<(String, String, String)> {
    let sql = "SELECT county_code, household_no, division_code FROM households \
               WHERE monitoring_category IS NOT NULL AND wage_income + business_income \
               + property_income + transfer_income - business_expense <= 600000 * member_count \
               ORDER BY household_no";
    match db {
        Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
    }
    .expect("households at risk")
}

/// Risk types, eliminations, warnings, cases and measures spread over the monitored
/// households of several counties (the generator makes none of these).
pub async fn sprinkle(db: &Db, today: Date) {
    let households = monitored(db).await;
    assert!(households.len() >= 20, "{} monitored", households.len());
    let statuses = ["new", "assigned", "verified", "dismissed", "closed"];
    let stages = [
        "verification",
        "appraisal",
        "notice",
        "township_review",
        "county_approval",
        "announcement",
    ];
    let categories = [
        "industry",
        "employment",
        "health",
        "housing",
        "social_security",
    ];
    let measure_statuses = ["planned", "implemented", "cancelled"];
    let risks = ["illness", "disability,schooling", "unsafe_housing", ""];
    for (i, (county, no, division)) in households.iter().enumerate() {
        let i64i = i as i64;
        let day = |back: i64| (today - Duration::days(back)).to_string();
        let (eliminated, method) = match i % 4 {
            0 => ("NULL".to_owned(), "NULL"),
            1 => (format!("'{}'", day(40)), "'by_assistance'"),
            2 => (format!("'{}'", day(10)), "'natural'"),
            _ => (format!("'{}'", day(5)), "NULL"),
        };
        exec(
            db,
            &format!(
                "UPDATE households SET risk_types = '{}', risk_eliminated_on = {eliminated}, \
             elimination_method = {method} WHERE household_no = '{no}'",
                risks[i % risks.len()]
            ),
        )
        .await;
        if i % 2 == 0 {
            exec(db, &format!(
                "INSERT INTO warnings (id, county_code, household_no, division_code, source, status, \
                 risk_types, reasons, fingerprint, opened_at, updated_at, opened_seq, updated_seq) \
                 VALUES ({}, '{county}', '{no}', '{division}', 'visit', '{}', '', '[]', 'x', \
                 '{}T08:00:00.000Z', '{}T08:00:00.000Z', 1, 1)",
                i + 1, statuses[i / 2 % statuses.len()], day(i64i * 9), day(0))).await;
        }
        if i % 3 != 0 {
            let closed_case = i % 7 == 0;
            let stage = if closed_case {
                ["completed", "rejected", "withdrawn"][i / 14 % 3]
            } else {
                stages[i % stages.len()]
            };
            // A case past the county's approval has its day of approval.
            let approved = if stage == "announcement" || stage == "completed" {
                format!("'{}'", day(3))
            } else {
                "NULL".to_owned()
            };
            let closed = if closed_case {
                format!("'{}'", day(0))
            } else {
                "NULL".to_owned()
            };
            exec(db, &format!(
                "INSERT INTO cases (id, county_code, household_no, division_code, kind, stage, \
                 opened_on, due_on, closed_on, approved_on, opened_by, opened_seq, updated_seq, opened_at, updated_at) \
                 VALUES ({}, '{county}', '{no}', '{division}', '{}', '{}', '{}', '{}', {closed}, {approved}, 'test', 1, 1, \
                 '{}T08:00:00.000Z', '{}T08:00:00.000Z')",
                i + 1, if i % 5 == 0 { "elimination" } else { "identification" },
                stage, day(20), day(20 - 15 - (i64i % 4) * 3 + 3), day(20), day(0))).await;
        }
        exec(db, &format!(
            "INSERT INTO measures (id, county_code, household_no, division_code, category, content, \
             amount, starts_on, status, created_seq, updated_seq, created_at, updated_at) \
             VALUES ({}, '{county}', '{no}', '{division}', '{}', '帮扶措施', {}, '{}', '{}', 1, 1, \
             '{}T08:00:00.000Z', '{}T08:00:00.000Z')",
            i + 1, categories[i % categories.len()], 100_000 * (i64i % 9), day(60),
            measure_statuses[i % measure_statuses.len()], day(60), day(0))).await;
    }
}
