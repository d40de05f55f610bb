//! Background housekeeping: expired sessions, dead device entries and token families, and old
//! throttle windows are removed every `SESSION_CLEANUP_INTERVAL_SECS`.

use anyhow::Context;
use tower_sessions::session_store::ExpiredDeletion;

use crate::{clock::Millis, state::AppState, store::Swept};

/// Revoked token families stay visible (for the lab's timelines) this long before deletion.
const KEEP_REVOKED_FAMILIES_MS: Millis = 24 * 60 * 60 * 1000;

/// Starts the cleanup loop on the runtime.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(state.config.session.cleanup_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(err) = run_once(&state).await {
                tracing::warn!(error = format!("{err:#}"), "cleanup failed; will retry");
            }
        }
    });
}

/// One pass of every cleanup.
pub async fn run_once(state: &AppState) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    state
        .session_store
        .delete_expired()
        .await
        .context("deleting expired sessions")?;
    let swept = state
        .store
        .housekeeping()
        .sweep(now, KEEP_REVOKED_FAMILIES_MS)
        .await
        .context("deleting expired index entries and dead token families")?;
    if swept != Swept::default() {
        tracing::debug!(
            session_entries = swept.session_entries,
            families = swept.families,
            "cleanup"
        );
    }
    state.throttle.sweep(now);
    Ok(())
}
