use leptos::prelude::*;

use super::RequireSignIn;
use crate::{api::ProtectedResponse, calls};

/// Calls `GET /api/auth/protected` and shows the answer.
#[component]
pub fn ProtectedPage() -> impl IntoView {
    let answer = LocalResource::new(calls::protected);
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
                        Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
                    }}
                </div>
                <div class="actions">
                    <button type="button" id="call-again" class="button" on:click=move |_| answer.refetch()>"Call again"</button>
                </div>
            </section>
        </RequireSignIn>
    }
}
