#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! 我的待办 (issue 18 item 1) over HTTP, as a village cadre, a township officer and a county
//! officer: every line's count is the number the list it links to shows as its total, the
//! most urgent first, and the menu's badges count the account's own work and follow what the
//! account just did.

mod common;

use common::{Client, Response, Server};
use time::Duration;
use zhenxing_core::china_time::today_in_china;

/// The tasks page's lines: (task key, count, link, urgency), in order.
fn lines(page: &Response) -> Vec<(String, i64, String, String)> {
    let list = page.element("tasks");
    list.split("<li data-task=\"")
        .skip(1)
        .map(|li| {
            let key = li.split('"').next().unwrap().to_owned();
            let urgency = li
                .split("data-urgency=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap()
                .to_owned();
            let link = li
                .split("href=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap()
                .replace("&#38;", "&")
                .replace("&amp;", "&");
            let count = li
                .split("class=\"task-count\">")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .unwrap()
                .replace(',', "")
                .parse()
                .unwrap();
            (key, count, link, urgency)
        })
        .collect()
}

/// The total a list shows above its rows ("共 3 件" → 3).
fn list_total(page: &Response) -> i64 {
    page.text_of("list-total")
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// Every line's count is its list's total.
async fn every_line_is_its_lists_total(client: &mut Client, who: &str) -> Vec<(String, i64)> {
    let page = client.get("/tasks").await;
    assert_eq!(page.status, 200, "{who}: {}", page.body);
    let lines = lines(&page);
    assert!(!lines.is_empty(), "{who}: {}", page.body);
    for (key, count, link, _) in &lines {
        let list = client.get(link).await;
        assert_eq!(list.status, 200, "{who} {link}");
        assert_eq!(list_total(&list), *count, "{who}: {key} and {link}");
    }
    // The most urgent first, nothing-to-do last.
    let rank = |urgency: &str| match urgency {
        "overdue" => 0,
        "near" => 1,
        _ => 2,
    };
    let order: Vec<(bool, i32)> = lines
        .iter()
        .map(|(_, n, _, u)| (*n == 0, rank(u)))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "{who}: {lines:?}");
    lines.into_iter().map(|(k, n, _, _)| (k, n)).collect()
}

fn count_of(lines: &[(String, i64)], key: &str) -> i64 {
    lines
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, n)| *n)
        .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
}

#[tokio::test]
async fn the_start_page_of_three_roles_counts_what_their_lists_hold() {
    for server in Server::all().await {
        // A visit on CK0001 raises a warning; the cadre opens a case on a new household, found
        // 20 days ago (past the 15-day limit).
        let mut cadre = server.signed_in("lixin").await;
        let sent = cadre
            .report_visit("CK0001", &["illness"], "户主住院两周，家中无人务工")
            .await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let warning: i64 = sent
            .header("location")
            .and_then(|l| l.strip_prefix("/warnings/"))
            .unwrap()
            .parse()
            .unwrap();
        let household = zhenxing_store::testing::test_household(
            "CK-T9",
            "500229102202",
            &zhenxing_store::testing::test_id_number(77),
            5_000,
        );
        zhenxing_store::testing::write_test_households(&server.test_db.db, vec![household]).await;
        let form = cadre.get("/households/CK-T9/cases/new").await;
        let found_on = (today_in_china() - Duration::days(20)).to_string();
        let opened = cadre
            .post_form(
                "/households/CK-T9/cases/new",
                &[
                    ("csrf", &form.hidden("csrf")),
                    ("kind", "identification"),
                    ("channel", "visit"),
                    ("warning", ""),
                    ("found_on", &found_on),
                    ("emergency", ""),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(opened.status, 303, "{}", opened.body);

        // The township officer: one new warning to assign, one case past its limit; the menu
        // says so.
        let mut township = server.signed_in("bashan").await;
        assert_eq!(township.get("/").await.header("location"), Some("/tasks"));
        let got = every_line_is_its_lists_total(&mut township, "bashan").await;
        assert_eq!(count_of(&got, "tasks-warnings-to-assign"), 1);
        assert_eq!(count_of(&got, "tasks-cases-overdue"), 1);
        assert_eq!(
            got[0].0, "tasks-cases-overdue",
            "the overdue case first: {got:?}"
        );
        assert_eq!(
            count_of(&got, "tasks-cases-waiting"),
            0,
            "the village's step"
        );
        let page = township.get("/tasks").await;
        assert_eq!(page.text_of("badge-warnings"), "1");

        // It assigns the warning to the cadre: its own badge drops at once.
        let detail = township.get(&format!("/warnings/{warning}")).await;
        let deadline = (today_in_china() + Duration::days(5)).to_string();
        let assigned = township
            .post_form(
                &format!("/warnings/{warning}/assign"),
                &[
                    ("csrf", &detail.hidden("csrf")),
                    ("version", &detail.hidden("version")),
                    ("assignee", "lixin"),
                    ("deadline", &deadline),
                ],
            )
            .await;
        assert_eq!(assigned.status, 303, "{}", assigned.body);
        let page = township.get("/tasks").await;
        assert!(page.element("badge-warnings").is_empty(), "{}", page.body);
        let got = every_line_is_its_lists_total(&mut township, "bashan").await;
        assert_eq!(count_of(&got, "tasks-warnings-to-assign"), 0);
        assert_eq!(count_of(&got, "tasks-warnings-to-verify"), 1);

        // The cadre: the warning assigned to her, the case waiting for the village's step.
        let got = every_line_is_its_lists_total(&mut cadre, "lixin").await;
        assert_eq!(count_of(&got, "tasks-warnings-mine"), 1);
        assert_eq!(count_of(&got, "tasks-cases-waiting"), 1);
        assert!(
            !got.iter().any(|(k, _)| k == "tasks-tickets-open"),
            "a cadre answers no tickets: {got:?}"
        );

        // The county officer: the same overdue case, nothing waiting for the county, and the
        // coverage findings and tickets of its county.
        let mut county = server.signed_in("chengkou").await;
        let got = every_line_is_its_lists_total(&mut county, "chengkou").await;
        assert_eq!(count_of(&got, "tasks-cases-overdue"), 1);
        assert_eq!(count_of(&got, "tasks-cases-waiting"), 0);
        count_of(&got, "tasks-coverage");
        count_of(&got, "tasks-tickets-open");
        // Another county sees none of it.
        let mut wuxi = server.signed_in("wuxi").await;
        let got = every_line_is_its_lists_total(&mut wuxi, "wuxi").await;
        assert_eq!(count_of(&got, "tasks-cases-overdue"), 0);
        assert_eq!(count_of(&got, "tasks-warnings-to-assign"), 0);

        // In English.
        let csrf = county.csrf().await;
        county
            .post_form("/lang", &[("csrf", &csrf), ("lang", "en")])
            .await;
        let page = county.get("/tasks").await;
        assert!(
            page.body.contains("cases past their time limit"),
            "{}",
            page.body
        );
        assert!(page.element("nav-tasks").contains("My tasks"));
    }
}
