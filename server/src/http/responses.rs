//! The failure answers of the OpenAPI document, written once: the envelope
//! of a failure, and the groups of statuses many operations share.
//!
//! The types describe answers; only the document reads them.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::{
    openapi::{
        schema::{ObjectBuilder, Type},
        RefOr, Schema,
    },
    IntoResponses, ToSchema,
};

fn null() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new().schema_type(Type::Null)
}

/// A failure: `isSuccess` is false, `data` is null, and `errors` lists every problem.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "isSuccess": false,
    "message": "The request is invalid.",
    "data": null,
    "errors": ["Username must be 3-50 characters.", "Passwords do not match."]
}))]
pub struct ErrorEnvelope {
    is_success: bool,
    message: String,
    #[schema(schema_with = null)]
    data: (),
    errors: Vec<String>,
}

/// A success without data.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"isSuccess": true, "message": "Logged out.", "data": null, "errors": []}))]
pub struct EmptyEnvelope {
    is_success: bool,
    message: String,
    #[schema(schema_with = null)]
    data: (),
    errors: Vec<String>,
}

/// What an operation behind a Bearer token may answer besides its own.
#[derive(IntoResponses)]
pub enum BearerFailures {
    /// No token, or an invalid, expired or revoked one (see `WWW-Authenticate`)
    #[response(status = 401)]
    Unauthorized(ErrorEnvelope),
    /// A store is unavailable
    #[response(status = 503)]
    Unavailable(ErrorEnvelope),
}

/// What an operation with a JSON body may answer about the body.
#[derive(IntoResponses)]
pub enum BodyFailures {
    /// The body or a field is invalid; `errors` lists every problem
    #[response(status = 400)]
    Invalid(ErrorEnvelope),
    /// The body is larger than 64 KiB
    #[response(status = 413)]
    TooLarge(ErrorEnvelope),
    /// Content-Type is not application/json
    #[response(status = 415)]
    NotJson(ErrorEnvelope),
}

/// A query parameter is invalid.
#[derive(IntoResponses)]
pub enum QueryFailures {
    /// A parameter is invalid; `errors` lists every problem
    #[response(status = 400)]
    Invalid(ErrorEnvelope),
}

/// What an operation of the Admin role may answer besides its own.
#[derive(IntoResponses)]
pub enum AdminFailures {
    /// The caller lacks the Admin role
    #[response(status = 403)]
    Forbidden(ErrorEnvelope),
}

/// The per-client rate limit or the lockout.
#[derive(IntoResponses)]
pub enum TooManyRequests {
    /// Too many requests or failed logins; see `Retry-After`
    #[response(status = 429)]
    TooMany(ErrorEnvelope),
}

/// A store is unavailable (for operations without a Bearer token).
#[derive(IntoResponses)]
pub enum StoreFailures {
    /// A store is unavailable
    #[response(status = 503)]
    Unavailable(ErrorEnvelope),
}
