use leptos::prelude::*;

use crate::{
    components::HealthBadge,
    i18n::{t, Msg},
};

/// The landing page: what this is, and a live check of the API.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>{t(Msg::AppHomeTitle)}</h1>
            <p class="lead">{t(Msg::AppHomeLead)}</p>
            <HealthBadge/>
        </section>
    }
}
