//! The tables of texts, fetched when needed: the page's language before
//! hydration, another one on a switch.

use std::cell::RefCell;

use super::{catalog_path, I18n, Locale, Msg};

thread_local! {
    static LOADED: RefCell<Vec<(Locale, &'static [&'static str])>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn loaded(locale: Locale) -> Option<&'static [&'static str]> {
    LOADED.with(|l| {
        l.borrow()
            .iter()
            .find(|(l, _)| *l == locale)
            .map(|(_, t)| *t)
    })
}

/// Fetches `locale`'s table unless an earlier fetch has it.
pub async fn load(locale: Locale) -> Result<(), String> {
    if loaded(locale).is_some() {
        return Ok(());
    }
    let response = gloo_net::http::Request::get(&catalog_path(locale))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let texts: Vec<String> = response.json().await.map_err(|e| e.to_string())?;
    if texts.len() != Msg::COUNT {
        return Err("the texts are of another version".into());
    }
    // Kept for the life of the page: at most three tables of a few kilobytes.
    let table: &'static [&'static str] = Vec::leak(
        texts
            .into_iter()
            .map(|s| &*String::leak(s))
            .collect::<Vec<&'static str>>(),
    );
    LOADED.with(|l| l.borrow_mut().push((locale, table)));
    Ok(())
}

/// The language the server rendered the page in (`<html lang>`).
pub fn page_language() -> Locale {
    leptos::tachys::dom::document()
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|tag| Locale::parse(&tag))
        .unwrap_or_default()
}

/// Before hydration: the table of the page's language, so that the app
/// renders the words the server did.
pub async fn load_page_language() -> Result<(), String> {
    load(page_language()).await
}

/// Shows the app in `locale` once its texts are here, and keeps the choice
/// in the `lang` cookie for the next visit (as the server's form does).
pub async fn show_in(i18n: I18n, locale: Locale) -> Result<(), String> {
    if let Err(e) = load(locale).await {
        leptos::logging::warn!("cannot load the texts of {}: {e}", locale.as_str());
        return Err(e);
    }
    remember(locale);
    i18n.switch_to(locale);
    Ok(())
}

fn remember(locale: Locale) {
    use wasm_bindgen::JsCast;
    let secure = web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .is_some_and(|p| p == "https:");
    let cookie = format!(
        "lang={}; path=/; max-age=31536000; samesite=lax{}",
        locale.as_str(),
        if secure { "; secure" } else { "" }
    );
    if let Some(document) = leptos::tachys::dom::document().dyn_ref::<web_sys::HtmlDocument>() {
        let _ = document.set_cookie(&cookie);
    }
}
