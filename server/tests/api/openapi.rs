use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

async fn document(app: &TestApp) -> Value {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// Every route the server has, and nothing else, is in the document: a
/// route added without its `#[utoipa::path]` fails here.
#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_server_serves() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let mut served: BTreeSet<(String, String)> = server::http::api_routes(app.state())
        .served()
        .iter()
        .map(|(method, path)| (method.to_string(), path.clone()))
        // The document does not describe itself.
        .filter(|(_, path)| path != "/api/openapi.json")
        .collect();
    // The one documented route outside /api, where verifiers look for it.
    assert_eq!(app.get("/.well-known/jwks.json").await.status(), 200);
    served.insert(("GET".into(), "/.well-known/jwks.json".into()));
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        not_served.is_empty(),
        "documented but not served: {not_served:?}"
    );
    // The contract's seven endpoints are among them.
    for (method, path) in [
        ("POST", "/api/auth/register"),
        ("POST", "/api/auth/login"),
        ("GET", "/api/auth/me"),
        ("GET", "/api/auth/validate"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/revoke"),
        ("GET", "/api/auth/protected"),
    ] {
        assert!(
            documented.contains(&(method.into(), path.into())),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn operations_carry_their_statuses_security_and_examples() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");

    let login = &doc["paths"]["/api/auth/login"]["post"];
    for status in ["200", "400", "401", "413", "415", "429"] {
        assert!(
            login["responses"][status].is_object(),
            "login lacks {status}"
        );
    }
    assert!(login.get("security").is_none(), "login needs no token");
    let me = &doc["paths"]["/api/auth/me"]["get"];
    assert_eq!(me["security"][0]["bearer"], Value::Array(vec![]));
    assert!(me["responses"]["401"].is_object());
    let register = &doc["paths"]["/api/auth/register"]["post"];
    assert!(register["responses"]["201"].is_object());
    assert!(register["responses"]["409"].is_object());

    let schemas = &doc["components"]["schemas"];
    let example = &schemas["RegisterRequest"]["example"];
    assert_eq!(example["confirmPassword"], example["password"]);
    for name in [
        "User",
        "AuthResponse",
        "LoginRequest",
        "RefreshRequest",
        "ErrorEnvelope",
    ] {
        assert!(
            schemas[name]["example"].is_object(),
            "{name} has no example"
        );
    }
    assert_eq!(
        schemas["Role"]["enum"],
        serde_json::json!(["User", "Admin"])
    );
    assert_eq!(
        schemas["ErrorEnvelope"]["properties"]["data"]["type"],
        "null"
    );
    // The schema names each kind as the server writes it, or every client
    // generated from the document rejects the audit log.
    let wire_names: Vec<&str> = app::api::AuditKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    assert_eq!(schemas["AuditKind"]["enum"], serde_json::json!(wire_names));
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.get("/docs/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "no asset comes from elsewhere: {html}"
    );
    let init = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"), "{init}");
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), StatusCode::OK);
}

/// The browser app's calls name their paths once (`app::api::paths`): each
/// is a route the server serves, with that method.
#[tokio::test]
async fn every_call_of_the_browser_app_is_a_served_route() {
    let running = spawn_app(Backend::Sqlite).await;
    let served = server::http::api_routes(running.state());
    for (method, path) in app::api::paths::CALLED_BY_THE_APP {
        assert!(
            served
                .served()
                .iter()
                .any(|(m, p)| m.as_str() == *method && p == path),
            "the app calls {method} {path}, which the server does not serve"
        );
    }
}
