//! The language switcher every page shows. Before the app has loaded it is a
//! form that the server answers (`POST /language`); once hydrated, choosing a
//! language fetches its texts, shows the app in it without a reload, keeps
//! it in the `lang` cookie and, for a signed-in user, in the account.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::{
    auth_state::use_auth,
    i18n::{t, use_i18n, Locale, Msg},
};

#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let location = use_location();
    let here = move || format!("{}{}", location.pathname.get(), location.search.get());
    let chosen = i18n.locale.get_untracked();
    let on_change = move |ev: leptos::ev::Event| {
        let Some(locale) = Locale::parse(&event_target_value(&ev)) else {
            return;
        };
        let signed_in = auth.signed_in();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            if crate::i18n::show_in(i18n, locale).await.is_err() {
                return;
            }
            if signed_in {
                crate::i18n::save_account_language(locale).await;
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (locale, signed_in);
    };
    view! {
        <form method="post" action="/language" class="language">
            <input type="hidden" name="next" value=here/>
            <label for="language-select" class="visually-hidden">{t(Msg::AppNavLanguage)}</label>
            // Each language in its own name and script, whatever the page's.
            <select id="language-select" name="lang" on:change=on_change>
                <option value="en" lang="en" selected=chosen == Locale::En>"English"</option>
                <option value="zh-CN" lang="zh-CN" selected=chosen == Locale::ZhCn>"简体中文"</option>
                <option value="zh-TW" lang="zh-TW" selected=chosen == Locale::ZhTw>"繁體中文"</option>
            </select>
            // Needed only until the app has loaded: then a choice applies at once.
            <button type="submit" class="button small secondary language-apply">{t(Msg::AppNavApplyLanguage)}</button>
        </form>
    }
}
