use leptos::prelude::*;

use crate::components::HealthBadge;

/// The landing page: what this is, and a live check of the API.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Rust auth server"</h1>
            <p class="lead">
                "A JSON auth API with rotating refresh tokens, revocation, lockout and an audit log, "
                "and this app, rendered on the server and hydrated in your browser."
            </p>
            <HealthBadge/>
        </section>
    }
}
