//! The auth client's forms: login and logout, one variant per mode.
//!
//! Session mode uses server actions rendered as real HTML forms, so they work before (or
//! without) JavaScript. Token mode needs JavaScript by nature — the browser must keep the
//! tokens — so its form submits through the auth client and is disabled until hydrated.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::hooks::use_navigate;

use crate::{
    client::AuthClient,
    components::forms::{Field, FormError},
    error::AppError,
    fns::{SessionLogin, SessionLogout},
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
            <Field label="Username" name="username" autocomplete="username" error />
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="current-password"
                error
            />
            <FormError error />
            <button type="submit" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Logging in…" } else { "Log in" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn TokenLoginForm(next: Signal<Option<String>>) -> impl IntoView {
    let auth = AuthClient::expect();
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
    view! {
        <noscript>
            <p class="error-box">
                "Token mode needs JavaScript: the browser itself must keep the tokens. "
                "Session mode works without it."
            </p>
        </noscript>
        <form method="post" class="form" data-testid="login-form" on:submit=on_submit>
            <Field
                label="Username"
                name="username"
                autocomplete="username"
                error=error
                value=username
            />
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="current-password"
                error=error
                value=password
            />
            <FormError error=error />
            <button type="submit" disabled=move || pending.get() || !hydrated.get()>
                {move || if pending.get() { "Logging in…" } else { "Log in" }}
            </button>
        </form>
    }
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
                "Log out"
            </button>
        </ActionForm>
    }
}

#[component]
fn TokenLogoutButton() -> impl IntoView {
    let auth = AuthClient::expect();
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
            "Log out"
        </button>
    }
}
