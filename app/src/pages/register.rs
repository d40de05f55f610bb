//! The registration page.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    client::AuthClient,
    components::forms::{Field, FormError},
    fns::Register,
    i18n::*,
    wire::limits,
};

/// Create an account (the same in both modes). Works without JavaScript.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = AuthClient::expect();
    let locale = crate::locale::use_locale();
    let action = ServerAction::<Register>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(user)) = action.value().get() {
            let to = format!("{}?registered={}", auth.mode().path("login"), user.username);
            navigate(&to, Default::default());
        }
    });
    view! {
        <h1>{td!(locale, common.register)}</h1>
        <p class="muted">
            {td!(
                locale,
                auth.register.rules,
                username_min = limits::USERNAME_MIN,
                username_max = limits::USERNAME_MAX,
                password_min = limits::PASSWORD_MIN,
                password_max = limits::PASSWORD_MAX
            )}
        </p>
        <ActionForm action attr:class="form" attr:data-testid="register-form">
            <input type="hidden" name="mode" value=auth.mode().segment() />
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
                autocomplete="new-password"
                error
            />
            <FormError error />
            <button type="submit" disabled=move || action.pending().get()>
                {move || {
                    if action.pending().get() {
                        td_string!(locale, auth.register.creating)
                    } else {
                        td_string!(locale, auth.register.create)
                    }
                }}
            </button>
        </ActionForm>
        <p>
            {td!(locale, auth.register.already)} <a href=auth.mode().path("login")>
                {td!(locale, common.log_in)}
            </a>
        </p>
    }
}

lazy_page!(RegisterRoute, RegisterPage);
