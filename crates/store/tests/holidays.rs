#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Issue 17 item 6 on SQLite and PostgreSQL: a year's holiday notice added over the shipped ones,
//! replacing a year, read back as the calendar time limits are counted with, audited.

use time::macros::date;
use zhenxing_core::procedure::{DayCounting, ProcedurePolicy};
use zhenxing_core::working_days::parse_holiday_file;
use zhenxing_store::{audit, procedures, testing};

const YEAR_2027: &str = "year,notice,name_zh,name_en,off_from,off_to,working_days\n\
    2027,测试通知,元旦,New Year's Day,2027-01-01,2027-01-03,\n\
    2027,测试通知,春节,Spring Festival,2027-02-05,2027-02-11,2027-02-13;2027-02-20\n";

#[tokio::test]
async fn an_added_year_counts_and_replacing_a_year_is_audited() {
    testing::each_backend(async |db| {
        let shipped = db.work_calendar().await.unwrap();
        assert!(!shipped.knows_year(2027));
        assert!(shipped.is_working_day(date!(2027 - 02 - 08)));

        let periods = parse_holiday_file(YEAR_2027).unwrap();
        assert_eq!(
            db.add_holidays("holiday-admin", &periods).await.unwrap(),
            [2027]
        );
        let calendar = db.work_calendar().await.unwrap();
        assert!(calendar.knows_year(2027));
        assert!(!calendar.is_working_day(date!(2027 - 02 - 08)));
        assert!(calendar.is_working_day(date!(2027 - 02 - 13)));
        // Thursday 4 February + 1 working day: Friday 12 February, after the festival; + 2: the
        // swapped Saturday 13 February.
        let after = |days| calendar.add_working_days(date!(2027 - 02 - 04), days);
        assert_eq!(after(1), date!(2027 - 02 - 12));
        assert_eq!(after(2), date!(2027 - 02 - 13));
        // The procedures' time limits count in that calendar.
        let policy = ProcedurePolicy {
            counting: DayCounting::Working,
            ..procedures::policy(db).await.unwrap()
        };
        assert!(policy.calendar.knows_year(2027));
        assert_eq!(
            policy.add_days(date!(2027 - 02 - 04), 1),
            date!(2027 - 02 - 12)
        );
        // The shipped years stay.
        assert!(!calendar.is_working_day(date!(2026 - 10 - 02)));
        assert_eq!(db.added_holidays().await.unwrap(), periods);

        let latest = &audit::recent(db, 1).await.unwrap()[0];
        assert_eq!(latest.action, "settings.holidays");
        assert_eq!(latest.actor, "holiday-admin");
        assert_eq!(latest.object_id.as_deref(), Some("holidays.2027"));
        assert_eq!(latest.before_data, None);
        assert!(
            latest
                .after_data
                .as_deref()
                .unwrap()
                .contains("Spring Festival")
        );

        // Replacing a shipped year keeps what it had in the audit trail.
        let corrected = parse_holiday_file(
            "year,notice,name_zh,name_en,off_from,off_to,working_days\n\
             2026,更正,国庆节,National Day,2026-10-01,2026-10-08,2026-09-20\n",
        )
        .unwrap();
        db.add_holidays("holiday-admin", &corrected).await.unwrap();
        let calendar = db.work_calendar().await.unwrap();
        assert_eq!(calendar.periods(2026).len(), 1);
        assert!(!calendar.is_working_day(date!(2026 - 10 - 08)));
        assert!(calendar.is_working_day(date!(2026 - 02 - 16)));
        assert!(!calendar.is_built_in(2026));
        let latest = &audit::recent(db, 1).await.unwrap()[0];
        assert!(
            latest
                .before_data
                .as_deref()
                .unwrap()
                .contains("Spring Festival")
        );
        let report = audit::verify(db).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    })
    .await;
}
