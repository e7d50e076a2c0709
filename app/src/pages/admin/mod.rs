//! The admin console: users and the audit log.

mod audit;
mod users;

pub use audit::AdminAuditPage;
pub use users::AdminUsersPage;

use leptos::prelude::*;
use leptos_router::components::A;

use super::RequireSignIn;
use crate::{
    api::Role,
    auth_state::use_auth,
    i18n::{format_datetime, t, tf, Msg},
};

/// Admin pages: signed-out visitors are sent to log in; a signed-in User is
/// told (403) that the page needs the Admin role.
#[component]
fn RequireAdmin(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let is_admin = move || {
        auth.user
            .with(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))
    };
    #[cfg(feature = "ssr")]
    if !auth
        .user
        .with_untracked(|u| u.as_ref().is_some_and(|u| u.role == Role::Admin))
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::FORBIDDEN);
        }
    }
    let admin_only = move || {
        let children = children.clone();
        view! {
            <Show
                when=is_admin
                fallback=|| view! {
                    <section class="card narrow" id="forbidden">
                        <h1>{t(Msg::AdminForbiddenTitle)}</h1>
                        <p>{t(Msg::AdminForbiddenBody)}</p>
                        <A href="/profile">{t(Msg::AdminBackToProfile)}</A>
                    </section>
                }
            >
                <nav class="subnav" aria-label=t(Msg::AdminNavLabel)>
                    <A href="/admin/users">{t(Msg::AdminNavUsers)}</A>
                    <A href="/admin/audit">{t(Msg::AdminNavAudit)}</A>
                </nav>
                {children()}
            </Show>
        }
    };
    view! { <RequireSignIn>{admin_only()}</RequireSignIn> }
}

/// "Page 2 of 5 · 93 in all" with previous/next buttons.
#[component]
fn Pager(page: RwSignal<u32>, #[prop(into)] total: Signal<i64>, page_size: u32) -> impl IntoView {
    let pages = move || ((total.get().max(0) as u32).div_ceil(page_size)).max(1);
    view! {
        <div class="pager">
            <button type="button" class="button secondary small" disabled=move || { page.get() <= 1 } on:click=move |_| page.update(|p| *p -= 1)>
                {t(Msg::AdminPagerPrevious)}
            </button>
            <span class="muted" id="pager-status">{move || {
                tf(
                    Msg::AdminPagerStatus,
                    &[
                        ("page", &page.get().to_string()),
                        ("pages", &pages().to_string()),
                        ("total", &total.get().to_string()),
                    ],
                )
            }}</span>
            <button type="button" class="button secondary small" disabled=move || { page.get() >= pages() } on:click=move |_| page.update(|p| *p += 1)>
                {t(Msg::AdminPagerNext)}
            </button>
        </div>
    }
}

/// An RFC 3339 time in the viewer's language and time zone (in the browser;
/// as is on the server).
pub(crate) fn local_time(rfc3339: &str) -> String {
    format_datetime(rfc3339)
}

/// Asks the browser's confirmation dialog.
fn confirm(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}
