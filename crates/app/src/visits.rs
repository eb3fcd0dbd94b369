//! Recording a home visit (issue 19), for the visit form and the API: the form as sent parsed
//! and checked with the checks the phone ran ([`zhenxing_core::visit::form_checks`]), the
//! household screened before and after the visit's changes under the rule set in force, so
//! that a visit raises a warning only where a rule fires that did not fire before.

use crate::monitoring::pass::rule_set_in_force;
use std::collections::BTreeMap;
use time::Date;
use zhenxing_core::monitoring::{HouseholdFacts, MemberFacts, RiskType, age_on};
use zhenxing_core::visit::{CheckInput, FORM_VERSION, Problem, changes, form_checks, run_checks};
use zhenxing_core::{Text, text};
use zhenxing_store::files::AcceptedFile;
use zhenxing_store::monitoring::StoredRuleSet;
use zhenxing_store::visits::{NewVisit, Screened};
use zhenxing_store::warnings::reason_json;
use zhenxing_store::{Db, HouseholdRecord};

/// The form as sent: its text fields (repeated names in order, as a browser sends checkboxes)
/// and its files.
#[derive(Debug, Clone, Default)]
pub struct VisitForm {
    pub fields: Vec<(String, String)>,
    pub photo: Option<AcceptedFile>,
    pub signature: Option<AcceptedFile>,
}

impl VisitForm {
    pub fn one(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The form's values by field name (a field sent several times, health's checkboxes, joined
    /// by commas), and the values it was filled in with (`was.<field>`).
    pub fn values(&self) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let (mut values, mut was) = (BTreeMap::<String, String>::new(), BTreeMap::new());
        for (k, v) in &self.fields {
            if let Some(f) = k.strip_prefix("was.") {
                was.insert(f.to_owned(), v.clone());
            } else if zhenxing_core::visit::VisitField::parse(k).is_some() {
                values
                    .entry(k.clone())
                    .and_modify(|s| {
                        s.push(',');
                        s.push_str(v);
                    })
                    .or_insert_with(|| v.clone());
            }
        }
        (values, was)
    }
}

/// An idempotency key as the phone makes them: 16 to 64 letters, digits and hyphens.
fn parse_key(key: &str) -> Option<String> {
    let ok = (16..=64).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| key.to_owned())
}

fn problem(field: &str, t: Text) -> Problem {
    Problem {
        field: field.to_owned(),
        blocking: true,
        zh: t.zh,
        en: t.en,
    }
}

/// The members' ages on `on`, by position.
pub fn ages_on(record: &HouseholdRecord, on: Date) -> Vec<i32> {
    record
        .members
        .iter()
        .map(|m| {
            zhenxing_core::monitoring::parse_stored_date(&m.birth_date)
                .map_or(-1, |b| age_on(b, on))
        })
        .collect()
}

/// Parses and checks a visit form for `record` (the household as it is now). Every blocking
/// problem is returned, named by field; warnings (the consistency checks) do not refuse.
pub fn parse_visit(
    record: &HouseholdRecord,
    form: VisitForm,
    today: Date,
) -> Result<NewVisit, Vec<Problem>> {
    let version = form.one("form_version");
    if version.trim() != FORM_VERSION.to_string() {
        return Err(vec![problem(
            "form_version",
            text!(
                "这份表单来自旧版本的应用（版本“{version}”，现为{FORM_VERSION}）：请联网后重新打开该户的走访表单再填",
                "this form comes from an older version of the app (version '{version}', now {FORM_VERSION}): go online, open the household's visit form again and fill it in"
            ),
        )]);
    }
    let mut problems = Vec::new();
    let key = parse_key(form.one("key").trim()).unwrap_or_else(|| {
        problems.push(problem(
            "key",
            text!(
                "表单缺少有效的提交编号：请重新打开表单",
                "the form has no valid submission key: open the form again"
            ),
        ));
        String::new()
    });
    let no_change = form.one("no_change") == "1";
    let visited_on_raw = form.one("visited_on");
    let risk_codes = form.all("risk");
    let note = form.one("note");
    if note.chars().count() > 1000 {
        problems.push(problem(
            "note",
            text!("备注最多1000字", "the note is at most 1,000 characters"),
        ));
    }
    let mut risks = Vec::new();
    for code in &risk_codes {
        match RiskType::from_code(code) {
            Some(r) if !risks.contains(&r) => risks.push(r),
            Some(_) => {}
            None => problems.push(problem(
                "risk",
                text!("未知的风险类型", "unknown risk type"),
            )),
        }
    }
    let (mut values, was) = form.values();
    if no_change {
        // "No change" keeps every value as the form was filled in; only the observation stays.
        let food = values.get("food_clothing").cloned();
        values = was
            .iter()
            .filter(|(k, _)| zhenxing_core::visit::VisitField::parse(k).is_some())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(f) = food {
            values.insert("food_clothing".into(), f);
        }
    }
    let visited_on = zhenxing_core::monitoring::parse_stored_date(visited_on_raw.trim());
    let ages = ages_on(record, visited_on.unwrap_or(today));
    let input = CheckInput {
        values: &values,
        visited_on: &visited_on_raw,
        risks: &risk_codes,
        note: &note,
        ages: &ages,
    };
    problems.extend(
        run_checks(&form_checks(), &input, today)
            .into_iter()
            .filter(|p| p.blocking),
    );
    let changes = match changes(&values, &was) {
        Ok(c) => c,
        Err(p) => {
            problems.extend(p);
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(NewVisit {
        key,
        household_no: record.household_no.clone(),
        visited_on: visited_on.unwrap_or(today),
        form_version: FORM_VERSION,
        no_change: no_change || changes.is_empty(),
        food_clothing: values.get("food_clothing").map(String::as_str) == Some("yes"),
        changes,
        risks,
        declared: form.one("risk_source") == "declared",
        note: note.trim().to_owned(),
        photo: form.photo,
        signature: form.signature,
    })
}

/// The facts the screening rules read, of a record; `None` when the stored record does not
/// make a household (edited outside zhenxing), which then raises nothing.
fn facts_of(record: &HouseholdRecord) -> Option<(zhenxing_core::Household, Vec<MemberFacts>)> {
    let household = record.to_draft().ok()?.build().ok()?;
    let members = MemberFacts::of(&household);
    Some((household, members))
}

/// The screening of a visit under `rule_set` on `today`: the rules that fire on the household
/// after the visit's changes and did not before, as warning reasons. Without a rule set (a
/// registry that has none yet) nothing is screened: the visit raises only what the cadre saw.
pub fn screen_with(
    rule_set: Option<&StoredRuleSet>,
    today: Date,
) -> impl Fn(&HouseholdRecord, &HouseholdRecord) -> Screened + Sync + '_ {
    move |before, after| {
        let Some(rule_set) = rule_set else {
            return Screened::default();
        };
        let prepared = rule_set.rules.prepare(today);
        let assess = |r: &HouseholdRecord| {
            facts_of(r).map(|(h, m)| prepared.classify(&HouseholdFacts::of(&h, &m)))
        };
        let (Some(was), Some(now)) = (assess(before), assess(after)) else {
            return Screened::default();
        };
        let fired_before: Vec<_> = was.reasons.iter().map(|r| r.rule()).collect();
        let new: Vec<_> = now
            .reasons
            .iter()
            .filter(|r| !r.is_context() && !fired_before.contains(&r.rule()))
            .collect();
        let mut risk_types = Vec::new();
        for r in &new {
            if let Some(risk) = r.risk
                && !risk_types.contains(&risk)
            {
                risk_types.push(risk);
            }
        }
        Screened {
            reasons: new.iter().map(|r| reason_json(r)).collect(),
            risk_types,
            rule_set: (!new.is_empty()).then(|| (rule_set.id, i64::from(rule_set.rules.version))),
        }
    }
}

/// The rule set a visit is screened under: the one in force this year, if any (a registry
/// without one records visits and raises warnings only for what the cadre saw).
pub async fn visit_rule_set(db: &Db) -> Option<StoredRuleSet> {
    rule_set_in_force(db, None).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_what_a_phone_makes() {
        assert!(parse_key("3f2b9c1e-0d4a-4e8b-9a71-2c5d6e7f8a90").is_some());
        assert!(parse_key("short").is_none());
        assert!(parse_key("3f2b9c1e 0d4a 4e8b 9a71 2c5d6e7f8a90").is_none());
        assert!(parse_key(&"a".repeat(65)).is_none());
    }

    #[test]
    fn health_sent_as_checkboxes_is_one_value() {
        let form = VisitForm {
            fields: vec![
                ("m0.health".into(), "chronic".into()),
                ("m0.health".into(), "disabled".into()),
                ("was.m0.health".into(), "healthy".into()),
                ("csrf".into(), "x".into()),
            ],
            ..VisitForm::default()
        };
        let (values, was) = form.values();
        assert_eq!(values["m0.health"], "chronic,disabled");
        assert_eq!(was["m0.health"], "healthy");
        assert!(!values.contains_key("csrf"));
    }
}
