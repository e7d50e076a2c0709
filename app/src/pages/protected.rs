use leptos::prelude::*;

use super::RequireSignIn;
use crate::{
    api::ProtectedResponse,
    calls,
    i18n::{role_name, t, tf, Msg},
};

/// Calls `GET /api/auth/protected` and shows the answer.
#[component]
pub fn ProtectedPage() -> impl IntoView {
    let answer = LocalResource::new(calls::protected);
    view! {
        <RequireSignIn>
            <section class="card">
                <h1>{t(Msg::AppProtectedTitle)}</h1>
                <p class="lead">{t(Msg::AppProtectedLead)}</p>
                <div class="answer" id="protected-answer" aria-live="polite">
                    {move || match answer.get() {
                        None => view! { <p class="muted">{t(Msg::AppProtectedCalling)}</p> }.into_any(),
                        Some(Ok(ProtectedResponse { message, username, role, server_time })) => view! {
                            <p id="protected-message">{message}</p>
                            <p class="muted">
                                {tf(Msg::AppProtectedAsWho, &[("username", &username), ("role", role_name(role))])} " "
                                <time id="server-time" datetime=server_time.clone()>{crate::i18n::format_datetime(&server_time)}</time>
                            </p>
                        }
                        .into_any(),
                        Some(Err(e)) => view! { <p class="error">{e.message()}</p> }.into_any(),
                    }}
                </div>
                <div class="actions">
                    <button type="button" id="call-again" class="button" on:click=move |_| answer.refetch()>{t(Msg::AppProtectedCallAgain)}</button>
                </div>
            </section>
        </RequireSignIn>
    }
}
