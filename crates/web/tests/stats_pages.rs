#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The statistics pages over HTTP, on every backend: the dashboard shows the roll-ups'
//! figures for the municipality, a county and a village of a generated registry, and a write
//! through the app at once; the map has the 38 counties, each a link; the report tables on
//! screen equal their XLSX and CSV downloads; bad input answers 400 or 404.

mod common;

#[path = "../../store/tests/support/generated.rs"]
mod generated;

use common::{Response, Server, unescape};
use std::io::Cursor;
use zhenxing_core::DivisionCode;
use zhenxing_core::china_time::today_in_china;
use zhenxing_store::Db;
use zhenxing_store::rollups::division_figures;

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

/// Every `data-key` cell of a page: its key and its text with tags removed.
fn keyed_cells(page: &Response) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in page.body.split("data-key=\"").skip(1) {
        let Some((key, rest)) = part.split_once('"') else {
            continue;
        };
        let cell = rest
            .split_once('>')
            .map(|(_, r)| r)
            .unwrap_or("")
            .split("</td>")
            .next()
            .unwrap_or("");
        let mut text = String::new();
        let mut in_tag = false;
        for ch in cell.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        out.push((unescape(key), unescape(text.trim())));
    }
    out
}

/// A number as the pages show it: `1,234` or yuan `1,234.50` (as fen).
fn number(text: &str, is_amount: bool) -> i64 {
    let digits: String = text.chars().filter(|c| *c != ',').collect();
    if is_amount {
        let (whole, fraction) = digits.split_once('.').unwrap();
        whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
    } else {
        digits.parse().unwrap()
    }
}

/// The dashboard of `division` shows exactly the roll-ups' figures, read independently.
async fn check_dashboard(db: &Db, client: &mut common::Client, division: &str) -> usize {
    let page = client.get(&format!("/statistics/{division}")).await;
    assert_eq!(page.status, 200, "{division}: {}", page.body);
    let f = division_figures(db, &code(division), today_in_china())
        .await
        .unwrap();
    let mut expected = f.entries();
    expected.push((
        "households".into(),
        f.lifted_out.households + f.ordinary.households,
    ));
    expected.push(("members".into(), f.lifted_out.members + f.ordinary.members));
    expected.push(("cases.open".into(), f.open_cases_total()));
    expected.push(("warnings.active".into(), f.active_warnings()));
    let cells = keyed_cells(&page);
    for (key, text) in &cells {
        let want = expected
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("{division}: the page shows {key}, which is no figure"))
            .1;
        assert_eq!(
            number(text, key.ends_with(".amount")),
            want,
            "{division}: {key}"
        );
    }
    // Nothing is shown twice with different values, and no ID or phone number appears.
    assert!(!page.body.contains("data-key=\"\""));
    cells.len()
}

#[tokio::test]
async fn the_dashboard_shows_the_rollups_of_a_generated_registry() {
    for server in Server::all_with(zhenxing_web::WebConfig::default(), false).await {
        let db = &server.test_db.db;
        let today = today_in_china();
        generated::generate(db, today).await;
        generated::sprinkle(db, today).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();
        // A county and a village with monitored households.
        let (_, _, village) = generated::monitored(db).await.into_iter().next().unwrap();
        let county = format!("{}000000", &village[..6]);
        let mut admin = server.signed_in("admin").await;
        for division in ["500000000000", county.as_str(), village.as_str()] {
            let shown = check_dashboard(db, &mut admin, division).await;
            assert!(shown > 60, "{division}: only {shown} figures shown");
        }
        let city = admin.get("/statistics/500000000000").await;
        let f = division_figures(db, &code("500000000000"), today)
            .await
            .unwrap();
        assert!(f.monitored.households > 0 && f.income.threshold_fen.is_some());
        // Every chart is an inline SVG with its numbers in a table.
        for id in [
            "chart-monitored",
            "chart-risk-types",
            "chart-measures",
            "chart-warnings",
            "chart-income",
        ] {
            let section = city.element(id);
            assert!(
                section.contains("<svg") && section.contains("<table"),
                "{id}: {section}"
            );
        }
        assert!(city.element("chart-income").contains("zx-threshold"));
        // No snapshots yet: the trend says how to take them.
        assert!(
            city.element("chart-trend-none")
                .contains("zhenxing snapshot")
        );
        // The 38 counties, each a link one level down.
        let children = city.element("children");
        assert_eq!(children.matches("<tr data-code=").count(), 38);
        assert!(children.contains(&format!("href=\"/statistics/{county}\"")));
        // The poverty measures with the method.
        let poverty = city.element("poverty");
        for m in ["p0", "p1", "p2", "af-h", "af-a", "af-m0"] {
            assert!(poverty.contains(&format!("data-measure=\"{m}\"")), "{m}");
        }
        // After 2020 the share below the threshold is not called a poverty incidence.
        assert!(poverty.contains("监测范围以下人口占比"), "{poverty}");
        assert!(!city.body.contains("贫困发生率"), "{}", city.body);
        // The villages lifted out carry one name, as on the command line.
        assert!(!city.body.contains("原贫困"), "{}", city.body);
        assert_eq!(admin.get("/statistics/method").await.status, 200);

        // A snapshot makes the trend.
        zhenxing_store::snapshots::take(
            db,
            "test",
            zhenxing_store::snapshots::Month::of(today),
            today,
        )
        .await
        .unwrap()
        .unwrap();
        let city = admin.get("/statistics/500000000000").await;
        assert!(city.element("chart-trend").contains("zx-series"));
    }
}

fn figure(page: &Response, key: &str) -> i64 {
    let (_, text) = keyed_cells(page)
        .into_iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no {key}"));
    number(&text, false)
}

#[tokio::test]
async fn a_write_through_the_app_shows_at_once() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        let key = "measures.health.planned.count";
        let before_city = figure(&admin.get("/statistics/500000000000").await, key);
        let before_village = figure(&admin.get("/statistics/500229102202").await, key);
        let mut cadre = server.signed_in("lixin").await;
        let csrf = cadre.csrf().await;
        let today = today_in_china().to_string();
        let r = cadre
            .post_form(
                "/households/CK0001/assistance/measures",
                &[
                    ("csrf", &csrf),
                    ("category", "health"),
                    ("content", "医疗救助"),
                    ("starts_on", &today),
                    ("status", "planned"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let city = admin.get("/statistics/500000000000").await;
        assert_eq!(figure(&city, key), before_city + 1);
        let village = admin.get("/statistics/500229102202").await;
        assert_eq!(figure(&village, key), before_village + 1);
        // The cadre's own dashboard too, without the county's.
        let own = cadre.get("/statistics").await;
        assert_eq!(own.status, 303);
        assert_eq!(own.header("location"), Some("/statistics/500229102202"));
        assert_eq!(cadre.get("/statistics/500229000000").await.status, 404);
    }
}

#[tokio::test]
async fn the_map_has_the_38_counties_each_a_link() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        for indicator in [
            "monitored",
            "monitored_per_1000",
            "not_eliminated",
            "overdue",
            "coverage",
            "below_threshold_share",
        ] {
            let page = admin
                .get(&format!("/statistics/map?indicator={indicator}"))
                .await;
            assert_eq!(page.status, 200, "{indicator}");
            let map = page.element("map");
            assert!(map.contains(&format!("data-indicator=\"{indicator}\"")));
            assert_eq!(map.matches("<path ").count(), 38, "{indicator}");
            assert_eq!(map.matches("<a href=\"/statistics/50").count(), 38);
            assert_eq!(
                page.element("map-values").matches("<tr data-code=").count(),
                38
            );
        }
        let page = admin.get("/statistics/map").await;
        // 城口县 has its two fixture households, monitored or not: its value is in its title.
        assert!(
            page.body
                .contains("<a href=\"/statistics/500229000000\"><title>城口县: ")
        );
        let bad = admin.get("/statistics/map?indicator=nonsense").await;
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("nonsense"));

        // A county officer: no map of one coloured county among 37 grey ones, but the
        // county's townships ranked by the indicator, highest first, each linked.
        let mut county = server.signed_in("chengkou").await;
        let page = county.get("/statistics/map?indicator=monitored").await;
        assert_eq!(page.status, 200);
        let chart = page.element("map");
        assert!(!chart.contains("<path "), "no map: {chart}");
        assert!(chart.contains("zx-bar"), "{chart}");
        let table = page.element("map-values");
        let ranked: Vec<(String, f64)> = table
            .split("<tr data-code=\"")
            .skip(1)
            .map(|r| {
                let code = r.split('"').next().unwrap().to_owned();
                let value = r
                    .split("<td class=\"n\">")
                    .nth(1)
                    .and_then(|v| v.split('<').next())
                    .unwrap()
                    .replace(',', "")
                    .parse()
                    .unwrap();
                (code, value)
            })
            .collect();
        assert!(ranked.len() > 1, "{table}");
        assert!(
            ranked.iter().all(|(c, _)| c.starts_with("500229")
                && c.ends_with("000")
                && !c.ends_with("000000")),
            "townships: {ranked:?}"
        );
        assert!(
            ranked.windows(2).all(|w| w[0].1 >= w[1].1),
            "highest first: {ranked:?}"
        );
        assert!(ranked[0].1 > 0.0, "{ranked:?}");
        assert!(table.contains(&format!("href=\"/statistics/{}\"", ranked[0].0)));
        assert!(page.element("map-note").contains("排序"));
        // A township officer: its villages, ranked the same way.
        let mut township = server.signed_in("bashan").await;
        let page = township.get("/statistics/map").await;
        assert!(
            page.element("map-values")
                .contains("data-code=\"500229102202\"")
        );
        assert!(!page.element("map").contains("<path "));
    }
}

/// The totals row of the report table on screen, numbers only (amounts in yuan).
fn screen_totals(page: &Response) -> Vec<f64> {
    page.element("report-total")
        .split("<td")
        .skip(1)
        .filter(|c| c.starts_with(" class=\"n\""))
        .map(|c| {
            c.split_once('>')
                .unwrap()
                .1
                .split("</td>")
                .next()
                .unwrap()
                .replace(',', "")
                .parse::<f64>()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn report_tables_on_screen_and_as_files() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let mut admin = server.signed_in("admin").await;
        let list = admin.get("/reports").await;
        assert_eq!(list.status, 200);
        for name in ["counts", "measures", "procedures", "coverage"] {
            assert!(
                list.body.contains(&format!("data-report=\"{name}\"")),
                "{name}"
            );
        }
        let month = zhenxing_store::snapshots::Month::of(today_in_china()).to_string();
        let query = format!("division=500000000000&month={month}");
        for name in ["counts", "measures", "procedures", "coverage"] {
            let page = admin.get(&format!("/reports/{name}?{query}")).await;
            assert_eq!(page.status, 200, "{name}: {}", page.body);
            let totals = screen_totals(&page);
            assert!(!totals.is_empty(), "{name}");
            // The reader's language only, and the footer an upward report needs.
            assert!(!page.element("report").contains("lang=\"en\""), "{name}");
            let footer = page.text_of("report-footer");
            for label in [
                "填报单位",
                "重庆市",
                "填表人",
                "admin",
                "审核人",
                "报出日期",
            ] {
                assert!(footer.contains(label), "{name}: {footer}");
            }

            let xlsx = admin.get(&format!("/reports/{name}.xlsx?{query}")).await;
            assert_eq!(xlsx.status, 200, "{name}");
            assert_eq!(
                xlsx.header("content-type"),
                Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            );
            assert_eq!(
                xlsx.header("content-disposition"),
                Some(format!("attachment; filename=\"{name}-500000000000-{month}.xlsx\"").as_str())
            );
            use calamine::Reader;
            let mut workbook = calamine::Xlsx::new(Cursor::new(xlsx.bytes.clone())).unwrap();
            let sheet = workbook.worksheet_range_at(0).unwrap().unwrap();
            let first_cell = |row: &[calamine::Data]| match row.first() {
                Some(calamine::Data::String(s)) => s.clone(),
                _ => String::new(),
            };
            let total_row = sheet
                .rows()
                .find(|r| first_cell(r).starts_with("合计"))
                .expect("a totals row");
            // The footer under the table, label and value.
            let footer: Vec<(String, String)> = sheet
                .rows()
                .skip_while(|r| !first_cell(r).starts_with("合计"))
                .skip(1)
                .filter(|r| !first_cell(r).is_empty())
                .map(|r| {
                    (
                        first_cell(r),
                        r.get(1).map(|c| c.to_string()).unwrap_or_default(),
                    )
                })
                .collect();
            assert_eq!(footer.len(), 4, "{name}: {footer:?}");
            assert!(
                footer[0].0.starts_with("填报单位") && footer[0].1.starts_with("重庆市"),
                "{footer:?}"
            );
            assert_eq!(footer[1], ("填表人 Prepared by".into(), "admin".into()));
            assert_eq!(footer[2], ("审核人 Reviewed by".into(), String::new()));
            assert_eq!(footer[3].1, today_in_china().to_string());
            let file_totals: Vec<f64> = total_row
                .iter()
                .filter_map(|c| match c {
                    calamine::Data::Float(f) => Some(*f),
                    calamine::Data::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect();
            assert_eq!(file_totals, totals, "{name}: workbook totals");

            let csv = admin.get(&format!("/reports/{name}.csv?{query}")).await;
            assert_eq!(csv.status, 200);
            assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
            assert!(csv.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "{name}: BOM");
            let last_line = csv
                .body
                .lines()
                .find(|l| l.trim_start_matches('\u{feff}').starts_with("合计 / Total"))
                .unwrap()
                .to_owned();
            assert!(
                csv.body.contains("填表人 Prepared by,admin,"),
                "{name}: the footer in the CSV"
            );
            let csv_totals: Vec<f64> = last_line
                .split(',')
                .skip(1)
                .filter(|c| !c.is_empty())
                .map(|c| c.parse::<f64>().unwrap())
                .collect();
            assert_eq!(csv_totals, totals, "{name}: CSV totals");
        }
        // Each download is audited.
        let audited: i64 = match db {
            Db::Sqlite(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'report.export'")
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
            Db::Postgres(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'report.export'")
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(audited, 8);

        // A county's tables are by township, and say so.
        let county_list = admin.get("/reports?division=500229000000").await;
        assert!(
            county_list
                .body
                .contains("分乡镇（街道）分类别户数和人数统计表")
        );
        let county_page = admin
            .get(&format!(
                "/reports/counts?division=500229000000&month={month}"
            ))
            .await;
        assert_eq!(
            county_page.text_of("report-title"),
            "分乡镇（街道）分类别户数和人数统计表"
        );
        assert!(
            admin
                .get("/reports")
                .await
                .body
                .contains("分区县分类别户数和人数统计表")
        );
        // A village's tables have one row, the village itself, which its township receives.
        let village = "500229102202";
        for name in ["counts", "measures", "procedures", "coverage"] {
            let page = admin
                .get(&format!("/reports/{name}?division={village}&month={month}"))
                .await;
            assert_eq!(page.status, 200, "{name}: {}", page.body);
            assert_eq!(
                page.text_of("report-title"),
                zhenxing_core::report_table::REPORTS
                    .iter()
                    .find(|r| r.code == name)
                    .unwrap()
                    .title_for(
                        zhenxing_core::Lang::Zh,
                        zhenxing_core::DivisionLevel::Village
                    )
            );
            let xlsx = admin
                .get(&format!(
                    "/reports/{name}.xlsx?division={village}&month={month}"
                ))
                .await;
            assert_eq!(xlsx.status, 200, "{name}");
        }
        let counts = admin
            .get(&format!("/reports/counts?division={village}&month={month}"))
            .await;
        assert_eq!(
            counts.element("report").matches("<tr>").count(),
            2,
            "the header and one row: {}",
            counts.body
        );
        assert!(counts.element("report").contains(village));
        // Lifted-out and ordinary households add up to the village's households.
        let totals = screen_totals(&counts);
        let village_households: i64 = match db {
            Db::Sqlite(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM households WHERE division_code = ?")
                    .bind(village)
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
            Db::Postgres(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM households WHERE division_code = $1")
                    .bind(village)
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            (totals[0] + totals[2]) as i64,
            village_households,
            "{totals:?}"
        );

        // Bad input: a clear answer, never a panic.
        for (path, status) in [
            ("/reports/nothing", 404),
            ("/reports/counts.pdf", 404),
            ("/reports/counts?month=2026-13", 400),
            ("/reports/counts?month=2999-01", 400),
            ("/reports/counts?division=abc", 400),
            ("/reports/counts?division=509999000000", 404),
        ] {
            let r = admin.get(path).await;
            assert_eq!(r.status, status, "{path}: {}", r.body);
            assert!(r.body.contains("<h1>"), "{path}: an error page");
        }
        let r = admin.get("/reports/counts?month=2026-13").await;
        assert!(r.body.contains("月份“2026-13”格式不对"), "{}", r.body);
        // The same in English.
        let csrf = admin.csrf().await;
        let r = admin
            .post_form(
                "/lang",
                &[("csrf", &csrf), ("lang", "en"), ("back", "/reports")],
            )
            .await;
        assert_eq!(r.status, 303);
        let r = admin.get("/reports/counts?month=2026-13").await;
        assert_eq!(r.status, 400);
        assert!(
            unescape(&r.body).contains("the month '2026-13' is malformed"),
            "{}",
            r.body
        );
        let r = admin.get("/reports/nothing").await;
        assert_eq!(r.status, 404);
        assert!(r.body.contains("Not found"), "{}", r.body);
        let page = admin.get("/statistics/500229000000").await;
        assert!(
            page.body.contains("Key figures")
                && page.body.contains("Monitored households by category")
        );
        let mut wuxi = server.signed_in("wuxi").await;
        assert_eq!(
            wuxi.get("/reports/counts.csv?division=500229000000")
                .await
                .status,
            404
        );
    }
}
