//! 404.

use leptos::prelude::*;

/// The page for unknown paths (answers with status 404).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="page">
            <h1>"Page not found"</h1>
            <p>
                <a href="/session">"Go to the start page"</a>
            </p>
        </main>
    }
}
