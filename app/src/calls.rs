//! The API calls the pages make. They run in the browser, through the
//! request wrapper; the server never calls them while rendering.

use crate::api::{AuthResponse, LoginRequest, ProtectedResponse, RegisterRequest, User};

/// Why a call failed, ready to show.
#[derive(Clone, Debug, PartialEq)]
// On the server no call is made, so only `Network` is built there.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum ApiFailure {
    /// The server answered with an error envelope.
    Rejected {
        status: u16,
        message: String,
        errors: Vec<String>,
    },
    /// The request never got an answer.
    Network(String),
    /// There is no valid session any more; the user must sign in.
    SignedOut,
}

impl ApiFailure {
    pub fn message(&self) -> String {
        match self {
            ApiFailure::Rejected { message, .. } => message.clone(),
            ApiFailure::Network(_) => {
                "The server could not be reached. Check your connection and try again.".into()
            }
            ApiFailure::SignedOut => "Your session has ended. Please sign in again.".into(),
        }
    }

    /// The envelope's list of failed rules, if any.
    pub fn errors(&self) -> Vec<String> {
        match self {
            ApiFailure::Rejected { errors, .. } => errors.clone(),
            _ => Vec::new(),
        }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use gloo_net::http::Method;

    use super::*;
    use crate::{
        api::RevokeRequest,
        client::{
            http::{call, call_public},
            tab_sync,
            token_store::{self, StoredTokens},
        },
    };

    async fn signed_in(
        result: Result<AuthResponse, ApiFailure>,
    ) -> Result<AuthResponse, ApiFailure> {
        let auth = result?;
        tab_sync::store(Some(StoredTokens::from_response(auth.clone())));
        Ok(auth)
    }

    pub async fn login(req: LoginRequest) -> Result<AuthResponse, ApiFailure> {
        signed_in(call_public(Method::POST, "/api/auth/login", Some(&req)).await).await
    }

    pub async fn register(req: RegisterRequest) -> Result<AuthResponse, ApiFailure> {
        signed_in(call_public(Method::POST, "/api/auth/register", Some(&req)).await).await
    }

    pub async fn me() -> Result<User, ApiFailure> {
        call(Method::GET, "/api/auth/me", None::<&()>).await
    }

    pub async fn protected() -> Result<ProtectedResponse, ApiFailure> {
        call(Method::GET, "/api/auth/protected", None::<&()>).await
    }

    /// Revokes the tokens on the server, then forgets them here, whatever the
    /// server said (a sign-out must always work locally).
    pub async fn logout() -> Result<(), ApiFailure> {
        let body = RevokeRequest {
            refresh_token: token_store::load().map(|t| t.refresh_token),
        };
        let result = call::<()>(Method::POST, "/api/auth/revoke", Some(&body)).await;
        tab_sync::store(None);
        match result {
            Err(ApiFailure::SignedOut) => Ok(()),
            other => other,
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::*;

    fn browser_only<T>() -> Result<T, ApiFailure> {
        Err(ApiFailure::Network("API calls run in the browser".into()))
    }

    pub async fn login(_: LoginRequest) -> Result<AuthResponse, ApiFailure> {
        browser_only()
    }
    pub async fn register(_: RegisterRequest) -> Result<AuthResponse, ApiFailure> {
        browser_only()
    }
    pub async fn me() -> Result<User, ApiFailure> {
        browser_only()
    }
    pub async fn protected() -> Result<ProtectedResponse, ApiFailure> {
        browser_only()
    }
    pub async fn logout() -> Result<(), ApiFailure> {
        browser_only()
    }
}

pub use browser::{login, logout, me, protected, register};
