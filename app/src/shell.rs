//! The HTML document and the router.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    Lazy, StaticSegment,
};

use crate::{
    auth_state::provide_auth_state,
    components::NavBar,
    i18n::{catalog_path, page_locale, provide_i18n},
    pages::{
        AccountRoute, AdminAuditRoute, AdminUsersRoute, HomePage, LoginPage, MailedLinkRoute,
        NotFound, ProfileRoute, ProtectedRoute, RegisterRoute,
    },
};

/// The whole document, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = page_locale();
    // The app hydrates only once it has the texts of the page's language.
    let texts = view! { <link rel="preload" href=catalog_path(locale) r#as="fetch" crossorigin="anonymous"/> };
    view! {
        <!DOCTYPE html>
        <html lang=locale.as_str()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                {texts}
                <HydrationScripts options=options.clone()/>
                <HashedStylesheet options id="leptos"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: navigation and pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_auth_state();
    let i18n = provide_i18n();
    // A language switch renders the app again in the new language. The
    // title is a plain string: the server fills it into the head after the
    // render, where no reactive value may be read.
    view! {
        {move || {
            i18n.locale.track();
            view! {
        <Title text=crate::i18n::t(crate::i18n::Msg::AppTitle)/>
        <Router>
            <NavBar/>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage/>
                    <Route path=StaticSegment("login") view=LoginPage/>
                    <Route path=StaticSegment("register") view={Lazy::<RegisterRoute>::new()}/>
                    <Route path=StaticSegment("profile") view={Lazy::<ProfileRoute>::new()}/>
                    <Route path=StaticSegment("protected") view={Lazy::<ProtectedRoute>::new()}/>
                    <Route path=StaticSegment("account") view={Lazy::<AccountRoute>::new()}/>
                    <Route path=StaticSegment("forgot-password") view={Lazy::<MailedLinkRoute>::new()}/>
                    <Route path=StaticSegment("reset-password") view={Lazy::<MailedLinkRoute>::new()}/>
                    <Route path=StaticSegment("verify-email") view={Lazy::<MailedLinkRoute>::new()}/>
                    <Route path=(StaticSegment("admin"), StaticSegment("users")) view={Lazy::<AdminUsersRoute>::new()}/>
                    <Route path=(StaticSegment("admin"), StaticSegment("audit")) view={Lazy::<AdminAuditRoute>::new()}/>
                </Routes>
            </main>
        </Router>
            }
        }}
    }
}
