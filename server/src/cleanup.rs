//! Background housekeeping: expired sessions, dead device entries and token families, and old
//! throttle windows are removed every `SESSION_CLEANUP_INTERVAL_SECS`.

use anyhow::Context;
use tower_sessions::session_store::ExpiredDeletion;

use crate::{clock::Millis, state::AppState};

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
    sqlx::query("delete from session_devices where expires_at <= ?")
        .bind(now)
        .execute(&state.db)
        .await
        .context("deleting expired session devices")?;
    sqlx::query(
        "delete from token_families
          where absolute_expires_at <= ?1
             or (revoked_at is not null and revoked_at <= ?1 - ?2)
             or (last_refresh_at <= ?1 - ?2
                 and not exists (select 1 from refresh_tokens t
                                  where t.family_id = token_families.id
                                    and t.used_at is null and t.idle_expires_at > ?1))",
    )
    .bind(now)
    .bind(KEEP_REVOKED_FAMILIES_MS)
    .execute(&state.db)
    .await
    .context("deleting dead token families")?;
    state.throttle.sweep(now);
    Ok(())
}
