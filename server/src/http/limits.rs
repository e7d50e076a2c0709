//! Limits that keep one client from taking the server: a deadline for every
//! request, and a per-IP rate on the endpoints that cost a bcrypt hash or
//! rotate a token.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{error::ApiError, extract::client_ip_of};
use crate::{auth::client::network_of, state::AppState};

/// Answers 408 in the envelope when a request (reading its body included)
/// is not done within `REQUEST_TIMEOUT`.
pub async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.http.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

pub async fn auth_rate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(limiter), Some(ip)) = (
        &state.stores.rate_limiter,
        client_ip_of(&req, &state.client_addresses),
    ) else {
        return next.run(req).await;
    };
    // An IPv6 client counts by its /64: each of its addresses is no fresh budget.
    let ip = network_of(ip);
    match limiter.check(ip).await {
        Ok(()) => next.run(req).await,
        Err(retry_after_secs) => {
            tracing::info!(%ip, "auth rate limit reached");
            ApiError::RateLimited {
                retry_after_secs: retry_after_secs.max(1),
            }
            .into_response()
        }
    }
}
