//! `/account`: the signed-in user's own account, one form per change. Each
//! form posts to `/account` before the app has loaded (its hidden `form`
//! field names it) and goes through the API afterwards.

mod delete;
mod email;
mod password;
mod profile;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::RequireSignIn;
use crate::{
    api::Account,
    auth_state::use_auth,
    calls::{self, ApiFailure},
    components::{resent_text, SessionsList, UnverifiedNotice},
    forms::{rendered_outcome, FormOutcome},
    i18n::{t, Msg},
};

/// The account as the API last answered it.
type Loaded = LocalResource<Result<Account, ApiFailure>>;

/// A failure to show at a form, and what was typed into it.
type Failure = Option<(String, Vec<String>)>;

/// What a form posted before the app loaded did, by the `done` the server
/// redirected with.
fn done_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "profile" => t(Msg::AccountProfileSaved),
        "email" => t(Msg::AccountEmailSentToNew),
        "password" => t(Msg::AccountPasswordChanged),
        "resend" => resent_text(),
        _ => return None,
    })
}

/// The failure the server rendered this page with, when it belongs to `form`.
fn failure_of(outcome: Option<&FormOutcome>, form: &str) -> Failure {
    outcome
        .filter(|o| o.value("form") == form)
        .map(|o| (o.message.clone(), o.errors.clone()))
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let auth = use_auth();
    let account: Loaded = LocalResource::new(calls::account);
    Effect::new(move |_| {
        if let Some(Ok(a)) = account.get() {
            auth.user.set(Some(a.user));
        }
    });
    let outcome = rendered_outcome();
    let done = use_query_map().read_untracked().get("done");
    let notice = RwSignal::new(done.as_deref().and_then(done_text).map(str::to_string));

    view! {
        <RequireSignIn>
            <section class="card">
                <h1>{t(Msg::AccountTitle)}</h1>
                <div role="status" id="account-notice">
                    {move || notice.get().map(|n| view! { <p class="notice">{n}</p> })}
                </div>
                <UnverifiedNotice account=account notice=notice/>
            </section>
            <profile::ProfileForm
                account=account
                notice=notice
                failure=failure_of(outcome.as_ref(), "profile")
                typed_name=outcome.as_ref().filter(|o| o.value("form") == "profile").map(|o| o.value("fullName"))
            />
            <email::EmailForm notice=notice failure=failure_of(outcome.as_ref(), "email")/>
            <password::PasswordForm notice=notice failure=failure_of(outcome.as_ref(), "password")/>
            <SessionsList/>
            <delete::DeleteForm failure=failure_of(outcome.as_ref(), "delete")/>
        </RequireSignIn>
    }
}
