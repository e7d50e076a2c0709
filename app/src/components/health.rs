use leptos::prelude::*;

use crate::{
    api::Health,
    i18n::{t, tf, Msg},
};

/// A live check of `GET /api/health`. It runs in the browser only, so the
/// server renders "checking" and the answer appears once the app has hydrated.
#[component]
pub fn HealthBadge() -> impl IntoView {
    let health = LocalResource::new(check_health);
    let status = move || {
        match health.get() {
        None => view! { <span class="badge pending" data-state="pending">{t(Msg::AppHealthChecking)}</span> }.into_any(),
        Some(Ok(h)) => view! {
            <span class="badge ok" data-state="ok">
                {tf(Msg::AppHealthOk, &[("status", &h.status), ("version", &h.version)])}
            </span>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <span class="badge error" data-state="error">{tf(Msg::AppHealthUnreachable, &[("reason", &e)])}</span>
        }
        .into_any(),
    }
    };
    view! {
        <p class="health" id="api-health" aria-live="polite">
            {status}
            <button type="button" class="link" on:click=move |_| health.refetch()>{t(Msg::AppHealthCheckAgain)}</button>
        </p>
    }
}

async fn check_health() -> Result<Health, String> {
    #[cfg(feature = "hydrate")]
    {
        use gloo_net::http::Method;
        crate::client::http::call_public::<Health>(
            Method::GET,
            crate::api::paths::HEALTH,
            None::<&()>,
        )
        .await
        .map_err(|e| e.message())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err(t(Msg::AppHealthBrowserOnly).to_string())
    }
}
