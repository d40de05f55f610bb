//! The lab: switches, experiments, the compare view, and what the inspector asks the server.
//!
//! Everything that changes how the server behaves (switches, short lifetimes, the attacker
//! origin, running experiments) exists only when `LAB_SWITCHES` is on, which production forces
//! off. Reading your own server-side state and checking a token are always available.

pub mod attacker;
pub mod client;
pub mod compare;
pub mod experiments;
pub mod peers;
pub mod provider_user;

use std::{
    collections::VecDeque,
    str::FromStr,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use app::{
    lab::{CsrfEvent, FamilyRow, LabSettings, ServerView, SessionRow, TokenCheck},
    wire::{Credentials, TokenPair, UserView},
};
use axum::{Json, Router, extract::State, routing::post};
use serde::Deserialize;
use tower_cookies::Cookies;
use tower_sessions::{Session, session::Id};

use crate::{
    api::ApiJson,
    auth::{Authentication, session::Lifetimes},
    client::ClientInfo,
    error::ApiError,
    settings::{OVERRIDE_LIFETIME, Switches},
    state::AppState,
    store::{AuthMode, LoginMethod, sessions::SessionBackendKind},
};

/// How many refused CSRF attempts are remembered.
const CSRF_EVENTS: usize = 64;

/// The lab's own state.
#[derive(Debug, Default)]
pub struct LabState {
    /// This server's own address (`http://127.0.0.1:PORT`), known once bound.
    self_url: OnceLock<String>,
    /// The attacker origin's port, once bound.
    attacker_port: OnceLock<u16>,
    /// Experiments change global switches: one at a time.
    pub run_lock: tokio::sync::Mutex<()>,
    csrf_events: Mutex<VecDeque<CsrfEvent>>,
    /// The compare view's clients.
    pub compare: compare::Panes,
}

impl LabState {
    /// Records the address the server bound.
    pub fn set_self_url(&self, url: String) {
        let _ = self.self_url.set(url);
    }

    /// This server's own address, for the lab's clients.
    pub fn self_url(&self) -> Result<&str, ApiError> {
        self.self_url.get().map(String::as_str).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("the server's address is not known yet"))
        })
    }

    /// Records the attacker origin's port.
    pub fn set_attacker_port(&self, port: u16) {
        let _ = self.attacker_port.set(port);
    }

    /// The attacker origin under both of this machine's names (what the lab window frames),
    /// once it is bound.
    pub fn attacker_origins(&self) -> Option<String> {
        self.attacker_port
            .get()
            .map(|port| format!("http://127.0.0.1:{port} http://localhost:{port}"))
    }

    /// Remembers a refused cross-site request.
    pub fn record_csrf(&self, event: CsrfEvent) {
        if let Ok(mut events) = self.csrf_events.lock() {
            if events.len() == CSRF_EVENTS {
                events.pop_front();
            }
            events.push_back(event);
        }
    }

    /// Refused cross-site requests since `since` (Unix ms).
    pub fn csrf_events(&self, since: i64) -> Vec<CsrfEvent> {
        self.csrf_events
            .lock()
            .map(|e| e.iter().filter(|e| e.at >= since).cloned().collect())
            .unwrap_or_default()
    }
}

/// The lab's JSON endpoints (logins with lab-only lifetimes).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/lab/session-login", post(session_login))
        .route("/api/lab/token-login", post(token_login))
}

/// Middleware: the browser lab window (`/lab-window`) exists only where the lab does; with the
/// lab off (production) it is 404 like any unknown page.
pub async fn gate(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !state.config.lab_switches && req.uri().path().trim_end_matches('/') == "/lab-window" {
        return ApiError::NotFound.into_response();
    }
    next.run(req).await
}

/// Refuses unless the lab's switches are available on this server.
pub fn require_switches(state: &AppState) -> Result<(), ApiError> {
    if state.config.lab_switches {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the lab's switches are off on this server (production)",
        ))
    }
}

/// Lab logins may ask for lifetimes between one second and an hour.
fn lifetime(secs: Option<u64>, default: Duration) -> Result<Duration, ApiError> {
    match secs {
        None => Ok(default),
        Some(s) if (1..=3600).contains(&s) => Ok(Duration::from_secs(s)),
        Some(_) => Err(ApiError::Validation(vec![app::wire::FieldError {
            field: "lifetime".into(),
            message: "Lab lifetimes are 1 to 3600 seconds.".into(),
        }])),
    }
}

/// A whole number of seconds. JSON has one number type, so `331.0` is accepted as 331 (as
/// JSON Schema's `integer` does); `331.5` is not.
fn whole_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<serde_json::Number>::deserialize(d)?;
    value
        .map(|n| {
            n.as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                })
                .ok_or_else(|| serde::de::Error::custom("expected a whole number of seconds"))
        })
        .transpose()
}

/// `POST /api/lab/session-login` body.
#[derive(Debug, Deserialize)]
pub struct LabSessionLogin {
    #[serde(flatten)]
    creds: Credentials,
    #[serde(default, deserialize_with = "whole_secs")]
    idle_secs: Option<u64>,
    #[serde(default, deserialize_with = "whole_secs")]
    absolute_secs: Option<u64>,
}

/// A session login with short lifetimes, for the lab's timelines.
async fn session_login(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    ApiJson(body): ApiJson<LabSessionLogin>,
) -> Result<Json<UserView>, ApiError> {
    require_switches(&state)?;
    let configured = Lifetimes::configured(&state.config.session);
    let lifetimes = Lifetimes {
        idle: lifetime(body.idle_secs, configured.idle)?,
        absolute: lifetime(body.absolute_secs, configured.absolute)?,
    };
    let user = state
        .accounts
        .check_password(&client, body.creds, AuthMode::Session)
        .await?;
    state
        .sessions
        .login(&session, &user, &client, lifetimes, LoginMethod::Password)
        .await?;
    Ok(Json(user.into()))
}

/// `POST /api/lab/token-login` body.
#[derive(Debug, Deserialize)]
pub struct LabTokenLogin {
    #[serde(flatten)]
    login: crate::api::token::TokenLogin,
    #[serde(default, deserialize_with = "whole_secs")]
    access_ttl_secs: Option<u64>,
}

/// A token login with a short access-token lifetime, for the lab's stolen-token timeline.
async fn token_login(
    State(state): State<AppState>,
    client: ClientInfo,
    cookies: Cookies,
    ApiJson(body): ApiJson<LabTokenLogin>,
) -> Result<Json<TokenPair>, ApiError> {
    require_switches(&state)?;
    let mut options = body.login.options()?;
    if body.access_ttl_secs.is_some() {
        options.access_ttl = Some(lifetime(body.access_ttl_secs, state.access_tokens.ttl())?);
    }
    let pair = state
        .tokens
        .login(&client, Some(&cookies), body.login.creds, options)
        .await?;
    Ok(Json(pair))
}

/// The switches as they are now.
pub fn settings(state: &AppState, user: Option<i64>) -> LabSettings {
    let switches = state.settings.for_user(user);
    LabSettings {
        available: state.config.lab_switches,
        strict_token_check: switches.strict_token_check,
        csrf_protection: switches.csrf_protection,
        single_session: switches.single_session,
        attacker_port: state.lab.attacker_port.get().copied().unwrap_or(0),
    }
}

/// Changes the switches for `user`'s own logins, for a limited time (lab only): see
/// `settings.rs`. No one else is affected.
pub fn set_settings(
    state: &AppState,
    user: i64,
    wanted: LabSettings,
) -> Result<LabSettings, ApiError> {
    require_switches(state)?;
    let switches = Switches {
        strict_token_check: wanted.strict_token_check,
        csrf_protection: wanted.csrf_protection,
        single_session: wanted.single_session,
    };
    if switches == state.settings.base() {
        state.settings.clear_for(user);
    } else {
        state.settings.set_for(user, switches, OVERRIDE_LIFETIME);
    }
    tracing::info!(
        user_id = user,
        strict = wanted.strict_token_check,
        csrf = wanted.csrf_protection,
        single_session = wanted.single_session,
        "lab switches changed for one user"
    );
    Ok(settings(state, Some(user)))
}

/// Replaces `JWT_SECRET`, from which every signing key derives, with a new random one (lab
/// only, this server only): every access token issued so far stops verifying; refresh tokens,
/// which do not depend on it, keep working.
pub async fn rotate_secret(state: &AppState) -> Result<(), ApiError> {
    require_switches(state)?;
    let secret = secrecy::SecretString::from(crate::config::generate_secret());
    state.signing_keys.replace_secret(secret);
    state.access_tokens.reload().await?;
    tracing::warn!("JWT secret replaced by the lab; it lasts until the server restarts");
    Ok(())
}

/// What the server keeps about the caller: session records, token families, opaque tokens —
/// read through the store, whatever the backend.
pub async fn server_view(state: &AppState, auth: &Authentication) -> Result<ServerView, ApiError> {
    let user_id = auth.user().id;
    let current = auth.device_id();
    let now = state.clock.now_ms();
    let mut sessions = Vec::new();
    for entry in state.devices.index().live_sessions(user_id, now).await? {
        let bytes = match Id::from_str(&entry.session_id) {
            Ok(id) => state.store.sessions.size_of(&id).await?.unwrap_or(0),
            Err(_) => 0,
        };
        sessions.push(SessionRow {
            current: entry.device_id == current,
            device: entry.device_id,
            created_at: entry.created_at,
            expires_at: entry.expires_at,
            bytes,
        });
    }
    let families = state
        .store
        .families()
        .recent_families(user_id, 20)
        .await?
        .into_iter()
        .map(|f| {
            let status = match (&f.revoked, f.absolute_expires_at <= now) {
                (Some((_, reason)), _) => format!("revoked: {reason}"),
                (None, true) => "expired".into(),
                (None, false) => "live".into(),
            };
            FamilyRow {
                current: f.id == current,
                id: f.id,
                created_at: f.created_at,
                last_refresh_at: f.last_refresh_at,
                status,
                tokens: f.tokens,
                scope: f.scope,
            }
        })
        .collect();
    let opaque_tokens =
        i64::try_from(state.store.opaque().opaque_of(user_id).await?.len()).unwrap_or(i64::MAX);
    Ok(ServerView {
        username: auth.user().username.clone(),
        storage: storage_description(state),
        sessions,
        families,
        opaque_tokens,
    })
}

/// Where this server keeps each kind of state, in words (the inspector shows it).
pub fn storage_description(state: &AppState) -> String {
    let db = state.store.database_kind().as_str();
    let sessions = state.store.sessions.kind();
    let where_sessions = match sessions {
        SessionBackendKind::Redis => {
            format!("Redis keys {}session:<id>", state.config.store.redis_prefix)
        }
        SessionBackendKind::Memory => "this server's memory (no other server sees them)".into(),
        _ => format!("{} table tower_sessions", sessions.as_str()),
    };
    format!(
        "Session records: {where_sessions}. Session index, refresh-token families, opaque \
         tokens: {db} tables."
    )
}

/// Checks a token as `/api/me` would, without acting on it.
pub async fn verify_token(state: &AppState, token: &str) -> TokenCheck {
    let timing = crate::timing::ServerTiming::default();
    let checked = crate::auth::bearer::authenticate(
        &state.access_tokens,
        &state.refresh_tokens,
        &state.settings,
        state.clock.now_ms(),
        token.trim(),
        &timing,
    )
    .await;
    match checked {
        Ok(auth) => TokenCheck {
            valid: true,
            status: 200,
            message: format!(
                "Valid: signed with this server's key, typed at+jwt, for {} until {}.",
                auth.user.username, auth.claims.exp
            ),
        },
        Err(err) => TokenCheck {
            valid: false,
            status: err.status_code().as_u16(),
            message: err.message(),
        },
    }
}
