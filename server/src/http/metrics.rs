//! `GET /metrics` for Prometheus, and the middleware that counts and times
//! every request by its route.

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::state::AppState;

/// Where [`remember_route`], which runs after routing, writes the route
/// pattern a request matched for [`record`], which runs before routing. A
/// slot on the request, not a mark on the response: an answer made outside
/// the route (a timeout) is still counted under its route.
#[derive(Clone, Default)]
struct MatchedRoute(Arc<OnceLock<MatchedPath>>);

pub async fn remember_route(req: Request, next: Next) -> Response {
    if let (Some(slot), Some(route)) = (
        req.extensions().get::<MatchedRoute>(),
        req.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(route.clone());
    }
    next.run(req).await
}

pub async fn record(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let matched = MatchedRoute::default();
    req.extensions_mut().insert(matched.clone());
    let response = next.run(req).await;
    // Unmatched paths (static files, 404s) share one label: a scanner
    // trying a million URLs must not create a million series.
    let route = matched.0.get().map_or("unmatched", MatchedPath::as_str);
    state.metrics.observe_request(
        method.as_str(),
        route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Served only when `METRICS_TOKEN` is set, and only to a caller that sends it
/// as a Bearer token: request counts and rates are nobody else's business.
pub async fn scrape(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let Some(expected) = &state.config.http.metrics_token else {
        return Err(ApiError::NotFound);
    };
    let sent = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Comparing digests takes the same time wherever the first difference is.
    if Sha256::digest(sent.as_bytes()) != Sha256::digest(expected.expose()) {
        return Err(ApiError::MetricsTokenRequired);
    }
    let (content_type, text) = state.metrics.render();
    let mut response = (StatusCode::OK, text).into_response();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    Ok(response)
}
