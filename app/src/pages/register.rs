use leptos::prelude::*;
use leptos_router::components::A;

use super::after_sign_in;
use crate::{
    api::RegisterRequest,
    calls,
    components::{focus_first_error, ErrorSummary, PasswordField, TextField},
    forms::rendered_outcome,
    i18n::{t, Msg},
    rules::{Email, FullName, Password, Username},
};

/// Create an account. The rules are the server's own (`crate::rules`),
/// checked as the user types; the server's answer is shown as well.
#[component]
pub fn RegisterPage() -> impl IntoView {
    // A form posted before the app loaded comes back with the server's answer.
    let outcome = rendered_outcome();
    let typed = |name: &str| outcome.as_ref().map(|o| o.value(name)).unwrap_or_default();
    let username = RwSignal::new(typed("username"));
    let email = RwSignal::new(typed("email"));
    let full_name = RwSignal::new(typed("fullName"));
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    // Every rule shows at once on a form the server sent back.
    let touched = RwSignal::new([outcome.is_some(); 5]);
    let failure = RwSignal::new(outcome.map(|o| (o.message, o.errors)));
    // Rules show for a field once it was left, and for all after a submit.
    let touch = move |i: usize| Callback::new(move |()| touched.update(|t| t[i] = true));
    let shown =
        move |i: usize, rule: Option<String>| touched.with(|t| t[i]).then_some(rule).flatten();

    let username_error = Signal::derive(move || {
        shown(
            0,
            username.with(|v| Username::parse(v).err().map(|e| e.localized())),
        )
    });
    let email_error = Signal::derive(move || {
        shown(
            1,
            email.with(|v| Email::parse(v).err().map(|e| e.localized())),
        )
    });
    let full_name_error = Signal::derive(move || {
        shown(
            2,
            full_name.with(|v| FullName::parse(v).err().map(|e| e.localized())),
        )
    });
    let password_error = Signal::derive(move || {
        shown(
            3,
            password.with(|v| Password::parse(v).err().map(|e| e.localized())),
        )
    });
    let confirm_error = Signal::derive(move || {
        shown(
            4,
            (confirm.get() != password.get()).then(|| t(Msg::RulesPasswordsDiffer).to_string()),
        )
    });

    let submit = Action::new_local(move |req: &RegisterRequest| calls::register(req.clone()));
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(Some(_))) => after_sign_in(None),
        // The address must be verified before the account signs in.
        Some(Ok(None)) => {
            leptos_router::hooks::use_navigate()("/login?reason=verify-email", Default::default())
        }
        Some(Err(e)) => {
            failure.set(Some((e.message(), e.errors())));
            focus_first_error();
        }
        None => {}
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set([true; 5]);
        let req = RegisterRequest {
            username: username.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            confirm_password: confirm.get_untracked(),
            full_name: full_name.get_untracked(),
        };
        if crate::rules::validate_registration(&req).is_err() {
            failure.set(None);
            focus_first_error();
            return;
        }
        failure.set(None);
        submit.dispatch(req);
    };

    view! {
        <section class="card narrow">
            <h1>{t(Msg::AppRegisterTitle)}</h1>
            // Without the app the browser posts the form to the server.
            <form method="post" action="/register" on:submit=on_submit novalidate>
                <ErrorSummary failure=failure/>
                <TextField id="username" label=t(Msg::AppRegisterUsername) value=username error=username_error autocomplete="username" on_blur=touch(0)/>
                <TextField id="email" label=t(Msg::AppRegisterEmail) value=email error=email_error input_type="email" autocomplete="email" on_blur=touch(1)/>
                <TextField id="fullName" label=t(Msg::AppRegisterFullName) value=full_name error=full_name_error autocomplete="name" on_blur=touch(2)/>
                <PasswordField id="password" label=t(Msg::AppRegisterPassword) value=password error=password_error autocomplete="new-password" on_blur=touch(3)/>
                <PasswordField id="confirmPassword" label=t(Msg::AppRegisterConfirm) value=confirm error=confirm_error autocomplete="new-password" on_blur=touch(4)/>
                <button type="submit" class="button" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { t(Msg::AppRegisterPending) } else { t(Msg::AppRegisterSubmit) }}
                </button>
            </form>
            <p class="aside">{t(Msg::AppRegisterAlready)} " " <A href="/login">{t(Msg::AppRegisterLogIn)}</A></p>
        </section>
    }
}
