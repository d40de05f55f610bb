//! Guard for pages that need a logged-in user.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use crate::{client::AuthClient, components::forms::ErrorBox, i18n::*, wire::Me};

/// Shows `children` with the current user, or sends the visitor to the login page.
///
/// ## Server-side rendering
/// Session mode: the server loads the user, so the HTML already contains the page (or a 302
/// to the login page). Token mode: the server renders the loading placeholder, and the
/// browser loads the user after hydration.
#[component]
pub fn RequireUser<C, V>(
    /// Renders the page for the user.
    children: C,
) -> impl IntoView
where
    C: Fn(Me) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let user = auth.user();
    let children = std::sync::Arc::new(children);
    let location = use_location();
    let login = move || {
        format!(
            "{}?next={}",
            auth.mode().path("login"),
            location.pathname.get_untracked()
        )
    };
    view! {
        <Suspense fallback=move || {
            view! {
                <p class="muted" data-testid="loading">
                    {td!(locale, common.loading)}
                </p>
            }
        }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                match user.wait().await {
                    Ok(me) => children(me).into_any(),
                    Err(err) if err.is_unauthenticated() => {
                        view! { <Redirect path=login() /> }.into_any()
                    }
                    Err(err) => view! { <ErrorBox error=err /> }.into_any(),
                }
            })
            }}
        </Suspense>
    }
}
