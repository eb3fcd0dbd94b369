//! The enumerations of the registry (DOMAIN.md 2.2), each value with its code name (stable, used
//! in the database and the API), its Chinese label (as in the national system's exports) and its
//! English label. Parsing accepts any of the three.

use crate::lang::Text;
use crate::text;

/// Declares an enumeration with `(Variant, "code", "中文", "English")` values.
macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident, $field_zh:literal, $field_en:literal,
     [$(($variant:ident, $code:literal, $zh:literal, $en:literal)),+ $(,)?]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code name stored in the database and used by the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            pub fn en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            pub fn label(self, lang: $crate::lang::Lang) -> &'static str {
                match lang { $crate::lang::Lang::Zh => self.zh(), $crate::lang::Lang::En => self.en() }
            }

            /// Accepts the Chinese label, the English label or the code name.
            pub fn parse(input: &str) -> Result<$name, Text> {
                let s = input.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.zh() == s || v.code() == s || v.en().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let allowed = $name::ALL.iter().map(|v| v.zh()).collect::<Vec<_>>().join("、");
                        let allowed_en = $name::ALL.iter().map(|v| v.en()).collect::<Vec<_>>().join(", ");
                        let field_zh = $field_zh;
                        let field_en = $field_en;
                        text!(
                            "“{s}”不是{field_zh}的取值；可填：{allowed}",
                            "'{s}' is not a value of {field_en}; allowed: {allowed_en}"
                        )
                    })
            }

            /// Parses a stored code name.
            pub fn from_code(code: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}
pub(crate) use labelled_enum;

labelled_enum!(
    /// 户类型.
    HouseholdType, "户类型", "household type", [
    (LiftedOut, "lifted_out", "脱贫户", "household lifted out of poverty"),
    (Ordinary, "ordinary", "一般农户", "ordinary rural household"),
]);

labelled_enum!(
    /// 监测对象类别 (DOMAIN.md 1.3).
    MonitoringCategory, "监测对象类别", "monitoring category", [
    (UnstableLiftedOut, "unstable_lifted_out", "脱贫不稳定户", "unstable lifted-out household"),
    (MarginalAtRisk, "marginal_at_risk", "边缘易致贫户", "marginal household at risk"),
    (SuddenHardship, "sudden_hardship", "突发严重困难户", "household in sudden severe hardship"),
]);

labelled_enum!(
    Sex,
    "性别",
    "sex",
    [
        (Male, "male", "男", "male"),
        (Female, "female", "女", "female"),
    ]
);

labelled_enum!(
    /// 与户主关系: the 28 values of the national system.
    Relation, "与户主关系", "relation to head", [
    (Head, "head", "户主", "head of household"),
    (Spouse, "spouse", "配偶", "spouse"),
    (Son, "son", "之子", "son"),
    (Daughter, "daughter", "之女", "daughter"),
    (DaughterInLaw, "daughter_in_law", "之儿媳", "daughter-in-law"),
    (SonInLaw, "son_in_law", "之女婿", "son-in-law"),
    (Grandson, "grandson", "之孙子", "grandson"),
    (Granddaughter, "granddaughter", "之孙女", "granddaughter"),
    (DaughtersSon, "daughters_son", "之外孙子", "daughter's son"),
    (DaughtersDaughter, "daughters_daughter", "之外孙女", "daughter's daughter"),
    (Father, "father", "之父", "father"),
    (Mother, "mother", "之母", "mother"),
    (WifesFather, "wifes_father", "之岳父", "wife's father"),
    (WifesMother, "wifes_mother", "之岳母", "wife's mother"),
    (HusbandsFather, "husbands_father", "之公公", "husband's father"),
    (HusbandsMother, "husbands_mother", "之婆婆", "husband's mother"),
    (PaternalGrandfather, "paternal_grandfather", "之祖父", "paternal grandfather"),
    (PaternalGrandmother, "paternal_grandmother", "之祖母", "paternal grandmother"),
    (MaternalGrandfather, "maternal_grandfather", "之外祖父", "maternal grandfather"),
    (MaternalGrandmother, "maternal_grandmother", "之外祖母", "maternal grandmother"),
    (Sibling, "sibling", "之兄弟姐妹", "brother or sister"),
    (GreatGrandson, "great_grandson", "之曾孙子", "great-grandson"),
    (GreatGranddaughter, "great_granddaughter", "之曾孙女", "great-granddaughter"),
    (Nephew, "nephew", "之侄儿", "nephew"),
    (Niece, "niece", "之侄女", "niece"),
    (SiblingInLaw, "sibling_in_law", "之兄弟媳妇", "brother's wife"),
    (Uncle, "uncle", "之叔伯", "uncle"),
    (Other, "other", "其他", "other"),
]);

labelled_enum!(
    /// 文化程度: for people no longer in school.
    Education, "文化程度", "education", [
    (Illiterate, "illiterate", "文盲或半文盲", "illiterate or semi-literate"),
    (Primary, "primary", "小学", "primary school"),
    (JuniorSecondary, "junior_secondary", "初中", "junior secondary school"),
    (SeniorSecondary, "senior_secondary", "高中", "senior secondary school"),
    (College, "college", "大专", "junior college"),
    (BachelorOrAbove, "bachelor_or_above", "本科及以上", "bachelor's degree or above"),
]);

labelled_enum!(
    /// 在校生状况: for children and students.
    SchoolStatus, "在校生状况", "school status", [
    (PreschoolAge, "preschool_age", "学龄前儿童", "child below school age"),
    (Preschool, "preschool", "学前教育", "pre-school education"),
    (Primary, "primary", "小学", "primary school"),
    (Grade7, "grade7", "七年级", "grade 7"),
    (Grade8, "grade8", "八年级", "grade 8"),
    (Grade9, "grade9", "九年级", "grade 9"),
    (SeniorHigh, "senior_high", "普通高中一至三年级", "senior high school, years 1-3"),
    (SecondaryVocational, "secondary_vocational", "中职一至三年级", "secondary vocational school, years 1-3"),
    (HigherVocational, "higher_vocational", "高职高专一至三年级", "higher vocational college, years 1-3"),
    (TechnicianCollege, "technician_college", "技师学院一至四年级", "technician college, years 1-4"),
    (Undergraduate, "undergraduate", "本科一至五年级", "undergraduate, years 1-5"),
    (Postgraduate, "postgraduate", "硕士研究生及以上", "postgraduate"),
]);

impl SchoolStatus {
    /// Compulsory education (义务教育): primary school and grades 7 to 9.
    pub fn is_compulsory(self) -> bool {
        matches!(
            self,
            SchoolStatus::Primary
                | SchoolStatus::Grade7
                | SchoolStatus::Grade8
                | SchoolStatus::Grade9
        )
    }

    /// In school (as opposed to below school age).
    pub fn is_enrolled(self) -> bool {
        self != SchoolStatus::PreschoolAge
    }
}

labelled_enum!(
    /// One condition of 健康状况; a member may have several (see [`crate::Health`]).
    HealthCondition, "健康状况", "health", [
    (Healthy, "healthy", "健康", "healthy"),
    (Chronic, "chronic", "长期慢性病", "long-term chronic illness"),
    (SeriousIllness, "serious_illness", "患有大病", "serious illness"),
    (Disabled, "disabled", "残疾", "disability"),
]);

labelled_enum!(
    /// 劳动技能.
    Labor, "劳动技能", "labour ability", [
    (Ordinary, "ordinary", "普通劳动力", "ordinary labour"),
    (Skilled, "skilled", "技能劳动力", "skilled labour"),
    (Weak, "weak", "弱劳动力或半劳动力", "weak or half labour"),
    (Lost, "lost", "丧失劳动力", "lost labour ability"),
    (NoLabor, "none", "无劳动力", "no labour ability"),
]);

impl Labor {
    /// Ordinary or skilled labour: can carry development-type assistance.
    pub fn is_full(self) -> bool {
        matches!(self, Labor::Ordinary | Labor::Skilled)
    }

    /// Lost or no labour ability.
    pub fn is_without(self) -> bool {
        matches!(self, Labor::Lost | Labor::NoLabor)
    }
}

/// Parses 是/否 (and yes/no, y/n, true/false, 1/0).
pub fn parse_yes_no(input: &str) -> Result<bool, Text> {
    match input.trim().to_ascii_lowercase().as_str() {
        "是" | "yes" | "y" | "true" | "1" | "有" => Ok(true),
        "否" | "no" | "n" | "false" | "0" | "无" => Ok(false),
        other => Err(text!(
            "“{other}”应为“是”或“否”",
            "'{other}' must be 是 (yes) or 否 (no)"
        )),
    }
}

pub fn yes_no_zh(value: bool) -> &'static str {
    if value { "是" } else { "否" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_28_relations() {
        assert_eq!(Relation::ALL.len(), 28);
    }

    #[test]
    fn labels_and_codes_are_unique_and_parse_back() {
        fn check<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            code: fn(T) -> &'static str,
            zh: fn(T) -> &'static str,
            en: fn(T) -> &'static str,
            parse: fn(&str) -> Result<T, Text>,
        ) {
            for &v in all {
                assert_eq!(parse(code(v)), Ok(v));
                assert_eq!(parse(zh(v)), Ok(v));
                assert_eq!(parse(&en(v).to_uppercase()), Ok(v));
            }
        }
        check(
            Relation::ALL,
            Relation::code,
            Relation::zh,
            Relation::en,
            Relation::parse,
        );
        check(Labor::ALL, Labor::code, Labor::zh, Labor::en, Labor::parse);
        check(
            SchoolStatus::ALL,
            SchoolStatus::code,
            SchoolStatus::zh,
            SchoolStatus::en,
            SchoolStatus::parse,
        );
        check(
            Education::ALL,
            Education::code,
            Education::zh,
            Education::en,
            Education::parse,
        );
    }

    #[test]
    fn unknown_values_name_the_allowed_ones() {
        let err = Labor::parse("很强").unwrap_err();
        assert!(err.zh.contains("普通劳动力"), "{}", err.zh);
        assert!(err.en.contains("ordinary labour"), "{}", err.en);
    }

    #[test]
    fn yes_no() {
        assert_eq!(parse_yes_no("是"), Ok(true));
        assert_eq!(parse_yes_no(" No "), Ok(false));
        assert!(parse_yes_no("也许").is_err());
    }
}
