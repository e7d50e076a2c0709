//! Liveness and readiness.

use app::api::{Envelope, Health, Readiness};
use app::i18n::Msg;
use axum::{extract::State, http::StatusCode, response::Response};

use super::{
    error::{ok, ApiError},
    responses::ErrorEnvelope,
};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/health", tag = "operations",
    responses((status = 200, description = "The process is up", body = Envelope<Health>)))]
/// `GET /api/health`: the process is up.
pub async fn health() -> Response {
    ok(
        StatusCode::OK,
        Msg::ApiOkRunning,
        Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
    )
}

#[utoipa::path(get, path = "/api/ready", tag = "operations",
    responses(
        (status = 200, description = "The database and Redis (when configured) answer", body = Envelope<Readiness>),
        (status = 503, description = "A dependency does not answer; `errors` names it", body = ErrorEnvelope)
    ))]
/// `GET /api/ready`: the database, and Redis when configured, answer.
pub async fn ready(State(state): State<AppState>) -> Result<Response, ApiError> {
    let database = state.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness: database unreachable");
        "database unreachable"
    });
    let redis = match &state.redis {
        None => Ok("not configured"),
        Some(redis) => redis.ping().await.map(|()| "ok").map_err(|e| {
            tracing::warn!(error = %e, "readiness: redis unreachable");
            "redis unreachable"
        }),
    };
    match (database, redis) {
        (Ok(()), Ok(redis)) => Ok(ok(
            StatusCode::OK,
            Msg::ApiOkReady,
            Readiness {
                database: "ok".into(),
                redis: redis.into(),
            },
        )),
        (database, redis) => {
            let down = [database.err(), redis.err()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            Err(ApiError::Unavailable(down))
        }
    }
}
