//! Access-token validation: expiry by the injected clock, and hostile tokens.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, on_every_backend};

const SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123";

/// Claims as the server would issue them for the user of `data` (an
/// AuthResponse), in the same session, at `now`.
fn claims_for(data: &Value, now: i64) -> Value {
    let user = &data["user"];
    let id = user["id"].to_string();
    let sid = jwt_part(data["accessToken"].as_str().unwrap(), 1)["sid"].clone();
    json!({
        "sub": id, "nameid": id, "userId": id, "name": user["username"], "username": user["username"],
        "email": user["email"], "fullName": user["fullName"], "role": "User",
        "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "nbf": now, "exp": now + 3600,
        "iss": "PersonalManagerAPI", "aud": "PersonalManagerClient", "sid": sid,
    })
}

/// Signs `claims` with `secret`, naming the server's key (the `kid` of SECRET).
fn sign(claims: &Value, alg: Algorithm, secret: &[u8]) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(secret_kid(SECRET));
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

on_every_backend! {
    async fn a_token_made_like_the_servers_is_accepted(app) {
        // The control for the hostile cases below: the same recipe with the right key works.
        let data = app.register("tess").await;
        let token = sign(&claims_for(&data, app.clock.now()), Algorithm::HS256, SECRET);
        assert_eq!(app.me(&token).await.0, StatusCode::OK);
    }

    async fn an_expired_token_is_rejected_after_the_leeway(app) {
        let data = app.register("uma").await;
        let token = data["accessToken"].as_str().unwrap();
        // Relative to the token's own exp, so real seconds passing on a busy
        // machine cannot move the test across the edge.
        let exp = jwt_part(token, 1)["exp"].as_i64().unwrap();
        app.clock.advance(exp + 5 - 2 - app.clock.now());
        assert_eq!(app.me(token).await.0, StatusCode::OK, "within the 5 s leeway");
        app.clock.advance(3);
        app.assert_invalid_token(token, "expired").await;
    }

    async fn a_token_not_valid_yet_is_rejected(app) {
        let data = app.register("vic").await;
        let mut claims = claims_for(&data, app.clock.now());
        claims["nbf"] = json!(app.clock.now() + 60);
        app.assert_invalid_token(&sign(&claims, Algorithm::HS256, SECRET), "nbf in the future").await;
    }

    async fn forged_tampered_and_confused_tokens_are_rejected(app) {
        let data = app.register("walt").await;
        let now = app.clock.now();
        let good = data["accessToken"].as_str().unwrap().to_string();
        let claims = claims_for(&data, now);

        app.assert_invalid_token(&sign(&claims, Algorithm::HS256, b"another-secret-another-secret-0123456"), "forged").await;
        app.assert_invalid_token(&sign(&claims, Algorithm::HS512, SECRET), "alg HS512 while HS256 is configured").await;
        let mut wrong_iss = claims.clone();
        wrong_iss["iss"] = json!("SomeoneElse");
        app.assert_invalid_token(&sign(&wrong_iss, Algorithm::HS256, SECRET), "wrong issuer").await;
        let mut wrong_aud = claims.clone();
        wrong_aud["aud"] = json!("OtherClient");
        app.assert_invalid_token(&sign(&wrong_aud, Algorithm::HS256, SECRET), "wrong audience").await;
        let mut no_exp = claims.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        app.assert_invalid_token(&sign(&no_exp, Algorithm::HS256, SECRET), "no exp").await;

        // Tampered: the payload says Admin, the signature is the original one.
        let parts: Vec<&str> = good.split('.').collect();
        let mut payload = jwt_part(&good, 1);
        payload["role"] = json!("Admin");
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
        app.assert_invalid_token(&tampered, "tampered").await;

        // alg none, with and without a signature.
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        app.assert_invalid_token(&format!("{none_header}.{body}."), "alg none").await;
        app.assert_invalid_token(&format!("{none_header}.{body}.{}", parts[2]), "alg none with a signature").await;

        for junk in ["abc", "a.b.c", "..", "x.y", "Bearer", &"A".repeat(5000), &format!("{good}x"), "ünïcode.tö.ken"] {
            app.assert_invalid_token(junk, junk).await;
        }
        assert_eq!(app.me(&good).await.0, StatusCode::OK, "the real token still works");
    }

    async fn a_token_without_a_kid_or_with_an_unknown_one_is_rejected(app) {
        let data = app.register("kim").await;
        let claims = claims_for(&data, app.clock.now());
        let key = EncodingKey::from_secret(SECRET);
        let no_kid = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        app.assert_invalid_token(&no_kid, "no kid").await;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(secret_kid(b"some-other-secret-some-other-secret-0123"));
        let unknown = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        app.assert_invalid_token(&unknown, "a kid that names no key").await;
        let token = data["accessToken"].as_str().unwrap();
        assert_eq!(jwt_part(token, 0)["kid"], secret_kid(SECRET).as_str(), "the server's own tokens name it");
    }

    async fn a_token_for_a_deleted_user_is_rejected(app) {
        let data = app.register("xena").await;
        let mut claims = claims_for(&data, app.clock.now());
        claims["sub"] = json!("987654");
        app.assert_invalid_token(&sign(&claims, Algorithm::HS256, SECRET), "no such user").await;
    }
}

#[tokio::test]
async fn the_configured_algorithm_is_the_only_one_accepted() {
    let app = spawn_app_with(Backend::Sqlite, &[("JWT_ALGORITHM", "HS512")]).await;
    let data = app.register("yuri").await;
    let token = data["accessToken"].as_str().unwrap();
    assert_eq!(jwt_part(token, 0)["alg"], "HS512");
    assert_eq!(app.me(token).await.0, StatusCode::OK);
    let hs256 = sign(
        &claims_for(&data, app.clock.now()),
        Algorithm::HS256,
        SECRET,
    );
    app.assert_invalid_token(&hs256, "HS256 while HS512 is configured")
        .await;
}
