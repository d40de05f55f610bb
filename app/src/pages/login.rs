//! The login page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::client::{
    AuthClient,
    forms::{LoginForm, ProviderLanding, ProviderSignIn},
};

/// Log in in the current mode. Query: `next` (where to go after), `registered` (a name just
/// registered), `ended` (a code for why a token login ended), `signin=provider` (token mode,
/// back from the identity provider: pick the tokens up).
///
/// Nothing from the query is printed as it came: anyone can link here with any query, so a
/// name is shown only if it is a valid username, and `ended` selects one of a few fixed
/// sentences.
#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = AuthClient::expect();
    let query = use_query_map();
    let next = Signal::derive(move || query.read().get("next"));
    let registered = move || {
        query.read().get("registered").map(|name| {
            if crate::wire::validate_registration(&name, "a valid password").is_empty() {
                format!("Account {name} created. Log in to continue.")
            } else {
                "Account created. Log in to continue.".to_owned()
            }
        })
    };
    let ended = move || query.read().get("ended").map(|code| ended_reason(&code));
    let landing = move || {
        auth.mode() == crate::mode::AuthMode::Token
            && query.read().get("signin").as_deref() == Some("provider")
    };
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
                .map(|text| {
                    view! {
                        <p class="notice" data-testid="registered">
                            {text}
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
        {move || landing().then(|| view! { <ProviderLanding /> })}
        <LoginForm next />
        <p>
            "No account? " <a href=auth.mode().path("register")>"Register"</a>
        </p>
        <ProviderSignIn />
    }
}

/// The sentence for an `ended` code (see `client::refresher`); unknown codes get a general one.
pub fn ended_reason(code: &str) -> &'static str {
    match code {
        "revoked" => "it was logged out or revoked on another device.",
        "reused" => "a refresh token was used twice, so the server revoked the whole login.",
        "expired" => "it reached the end of its lifetime.",
        _ => "the server refused its refresh token.",
    }
}
