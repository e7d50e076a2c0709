//! The sign-in and registration forms, posted before the app has loaded
//! (or without JavaScript): `POST /login` and `POST /register` with an
//! `application/x-www-form-urlencoded` body. A success signs in, starts the
//! browser session and redirects (303) to `next`; a failure renders the
//! page again with the server's answer. Nothing of the form ever reaches a
//! URL.
//!
//! The tokens of such a sign-in reach the app through a cookie that lives
//! a minute, is readable by no script, and is read (and cleared) by the
//! page that follows: the server keeps no token in the clear.

use app::{
    api::{AuthResponse, LoginRequest, RegisterRequest},
    forms::FormOutcome,
    i18n::{self, Locale, Msg, PageLocale},
    session::{safe_next, TokenHandoff},
};
use axum::{
    body::{to_bytes, Body},
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use tower_sessions::{cookie::Cookie, Session};

use super::{error::ApiError, extract::Client, json::BODY_LIMIT, session};
use crate::{
    auth::{sign_in::Registered, ClientInfo, SignedIn},
    state::AppState,
};

/// Where a signed-in user goes when the form named no `next`.
const AFTER_SIGN_IN: &str = "/profile";

/// How long the tokens of a form sign-in wait for the page that follows.
const HANDOFF_SECS: i64 = 60;

/// A form posted from a page of this site (a cross-site post could sign a
/// victim into the attacker's account), of at most 64 KiB: its fields, the
/// request (to render its page again), and what signing in needs.
pub struct PostedForm {
    pub(super) state: AppState,
    pub(super) client: ClientInfo,
    pub(super) browser: Session,
    pub(super) parts: Parts,
    fields: Vec<(String, String)>,
}

impl FromRequest<AppState> for PostedForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        if !from_this_site(req.headers()) {
            let locale = page_locale(req.extensions());
            return Err((
                StatusCode::FORBIDDEN,
                i18n::text(locale, Msg::ApiFormsFromThisSite),
            )
                .into_response());
        }
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::UnsupportedMediaType.into_response());
        }
        let (mut parts, body) = req.into_parts();
        let Client(client) = Client::from_request_parts(&mut parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let browser = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let bytes = to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| ApiError::PayloadTooLarge.into_response())?;
        let fields = form_urlencoded::parse(&bytes).into_owned().collect();
        Ok(PostedForm {
            state: state.clone(),
            client,
            browser,
            parts,
            fields,
        })
    }
}

impl PostedForm {
    /// The value of `name`, or "".
    pub(super) fn field(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }
}

/// `POST /login`.
pub async fn login(form: PostedForm) -> Response {
    let login = LoginRequest {
        username: form.field("username").trim().to_string(),
        password: form.field("password"),
    };
    let typed = vec![("username".to_string(), login.username.clone())];
    let next = form.field("next");
    let signed_in = form.state.auth.login(&login, &form.client).await;
    finish(form, signed_in, typed, next).await
}

/// `POST /register`.
pub async fn register(form: PostedForm) -> Response {
    let registration = RegisterRequest {
        username: form.field("username"),
        email: form.field("email"),
        password: form.field("password"),
        confirm_password: form.field("confirmPassword"),
        full_name: form.field("fullName"),
    };
    let typed = ["username", "email", "fullName"]
        .iter()
        .map(|name| (name.to_string(), form.field(name)))
        .collect();
    let signed_in = match form
        .state
        .auth
        .register(
            &registration,
            page_locale(&form.parts.extensions),
            &form.client,
        )
        .await
    {
        Ok(Registered {
            signed_in: Some(signed_in),
            ..
        }) => Ok(signed_in),
        // The address must be verified before the account signs in.
        Ok(Registered {
            signed_in: None, ..
        }) => return Redirect::to("/login?reason=verify-email").into_response(),
        Err(e) => Err(e),
    };
    finish(form, signed_in, typed, String::new()).await
}

/// Signs the browser in and redirects, or renders the form's page again
/// with the failure and what was typed.
async fn finish(
    form: PostedForm,
    signed_in: Result<SignedIn, crate::auth::AuthError>,
    typed: Vec<(String, String)>,
    next: String,
) -> Response {
    let state = &form.state;
    let failure = match signed_in {
        Ok(signed_in) => match session::start(&form.browser, &signed_in).await {
            Ok(()) => {
                let target = safe_next(&next).unwrap_or(AFTER_SIGN_IN);
                let mut response = Redirect::to(target).into_response();
                let cookie = handoff_cookie(state, Some(&signed_in.response));
                append_cookie(response.headers_mut(), &cookie);
                return response;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot store the browser session; the sign-in is undone");
                if let Err(e) = state.auth.abandon_sign_in(&signed_in).await {
                    ApiError::from(e)
                } else {
                    ApiError::Unavailable("session store unavailable".into())
                }
            }
        },
        Err(e) => ApiError::from(e),
    };
    form.refused(failure, typed).await
}

impl PostedForm {
    /// Renders the page of the form again with `failure` and what was typed
    /// (never a password), with the failure's status.
    pub(super) async fn refused(self, failure: ApiError, typed: Vec<(String, String)>) -> Response {
        let locale = page_locale(&self.parts.extensions);
        let outcome = FormOutcome {
            status: failure.status().as_u16(),
            message: failure.message().render(locale),
            errors: match &failure {
                ApiError::Validation(errors) => errors.iter().map(|e| e.render(locale)).collect(),
                _ => Vec::new(),
            },
            values: typed,
        };
        let retry_after = match &failure {
            ApiError::TooManyAttempts { retry_after_secs }
            | ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let mut page = render_with(&self.state, self.parts, outcome).await;
        if let Some(secs) = retry_after {
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        page
    }
}

/// Renders the page of the request (the form's own page) with `outcome`.
async fn render_with(
    state: &AppState,
    parts: axum::http::request::Parts,
    outcome: FormOutcome,
) -> Response {
    let mut req = Request::from_parts(parts, Body::empty());
    req.extensions_mut().insert(outcome);
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_to_stream_with_context(super::use_csp_nonce, move || {
        app::shell(options.clone())
    });
    render(req).await
}

/// Whether a post comes from a page of this site: browsers say where a
/// request comes from (`Sec-Fetch-Site`, or else `Origin`); a request that
/// says neither is no cross-site browser post.
fn from_this_site(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, origin_host)| origin_host == host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// The name of the handoff cookie; `__Host-` when the cookies are secure.
fn handoff_cookie_name(state: &AppState) -> &'static str {
    if session::cookies_are_secure(&state.config) {
        "__Host-auth_handoff"
    } else {
        "auth_handoff"
    }
}

/// The cookie that hands a form sign-in's tokens to the next page, or that
/// clears it (`None`).
fn handoff_cookie(state: &AppState, tokens: Option<&AuthResponse>) -> Cookie<'static> {
    let value = tokens
        .and_then(|t| serde_json::to_vec(t).ok())
        .map(|json| URL_SAFE_NO_PAD.encode(json))
        .unwrap_or_default();
    let max_age = if tokens.is_some() { HANDOFF_SECS } else { 0 };
    Cookie::build((handoff_cookie_name(state), value))
        .path("/")
        .http_only(true)
        .secure(session::cookies_are_secure(&state.config))
        .same_site(tower_sessions::cookie::SameSite::Lax)
        .max_age(time::Duration::seconds(max_age))
        .build()
}

pub(super) fn append_cookie(headers: &mut HeaderMap, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// For a page request of a signed-in browser: the tokens a form sign-in
/// left for it, when they are that user's. Whatever the cookie held, the
/// response clears it.
pub fn take_handoff(state: &AppState, headers: &HeaderMap, user_id: i64) -> Option<TokenHandoff> {
    let value = session::cookie(headers, handoff_cookie_name(state))?;
    let json = URL_SAFE_NO_PAD.decode(value).ok()?;
    let tokens: AuthResponse = serde_json::from_slice(&json).ok()?;
    (tokens.user.id == user_id).then_some(TokenHandoff(tokens))
}

/// Whether a request carries a handoff cookie (to be cleared).
pub fn carries_handoff(state: &AppState, headers: &HeaderMap) -> bool {
    session::cookie(headers, handoff_cookie_name(state)).is_some()
}

/// Clears the handoff cookie on a response.
pub fn clear_handoff(state: &AppState, headers: &mut HeaderMap) {
    append_cookie(headers, &handoff_cookie(state, None));
}

/// The language the page of a form is rendered in (chosen by the page middleware).
pub(super) fn page_locale(extensions: &axum::http::Extensions) -> Locale {
    extensions
        .get::<PageLocale>()
        .map(|p| p.0)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn forms_are_accepted_from_this_site_only() {
        assert!(from_this_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(from_this_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(!from_this_site(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(!from_this_site(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(from_this_site(&headers(&[
            ("origin", "https://auth.example"),
            ("host", "auth.example")
        ])));
        assert!(!from_this_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "auth.example")
        ])));
        assert!(!from_this_site(&headers(&[
            ("origin", "null"),
            ("host", "auth.example")
        ])));
        assert!(from_this_site(&headers(&[])));
    }
}
