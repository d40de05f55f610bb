//! The audit trail of auth events, for the lab's timelines. Never holds a secret.

use sqlx::SqlitePool;

use crate::clock::Millis;

/// Appends an event. A failure to audit is logged, never allowed to fail the request.
pub async fn record(
    db: &SqlitePool,
    at: Millis,
    user_id: Option<i64>,
    kind: &str,
    mode: Option<&str>,
    detail: &str,
) {
    let result = sqlx::query(
        "insert into auth_events (at, user_id, kind, mode, detail) values (?, ?, ?, ?, ?)",
    )
    .bind(at)
    .bind(user_id)
    .bind(kind)
    .bind(mode)
    .bind(detail)
    .execute(db)
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, kind, "could not record an auth event");
    }
}

/// Records a successful login in `mode` on `device`, in the audit trail and the log.
pub async fn login_succeeded(db: &SqlitePool, at: Millis, user_id: i64, mode: &str, device: &str) {
    record(db, at, Some(user_id), "login_succeeded", Some(mode), device).await;
    tracing::info!(user_id, mode, device, "login");
}
