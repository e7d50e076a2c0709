use leptos::prelude::*;

use crate::api::Health;

/// A live check of `GET /api/health`. It runs in the browser only, so the
/// server renders "checking" and the answer appears once the app has hydrated.
#[component]
pub fn HealthBadge() -> impl IntoView {
    let health = LocalResource::new(check_health);
    let status = move || {
        match health.get() {
        None => view! { <span class="badge pending" data-state="pending">"Checking the API…"</span> }.into_any(),
        Some(Ok(h)) => view! {
            <span class="badge ok" data-state="ok">"API " {h.status} " · version " {h.version}</span>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <span class="badge error" data-state="error">"API unreachable: " {e}</span>
        }
        .into_any(),
    }
    };
    view! {
        <p class="health" id="api-health" aria-live="polite">
            {status}
            <button type="button" class="link" on:click=move |_| health.refetch()>"Check again"</button>
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
        Err("the health check runs in the browser".to_string())
    }
}
