//! One module per page.

mod admin;
mod home;
mod login;
mod not_found;
mod profile;
mod protected;
mod register;

pub(crate) use admin::local_time;
pub use admin::{AdminAuditPage, AdminUsersPage};
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use profile::ProfilePage;
pub use protected::ProtectedPage;
pub use register::RegisterPage;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::auth_state::use_auth;

/// Private pages: the server redirects signed-out visitors before rendering;
/// this does the same for client-side navigation. (A sign-out while the page
/// is open navigates by itself, with its own reason.)
#[component]
fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if auth.user.with_untracked(Option::is_none) {
            crate::client::go_to_login(&crate::client::current_location(), None);
        }
    });
    view! { <Show when=move || auth.signed_in()>{children()}</Show> }
}

/// Where to go after signing in: `next` when it is a path on this site.
fn after_sign_in(next: Option<String>) {
    let target = next
        .as_deref()
        .and_then(crate::session::safe_next)
        .unwrap_or("/profile")
        .to_string();
    use_navigate()(&target, Default::default());
}
