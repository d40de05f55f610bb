//! Token-mode flows: login, refresh and logout, each pairing an access token with a refresh
//! token.
//!
//! The refresh token normally travels in the JSON body. Under the client's *hardened* storage
//! policy it travels only in an HttpOnly, `SameSite=Strict` cookie whose `Path` covers just the
//! token endpoints, so page JavaScript (and an injected script) never sees it, and the browser
//! sends it nowhere else.

use std::sync::Arc;

use app::wire::{Credentials, RefreshRequest, TokenPair};
use secrecy::{ExposeSecret, SecretString};
use time::Duration as CookieDuration;
use tower_cookies::{
    Cookies,
    cookie::{Cookie, SameSite},
};

use super::{
    AuthUser,
    bearer::AccessTokens,
    refresh::{IssuedRefresh, RefreshTokens},
};
use crate::{
    accounts::Accounts,
    audit::Audit,
    client::ClientInfo,
    clock::Clock,
    devices::Devices,
    error::ApiError,
    store::{AuditKind, AuthMode, LoginMethod, RevokeReason, User},
};

/// The refresh cookie's name (hardened policy) over plain http (local development).
pub const REFRESH_COOKIE: &str = "authlab_refresh";
/// Its name when it is `Secure`: the `__Secure-` prefix makes browsers refuse it unless it
/// came over https with `Secure`, so a network attacker cannot plant one over http.
pub const SECURE_REFRESH_COOKIE: &str = "__Secure-authlab_refresh";

/// The refresh cookie's name for a server whose cookies are (or are not) `Secure`.
pub fn refresh_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_REFRESH_COOKIE
    } else {
        REFRESH_COOKIE
    }
}
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
    /// How the user proved who they are (shown in the devices list).
    pub method: LoginMethod,
}

impl LoginOptions {
    /// Full scope, configured lifetime, refresh token in the body or the cookie.
    pub fn new(delivery: RefreshDelivery) -> Self {
        Self {
            delivery,
            scope: super::scope::FULL,
            access_ttl: None,
            method: LoginMethod::Password,
        }
    }
}

/// Token logins, refreshes and logouts.
#[derive(Clone)]
pub struct Tokens {
    accounts: Accounts,
    devices: Devices,
    refresh: Arc<RefreshTokens>,
    access: Arc<AccessTokens>,
    audit: Audit,
    clock: Arc<dyn Clock>,
    cookie_secure: bool,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    /// The flows over their pieces; `cookie_secure` marks the refresh cookie `Secure`.
    pub fn new(
        accounts: Accounts,
        devices: Devices,
        refresh: Arc<RefreshTokens>,
        access: Arc<AccessTokens>,
        audit: Audit,
        clock: Arc<dyn Clock>,
        cookie_secure: bool,
    ) -> Self {
        Self {
            accounts,
            devices,
            refresh,
            access,
            audit,
            clock,
            cookie_secure,
        }
    }

    /// Checks the password and starts a token family.
    pub async fn login(
        &self,
        client: &ClientInfo,
        cookies: Option<&Cookies>,
        creds: Credentials,
        options: LoginOptions,
    ) -> Result<TokenPair, ApiError> {
        let user = self
            .accounts
            .check_password(client, creds, AuthMode::Bearer)
            .await?;
        self.issue(&user, client, cookies, options).await
    }

    /// Starts a token family for a user who has proved who they are (by password, or at a
    /// provider) and returns its first pair.
    pub async fn issue(
        &self,
        user: &User,
        client: &ClientInfo,
        cookies: Option<&Cookies>,
        options: LoginOptions,
    ) -> Result<TokenPair, ApiError> {
        self.devices.enforce_single_session(user.id).await?;
        let now = self.clock.now_ms();
        let issued = self
            .refresh
            .start_family(
                user.id,
                client,
                now,
                options.scope,
                options.access_ttl,
                options.method,
            )
            .await?;
        self.audit
            .login_succeeded(now, user.id, AuthMode::Bearer, &issued.family_id)
            .await;
        self.pair(&user.clone().into(), &issued, cookies, options.delivery)
    }

    /// Rotates the refresh token from the body or, failing that, the refresh cookie.
    pub async fn refresh(
        &self,
        cookies: Option<&Cookies>,
        body: RefreshRequest,
    ) -> Result<TokenPair, ApiError> {
        let (token, delivery) = self.presented(cookies, body)?;
        let now = self.clock.now_ms();
        let issued = match self.refresh.rotate(token.expose_secret(), now).await {
            Ok(issued) => issued,
            Err(err) => {
                // Only a refused token is worth forgetting. A busy or failing server (503,
                // 500) says nothing about the token: the browser keeps it and tries again.
                if delivery == RefreshDelivery::Cookie && matches!(err, ApiError::InvalidGrant(_)) {
                    self.clear_cookie(cookies);
                }
                return Err(err);
            }
        };
        // The access token names the user as they are now (a rename would show up here).
        let user = self
            .accounts
            .find_by_id(issued.user_id)
            .await?
            .ok_or(ApiError::InvalidGrant("its user no longer exists"))?;
        let kind = if issued.replayed {
            AuditKind::RefreshReplayed
        } else {
            AuditKind::Refresh
        };
        self.audit
            .record(
                now,
                Some(user.id),
                kind,
                Some(AuthMode::Bearer),
                &issued.family_id,
            )
            .await;
        tracing::debug!(user_id = user.id, family = %issued.family_id, kind = kind.as_str(), "token refresh");
        self.pair(&user.into(), &issued, cookies, delivery)
    }

    /// Revokes the family of the presented refresh token. Unknown tokens are ignored (the
    /// result is the same: that token cannot be used), as RFC 7009 does for revocation.
    pub async fn logout(
        &self,
        cookies: Option<&Cookies>,
        body: RefreshRequest,
    ) -> Result<(), ApiError> {
        let (token, delivery) = self.presented(cookies, body)?;
        if delivery == RefreshDelivery::Cookie {
            self.clear_cookie(cookies);
        }
        let now = self.clock.now_ms();
        if let Some((family, user_id)) = self.refresh.family_of(token.expose_secret()).await?
            && self
                .refresh
                .revoke_family(None, &family, RevokeReason::Logout, now)
                .await?
        {
            self.audit
                .record(
                    now,
                    Some(user_id),
                    AuditKind::Logout,
                    Some(AuthMode::Bearer),
                    &family,
                )
                .await;
            tracing::info!(user_id, family = %family, "token logout");
        }
        Ok(())
    }

    fn pair(
        &self,
        user: &AuthUser,
        issued: &IssuedRefresh,
        cookies: Option<&Cookies>,
        delivery: RefreshDelivery,
    ) -> Result<TokenPair, ApiError> {
        let (access_token, claims) = self.access.issue(
            user,
            &issued.family_id,
            self.clock.now_secs(),
            issued.access_ttl,
            &issued.scope,
        )?;
        let refresh = issued.token.expose_secret();
        let refresh_token = match (delivery, cookies) {
            (RefreshDelivery::Cookie, Some(cookies)) => {
                // Whole seconds, rounded up: the browser keeps the cookie as long as the server
                // honours the token (which it checks itself, in milliseconds).
                let left_ms = (issued.idle_expires_at - self.clock.now_ms()).max(0);
                let max_age = (left_ms + 999) / 1000;
                cookies.add(self.refresh_cookie(refresh.to_owned(), max_age));
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

    fn refresh_cookie(&self, value: String, max_age_secs: i64) -> Cookie<'static> {
        Cookie::build((refresh_cookie_name(self.cookie_secure), value))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.cookie_secure)
            .path(REFRESH_COOKIE_PATH)
            .max_age(CookieDuration::seconds(max_age_secs))
            .build()
    }

    fn clear_cookie(&self, cookies: Option<&Cookies>) {
        if let Some(cookies) = cookies {
            cookies.add(self.refresh_cookie(String::new(), 0));
        }
    }

    /// The refresh token from the body or, failing that, the refresh cookie.
    fn presented(
        &self,
        cookies: Option<&Cookies>,
        body: RefreshRequest,
    ) -> Result<(SecretString, RefreshDelivery), ApiError> {
        if let Some(token) = body.refresh_token.filter(|t| !t.is_empty()) {
            return Ok((SecretString::from(token), RefreshDelivery::Body));
        }
        cookies
            .and_then(|c| c.get(refresh_cookie_name(self.cookie_secure)))
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
}
