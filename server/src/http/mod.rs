//! The HTTP layer: routes, middleware, and the translation of failures into
//! the envelope. It holds no auth logic.

mod admin;
mod auth;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod session;

use app::{shell, App};
use axum::{
    extract::{DefaultBodyLimit, Request},
    http::{header, HeaderValue},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, patch, post},
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use self::error::ApiError;
use crate::state::AppState;

/// The JSON API under `/api`. Unknown paths and wrong methods answer in the
/// envelope, not with the HTML of the pages.
fn api_router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/me", get(auth::me))
        .route("/auth/validate", get(auth::validate))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/revoke", post(auth::revoke))
        .route("/auth/protected", get(auth::protected))
        .route("/auth/sessions", get(auth::sessions))
        .route("/auth/sessions/{id}", delete(auth::end_session))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/auth/password", post(auth::change_password))
        .route("/admin/users", get(admin::list_users))
        .route("/admin/users/{id}/role", patch(admin::set_role))
        .route("/admin/users/{id}/active", patch(admin::set_active))
        .route(
            "/admin/users/{id}/revoke-sessions",
            post(admin::revoke_sessions),
        )
        .route("/admin/audit", get(admin::audit_log))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::BODY_LIMIT))
}

/// The whole application: API, pages, static files, and the middleware.
pub fn router(state: AppState) -> Router {
    let leptos_options = state.leptos_options.clone();
    let routes = Router::new()
        .nest("/api", api_router())
        .leptos_routes(&state, generate_route_list(App), move || {
            shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::page_session,
        ))
        .layer(session::layer(&state));
    with_middleware(routes).with_state(state)
}

/// What every request goes through: request id, tracing, panic recovery, cache headers.
fn with_middleware<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .layer(middleware::from_fn(cache_headers))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::Internal("a handler panicked".into()).into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok());
                    // The path only: query strings are not logged.
                    tracing::info_span!("request", id = id.unwrap_or("-"), method = %req.method(), path = req.uri().path())
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(tower_http::LatencyUnit::Micros)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Hashed assets never change, so browsers may keep them for a year; the
/// names change with the content. API answers carry tokens and personal
/// data, so nothing may store them (RFC 6749 §5.1). Pages are revalidated.
async fn cache_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let policy = if path.starts_with("/pkg/") {
        "public, max-age=31536000, immutable"
    } else if path.starts_with("/api/") {
        "no-store"
    } else {
        "no-cache"
    };
    let mut response = next.run(req).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let policy = if response.status().is_success() {
            policy
        } else {
            "no-store"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_in_the_envelope() {
        let app = with_middleware(
            Router::new().route("/boom", get(|| async { panic!("boom") as &'static str })),
        );
        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        let body: serde_json::Value =
            serde_json::from_slice(&to_bytes(response.into_body(), 4096).await.unwrap()).unwrap();
        assert_eq!(body["isSuccess"], false);
        assert_eq!(body["message"], "Internal server error.");
    }
}
