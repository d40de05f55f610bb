//! Settings: where token mode keeps its tokens.

use leptos::prelude::*;

use crate::{
    client::{AuthClient, token_store::StoragePolicy},
    mode::AuthMode,
};

/// Choose the token storage policy (token mode); explains why session mode has none.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let auth = AuthClient::expect();
    match auth.mode() {
        AuthMode::Session => view! {
            <h1>"Settings"</h1>
            <p>
                "Session mode keeps nothing in reach of page scripts: the session cookie is "
                <code>"HttpOnly"</code> ", " <code>"SameSite=Lax"</code> ", "
                <code>"Path=/"</code>
                ", with no Domain, and Secure when served over HTTPS. There is nothing to choose here."
            </p>
            <p>
                "Token mode lets you choose where the browser keeps its tokens: "
                <a href=AuthMode::Token.path("settings")>"token settings"</a> "."
            </p>
        }
        .into_any(),
        AuthMode::Token => view! { <TokenSettings /> }.into_any(),
    }
}

#[component]
fn TokenSettings() -> impl IntoView {
    let auth = AuthClient::expect();
    // The server renders the default; the browser shows the stored choice after hydration.
    let policy = RwSignal::new(StoragePolicy::Hardened);
    Effect::new(move || policy.set(auth.storage_policy()));
    let saved = RwSignal::new(false);
    let choose = move |p: StoragePolicy| {
        if p != policy.get_untracked() {
            auth.set_storage_policy(p);
            policy.set(p);
            saved.set(true);
        }
    };
    view! {
        <h1>"Token storage"</h1>
        <p class="muted">
            "Where this browser keeps the access and refresh tokens. Changing it logs this browser out of token mode."
        </p>
        <fieldset class="policies" data-testid="policies">
            <legend>"Storage policy"</legend>
            {StoragePolicy::ALL
                .into_iter()
                .map(|p| {
                    view! {
                        <label class="policy">
                            <input
                                type="radio"
                                name="policy"
                                value=p.key()
                                data-testid=format!("policy-{}", p.key())
                                prop:checked=move || policy.get() == p
                                on:change=move |_| choose(p)
                            />
                            <strong>{p.label()}</strong>
                            <span class="muted">{p.summary()}</span>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
        {move || {
            saved
                .get()
                .then(|| {
                    view! {
                        <p class="notice" data-testid="policy-saved">
                            {move || format!("Saved: {}. Log in again to use it.", policy.get().label())}
                        </p>
                    }
                })
        }}
    }
}
