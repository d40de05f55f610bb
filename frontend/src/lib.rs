//! The hydrate entry point compiled to WebAssembly; nothing else lives here.

// The app's views nest deeply; monomorphising them needs more than the default 128 levels.
#![recursion_limit = "512"]

use wasm_bindgen::JsValue;

/// Called by the generated JS loader once the WASM module is instantiated.
///
/// Hydration is asynchronous: a page on a lazy route (the lab, compare, the JWT decoder, the lab
/// window) first loads its own piece of the WASM, then hydrates.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        // Boxed: the whole app's hydration state is a large future.
        Box::pin(leptos::mount::hydrate_from_async(body, app::App))
            .await
            .forget();
        mark_hydrated();
    });
}

/// Lets end-to-end tests (and curious readers in devtools) know the page is interactive.
fn mark_hydrated() {
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(
            &window,
            &JsValue::from_str("__authlab_hydrated"),
            &JsValue::TRUE,
        );
    }
}
