//! The registration page.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    client::AuthClient,
    components::forms::{Field, FormError},
    fns::Register,
    wire::limits,
};

/// Create an account (the same in both modes). Works without JavaScript.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = AuthClient::expect();
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
        <h1>"Register"</h1>
        <p class="muted">
            {format!(
                "Usernames: {} to {} letters, digits, '_', '-' or '.'. Passwords: {} to {} characters, any language; they are stored only as an Argon2id hash.",
                limits::USERNAME_MIN,
                limits::USERNAME_MAX,
                limits::PASSWORD_MIN,
                limits::PASSWORD_MAX,
            )}
        </p>
        <ActionForm action attr:class="form" attr:data-testid="register-form">
            <input type="hidden" name="mode" value=auth.mode().segment() />
            <Field label="Username" name="username" autocomplete="username" error />
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                error
            />
            <FormError error />
            <button type="submit" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Creating…" } else { "Create account" }}
            </button>
        </ActionForm>
        <p>
            "Already registered? " <a href=auth.mode().path("login")>"Log in"</a>
        </p>
    }
}
