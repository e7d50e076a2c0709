//! Form fields with labels, inline errors and (for passwords) show/hide.

use leptos::prelude::*;

use crate::i18n::{t, Msg};

/// The input of a field: bound to `value`, marked invalid and described by
/// its error line while `error` holds a message.
fn bound_input(
    id: &'static str,
    name: &'static str,
    input_type: impl Fn() -> &'static str + Send + Sync + 'static,
    autocomplete: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    on_blur: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <input
            id=id
            name=name
            type=input_type
            autocomplete=autocomplete
            // The attribute carries the first value into the server's HTML
            // (a form the server sent back); the property follows typing.
            value=value.get_untracked()
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
            on:blur=move |_| {
                if let Some(cb) = on_blur {
                    cb.run(())
                }
            }
            aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
            aria-describedby=format!("{id}-error")
        />
    }
}

/// The line under a field where its rule or error shows.
fn error_line(id: &'static str, error: Signal<Option<String>>) -> impl IntoView {
    view! { <p class="field-error" id=format!("{id}-error")>{move || error.get()}</p> }
}

/// A labelled input. `error` is shown under it and marks it invalid.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    /// The name the form posts it under, when it differs from `id`.
    #[prop(optional)]
    name: Option<&'static str>,
    /// Called when the field loses focus (to start showing its rule).
    #[prop(optional)]
    on_blur: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {bound_input(id, name.unwrap_or(id), move || input_type, autocomplete, value, error, on_blur)}
            {error_line(id, error)}
        </div>
    }
}

/// A password input with a show/hide toggle.
#[component]
pub fn PasswordField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "current-password")] autocomplete: &'static str,
    /// The name the form posts it under, when it differs from `id`.
    #[prop(optional)]
    name: Option<&'static str>,
    #[prop(optional)] on_blur: Option<Callback<()>>,
) -> impl IntoView {
    let visible = RwSignal::new(false);
    let input_type = move || if visible.get() { "text" } else { "password" };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="password">
                {bound_input(id, name.unwrap_or(id), input_type, autocomplete, value, error, on_blur)}
                <button
                    type="button"
                    class="toggle"
                    aria-controls=id
                    aria-pressed=move || visible.get().to_string()
                    on:click=move |_| visible.update(|v| *v = !*v)
                >
                    {move || if visible.get() { t(Msg::AppFieldHide) } else { t(Msg::AppFieldShow) }}
                </button>
            </div>
            {error_line(id, error)}
        </div>
    }
}

/// The server's answer to a failed submit: its message and every error.
#[component]
pub fn ErrorSummary(#[prop(into)] failure: Signal<Option<(String, Vec<String>)>>) -> impl IntoView {
    move || {
        failure.get().map(|(message, errors)| {
            view! {
                <div class="form-errors" role="alert" tabindex="-1">
                    <p>{message}</p>
                    <ul>{errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
                </div>
            }
        })
    }
}

/// Moves focus to the first invalid field, or else to the error summary.
pub fn focus_first_error() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        // After the DOM shows the new errors.
        request_animation_frame(|| {
            let Some(document) = web_sys::window().and_then(|w| w.document()) else {
                return;
            };
            let target = document
                .query_selector("form [aria-invalid='true']")
                .ok()
                .flatten()
                .or_else(|| document.query_selector(".form-errors").ok().flatten());
            if let Some(element) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = element.focus();
            }
        });
    }
}
