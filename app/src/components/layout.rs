//! The frame around every page: header with the mode switch and the user, then the page.

use leptos::prelude::*;
use leptos_router::{components::Outlet, hooks::use_location};

use crate::{
    client::{AuthClient, forms::LogoutButton},
    components::inspector::Inspector,
    i18n::*,
    locale::{self, Locale},
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
    let locale = locale::use_locale();
    view! {
        <Header />
        <main class="page">
            <Outlet />
        </main>
        <Inspector />
        <footer class="footer">
            {td!(locale, common.footer)}
            " "
            <a href="/api/openapi.json">{td!(locale, common.api_link)}</a>
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
    let locale = locale::use_locale();
    let nav = move |page: &'static str, label: &'static str| {
        view! { <a href=mode.path(page)>{label}</a> }
    };
    view! {
        <header class="header">
            <a class="brand" href=mode.path("")>
                "authlab"
            </a>
            <nav class="nav">
                {nav("profile", td_string!(locale, common.nav_profile))}
                {nav("devices", td_string!(locale, common.nav_devices))}
                {nav("lab", td_string!(locale, common.nav_lab))}
                {nav("compare", td_string!(locale, common.nav_compare))}
                {nav("jwt", td_string!(locale, common.nav_jwt))}
                {nav("settings", td_string!(locale, common.nav_settings))}
            </nav>
            <ModeSwitch current=mode path=Signal::derive(move || location.pathname.get()) />
            <LanguageSwitch />
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
                                        <a href=mode.path("login")>{td!(locale, common.log_in)}</a>
                                        <a class="button small" href=mode.path("register")>
                                            {td!(locale, common.register)}
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
    .into_any()
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
    let locale = locale::use_locale();
    view! {
        <div class="mode-switch" role="group" aria-label=td_string!(locale, common.mode_group)>
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
                            {match m {
                                AuthMode::Session => td_string!(locale, common.mode_session),
                                AuthMode::Token => td_string!(locale, common.mode_token),
                            }}
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// English | 한국어: the same page in the other language.
///
/// Plain links (`?lang=`), loaded by the server: the language is chosen where the page is
/// rendered, and the switch works without JavaScript.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let locale = locale::use_locale();
    let location = use_location();
    let current = locale;
    view! {
        <div class="lang-switch" role="group" aria-label=td_string!(locale, common.language_group)>
            {Locale::get_all()
                .iter()
                .copied()
                .map(|l| {
                    let href = move || {
                        locale::switch_href(&location.pathname.get(), l)
                    };
                    view! {
                        <a
                            href=href
                            rel="external"
                            lang=l.as_str()
                            hreflang=l.as_str()
                            class:active=l == current
                            aria-current=if l == current { Some("true") } else { None }
                            data-testid=format!("lang-{}", l.as_str())
                        >
                            {match l {
                                Locale::en => "English",
                                Locale::ko => "한국어",
                            }}
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}
