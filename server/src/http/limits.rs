//! Limits that keep one client from taking the server: a deadline for every
//! request, and a per-IP rate on the endpoints that cost a bcrypt hash or
//! rotate a token.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota,
};

use super::{error::ApiError, extract::client_ip_of};
use crate::{config::RateLimit, state::AppState};

/// Answers 408 in the envelope when a request (reading its body included)
/// is not done within `REQUEST_TIMEOUT`.
pub async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// A token bucket per client IP, in this process. Each server process
/// counts its own clients; the lockout after failed logins is the limit
/// shared by all of them.
#[derive(Clone)]
pub struct AuthRateLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl AuthRateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        AuthRateLimiter(Arc::new(DefaultKeyedRateLimiter::keyed(quota)))
    }

    /// `Err(seconds to wait)` when `ip` has used up its burst.
    fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.0.check_key(&ip).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil() as u64
        })
    }

    /// Forgets clients whose bucket is full again, so the map stays small.
    pub fn forget_idle_clients(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

pub async fn auth_rate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(limiter), Some(ip)) = (
        &state.auth_rate_limiter,
        client_ip_of(&req, &state.config.trusted_proxies),
    ) else {
        return next.run(req).await;
    };
    match limiter.check(ip) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_and_others_are_not_affected() {
        let limiter = AuthRateLimiter::new(RateLimit {
            per_second: 1,
            burst: 3,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
        assert_eq!(limiter.check(a), Err(1));
        assert_eq!(limiter.check(b), Ok(()));
    }
}
