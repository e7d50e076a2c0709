use leptos::prelude::*;

use super::Failure;
use crate::{
    api::PasswordChangeRequest,
    calls,
    components::{focus_first_error, ErrorSummary, PasswordField},
    i18n::{t, Msg},
    rules::Password,
};

/// A new password; the other sessions of the account end with the change.
#[component]
pub fn PasswordForm(notice: RwSignal<Option<String>>, failure: Failure) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    let failure = RwSignal::new(failure);
    let current_error = Signal::derive(move || {
        (touched.get() && current.with(String::is_empty))
            .then(|| t(Msg::AccountPasswordEnterCurrent).to_string())
    });
    let new_error = Signal::derive(move || {
        touched
            .get()
            .then(|| new.with(|v| Password::parse(v).err().map(|e| e.localized())))
            .flatten()
    });
    let confirm_error = Signal::derive(move || {
        (touched.get() && confirm.get() != new.get())
            .then(|| t(Msg::RulesPasswordsDiffer).to_string())
    });

    let change =
        Action::new_local(|req: &PasswordChangeRequest| calls::change_password(req.clone()));
    Effect::new(move |_| match change.value().get() {
        Some(Ok(())) => {
            notice.set(Some(t(Msg::AccountPasswordChanged).into()));
            for field in [current, new, confirm] {
                field.set(String::new());
            }
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
        let invalid = [current_error, new_error, confirm_error]
            .iter()
            .any(|e| e.get_untracked().is_some());
        if invalid {
            focus_first_error();
            return;
        }
        change.dispatch(PasswordChangeRequest {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
            confirm_password: confirm.get_untracked(),
        });
    };

    view! {
        <section class="card" id="password-section">
            <h2>{t(Msg::AccountPasswordTitle)}</h2>
            <form method="post" action="/account" on:submit=on_submit novalidate>
                <input type="hidden" name="form" value="password"/>
                <ErrorSummary failure=failure/>
                <PasswordField id="current-password" name="currentPassword" label=t(Msg::AccountPasswordCurrent) value=current error=current_error/>
                <PasswordField id="newPassword" label=t(Msg::AccountPasswordNew) value=new error=new_error autocomplete="new-password"/>
                <PasswordField id="confirmPassword" label=t(Msg::AccountPasswordConfirm) value=confirm error=confirm_error autocomplete="new-password"/>
                <button type="submit" id="change-password" class="button" disabled=move || change.pending().get()>
                    {move || if change.pending().get() { t(Msg::AccountSaving) } else { t(Msg::AccountPasswordChange) }}
                </button>
            </form>
        </section>
    }
}
