use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

use super::mailed_link::{forget_token_in_address_bar, link_token};
use crate::{
    api::ResetPasswordRequest,
    calls,
    components::{focus_first_error, ErrorSummary, PasswordField},
    forms::rendered_outcome,
    i18n::{t, Msg},
    rules::Password,
};

/// Chooses a new password with the token of a mailed link.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let outcome = rendered_outcome();
    let token = link_token(outcome.as_ref());
    forget_token_in_address_bar("/reset-password");
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let touched = RwSignal::new([outcome.is_some(); 2]);
    let failure = RwSignal::new(outcome.map(|o| (o.message, o.errors)));
    let touch = move |i: usize| Callback::new(move |()| touched.update(|t| t[i] = true));
    let password_error = Signal::derive(move || {
        touched
            .with(|t| t[0])
            .then(|| password.with(|v| Password::parse(v).err().map(|e| e.localized())))
            .flatten()
    });
    let confirm_error = Signal::derive(move || {
        (touched.with(|t| t[1]) && confirm.get() != password.get())
            .then(|| t(Msg::RulesPasswordsDiffer).to_string())
    });

    let submit = Action::new_local(|req: &ResetPasswordRequest| calls::reset_password(req.clone()));
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(())) => use_navigate()("/login?reason=password-reset", Default::default()),
        Some(Err(e)) => {
            failure.set(Some((e.message(), e.errors())));
            focus_first_error();
        }
        None => {}
    });
    let sent_token = token.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set([true; 2]);
        failure.set(None);
        if password_error.get_untracked().is_some() || confirm_error.get_untracked().is_some() {
            focus_first_error();
            return;
        }
        submit.dispatch(ResetPasswordRequest {
            token: sent_token.clone(),
            new_password: password.get_untracked(),
            confirm_password: confirm.get_untracked(),
        });
    };

    let has_token = !token.is_empty();
    view! {
        <section class="card narrow">
            <h1>{t(Msg::AccountResetTitle)}</h1>
            <Show
                when=move || has_token
                fallback=|| view! {
                    <p class="error" role="alert">{t(Msg::AccountResetIncomplete)}</p>
                }
            >
                <p>{t(Msg::AccountResetIntro)}</p>
            </Show>
            <form method="post" action="/reset-password" on:submit=on_submit.clone() novalidate>
                <input type="hidden" name="token" value=token.clone()/>
                <ErrorSummary failure=failure/>
                <PasswordField id="newPassword" label=t(Msg::AccountResetNew) value=password error=password_error autocomplete="new-password" on_blur=touch(0)/>
                <PasswordField id="confirmPassword" label=t(Msg::AccountResetConfirm) value=confirm error=confirm_error autocomplete="new-password" on_blur=touch(1)/>
                <button type="submit" class="button" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { t(Msg::AccountSaving) } else { t(Msg::AccountResetSubmit) }}
                </button>
            </form>
            <p class="aside"><A href="/forgot-password">{t(Msg::AccountResetNewLink)}</A></p>
        </section>
    }
}
