//! Dynamic monitoring (DOMAIN.md 1.3 to 1.6): the screening rules as versioned data, and the
//! classification of one household under them.
//!
//! A [`RuleSet`] is data, not code: an effective year, a jurisdiction (a division code), a
//! version, the monitoring threshold (per-capita net income) and the screening triggers with
//! their parameters. Rule sets are stored and never edited in place: a change is a new version.
//! [`RuleSet::check`] refuses a rule set with missing or contradictory parameters, with the
//! reasons in both languages. [`builtin`] holds the 2021 Chongqing rule set (threshold 6,000
//! yuan, 渝委农组〔2021〕6号) and, for 2022 to 2025, ASSUMED values (`assumed: true`): the
//! province sets each year's threshold, and the bureau must enter the real ones as new versions.
//!
//! [`Prepared::classify`] is a pure function of a household's facts ([`HouseholdFacts`]):
//! which of the three categories it would fall into, which risk types apply (at most five), and
//! why ([`Reason`]: the input, the threshold, the rule and the rule set's year and version).
//!
//! What counts as a risk (the decisions, also in README.md):
//! - **Income alone.** A per-capita net income at or below the threshold is itself a risk
//!   signal that needs a home visit: it raises a warning with the reason `income` even when no
//!   other rule fires, and the household would be 脱贫不稳定户 (lifted out) or 边缘易致贫户
//!   (ordinary). Its risk type is then 其他 until a cadre finds the cause, unless the household's
//!   members explain it: a member with a disability adds 因残, one with a serious illness 因病.
//! - **Context rules** explain a warning but never raise one on their own: a disabled or
//!   seriously ill member, and a **whole household without labour ability** (缺劳动力). On
//!   the synthetic registry one household in eight has no labour (elderly people living on
//!   pensions, most of them well above the threshold); warning on each would bury the inbox.
//!   With a low income or another warning, it adds 缺劳动力 and its reason, and DOMAIN.md 1.9
//!   keeps such a household monitored.
//! - **Above the threshold**, only a sudden severe difficulty makes the household
//!   突发严重困难户: large out-of-pocket medical spending, a sudden large income loss, a large
//!   disaster loss. The 三保障 and drinking-water triggers (a child out of school, unsafe
//!   housing, unsafe water, a member without basic medical insurance) still raise a warning,
//!   without a category: the problem must be fixed by the department concerned even when the
//!   household is not monitored.
//! - **Unknown is not unsafe.** Housing or water safety left blank does not fire a rule.
//! - **Out of school** means a child of compulsory-education age (7 to 15 by default, the same
//!   ages as the consistency check `school_age_not_in_school`) recorded with no school status or
//!   as "below school age"; a child in kindergarten or already in senior high school is not out
//!   of school.
//! - **Income loss** compares the per-capita net income with last year's
//!   ([`HouseholdFacts::previous_per_capita_net_income`]), which the store reads from its income
//!   by completed year (`household_incomes`) for the year before the screening's day; without
//!   that year's figure the rule does not fire. It is off in the built-in rule sets (a new rule
//!   set version switches it on). Its cause is unknown from the figures, so its risk type is
//!   其他.
//! - **Department data** ([`Prepared::classify_department`], DOMAIN.md 1.6 部门筛查预警): other
//!   departments' records matched to a household feed the same triggers: medical claims (the
//!   household's out-of-pocket amounts in one file summed, against the lifted-out or the
//!   others' threshold), a child reported dropped out or not enrolled, a house assessed C or D,
//!   disaster losses (summed; on in the built-in rule sets from 10,000 yuan), and five
//!   triggers that only department data feeds: `member_died` (其他), `unemployed`
//!   (因务工就业不稳), `allowance_stopped` (其他; an allowance granted is context, see
//!   [`crate::department`]), `outpatient_out_of_pocket` (因病: a household's outpatient claims
//!   summed per calendar month, at or above `monthly_yuan`, 500 in the built-in sets) and
//!   `schooling_costs` (因学: its members' non-compulsory schooling costs summed per school
//!   year, strictly above `above_yuan`, 10,000 in the built-in sets; DOMAIN.md 1.6 says
//!   "超过"). Both are large rigid spending, so above the income threshold they make the
//!   household 突发严重困难户. Rule sets saved before these existed lack them, which means
//!   off; a new rule set must say on or off like every other trigger.
//!
//! One job per file: [`rule_set`](self::rule_set) (the rule data and its check),
//! [`builtin`](self::builtin) (the built-in sets), [`facts`](self::facts) (what the rules read),
//! [`reasons`](self::reasons) (rule and risk ids, reasons in words), [`classify`](self::classify)
//! (the registry's rules), [`department`](self::department) (department data's rules) and
//! [`outcome`](self::outcome) (what a completed case records on the household).

mod builtin;
mod classify;
mod department;
mod facts;
mod outcome;
mod reasons;
mod rule_set;

pub use builtin::builtin;
pub use classify::{Assessment, MAX_RISK_TYPES, Prepared, age_on};
pub use facts::{HouseholdFacts, MemberFacts, parse_stored_date, unreadable_stored_value};
pub use outcome::{MonitoringOutcome, OutcomeError, OutcomeField};
pub use reasons::{Detail, Reason, RiskType, RuleId};
pub use rule_set::*;

#[cfg(test)]
mod tests;
