//! Signing keys: each algorithm signs and verifies, the JWK Set publishes
//! the public halves only, rotation keeps earlier tokens working, and a
//! token naming no known key, or the wrong algorithm for its key, is refused.

use std::os::unix::fs::PermissionsExt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, EncodePublicKey};
use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use server::signing_keys;

use crate::{helpers::*, on_every_backend};

/// The JWK Set, checked for what every answer of it must be.
async fn jwks(app: &TestApp) -> Value {
    let response = app.get("/.well-known/jwks.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "public, max-age=300"
    );
    assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let set: Value = response.json().await.unwrap();
    for key in set["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig", "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(
                key.get(private).is_none(),
                "a private member {private}: {key}"
            );
        }
    }
    set
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Registers `name` and checks that its token verifies at the server and,
/// independently, with the key the JWK Set publishes for its `kid`.
async fn signs_and_verifies(app: &TestApp, name: &str, algorithm: &str, kty: &str) -> String {
    let data = app.register(name).await;
    let token = data["accessToken"].as_str().unwrap().to_string();
    let header = jwt_part(&token, 0);
    assert_eq!(header["alg"], algorithm);
    let kid = header["kid"].as_str().unwrap().to_string();
    assert_eq!(app.me(&token).await.0, StatusCode::OK);

    let set = jwks(app).await;
    assert_eq!(kids(&set), std::slice::from_ref(&kid));
    assert_eq!(set["keys"][0]["kty"], kty);
    assert_eq!(set["keys"][0]["alg"], algorithm);
    let set: JwkSet = serde_json::from_value(set).unwrap();
    let key = DecodingKey::from_jwk(set.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(signing_keys::parse_algorithm(algorithm).unwrap());
    validation.set_audience(&["PersonalManagerClient"]);
    validation.set_issuer(&["PersonalManagerAPI"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["username"], name);
    token
}

/// A token with the claims of `token` and `header`, signed with `key`.
fn resign(token: &str, header: Header, key: &EncodingKey) -> String {
    let mut claims = jwt_part(token, 1);
    claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

/// The public half of the development key, as a PEM file would hold it.
fn development_public_key(app: &TestApp) -> String {
    let pem = std::fs::read_to_string(app.config.data_dir.join("jwt-eddsa.pem")).unwrap();
    ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
        .unwrap()
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

fn write_key(app: &TestApp, file: &str, pem: &str) -> String {
    let path = app.dir.path().join(file);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

on_every_backend! {
    async fn eddsa_signs_and_verifies_with_a_development_key_kept_private(app with &[("JWT_ALGORITHM", "EdDSA")]) {
        signs_and_verifies(&app, "edna", "EdDSA", "OKP").await;
        let file = app.config.data_dir.join("jwt-eddsa.pem");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    async fn es256_signs_and_verifies(app with &[("JWT_ALGORITHM", "ES256")]) {
        signs_and_verifies(&app, "esme", "ES256", "EC").await;
    }

    async fn rs256_signs_and_verifies(app with &[("JWT_ALGORITHM", "RS256")]) {
        signs_and_verifies(&app, "rosa", "RS256", "RSA").await;
    }

    async fn under_hmac_the_key_set_is_empty(app) {
        assert_eq!(jwks(&app).await, json!({"keys": []}));
    }

    async fn a_new_key_with_the_old_one_as_previous_signs_nobody_out(app with &[("JWT_ALGORITHM", "EdDSA")]) {
        let mut app = app;
        let old_token = signs_and_verifies(&app, "otto", "EdDSA", "OKP").await;
        let old_kid = jwt_part(&old_token, 0)["kid"].as_str().unwrap().to_string();
        // The previous key as its public half only: that is enough to verify.
        let old_public = write_key(&app, "old-public.pem", &development_public_key(&app));
        let new_key = write_key(&app, "new.pem", &signing_keys::generate(Algorithm::EdDSA).unwrap());

        app.restart_with(&[("JWT_PRIVATE_KEY", Some(&new_key)), ("JWT_PREVIOUS_KEYS", Some(&old_public))]).await;
        assert_eq!(app.me(&old_token).await.0, StatusCode::OK, "a token of the old key still works");
        let new_token = app.login("otto", PASSWORD).await.1["data"]["accessToken"].as_str().unwrap().to_string();
        let new_kid = jwt_part(&new_token, 0)["kid"].as_str().unwrap().to_string();
        assert_ne!(new_kid, old_kid);
        assert_eq!(app.me(&new_token).await.0, StatusCode::OK);
        assert_eq!(kids(&jwks(&app).await), [new_kid.clone(), old_kid.clone()], "the signing key first");

        // The old key given as its private key: the same, and the set still
        // holds only public members (`jwks` checks every key for them).
        let old_private = app.config.data_dir.join("jwt-eddsa.pem").display().to_string();
        app.restart_with(&[("JWT_PREVIOUS_KEYS", Some(&old_private))]).await;
        assert_eq!(app.me(&old_token).await.0, StatusCode::OK);
        assert_eq!(kids(&jwks(&app).await), [new_kid, old_kid]);

        // Once the old key is dropped, its tokens are refused.
        app.restart_with(&[("JWT_PREVIOUS_KEYS", None)]).await;
        app.assert_invalid_token(&old_token, "the old key is no longer configured").await;
        assert_eq!(app.me(&new_token).await.0, StatusCode::OK);
    }

    async fn a_new_secret_and_a_move_to_keys_keep_earlier_tokens_working(app) {
        let mut app = app;
        let first = app.register("sam").await["accessToken"].as_str().unwrap().to_string();
        let old_secret = app.config.tokens.keys.signing.kid.clone();
        assert_eq!(old_secret, secret_kid(b"test-secret-test-secret-test-secret-0123"));
        app.restart_with(&[
            ("JWT_SECRET", Some("a-new-secret-a-new-secret-a-new-secret-0123")),
            ("JWT_PREVIOUS_SECRETS", Some("test-secret-test-secret-test-secret-0123")),
        ]).await;
        assert_eq!(app.me(&first).await.0, StatusCode::OK, "signed with the previous secret");
        let second = app.login("sam", PASSWORD).await.1["data"]["accessToken"].as_str().unwrap().to_string();
        assert_ne!(jwt_part(&second, 0)["kid"], jwt_part(&first, 0)["kid"]);

        // From HMAC to EdDSA: the secret stays as a previous one.
        app.restart_with(&[
            ("JWT_ALGORITHM", Some("EdDSA")),
            ("JWT_PREVIOUS_SECRETS", Some("a-new-secret-a-new-secret-a-new-secret-0123")),
        ]).await;
        assert_eq!(app.me(&second).await.0, StatusCode::OK, "an HS256 token after the move");
        app.assert_invalid_token(&first, "a secret no longer listed").await;
        assert_eq!(kids(&jwks(&app).await).len(), 1, "secrets are never published");
        signs_and_verifies(&app, "sammy", "EdDSA", "OKP").await;
    }

    async fn tokens_that_confuse_algorithms_or_name_no_key_are_refused(app with &[("JWT_ALGORITHM", "EdDSA")]) {
        let token = signs_and_verifies(&app, "mallory", "EdDSA", "OKP").await;
        let kid = jwt_part(&token, 0)["kid"].as_str().unwrap().to_string();
        let set = jwks(&app).await;
        let public_raw = URL_SAFE_NO_PAD.decode(set["keys"][0]["x"].as_str().unwrap()).unwrap();
        let pem = std::fs::read_to_string(app.config.data_dir.join("jwt-eddsa.pem")).unwrap();
        let public_pem = development_public_key(&app);
        let with_kid = |alg: Algorithm, kid: &str| {
            let mut header = Header::new(alg);
            header.kid = Some(kid.to_string());
            header
        };

        // HMAC keyed with the public key, under the key's own kid.
        for public in [&public_raw[..], public_pem.as_bytes(), set.to_string().as_bytes()] {
            let confused = resign(&token, with_kid(Algorithm::HS256, &kid), &EncodingKey::from_secret(public));
            app.assert_invalid_token(&confused, "HS256 keyed with the public key").await;
        }
        // A foreign key: under its own kid, under the server's, and as ES256.
        let foreign_pem = signing_keys::generate(Algorithm::EdDSA).unwrap();
        let (foreign, _) = signing_keys::from_private_pem(&foreign_pem).unwrap();
        let forged = resign(&token, with_kid(Algorithm::EdDSA, &foreign.kid), &foreign.key);
        app.assert_invalid_token(&forged, "an unknown kid").await;
        let forged = resign(&token, with_kid(Algorithm::EdDSA, &kid), &foreign.key);
        app.assert_invalid_token(&forged, "a foreign key under the server's kid").await;
        let (es256, _) = signing_keys::from_private_pem(&signing_keys::generate(Algorithm::ES256).unwrap()).unwrap();
        let forged = resign(&token, with_kid(Algorithm::ES256, &kid), &es256.key);
        app.assert_invalid_token(&forged, "ES256 under an EdDSA kid").await;
        let no_kid = resign(&token, Header::new(Algorithm::EdDSA), &signing_keys::from_private_pem(&pem).unwrap().0.key);
        app.assert_invalid_token(&no_kid, "the right key but no kid").await;
        assert_eq!(app.me(&token).await.0, StatusCode::OK, "the real token still works");
    }
}

#[tokio::test]
async fn the_key_set_is_in_the_openapi_document() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let operation = &doc["paths"]["/.well-known/jwks.json"]["get"];
    assert!(operation["responses"]["200"].is_object(), "{operation}");
}
