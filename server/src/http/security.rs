//! Browser-facing protections: the security headers of every response, a
//! Content-Security-Policy whose nonce the Leptos page scripts carry, and
//! CORS for the origins an operator allows.

use axum::{
    extract::{Request, State},
    http::{header, HeaderName, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use leptos::nonce::Nonce;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::ResponseKind;
use crate::{config::Config, state::AppState};

/// The policy of the app's pages. `'wasm-unsafe-eval'` lets the page compile
/// its own WebAssembly; it does not allow `eval` of JavaScript.
fn page_policy(nonce: &str, development: bool) -> String {
    // `cargo leptos watch` reloads the page over a WebSocket on another port.
    let connect = if development { "'self' ws:" } else { "'self'" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Swagger UI styles some elements inline and draws icons from data: URLs.
const DOCS_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// API answers are data, never documents: nothing may run or embed them.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Sets the security headers. A page gets a new nonce, which
/// `use_csp_nonce` hands to Leptos for its inline scripts.
pub async fn headers(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let kind = ResponseKind::of(&path);
    let nonce = (kind == ResponseKind::Page).then(Nonce::new);
    if let Some(nonce) = &nonce {
        req.extensions_mut().insert(nonce.clone());
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let policy = match (&nonce, kind) {
        (Some(nonce), _) => {
            HeaderValue::from_str(&page_policy(nonce, !state.config.is_production()))
                .expect("a nonce is base64url")
        }
        (None, ResponseKind::Docs) => HeaderValue::from_static(DOCS_POLICY),
        // Static files and API answers: nothing in them may run or be framed.
        (None, _) => HeaderValue::from_static(API_POLICY),
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The pages of mailed links hold a token: no link on them may carry
    // their URL away, and no cache may keep them.
    let holds_a_token = matches!(path.as_str(), "/reset-password" | "/verify-email");
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if holds_a_token {
            "no-referrer"
        } else {
            "strict-origin-when-cross-origin"
        }),
    );
    if holds_a_token {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    // Browsers ignore HSTS over plain HTTP, and a server behind a TLS proxy
    // leaves it to the proxy.
    if state.config.http.tls.is_some() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Cross-origin API calls from the configured origins only; with none
/// configured no CORS header is ever sent, so browsers allow same-origin only.
pub fn cors(config: &Config) -> Option<CorsLayer> {
    if config.http.cors_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = config
        .http
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::WWW_AUTHENTICATE, header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_its_nonce_and_no_framing() {
        let policy = page_policy("abc", false);
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains("ws:"));
        assert!(page_policy("abc", true).contains("connect-src 'self' ws:"));
    }
}
