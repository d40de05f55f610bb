//! Session records in Redis: one key per session, `<prefix>session:<id>`, holding the record in
//! MessagePack (the encoding of every tower-sessions store), expiring by itself at the
//! session's expiry (`PXAT`).
//!
//! Why not tower-sessions' own `tower-sessions-redis-store`: 0.16.0 is the only release built on
//! tower-sessions-core 0.14 (the line whose SQL store shares our sqlx 0.8), and it has no key
//! prefix (so several apps — or parallel tests — cannot share one Redis) and turns Redis' nil
//! reply to `SET … XX` on a vanished key into an error (fixed upstream, not released): a request
//! whose session was revoked meanwhile would answer 500. This is the same store, with both fixed,
//! in the same commands: `SET NX` to create, `SET XX` to save, `GET`, `DEL`.

use async_trait::async_trait;
use fred::{
    prelude::*,
    types::{Expiration, SetOptions},
};
use futures::StreamExt;
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use super::{RecordBackend, SessionBackendKind};
use crate::store::{Result, StoreError, redis::RedisPool};

/// How many keys `count` reads at most (it is for the lab and tests, not for production sizes).
const COUNT_LIMIT: i64 = 1_000_000;

/// Session records in Redis.
#[derive(Clone)]
pub struct RedisSessions {
    pool: RedisPool,
    prefix: String,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn redis_error(err: Error) -> session_store::Error {
    session_store::Error::Backend(format!("redis: {err}"))
}

fn store_error(err: Error) -> StoreError {
    StoreError::Backend(anyhow::anyhow!("redis: {err}"))
}

/// Milliseconds since the epoch of a record's expiry.
fn expiry_ms(record: &Record) -> i64 {
    i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

impl RedisSessions {
    /// Sessions under `<prefix>session:`.
    pub fn new(pool: RedisPool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: format!("{prefix}session:"),
        }
    }

    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    /// `SET key data PXAT expiry <NX|XX>`: true if Redis set it (nil means the condition failed).
    async fn set(&self, record: &Record, data: Vec<u8>, only: SetOptions) -> FredResult<bool> {
        let reply: Option<String> = self
            .pool
            .set(
                self.key(&record.id),
                data,
                Some(Expiration::PXAT(expiry_ms(record))),
                Some(only),
                false,
            )
            .await?;
        Ok(reply.is_some())
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // An id already taken (128 random bits: never, in practice) gets a new one.
        while !self
            .set(record, data.clone(), SetOptions::NX)
            .await
            .map_err(redis_error)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.set(record, encode(record)?, SetOptions::XX)
            .await
            .map(|_| ())
            .map_err(redis_error)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let data: Option<Vec<u8>> = self
            .pool
            .get(self.key(session_id))
            .await
            .map_err(redis_error)?;
        let Some(data) = data else {
            return Ok(None);
        };
        let record: Record = rmp_serde::from_slice(&data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        // Redis deletes the key at its expiry; this covers the millisecond in between.
        Ok((record.expiry_date > OffsetDateTime::now_utc()).then_some(record))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let _: i64 = self
            .pool
            .del(self.key(session_id))
            .await
            .map_err(redis_error)?;
        Ok(())
    }
}

#[async_trait]
impl RecordBackend for RedisSessions {
    fn kind(&self) -> SessionBackendKind {
        SessionBackendKind::Redis
    }

    fn store(&self) -> &dyn SessionStore {
        self
    }

    async fn update(&self, record: &Record, data: Vec<u8>) -> Result<bool> {
        if record.expiry_date <= OffsetDateTime::now_utc() {
            // Saving an already expired record: it is dead, and so should the key be.
            let _: i64 = self
                .pool
                .del(self.key(&record.id))
                .await
                .map_err(store_error)?;
            return Ok(false);
        }
        self.set(record, data, SetOptions::XX)
            .await
            .map_err(store_error)
    }

    async fn delete_expired(&self) -> Result<()> {
        // Every key carries its own expiry; Redis removes it.
        Ok(())
    }

    async fn size_of(&self, id: &Id) -> Result<Option<i64>> {
        let key = self.key(id);
        let len: i64 = self.pool.strlen(&key).await.map_err(store_error)?;
        Ok((len > 0).then(|| len + i64::try_from(key.len()).unwrap_or(0)))
    }

    async fn count(&self) -> Result<i64> {
        let client = self.pool.next();
        let mut keys = client.scan_buffered(format!("{}*", self.prefix), Some(1_000), None);
        let mut count = 0;
        while let Some(key) = keys.next().await {
            key.map_err(store_error)?;
            count += 1;
            if count >= COUNT_LIMIT {
                break;
            }
        }
        Ok(count)
    }
}
