use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use super::mailed_link::{forget_token_in_address_bar, link_token};
use crate::{
    auth_state::use_auth,
    calls,
    components::ErrorSummary,
    forms::rendered_outcome,
    i18n::{t, Msg},
};

/// Confirms an address with the token of a mailed link. It asks for a
/// click: a mail scanner that opens the link verifies nothing.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let auth = use_auth();
    let outcome = rendered_outcome();
    let token = link_token(outcome.as_ref());
    forget_token_in_address_bar("/verify-email");
    let failure = RwSignal::new(outcome.map(|o| (o.message, o.errors)));
    // After the form was posted before the app loaded, the server redirects here with `verified`.
    let verified = RwSignal::new(use_query_map().read_untracked().get("verified").is_some());

    let submit = Action::new_local(|token: &String| calls::verify_email(token.clone()));
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(account)) => {
            // Untracked: this effect sets what it would otherwise read, again and again.
            if auth.user.with_untracked(Option::is_some) {
                auth.user.set(Some(account.user));
            }
            verified.set(true);
        }
        Some(Err(e)) => failure.set(Some((e.message(), e.errors()))),
        None => {}
    });
    let sent_token = token.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        submit.dispatch(sent_token.clone());
    };

    let has_token = !token.is_empty();
    view! {
        <section class="card narrow">
            <h1>{t(Msg::AccountVerifyTitle)}</h1>
            <Show
                when=move || verified.get()
                fallback=move || {
                    let token = token.clone();
                    let on_submit = on_submit.clone();
                    view! {
                        <Show
                            when=move || has_token
                            fallback=|| view! {
                                <p class="error" role="alert">{t(Msg::AccountVerifyIncomplete)}</p>
                            }
                        >
                            <p>{t(Msg::AccountVerifyIntro)}</p>
                        </Show>
                        <form method="post" action="/verify-email" on:submit=on_submit.clone() novalidate>
                            <input type="hidden" name="token" value=token.clone()/>
                            <ErrorSummary failure=failure/>
                            <button type="submit" id="confirm-address" class="button" disabled=move || submit.pending().get()>
                                {move || if submit.pending().get() { t(Msg::AccountVerifyConfirming) } else { t(Msg::AccountVerifySubmit) }}
                            </button>
                        </form>
                    }
                }
            >
                <p class="notice" role="status" id="verify-done">{t(Msg::AccountVerifyDone)}</p>
                <p>
                    {move || if auth.signed_in() {
                        view! { <A href="/account">{t(Msg::AccountVerifyToAccount)}</A> }.into_any()
                    } else {
                        view! { <A href="/login">{t(Msg::AccountVerifyLogIn)}</A> }.into_any()
                    }}
                </p>
            </Show>
        </section>
    }
}
