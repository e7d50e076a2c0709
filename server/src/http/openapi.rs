//! The OpenAPI 3.1 document of `/api`, generated from the handlers'
//! annotations and the shared wire types, and Swagger UI at `/docs`.

use std::sync::LazyLock;

use axum::{http::header, response::IntoResponse, Router};
use utoipa::{
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::{account, admin, auth, health, jwks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Auth API",
        description = "Register, log in, and keep a session with rotating refresh tokens. \
            Every response body is the envelope `{isSuccess, message, data, errors}`. \
            Use **Authorize** with an `accessToken` from login to call the Bearer endpoints.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        health::health,
        health::ready,
        auth::register,
        auth::login,
        auth::me,
        auth::validate,
        auth::refresh,
        auth::revoke,
        auth::protected,
        auth::sessions,
        auth::end_session,
        auth::logout_all,
        auth::change_password,
        account::forgot_password,
        account::reset_password,
        account::verify_email,
        account::resend_verification,
        account::account,
        account::update_account,
        account::change_email,
        account::delete_account,
        admin::list_users,
        admin::set_role,
        admin::set_active,
        admin::revoke_sessions,
        admin::password_reset,
        admin::audit_log,
        jwks::jwks,
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "The auth API of the contract"),
        (name = "sessions", description = "The caller's own sessions and password"),
        (name = "account", description = "The caller's account, email verification and password reset by mailed links"),
        (name = "admin", description = "User management and the audit log (Admin role)"),
        (name = "operations", description = "Liveness and readiness"),
        (name = "keys", description = "The public keys that verify access tokens"),
    )
)]
pub struct ApiDoc;

/// The `bearer` scheme the secured operations name: an access token (JWT).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".into());
        bearer.description = Some("The `accessToken` of register, login or refresh.".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// Serialised once: the document does not change while the server runs.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
});

/// `GET /api/openapi.json`.
pub async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

/// Swagger UI at `/docs`, from assets compiled into the binary.
pub fn swagger_ui<S: Clone + Send + Sync + 'static>() -> Router<S> {
    SwaggerUi::new("/docs")
        .config(
            Config::new(["/api/openapi.json"])
                .try_it_out_enabled(true)
                .persist_authorization(false),
        )
        .into()
}
