//! One module per page.

mod account;
mod admin;
mod forgot_password;
mod home;
mod login;
mod mailed_link;
mod not_found;
mod profile;
mod protected;
mod register;
mod reset_password;
mod verify_email;

pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFound;

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, lazy_route, LazyRoute};

use crate::auth_state::use_auth;

/// `$route` shows `$page` as a lazy route: in a release build (`cargo leptos
/// build --split`) the page's code is a WASM file of its own, which the
/// browser loads on the first visit to the page. The signed-in pages are
/// lazy, and so are registration (with every rule of the forms) and the
/// pages of mailed links; the pages a visitor sees first (home, login) stay
/// in the bundle, so a first visit loads one file.
macro_rules! lazy_page {
    ($($route:ident => $page:path;)*) => {$(
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                $page().into_any()
            }
        }
    )*};
}

lazy_page! {
    AccountRoute => account::AccountPage;
    AdminUsersRoute => admin::AdminUsersPage;
    AdminAuditRoute => admin::AdminAuditPage;
    ProfileRoute => profile::ProfilePage;
    ProtectedRoute => protected::ProtectedPage;
    RegisterRoute => register::RegisterPage;
}

/// The three pages a mailed link or a forgotten password leads to, as one
/// lazy route chosen by the path: each lazy route type costs the bundle that
/// every page loads its own copy of the router's loading code, and these
/// pages are small.
pub struct MailedLinkRoute;

#[lazy_route]
impl LazyRoute for MailedLinkRoute {
    fn data() -> Self {
        MailedLinkRoute
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        let path = leptos_router::hooks::use_location()
            .pathname
            .get_untracked();
        match path.as_str() {
            "/reset-password" => reset_password::ResetPasswordPage().into_any(),
            "/verify-email" => verify_email::VerifyEmailPage().into_any(),
            _ => forgot_password::ForgotPasswordPage().into_any(),
        }
    }
}

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
    // The account's language wins over the one the sign-in page was in.
    #[cfg(feature = "hydrate")]
    {
        let i18n = crate::i18n::use_i18n();
        leptos::task::spawn_local(crate::i18n::adopt_account_language(i18n));
    }
}
