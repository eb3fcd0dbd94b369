//! Chinese personal names: a frequency-weighted surname list (national frequencies, leaning to
//! the surnames common in Chongqing: 冉 向 谭 秦 牟 田 彭 …) and given-name characters that
//! change with the decade of birth, so that grandparents and grandchildren sound their age.
//! Also synthetic mobile numbers.

use crate::rng::{Cumulative, Rng};
use std::sync::OnceLock;
use zhenxing_core::{PersonName, Phone, Sex};

/// `(surname, weight per 10,000)`.
const SURNAMES: &[(&str, u32)] = &[
    ("王", 700),
    ("李", 720),
    ("张", 650),
    ("刘", 550),
    ("陈", 520),
    ("杨", 380),
    ("黄", 260),
    ("赵", 180),
    ("吴", 200),
    ("周", 230),
    ("徐", 120),
    ("孙", 90),
    ("马", 110),
    ("朱", 110),
    ("胡", 160),
    ("郭", 100),
    ("何", 230),
    ("高", 90),
    ("林", 70),
    ("罗", 230),
    ("郑", 80),
    ("梁", 80),
    ("谢", 130),
    ("宋", 70),
    ("唐", 200),
    ("许", 60),
    ("韩", 40),
    ("冯", 90),
    ("邓", 190),
    ("曹", 60),
    ("彭", 170),
    ("曾", 120),
    ("肖", 110),
    ("田", 160),
    ("董", 60),
    ("袁", 110),
    ("潘", 50),
    ("于", 20),
    ("蒋", 90),
    ("蔡", 50),
    ("余", 120),
    ("杜", 80),
    ("叶", 40),
    ("程", 60),
    ("苏", 40),
    ("魏", 40),
    ("吕", 30),
    ("丁", 40),
    ("任", 80),
    ("沈", 20),
    ("姚", 40),
    ("卢", 40),
    ("姜", 30),
    ("崔", 20),
    ("钟", 60),
    ("谭", 170),
    ("陆", 30),
    ("汪", 40),
    ("范", 50),
    ("金", 30),
    ("石", 90),
    ("廖", 90),
    ("贾", 20),
    ("夏", 50),
    ("韦", 20),
    ("付", 70),
    ("方", 40),
    ("白", 40),
    ("邹", 60),
    ("孟", 20),
    ("熊", 90),
    ("秦", 90),
    ("邱", 40),
    ("江", 50),
    ("尹", 40),
    ("薛", 20),
    ("段", 40),
    ("雷", 50),
    ("侯", 30),
    ("龙", 50),
    ("史", 20),
    ("陶", 50),
    ("黎", 40),
    ("贺", 40),
    ("毛", 50),
    ("龚", 50),
    ("邵", 20),
    ("万", 40),
    ("严", 30),
    ("覃", 40),
    ("戴", 30),
    ("莫", 20),
    ("向", 150),
    ("汤", 30),
    ("冉", 110),
    ("牟", 70),
    ("文", 50),
    ("蒲", 40),
    ("税", 20),
    ("况", 15),
    ("幸", 10),
    ("欧阳", 8),
];

const MALE_OLD: &[&str] = &[
    "明", "德", "福", "贵", "华", "国", "忠", "成", "文", "才", "发", "云", "清", "荣", "兴", "元",
    "林", "学", "光", "金", "生", "富", "昌", "友", "树", "玉", "正", "志", "中", "海", "全", "根",
    "禄", "寿", "万", "安",
];
const MALE_MID: &[&str] = &[
    "伟", "勇", "军", "强", "平", "波", "斌", "刚", "杰", "涛", "辉", "林", "建", "明", "华", "兵",
    "春", "东", "红", "毅", "俊", "小", "飞", "云", "超", "峰", "健", "彬", "洪", "江", "川", "洋",
];
const MALE_YOUNG: &[&str] = &[
    "浩", "宇", "轩", "子", "俊", "杰", "博", "文", "涛", "鹏", "磊", "晨", "睿", "阳", "豪", "翔",
    "鑫", "铭", "泽", "航", "一", "凯", "宏", "嘉", "然", "锦", "皓",
];
const FEMALE_OLD: &[&str] = &[
    "秀", "英", "兰", "珍", "芳", "玉", "桂", "淑", "凤", "琼", "碧", "素", "德", "群", "华", "翠",
    "明", "清", "莲", "香", "菊", "容",
];
const FEMALE_MID: &[&str] = &[
    "丽", "敏", "静", "霞", "燕", "艳", "红", "娟", "琴", "梅", "萍", "玲", "英", "芳", "莉", "小",
    "春", "慧", "丹", "利", "群", "雪", "晓",
];
const FEMALE_YOUNG: &[&str] = &[
    "欣", "怡", "婷", "雨", "涵", "诗", "佳", "梓", "萱", "思", "琳", "雪", "璐", "悦", "可", "晴",
    "瑶", "妍", "颖", "彤", "梦", "语", "馨",
];

/// Mobile prefixes of the three carriers.
const PHONE_PREFIXES: &[u16] = &[
    139, 138, 137, 136, 135, 134, 159, 158, 157, 152, 151, 150, 188, 187, 183, 182, 178, 133, 153,
    180, 181, 189, 177, 199, 130, 131, 132, 155, 156, 185, 186, 176, 166,
];

/// An index into the surname list; members of a family share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surname(u16);

fn surname_table() -> &'static Cumulative {
    static TABLE: OnceLock<Cumulative> = OnceLock::new();
    TABLE.get_or_init(|| Cumulative::new(SURNAMES.iter().map(|&(_, w)| w)))
}

pub fn surname(rng: &mut Rng) -> Surname {
    Surname(surname_table().draw(rng) as u16)
}

/// A surname other than `other` (spouses, a wife's mother).
pub fn other_surname(rng: &mut Rng, other: Surname) -> Surname {
    loop {
        let s = surname(rng);
        if s != other {
            return s;
        }
    }
}

impl Surname {
    pub fn as_str(self) -> &'static str {
        SURNAMES[usize::from(self.0)].0
    }
}

/// Someone outside the registry (an official, a requester): a man with the chance `male`, born
/// in `born_from + 0..=born_span`, and the sex drawn.
pub fn someone(rng: &mut Rng, male: f64, born_from: i32, born_span: i64) -> (PersonName, Sex) {
    let sex = if rng.chance(male) {
        Sex::Male
    } else {
        Sex::Female
    };
    let surname = surname(rng);
    let born = born_from + rng.range(0, born_span) as i32;
    (person_name(rng, surname, sex, born), sex)
}

/// A full name for someone of this sex born in this year.
pub fn person_name(rng: &mut Rng, surname: Surname, sex: Sex, birth_year: i32) -> PersonName {
    let pool = match (sex, birth_year) {
        (Sex::Male, ..=1964) => MALE_OLD,
        (Sex::Male, 1965..=1989) => MALE_MID,
        (Sex::Male, _) => MALE_YOUNG,
        (Sex::Female, ..=1964) => FEMALE_OLD,
        (Sex::Female, 1965..=1989) => FEMALE_MID,
        (Sex::Female, _) => FEMALE_YOUNG,
    };
    // Single-character given names were most common among people born 1960-1990.
    let single = if (1960..1990).contains(&birth_year) {
        0.3
    } else {
        0.12
    };
    // Assembled on the stack: at most four characters of three bytes.
    let mut buf = [0u8; 12];
    let mut len = 0;
    let mut push = |part: &str| {
        buf[len..len + part.len()].copy_from_slice(part.as_bytes());
        len += part.len();
    };
    push(surname.as_str());
    let first = rng.index(pool.len());
    push(pool[first]);
    if !rng.chance(single) {
        let mut second = rng.index(pool.len());
        // Doubled characters (婷婷) are girls' names; boys get two different ones.
        if sex == Sex::Male && second == first {
            second = (second + 1) % pool.len();
        }
        push(pool[second]);
    }
    let name = std::str::from_utf8(&buf[..len]).unwrap_or("某");
    // Always a short non-empty name of CJK characters: parsing cannot fail.
    PersonName::parse(name).unwrap_or_else(|_| unreachable!("synthetic names are valid"))
}

/// A synthetic mobile number: a carrier prefix and eight random digits.
pub fn phone(rng: &mut Rng) -> Phone {
    let number = u64::from(PHONE_PREFIXES[rng.index(PHONE_PREFIXES.len())]) * 100_000_000
        + rng.below(100_000_000);
    let mut digits = [b'0'; 11];
    let mut n = number;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    Phone::parse(std::str::from_utf8(&digits).unwrap_or(""))
        .unwrap_or_else(|_| unreachable!("11 digits starting with 1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_two_to_four_characters() {
        let mut rng = Rng::from_seed(1);
        for year in [1940, 1975, 2010] {
            for _ in 0..1000 {
                let s = surname(&mut rng);
                let n = person_name(&mut rng, s, Sex::Female, year);
                let len = n.as_str().chars().count();
                assert!((2..=4).contains(&len), "{}", n.as_str());
                assert!(n.as_str().starts_with(s.as_str()));
            }
        }
    }

    #[test]
    fn phones_are_eleven_digits() {
        let mut rng = Rng::from_seed(2);
        for _ in 0..100 {
            assert_eq!(phone(&mut rng).as_str().len(), 11);
        }
    }
}
