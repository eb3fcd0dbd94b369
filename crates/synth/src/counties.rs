//! What the generator knows about Chongqing's 38 county-level units beyond their codes: names
//! (for addresses when the caller gives none), legacy address codes still found in ID numbers,
//! the ethnic mix of the autonomous counties, and which former poverty counties were national
//! key counties (DOMAIN.md 3.1, 3.2).

/// `(code, name)` of the 38 current county-level units.
pub const NAMES: &[(u32, &str)] = &[
    (500101, "万州区"),
    (500102, "涪陵区"),
    (500103, "渝中区"),
    (500104, "大渡口区"),
    (500105, "江北区"),
    (500106, "沙坪坝区"),
    (500107, "九龙坡区"),
    (500108, "南岸区"),
    (500109, "北碚区"),
    (500110, "綦江区"),
    (500111, "大足区"),
    (500112, "渝北区"),
    (500113, "巴南区"),
    (500114, "黔江区"),
    (500115, "长寿区"),
    (500116, "江津区"),
    (500117, "合川区"),
    (500118, "永川区"),
    (500119, "南川区"),
    (500120, "璧山区"),
    (500151, "铜梁区"),
    (500152, "潼南区"),
    (500153, "荣昌区"),
    (500154, "开州区"),
    (500155, "梁平区"),
    (500156, "武隆区"),
    (500229, "城口县"),
    (500230, "丰都县"),
    (500231, "垫江县"),
    (500233, "忠县"),
    (500235, "云阳县"),
    (500236, "奉节县"),
    (500237, "巫山县"),
    (500238, "巫溪县"),
    (500240, "石柱土家族自治县"),
    (500241, "秀山土家族苗族自治县"),
    (500242, "酉阳土家族苗族自治县"),
    (500243, "彭水苗族土家族自治县"),
];

pub fn name(county: u32) -> Option<&'static str> {
    NAMES.iter().find(|(c, _)| *c == county).map(|(_, n)| *n)
}

/// A former address code of a county and the year from which the current code applies
/// (data/legacy-county-codes.csv; years of the State Council approvals). People
/// registered before then keep the old code in their ID number for life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Legacy {
    pub code: u32,
    pub current_from: i32,
}

const LEGACY: &[(u32, u32, i32)] = &[
    (500110, 500222, 2011), // 綦江县
    (500111, 500225, 2011), // 大足县
    (500116, 500381, 2006), // 江津市
    (500117, 500382, 2006), // 合川市
    (500118, 500383, 2006), // 永川市
    (500119, 500384, 2006), // 南川市
    (500120, 500227, 2014), // 璧山县
    (500151, 500224, 2014), // 铜梁县
    (500152, 500223, 2015), // 潼南县
    (500153, 500226, 2015), // 荣昌县
    (500154, 500234, 2016), // 开县
    (500155, 500228, 2016), // 梁平县
    (500156, 500232, 2016), // 武隆县
];

/// The legacy code of a county, if it had one. Each legacy code maps to exactly one current
/// county, so ID numbers generated per county never collide across counties.
pub fn legacy(county: u32) -> Option<Legacy> {
    LEGACY
        .iter()
        .find(|(c, _, _)| *c == county)
        .map(|&(_, code, current_from)| Legacy { code, current_from })
}

/// The 14 national key counties (国家扶贫开发工作重点区县) among the 18; the other former
/// poverty counties (municipal key counties) get fewer former poverty villages.
const NATIONAL_KEY: &[u32] = &[
    500101, 500114, 500154, 500156, 500229, 500230, 500235, 500236, 500237, 500238, 500240, 500241,
    500242, 500243,
];

pub fn is_national_key(county: u32) -> bool {
    NATIONAL_KEY.contains(&county)
}

pub const HAN: &str = "汉族";
pub const TUJIA: &str = "土家族";
pub const MIAO: &str = "苗族";

/// Weights of 汉族, 土家族, 苗族 among the rural population of a county (rounded census shares).
pub fn ethnic_mix(county: u32) -> [(u32, &'static str); 3] {
    let (han, tujia, miao) = match county {
        500240 => (27, 72, 1),  // 石柱
        500241 => (38, 47, 15), // 秀山
        500242 => (15, 72, 13), // 酉阳
        500243 => (38, 17, 45), // 彭水
        500114 => (28, 60, 12), // 黔江
        500156 | 500230 => (960, 38, 2),
        _ => (995, 4, 1),
    };
    [(han, HAN), (tujia, TUJIA), (miao, MIAO)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_codes_belong_to_one_county_each() {
        let mut codes: Vec<u32> = LEGACY.iter().map(|(_, l, _)| *l).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), LEGACY.len());
        assert!(codes.iter().all(|c| name(*c).is_none()));
    }

    #[test]
    fn there_are_38_counties() {
        assert_eq!(NAMES.len(), 38);
        assert_eq!(NATIONAL_KEY.len(), 14);
    }
}
