//! The tokens, kept in localStorage (gloo-storage) so every tab shares them.

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

use crate::api::{AuthResponse, User};

/// The localStorage key; other tabs watch it (see `tab_sync`).
pub const KEY: &str = "auth.tokens";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTokens {
    pub access_token: String,
    pub refresh_token: String,
    /// The access token's `exp` (Unix seconds).
    pub expires_at: i64,
    /// When the browser received it, to refresh a little before `expires_at`.
    pub received_at: f64,
    pub user: User,
}

impl StoredTokens {
    pub fn from_response(auth: AuthResponse) -> Self {
        StoredTokens {
            access_token: auth.access_token,
            refresh_token: auth.refresh_token,
            expires_at: auth.expires_in,
            received_at: super::now(),
            user: auth.user,
        }
    }

    /// True once the token is within its last tenth of life (at most 30 s)
    /// of expiry: time to refresh before using it.
    pub fn is_stale(&self, now: f64) -> bool {
        let lifetime = (self.expires_at as f64 - self.received_at).max(0.0);
        let margin = (lifetime / 10.0).min(30.0);
        now >= self.expires_at as f64 - margin
    }
}

pub fn load() -> Option<StoredTokens> {
    LocalStorage::get(KEY).ok()
}

pub fn save(tokens: &StoredTokens) {
    if let Err(e) = LocalStorage::set(KEY, tokens) {
        leptos::logging::warn!("cannot store the tokens: {e}");
    }
}

pub fn clear() {
    LocalStorage::delete(KEY);
}
