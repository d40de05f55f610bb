//! Attempt counters for the throttle: fixed windows, counted and checked in one atomic step.
//!
//! In memory for one server; in Redis (`REDIS_URL`) when several servers must count together,
//! so spreading guesses over servers meets the same limit as hitting one. Both keep the same
//! rules, and both take "now" from the caller (the server's clock), so tests can move time.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use fred::prelude::*;

use super::{Result, StoreError, redis::RedisPool};
use crate::clock::Millis;

/// A counter's key: 128 bits of a hash of what it counts (an account, a client network), so
/// it takes the same room whatever an attacker sends.
pub type CounterKey = [u8; 16];

/// At most `max` attempts per `window_ms`, the window starting at its first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts allowed in a window.
    pub max: u32,
    /// Window length, milliseconds.
    pub window_ms: Millis,
}

/// Attempt counters.
#[async_trait]
pub trait Counters: Send + Sync {
    /// Counts one attempt against every key, atomically, and returns how long to wait (ms)
    /// if any key is now over its limit (the attempt then must not proceed), else `None`.
    async fn hit(&self, keys: &[(CounterKey, Limit)], now: Millis) -> Result<Option<Millis>>;
    /// Takes one attempt back (it turned out to be a successful login).
    async fn take_back(&self, key: &CounterKey, now: Millis) -> Result<()>;
    /// Forgets a key entirely.
    async fn forget(&self, key: &CounterKey) -> Result<()>;
    /// Drops windows that have ended (memory only; Redis expires them itself).
    async fn sweep(&self, now: Millis);
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Millis,
    count: u32,
    /// The window's length (to know when it can be dropped).
    span: Millis,
    /// The key's limit (a key at its limit is never evicted to make room).
    max: u32,
}

impl Window {
    fn fresh(now: Millis, limit: Limit) -> Self {
        Self {
            start: now,
            count: 0,
            span: limit.window_ms,
            max: limit.max,
        }
    }
}

/// When the map is full of keys at their limit, a new attempt waits this long.
const FULL_WAIT_MS: Millis = 60_000;

/// Most keys kept in memory. Each is 16 bytes plus a small window: about 5 MB in all.
const MAX_KEYS: usize = 100_000;

/// Counters in this process's memory.
#[derive(Debug, Default)]
pub struct MemoryCounters(Mutex<HashMap<CounterKey, Window>>);

impl MemoryCounters {
    /// Empty counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keys held (tests check the map stays bounded).
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Counters for MemoryCounters {
    async fn hit(&self, keys: &[(CounterKey, Limit)], now: Millis) -> Result<Option<Millis>> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| StoreError::Backend(anyhow::anyhow!("throttle counters poisoned")))?;
        // A key already at its limit refuses the attempt, and then nothing is counted or
        // created: a refused client cannot fill the map.
        let mut wait: Option<Millis> = None;
        for (key, limit) in keys {
            if let Some(w) = map.get(key)
                && now < w.start + limit.window_ms
                && w.count >= limit.max
            {
                let left = w.start + limit.window_ms - now;
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        if wait.is_some() {
            return Ok(wait);
        }
        if map.len() + keys.len() > MAX_KEYS {
            map.retain(|_, w| now < w.start + w.span);
        }
        if map.len() + keys.len() > MAX_KEYS {
            // Still full: forget the least-used keys, never one at its limit (that would hand
            // its owner a fresh allowance). If every key is at its limit, refuse.
            let mut spare: Vec<(u32, CounterKey)> = map
                .iter()
                .filter(|(_, w)| w.count < w.max)
                .map(|(k, w)| (w.count, *k))
                .collect();
            spare.sort_unstable();
            for (_, key) in spare.iter().take(MAX_KEYS / 10) {
                map.remove(key);
            }
            if map.len() + keys.len() > MAX_KEYS {
                return Ok(Some(FULL_WAIT_MS));
            }
        }
        for (key, limit) in keys {
            let w = map.entry(*key).or_insert(Window::fresh(now, *limit));
            if now >= w.start + limit.window_ms {
                *w = Window::fresh(now, *limit);
            }
            w.count = w.count.saturating_add(1);
        }
        Ok(None)
    }

    async fn take_back(&self, key: &CounterKey, _now: Millis) -> Result<()> {
        if let Ok(mut map) = self.0.lock()
            && let Some(w) = map.get_mut(key)
        {
            w.count = w.count.saturating_sub(1);
        }
        Ok(())
    }

    async fn forget(&self, key: &CounterKey) -> Result<()> {
        if let Ok(mut map) = self.0.lock() {
            map.remove(key);
        }
        Ok(())
    }

    async fn sweep(&self, now: Millis) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, w| now < w.start + w.span);
        }
    }
}

/// The same rules as [`MemoryCounters::hit`], run inside Redis so that concurrent attempts on
/// several servers are counted one after another. Each key is a hash `{s: start, n: count}`;
/// Redis deletes it a minute after its window could have ended.
const HIT: &str = r"
local now = tonumber(ARGV[1])
local wait = -1
for i, key in ipairs(KEYS) do
  local max = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local v = redis.call('HMGET', key, 's', 'n')
  local start, n = tonumber(v[1]), tonumber(v[2])
  if start ~= nil and now < start + window and n >= max then
    local left = start + window - now
    if left > wait then wait = left end
  end
end
if wait >= 0 then return wait end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i + 1])
  local v = redis.call('HMGET', key, 's', 'n')
  local start, n = tonumber(v[1]), tonumber(v[2])
  if start == nil or now >= start + window then
    start, n = now, 0
  end
  redis.call('HSET', key, 's', start, 'n', n + 1)
  redis.call('PEXPIRE', key, window + 60000)
end
return -1
";

/// Takes one attempt back, only from a counter that still exists (never creates one).
const TAKE_BACK: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0
";

/// Counters in Redis, shared by every server.
#[derive(Clone)]
pub struct RedisCounters {
    pool: RedisPool,
    prefix: String,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn redis_error(err: Error) -> StoreError {
    StoreError::Backend(anyhow::anyhow!("redis: {err}"))
}

impl RedisCounters {
    /// Counters under `<prefix>throttle:`.
    pub fn new(pool: RedisPool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: format!("{prefix}throttle:"),
        }
    }

    fn key(&self, key: &CounterKey) -> String {
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{hex}", self.prefix)
    }
}

#[async_trait]
impl Counters for RedisCounters {
    async fn hit(&self, keys: &[(CounterKey, Limit)], now: Millis) -> Result<Option<Millis>> {
        let names: Vec<String> = keys.iter().map(|(k, _)| self.key(k)).collect();
        let mut args: Vec<i64> = vec![now];
        for (_, limit) in keys {
            args.push(i64::from(limit.max));
            args.push(limit.window_ms);
        }
        let wait: i64 = self
            .pool
            .eval(HIT, names, args)
            .await
            .map_err(redis_error)?;
        Ok((wait >= 0).then_some(wait))
    }

    async fn take_back(&self, key: &CounterKey, _now: Millis) -> Result<()> {
        let _: i64 = self
            .pool
            .eval(TAKE_BACK, vec![self.key(key)], Vec::<i64>::new())
            .await
            .map_err(redis_error)?;
        Ok(())
    }

    async fn forget(&self, key: &CounterKey) -> Result<()> {
        let _: i64 = self.pool.del(self.key(key)).await.map_err(redis_error)?;
        Ok(())
    }

    async fn sweep(&self, _now: Millis) {}
}

/// The counters to use: Redis when there is one to share, else memory.
pub fn counters(redis: Option<(RedisPool, &str)>) -> Arc<dyn Counters> {
    match redis {
        Some((pool, prefix)) => Arc::new(RedisCounters::new(pool, prefix)),
        None => Arc::new(MemoryCounters::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: CounterKey = [7; 16];
    const LIMIT: Limit = Limit {
        max: 3,
        window_ms: 60_000,
    };

    #[tokio::test]
    async fn a_key_over_its_limit_waits_until_its_window_ends() {
        let c = MemoryCounters::new();
        for _ in 0..3 {
            assert_eq!(c.hit(&[(KEY, LIMIT)], 0).await.unwrap(), None);
        }
        assert_eq!(c.hit(&[(KEY, LIMIT)], 1_000).await.unwrap(), Some(59_000));
        assert_eq!(c.hit(&[(KEY, LIMIT)], 60_000).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_taken_back_attempt_does_not_count() {
        let c = MemoryCounters::new();
        for _ in 0..3 {
            c.hit(&[(KEY, LIMIT)], 0).await.unwrap();
            c.take_back(&KEY, 0).await.unwrap();
        }
        assert_eq!(c.hit(&[(KEY, LIMIT)], 0).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_map_never_grows_past_its_bound() {
        let c = MemoryCounters::new();
        for i in 0..(MAX_KEYS as u32 + 5_000) {
            let mut key = [0u8; 16];
            key[..4].copy_from_slice(&i.to_le_bytes());
            c.hit(&[(key, LIMIT)], 0).await.unwrap();
        }
        assert!(c.len() <= MAX_KEYS, "{}", c.len());
    }

    #[tokio::test]
    async fn a_refused_attempt_counts_nothing_and_creates_no_key() {
        let c = MemoryCounters::new();
        let other: CounterKey = [9; 16];
        for _ in 0..3 {
            c.hit(&[(KEY, LIMIT)], 0).await.unwrap();
        }
        for _ in 0..50 {
            assert!(
                c.hit(&[(KEY, LIMIT), (other, LIMIT)], 10)
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        assert_eq!(c.len(), 1, "the refused attempts created no second key");
    }

    #[tokio::test]
    async fn a_full_map_never_evicts_a_key_at_its_limit() {
        let c = MemoryCounters::new();
        for _ in 0..3 {
            c.hit(&[(KEY, LIMIT)], 0).await.unwrap();
        }
        // A flood of fresh keys fills the map again and again ...
        for i in 0..(2 * MAX_KEYS as u32) {
            let mut key = [0u8; 16];
            key[..4].copy_from_slice(&i.to_le_bytes());
            key[15] = 1;
            c.hit(&[(key, LIMIT)], 0).await.unwrap();
        }
        // ... and the client at its limit is still refused.
        assert!(c.hit(&[(KEY, LIMIT)], 0).await.unwrap().is_some());
    }
}
