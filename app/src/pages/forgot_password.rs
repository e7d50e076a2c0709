use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    calls,
    components::{focus_first_error, ErrorSummary, TextField},
    forms::rendered_outcome,
    i18n::{t, Msg},
    rules::Email,
};

/// Asks for a reset link by mail.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let outcome = rendered_outcome();
    let email = RwSignal::new(
        outcome
            .as_ref()
            .map(|o| o.value("email"))
            .unwrap_or_default(),
    );
    let failure = RwSignal::new(outcome.map(|o| (o.message, o.errors)));
    // After the form was posted before the app loaded, the server redirects here with `sent`.
    let sent = RwSignal::new(use_query_map().read_untracked().get("sent").is_some());
    let touched = RwSignal::new(false);
    let email_error = Signal::derive(move || {
        touched
            .get()
            .then(|| email.with(|v| Email::parse(v.trim()).err().map(|e| e.localized())))
            .flatten()
    });

    let submit = Action::new_local(|email: &String| calls::forgot_password(email.clone()));
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(())) => sent.set(true),
        Some(Err(e)) => {
            failure.set(Some((e.message(), e.errors())));
            focus_first_error();
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        failure.set(None);
        let address = email.get_untracked().trim().to_string();
        if Email::parse(&address).is_err() {
            focus_first_error();
            return;
        }
        sent.set(false);
        submit.dispatch(address);
    };

    view! {
        <section class="card narrow">
            <h1>{t(Msg::AccountForgotTitle)}</h1>
            <p>{t(Msg::AccountForgotIntro)}</p>
            <Show when=move || sent.get()>
                // The answer, the same whether or not the address has an account.
                <p class="notice" role="status" id="forgot-sent">{t(Msg::AccountForgotSent)}</p>
            </Show>
            <form method="post" action="/forgot-password" on:submit=on_submit novalidate>
                <ErrorSummary failure=failure/>
                <TextField id="email" label=t(Msg::AccountForgotEmail) value=email error=email_error input_type="email" autocomplete="email" on_blur=Callback::new(move |()| touched.set(true))/>
                <button type="submit" class="button" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { t(Msg::AccountForgotSending) } else { t(Msg::AccountForgotSubmit) }}
                </button>
            </form>
            <p class="aside"><A href="/login">{t(Msg::AccountForgotBack)}</A></p>
        </section>
    }
}
