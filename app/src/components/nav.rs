use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth_state::use_auth;

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
            <nav aria-label="Main">
                <A href="/" attr:class="brand">"Auth"</A>
                <A href="/protected">"Protected"</A>
                <Show
                    when=move || auth.signed_in()
                    fallback=|| view! {
                        <A href="/login">"Log in"</A>
                        <A href="/register" attr:class="button small">"Register"</A>
                    }
                >
                    <span class="who" id="signed-in-as">"Signed in as " <strong>{username}</strong></span>
                    <Show when=move || auth.user.with(|u| u.as_ref().is_some_and(|u| u.role == crate::api::Role::Admin))>
                        <A href="/admin/users">"Admin"</A>
                    </Show>
                    <A href="/profile">"Profile"</A>
                    <A href="/account">"Account"</A>
                </Show>
            </nav>
        </header>
    }
}
