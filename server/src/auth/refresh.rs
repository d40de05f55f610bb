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

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use crate::{
    audit,
    client::ClientInfo,
    clock::{Millis, ms},
    config::TokenConfig,
    error::ApiError,
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

type Hash = [u8; 32];

fn hash(token: &str) -> Hash {
    Sha256::digest(token.as_bytes()).into()
}

/// A token's row joined with its family.
#[derive(sqlx::FromRow)]
struct TokenRow {
    family_id: String,
    used_at: Option<i64>,
    idle_expires_at: i64,
    user_id: i64,
    revoked_at: Option<i64>,
    absolute_expires_at: i64,
    scope: String,
    access_ttl_secs: Option<i64>,
}

impl TokenRow {
    fn access_ttl(&self) -> Option<std::time::Duration> {
        self.access_ttl_secs
            .map(|s| std::time::Duration::from_secs(s.unsigned_abs()))
    }
}

const SELECT_TOKEN: &str = "select t.family_id, t.used_at, t.idle_expires_at,
        f.user_id, f.revoked_at, f.absolute_expires_at, f.scope, f.access_ttl_secs
   from refresh_tokens t join token_families f on f.id = t.family_id
  where t.token_hash = ?";

impl RefreshTokens {
    /// Lifetimes and the derivation key from the configuration.
    pub fn new(config: &TokenConfig) -> Self {
        Self {
            derive_key: config.refresh_secret.clone(),
            idle: ms(config.refresh_idle),
            absolute: ms(config.refresh_absolute),
            grace: ms(config.refresh_grace),
        }
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
        db: &SqlitePool,
        user_id: i64,
        client: &ClientInfo,
        now: Millis,
        scope: &str,
        access_ttl: Option<std::time::Duration>,
    ) -> Result<IssuedRefresh, ApiError> {
        let family_id = super::session::new_handle();
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let absolute_expires_at = now + self.absolute;
        let idle_expires_at = (now + self.idle).min(absolute_expires_at);
        let mut tx = db.begin().await?;
        sqlx::query(
            "insert into token_families
               (id, user_id, created_at, last_refresh_at, absolute_expires_at, user_agent, ip,
                scope, access_ttl_secs)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&family_id)
        .bind(user_id)
        .bind(now)
        .bind(now)
        .bind(absolute_expires_at)
        .bind(&client.user_agent)
        .bind(client.ip_text())
        .bind(scope)
        .bind(access_ttl.map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX)))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into refresh_tokens (token_hash, family_id, parent_hash, issued_at, idle_expires_at)
             values (?, ?, null, ?, ?)",
        )
        .bind(hash(&token).as_slice())
        .bind(&family_id)
        .bind(now)
        .bind(idle_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
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

    /// Exchanges a refresh token for its successor.
    ///
    /// Runs in one `BEGIN IMMEDIATE` transaction, so concurrent refreshes of one token are
    /// serialised: the first rotates, the others find it used and (inside the grace window)
    /// are handed the same successor. A family never has two live tokens.
    pub async fn rotate(
        &self,
        db: &SqlitePool,
        token: &str,
        now: Millis,
    ) -> Result<IssuedRefresh, ApiError> {
        let presented = hash(token);
        let mut tx = db.begin_with("begin immediate").await?;
        let row = sqlx::query_as::<_, TokenRow>(SELECT_TOKEN)
            .bind(presented.as_slice())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ApiError::InvalidGrant("it is not a known refresh token"))?;
        if row.revoked_at.is_some() {
            return Err(ApiError::InvalidGrant(
                "this login was logged out or revoked",
            ));
        }
        if now >= row.absolute_expires_at {
            return Err(ApiError::InvalidGrant(
                "this login reached its maximum lifetime",
            ));
        }
        if let Some(used_at) = row.used_at {
            if now - used_at <= self.grace {
                let current = self.current_successor(&mut tx, token).await?;
                tx.commit().await?;
                let access_ttl = row.access_ttl();
                return current
                    .map(|(token, idle_expires_at)| IssuedRefresh {
                        family_id: row.family_id,
                        user_id: row.user_id,
                        token: SecretString::from(token),
                        idle_expires_at,
                        replayed: true,
                        scope: row.scope,
                        access_ttl,
                    })
                    .ok_or(ApiError::InvalidGrant("it was already used"));
            }
            sqlx::query(
                "update token_families set revoked_at = ?, revoked_reason = 'reuse_detected'
                  where id = ? and revoked_at is null",
            )
            .bind(now)
            .bind(&row.family_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            audit::record(
                db,
                now,
                Some(row.user_id),
                "reuse_detected",
                Some("bearer"),
                &row.family_id,
            )
            .await;
            tracing::warn!(
                user_id = row.user_id,
                family = %row.family_id,
                "refresh token reused after rotation: family revoked"
            );
            return Err(ApiError::InvalidGrant(
                "it was already used, so this login has been revoked (possible token theft)",
            ));
        }
        if now >= row.idle_expires_at {
            return Err(ApiError::InvalidGrant("it expired unused"));
        }
        let child = self.successor(token);
        let idle_expires_at = (now + self.idle).min(row.absolute_expires_at);
        sqlx::query(
            "update refresh_tokens set used_at = ? where token_hash = ? and used_at is null",
        )
        .bind(now)
        .bind(presented.as_slice())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into refresh_tokens (token_hash, family_id, parent_hash, issued_at, idle_expires_at)
             values (?, ?, ?, ?, ?)",
        )
        .bind(hash(&child).as_slice())
        .bind(&row.family_id)
        .bind(presented.as_slice())
        .bind(now)
        .bind(idle_expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("update token_families set last_refresh_at = ? where id = ?")
            .bind(now)
            .bind(&row.family_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let access_ttl = row.access_ttl();
        Ok(IssuedRefresh {
            family_id: row.family_id,
            user_id: row.user_id,
            token: SecretString::from(child),
            idle_expires_at,
            replayed: false,
            scope: row.scope,
            access_ttl,
        })
    }

    /// Follows the chain of successors from a used token to the family's live one.
    async fn current_successor(
        &self,
        tx: &mut sqlx::SqliteConnection,
        token: &str,
    ) -> Result<Option<(String, Millis)>, ApiError> {
        let mut current = self.successor(token);
        for _ in 0..MAX_GRACE_CHAIN {
            let row = sqlx::query_as::<_, (Option<i64>, i64)>(
                "select used_at, idle_expires_at from refresh_tokens where token_hash = ?",
            )
            .bind(hash(&current).as_slice())
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                None => return Ok(None),
                Some((None, idle_expires_at)) => return Ok(Some((current, idle_expires_at))),
                Some((Some(_), _)) => current = self.successor(&current),
            }
        }
        Ok(None)
    }

    /// The family a refresh token belongs to (used or not).
    pub async fn family_of(
        &self,
        db: &SqlitePool,
        token: &str,
    ) -> Result<Option<(String, i64)>, ApiError> {
        Ok(sqlx::query_as::<_, (String, i64)>(
            "select f.id, f.user_id from refresh_tokens t join token_families f on f.id = t.family_id
              where t.token_hash = ?",
        )
        .bind(hash(token).as_slice())
        .fetch_optional(db)
        .await?)
    }

    /// Revokes a family (only the user's own when `user_id` is given). True if it was live.
    pub async fn revoke_family(
        &self,
        db: &SqlitePool,
        user_id: Option<i64>,
        family_id: &str,
        reason: &str,
        now: Millis,
    ) -> Result<bool, ApiError> {
        let done = sqlx::query(
            "update token_families set revoked_at = ?, revoked_reason = ?
              where id = ? and revoked_at is null and absolute_expires_at > ?
                and (? is null or user_id = ?)",
        )
        .bind(now)
        .bind(reason)
        .bind(family_id)
        .bind(now)
        .bind(user_id)
        .bind(user_id)
        .execute(db)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether a family is still alive (strict mode's per-request check).
    pub async fn family_alive(
        &self,
        db: &SqlitePool,
        family_id: &str,
        now: Millis,
    ) -> Result<bool, ApiError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "select count(*) from token_families
              where id = ? and revoked_at is null and absolute_expires_at > ?",
        )
        .bind(family_id)
        .bind(now)
        .fetch_one(db)
        .await?
            == 1)
    }
}
