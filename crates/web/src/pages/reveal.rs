//! Why a full ID or phone number is asked for (issue 18 item 6): every reveal form asks for a
//! purpose, which the audit record of the reveal keeps; a reveal without one is refused and
//! shows nothing.

use serde::Deserialize;
use zhenxing_core::Text;

/// The purposes a reveal form offers: (code, Chinese, English).
pub const PURPOSES: [(&str, &str, &str); 4] = [
    (
        "verification",
        "入户核实或数据比对需要核对证件号码",
        "checking the ID number for a verification or a data comparison",
    ),
    ("contact", "需要联系本人", "contacting the person"),
    (
        "procedure",
        "办理程序或上报需要完整号码",
        "a procedure or an upward report needs the full number",
    ),
    ("other", "其他（请说明）", "other (say which)"),
];

/// The longest note kept with "other".
const MAX_NOTE_CHARS: usize = 200;

/// The purpose fields of a reveal form.
#[derive(Debug, Default, Deserialize)]
pub struct PurposeForm {
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub purpose_note: String,
}

impl PurposeForm {
    /// The purpose in words for the audit record ("用途：需要联系本人"), or why the form is
    /// refused: no purpose chosen, an unknown one, or "other" without a note.
    pub fn check(&self) -> Result<String, Text> {
        let code = self.purpose.trim();
        let note: String = self
            .purpose_note
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NOTE_CHARS)
            .collect();
        let Some((_, zh, _)) = PURPOSES.iter().find(|(c, _, _)| *c == code) else {
            return Err(Text::new(
                "请选择查看完整号码的用途：用途会记入审计记录",
                "choose why the full numbers are needed: the purpose goes into the audit trail",
            ));
        };
        match (code, note.is_empty()) {
            ("other", true) => Err(Text::new(
                "选择“其他”时请说明用途",
                "say what the numbers are needed for when choosing 'other'",
            )),
            (_, true) => Ok(format!("用途：{zh}")),
            (_, false) => Ok(format!(
                "用途：{zh}；{}",
                zhenxing_core::mask::mask_free_text(&note)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(purpose: &str, note: &str) -> PurposeForm {
        PurposeForm {
            purpose: purpose.into(),
            purpose_note: note.into(),
        }
    }

    #[test]
    fn a_reveal_needs_a_purpose_and_other_needs_words() {
        assert!(form("", "").check().is_err());
        assert!(form("curiosity", "").check().is_err());
        assert!(form("other", "  ").check().is_err());
        assert_eq!(form("contact", "").check().unwrap(), "用途：需要联系本人");
        let other = form("other", "县纪委核查 500229198203150139")
            .check()
            .unwrap();
        assert!(other.starts_with("用途：其他"), "{other}");
        assert!(
            !other.contains("500229198203150139"),
            "numbers in the note are masked"
        );
    }
}
