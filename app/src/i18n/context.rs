//! The page's language: chosen by the server for the request (the account,
//! then the `lang` cookie, then `Accept-Language`), kept by hydration, and
//! changed by the language switcher without a reload.

use leptos::prelude::*;

use super::{fill, text, Locale, Msg};

/// Put into the request by the server: the language to render the page in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageLocale(pub Locale);

/// The language of the app, for every page.
#[derive(Clone, Copy)]
pub struct I18n {
    pub locale: RwSignal<Locale>,
}

impl I18n {
    /// Shows the app in `locale` (its table must be loaded in the browser).
    pub fn switch_to(&self, locale: Locale) {
        #[cfg(feature = "hydrate")]
        {
            CURRENT.set(locale);
            if let Some(html) = leptos::tachys::dom::document().document_element() {
                let _ = html.set_attribute("lang", locale.as_str());
            }
        }
        self.locale.set(locale);
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The browser renders one language at a time; event handlers and
    /// futures read it here, where no reactive owner may be at hand.
    static CURRENT: std::cell::Cell<Locale> = const { std::cell::Cell::new(Locale::En) };
}

/// Creates the page's language (the server's choice, which the browser
/// reads from `<html lang>`) and provides it.
pub fn provide_i18n() -> I18n {
    #[cfg(feature = "hydrate")]
    let chosen = super::browser::page_language();
    #[cfg(not(feature = "hydrate"))]
    let chosen = page_locale();
    #[cfg(feature = "hydrate")]
    CURRENT.set(chosen);
    let i18n = I18n {
        locale: RwSignal::new(chosen),
    };
    provide_context(i18n);
    i18n
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

/// The language being shown now (not tracked).
pub fn current() -> Locale {
    #[cfg(feature = "hydrate")]
    {
        CURRENT.get()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use_context::<I18n>()
            .map(|i18n| i18n.locale.get_untracked())
            .unwrap_or_default()
    }
}

/// `msg` in the language being shown.
pub fn t(msg: Msg) -> &'static str {
    text(current(), msg)
}

/// `msg` in the language being shown, its placeholders filled.
pub fn tf(msg: Msg, args: &[(&str, &str)]) -> String {
    fill(t(msg), args)
}

/// The language the server chose for this page (English in the browser,
/// which reads it from the serialized value instead).
pub fn page_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<PageLocale>().copied())
            .map(|page| page.0)
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Locale::default()
    }
}
