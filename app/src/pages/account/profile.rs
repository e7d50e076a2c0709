use leptos::prelude::*;

use super::{Failure, Loaded};
use crate::{
    api::{AccountUpdate, Locale},
    auth_state::use_auth,
    calls,
    components::{focus_first_error, ErrorSummary, TextField},
    i18n::{t, Msg},
    rules::FullName,
};

/// The name and the language of the account.
#[component]
pub fn ProfileForm(
    account: Loaded,
    notice: RwSignal<Option<String>>,
    failure: Failure,
    /// The name as typed into a form the server sent back.
    typed_name: Option<String>,
) -> impl IntoView {
    let auth = use_auth();
    let sent_back = typed_name.is_some();
    let full_name = RwSignal::new(typed_name.unwrap_or_else(|| {
        auth.user
            .with_untracked(|u| u.as_ref().map(|u| u.full_name.clone()).unwrap_or_default())
    }));
    // Unknown until the account has loaded: the menu stays disabled until
    // then, so a form posted early leaves the language as it is.
    let locale = RwSignal::new(None::<Locale>);
    Effect::new(move |_| {
        if let Some(Ok(a)) = account.get() {
            locale.set(Some(a.locale));
            // The tab's stored user may be older than the account: the name
            // as stored now, unless the server sent back what was typed.
            if !sent_back {
                full_name.set(a.user.full_name);
            }
        }
    });
    let failure = RwSignal::new(failure);
    let name_error =
        Signal::derive(move || full_name.with(|v| FullName::parse(v).err().map(|e| e.localized())));

    let save = Action::new_local(|update: &AccountUpdate| calls::update_account(update.clone()));
    Effect::new(move |_| match save.value().get() {
        Some(Ok(a)) => {
            auth.user.set(Some(a.user));
            notice.set(Some(t(Msg::AccountProfileSaved).into()));
            // A new language applies at once, as the switcher's does. The
            // switch renders the page anew, so the notice goes by the URL,
            // as after a form posted before the app loaded.
            #[cfg(feature = "hydrate")]
            if a.locale != crate::i18n::current() {
                let i18n = crate::i18n::use_i18n();
                leptos_router::hooks::use_navigate()(
                    "/account?done=profile",
                    leptos_router::NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                );
                leptos::task::spawn_local(async move {
                    let _ = crate::i18n::show_in(i18n, a.locale).await;
                });
            }
        }
        Some(Err(e)) => {
            failure.set(Some((e.message(), e.errors())));
            focus_first_error();
        }
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        if name_error.get_untracked().is_some() {
            focus_first_error();
            return;
        }
        save.dispatch(AccountUpdate {
            full_name: Some(full_name.get_untracked()),
            locale: locale.get_untracked(),
        });
    };

    view! {
        <section class="card" id="profile-section">
            <h2>{t(Msg::AccountProfileTitle)}</h2>
            <form method="post" action="/account" on:submit=on_submit novalidate>
                <input type="hidden" name="form" value="profile"/>
                <ErrorSummary failure=failure/>
                <TextField id="fullName" label=t(Msg::AccountProfileFullName) value=full_name error=name_error autocomplete="name"/>
                <div class="field">
                    <label for="locale">{t(Msg::AccountProfileLanguage)}</label>
                    <select
                        id="locale"
                        name="locale"
                        disabled=move || locale.get().is_none()
                        on:change=move |ev| locale.set(Locale::parse(&event_target_value(&ev)))
                    >
                        {Locale::ALL
                            .iter()
                            .map(|l| {
                                let l = *l;
                                view! { <option value=l.as_str() prop:selected=move || locale.get() == Some(l)>{l.native_name()}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit" id="save-profile" class="button" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { t(Msg::AccountSaving) } else { t(Msg::AccountProfileSave) }}
                </button>
            </form>
        </section>
    }
}
