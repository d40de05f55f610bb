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
    /// The longest window this key is counted in (to know when it can be dropped).
    span: Millis,
}

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
        if map.len() + keys.len() > MAX_KEYS {
            map.retain(|_, w| now < w.start + w.span);
        }
        if map.len() + keys.len() > MAX_KEYS {
            // Still full: forget the windows that end soonest rather than grow without bound.
            let mut ends: Vec<(Millis, CounterKey)> =
                map.iter().map(|(k, w)| (w.start + w.span, *k)).collect();
            ends.sort_unstable();
            for (_, key) in ends.iter().take(MAX_KEYS / 10) {
                map.remove(key);
            }
        }
        let mut wait: Option<Millis> = None;
        for (key, limit) in keys {
            let w = map.entry(*key).or_insert(Window {
                start: now,
                count: 0,
                span: limit.window_ms,
            });
            if now >= w.start + limit.window_ms {
                *w = Window {
                    start: now,
                    count: 0,
                    span: limit.window_ms,
                };
            }
            w.count = w.count.saturating_add(1);
            if w.count > limit.max {
                let left = w.start + limit.window_ms - now;
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        Ok(wait)
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
  if start == nil or now >= start + window then
    start, n = now, 0
  end
  n = n + 1
  redis.call('HSET', key, 's', start, 'n', n)
  redis.call('PEXPIRE', key, window + 60000)
  if n > max then
    local left = start + window - now
    if left > wait then wait = left end
  end
end
return wait
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
        let key = self.key(key);
        let exists: bool = self.pool.exists(&key).await.map_err(redis_error)?;
        if exists {
            let _: i64 = self
                .pool
                .hincrby(&key, "n", -1)
                .await
                .map_err(redis_error)?;
        }
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
}
