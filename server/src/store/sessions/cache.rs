//! The session store the app uses: the configured [`SessionRecords`] (whose `save` never
//! resurrects a deleted session), with a read cache.
//!
//! **Reads are cached.** Every cookie-authenticated request loads its session; going to the
//! database or Redis each time costs more than everything else the request does. Records are kept in memory after
//! the first load. The database stays the source of truth, and the cache never outlives it:
//! deleting a session leaves a *tombstone* that any racing load or save must respect, so
//! revocation on this server is immediate. Other servers sharing the database would trust their
//! own cached copy for at most `SESSION_CACHE_SECS` (0 turns the cache off) — the bound on how
//! late a revocation reaches them.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};

use super::SessionRecords;
use crate::store::events::{Event, Events};
/// Independent locks, so concurrent requests rarely wait for each other.
const SHARDS: usize = 16;
/// Entries per shard before expired ones are swept (and, if still full, the shard is emptied).
const SHARD_CAPACITY: usize = 8_192;
/// How long a tombstone outlives the delete that wrote it (covers any in-flight race).
const TOMBSTONE_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
enum Entry {
    /// A record as last read from or written to the database, and when that was.
    Live {
        record: Record,
        cached_at: OffsetDateTime,
    },
    /// Deleted at this time: loads answer "no session" and racing writes are ignored.
    Gone { until: OffsetDateTime },
}

/// [`SessionRecords`] with a read cache that never outlives a delete. Cheap to clone: clones
/// share the cache.
#[derive(Debug, Clone)]
pub struct RevocableStore {
    inner: SessionRecords,
    events: Events,
    cache_for: Option<time::Duration>,
    shards: Arc<[Mutex<HashMap<Id, Entry>>]>,
    hasher: RandomState,
}

impl RevocableStore {
    /// Wraps the records; `cache_for` zero turns the read cache off. Deletes are announced
    /// on `events`, so other servers drop their cached copy.
    pub fn new(inner: SessionRecords, cache_for: Duration, events: Events) -> Self {
        Self {
            inner,
            events,
            cache_for: (!cache_for.is_zero())
                .then(|| time::Duration::try_from(cache_for).unwrap_or(time::Duration::MINUTE)),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn with_shard<T>(&self, id: &Id, f: impl FnOnce(&mut HashMap<Id, Entry>) -> T) -> Option<T> {
        // No cache configured: every call goes to the database.
        self.cache_for?;
        let index = (self.hasher.hash_one(id) as usize) % SHARDS;
        let mut shard = self.shards[index].lock().ok()?;
        if shard.len() >= SHARD_CAPACITY {
            let now = OffsetDateTime::now_utc();
            shard.retain(|_, e| match e {
                Entry::Live { record, .. } => record.expiry_date > now,
                Entry::Gone { until } => *until > now,
            });
            if shard.len() >= SHARD_CAPACITY {
                shard.clear();
            }
        }
        Some(f(&mut shard))
    }

    /// Leaves a tombstone for `id` (another server deleted it): loads answer "no session" and
    /// racing writes are ignored here, as if the delete had happened on this server.
    pub fn forget(&self, id: &Id) {
        let until = OffsetDateTime::now_utc()
            + time::Duration::try_from(TOMBSTONE_LIFETIME).unwrap_or(time::Duration::MINUTE);
        self.with_shard(id, |shard| {
            shard.insert(*id, Entry::Gone { until });
        });
    }

    /// Drops every cached record (events may have been missed); tombstones stay.
    pub fn drop_cached(&self) {
        for shard in self.shards.iter() {
            if let Ok(mut shard) = shard.lock() {
                shard.retain(|_, e| matches!(e, Entry::Gone { .. }));
            }
        }
    }

    /// Caches a record unless a delete got there first.
    fn remember(&self, record: &Record) {
        let now = OffsetDateTime::now_utc();
        self.with_shard(&record.id, |shard| {
            let deleted =
                matches!(shard.get(&record.id), Some(Entry::Gone { until }) if *until > now);
            if !deleted {
                shard.insert(
                    record.id,
                    Entry::Live {
                        record: record.clone(),
                        cached_at: now,
                    },
                );
            }
        });
    }
}

/// What the cache knows about an id.
enum Cached {
    Hit(Record),
    Deleted,
    Miss,
}

#[async_trait]
impl SessionStore for RevocableStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.remember(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Not updated means the session was revoked or expired meanwhile: leave it dead.
        if self.inner.update(record).await? {
            self.remember(record);
        }
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc();
        let cache_for = self.cache_for.unwrap_or(time::Duration::ZERO);
        let cached = self
            .with_shard(session_id, |shard| match shard.get(session_id) {
                Some(Entry::Live { record, cached_at })
                    if record.expiry_date > now && now - *cached_at < cache_for =>
                {
                    Cached::Hit(record.clone())
                }
                Some(Entry::Gone { until }) if *until > now => Cached::Deleted,
                Some(_) => {
                    shard.remove(session_id);
                    Cached::Miss
                }
                None => Cached::Miss,
            })
            .unwrap_or(Cached::Miss);
        match cached {
            Cached::Hit(record) => Ok(Some(record)),
            Cached::Deleted => Ok(None),
            Cached::Miss => {
                let loaded = self.inner.load(session_id).await?;
                if let Some(record) = &loaded {
                    self.remember(record);
                }
                // A delete that raced this read wins.
                let deleted = self
                    .with_shard(session_id, |shard| {
                        matches!(shard.get(session_id), Some(Entry::Gone { until }) if *until > now)
                    })
                    .unwrap_or(false);
                Ok(if deleted { None } else { loaded })
            }
        }
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.inner.delete(session_id).await?;
        self.forget(session_id);
        self.events
            .publish(&Event::SessionEnded(session_id.to_string()))
            .await;
        Ok(())
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
    use crate::store::{Store, StoreConfig};

    /// A store on a fresh SQLite file (the other backends run the same checks in the API suite).
    async fn store(
        cache: std::time::Duration,
    ) -> (RevocableStore, SessionRecords, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "authlab-cache-{}",
            crate::config::generate_secret()
        ));
        let store = Store::open(&StoreConfig {
            database_url: format!("sqlite://{}/t.db?mode=rwc", dir.display()),
            session_store_url: None,
            shared_url: None,
            redis_prefix: "authlab:".into(),
            max_connections: 2,
        })
        .await
        .unwrap();
        let records = store.sessions.clone();
        (
            RevocableStore::new(records.clone(), cache, Events::none()),
            records,
            dir,
        )
    }

    fn record() -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("k".to_owned(), serde_json::json!(1))]),
            expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
        }
    }

    const CACHED: std::time::Duration = std::time::Duration::from_secs(5);
    const UNCACHED: std::time::Duration = std::time::Duration::ZERO;

    #[tokio::test]
    async fn saving_a_live_session_updates_it_readably() {
        for cache in [CACHED, UNCACHED] {
            let (store, records, dir) = store(cache).await;
            let mut rec = record();
            store.create(&mut rec).await.unwrap();
            rec.data.insert("k".into(), serde_json::json!(2));
            store.save(&rec).await.unwrap();
            let loaded = store.load(&rec.id).await.unwrap().unwrap();
            assert_eq!(loaded.data["k"], 2);
            // And the backend itself has it (not just the cache).
            let fresh = records.load(&rec.id).await.unwrap().unwrap();
            assert_eq!(fresh.data["k"], 2);
            std::fs::remove_dir_all(dir).ok();
        }
    }

    #[tokio::test]
    async fn saving_a_deleted_session_does_not_bring_it_back() {
        for cache in [CACHED, UNCACHED] {
            let (store, records, dir) = store(cache).await;
            let mut rec = record();
            store.create(&mut rec).await.unwrap();
            store.load(&rec.id).await.unwrap();
            store.delete(&rec.id).await.unwrap();
            store.save(&rec).await.unwrap();
            assert!(store.load(&rec.id).await.unwrap().is_none());
            assert!(records.load(&rec.id).await.unwrap().is_none());
            std::fs::remove_dir_all(dir).ok();
        }
    }

    #[tokio::test]
    async fn a_session_deleted_behind_the_cache_is_seen_after_the_cache_age() {
        let (store, records, dir) = store(std::time::Duration::from_millis(50)).await;
        let mut rec = record();
        store.create(&mut rec).await.unwrap();
        // Another server deletes it directly in the shared backend.
        records.delete(&rec.id).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(80)).await;
        assert!(store.load(&rec.id).await.unwrap().is_none());
        std::fs::remove_dir_all(dir).ok();
    }
}
