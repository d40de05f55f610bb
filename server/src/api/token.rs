//! `POST /api/token/login`, `/api/token/refresh`, `/api/token/logout`.

use app::wire::{Credentials, RefreshRequest, TokenPair};
use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use tower_cookies::Cookies;

use super::{ApiJson, OptionalJson};
use crate::{
    auth::{
        scope,
        tokens::{LoginOptions, RefreshDelivery},
    },
    client::ClientInfo,
    error::Result,
    state::AppState,
};

/// The login body: credentials, and optionally where the refresh token should go.
#[derive(Debug, Deserialize)]
pub struct TokenLogin {
    #[serde(flatten)]
    pub creds: Credentials,
    /// `true`: set the refresh token as an HttpOnly cookie instead of returning it.
    #[serde(default)]
    refresh_in_cookie: bool,
    /// `read` for a read-only token; default `read write`.
    #[serde(default)]
    scope: Option<String>,
}

impl TokenLogin {
    /// The login options this body asks for.
    pub fn options(&self) -> Result<LoginOptions> {
        let delivery = if self.refresh_in_cookie {
            RefreshDelivery::Cookie
        } else {
            RefreshDelivery::Body
        };
        let mut options = LoginOptions::new(delivery);
        if let Some(requested) = &self.scope {
            options.scope = scope::parse(requested)?;
        }
        Ok(options)
    }
}

/// 200 `{access_token, token_type, expires_in, refresh_token}`.
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    cookies: Cookies,
    ApiJson(body): ApiJson<TokenLogin>,
) -> Result<Json<TokenPair>> {
    let options = body.options()?;
    let pair = state
        .tokens
        .login(&client, Some(&cookies), body.creds, options)
        .await?;
    Ok(Json(pair))
}

/// 200 with the next pair; 401 on reuse, expiry or revocation.
pub async fn refresh(
    State(state): State<AppState>,
    cookies: Cookies,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<Json<TokenPair>> {
    Ok(Json(state.tokens.refresh(Some(&cookies), body).await?))
}

/// 204: the token's family is revoked.
pub async fn logout(
    State(state): State<AppState>,
    cookies: Cookies,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> Result<StatusCode> {
    state.tokens.logout(Some(&cookies), body).await?;
    Ok(StatusCode::NO_CONTENT)
}
