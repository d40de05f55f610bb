//! Running as one of several servers: applying what the others announce.
//!
//! Each app server subscribes to the cluster events (`store::events`) and drops what it holds
//! in memory when another server changes the truth in the store: a deleted session becomes a
//! tombstone in its session cache, changed signing keys are reloaded, a lab override is
//! applied. After a lost subscription it assumes it missed something and empties its session
//! cache and reloads its keys. Keys are also reloaded every [`KEY_RELOAD_EVERY`], which bounds
//! how late a retirement reaches a server that runs without Redis.

use std::{str::FromStr, time::Duration};

use tower_sessions::session::Id;

use crate::{
    state::AppState,
    store::events::{Delivery, Event},
};

/// How often every server reloads its signing keys from the store, events or not.
pub const KEY_RELOAD_EVERY: Duration = Duration::from_secs(60);

/// Subscribes to the other servers' events (when there is a shared Redis) and starts the key
/// reload loop.
pub async fn spawn(state: AppState) -> anyhow::Result<()> {
    if let Some(mut deliveries) = state.store.subscribe().await? {
        let state = state.clone();
        tokio::spawn(async move {
            while let Some(delivery) = deliveries.recv().await {
                apply(&state, delivery).await;
            }
        });
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(KEY_RELOAD_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(err) = state.access_tokens.reload().await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "could not reload the signing keys"
                );
            }
        }
    });
    Ok(())
}

/// Applies one delivery.
pub async fn apply(state: &AppState, delivery: Delivery) {
    match delivery {
        Delivery::Event(Event::SessionEnded(id)) => {
            if let Ok(id) = Id::from_str(&id) {
                state.session_store.forget(&id);
            }
        }
        Delivery::Event(Event::KeysChanged) => reload_keys(state).await,
        Delivery::Event(Event::Switches {
            user,
            values,
            millis_left,
        }) => state.settings.apply_remote(user, values, millis_left),
        Delivery::Resubscribed => {
            state.session_store.drop_cached();
            reload_keys(state).await;
        }
    }
}

async fn reload_keys(state: &AppState) {
    if let Err(err) = state.access_tokens.reload().await {
        tracing::warn!(
            error = format!("{err:#}"),
            "could not reload the signing keys"
        );
    }
}
