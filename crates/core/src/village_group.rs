//! 村民小组 (village group): the part of a village a household lives in, a column of the
//! national system and of the exchange format, and what a village's public notice names beside
//! the head of household (DOMAIN.md 1.7).
//!
//! What is accepted: a short text (at most [`MAX_CHARS`] characters) that ends in 组, 社, 小组
//! or 村民小组, with a name or a number before it: `3组`, `03组`, `第三村民小组`, `十二社`,
//! `大湾组`. Full-width digits become ASCII and surrounding spaces go; otherwise the text is
//! kept as written. An address (`巴山镇立新村3组`) is refused: the part before the suffix may
//! not name a village, township, county or street (村, 镇, 乡, 县, 区, 街道 …).

use crate::lang::Text;
use crate::text;

/// The longest village group accepted, in characters.
pub const MAX_CHARS: usize = 20;

/// Suffixes, longest first so that `第三村民小组` keeps `村民小组` whole.
const SUFFIXES: [&str; 4] = ["村民小组", "小组", "组", "社"];
/// Characters that belong to the levels above a village group in an address.
const ADDRESS_PARTS: [char; 8] = ['省', '市', '县', '区', '镇', '乡', '村', '街'];

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VillageGroup(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VillageGroupError {
    TooLong(usize),
    /// Does not end in 组, 社, 小组 or 村民小组.
    NoSuffix,
    /// Only the suffix, nothing naming the group.
    NoName,
    /// The part before the suffix holds an address level (村, 镇 …): an address, not a group.
    Address(char),
    /// A control, space or other character no group name holds.
    Character(char),
}

impl VillageGroup {
    /// Parses a village group as a file or a form gives it (see the module's rules).
    pub fn parse(input: &str) -> Result<VillageGroup, VillageGroupError> {
        let normalised: String = input
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                _ => c,
            })
            .collect();
        let length = normalised.chars().count();
        if length > MAX_CHARS {
            return Err(VillageGroupError::TooLong(length));
        }
        if let Some(bad) = normalised
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || !(c.is_alphanumeric() || *c == '-'))
        {
            return Err(VillageGroupError::Character(bad));
        }
        let stem = SUFFIXES
            .iter()
            .find_map(|suffix| normalised.strip_suffix(suffix))
            .ok_or(VillageGroupError::NoSuffix)?;
        let name = stem.strip_prefix('第').unwrap_or(stem);
        if name.is_empty() {
            return Err(VillageGroupError::NoName);
        }
        if let Some(part) = name.chars().find(|c| ADDRESS_PARTS.contains(c)) {
            return Err(VillageGroupError::Address(part));
        }
        Ok(VillageGroup(normalised))
    }

    /// A numbered group, `3组`, as the synthetic registry and most villages name them.
    pub fn numbered(number: u32) -> VillageGroup {
        VillageGroup(format!("{number}组"))
    }

    /// The group at the end of an address (`城口县葛城街道太白村3组` → `3组`), for households
    /// recorded before the exchange format had the column: numbered groups only.
    pub fn from_address(address: &str) -> Option<VillageGroup> {
        let trimmed = address.trim();
        let suffix = trimmed.chars().last()?;
        let stem = trimmed.strip_suffix(['组', '社'])?;
        let digits: String = stem
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(*c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        (!digits.is_empty()).then(|| VillageGroup(format!("{digits}{suffix}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for VillageGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl VillageGroupError {
    pub fn message(&self) -> Text {
        let accepted = text!(
            "村民小组应写成“3组”“第三村民小组”“十二社”“大湾组”这样的简短名称",
            "a village group is a short name such as 3组, 第三村民小组, 十二社 or 大湾组"
        );
        let problem = match self {
            Self::TooLong(n) => text!(
                "村民小组有{n}个字，最多{MAX_CHARS}个字",
                "the village group has {n} characters, at most {MAX_CHARS} are allowed"
            ),
            Self::NoSuffix => text!(
                "村民小组须以“组”“社”“小组”或“村民小组”结尾",
                "a village group ends in 组, 社, 小组 or 村民小组"
            ),
            Self::NoName => text!(
                "只有“组”字，缺少小组的序号或名称",
                "only the suffix: the group's number or name is missing"
            ),
            Self::Address(part) => text!(
                "含有“{part}”，像是地址；这一列只填村民小组本身，地址填在“家庭住址”列",
                "it holds “{part}” and reads as an address: give the group alone here and the address in the address column"
            ),
            Self::Character(c) => {
                let code = format!("U+{:04X}", u32::from(*c));
                text!(
                    "含有不允许的字符 {code}",
                    "it holds a character that is not allowed ({code})"
                )
            }
        };
        Text::new(
            format!("{}；{}", problem.zh, accepted.zh),
            format!("{}; {}", problem.en, accepted.en),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_forms_are_accepted_as_written() {
        for ok in [
            "3组",
            "03组",
            "第3组",
            "第三村民小组",
            "十二社",
            "大湾组",
            "1小组",
        ] {
            assert_eq!(VillageGroup::parse(ok).map(|g| g.0), Ok(ok.to_owned()));
        }
        assert_eq!(VillageGroup::parse(" ３组 ").unwrap().as_str(), "3组");
    }

    #[test]
    fn addresses_and_other_text_are_refused() {
        use VillageGroupError::*;
        assert_eq!(VillageGroup::parse("巴山镇立新村3组"), Err(Address('镇')));
        assert_eq!(VillageGroup::parse("立新村3组"), Err(Address('村')));
        assert_eq!(VillageGroup::parse("3"), Err(NoSuffix));
        assert_eq!(VillageGroup::parse("组"), Err(NoName));
        assert_eq!(VillageGroup::parse("第村民小组"), Err(NoName));
        assert_eq!(VillageGroup::parse("3 组"), Err(Character(' ')));
        assert_eq!(
            VillageGroup::parse("3\u{202E}组"),
            Err(Character('\u{202E}'))
        );
        assert_eq!(VillageGroup::parse(&"一".repeat(20)), Err(NoSuffix));
        assert_eq!(VillageGroup::parse(&"大".repeat(21)), Err(TooLong(21)));
        let message = Address('村').message();
        assert!(message.zh.contains("家庭住址"), "{}", message.zh);
        assert!(message.en.contains("address column"), "{}", message.en);
    }

    #[test]
    fn village_groups_come_from_the_end_of_the_address() {
        let guess = |a: &str| VillageGroup::from_address(a).map(|g| g.0);
        assert_eq!(guess("城口县葛城街道太白村3组").as_deref(), Some("3组"));
        assert_eq!(guess("巴山镇立新村十二社").as_deref(), Some("十二社"));
        assert_eq!(guess("巴山镇立新村"), None);
        assert_eq!(guess("组"), None);
    }
}
