use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::{t, Msg};

/// Shown for any path no route matches; the server answers it with 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card narrow">
            <h1>{t(Msg::AppNotFoundTitle)}</h1>
            <p>{t(Msg::AppNotFoundText)}</p>
            <A href="/">{t(Msg::AppNotFoundBack)}</A>
        </section>
    }
}
