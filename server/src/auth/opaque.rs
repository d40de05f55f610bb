//! Opaque database tokens: the third credential, in the style of Django REST framework's
//! `TokenAuthentication` (`Authorization: Token <value>`).
//!
//! A random value with no meaning of its own: every request looks it up in the database, and
//! deleting the row logs it out at once. That is a cookie session's trade-off (state and a
//! lookup per request, instant revocation) carried in a header instead of a cookie (so no
//! CSRF exposure). Unlike DRF, the value is stored only as its SHA-256 hash, so a copy of the
//! table gives no usable token.

use app::wire::{Credentials, OpaqueInfo, OpaqueToken};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use super::{AuthUser, session::new_handle};
use crate::{
    accounts::check_password, audit, client::ClientInfo, clock::Millis, error::ApiError,
    state::AppState, timing::ServerTiming,
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

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Checks the password and issues a token: 20 random bytes as 40 hex characters (DRF's shape).
pub async fn login(
    state: &AppState,
    client: &ClientInfo,
    creds: Credentials,
) -> Result<OpaqueToken, ApiError> {
    let user = check_password(state, client, creds, "opaque").await?;
    crate::devices::enforce_single_session(state, user.id).await?;
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let handle = new_handle();
    let now = state.clock.now_ms();
    sqlx::query(
        "insert into opaque_tokens (token_hash, handle, user_id, created_at, user_agent, ip)
         values (?, ?, ?, ?, ?, ?)",
    )
    .bind(hash(&token).as_slice())
    .bind(&handle)
    .bind(user.id)
    .bind(now)
    .bind(&client.user_agent)
    .bind(client.ip_text())
    .execute(&state.db)
    .await?;
    audit::login_succeeded(&state.db, now, user.id, "opaque", &handle).await;
    Ok(OpaqueToken {
        token,
        token_type: "Token".into(),
    })
}

/// Looks the token up: one database query on every request.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    timing: &ServerTiming,
) -> Result<OpaqueAuth, ApiError> {
    let row = timing
        .measure(
            "store",
            "token lookup",
            sqlx::query_as::<_, (String, i64, i64, String)>(
                "select t.handle, t.created_at, u.id, u.username
                   from opaque_tokens t join users u on u.id = t.user_id
                  where t.token_hash = ?",
            )
            .bind(hash(token).as_slice())
            .fetch_optional(&state.db),
        )
        .await?;
    let (handle, created_at, id, username) = row.ok_or(ApiError::InvalidToken(
        "it is not a live token (logged out or never issued)",
    ))?;
    Ok(OpaqueAuth {
        user: AuthUser { id, username },
        handle,
        created_at,
    })
}

/// Deletes one of a user's tokens by handle. True if it existed.
pub async fn revoke(db: &SqlitePool, user_id: i64, handle: &str) -> Result<bool, ApiError> {
    let done = sqlx::query("delete from opaque_tokens where handle = ? and user_id = ?")
        .bind(handle)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
