//! Cookie-session mode.
//!
//! The browser holds only an opaque, random session id in an HttpOnly cookie; everything else
//! (who the user is, when they logged in) lives in the server's store. That costs one store
//! lookup per request and buys instant revocation: delete the record and the cookie is dead.
//!
//! Lifetimes, both enforced here on the server (the cookie's own expiry is only a hint):
//!
//! * **idle**: `SESSION_IDLE_TIMEOUT_SECS` without a request ends the session. The timer slides
//!   with activity, but the store is written at most once per *touch interval* (a tenth of the
//!   idle timeout, at most a minute), not on every request — so the effective idle timeout is
//!   between `idle - touch` and `idle`.
//! * **absolute**: `SESSION_ABSOLUTE_TIMEOUT_SECS` after login the session ends however active
//!   it is; the sliding expiry never moves past it.

use std::{sync::Arc, time::Duration};

use app::wire::SessionInfo;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::{Expiry, Session};

use super::AuthUser;
use crate::{
    accounts::User,
    audit::Audit,
    client::ClientInfo,
    clock::{Clock, Millis, ms},
    config::SessionConfig,
    devices::Devices,
    error::ApiError,
    store::{AuditKind, AuthMode, LoginMethod, PENDING_SESSION, SessionEntry},
    timing::ServerTiming,
};

/// The key under which the login is stored in the session record.
const KEY: &str = "login";

/// What the server remembers about a logged-in session.
///
/// Stored as a JSON array rather than an object (see [`Stored`]): every cookie request clones
/// and decodes this record, and an array carries no field names to allocate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "Stored", from = "Stored")]
pub struct SessionData {
    /// The user.
    pub user_id: i64,
    /// Their name, so `/api/me` needs no second lookup.
    pub username: String,
    /// Public handle of this session in the devices list.
    pub device_id: String,
    /// Login time.
    pub created_at: Millis,
    /// Last time the idle timer was reset.
    pub last_seen_at: Millis,
    /// `created_at` + the absolute timeout.
    pub absolute_expires_at: Millis,
    /// This session's idle timeout, if not the configured one (the lab's short demos).
    pub idle_ms: Option<Millis>,
}

/// Decodes a stored login as a session load does (for the fuzz targets): anything that is
/// not a login is `None`, never a panic.
pub fn decode_record(data: &[u8]) -> Option<SessionData> {
    serde_json::from_slice(data).ok()
}

/// [`SessionData`] as stored: `[user_id, username, device_id, created_at, last_seen_at,
/// absolute_expires_at, idle_ms]`.
#[derive(Serialize, Deserialize)]
struct Stored(i64, String, String, Millis, Millis, Millis, Option<Millis>);

impl From<SessionData> for Stored {
    fn from(d: SessionData) -> Self {
        Self(
            d.user_id,
            d.username,
            d.device_id,
            d.created_at,
            d.last_seen_at,
            d.absolute_expires_at,
            d.idle_ms,
        )
    }
}

impl From<Stored> for SessionData {
    fn from(
        Stored(user_id, username, device_id, created_at, last_seen_at, absolute, idle): Stored,
    ) -> Self {
        Self {
            user_id,
            username,
            device_id,
            created_at,
            last_seen_at,
            absolute_expires_at: absolute,
            idle_ms: idle,
        }
    }
}

/// The user a request's session belongs to, if it has a live login (the CSRF layer asks, for
/// the lab's per-user switches).
pub async fn user_of(session: &Session) -> Option<i64> {
    session
        .get::<SessionData>(KEY)
        .await
        .ok()
        .flatten()
        .map(|d| d.user_id)
}

/// The login stored in a session, if any. A record this version cannot read (written by an
/// older release) counts as no login: its owner simply logs in again.
async fn stored_login(session: &Session) -> Result<Option<SessionData>, ApiError> {
    match session.get::<SessionData>(KEY).await {
        Ok(data) => Ok(data),
        Err(tower_sessions::session::Error::SerdeJson(_)) => {
            session.flush().await?;
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

impl SessionData {
    fn idle(&self, config: &SessionConfig) -> Duration {
        self.idle_ms.map_or(config.idle_timeout, |ms| {
            Duration::from_millis(ms.unsigned_abs())
        })
    }
}

/// How long a session may live. Logins use the configuration; the lab asks for short ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Ends after this long without a request.
    pub idle: Duration,
    /// Ends this long after login, whatever happens.
    pub absolute: Duration,
}

impl Lifetimes {
    /// The configured lifetimes.
    pub fn configured(config: &SessionConfig) -> Self {
        Self {
            idle: config.idle_timeout,
            absolute: config.absolute_timeout,
        }
    }
}

/// A request authenticated by its session cookie.
#[derive(Debug)]
pub struct SessionAuth {
    /// The user.
    pub user: AuthUser,
    /// The session's data as of this request.
    pub data: SessionData,
    /// The request's session handle (to end it).
    pub session: Session,
    idle_timeout: Millis,
}

impl SessionAuth {
    /// The details `/api/me` shows.
    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            created_at: self.data.created_at,
            idle_expires_at: idle_expiry(&self.data, self.idle_timeout),
            absolute_expires_at: self.data.absolute_expires_at,
        }
    }
}

fn idle_expiry(data: &SessionData, idle: Millis) -> Millis {
    (data.last_seen_at + idle).min(data.absolute_expires_at)
}

/// How often an active session's idle timer is written back to the store.
fn touch_interval(idle: Duration) -> Millis {
    ms(idle / 10).min(60_000)
}

/// The expiry given to the store record and the cookie for a session that ends at `at`.
///
/// The cookie's `Max-Age` is whole seconds, rounded down when it is written, so a session with
/// 0.9 s left would get `Max-Age=0` and the browser would drop it early. One second more keeps
/// the cookie alive at least until `at`; the checks in [`authenticate`], in milliseconds, decide
/// when the session ends.
fn record_expiry(at: Millis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at + 1_000) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A random public handle (128 bits, base64url).
pub fn new_handle() -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Cookie-session logins, checks and logouts.
#[derive(Clone)]
pub struct Sessions {
    devices: Devices,
    audit: Audit,
    clock: Arc<dyn Clock>,
    config: SessionConfig,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions {
    /// The service over its pieces.
    pub fn new(
        devices: Devices,
        audit: Audit,
        clock: Arc<dyn Clock>,
        config: SessionConfig,
    ) -> Self {
        Self {
            devices,
            audit,
            clock,
            config,
        }
    }

    /// The configured lifetimes.
    pub fn configured(&self) -> Lifetimes {
        Lifetimes::configured(&self.config)
    }

    /// Checks the session named by the request's cookie.
    pub async fn authenticate(
        &self,
        session: Session,
        timing: &ServerTiming,
    ) -> Result<SessionAuth, ApiError> {
        let loaded: Option<SessionData> = timing
            .measure("store", "session load", stored_login(&session))
            .await?;
        let Some(mut data) = loaded else {
            return Err(ApiError::InvalidSession(
                "it expired, was logged out or was revoked",
            ));
        };
        let now = self.clock.now_ms();
        let idle = data.idle(&self.config);
        if now >= data.absolute_expires_at {
            self.end(&session, &data).await?;
            return Err(ApiError::InvalidSession("it reached its maximum lifetime"));
        }
        if now >= data.last_seen_at + ms(idle) {
            self.end(&session, &data).await?;
            return Err(ApiError::InvalidSession("it was idle for too long"));
        }
        if now - data.last_seen_at >= touch_interval(idle) {
            data.last_seen_at = now;
            let expires_at = idle_expiry(&data, ms(idle));
            session.set_expiry(Some(Expiry::AtDateTime(record_expiry(expires_at))));
            session.insert(KEY, &data).await?;
            timing
                .measure(
                    "store",
                    "device touch",
                    self.devices
                        .index()
                        .touch_session(&data.device_id, now, expires_at),
                )
                .await?;
        }
        Ok(SessionAuth {
            user: AuthUser {
                id: data.user_id,
                username: data.username.clone(),
            },
            data,
            session,
            idle_timeout: ms(idle),
        })
    }

    /// Starts a session for `user` on this request's session handle.
    ///
    /// The id is always replaced: whatever id the browser sent before (one an attacker
    /// planted, or an earlier login's) is deleted from the store and never becomes a
    /// logged-in session.
    pub async fn login(
        &self,
        session: &Session,
        user: &User,
        client: &ClientInfo,
        lifetimes: Lifetimes,
        method: LoginMethod,
    ) -> Result<(), ApiError> {
        if let Some(previous) = stored_login(session).await? {
            self.devices
                .index()
                .remove_session(&previous.device_id)
                .await?;
        }
        session.cycle_id().await?;
        self.devices.enforce_single_session(user.id).await?;
        let now = self.clock.now_ms();
        let data = SessionData {
            user_id: user.id,
            username: user.username.clone(),
            device_id: new_handle(),
            created_at: now,
            last_seen_at: now,
            absolute_expires_at: now + ms(lifetimes.absolute),
            idle_ms: (lifetimes.idle != self.config.idle_timeout).then(|| ms(lifetimes.idle)),
        };
        let expires_at = idle_expiry(&data, ms(lifetimes.idle));
        // The index entry comes first, marked pending: from now on "log out everywhere" and
        // the single-session policy see this login, even before its session exists. Had the
        // session been saved first, a revocation in between would miss it, and a failed
        // insert would leave a live session no one can list or end.
        let index = self.devices.index();
        index
            .add_session(&SessionEntry {
                device_id: data.device_id.clone(),
                session_id: format!("{PENDING_SESSION}{}", data.device_id),
                user_id: data.user_id,
                created_at: data.created_at,
                last_seen_at: data.last_seen_at,
                expires_at,
                absolute_expires_at: data.absolute_expires_at,
                client: client.meta(),
                method,
            })
            .await?;
        session.set_expiry(Some(Expiry::AtDateTime(record_expiry(expires_at))));
        session.insert(KEY, &data).await?;
        // Save now (not at the end of the request) so the new id exists for the index.
        if let Err(err) = session.save().await {
            let _ = index.remove_session(&data.device_id).await;
            return Err(err.into());
        }
        let attached = match session.id() {
            Some(id) => index
                .attach_session(&data.device_id, &id.to_string())
                .await
                .map_err(ApiError::from),
            None => Err(ApiError::Internal(anyhow::anyhow!(
                "saved session has no id"
            ))),
        };
        match attached {
            Ok(true) => {}
            Ok(false) => {
                // Revoked while it was being created: it never becomes a login.
                session.flush().await?;
                return Err(ApiError::InvalidSession(
                    "it was ended by another device while logging in",
                ));
            }
            Err(err) => {
                // Neither half may outlive the other: no live session without its entry.
                let _ = session.flush().await;
                let _ = index.remove_session(&data.device_id).await;
                return Err(err);
            }
        }
        self.audit
            .login_succeeded(now, user.id, AuthMode::Session, &data.device_id)
            .await;
        Ok(())
    }

    /// Ends the request's session, if it has one: store record, index entry and cookie.
    pub async fn logout(&self, session: &Session) -> Result<(), ApiError> {
        if let Some(data) = stored_login(session).await? {
            self.end(session, &data).await?;
            self.audit
                .record(
                    self.clock.now_ms(),
                    Some(data.user_id),
                    AuditKind::Logout,
                    Some(AuthMode::Session),
                    &data.device_id,
                )
                .await;
            tracing::info!(user_id = data.user_id, device = %data.device_id, "session logout");
        } else {
            session.flush().await?;
        }
        Ok(())
    }

    /// Deletes the session everywhere; the layer then clears the cookie.
    async fn end(&self, session: &Session, data: &SessionData) -> Result<(), ApiError> {
        self.devices.index().remove_session(&data.device_id).await?;
        session.flush().await?;
        Ok(())
    }
}
