//! Opaque database tokens: the third credential, in the style of Django REST framework's
//! `TokenAuthentication` (`Authorization: Token <value>`).
//!
//! A random value with no meaning of its own: every request looks it up in the database, and
//! deleting the row logs it out at once. That is a cookie session's trade-off (state and a
//! lookup per request, instant revocation) carried in a header instead of a cookie (so no
//! CSRF exposure). Unlike DRF, the value is stored only as its SHA-256 hash, so a copy of the
//! table gives no usable token.

use std::sync::Arc;

use app::wire::{Credentials, OpaqueInfo, OpaqueToken};
use rand::RngCore;

use super::{AuthUser, refresh::hash, session::new_handle};
use crate::{
    accounts::Accounts,
    audit::Audit,
    client::ClientInfo,
    clock::{Clock, Millis},
    devices::Devices,
    error::ApiError,
    store::{AuthMode, NewOpaque, OpaqueStore},
    timing::ServerTiming,
};

/// A request authenticated by an opaque token.
#[derive(Debug)]
pub struct OpaqueAuth {
    /// The token's owner.
    pub user: AuthUser,
    /// Public handle (its device id).
    pub handle: String,
    /// When it was issued.
    pub created_at: Millis,
}

impl OpaqueAuth {
    /// The details `/api/me` shows.
    pub fn info(&self) -> OpaqueInfo {
        OpaqueInfo {
            handle: self.handle.clone(),
            created_at: self.created_at,
        }
    }
}

/// Opaque-token logins, checks and logouts.
#[derive(Clone)]
pub struct OpaqueTokens {
    store: Arc<dyn OpaqueStore>,
    accounts: Accounts,
    devices: Devices,
    audit: Audit,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OpaqueTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpaqueTokens").finish_non_exhaustive()
    }
}

impl OpaqueTokens {
    /// The service over its pieces.
    pub fn new(
        store: Arc<dyn OpaqueStore>,
        accounts: Accounts,
        devices: Devices,
        audit: Audit,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            accounts,
            devices,
            audit,
            clock,
        }
    }

    /// Checks the password and issues a token: 20 random bytes as 40 hex characters (DRF's
    /// shape).
    pub async fn login(
        &self,
        client: &ClientInfo,
        creds: Credentials,
    ) -> Result<OpaqueToken, ApiError> {
        let user = self
            .accounts
            .check_password(client, creds, AuthMode::Opaque)
            .await?;
        self.devices.enforce_single_session(user.id).await?;
        let mut bytes = [0u8; 20];
        rand::rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let handle = new_handle();
        let now = self.clock.now_ms();
        self.store
            .insert_opaque(&NewOpaque {
                hash: hash(&token),
                handle: handle.clone(),
                user_id: user.id,
                created_at: now,
                client: client.meta(),
            })
            .await?;
        self.audit
            .login_succeeded(now, user.id, AuthMode::Opaque, &handle)
            .await;
        Ok(OpaqueToken {
            token,
            token_type: "Token".into(),
        })
    }

    /// Looks the token up: one store query on every request.
    pub async fn authenticate(
        &self,
        token: &str,
        timing: &ServerTiming,
    ) -> Result<OpaqueAuth, ApiError> {
        let found = timing
            .measure(
                "store",
                "token lookup",
                self.store.opaque_by_hash(&hash(token)),
            )
            .await?;
        let entry = found.ok_or(ApiError::InvalidToken(
            "it is not a live token (logged out or never issued)",
        ))?;
        Ok(OpaqueAuth {
            user: entry.user.into(),
            handle: entry.handle,
            created_at: entry.created_at,
        })
    }

    /// Deletes one of a user's tokens by handle. True if it existed.
    pub async fn revoke(&self, user_id: i64, handle: &str) -> Result<bool, ApiError> {
        Ok(self.store.delete_opaque(user_id, handle).await?)
    }
}
