//! The login page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    client::{
        AuthClient,
        forms::{LoginForm, ProviderLanding, ProviderSignIn},
    },
    i18n::*,
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
    let locale = crate::locale::use_locale();
    let query = use_query_map();
    let next = Signal::derive(move || query.read().get("next"));
    // `Some(Some(name))`: a valid name to show; `Some(None)`: an account was created.
    let registered = move || {
        query.read().get("registered").map(|name| {
            crate::wire::validate_registration(&name, "a valid password")
                .is_empty()
                .then_some(name)
        })
    };
    let ended = move || {
        query
            .read()
            .get("ended")
            .map(|code| ended_reason(locale, &code))
    };
    let landing = move || {
        auth.mode() == crate::mode::AuthMode::Token
            && query.read().get("signin").as_deref() == Some("provider")
    };
    view! {
        <h1>{td!(locale, common.log_in)}</h1>
        <p class="muted">
            {match auth.mode() {
                crate::mode::AuthMode::Session => td_string!(locale, auth.login.hint_session),
                crate::mode::AuthMode::Token => td_string!(locale, auth.login.hint_token),
            }}
        </p>
        {move || {
            registered()
                .map(|name| {
                    view! {
                        <p class="notice" data-testid="registered">
                            {match name {
                                Some(name) => {
                                    td!(locale, auth.login.registered_named, name).into_any()
                                }
                                None => td!(locale, auth.login.registered).into_any(),
                            }}
                        </p>
                    }
                })
        }}
        {move || {
            ended()
                .map(|why| {
                    view! {
                        <p class="notice warn" data-testid="ended">
                            {td!(locale, auth.login.ended, why)}
                        </p>
                    }
                })
        }}
        {move || {
            (next.get().is_some() && ended().is_none())
                .then(|| {
                    view! {
                        <p class="notice" data-testid="login-required">
                            {td!(locale, auth.login.required)}
                        </p>
                    }
                })
        }}
        {move || landing().then(|| view! { <ProviderLanding /> })}
        <LoginForm next />
        <p>
            {td!(locale, auth.login.no_account)} <a href=auth.mode().path("register")>
                {td!(locale, common.register)}
            </a>
        </p>
        <ProviderSignIn />
    }
}

/// The sentence, in `locale`, for an `ended` code (see `client::refresher`); unknown codes get
/// a general one.
pub fn ended_reason(locale: Locale, code: &str) -> &'static str {
    match code {
        "revoked" => td_string!(locale, auth.login.ended_revoked),
        "reused" => td_string!(locale, auth.login.ended_reused),
        "expired" => td_string!(locale, auth.login.ended_expired),
        _ => td_string!(locale, auth.login.ended_refused),
    }
}
