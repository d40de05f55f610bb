//! Token-mode flows: login, refresh and logout, each pairing an access token with a refresh
//! token.
//!
//! The refresh token normally travels in the JSON body. Under the client's *hardened* storage
//! policy it travels only in an HttpOnly, `SameSite=Strict` cookie whose `Path` covers just the
//! token endpoints, so page JavaScript (and an injected script) never sees it, and the browser
//! sends it nowhere else.

use app::wire::{Credentials, RefreshRequest, TokenPair};
use secrecy::{ExposeSecret, SecretString};
use time::Duration as CookieDuration;
use tower_cookies::{
    Cookies,
    cookie::{Cookie, SameSite},
};

use super::AuthUser;
use crate::{
    accounts::{self, check_password},
    audit,
    client::ClientInfo,
    error::ApiError,
    state::AppState,
};

/// The refresh cookie's name (hardened policy).
pub const REFRESH_COOKIE: &str = "authlab_refresh";
/// The refresh cookie's path: the token endpoints, JSON API and server functions alike.
pub const REFRESH_COOKIE_PATH: &str = "/api/token";

/// Where the client wants its refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDelivery {
    /// In the JSON body.
    Body,
    /// In an HttpOnly cookie; the body's `refresh_token` is left empty.
    Cookie,
}

/// Checks the password and starts a token family.
pub async fn login(
    state: &AppState,
    client: &ClientInfo,
    cookies: Option<&Cookies>,
    creds: Credentials,
    delivery: RefreshDelivery,
) -> Result<TokenPair, ApiError> {
    let user = check_password(state, client, creds, "bearer").await?;
    let now = state.clock.now_ms();
    let issued = state
        .refresh_tokens
        .start_family(&state.db, user.id, client, now)
        .await?;
    audit::record(
        &state.db,
        now,
        Some(user.id),
        "login_succeeded",
        Some("bearer"),
        &issued.family_id,
    )
    .await;
    tracing::info!(user_id = user.id, family = %issued.family_id, "token login");
    let user = AuthUser {
        id: user.id,
        username: user.username,
    };
    pair(
        state,
        &user,
        &issued.family_id,
        issued.token,
        issued.idle_expires_at,
        cookies,
        delivery,
    )
}

/// Rotates the refresh token from the body or, failing that, the refresh cookie.
pub async fn refresh(
    state: &AppState,
    cookies: Option<&Cookies>,
    body: RefreshRequest,
) -> Result<TokenPair, ApiError> {
    let (token, delivery) = presented(cookies, body)?;
    let now = state.clock.now_ms();
    let result = state
        .refresh_tokens
        .rotate(&state.db, token.expose_secret(), now)
        .await;
    let issued = match result {
        Ok(issued) => issued,
        Err(err) => {
            if delivery == RefreshDelivery::Cookie {
                clear_cookie(state, cookies);
            }
            return Err(err);
        }
    };
    // The access token names the user as they are now (a rename would show up here).
    let user = accounts::find_by_id(&state.db, issued.user_id)
        .await?
        .ok_or(ApiError::InvalidGrant("its user no longer exists"))?;
    let kind = if issued.replayed {
        "refresh_replayed"
    } else {
        "refresh"
    };
    audit::record(
        &state.db,
        now,
        Some(user.id),
        kind,
        Some("bearer"),
        &issued.family_id,
    )
    .await;
    tracing::debug!(user_id = user.id, family = %issued.family_id, kind, "token refresh");
    let user = AuthUser {
        id: user.id,
        username: user.username,
    };
    pair(
        state,
        &user,
        &issued.family_id,
        issued.token,
        issued.idle_expires_at,
        cookies,
        delivery,
    )
}

/// Revokes the family of the presented refresh token. Unknown tokens are ignored (the result
/// is the same: that token cannot be used), as RFC 7009 does for revocation.
pub async fn logout(
    state: &AppState,
    cookies: Option<&Cookies>,
    body: RefreshRequest,
) -> Result<(), ApiError> {
    let (token, delivery) = presented(cookies, body)?;
    if delivery == RefreshDelivery::Cookie {
        clear_cookie(state, cookies);
    }
    let now = state.clock.now_ms();
    if let Some((family, user_id)) = state
        .refresh_tokens
        .family_of(&state.db, token.expose_secret())
        .await?
        && state
            .refresh_tokens
            .revoke_family(&state.db, None, &family, "logout", now)
            .await?
    {
        audit::record(
            &state.db,
            now,
            Some(user_id),
            "logout",
            Some("bearer"),
            &family,
        )
        .await;
        tracing::info!(user_id, family = %family, "token logout");
    }
    Ok(())
}

fn presented(
    cookies: Option<&Cookies>,
    body: RefreshRequest,
) -> Result<(SecretString, RefreshDelivery), ApiError> {
    if let Some(token) = body.refresh_token.filter(|t| !t.is_empty()) {
        return Ok((SecretString::from(token), RefreshDelivery::Body));
    }
    cookies
        .and_then(|c| c.get(REFRESH_COOKIE))
        .map(|c| {
            (
                SecretString::from(c.value().to_owned()),
                RefreshDelivery::Cookie,
            )
        })
        .ok_or_else(|| {
            ApiError::BadRequest("send `refresh_token` in the body (or the refresh cookie)".into())
        })
}

fn pair(
    state: &AppState,
    user: &AuthUser,
    family_id: &str,
    refresh: SecretString,
    refresh_expires_at: i64,
    cookies: Option<&Cookies>,
    delivery: RefreshDelivery,
) -> Result<TokenPair, ApiError> {
    let (access_token, _) = state
        .access_tokens
        .issue(user, family_id, state.clock.now_secs())?;
    let refresh_token = match (delivery, cookies) {
        (RefreshDelivery::Cookie, Some(cookies)) => {
            let max_age = (refresh_expires_at - state.clock.now_ms()).max(0) / 1000;
            cookies.add(refresh_cookie(
                state,
                refresh.expose_secret().to_owned(),
                max_age,
            ));
            String::new()
        }
        _ => refresh.expose_secret().to_owned(),
    };
    Ok(TokenPair {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.access_tokens.ttl().as_secs(),
        refresh_token,
    })
}

fn refresh_cookie(state: &AppState, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.session.cookie_secure)
        .path(REFRESH_COOKIE_PATH)
        .max_age(CookieDuration::seconds(max_age_secs))
        .build()
}

fn clear_cookie(state: &AppState, cookies: Option<&Cookies>) {
    if let Some(cookies) = cookies {
        cookies.add(refresh_cookie(state, String::new(), 0));
    }
}
