//! Settings: where token mode keeps its tokens.

use leptos::prelude::*;

use crate::{
    client::{AuthClient, token_store::StoragePolicy},
    i18n::*,
    mode::AuthMode,
};

/// Choose the token storage policy (token mode); explains why session mode has none.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    match auth.mode() {
        AuthMode::Session => view! {
            <h1>{td!(locale, account.settings.title)}</h1>
            <p>
                {td!(locale, account.settings.session_cookie_before)}
                <code>"HttpOnly"</code> ", " <code>"SameSite=Lax"</code> ", "
                <code>"Path=/"</code>
                {td!(locale, account.settings.session_cookie_after)}
            </p>
            <p>
                {td!(locale, account.settings.token_mode_before)}
                <a href=AuthMode::Token.path("settings")>
                    {td!(locale, account.settings.token_settings_link)}
                </a>
                {td!(locale, account.settings.token_mode_after)}
            </p>
        }
        .into_any(),
        AuthMode::Token => view! { <TokenSettings /> }.into_any(),
    }
}

#[component]
fn TokenSettings() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
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
        <h1>{td!(locale, account.settings.token_title)}</h1>
        <p class="muted">{td!(locale, account.settings.token_intro)}</p>
        <fieldset class="policies" data-testid="policies">
            <legend>{td!(locale, account.settings.storage_policy)}</legend>
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
                            <strong>{move || p.label_in(locale)}</strong>
                            <span class="muted">{move || p.summary_in(locale)}</span>
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
                            {td!(
                                locale,
                                account.settings.saved,
                                policy_name = move || policy.get().label_in(locale)
                            )}
                        </p>
                    }
                })
        }}
    }
}

lazy_page!(SettingsRoute, SettingsPage);
