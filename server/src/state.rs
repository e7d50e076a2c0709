//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    auth::AuthService, config::Config, db::Db, http::limits::AuthRateLimiter, metrics::Metrics,
    redis_store::RedisStore,
};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: Db,
    /// Present in scale-out mode (`REDIS_URL`).
    pub redis: Option<RedisStore>,
    pub auth: AuthService,
    pub metrics: Metrics,
    /// Off when `AUTH_RATE_PER_SECOND=0`.
    pub auth_rate_limiter: Option<AuthRateLimiter>,
}
