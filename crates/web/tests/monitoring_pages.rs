#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The monitoring pages: re-screening from the browser (background run, status line, one at a
//! time), the rule sets (list, one version in words, a new version from the form or a file,
//! refused with every reason), and what-if (numbers computed here from the fixture file, by
//! division and drill-down, scoped to the account). Each as the right and the wrong roles.

mod common;

use common::{Client, Response, Server, fixture, unescape};
use std::collections::{BTreeMap, BTreeSet};
use zhenxing_core::Fen;
use zhenxing_core::household::Household;
use zhenxing_core::monitoring::{
    HouseholdFacts, MemberFacts, OutpatientTrigger, RuleSet, SchoolCostsTrigger,
};
use zhenxing_store::monitoring;

fn households() -> Vec<Household> {
    let today = zhenxing_core::china_time::today_in_china();
    let parsed = zhenxing_io::registry::parse_registry(&fixture("good-utf8.csv"), today, &|_| {});
    parsed.households
}

/// The page's text with askama's escapes undone, for comparing with plain strings.
fn text(page: &Response) -> String {
    unescape(&page.body)
}

/// The session's CSRF token, from any page (the sign-out form carries it).
async fn csrf(c: &mut Client) -> String {
    c.get("/nowhere").await.hidden("csrf")
}

async fn english(c: &mut Client) {
    let token = csrf(c).await;
    let r = c
        .post_form("/lang", &[("csrf", &token), ("lang", "en")])
        .await;
    assert_eq!(r.status, 303);
}

async fn rule_set_count(server: &Server) -> usize {
    monitoring::rule_sets(&server.test_db.db)
        .await
        .unwrap()
        .len()
}

/// The rule set the pages use now (this year's, for Chongqing).
async fn in_force(server: &Server) -> monitoring::StoredRuleSet {
    monitoring::ensure_builtin_rule_sets(&server.test_db.db, "test")
        .await
        .unwrap();
    zhenxing_app::monitoring::pass::rule_set_in_force(&server.test_db.db, None)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_pages_as_each_role() {
    // (account, overview and rule sets, new version form, what-if, may re-screen)
    const EXPECTED: &[(&str, u16, u16, u16, bool)] = &[
        ("admin", 200, 200, 200, true),
        ("chengkou", 200, 403, 200, true),
        ("bashan", 200, 403, 200, false),
        ("lixin", 403, 403, 403, false),
        ("other_village", 403, 403, 403, false),
        ("wuxi", 200, 403, 200, true),
        ("auditor", 403, 403, 403, false),
        ("security", 403, 403, 403, false),
        ("department", 403, 403, 403, false),
    ];
    for server in Server::all().await {
        for (name, read, manage, whatif, run) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let overview = c.get("/monitoring").await;
            assert_eq!(overview.status, *read, "{name} /monitoring");
            assert_eq!(c.get("/monitoring/rules").await.status, *read, "{name}");
            assert_eq!(c.get("/monitoring/rules/1").await.status, *read, "{name}");
            assert_eq!(
                c.get("/monitoring/rules/new").await.status,
                *manage,
                "{name}"
            );
            assert_eq!(c.get("/monitoring/whatif").await.status, *whatif, "{name}");
            // The navigation links to the monitoring pages for those who may read them.
            let home = c.get("/nowhere").await;
            assert_eq!(
                home.body.contains("id=\"nav-monitoring\""),
                *read == 200,
                "{name} navigation"
            );
            if *read == 200 {
                assert_eq!(
                    overview.body.contains("id=\"run-form\""),
                    *run,
                    "{name} sees the re-screen button"
                );
                assert_eq!(
                    overview.body.contains("id=\"whatif-link\""),
                    *whatif == 200,
                    "{name}"
                );
            }
        }
    }
}

#[tokio::test]
async fn rule_sets_are_listed_and_shown_in_words() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        english(&mut admin).await;
        let list = admin.get("/monitoring/rules").await;
        assert_eq!(list.status, 200, "{}", list.body);
        let sets = monitoring::rule_sets(&server.test_db.db).await.unwrap();
        assert_eq!(sets.len(), 5, "2021 and the assumed 2022 to 2025");
        let current = in_force(&server).await;
        for s in &sets {
            let row = list.element(&format!("rule-set-{}", s.id));
            assert!(row.contains(&s.rules.year.to_string()), "{row}");
            assert_eq!(row.contains("in force"), s.id == current.id, "{row}");
            // Assumed values are flagged, with their note.
            assert_eq!(row.contains("assumed values"), s.rules.assumed, "{row}");
            if s.rules.assumed {
                assert!(row.contains("ASSUMED (demo)"), "{row}");
            }
        }
        // One version, in words: the threshold and every trigger with its parameters.
        let page = admin
            .get(&format!("/monitoring/rules/{}", sets[0].id))
            .await;
        assert_eq!(page.status, 200);
        assert!(page.element("threshold").contains("6,000.00 yuan"));
        let triggers = text(&page);
        let medical = page.element("trigger-medical_out_of_pocket");
        assert!(
            medical.contains("large out-of-pocket medical spending"),
            "{medical}"
        );
        assert!(
            medical.contains("members of lifted-out households, from: 5000 yuan"),
            "{medical}"
        );
        assert!(medical.contains("others, from: 20000 yuan"), "{medical}");
        let school = page.element("trigger-child_out_of_school");
        assert!(school.contains("from age: 7 years old") && school.contains("to age: 15"));
        assert!(page.element("trigger-income_drop").contains("off"));
        // The department triggers of DOMAIN.md 1.6 with their amounts.
        let outpatient = page.element("trigger-outpatient_out_of_pocket");
        assert!(
            outpatient.contains("large outpatient out-of-pocket spending in a month")
                && outpatient.contains("per month, from: 500 yuan"),
            "{outpatient}"
        );
        let costs = page.element("trigger-schooling_costs");
        assert!(
            costs.contains("large non-compulsory schooling costs")
                && costs.contains("per school year, more than: 10000 yuan"),
            "{costs}"
        );
        assert!(
            triggers.contains("\"threshold_yuan\": 6000"),
            "the file form"
        );
        // In Chinese, the same page speaks Chinese.
        let mut zh = server.signed_in("chengkou").await;
        let page = zh.get(&format!("/monitoring/rules/{}", sets[0].id)).await;
        assert!(
            page.element("trigger-medical_out_of_pocket")
                .contains("合规自付医疗支出较大")
        );
        assert!(page.element("threshold").contains("6,000.00 元"));
        assert!(
            page.element("trigger-schooling_costs")
                .contains("每学年超过: 10000 元")
        );
        // The county officer reads, but cannot add; there is no edit route.
        assert!(!page.body.contains("id=\"new-from-this\""));
        assert_eq!(zh.get("/monitoring/rules/999").await.status, 404);
        assert_eq!(zh.get("/monitoring/rules/abc").await.status, 404);
        assert_eq!(admin.get("/monitoring/rules/1/edit").await.status, 404);
        let token = csrf(&mut admin).await;
        assert_eq!(
            admin
                .post_form("/monitoring/rules/1/edit", &[("csrf", &token)])
                .await
                .status,
            404
        );
    }
}

/// The form's fields for a rule set, as the page fills them in.
fn form_fields(rules: &RuleSet) -> Vec<(String, String)> {
    let mut f = vec![
        ("year".to_owned(), rules.year.to_string()),
        ("jurisdiction".to_owned(), rules.jurisdiction.clone()),
        (
            "threshold_yuan".to_owned(),
            rules.threshold.map(|t| t.to_string()).unwrap_or_default(),
        ),
    ];
    let triggers = serde_json::to_value(rules.triggers).unwrap();
    for (key, value) in triggers.as_object().unwrap() {
        let Some(object) = value.as_object() else {
            continue;
        };
        for (param, v) in object {
            let v = match v {
                serde_json::Value::Bool(true) => "yes".to_owned(),
                serde_json::Value::Bool(false) => continue,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            f.push((format!("{key}.{param}"), v));
        }
    }
    f
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[tokio::test]
async fn a_new_version_from_the_form_or_a_file_and_bad_ones_refused_with_every_reason() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        english(&mut admin).await;
        let current = in_force(&server).await;
        let form = admin.get("/monitoring/rules/new").await;
        assert_eq!(form.status, 200);
        // Pre-filled from the version in force.
        assert!(
            form.element("from")
                .contains(&format!("/monitoring/rules/{}", current.id))
        );
        assert!(
            form.body
                .contains("id=\"medical_out_of_pocket-lifted_out_yuan\" value=\"5000\"")
        );
        assert!(
            form.body
                .contains("id=\"child_out_of_school-max_age\" value=\"15\"")
        );
        let count = rule_set_count(&server).await;

        // A bad one: every reason RuleSet::check gives, beside the form; nothing saved.
        let mut bad = current.rules.clone();
        bad.year = 2019;
        bad.threshold = None;
        if let Some(m) = bad.triggers.medical_out_of_pocket.as_mut() {
            m.lifted_out = Some(Fen::from_yuan(30_000));
        }
        if let Some(s) = bad.triggers.child_out_of_school.as_mut() {
            s.min_age = Some(16);
        }
        let expected = bad.problems();
        assert!(expected.len() >= 4, "{expected:?}");
        let token = csrf(&mut admin).await;
        let mut fields = form_fields(&bad);
        fields.push(("csrf".into(), token.clone()));
        let r = admin
            .post_form("/monitoring/rules/new", &pairs(&fields))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let shown = text(&r);
        for p in &expected {
            assert!(shown.contains(&p.en), "reason shown: {}", p.en);
        }
        assert!(r.element("problems").contains("was not saved"));
        // The form keeps what was typed.
        assert!(r.body.contains("name=\"year\" id=\"year\" value=\"2019\""));
        assert_eq!(rule_set_count(&server).await, count);

        // Not a number: said so, with the rule's name.
        let mut fields = form_fields(&current.rules);
        fields.retain(|(k, _)| k != "income_drop.percent");
        fields.push(("income_drop.percent".into(), "thirty".into()));
        fields.push(("csrf".into(), token.clone()));
        let r = admin
            .post_form("/monitoring/rules/new", &pairs(&fields))
            .await;
        assert_eq!(r.status, 422);
        assert!(
            text(&r).contains("'thirty' is not a whole number"),
            "{}",
            r.body
        );
        assert_eq!(rule_set_count(&server).await, count);

        // A good one: 2026, threshold 7,500 (story 4), saved as the next version.
        let mut good = current.rules.clone();
        good.year = 2026;
        good.assumed = false;
        good.note = None;
        good.threshold = Some(Fen::from_yuan(7_500));
        // The new triggers' amounts are edited like the others.
        good.triggers.outpatient_out_of_pocket = Some(OutpatientTrigger {
            enabled: true,
            monthly: Some(Fen::from_yuan(650)),
        });
        good.triggers.schooling_costs = Some(SchoolCostsTrigger {
            enabled: false,
            above: Some(Fen::from_yuan(12_000)),
        });
        let mut fields = form_fields(&good);
        fields.push(("csrf".into(), token.clone()));
        let r = admin
            .post_form("/monitoring/rules/new", &pairs(&fields))
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let location = r.header("location").unwrap().to_owned();
        let page = admin.get(&location).await;
        assert!(
            page.element("rule-set-label")
                .contains("rule set 2026 for 500000000000, version 1")
        );
        assert!(page.element("threshold").contains("7,500.00"));
        assert!(
            page.element("trigger-outpatient_out_of_pocket")
                .contains("per month, from: 650 yuan")
        );
        assert!(page.element("trigger-schooling_costs").contains("off"));
        let sets = monitoring::rule_sets(&server.test_db.db).await.unwrap();
        assert_eq!(sets.len(), count + 1);
        let saved = sets.iter().find(|s| s.rules.year == 2026).unwrap();
        assert_eq!(
            saved.rules,
            RuleSet {
                version: 1,
                ..good.clone()
            }
        );
        assert_eq!(saved.created_by, "admin");
        // Audited, in the administrator's name.
        let recent = zhenxing_store::audit::recent(&server.test_db.db, 3)
            .await
            .unwrap();
        assert!(
            recent.iter().any(|r| r.action == "rules.add"
                && r.actor == "admin"
                && r.object_id.as_deref() == Some("2026/500000000000/v1")),
            "{recent:?}"
        );

        // The same from a file (the CLI's format): the next version; the file's own
        // version number is not used.
        let mut file = good.clone();
        file.version = 9;
        file.threshold = Some(Fen::from_yuan(8_000));
        let json = serde_json::to_vec(&file).unwrap();
        let r = admin
            .post_multipart(
                "/monitoring/rules/upload",
                &[("csrf", &token)],
                Some(("file", "rules-2026.json", &json)),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = admin.get(r.header("location").unwrap()).await;
        assert!(page.element("rule-set-label").contains("version 2"));
        assert_eq!(rule_set_count(&server).await, count + 2);

        // A broken file: the line and column; a contradictory one: every reason.
        let r = admin
            .post_multipart(
                "/monitoring/rules/upload",
                &[("csrf", &token)],
                Some((
                    "file",
                    "broken.json",
                    b"{\"year\": 2026,\n \"threshold_yuan\": }",
                )),
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(text(&r).contains("line 2"), "{}", r.body);
        let json = serde_json::to_vec(&bad).unwrap();
        let r = admin
            .post_multipart(
                "/monitoring/rules/upload",
                &[("csrf", &token)],
                Some(("file", "bad.json", &json)),
            )
            .await;
        assert_eq!(r.status, 422);
        let shown = text(&r);
        for p in &expected {
            assert!(shown.contains(&p.en), "reason shown for the file: {}", p.en);
        }
        let r = admin
            .post_multipart(
                "/monitoring/rules/upload",
                &[("csrf", &token)],
                Some(("file", "latin1.json", b"{\"note\": \"\xe9\"}")),
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(text(&r).contains("UTF-8"));
        assert_eq!(rule_set_count(&server).await, count + 2);

        // Without the CSRF token, or as another role: refused, nothing saved.
        let r = admin
            .post_form("/monitoring/rules/new", &[("csrf", "forged")])
            .await;
        assert_eq!(r.status, 403);
        let mut county = server.signed_in("chengkou").await;
        let county_token = csrf(&mut county).await;
        let mut fields = form_fields(&good);
        fields.push(("csrf".into(), county_token.clone()));
        let r = county
            .post_form("/monitoring/rules/new", &pairs(&fields))
            .await;
        assert_eq!(r.status, 403);
        let json = serde_json::to_vec(&good).unwrap();
        let r = county
            .post_multipart(
                "/monitoring/rules/upload",
                &[("csrf", &county_token)],
                Some(("file", "rules.json", &json)),
            )
            .await;
        assert_eq!(r.status, 403);
        assert_eq!(rule_set_count(&server).await, count + 2);
        let report = zhenxing_store::audit::verify(&server.test_db.db)
            .await
            .unwrap();
        assert!(report.problems.is_empty());
    }
}

/// The households that raise a warning under `rules`, by core's classification of the
/// fixture's households.
fn expected_warnings(rules: &RuleSet, prefix: &str) -> BTreeSet<String> {
    let today = zhenxing_core::china_time::today_in_china();
    let prepared = rules.prepare(today);
    households()
        .iter()
        .filter(|h| h.division.as_str().starts_with(prefix))
        .filter(|h| {
            let members = MemberFacts::of(h);
            prepared
                .classify(&HouseholdFacts::of(h, &members))
                .raises_warning()
        })
        .map(|h| h.household_no.as_str().to_owned())
        .collect()
}

async fn open_warnings(server: &Server) -> BTreeSet<String> {
    monitoring::warnings(&server.test_db.db, None, true)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.household_no)
        .collect()
}

#[tokio::test]
async fn a_re_screen_started_from_the_page_ends_with_the_warnings_in_the_table() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        english(&mut admin).await;
        let mut county = server.signed_in("chengkou").await;
        english(&mut county).await;
        let mut township = server.signed_in("bashan").await;
        let page = admin.get("/monitoring").await;
        assert!(
            page.element("last-run")
                .contains("No re-screen has been run yet")
        );
        let rules = in_force(&server).await;
        let expected = expected_warnings(&rules.rules, "");
        assert!(!expected.is_empty());
        assert!(open_warnings(&server).await.is_empty());

        // Hold the registry's write lock, so that the run waits at its write: it is then
        // "running" for as long as the test wants.
        let lock = server.test_db.db.begin_write().await.unwrap();
        let token = csrf(&mut admin).await;
        let r = admin
            .post_form("/monitoring/run", &[("csrf", &token), ("division", "")])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.header("location"), Some("/monitoring"));
        let status = admin.get("/monitoring").await;
        assert!(
            status.body.contains("http-equiv=\"refresh\""),
            "refreshes while running"
        );
        let line = status.element("run-status");
        assert!(line.contains("Re-screening the whole registry"), "{line}");
        assert!(line.contains("started by admin"), "{line}");
        assert!(
            !status.body.contains("id=\"run-form\""),
            "no button while running"
        );
        // A second click says so, and starts nothing.
        let county_token = csrf(&mut county).await;
        let r = county
            .post_form(
                "/monitoring/run",
                &[("csrf", &county_token), ("division", "")],
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.element("errors").contains("admin"), "{}", r.body);
        // The system stays usable: pages read while the run waits to write.
        assert_eq!(county.get("/households/CK0001").await.status, 200);
        assert_eq!(
            township
                .get("/monitoring/whatif?threshold=8000")
                .await
                .status,
            200
        );
        lock.rollback().await.unwrap();

        let done = admin.until_settled("/monitoring").await;
        assert_eq!(done.status, 200);
        let last = done.element("last-run");
        let n = expected.len();
        assert!(last.contains("by admin"), "{last}");
        assert!(last.contains(&format!("{n} warnings opened")), "{last}");
        assert!(last.contains("4 households screened"), "{last}");
        assert!(
            done.element("last-run-timings").contains("Took"),
            "{}",
            done.body
        );
        assert_eq!(open_warnings(&server).await, expected);
        let recent = zhenxing_store::audit::recent(&server.test_db.db, 5)
            .await
            .unwrap();
        assert!(
            recent
                .iter()
                .any(|r| r.action == "monitor.run" && r.actor == "admin")
        );

        // The county officer re-screens the county: within it only; nothing changes.
        let r = county
            .post_form(
                "/monitoring/run",
                &[("csrf", &county_token), ("division", "")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let done = county.until_settled("/monitoring").await;
        let last = done.element("last-run");
        assert!(last.contains("chengkou"), "{last}");
        assert!(last.contains("500229000000"), "{last}");
        assert_eq!(open_warnings(&server).await, expected);
        // ... but not another county, nor a division that does not exist.
        for (division, why) in [
            ("500238000000", "outside your account's division"),
            ("500229999999", "not in the registry"),
            ("5002", "12 digits"),
        ] {
            let r = county
                .post_form(
                    "/monitoring/run",
                    &[("csrf", &county_token), ("division", division)],
                )
                .await;
            assert_eq!(r.status, 422, "{division}");
            assert!(text(&r).contains(why), "{division}: {}", r.body);
        }
        // A township officer may not start one; a forged form neither.
        let township_token = csrf(&mut township).await;
        let r = township
            .post_form("/monitoring/run", &[("csrf", &township_token)])
            .await;
        assert_eq!(r.status, 403);
        let r = admin
            .post_form("/monitoring/run", &[("csrf", "forged")])
            .await;
        assert_eq!(r.status, 403);
        let report = zhenxing_store::audit::verify(&server.test_db.db)
            .await
            .unwrap();
        assert!(report.problems.is_empty());
    }
}

/// At-or-below, entering and leaving households and people per county, and the households
/// that change sides, computed from the fixture's households themselves.
struct Expected {
    by_county: BTreeMap<String, [u64; 6]>,
    entering: Vec<String>,
    leaving: Vec<String>,
}

fn expected_whatif(current: Fen, proposed: Fen, prefix: &str) -> Expected {
    let mut e = Expected {
        by_county: BTreeMap::new(),
        entering: Vec::new(),
        leaving: Vec::new(),
    };
    for h in households() {
        if !h.division.as_str().starts_with(prefix) {
            continue;
        }
        let income = h.per_capita_net_income();
        let (now, then) = (income <= current, income <= proposed);
        let m = h.members.len() as u64;
        let c = e
            .by_county
            .entry(format!("{}000000", &h.division.as_str()[..6]))
            .or_default();
        c[0] += u64::from(then);
        c[1] += if then { m } else { 0 };
        c[2] += u64::from(then && !now);
        c[3] += if then && !now { m } else { 0 };
        c[4] += u64::from(now && !then);
        c[5] += if now && !then { m } else { 0 };
        if then && !now {
            e.entering.push(h.household_no.as_str().to_owned());
        }
        if now && !then {
            e.leaving.push(h.household_no.as_str().to_owned());
        }
    }
    e.by_county.retain(|_, c| c.iter().any(|v| *v > 0));
    e
}

/// The numbers of a what-if row: at or below (households, people), now, entering (households,
/// people), leaving (households, people).
fn row_numbers(row: &str) -> Vec<u64> {
    row.split("<td class=\"n\">")
        .skip(1)
        .map(|cell| {
            cell[..cell.find('<').unwrap()]
                .replace(',', "")
                .parse()
                .unwrap()
        })
        .collect()
}

fn as_shown(c: &[u64; 6]) -> Vec<u64> {
    vec![c[0], c[1], c[2], c[3], c[4], c[5]]
}

fn without_now(numbers: Vec<u64>) -> Vec<u64> {
    let mut n = numbers;
    n.remove(2);
    n
}

#[tokio::test]
async fn whatif_numbers_are_the_households_own_and_nothing_is_written() {
    for server in Server::all().await {
        let mut admin = server.signed_in("admin").await;
        english(&mut admin).await;
        let mut county = server.signed_in("chengkou").await;
        english(&mut county).await;
        let rules = in_force(&server).await;
        let current = rules.rules.threshold.unwrap();
        let form = admin.get("/monitoring/whatif").await;
        assert_eq!(form.status, 200);
        assert!(
            form.body.contains(&format!("value=\"{current}\"")),
            "pre-filled"
        );
        assert!(
            form.element("whatif-counts").is_empty(),
            "no numbers before asking"
        );
        let audit_before = zhenxing_store::audit::verify(&server.test_db.db)
            .await
            .unwrap()
            .records;

        for proposed in [12_000, 2_000, 15_000] {
            let e = expected_whatif(current, Fen::from_yuan(proposed), "");
            let page = admin
                .get(&format!("/monitoring/whatif?threshold={proposed}"))
                .await;
            assert_eq!(page.status, 200, "{}", page.body);
            for (county, c) in &e.by_county {
                let row = page.element(&format!("whatif-{county}"));
                assert_eq!(
                    without_now(row_numbers(row)),
                    as_shown(c),
                    "{proposed} {county}"
                );
            }
            let total: u64 = e.by_county.values().map(|c| c[0]).sum();
            assert_eq!(row_numbers(page.element("whatif-total"))[0], total);
            let changes = page.element("changes");
            for no in &e.entering {
                assert!(
                    changes.contains(&format!(">{no}<")),
                    "{proposed}: {no} enters"
                );
            }
            for no in &e.leaving {
                assert!(
                    changes.contains(&format!(">{no}<")),
                    "{proposed}: {no} leaves"
                );
            }
            assert_eq!(
                page.element("change-count")
                    .trim_start_matches("<small id=\"change-count\">")
                    .trim_end_matches("</small>"),
                (e.entering.len() + e.leaving.len()).to_string()
            );
            // Household numbers, villages and incomes; never an ID number.
            for h in households() {
                for m in &h.members {
                    assert!(!page.body.contains(m.document.id().as_str()));
                }
            }
        }
        // Entering: WX0001 (11,840 yuan per person) at 12,000; leaving: CK0001 at 2,000.
        let up = admin.get("/monitoring/whatif?threshold=12000").await;
        assert!(text(&up).contains("WX0001</a></td><td>"), "{}", up.body);
        assert!(up.element("changes").contains("enters"));
        let down = admin.get("/monitoring/whatif?threshold=2000").await;
        assert!(down.element("changes").contains("CK0001"));
        assert!(down.element("changes").contains("leaves"));
        assert_eq!(down.element("page-of"), "<span id=\"page-of\">1 / 1</span>");

        // Story 4: the county officer sees the county only, by township, and drills down.
        let e = expected_whatif(current, Fen::from_yuan(15_000), "500229");
        let page = county.get("/monitoring/whatif?threshold=15000").await;
        assert_eq!(page.status, 200);
        let total = row_numbers(page.element("whatif-total"));
        assert_eq!(without_now(total), as_shown(&e.by_county["500229000000"]));
        assert!(!page.body.contains("WX0001") && !page.body.contains("500238"));
        assert!(page.body.contains("By township"));
        let township = unescape(page.element("whatif-500229102000"));
        assert!(
            township.contains("/monitoring/whatif?threshold=15000&division=500229102000"),
            "{township}"
        );
        let drill = county
            .get("/monitoring/whatif?threshold=15000&division=500229102000")
            .await;
        assert_eq!(drill.status, 200);
        let e = expected_whatif(current, Fen::from_yuan(15_000), "500229102");
        assert_eq!(
            without_now(row_numbers(drill.element("whatif-total"))),
            as_shown(&e.by_county["500229000000"])
        );
        assert!(drill.body.contains("By village"));
        assert!(drill.element("whatif-500229102202").contains("href"));
        // Outside the county: as if it did not exist.
        assert_eq!(
            county
                .get("/monitoring/whatif?threshold=15000&division=500238000000")
                .await
                .status,
            404
        );
        // A bad threshold or year is said so; a bad page number refused.
        let bad = county.get("/monitoring/whatif?threshold=abc").await;
        assert_eq!(bad.status, 400);
        assert!(bad.element("errors").contains("Monitoring threshold"));
        let zero = county.get("/monitoring/whatif?threshold=0").await;
        assert!(zero.element("errors").contains("above 0"));
        let year = county
            .get("/monitoring/whatif?threshold=8000&year=1999")
            .await;
        assert_eq!(year.status, 400);
        assert!(year.element("errors").contains("no rule set"));
        assert_eq!(
            county
                .get("/monitoring/whatif?threshold=8000&page=0")
                .await
                .status,
            400
        );
        assert_eq!(
            county
                .get("/monitoring/whatif?threshold=8000&what=1")
                .await
                .status,
            400
        );
        // Nothing was written by any of it.
        assert_eq!(
            zhenxing_store::audit::verify(&server.test_db.db)
                .await
                .unwrap()
                .records,
            audit_before
        );
        assert!(open_warnings(&server).await.is_empty());
    }
}

/// A valid resident ID number of 城口县, born 1980-01-01, with sequence number `n` (< 1000).
#[tokio::test]
async fn the_households_that_change_sides_come_in_pages() {
    for server in Server::all().await {
        // 60 more one-person households at 7,000 yuan in 立新村: all enter at 8,000.
        let today = zhenxing_core::china_time::today_in_china();
        let template = households().pop().unwrap();
        let more = zhenxing_store::testing::one_person_households(
            &template,
            "LX",
            "500229102202",
            7_000,
            60,
            today,
        )
        .unwrap();
        let request = zhenxing_store::registry::WriteRequest {
            actor: "test".into(),
            source: "more households".into(),
            reason: None,
            dry_run: false,
            known_new: false,
            defer_counts: false,
            monitoring: zhenxing_store::registry::MonitoringPermission::ProceduresOnly,
        };
        server
            .test_db
            .db
            .write_households(&more, &request, &|_| {})
            .await
            .unwrap();
        let mut county = server.signed_in("chengkou").await;
        let first = county.get("/monitoring/whatif?threshold=8000").await;
        assert_eq!(first.status, 200);
        assert!(first.element("change-count").contains(">60<"));
        assert_eq!(
            first.element("page-of"),
            "<span id=\"page-of\">1 / 2</span>"
        );
        let numbers = |page: &Response| -> Vec<String> {
            page.element("changes")
                .split("<a href=\"/households/")
                .skip(1)
                .map(|s| s[..s.find('"').unwrap()].to_owned())
                .collect()
        };
        let next = unescape(first.element("next-page"));
        let href = &next[next.find("href=\"").unwrap() + 6..];
        let href = &href[..href.find('"').unwrap()];
        assert_eq!(
            href,
            "/monitoring/whatif?threshold=8000&division=500229000000&page=2"
        );
        let second = county.get(href).await;
        assert_eq!(
            second.element("page-of"),
            "<span id=\"page-of\">2 / 2</span>"
        );
        assert!(second.body.contains("id=\"previous-page\""));
        let mut all = numbers(&first);
        assert_eq!(all.len(), 50);
        all.extend(numbers(&second));
        let expected: Vec<String> = (0..60).map(|i| format!("LX{i:04}")).collect();
        assert_eq!(all, expected, "every household once, by village and number");
        // A page past the end shows the last one.
        let past = county.get("/monitoring/whatif?threshold=8000&page=9").await;
        assert_eq!(past.element("page-of"), "<span id=\"page-of\">2 / 2</span>");
    }
}
