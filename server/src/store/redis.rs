//! Redis: the connection every Redis-backed part of authlab shares (one `fred` pool).

use std::time::Duration;

use anyhow::{Context, anyhow};
use fred::prelude::*;

/// How long start-up waits for Redis before giving up with an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the pool.
const POOL_SIZE: usize = 4;

/// A connected Redis pool. Cheap to clone.
pub type RedisPool = Pool;

/// Connects to `url` and checks that Redis answers. `variable` names the setting in errors.
pub async fn connect(url: &str, variable: &str) -> anyhow::Result<RedisPool> {
    if !url.starts_with("redis://") && !url.starts_with("rediss://") {
        return Err(anyhow!(
            "{variable} must be a redis:// URL (e.g. redis://127.0.0.1:6379), not `{}`",
            url.split(':').next().unwrap_or("")
        ));
    }
    let config =
        Config::from_url(url).with_context(|| format!("{variable} is not a valid Redis URL"))?;
    let pool = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = CONNECT_TIMEOUT;
            c.internal_command_timeout = CONNECT_TIMEOUT;
        })
        .with_performance_config(|p| {
            p.default_command_timeout = CONNECT_TIMEOUT;
        })
        // After start-up, a lost connection is retried forever with backoff (100 ms to 2 s).
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build_pool(POOL_SIZE)
        .with_context(|| format!("{variable}: configuring the Redis client"))?;
    let reached = tokio::time::timeout(CONNECT_TIMEOUT, pool.init()).await;
    match reached {
        Ok(Ok(_task)) => {}
        Ok(Err(err)) => return Err(anyhow!("{variable}: cannot connect to Redis: {err}")),
        Err(_) => {
            return Err(anyhow!(
                "{variable}: Redis did not answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            ));
        }
    }
    let pong: String = pool
        .ping(None)
        .await
        .map_err(|err| anyhow!("{variable}: Redis refused the connection: {err}"))?;
    anyhow::ensure!(
        pong == "PONG",
        "{variable}: Redis answered PING with `{pong}`"
    );
    Ok(pool)
}
