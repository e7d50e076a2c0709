//! The browser session (tower-sessions). A sign-in through the app also
//! remembers the user and the refresh family in an HttpOnly cookie session;
//! a logout ends it. Page requests use it so the server renders the
//! signed-in page, and a signed-out visitor of a private page is redirected
//! before any HTML is sent. The records live in the store chosen at
//! start-up (`store::SessionRecords`).

use app::{
    i18n::PageLocale,
    session::{requires_sign_in, SessionUser, BROWSER_SESSION_HEADER},
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use tower_sessions::{cookie::SameSite, Expiry, Session, SessionManagerLayer};

use super::{forms, language};
use crate::{auth::SignedIn, state::AppState, store::SessionRecords};

const KEY: &str = "auth";

/// What the session remembers.
#[derive(Serialize, Deserialize)]
struct BrowserSession {
    user_id: i64,
    family_id: String,
}

/// Cookies are `Secure` in production (behind a proxy that terminates TLS)
/// and whenever the server speaks TLS itself.
pub fn cookies_are_secure(config: &crate::config::Config) -> bool {
    config.is_production() || config.http.tls.is_some()
}

/// The session cookie's name. A secure cookie (production, or the server
/// speaks TLS) takes the `__Host-` prefix: browsers then refuse it from an
/// insecure origin or a sibling domain, so nobody can plant one.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-auth_session"
    } else {
        "auth_session"
    }
}

/// The session layer: HttpOnly, SameSite=Lax, Secure in production or over
/// TLS, living as long as a refresh family may (a session is started at a
/// sign-in and never extended: its family ends that long after the sign-in
/// however often it is refreshed).
pub fn layer(state: &AppState) -> SessionManagerLayer<SessionRecords> {
    let records = state.stores.sessions.clone();
    let lifetime = time::Duration::seconds(state.config.tokens.refresh_ttl.as_secs() as i64);
    let secure = cookies_are_secure(&state.config);
    SessionManagerLayer::new(records)
        .with_name(cookie_name(secure))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(lifetime))
}

/// Whether a sign-in asks for a browser session: the app's request wrapper
/// says so with [`BROWSER_SESSION_HEADER`], and the app's forms always do.
/// An API client, which would never send the cookie back, gets none, so it
/// grows no table.
pub fn wants_browser_session(headers: &HeaderMap) -> bool {
    headers.contains_key(BROWSER_SESSION_HEADER)
}

/// After a sign-in in the app: a new session id (no fixation) for this
/// family, stored now. A store that fails is the handler's to answer (in the
/// envelope): left to the session layer, it would replace the response with
/// an empty 500 after the family was made.
pub async fn start(
    session: &Session,
    signed_in: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    let data = BrowserSession {
        user_id: signed_in.response.user.id,
        family_id: signed_in.family_id.clone(),
    };
    session.cycle_id().await?;
    session.insert(KEY, data).await?;
    session.save().await
}

/// The user and refresh family of a signed-in browser, as the page
/// middleware checked them for this request.
pub async fn signed_in_as(session: &Session) -> Option<(i64, String)> {
    let data: BrowserSession = session.get(KEY).await.ok().flatten()?;
    Some((data.user_id, data.family_id))
}

pub async fn forget(session: &Session) {
    // A request without a session (an API client) has nothing to end.
    if session.id().is_none() {
        return;
    }
    if let Err(e) = session.flush().await {
        tracing::warn!(error = %e, "cannot end the browser session");
    }
}

/// For page requests: finds the signed-in user (the session's refresh family
/// must still be active), and redirects signed-out visitors of private pages.
pub async fn page_session(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/pkg/") || path.contains('.') {
        return next.run(req).await;
    }
    let signed_in = signed_in_user(&state, &session).await;
    let locale = language::for_page(req.headers(), signed_in.as_ref().map(|(_, l)| *l));
    let user = signed_in.map(|(user, _)| user);
    if user.is_none() && requires_sign_in(path) {
        let target = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or(path);
        let next: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let personal = user.is_some();
    if let Some(user) = &user {
        if let Some(handoff) = forms::take_handoff(&state, req.headers(), user.id) {
            req.extensions_mut().insert(handoff);
        }
    }
    let handed_off = forms::carries_handoff(&state, req.headers());
    req.extensions_mut().insert(SessionUser(user));
    req.extensions_mut().insert(PageLocale(locale));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if handed_off {
        forms::clear_handoff(&state, headers);
    }
    // A page is rendered for its session: no shared cache may keep it, and
    // one that embeds a signed-in user is kept by no cache at all.
    headers.append(header::VARY, HeaderValue::from_static("cookie"));
    headers.append(header::VARY, HeaderValue::from_static("accept-language"));
    if personal {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

/// The signed-in user and the language of their account.
async fn signed_in_user(
    state: &AppState,
    session: &Session,
) -> Option<(app::api::User, app::api::Locale)> {
    let data: BrowserSession = session.get(KEY).await.ok().flatten()?;
    let now = state.auth.clock().now();
    let active = state
        .auth
        .refresh_tokens()
        .is_active(&data.family_id, now)
        .await
        .unwrap_or(false);
    let user = if active {
        state
            .auth
            .user_and_locale(data.user_id)
            .await
            .ok()
            .flatten()
            .filter(|(u, _)| u.is_active)
    } else {
        None
    };
    if user.is_none() {
        forget(session).await;
    }
    user
}

/// The value of the request's cookie `name`, if it sent one.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}
