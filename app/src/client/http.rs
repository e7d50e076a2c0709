//! The request wrapper (the app's axios interceptor). Every API call goes
//! through [`call`]: it attaches the Bearer token, refreshes it shortly
//! before expiry, and on a 401 `invalid_token` refreshes once and retries.
//! Concurrent callers share one refresh within a tab, and tabs take turns
//! through a Web Lock, so the server's reuse detection never fires for a
//! well-behaved user. When refreshing fails, the tokens are cleared and the
//! user is sent to the login page.

use std::cell::RefCell;

use futures::{
    future::{LocalBoxFuture, Shared},
    FutureExt,
};
use gloo_net::http::{Method, RequestBuilder, Response};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    refresh_lock::with_refresh_lock,
    token_store::{self, StoredTokens},
};
use crate::{
    api::{paths, AuthResponse, Envelope, RefreshRequest},
    failure::ApiFailure,
};

type SharedRefresh = Shared<LocalBoxFuture<'static, Result<StoredTokens, ApiFailure>>>;

thread_local! {
    /// The refresh in flight in this tab, shared by every caller that needs it.
    static REFRESHING: RefCell<Option<SharedRefresh>> = const { RefCell::new(None) };
}

/// Calls an endpoint that needs the access token.
pub async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiFailure> {
    let mut tokens = token_store::load().ok_or(ApiFailure::SignedOut)?;
    if tokens.is_stale(super::now()) {
        tokens = refresh(&tokens).await?;
    }
    let response = send(method.clone(), path, body, Some(&tokens.access_token)).await?;
    let response = if response.status() == 401 && is_invalid_token(&response) {
        tokens = refresh(&tokens).await?;
        send(method, path, body, Some(&tokens.access_token)).await?
    } else {
        response
    };
    decode(response).await
}

/// Calls an endpoint that needs no token (login, register).
pub async fn call_public<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiFailure> {
    decode(send(method, path, body, None).await?).await
}

fn is_invalid_token(response: &Response) -> bool {
    response
        .headers()
        .get("www-authenticate")
        .is_some_and(|h| h.contains("invalid_token"))
}

/// Builds and sends a request; it is rebuilt for a retry (`send` consumes it).
async fn send(
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
    token: Option<&str>,
) -> Result<Response, ApiFailure> {
    // Sign-ins through the app also start the browser session the server
    // renders signed-in pages from; other API clients get none.
    let mut builder = RequestBuilder::new(path)
        .method(method)
        .header("accept", "application/json")
        .header(crate::session::BROWSER_SESSION_HEADER, "1")
        // The API answers in the language the app shows, whatever the browser's.
        .header("accept-language", crate::i18n::current().as_str());
    if let Some(token) = token {
        builder = builder.header("authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder
            .json(body)
            .map_err(|e| ApiFailure::Network(e.to_string()))?,
        None => builder
            .build()
            .map_err(|e| ApiFailure::Network(e.to_string()))?,
    };
    request
        .send()
        .await
        .map_err(|e| ApiFailure::Network(e.to_string()))
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    let status = response.status();
    let unexpected = |e: String| unexpected_answer(status, e);
    let envelope: Envelope<T> = response
        .json()
        .await
        .map_err(|e| unexpected(e.to_string()))?;
    if !envelope.is_success {
        return Err(ApiFailure::Rejected {
            status,
            message: envelope.message,
            errors: envelope.errors,
        });
    }
    match envelope.data {
        Some(data) => Ok(data),
        // `data` is null (logout): fine when the caller expects nothing.
        None => serde_json::from_str("null").map_err(|e| unexpected(e.to_string())),
    }
}

/// An answer that is not the API's envelope (not generic: `decode` is one
/// copy per type of data).
fn unexpected_answer(status: u16, problem: String) -> ApiFailure {
    ApiFailure::Rejected {
        status,
        message: crate::i18n::tf(
            crate::i18n::Msg::AppUnexpectedAnswer,
            &[("status", &status.to_string())],
        ),
        errors: vec![problem],
    }
}

/// New tokens in place of `stale`: joins the refresh already running in this
/// tab, or starts one.
async fn refresh(stale: &StoredTokens) -> Result<StoredTokens, ApiFailure> {
    let running = REFRESHING.with(|r| r.borrow().clone());
    let shared = match running {
        Some(shared) => shared,
        None => {
            let stale = stale.clone();
            let shared = async move {
                let result = with_refresh_lock(refresh_now(stale)).await;
                REFRESHING.with(|r| *r.borrow_mut() = None);
                result
            }
            .boxed_local()
            .shared();
            REFRESHING.with(|r| *r.borrow_mut() = Some(shared.clone()));
            shared
        }
    };
    shared.await
}

/// Inside the lock: another tab may have refreshed while this one waited.
async fn refresh_now(stale: StoredTokens) -> Result<StoredTokens, ApiFailure> {
    let current = token_store::load().ok_or(ApiFailure::SignedOut)?;
    if current.access_token != stale.access_token && !current.is_stale(super::now()) {
        return Ok(current);
    }
    let body = RefreshRequest {
        refresh_token: current.refresh_token.clone(),
    };
    match call_public::<AuthResponse>(Method::POST, paths::REFRESH, Some(&body)).await {
        Ok(auth) => {
            let fresh = StoredTokens::from_response(auth);
            token_store::save(&fresh);
            Ok(fresh)
        }
        Err(ApiFailure::Rejected { status: 401, .. }) => {
            token_store::clear();
            super::tab_sync::signed_out_here();
            super::go_to_login(&super::current_location(), Some("expired"));
            Err(ApiFailure::SignedOut)
        }
        Err(other) => Err(other),
    }
}
