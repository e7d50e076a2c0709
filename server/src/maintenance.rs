//! Upkeep in the background: what has expired is deleted, so that no table
//! grows without bound, and sealed refresh successors are forgotten as soon
//! as their grace window has passed.

use std::time::Duration;

use tokio::{task::JoinHandle, time::MissedTickBehavior};

use crate::state::AppState;

/// How often expired state is deleted.
const CLEANUP_EVERY: Duration = Duration::from_secs(600);

/// Starts both loops (call within the Tokio runtime).
pub fn spawn(state: &AppState) -> [JoinHandle<()>; 2] {
    let cleanup = state.clone();
    let cleaning = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CLEANUP_EVERY);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            clean_up(&cleanup).await;
        }
    });
    let sweep = state.clone();
    let grace = sweep.auth.refresh_tokens().grace().max(1) as u64;
    let sweeping = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(grace));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = sweep.auth.clock().now();
            if let Err(e) = sweep.auth.refresh_tokens().forget_expired_seals(now).await {
                tracing::warn!(error = %e, "cannot forget the expired sealed successors");
            }
        }
    });
    [cleaning, sweeping]
}

/// Deletes expired refresh families, revocations, lockout counters and
/// browser sessions, the audit events past their retention, and the rate
/// limiter's idle clients; returns how many rows went.
pub async fn clean_up(state: &AppState) -> u64 {
    if let Some(limiter) = &state.stores.rate_limiter {
        limiter.forget_idle_clients();
    }
    let auth = match state.auth.cleanup().await {
        Ok(removed) => removed,
        Err(e) => {
            tracing::warn!(error = %e, "cleanup of expired auth state failed");
            0
        }
    };
    let now = state.auth.clock().now();
    let sessions = match state.stores.sessions.delete_expired(now).await {
        Ok(removed) => removed,
        Err(e) => {
            tracing::warn!(error = %e, "cleanup of expired browser sessions failed");
            0
        }
    };
    tracing::debug!(removed = auth + sessions, "expired state removed");
    auth + sessions
}
