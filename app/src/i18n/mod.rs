//! The three languages of the app, the API and the mails.
//!
//! The texts live in `locales/{en,zh-CN,zh-TW}/*.toml`, files that a
//! translator edits without reading Rust; `build.rs` turns them into
//! [`Msg`] and one table per language, and fails the build when a language
//! lacks a key or a translation's `{placeholders}` differ from English.
//!
//! The server holds all three tables. The browser bundle holds none: the
//! table of the page's language is fetched from `/i18n/{tag}.{version}.json`
//! before hydration (the page links it as a preload, and it is cached for
//! good), another one when the user switches. Every page loads the texts of
//! one language, and the WASM every page loads stays small.

mod accept_language;
#[cfg(feature = "hydrate")]
mod account_language;
#[cfg(feature = "hydrate")]
mod browser;
mod context;

use std::fmt;

pub use crate::api::Locale;
pub use accept_language::best_match;
#[cfg(feature = "hydrate")]
pub use account_language::{adopt_account_language, save_account_language};
#[cfg(feature = "hydrate")]
pub use browser::{load, load_page_language, show_in};
pub use context::{current, page_locale, provide_i18n, t, tf, use_i18n, I18n, PageLocale};

#[cfg_attr(feature = "hydrate", allow(dead_code))]
mod catalog {
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

pub use catalog::{Msg, CATALOG_VERSION};

/// The text of `msg` in `locale`, placeholders unfilled.
#[cfg(not(feature = "hydrate"))]
pub fn text(locale: Locale, msg: Msg) -> &'static str {
    table(locale)[msg as usize]
}

#[cfg(not(feature = "hydrate"))]
fn table(locale: Locale) -> &'static [&'static str] {
    match locale {
        Locale::En => &catalog::EN,
        Locale::ZhCn => &catalog::ZH_CN,
        Locale::ZhTw => &catalog::ZH_TW,
    }
}

/// The text of `msg` in `locale`, placeholders unfilled; empty when the
/// table of `locale` is not loaded (the app hydrates only once the page's
/// language is, and switches only to a loaded one).
#[cfg(feature = "hydrate")]
pub fn text(locale: Locale, msg: Msg) -> &'static str {
    browser::loaded(locale)
        .and_then(|table| table.get(msg as usize).copied())
        .unwrap_or_default()
}

/// Every text of `locale` in key order, as the browser fetches it.
#[cfg(not(feature = "hydrate"))]
pub fn catalog_json(locale: Locale) -> String {
    serde_json::to_string(table(locale)).expect("strings serialize")
}

/// The path of `locale`'s table, named by the version of the texts so that
/// it can be cached for good.
pub fn catalog_path(locale: Locale) -> String {
    format!("/i18n/{}.{CATALOG_VERSION}.json", locale.as_str())
}

/// A role as people read it (the API's value never changes).
pub fn role_name(role: crate::api::Role) -> &'static str {
    match role {
        crate::api::Role::User => t(Msg::AppRoleUser),
        crate::api::Role::Admin => t(Msg::AppRoleAdmin),
    }
}

/// An RFC 3339 instant as the viewer reads it, to the second: in the
/// language shown and the browser's time zone. The server knows no viewer's
/// time zone, so it gives the instant as it is; the lists that show times
/// load in the browser.
pub fn format_datetime(rfc3339: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
        if !date.get_time().is_nan() {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
            let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"medium".into());
            return date.to_locale_string(current().as_str(), &options).into();
        }
    }
    rfc3339.to_string()
}

/// `template` with each `{name}` replaced by its value, in one pass: a value
/// that itself holds `{…}` (a user's name, say) is never read as a placeholder.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| (&after[..close], close)) {
            Some((name, close)) => {
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A message to show someone, not yet in a language: the key and the values
/// of its placeholders. The server's errors carry these and are rendered in
/// the caller's language when the response is made; the browser's rules
/// render them in the page's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    msg: Msg,
    args: Vec<(&'static str, String)>,
}

impl Text {
    pub fn new(msg: Msg) -> Self {
        Text {
            msg,
            args: Vec::new(),
        }
    }

    /// Fills the placeholder `{name}` with `value`.
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    pub fn msg(&self) -> Msg {
        self.msg
    }

    /// In the language being shown.
    pub fn localized(&self) -> String {
        self.render(current())
    }

    pub fn render(&self, locale: Locale) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(n, v)| (*n, v.as_str())).collect();
        fill(text(locale, self.msg), &args)
    }
}

impl From<Msg> for Text {
    fn from(msg: Msg) -> Self {
        Text::new(msg)
    }
}

/// English, for logs and the command line.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Locale::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text() {
        for (tag, table) in [
            ("en", &catalog::EN),
            ("zh-CN", &catalog::ZH_CN),
            ("zh-TW", &catalog::ZH_TW),
        ] {
            assert_eq!(table.len(), Msg::COUNT, "{tag}");
            for (i, text) in table.iter().enumerate() {
                assert!(!text.trim().is_empty(), "{tag} text {i} is empty");
            }
        }
    }

    #[test]
    fn chinese_texts_are_chinese() {
        // A text copied over from English untranslated would show here. Only
        // texts that are names or codes may be the same in every language.
        for (tag, table) in [("zh-TW", &catalog::ZH_TW), ("zh-CN", &catalog::ZH_CN)] {
            let same: Vec<&str> = catalog::EN
                .iter()
                .zip(table.iter())
                .filter(|(en, zh)| en == zh && en.chars().any(|c| c.is_ascii_lowercase()))
                .map(|(en, _)| *en)
                .collect();
            assert!(
                same.iter().all(|t| ALLOWED_SAME.contains(t)),
                "untranslated in {tag}: {same:?}"
            );
        }
    }

    /// Texts that read the same in every language.
    const ALLOWED_SAME: &[&str] = &["English", "Auth", "Admin", "User"];

    #[test]
    fn the_two_chinese_differ_where_usage_does() {
        // Taiwan and mainland usage, not one converted from the other.
        let tw = catalog::ZH_TW.concat();
        let cn = catalog::ZH_CN.concat();
        for word in ["帳號", "密碼", "登入"] {
            assert!(tw.contains(word), "zh-TW lacks {word}");
        }
        for word in ["账号", "密码", "登录"] {
            assert!(cn.contains(word), "zh-CN lacks {word}");
        }
        for word in ["账号", "登录", "用户名"] {
            assert!(!tw.contains(word), "zh-TW uses the mainland {word}");
        }
        for word in ["帳號", "登入", "使用者名稱"] {
            assert!(!cn.contains(word), "zh-CN uses the Taiwan {word}");
        }
    }

    #[test]
    fn placeholders_are_filled_once_and_values_stay_as_they_are() {
        assert_eq!(
            fill("Hello, {name}!", &[("name", "{name}")]),
            "Hello, {name}!"
        );
        assert_eq!(fill("{a} and {b}", &[("a", "1"), ("b", "2")]), "1 and 2");
        assert_eq!(fill("{missing} {", &[]), "{missing} {");
        assert_eq!(
            Text::new(Msg::RulesUsernameLength)
                .with("min", 3)
                .with("max", 50)
                .render(Locale::ZhTw),
            fill(
                text(Locale::ZhTw, Msg::RulesUsernameLength),
                &[("min", "3"), ("max", "50")]
            )
        );
    }
}
