//! The HTTP layer: routes, middleware, and the translation of failures into
//! the envelope. It holds no auth logic.

mod account;
mod account_forms;
mod admin;
mod auth;
mod catalogs;
pub mod error;
pub mod extract;
mod forms;
pub mod health;
pub mod json;
mod jwks;
pub mod language;
pub mod limits;
mod metrics;
pub mod openapi;
mod responses;
mod security;
pub mod session;

use std::convert::Infallible;

use app::{api::paths, shell, App};
use axum::{
    extract::{DefaultBodyLimit, Request},
    handler::Handler,
    http::{header, HeaderValue, Method},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, on, post, MethodFilter, MethodRouter},
    Router,
};
use leptos::{
    nonce::Nonce,
    prelude::{provide_context, use_context},
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::{Service, ServiceBuilder};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{
        predicate::{DefaultPredicate, Predicate},
        CompressionLayer, CompressionLevel,
    },
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use self::error::ApiError;
use crate::state::AppState;

/// Builds the API router and keeps the list of what it serves, so a test can
/// hold the OpenAPI document against the routes that really exist.
pub struct ApiRoutes {
    router: Router<AppState>,
    served: Vec<(Method, String)>,
}

impl ApiRoutes {
    fn new() -> Self {
        ApiRoutes {
            router: Router::new(),
            served: Vec::new(),
        }
    }

    fn add<H, T>(self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_route(method, path, |filter| on(filter, handler))
    }

    /// Routes `path` (a full path, `/api/...`, as `app::api::paths` writes
    /// it) in the router nested under `/api`.
    fn add_route(
        mut self,
        method: Method,
        path: &str,
        route: impl FnOnce(MethodFilter) -> MethodRouter<AppState>,
    ) -> Self {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
        let within_api = path
            .strip_prefix("/api")
            .expect("an API path starts with /api");
        self.router = self.router.route(within_api, route(filter));
        self.served.push((method, path.to_string()));
        self
    }

    /// Like `add`, behind the per-IP rate limit of the auth endpoints.
    fn add_rate_limited<H, T>(
        self,
        state: &AppState,
        method: Method,
        path: &str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let limit = middleware::from_fn_with_state(state.clone(), limits::auth_rate);
        self.add_route(method, path, |filter| {
            on(filter, handler).route_layer(limit)
        })
    }

    /// Method and full path (`/api/...`, `{id}` for parameters) of every route.
    pub fn served(&self) -> &[(Method, String)] {
        &self.served
    }
}

/// The JSON API under `/api`. Unknown paths and wrong methods answer in the
/// envelope, not with the HTML of the pages.
pub fn api_routes(state: &AppState) -> ApiRoutes {
    use Method as M;
    ApiRoutes::new()
        .add(M::GET, "/api/openapi.json", openapi::document)
        .add(M::GET, paths::HEALTH, health::health)
        .add(M::GET, "/api/ready", health::ready)
        .add_rate_limited(state, M::POST, paths::REGISTER, auth::register)
        .add_rate_limited(state, M::POST, paths::LOGIN, auth::login)
        .add(M::GET, paths::ME, auth::me)
        .add(M::GET, paths::VALIDATE, auth::validate)
        .add_rate_limited(state, M::POST, paths::REFRESH, auth::refresh)
        .add(M::POST, paths::REVOKE, auth::revoke)
        .add(M::GET, paths::PROTECTED, auth::protected)
        .add(M::GET, paths::SESSIONS, auth::sessions)
        .add(M::DELETE, paths::SESSION, auth::end_session)
        .add(M::POST, paths::LOGOUT_ALL, auth::logout_all)
        .add_rate_limited(state, M::POST, paths::PASSWORD, auth::change_password)
        .add_rate_limited(
            state,
            M::POST,
            paths::PASSWORD_FORGOT,
            account::forgot_password,
        )
        .add_rate_limited(
            state,
            M::POST,
            paths::PASSWORD_RESET,
            account::reset_password,
        )
        .add_rate_limited(state, M::POST, paths::EMAIL_VERIFY, account::verify_email)
        .add_rate_limited(
            state,
            M::POST,
            paths::EMAIL_RESEND,
            account::resend_verification,
        )
        .add(M::GET, paths::ACCOUNT, account::account)
        .add(M::PATCH, paths::ACCOUNT, account::update_account)
        .add_rate_limited(state, M::DELETE, paths::ACCOUNT, account::delete_account)
        .add_rate_limited(state, M::POST, paths::ACCOUNT_EMAIL, account::change_email)
        .add(M::GET, paths::ADMIN_USERS, admin::list_users)
        .add(M::PATCH, paths::ADMIN_USER_ROLE, admin::set_role)
        .add(M::PATCH, paths::ADMIN_USER_ACTIVE, admin::set_active)
        .add(
            M::POST,
            paths::ADMIN_USER_REVOKE_SESSIONS,
            admin::revoke_sessions,
        )
        .add(
            M::POST,
            paths::ADMIN_USER_PASSWORD_RESET,
            admin::password_reset,
        )
        .add(M::GET, paths::ADMIN_AUDIT, admin::audit_log)
}

fn api_router(state: &AppState) -> Router<AppState> {
    let router = api_routes(state)
        .router
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::BODY_LIMIT));
    match security::cors(&state.config) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The whole application: API, docs, metrics, pages, static files, and the middleware.
pub fn router(state: AppState) -> Router {
    let leptos_options = state.leptos_options.clone();
    let form_limit = middleware::from_fn_with_state(state.clone(), limits::auth_rate);
    let routes = Router::new()
        .nest("/api", api_router(&state))
        // The pages' forms, posted before the app has loaded.
        .route("/login", post(forms::login).route_layer(form_limit.clone()))
        .route(
            "/register",
            post(forms::register).route_layer(form_limit.clone()),
        )
        .route(
            "/forgot-password",
            post(account_forms::forgot_password).route_layer(form_limit.clone()),
        )
        .route(
            "/reset-password",
            post(account_forms::reset_password).route_layer(form_limit.clone()),
        )
        .route(
            "/verify-email",
            post(account_forms::verify_email).route_layer(form_limit),
        )
        .route("/account", post(account_forms::account))
        .route("/language", post(language::switch))
        .route("/metrics", get(metrics::scrape))
        .route("/.well-known/jwks.json", get(jwks::jwks))
        .route("/i18n/{file}", get(catalogs::catalog))
        .merge(openapi::swagger_ui())
        .leptos_routes_with_context(&state, generate_route_list(App), use_csp_nonce, move || {
            shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(use_csp_nonce, shell))
        .route_layer(middleware::from_fn(metrics::remember_route))
        .with_state(state.clone());
    // The middleware wraps the router as one service, not each route through
    // `Router::layer`: axum clones a route's whole stack of boxed services for
    // every request it serves, which cost a fifth of validate's throughput.
    let app = ServiceBuilder::new()
        .layer(middleware::from_fn(language::negotiate))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::deadline,
        ))
        .layer(session::layer(&state))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::page_session,
        ))
        .service(routes);
    with_middleware(app)
}

/// Leptos renders the nonce of the CSP header (made by [`security::headers`])
/// into its inline scripts.
fn use_csp_nonce() {
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Nonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}

/// What every request goes through: request id, tracing, panic recovery, cache headers.
fn with_middleware<S>(service: S) -> Router
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send,
{
    let service = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
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
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::Internal("a handler panicked".into()).into_response()
        }))
        // Pages and JSON compressed on the fly; the site's files come
        // compressed already (made by the release build) and are left alone.
        .layer(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .quality(CompressionLevel::Precise(4))
                .compress_when(DefaultPredicate::new().and(NotPersonal)),
        )
        .layer(middleware::from_fn(cache_headers))
        .service(service);
    Router::new().fallback_service(service)
}

/// A page rendered for one signed-in user is sent uncompressed: it is small,
/// and the length of a compressed page that holds a secret (the tokens a
/// form sign-in hands over) and text an attacker can put in it leaks the
/// secret byte by byte (BREACH).
#[derive(Clone, Copy)]
struct NotPersonal;

impl Predicate for NotPersonal {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        !response
            .headers()
            .get(header::CACHE_CONTROL)
            .is_some_and(|v| v.as_bytes().starts_with(b"private"))
    }
}

/// What a path serves; it decides the caching and the security policy of the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResponseKind {
    /// The hashed JS, WASM and CSS under `/pkg`.
    Asset,
    /// JSON of the API, and the metrics.
    Data,
    /// Swagger UI.
    Docs,
    /// The app's pages and the other files of the site.
    Page,
}

impl ResponseKind {
    fn of(path: &str) -> Self {
        if path.starts_with("/pkg/") {
            ResponseKind::Asset
        } else if path.starts_with("/api/") || path == "/metrics" {
            ResponseKind::Data
        } else if path == "/docs" || path.starts_with("/docs/") {
            ResponseKind::Docs
        } else {
            ResponseKind::Page
        }
    }
}

/// Hashed assets never change, so browsers may keep them for a year; the
/// names change with the content. API answers carry tokens and personal
/// data, so nothing may store them (RFC 6749 §5.1). Pages are revalidated.
async fn cache_headers(req: Request, next: Next) -> Response {
    let policy = match ResponseKind::of(req.uri().path()) {
        ResponseKind::Asset => "public, max-age=31536000, immutable",
        ResponseKind::Data => "no-store",
        ResponseKind::Docs | ResponseKind::Page => "no-cache",
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

    #[test]
    fn paths_are_sorted_into_what_they_serve() {
        use ResponseKind::*;
        for (path, kind) in [
            ("/pkg/auth.abc123.wasm", Asset),
            ("/api/auth/me", Data),
            ("/metrics", Data),
            ("/docs/", Docs),
            ("/docs", Docs),
            ("/documents", Page),
            ("/login", Page),
            ("/favicon.svg", Page),
        ] {
            assert_eq!(ResponseKind::of(path), kind, "{path}");
        }
    }

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
