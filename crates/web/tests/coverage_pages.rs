#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The coverage page over HTTP: counts per child division with drill-down from the
//! municipality to the village; the village lists each household with what is wrong and what
//! to do; pairing a cadre and implementing a measure clear the findings; other divisions and
//! roles see nothing of it.

mod common;

use common::Server;
use zhenxing_store::Db;

/// CK0001 identified 40 days ago (what the identification procedure records).
async fn identified_40_days_ago(db: &Db) {
    let on = zhenxing_core::china_time::today_in_china() - time::Duration::days(40);
    zhenxing_store::testing::set_monitoring_dates(db, "CK0001", Some(on), "illness", None).await;
}

#[tokio::test]
async fn from_the_municipality_down_to_the_household() {
    for server in Server::all().await {
        identified_40_days_ago(&server.test_db.db).await;
        let mut admin = server.signed_in("admin").await;
        let top = admin.get("/coverage").await;
        assert_eq!(top.status, 200, "{}", top.body);
        let table = top.element("coverage");
        assert!(table.contains("data-division=\"500000000000\""), "{table}");
        let chengkou = table
            .split("<tr ")
            .find(|r| r.contains("data-code=\"500229000000\""))
            .unwrap();
        assert!(chengkou.contains("data-findings=\"1\""), "{chengkou}");
        assert!(chengkou.contains("无帮扶责任人"), "{chengkou}");
        assert!(chengkou.contains("href=\"/coverage?division=500229000000\""));
        assert!(
            top.element("coverage-total")
                .contains("data-findings=\"1\"")
        );
        // Few findings: listed at every level.
        assert!(
            top.element("findings")
                .contains("data-household=\"CK0001\"")
        );

        let mut cadre = server.signed_in("lixin").await;
        let village = cadre.get("/coverage").await;
        assert_eq!(village.status, 200);
        assert!(
            village
                .element("coverage")
                .contains("data-division=\"500229102202\"")
        );
        let findings = village.element("findings");
        assert!(
            findings.contains("href=\"/households/CK0001\""),
            "{findings}"
        );
        assert!(
            findings.contains("data-rule=\"no_responsible_cadre\""),
            "{findings}"
        );
        assert!(
            findings.contains("data-rule=\"no_measure_after_month\""),
            "{findings}"
        );
        assert!(findings.contains("识别已40天"), "{findings}");
        assert!(
            findings.contains("落实至少一项帮扶措施"),
            "what to do: {findings}"
        );
        assert!(
            village.element("up").is_empty(),
            "no way above the cadre's village"
        );

        // A cadre and an implemented measure clear both.
        let csrf = cadre.csrf().await;
        let today = zhenxing_core::china_time::today_in_china().to_string();
        let base = "/households/CK0001/assistance";
        let r = cadre
            .post_form(
                &format!("{base}/pairings"),
                &[
                    ("csrf", &csrf),
                    ("name", "刘德明"),
                    ("unit", "城口县农业农村委员会"),
                    ("phone", "13912345678"),
                    ("starts_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = cadre
            .post_form(
                &format!("{base}/measures"),
                &[
                    ("csrf", &csrf),
                    ("category", "health"),
                    ("content", "医疗救助，报销住院自付部分"),
                    ("starts_on", &today),
                    ("status", "implemented"),
                    ("implemented_on", &today),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let village = cadre.get("/coverage").await;
        assert!(
            village.element("no-findings").contains("没有发现问题"),
            "{}",
            village.body
        );
        let top = admin.get("/coverage").await;
        assert!(
            top.element("coverage-total")
                .contains("data-findings=\"0\"")
        );
    }
}

#[tokio::test]
async fn other_divisions_and_roles_see_nothing() {
    for server in Server::all().await {
        let mut wuxi = server.signed_in("wuxi").await;
        assert_eq!(
            wuxi.get("/coverage?division=500229000000").await.status,
            404
        );
        assert_eq!(
            wuxi.get("/coverage?division=500229102202").await.status,
            404
        );
        let own = wuxi.get("/coverage").await;
        assert_eq!(own.status, 200);
        assert!(
            own.element("coverage-total")
                .contains("data-findings=\"0\"")
        );
        assert!(!own.body.contains("CK0001"));
        let mut cadre = server.signed_in("lixin").await;
        assert_eq!(
            cadre.get("/coverage?division=500229102000").await.status,
            404
        );
        assert_eq!(cadre.get("/coverage?division=not-a-code").await.status, 404);
        let mut department = server.signed_in("department").await;
        assert_eq!(department.get("/coverage").await.status, 403);
        // The nav offers it to those who may read it.
        assert!(
            cadre
                .get("/households")
                .await
                .element("nav-coverage")
                .contains("/coverage")
        );
        assert!(
            department
                .get("/department")
                .await
                .element("nav-coverage")
                .is_empty()
        );
    }
}
