//! Cluster events: what one server changed that the others hold in memory, broadcast over Redis
//! pub/sub on the channel `<prefix>events`.
//!
//! Each server keeps two things in memory for speed: a read cache of session records and the
//! verified-token cache with its signing keys (and, in the lab, per-user switches). The store
//! stays the source of truth; an event only tells the other servers to drop what they hold:
//!
//! | event | sent when | a receiving server |
//! |---|---|---|
//! | `session <id>` | a session record is deleted (logout, revoke, single-session, id cycling) | writes a tombstone for `<id>` in its session cache |
//! | `keys` | a signing key is added or retired | reloads its keys (and empties its verified-token cache) |
//! | `switches <user> …` | the lab changes a user's switches | applies the same override |
//!
//! Pub/sub delivers at most once, to whoever is connected at that moment. A server that lost
//! its subscription may have missed events, so on every reconnect it first subscribes again
//! (retrying until Redis accepts), and only then empties its session cache and reloads its
//! keys ([`Delivery::Resubscribed`]) — anything deleted while it was away is read fresh. Without Redis (one server, or several on
//! one database with `SESSION_CACHE_SECS` as the bound) publishing does nothing.

use std::{fmt::Write as _, time::Duration};

use anyhow::Context;
use fred::prelude::*;
use tokio::sync::mpsc;

use super::redis::RedisPool;

/// How many received events wait for the server to apply them. A server that falls further
/// behind than the Redis client's own buffer (the same size) drops its caches instead.
const BACKLOG: usize = 1024;
/// How long to wait between attempts to subscribe again after a reconnect.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_millis(200);

/// Something another server changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A session record was deleted.
    SessionEnded(String),
    /// The signing keys changed.
    KeysChanged,
    /// The lab set (`Some`) or cleared (`None`) a user's switches for `millis_left`.
    Switches {
        /// The user.
        user: i64,
        /// Strict token check, CSRF protection, single session; `None` clears the override.
        values: Option<[bool; 3]>,
        /// How much longer the override lasts.
        millis_left: u64,
    },
}

/// What a server's subscription hands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// An event from another server.
    Event(Event),
    /// The subscription was (re)established after a loss, or the backlog overflowed: events
    /// may have been missed, so caches must be dropped.
    Resubscribed,
}

impl Event {
    fn encode(&self, origin: &str) -> String {
        let mut out = format!("{origin} ");
        match self {
            Self::SessionEnded(id) => {
                let _ = write!(out, "session {id}");
            }
            Self::KeysChanged => out.push_str("keys"),
            Self::Switches {
                user,
                values,
                millis_left,
            } => {
                let _ = write!(out, "switches {user} {millis_left}");
                if let Some(values) = values {
                    for v in values {
                        out.push_str(if *v { " 1" } else { " 0" });
                    }
                }
            }
        }
        out
    }

    /// The event in `text` and who sent it; `None` for anything malformed.
    fn decode(text: &str) -> Option<(&str, Self)> {
        let mut parts = text.split(' ');
        let origin = parts.next()?;
        let event = match parts.next()? {
            "session" => Self::SessionEnded(parts.next()?.to_owned()),
            "keys" => Self::KeysChanged,
            "switches" => {
                let user = parts.next()?.parse().ok()?;
                let millis_left = parts.next()?.parse().ok()?;
                let flags: Vec<bool> = parts.by_ref().map(|p| p == "1").collect();
                let values = match flags.as_slice() {
                    [] => None,
                    [a, b, c] => Some([*a, *b, *c]),
                    _ => return None,
                };
                Self::Switches {
                    user,
                    values,
                    millis_left,
                }
            }
            _ => return None,
        };
        Some((origin, event))
    }
}

/// Publishes events to the other servers. Cheap to clone; does nothing without Redis.
#[derive(Clone)]
pub struct Events {
    inner: Option<(RedisPool, String)>,
    origin: String,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("redis", &self.inner.is_some())
            .finish()
    }
}

impl Events {
    /// A single server: nothing to tell anyone.
    pub fn none() -> Self {
        Self {
            inner: None,
            origin: String::new(),
        }
    }

    /// Events on `<prefix>events` of `pool`'s Redis.
    pub fn redis(pool: RedisPool, prefix: &str) -> Self {
        Self {
            inner: Some((pool, format!("{prefix}events"))),
            origin: crate::config::generate_secret()[..12].to_owned(),
        }
    }

    /// Whether events reach other servers.
    pub fn is_shared(&self) -> bool {
        self.inner.is_some()
    }

    /// Tells every other server. A failure is logged and otherwise ignored: the store has the
    /// change, and the other servers' caches expire by themselves (`SESSION_CACHE_SECS`).
    pub async fn publish(&self, event: &Event) {
        let Some((pool, channel)) = &self.inner else {
            return;
        };
        let text = event.encode(&self.origin);
        if let Err(err) = pool
            .next()
            .publish::<i64, _, _>(channel.as_str(), text)
            .await
        {
            tracing::warn!(error = %err, "could not publish a cluster event");
        }
    }

    /// Subscribes with its own connection to `url`: the events of other servers (never this
    /// one's own), and [`Delivery::Resubscribed`] after every reconnect. `None` without Redis.
    pub async fn subscribe(&self, url: &str) -> anyhow::Result<Option<mpsc::Receiver<Delivery>>> {
        let Some((_, channel)) = &self.inner else {
            return Ok(None);
        };
        let config = Config::from_url(url).context("REDIS_URL is not a valid Redis URL")?;
        let subscriber = Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(5);
                c.internal_command_timeout = Duration::from_secs(5);
            })
            .with_performance_config(|p| p.broadcast_channel_capacity = BACKLOG)
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
            .build_subscriber_client()
            .context("REDIS_URL: configuring the subscriber")?;
        let mut messages = subscriber.message_rx();
        let mut reconnects = subscriber.reconnect_rx();
        tokio::time::timeout(Duration::from_secs(5), subscriber.init())
            .await
            .context("REDIS_URL: the subscriber did not connect within 5 s")?
            .context("REDIS_URL: connecting the subscriber")?;
        subscriber
            .subscribe(channel.as_str())
            .await
            .context("REDIS_URL: subscribing to cluster events")?;
        // fred tells of the first connection too; that one is already subscribed.
        while reconnects.try_recv().is_ok() {}
        let (tx, rx) = mpsc::channel(BACKLOG);
        let origin = self.origin.clone();
        let channel = channel.clone();
        tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    message = messages.recv() => match message {
                        Ok(message) => {
                            let Some(text) = message.value.as_string() else { continue };
                            match Event::decode(&text) {
                                Some((from, _)) if from == origin => continue,
                                Some((_, event)) => Delivery::Event(event),
                                None => {
                                    tracing::warn!("ignored a malformed cluster event");
                                    continue;
                                }
                            }
                        }
                        // Fell behind: whatever was missed, dropping the caches covers it.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            Delivery::Resubscribed
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                    reconnect = reconnects.recv() => match reconnect {
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            // Subscribe again first: caches dropped before that could be
                            // filled again with records deleted in the gap.
                            while let Err(err) = subscriber.subscribe(channel.as_str()).await {
                                tracing::warn!(error = %err, "cluster events: subscribing again");
                                tokio::time::sleep(RESUBSCRIBE_PAUSE).await;
                            }
                            tracing::info!("cluster events: subscribed again; dropping caches");
                            Delivery::Resubscribed
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                };
                if tx.send(delivery).await.is_err() {
                    break;
                }
            }
        });
        Ok(Some(rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_the_wire_and_garbage_is_refused() {
        for event in [
            Event::SessionEnded("AbC-_123".into()),
            Event::KeysChanged,
            Event::Switches {
                user: 7,
                values: Some([true, false, true]),
                millis_left: 600_000,
            },
            Event::Switches {
                user: 7,
                values: None,
                millis_left: 0,
            },
        ] {
            let text = event.encode("me");
            assert_eq!(Event::decode(&text), Some(("me", event)));
        }
        for garbage in [
            "",
            "me",
            "me nothing",
            "me switches x 1",
            "me switches 1 2 1 0",
        ] {
            assert_eq!(Event::decode(garbage), None, "{garbage}");
        }
    }
}
