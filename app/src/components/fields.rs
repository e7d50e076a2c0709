//! Form fields with labels, inline errors and (for passwords) show/hide.

use leptos::prelude::*;

/// A labelled input. `error` is shown under it and marks it invalid.
#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    /// Called when the field loses focus (to start showing its rule).
    #[prop(optional)]
    on_blur: Option<Callback<()>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=input_type
                autocomplete=autocomplete
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:blur=move |_| {
                    if let Some(cb) = on_blur {
                        cb.run(())
                    }
                }
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            <p class="field-error" id=error_id>{move || error.get()}</p>
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
    #[prop(optional)] on_blur: Option<Callback<()>>,
) -> impl IntoView {
    let visible = RwSignal::new(false);
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="password">
                <input
                    id=id
                    name=id
                    type=move || if visible.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    on:blur=move |_| {
                        if let Some(cb) = on_blur {
                            cb.run(())
                        }
                    }
                    aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                    aria-describedby=error_id.clone()
                />
                <button
                    type="button"
                    class="toggle"
                    aria-controls=id
                    aria-pressed=move || visible.get().to_string()
                    on:click=move |_| visible.update(|v| *v = !*v)
                >
                    {move || if visible.get() { "Hide" } else { "Show" }}
                </button>
            </div>
            <p class="field-error" id=error_id>{move || error.get()}</p>
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
