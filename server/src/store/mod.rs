//! Storage: the one boundary between authlab and the servers that keep its state.
//!
//! The rest of the server sees only the traits below and the record types in [`model`];
//! `sqlx` and `fred` are used nowhere else (a test greps for it). Each trait is one kind of
//! state, and each domain service takes only the ones it needs.
//!
//! | state | SQLite (default) | PostgreSQL | Redis |
//! |---|---|---|---|
//! | users, session index, refresh families, opaque tokens, notes, audit | [`sql`] | [`sql`] | — |
//! | session records (tower-sessions) | table `tower_sessions` | table `tower_sessions` | keys `authlab:session:<id>` |
//!
//! `DATABASE_URL` picks the database (`sqlite:` or `postgres:`); `SESSION_STORE_URL=redis://…`
//! moves session records to Redis, otherwise they live in the database. Whatever the backend,
//! the behaviour is the same: the API suite runs against each combination.

pub mod counters;
pub mod events;
pub mod model;
pub mod redis;
pub mod sessions;
mod sql;

use std::sync::Arc;

use async_trait::async_trait;

pub use self::model::*;
use crate::clock::Millis;

/// `SESSION_STORE_URL` for session records in this process's memory: gone at restart, and
/// unknown to every other server (the lab shows what that does to a second server).
pub const MEMORY_SESSIONS: &str = "memory:";

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists (a username taken, say).
    #[error("already exists")]
    Conflict,
    /// The store could not take the work now (SQLite's writer lock held past the busy timeout,
    /// no free connection). Worth retrying: the API answers 503 with `Retry-After`.
    #[error("the store is busy")]
    Busy,
    /// Anything else: the server is down, the query failed.
    #[error(transparent)]
    Backend(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            sqlx::Error::Database(db) if db.code().as_deref().is_some_and(is_busy) => Self::Busy,
            sqlx::Error::PoolTimedOut => Self::Busy,
            _ => Self::Backend(anyhow::Error::new(err).context("database")),
        }
    }
}

/// SQLite's `SQLITE_BUSY`/`SQLITE_LOCKED` (and their extended codes); PostgreSQL's
/// serialization failure, deadlock and lock-not-available. All mean "try again".
fn is_busy(code: &str) -> bool {
    match code.parse::<u32>() {
        Ok(sqlite) => matches!(sqlite & 0xff, 5 | 6),
        Err(_) => matches!(code, "40001" | "40P01" | "55P03"),
    }
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What a rotation should do with the presented token, decided by the caller while the
/// store holds the token's row.
pub type Decide<'a> = dyn for<'s> Fn(&'s TokenState) -> Rotation + Send + Sync + 'a;

/// Accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Adds a user; [`StoreError::Conflict`] if the name is taken (case-insensitively).
    async fn insert_user(&self, username: &str, password_hash: &str, now: Millis) -> Result<i64>;
    /// The user with this name (case-insensitively), with their password hash.
    async fn user_by_name(&self, username: &str) -> Result<Option<UserWithHash>>;
    /// The user with this id.
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
}

/// The index of cookie sessions by user (the session store itself cannot be searched by user).
#[async_trait]
pub trait SessionIndex: Send + Sync {
    /// Adds a session's entry.
    async fn add_session(&self, entry: &SessionEntry) -> Result<()>;
    /// Sets the session-store id of an entry added before its session was saved. False if the
    /// entry is gone (the login was revoked meanwhile).
    async fn attach_session(&self, device_id: &str, session_id: &str) -> Result<bool>;
    /// Records activity: new last-seen time and idle expiry.
    async fn touch_session(&self, device_id: &str, now: Millis, expires_at: Millis) -> Result<()>;
    /// Removes an entry, returning the session-store id it held at that moment (`None` if it
    /// was already gone).
    async fn remove_session(&self, device_id: &str) -> Result<Option<String>>;
    /// The session-store id behind one of a user's devices.
    async fn session_id_of(&self, user_id: i64, device_id: &str) -> Result<Option<String>>;
    /// Every entry of a user, live or not: `(device id, session id)`.
    async fn sessions_of(&self, user_id: i64) -> Result<Vec<(String, String)>>;
    /// A user's entries that have not expired by `now`, newest first (not those whose session
    /// is still being saved).
    async fn live_sessions(&self, user_id: i64, now: Millis) -> Result<Vec<SessionEntry>>;
}

/// Refresh-token families and their tokens (stored as SHA-256 hashes only).
#[async_trait]
pub trait FamilyStore: Send + Sync {
    /// Starts a family with its first token.
    async fn start_family(&self, family: &NewFamily, first: &TokenHash) -> Result<()>;
    /// Looks up the presented token and its family, lets `decide` choose what happens, and
    /// applies that choice, all in one transaction that holds the token's row: concurrent
    /// rotations of one token are serialised, so a family never gets two live tokens.
    /// `None` if the token is unknown.
    async fn rotate(
        &self,
        presented: &TokenHash,
        now: Millis,
        decide: &Decide<'_>,
    ) -> Result<Option<(TokenState, Rotated)>>;
    /// The family (and its user) a token belongs to, used or not.
    async fn family_of_token(&self, token: &TokenHash) -> Result<Option<(String, i64)>>;
    /// Revokes a live family (only `user_id`'s, when given). True if it was live.
    async fn revoke_family(
        &self,
        user_id: Option<i64>,
        family_id: &str,
        reason: RevokeReason,
        now: Millis,
    ) -> Result<bool>;
    /// Whether a family is neither revoked nor past its absolute expiry.
    async fn family_alive(&self, family_id: &str, now: Millis) -> Result<bool>;
    /// A user's families that can still refresh, with their live token's expiry.
    async fn live_families(&self, user_id: i64, now: Millis) -> Result<Vec<FamilyEntry>>;
    /// Ids of a user's families that are not revoked.
    async fn unrevoked_family_ids(&self, user_id: i64) -> Result<Vec<String>>;
    /// A user's most recent families, revoked ones included (the lab's server view).
    async fn recent_families(&self, user_id: i64, limit: i64) -> Result<Vec<FamilySummary>>;
}

/// Opaque database tokens (stored as SHA-256 hashes only).
#[async_trait]
pub trait OpaqueStore: Send + Sync {
    /// Stores a new token.
    async fn insert_opaque(&self, token: &NewOpaque) -> Result<()>;
    /// The token's handle, issue time and user.
    async fn opaque_by_hash(&self, hash: &TokenHash) -> Result<Option<OpaqueEntry>>;
    /// Deletes one of a user's tokens; true if it existed.
    async fn delete_opaque(&self, user_id: i64, handle: &str) -> Result<bool>;
    /// A user's tokens.
    async fn opaque_of(&self, user_id: i64) -> Result<Vec<OpaqueEntry>>;
}

/// Notes, the lab's harmless state-changing request.
#[async_trait]
pub trait NoteStore: Send + Sync {
    /// A user's latest notes, newest first.
    async fn latest_notes(&self, user_id: i64, limit: i64) -> Result<Vec<NoteRecord>>;
    /// Adds a note; returns its id.
    async fn add_note(&self, user_id: i64, text: &str, via: AuthMode, now: Millis) -> Result<i64>;
}

/// The audit trail of auth events.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an event.
    async fn record(&self, event: &AuditEvent<'_>) -> Result<()>;
}

/// Deleting what has expired.
#[async_trait]
pub trait Housekeeping: Send + Sync {
    /// Deletes expired index entries and dead families (revoked ones after `keep_revoked`).
    async fn sweep(&self, now: Millis, keep_revoked: Millis) -> Result<Swept>;
    /// Deletes what is only kept for a while: old audit events, notes past the newest few per
    /// user and, when asked, the lab's throwaway users.
    async fn retain(&self, policy: &Retention) -> Result<Retained>;
}

/// Counting what is stored, for the lab and the tests.
#[async_trait]
pub trait Census: Send + Sync {
    /// Rows and bytes kept for refresh tokens of these users (families and tokens).
    async fn token_footprint(&self, user_ids: &[i64]) -> Result<Footprint>;
    /// Row counts of every table, for assertions and the lab.
    async fn counts(&self) -> Result<Counts>;
    /// The password hash stored for a user (tests check it is Argon2id, never the password).
    async fn password_hash_of(&self, user_id: i64) -> Result<Option<String>>;
    /// The stored refresh-token hashes of a user's families (tests check no token is stored).
    async fn token_hashes_of(&self, user_id: i64) -> Result<Vec<Vec<u8>>>;
    /// The stored opaque-token hashes of a user (tests check no token is stored).
    async fn opaque_hashes_of(&self, user_id: i64) -> Result<Vec<Vec<u8>>>;
    /// Why each of a user's revoked families was revoked, oldest first.
    async fn revoked_reasons_of(&self, user_id: i64) -> Result<Vec<String>>;
}

/// The ids and lifecycle of the access-token signing keys. Nothing secret is stored: each key
/// is derived from `JWT_SECRET` and its id (see `auth::keys`), so every server holding the
/// secret computes the same key, and the database only says which ids are in use.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Every key id ever added, oldest first, with when it was retired (if it was).
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>>;
    /// Adds a key id; `false` if it was already there (several servers starting at once).
    async fn add_signing_key(&self, kid: &str, now: Millis) -> Result<bool>;
    /// Retires a key id: tokens it signed stop verifying. `false` if unknown or retired.
    async fn retire_signing_key(&self, kid: &str, now: Millis) -> Result<bool>;
}

/// Logins through an OpenID Connect provider: which provider accounts belong to which user,
/// and the short-lived values a login passes between its requests.
#[async_trait]
pub trait ExternalLoginStore: Send + Sync {
    /// The user a provider account is linked to.
    async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>>;
    /// Links a provider account to `identity.user_id`; [`StoreError::Conflict`] if that
    /// provider account is already linked (to anyone).
    async fn link_identity(&self, identity: &ExternalIdentity) -> Result<()>;
    /// Creates a user and links a provider account to it, in one transaction (`user_id` of
    /// `identity` is ignored). [`StoreError::Conflict`] if the name is taken or the provider
    /// account already linked: then nothing is written.
    async fn insert_user_with_identity(
        &self,
        username: &str,
        password_hash: &str,
        identity: &ExternalIdentity,
    ) -> Result<i64>;
    /// The provider accounts linked to a user, oldest first.
    async fn identities_of(&self, user_id: i64) -> Result<Vec<ExternalIdentity>>;
    /// Keeps a value until `expires_at`, for one [`take_once`](Self::take_once).
    async fn put_once(
        &self,
        key: &TokenHash,
        purpose: &str,
        payload: &str,
        expires_at: Millis,
    ) -> Result<()>;
    /// Deletes the value under `key` and returns it, if it was kept for `purpose` and has not
    /// expired. A second take of the same key finds nothing.
    async fn take_once(
        &self,
        key: &TokenHash,
        purpose: &str,
        now: Millis,
    ) -> Result<Option<String>>;
}

/// A relational database: everything above in one backend.
pub trait Database:
    UserStore
    + SessionIndex
    + FamilyStore
    + OpaqueStore
    + NoteStore
    + AuditLog
    + Housekeeping
    + Census
    + KeyStore
    + ExternalLoginStore
{
    /// `sqlite` or `postgres`.
    fn kind(&self) -> DatabaseKind;
}

/// The opened storage: the database, handed out as the narrow pieces services take, and the
/// session records.
#[derive(Clone)]
pub struct Store {
    db: Arc<dyn Database>,
    /// Session records (tower-sessions), wherever `SESSION_STORE_URL` put them.
    pub sessions: sessions::SessionRecords,
    /// Throttle counters: in memory, or in Redis when `REDIS_URL` is set.
    pub counters: Arc<dyn counters::Counters>,
    /// The shared Redis, when there is one (several servers).
    pub shared: Option<redis::RedisPool>,
    /// Cluster events to the other servers (nothing without the shared Redis).
    pub events: events::Events,
    shared_url: Option<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("database", &self.db.kind())
            .field("sessions", &self.sessions.kind())
            .field("shared_redis", &self.shared.is_some())
            .finish()
    }
}

/// Where to find each part of the storage.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// `SESSION_STORE_URL`: `redis://…`, or `None` to keep sessions in the database.
    pub session_store_url: Option<String>,
    /// `REDIS_URL` (default: `SESSION_STORE_URL` when that is Redis): where several servers
    /// share what they must agree on — throttle counters, revocation broadcasts.
    pub shared_url: Option<String>,
    /// `REDIS_KEY_PREFIX`: put before every Redis key (default `authlab:`).
    pub redis_prefix: String,
    /// `DATABASE_MAX_CONNECTIONS`: the pool's size.
    pub max_connections: u32,
}

impl Store {
    /// Connects to the configured backends and brings their schemas up to date. Errors name
    /// the variable at fault (bad scheme, unreachable server, refused credentials).
    pub async fn open(config: &StoreConfig) -> anyhow::Result<Self> {
        let (db, sessions): (Arc<dyn Database>, _) =
            match DatabaseKind::of_url(&config.database_url)? {
                DatabaseKind::Sqlite => {
                    let db =
                        sql::sqlite::SqliteDb::open(&config.database_url, config.max_connections)
                            .await?;
                    let sessions = db.session_records().await?;
                    (Arc::new(db), sessions)
                }
                DatabaseKind::Postgres => {
                    let db =
                        sql::postgres::PgDb::open(&config.database_url, config.max_connections)
                            .await?;
                    let sessions = db.session_records().await?;
                    (Arc::new(db), sessions)
                }
            };
        let sessions = match &config.session_store_url {
            None => sessions,
            Some(url) if url == MEMORY_SESSIONS => sessions::SessionRecords::memory(),
            Some(url) => {
                let redis = redis::connect(url, "SESSION_STORE_URL").await?;
                sessions::SessionRecords::redis(redis, &config.redis_prefix)
            }
        };
        let shared = match &config.shared_url {
            None => None,
            Some(url) => Some(redis::connect(url, "REDIS_URL").await?),
        };
        let counters = counters::counters(
            shared
                .clone()
                .map(|pool| (pool, config.redis_prefix.as_str())),
        );
        let events = match &shared {
            Some(pool) => events::Events::redis(pool.clone(), &config.redis_prefix),
            None => events::Events::none(),
        };
        Ok(Self {
            db,
            sessions,
            counters,
            shared,
            events,
            shared_url: config.shared_url.clone(),
        })
    }

    /// The other servers' events, on a connection of its own; `None` without the shared Redis.
    pub async fn subscribe(
        &self,
    ) -> anyhow::Result<Option<tokio::sync::mpsc::Receiver<events::Delivery>>> {
        match &self.shared_url {
            Some(url) => self.events.subscribe(url).await,
            None => Ok(None),
        }
    }

    /// Which database this is.
    pub fn database_kind(&self) -> DatabaseKind {
        self.db.kind()
    }

    /// Accounts.
    pub fn users(&self) -> Arc<dyn UserStore> {
        self.db.clone()
    }

    /// The session index.
    pub fn session_index(&self) -> Arc<dyn SessionIndex> {
        self.db.clone()
    }

    /// Refresh-token families.
    pub fn families(&self) -> Arc<dyn FamilyStore> {
        self.db.clone()
    }

    /// Opaque tokens.
    pub fn opaque(&self) -> Arc<dyn OpaqueStore> {
        self.db.clone()
    }

    /// Notes.
    pub fn notes(&self) -> Arc<dyn NoteStore> {
        self.db.clone()
    }

    /// The audit trail.
    pub fn audit(&self) -> Arc<dyn AuditLog> {
        self.db.clone()
    }

    /// Deleting expired state.
    pub fn housekeeping(&self) -> Arc<dyn Housekeeping> {
        self.db.clone()
    }

    /// Counting what is stored.
    pub fn census(&self) -> Arc<dyn Census> {
        self.db.clone()
    }

    /// The signing keys' ids.
    pub fn keys(&self) -> Arc<dyn KeyStore> {
        self.db.clone()
    }

    /// Provider accounts and the values a provider login passes between its requests.
    pub fn external_logins(&self) -> Arc<dyn ExternalLoginStore> {
        self.db.clone()
    }
}
