//! The browser entry point: hydrate the HTML the server rendered, nothing else.
// Without type erasure (plain `cargo check`), the future of hydrating the
// whole typed view tree is deeper than the default limit allows.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The signed-in pages are lazy routes: hydrating one waits for its code.
    wasm_bindgen_futures::spawn_local(async {
        // The texts of the page's language first, so hydration renders the
        // words the server did. Without them the page stays as the server
        // rendered it: its forms work without the app.
        if let Err(e) = app::i18n::load_page_language().await {
            leptos::logging::warn!("the page's texts could not be loaded: {e}");
            return;
        }
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App)
            .await
            .forget();
        // A marker for end-to-end tests (and curious people): the page is live.
        let _ = leptos::tachys::dom::body().set_attribute("data-hydrated", "true");
    });
}
