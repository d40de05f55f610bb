//! The hydrate entry point compiled to WebAssembly; nothing else lives here.

// The app's views nest deeply; monomorphising them needs more than the default 128 levels.
#![recursion_limit = "512"]

use wasm_bindgen::JsValue;

/// Called by the generated JS loader once the WASM module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets end-to-end tests (and curious readers in devtools) know the page is interactive.
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(
            &window,
            &JsValue::from_str("__authlab_hydrated"),
            &JsValue::TRUE,
        );
    }
}
