//! Server functions of sign-in with an OpenID Connect provider.

use leptos::{
    prelude::*,
    server_fn::codec::{GetUrl, Json},
};

use crate::{
    client::transport::{AuthedClient, InspectedClient},
    error::AppError,
    wire::{LinkedAccount, ProviderView, TokenPair},
};

/// The identity provider, if this server has one.
#[server(prefix = "/api/fn", endpoint = "provider", input = GetUrl, client = InspectedClient)]
pub async fn provider() -> Result<Option<ProviderView>, AppError> {
    let (port, _) = crate::port::context()?;
    Ok(port.provider().await)
}

/// Starts a sign-in at the provider that ends in `mode` (`session` or `token`) and returns
/// the URL to go to. Without JavaScript (a plain form post) it redirects there itself.
#[server(prefix = "/api/fn", endpoint = "provider_start", client = InspectedClient)]
pub async fn provider_start(mode: String) -> Result<String, AppError> {
    let (port, parts) = crate::port::context()?;
    let url = port
        .provider_start(&parts, parse_mode(&mode)?, false)
        .await?;
    if crate::port::is_form_post(&parts) {
        leptos_axum::redirect(&url);
    }
    Ok(url)
}

/// Starts linking a provider account to the logged-in caller; returns the URL to go to.
#[server(prefix = "/api/fn", endpoint = "provider_link", input = Json, client = AuthedClient)]
pub async fn provider_link(mode: String) -> Result<String, AppError> {
    let (port, parts) = crate::port::context()?;
    port.provider_start(&parts, parse_mode(&mode)?, true).await
}

/// Token mode, after the provider's callback: the token pair for the waiting sign-in (its
/// handoff cookie travels to `/api/token/...` only). With `refresh_in_cookie` the refresh
/// token is set as an HttpOnly cookie and the pair's `refresh_token` is empty.
#[server(prefix = "/api/token/fn", endpoint = "provider_handoff", input = Json, client = InspectedClient)]
pub async fn provider_handoff(refresh_in_cookie: bool) -> Result<TokenPair, AppError> {
    let (port, parts) = crate::port::context()?;
    port.provider_handoff(&parts, refresh_in_cookie).await
}

/// The provider accounts linked to the caller.
#[server(prefix = "/api/fn", endpoint = "linked_accounts", input = GetUrl, client = AuthedClient)]
pub async fn linked_accounts() -> Result<Vec<LinkedAccount>, AppError> {
    let (port, parts) = crate::port::context()?;
    port.linked_accounts(&parts).await
}

#[cfg(feature = "ssr")]
fn parse_mode(mode: &str) -> Result<crate::mode::AuthMode, AppError> {
    crate::mode::AuthMode::ALL
        .into_iter()
        .find(|m| m.segment() == mode)
        .ok_or_else(|| AppError::new(400, "bad_request", "The mode must be `session` or `token`."))
}
