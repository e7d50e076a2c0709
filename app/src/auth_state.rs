//! Who is signed in, as the pages see it. On the server it comes from the
//! browser session; in the browser it starts as what the server rendered (so
//! hydration matches) and then follows the token store.

use leptos::prelude::*;

use crate::api::{AuthResponse, User};

#[derive(Clone, Copy)]
pub struct AuthState {
    pub user: RwSignal<Option<User>>,
    /// The access token's expiry (Unix seconds); known only in the browser.
    pub expires_at: RwSignal<Option<i64>>,
}

impl AuthState {
    pub fn signed_in(&self) -> bool {
        self.user.with(Option::is_some)
    }

    /// Shows `tokens` (or their absence): who is signed in, and until when.
    #[cfg(feature = "hydrate")]
    fn show(&self, tokens: Option<crate::client::token_store::StoredTokens>) {
        self.expires_at.set(tokens.as_ref().map(|t| t.expires_at));
        self.user.set(tokens.map(|t| t.user));
    }
}

/// Creates the state and provides it to every page.
pub fn provide_auth_state() -> AuthState {
    // Serialized into the page by the server, read back during hydration.
    let rendered = SharedValue::new(session_user).into_inner();
    // Tokens of a sign-in by a form posted before the app loaded.
    let handoff = SharedValue::new(token_handoff).into_inner();
    let state = AuthState {
        user: RwSignal::new(rendered),
        expires_at: RwSignal::new(None),
    };
    provide_context(state);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        crate::client::tab_sync::start(move |tokens| state.show(tokens), handoff.clone())
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = handoff;
    state
}

pub fn use_auth() -> AuthState {
    expect_context::<AuthState>()
}

/// The tokens the request's page hands to the app (server only).
fn token_handoff() -> Option<AuthResponse> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().and_then(|parts| {
            parts
                .extensions
                .get::<crate::session::TokenHandoff>()
                .map(|handoff| handoff.0.clone())
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The user of the request's browser session (server only).
fn session_user() -> Option<User> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .extensions
                    .get::<crate::session::SessionUser>()
                    .cloned()
            })
            .and_then(|session| session.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}
