//! The session store: tower-sessions' SQLite store, with one rule changed.
//!
//! The stock `save` is an upsert. That opens a lost-update race: a request that loaded session
//! B and refreshed its idle expiry writes B back at the end of the request, so if the user
//! revoked B in the meantime, B comes back to life. Here `save` only *updates* an existing
//! record; a revoked (deleted) session stays deleted. New sessions still go through `create`.

use async_trait::async_trait;
use sqlx::SqlitePool;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};
use tower_sessions_sqlx_store::SqliteStore;

/// [`SqliteStore`] whose `save` never resurrects a deleted session.
#[derive(Debug, Clone)]
pub struct RevocableStore {
    inner: SqliteStore,
    pool: SqlitePool,
}

/// The table the inner store created (its default name).
const TABLE: &str = "tower_sessions";

impl RevocableStore {
    /// Wraps the store that uses `pool`.
    pub fn new(inner: SqliteStore, pool: SqlitePool) -> Self {
        Self { inner, pool }
    }
}

#[async_trait]
impl SessionStore for RevocableStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Same encoding as the inner store (MessagePack), so `load` reads it back; a test
        // below round-trips through both.
        let data =
            rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query(&format!(
            "update {TABLE} set data = ?, expiry_date = ? where id = ?"
        ))
        .bind(data)
        .bind(record.expiry_date)
        .bind(record.id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| session_store::Error::Backend(e.to_string()))?;
        // Zero rows updated means the session was revoked or expired meanwhile: leave it dead.
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        self.inner.load(session_id).await
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.inner.delete(session_id).await
    }
}

#[async_trait]
impl ExpiredDeletion for RevocableStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.inner.delete_expired().await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::{Duration, OffsetDateTime};

    use super::*;

    async fn store() -> RevocableStore {
        // One connection: every connection to `:memory:` is a different database.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let inner = SqliteStore::new(pool.clone());
        inner.migrate().await.unwrap();
        RevocableStore::new(inner, pool)
    }

    fn record() -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("k".to_owned(), serde_json::json!(1))]),
            expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
        }
    }

    #[tokio::test]
    async fn saving_a_live_session_updates_it_readably() {
        let store = store().await;
        let mut rec = record();
        store.create(&mut rec).await.unwrap();
        rec.data.insert("k".into(), serde_json::json!(2));
        store.save(&rec).await.unwrap();
        let loaded = store.load(&rec.id).await.unwrap().unwrap();
        assert_eq!(loaded.data["k"], 2);
    }

    #[tokio::test]
    async fn saving_a_deleted_session_does_not_bring_it_back() {
        let store = store().await;
        let mut rec = record();
        store.create(&mut rec).await.unwrap();
        store.delete(&rec.id).await.unwrap();
        store.save(&rec).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
    }
}
