//! The frame around every page: header with the mode switch and the user, then the page.

use leptos::prelude::*;
use leptos_router::{components::Outlet, hooks::use_location};

use crate::{
    client::{AuthClient, forms::LogoutButton},
    components::inspector::Inspector,
    mode::AuthMode,
};

/// Provides the auth client for `mode` and frames the page.
///
/// ## Server-side rendering
/// In session mode the header already names the user in the server's HTML; in token mode it
/// shows a placeholder until the browser has loaded the user.
#[component]
pub fn ModeLayout(
    /// The mode of every page below.
    mode: AuthMode,
) -> impl IntoView {
    AuthClient::provide(mode);
    view! {
        <Header />
        <main class="page">
            <Outlet />
        </main>
        <Inspector />
        <footer class="footer">
            "authlab — cookie sessions and bearer tokens, side by side. "
            <a href="/api/openapi.json">"API (OpenAPI)"</a>
        </footer>
    }
}

/// The top bar: brand, navigation, mode switch, and who is logged in.
#[component]
pub fn Header() -> impl IntoView {
    let auth = AuthClient::expect();
    let mode = auth.mode();
    let location = use_location();
    let user = auth.user();
    let nav = move |page: &'static str, label: &'static str| {
        view! { <a href=mode.path(page)>{label}</a> }
    };
    view! {
        <header class="header">
            <a class="brand" href=mode.path("")>
                "authlab"
            </a>
            <nav class="nav">
                {nav("profile", "Profile")}
                {nav("devices", "Devices")}
                {nav("lab", "Lab")}
                {nav("compare", "Compare")}
                {nav("jwt", "JWT")}
                {nav("settings", "Settings")}
            </nav>
            <ModeSwitch current=mode path=Signal::derive(move || location.pathname.get()) />
            <div class="who" data-testid="who">
                <Transition fallback=|| view! { <span class="muted">"…"</span> }>
                    {move || {
                        user.get()
                            .map(|result| match result {
                                Ok(me) => {
                                    view! {
                                        <span class="user" data-testid="current-user">
                                            {me.user.username}
                                        </span>
                                        <LogoutButton />
                                    }
                                        .into_any()
                                }
                                Err(_) => {
                                    view! {
                                        <a href=mode.path("login")>"Log in"</a>
                                        <a class="button small" href=mode.path("register")>
                                            "Register"
                                        </a>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
            </div>
        </header>
    }
}

/// Session | Token: the same page in the other mode.
#[component]
pub fn ModeSwitch(
    /// The mode shown now.
    current: AuthMode,
    /// The current path, kept when switching.
    #[prop(into)]
    path: Signal<String>,
) -> impl IntoView {
    view! {
        <div class="mode-switch" role="group" aria-label="Auth mode">
            {AuthMode::ALL
                .into_iter()
                .map(|m| {
                    let href = move || m.switch_path(&path.get());
                    view! {
                        <a
                            href=href
                            class:active=m == current
                            aria-current=if m == current { Some("page") } else { None }
                            data-testid=format!("mode-{}", m.segment())
                        >
                            {m.label()}
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}
