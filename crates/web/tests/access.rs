#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Every household route, as every role, against a household inside and outside its division:
//! outside answers exactly like a household that does not exist; roles without the right get
//! 403; nothing is changed by a refused request.

mod common;

use common::Server;

/// What a role gets on CK0001 (village 500229102202 in 城口县).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reach {
    /// Inside its division, may read and write. (Since issue 15 no role reads the registry
    /// without writing it: the auditor reads the audit trail only.)
    Write,
    /// Outside its division.
    Outside,
    /// Its role may not read the registry at all.
    NoRegistry,
}

const ROLES: &[(&str, Reach, bool)] = &[
    // (account, reach on CK0001, may reveal full numbers)
    ("admin", Reach::Write, true),
    ("chengkou", Reach::Write, true),
    ("bashan", Reach::Write, true),
    ("lixin", Reach::Write, false),
    ("other_village", Reach::Outside, false),
    ("wuxi", Reach::Outside, true),
    // The auditor reads the audit trail only, the security administrator accounts only.
    ("auditor", Reach::NoRegistry, false),
    ("security", Reach::NoRegistry, false),
    ("department", Reach::NoRegistry, false),
];

#[tokio::test]
async fn every_route_as_every_role() {
    for server in Server::all().await {
        let missing = {
            let mut c = server.signed_in("admin").await;
            c.get("/households/NO-SUCH-HOUSEHOLD").await
        };
        assert_eq!(missing.status, 404);
        // A warning on CK0001, recorded by its village cadre.
        let warning = {
            let mut c = server.signed_in("lixin").await;
            let csrf = c.csrf().await;
            let today = zhenxing_core::china_time::today_in_china().to_string();
            let r = c
                .post_form(
                    "/households/CK0001/report",
                    &[
                        ("csrf", &csrf),
                        ("channel", "visit"),
                        ("on", &today),
                        ("risk", "illness"),
                        ("note", "户主住院两周"),
                    ],
                )
                .await;
            assert_eq!(r.status, 303, "{}", r.body);
            r.header("location").unwrap().to_owned()
        };
        // A visit to CK0001 (issue 19), recorded by its village cadre: no change.
        let visit = {
            let db = &server.test_db.db;
            let lixin = db.account_by_name("lixin").await.unwrap().unwrap();
            let v = zhenxing_store::visits::NewVisit {
                key: "access-matrix-visit-0001".into(),
                household_no: "CK0001".into(),
                visited_on: zhenxing_core::china_time::today_in_china(),
                form_version: zhenxing_core::visit::FORM_VERSION,
                no_change: true,
                food_clothing: true,
                changes: Vec::new(),
                risks: Vec::new(),
                declared: false,
                note: String::new(),
                photo: None,
                signature: None,
            };
            let none = |_: &zhenxing_store::HouseholdRecord,
                        _: &zhenxing_store::HouseholdRecord| {
                zhenxing_store::visits::Screened::default()
            };
            let r = zhenxing_store::visits::record(db, &lixin, &v, &none, &Default::default())
                .await
                .unwrap()
                .unwrap();
            format!("/visits/record/{}/{}", r.county_code, r.id)
        };
        for (name, reach, may_reveal) in ROLES {
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/login").await; // signed in: redirected, no form
            assert_eq!(csrf.status, 303, "{name}");
            let csrf = if *reach == Reach::NoRegistry {
                // No household list for this role; the token is on any page's sign-out form.
                c.get("/nowhere").await.hidden("csrf")
            } else {
                c.csrf().await
            };
            let read_status = match reach {
                Reach::Write => 200,
                Reach::Outside => 404,
                Reach::NoRegistry => 403,
            };
            for path in [
                "/households/CK0001",
                "/divisions/500229102202",
                "/households?division=500229102202",
            ] {
                let r = c.get(path).await;
                assert_eq!(r.status, read_status, "{name} GET {path}");
                if *reach == Reach::Outside {
                    assert!(!r.body.contains("王建国"), "{name} sees nothing of CK0001");
                }
            }
            if *reach == Reach::Outside {
                // Outside reads exactly like a household that does not exist.
                let r = c.get("/households/CK0001").await;
                let strip = |s: &str| s.replace(name, "").replace(&csrf, "");
                let nonexistent = c.get("/households/NO-SUCH-HOUSEHOLD").await;
                assert_eq!(strip(&r.body), strip(&nonexistent.body), "{name}");
            }
            // Search by the head's name only finds what is in scope.
            if *reach != Reach::NoRegistry {
                let r = c.get("/households?q=%E7%8E%8B%E5%BB%BA%E5%9B%BD").await;
                assert_eq!(r.status, 200, "{name}");
                assert_eq!(
                    r.body.contains("/households/CK0001"),
                    *reach != Reach::Outside,
                    "{name} search"
                );
            }

            let write_status = match reach {
                Reach::Write => 422,
                Reach::NoRegistry => 403,
                Reach::Outside => 404,
            };
            let edit_form = c.get("/households/CK0001/edit").await;
            assert_eq!(
                edit_form.status,
                if write_status == 422 {
                    200
                } else {
                    write_status
                },
                "{name} GET edit"
            );
            // A write without a reason: refused on its merits inside, by access outside.
            let r = c
                .post_form(
                    "/households/CK0001/edit",
                    &[
                        ("csrf", &csrf),
                        ("version", "1"),
                        ("reason", ""),
                        ("household_type", "lifted_out"),
                        ("lifted_out_year", "2016"),
                        ("category", ""),
                        ("phone", ""),
                        ("address", ""),
                        ("wage", "1"),
                        ("business", "0"),
                        ("property", "0"),
                        ("transfer", "0"),
                        ("business_expense", "0"),
                        ("out_of_pocket", "0"),
                        ("housing_safe", ""),
                        ("water_safe", ""),
                    ],
                )
                .await;
            assert_eq!(r.status, write_status, "{name} POST edit: {}", r.body);
            let member_status = if write_status == 422 {
                400
            } else {
                write_status
            };
            let r = c
                .post_form(
                    "/households/CK0001/members/0/remove",
                    &[("csrf", &csrf), ("version", "1"), ("reason", "")],
                )
                .await;
            assert_eq!(r.status, member_status, "{name} POST remove");
            let r = c
                .post_form(
                    "/households/CK0001/members",
                    &[
                        ("csrf", &csrf),
                        ("version", "1"),
                        ("reason", ""),
                        ("name", "x"),
                        ("id_number", "x"),
                        ("relation", "x"),
                        ("labor", "x"),
                        ("health", "x"),
                    ],
                )
                .await;
            assert_eq!(r.status, member_status, "{name} POST add member");

            let reveal_status = match (reach, may_reveal) {
                (_, false) => 403,
                (Reach::Outside, true) => 404,
                _ => 200,
            };
            let r = c
                .post_form(
                    "/households/CK0001/reveal",
                    &[("csrf", &csrf), ("purpose", "contact")],
                )
                .await;
            assert_eq!(r.status, reveal_status, "{name} reveal");
            if reveal_status == 200 {
                assert!(
                    r.body.contains("500229198203150139"),
                    "{name}: full ID shown"
                );
            }

            // The warnings inbox and a warning on CK0001: read where the household is read;
            // a step without its note or a report without content is refused on its merits
            // inside, by access elsewhere.
            let inbox = c.get("/warnings").await;
            let inbox_status = if *reach == Reach::NoRegistry {
                403
            } else {
                200
            };
            assert_eq!(inbox.status, inbox_status, "{name} GET /warnings");
            assert_eq!(
                inbox.body.contains(&format!("href=\"{warning}\"")),
                *reach == Reach::Write,
                "{name} inbox lists the warning"
            );
            let r = c.get(&warning).await;
            assert_eq!(r.status, read_status, "{name} GET {warning}");
            for step in ["assign", "verify", "dismiss"] {
                let r = c
                    .post_form(
                        &format!("{warning}/{step}"),
                        &[("csrf", &csrf), ("version", "1"), ("note", "")],
                    )
                    .await;
                let expected = match (reach, step) {
                    (Reach::Write, "assign") => 400, // no deadline given
                    (Reach::Write, _) => 422,
                    _ => write_status,
                };
                assert_eq!(r.status, expected, "{name} POST {step}: {}", r.body);
            }
            let report_form = c.get("/households/CK0001/report").await;
            assert_eq!(
                report_form.status,
                if write_status == 422 {
                    200
                } else {
                    write_status
                },
                "{name} GET report"
            );
            let r = c
                .post_form(
                    "/households/CK0001/report",
                    &[("csrf", &csrf), ("channel", "visit"), ("note", "")],
                )
                .await;
            assert_eq!(r.status, write_status, "{name} POST report");

            // The visits (issue 19): the form and its post where the household is written (an
            // empty post refused on its merits inside, by access elsewhere); the round and the
            // conflicts of one's own area; a visit, its files and a decision where it is read.
            let r = c.get("/visits/CK0001").await;
            assert_eq!(
                r.status,
                if write_status == 422 {
                    200
                } else {
                    write_status
                },
                "{name} GET visit form"
            );
            let r = c.post_form("/visits/CK0001", &[("csrf", &csrf)]).await;
            assert_eq!(r.status, write_status, "{name} POST visit: {}", r.body);
            let own_area = if *reach == Reach::NoRegistry {
                403
            } else {
                200
            };
            for path in ["/visits", "/visits/conflicts"] {
                assert_eq!(c.get(path).await.status, own_area, "{name} GET {path}");
            }
            // The round's export: officers who export, for their own area.
            let exports = matches!(*name, "admin" | "chengkou" | "bashan" | "wuxi");
            for path in ["/visits.xlsx", "/visits.csv?show=overdue"] {
                let r = c.get(path).await;
                assert_eq!(
                    r.status,
                    if exports { 200 } else { 403 },
                    "{name} GET {path}"
                );
            }
            let r = c.get(&visit).await;
            assert_eq!(r.status, read_status, "{name} GET {visit}");
            let r = c.get(&format!("{visit}/file/photo")).await;
            let file_status = if *reach == Reach::NoRegistry {
                403
            } else {
                404
            };
            assert_eq!(
                r.status, file_status,
                "{name} GET the visit's photo (it has none)"
            );
            let r = c
                .post_form(
                    &format!("{visit}/decide"),
                    &[("csrf", &csrf), ("choice", "office")],
                )
                .await;
            let decide_status = match reach {
                Reach::Write => 409, // not in conflict
                Reach::Outside => 404,
                Reach::NoRegistry => 403,
            };
            assert_eq!(r.status, decide_status, "{name} POST decide: {}", r.body);

            // Without the CSRF token every form is refused, whoever asks.
            let r = c
                .post_form("/households/CK0001/reveal", &[("csrf", "forged")])
                .await;
            assert_eq!(r.status, 403, "{name} forged CSRF");
        }
        // Nothing above changed the household.
        let db = &server.test_db.db;
        let (record, meta) = zhenxing_store::registry::household(db, "CK0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(meta.version, 1);
        assert_eq!(record.members.len(), 4);
    }
}

#[tokio::test]
async fn masked_by_default_everywhere() {
    for server in Server::all().await {
        let mut c = server.signed_in("chengkou").await;
        let page = c.get("/households/CK0001").await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("500229198203150139"), "ID masked");
        assert!(page.body.contains("500229********0139"));
        assert!(!page.body.contains("13900230001"), "phone masked");
        assert!(page.body.contains("139****0001"));
        // The reveal is audited.
        let csrf = c.csrf().await;
        let r = c
            .post_form(
                "/households/CK0001/reveal",
                &[("csrf", &csrf), ("purpose", "contact")],
            )
            .await;
        assert_eq!(r.status, 200);
        let recent = zhenxing_store::audit::recent(&server.test_db.db, 5)
            .await
            .unwrap();
        assert!(
            recent
                .iter()
                .any(|r| r.action == "personal_data.reveal" && r.actor == "chengkou")
        );
    }
}

/// 我的待办 as every role: every staff role that works lists has it (and it is where `/`
/// sends it); the auditor, who reads only the audit trail, does not; anonymous visitors are
/// sent to sign in.
#[tokio::test]
async fn the_task_list_as_every_role() {
    const EXPECTED: &[(&str, u16, &str)] = &[
        ("admin", 200, "/tasks"),
        ("security", 200, "/tasks"),
        ("chengkou", 200, "/tasks"),
        ("bashan", 200, "/tasks"),
        ("lixin", 200, "/tasks"),
        ("other_village", 200, "/tasks"),
        ("wuxi", 200, "/tasks"),
        ("auditor", 403, "/audit"),
        ("department", 200, "/tasks"),
    ];
    for server in Server::all().await {
        for (name, status, home) in EXPECTED {
            let mut c = server.signed_in(name).await;
            assert_eq!(c.get("/tasks").await.status, *status, "{name} /tasks");
            assert_eq!(c.get("/").await.header("location"), Some(*home), "{name} /");
        }
        let r = server.client().get("/tasks").await;
        assert_eq!(r.header("location"), Some("/login"), "anonymous /tasks");
    }
}

/// A batch assignment as every role: the roles that assign get an answer on the merits (422:
/// nothing selected), the others 403, whatever they send.
#[tokio::test]
async fn batch_assignment_as_every_role() {
    const EXPECTED: &[(&str, u16)] = &[
        ("admin", 422),
        ("security", 403),
        ("chengkou", 422),
        ("bashan", 422),
        ("lixin", 403),
        ("other_village", 403),
        ("wuxi", 422),
        ("auditor", 403),
        ("department", 403),
    ];
    let deadline =
        (zhenxing_core::china_time::today_in_china() + time::Duration::days(7)).to_string();
    for server in Server::all().await {
        for (name, status) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/nowhere").await.hidden("csrf");
            let r = c
                .post_form(
                    "/warnings/assign",
                    &[
                        ("csrf", &csrf),
                        ("which", "selected"),
                        ("deadline", &deadline),
                    ],
                )
                .await;
            assert_eq!(r.status, *status, "{name}: {}", r.body);
        }
        let r = server
            .client()
            .post_form("/warnings/assign", &[("which", "shown")])
            .await;
        assert_eq!(r.header("location"), Some("/login"), "anonymous");
    }
}

/// Every working list's export (issue 18 item 3) as every role: the list's own permission and
/// the export permission decide (403), a bad filter is refused on its merits (400) where the
/// export is allowed, a division outside the scope does not exist (404); anonymous visitors
/// are sent to sign in.
#[tokio::test]
async fn every_list_export_as_every_role() {
    // (account, households, cases, coverage, tickets, accounts)
    type Row = (&'static str, u16, u16, u16, u16, u16);
    const EXPECTED: &[Row] = &[
        ("admin", 200, 200, 200, 403, 403),
        ("security", 403, 403, 403, 403, 200),
        ("chengkou", 200, 200, 200, 200, 403),
        ("bashan", 200, 200, 200, 200, 403),
        ("lixin", 403, 403, 403, 403, 403),
        ("other_village", 403, 403, 403, 403, 403),
        ("wuxi", 200, 200, 200, 200, 403),
        ("auditor", 403, 403, 403, 403, 403),
        ("department", 403, 403, 403, 403, 403),
    ];
    let refused = |allowed: u16, when_allowed: u16| {
        if allowed == 200 {
            when_allowed
        } else {
            allowed
        }
    };
    for server in Server::all().await {
        for (name, households, cases, coverage, tickets, accounts) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let got = [
                c.get("/households.xlsx").await.status,
                c.get("/households.csv?category=unstable_lifted_out")
                    .await
                    .status,
                c.get("/households.xlsx?type=nonsense").await.status,
                c.get("/cases.xlsx?filter=closed").await.status,
                c.get("/cases.csv?kind=identification").await.status,
                c.get("/cases.xlsx?filter=nonsense").await.status,
                c.get("/coverage.xlsx").await.status,
                c.get("/coverage.csv").await.status,
                c.get("/coverage.xlsx?division=500238000000").await.status,
                c.get("/tickets.xlsx?status=all").await.status,
                c.get("/tickets.csv").await.status,
                c.get("/tickets.xlsx?status=nonsense").await.status,
                c.get("/accounts.xlsx").await.status,
                c.get("/accounts.csv").await.status,
            ];
            // Wuxi's own county is the one division of the list that is in its scope.
            let other_county = if *name == "wuxi" || *name == "admin" {
                200
            } else {
                404
            };
            let want = [
                *households,
                *households,
                refused(*households, 400),
                *cases,
                *cases,
                refused(*cases, 400),
                *coverage,
                *coverage,
                refused(*coverage, other_county),
                *tickets,
                *tickets,
                refused(*tickets, 400),
                *accounts,
                *accounts,
            ];
            assert_eq!(
                got, want,
                "{name}: /households.xlsx, .csv, a bad filter; /cases.xlsx, .csv, a bad filter; /coverage.xlsx, .csv, another county; /tickets.xlsx, .csv, a bad filter; /accounts.xlsx, .csv"
            );
        }
        let mut anonymous = server.client();
        for list in ["households", "cases", "coverage", "tickets", "accounts"] {
            for ext in ["xlsx", "csv"] {
                let path = format!("/{list}.{ext}");
                let r = anonymous.get(&path).await;
                assert_eq!(r.header("location"), Some("/login"), "anonymous {path}");
            }
        }
    }
}

/// The other routes (audit trail, accounts and the security policy, import, export, the API,
/// divisions above the account's own) as every role: the role decides (403), the scope decides
/// (404), nothing else. The three administrators are separate (issue 15): the system
/// administrator (`admin`) has neither the audit trail nor the accounts, the security
/// administrator only the accounts and the policy, the auditor only the audit trail.
#[tokio::test]
async fn every_other_route_as_every_role() {
    // (account, audit, accounts and policy, import, export of village 500229102202, API on CK0001,
    // the municipality's page, the warnings inbox's export)
    type Row = (&'static str, u16, u16, u16, u16, u16, u16, u16);
    const EXPECTED: &[Row] = &[
        ("admin", 403, 403, 200, 200, 200, 200, 200),
        ("security", 403, 200, 403, 403, 403, 403, 403),
        ("chengkou", 403, 403, 200, 200, 200, 404, 200),
        ("bashan", 403, 403, 200, 200, 200, 404, 200),
        ("lixin", 403, 403, 200, 403, 200, 404, 403),
        ("other_village", 403, 403, 200, 403, 404, 404, 403),
        ("wuxi", 403, 403, 200, 404, 404, 404, 200),
        ("auditor", 200, 403, 403, 403, 403, 403, 403),
        ("department", 403, 403, 403, 403, 403, 403, 403),
    ];
    for server in Server::all().await {
        let policy_before = server.test_db.db.security_policy().await.unwrap();
        for (name, audit, accounts, import, export, api, municipality, warnings_export) in EXPECTED
        {
            let mut c = server.signed_in(name).await;
            let got = [
                c.get("/audit").await.status,
                c.get("/audit/1").await.status,
                c.get("/audit.xlsx").await.status,
                c.get("/audit.csv?actor=admin").await.status,
                c.get("/accounts").await.status,
                c.get("/security/policy").await.status,
                c.get("/import").await.status,
                c.get("/export?division=500229102202").await.status,
                c.get("/api/v1/households/CK0001").await.status,
                c.get("/api/v1/divisions/500229102202").await.status,
                c.get("/divisions/500000000000").await.status,
                c.get("/warnings.xlsx?status=all").await.status,
                c.get("/warnings.csv?kind=lead").await.status,
                c.get("/warnings.xlsx?status=nonsense").await.status,
            ];
            let want = [
                *audit,
                *audit,
                *audit,
                *audit,
                *accounts,
                *accounts,
                *import,
                *export,
                *api,
                *api,
                *municipality,
                *warnings_export,
                *warnings_export,
                // A bad filter is refused on its merits where the export is allowed.
                if *warnings_export == 200 {
                    400
                } else {
                    *warnings_export
                },
            ];
            assert_eq!(
                got, want,
                "{name}: /audit, /audit/1, /audit.xlsx, /audit.csv, /accounts, /security/policy, /import, /export, API household, API division, municipality, /warnings.xlsx, /warnings.csv, a bad filter"
            );
            // The site's icon and the offline parts of the visits (issue 19): the same for
            // everyone, personal data in none of them.
            for path in [
                "/favicon.ico",
                "/sw.js",
                "/manifest.webmanifest",
                "/static/visit.js",
            ] {
                assert_eq!(c.get(path).await.status, 200, "{name} {path}");
            }
            // Account changes: only the administrator; an unknown name is "not found" to it.
            let csrf = c.get("/nowhere").await.hidden("csrf");
            let r = c
                .post_form("/accounts/disable", &[("csrf", &csrf), ("name", "nobody")])
                .await;
            let manager = *name == "security";
            assert_eq!(r.status, if manager { 404 } else { 403 }, "{name} disable");
            let r = c
                .post_form(
                    "/accounts/factor-reset",
                    &[("csrf", &csrf), ("name", "nobody"), ("reason", "test")],
                )
                .await;
            assert_eq!(r.status, if manager { 404 } else { 403 }, "{name} factor");
            // Many accounts at once, a holder's profile, an account list: the administrator's
            // only; nobody else learns anything (an unknown name is refused on its merits).
            let r = c
                .post_form(
                    "/accounts/bulk",
                    &[("csrf", &csrf), ("action", "enable"), ("names", "nobody")],
                )
                .await;
            assert_eq!(r.status, if manager { 422 } else { 403 }, "{name} bulk");
            let r = c
                .post_form(
                    "/accounts/profile",
                    &[("csrf", &csrf), ("name", "nobody"), ("version", "1")],
                )
                .await;
            assert_eq!(r.status, if manager { 404 } else { 403 }, "{name} profile");
            let r = c
                .post_multipart(
                    "/accounts/import",
                    &[("csrf", &csrf)],
                    Some(("file", "a.csv", "账号,姓名,角色,区划\n".as_bytes())),
                )
                .await;
            assert_eq!(r.status, if manager { 422 } else { 403 }, "{name} import");
            // A policy that does not pass: refused on its merits (422) to the security
            // administrator, by role (403) to everyone else; nothing changes either way.
            let r = c
                .post_form(
                    "/security/policy",
                    &[("csrf", &csrf), ("min_length", "4"), ("min_classes", "3")],
                )
                .await;
            assert_eq!(r.status, if manager { 422 } else { 403 }, "{name} policy");
            // The three administrators' passwords and factors: nobody's to set on the web
            // (the operator does it with `zhenxing user`), refused before anything is generated.
            for admin in ["auditor", "admin", "security"] {
                let r = c
                    .post_form("/accounts/password", &[("csrf", &csrf), ("name", admin)])
                    .await;
                assert_eq!(r.status, 403, "{name} reset {admin}'s password");
                let r = c
                    .post_form(
                        "/accounts/factor-reset",
                        &[("csrf", &csrf), ("name", admin), ("reason", "test")],
                    )
                    .await;
                assert_eq!(r.status, 403, "{name} reset {admin}'s factor");
            }
            // One's own second factor: every account has the enrolment page; a wrong code is
            // refused on its merits and changes nothing.
            assert_eq!(c.get("/account/factor").await.status, 200, "{name}");
            let r = c
                .post_form("/account/factor", &[("csrf", &csrf), ("code", "12345")])
                .await;
            assert_eq!(r.status, 422, "{name} POST /account/factor");
            // Signed in, the code form of the sign-in sends home.
            assert_eq!(c.get("/login/code").await.status, 303, "{name} /login/code");
            // One's own password: every account has the page; a wrong current password is
            // refused on its merits.
            assert_eq!(c.get("/account/password").await.status, 200, "{name}");
            let r = c
                .post_form(
                    "/account/password",
                    &[
                        ("csrf", &csrf),
                        ("current", "not-the-password"),
                        ("new", "Brand-new-2027"),
                        ("repeat", "Brand-new-2027"),
                    ],
                )
                .await;
            assert_eq!(r.status, 422, "{name} POST /account/password");
        }
        let mut anonymous = server.client();
        let r = anonymous.get("/account/password").await;
        assert_eq!(r.header("location"), Some("/login"));
        for path in [
            "/account/factor",
            "/security/policy",
            "/login/code",
            "/audit.xlsx",
            "/audit.csv",
            "/warnings.xlsx",
            "/warnings.csv",
        ] {
            let r = anonymous.get(path).await;
            assert_eq!(r.header("location"), Some("/login"), "anonymous {path}");
        }
        assert_eq!(
            server.test_db.db.security_policy().await.unwrap(),
            policy_before,
            "no refused request changed the policy"
        );
        for admin in ["admin", "auditor", "security"] {
            let account = server.test_db.db.account_by_name(admin).await.unwrap();
            assert!(account.unwrap().factor_enrolled, "{admin} keeps its factor");
        }
        // Nobody was disabled, nothing was exported twice by mistake: the chain is whole.
        assert!(
            zhenxing_store::audit::verify(&server.test_db.db)
                .await
                .unwrap()
                .problems
                .is_empty()
        );
    }
}

/// The monitoring routes as every role: the role decides (403), the scope decides (404), and
/// nothing refused changes anything.
#[tokio::test]
async fn every_monitoring_route_as_every_role() {
    // (account, overview and rule sets, new version, re-screen, what-if, what-if in 城口县's village)
    const EXPECTED: &[(&str, u16, u16, u16, u16, u16)] = &[
        ("admin", 200, 200, 422, 200, 200),
        ("chengkou", 200, 403, 422, 200, 200),
        ("bashan", 200, 403, 403, 200, 200),
        ("lixin", 403, 403, 403, 403, 403),
        ("other_village", 403, 403, 403, 403, 403),
        ("wuxi", 200, 403, 422, 200, 404),
        ("auditor", 403, 403, 403, 403, 403),
        ("security", 403, 403, 403, 403, 403),
        ("department", 403, 403, 403, 403, 403),
    ];
    for server in Server::all().await {
        let db = &server.test_db.db;
        for (name, read, manage, run, whatif, village) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/nowhere").await.hidden("csrf");
            let got = [
                c.get("/monitoring").await.status,
                c.get("/monitoring/rules").await.status,
                c.get("/monitoring/rules/1").await.status,
                c.get("/monitoring/rules/new").await.status,
                c.get("/monitoring/rules/new?from=1").await.status,
                c.get("/monitoring/whatif").await.status,
                c.get("/monitoring/whatif?threshold=8000&division=500229102202")
                    .await
                    .status,
            ];
            let want = [*read, *read, *read, *manage, *manage, *whatif, *village];
            assert_eq!(
                got, want,
                "{name}: /monitoring, rules, rules/1, rules/new, rules/new?from=1, whatif, whatif in a village"
            );
            let before = zhenxing_store::monitoring::rule_sets(db)
                .await
                .unwrap()
                .len();
            // A new version with nothing filled in: refused on its merits (422) to the
            // administrator, by role (403) to everyone else.
            let manage_post = if *manage == 200 { 422 } else { 403 };
            let r = c
                .post_form("/monitoring/rules/new", &[("csrf", &csrf)])
                .await;
            assert_eq!(r.status, manage_post, "{name} POST rules/new");
            let r = c
                .post_multipart(
                    "/monitoring/rules/upload",
                    &[("csrf", &csrf)],
                    Some(("file", "empty.json", b"")),
                )
                .await;
            assert_eq!(r.status, manage_post, "{name} POST rules/upload");
            assert_eq!(
                zhenxing_store::monitoring::rule_sets(db)
                    .await
                    .unwrap()
                    .len(),
                before,
                "{name}: nothing saved"
            );
            // A re-screen of a division that is not a code: refused on its merits to those
            // who may re-screen, by role to the others; no run starts.
            let r = c
                .post_form("/monitoring/run", &[("csrf", &csrf), ("division", "x")])
                .await;
            assert_eq!(r.status, *run, "{name} POST run");
            // Without the CSRF token, whoever asks.
            let r = c.post_form("/monitoring/run", &[("csrf", "forged")]).await;
            assert_eq!(r.status, 403, "{name} forged CSRF");
        }
        assert!(
            zhenxing_store::monitoring::warnings(db, None, false)
                .await
                .unwrap()
                .is_empty(),
            "no run was started"
        );
    }
}

/// The department data routes as every role: the page, one upload's result, the upload itself
/// (without a file: refused on its merits by those who may, by role by the others), and the
/// API's list and upload. Only department officers and the municipal administrator get in.
#[tokio::test]
async fn department_routes_as_every_role() {
    for server in Server::all().await {
        // An upload by the department officer, so that its result page exists.
        let mut api = server.api_client("department").await;
        let file = b"\xe8\xaf\x81\xe4\xbb\xb6\xe5\x8f\xb7\xe7\xa0\x81,\xe5\xa4\xb1\xe4\xb8\x9a\xe7\x99\xbb\xe8\xae\xb0\xe6\x97\xa5\xe6\x9c\x9f\n500229199006300841,2025-12-01\n";
        let r = api
            .request(
                "POST",
                "/api/v1/department-uploads?kind=unemployment",
                Some("text/csv"),
                file,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        for (name, _, _) in ROLES {
            let allowed = matches!(*name, "admin" | "department");
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/nowhere").await.hidden("csrf");
            let ok = |status: u16| if allowed { status } else { 403 };
            assert_eq!(c.get("/department").await.status, ok(200), "{name} GET");
            assert_eq!(
                c.get("/department/uploads/1").await.status,
                ok(200),
                "{name} result"
            );
            let r = c
                .post_multipart("/department", &[("csrf", &csrf), ("kind", "medical")], None)
                .await;
            assert_eq!(r.status, ok(422), "{name} POST");
            assert_eq!(
                c.get("/api/v1/department-uploads").await.status,
                ok(200),
                "{name} API list"
            );
            let mut token = server.api_client(name).await;
            let r = token
                .request(
                    "POST",
                    "/api/v1/department-uploads?kind=unemployment",
                    Some("text/csv"),
                    b"",
                )
                .await;
            assert_eq!(
                r.status,
                if allowed { 400 } else { 403 },
                "{name} API upload"
            );
        }
        // Nothing but the first upload was written.
        assert_eq!(
            zhenxing_store::department::uploads(&server.test_db.db, None, 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

/// Assistance and coverage (issue 5 items 3 and 4) as every role: reading needs `ReadCases`,
/// writing `ManageAssistance` (403 whatever the record), both inside the division (404
/// outside); a change made from an old page is refused (409); nothing is changed by a refused
/// request.
#[tokio::test]
async fn assistance_and_coverage_routes_as_every_role() {
    // (account, GET assistance, POST new pairing or measure (empty), POST change of an old
    // version, reveal phones, coverage of the village, own coverage)
    const EXPECTED: &[(&str, u16, u16, u16, u16, u16, u16)] = &[
        ("admin", 200, 403, 403, 200, 200, 200),
        ("chengkou", 200, 422, 409, 200, 200, 200),
        ("bashan", 200, 422, 409, 200, 200, 200),
        ("lixin", 200, 422, 409, 403, 200, 200),
        ("other_village", 404, 404, 404, 403, 404, 200),
        ("wuxi", 404, 404, 404, 404, 404, 200),
        ("auditor", 403, 403, 403, 403, 403, 403),
        ("security", 403, 403, 403, 403, 403, 403),
        ("department", 403, 403, 403, 403, 403, 403),
    ];
    for server in Server::all().await {
        // A pairing and a planned measure on CK0001, by its village cadre.
        let (pairing, measure) = {
            let mut c = server.signed_in("lixin").await;
            let csrf = c.csrf().await;
            let today = zhenxing_core::china_time::today_in_china().to_string();
            let base = "/households/CK0001/assistance";
            let r = c
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
            let r = c
                .post_form(
                    &format!("{base}/measures"),
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
            let a = zhenxing_store::assistance::household_assistance(
                &server.test_db.db,
                &zhenxing_core::Scope::new(
                    zhenxing_core::DivisionCode::parse("500000000000").unwrap(),
                ),
                "CK0001",
            )
            .await
            .unwrap()
            .unwrap();
            (a.pairings[0].id, a.measures[0].id)
        };
        let base = "/households/CK0001/assistance";
        for (name, read, add, change, reveal, village, own) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/nowhere").await.hidden("csrf");
            let today = zhenxing_core::china_time::today_in_china().to_string();
            let got = [
                c.get(base).await.status,
                c.post_form(&format!("{base}/pairings"), &[("csrf", &csrf)])
                    .await
                    .status,
                c.post_form(&format!("{base}/measures"), &[("csrf", &csrf)])
                    .await
                    .status,
                c.post_form(
                    &format!("{base}/pairings/{pairing}/end"),
                    &[
                        ("csrf", &csrf),
                        ("version", "99"),
                        ("on", &today),
                        ("confirm", "yes"),
                    ],
                )
                .await
                .status,
                c.post_form(
                    &format!("{base}/measures/{measure}/implement"),
                    &[("csrf", &csrf), ("version", "99"), ("on", &today)],
                )
                .await
                .status,
                c.post_form(
                    &format!("{base}/measures/{measure}/cancel"),
                    &[
                        ("csrf", &csrf),
                        ("version", "99"),
                        ("reason", "重复录入的措施"),
                    ],
                )
                .await
                .status,
                c.post_form(
                    &format!("{base}/reveal"),
                    &[("csrf", &csrf), ("purpose", "contact")],
                )
                .await
                .status,
                c.get("/coverage?division=500229102202").await.status,
                c.get("/coverage").await.status,
                c.post_form(&format!("{base}/pairings"), &[("csrf", "forged")])
                    .await
                    .status,
            ];
            let want = [
                *read, *add, *add, *change, *change, *change, *reveal, *village, *own, 403,
            ];
            assert_eq!(
                got, want,
                "{name}: GET, add pairing, add measure, end, implement, cancel, reveal, coverage of the village, own coverage, forged CSRF"
            );
        }
        // Nothing above changed the pairing or the measure.
        let a = zhenxing_store::assistance::household_assistance(
            &server.test_db.db,
            &zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse("500000000000").unwrap()),
            "CK0001",
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            (a.pairings.len(), a.pairings[0].row_version),
            (1, 1),
            "pairing untouched"
        );
        assert_eq!(
            (
                a.measures.len(),
                a.measures[0].row_version,
                a.measures[0].status.as_str()
            ),
            (1, 1, "planned"),
            "measure untouched"
        );
    }
}

/// The procedures' routes (issue 5 items 1, 2, 5, 6) as every role: reading needs `ReadCases`,
/// steps and opening `WorkCases` (the administrator, the auditor and department officers take
/// no step: 403), both inside the division (404 outside); a step from an old page is refused
/// (409); the settings are the administrator's; the public notice needs no account.
#[tokio::test]
async fn case_routes_as_every_role() {
    // (account, inbox, case page, stale step, open form, open empty, attachment, timeline,
    // settings page, settings empty, notification of another division, the national upload
    // file of its own division, of the case's village, with a malformed month)
    #[rustfmt::skip]
    const EXPECTED: &[(&str, [u16; 13])] = &[
        ("admin",         [200, 200, 403, 403, 403, 200, 200, 200, 422, 404, 200, 200, 400]),
        ("chengkou",      [200, 200, 409, 200, 422, 200, 200, 403, 403, 404, 200, 200, 400]),
        ("bashan",        [200, 200, 409, 200, 422, 200, 200, 403, 403, 404, 200, 200, 400]),
        ("lixin",         [200, 200, 409, 200, 422, 200, 200, 403, 403, 404, 403, 403, 403]),
        ("other_village", [200, 404, 404, 404, 404, 404, 404, 403, 403, 404, 403, 403, 403]),
        ("wuxi",          [200, 404, 404, 404, 404, 404, 404, 403, 403, 404, 200, 404, 400]),
        ("auditor",       [403; 13]),
        ("security",      [403; 13]),
        ("department",    [403; 13]),
    ];
    const NO: &str = "CK-A1";
    for server in Server::all().await {
        zhenxing_store::testing::write_test_households(
            &server.test_db.db,
            vec![zhenxing_store::testing::test_household(
                NO,
                "500229102202",
                &zhenxing_store::testing::test_id_number(40),
                5_000,
            )],
        )
        .await;
        // A case on the household, with a photo, by its village cadre.
        let case = {
            let mut c = server.signed_in("lixin").await;
            let csrf = c.csrf().await;
            let today = zhenxing_core::china_time::today_in_china().to_string();
            let r = c
                .post_form(
                    &format!("/households/{NO}/cases/new"),
                    &[
                        ("csrf", &csrf),
                        ("kind", "identification"),
                        ("channel", "visit"),
                        ("found_on", &today),
                    ],
                )
                .await;
            assert_eq!(r.status, 303, "{}", r.body);
            let case = r.header("location").unwrap().to_owned();
            let photo = [&[0xFFu8, 0xD8, 0xFF, 0xE0][..], b"photo"].concat();
            let r = c
                .post_multipart(
                    &format!("{case}/attachments"),
                    &[("csrf", &csrf)],
                    Some(("file", "photo.jpg", &photo)),
                )
                .await;
            assert_eq!(r.status, 303, "{}", r.body);
            case
        };
        for (name, want) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/nowhere").await.hidden("csrf");
            let got = [
                c.get("/cases").await.status,
                c.get(&case).await.status,
                c.post_form(
                    &format!("{case}/steps/comment"),
                    &[("csrf", &csrf), ("version", "99"), ("note", "补充说明情况")],
                )
                .await
                .status,
                c.get(&format!("/households/{NO}/cases/new")).await.status,
                c.post_form(&format!("/households/{NO}/cases/new"), &[("csrf", &csrf)])
                    .await
                    .status,
                c.get(&format!("{case}/attachments/1")).await.status,
                c.get(&format!("/households/{NO}/timeline")).await.status,
                c.get("/settings/procedures").await.status,
                c.post_form("/settings/procedures", &[("csrf", &csrf)])
                    .await
                    .status,
                c.post_form("/cases/notifications/999/read", &[("csrf", &csrf)])
                    .await
                    .status,
                c.get("/cases/national").await.status,
                c.get("/cases/national?division=500229102202&month=2026-01")
                    .await
                    .status,
                c.get("/cases/national?month=2026-13").await.status,
            ];
            assert_eq!(
                &got, want,
                "{name}: inbox, case, stale step, open form, open empty, attachment, timeline, settings, settings empty, notification, national file, of the village, bad month"
            );
            // A forged form token is refused before anything else.
            let forged = c
                .post_form(
                    &format!("{case}/steps/comment"),
                    &[("csrf", "forged"), ("version", "1"), ("note", "伪造的请求")],
                )
                .await;
            assert_eq!(forged.status, 403, "{name}: forged CSRF");
            // The public notice needs nothing.
            assert_eq!(c.get("/notices/500229102202").await.status, 200);
        }
        let anonymous = server.get("/notices/500229102202").await;
        assert_eq!(anonymous.status, 200);
        assert_ne!(server.get("/cases").await.status, 200);
        assert_ne!(server.get(&case).await.status, 200);
        assert_eq!(
            server.get("/notices/500229000000").await.status,
            404,
            "a county is not a village"
        );
        // Nothing above moved the case: one step (the lead), version 1.
        let id: i64 = case.trim_start_matches("/cases/").parse().unwrap();
        let scope =
            zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse("500000000000").unwrap());
        let detail = zhenxing_store::procedures::case(&server.test_db.db, &scope, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((detail.steps.len(), detail.case.row_version), (1, 1));
    }
}

/// The statistics and report routes as every role: reading needs the registry (403 for the
/// department officer); a division outside the account's scope answers 404 (a township
/// officer cannot see another county's dashboard, nor its own county's); anonymous visitors
/// are sent to sign in.
#[tokio::test]
async fn statistics_and_report_routes_as_every_role() {
    // (account, [own dashboard redirect, 城口县, 巫溪县, 立新村, map, method, report list,
    // the township report, its CSV, the municipality's measures workbook, 立新村's report])
    #[rustfmt::skip]
    const EXPECTED: &[(&str, [u16; 11])] = &[
        ("admin",         [303, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("chengkou",      [303, 200, 404, 200, 200, 200, 200, 200, 200, 404, 200]),
        ("bashan",        [303, 404, 404, 200, 200, 200, 200, 200, 200, 404, 200]),
        ("lixin",         [303, 404, 404, 200, 200, 200, 200, 404, 404, 404, 200]),
        ("other_village", [303, 404, 404, 404, 200, 200, 200, 404, 404, 404, 404]),
        ("wuxi",          [303, 404, 200, 404, 200, 200, 200, 404, 404, 404, 404]),
        ("auditor",       [403; 11]),
        ("security",      [403; 11]),
        ("department",    [403; 11]),
    ];
    let paths = [
        "/statistics",
        "/statistics/500229000000",
        "/statistics/500238000000",
        "/statistics/500229102202",
        "/statistics/map",
        "/statistics/method",
        "/reports",
        "/reports/counts?division=500229102000",
        "/reports/coverage.csv?division=500229102000",
        "/reports/measures.xlsx?division=500000000000",
        "/reports/procedures?division=500229102202",
    ];
    for server in Server::all().await {
        for (name, want) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let mut got = [0u16; 11];
            for (slot, path) in got.iter_mut().zip(paths) {
                let r = c.get(path).await;
                if r.status == 200 && !path.contains('.') {
                    assert!(
                        !r.body.contains("500229198203150139") && !r.body.contains("13900230001"),
                        "{name} {path}: no ID or phone numbers"
                    );
                }
                *slot = r.status;
            }
            assert_eq!(&got, want, "{name}: {paths:?}");
        }
        for path in paths {
            let r = server.get(path).await;
            assert_eq!(r.status, 303, "anonymous {path}");
            assert!(
                r.header("location").unwrap_or("").starts_with("/login"),
                "anonymous {path}"
            );
        }
    }
}

/// The portal's back-office routes as every role (issue 7): publications and the portal's
/// settings are the administrator's; tickets are read by county and township officers within
/// their division, and worked by them; a report about a person answers "not found" to everyone
/// but the designated county officer; the auditor reads the audit trail only (issue 15); the
/// public pages need no account.
#[tokio::test]
async fn portal_routes_as_every_role() {
    // (account, [publications, new publication, portal settings, designate, tickets,
    //  ticket in 城口县, report about a person there, step on the ticket, step on the report,
    //  the ticket's file, the report's file, reveal the ticket's phone, reveal the report's,
    //  reveal a declarant's numbers on the lead, link the lead to a household (stale version),
    //  the declaration's photo])
    #[rustfmt::skip]
    const EXPECTED: &[(&str, [u16; 16])] = &[
        ("admin",         [200, 200, 200, 404, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 409, 200]),
        ("chengkou",      [403, 403, 403, 403, 200, 200, 404, 409, 404, 200, 404, 200, 404, 200, 409, 200]),
        ("bashan",        [403, 403, 403, 403, 200, 200, 404, 409, 404, 200, 404, 200, 404, 200, 409, 200]),
        ("lixin",         [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 409, 200]),
        ("other_village", [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404, 404]),
        ("wuxi",          [403, 403, 403, 403, 200, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        ("auditor",       [403; 16]),
        ("security",      [403; 16]),
        ("department",    [403; 16]),
    ];
    for server in Server::all().await {
        let db = &server.test_db.db;
        let today = zhenxing_core::china_time::today_in_china();
        let policy = zhenxing_core::portal::PortalPolicy::default();
        let submit = async |kind: &str, category: &str| {
            let t = zhenxing_core::portal::TicketForm {
                kind: kind.into(),
                category: category.into(),
                division: "500229102202".into(),
                subject: "测试诉求".into(),
                body: "测试诉求的具体内容".into(),
                privacy: Some("yes".into()),
                ..Default::default()
            }
            .check()
            .unwrap();
            let file = zhenxing_store::files::accept("公示栏.png", b"\x89PNG\r\n\x1a\n".to_vec());
            zhenxing_store::portal::submit_ticket(db, &t, &[file.unwrap()], &policy, today)
                .await
                .unwrap()
                .unwrap()
                .id
        };
        let ordinary = submit("complaint", "funds").await;
        let person = submit("report", "cadre_conduct").await;
        // A self-declaration of someone not registered: a lead on a provisional number.
        let d = zhenxing_core::portal::DeclarationForm {
            applicant: "王世华".into(),
            id_number: "11010519491231002X".into(),
            village: "500229102202".into(),
            phone: "13900000001".into(),
            events: vec!["illness".into()],
            account: "妻子需要手术，无力支付".into(),
            commitment: Some("yes".into()),
            authorisation: Some("yes".into()),
            privacy: Some("yes".into()),
        }
        .check(today)
        .unwrap();
        let photo = zhenxing_store::files::accept("房屋.png", b"\x89PNG\r\n\x1a\n".to_vec());
        let declared =
            zhenxing_store::portal::declare_with_files(db, &d, &[photo.unwrap()], &policy, today)
                .await
                .unwrap()
                .unwrap();
        let everywhere =
            zhenxing_core::Scope::new(zhenxing_core::DivisionCode::parse("500000000000").unwrap());
        let provisional = format!("SB-500229-{}", declared.id);
        let lead = zhenxing_store::warnings::household_warnings(db, &everywhere, &provisional)
            .await
            .unwrap()[0]
            .id;
        let declaration = declared.id.to_string();
        for (name, want) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/nowhere").await.hidden("csrf");
            let stale = [
                ("csrf", csrf.as_str()),
                ("version", "99"),
                ("answer", "过时的答复内容"),
            ];
            let got = [
                c.get("/portal-admin").await.status,
                c.get("/portal-admin/announcements/new").await.status,
                c.get("/settings/portal").await.status,
                c.post_form(
                    "/settings/portal/designations",
                    &[("csrf", &csrf), ("designate", "on"), ("name", "nobody")],
                )
                .await
                .status,
                c.get("/tickets").await.status,
                c.get(&format!("/tickets/{ordinary}")).await.status,
                c.get(&format!("/tickets/{person}")).await.status,
                c.post_form(&format!("/tickets/{ordinary}/steps/answer"), &stale)
                    .await
                    .status,
                c.post_form(&format!("/tickets/{person}/steps/answer"), &stale)
                    .await
                    .status,
                c.get(&format!("/tickets/{ordinary}/files/1")).await.status,
                c.get(&format!("/tickets/{person}/files/1")).await.status,
                c.post_form(
                    &format!("/tickets/{ordinary}/reveal"),
                    &[("csrf", &csrf), ("purpose", "contact")],
                )
                .await
                .status,
                c.post_form(
                    &format!("/tickets/{person}/reveal"),
                    &[("csrf", &csrf), ("purpose", "contact")],
                )
                .await
                .status,
                c.post_form(
                    &format!("/warnings/{lead}/reveal"),
                    &[
                        ("csrf", &csrf),
                        ("declaration", &declaration),
                        ("purpose", "contact"),
                    ],
                )
                .await
                .status,
                c.post_form(
                    &format!("/warnings/{lead}/link"),
                    &[("csrf", &csrf), ("version", "99"), ("household", "CK0001")],
                )
                .await
                .status,
                c.get(&format!(
                    "/warnings/{lead}/declarations/{declaration}/files/1"
                ))
                .await
                .status,
            ];
            assert_eq!(
                &got, want,
                "{name}: publications, new, settings, designate, tickets, ticket, person report, step, step on report, file, report's file, reveal, report's reveal, declarant's reveal, link, declaration's photo"
            );
            let forged = c
                .post_form(
                    &format!("/tickets/{ordinary}/steps/answer"),
                    &[
                        ("csrf", "forged"),
                        ("version", "1"),
                        ("answer", "伪造的请求内容"),
                    ],
                )
                .await;
            assert_eq!(forged.status, 403, "{name}: forged CSRF");
        }
        // Designated, the county officer reads the report about a person; the list says so too.
        let mut admin = server.signed_in("admin").await;
        let csrf = admin.get("/settings/portal").await.hidden("csrf");
        let r = admin
            .post_form(
                "/settings/portal/designations",
                &[("csrf", &csrf), ("designate", "on"), ("name", "chengkou")],
            )
            .await;
        assert_eq!(r.status, 303);
        let mut county = server.signed_in("chengkou").await;
        assert_eq!(county.get(&format!("/tickets/{person}")).await.status, 200);
        let mut township = server.signed_in("bashan").await;
        assert_eq!(
            township.get(&format!("/tickets/{person}")).await.status,
            404
        );
        assert!(
            !township
                .get("/tickets?status=all")
                .await
                .body
                .contains(&format!("/tickets/{person}\""))
        );
        // No account needed for the public pages; none for the back office without one.
        for path in [
            "/portal",
            "/portal/declare",
            "/portal/ask",
            "/portal/track",
            "/portal/recover",
            "/favicon.ico",
        ] {
            assert_eq!(server.get(path).await.status, 200, "{path}");
        }
        // The declaration's photo is never the public's.
        let photo = format!("/warnings/{lead}/declarations/{declaration}/files/1");
        assert_eq!(server.get(&photo).await.status, 303, "sign in first");
        for path in ["/portal-admin", "/tickets", "/settings/portal"] {
            assert_ne!(server.get(path).await.status, 200, "{path}");
        }
        // Nothing above changed a ticket (read from the table: since issue 15 no role reads
        // both tickets, the report about a person being its designated officer's only).
        for id in [ordinary, person] {
            let sql = "SELECT status, row_version FROM tickets WHERE id = $1";
            let (status, version): (String, i64) = match db {
                zhenxing_store::Db::Sqlite(p) => {
                    sqlx::query_as(sql).bind(id).fetch_one(p).await.unwrap()
                }
                zhenxing_store::Db::Postgres(p) => {
                    sqlx::query_as(sql).bind(id).fetch_one(p).await.unwrap()
                }
            };
            assert_eq!((status.as_str(), version), ("received", 1));
        }
    }
}

/// The routes no other matrix above requests, as every role (the route inventory,
/// `crates/tidy/tests/routes.rs`, fails when a route has no row here or above): the home page,
/// the API's own account and list and its OpenAPI document, the health check, the stylesheet,
/// the public portal's pages, a warning, an import and an announcement that do not exist, the
/// account and announcement actions, the language switch and signing out. Refused requests
/// change nothing; the public routes need no account.
#[tokio::test]
async fn the_remaining_routes_as_every_role() {
    // (account, [home, OpenAPI document, API me, API households, health, stylesheet, portal
    //  notices, privacy, contact, agree to cookies, an announcement that does not exist, a warning that
    //  does not exist, an import that does not exist, enable an unknown account, a new
    //  announcement (empty), publish and withdraw one that does not exist, an unknown
    //  language, sign out])
    #[rustfmt::skip]
    const EXPECTED: &[(&str, [u16; 19])] = &[
        ("admin",         [303, 200, 200, 200, 200, 200, 200, 200, 200, 303, 404, 404, 404, 403, 422, 404, 404, 400, 303]),
        ("chengkou",      [303, 200, 200, 200, 200, 200, 200, 200, 200, 303, 404, 404, 404, 403, 403, 403, 403, 400, 303]),
        ("bashan",        [303, 200, 200, 200, 200, 200, 200, 200, 200, 303, 404, 404, 404, 403, 403, 403, 403, 400, 303]),
        ("lixin",         [303, 200, 200, 200, 200, 200, 200, 200, 200, 303, 404, 404, 404, 403, 403, 403, 403, 400, 303]),
        ("other_village", [303, 200, 200, 200, 200, 200, 200, 200, 200, 303, 404, 404, 404, 403, 403, 403, 403, 400, 303]),
        ("wuxi",          [303, 200, 200, 200, 200, 200, 200, 200, 200, 303, 404, 404, 404, 403, 403, 403, 403, 400, 303]),
        ("auditor",       [303, 200, 200, 403, 200, 200, 200, 200, 200, 303, 404, 403, 403, 403, 403, 403, 403, 400, 303]),
        ("security",      [303, 200, 200, 403, 200, 200, 200, 200, 200, 303, 404, 403, 403, 404, 403, 403, 403, 400, 303]),
        ("department",    [303, 200, 200, 403, 200, 200, 200, 200, 200, 303, 404, 403, 403, 403, 403, 403, 403, 400, 303]),
    ];
    for server in Server::all().await {
        let db = &server.test_db.db;
        let audit_before = zhenxing_store::audit::recent(db, 1000).await.unwrap().len();
        for (name, want) in EXPECTED {
            let mut c = server.signed_in(name).await;
            let csrf = c.get("/nowhere").await.hidden("csrf");
            // The portal's own form token (double-submit), for its cookie notice.
            let portal_token = c.get("/portal").await.hidden("csrf");
            // A forged token is refused before anything else, signing out too.
            let forged = c.post_form("/logout", &[("csrf", "forged")]).await;
            assert_eq!(forged.status, 403, "{name}: forged CSRF");
            let got = [
                c.get("/").await.status,
                c.get("/api/openapi.json").await.status,
                c.get("/api/v1/me").await.status,
                c.get("/api/v1/households").await.status,
                c.get("/healthz").await.status,
                c.get("/static/style.css").await.status,
                c.get("/portal/notices").await.status,
                c.get("/portal/privacy").await.status,
                c.get("/portal/contact").await.status,
                c.post_form("/portal/cookies", &[("csrf", &portal_token)])
                    .await
                    .status,
                c.get("/portal/announcements/999").await.status,
                c.get("/warnings/999").await.status,
                c.get("/import/999").await.status,
                c.post_form("/accounts/enable", &[("csrf", &csrf), ("name", "nobody")])
                    .await
                    .status,
                c.post_form("/portal-admin/announcements", &[("csrf", &csrf)])
                    .await
                    .status,
                c.post_form(
                    "/portal-admin/announcements/999/publish",
                    &[("csrf", &csrf)],
                )
                .await
                .status,
                c.post_form(
                    "/portal-admin/announcements/999/withdraw",
                    &[("csrf", &csrf)],
                )
                .await
                .status,
                c.post_form("/lang", &[("csrf", &csrf), ("lang", "xx")])
                    .await
                    .status,
                // Last: the session ends here.
                c.post_form("/logout", &[("csrf", &csrf)]).await.status,
            ];
            assert_eq!(
                &got, want,
                "{name}: home, OpenAPI, API me, API households, health, stylesheet, notices, privacy, contact, agree to cookies, announcement, warning, import, enable, new announcement, publish, withdraw, language, sign out"
            );
            assert_eq!(
                c.get("/households").await.header("location"),
                Some("/login"),
                "{name}: signed out"
            );
        }
        // Without an account: the public routes answer.
        for path in [
            "/api/openapi.json",
            "/healthz",
            "/static/style.css",
            "/static/visit.js",
            "/sw.js",
            "/manifest.webmanifest",
            "/portal/notices",
            "/portal/privacy",
            "/portal/contact",
        ] {
            assert_eq!(server.get(path).await.status, 200, "anonymous {path}");
        }
        // The home page sends a visitor to the public portal.
        assert_eq!(server.get("/").await.header("location"), Some("/portal"));
        // Nothing refused changed anything: the audit trail holds only the sign-ins and -outs
        // and the refusals the server records.
        let after = zhenxing_store::audit::recent(db, 1000).await.unwrap();
        assert!(
            after[..after.len() - audit_before]
                .iter()
                .all(|op| op.action.starts_with("auth.") || op.action.starts_with("access.")),
            "{:?}",
            after.iter().map(|op| &op.action).collect::<Vec<_>>()
        );
    }
}
