use leptos::prelude::*;

use crate::{
    calls,
    i18n::{format_datetime, t, tf, Msg},
};

/// The caller's login sessions, with "End" for the others and "Log out everywhere".
#[component]
pub fn SessionsList() -> impl IntoView {
    let sessions = LocalResource::new(calls::sessions);
    let outcome = RwSignal::new(None::<String>);
    let end = move |id: String| {
        leptos::task::spawn_local(async move {
            let result = calls::end_session(id).await;
            outcome.set(Some(
                result
                    .map(|()| t(Msg::AccountSessionsEnded).to_string())
                    .unwrap_or_else(|e| e.message()),
            ));
            sessions.refetch();
        });
    };
    // Signing out unmounts this component, so the action leaves the page
    // itself. (An action's closure must own nothing that needs dropping: on
    // the server it is dropped on any thread, and a captured navigate
    // function panicked there.)
    let everywhere = Action::new_local(|_: &()| async move {
        let result = calls::logout_all().await;
        #[cfg(feature = "hydrate")]
        crate::client::leave_for("/login?reason=logged-out");
        result
    });
    view! {
        <section class="card" id="sessions">
            <h2>{t(Msg::AccountSessionsTitle)}</h2>
            <p class="muted" aria-live="polite">{move || outcome.get()}</p>
            <ul class="sessions">
                {move || match sessions.get() {
                    None => view! { <li class="muted">{t(Msg::AccountSessionsLoading)}</li> }.into_any(),
                    Some(Err(e)) => view! { <li class="error">{e.message()}</li> }.into_any(),
                    Some(Ok(list)) => list
                        .into_iter()
                        .map(|s| {
                            let id = s.id.clone();
                            view! {
                                <li class="session" data-current=s.current.to_string()>
                                    <div>
                                        <strong>{s.user_agent.clone().unwrap_or_else(|| t(Msg::AccountSessionsUnknownDevice).into())}</strong>
                                        {s.current.then(|| view! { <span class="badge ok">{t(Msg::AccountSessionsThisSession)}</span> })}
                                        <p class="muted">
                                            {tf(
                                                Msg::AccountSessionsDetails,
                                                &[
                                                    ("ip", s.ip.as_deref().unwrap_or(t(Msg::AccountSessionsUnknownAddress))),
                                                    ("created", &format_datetime(&s.created_at)),
                                                    ("last_used", &format_datetime(&s.last_used_at)),
                                                ],
                                            )}
                                        </p>
                                    </div>
                                    {(!s.current).then(|| view! {
                                        <button type="button" class="button secondary small" on:click=move |_| end(id.clone())>{t(Msg::AccountSessionsEnd)}</button>
                                    })}
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any(),
                }}
            </ul>
            <button type="button" id="logout-all" class="button secondary" disabled=move || everywhere.pending().get() on:click=move |_| {
                everywhere.dispatch(());
            }>{t(Msg::AccountSessionsLogoutAll)}</button>
        </section>
    }
}
