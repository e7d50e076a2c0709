//! JSON request bodies whose every rejection is the envelope: 415 for a wrong
//! content type, 413 over 64 KiB, 400 for malformed JSON or a wrong shape,
//! listing every missing or mistyped field at once (never axum's 422).

use app::{
    api::RequestBody,
    i18n::{Msg, Text},
};
use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{header, StatusCode},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body that must be present.
pub struct ApiJson<T>(pub T);

/// A JSON body that may also be absent (an empty body gives `T::default()`).
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + RequestBody,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json_content_type(&req)?;
        let bytes = read_body(req, state).await?;
        decode(&bytes).map(ApiJson)
    }
}

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + RequestBody + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_content_type = req.headers().contains_key(header::CONTENT_TYPE);
        if has_content_type {
            require_json_content_type(&req)?;
        }
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !has_content_type {
            return Err(ApiError::UnsupportedMediaType);
        }
        decode(&bytes).map(OptionalJson)
    }
}

fn require_json_content_type(req: &Request) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadBody(vec![
                Text::new(Msg::ApiUnreadableBodyDetail).with("detail", rejection.body_text())
            ])
        }
    })
}

/// Parses the body, then checks the shape field by field so that every
/// problem is reported, then deserializes.
pub fn decode<T: DeserializeOwned + RequestBody>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadBody(vec![Text::new(Msg::ApiMalformedJson).with("detail", e)]))?;
    let Value::Object(object) = &value else {
        return Err(ApiError::BadBody(vec![Msg::ApiNotAnObject.into()]));
    };
    let problems: Vec<Text> = T::FIELDS
        .iter()
        .filter_map(|field| match object.get(*field) {
            None | Some(Value::Null) => Some(Text::new(Msg::ApiFieldRequired).with("field", field)),
            Some(Value::String(_)) => None,
            Some(_) => Some(Text::new(Msg::ApiFieldNotAString).with("field", field)),
        })
        .collect();
    if !problems.is_empty() {
        return Err(ApiError::BadBody(problems));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::BadBody(vec![Text::new(Msg::ApiWrongShape).with("detail", e)]))
}

#[cfg(test)]
mod tests {
    use app::api::{LoginRequest, RegisterRequest, RevokeRequest};

    use super::*;

    fn errors<T: DeserializeOwned + RequestBody + std::fmt::Debug>(body: &str) -> Vec<String> {
        match decode::<T>(body.as_bytes()) {
            Err(ApiError::BadBody(errors)) => errors.iter().map(Text::to_string).collect(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn every_missing_or_mistyped_field_is_listed() {
        let e = errors::<RegisterRequest>(r#"{"username": 5, "email": null}"#);
        assert_eq!(e.len(), 5, "{e:?}");
        assert!(e[0].contains("'username' must be a string"));
        assert!(e[1].contains("'email' is required"));
    }

    #[test]
    fn malformed_json_and_non_objects_are_rejected() {
        assert!(errors::<LoginRequest>("{")
            .first()
            .unwrap()
            .starts_with("The body is not valid JSON"));
        assert_eq!(
            errors::<LoginRequest>("[]"),
            vec!["The body must be a JSON object.".to_string()]
        );
        assert_eq!(errors::<LoginRequest>("\"x\"").len(), 1);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let login: LoginRequest =
            decode(br#"{"username":"a","password":"b","role":"Admin"}"#).unwrap();
        assert_eq!(login.username, "a");
    }

    #[test]
    fn optional_fields_must_still_have_the_right_type() {
        assert!(decode::<RevokeRequest>(br#"{}"#).is_ok());
        assert_eq!(errors::<RevokeRequest>(r#"{"refreshToken": 7}"#).len(), 1);
    }
}

#[cfg(test)]
mod properties {
    use app::api::{LoginRequest, RegisterRequest, RevokeRequest};
    use proptest::prelude::*;

    use super::*;

    /// Any JSON value, nested a few levels.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::hash_map(
                    prop_oneof![
                        Just("username".to_string()),
                        Just("password".to_string()),
                        Just("refreshToken".to_string()),
                        "[a-zA-Z]{1,12}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn is_client_error<T>(result: Result<T, ApiError>) -> bool {
        match result {
            Ok(_) => true,
            Err(e) => e.status().is_client_error(),
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_decode_or_are_a_400(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            prop_assert!(is_client_error(decode::<RegisterRequest>(&bytes)));
            prop_assert!(is_client_error(decode::<LoginRequest>(&bytes)));
            prop_assert!(is_client_error(decode::<RevokeRequest>(&bytes)));
        }

        #[test]
        fn arbitrary_json_decodes_or_is_a_400_naming_the_fields(value in json_value()) {
            let bytes = serde_json::to_vec(&value).unwrap();
            match decode::<LoginRequest>(&bytes) {
                Ok(login) => {
                    prop_assert_eq!(Some(login.username.as_str()), value["username"].as_str());
                }
                Err(ApiError::BadBody(errors)) => prop_assert!(!errors.is_empty()),
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
