use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use super::after_sign_in;
use crate::{
    api::LoginRequest,
    calls,
    components::{focus_first_error, ErrorSummary, PasswordField, TextField},
    forms::rendered_outcome,
};

/// Sign in with a username or email and a password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next");
    let notice = move || {
        match query.read().get("reason").as_deref() {
        Some("expired") => Some("Your session has expired. Please sign in again."),
        Some("signed-out") => Some("You signed out in another tab."),
        Some("logged-out") => Some("You have signed out."),
        Some("verify-email") => {
            Some("Check your mail: we have sent you a link to confirm your address. Sign in once it is confirmed.")
        }
        Some("password-reset") => Some("Your password is changed. Sign in with the new one."),
        Some("account-deleted") => Some("Your account has been deleted."),
        _ if next().is_some() => Some("Please sign in to continue."),
        _ => None,
    }
    };
    // A form posted before the app loaded comes back with the server's answer.
    let outcome = rendered_outcome();
    let username = RwSignal::new(
        outcome
            .as_ref()
            .map(|o| o.value("username"))
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let failure = RwSignal::new(outcome.map(|o| (o.message, o.errors)));
    let missing = RwSignal::new((false, false));
    let navigate_next = next;

    let submit = Action::new_local(move |req: &LoginRequest| calls::login(req.clone()));
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(_)) => after_sign_in(navigate_next()),
        Some(Err(e)) => {
            failure.set(Some((e.message(), Vec::new())));
            focus_first_error();
        }
        None => {}
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = LoginRequest {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        missing.set((req.username.is_empty(), req.password.is_empty()));
        if req.username.is_empty() || req.password.is_empty() {
            failure.set(None);
            focus_first_error();
            return;
        }
        failure.set(None);
        submit.dispatch(req);
    };
    let username_error = Signal::derive(move || {
        missing
            .get()
            .0
            .then(|| "Enter your username or email.".to_string())
    });
    let password_error =
        Signal::derive(move || missing.get().1.then(|| "Enter your password.".to_string()));

    view! {
        <section class="card narrow">
            <h1>"Log in"</h1>
            {move || notice().map(|n| view! { <p class="notice" id="login-notice">{n}</p> })}
            // Without the app (not loaded yet, or no JavaScript) the browser
            // posts the form to the server, never putting it in the URL.
            <form method="post" action="/login" on:submit=on_submit novalidate>
                <input type="hidden" name="next" value=move || next().unwrap_or_default()/>
                <ErrorSummary failure=failure/>
                <TextField id="username" label="Username or email" value=username error=username_error autocomplete="username"/>
                <PasswordField id="password" label="Password" value=password error=password_error/>
                <button type="submit" class="button" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Signing in…" } else { "Log in" }}
                </button>
            </form>
            <p class="aside"><A href="/forgot-password" attr:id="forgot-link">"Forgot your password?"</A></p>
            <p class="aside">"No account yet? " <A href="/register">"Register"</A></p>
        </section>
    }
}
