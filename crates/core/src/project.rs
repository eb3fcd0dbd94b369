//! The county project library (项目库, issue 20, first step): a project's lifecycle as a state
//! machine, like the procedures', and the money rules around it. Pure: the store and the pages
//! come in later steps of the issue.
//!
//! DOMAIN.md 5.1: funds go only to projects in the county library; a project is proposed by a
//! township or village, reviewed by the county, admitted, put in the year's plan, funded by the
//! county finance bureau, built, accepted (验收), its assets handed over, and archived. A
//! rejection, with its reason, can end it at any step before the funds are issued. A category on
//! the negative list (负面清单) is never admitted. The share of the year's funds spent on
//! industry development must reach a configurable minimum (DOMAIN.md 5.1: above 55% in 2022,
//! 60% from 2023). Money is integer fen, and a balance never goes below zero.

use crate::enums::labelled_enum;
use crate::lang::Text;
use crate::money::Fen;
use crate::text;

labelled_enum!(
    /// Where a project stands.
    ProjectStage, "项目阶段", "project stage", [
    (Proposed, "proposed", "乡村申报", "proposed"),
    (Reviewed, "reviewed", "县级审核通过", "reviewed by the county"),
    (Admitted, "admitted", "已入库", "admitted to the library"),
    (Planned, "planned", "已列入年度计划", "in the year's plan"),
    (Funded, "funded", "资金已下达", "funds issued"),
    (UnderConstruction, "under_construction", "实施中", "under construction"),
    (Accepted, "accepted", "已验收", "accepted"),
    (HandedOver, "handed_over", "资产已移交", "assets handed over"),
    (Archived, "archived", "已归档", "archived"),
    (Rejected, "rejected", "未通过", "rejected"),
]);

labelled_enum!(
    /// A step of a project's lifecycle.
    ProjectStep, "项目环节", "project step", [
    (Review, "review", "县级审核", "county review"),
    (Admit, "admit", "入库", "admission to the library"),
    (Plan, "plan", "列入年度计划", "into the year's plan"),
    (IssueFunds, "issue_funds", "下达资金", "issuing the funds"),
    (Start, "start", "开工", "start of construction"),
    (Accept, "accept", "验收", "acceptance"),
    (HandOver, "hand_over", "资产移交", "handing over the assets"),
    (Archive, "archive", "归档", "archiving"),
    (Reject, "reject", "不予通过", "rejection"),
]);

labelled_enum!(
    /// What a project is for (DOMAIN.md 5.1); industry development counts toward the share.
    ProjectCategory, "项目类别", "project category", [
    (Industry, "industry", "产业发展", "industry development"),
    (Employment, "employment", "就业帮扶", "employment"),
    (Infrastructure, "infrastructure", "乡村建设（基础设施）", "rural infrastructure"),
    (PublicServices, "public_services", "公共服务", "public services"),
    (Governance, "governance", "乡村治理", "rural governance"),
    (Other, "other", "其他", "other"),
]);

labelled_enum!(
    /// Where a project's money comes from (issue 20 item 1).
    FundingSource, "资金来源", "funding source", [
    (CentralLinkage, "central_linkage", "中央衔接资金", "central linkage funds"),
    (Municipal, "municipal", "市级资金", "municipal funds"),
    (County, "county", "区县资金", "county funds"),
    (Integrated, "integrated", "统筹整合涉农资金", "integrated agriculture-related funds"),
    (EastWest, "east_west", "东西部协作资金", "east-west cooperation funds"),
    (Donation, "donation", "社会捐赠", "social donations"),
]);

impl ProjectStage {
    /// No step leaves it.
    pub fn is_final(self) -> bool {
        matches!(self, ProjectStage::Archived | ProjectStage::Rejected)
    }
}

/// The stage `step` leads to from `stage`, or why it cannot be taken. A rejection needs its
/// reason (`reason`, trimmed, not empty) and is possible only before the funds are issued;
/// admission is refused for a category on `negative_list`.
pub fn next_stage(
    stage: ProjectStage,
    step: ProjectStep,
    category: ProjectCategory,
    negative_list: &[ProjectCategory],
    reason: &str,
) -> Result<ProjectStage, Text> {
    use ProjectStage as S;
    use ProjectStep as P;
    let next = match (stage, step) {
        (S::Proposed, P::Review) => S::Reviewed,
        (S::Reviewed, P::Admit) => {
            if negative_list.contains(&category) {
                let c = category.zh();
                let e = category.en();
                return Err(text!(
                    "“{c}”类项目在负面清单上，不能入库",
                    "a project of the category '{e}' is on the negative list and cannot be admitted"
                ));
            }
            S::Admitted
        }
        (S::Admitted, P::Plan) => S::Planned,
        (S::Planned, P::IssueFunds) => S::Funded,
        (S::Funded, P::Start) => S::UnderConstruction,
        (S::UnderConstruction, P::Accept) => S::Accepted,
        (S::Accepted, P::HandOver) => S::HandedOver,
        (S::HandedOver, P::Archive) => S::Archived,
        (S::Proposed | S::Reviewed | S::Admitted | S::Planned, P::Reject) => {
            if reason.trim().is_empty() {
                return Err(text!("不予通过须写明理由", "a rejection needs its reason"));
            }
            S::Rejected
        }
        _ => {
            let (sz, se) = (stage.zh(), stage.en());
            let (pz, pe) = (step.zh(), step.en());
            return Err(text!(
                "项目处于“{sz}”阶段，不能进行“{pz}”",
                "a project at the stage '{se}' cannot take the step '{pe}'"
            ));
        }
    };
    Ok(next)
}

/// The money left of an allocation: what was allocated less what was disbursed, never below
/// zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub allocated: Fen,
    pub disbursed: Fen,
}

impl Balance {
    pub fn new(allocated: Fen) -> Balance {
        Balance {
            allocated,
            disbursed: Fen::ZERO,
        }
    }

    pub fn left(self) -> Fen {
        Fen(self.allocated.0 - self.disbursed.0)
    }

    /// The balance after disbursing `amount`, or why not (not positive, or more than is left).
    pub fn disburse(self, amount: Fen) -> Result<Balance, Text> {
        if amount.0 <= 0 {
            return Err(text!(
                "拨付金额须大于零",
                "a disbursement must be more than zero"
            ));
        }
        if amount.0 > self.left().0 {
            let (a, l) = (amount.to_string(), self.left().to_string());
            return Err(text!(
                "拨付{a}元超过余额{l}元",
                "a disbursement of {a} yuan is more than the {l} yuan left"
            ));
        }
        Ok(Balance {
            disbursed: Fen(self.disbursed.0 + amount.0),
            ..self
        })
    }
}

/// The minimum share of a year's funds for industry development, in percent: the last rule not
/// after `year` (DOMAIN.md 5.1; a configurable table, these are the defaults).
pub const INDUSTRY_SHARE_MINIMUM: &[(i32, u8)] = &[(2022, 55), (2023, 60)];

/// The minimum industry share (percent) in force in `year` under `table`, if any.
pub fn industry_minimum(table: &[(i32, u8)], year: i32) -> Option<u8> {
    table
        .iter()
        .filter(|(y, _)| *y <= year)
        .max_by_key(|(y, _)| *y)
        .map(|(_, p)| *p)
}

/// The share of `spent` (by category) that went to industry development, in hundredths of a
/// percent (5,512 is 55.12%); `None` when nothing was spent.
pub fn industry_share(spent: &[(ProjectCategory, Fen)]) -> Option<i64> {
    let total: i64 = spent.iter().map(|(_, f)| f.0).sum();
    if total <= 0 {
        return None;
    }
    let industry: i64 = spent
        .iter()
        .filter(|(c, _)| *c == ProjectCategory::Industry)
        .map(|(_, f)| f.0)
        .sum();
    Some(((i128::from(industry) * 10_000) / i128::from(total)) as i64)
}

#[cfg(test)]
mod tests;
