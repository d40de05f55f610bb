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

use super::{AuthUser, refresh::IssuedRefresh};
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

/// What a token login asks for beyond the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginOptions {
    /// Where the refresh token goes.
    pub delivery: RefreshDelivery,
    /// The scope of every access token of this login (normalised, see `scope::parse`).
    pub scope: &'static str,
    /// Access-token lifetime for this login (lab only); `None` is the configured one.
    pub access_ttl: Option<std::time::Duration>,
}

impl LoginOptions {
    /// Full scope, configured lifetime, refresh token in the body or the cookie.
    pub fn new(delivery: RefreshDelivery) -> Self {
        Self {
            delivery,
            scope: super::scope::FULL,
            access_ttl: None,
        }
    }
}

/// Checks the password and starts a token family.
pub async fn login(
    state: &AppState,
    client: &ClientInfo,
    cookies: Option<&Cookies>,
    creds: Credentials,
    options: LoginOptions,
) -> Result<TokenPair, ApiError> {
    let user = check_password(state, client, creds, "bearer").await?;
    crate::devices::enforce_single_session(state, user.id).await?;
    let now = state.clock.now_ms();
    let issued = state
        .refresh_tokens
        .start_family(
            &state.db,
            user.id,
            client,
            now,
            options.scope,
            options.access_ttl,
        )
        .await?;
    audit::login_succeeded(&state.db, now, user.id, "bearer", &issued.family_id).await;
    let user = AuthUser {
        id: user.id,
        username: user.username,
    };
    pair(state, &user, &issued, cookies, options.delivery)
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
    pair(state, &user, &issued, cookies, delivery)
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
        .ok_or(ApiError::InvalidGrant(
            "no refresh token was sent (in the body or the refresh cookie)",
        ))
}

fn pair(
    state: &AppState,
    user: &AuthUser,
    issued: &IssuedRefresh,
    cookies: Option<&Cookies>,
    delivery: RefreshDelivery,
) -> Result<TokenPair, ApiError> {
    let (access_token, claims) = state.access_tokens.issue(
        user,
        &issued.family_id,
        state.clock.now_secs(),
        issued.access_ttl,
        &issued.scope,
    )?;
    let refresh = issued.token.expose_secret();
    let refresh_token = match (delivery, cookies) {
        (RefreshDelivery::Cookie, Some(cookies)) => {
            // Whole seconds, rounded up: the browser keeps the cookie as long as the server
            // honours the token (which it checks itself, in milliseconds).
            let left_ms = (issued.idle_expires_at - state.clock.now_ms()).max(0);
            let max_age = (left_ms + 999) / 1000;
            cookies.add(refresh_cookie(state, refresh.to_owned(), max_age));
            String::new()
        }
        _ => refresh.to_owned(),
    };
    Ok(TokenPair {
        access_token,
        token_type: "Bearer".into(),
        expires_in: u64::try_from(claims.exp - claims.iat).unwrap_or(0),
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
