//! The notice of an address not verified yet, with "send again". Before the
//! app has loaded, "send again" posts the account page's `resend` form.

use leptos::prelude::*;

use crate::{
    api::Account,
    calls::{self, ApiFailure},
    i18n::{t, Msg},
};

/// What "send again" did.
pub fn resent_text() -> &'static str {
    t(Msg::AccountUnverifiedResent)
}

/// For an address not verified yet: a notice, and a new link on request.
#[component]
pub fn UnverifiedNotice(
    account: LocalResource<Result<Account, ApiFailure>>,
    /// Where the outcome of "send again" is told.
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let resend = Action::new_local(|_: &()| calls::resend_verification());
    Effect::new(move |_| {
        if let Some(result) = resend.value().get() {
            notice.set(Some(match result {
                Ok(()) => resent_text().to_string(),
                Err(e) => e.message(),
            }));
        }
    });
    move || {
        account
            .get()
            .and_then(Result::ok)
            .filter(|a| !a.email_verified)
            .map(|a| {
                // One sentence to translate, the address in bold wherever
                // the language puts it.
                let sentence = t(Msg::AccountUnverifiedNotice);
                let (before, after) = sentence.split_once("{email}").unwrap_or((sentence, ""));
                view! {
                    <div class="notice" id="unverified">
                        <p>{before}<strong>{a.user.email}</strong>{after}</p>
                        <form method="post" action="/account" on:submit=move |ev: leptos::ev::SubmitEvent| {
                            ev.prevent_default();
                            resend.dispatch(());
                        }>
                            <input type="hidden" name="form" value="resend"/>
                            <button type="submit" id="resend-verification" class="button small secondary" disabled=move || resend.pending().get()>
                                {t(Msg::AccountUnverifiedSendAgain)}
                            </button>
                        </form>
                    </div>
                }
            })
    }
}
