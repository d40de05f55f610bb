//! Accounts: registration and the password check behind every login mode.

use std::sync::Arc;

use app::wire::{Credentials, UserView, validate_registration};
use secrecy::SecretString;

pub use crate::store::User;
use crate::{
    audit::Audit,
    client::ClientInfo,
    clock::Clock,
    error::ApiError,
    password::PasswordHasher,
    store::{AuditKind, AuthMode, StoreError, UserStore},
    throttle::LoginThrottle,
};

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username,
        }
    }
}

/// Registration and password checks.
#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn UserStore>,
    hasher: PasswordHasher,
    throttle: Arc<LoginThrottle>,
    audit: Audit,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// The service over its pieces.
    pub fn new(
        users: Arc<dyn UserStore>,
        hasher: PasswordHasher,
        throttle: Arc<LoginThrottle>,
        audit: Audit,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            hasher,
            throttle,
            audit,
            clock,
        }
    }

    /// Creates an account: validates, hashes (off the async workers), inserts.
    #[tracing::instrument(skip_all, fields(username = %creds.username))]
    pub async fn register(&self, creds: Credentials) -> Result<User, ApiError> {
        let username = creds.username.trim().to_owned();
        let problems = validate_registration(&username, &creds.password);
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        let hash = self.hasher.hash(SecretString::from(creds.password)).await?;
        let now = self.clock.now_ms();
        let id = match self.users.insert_user(&username, &hash, now).await {
            Ok(id) => id,
            // The unique index decides, so two simultaneous registrations cannot both win.
            Err(StoreError::Conflict) => return Err(ApiError::UsernameTaken),
            Err(e) => return Err(e.into()),
        };
        self.audit
            .record(now, Some(id), AuditKind::Registered, None, "")
            .await;
        tracing::info!(user_id = id, "account registered");
        Ok(User { id, username })
    }

    /// Checks a username and password for a login in `mode`.
    ///
    /// Unknown users cost the same Argon2id verification as wrong passwords and get the same
    /// answer, so neither the message nor the timing reveals which usernames exist. Throttled
    /// attempts are refused before any hashing.
    #[tracing::instrument(skip_all, fields(mode = mode.as_str()))]
    pub async fn check_password(
        &self,
        client: &ClientInfo,
        creds: Credentials,
        mode: AuthMode,
    ) -> Result<User, ApiError> {
        let now = self.clock.now_ms();
        if let Some(retry_after) = self.throttle.check(&creds.username, client.ip, now) {
            tracing::warn!(ip = %client.ip_text(), "login throttled");
            return Err(ApiError::Throttled { retry_after });
        }
        let found = self.users.user_by_name(creds.username.trim()).await?;
        let (user, phc) = match found {
            Some(found) => (Some(found.user), Some(found.password_hash)),
            None => (None, None),
        };
        let ok = self
            .hasher
            .verify(SecretString::from(creds.password), phc)
            .await?;
        match user {
            Some(user) if ok => {
                self.throttle.record_success(&creds.username);
                Ok(user)
            }
            user => {
                self.throttle
                    .record_failure(&creds.username, client.ip, self.clock.now_ms());
                let user_id = user.map(|u| u.id);
                self.audit
                    .record(now, user_id, AuditKind::LoginFailed, Some(mode), "")
                    .await;
                tracing::info!(ip = %client.ip_text(), "login failed");
                Err(ApiError::InvalidCredentials)
            }
        }
    }

    /// Looks a user up by id (for flows that start from a token or a session).
    pub async fn find_by_id(&self, id: i64) -> Result<Option<User>, ApiError> {
        Ok(self.users.user_by_id(id).await?)
    }
}
