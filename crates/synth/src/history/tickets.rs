//! The public line's tickets over the years (decision 0019): questions, complaints, suggestions
//! and reports about a county's villages arrive at a steady rate; most are assigned to a county
//! officer, answered within the time limit and closed, some late, and the latest still open,
//! some past their limit. Each is checked by the portal form's own rules
//! (`TicketForm::check`) and every step by `ticket_step_allowed`; a refusal is a bug here.

use crate::names;
use crate::rng::Rng;
use time::{Date, Duration};
use zhenxing_core::DivisionCode;
use zhenxing_core::history::{TicketAnswer, TicketHistory};
use zhenxing_core::portal::{
    PortalPolicy, TicketCategory, TicketForm, TicketKind, TicketStatus, TicketStep,
    ticket_step_allowed,
};

/// What the public writes: kind, category, subject, body, and the answer it gets.
const MATTERS: [(TicketKind, TicketCategory, &str, &str, &str); 9] = [
    (
        TicketKind::Consultation,
        TicketCategory::Monitoring,
        "防止返贫监测纳入条件咨询",
        "请问家庭人均纯收入多少以下可以申请纳入防止返贫监测？需要准备哪些材料，到哪里办理？",
        "您好：家庭人均纯收入低于当年监测范围，或因病、因灾等刚性支出较大导致基本生活出现困难的，可向村委会提出申请，也可通过“渝悦·防贫”一键申报，村干部将在规定时间内入户核实。",
    ),
    (
        TicketKind::Consultation,
        TicketCategory::PolicyExecution,
        "雨露计划补助申请",
        "孩子今年考上高职，请问雨露计划补助怎么申请，每年什么时候发放？",
        "您好：脱贫家庭和监测对象家庭子女接受中高职教育的，可在每学期开学后向村委会提交学籍证明申请雨露计划补助，经乡镇审核、区县审批后按学期发放。",
    ),
    (
        TicketKind::Complaint,
        TicketCategory::PolicyExecution,
        "产业补助迟迟未到位",
        "去年申报的中蜂养殖产业补助至今没有发放，多次询问村里都说在等审批，请帮忙查询进度。",
        "您好：经核查，您申报的产业补助已于本月完成区县审批，资金将于十五个工作日内拨付到您的一卡通账户，请注意查收。",
    ),
    (
        TicketKind::Complaint,
        TicketCategory::Monitoring,
        "申报困难后无人上门核实",
        "上个月通过一键申报反映家里有人住院、开支很大，到现在还没有干部上门核实情况。",
        "您好：经核查，您的申报因村干部信息录入延误未及时分派，乡镇已督促村干部于三日内入户核实，并对相关人员进行了提醒谈话。",
    ),
    (
        TicketKind::Suggestion,
        TicketCategory::Projects,
        "建议硬化产业便道",
        "村里柑橘园到公路没有硬化便道，雨天运输非常困难，建议纳入明年的衔接资金项目库。",
        "您好：感谢您的建议。该便道已由村委会申报，经乡镇初审后纳入区县巩固衔接项目库，将按年度计划分批实施。",
    ),
    (
        TicketKind::Suggestion,
        TicketCategory::Other,
        "建议增加技能培训场次",
        "村里留守劳动力想学电工和焊工技术，建议在农闲时节多组织几期就近技能培训。",
        "您好：感谢您的建议。区县人力社保部门已将贵村纳入今冬农村劳动力技能培训计划，具体时间将在村务公开栏公示。",
    ),
    (
        TicketKind::Report,
        TicketCategory::Funds,
        "反映村道项目资金使用问题",
        "村里修路项目实际铺设长度与公示牌上的不一致，请核查项目资金使用情况。",
        "您好：经区县纪检和审计部门现场核查，该项目因地质原因变更了部分线路，变更已履行审批程序，资金使用符合规定，相关变更情况已在村务公开栏补充公示。",
    ),
    (
        TicketKind::Report,
        TicketCategory::CadreConduct,
        "反映村干部在低保评议中优亲厚友",
        "有村干部在低保评议中照顾亲属，把不符合条件的亲戚评上了，请调查。",
        "您好：经区县纪检部门调查核实，所反映问题部分属实，已取消不符合条件人员的低保待遇，并对相关村干部给予批评教育。",
    ),
    (
        TicketKind::Consultation,
        TicketCategory::Funds,
        "小额信贷贴息咨询",
        "想申请脱贫人口小额信贷发展养殖，请问额度是多少，利息怎么贴？",
        "您好：脱贫户和监测户可申请5万元以下、期限3年以内的小额信贷，财政按规定贴息，请携带身份证到村委会或当地农商行网点申请。",
    ),
];

/// Tickets a year per thousand households of the county.
const PER_THOUSAND_HOUSEHOLDS_A_YEAR: f64 = 0.6;

/// The tickets of a county from the first month of the transition to `today`, about the
/// villages in `villages`.
pub(super) fn simulate(
    rng: &mut Rng,
    villages: &[DivisionCode],
    households: usize,
    first: Date,
    today: Date,
) -> Result<Vec<TicketHistory>, String> {
    let policy = PortalPolicy::default();
    if villages.is_empty() || today <= first {
        return Ok(Vec::new());
    }
    let years = (today - first).whole_days() as f64 / 365.0;
    let count = (households as f64 / 1000.0 * PER_THOUSAND_HOUSEHOLDS_A_YEAR * years)
        .round()
        .max(2.0) as usize;
    let mut officers: Vec<String> = Vec::new();
    for _ in 0..3 {
        officers.push(names::someone(rng, 0.5, 1975, 20).0.as_str().to_owned());
    }
    let span = (today - first).whole_days();
    let mut tickets = Vec::with_capacity(count);
    for n in 0..count {
        // The last arrives in the last weeks, so that some are still open today.
        let received_on = if n + 1 == count {
            today - Duration::days(rng.range(0, 25))
        } else {
            first + Duration::days(rng.range(0, span))
        };
        let (kind, category, subject, body, answer) = MATTERS[rng.index(MATTERS.len())];
        let named = kind != TicketKind::Report && rng.chance(0.6);
        let requester = if named {
            names::someone(rng, 0.5, 1950, 50).0.as_str().to_owned()
        } else {
            String::new()
        };
        let form = TicketForm {
            kind: kind.code().into(),
            category: category.code().into(),
            division: villages[rng.index(villages.len())].as_str().into(),
            subject: subject.into(),
            body: body.into(),
            named: named.then(|| "on".into()),
            requester,
            phone: if named {
                names::phone(rng).as_str().to_owned()
            } else {
                String::new()
            },
            names_person: None,
            privacy: Some("on".into()),
        };
        let ticket = form
            .check()
            .map_err(|e| format!("a synthetic ticket is refused: {e:?}"))?;
        let due_on = received_on + Duration::days(policy.ticket_limit_days);
        let mut t = TicketHistory {
            ticket,
            received_on,
            due_on,
            assigned: None,
            answer: None,
            closed_on: None,
            status: TicketStatus::Received,
        };
        let step = |t: &mut TicketHistory, step: TicketStep| {
            ticket_step_allowed(t.status, step).map_err(|why| why.en)?;
            t.status = step.target();
            Ok::<(), String>(())
        };
        let officer = officers[rng.index(officers.len())].clone();
        let assigned_on = received_on + Duration::days(rng.range(0, 3));
        if assigned_on > today {
            tickets.push(t);
            continue;
        }
        step(&mut t, TicketStep::Assign)?;
        t.assigned = Some((officer.clone(), assigned_on));
        // Most are answered within the limit, some late; the latest may still wait.
        let days = if rng.chance(0.88) {
            rng.range(2, policy.ticket_limit_days)
        } else {
            rng.range(policy.ticket_limit_days + 1, policy.ticket_limit_days + 20)
        };
        let answered_on = assigned_on + Duration::days(days);
        if answered_on > today {
            tickets.push(t);
            continue;
        }
        step(&mut t, TicketStep::Answer)?;
        t.answer = Some(TicketAnswer {
            text: answer.into(),
            by: officer,
            on: answered_on,
        });
        let closed_on = answered_on + Duration::days(rng.range(1, 10));
        if closed_on <= today {
            step(&mut t, TicketStep::Close)?;
            t.closed_on = Some(closed_on);
        }
        tickets.push(t);
    }
    tickets.sort_by_key(|t| t.received_on);
    Ok(tickets)
}
