//! Keeps this tab in step with the token store: a sign-out (or sign-in) in
//! one tab reaches every other open tab through the `storage` event.

use leptos::prelude::*;
use web_sys::StorageEvent;

use super::token_store::{self, StoredTokens};
use crate::{api::AuthResponse, auth_state::AuthState};

thread_local! {
    static AUTH: std::cell::Cell<Option<AuthState>> = const { std::cell::Cell::new(None) };
}

/// Called once after hydration: stores the tokens the page hands over (a
/// sign-in by a form posted before the app loaded), takes the stored tokens
/// into the reactive state, and listens for changes made by other tabs.
pub fn start(auth: AuthState, handoff: Option<AuthResponse>) {
    AUTH.with(|a| a.set(Some(auth)));
    if let Some(signed_in) = handoff {
        token_store::save(&StoredTokens::from_response(signed_in));
    }
    adopt(auth, token_store::load());
    let handle = window_event_listener(leptos::ev::storage, move |event: StorageEvent| {
        if event.key().as_deref() != Some(token_store::KEY) {
            return;
        }
        let tokens: Option<StoredTokens> = event
            .new_value()
            .and_then(|v| serde_json::from_str(&v).ok());
        let signed_out = tokens.is_none() && auth.user.get_untracked().is_some();
        adopt(auth, tokens);
        if signed_out {
            super::go_to_login(&super::current_location(), Some("signed-out"));
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}

/// Shows `tokens` (or their absence) in the reactive state.
pub fn adopt(auth: AuthState, tokens: Option<StoredTokens>) {
    auth.expires_at.set(tokens.as_ref().map(|t| t.expires_at));
    auth.user.set(tokens.map(|t| t.user));
}

/// This tab signed in or out: store the tokens and show it.
pub fn store(tokens: Option<StoredTokens>) {
    match &tokens {
        Some(t) => token_store::save(t),
        None => token_store::clear(),
    }
    if let Some(auth) = AUTH.with(|a| a.get()) {
        adopt(auth, tokens);
    }
}

/// This tab signed out: clear the reactive state too.
pub fn signed_out_here() {
    store(None);
}
