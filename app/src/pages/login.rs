//! The login page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::client::{AuthClient, forms::LoginForm};

/// Log in in the current mode. Query: `next` (where to go after), `registered` (a name just
/// registered), `ended` (why a token login ended).
#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = AuthClient::expect();
    let query = use_query_map();
    let next = Signal::derive(move || query.read().get("next"));
    let registered = move || query.read().get("registered");
    let ended = move || query.read().get("ended");
    view! {
        <h1>"Log in"</h1>
        <p class="muted">
            {match auth.mode() {
                crate::mode::AuthMode::Session => "A successful login sets an HttpOnly session cookie.",
                crate::mode::AuthMode::Token => "A successful login gives this page an access token and a refresh token.",
            }}
        </p>
        {move || {
            registered()
                .map(|name| {
                    view! {
                        <p class="notice" data-testid="registered">
                            {format!("Account {name} created. Log in to continue.")}
                        </p>
                    }
                })
        }}
        {move || {
            ended()
                .map(|why| {
                    view! {
                        <p class="notice warn" data-testid="ended">
                            {format!("Your login has ended: {why} Please log in again.")}
                        </p>
                    }
                })
        }}
        {move || {
            (next.get().is_some() && ended().is_none())
                .then(|| {
                    view! {
                        <p class="notice" data-testid="login-required">
                            "Please log in to see that page."
                        </p>
                    }
                })
        }}
        <LoginForm next />
        <p>
            "No account? " <a href=auth.mode().path("register")>"Register"</a>
        </p>
    }
}
