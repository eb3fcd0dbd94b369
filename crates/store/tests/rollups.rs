//! The live roll-ups and the monthly snapshots on a generated registry, on every backend:
//! children add up to their parent figure by figure, and a snapshot holds the same key figures
//! as the roll-ups.

#[path = "support/generated.rs"]
mod generated;

use generated::{at_risk, exec, generate, monitored, sprinkle};
use time::{Date, Duration};
use zhenxing_core::assistance::{MeasureCategory, MeasureDraft, MeasureStatus};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{DivisionCode, DivisionLevel, Fen, Role};
use zhenxing_store::figure_cache::FigureCache;
use zhenxing_store::rollups::{self, Figures};
use zhenxing_store::snapshots::{self, KeyFigures, Month};
use zhenxing_store::{Db, Outcome, testing};
use zhenxing_store::{assistance, portal, procedures};

const MUNICIPALITY: &str = "500000000000";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).expect("a division code")
}

fn value(entries: &[(String, i64)], key: &str) -> i64 {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|e| e.1)
        .unwrap_or_else(|| panic!("no figure {key}"))
}

/// Every figure of the parent equals the sum of its children's.
async fn check_children_add_up(db: &Db, parent: &DivisionCode, today: Date) -> Figures {
    let whole = rollups::division_figures(db, parent, today)
        .await
        .expect("figures");
    let children = rollups::children_figures(db, parent, today)
        .await
        .expect("children");
    assert!(!children.is_empty(), "{parent} has children");
    let expected = whole.entries();
    for (key, total) in &expected {
        // A county is a former poverty county; its townships are not.
        if key == "seed.former_poverty_counties" && parent.level() != DivisionLevel::Province {
            continue;
        }
        let sum: i64 = children
            .iter()
            .map(|c| value(&c.figures.entries(), key))
            .sum();
        assert_eq!(sum, *total, "{parent}: {key}");
    }
    for c in &children {
        assert_eq!(
            c.figures.entries().len(),
            expected.len(),
            "{}: the same figures",
            c.code
        );
    }
    whole
}

#[tokio::test]
async fn children_add_up_to_their_parent_and_snapshots_match() {
    testing::each_backend(async |db| {
        let today = today_in_china();
        generate(db, today).await;
        sprinkle(db, today).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .expect("rule sets");

        let city = check_children_add_up(db, &code(MUNICIPALITY), today).await;
        let e = city.entries();
        // The figures are not all zero: every part of the roll-up is exercised.
        for key in [
            "lifted_out.households",
            "ordinary.members",
            "monitored.households",
            "risk.not_eliminated.households",
            "risk.by_assistance.households",
            "risk.naturally.households",
            "risk.method_unknown.households",
            "risk_type.illness.households",
            "risk_type.unrecorded.households",
            "warnings.new",
            "warnings.closed",
            "cases.overdue",
            "coverage.monitored",
            "measures.health.implemented.count",
            "income.at_or_below_threshold.households",
            "fgt.poor_people",
            "fgt.gap_sum",
            "seed.former_poverty_villages",
            "seed.former_poverty_counties",
        ] {
            assert!(value(&e, key) > 0, "{key} is zero");
        }
        let households = city.lifted_out.households + city.ordinary.households;
        assert_eq!(
            city.income
                .buckets
                .iter()
                .map(|b| b.count.households)
                .sum::<i64>(),
            households
        );
        assert_eq!(
            city.income.threshold_fen,
            Some(600_000),
            "the 2021 threshold, 6,000 yuan"
        );
        assert_eq!(
            city.monitored_by_category
                .iter()
                .map(|c| c.1.households)
                .sum::<i64>(),
            city.monitored.households
        );
        let s = city.risk_status;
        assert_eq!(
            s.not_eliminated.households + s.eliminated().households,
            city.monitored.households
        );
        assert_eq!(city.coverage.monitored, city.monitored.households);
        // The FGT sums count the same people as the income distribution, and the measures
        // come out of them in order.
        assert_eq!(
            city.poverty.people as i64,
            city.income
                .buckets
                .iter()
                .map(|b| b.count.members)
                .sum::<i64>()
        );
        assert_eq!(
            city.poverty.poor_people as i64,
            city.income.at_or_below_threshold.members
        );
        let fgt = city
            .poverty
            .measures(zhenxing_core::Fen(600_000))
            .expect("measures");
        assert!(
            0.0 < fgt.p2 && fgt.p2 <= fgt.p1 && fgt.p1 <= fgt.p0 && fgt.p0 < 1.0,
            "{fgt:?}"
        );
        assert_eq!(
            city.active_warnings(),
            value(&e, "warnings.new") + value(&e, "warnings.assigned")
        );

        // The month's procedures seen from today: in progress and overdue are the live figures.
        let first = Month::of(today).first_day().expect("a day");
        let months = rollups::case_timeliness(db, &code(MUNICIPALITY), first, today, today)
            .await
            .expect("timeliness");
        assert!(months.iter().all(|(p, _)| p.len() == 6), "keyed by county");
        let mut t = rollups::CaseTimeliness::default();
        for (_, f) in &months {
            t.add(f);
        }
        assert_eq!(t.in_progress, city.open_cases_total());
        assert_eq!(t.overdue, city.overdue_cases);
        assert!(t.overdue > 0);
        assert!(t.completed > 0 && t.rejected_or_withdrawn > 0, "{t:?}");

        // Down the tree: the county with the most monitored households, then its busiest township.
        let counties = rollups::children_figures(db, &code(MUNICIPALITY), today)
            .await
            .expect("counties");
        let county = counties
            .iter()
            .max_by_key(|c| c.figures.monitored.households)
            .expect("a county");
        check_children_add_up(db, &code(&county.code), today).await;
        let townships = rollups::children_figures(db, &code(&county.code), today)
            .await
            .expect("townships");
        let township = townships
            .iter()
            .max_by_key(|c| c.figures.monitored.households)
            .expect("a township");
        check_children_add_up(db, &code(&township.code), today).await;

        // Snapshots: the same key figures as the live roll-ups, taken again = replaced.
        let month = Month::of(today);
        let first = snapshots::take(db, "test", month, today)
            .await
            .expect("taken")
            .expect("allowed");
        assert_eq!(first.replaced, 0);
        assert!(
            first.rows > 1_000,
            "{} rows: municipality, counties, townships",
            first.rows
        );
        let again = snapshots::take(db, "test", month, today)
            .await
            .expect("taken")
            .expect("allowed");
        assert_eq!(again.replaced as usize, first.rows);
        assert_eq!(again.rows, first.rows);
        for division in [code(MUNICIPALITY), code(&county.code), code(&township.code)] {
            let series = snapshots::series(db, &division, month, 12)
                .await
                .expect("a series");
            assert_eq!(series.len(), 1, "{division}");
            let live = rollups::division_figures(db, &division, today)
                .await
                .expect("figures");
            assert_eq!(
                series[0].figures,
                KeyFigures::from_figures(&live),
                "{division}"
            );
            assert_eq!(series[0].month, month);
            assert_eq!(series[0].as_of, today);
        }
        let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'snapshot.take'";
        let ops: i64 = match db {
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .expect("audit count");
        assert_eq!(ops, 2, "one audited operation per take");
        assert!(
            zhenxing_store::audit::verify(db)
                .await
                .expect("verify")
                .problems
                .is_empty()
        );

        // Months that cannot be taken are refused, and nothing changes.
        let next = Month::of(month.last_day().expect("a day") + Duration::days(1));
        assert!(
            snapshots::take(db, "test", next, today)
                .await
                .expect("no error")
                .is_err()
        );
        let old = month.previous().previous();
        assert!(
            snapshots::take(db, "test", old, today)
                .await
                .expect("no error")
                .is_err()
        );
        assert!(
            snapshots::series(db, &code(MUNICIPALITY), old, 1)
                .await
                .expect("a series")
                .is_empty()
        );
    })
    .await;
}

/// The cache's figures of `division` equal the figures read directly, and so do its children's.
async fn check_cache(db: &Db, cache: &FigureCache, division: &DivisionCode, today: Date) {
    let cached = cache.division(db, division, today).await.expect("cached");
    let direct = rollups::division_figures(db, division, today)
        .await
        .expect("direct");
    assert_eq!(cached.entries(), direct.entries(), "{division}");
    assert_eq!(cached, direct, "{division}");
    let cached_children = cache.children(db, division, today).await.expect("cached");
    let direct_children = rollups::children_figures(db, division, today)
        .await
        .expect("direct");
    assert_eq!(cached_children.len(), direct_children.len(), "{division}");
    for (a, b) in cached_children.iter().zip(&direct_children) {
        assert_eq!((&a.code, &a.name_zh), (&b.code, &b.name_zh));
        assert_eq!(a.figures, b.figures, "{}", a.code);
    }
}

/// The figure cache follows real, audited writes (a household edited and moved, a measure,
/// sign-ins that change nothing, a settings change that changes everything) and a new day, and
/// after each one agrees with the figures read directly, at every level the write reached.
#[tokio::test]
async fn figure_cache_follows_every_write() {
    testing::each_backend(async |db| {
        let today = today_in_china();
        generate(db, today).await;
        sprinkle(db, today).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .expect("rule sets");
        let cache = FigureCache::new();
        let city = code(MUNICIPALITY);
        check_cache(db, &cache, &city, today).await;
        assert_eq!(cache.stats().await.full_reads, 1);

        // A monitored household at risk and the levels above it.
        let (_, no, village) = at_risk(db).await.swap_remove(0);
        let village = code(&village);
        let township = village.parent().expect("a township");
        let county = township.parent().expect("a county");
        let levels = [city, county, township, village];
        for d in &levels {
            check_cache(db, &cache, d, today).await;
        }

        // An edit: raise the income far above the threshold, through the registry's write path.
        let (mut record, meta) = zhenxing_store::registry::household(db, &no)
            .await
            .expect("read")
            .expect("the household");
        let before = cache
            .division(db, &village, today)
            .await
            .expect("figures")
            .income
            .at_or_below_threshold;
        record.wage_income = 50_000_000;
        record.business_income = 0;
        record.property_income = 0;
        record.transfer_income = 0;
        record.business_expense = 0;
        record.out_of_pocket = 0;
        db.edit_household(&record, meta.version, "test", "test", "income corrected")
            .await
            .expect("edited");
        let after = cache
            .division(db, &village, today)
            .await
            .expect("figures")
            .income
            .at_or_below_threshold;
        assert_ne!(before, after, "the edit shows at once");
        for d in &levels {
            check_cache(db, &cache, d, today).await;
        }

        // A move to another village of another county: both villages and both counties.
        let other_village = db
            .division_names()
            .await
            .expect("names")
            .into_iter()
            .map(|(c, _)| c)
            .find(|c| c.level() == DivisionLevel::Village && c.county() != Some(county))
            .expect("a village elsewhere");
        let (mut record, meta) = zhenxing_store::registry::household(db, &no)
            .await
            .expect("read")
            .expect("the household");
        record.division_code = other_village.as_str().to_owned();
        db.edit_household(&record, meta.version, "test", "test", "moved")
            .await
            .expect("moved");
        for d in levels.iter().chain(&[
            other_village,
            other_village.parent().expect("a township"),
            other_village.county().expect("a county"),
        ]) {
            check_cache(db, &cache, d, today).await;
        }

        // A measure, through assistance (the household now lies in the other county).
        let officer = db
            .create_account(
                "cache_officer",
                Role::CountyOfficer,
                &other_village.county().expect("a county"),
                "correct horse battery staple 9",
                "test",
            )
            .await
            .expect("an account");
        let measure = MeasureDraft {
            category: MeasureCategory::Employment,
            content: "公益性岗位".into(),
            amount: Some(Fen::from_yuan(3_000)),
            starts_on: today - Duration::days(3),
            ends_on: None,
            status: MeasureStatus::Implemented,
            implemented_on: Some(today - Duration::days(1)),
            risk: None,
        }
        .build(today)
        .expect("a measure");
        let added = assistance::add_measure(db, &officer, &no, &measure)
            .await
            .expect("added");
        assert!(matches!(added, Outcome::Done(_)), "{added:?}");
        for d in levels.iter().chain(&[other_village]) {
            check_cache(db, &cache, d, today).await;
        }
        // A write that changes nothing, and one that creates a household (creations are not
        // itemised in the audit trail: the cache finds the new household's village).
        let (record, meta) = zhenxing_store::registry::household(db, &no)
            .await
            .expect("read")
            .expect("the household");
        db.edit_household(&record, meta.version, "test", "test", "unchanged")
            .await
            .expect("saved");
        testing::write_test_households(
            db,
            vec![testing::test_household(
                "NEW0001",
                village.as_str(),
                &testing::test_id_number(990_001),
                1_000,
            )],
        )
        .await;
        for d in &levels {
            check_cache(db, &cache, d, today).await;
        }
        assert_eq!(
            cache.stats().await.full_reads,
            1,
            "ordinary writes re-read their villages only"
        );

        // A self-declaration from the portal on a provisional number, then its lead carried
        // over to the household registered since in another village of the township: the
        // audited link names both villages, and only they are read again.
        let sibling = db
            .division_names()
            .await
            .expect("names")
            .into_iter()
            .map(|(c, _)| c)
            .find(|c| {
                c.level() == DivisionLevel::Village && c.parent() == Some(township) && *c != village
            })
            .expect("another village of the township");
        let declarant = testing::test_id_number(990_002);
        let declaration = zhenxing_core::portal::DeclarationForm {
            applicant: "王世华".into(),
            id_number: declarant.clone(),
            village: village.as_str().into(),
            phone: "13900000001".into(),
            events: vec!["illness".into()],
            account: "妻子需要手术".into(),
            commitment: Some("yes".into()),
            authorisation: Some("yes".into()),
            privacy: Some("yes".into()),
        }
        .check(today)
        .expect("a declaration");
        let submitted = portal::declare(db, &declaration, &Default::default(), today)
            .await
            .expect("stored")
            .expect("a known village");
        for d in &levels {
            check_cache(db, &cache, d, today).await;
        }
        let provisional = format!("SB-{}-{}", village.county_digits(), submitted.id);
        let township_officer = db
            .create_account(
                "cache_township",
                Role::TownshipOfficer,
                &township,
                "correct horse battery staple 9",
                "test",
            )
            .await
            .expect("an account");
        let lead = zhenxing_store::warnings::inbox(
            db,
            &township_officer.scope(),
            &zhenxing_store::warnings::InboxQuery {
                status: zhenxing_store::warnings::StatusFilter::All,
                limit: 10_000,
                ..Default::default()
            },
            today,
        )
        .await
        .expect("the inbox")
        .into_iter()
        .find(|w| w.household_no == provisional)
        .expect("the lead on its provisional number");
        testing::write_test_households(
            db,
            vec![testing::test_household(
                "NEW0002",
                sibling.as_str(),
                &declarant,
                1_000,
            )],
        )
        .await;
        let version = zhenxing_store::warnings::warning(db, &township_officer.scope(), lead.id)
            .await
            .expect("read")
            .expect("the lead")
            .row_version;
        let linked = portal::link_household(db, &township_officer, lead.id, version, "NEW0002")
            .await
            .expect("linked");
        assert!(matches!(linked, Outcome::Done(_)), "{linked:?}");
        for d in levels.iter().chain(&[sibling]) {
            check_cache(db, &cache, d, today).await;
        }
        assert_eq!(
            cache.stats().await.full_reads,
            1,
            "the link re-read its two villages only"
        );

        // A failed sign-in is audited but changes no figure; a settings change changes all.
        db.sign_in("cache_officer", "wrong password", "127.0.0.1")
            .await
            .expect("refused, not failed");
        check_cache(db, &cache, &city, today).await;
        assert_eq!(cache.stats().await.full_reads, 1);
        let mut policy = procedures::policy(db).await.expect("policy");
        policy.limit_days += 1;
        procedures::set_policy(db, "test", &policy)
            .await
            .expect("saved")
            .expect("valid");
        check_cache(db, &cache, &city, today).await;
        assert_eq!(cache.stats().await.full_reads, 2);

        // A new day: ages and overdue cases move without a write.
        let tomorrow = today + Duration::days(1);
        check_cache(db, &cache, &county, tomorrow).await;
        assert_eq!(cache.stats().await.full_reads, 3);
    })
    .await;
}

/// `backfill` writes a snapshot for every past month from the dated records as they stood at
/// the month's end (China time), and this month's from the live figures; months already taken
/// are left alone.
#[tokio::test]
async fn backfilled_months_count_the_records_as_they_stood() {
    testing::each_backend(async |db| {
        let today = today_in_china();
        generate(db, today).await;
        let households = monitored(db).await;
        let (county, no, division) = households.first().expect("a monitored household").clone();
        let township = format!("{}000", &division[..9]);
        let county_division = format!("{}000000", &county[..6]);
        // Two warnings: one settled on 2 May (China), one at 01:00 on 1 May (China), which is
        // still 30 April in UTC; a case open through March, late from 21 March, approved
        // 10 April, closed 20 April; a measure implemented on 15 April.
        for (id, opened, closed) in [
            (9001, "2021-03-10T08:00:00.000Z", "2021-05-02T02:00:00.000Z"),
            (9002, "2021-04-01T08:00:00.000Z", "2021-04-30T17:00:00.000Z"),
        ] {
            exec(db, &format!(
                "INSERT INTO warnings (id, county_code, household_no, division_code, source, status, \
                 risk_types, reasons, fingerprint, opened_at, closed_at, updated_at, opened_seq, updated_seq) \
                 VALUES ({id}, '{county}', '{no}', '{division}', 'visit', 'verified', '', '[]', 'x', \
                 '{opened}', '{closed}', '{closed}', 1, 1)")).await;
        }
        exec(db, &format!(
            "INSERT INTO cases (id, county_code, household_no, division_code, kind, stage, \
             opened_on, due_on, closed_on, approved_on, opened_by, opened_seq, updated_seq, opened_at, updated_at) \
             VALUES (9001, '{county}', '{no}', '{division}', 'identification', 'completed', '2021-03-01', \
             '2021-03-20', '2021-04-20', '2021-04-10', 'test', 1, 1, '2021-03-01T08:00:00.000Z', \
             '2021-04-20T08:00:00.000Z')")).await;
        exec(db, &format!(
            "INSERT INTO measures (id, county_code, household_no, division_code, category, content, \
             amount, starts_on, status, implemented_on, created_seq, updated_seq, created_at, updated_at) \
             VALUES (9001, '{county}', '{no}', '{division}', 'industry', '帮扶措施', 100000, '2021-03-01', \
             'implemented', '2021-04-15', 1, 1, '2021-03-01T08:00:00.000Z', '2021-04-15T08:00:00.000Z')")).await;

        let from = Month::parse("2021-01").expect("a month");
        let mut tx = db.begin_write().await.expect("a transaction");
        let written = snapshots::backfill(&mut tx, "test", from, today)
            .await
            .expect("backfilled");
        tx.commit().await.expect("commit");
        let mut months = 0;
        let mut m = Month::of(today);
        while m >= from {
            months += 1;
            m = m.previous();
        }
        assert_eq!(written.months, months);
        let series = snapshots::series(db, &code(&township), Month::of(today), 240)
            .await
            .expect("a series");
        assert_eq!(series.len(), months, "a line per month since 2021-01");
        let at = |month: &str| {
            series
                .iter()
                .find(|p| p.month.to_string() == month)
                .unwrap_or_else(|| panic!("no {month}"))
        };
        let feb = at("2021-02").figures;
        let (mar, apr, may) = (at("2021-03"), at("2021-04"), at("2021-05"));
        assert_eq!(mar.as_of.to_string(), "2021-03-31");
        assert_eq!((feb.warnings_active, mar.figures.warnings_active), (0, 1));
        assert_eq!(apr.figures.warnings_active, 2, "01:00 on 1 May in China is after 30 April");
        assert_eq!(may.figures.warnings_active, 0);
        assert_eq!((mar.figures.cases_open, mar.figures.cases_overdue), (1, 1));
        assert_eq!((apr.figures.cases_open, apr.figures.cases_overdue), (0, 0));
        assert_eq!(
            (mar.figures.measures_implemented, apr.figures.measures_implemented),
            (0, 1)
        );
        // Monitored from the day of identification, eliminated from the day of elimination.
        let count = |sql: String| async move {
            match db {
                Db::Sqlite(p) => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await,
                Db::Postgres(p) => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(p).await,
            }
            .expect("a count")
        };
        let monitored_by = |day: &str, eliminated: bool| {
            let elimination = if eliminated {
                format!("AND risk_eliminated_on <= '{day}'")
            } else {
                String::new()
            };
            format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM households WHERE monitoring_category IS NOT NULL \
                 AND county_code = '{county}' AND (identified_on IS NULL OR identified_on <= '{day}') {elimination}"
            )
        };
        let county_series = snapshots::series(db, &code(&county_division), Month::of(today), 240)
            .await
            .expect("a series");
        let sept = county_series
            .iter()
            .find(|p| p.month.to_string() == "2021-09")
            .expect("September 2021");
        assert_eq!(
            sept.figures.monitored_households,
            count(monitored_by("2021-09-30", false)).await
        );
        assert_eq!(
            sept.figures.eliminated_households,
            count(monitored_by("2021-09-30", true)).await
        );
        assert!(sept.figures.monitored_households < county_series[months - 1].figures.monitored_households);
        // This month's line is today's figures.
        for division in [code(MUNICIPALITY), code(&county_division), code(&township)] {
            let last = snapshots::series(db, &division, Month::of(today), 1)
                .await
                .expect("a series");
            let live = rollups::division_figures(db, &division, today)
                .await
                .expect("figures");
            assert_eq!(last[0].figures, KeyFigures::from_figures(&live), "{division}");
        }
        // Months that have a snapshot are left alone; one audited operation.
        let mut tx = db.begin_write().await.expect("a transaction");
        let again = snapshots::backfill(&mut tx, "test", from, today)
            .await
            .expect("backfilled");
        tx.commit().await.expect("commit");
        assert_eq!(again.months, 0);
        let ops = count("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'snapshot.backfill'".into()).await;
        assert_eq!(ops, 1);
        assert!(
            zhenxing_store::audit::verify(db)
                .await
                .expect("verify")
                .problems
                .is_empty()
        );
    })
    .await;
}
