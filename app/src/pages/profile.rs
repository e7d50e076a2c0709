use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::RequireSignIn;
use crate::{
    auth_state::use_auth,
    calls,
    components::{SessionsList, UnverifiedNotice},
    i18n::{role_name, t, Msg},
};

/// The signed-in user: rendered on the server from the browser session,
/// then refreshed from `GET /api/account` through the request wrapper (with
/// whether the address is verified).
#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let account = LocalResource::new(calls::account);
    Effect::new(move |_| {
        if let Some(Ok(a)) = account.get() {
            auth.user.set(Some(a.user));
        }
    });
    let notice = RwSignal::new(None::<String>);
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
                <h1>{t(Msg::AppProfileTitle)}</h1>
                <div role="status" id="profile-notice">
                    {move || notice.get().map(|n| view! { <p class="notice">{n}</p> })}
                </div>
                <UnverifiedNotice account=account notice=notice/>
                <dl class="facts">
                    <dt>{t(Msg::AppProfileUsername)}</dt>
                    <dd id="profile-username">{field(|u| u.username.clone())}</dd>
                    <dt>{t(Msg::AppProfileFullName)}</dt>
                    <dd id="profile-full-name">{field(|u| u.full_name.clone())}</dd>
                    <dt>{t(Msg::AppProfileEmail)}</dt>
                    <dd id="profile-email">{field(|u| u.email.clone())}</dd>
                    <dt>{t(Msg::AppProfileRole)}</dt>
                    <dd id="profile-role">{field(|u| role_name(u.role).to_string())}</dd>
                    <dt>{t(Msg::AppProfileExpires)}</dt>
                    <dd id="profile-expiry">{move || expiry_text(auth.expires_at.get())}</dd>
                </dl>
                <p><leptos_router::components::A href="/account">{t(Msg::AppProfileChange)}</leptos_router::components::A></p>
                <button type="button" id="logout" class="button secondary" disabled=move || logout.pending().get() on:click=move |_| {
                    logout.dispatch(());
                }>
                    {move || if logout.pending().get() { t(Msg::AppProfileLoggingOut) } else { t(Msg::AppProfileLogOut) }}
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
        let time: String = date
            .to_locale_time_string(crate::i18n::current().as_str())
            .into();
        let minutes = ((exp as f64 - crate::client::now()) / 60.0).ceil().max(0.0);
        return crate::i18n::tf(
            Msg::AppProfileExpiresAt,
            &[("time", &time), ("minutes", &minutes.to_string())],
        );
    }
    let _ = expires_at;
    "—".to_string()
}
