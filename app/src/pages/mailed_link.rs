//! What the pages of mailed links share: the token of the link, read once
//! and then taken out of the address bar, so that it stays in no history
//! entry, bookmark or screenshot. (The server sends these pages with
//! `Referrer-Policy: no-referrer`, so no link on them carries it away.)

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::forms::FormOutcome;

/// The token of the link: from a form the server sent back, else from the URL.
pub fn link_token(outcome: Option<&FormOutcome>) -> String {
    outcome
        .map(|o| o.value("token"))
        .filter(|t| !t.is_empty())
        .or_else(|| use_query_map().read_untracked().get("token"))
        .unwrap_or_default()
}

/// Once the app runs, replaces the URL of the page by `path` (no query).
pub fn forget_token_in_address_bar(path: &'static str) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
