#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The procedures over HTTP, as the real roles: a village cadre's visit becomes a warning, the
//! warning a lead, the lead a case; the village verifies, appraises and posts the notice, the
//! township compares, resolves an objection and reviews, the county approves, the township
//! announces; seven months later the household's risk is eliminated the same way, and a new
//! risk brings it back. Steps out of order, by the wrong role, outside the division, twice from
//! the same page or with days in the future are refused with the reason.

mod common;

use common::{Client, Response, Server};
use time::Duration;
use zhenxing_core::china_time::today_in_china;

const HOUSEHOLD: &str = "CK-H1";
const VILLAGE: &str = "500229102202";
const TOWNSHIP: &str = "500229102000";

fn day(days_ago: i64) -> String {
    (today_in_china() - Duration::days(days_ago)).to_string()
}

/// The id after `prefix` in a redirect.
fn redirected(page: &Response, prefix: &str) -> i64 {
    page.header("location")
        .and_then(|l| l.strip_prefix(prefix))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no redirect to {prefix}: {} {}", page.status, page.body))
}

/// Takes a step from the case page, as the form would post it; the answer.
async fn step(client: &mut Client, case: i64, code: &str, fields: &[(&str, &str)]) -> Response {
    let page = client.get(&format!("/cases/{case}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (csrf, version) = (page.hidden("csrf"), page.hidden("version"));
    let mut pairs = vec![("csrf", csrf.as_str()), ("version", version.as_str())];
    pairs.extend_from_slice(fields);
    client
        .post_form(&format!("/cases/{case}/steps/{code}"), &pairs)
        .await
}

/// A step that must succeed.
async fn ok(client: &mut Client, case: i64, code: &str, fields: &[(&str, &str)]) {
    let answer = step(client, case, code, fields).await;
    assert_eq!(answer.status, 303, "{code}: {}", answer.body);
}

/// A step that must be refused with the reason shown on the case page.
async fn refused(client: &mut Client, case: i64, code: &str, fields: &[(&str, &str)]) -> String {
    let answer = step(client, case, code, fields).await;
    assert_eq!(answer.status, 422, "{code}: {}", answer.body);
    answer.element("errors").to_owned()
}

async fn open_case(client: &mut Client, kind: &str, found_on: &str, warning: &str) -> Response {
    let form = client
        .get(&format!(
            "/households/{HOUSEHOLD}/cases/new?kind={kind}&warning={warning}"
        ))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.hidden("csrf");
    let channel = if kind == "identification" {
        "visit"
    } else {
        ""
    };
    client
        .post_form(
            &format!("/households/{HOUSEHOLD}/cases/new"),
            &[
                ("csrf", &csrf),
                ("kind", kind),
                ("channel", channel),
                ("warning", warning),
                ("found_on", found_on),
                ("emergency", ""),
                ("note", "走访发现"),
            ],
        )
        .await
}

/// The numbers of the cells of class `n` in an HTML fragment, in order.
fn numbers(html: &str) -> Vec<String> {
    html.split("<td class=\"n\"")
        .skip(1)
        .map(|cell| {
            let text = &cell[cell.find('>').unwrap() + 1..];
            text[..text.find('<').unwrap()].to_owned()
        })
        .collect()
}

/// The table row of `html` that holds `marker`.
fn row<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker}: {html}"));
    let start = html[..at].rfind("<tr").unwrap();
    &html[start..at + html[at..].find("</tr>").unwrap()]
}

/// The division page and the statistics page show the same counts of the village, in the
/// township's table of villages and on the village's own pages; its monitored households.
async fn division_and_statistics_agree(client: &mut Client) -> i64 {
    let division = client.get(&format!("/divisions/{TOWNSHIP}")).await;
    let statistics = client.get(&format!("/statistics/{TOWNSHIP}")).await;
    let listed = numbers(row(
        division.element("children"),
        &format!("href=\"/divisions/{VILLAGE}\""),
    ));
    let figures = numbers(row(
        statistics.element("children"),
        &format!("data-code=\"{VILLAGE}\""),
    ));
    // Households, members, lifted-out households, monitored households.
    assert_eq!(listed[..4], figures[..4], "the township's villages");
    let division = client.get(&format!("/divisions/{VILLAGE}")).await;
    let statistics = client.get(&format!("/statistics/{VILLAGE}")).await;
    let shown = numbers(row(&division.body, "<th>监测户</th>"));
    let figure = numbers(row(
        statistics.element("headline"),
        "data-key=\"monitored.households\"",
    ));
    assert_eq!(shown, figure, "the village's monitored households");
    assert_eq!(
        listed[3], shown[0],
        "the township's row and the village's page"
    );
    shown[0].replace(',', "").parse().unwrap()
}

/// The identification from the verification to the announcement, each step by its role,
/// starting `start` days ago.
async fn identify(server: &Server, case: i64, start: i64, category: &str, risk: &str) {
    let mut cadre = server.signed_in("lixin").await;
    let mut township = server.signed_in("bashan").await;
    let mut county = server.signed_in("chengkou").await;
    let visited = day(start);
    ok(
        &mut cadre,
        case,
        "verify",
        &[
            ("visited_on", &visited),
            ("income", "5200"),
            ("rigid_spending", "23400"),
            ("problem", "medical_insurance"),
            ("category", category),
            ("risk", risk),
            ("commitment", "yes"),
            ("note", "住院自付较多"),
        ],
    )
    .await;
    ok(
        &mut township,
        case,
        "compare",
        &[("consistent", "yes"), ("note", "")],
    )
    .await;
    let held = day(start - 1);
    ok(
        &mut cadre,
        case,
        "appraise",
        &[
            ("held_on", &held),
            ("attendance", "11"),
            ("participants", "村两委、村民代表、驻村工作队"),
            ("agreed", "yes"),
            ("note", ""),
        ],
    )
    .await;
    let (starts, ends) = (day(start - 2), day(start - 6));
    ok(
        &mut cadre,
        case,
        "post_notice",
        &[("starts_on", &starts), ("ends_on", &ends), ("note", "")],
    )
    .await;
    ok(&mut cadre, case, "close_notice", &[("note", "公示无异议")]).await;
    ok(
        &mut township,
        case,
        "township_approve",
        &[("note", "同意上报")],
    )
    .await;
    ok(
        &mut county,
        case,
        "county_approve",
        &[("category", category), ("risk", risk), ("note", "")],
    )
    .await;
    let today = day(0);
    ok(
        &mut township,
        case,
        "announce",
        &[("on", &today), ("note", "")],
    )
    .await;
}

/// Step 7 on a completed identification: waiting in the township's list, refused with the
/// typed number kept, recorded, and in the month's upload file with the head's full ID number.
async fn national_entry(cadre: &mut Client, township: &mut Client, case: i64) {
    let page = cadre.get(&format!("/cases/{case}")).await;
    assert!(
        page.body.contains("id=\"national-pending\""),
        "{}",
        page.element("case-facts")
    );
    assert!(
        !page.body.contains("id=\"record_national-form\""),
        "the village does not enter it"
    );
    let waiting = township.get("/cases?filter=unrecorded").await;
    assert!(
        waiting
            .element("cases")
            .contains(&format!("data-id=\"{case}\""))
    );
    assert!(
        waiting.element("tab-unrecorded").contains(">1<"),
        "{}",
        waiting.element("case-tabs")
    );
    let today = day(0);
    let why = refused(
        township,
        case,
        "record_national",
        &[("on", &today), ("record_number", "5002/29"), ("note", "")],
    )
    .await;
    assert!(why.contains("连字符"), "{why}");
    let page = township.get(&format!("/cases/{case}")).await;
    assert!(page.body.contains("id=\"record_national-form\""));
    let kept = step(
        township,
        case,
        "record_national",
        &[("on", &today), ("record_number", "5002/29"), ("note", "")],
    )
    .await;
    assert!(
        kept.body.contains("value=\"5002/29\""),
        "the typed number is kept"
    );
    ok(
        township,
        case,
        "record_national",
        &[
            ("on", &today),
            ("record_number", "50022910220200007"),
            ("note", "已录入国家系统"),
        ],
    )
    .await;
    let page = cadre.get(&format!("/cases/{case}")).await;
    assert!(
        page.element("national").contains("50022910220200007"),
        "{}",
        page.element("national")
    );
    assert!(page.element("history").contains("录入建档"));
    let waiting = township.get("/cases?filter=unrecorded").await;
    assert!(!waiting.body.contains(&format!("data-id=\"{case}\"")));
    // The month's upload file, as the township downloads it.
    let inbox = township.get("/cases").await;
    assert!(inbox.body.contains("id=\"national-export\""));
    let file = township.get("/cases/national").await;
    assert_eq!(file.status, 200, "{}", file.body);
    let rows = file.xlsx_rows();
    let header = &rows[0];
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = rows
        .iter()
        .find(|r| r[at("户编号")] == HOUSEHOLD)
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(
        row[at("户主证件号码")],
        zhenxing_store::testing::test_id_number(7)
    );
    assert_eq!(row[at("业务类型")], "监测对象识别");
    assert_eq!(row[at("致贫返贫风险1")], "因病");
    assert_eq!(row[at("乡镇")], "巴山镇");
    assert_eq!(row[at("全国系统编号")], "50022910220200007");
    assert_eq!(row[at("办理编号")], case.to_string());
    // The cadre cannot download it.
    assert_eq!(cadre.get("/cases/national").await.status, 403);
}

#[tokio::test]
async fn a_household_goes_from_a_visit_to_monitored_to_eliminated_and_back() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let mut draft = zhenxing_store::testing::test_household(
            HOUSEHOLD,
            VILLAGE,
            &zhenxing_store::testing::test_id_number(7),
            5_200,
        );
        draft.address = Some("重庆市城口县巴山镇立新村5组".into());
        draft.phone = Some(zhenxing_core::Phone::parse("13900230009").unwrap());
        zhenxing_store::testing::write_test_households(db, vec![draft]).await;
        zhenxing_store::monitoring::ensure_builtin_rule_sets(db, "test")
            .await
            .unwrap();

        let mut township = server.signed_in("bashan").await;
        let monitored = division_and_statistics_agree(&mut township).await;

        // The village cadre's visit becomes a warning; the township assigns it, she verifies it.
        let mut cadre = server.signed_in("lixin").await;
        let csrf = cadre.csrf().await;
        let today = day(0);
        let sent = cadre
            .post_form(
                &format!("/households/{HOUSEHOLD}/report"),
                &[
                    ("csrf", &csrf),
                    ("channel", "visit"),
                    ("on", &today),
                    ("risk", "illness"),
                    ("category", ""),
                    ("note", "户主住院两周，自付两万余元"),
                ],
            )
            .await;
        let warning = redirected(&sent, "/warnings/");
        let page = township.get(&format!("/warnings/{warning}")).await;
        let deadline = day(-5);
        let assigned = township
            .post_form(
                &format!("/warnings/{warning}/assign"),
                &[
                    ("csrf", &page.hidden("csrf")),
                    ("version", &page.hidden("version")),
                    ("assignee", "lixin"),
                    ("deadline", &deadline),
                ],
            )
            .await;
        assert_eq!(assigned.status, 303, "{}", assigned.body);
        let page = cadre.get(&format!("/warnings/{warning}")).await;
        let verified = cadre
            .post_form(
                &format!("/warnings/{warning}/verify"),
                &[
                    ("csrf", &page.hidden("csrf")),
                    ("version", &page.hidden("version")),
                    ("note", "入户核实属实"),
                ],
            )
            .await;
        assert_eq!(verified.status, 303, "{}", verified.body);
        let page = cadre.get(&format!("/warnings/{warning}")).await;
        assert!(
            page.body.contains("id=\"open-identification\""),
            "{}",
            page.body
        );

        // The lead: the form carries the warning; the cadre dates it ten days back.
        let w = warning.to_string();
        let opened = open_case(&mut cadre, "identification", &day(10), &w).await;
        let case = redirected(&opened, "/cases/");
        // Someone else acting on the same household: one case at a time.
        let second = open_case(&mut township, "identification", &day(10), "").await;
        assert_eq!(second.status, 422, "{}", second.body);

        // Out of order, wrong role, outside the division, future days: refused with words.
        let why = refused(&mut township, case, "township_approve", &[("note", "")]).await;
        assert!(why.contains("入户核实"), "{why}");
        let mut county = server.signed_in("chengkou").await;
        let tomorrow = day(-1);
        let why = refused(
            &mut cadre,
            case,
            "verify",
            &[
                ("visited_on", &tomorrow),
                ("income", "5200"),
                ("rigid_spending", "0"),
                ("category", "sudden_hardship"),
                ("risk", "illness"),
                ("commitment", "yes"),
                ("note", ""),
            ],
        )
        .await;
        assert!(why.contains("晚于今天"), "{why}");
        let mut other = server.signed_in("other_village").await;
        assert_eq!(other.get(&format!("/cases/{case}")).await.status, 404);
        let mut admin = server.signed_in("admin").await;
        assert_eq!(admin.get(&format!("/cases/{case}")).await.status, 200);
        let page = admin.get(&format!("/cases/{case}")).await;
        assert!(
            !page.body.contains("id=\"verify-form\""),
            "the administrator takes no step"
        );
        let csrf = admin.csrf().await;
        let forbidden = admin
            .post_form(
                &format!("/cases/{case}/steps/comment"),
                &[("csrf", &csrf), ("version", "1"), ("note", "管理员备注")],
            )
            .await;
        assert_eq!(forbidden.status, 403);

        // Two people on one page: the second submission is refused as stale.
        let page = cadre.get(&format!("/cases/{case}")).await;
        let (csrf, version) = (page.hidden("csrf"), page.hidden("version"));
        let comment = |note: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("version", version.clone()),
                ("note", note.to_owned()),
            ]
        };
        let pairs = comment("第一次补充说明");
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let first = cadre
            .post_form(&format!("/cases/{case}/steps/comment"), &pairs)
            .await;
        assert_eq!(first.status, 303, "{}", first.body);
        let pairs = comment("第二次补充说明");
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let second = cadre
            .post_form(&format!("/cases/{case}/steps/comment"), &pairs)
            .await;
        assert_eq!(second.status, 409, "{}", second.body);

        // An objection during the notice blocks it until the township resolves it.
        ok(
            &mut cadre,
            case,
            "verify",
            &[
                ("visited_on", &day(10)),
                ("income", "5200"),
                ("rigid_spending", "23400"),
                ("category", "sudden_hardship"),
                ("risk", "illness"),
                ("commitment", "yes"),
                ("note", ""),
            ],
        )
        .await;
        ok(
            &mut county,
            case,
            "compare",
            &[("consistent", "yes"), ("note", "")],
        )
        .await;
        ok(
            &mut cadre,
            case,
            "appraise",
            &[
                ("held_on", &day(9)),
                ("attendance", "12"),
                ("participants", "村两委、村民代表"),
                ("agreed", "yes"),
                ("note", ""),
            ],
        )
        .await;
        let why = refused(
            &mut cadre,
            case,
            "post_notice",
            &[("starts_on", &day(8)), ("ends_on", &day(5)), ("note", "")],
        )
        .await;
        assert!(why.contains("至少5天"), "{why}");
        ok(
            &mut cadre,
            case,
            "post_notice",
            &[("starts_on", &day(8)), ("ends_on", &day(4)), ("note", "")],
        )
        .await;

        // The notice is public: names, group, category, dates; no ID number or phone.
        let notice = server.get(&format!("/notices/{VILLAGE}")).await;
        assert_eq!(notice.status, 200, "{}", notice.body);
        let entries = notice.element("entries");
        assert!(
            entries.contains("测试") && entries.contains("5组"),
            "{entries}"
        );
        assert!(entries.contains("突发严重困难户"), "{entries}");
        assert!(!notice.body.contains("13900230009") && !notice.body.contains("500229198001"));
        // Its period ended four days ago: marked so on the printed notice, which gives the
        // supervision line.
        assert!(
            entries.contains("data-ended=\"1\"") && entries.contains("（公示已结束）"),
            "{entries}"
        );
        assert!(notice.element("supervision").contains("12317"));

        ok(
            &mut cadre,
            case,
            "object",
            &[
                ("received_on", &day(6)),
                ("note", "有村民反映该户有经营收入"),
            ],
        )
        .await;
        let why = refused(&mut cadre, case, "close_notice", &[("note", "")]).await;
        assert!(why.contains("异议"), "{why}");
        ok(
            &mut township,
            case,
            "resolve_objection",
            &[("number", "1"), ("note", "经核实，经营收入已计入")],
        )
        .await;
        ok(&mut cadre, case, "close_notice", &[("note", "")]).await;
        let why = refused(&mut county, case, "township_approve", &[("note", "")]).await;
        assert!(why.contains("乡镇工作人员"), "{why}");
        ok(&mut township, case, "township_approve", &[("note", "同意")]).await;
        ok(
            &mut county,
            case,
            "county_approve",
            &[
                ("category", "sudden_hardship"),
                ("risk", "illness"),
                ("note", ""),
            ],
        )
        .await;
        ok(
            &mut township,
            case,
            "announce",
            &[("on", &today), ("note", "")],
        )
        .await;

        // The household is monitored, at once on the division page as on the statistics page;
        // the village is told; the timeline has it all.
        assert_eq!(
            division_and_statistics_agree(&mut township).await,
            monitored + 1
        );
        let household = cadre.get(&format!("/households/{HOUSEHOLD}")).await;
        let block = household.element("monitoring");
        assert!(block.contains("data-status=\"monitored\""), "{block}");
        assert!(block.contains("因病"), "{block}");
        let inbox = cadre.get("/cases").await;
        assert!(inbox.element("notifications").contains(HOUSEHOLD));
        let timeline = cadre
            .get(&format!("/households/{HOUSEHOLD}/timeline"))
            .await;
        assert_eq!(timeline.status, 200, "{}", timeline.body);
        let events = timeline.element("timeline");
        for expected in [
            "干部走访排查",
            "入户核实",
            "收到异议",
            "县级审批通过",
            "纳入监测",
        ] {
            assert!(events.contains(expected), "{expected} missing: {events}");
        }
        // A closed case takes nothing more, but its entry in the national system (录入建档).
        let page = county.get(&format!("/cases/{case}")).await;
        assert!(!page.body.contains("id=\"comment-form\""));
        national_entry(&mut cadre, &mut township, case).await;

        // Right away, elimination is refused with the preconditions that do not hold.
        let early = open_case(&mut cadre, "elimination", &today, "").await;
        assert_eq!(early.status, 422, "{}", early.body);
        assert!(
            early.element("errors").contains("满6个月"),
            "{}",
            early.body
        );

        // Seven months later: income above the threshold since registration a year ago, and
        // a public-welfare job implemented.
        zhenxing_store::testing::seven_months_later(db, HOUSEHOLD, today_in_china()).await;
        let lixin = db.account_by_name("lixin").await.unwrap().unwrap();
        let job = zhenxing_core::assistance::MeasureDraft {
            category: zhenxing_core::assistance::MeasureCategory::PublicWelfareJob,
            content: "村保洁员公益性岗位".into(),
            amount: Some(zhenxing_core::Fen::from_yuan(6_000)),
            starts_on: today_in_china() - Duration::days(200),
            ends_on: None,
            status: zhenxing_core::assistance::MeasureStatus::Implemented,
            implemented_on: Some(today_in_china() - Duration::days(190)),
            risk: Some(zhenxing_core::monitoring::RiskType::Illness),
        }
        .build(today_in_china())
        .unwrap();
        zhenxing_store::assistance::add_measure(db, &lixin, HOUSEHOLD, &job)
            .await
            .unwrap();
        let household = cadre.get(&format!("/households/{HOUSEHOLD}")).await;
        assert!(
            household.body.contains("id=\"preconditions-met\""),
            "{}",
            household.element("preconditions")
        );

        // DOMAIN.md 1.9 (e): a new risk reported on a visit is an active warning; it stops the
        // elimination, named on the page, until it is settled.
        let reported = cadre
            .report_visit(HOUSEHOLD, &["accident"], "户主务工时摔伤，需要复查")
            .await;
        let warning = redirected(&reported, "/warnings/");
        let blocked = open_case(&mut cadre, "elimination", &day(8), "").await;
        assert_eq!(blocked.status, 422, "{}", blocked.body);
        let why = blocked.element("errors");
        assert!(why.contains(&format!("预警{warning}")), "{why}");
        assert!(why.contains("请先入户核实"), "{why}");
        let dismissed = township
            .warning_step(warning, "dismiss", "入户核实伤情轻微，已痊愈")
            .await;
        assert_eq!(dismissed.status, 303, "{}", dismissed.body);

        let opened = open_case(&mut cadre, "elimination", &day(8), "").await;
        let elimination = redirected(&opened, "/cases/");
        let page = cadre.get(&format!("/cases/{elimination}")).await;
        assert!(
            page.element("verify-form")
                .contains("id=\"rigid_resolved\"")
        );
        // DOMAIN.md 1.9 (c): large rigid spending not marked resolved is refused with what to do.
        let visit = [
            ("visited_on", day(8)),
            ("income", "10200".to_owned()),
            ("rigid_spending", "23400".to_owned()),
            ("note", "住院费用已由医疗救助报销".to_owned()),
        ];
        let visit: Vec<(&str, &str)> = visit.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let why = refused(&mut cadre, elimination, "verify", &visit).await;
        assert!(why.contains("23400.00元属较大支出"), "{why}");
        assert!(why.contains("请勾选“已稳定解决”"), "{why}");
        let resolved = [visit.as_slice(), &[("rigid_resolved", "yes")]].concat();
        ok(&mut cadre, elimination, "verify", &resolved).await;
        ok(
            &mut cadre,
            elimination,
            "appraise",
            &[
                ("held_on", &day(7)),
                ("attendance", "9"),
                ("participants", "村两委、村民代表"),
                ("agreed", "yes"),
                ("note", ""),
            ],
        )
        .await;
        ok(
            &mut cadre,
            elimination,
            "post_notice",
            &[("starts_on", &day(6)), ("ends_on", &day(2)), ("note", "")],
        )
        .await;
        ok(&mut cadre, elimination, "close_notice", &[("note", "")]).await;
        ok(
            &mut township,
            elimination,
            "township_approve",
            &[("note", "同意")],
        )
        .await;
        ok(
            &mut county,
            elimination,
            "county_approve",
            &[("method", "by_assistance"), ("note", "")],
        )
        .await;
        ok(
            &mut township,
            elimination,
            "announce",
            &[("on", &today), ("note", "")],
        )
        .await;
        let household = cadre.get(&format!("/households/{HOUSEHOLD}")).await;
        assert!(
            household
                .element("monitoring")
                .contains("data-status=\"eliminated\"")
        );
        assert_eq!(
            division_and_statistics_agree(&mut township).await,
            monitored + 1
        );

        // A new risk: re-entry through a new identification.
        let opened = open_case(&mut cadre, "identification", &day(9), "").await;
        let again = redirected(&opened, "/cases/");
        identify(&server, again, 9, "unstable_lifted_out", "accident").await;
        let household = cadre.get(&format!("/households/{HOUSEHOLD}")).await;
        let block = household.element("monitoring");
        assert!(block.contains("data-status=\"monitored\""), "{block}");
        assert!(block.contains("因意外事故"), "{block}");
        let timeline = cadre
            .get(&format!("/households/{HOUSEHOLD}/timeline"))
            .await;
        assert!(timeline.element("timeline").contains("风险已消除"));
    }
}

#[tokio::test]
async fn the_inbox_marks_cases_near_and_past_their_limit_and_the_limit_is_a_setting() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        let households = (0..2)
            .map(|i| {
                zhenxing_store::testing::test_household(
                    &format!("CK-L{i}"),
                    VILLAGE,
                    &zhenxing_store::testing::test_id_number(20 + i),
                    5_000,
                )
            })
            .collect();
        zhenxing_store::testing::write_test_households(db, households).await;
        let mut cadre = server.signed_in("lixin").await;
        for (no, days) in [("CK-L0", 20), ("CK-L1", 13)] {
            let form = cadre.get(&format!("/households/{no}/cases/new")).await;
            let sent = cadre
                .post_form(
                    &format!("/households/{no}/cases/new"),
                    &[
                        ("csrf", &form.hidden("csrf")),
                        ("kind", "identification"),
                        ("channel", "self_declaration"),
                        ("warning", ""),
                        ("found_on", &day(days)),
                        ("emergency", ""),
                        ("note", ""),
                    ],
                )
                .await;
            assert_eq!(sent.status, 303, "{}", sent.body);
        }
        // Above the village: the township and the county see both, marked.
        for who in ["bashan", "chengkou"] {
            let mut officer = server.signed_in(who).await;
            let inbox = officer.get("/cases").await;
            let table = inbox.element("cases");
            assert!(table.contains("data-urgency=\"overdue\""), "{table}");
            assert!(table.contains("data-urgency=\"near\""), "{table}");
            assert!(
                table.contains("已逾期") && table.contains("临期"),
                "{table}"
            );
            assert!(inbox.element("tab-overdue").contains("data-alert"));
        }
        // Bad query values answer 400.
        assert_eq!(cadre.get("/cases?filter=nonsense").await.status, 400);

        // Only the administrator changes the limit; a notice below five days is refused.
        assert_eq!(cadre.get("/settings/procedures").await.status, 403);
        let mut admin = server.signed_in("admin").await;
        let form = admin.get("/settings/procedures").await;
        assert_eq!(form.status, 200);
        // The page says which years' holiday notices working days follow.
        assert!(
            form.element("holidays")
                .contains("2021, 2022, 2023, 2024, 2025, 2026"),
            "{}",
            form.body
        );
        let csrf = form.hidden("csrf");
        let bad = admin
            .post_form(
                "/settings/procedures",
                &[
                    ("csrf", &csrf),
                    ("limit_days", "20"),
                    ("notice_days", "3"),
                    ("near_days", "3"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.element("errors").contains("至少5天"), "{}", bad.body);
        let good = admin
            .post_form(
                "/settings/procedures",
                &[
                    ("csrf", &csrf),
                    ("limit_days", "25"),
                    ("counting", "working"),
                    ("notice_days", "5"),
                    ("near_days", "3"),
                ],
            )
            .await;
        assert_eq!(good.status, 303, "{}", good.body);
        let policy = zhenxing_store::procedures::policy(db).await.unwrap();
        assert_eq!(policy.limit_days, 25);
        // New cases count the new limit.
        let form = cadre.get("/households/CK0001/cases/new").await;
        assert_eq!(form.status, 200);
    }
}

#[tokio::test]
async fn attachments_are_kept_with_the_case_and_only_images_and_pdfs_are_accepted() {
    for server in Server::all().await {
        let db = &server.test_db.db;
        zhenxing_store::testing::write_test_households(
            db,
            vec![zhenxing_store::testing::test_household(
                HOUSEHOLD,
                VILLAGE,
                &zhenxing_store::testing::test_id_number(8),
                5_000,
            )],
        )
        .await;
        let mut cadre = server.signed_in("lixin").await;
        let opened = open_case(&mut cadre, "identification", &day(1), "").await;
        let case = redirected(&opened, "/cases/");
        let page = cadre.get(&format!("/cases/{case}")).await;
        let csrf = page.hidden("csrf");
        let jpeg = [&[0xFFu8, 0xD8, 0xFF, 0xE0][..], b"signed commitment"].concat();
        let sent = cadre
            .post_multipart(
                &format!("/cases/{case}/attachments"),
                &[("csrf", &csrf)],
                Some(("file", "承诺书.jpg", &jpeg)),
            )
            .await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let page = cadre.get(&format!("/cases/{case}")).await;
        let list = page.element("attachments");
        assert!(list.contains("承诺书.jpg"), "{list}");
        let link = format!("/cases/{case}/attachments/1");
        let file = cadre.get(&link).await;
        assert_eq!(file.status, 200);
        assert_eq!(file.header("content-type"), Some("image/jpeg"));
        assert!(
            file.header("content-disposition")
                .unwrap()
                .starts_with("attachment")
        );
        // Another village does not see it.
        let mut other = server.signed_in("other_village").await;
        assert_eq!(other.get(&link).await.status, 404);
        // An HTML file dressed as a photo is refused.
        let sent = cadre
            .post_multipart(
                &format!("/cases/{case}/attachments"),
                &[("csrf", &csrf)],
                Some(("file", "photo.jpg", b"<script>alert(1)</script>")),
            )
            .await;
        assert_eq!(sent.status, 422, "{}", sent.body);
        assert!(sent.element("errors").contains("JPEG"));
    }
}

/// A refused home verification names every problem next to its field and keeps what was
/// typed; a step taken says what happened; rejecting asks for a confirmation (issue 18 item 4).
#[tokio::test]
async fn a_refused_form_keeps_its_input_and_names_every_problem() {
    for server in Server::all().await {
        let household = zhenxing_store::testing::test_household(
            "CK-V1",
            VILLAGE,
            &zhenxing_store::testing::test_id_number(55),
            5_000,
        );
        zhenxing_store::testing::write_test_households(&server.test_db.db, vec![household]).await;
        let mut cadre = server.signed_in("lixin").await;
        let form = cadre.get("/households/CK-V1/cases/new").await;
        let opened = cadre
            .post_form(
                "/households/CK-V1/cases/new",
                &[
                    ("csrf", &form.hidden("csrf")),
                    ("kind", "identification"),
                    ("channel", "visit"),
                    ("warning", ""),
                    ("found_on", &day(3)),
                    ("emergency", ""),
                    ("note", ""),
                ],
            )
            .await;
        let case = redirected(&opened, "/cases/");
        // Five problems at once: a rigid spending that is no amount, no category, no risk, no
        // commitment, and the income left blank.
        let refused = step(
            &mut cadre,
            case,
            "verify",
            &[
                ("visited_on", &day(1)),
                ("income", ""),
                ("rigid_spending", "三百"),
                ("problem", "housing"),
                ("category", ""),
                ("note", "户主住院"),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let listed = refused.element("errors").matches("<li>").count();
        assert_eq!(listed, 5, "{}", refused.element("errors"));
        for field in ["income", "rigid_spending", "category", "risk", "commitment"] {
            assert!(
                !refused.element(&format!("{field}-error")).is_empty(),
                "no problem shown next to {field}"
            );
        }
        assert!(refused.element("rigid_spending").contains("value=\"三百\""));
        assert!(
            refused
                .element("visited_on")
                .contains(&format!("value=\"{}\"", day(1)))
        );
        assert!(refused.element("problem-housing").contains("checked"));
        assert!(refused.element("verify-note").contains("户主住院"));
        // Corrected and sent: the page says what happened and where the case is now.
        let sent = step(
            &mut cadre,
            case,
            "verify",
            &[
                ("visited_on", &day(1)),
                ("income", "5200"),
                ("rigid_spending", "300"),
                ("category", "marginal_at_risk"),
                ("risk", "illness"),
                ("commitment", "yes"),
                ("note", ""),
            ],
        )
        .await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let page = cadre.get(sent.header("location").unwrap()).await;
        assert_eq!(
            page.text_of("done"),
            "已办理“入户核实”；当前环节：民主评议",
            "{}",
            page.body
        );
        // The appraisal's form too: every problem next to its field, what was typed kept.
        let refused = step(
            &mut cadre,
            case,
            "appraise",
            &[
                ("held_on", "上周"),
                ("attendance", "很多"),
                ("participants", "村两委、驻村工作队、群众代表"),
                ("note", "评议意见一致"),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(
            refused.element("errors").matches("<li>").count(),
            3,
            "{}",
            refused.element("errors")
        );
        for field in ["held_on", "attendance", "agreed"] {
            assert!(
                !refused
                    .element(&format!("appraise-{field}-error"))
                    .is_empty(),
                "no problem shown next to {field}"
            );
        }
        assert!(refused.element("held_on").contains("value=\"上周\""));
        assert!(refused.element("attendance").contains("value=\"很多\""));
        assert!(
            refused
                .element("participants")
                .contains("value=\"村两委、驻村工作队、群众代表\"")
        );
        assert!(refused.element("appraise-note").contains("评议意见一致"));
        // Rejecting without ticking the confirmation changes nothing.
        assert!(page.element("reject-details").contains("<summary>"));
        let unconfirmed = step(
            &mut cadre,
            case,
            "reject",
            &[("note", "经核实家庭收入稳定，不符合纳入条件")],
        )
        .await;
        assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
        assert!(unconfirmed.element("errors").contains("勾选确认"));
        assert!(
            unconfirmed.element("reject-details").contains(" open"),
            "the refused form stays open"
        );
        let rejected = step(
            &mut cadre,
            case,
            "reject",
            &[
                ("note", "经核实家庭收入稳定，不符合纳入条件"),
                ("confirm", "yes"),
            ],
        )
        .await;
        assert_eq!(rejected.status, 303, "{}", rejected.body);
    }
}
