//! The public portal (issue 7): what a visitor may submit and the rules of its handling, pure.
//!
//! - A **self-declaration** (农户自主申报, DOMAIN.md 1.6, the first discovery channel):
//!   [`DeclarationForm::check`] turns the form's fields into a [`Declaration`] or every
//!   [`FieldError`]. It becomes a lead in the township's warnings inbox.
//! - A **ticket** of the line that took over from 12317 (DOMAIN.md 5.6): a consultation, a
//!   report (举报), a complaint or a suggestion, in a [`TicketCategory`], named or anonymous;
//!   [`TicketForm::check`]. Its handling is [`TicketStatus`] and [`ticket_step_allowed`].
//! - [`PortalPolicy`]: the time limits (acceptance of a declaration, answer to a ticket).
//! - [`may_read_person_report`]: who reads a report about a person.
//!
//! Every limit here is a resource limit as much as a rule: a public form takes no more than it
//! needs (PIPL minimisation, SECURITY.md "Resource control").

use crate::access::Role;
use crate::assistance::FieldError;
use crate::division::{DivisionCode, DivisionLevel};
use crate::enums::labelled_enum;
use crate::id_number::IdNumber;
use crate::lang::Text;
use crate::monitoring::RiskType;
use crate::text;
use crate::text::{Lines, PersonName, Phone, check_characters};
use time::Date;

/// The version of the privacy statement and commitment texts a visitor agrees to; stored with
/// each declaration and ticket so that what was agreed can be shown later. Change it whenever
/// the texts in the locale files change.
pub const CONSENT_VERSION: &str = "2026-12-01";

/// The longest free text of a declaration or ticket, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// The longest subject of a ticket.
pub const MAX_SUBJECT_CHARS: usize = 100;
/// The shortest account of what happened or of a ticket's matter: "无" says nothing.
pub const MIN_TEXT_CHARS: usize = 5;
/// The most files a ticket carries (photos of a noticeboard, receipts, a scanned letter).
pub const MAX_TICKET_FILES: usize = 3;

labelled_enum!(
    /// What happened to the household, as the declaration form lists it (issue 7).
    DeclarationEvent, "申报事由", "what happened", [
    (Illness, "illness", "家人患重病", "serious illness"),
    (Accident, "accident", "意外事故", "accident"),
    (Disaster, "disaster", "自然灾害", "natural disaster"),
    (JobLoss, "job_loss", "失业或务工收入骤减", "loss of work"),
    (Schooling, "schooling", "子女上学费用负担重", "schooling costs"),
    (Housing, "housing", "住房不安全", "unsafe housing"),
    (Other, "other", "其他困难", "other hardship"),
]);

impl DeclarationEvent {
    /// The risk type (DOMAIN.md 1.5) the lead is raised under.
    pub fn risk(self) -> RiskType {
        match self {
            DeclarationEvent::Illness => RiskType::Illness,
            DeclarationEvent::Accident => RiskType::Accident,
            DeclarationEvent::Disaster => RiskType::NaturalDisaster,
            DeclarationEvent::JobLoss => RiskType::UnstableEmployment,
            DeclarationEvent::Schooling => RiskType::Schooling,
            DeclarationEvent::Housing => RiskType::UnsafeHousing,
            DeclarationEvent::Other => RiskType::Other,
        }
    }
}

labelled_enum!(
    /// The kinds of ticket of the line (DOMAIN.md 5.6: 咨询/举报投诉/意见建议).
    TicketKind, "诉求类型", "kind of request", [
    (Consultation, "consultation", "咨询", "question"),
    (Report, "report", "举报", "report of wrongdoing"),
    (Complaint, "complaint", "投诉", "complaint"),
    (Suggestion, "suggestion", "意见建议", "suggestion"),
]);

labelled_enum!(
    /// What a ticket is about (DOMAIN.md 5.6: funds, projects, policy execution).
    TicketCategory, "诉求类别", "category", [
    (Funds, "funds", "资金使用", "use of funds"),
    (Projects, "projects", "项目实施", "projects"),
    (PolicyExecution, "policy_execution", "政策落实", "policy execution"),
    (CadreConduct, "cadre_conduct", "干部作风", "conduct of cadres"),
    (Monitoring, "monitoring", "防返贫监测帮扶", "monitoring and assistance"),
    (Other, "other", "其他", "other"),
]);

labelled_enum!(
    /// Where a ticket stands.
    TicketStatus, "办理状态", "status", [
    (Received, "received", "已受理，待分派", "received, waiting to be assigned"),
    (Assigned, "assigned", "办理中", "being handled"),
    (Answered, "answered", "已答复", "answered"),
    (Closed, "closed", "已办结", "closed"),
]);

impl TicketStatus {
    /// Received and assigned tickets wait for an answer: the time limit runs for them.
    pub fn is_open(self) -> bool {
        matches!(self, TicketStatus::Received | TicketStatus::Assigned)
    }
}

/// A step an officer takes on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStep {
    /// To an officer of the ticket's county (or reassigned).
    Assign,
    /// The answer the requester reads with the tracking code.
    Answer,
    /// Done: nothing more happens.
    Close,
}

impl TicketStep {
    pub const ALL: [TicketStep; 3] = [TicketStep::Assign, TicketStep::Answer, TicketStep::Close];

    pub fn code(self) -> &'static str {
        match self {
            TicketStep::Assign => "assign",
            TicketStep::Answer => "answer",
            TicketStep::Close => "close",
        }
    }

    pub fn from_code(code: &str) -> Option<TicketStep> {
        TicketStep::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The status the ticket takes.
    pub fn target(self) -> TicketStatus {
        match self {
            TicketStep::Assign => TicketStatus::Assigned,
            TicketStep::Answer => TicketStatus::Answered,
            TicketStep::Close => TicketStatus::Closed,
        }
    }
}

/// Whether `step` may be taken on a ticket in `status`, or why not. An answer may be corrected
/// (answered again) until the ticket is closed; a ticket is closed only once answered, so that
/// nobody closes a ticket without telling the requester anything.
pub fn ticket_step_allowed(status: TicketStatus, step: TicketStep) -> Result<(), Text> {
    let ok = match step {
        TicketStep::Assign => status.is_open(),
        TicketStep::Answer => status != TicketStatus::Closed,
        TicketStep::Close => status == TicketStatus::Answered,
    };
    if ok {
        Ok(())
    } else {
        let (zh, en) = (status.zh(), status.en());
        Err(text!(
            "诉求当前状态为“{zh}”，不能进行此操作",
            "the ticket is {en}: this step is not possible now"
        ))
    }
}

/// Who reads a report (举报) about a person: the officers of the ticket's county whom the
/// administrator designated (`designated`). The auditor reads the audit trail only (issue 15). A township officer never does,
/// nor an undesignated county officer: the report may be about them or their colleagues.
pub fn may_read_person_report(role: Role, designated: bool) -> bool {
    match role {
        Role::CountyOfficer => designated,
        _ => false,
    }
}

/// Whether a ticket is a report about a person: a report of a cadre's conduct always is, and
/// any report whose requester says it names a person.
pub fn is_person_report(kind: TicketKind, category: TicketCategory, names_person: bool) -> bool {
    kind == TicketKind::Report && (category == TicketCategory::CadreConduct || names_person)
}

/// The portal's time limits, in calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalPolicy {
    /// A self-declaration is accepted (assigned for home verification) by the township within
    /// this many days (DOMAIN.md 5.6: Anhui's 2 days).
    pub declaration_accept_days: i64,
    /// A ticket is answered within this many days (DOMAIN.md 5.6: Inner Mongolia's 15).
    pub ticket_limit_days: i64,
}

impl Default for PortalPolicy {
    fn default() -> PortalPolicy {
        PortalPolicy {
            declaration_accept_days: 2,
            ticket_limit_days: 15,
        }
    }
}

impl PortalPolicy {
    /// Every value out of its range, in words.
    pub fn check(&self) -> Result<(), Vec<Text>> {
        let mut problems = Vec::new();
        if !(1..=15).contains(&self.declaration_accept_days) {
            let n = self.declaration_accept_days;
            problems.push(text!(
                "申报受理时限应为1至15天，这里是{n}",
                "the time to accept a declaration must be 1 to 15 days, not {n}"
            ));
        }
        if !(1..=60).contains(&self.ticket_limit_days) {
            let n = self.ticket_limit_days;
            problems.push(text!(
                "诉求办理时限应为1至60天，这里是{n}",
                "the time limit of a ticket must be 1 to 60 days, not {n}"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// A checkbox as a form sends it: present (any value) means ticked.
fn ticked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.trim().is_empty())
}

/// A free text, trimmed, within `min..=max` characters, with line breaks and tabs only where
/// `lines` allows them and none of the characters [`check_characters`] refuses.
fn free_text(
    field: &'static str,
    what: (&str, &str),
    input: &str,
    (min, max): (usize, usize),
    lines: Lines,
) -> Result<String, FieldError> {
    let s = input.trim();
    let n = s.chars().count();
    let (zh, en) = what;
    if n < min {
        // Only required fields have a minimum.
        return Err(FieldError::new(
            field,
            text!(
                "请填写{zh}（至少{min}个字）",
                "please write {en} (at least {min} characters)"
            ),
        ));
    }
    if n > max {
        return Err(FieldError::new(
            field,
            text!(
                "{zh}过长：最多{max}个字，这里有{n}个",
                "{en} is too long: at most {max} characters, this has {n}"
            ),
        ));
    }
    if let Err(e) = check_characters(s, lines) {
        let t = e.text();
        return Err(FieldError::new(
            field,
            Text::new(format!("{zh}：{}", t.zh), format!("{en}: {}", t.en)),
        ));
    }
    Ok(s.to_owned())
}

fn name(field: &'static str, input: &str) -> Result<PersonName, FieldError> {
    PersonName::parse(input).map_err(|e| {
        let t = e.text();
        FieldError::new(
            field,
            Text::new(format!("姓名{}", t.zh), format!("the name {}", t.en)),
        )
    })
}

fn phone(field: &'static str, input: &str) -> Result<Phone, FieldError> {
    Phone::parse(input).map_err(|e| {
        let t = e.text();
        FieldError::new(
            field,
            Text::new(format!("联系电话：{}", t.zh), format!("phone: {}", t.en)),
        )
    })
}

fn agreed(field: &'static str, value: &Option<String>, what: (&str, &str)) -> Option<FieldError> {
    let (zh, en) = what;
    (!ticked(value)).then(|| {
        FieldError::new(
            field,
            text!("请阅读并勾选同意{zh}", "please read and agree to {en}"),
        )
    })
}

/// The self-declaration form as submitted: every field as text, checkboxes as present or not.
#[derive(Debug, Clone, Default)]
pub struct DeclarationForm {
    pub applicant: String,
    pub id_number: String,
    /// The village's 12-digit code, chosen from the division tree.
    pub village: String,
    pub phone: String,
    /// The codes of [`DeclarationEvent`] ticked.
    pub events: Vec<String>,
    pub account: String,
    pub commitment: Option<String>,
    pub authorisation: Option<String>,
    pub privacy: Option<String>,
}

/// A checked self-declaration.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub applicant: PersonName,
    pub id_number: IdNumber,
    pub village: DivisionCode,
    pub phone: Phone,
    pub events: Vec<DeclarationEvent>,
    pub account: String,
}

impl DeclarationForm {
    /// The declaration, or every problem with the field it belongs to. The village must be a
    /// village-level code; whether it exists is the store's to say.
    pub fn check(&self, today: Date) -> Result<Declaration, Vec<FieldError>> {
        let mut errors = Vec::new();
        let applicant = name("applicant", &self.applicant).map_err(|e| errors.push(e));
        let id_number = IdNumber::parse_at(&self.id_number, today).map_err(|e| {
            let t = e.text();
            errors.push(FieldError::new(
                "id_number",
                Text::new(
                    format!("身份证号：{}", t.zh),
                    format!("ID number: {}", t.en),
                ),
            ))
        });
        let village = village_code("village", &self.village).map_err(|e| errors.push(e));
        let phone = phone("phone", &self.phone).map_err(|e| errors.push(e));
        let mut events = Vec::new();
        for code in &self.events {
            match DeclarationEvent::from_code(code) {
                Some(e) if !events.contains(&e) => events.push(e),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    "events",
                    text!(
                        "“{code}”不是可选的事由",
                        "'{code}' is not one of the choices"
                    ),
                )),
            }
        }
        if events.is_empty() && self.events.is_empty() {
            errors.push(FieldError::new(
                "events",
                text!(
                    "请至少选择一项发生的情况",
                    "please choose at least one thing that happened"
                ),
            ));
        }
        let account = free_text(
            "account",
            ("情况说明", "what happened"),
            &self.account,
            (MIN_TEXT_CHARS, MAX_TEXT_CHARS),
            Lines::Many,
        )
        .map_err(|e| errors.push(e));
        errors.extend(agreed(
            "commitment",
            &self.commitment,
            ("承诺", "the commitment"),
        ));
        errors.extend(agreed(
            "authorisation",
            &self.authorisation,
            ("授权查询", "the authorisation to check your data"),
        ));
        errors.extend(agreed(
            "privacy",
            &self.privacy,
            ("隐私声明", "the privacy statement"),
        ));
        match (applicant, id_number, village, phone, account) {
            (Ok(applicant), Ok(id_number), Ok(village), Ok(phone), Ok(account))
                if errors.is_empty() =>
            {
                Ok(Declaration {
                    applicant,
                    id_number,
                    village,
                    phone,
                    events,
                    account,
                })
            }
            _ => Err(errors),
        }
    }
}

fn village_code(field: &'static str, input: &str) -> Result<DivisionCode, FieldError> {
    match DivisionCode::parse(input.trim()) {
        Ok(code) if code.level() == DivisionLevel::Village => Ok(code),
        _ => Err(FieldError::new(
            field,
            text!(
                "请依次选择区县、乡镇和村（社区）",
                "please choose the district or county, the township and the village in turn"
            ),
        )),
    }
}

/// The ticket form as submitted.
#[derive(Debug, Clone, Default)]
pub struct TicketForm {
    pub kind: String,
    pub category: String,
    /// The division concerned: a county, a township or a village.
    pub division: String,
    pub subject: String,
    pub body: String,
    /// Present when the requester gives a name and phone number.
    pub named: Option<String>,
    pub requester: String,
    pub phone: String,
    /// Present when a report names a person.
    pub names_person: Option<String>,
    pub privacy: Option<String>,
}

/// A checked ticket.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub kind: TicketKind,
    pub category: TicketCategory,
    pub division: DivisionCode,
    pub subject: String,
    pub body: String,
    /// Name and phone of a named requester; `None` for an anonymous one.
    pub requester: Option<(PersonName, Phone)>,
    pub about_person: bool,
}

impl TicketForm {
    pub fn check(&self) -> Result<Ticket, Vec<FieldError>> {
        let mut errors = Vec::new();
        let choice = |field: &'static str, what: (&str, &str)| {
            let (zh, en) = what;
            FieldError::new(field, text!("请选择{zh}", "please choose {en}"))
        };
        let kind = TicketKind::from_code(self.kind.trim())
            .ok_or_else(|| errors.push(choice("kind", ("诉求类型", "the kind of request"))));
        let category = TicketCategory::from_code(self.category.trim())
            .ok_or_else(|| errors.push(choice("category", ("诉求类别", "the category"))));
        let division = DivisionCode::parse(self.division.trim())
            .ok()
            .filter(|code| {
                matches!(
                    code.level(),
                    DivisionLevel::County | DivisionLevel::Township | DivisionLevel::Village
                )
            })
            .ok_or_else(|| {
                errors.push(FieldError::new(
                    "division",
                    text!(
                        "请选择所涉及的区县（可再选乡镇和村）",
                        "please choose the district or county concerned (and the township and village if you know them)"
                    ),
                ))
            });
        let subject = free_text(
            "subject",
            ("标题", "a subject"),
            &self.subject,
            (2, MAX_SUBJECT_CHARS),
            Lines::One,
        )
        .map_err(|e| errors.push(e));
        let body = free_text(
            "body",
            ("具体内容", "the details"),
            &self.body,
            (MIN_TEXT_CHARS, MAX_TEXT_CHARS),
            Lines::Many,
        )
        .map_err(|e| errors.push(e));
        let requester = if ticked(&self.named) {
            let n = name("requester", &self.requester).map_err(|e| errors.push(e));
            let p = phone("phone", &self.phone).map_err(|e| errors.push(e));
            match (n, p) {
                (Ok(n), Ok(p)) => Some((n, p)),
                _ => None,
            }
        } else {
            None
        };
        errors.extend(agreed(
            "privacy",
            &self.privacy,
            ("隐私声明", "the privacy statement"),
        ));
        match (kind, category, division, subject, body) {
            (Ok(kind), Ok(category), Ok(division), Ok(subject), Ok(body)) if errors.is_empty() => {
                Ok(Ticket {
                    about_person: is_person_report(kind, category, ticked(&self.names_person)),
                    kind,
                    category,
                    division,
                    subject,
                    body,
                    requester,
                })
            }
            _ => Err(errors),
        }
    }
}

labelled_enum!(
    /// What the bureau publishes on the portal's home page.
    AnnouncementKind, "发布类型", "kind of publication", [
    (Announcement, "announcement", "通知公告", "announcement"),
    (Policy, "policy", "政策文件", "policy document"),
]);

labelled_enum!(
    /// Where a publication stands: drafts and withdrawn ones are not public; a published one is
    /// public from its publication day on.
    AnnouncementStatus, "发布状态", "publication status", [
    (Draft, "draft", "草稿", "draft"),
    (Published, "published", "已发布", "published"),
    (Withdrawn, "withdrawn", "已撤回", "withdrawn"),
]);

/// The longest title of a publication, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest body of a publication, in characters.
pub const MAX_BODY_CHARS: usize = 50_000;

/// A publication as the back-office form sends it. The Chinese text is required; the English
/// translation may follow later (the English page shows the Chinese text until then).
#[derive(Debug, Clone, Default)]
pub struct AnnouncementForm {
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
}

/// A checked publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub kind: AnnouncementKind,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
}

impl AnnouncementForm {
    pub fn check(&self) -> Result<Announcement, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = AnnouncementKind::from_code(self.kind.trim()).ok_or_else(|| {
            errors.push(FieldError::new(
                "kind",
                text!("请选择发布类型", "please choose the kind of publication"),
            ))
        });
        let mut text_field = |field, what, input: &str, bounds, lines| {
            free_text(field, what, input, bounds, lines).map_err(|e| errors.push(e))
        };
        let title_zh = text_field(
            "title_zh",
            ("中文标题", "the Chinese title"),
            &self.title_zh,
            (2, MAX_TITLE_CHARS),
            Lines::One,
        );
        let title_en = text_field(
            "title_en",
            ("英文标题", "the English title"),
            &self.title_en,
            (0, MAX_TITLE_CHARS),
            Lines::One,
        );
        let body_zh = text_field(
            "body_zh",
            ("中文正文", "the Chinese text"),
            &self.body_zh,
            (2, MAX_BODY_CHARS),
            Lines::Many,
        );
        let body_en = text_field(
            "body_en",
            ("英文正文", "the English text"),
            &self.body_en,
            (0, MAX_BODY_CHARS),
            Lines::Many,
        );
        match (kind, title_zh, title_en, body_zh, body_en) {
            (Ok(kind), Ok(title_zh), Ok(title_en), Ok(body_zh), Ok(body_en))
                if errors.is_empty() =>
            {
                Ok(Announcement {
                    kind,
                    title_zh,
                    title_en,
                    body_zh,
                    body_en,
                })
            }
            _ => Err(errors),
        }
    }
}

/// The alphabet of tracking codes: Crockford's base32 (no I, L, O, U), so that a code read
/// aloud on the phone or copied by hand survives.
pub const TRACKING_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a tracking code: 16 × 5 = 80 bits.
pub const TRACKING_CHARS: usize = 16;

/// A tracking code from 10 random bytes (80 bits), in groups of four (`7K3M-…`).
pub fn tracking_code(random: &[u8; 10]) -> String {
    let mut bits: u128 = 0;
    for b in random {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut out = String::with_capacity(TRACKING_CHARS + 3);
    for i in 0..TRACKING_CHARS {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 5 * (TRACKING_CHARS - 1 - i);
        let index = ((bits >> shift) & 31) as usize;
        out.push(char::from(TRACKING_ALPHABET[index]));
    }
    out
}

/// A tracking code as typed, in its canonical form (16 characters, no separators), or `None`
/// when it cannot be one. Lower case, spaces and hyphens are accepted, and the look-alikes
/// I, L (→ 1) and O (→ 0), as Crockford's base32 does.
pub fn normalise_tracking_code(input: &str) -> Option<String> {
    let mut out = String::with_capacity(TRACKING_CHARS);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\u{3000}' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        };
        if !c.is_ascii() || !TRACKING_ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
        if out.len() > TRACKING_CHARS {
            return None;
        }
    }
    (out.len() == TRACKING_CHARS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        time::macros::date!(2026 - 12 - 01)
    }

    fn good_declaration() -> DeclarationForm {
        DeclarationForm {
            applicant: "王世华".into(),
            id_number: "11010519491231002X".into(),
            village: "500238101203".into(),
            phone: "139 0000 0001".into(),
            events: vec!["illness".into(), "job_loss".into()],
            account: "儿子失业，妻子需要手术".into(),
            commitment: Some("on".into()),
            authorisation: Some("on".into()),
            privacy: Some("on".into()),
        }
    }

    #[test]
    fn a_good_declaration_passes() {
        let d = good_declaration().check(today()).unwrap();
        assert_eq!(d.phone.as_str(), "13900000001");
        assert_eq!(
            d.events,
            vec![DeclarationEvent::Illness, DeclarationEvent::JobLoss]
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let form = DeclarationForm {
            applicant: " ".into(),
            id_number: "110105194912310021".into(),
            village: "500238101000".into(),
            phone: "12345".into(),
            events: vec!["lottery".into()],
            account: "无".into(),
            commitment: None,
            authorisation: Some(String::new()),
            privacy: None,
        };
        let fields: Vec<&str> = form
            .check(today())
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "applicant",
                "id_number",
                "village",
                "phone",
                "events",
                "account",
                "commitment",
                "authorisation",
                "privacy"
            ]
        );
    }

    #[test]
    fn no_event_is_refused() {
        let form = DeclarationForm {
            events: Vec::new(),
            ..good_declaration()
        };
        let errors = form.check(today()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "events");
    }

    #[test]
    fn control_and_direction_characters_are_refused_by_field() {
        let form = DeclarationForm {
            applicant: "王\u{202E}华".into(),
            account: "儿子失业\u{0}，妻子需要手术".into(),
            ..good_declaration()
        };
        let errors = form.check(today()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["applicant", "account"]);
        assert!(errors[0].message.zh.contains("U+202E"), "{errors:?}");
        assert!(
            errors[1]
                .message
                .en
                .starts_with("what happened: character 5 (U+0000)")
        );
        // Line breaks are part of an account, not of a subject.
        let lines = DeclarationForm {
            account: "儿子失业，\r\n妻子需要手术".into(),
            ..good_declaration()
        };
        assert!(lines.check(today()).is_ok());
    }

    #[test]
    fn too_long_text_is_refused_with_its_length() {
        let form = DeclarationForm {
            account: "很".repeat(MAX_TEXT_CHARS + 1),
            ..good_declaration()
        };
        let errors = form.check(today()).unwrap_err();
        assert!(errors[0].message.en.contains("2001"), "{errors:?}");
    }

    #[test]
    fn tickets_named_or_anonymous() {
        let mut form = TicketForm {
            kind: "report".into(),
            category: "funds".into(),
            division: "500238000000".into(),
            subject: "补贴发放".into(),
            body: "村里的补贴没有按时发放".into(),
            privacy: Some("1".into()),
            ..TicketForm::default()
        };
        let t = form.check().unwrap();
        assert!(t.requester.is_none());
        assert!(!t.about_person);
        form.named = Some("1".into());
        let fields: Vec<&str> = form.check().unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["requester", "phone"]);
        form.requester = "李四".into();
        form.phone = "13900000002".into();
        form.names_person = Some("1".into());
        let t = form.check().unwrap();
        assert!(t.requester.is_some() && t.about_person);
    }

    #[test]
    fn person_reports_and_who_reads_them() {
        use TicketCategory::*;
        use TicketKind::*;
        assert!(is_person_report(Report, CadreConduct, false));
        assert!(is_person_report(Report, Funds, true));
        assert!(!is_person_report(Complaint, CadreConduct, true));
        assert!(!may_read_person_report(Role::Auditor, false));
        assert!(may_read_person_report(Role::CountyOfficer, true));
        assert!(!may_read_person_report(Role::CountyOfficer, false));
        assert!(!may_read_person_report(Role::TownshipOfficer, true));
        assert!(!may_read_person_report(Role::MunicipalAdmin, true));
    }

    #[test]
    fn ticket_steps_follow_the_status() {
        use TicketStatus::*;
        use TicketStep::*;
        assert!(ticket_step_allowed(Received, Assign).is_ok());
        assert!(ticket_step_allowed(Received, Answer).is_ok());
        assert!(ticket_step_allowed(Received, Close).is_err());
        assert!(ticket_step_allowed(Answered, Answer).is_ok());
        assert!(ticket_step_allowed(Answered, Assign).is_err());
        assert!(ticket_step_allowed(Answered, Close).is_ok());
        for step in TicketStep::ALL {
            assert!(ticket_step_allowed(Closed, step).is_err());
        }
    }

    #[test]
    fn tracking_codes_round_trip_and_forgive_look_alikes() {
        let code = tracking_code(&[0xff; 10]);
        assert_eq!(code, "ZZZZ-ZZZZ-ZZZZ-ZZZZ");
        let code = tracking_code(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(code.len(), 19);
        let canonical = normalise_tracking_code(&code).unwrap();
        assert_eq!(canonical, code.replace('-', ""));
        assert_eq!(
            normalise_tracking_code(&canonical.to_lowercase()).unwrap(),
            canonical
        );
        assert_eq!(
            normalise_tracking_code("oooo iiii llll 0000").as_deref(),
            Some("0000111111110000")
        );
        assert_eq!(normalise_tracking_code("ABC"), None);
        assert_eq!(normalise_tracking_code("UUUU-UUUU-UUUU-UUUU"), None);
        assert_eq!(normalise_tracking_code(&"A".repeat(40)), None);
    }

    #[test]
    fn policy_ranges() {
        assert!(PortalPolicy::default().check().is_ok());
        let bad = PortalPolicy {
            declaration_accept_days: 0,
            ticket_limit_days: 61,
        };
        assert_eq!(bad.check().unwrap_err().len(), 2);
    }
}
