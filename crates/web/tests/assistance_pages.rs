#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! A household's assistance over HTTP: the village cadre pairs a responsible cadre and records
//! measures on her phone; mistakes come back next to their fields with nothing saved and the
//! values kept; phone numbers are masked until an officer reveals them (audited); a form from
//! an old page is refused with words; a household that is not monitored gets no measure.

mod common;

use common::{Client, Response, Server};

const BASE: &str = "/households/CK0001/assistance";

fn today() -> String {
    zhenxing_core::china_time::today_in_china().to_string()
}

async fn post(c: &mut Client, path: &str, pairs: &[(&str, &str)]) -> Response {
    let csrf = c.csrf().await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(pairs);
    c.post_form(path, &all).await
}

/// The `version` hidden field inside the element with this id.
fn version_in(page: &Response, id: &str) -> String {
    let element = page.element(id);
    let at = element.find("name=\"version\" value=\"").unwrap() + 22;
    element[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_cadre_records_pairings_and_measures() {
    for server in Server::all().await {
        let mut cadre = server.signed_in("lixin").await;
        let page = cadre.get(BASE).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.element("no-pairings").contains("尚无帮扶责任人"));
        assert!(page.element("pairing-form").contains("name=\"phone\""));
        // The household page links here.
        assert!(
            cadre
                .get("/households/CK0001")
                .await
                .element("assistance")
                .contains(BASE)
        );

        // Mistakes: each next to its field, the values kept, nothing saved.
        let tomorrow =
            (zhenxing_core::china_time::today_in_china() + time::Duration::days(1)).to_string();
        let bad = post(
            &mut cadre,
            &format!("{BASE}/pairings"),
            &[
                ("name", " "),
                ("unit", "农委会计"),
                ("phone", "1391234"),
                ("starts_on", &tomorrow),
                ("political_status", "党员?"),
            ],
        )
        .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        let form = bad.element("pairing-form");
        assert!(form.contains("帮扶责任人姓名不能为空"), "{form}");
        assert!(form.contains("不是11位手机号码"), "{form}");
        assert!(form.contains("晚于今天"), "{form}");
        assert!(form.contains("不是政治面貌的取值"), "{form}");
        assert!(form.contains("value=\"农委会计\""), "values kept: {form}");
        assert!(cadre.get(BASE).await.body.contains("id=\"no-pairings\""));

        let ok = post(
            &mut cadre,
            &format!("{BASE}/pairings"),
            &[
                ("name", "刘德明"),
                ("sex", "male"),
                ("political_status", "party_member"),
                ("unit", "城口县农业农村委员会"),
                ("phone", "139 1234 5678"),
                ("starts_on", &today()),
            ],
        )
        .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(ok.header("location"), Some(BASE));
        let page = cadre.get(BASE).await;
        let pairings = page.element("pairings");
        assert!(
            pairings.contains("刘德明") && pairings.contains("中共党员"),
            "{pairings}"
        );
        assert!(pairings.contains("139****5678"), "{pairings}");
        assert!(!page.body.contains("13912345678"), "masked by default");
        assert!(
            page.element("reveal").is_empty(),
            "a village cadre does not reveal"
        );

        // Measures: mistakes first, then a planned one, then implemented.
        let bad = post(
            &mut cadre,
            &format!("{BASE}/measures"),
            &[
                ("category", "health"),
                ("content", "药"),
                ("amount", "12.345"),
                ("starts_on", &today()),
                ("status", "implemented"),
            ],
        )
        .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        let form = bad.element("measure-form");
        assert!(form.contains("至少2个字"), "{form}");
        assert!(form.contains("小数超过两位"), "{form}");
        assert!(form.contains("须填写实施日期"), "{form}");
        assert!(form.contains("value=\"12.345\""), "{form}");
        assert!(cadre.get(BASE).await.body.contains("id=\"no-measures\""));
        let ok = post(
            &mut cadre,
            &format!("{BASE}/measures"),
            &[
                ("category", "public_welfare_job"),
                ("content", "为王建国妻子安排村保洁公益岗位"),
                ("amount", "6000"),
                ("starts_on", &today()),
                ("status", "planned"),
                ("risk", "illness"),
            ],
        )
        .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        let page = cadre.get(BASE).await;
        let measures = page.element("measures");
        assert!(
            measures.contains("公益岗位帮扶") && measures.contains("开发式帮扶"),
            "{measures}"
        );
        assert!(
            measures.contains("100A42") && measures.contains("6000.00"),
            "{measures}"
        );
        assert!(measures.contains("data-status=\"planned\""), "{measures}");
        // The national field's words: 尚未实施, not 计划实施.
        assert!(measures.contains("尚未实施"), "{measures}");
        let id = {
            let at = measures.find("id=\"measure-").unwrap() + 12;
            measures[at..].split('"').next().unwrap().to_owned()
        };
        let version = version_in(&page, &format!("implement-{id}"));
        let path = format!("{BASE}/measures/{id}/implement");
        let done = post(
            &mut cadre,
            &path,
            &[("version", &version), ("on", &today())],
        )
        .await;
        assert_eq!(done.status, 303, "{}", done.body);
        // The same form again: someone else's change came first.
        let stale = post(
            &mut cadre,
            &path,
            &[("version", &version), ("on", &today())],
        )
        .await;
        assert_eq!(stale.status, 409, "{}", stale.body);
        assert!(stale.body.contains("未保存"), "{}", stale.body);
        let page = cadre.get(BASE).await;
        assert!(
            page.element("measures")
                .contains("data-status=\"implemented\"")
        );
        assert!(page.element(&format!("implement-{id}")).is_empty());

        // Cancelling needs a reason; the measure stays, cancelled.
        let version = page.element(&format!("cancel-{id}"));
        let version = {
            let at = version.find("name=\"version\" value=\"").unwrap() + 22;
            version[at..].split('"').next().unwrap().to_owned()
        };
        let path = format!("{BASE}/measures/{id}/cancel");
        let short = post(
            &mut cadre,
            &path,
            &[("version", &version), ("reason", "错")],
        )
        .await;
        assert_eq!(short.status, 422, "{}", short.body);
        assert!(short.element(&format!("measure-{id}")).contains("取消原因"));
        let done = post(
            &mut cadre,
            &path,
            &[
                ("version", &version),
                ("reason", "岗位未落实，改为下月重新安排"),
            ],
        )
        .await;
        assert_eq!(done.status, 303, "{}", done.body);
        let page = cadre.get(BASE).await;
        assert!(
            page.element("measures")
                .contains("data-status=\"cancelled\"")
        );
        assert!(page.element("measures").contains("岗位未落实"));

        // A household that is not monitored gets no measure.
        let mut other = server.signed_in("other_village").await;
        let refused = post(
            &mut other,
            "/households/CK0002/assistance/measures",
            &[
                ("category", "health"),
                ("content", "医疗救助"),
                ("starts_on", &today()),
                ("status", "planned"),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("不是监测对象"), "{}", refused.body);
        assert!(
            other
                .get("/households/CK0002/assistance")
                .await
                .element("not-monitored")
                .contains("不是监测对象")
        );
    }
}

#[tokio::test]
async fn officers_reveal_phones_audited_and_end_pairings() {
    for server in Server::all().await {
        let mut cadre = server.signed_in("lixin").await;
        let r = post(
            &mut cadre,
            &format!("{BASE}/pairings"),
            &[
                ("name", "刘德明"),
                ("unit", "城口县农业农村委员会"),
                ("phone", "13912345678"),
                ("starts_on", &today()),
            ],
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);

        let mut officer = server.signed_in("bashan").await;
        let en = post(&mut officer, "/lang", &[("lang", "en")]).await;
        assert_eq!(en.status, 303, "{}", en.body);
        let page = officer.get(BASE).await;
        assert!(page.body.contains("Responsible cadres"), "English page");
        assert!(!page.body.contains("13912345678"));
        let revealed = post(
            &mut officer,
            &format!("{BASE}/reveal"),
            &[("purpose", "contact")],
        )
        .await;
        assert_eq!(revealed.status, 200, "{}", revealed.body);
        assert!(revealed.element("pairings").contains("13912345678"));
        let recent = zhenxing_store::audit::recent(&server.test_db.db, 3)
            .await
            .unwrap();
        assert!(
            recent
                .iter()
                .any(|r| r.action == "personal_data.reveal" && r.actor == "bashan")
        );

        // Ending: a date in the future is refused in words; today ends it.
        let id = {
            let p = page.element("pairings");
            let at = p.find("id=\"pairing-").unwrap() + 12;
            p[at..].split('"').next().unwrap().to_owned()
        };
        let version = version_in(&page, &format!("end-{id}"));
        let path = format!("{BASE}/pairings/{id}/end");
        let tomorrow =
            (zhenxing_core::china_time::today_in_china() + time::Duration::days(1)).to_string();
        // Without the confirmation nothing ends: the box is asked for next to the pairing.
        let unconfirmed = post(
            &mut officer,
            &path,
            &[("version", &version), ("on", &today())],
        )
        .await;
        assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
        assert!(
            unconfirmed
                .element(&format!("pairing-{id}"))
                .contains("confirm the end of the pairing"),
            "{}",
            unconfirmed.element(&format!("pairing-{id}"))
        );
        let future = post(
            &mut officer,
            &path,
            &[("version", &version), ("on", &tomorrow), ("confirm", "yes")],
        )
        .await;
        assert_eq!(future.status, 422, "{}", future.body);
        assert!(
            future
                .element(&format!("pairing-{id}"))
                .contains("after today")
        );
        let done = post(
            &mut officer,
            &path,
            &[("version", &version), ("on", &today()), ("confirm", "yes")],
        )
        .await;
        assert_eq!(done.status, 303, "{}", done.body);
        let page = officer.get(BASE).await;
        assert!(page.element(&format!("end-{id}")).is_empty(), "ended");
        assert!(page.element("pairings").contains(&format!("– {}", today())));
    }
}
