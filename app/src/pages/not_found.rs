//! 404.

use leptos::prelude::*;

use crate::i18n::*;

/// The page for unknown paths (answers with status 404).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let locale = crate::locale::use_locale();
    view! {
        <main class="page">
            <h1>{td!(locale, common.not_found_title)}</h1>
            <p>
                <a href="/session">{td!(locale, common.not_found_back)}</a>
            </p>
        </main>
    }
}
