use leptos::prelude::*;

use super::Failure;
use crate::{
    api::EmailChangeRequest,
    auth_state::use_auth,
    calls,
    components::{focus_first_error, ErrorSummary, PasswordField, TextField},
    i18n::{t, tf, Msg},
    rules::Email,
};

/// A new address: it becomes the account's once the link mailed to it is used.
#[component]
pub fn EmailForm(notice: RwSignal<Option<String>>, failure: Failure) -> impl IntoView {
    let auth = use_auth();
    let current = move || {
        auth.user
            .with(|u| u.as_ref().map(|u| u.email.clone()).unwrap_or_default())
    };
    let new_email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let failure = RwSignal::new(failure);
    let email_error = Signal::derive(move || {
        touched
            .get()
            .then(|| new_email.with(|v| Email::parse(v.trim()).err().map(|e| e.localized())))
            .flatten()
    });
    let password_error = Signal::derive(move || {
        (touched.get() && password.with(String::is_empty))
            .then(|| t(Msg::AccountEnterPassword).to_string())
    });

    let change = Action::new_local(|req: &EmailChangeRequest| calls::change_email(req.clone()));
    Effect::new(move |_| match change.value().get() {
        Some(Ok(())) => {
            notice.set(Some(tf(
                Msg::AccountEmailSentTo,
                &[("email", new_email.get_untracked().trim())],
            )));
            password.set(String::new());
            touched.set(false);
        }
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
        if email_error.get_untracked().is_some() || password_error.get_untracked().is_some() {
            focus_first_error();
            return;
        }
        change.dispatch(EmailChangeRequest {
            new_email: new_email.get_untracked().trim().to_string(),
            current_password: password.get_untracked(),
        });
    };

    view! {
        <section class="card" id="email-section">
            <h2>{t(Msg::AccountEmailTitle)}</h2>
            <p>{t(Msg::AccountEmailCurrent)}<strong id="current-email">{current}</strong></p>
            <form method="post" action="/account" on:submit=on_submit novalidate>
                <input type="hidden" name="form" value="email"/>
                <ErrorSummary failure=failure/>
                <TextField id="newEmail" label=t(Msg::AccountEmailNewAddress) value=new_email error=email_error input_type="email" autocomplete="email"/>
                <PasswordField id="email-password" name="currentPassword" label=t(Msg::AccountYourPassword) value=password error=password_error/>
                <button type="submit" id="change-email" class="button" disabled=move || change.pending().get()>
                    {move || if change.pending().get() { t(Msg::AccountEmailSending) } else { t(Msg::AccountEmailChange) }}
                </button>
            </form>
        </section>
    }
}
