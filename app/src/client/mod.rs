//! Browser-only code: the token store, the request wrapper that every API
//! call goes through, and keeping tabs in step.

pub mod http;
mod refresh_lock;
pub mod tab_sync;
pub mod token_store;

/// Unix time in seconds, by the browser's clock.
pub fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// Leaves the app for the login page, coming back to `next` afterwards.
pub fn go_to_login(next: &str, reason: Option<&str>) {
    let next: String = js_sys::encode_uri_component(next).into();
    let mut url = format!("/login?next={next}");
    if let Some(reason) = reason {
        url.push_str(&format!("&reason={reason}"));
    }
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(&url);
    }
}

/// Leaves the app for `url` (a page load: nothing of the app's state stays).
pub fn leave_for(url: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(url);
    }
}

/// The current path and query, for `next`.
pub fn current_location() -> String {
    web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.pathname().ok()?, l.search().ok()?))
        })
        .unwrap_or_else(|| "/".into())
}
