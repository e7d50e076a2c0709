use leptos::prelude::*;
use leptos_router::components::A;

use super::LanguageSwitcher;
use crate::{
    auth_state::use_auth,
    i18n::{t, Msg},
};

/// The top bar: the pages, and who is signed in.
#[component]
pub fn NavBar() -> impl IntoView {
    let auth = use_auth();
    let username = move || {
        auth.user
            .with(|u| u.as_ref().map(|u| u.username.clone()).unwrap_or_default())
    };
    view! {
        <header class="topbar">
            <nav aria-label=t(Msg::AppNavLabel)>
                <A href="/" attr:class="brand">"Auth"</A>
                <A href="/protected">{t(Msg::AppNavProtected)}</A>
                <Show
                    when=move || auth.signed_in()
                    fallback=|| view! {
                        <A href="/login">{t(Msg::AppNavLogIn)}</A>
                        <A href="/register" attr:class="button small">{t(Msg::AppNavRegister)}</A>
                    }
                >
                    <span class="who" id="signed-in-as">{t(Msg::AppNavSignedInAs)} " " <strong>{username}</strong></span>
                    <Show when=move || auth.user.with(|u| u.as_ref().is_some_and(|u| u.role == crate::api::Role::Admin))>
                        <A href="/admin/users">{t(Msg::AppNavAdmin)}</A>
                    </Show>
                    <A href="/profile">{t(Msg::AppNavProfile)}</A>
                    <A href="/account">{t(Msg::AppNavAccount)}</A>
                </Show>
                <LanguageSwitcher/>
            </nav>
        </header>
    }
}
