//! Refresh tokens: long-lived, opaque, single-use, rotated, with reuse detection.
//!
//! A token login starts a **family**. Each refresh retires the presented token and issues its
//! successor, so a refresh token works once. If a retired token comes back, someone holds a
//! copy — the client or a thief, the server cannot tell which — so the whole family is revoked
//! and both must log in again (OAuth 2.0 Security BCP, §4.14).
//!
//! Two honest clients can also present a retired token: a response lost on the network, or two
//! tabs refreshing at once. For `REFRESH_TOKEN_GRACE_SECS` after a token is used, presenting it
//! again answers with the family's *current* token instead of revoking. The server stores only
//! SHA-256 hashes, so to give that answer each successor is *derived* from its parent,
//! `HMAC-SHA256(REFRESH_TOKEN_SECRET, parent)`: whoever holds the parent can be handed the
//! child again, and no token is ever stored in a usable form.
//!
//! Lifetimes: each token dies `REFRESH_TOKEN_IDLE_SECS` after issue if unused; the family dies
//! `REFRESH_TOKEN_ABSOLUTE_SECS` after its login, and rotation never moves that.
//!
//! Why a hash is enough at rest: tokens are 256 random bits, so unlike passwords they cannot
//! be guessed from their hash; a stolen copy of the table gives no usable token.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::{
    audit::Audit,
    client::ClientInfo,
    clock::{Millis, ms},
    config::TokenConfig,
    error::ApiError,
    store::{
        AuditKind, AuthMode, FamilyStore, LoginMethod, NewFamily, RevokeReason, Rotated, Rotation,
        TokenHash, TokenState,
    },
};

/// Longest chain of rotations followed when answering a replay inside the grace window.
const MAX_GRACE_CHAIN: usize = 64;

/// A refresh token just issued.
pub struct IssuedRefresh {
    /// The family (login) it belongs to.
    pub family_id: String,
    /// The user the family belongs to.
    pub user_id: i64,
    /// The token itself: goes to the client, never to storage or logs.
    pub token: SecretString,
    /// When it dies if not used.
    pub idle_expires_at: Millis,
    /// Whether this answers a replay inside the grace window (no new rotation happened).
    pub replayed: bool,
    /// The family's scope, carried by every access token it issues.
    pub scope: String,
    /// The family's access-token lifetime, if not the configured one.
    pub access_ttl: Option<std::time::Duration>,
}

impl std::fmt::Debug for IssuedRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedRefresh")
            .field("family_id", &self.family_id)
            .field("user_id", &self.user_id)
            .field("idle_expires_at", &self.idle_expires_at)
            .field("replayed", &self.replayed)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Refresh-token families: issue, rotate, revoke.
pub struct RefreshTokens {
    families: Arc<dyn FamilyStore>,
    audit: Audit,
    derive_key: SecretString,
    idle: Millis,
    absolute: Millis,
    grace: Millis,
}

impl std::fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokens")
            .field("idle", &self.idle)
            .field("absolute", &self.absolute)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a token: what the store keeps.
pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Why a presented token is refused (the store has already applied any revocation).
fn refusal(state: &TokenState, now: Millis) -> &'static str {
    if state.revoked_at.is_some() {
        "this login was logged out or revoked"
    } else if now >= state.absolute_expires_at {
        "this login reached its maximum lifetime"
    } else {
        "it expired unused"
    }
}

impl RefreshTokens {
    /// Lifetimes and the derivation key from the configuration.
    pub fn new(families: Arc<dyn FamilyStore>, audit: Audit, config: &TokenConfig) -> Self {
        Self {
            families,
            audit,
            derive_key: config.refresh_secret.clone(),
            idle: ms(config.refresh_idle),
            absolute: ms(config.refresh_absolute),
            grace: ms(config.refresh_grace),
        }
    }

    /// The families store (strict checking asks it whether a family is alive).
    pub fn families(&self) -> &dyn FamilyStore {
        self.families.as_ref()
    }

    /// The successor of `parent`: `HMAC-SHA256(key, parent)`, base64url.
    fn successor(&self, parent: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.derive_key.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(b"authlab refresh-token successor v1\0");
        mac.update(parent.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Starts a family for a new login and issues its first token (256 random bits). Its
    /// access tokens will carry `scope` and live `access_ttl` (the configured time if `None`).
    pub async fn start_family(
        &self,
        user_id: i64,
        client: &ClientInfo,
        now: Millis,
        scope: &str,
        access_ttl: Option<std::time::Duration>,
        method: LoginMethod,
    ) -> Result<IssuedRefresh, ApiError> {
        let family_id = super::session::new_handle();
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let absolute_expires_at = now + self.absolute;
        let idle_expires_at = (now + self.idle).min(absolute_expires_at);
        let family = NewFamily {
            id: family_id.clone(),
            user_id,
            created_at: now,
            absolute_expires_at,
            idle_expires_at,
            scope: scope.to_owned(),
            access_ttl_secs: access_ttl.map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX)),
            client: client.meta(),
            method,
        };
        self.families.start_family(&family, &hash(&token)).await?;
        Ok(IssuedRefresh {
            family_id,
            user_id,
            token: SecretString::from(token),
            idle_expires_at,
            replayed: false,
            scope: scope.to_owned(),
            access_ttl,
        })
    }

    /// What a rotation does with the presented token, as the store found it:
    ///
    /// * family revoked, or past its absolute expiry → refuse;
    /// * used within the grace window → hand out the family's current token again;
    /// * used before that → someone kept a copy: revoke the whole family;
    /// * unused but idle too long → refuse;
    /// * otherwise → retire it and store its successor.
    fn decide(&self, state: &TokenState, token: &str, now: Millis) -> Rotation {
        if state.revoked_at.is_some() || now >= state.absolute_expires_at {
            return Rotation::Refuse;
        }
        match state.used_at {
            Some(used_at) if now - used_at <= self.grace => Rotation::Replay,
            Some(_) => Rotation::Revoke(RevokeReason::ReuseDetected),
            None if now >= state.idle_expires_at => Rotation::Refuse,
            None => Rotation::Rotate {
                child: hash(&self.successor(token)),
                idle_expires_at: (now + self.idle).min(state.absolute_expires_at),
            },
        }
    }

    /// Exchanges a refresh token for its successor.
    ///
    /// The store runs the check and the change in one transaction holding the token's row,
    /// so concurrent refreshes of one token are serialised: the first rotates, the others find
    /// it used and (inside the grace window) are handed the same successor. A family never has
    /// two live tokens.
    pub async fn rotate(&self, token: &str, now: Millis) -> Result<IssuedRefresh, ApiError> {
        let decide = |state: &TokenState| self.decide(state, token, now);
        let (state, done) = self
            .families
            .rotate(&hash(token), now, &decide)
            .await?
            .ok_or(ApiError::InvalidGrant("it is not a known refresh token"))?;
        let issued = |token: String, idle_expires_at: Millis, replayed: bool| IssuedRefresh {
            family_id: state.family_id.clone(),
            user_id: state.user_id,
            token: SecretString::from(token),
            idle_expires_at,
            replayed,
            scope: state.scope.clone(),
            access_ttl: state
                .access_ttl_secs
                .map(|s| std::time::Duration::from_secs(s.unsigned_abs())),
        };
        match done {
            Rotated::Rotated => {
                let idle_expires_at = (now + self.idle).min(state.absolute_expires_at);
                Ok(issued(self.successor(token), idle_expires_at, false))
            }
            Rotated::Replayed(live) => {
                let current = live.and_then(|(live_hash, idle_expires_at)| {
                    self.successor_with_hash(token, &live_hash)
                        .map(|t| (t, idle_expires_at))
                });
                current
                    .map(|(t, idle_expires_at)| issued(t, idle_expires_at, true))
                    .ok_or(ApiError::InvalidGrant("it was already used"))
            }
            Rotated::Revoked => {
                self.audit
                    .record(
                        now,
                        Some(state.user_id),
                        AuditKind::ReuseDetected,
                        Some(AuthMode::Bearer),
                        &state.family_id,
                    )
                    .await;
                tracing::warn!(
                    user_id = state.user_id,
                    family = %state.family_id,
                    "refresh token reused after rotation: family revoked"
                );
                Err(ApiError::InvalidGrant(
                    "it was already used, so this login has been revoked (possible token theft)",
                ))
            }
            Rotated::Refused => Err(ApiError::InvalidGrant(refusal(&state, now))),
        }
    }

    /// Follows the chain of successors from `token` to the one whose hash is `target` (the
    /// family's live token), so a replay inside the grace window can be answered with it.
    fn successor_with_hash(&self, token: &str, target: &TokenHash) -> Option<String> {
        let mut current = self.successor(token);
        for _ in 0..MAX_GRACE_CHAIN {
            if &hash(&current) == target {
                return Some(current);
            }
            current = self.successor(&current);
        }
        None
    }

    /// The family a refresh token belongs to (used or not), with its user.
    pub async fn family_of(&self, token: &str) -> Result<Option<(String, i64)>, ApiError> {
        Ok(self.families.family_of_token(&hash(token)).await?)
    }

    /// Revokes a family (only the user's own when `user_id` is given). True if it was live.
    pub async fn revoke_family(
        &self,
        user_id: Option<i64>,
        family_id: &str,
        reason: RevokeReason,
        now: Millis,
    ) -> Result<bool, ApiError> {
        Ok(self
            .families
            .revoke_family(user_id, family_id, reason, now)
            .await?)
    }

    /// Whether a family is still alive (strict mode's per-request check).
    pub async fn family_alive(&self, family_id: &str, now: Millis) -> Result<bool, ApiError> {
        Ok(self.families.family_alive(family_id, now).await?)
    }
}
