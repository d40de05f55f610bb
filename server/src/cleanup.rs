//! Background housekeeping: expired sessions, dead device entries and token families, and old
//! throttle windows are removed every `SESSION_CLEANUP_INTERVAL_SECS`.

use anyhow::Context;
use tower_sessions::session_store::ExpiredDeletion;

use crate::{
    clock::Millis,
    state::AppState,
    store::{Retained, Retention, Swept},
};

const DAY_MS: Millis = 24 * 60 * 60 * 1000;
/// Revoked token families stay visible (for the lab's timelines) this long before deletion.
const KEEP_REVOKED_FAMILIES_MS: Millis = DAY_MS;
/// Audit events are kept this long.
const KEEP_EVENTS_MS: Millis = 90 * DAY_MS;
/// Each user keeps this many newest notes.
const NOTES_PER_USER: i64 = 200;
/// The lab's throwaway users (made by experiments, the compare view and the lab window)
/// live this long. Only swept where the lab is on: production has no lab users, and a real
/// account whose name happens to share a prefix is never touched there.
const THROWAWAY_PREFIXES: [&str; 3] = ["lab-", "labw-", "cmp-"];
const KEEP_THROWAWAY_USERS_MS: Millis = DAY_MS;

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
    let retained = state
        .store
        .housekeeping()
        .retain(&retention(now, state.config.lab_switches))
        .await
        .context("deleting old audit events, notes and throwaway users")?;
    if retained != Retained::default() {
        tracing::debug!(
            events = retained.events,
            notes = retained.notes,
            throwaway_users = retained.users,
            "retention"
        );
    }
    state.throttle.sweep().await;
    Ok(())
}

/// What a pass at `now` deletes.
fn retention(now: Millis, lab: bool) -> Retention {
    Retention {
        events_before: now - KEEP_EVENTS_MS,
        notes_per_user: NOTES_PER_USER,
        throwaway_prefixes: if lab {
            THROWAWAY_PREFIXES.to_vec()
        } else {
            Vec::new()
        },
        throwaway_before: now - KEEP_THROWAWAY_USERS_MS,
    }
}
