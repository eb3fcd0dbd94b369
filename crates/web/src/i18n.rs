//! Both languages: every page string is a key in the Fluent files of `locales/zh-CN/` and
//! `locales/en/` (one file per part of the application), built into the binary. A test checks that both files have the same keys and that
//! every key a template or handler asks for exists.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::Arc;
use zhenxing_core::Lang;

/// The message files, one per part of the application, in each language (same names).
macro_rules! locale_files {
    ($lang:literal) => {
        &[
            (
                "main",
                include_str!(concat!("../locales/", $lang, "/main.ftl")),
            ),
            (
                "audit",
                include_str!(concat!("../locales/", $lang, "/audit.ftl")),
            ),
            (
                "accounts",
                include_str!(concat!("../locales/", $lang, "/accounts.ftl")),
            ),
            (
                "transfer",
                include_str!(concat!("../locales/", $lang, "/transfer.ftl")),
            ),
            (
                "monitoring",
                include_str!(concat!("../locales/", $lang, "/monitoring.ftl")),
            ),
            (
                "department",
                include_str!(concat!("../locales/", $lang, "/department.ftl")),
            ),
            (
                "warnings",
                include_str!(concat!("../locales/", $lang, "/warnings.ftl")),
            ),
            (
                "cases",
                include_str!(concat!("../locales/", $lang, "/cases.ftl")),
            ),
            (
                "assistance",
                include_str!(concat!("../locales/", $lang, "/assistance.ftl")),
            ),
            (
                "statistics",
                include_str!(concat!("../locales/", $lang, "/statistics.ftl")),
            ),
            (
                "portal",
                include_str!(concat!("../locales/", $lang, "/portal.ftl")),
            ),
            (
                "visits",
                include_str!(concat!("../locales/", $lang, "/visits.ftl")),
            ),
        ]
    };
}

pub const ZH_FILES: &[(&str, &str)] = locale_files!("zh-CN");
pub const EN_FILES: &[(&str, &str)] = locale_files!("en");

pub struct I18n {
    zh: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(locale: &str, files: &[(&str, &str)]) -> FluentBundle<FluentResource> {
    let id = locale.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks around arguments confuse copy-paste and tests; our arguments are
    // numbers, codes and names, never right-to-left text.
    bundle.set_use_isolating(false);
    // The files are part of the binary and tested: a syntax error is a build defect, and the
    // bundle keeps whatever parsed.
    for (_, source) in files {
        let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, _)| r);
        let _ = bundle.add_resource(resource);
    }
    bundle
}

impl I18n {
    pub fn new() -> I18n {
        I18n {
            zh: bundle("zh-CN", ZH_FILES),
            en: bundle("en", EN_FILES),
        }
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The message `key` in `lang`; the key itself when it is missing (a test prevents that).
    pub fn get(&self, lang: Lang, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundle(lang).has_message(key)
    }
}

impl Default for I18n {
    fn default() -> Self {
        I18n::new()
    }
}

/// A translator bound to one language, handed to templates.
#[derive(Clone)]
pub struct Tr {
    i18n: Arc<I18n>,
    pub lang: Lang,
}

impl Tr {
    pub fn new(i18n: Arc<I18n>, lang: Lang) -> Tr {
        Tr { i18n, lang }
    }

    pub fn t(&self, key: &str) -> String {
        self.i18n.get(self.lang, key, None)
    }

    /// A message with named arguments.
    pub fn t_args(&self, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        self.i18n.get(self.lang, key, Some(&fluent_args))
    }

    /// A bilingual domain message in this language.
    pub fn text(&self, text: &zhenxing_core::Text) -> String {
        text.get(self.lang).to_owned()
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The HTML `lang` attribute.
    pub fn html_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// A division's name in this language.
    pub fn name<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Message keys of a Fluent file, in order.
pub fn keys(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && !l.starts_with('.'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .filter(|k| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let all =
            |files: &[(&str, &str)]| files.iter().flat_map(|(_, s)| keys(s)).collect::<Vec<_>>();
        let zh = all(ZH_FILES);
        let en = all(EN_FILES);
        let missing_en: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        let missing_zh: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        assert!(missing_en.is_empty(), "missing in en.ftl: {missing_en:?}");
        assert!(
            missing_zh.is_empty(),
            "missing in zh-CN.ftl: {missing_zh:?}"
        );
        let mut sorted = zh.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), zh.len(), "a key is defined twice");
    }

    #[test]
    fn both_files_parse_completely() {
        for (lang, files) in [("zh-CN", ZH_FILES), ("en", EN_FILES)] {
            for (name, source) in files {
                if let Err((_, errors)) = FluentResource::try_new((*source).to_owned()) {
                    panic!("{lang}/{name}.ftl: {errors:?}");
                }
            }
        }
    }

    /// Every `t("key")` / `t_args("key"` in templates and sources names a defined message.
    #[test]
    fn every_key_used_is_defined() {
        let i18n = I18n::new();
        let mut used = Vec::new();
        let roots = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/pages"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/pages/monitoring"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/api"),
        ];
        for root in roots {
            for entry in std::fs::read_dir(root).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for marker in [".t(\"", ".t_args(\""] {
                    for (i, _) in text.match_indices(marker) {
                        let rest = &text[i + marker.len()..];
                        if let Some(end) = rest.find('"') {
                            used.push((path.display().to_string(), rest[..end].to_owned()));
                        }
                    }
                }
            }
        }
        assert!(used.len() > 50, "the scan found the keys ({})", used.len());
        let missing: Vec<_> = used
            .iter()
            .filter(|(_, k)| !k.contains('{') && !i18n.has(Lang::Zh, k))
            .collect();
        assert!(missing.is_empty(), "undefined keys: {missing:?}");
    }
}
