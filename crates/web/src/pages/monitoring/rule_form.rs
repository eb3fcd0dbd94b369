//! The new-version form's fields and a `RuleSet`, both ways: a rule set fills the form in
//! (through its JSON view, so that the table of triggers drives it), and a submitted form
//! becomes a typed `RuleSet` with every reason it cannot be saved.

use super::triggers::{TRIGGERS, param_key, scalar_text, trigger_label, trigger_objects};
use crate::i18n::Tr;
use serde_json::Value;
use std::collections::HashMap;
use zhenxing_core::monitoring::{
    DisasterTrigger, IncomeDropTrigger, MedicalTrigger, OutpatientTrigger, RuleSet,
    SchoolCostsTrigger, SchoolTrigger, Switch, Triggers,
};
use zhenxing_core::{Fen, Text, text};

/// The form's fields by name: `year`, `jurisdiction`, `assumed`, `note_zh`, `note_en`,
/// `threshold_yuan`, `TRIGGER.enabled`, `TRIGGER.PARAM`.
pub(super) type FormValues = HashMap<String, String>;

/// The form filled in from a rule set.
pub(super) fn form_values(rules: &RuleSet) -> FormValues {
    let mut v = FormValues::new();
    v.insert("year".into(), rules.year.to_string());
    v.insert("jurisdiction".into(), rules.jurisdiction.clone());
    if rules.assumed {
        v.insert("assumed".into(), "yes".into());
    }
    if let Some(note) = &rules.note {
        v.insert("note_zh".into(), note.zh.clone());
        v.insert("note_en".into(), note.en.clone());
    }
    if let Some(t) = rules.threshold {
        v.insert("threshold_yuan".into(), t.to_string());
    }
    let objects = trigger_objects(rules);
    for d in TRIGGERS {
        let Some(object) = objects.get(d.key).and_then(Value::as_object) else {
            continue;
        };
        if object.get("enabled").and_then(Value::as_bool) == Some(true) {
            v.insert(format!("{}.enabled", d.key), "yes".into());
        }
        for (name, _) in d.params {
            v.insert(format!("{}.{name}", d.key), scalar_text(object.get(*name)));
        }
    }
    v
}

/// The rule set a submitted form describes, or every reason it cannot be saved: values that
/// are not numbers (in the order of the form), then every problem `RuleSet::check` finds in the
/// rest.
pub(super) fn rules_from_form(tr: &Tr, values: &FormValues) -> Result<RuleSet, Vec<String>> {
    let mut form = Form {
        tr,
        values,
        problems: Vec::new(),
    };
    let year_text = form.get("year");
    let year = if year_text.is_empty() {
        0
    } else {
        year_text.parse::<u16>().unwrap_or_else(|_| {
            form.problems.push(tr.text(&text!(
                "生效年度“{year_text}”不是年份",
                "the effective year '{year_text}' is not a year"
            )));
            0
        })
    };
    let note = match (form.get("note_zh"), form.get("note_en")) {
        ("", "") => None,
        (zh, en) if zh.is_empty() || en.is_empty() => {
            form.problems.push(tr.text(&text!(
                "说明须同时填写中文和英文（或都不填）",
                "give the note in both Chinese and English (or leave both empty)"
            )));
            None
        }
        (zh, en) if zh.chars().count() > 500 || en.chars().count() > 500 => {
            form.problems.push(tr.text(&text!(
                "说明最多500字",
                "the note is at most 500 characters"
            )));
            None
        }
        (zh, en) => Some(Text::new(zh, en)),
    };
    let threshold = form.amount(tr.t("monitoring-threshold"), form.get("threshold_yuan"));
    // In the order of TRIGGERS, so that the reasons come in the order of the form; every
    // trigger is given, on or off.
    let triggers = Triggers {
        medical_out_of_pocket: Some(MedicalTrigger {
            enabled: form.on("medical_out_of_pocket"),
            lifted_out: form.yuan("medical_out_of_pocket", "lifted_out_yuan"),
            others: form.yuan("medical_out_of_pocket", "others_yuan"),
        }),
        child_out_of_school: Some(SchoolTrigger {
            enabled: form.on("child_out_of_school"),
            min_age: form.whole("child_out_of_school", "min_age"),
            max_age: form.whole("child_out_of_school", "max_age"),
        }),
        unsafe_housing: Some(form.switch("unsafe_housing")),
        unsafe_water: Some(form.switch("unsafe_water")),
        no_medical_insurance: Some(form.switch("no_medical_insurance")),
        no_labor_ability: Some(form.switch("no_labor_ability")),
        income_drop: Some(IncomeDropTrigger {
            enabled: form.on("income_drop"),
            percent: form.whole("income_drop", "percent"),
        }),
        disaster_loss: Some(DisasterTrigger {
            enabled: form.on("disaster_loss"),
            loss: form.yuan("disaster_loss", "loss_yuan"),
        }),
        member_died: Some(form.switch("member_died")),
        unemployed: Some(form.switch("unemployed")),
        allowance_stopped: Some(form.switch("allowance_stopped")),
        outpatient_out_of_pocket: Some(OutpatientTrigger {
            enabled: form.on("outpatient_out_of_pocket"),
            monthly: form.yuan("outpatient_out_of_pocket", "monthly_yuan"),
        }),
        schooling_costs: Some(SchoolCostsTrigger {
            enabled: form.on("schooling_costs"),
            above: form.yuan("schooling_costs", "above_yuan"),
        }),
    };
    let rules = RuleSet {
        year,
        jurisdiction: form.get("jurisdiction").to_owned(),
        // Assigned by the store.
        version: 0,
        assumed: !form.get("assumed").is_empty(),
        note,
        threshold,
        triggers,
    };
    let mut problems = form.problems;
    problems.extend(rules.problems().iter().map(|p| tr.text(p)));
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(problems)
    }
}

/// A submitted form being read: each value that is not what its field takes adds a reason,
/// named by its field's label, and counts as not given.
struct Form<'a> {
    tr: &'a Tr,
    values: &'a FormValues,
    problems: Vec<String>,
}

impl<'a> Form<'a> {
    /// A field's value, trimmed (`""` when absent).
    fn get(&self, name: &str) -> &'a str {
        self.values.get(name).map(|s| s.trim()).unwrap_or("")
    }

    fn on(&self, trigger: &str) -> bool {
        !self.get(&format!("{trigger}.enabled")).is_empty()
    }

    fn switch(&self, trigger: &str) -> Switch {
        Switch {
            enabled: self.on(trigger),
        }
    }

    fn label(&self, trigger: &str, param: &str) -> String {
        let tr = self.tr;
        format!(
            "{} · {}",
            trigger_label(tr, trigger),
            tr.t(&param_key(param))
        )
    }

    /// An amount in yuan, as `Fen::parse` reads it.
    fn amount(&mut self, label: String, raw: &str) -> Option<Fen> {
        if raw.is_empty() {
            return None;
        }
        match Fen::parse(raw) {
            Ok(f) => Some(f),
            Err(e) => {
                self.problems
                    .push(format!("{label}: {}", self.tr.text(&e.text())));
                None
            }
        }
    }

    /// A trigger's parameter in yuan (`ParamKind::Yuan`).
    fn yuan(&mut self, trigger: &str, param: &str) -> Option<Fen> {
        let raw = self.get(&format!("{trigger}.{param}"));
        let label = self.label(trigger, param);
        self.amount(label, raw)
    }

    /// A trigger's parameter in whole years or percent (`ParamKind::Age`, `Percent`).
    fn whole(&mut self, trigger: &str, param: &str) -> Option<u8> {
        let raw = self.get(&format!("{trigger}.{param}"));
        if raw.is_empty() {
            return None;
        }
        match raw.parse::<u8>() {
            Ok(n) => Some(n),
            Err(_) => {
                let label = self.label(trigger, param);
                self.problems.push(self.tr.text(&text!(
                    "{label}：“{raw}”不是0至255之间的整数",
                    "{label}: '{raw}' is not a whole number from 0 to 255"
                )));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::i18n::I18n;
    use std::sync::Arc;
    use zhenxing_core::Lang;
    use zhenxing_core::monitoring::builtin;

    /// The form filled in from a rule set gives the same rule set back.
    #[test]
    fn the_form_round_trips_every_parameter() {
        let tr = Tr::new(Arc::new(I18n::new()), Lang::En);
        for rules in builtin() {
            let values = form_values(&rules);
            let back = rules_from_form(&tr, &values).unwrap();
            assert_eq!(
                back,
                RuleSet {
                    version: 0,
                    ..rules
                }
            );
        }
    }

    #[test]
    fn a_bad_form_gives_every_reason() {
        let tr = Tr::new(Arc::new(I18n::new()), Lang::En);
        let mut values = form_values(&builtin()[0]);
        values.insert("threshold_yuan".into(), "abc".into());
        values.insert("child_out_of_school.min_age".into(), "x".into());
        values.insert(
            "medical_out_of_pocket.lifted_out_yuan".into(),
            "30000".into(),
        );
        values.insert("note_en".into(), String::new());
        let problems = rules_from_form(&tr, &values).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("threshold"), "{all}");
        assert!(all.contains("'x' is not a whole number"), "{all}");
        assert!(all.contains("both Chinese and English"), "{all}");
        // From RuleSet::check: the medical thresholds contradict each other.
        assert!(all.contains("contradict"), "{all}");
    }
}
