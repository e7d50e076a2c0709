use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use super::after_sign_in;
use crate::{
    api::LoginRequest,
    calls,
    components::{focus_first_error, ErrorSummary, PasswordField, TextField},
    forms::rendered_outcome,
    i18n::{t, Msg},
};

/// Sign in with a username or email and a password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next");
    let notice = move || match query.read().get("reason").as_deref() {
        Some("expired") => Some(t(Msg::AppLoginExpired)),
        Some("signed-out") => Some(t(Msg::AppLoginSignedOutElsewhere)),
        Some("logged-out") => Some(t(Msg::AppLoginLoggedOut)),
        Some("verify-email") => Some(t(Msg::AppLoginVerifyEmail)),
        Some("password-reset") => Some(t(Msg::AppLoginPasswordReset)),
        Some("account-deleted") => Some(t(Msg::AppLoginAccountDeleted)),
        _ if next().is_some() => Some(t(Msg::AppLoginToContinue)),
        _ => None,
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
            .then(|| t(Msg::AppLoginEnterName).to_string())
    });
    let password_error = Signal::derive(move || {
        missing
            .get()
            .1
            .then(|| t(Msg::AppLoginEnterPassword).to_string())
    });

    view! {
        <section class="card narrow">
            <h1>{t(Msg::AppLoginTitle)}</h1>
            {move || notice().map(|n| view! { <p class="notice" id="login-notice">{n}</p> })}
            // Without the app (not loaded yet, or no JavaScript) the browser
            // posts the form to the server, never putting it in the URL.
            <form method="post" action="/login" on:submit=on_submit novalidate>
                <input type="hidden" name="next" value=move || next().unwrap_or_default()/>
                <ErrorSummary failure=failure/>
                <TextField id="username" label=t(Msg::AppLoginNameLabel) value=username error=username_error autocomplete="username"/>
                <PasswordField id="password" label=t(Msg::AppLoginPasswordLabel) value=password error=password_error/>
                <button type="submit" class="button" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { t(Msg::AppLoginPending) } else { t(Msg::AppLoginSubmit) }}
                </button>
            </form>
            <p class="aside"><A href="/forgot-password" attr:id="forgot-link">{t(Msg::AppLoginForgot)}</A></p>
            <p class="aside">{t(Msg::AppLoginNoAccount)} " " <A href="/register">{t(Msg::AppLoginRegister)}</A></p>
        </section>
    }
}
