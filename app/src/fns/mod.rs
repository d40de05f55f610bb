//! The server functions the UI calls. Each one reads the request, calls the server's
//! [`AuthPort`](crate::port::AuthPort), and returns its result or its error.
//!
//! Calls that need the caller's identity use [`AuthedClient`], which attaches the bearer token
//! in token mode (in session mode the browser sends the cookie by itself). Form-style functions
//! (`PostUrl`, the default) work as plain HTML forms, so register and session login work with
//! JavaScript disabled.

pub mod lab;
pub mod provider;

use leptos::{
    prelude::*,
    server_fn::codec::{GetUrl, Json},
};

use crate::{
    client::transport::{AuthedClient, InspectedClient},
    error::AppError,
    wire::{DeviceList, Me, Note, NoteList, Revoked, TokenPair, UserView},
};

#[cfg(feature = "ssr")]
use crate::wire::{Credentials, RefreshRequest};

/// Creates an account. Without JavaScript, redirects to the login page of `mode`.
#[server(prefix = "/api/fn", endpoint = "register", client = InspectedClient)]
pub async fn register(
    username: String,
    password: String,
    mode: Option<String>,
) -> Result<UserView, AppError> {
    let (port, parts) = crate::port::context()?;
    let user = port
        .register(&parts, Credentials { username, password })
        .await?;
    if crate::port::is_form_post(&parts) {
        let mode = crate::mode::AuthMode::ALL
            .into_iter()
            .find(|m| Some(m.segment()) == mode.as_deref())
            .unwrap_or(crate::mode::AuthMode::Session);
        leptos_axum::redirect(&format!(
            "{}?registered={}",
            mode.path("login"),
            user.username
        ));
    }
    Ok(user)
}

/// Logs in with a cookie session. Without JavaScript, redirects to `next` (a local path).
#[server(prefix = "/api/fn", endpoint = "session_login", client = InspectedClient)]
pub async fn session_login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<UserView, AppError> {
    let (port, parts) = crate::port::context()?;
    let user = port
        .session_login(&parts, Credentials { username, password })
        .await?;
    if crate::port::is_form_post(&parts) {
        let fallback = crate::mode::AuthMode::Session.path("profile");
        leptos_axum::redirect(&crate::mode::safe_next(next.as_deref(), &fallback));
    }
    Ok(user)
}

/// Ends the cookie session. Without JavaScript, redirects to the session home page.
#[server(prefix = "/api/fn", endpoint = "session_logout", client = InspectedClient)]
pub async fn session_logout() -> Result<(), AppError> {
    let (port, parts) = crate::port::context()?;
    port.session_logout(&parts).await?;
    if crate::port::is_form_post(&parts) {
        leptos_axum::redirect(&crate::mode::AuthMode::Session.path("login"));
    }
    Ok(())
}

/// Logs in for tokens. With `refresh_in_cookie` the refresh token is set as an HttpOnly cookie
/// (path `/api/token`) and the returned pair's `refresh_token` is empty.
#[server(prefix = "/api/token/fn", endpoint = "login", input = Json, client = InspectedClient)]
pub async fn token_login(
    username: String,
    password: String,
    refresh_in_cookie: bool,
) -> Result<TokenPair, AppError> {
    let (port, parts) = crate::port::context()?;
    port.token_login(
        &parts,
        Credentials { username, password },
        refresh_in_cookie,
    )
    .await
}

/// Rotates a refresh token (from the argument, or the refresh cookie when it is `None`).
#[server(prefix = "/api/token/fn", endpoint = "refresh", input = Json, client = InspectedClient)]
pub async fn token_refresh(refresh_token: Option<String>) -> Result<TokenPair, AppError> {
    let (port, parts) = crate::port::context()?;
    port.token_refresh(&parts, RefreshRequest { refresh_token })
        .await
}

/// Revokes the refresh-token family (from the argument, or the refresh cookie).
#[server(prefix = "/api/token/fn", endpoint = "logout", input = Json, client = InspectedClient)]
pub async fn token_logout(refresh_token: Option<String>) -> Result<(), AppError> {
    let (port, parts) = crate::port::context()?;
    port.token_logout(&parts, RefreshRequest { refresh_token })
        .await
}

/// The current user and how they were authenticated.
#[server(prefix = "/api/fn", endpoint = "me", input = GetUrl, client = AuthedClient)]
pub async fn current_user() -> Result<Me, AppError> {
    let (port, parts) = crate::port::context()?;
    port.me(&parts).await
}

/// The caller's devices.
#[server(prefix = "/api/fn", endpoint = "devices", input = GetUrl, client = AuthedClient)]
pub async fn devices() -> Result<DeviceList, AppError> {
    let (port, parts) = crate::port::context()?;
    port.devices(&parts).await
}

/// Ends one of the caller's devices.
#[server(prefix = "/api/fn", endpoint = "revoke_device", client = AuthedClient)]
pub async fn revoke_device(id: String) -> Result<(), AppError> {
    let (port, parts) = crate::port::context()?;
    port.revoke_device(&parts, id).await
}

/// Ends every other device of the caller.
#[server(prefix = "/api/fn", endpoint = "revoke_other_devices", client = AuthedClient)]
pub async fn revoke_other_devices() -> Result<Revoked, AppError> {
    let (port, parts) = crate::port::context()?;
    port.revoke_other_devices(&parts).await
}

/// Ends every device of the caller, this one included.
#[server(prefix = "/api/fn", endpoint = "logout_everywhere", client = AuthedClient)]
pub async fn logout_everywhere() -> Result<Revoked, AppError> {
    let (port, parts) = crate::port::context()?;
    port.logout_everywhere(&parts).await
}

/// The caller's latest notes.
#[server(prefix = "/api/fn", endpoint = "notes", input = GetUrl, client = AuthedClient)]
pub async fn list_notes() -> Result<NoteList, AppError> {
    let (port, parts) = crate::port::context()?;
    port.list_notes(&parts).await
}

/// Writes a note as the caller. A plain form post works too — which is exactly what the lab's
/// CSRF experiment exploits from another origin, and what the CSRF defences stop.
#[server(prefix = "/api/fn", endpoint = "add_note", client = AuthedClient)]
pub async fn add_note(text: String) -> Result<Note, AppError> {
    let (port, parts) = crate::port::context()?;
    port.add_note(&parts, text).await
}
