//! Devices: everywhere a user is logged in, in any mode, and ending any of them.
//!
//! Cookie sessions are found through the session index (the session store itself cannot be
//! searched by user); token logins are their refresh-token families; opaque tokens are their
//! rows. Revoking a session deletes its record, so its cookie gets 401 on the very next request.
//! Revoking a family stops its refresh token at once, while access tokens already issued live
//! until they expire (unless strict checking is on).

use std::{str::FromStr, sync::Arc};

use app::wire::{Device, DeviceKind, DeviceList};
use tower_sessions::{SessionStore, session::Id};

use crate::{
    audit::Audit,
    auth::{Authentication, scope},
    clock::Clock,
    error::ApiError,
    settings::Settings,
    store::{
        AuditKind, FamilyStore, LoginMethod, OpaqueStore, RevokeReason, SessionIndex,
        sessions::cache::RevocableStore,
    },
};

/// Listing and ending a user's logins.
#[derive(Clone)]
pub struct Devices {
    index: Arc<dyn SessionIndex>,
    sessions: RevocableStore,
    families: Arc<dyn FamilyStore>,
    opaque: Arc<dyn OpaqueStore>,
    settings: Arc<Settings>,
    audit: Audit,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices").finish_non_exhaustive()
    }
}

/// What `end_all` may leave alone: the caller's own login.
#[derive(Clone, Copy)]
struct Keep<'a> {
    device: Option<&'a str>,
    caller: Option<&'a Authentication>,
}

impl Devices {
    /// The service over its pieces.
    pub fn new(
        index: Arc<dyn SessionIndex>,
        sessions: RevocableStore,
        families: Arc<dyn FamilyStore>,
        opaque: Arc<dyn OpaqueStore>,
        settings: Arc<Settings>,
        audit: Audit,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            index,
            sessions,
            families,
            opaque,
            settings,
            audit,
            clock,
        }
    }

    /// The session index (session logins add themselves to it).
    pub fn index(&self) -> &dyn SessionIndex {
        self.index.as_ref()
    }

    /// The caller's live sessions, token logins and opaque tokens, newest first, the caller's
    /// own marked current.
    pub async fn list(&self, auth: &Authentication) -> Result<DeviceList, ApiError> {
        let user_id = auth.user().id;
        let now = self.clock.now_ms();
        let current = auth.device_id();
        let mut devices: Vec<Device> = Vec::new();
        for s in self.index.live_sessions(user_id, now).await? {
            devices.push(Device {
                current: s.device_id == current,
                kind: DeviceKind::Session,
                id: s.device_id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                user_agent: s.client.user_agent,
                ip: s.client.ip,
                login: s.method.as_str().to_owned(),
            });
        }
        for f in self.families.live_families(user_id, now).await? {
            devices.push(Device {
                current: f.id == current,
                kind: DeviceKind::Token,
                id: f.id,
                created_at: f.created_at,
                last_seen_at: f.last_refresh_at,
                expires_at: f.expires_at,
                user_agent: f.client.user_agent,
                ip: f.client.ip,
                login: f.method.as_str().to_owned(),
            });
        }
        for t in self.opaque.opaque_of(user_id).await? {
            devices.push(Device {
                current: t.handle == current,
                kind: DeviceKind::Opaque,
                id: t.handle,
                created_at: t.created_at,
                last_seen_at: t.created_at,
                // An opaque token lives until it is deleted.
                expires_at: i64::MAX,
                user_agent: t.client.user_agent,
                ip: t.client.ip,
                login: LoginMethod::Password.as_str().to_owned(),
            });
        }
        devices.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        Ok(DeviceList { devices })
    }

    /// Ends one of the caller's devices. 404 if it is not theirs (or already gone).
    pub async fn revoke(&self, auth: &Authentication, id: &str) -> Result<(), ApiError> {
        auth.require_scope(scope::WRITE)?;
        let user_id = auth.user().id;
        let now = self.clock.now_ms();
        let ended = if let Some(session_id) = self.index.session_id_of(user_id, id).await? {
            self.end_session(Some(auth), id, &session_id).await?;
            true
        } else {
            self.families
                .revoke_family(Some(user_id), id, RevokeReason::RevokedByUser, now)
                .await?
                || self.opaque.delete_opaque(user_id, id).await?
        };
        if !ended {
            return Err(ApiError::NotFound);
        }
        self.audit
            .record(now, Some(user_id), AuditKind::Revoked, None, id)
            .await;
        tracing::info!(user_id, device = id, "device revoked");
        Ok(())
    }

    /// Ends every device of the caller except (unless `including_current`) the current one.
    pub async fn revoke_all(
        &self,
        auth: &Authentication,
        including_current: bool,
    ) -> Result<u64, ApiError> {
        auth.require_scope(scope::WRITE)?;
        let user_id = auth.user().id;
        let keep = Keep {
            device: (!including_current).then(|| auth.device_id()),
            caller: Some(auth),
        };
        let count = self
            .end_all(user_id, keep, RevokeReason::RevokedByUser)
            .await?;
        let kind = if including_current {
            AuditKind::LogoutEverywhere
        } else {
            AuditKind::RevokedOthers
        };
        self.audit
            .record(self.clock.now_ms(), Some(user_id), kind, None, "")
            .await;
        tracing::info!(user_id, count, kind = kind.as_str(), "devices revoked");
        Ok(count)
    }

    /// The single-session policy: when it is on, a new login first ends every other login of
    /// the user, in every mode. (Access tokens already issued live on until they expire unless
    /// strict checking is on — the same stateless trade-off as logout.)
    pub async fn enforce_single_session(&self, user_id: i64) -> Result<(), ApiError> {
        if !self.settings.for_user(Some(user_id)).single_session {
            return Ok(());
        }
        let keep = Keep {
            device: None,
            caller: None,
        };
        let count = self
            .end_all(user_id, keep, RevokeReason::SingleSession)
            .await?;
        if count > 0 {
            self.audit
                .record(
                    self.clock.now_ms(),
                    Some(user_id),
                    AuditKind::SingleSession,
                    None,
                    &count.to_string(),
                )
                .await;
            tracing::info!(user_id, count, "single-session policy ended older logins");
        }
        Ok(())
    }

    /// Ends all of a user's sessions, token families and opaque tokens, except `keep`.
    async fn end_all(
        &self,
        user_id: i64,
        keep: Keep<'_>,
        reason: RevokeReason,
    ) -> Result<u64, ApiError> {
        let now = self.clock.now_ms();
        let kept = |id: &str| keep.device == Some(id);
        let mut count = 0;
        for (device_id, session_id) in self.index.sessions_of(user_id).await? {
            if !kept(&device_id) {
                self.end_session(keep.caller, &device_id, &session_id)
                    .await?;
                count += 1;
            }
        }
        for family in self.families.unrevoked_family_ids(user_id).await? {
            if !kept(&family)
                && self
                    .families
                    .revoke_family(Some(user_id), &family, reason, now)
                    .await?
            {
                count += 1;
            }
        }
        for token in self.opaque.opaque_of(user_id).await? {
            if !kept(&token.handle) && self.opaque.delete_opaque(user_id, &token.handle).await? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Deletes a session's index entry, then its record. When it is the caller's own session,
    /// the request's handle is flushed too, so the end of this request cannot write it back and
    /// the response clears the cookie.
    ///
    /// The entry goes first, in one statement that returns the session it pointed to *then*:
    /// a login still saving its session (entry pending) finds its entry gone and gives up, and
    /// one that attached in the meantime has its real record deleted here.
    pub async fn end_session(
        &self,
        caller: Option<&Authentication>,
        device_id: &str,
        session_id: &str,
    ) -> Result<(), ApiError> {
        let stored = self.index.remove_session(device_id).await?;
        let session_id = stored.as_deref().unwrap_or(session_id);
        match caller {
            Some(Authentication::Session(own)) if own.data.device_id == device_id => {
                own.session.flush().await?;
            }
            _ => {
                // A pending entry's session was never attached: nothing to delete.
                if let Ok(id) = Id::from_str(session_id) {
                    self.sessions
                        .delete(&id)
                        .await
                        .map_err(|e| ApiError::Internal(anyhow::anyhow!("session store: {e}")))?;
                }
            }
        }
        Ok(())
    }
}
