//! Extractors: the authenticated caller, and who the client is.

use std::{
    net::{IpAddr, SocketAddr},
    sync::atomic::{AtomicBool, Ordering},
};

use app::i18n::{Msg, Text};
use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, Extensions, HeaderMap, Request},
};
use ipnet::IpNet;

use super::error::ApiError;
use crate::{
    auth::{Authenticated, ClientInfo},
    state::AppState,
};

/// The caller of a Bearer-protected endpoint, checked in full.
pub struct CurrentUser(pub Authenticated);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?;
        let caller = state.auth.authenticate(token).await.map_err(|e| {
            tracing::debug!(reason = %e, "bearer token rejected");
            ApiError::from(e)
        })?;
        super::language::note_account(caller.locale);
        Ok(CurrentUser(caller))
    }
}

/// A caller with the Admin role (as stored now, not as the token says).
/// Anyone else authenticated gets 403 `insufficient_scope`.
pub struct AdminCaller(pub Authenticated);

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(caller) = CurrentUser::from_request_parts(parts, state).await?;
        if caller.user.role != app::api::Role::Admin {
            return Err(ApiError::InsufficientScope);
        }
        Ok(AdminCaller(caller))
    }
}

/// Query parameters whose rejection is a 400 in the envelope.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No parameter may carry a control character into a query, whatever
        // its type (PostgreSQL refuses U+0000 in text).
        let problems: Vec<Text> =
            form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .filter(|(name, value)| {
                    app::rules::has_control_characters(name)
                        || app::rules::has_control_characters(value)
                })
                .map(|(name, _)| {
                    Text::new(Msg::ApiParameterControl).with("name", name.escape_debug())
                })
                .collect();
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|rejection| {
                ApiError::Validation(vec![
                    Text::new(Msg::ApiQueryInvalid).with("detail", rejection.body_text())
                ])
            })
    }
}

/// A path parameter whose rejection is a 404 in the envelope.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| ApiError::NotFound)
    }
}

/// The token of `Authorization: Bearer <token>`. No header, or another
/// scheme, means no token was sent.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::MissingToken);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(token)
}

/// Finds the client's address: the peer's, or, behind a trusted proxy, the
/// nearest untrusted hop of `X-Forwarded-For`.
pub struct ClientAddresses {
    trusted: Vec<IpNet>,
    /// Set once `X-Forwarded-For` arrived from a peer that is not trusted.
    warned: AtomicBool,
}

impl ClientAddresses {
    pub fn new(trusted: Vec<IpNet>) -> Self {
        ClientAddresses {
            trusted,
            warned: AtomicBool::new(false),
        }
    }

    /// The client address of a request.
    pub fn of(&self, extensions: &Extensions, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
        let mut hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .peekable();
        if hops.peek().is_none() {
            return Some(peer);
        }
        if !self.is_trusted(&peer) {
            // Behind a proxy that is not listed, every client has the
            // proxy's address: they share one lockout and one rate limit.
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    %peer,
                    "a request carries X-Forwarded-For from a peer that TRUSTED_PROXIES does not list: \
                     the header is ignored, so every client behind that proxy shares its address \
                     (one lockout and one rate limit for all of them)"
                );
            }
            return Some(peer);
        }
        Some(client_ip(
            peer,
            &hops.collect::<Vec<_>>().join(","),
            &self.trusted,
        ))
    }

    fn is_trusted(&self, ip: &IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(ip))
    }
}

/// The client's IP and user agent, as [`ClientAddresses`] finds the IP.
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = state.client_addresses.of(&parts.extensions, &parts.headers);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Ok(Client(ClientInfo {
            ip: ip.map(|ip| ip.to_string()),
            user_agent,
        }))
    }
}

/// The client IP of a request, as [`Client`] finds it.
pub fn client_ip_of<B>(req: &Request<B>, addresses: &ClientAddresses) -> Option<IpAddr> {
    addresses.of(req.extensions(), req.headers())
}

fn client_ip(peer: IpAddr, forwarded_for: &str, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer;
    if !is_trusted(&peer) {
        return peer;
    }
    // Walk from the nearest hop outwards; stop at the first untrusted address.
    for hop in forwarded_for
        .rsplit(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip(ip("203.0.113.9"), "1.2.3.4", &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), "1.2.3.4", &trusted),
            ip("1.2.3.4")
        );
        // A client cannot prepend a fake hop: the first untrusted one from the right wins.
        assert_eq!(
            client_ip(ip("10.0.0.1"), "6.6.6.6, 1.2.3.4, 10.0.0.2", &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), "garbage", &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), "", &trusted), ip("10.0.0.1"));
    }
}
