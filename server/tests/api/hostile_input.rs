//! Hostile input on every backend: control characters in every string field,
//! query parameter and path parameter of every operation the OpenAPI document
//! lists, each answered with a 4xx in the envelope (PostgreSQL refuses
//! U+0000, so a character that reaches a query there is a 500).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::{helpers::*, on_every_backend};

/// The characters sent: every C0 control character, and DEL.
fn control_characters() -> impl Iterator<Item = char> {
    (0u8..0x20).chain([0x7f]).map(char::from)
}

fn percent_encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

on_every_backend! {
    async fn a_nul_in_a_name_is_a_400_listing_the_field_and_stores_nothing(app) {
        let mut body = registration("nulname");
        body["fullName"] = json!("Nul\u{0}Name");
        let (status, answer) = envelope(app.post_json("/api/auth/register", &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["errors"], json!(["Full name must not contain control characters."]));

        let (status, answer) = app.login("nul\u{0}user", "whatever").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["errors"], json!(["Username or email must not contain control characters."]));

        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username <> $1", "").await, 0);
        // Still a working server afterwards.
        app.register("nulname").await;
    }
}

/// A value for `field` that passes its own rules, so that the one field
/// under test decides the answer.
fn valid_value(field: &str, target_id: i64) -> Value {
    match field {
        "username" => json!("prober"),
        "email" => json!("someone@example.com"),
        "password" | "confirmPassword" | "newPassword" | "currentPassword" => json!(PASSWORD),
        "fullName" => json!("Some One"),
        "refreshToken" => json!("q8Vb2m0lKXr4Yh1nE3cZ9tWf6uJpD5sA7oIgL0kQyRw="),
        "role" => json!("User"),
        "isActive" => json!(true),
        "page" => json!("1"),
        "pageSize" => json!("20"),
        "userId" | "id" => json!(target_id.to_string()),
        "kind" => json!("login_failed"),
        "ip" => json!("127.0.0.1"),
        "from" | "to" => json!("2026-01-01T00:00:00Z"),
        "search" => json!("pro"),
        "token" => json!("Xq3v9PzK2mR7tLw0bN5cY8hJ4dF6gS1aE2uI7oQ9kTs"),
        "newEmail" => json!("elsewhere@example.com"),
        "locale" => json!("en"),
        other => panic!("no valid value known for the field '{other}': add one"),
    }
}

/// The properties of a request body schema, following `$ref` and `oneOf`.
fn body_properties(doc: &Value, schema: &Value) -> Vec<(String, Value)> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return body_properties(doc, &doc["components"]["schemas"][name]);
    }
    for alternatives in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema[alternatives].as_array() {
            return list.iter().flat_map(|s| body_properties(doc, s)).collect();
        }
    }
    schema["properties"]
        .as_object()
        .map(|props| props.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn is_boolean(schema: &Value) -> bool {
    schema["type"] == "boolean"
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("boolean")))
}

/// Where a probed field sits in the request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    Path,
    Query,
    Body,
}

/// Probes of the current password count as failed logins: no lockout here.
const NO_LOCKOUT: &[(&str, &str)] = &[
    ("LOCKOUT_THRESHOLD", "1000000"),
    ("LOCKOUT_IP_THRESHOLD", "1000000"),
];

async fn probe_every_field(app: &TestApp) {
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let (mut token, _) = app.admin("prober").await;
    let target_id = app.register("target").await["user"]["id"].as_i64().unwrap();

    let mut probed = BTreeSet::new();
    let mut requests = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let mut fields: Vec<(Place, String)> = Vec::new();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let place = if parameter["in"] == "path" {
                    Place::Path
                } else {
                    Place::Query
                };
                fields.push((place, parameter["name"].as_str().unwrap().to_string()));
            }
            let body_schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let properties = body_properties(&doc, body_schema);
            for (name, schema) in &properties {
                if !is_boolean(schema) {
                    fields.push((Place::Body, name.clone()));
                }
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (place, field) in &fields {
                probed.insert((method.to_string(), path.clone(), field.clone()));
                for c in control_characters() {
                    let hostile = format!("x{c}y");
                    let value_of = |p: Place, name: &str| {
                        if p == *place && name == field {
                            hostile.clone()
                        } else {
                            valid_value(name, target_id).as_str().unwrap().to_string()
                        }
                    };
                    let mut url = path.clone();
                    let mut query = Vec::new();
                    for (p, name) in &fields {
                        match p {
                            Place::Path => {
                                url = url.replace(
                                    &format!("{{{name}}}"),
                                    &percent_encoded(&value_of(*p, name)),
                                )
                            }
                            Place::Query => query
                                .push(format!("{name}={}", percent_encoded(&value_of(*p, name)))),
                            Place::Body => {}
                        }
                    }
                    if !query.is_empty() {
                        url = format!("{url}?{}", query.join("&"));
                    }
                    let mut request = app
                        .client
                        .request(method.clone(), app.url(&url))
                        .bearer_auth(&token);
                    if !properties.is_empty() {
                        let mut body = Map::new();
                        for (name, schema) in &properties {
                            let value = if is_boolean(schema) {
                                valid_value(name, target_id)
                            } else {
                                json!(value_of(Place::Body, name))
                            };
                            body.insert(name.clone(), value);
                        }
                        request = request.json(&body);
                    }
                    let (status, answer) = envelope(request.send().await.unwrap()).await;
                    requests += 1;
                    let what = format!("{method} {path} with {c:?} in {field}");
                    // A logout ignores a refresh token it does not know.
                    let may_succeed = path == "/api/auth/revoke";
                    assert!(
                        status.is_client_error() || (may_succeed && status.is_success()),
                        "{what}: {status} {answer}"
                    );
                    if status.is_success() {
                        token = app.login("prober", PASSWORD).await.1["data"]["accessToken"]
                            .as_str()
                            .unwrap()
                            .to_string();
                    }
                }
            }
        }
    }
    // The walk reached what it must: a broken walk must not pass by probing nothing.
    for (method, path, field) in [
        ("POST", "/api/auth/register", "fullName"),
        ("POST", "/api/auth/register", "username"),
        ("POST", "/api/auth/login", "username"),
        ("POST", "/api/auth/login", "password"),
        ("POST", "/api/auth/refresh", "refreshToken"),
        ("POST", "/api/auth/password", "currentPassword"),
        ("POST", "/api/auth/password", "newPassword"),
        ("DELETE", "/api/auth/sessions/{id}", "id"),
        ("GET", "/api/admin/users", "search"),
        ("GET", "/api/admin/users", "page"),
        ("GET", "/api/admin/audit", "kind"),
        ("GET", "/api/admin/audit", "ip"),
        ("PATCH", "/api/admin/users/{id}/role", "role"),
        ("POST", "/api/auth/password/forgot", "email"),
        ("POST", "/api/auth/password/reset", "token"),
        ("POST", "/api/auth/email/verify", "token"),
        ("PATCH", "/api/account", "fullName"),
        ("PATCH", "/api/account", "locale"),
        ("POST", "/api/account/email", "newEmail"),
        ("DELETE", "/api/account", "currentPassword"),
    ] {
        assert!(
            probed.contains(&(method.to_string(), path.to_string(), field.to_string())),
            "{method} {path} {field} was not probed"
        );
    }
    assert!(requests >= 33 * probed.len(), "{requests}");
    // The server still answers normally, and the failures left no trace of
    // a control character in the audit log.
    assert_eq!(app.login("target", PASSWORD).await.0, StatusCode::OK);
}

on_every_backend! {
    async fn every_control_character_in_every_field_is_a_4xx(app with NO_LOCKOUT) {
        probe_every_field(&app).await;
    }
}
