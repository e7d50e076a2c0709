use leptos::prelude::*;

use super::RequireSignIn;
use crate::{api::ProtectedResponse, calls, calls::ApiFailure};

/// Calls `GET /api/auth/protected` and shows the answer; the burst button
/// makes five calls at once, which share one token refresh when needed.
#[component]
pub fn ProtectedPage() -> impl IntoView {
    let answer = LocalResource::new(calls::protected);
    let burst = RwSignal::new(None::<String>);
    let run_burst = move |_| {
        burst.set(Some("Calling…".into()));
        leptos::task::spawn_local(async move {
            let calls = (0..5).map(|_| calls::protected());
            let results = futures_join_all(calls).await;
            let ok = results.iter().filter(|r| r.is_ok()).count();
            burst.set(Some(format!("{ok} of 5 calls succeeded")));
        });
    };
    view! {
        <RequireSignIn>
            <section class="card">
                <h1>"Protected resource"</h1>
                <p class="lead">"This page calls an endpoint that needs a valid access token."</p>
                <div class="answer" id="protected-answer" aria-live="polite">
                    {move || match answer.get() {
                        None => view! { <p class="muted">"Calling the API…"</p> }.into_any(),
                        Some(Ok(ProtectedResponse { message, username, role, server_time })) => view! {
                            <p id="protected-message">{message}</p>
                            <p class="muted">
                                "As " <strong>{username}</strong> " (" {role.as_str()} "), server time "
                                <time id="server-time">{server_time}</time>
                            </p>
                        }
                        .into_any(),
                        Some(Err(e)) => view! { <p class="error">{failure_text(&e)}</p> }.into_any(),
                    }}
                </div>
                <div class="actions">
                    <button type="button" id="call-again" class="button" on:click=move |_| answer.refetch()>"Call again"</button>
                    <button type="button" id="call-five" class="button secondary" on:click=run_burst>"Five calls at once"</button>
                </div>
                <p id="burst-result" class="muted" aria-live="polite">{move || burst.get()}</p>
            </section>
        </RequireSignIn>
    }
}

fn failure_text(e: &ApiFailure) -> String {
    e.message()
}

/// Runs the calls concurrently (they are not `Send`, so no spawned tasks).
async fn futures_join_all<F: std::future::Future>(
    calls: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    #[cfg(feature = "hydrate")]
    {
        futures::future::join_all(calls).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let mut out = Vec::new();
        for call in calls {
            out.push(call.await);
        }
        out
    }
}
