//! Session records: where tower-sessions keeps cookie sessions.
//!
//! Three backends, one behaviour:
//!
//! | backend | where | expiry |
//! |---|---|---|
//! | SQLite | table `tower_sessions` (tower-sessions' `SqliteStore`) | a sweep every `SESSION_CLEANUP_INTERVAL_SECS` |
//! | PostgreSQL | table `tower_sessions` (tower-sessions' `PostgresStore`) | the same sweep |
//! | Redis | keys `<prefix>session:<id>` ([`redis::RedisSessions`]) | Redis deletes each key at its expiry (`PXAT`) |
//! | memory (`SESSION_STORE_URL=memory:`) | this process only ([`memory::MemorySessions`]) | the same sweep |
//!
//! **Saving never resurrects.** tower-sessions writes a session back at the end of every
//! request that changed it. The stock SQL stores upsert, which opens a lost-update race: a
//! request that loaded session B writes B back after the user revoked it, and B lives again.
//! Here `save` only *updates* a record that still exists (`UPDATE … WHERE id`, Redis `SET … XX`);
//! new sessions go through `create`. [`cache::RevocableStore`] adds a read cache on top.

pub mod cache;
pub mod memory;
pub mod redis;

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};

use super::{Result, StoreError};

/// Which backend holds the session records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionBackendKind {
    /// The SQLite database.
    Sqlite,
    /// The PostgreSQL database.
    Postgres,
    /// Redis.
    Redis,
    /// This process's memory.
    Memory,
}

impl SessionBackendKind {
    /// `sqlite`, `postgres` or `redis`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::Redis => "redis",
            Self::Memory => "memory",
        }
    }
}

/// One session-record backend.
#[async_trait]
pub trait RecordBackend: fmt::Debug + Send + Sync {
    /// Which one it is.
    fn kind(&self) -> SessionBackendKind;
    /// The tower-sessions store that creates, loads and deletes records.
    fn store(&self) -> &dyn SessionStore;
    /// Writes `data` (the encoded record) over an existing record. Returns false, writing
    /// nothing, when the record no longer exists.
    async fn update(&self, record: &Record, data: Vec<u8>) -> Result<bool>;
    /// Deletes expired records (a no-op where the backend expires them itself).
    async fn delete_expired(&self) -> Result<()>;
    /// Bytes stored for one record (key or id included), if it exists.
    async fn size_of(&self, id: &Id) -> Result<Option<i64>>;
    /// How many records are stored.
    async fn count(&self) -> Result<i64>;
}

/// The configured backend, as a tower-sessions store whose `save` never resurrects.
/// Cheap to clone.
#[derive(Clone)]
pub struct SessionRecords(Arc<dyn RecordBackend>);

impl fmt::Debug for SessionRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SessionRecords").field(&self.kind()).finish()
    }
}

impl SessionRecords {
    /// Wraps a backend.
    pub fn new(backend: impl RecordBackend + 'static) -> Self {
        Self(Arc::new(backend))
    }

    /// Records in this process's memory.
    pub fn memory() -> Self {
        Self::new(memory::MemorySessions::default())
    }

    /// Records in Redis, under `prefix`.
    pub fn redis(pool: super::redis::RedisPool, prefix: &str) -> Self {
        Self::new(redis::RedisSessions::new(pool, prefix))
    }

    /// Which backend this is.
    pub fn kind(&self) -> SessionBackendKind {
        self.0.kind()
    }

    /// Bytes stored for one record.
    pub async fn size_of(&self, id: &Id) -> Result<Option<i64>> {
        self.0.size_of(id).await
    }

    /// How many records are stored.
    pub async fn count(&self) -> Result<i64> {
        self.0.count().await
    }

    /// Writes an existing record; false if it was deleted meanwhile (then nothing is written).
    pub async fn update(&self, record: &Record) -> session_store::Result<bool> {
        // MessagePack, as every tower-sessions store encodes records (`load` reads it back).
        let data =
            rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        self.0.update(record, data).await.map_err(backend_error)
    }
}

/// A store error as tower-sessions reports it.
pub fn backend_error(err: StoreError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

#[async_trait]
impl SessionStore for SessionRecords {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.store().create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.update(record).await.map(|_| ())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        self.0.store().load(session_id).await
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.0.store().delete(session_id).await
    }
}

#[async_trait]
impl ExpiredDeletion for SessionRecords {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.0.delete_expired().await.map_err(backend_error)
    }
}
