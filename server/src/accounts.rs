//! Accounts: registration and the password check behind both login modes.

use app::wire::{Credentials, UserView, validate_registration};
use secrecy::SecretString;
use sqlx::SqlitePool;

use crate::{audit, client::ClientInfo, error::ApiError, state::AppState};

/// A user as the rest of the server sees it: no password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Username as registered.
    pub username: String,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username,
        }
    }
}

/// A row with the hash. Deliberately neither `Serialize` nor `Debug`.
#[derive(sqlx::FromRow)]
struct UserWithHash {
    id: i64,
    username: String,
    password_hash: String,
}

/// Creates an account: validates, hashes (off the async workers), inserts.
#[tracing::instrument(skip_all, fields(username = %creds.username))]
pub async fn register(state: &AppState, creds: Credentials) -> Result<User, ApiError> {
    let username = creds.username.trim().to_owned();
    let problems = validate_registration(&username, &creds.password);
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let hash = state
        .hasher
        .hash(SecretString::from(creds.password))
        .await?;
    let now = state.clock.now_ms();
    let inserted = sqlx::query_scalar::<_, i64>(
        "insert into users (username, password_hash, created_at) values (?, ?, ?) returning id",
    )
    .bind(&username)
    .bind(&hash)
    .bind(now)
    .fetch_one(&state.db)
    .await;
    let id = match inserted {
        Ok(id) => id,
        // The unique index decides, so two simultaneous registrations cannot both win.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::UsernameTaken);
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(&state.db, now, Some(id), "registered", None, "").await;
    tracing::info!(user_id = id, "account registered");
    Ok(User { id, username })
}

/// Checks a username and password for a login in either mode.
///
/// Unknown users cost the same Argon2id verification as wrong passwords and get the same
/// answer, so neither the message nor the timing reveals which usernames exist. Throttled
/// attempts are refused before any hashing.
#[tracing::instrument(skip_all, fields(mode))]
pub async fn check_password(
    state: &AppState,
    client: &ClientInfo,
    creds: Credentials,
    mode: &'static str,
) -> Result<User, ApiError> {
    let now = state.clock.now_ms();
    if let Some(retry_after) = state.throttle.check(&creds.username, client.ip, now) {
        tracing::warn!(ip = %client.ip_text(), "login throttled");
        return Err(ApiError::Throttled { retry_after });
    }
    let row = find_by_username(&state.db, creds.username.trim()).await?;
    let (user, phc) = match row {
        Some(r) => (
            Some(User {
                id: r.id,
                username: r.username,
            }),
            Some(r.password_hash),
        ),
        None => (None, None),
    };
    let ok = state
        .hasher
        .verify(SecretString::from(creds.password), phc)
        .await?;
    match user {
        Some(user) if ok => {
            state.throttle.record_success(&creds.username);
            Ok(user)
        }
        user => {
            state
                .throttle
                .record_failure(&creds.username, client.ip, state.clock.now_ms());
            let user_id = user.map(|u| u.id);
            audit::record(&state.db, now, user_id, "login_failed", Some(mode), "").await;
            tracing::info!(ip = %client.ip_text(), "login failed");
            Err(ApiError::InvalidCredentials)
        }
    }
}

async fn find_by_username(
    db: &SqlitePool,
    username: &str,
) -> Result<Option<UserWithHash>, ApiError> {
    Ok(sqlx::query_as::<_, UserWithHash>(
        "select id, username, password_hash from users where username = ? collate nocase",
    )
    .bind(username)
    .fetch_optional(db)
    .await?)
}

/// Looks a user up by id (for flows that start from a token or a session).
pub async fn find_by_id(db: &SqlitePool, id: i64) -> Result<Option<User>, ApiError> {
    let row = sqlx::query_as::<_, (i64, String)>("select id, username from users where id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|(id, username)| User { id, username }))
}
