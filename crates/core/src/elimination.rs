//! Risk elimination (风险消除, DOMAIN.md 1.9; issue 5 item 5): the preconditions the system
//! checks before an elimination procedure may start, and the rule on the method. Pure: the store
//! gathers [`EliminationFacts`]; the procedure asks [`preconditions`] and [`all_hold`], and the
//! household page shows each [`Precondition`] with its figures.
//!
//! The conditions (all required; DOMAIN.md 1.9, sources L S10, S11, S12b, S13):
//!
//! 1. identified at least half a year ago: six calendar months (see [`crate::calendar`]);
//! 2. at least one measure targeted at the risk implemented: an implemented measure whose
//!    category addresses one of the household's risks ([`categories_for_risk`]) or which was
//!    recorded against one of them;
//! 3. per-capita net income above the current threshold (strictly above: at or below the
//!    threshold is the monitoring range);
//! 4. income stable, in principle for at least half a year: the value in effect six months ago
//!    and every change since are above the threshold. When the history does not reach back six
//!    months, stability cannot be shown and the condition does not hold;
//! 5. no open risk in the two assurances and three guarantees and water: food and clothing (the
//!    registry has no field for it; the caller passes what the latest home verification found),
//!    a child of compulsory-school age out of school, a member without basic medical insurance,
//!    unsafe housing, unsafe water;
//! 6. not a whole household without labour ability: such a household keeps being monitored
//!    after safety-net measures (整户无劳动力 … 不标注风险消除);
//! 7. large rigid spending stably resolved (condition c): the rigid spending the elimination's
//!    own home verification recorded is below [`LARGE_RIGID_SPENDING`], or the cadre marked it
//!    resolved. The verification step refuses a large unresolved amount ([`check_rigid_spending`]);
//!    before that step the figure of the latest earlier visit is shown for information;
//! 8. no new risk (condition e): no active (new or assigned) warning on the household; it must be
//!    verified, dismissed or closed first ([`check_no_new_risk`]).
//!
//! The method ([`check_method`]): 帮扶消除 requires 实施开发式帮扶措施情况 = 已实施 in the
//! national system (DOMAIN.md 1.9, V S25, L S26), so an implemented development-type measure
//! (industry, employment, finance, public-welfare job). A safety-net measure alone does not
//! qualify; such a household either keeps being monitored (condition 6) or, with labour
//! ability and its risk gone without a development-type measure, is eliminated naturally.

use crate::assistance::{MeasureFact, MeasureKind, categories_for_risk};
use crate::calendar::{add_months, months_between};
use crate::coverage::MonitoredSince;
use crate::enums::labelled_enum;
use crate::lang::Text;
use crate::money::Fen;
use crate::monitoring::RiskType;
use crate::text;
use time::Date;

labelled_enum!(
    /// 风险消除方式 (dictionary dm_fxxcfs).
    EliminationMethod, "风险消除方式", "elimination method", [
    (ByAssistance, "by_assistance", "帮扶消除", "eliminated by assistance"),
    (Natural, "natural", "自然消除", "eliminated naturally"),
]);

labelled_enum!(
    /// A basic need (两不愁三保障 and drinking water) that is not met.
    BasicNeed, "两不愁三保障及饮水", "basic need", [
    (FoodAndClothing, "food_and_clothing", "吃穿有困难", "food or clothing not assured"),
    (Schooling, "schooling", "义务教育阶段适龄儿童少年失学辍学", "a child of compulsory-school age out of school"),
    (MedicalInsurance, "medical_insurance", "有成员未参加基本医疗保险", "a member without basic medical insurance"),
    (Housing, "housing", "住房出现安全问题", "unsafe housing"),
    (Water, "water", "饮水出现安全问题", "unsafe drinking water"),
]);

labelled_enum!(
    /// The preconditions of a risk elimination, in the order they are shown.
    Condition, "风险消除条件", "elimination condition", [
    (MonitoredSixMonths, "monitored_six_months", "识别监测满6个月", "monitored at least six months"),
    (MeasureImplemented, "measure_implemented", "至少落实1项针对风险的帮扶措施", "at least one measure against the risk implemented"),
    (IncomeAboveThreshold, "income_above_threshold", "人均纯收入高于监测范围", "per-capita net income above the threshold"),
    (IncomeStable, "income_stable", "收入稳定高于监测范围满半年", "income above the threshold for at least half a year"),
    (BasicNeedsMet, "basic_needs_met", "两不愁三保障及饮水安全无风险", "no open risk in food, clothing, schooling, medical care, housing and water"),
    (NotWithoutLabor, "not_without_labor", "非整户无劳动能力", "not a whole household without labour ability"),
    (RigidSpendingResolved, "rigid_spending_resolved", "大额刚性支出已稳定解决", "large rigid spending stably resolved"),
    (NoNewRisk, "no_new_risk", "无新的风险（无未办结预警）", "no new risk (no unsettled warning)"),
]);

/// Rigid spending (out-of-pocket medical and schooling costs over the twelve months before a
/// home visit) from which it counts as large: 5,000 yuan, the lowest medical out-of-pocket
/// screening line of DOMAIN.md 1.6 (the line for people lifted out of poverty; 20,000 for
/// others, and 10,000 for non-compulsory schooling). The lowest line is taken because a spending
/// that would raise a warning for some household must not pass an elimination unremarked; the
/// mark "resolved" costs the cadre a tick and a sentence.
pub const LARGE_RIGID_SPENDING: Fen = Fen(500_000);

/// The rigid spending a home verification recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RigidSpending {
    pub visited_on: Date,
    pub amount: Fen,
    /// The cadre marked it stably resolved (reimbursed, covered by a measure, paid off).
    pub resolved: bool,
    /// Recorded by the home verification of a risk-elimination case (else an earlier visit,
    /// shown for information: the elimination's own visit decides).
    pub in_elimination: bool,
}

/// An active warning on the household: a new risk that must be settled before elimination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenWarning {
    pub id: i64,
    pub raised_on: Date,
    /// Where it came from (the channel's name).
    pub source: Text,
    /// Its status in words (new, assigned for home verification).
    pub status: Text,
}

/// What the preconditions need to know about one monitored household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EliminationFacts {
    /// `None`: identified before zhenxing kept records.
    pub identified_on: Option<Date>,
    /// The day the household was registered in zhenxing.
    pub registered_on: Date,
    pub risk_types: Vec<RiskType>,
    pub measures: Vec<MeasureFact>,
    pub per_capita_net_income: Fen,
    /// The threshold of the rule set in force; `None` when it sets none.
    pub threshold: Option<Fen>,
    /// The per-capita net income from each date on (the value in effect from that date),
    /// oldest first; of several changes on one day, the last one counts.
    pub income_history: Vec<(Date, Fen)>,
    pub open_needs: Vec<BasicNeed>,
    pub whole_household_without_labor: bool,
    /// What the latest home verification recorded; `None` when none did.
    pub rigid_spending: Option<RigidSpending>,
    /// Active warnings on the household, oldest first.
    pub open_warnings: Vec<OpenWarning>,
}

/// One precondition: whether it holds on the day, and the figures in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    pub condition: Condition,
    pub holds: bool,
    pub detail: Text,
}

fn names(items: impl Iterator<Item = (&'static str, &'static str)>) -> (String, String) {
    let (zh, en): (Vec<_>, Vec<_>) = items.unzip();
    (zh.join("、"), en.join(", "))
}

/// Every precondition on `today`, in the order of [`Condition::ALL`].
pub fn preconditions(f: &EliminationFacts, today: Date) -> Vec<Precondition> {
    vec![
        monitored(f, today),
        measure(f),
        above(f),
        stable(f, today),
        needs(f),
        labour(f),
        rigid(f),
        no_new_risk(f),
    ]
}

/// All preconditions hold (and there is at least one).
pub fn all_hold(preconditions: &[Precondition]) -> bool {
    !preconditions.is_empty() && preconditions.iter().all(|p| p.holds)
}

fn monitored(f: &EliminationFacts, today: Date) -> Precondition {
    let since = MonitoredSince::new(f.identified_on, f.registered_on);
    let months = months_between(since.on, today);
    let Text { zh, en } = since.words();
    let due = add_months(since.on, 6);
    let holds = months >= 6;
    let detail = if holds {
        text!(
            "已监测{months}个月，{zh}",
            "monitored {months} months, {en}"
        )
    } else {
        text!(
            "已监测{months}个月，{zh}；满6个月的日期为{due}",
            "monitored {months} months, {en}; six months are reached on {due}"
        )
    };
    Precondition {
        condition: Condition::MonitoredSixMonths,
        holds,
        detail,
    }
}

fn measure(f: &EliminationFacts) -> Precondition {
    let targeted: Vec<&MeasureFact> = f
        .measures
        .iter()
        .filter(|m| m.addresses(&f.risk_types))
        .collect();
    let (risks_zh, risks_en) = names(f.risk_types.iter().map(|r| (r.zh(), r.en())));
    let detail = if f.risk_types.is_empty() {
        text!(
            "未登记风险类型，无法判断措施是否针对风险；请先登记风险类型",
            "no risk type is recorded, so no measure can be matched to the risk; record the risk types first"
        )
    } else if targeted.is_empty() {
        let mut wanted: Vec<_> = f
            .risk_types
            .iter()
            .flat_map(|&r| categories_for_risk(r).iter().copied())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let (cz, ce) = names(wanted.iter().map(|c| (c.zh(), c.en())));
        text!(
            "尚无已实施的针对风险（{risks_zh}）的措施；可针对的措施类别：{cz}",
            "no implemented measure against the risk ({risks_en}); categories that address it: {ce}"
        )
    } else {
        let n = targeted.len();
        let (mz, me) = names(targeted.iter().map(|m| (m.category.zh(), m.category.en())));
        text!(
            "已实施{n}项针对风险（{risks_zh}）的措施：{mz}",
            "{n} implemented measure(s) against the risk ({risks_en}): {me}"
        )
    };
    Precondition {
        condition: Condition::MeasureImplemented,
        holds: !targeted.is_empty(),
        detail,
    }
}

/// The words for "no threshold in force".
fn no_threshold(condition: Condition) -> Precondition {
    Precondition {
        condition,
        holds: false,
        detail: text!(
            "现行规则集没有设定监测范围，无法比较；请市级管理员录入",
            "the rule set in force sets no threshold, so income cannot be compared; the municipal administrator must enter it"
        ),
    }
}

fn above(f: &EliminationFacts) -> Precondition {
    let Some(threshold) = f.threshold else {
        return no_threshold(Condition::IncomeAboveThreshold);
    };
    let income = f.per_capita_net_income;
    let holds = income > threshold;
    let detail = if holds {
        text!(
            "人均纯收入{income}元，高于监测范围{threshold}元",
            "per-capita net income {income} yuan, above the threshold of {threshold} yuan"
        )
    } else {
        text!(
            "人均纯收入{income}元，不高于监测范围{threshold}元",
            "per-capita net income {income} yuan, not above the threshold of {threshold} yuan"
        )
    };
    Precondition {
        condition: Condition::IncomeAboveThreshold,
        holds,
        detail,
    }
}

fn stable(f: &EliminationFacts, today: Date) -> Precondition {
    let Some(threshold) = f.threshold else {
        return no_threshold(Condition::IncomeStable);
    };
    let from = add_months(today, -6);
    let mut history: Vec<(Date, Fen)> = f
        .income_history
        .iter()
        .copied()
        .filter(|(d, _)| *d <= today)
        .collect();
    history.sort_by_key(|(d, _)| *d);
    let start = history.iter().rposition(|(d, _)| *d <= from);
    let result = |holds, detail| Precondition {
        condition: Condition::IncomeStable,
        holds,
        detail,
    };
    let Some(start) = start else {
        let detail = match history.first() {
            None => text!(
                "没有人均纯收入的变化记录，无法确认近半年（自{from}）收入稳定",
                "no record of per-capita net income over time, so stability since {from} cannot be shown"
            ),
            Some((first, _)) => text!(
                "收入记录始于{first}，不足半年，无法确认自{from}以来收入稳定",
                "the income record starts on {first}, less than half a year ago, so stability since {from} cannot be shown"
            ),
        };
        return result(false, detail);
    };
    let window = &history[start..];
    if let Some((on, value)) = window.iter().find(|(_, v)| *v <= threshold) {
        let on = (*on).max(from);
        return result(
            false,
            text!(
                "{on}起人均纯收入为{value}元，不高于监测范围{threshold}元，近半年（自{from}）收入不稳定",
                "from {on} the per-capita net income was {value} yuan, not above the threshold of {threshold} yuan: not stable since {from}"
            ),
        );
    }
    let lowest = window.iter().map(|(_, v)| *v).min().unwrap_or(threshold);
    let changes = window.len() - 1;
    result(
        true,
        text!(
            "自{from}以来人均纯收入均高于监测范围{threshold}元（最低{lowest}元，其间变动{changes}次）",
            "since {from} the per-capita net income stayed above the threshold of {threshold} yuan (lowest {lowest} yuan, {changes} change(s))"
        ),
    )
}

fn needs(f: &EliminationFacts) -> Precondition {
    let holds = f.open_needs.is_empty();
    let detail = if holds {
        text!(
            "吃穿、义务教育、基本医疗、住房和饮水均无未解决的问题",
            "food and clothing, schooling, medical insurance, housing and water: nothing open"
        )
    } else {
        let (zh, en) = names(f.open_needs.iter().map(|n| (n.zh(), n.en())));
        text!("尚未解决：{zh}", "still open: {en}")
    };
    Precondition {
        condition: Condition::BasicNeedsMet,
        holds,
        detail,
    }
}

fn labour(f: &EliminationFacts) -> Precondition {
    let holds = !f.whole_household_without_labor;
    let detail = if holds {
        text!(
            "家中有具备劳动能力的成员",
            "a member has some labour ability"
        )
    } else {
        text!(
            "整户无劳动能力：落实兜底保障后继续监测，不标注风险消除",
            "no member can work: after safety-net measures the household stays monitored and is not marked eliminated"
        )
    };
    Precondition {
        condition: Condition::NotWithoutLabor,
        holds,
        detail,
    }
}

fn rigid(f: &EliminationFacts) -> Precondition {
    let result = |holds, detail| Precondition {
        condition: Condition::RigidSpendingResolved,
        holds,
        detail,
    };
    let Some(r) = f.rigid_spending else {
        return result(
            true,
            text!(
                "尚无入户核实记录的刚性支出；由风险消除的入户核实登记",
                "no home verification has recorded rigid spending yet; the elimination's home verification records it"
            ),
        );
    };
    let (on, amount) = (r.visited_on, r.amount);
    if !r.in_elimination {
        let large = amount >= LARGE_RIGID_SPENDING;
        let detail = if large {
            text!(
                "{on}入户核实登记刚性支出{amount}元，属较大支出（{LARGE_RIGID_SPENDING}元及以上）；风险消除的入户核实须确认其已稳定解决",
                "the home visit on {on} recorded rigid spending of {amount} yuan, large ({LARGE_RIGID_SPENDING} yuan or more); the elimination's home verification must find it stably resolved"
            )
        } else {
            text!(
                "{on}入户核实登记刚性支出{amount}元，低于{LARGE_RIGID_SPENDING}元",
                "the home visit on {on} recorded rigid spending of {amount} yuan, below {LARGE_RIGID_SPENDING} yuan"
            )
        };
        return result(true, detail);
    }
    match check_rigid_spending(amount, r.resolved) {
        Err(why) => result(false, why),
        Ok(()) if r.resolved && amount >= LARGE_RIGID_SPENDING => result(
            true,
            text!(
                "{on}风险消除入户核实登记刚性支出{amount}元，已确认稳定解决",
                "the elimination's home visit on {on} recorded rigid spending of {amount} yuan, marked stably resolved"
            ),
        ),
        Ok(()) => result(
            true,
            text!(
                "{on}风险消除入户核实登记刚性支出{amount}元，低于{LARGE_RIGID_SPENDING}元",
                "the elimination's home visit on {on} recorded rigid spending of {amount} yuan, below {LARGE_RIGID_SPENDING} yuan"
            ),
        ),
    }
}

/// Whether a home verification of a risk elimination may record this rigid spending: a large
/// amount must be marked stably resolved (DOMAIN.md 1.9 condition c: rigid spending
/// uncontrollable is a reason not to eliminate).
pub fn check_rigid_spending(amount: Fen, resolved: bool) -> Result<(), Text> {
    if amount >= LARGE_RIGID_SPENDING && !resolved {
        return Err(text!(
            "刚性支出{amount}元属较大支出（{LARGE_RIGID_SPENDING}元及以上），尚未确认稳定解决，不能消除风险。如已通过报销、救助或帮扶措施解决，请勾选“已稳定解决”并在说明中写明如何解决；否则请撤回本程序，继续监测帮扶",
            "rigid spending of {amount} yuan is large ({LARGE_RIGID_SPENDING} yuan or more) and not marked stably resolved, so the risk cannot be eliminated. If reimbursement, assistance or a measure has resolved it, tick 'stably resolved' and say how in the note; otherwise withdraw this case and keep monitoring"
        ));
    }
    Ok(())
}

/// The warning in words: number, source, day raised and status.
fn warning_words(w: &OpenWarning) -> (String, String) {
    let (id, on) = (w.id, w.raised_on);
    (
        format!("预警{id}（{}，{on}发出，{}）", w.source.zh, w.status.zh),
        format!(
            "warning {id} ({}, raised {on}, {})",
            w.source.en, w.status.en
        ),
    )
}

/// No new risk (DOMAIN.md 1.9 condition e): every active warning on the household stops the
/// elimination until it is verified, dismissed or closed.
pub fn check_no_new_risk(warnings: &[OpenWarning]) -> Result<(), Text> {
    if warnings.is_empty() {
        return Ok(());
    }
    let (zh, en) = names_owned(warnings.iter().map(warning_words));
    Err(text!(
        "该户有未办结的预警：{zh}。新的风险未排除前不能消除风险：请先入户核实，将预警核实（更新风险类型和帮扶措施）或排除",
        "the household has an unsettled warning: {en}. The risk cannot be eliminated while a new risk is open: verify the warning at home first and settle it (verified, with risk types and measures updated, or dismissed)"
    ))
}

fn names_owned(items: impl Iterator<Item = (String, String)>) -> (String, String) {
    let (zh, en): (Vec<_>, Vec<_>) = items.unzip();
    (zh.join("；"), en.join("; "))
}

fn no_new_risk(f: &EliminationFacts) -> Precondition {
    let (holds, detail) = match check_no_new_risk(&f.open_warnings) {
        Ok(()) => (
            true,
            text!(
                "该户没有未办结的预警",
                "the household has no unsettled warning"
            ),
        ),
        Err(why) => (false, why),
    };
    Precondition {
        condition: Condition::NoNewRisk,
        holds,
        detail,
    }
}

/// Whether the method may be recorded with these measures: eliminated by assistance needs an
/// implemented development-type measure (the national field 实施开发式帮扶措施情况 = 已实施).
pub fn check_method(method: EliminationMethod, measures: &[MeasureFact]) -> Result<(), Text> {
    let development = measures
        .iter()
        .any(|m| m.is_implemented() && m.category.kind() == MeasureKind::Development);
    match method {
        EliminationMethod::ByAssistance if !development => Err(text!(
            "“帮扶消除”要求已实施开发式帮扶措施（产业、就业、金融或公益岗位）；该户没有，请先落实并登记，或选择“自然消除”",
            "'eliminated by assistance' needs an implemented development-type measure (industry, employment, finance or public-welfare job); the household has none: record one first, or choose 'eliminated naturally'"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistance::{MeasureCategory, MeasureStatus};
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 12);

    fn implemented(category: MeasureCategory) -> MeasureFact {
        MeasureFact {
            category,
            status: MeasureStatus::Implemented,
            implemented_on: Some(date!(2026 - 05 - 01)),
            risk: None,
        }
    }

    /// Wang's household of story 5: every precondition holds.
    fn wang() -> EliminationFacts {
        EliminationFacts {
            identified_on: Some(date!(2026 - 04 - 12)),
            registered_on: date!(2024 - 01 - 01),
            risk_types: vec![RiskType::Illness],
            measures: vec![
                implemented(MeasureCategory::Health),
                implemented(MeasureCategory::PublicWelfareJob),
            ],
            per_capita_net_income: Fen::from_yuan(9_000),
            threshold: Some(Fen::from_yuan(7_500)),
            income_history: vec![
                (date!(2024 - 01 - 01), Fen::from_yuan(6_000)),
                (date!(2026 - 04 - 01), Fen::from_yuan(8_000)),
                (date!(2026 - 09 - 01), Fen::from_yuan(9_000)),
            ],
            open_needs: vec![],
            whole_household_without_labor: false,
            rigid_spending: Some(RigidSpending {
                visited_on: date!(2026 - 11 - 01),
                amount: Fen::from_yuan(1_200),
                resolved: false,
                in_elimination: true,
            }),
            open_warnings: vec![],
        }
    }

    fn screening_warning() -> OpenWarning {
        OpenWarning {
            id: 42,
            raised_on: date!(2026 - 11 - 03),
            source: Text::new("系统筛查", "registry screening"),
            status: Text::new("待分派", "new"),
        }
    }

    #[test]
    fn large_rigid_spending_must_be_resolved() {
        let large = |resolved, in_elimination| EliminationFacts {
            rigid_spending: Some(RigidSpending {
                visited_on: date!(2026 - 11 - 01),
                amount: Fen::from_yuan(23_400),
                resolved,
                in_elimination,
            }),
            ..wang()
        };
        let p = preconditions(&large(false, true), TODAY);
        assert_eq!(
            failing(&large(false, true), TODAY),
            [Condition::RigidSpendingResolved]
        );
        assert!(p[6].detail.zh.contains("23400.00元"), "{:?}", p[6]);
        assert!(
            p[6].detail.en.contains("tick 'stably resolved'"),
            "{:?}",
            p[6]
        );
        assert_eq!(failing(&large(true, true), TODAY), []);
        // An earlier visit (the identification's) informs; the elimination's own visit decides.
        let earlier = preconditions(&large(false, false), TODAY);
        assert!(earlier[6].holds);
        assert!(
            earlier[6]
                .detail
                .en
                .contains("must find it stably resolved")
        );
        let none = EliminationFacts {
            rigid_spending: None,
            ..wang()
        };
        assert_eq!(failing(&none, TODAY), []);
        // The line itself is large; a fen below is not.
        assert!(check_rigid_spending(LARGE_RIGID_SPENDING, false).is_err());
        assert!(check_rigid_spending(Fen(LARGE_RIGID_SPENDING.0 - 1), false).is_ok());
        assert!(check_rigid_spending(LARGE_RIGID_SPENDING, true).is_ok());
    }

    #[test]
    fn an_active_warning_blocks_elimination_until_settled() {
        let f = EliminationFacts {
            open_warnings: vec![screening_warning()],
            ..wang()
        };
        assert_eq!(failing(&f, TODAY), [Condition::NoNewRisk]);
        let why = check_no_new_risk(&f.open_warnings).unwrap_err();
        assert!(
            why.zh
                .contains("预警42（系统筛查，2026-11-03发出，待分派）"),
            "{why:?}"
        );
        assert!(
            why.en
                .contains("warning 42 (registry screening, raised 2026-11-03, new)"),
            "{why:?}"
        );
        assert!(check_no_new_risk(&[]).is_ok());
    }

    fn failing(f: &EliminationFacts, today: Date) -> Vec<Condition> {
        preconditions(f, today)
            .into_iter()
            .filter(|p| !p.holds)
            .map(|p| p.condition)
            .collect()
    }

    #[test]
    fn wang_may_start_the_elimination() {
        let p = preconditions(&wang(), TODAY);
        assert_eq!(
            p.iter().map(|x| x.condition).collect::<Vec<_>>(),
            Condition::ALL
        );
        assert!(all_hold(&p), "{p:#?}");
        assert_eq!(
            p[0].detail.en,
            "monitored 7 months, since 2026-04-12 (identification)"
        );
        assert!(p[1].detail.zh.contains("健康帮扶"), "{:?}", p[1]);
        assert!(p[3].detail.en.contains("lowest 8000.00 yuan"), "{:?}", p[3]);
        assert!(!all_hold(&[]));
    }

    #[test]
    fn six_months_to_the_day() {
        let f = wang();
        assert_eq!(failing(&f, date!(2026 - 10 - 12)), []);
        let early = preconditions(&f, date!(2026 - 10 - 11));
        assert!(!early[0].holds);
        assert!(
            early[0].detail.en.contains("reached on 2026-10-12"),
            "{:?}",
            early[0]
        );
        let unknown = EliminationFacts {
            identified_on: None,
            registered_on: date!(2026 - 06 - 01),
            ..wang()
        };
        let p = preconditions(&unknown, TODAY);
        assert!(!p[0].holds);
        assert!(p[0].detail.zh.contains("按在本系统建档日期计算"));
    }

    #[test]
    fn measures_must_address_the_risk() {
        let schooling_only = EliminationFacts {
            measures: vec![implemented(MeasureCategory::CompulsoryEducation)],
            ..wang()
        };
        let p = preconditions(&schooling_only, TODAY);
        assert!(!p[1].holds);
        assert!(p[1].detail.zh.contains("健康帮扶"), "{:?}", p[1]);
        let recorded_against = EliminationFacts {
            measures: vec![MeasureFact {
                risk: Some(RiskType::Illness),
                ..implemented(MeasureCategory::CompulsoryEducation)
            }],
            ..wang()
        };
        assert_eq!(failing(&recorded_against, TODAY), []);
        let planned = EliminationFacts {
            measures: vec![MeasureFact {
                status: MeasureStatus::Planned,
                implemented_on: None,
                ..implemented(MeasureCategory::Health)
            }],
            ..wang()
        };
        assert_eq!(failing(&planned, TODAY), [Condition::MeasureImplemented]);
        let no_risk = EliminationFacts {
            risk_types: vec![],
            ..wang()
        };
        assert_eq!(failing(&no_risk, TODAY), [Condition::MeasureImplemented]);
    }

    #[test]
    fn income_above_and_stable() {
        let at = EliminationFacts {
            per_capita_net_income: Fen::from_yuan(7_500),
            ..wang()
        };
        assert_eq!(failing(&at, TODAY), [Condition::IncomeAboveThreshold]);
        let dip = EliminationFacts {
            income_history: vec![
                (date!(2024 - 01 - 01), Fen::from_yuan(8_000)),
                (date!(2026 - 07 - 01), Fen::from_yuan(7_000)),
                (date!(2026 - 09 - 01), Fen::from_yuan(9_000)),
            ],
            ..wang()
        };
        let p = preconditions(&dip, TODAY);
        assert!(!p[3].holds);
        assert!(p[3].detail.zh.contains("2026-07-01起"), "{:?}", p[3]);
        let short = EliminationFacts {
            income_history: vec![(date!(2026 - 06 - 01), Fen::from_yuan(9_000))],
            ..wang()
        };
        let p = preconditions(&short, TODAY);
        assert!(!p[3].holds);
        assert!(
            p[3].detail.en.contains("starts on 2026-06-01"),
            "{:?}",
            p[3]
        );
        let none = EliminationFacts {
            income_history: vec![],
            ..wang()
        };
        assert_eq!(failing(&none, TODAY), [Condition::IncomeStable]);
        let no_threshold = EliminationFacts {
            threshold: None,
            ..wang()
        };
        assert_eq!(
            failing(&no_threshold, TODAY),
            [Condition::IncomeAboveThreshold, Condition::IncomeStable]
        );
    }

    #[test]
    fn open_needs_and_labour() {
        let f = EliminationFacts {
            open_needs: vec![BasicNeed::Water, BasicNeed::FoodAndClothing],
            whole_household_without_labor: true,
            ..wang()
        };
        let p = preconditions(&f, TODAY);
        assert_eq!(
            failing(&f, TODAY),
            [Condition::BasicNeedsMet, Condition::NotWithoutLabor]
        );
        assert!(
            p[4].detail.zh.contains("饮水出现安全问题、吃穿有困难"),
            "{:?}",
            p[4]
        );
    }

    #[test]
    fn by_assistance_needs_a_development_measure() {
        let health = [implemented(MeasureCategory::Health)];
        let safety_net = [implemented(MeasureCategory::SocialSecurity)];
        let job = [implemented(MeasureCategory::PublicWelfareJob)];
        let planned_job = [MeasureFact {
            status: MeasureStatus::Planned,
            ..implemented(MeasureCategory::PublicWelfareJob)
        }];
        assert!(check_method(EliminationMethod::ByAssistance, &health).is_err());
        assert!(check_method(EliminationMethod::ByAssistance, &safety_net).is_err());
        assert!(check_method(EliminationMethod::ByAssistance, &planned_job).is_err());
        assert!(check_method(EliminationMethod::ByAssistance, &job).is_ok());
        assert!(check_method(EliminationMethod::Natural, &[]).is_ok());
    }

    proptest! {
        /// Stability is exactly: the value in effect six months ago and every later one are
        /// above the threshold, with history that reaches back that far.
        #[test]
        fn stability_matches_its_definition(
            points in proptest::collection::vec((0i64..1_000, 7_000i64..8_000), 0..6),
        ) {
            let threshold = Fen::from_yuan(7_500);
            let history: Vec<(Date, Fen)> = points
                .iter()
                .map(|&(d, y)| (TODAY - time::Duration::days(d), Fen::from_yuan(y)))
                .collect();
            let f = EliminationFacts { income_history: history.clone(), ..wang() };
            let from = add_months(TODAY, -6);
            let in_effect = history.iter().filter(|(d, _)| *d <= from).max_by_key(|(d, _)| *d);
            let expected = in_effect.is_some_and(|&(start, v)| {
                v > threshold && history.iter().filter(|(d, _)| *d > start).all(|(_, v)| *v > threshold)
            });
            prop_assert_eq!(stable(&f, TODAY).holds, expected);
        }
    }
}
