use super::*;
use time::macros::date;

const TODAY: Date = date!(2026 - 12 - 08);

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn fields_are_parsed_by_name() {
    assert_eq!(
        VisitField::parse("wage"),
        Some(VisitField::Household("wage"))
    );
    assert_eq!(
        VisitField::parse("m3.school"),
        Some(VisitField::Member(3, "school"))
    );
    for bad in [
        "m.school",
        "mx.school",
        "m1.name",
        "m1000.school",
        "salary",
        "m-1.health",
    ] {
        assert_eq!(VisitField::parse(bad), None, "{bad}");
    }
    assert_eq!(
        VisitField::Member(0, "insured").label().en,
        "member 1's basic medical insurance"
    );
}

#[test]
fn values_are_written_one_way() {
    assert_eq!(canonical(FieldKind::Money, "1,234.5").unwrap(), "1234.50");
    assert_eq!(canonical(FieldKind::Money, "０").unwrap(), "0.00");
    assert!(canonical(FieldKind::Money, "-3").is_err());
    assert!(canonical(FieldKind::Money, "10000000.01").is_err());
    assert_eq!(
        canonical(FieldKind::Health, "disabled, chronic").unwrap(),
        "chronic,disabled"
    );
    assert!(canonical(FieldKind::Health, "healthy,chronic").is_err());
    assert!(canonical(FieldKind::Health, "").is_err());
    assert_eq!(canonical(FieldKind::Tri, "").unwrap(), "");
    assert!(canonical(FieldKind::YesNo, "").is_err());
    assert!(canonical(FieldKind::School, "grade10").is_err());
}

#[test]
fn only_what_changed_is_a_change() {
    let was = map(&[
        ("wage", "12000.00"),
        ("housing_safe", "yes"),
        ("m0.insured", "yes"),
    ]);
    let same = map(&[
        ("wage", "12000"),
        ("housing_safe", "yes"),
        ("m0.insured", "yes"),
        ("food_clothing", "yes"),
    ]);
    assert_eq!(changes(&same, &was).unwrap(), vec![]);
    let one = map(&[
        ("wage", "9000"),
        ("housing_safe", "yes"),
        ("m0.insured", "yes"),
    ]);
    assert_eq!(
        changes(&one, &was).unwrap(),
        vec![Change {
            field: "wage".into(),
            was: "12000.00".into(),
            now: "9000.00".into(),
            who: None,
        }]
    );
    // A member's change carries who the member was on the form.
    let mut was_named = was.clone();
    was_named.insert("m0.who".into(), "王建国".into());
    let member = map(&[("m0.insured", "no")]);
    assert_eq!(
        changes(&member, &was_named).unwrap()[0].who.as_deref(),
        Some("王建国")
    );
    let bad = map(&[("wage", "nine thousand"), ("salary", "1")]);
    let problems = changes(&bad, &was).unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["salary", "wage"]);
    assert!(
        problems[1].en.starts_with("wage income (yuan a year): "),
        "{}",
        problems[1].en
    );
}

#[test]
fn an_office_change_meanwhile_is_a_conflict_unless_it_agrees() {
    let c = vec![
        Change {
            field: "wage".into(),
            was: "12000.00".into(),
            now: "9000.00".into(),
            who: None,
        },
        Change {
            field: "water_safe".into(),
            was: "yes".into(),
            now: "no".into(),
            who: None,
        },
        Change {
            field: "m0.insured".into(),
            was: "yes".into(),
            now: "no".into(),
            who: Some("王建国".into()),
        },
    ];
    // The office changed the wage to something else, and the water to what the visit says;
    // the insurance is as the form was filled in.
    let current = map(&[
        ("wage", "15000.00"),
        ("water_safe", "no"),
        ("m0.insured", "yes"),
    ]);
    assert_eq!(
        conflicts(&c, &current),
        vec![Conflict {
            field: "wage".into(),
            was: "12000.00".into(),
            office: "15000.00".into(),
            visit: "9000.00".into()
        }]
    );
}

#[test]
fn the_checks_find_what_the_phone_finds() {
    let checks = form_checks();
    let values = map(&[
        ("food_clothing", ""),
        ("m0.insured", "yes"),
        ("m0.health", "healthy"),
        ("m1.insured", ""),
        ("m1.health", "healthy"),
        ("m1.school", ""),
        ("m2.insured", "no"),
        ("m2.health", "chronic"),
        ("m2.school", "primary"),
        ("wage", "12,000"),
        ("business", "abc"),
        ("property", "0"),
        ("transfer", "0"),
        ("business_expense", "0"),
        ("out_of_pocket", "0"),
    ]);
    let risks = vec!["illness".to_owned()];
    let input = CheckInput {
        values: &values,
        visited_on: "2026-12-09",
        risks: &risks,
        note: " ",
        ages: &[45, 9, 40],
    };
    let found: Vec<(String, bool)> = run_checks(&checks, &input, TODAY)
        .into_iter()
        .map(|p| (p.field, p.blocking))
        .collect();
    let expect = |f: &str, b: bool| (f.to_owned(), b);
    assert_eq!(
        found,
        vec![
            expect("visited_on", true),
            expect("food_clothing", true),
            expect("m1.insured", true),
            expect("business", true),
            // A nine-year-old out of school, and a 40-year-old in primary school: warnings.
            expect("m1.school", false),
            expect("m2.school", false),
            expect("note", true),
        ]
    );
    let fine = map(&[
        ("food_clothing", "yes"),
        ("m0.insured", "yes"),
        ("m0.health", "healthy"),
        ("wage", "0"),
        ("business", "0"),
        ("property", "0"),
        ("transfer", "0"),
        ("business_expense", "0"),
        ("out_of_pocket", "0"),
    ]);
    let input = CheckInput {
        values: &fine,
        visited_on: "2026-11-08",
        risks: &[],
        note: "",
        ages: &[45],
    };
    assert_eq!(run_checks(&checks, &input, TODAY), vec![]);
    let input = CheckInput {
        visited_on: "2026-11-06",
        ..input
    };
    assert_eq!(
        run_checks(&checks, &input, TODAY).len(),
        1,
        "32 days ago is too old"
    );
}

#[test]
fn the_checks_travel_as_json() {
    let json = serde_json::to_value(form_checks()).unwrap();
    assert_eq!(json[0]["check"], "visit_day");
    assert_eq!(json[0]["max_days_before"], MAX_VISIT_AGE_DAYS);
    assert_eq!(json[0]["blocking"], true);
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|c| c["zh"].is_string() && c["en"].is_string())
    );
}

#[test]
fn a_visit_speaks_for_itself_only_on_what_it_saw() {
    assert!(observation_reasons(true, &[], TODAY, "李红", "").is_empty());
    let r = observation_reasons(false, &[RiskType::Illness], TODAY, "李红", "父亲住院");
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].0, Some(RiskType::Illness));
    assert!(r[1].1.zh.contains("父亲住院"));
}
