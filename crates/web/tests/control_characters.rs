#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Invisible control and text-direction characters (issue 14 item 9) are refused in free text
//! at the domain boundary, on every configured database: the edit form (and with it the API,
//! which applies the same form) answers 422 naming the field, the character's position and code
//! point, and saves nothing; ordinary Chinese text is saved.

mod common;

use common::Server;

fn edit_fields<'a>(csrf: &'a str, version: &'a str, address: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("version", version),
        ("reason", "核实住址"),
        ("household_type", "lifted_out"),
        ("lifted_out_year", "2016"),
        ("category", "unstable_lifted_out"),
        ("phone", "13900230001"),
        ("address", address),
        ("wage", "14000"),
        ("business", "3200"),
        ("property", "150"),
        ("transfer", "4860.50"),
        ("business_expense", "1800"),
        ("out_of_pocket", "8650"),
        ("housing_safe", "yes"),
        ("water_safe", "yes"),
    ]
}

#[tokio::test]
async fn the_edit_form_refuses_nul_and_direction_overrides_in_the_address() {
    for server in Server::all().await {
        let mut c = server.signed_in("lixin").await;
        let form = c.get("/households/CK0001/edit").await;
        assert_eq!(form.status, 200);
        let csrf = form.hidden("csrf");
        let version = form.hidden("version");
        for (address, code) in [
            ("重庆市城口县\u{0}巴山镇", "U+0000"),
            ("重庆市城口县\u{202E}镇山巴", "U+202E"),
            ("重庆市城口县\u{2067}巴山镇", "U+2067"),
        ] {
            let r = c
                .post_form(
                    "/households/CK0001/edit",
                    &edit_fields(&csrf, &version, address),
                )
                .await;
            assert_eq!(r.status, 422, "{address:?}: {}", r.body);
            assert!(r.body.contains("住址：第7个字符"), "{}", r.body);
            assert!(r.body.contains(code), "{}", r.body);
            let (record, meta) = zhenxing_store::registry::household(&server.test_db.db, "CK0001")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                record.address.as_deref(),
                Some("重庆市城口县巴山镇立新村3组")
            );
            assert_eq!(meta.version, 1, "nothing saved");
        }
        let r = c
            .post_form(
                "/households/CK0001/edit",
                &edit_fields(&csrf, &version, "重庆市城口县巴山镇立新村４组·二号"),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let (record, _) = zhenxing_store::registry::household(&server.test_db.db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            record.address.as_deref(),
            Some("重庆市城口县巴山镇立新村４组·二号")
        );
    }
}
