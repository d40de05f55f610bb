//! The audit trail of auth events, for the lab's timelines. Never holds a secret.

use std::sync::Arc;

use crate::{
    clock::Millis,
    store::{AuditEvent, AuditKind, AuditLog, AuthMode},
};

/// Records auth events. A failure to audit is logged, never allowed to fail the request.
#[derive(Clone)]
pub struct Audit(Arc<dyn AuditLog>);

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Audit")
    }
}

impl Audit {
    /// Writes to `log`.
    pub fn new(log: Arc<dyn AuditLog>) -> Self {
        Self(log)
    }

    /// Appends an event.
    pub async fn record(
        &self,
        at: Millis,
        user_id: Option<i64>,
        kind: AuditKind,
        mode: Option<AuthMode>,
        detail: &str,
    ) {
        let event = AuditEvent {
            at,
            user_id,
            kind,
            mode,
            detail,
        };
        if let Err(err) = self.0.record(&event).await {
            tracing::warn!(error = %err, kind = kind.as_str(), "could not record an auth event");
        }
    }

    /// Records a successful login in `mode` on `device`, in the audit trail and the log.
    pub async fn login_succeeded(&self, at: Millis, user_id: i64, mode: AuthMode, device: &str) {
        self.record(
            at,
            Some(user_id),
            AuditKind::LoginSucceeded,
            Some(mode),
            device,
        )
        .await;
        tracing::info!(user_id, mode = mode.as_str(), device, "login");
    }
}
