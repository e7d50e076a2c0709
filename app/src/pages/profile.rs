use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::RequireSignIn;
use crate::{auth_state::use_auth, calls, components::SessionsList};

/// The signed-in user: rendered on the server from the browser session,
/// then refreshed from `GET /api/auth/me` through the request wrapper.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let fresh = LocalResource::new(calls::me);
    Effect::new(move |_| {
        if let Some(Ok(user)) = fresh.get() {
            auth.user.set(Some(user));
        }
    });
    let field = move |f: fn(&crate::api::User) -> String| {
        move || auth.user.with(|u| u.as_ref().map(f).unwrap_or_default())
    };

    let logout = Action::new_local(|_: &()| calls::logout());
    Effect::new(move |_| {
        if logout.value().get().is_some() {
            use_navigate()("/login?reason=logged-out", Default::default());
        }
    });

    view! {
        <RequireSignIn>
            <section class="card">
                <h1>"Profile"</h1>
                <dl class="facts">
                    <dt>"Username"</dt>
                    <dd id="profile-username">{field(|u| u.username.clone())}</dd>
                    <dt>"Full name"</dt>
                    <dd id="profile-full-name">{field(|u| u.full_name.clone())}</dd>
                    <dt>"Email"</dt>
                    <dd id="profile-email">{field(|u| u.email.clone())}</dd>
                    <dt>"Role"</dt>
                    <dd id="profile-role">{field(|u| u.role.as_str().to_string())}</dd>
                    <dt>"Access token expires"</dt>
                    <dd id="profile-expiry">{move || expiry_text(auth.expires_at.get())}</dd>
                </dl>
                <p><leptos_router::components::A href="/account">"Change your name, language, address or password"</leptos_router::components::A></p>
                <button type="button" id="logout" class="button secondary" disabled=move || logout.pending().get() on:click=move |_| {
                    logout.dispatch(());
                }>
                    {move || if logout.pending().get() { "Logging out…" } else { "Log out" }}
                </button>
            </section>
            <SessionsList/>
        </RequireSignIn>
    }
}

/// "at 14:05:09 (in 59 min)", in the viewer's time zone; known only in the browser.
fn expiry_text(expires_at: Option<i64>) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(exp) = expires_at {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(exp as f64 * 1000.0));
        let time: String = date.to_locale_time_string("default").into();
        let minutes = ((exp as f64 - crate::client::now()) / 60.0).ceil().max(0.0);
        return format!("at {time} (in {minutes} min)");
    }
    let _ = expires_at;
    "—".to_string()
}
