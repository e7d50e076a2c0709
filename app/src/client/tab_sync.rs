//! Keeps this tab in step with the token store: a sign-out (or sign-in) in
//! one tab reaches every other open tab through the `storage` event. What
//! the tab shows of it is its watcher's business (the auth state).

use std::{cell::RefCell, rc::Rc};

use leptos::prelude::*;
use web_sys::StorageEvent;

use super::token_store::{self, StoredTokens};
use crate::api::AuthResponse;

/// Called with the tokens whenever they change, in this tab or another.
type Watcher = Rc<dyn Fn(Option<StoredTokens>)>;

thread_local! {
    static WATCHER: RefCell<Option<Watcher>> = const { RefCell::new(None) };
}

/// Called once after hydration: stores the tokens the page hands over (a
/// sign-in by a form posted before the app loaded), shows the stored
/// tokens to `watch`, and listens for changes made by other tabs. A
/// sign-out in another tab leaves for the login page.
pub fn start(watch: impl Fn(Option<StoredTokens>) + 'static, handoff: Option<AuthResponse>) {
    let watch: Watcher = Rc::new(watch);
    WATCHER.with(|w| *w.borrow_mut() = Some(watch.clone()));
    if let Some(signed_in) = handoff {
        token_store::save(&StoredTokens::from_response(signed_in));
    }
    let signed_in = Rc::new(std::cell::Cell::new(false));
    let shown = {
        let signed_in = signed_in.clone();
        move |tokens: Option<StoredTokens>| {
            signed_in.set(tokens.is_some());
            watch(tokens);
        }
    };
    shown(token_store::load());
    let handle = window_event_listener(leptos::ev::storage, move |event: StorageEvent| {
        if event.key().as_deref() != Some(token_store::KEY) {
            return;
        }
        let tokens: Option<StoredTokens> = event
            .new_value()
            .and_then(|v| serde_json::from_str(&v).ok());
        let signed_out = tokens.is_none() && signed_in.get();
        shown(tokens);
        if signed_out {
            super::go_to_login(&super::current_location(), Some("signed-out"));
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}

/// This tab signed in or out: store the tokens and show it.
pub fn store(tokens: Option<StoredTokens>) {
    match &tokens {
        Some(t) => token_store::save(t),
        None => token_store::clear(),
    }
    let watcher = WATCHER.with(|w| w.borrow().clone());
    if let Some(watch) = watcher {
        watch(tokens);
    }
}

/// This tab signed out: clear the reactive state too.
pub fn signed_out_here() {
    store(None);
}
