use leptos::prelude::*;

use super::Failure;
use crate::{
    api::AccountDeletion,
    calls,
    components::{focus_first_error, ErrorSummary, PasswordField},
    i18n::{t, Msg},
};

/// Deletes the account, once confirmed with the password and a tick.
#[component]
pub fn DeleteForm(failure: Failure) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let confirmed = RwSignal::new(false);
    let touched = RwSignal::new(false);
    let failure = RwSignal::new(failure);
    let password_error = Signal::derive(move || {
        (touched.get() && password.with(String::is_empty))
            .then(|| t(Msg::AccountEnterPassword).to_string())
    });

    // Deleting signs this tab out, which unmounts the form: the action
    // leaves the page itself. (An action's closure must own nothing that
    // needs dropping: on the server it is dropped on any thread.)
    let delete = Action::new_local(|req: &AccountDeletion| {
        let req = req.clone();
        async move {
            let result = calls::delete_account(req).await;
            #[cfg(feature = "hydrate")]
            if result.is_ok() {
                crate::client::leave_for("/login?reason=account-deleted");
            }
            result
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = delete.value().get() {
            failure.set(Some((e.message(), e.errors())));
            focus_first_error();
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        failure.set(None);
        if password_error.get_untracked().is_some() {
            focus_first_error();
            return;
        }
        if !confirmed.get_untracked() {
            failure.set(Some((t(Msg::ApiConfirmDeletion).to_string(), Vec::new())));
            focus_first_error();
            return;
        }
        delete.dispatch(AccountDeletion {
            current_password: password.get_untracked(),
        });
    };

    view! {
        <section class="card danger-zone" id="delete-section">
            <h2>{t(Msg::AccountDeleteTitle)}</h2>
            <p>{t(Msg::AccountDeleteWarning)}</p>
            <form method="post" action="/account" on:submit=on_submit novalidate>
                <input type="hidden" name="form" value="delete"/>
                <ErrorSummary failure=failure/>
                <PasswordField id="delete-password" name="currentPassword" label=t(Msg::AccountYourPassword) value=password error=password_error/>
                <div class="field checkbox">
                    <input
                        type="checkbox"
                        id="delete-confirm"
                        name="confirm"
                        value="yes"
                        prop:checked=move || confirmed.get()
                        on:change=move |ev| confirmed.set(event_target_checked(&ev))
                    />
                    <label for="delete-confirm">{t(Msg::AccountDeleteConfirm)}</label>
                </div>
                <button type="submit" id="delete-account" class="button danger" disabled=move || delete.pending().get()>
                    {move || if delete.pending().get() { t(Msg::AccountDeleteDeleting) } else { t(Msg::AccountDeleteSubmit) }}
                </button>
            </form>
        </section>
    }
}
