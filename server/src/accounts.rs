//! Accounts: registration and the password check behind every login mode.

use std::sync::Arc;

use app::wire::{Credentials, UserView, validate_login, validate_registration};
use secrecy::SecretString;

pub use crate::store::User;
use crate::{
    audit::Audit,
    client::ClientInfo,
    clock::Clock,
    error::ApiError,
    password::{PasswordHasher, Work},
    store::{AuditKind, AuthMode, StoreError, UserStore},
    throttle::Throttle,
};

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username,
        }
    }
}

/// The `password_hash` of an account created by a provider login: not a PHC string, so no
/// password can ever match it (it is never even tried; see [`Accounts::check_password`]).
pub const NO_PASSWORD: &str = "!provider-login-only";

/// Registration and password checks.
#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn UserStore>,
    hasher: PasswordHasher,
    throttle: Arc<Throttle>,
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
        throttle: Arc<Throttle>,
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

    /// Creates an account: validates, counts the attempt against the client, refuses a taken
    /// name, and only then hashes (off the async workers) and inserts.
    ///
    /// Checking the name before hashing means a client re-registering a taken name costs no
    /// Argon2 work; the 409 it gets says nothing the unique index would not say anyway.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        client: &ClientInfo,
        creds: Credentials,
    ) -> Result<User, ApiError> {
        let username = creds.username.trim().to_owned();
        let problems = validate_registration(&username, &creds.password);
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        self.throttle.registration_attempt(client.ip).await?;
        if self.users.user_by_name(&username).await?.is_some() {
            return Err(ApiError::UsernameTaken);
        }
        let hash = self
            .hasher
            .hash(SecretString::from(creds.password), Work::Registration)
            .await?;
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
    /// Input no registration could produce is refused first (422, no hashing, no counting).
    /// The attempt is then counted (429 when over a limit, still before any hashing). Unknown
    /// users cost the same Argon2id verification as wrong passwords and get the same answer,
    /// so neither the message nor the timing reveals which usernames exist.
    #[tracing::instrument(skip_all, fields(mode = mode.as_str()))]
    pub async fn check_password(
        &self,
        client: &ClientInfo,
        creds: Credentials,
        mode: AuthMode,
    ) -> Result<User, ApiError> {
        let problems = validate_login(&creds.username, &creds.password);
        if !problems.is_empty() {
            return Err(ApiError::Validation(problems));
        }
        let attempt = match self
            .throttle
            .login_attempt(&creds.username, client.ip)
            .await
        {
            Ok(attempt) => attempt,
            Err(err) => {
                tracing::warn!(ip = %client.ip_text(), "login throttled");
                return Err(err);
            }
        };
        let now = self.clock.now_ms();
        // Usernames are ASCII (registration allows nothing else), so a name that is not names
        // no one. It must not reach the database's case folding either: PostgreSQL folds some
        // non-ASCII letters onto ASCII ones ('İ' to 'i'), which would let one account be
        // spelled many ways, each with its own throttle count.
        let name = creds.username.trim();
        let found = if name.is_ascii() {
            self.users.user_by_name(name).await?
        } else {
            None
        };
        // An account made by a provider login has no password: it is checked like an unknown
        // user (the dummy hash, the same time, the same answer).
        let (user, phc) = match found {
            Some(found) if found.password_hash == NO_PASSWORD => (Some(found.user), None),
            Some(found) => (Some(found.user), Some(found.password_hash)),
            None => (None, None),
        };
        let ok = self
            .hasher
            .verify(SecretString::from(creds.password), phc)
            .await?;
        match user {
            Some(user) if ok => {
                self.throttle.login_succeeded(attempt).await;
                Ok(user)
            }
            user => {
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
