//! The rule sets' parameters as a table of triggers: the rule pages show a rule set by it and
//! the new-version form is built from it, so that a trigger added to core is one row here.

use crate::i18n::Tr;
use serde_json::{Map, Value};
use zhenxing_core::monitoring::{RuleId, RuleSet};

/// The kind of a trigger's parameter, for the form's input and the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An amount in yuan (`"5000"`, `"5000.50"`).
    Yuan,
    /// Whole years of age.
    Age,
    /// A whole percentage.
    Percent,
}

/// One screening trigger of `zhenxing_core::monitoring::Triggers`, by its name in the rule set
/// file, with its parameters (their names in the file). Its label is the `RuleId` of the same
/// code; a parameter's label is the message `monitoring-param-NAME` (underscores as hyphens).
pub struct TriggerDescriptor {
    pub key: &'static str,
    pub params: &'static [(&'static str, ParamKind)],
}

/// Every trigger the pages show and the form edits, in the order shown. Adding a trigger to
/// core's `Triggers` is one row here (and a label for a new parameter name); a test checks that
/// this table covers every trigger of the built-in rule sets.
pub const TRIGGERS: &[TriggerDescriptor] = &[
    TriggerDescriptor {
        key: "medical_out_of_pocket",
        params: &[
            ("lifted_out_yuan", ParamKind::Yuan),
            ("others_yuan", ParamKind::Yuan),
        ],
    },
    TriggerDescriptor {
        key: "child_out_of_school",
        params: &[("min_age", ParamKind::Age), ("max_age", ParamKind::Age)],
    },
    TriggerDescriptor {
        key: "unsafe_housing",
        params: &[],
    },
    TriggerDescriptor {
        key: "unsafe_water",
        params: &[],
    },
    TriggerDescriptor {
        key: "no_medical_insurance",
        params: &[],
    },
    TriggerDescriptor {
        key: "no_labor_ability",
        params: &[],
    },
    TriggerDescriptor {
        key: "income_drop",
        params: &[("percent", ParamKind::Percent)],
    },
    TriggerDescriptor {
        key: "disaster_loss",
        params: &[("loss_yuan", ParamKind::Yuan)],
    },
    TriggerDescriptor {
        key: "member_died",
        params: &[],
    },
    TriggerDescriptor {
        key: "unemployed",
        params: &[],
    },
    TriggerDescriptor {
        key: "allowance_stopped",
        params: &[],
    },
    TriggerDescriptor {
        key: "outpatient_out_of_pocket",
        params: &[("monthly_yuan", ParamKind::Yuan)],
    },
    TriggerDescriptor {
        key: "schooling_costs",
        params: &[("above_yuan", ParamKind::Yuan)],
    },
];

pub(super) fn trigger_label(tr: &Tr, key: &str) -> String {
    RuleId::from_code(key)
        .map(|r| r.label(tr.lang).to_owned())
        .unwrap_or_else(|| key.to_owned())
}

pub(super) fn param_key(name: &str) -> String {
    format!("monitoring-param-{}", name.replace('_', "-"))
}

pub(super) fn unit(tr: &Tr, kind: ParamKind) -> String {
    tr.t(match kind {
        ParamKind::Yuan => "monitoring-unit-yuan",
        ParamKind::Age => "monitoring-unit-age",
        ParamKind::Percent => "monitoring-unit-percent",
    })
}

/// A parameter's value as the rule set file writes it, as text (`""` when absent).
pub(super) fn scalar_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// A rule set's triggers as JSON objects by name (how the file writes them).
pub(super) fn trigger_objects(rules: &RuleSet) -> Map<String, Value> {
    match serde_json::to_value(rules.triggers) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;
    use zhenxing_core::Lang;
    use zhenxing_core::monitoring::builtin;

    /// The table covers every trigger of the built-in rule sets, and every label exists.
    #[test]
    fn the_trigger_table_covers_every_trigger() {
        let i18n = I18n::new();
        for rules in builtin() {
            let objects = trigger_objects(&rules);
            let known: Vec<&str> = TRIGGERS.iter().map(|d| d.key).collect();
            for key in objects.keys() {
                assert!(
                    known.contains(&key.as_str()),
                    "add a row for the trigger {key} to TRIGGERS in pages/monitoring/triggers.rs"
                );
            }
        }
        for lang in [Lang::Zh, Lang::En] {
            for d in TRIGGERS {
                assert!(RuleId::from_code(d.key).is_some(), "{}: no RuleId", d.key);
                for (name, _) in d.params {
                    assert!(
                        i18n.has(lang, &param_key(name)),
                        "{lang:?}: no label {} for {}.{name}",
                        param_key(name),
                        d.key
                    );
                }
            }
        }
    }
}
