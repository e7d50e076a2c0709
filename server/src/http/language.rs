//! The language of a response. The API's `message` and `errors` follow
//! `Accept-Language`, then the caller's account; a page follows the account,
//! then the `lang` cookie, then `Accept-Language` (the contract, section 2).
//! Either way English is the last resort.

use std::cell::Cell;

use app::{
    api::{AccountUpdate, Locale},
    i18n::{self, Msg, Text},
    session::safe_next,
};
use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::cookie::{Cookie, SameSite};

use super::{
    forms::{self, PostedForm},
    session,
};

/// The cookie the language switcher sets.
pub const COOKIE: &str = "lang";

/// What a request says about its language, and what its caller's account says
/// once the caller is known. The header is read only when a text is rendered:
/// most answers (a validation, a token) have none.
struct Asked {
    header: Option<HeaderValue>,
    account: Cell<Option<Locale>>,
}

tokio::task_local! {
    static ASKED: Asked;
}

/// Reads `Accept-Language` for the rest of the request, and tells caches
/// that the API's answers depend on it.
pub async fn negotiate(req: Request, next: Next) -> Response {
    let asked = Asked {
        header: req.headers().get(header::ACCEPT_LANGUAGE).cloned(),
        account: Cell::new(None),
    };
    let api = req.uri().path().starts_with("/api/");
    let mut response = ASKED.scope(asked, next.run(req)).await;
    if api {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-language"));
    }
    response
}

/// The best of our languages in the request's `Accept-Language`.
pub fn from_header(headers: &HeaderMap) -> Option<Locale> {
    headers.get(header::ACCEPT_LANGUAGE).and_then(best_of)
}

fn best_of(value: &HeaderValue) -> Option<Locale> {
    value.to_str().ok().and_then(i18n::best_match)
}

/// The `lang` cookie, when it names one of our languages.
pub fn from_cookie(headers: &HeaderMap) -> Option<Locale> {
    session::cookie(headers, COOKIE).and_then(|value| Locale::parse(&value))
}

/// The language of a page: the account's, the cookie's, the header's, English.
pub fn for_page(headers: &HeaderMap, account: Option<Locale>) -> Locale {
    account
        .or_else(|| from_cookie(headers))
        .or_else(|| from_header(headers))
        .unwrap_or_default()
}

/// The authenticated caller's account language, for an API request that
/// named none of ours.
pub fn note_account(locale: Locale) {
    let _ = ASKED.try_with(|asked| asked.account.set(Some(locale)));
}

/// The language of the API's answer to this request.
pub fn current() -> Locale {
    ASKED
        .try_with(|asked| {
            asked
                .header
                .as_ref()
                .and_then(best_of)
                .or(asked.account.get())
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// `text` in the language of the answer to this request.
pub fn render(text: &Text) -> String {
    text.render(current())
}

/// `POST /language`: the language switcher's form, posted before the app has
/// loaded (the app switches by itself). Sets the `lang` cookie, saves the
/// language to a signed-in account, and goes back to the page.
pub async fn switch(form: PostedForm) -> Response {
    let asked = form.field("lang");
    let Some(locale) = Locale::parse(&asked) else {
        let locale = forms::page_locale(&form.parts.extensions);
        return (
            StatusCode::BAD_REQUEST,
            i18n::text(locale, Msg::ApiChooseLanguage),
        )
            .into_response();
    };
    if let Some((user_id, _)) = session::signed_in_as(&form.browser).await {
        let update = AccountUpdate {
            full_name: None,
            locale: Some(locale),
        };
        if let Err(e) = form.state.auth.update_account(user_id, &update).await {
            // The cookie still carries the choice.
            tracing::warn!(error = %e, "cannot save the language to the account");
        }
    }
    let next = form.field("next");
    let mut response = Redirect::to(safe_next(&next).unwrap_or("/")).into_response();
    let cookie = Cookie::build((COOKIE, locale.as_str()))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(session::cookies_are_secure(&form.state.config))
        .max_age(time::Duration::days(365))
        .build();
    forms::append_cookie(response.headers_mut(), &cookie);
    response
}
