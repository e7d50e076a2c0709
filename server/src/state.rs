//! What every handler can reach.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    auth::AuthService,
    config::Config,
    db::Db,
    http::extract::ClientAddresses,
    metrics::Metrics,
    store::{RedisStore, Stores},
};

/// Shared by every request: one pointer to clone, however many middleware
/// layers and extractors take it (the Leptos options alone are a dozen fields).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: Db,
    /// Present in scale-out mode (`REDIS_URL`).
    pub redis: Option<RedisStore>,
    pub auth: AuthService,
    pub metrics: Metrics,
    /// The session records, lockout counters, revocation list and rate buckets.
    pub stores: Stores,
    pub client_addresses: ClientAddresses,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
