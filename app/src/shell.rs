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
    pages::{
        AccountRoute, AdminAuditRoute, AdminUsersRoute, HomePage, LoginPage, MailedLinkRoute,
        NotFound, ProfileRoute, ProtectedRoute, RegisterRoute,
    },
};

/// The whole document, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
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
    view! {
        <Title text="Auth"/>
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
}
