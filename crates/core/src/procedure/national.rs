//! 录入建档 (DOMAIN.md 1.7 step 7, and the flag of 1.9): who may record a completed case's entry
//! in the national monitoring system, once, and what a national record number may hold.

use super::{CaseState, Stage};
use crate::access::Role;
use crate::lang::Text;
use crate::text;

/// The longest national record number accepted (the national household number has 20 to 22
/// characters; the rest is room for a system's prefix).
pub const MAX_RECORD_NUMBER_CHARS: usize = 40;

pub(super) fn may_record_national(state: &CaseState, role: Role) -> Result<(), Text> {
    if state.stage != Stage::Completed {
        return Err(text!(
            "结果公告、程序办结后才能录入建档",
            "a case is entered in the national system once it is announced and completed"
        ));
    }
    if let Some(day) = state.recorded_on {
        return Err(text!(
            "该程序已于{day}录入全国防返贫监测信息系统；如需更正，请联系区县管理员",
            "this case was entered in the national system on {day}; ask the county's administrator to correct it"
        ));
    }
    if !matches!(role, Role::TownshipOfficer | Role::CountyOfficer) {
        return Err(text!(
            "录入建档由乡镇或区县工作人员办理",
            "entry in the national system is recorded by a township or county officer"
        ));
    }
    Ok(())
}

/// A national record number as typed: trimmed, empty for none; letters, digits and hyphens.
pub fn check_record_number(number: &str) -> Result<Option<String>, Text> {
    let number = number.trim();
    if number.is_empty() {
        return Ok(None);
    }
    let n = number.chars().count();
    if n > MAX_RECORD_NUMBER_CHARS {
        return Err(text!(
            "全国系统编号过长（{n}位），至多{MAX_RECORD_NUMBER_CHARS}位；没有编号时请留空",
            "the national record number is too long ({n} characters, at most {MAX_RECORD_NUMBER_CHARS}); leave it empty when there is none"
        ));
    }
    if let Some(bad) = number
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(text!(
            "全国系统编号只能包含字母、数字和连字符，不能包含“{bad}”",
            "the national record number has only letters, digits and hyphens, not '{bad}'"
        ));
    }
    Ok(Some(number.to_owned()))
}
