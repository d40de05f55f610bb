//! The auth client's forms: login and logout, one variant per mode.
//!
//! Session mode uses server actions rendered as real HTML forms, so they work before (or
//! without) JavaScript. Token mode needs JavaScript by nature — the browser must keep the
//! tokens — so its form submits through the auth client and is disabled until hydrated.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_navigate;

use crate::{
    client::AuthClient,
    components::forms::{ErrorBox, Field, FormError},
    error::AppError,
    fns::{SessionLogin, SessionLogout},
    i18n::*,
    mode::{AuthMode, safe_next},
};

/// Username + password login for the current mode; on success goes to `next`.
#[component]
pub fn LoginForm(
    /// Local path to go to after login.
    #[prop(into)]
    next: Signal<Option<String>>,
) -> impl IntoView {
    let auth = AuthClient::expect();
    match auth.mode() {
        AuthMode::Session => view! { <SessionLoginForm next /> }.into_any(),
        AuthMode::Token => view! { <TokenLoginForm next /> }.into_any(),
    }
}

fn destination(auth: AuthClient, next: Option<String>) -> String {
    safe_next(next.as_deref(), &auth.mode().path("profile"))
}

#[component]
fn SessionLoginForm(next: Signal<Option<String>>) -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let action = ServerAction::<SessionLogin>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(_)) = action.value().get() {
            auth.changed();
            navigate(&destination(auth, next.get_untracked()), Default::default());
        }
    });
    view! {
        <ActionForm action attr:class="form" attr:data-testid="login-form">
            <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
            <Field
                label=td_string!(locale, auth.username)
                name="username"
                autocomplete="username"
                error
            />
            <Field
                label=td_string!(locale, auth.password)
                name="password"
                kind="password"
                autocomplete="current-password"
                error
            />
            <FormError error />
            <button type="submit" disabled=move || action.pending().get()>
                {move || {
                    if action.pending().get() {
                        td_string!(locale, auth.forms.logging_in)
                    } else {
                        td_string!(locale, common.log_in)
                    }
                }}
            </button>
        </ActionForm>
    }
}

#[component]
fn TokenLoginForm(next: Signal<Option<String>>) -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    // Effects run only in the browser: until then the form cannot be used.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        pending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match auth
                .login(username.get_untracked(), password.get_untracked())
                .await
            {
                Ok(_) => navigate(&destination(auth, next.get_untracked()), Default::default()),
                Err(err) => error.set(Some(err)),
            }
            pending.set(false);
        });
    };
    // A browser running scripts reads a <noscript>'s content as text, so it has nothing to
    // hydrate: the paragraph is given as HTML.
    let noscript = format!(
        r#"<p class="error-box">{}</p>"#,
        escape_html(td_string!(locale, auth.forms.token_needs_javascript))
    );
    view! {
        <noscript inner_html=noscript></noscript>
        <form method="post" class="form" data-testid="login-form" on:submit=on_submit>
            <Field
                label=td_string!(locale, auth.username)
                name="username"
                autocomplete="username"
                error=error
                value=username
            />
            <Field
                label=td_string!(locale, auth.password)
                name="password"
                kind="password"
                autocomplete="current-password"
                error=error
                value=password
            />
            <FormError error=error />
            <button type="submit" disabled=move || pending.get() || !hydrated.get()>
                {move || {
                    if pending.get() {
                        td_string!(locale, auth.forms.logging_in)
                    } else {
                        td_string!(locale, common.log_in)
                    }
                }}
            </button>
        </form>
    }
}

/// `text` safe to put between HTML tags.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Logs out in the current mode, then shows the login page.
#[component]
pub fn LogoutButton() -> impl IntoView {
    let auth = AuthClient::expect();
    match auth.mode() {
        AuthMode::Session => view! { <SessionLogoutButton /> }.into_any(),
        AuthMode::Token => view! { <TokenLogoutButton /> }.into_any(),
    }
}

#[component]
fn SessionLogoutButton() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let action = ServerAction::<SessionLogout>::new();
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(())) = action.value().get() {
            auth.changed();
            navigate(&auth.mode().path("login"), Default::default());
        }
    });
    view! {
        <ActionForm action attr:class="inline">
            <button type="submit" class="link" data-testid="logout">
                {td!(locale, auth.forms.log_out)}
            </button>
        </ActionForm>
    }
}

#[component]
fn TokenLogoutButton() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let navigate = use_navigate();
    let on_click = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            // Even if the server call fails the tokens are gone from this tab.
            let _ = auth.logout().await;
            navigate(&auth.mode().path("login"), Default::default());
        });
    };
    view! {
        <button type="button" class="link" data-testid="logout" on:click=on_click>
            {td!(locale, auth.forms.log_out)}
        </button>
    }
}

/// Sends the browser to `url` (a provider's page); nothing on the server.
fn go_to(url: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// "Sign in with …": the authorization code flow at the identity provider, ending in this
/// mode. Without JavaScript it is a plain form post that redirects to the provider (session
/// mode then works end to end); with it, the client asks for the URL and goes there.
/// When the server has no provider, it says so instead.
#[component]
pub fn ProviderSignIn() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let provider = Resource::new(|| (), |_| crate::fns::provider::provider());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match auth.provider_sign_in().await {
                Ok(url) => go_to(&url),
                Err(err) => {
                    error.set(Some(err));
                    pending.set(false);
                }
            }
        });
    };
    let mode = auth.mode().segment();
    view! {
        <section class="panel" data-testid="provider-signin">
            <h2>{td!(locale, auth.provider.title)}</h2>
            <Suspense fallback=|| ()>
                {move || {
                    provider
                        .get()
                        .map(|found| match found {
                            Ok(Some(p)) => {
                                view! {
                                    <form
                                        method="post"
                                        action="/api/fn/provider_start"
                                        class="inline"
                                        on:submit=on_submit
                                    >
                                        <input type="hidden" name="mode" value=mode />
                                        <button
                                            type="submit"
                                            data-testid="provider-button"
                                            disabled=move || pending.get()
                                        >
                                            {crate::lab::fill_placeholders(
                                                td_string!(locale, auth.provider.sign_in_with),
                                                &[("name", &p.name)],
                                            )}
                                        </button>
                                    </form>
                                    <FormError error=error />
                                    <p class="muted">
                                        {td!(locale, auth.provider.note_before)}
                                        {if mode == "session" {
                                            td_string!(locale, auth.provider.note_session_cookie)
                                        } else {
                                            td_string!(locale, auth.provider.note_token_pair)
                                        }}
                                        {td!(locale, auth.provider.note_middle)}
                                        <a
                                            href=format!("/auth/oidc/logout?mode={mode}")
                                            rel="external"
                                            data-testid="provider-logout"
                                        >
                                            {td!(locale, auth.provider.note_sign_out)}
                                        </a>
                                        {td!(locale, auth.provider.note_after)}
                                    </p>
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <p class="muted" data-testid="provider-missing">
                                        {td!(locale, auth.provider.missing)}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// Token mode, back from the provider (`?signin=provider`): picks the tokens up and goes to
/// the profile. Session mode was logged in by the callback itself.
#[component]
pub fn ProviderLanding() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let error = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    // Effects run only in the browser, where the tokens are kept.
    Effect::new(move || {
        let navigate = navigate.clone();
        spawn_local(async move {
            match auth.finish_provider_sign_in().await {
                Ok(()) => navigate(&auth.mode().path("profile"), Default::default()),
                Err(err) => error.set(Some(err)),
            }
        });
    });
    view! {
        <p class="notice" data-testid="provider-landing">
            {td!(locale, auth.provider.landing)}
        </p>
        <FormError error=error />
    }
}

/// The provider accounts linked to the user, and a button to link one.
#[component]
pub fn LinkedAccounts() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let provider = Resource::new(|| (), |_| crate::fns::provider::provider());
    let links = auth.load(crate::fns::provider::linked_accounts);
    let error = RwSignal::new(None::<AppError>);
    let link = move |_| {
        error.set(None);
        spawn_local(async move {
            match auth.provider_link().await {
                Ok(url) => go_to(&url),
                Err(err) => error.set(Some(err)),
            }
        });
    };
    view! {
        <section class="panel" data-testid="linked-accounts">
            <h2>{td!(locale, auth.linked.title)}</h2>
            <Suspense fallback=move || view! { <p class="muted">{td!(locale, common.loading)}</p> }>
                {move || {
                    links
                        .get()
                        .map(|found| match found {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="muted">{td!(locale, auth.linked.none)}</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <ul>
                                        {list
                                            .into_iter()
                                            .map(|a| {
                                                view! {
                                                    <li data-testid="linked-account">
                                                        <code>{a.issuer}</code>
                                                        {(!a.email.is_empty())
                                                            .then(|| format!(" ({})", a.email))}
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(err) => view! { <ErrorBox error=err /> }.into_any(),
                        })
                }}
                {move || {
                    provider
                        .get()
                        .and_then(Result::ok)
                        .flatten()
                        .map(|p| {
                            view! {
                                <button type="button" data-testid="provider-link" on:click=link>
                                    {td!(locale, auth.linked.link_at, name = p.name.clone())}
                                </button>
                            }
                        })
                }}
            </Suspense>
            <FormError error=error />
        </section>
    }
}
