use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    calls,
    components::{focus_first_error, ErrorSummary, TextField},
    forms::rendered_outcome,
    rules::Email,
};

/// The answer, the same whether or not the address has an account.
const SENT: &str = "If an account has this address, we have sent it a link to choose a new password. Check your mail.";

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
            .then(|| email.with(|v| Email::parse(v.trim()).err()))
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
            <h1>"Forgot your password?"</h1>
            <p>"Enter the address of your account and we will mail you a link to choose a new password."</p>
            <Show when=move || sent.get()>
                <p class="notice" role="status" id="forgot-sent">{SENT}</p>
            </Show>
            <form method="post" action="/forgot-password" on:submit=on_submit novalidate>
                <ErrorSummary failure=failure/>
                <TextField id="email" label="Email" value=email error=email_error input_type="email" autocomplete="email" on_blur=Callback::new(move |()| touched.set(true))/>
                <button type="submit" class="button" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Sending…" } else { "Send me a link" }}
                </button>
            </form>
            <p class="aside"><A href="/login">"Back to log in"</A></p>
        </section>
    }
}
