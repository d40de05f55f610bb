//! Authentication: the two modes behind one interface.
//!
//! A request is authenticated by exactly one of:
//!
//! * [`session`] — a cookie naming a server-side session (state on the server, one store
//!   lookup per request, instant revocation);
//! * [`bearer`] — a signed JWT access token in `Authorization: Bearer` (no state needed to
//!   verify it, so it cannot be revoked before it expires unless strict checking is on),
//!   renewed through [`refresh`] tokens;
//! * [`opaque`] — a random token in `Authorization: Token`, looked up on every request (the
//!   lab's third credential, for comparison).
//!
//! Handlers ask for [`Authentication`] (or [`MaybeAuthentication`]) and get the user the same
//! way in both modes.
//!
//! **When both arrive, the `Authorization` header wins** and the cookie is ignored for that
//! request: the header is something the client attached on purpose, while a browser sends
//! cookies by itself; and a bad token is an error, never a reason to fall back to the cookie.

pub mod bearer;
pub mod keys;
pub mod opaque;
pub mod refresh;
pub mod scope;
pub mod session;
pub mod tokens;

use std::time::Instant;

use app::wire::{AuthInfo, Me, UserView};
use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use tower_sessions::Session;

use crate::{
    accounts::User, error::ApiError, state::AppState, store::AuthMode, timing::ServerTiming,
};

/// The authenticated user, as both modes know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// Database id.
    pub id: i64,
    /// Username.
    pub username: String,
}

impl From<User> for AuthUser {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username,
        }
    }
}

/// How the current request proved who it is.
#[derive(Debug)]
pub enum Authentication {
    /// A cookie session.
    Session(session::SessionAuth),
    /// A bearer access token.
    Bearer(bearer::BearerAuth),
    /// An opaque database token.
    Opaque(opaque::OpaqueAuth),
}

impl Authentication {
    /// The user, whatever the mode.
    pub fn user(&self) -> &AuthUser {
        match self {
            Self::Session(s) => &s.user,
            Self::Bearer(b) => &b.user,
            Self::Opaque(o) => &o.user,
        }
    }

    /// Which mode authenticated the request.
    pub fn mode(&self) -> AuthMode {
        match self {
            Self::Session(_) => AuthMode::Session,
            Self::Bearer(_) => AuthMode::Bearer,
            Self::Opaque(_) => AuthMode::Opaque,
        }
    }

    /// Refuses the request (403 `insufficient_scope`) unless its credential grants `scope`.
    /// Sessions and opaque tokens grant everything; an access token grants its `scope` claim.
    pub fn require_scope(&self, needed: &'static str) -> Result<(), ApiError> {
        match self {
            Self::Bearer(b) if !scope::includes(&b.claims.scope, needed) => {
                Err(ApiError::InsufficientScope(needed))
            }
            _ => Ok(()),
        }
    }

    /// The public handle of the device making the request: its session's device id, or its
    /// token family id.
    pub fn device_id(&self) -> &str {
        match self {
            Self::Session(s) => &s.data.device_id,
            Self::Bearer(b) => &b.claims.sid,
            Self::Opaque(o) => &o.handle,
        }
    }

    /// What `/api/me` answers: the user and how they were authenticated.
    pub fn me(&self) -> Me {
        let user = self.user();
        Me {
            user: UserView {
                id: user.id,
                username: user.username.clone(),
            },
            auth: self.info(),
        }
    }

    /// The mode-specific details `/api/me` shows.
    pub fn info(&self) -> AuthInfo {
        match self {
            Self::Session(s) => AuthInfo::Session(s.info()),
            Self::Bearer(b) => AuthInfo::Bearer(b.info()),
            Self::Opaque(o) => AuthInfo::Opaque(o.info()),
        }
    }
}

/// The credential a request carries, before it is checked.
enum Credential<'a> {
    Bearer(&'a str),
    Opaque(&'a str),
    Session(Session),
    None,
}

/// The bearer token of a request's `Authorization` header, if it has one; an error for a
/// header that is not `Bearer <token>` or `Token <token>` (exposed for the fuzz targets).
pub fn bearer_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    Ok(match credential(parts)? {
        Credential::Bearer(token) => Some(token),
        _ => None,
    })
}

fn credential(parts: &Parts) -> Result<Credential<'_>, ApiError> {
    const MALFORMED: &str = "the Authorization header is not `Bearer <token>`";
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::InvalidToken("the Authorization header is not text"))?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or(ApiError::InvalidToken(MALFORMED))?;
        let token = token.trim();
        if token.is_empty() {
            return Err(ApiError::InvalidToken(MALFORMED));
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            return Ok(Credential::Bearer(token));
        }
        if scheme.eq_ignore_ascii_case("token") {
            return Ok(Credential::Opaque(token));
        }
        return Err(ApiError::InvalidToken(MALFORMED));
    }
    // The session layer parsed the cookie; an id means a session cookie was sent.
    match parts.extensions.get::<Session>() {
        Some(session) if session.id().is_some() => Ok(Credential::Session(session.clone())),
        _ => Ok(Credential::None),
    }
}

/// The caller if they sent a credential; `None` only when they sent none. A credential that
/// fails (expired session, bad token) is an error, not `None`.
#[derive(Debug)]
pub struct MaybeAuthentication(pub Option<Authentication>);

impl<S> FromRequestParts<S> for MaybeAuthentication
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let timing = parts
            .extensions
            .get::<ServerTiming>()
            .cloned()
            .unwrap_or_default();
        let start = Instant::now();
        let auth = match credential(parts)? {
            Credential::Bearer(token) => {
                let auth = bearer::authenticate(
                    &state.access_tokens,
                    &state.refresh_tokens,
                    &state.settings,
                    state.clock.now_ms(),
                    token,
                    &timing,
                )
                .await?;
                timing.record("auth", auth.verification.label(), start.elapsed());
                Authentication::Bearer(auth)
            }
            Credential::Opaque(token) => {
                let auth = state.opaque.authenticate(token, &timing).await?;
                timing.record("auth", "opaque", start.elapsed());
                Authentication::Opaque(auth)
            }
            Credential::Session(session) => {
                let auth = state.sessions.authenticate(session, &timing).await?;
                timing.record("auth", "session", start.elapsed());
                Authentication::Session(auth)
            }
            Credential::None => return Ok(Self(None)),
        };
        Ok(Self(Some(auth)))
    }
}

impl<S> FromRequestParts<S> for Authentication
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        MaybeAuthentication::from_request_parts(parts, state)
            .await?
            .0
            .ok_or(ApiError::Unauthenticated)
    }
}
