//! The signed-in account's side of the language: reading it after a
//! sign-in and saving a switch to it. Both call `/api/account`, whose types
//! would otherwise be in the bundle every page loads (9 KB after brotli), so
//! they are lazy functions: their code arrives on first use.

use leptos::lazy;

use super::{current, show_in, I18n, Locale};

/// After a sign-in: shows the app in the account's language when it is
/// another than the page's.
#[lazy]
pub async fn adopt_account_language(i18n: I18n) {
    if let Ok(account) = crate::calls::account().await {
        if account.locale != current() {
            let _ = show_in(i18n, account.locale).await;
        }
    }
}

/// After a switch by a signed-in user: keeps the choice in the account.
#[lazy]
pub async fn save_account_language(locale: Locale) {
    let update = crate::api::AccountUpdate {
        full_name: None,
        locale: Some(locale),
    };
    if let Err(e) = crate::calls::update_account(update).await {
        leptos::logging::warn!("cannot save the language to the account: {}", e.message());
    }
}
