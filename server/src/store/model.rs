//! The records the stores read and write. Times are Unix milliseconds ([`Millis`]).
//!
//! Nothing here that holds a secret (a password hash) derives `Serialize` or a revealing
//! `Debug`; tokens appear only as their SHA-256 hash.

use std::fmt;

use anyhow::bail;

use crate::clock::Millis;

/// SHA-256 of a token: what is stored instead of the token.
pub type TokenHash = [u8; 32];

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// A SQLite file (the default, no server needed).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl DatabaseKind {
    /// Reads the scheme of `DATABASE_URL`.
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        let scheme = url.split(':').next().unwrap_or("");
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => bail!(
                "DATABASE_URL must start with sqlite: (e.g. sqlite://data/authlab.db?mode=rwc) or \
                 postgres:// (e.g. postgres://user@127.0.0.1:5432/authlab), not `{scheme}:`"
            ),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// How a request or a login was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMode {
    /// A cookie session.
    Session,
    /// A JWT access token (and its refresh-token family).
    Bearer,
    /// An opaque database token.
    Opaque,
}

impl AuthMode {
    /// `session`, `bearer` or `opaque`: the stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Bearer => "bearer",
            Self::Opaque => "opaque",
        }
    }

    /// The mode a stored name stands for (the column is only ever written from this enum).
    pub fn from_stored(name: &str) -> Self {
        match name {
            "bearer" => Self::Bearer,
            "opaque" => Self::Opaque,
            _ => Self::Session,
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a login proved who the user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LoginMethod {
    /// Username and password, checked here.
    #[default]
    Password,
    /// An OpenID Connect provider's ID token.
    Provider,
}

impl LoginMethod {
    /// `password` or `provider`: the stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Provider => "provider",
        }
    }

    /// The method a stored name stands for (the column is only ever written from this enum).
    pub fn from_stored(name: &str) -> Self {
        match name {
            "provider" => Self::Provider,
            _ => Self::Password,
        }
    }
}

/// An account at an OpenID Connect provider, linked to a local user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The provider's issuer URL, as its ID tokens say it.
    pub issuer: String,
    /// The provider's id for the person (`sub`): stable, unlike their name or email.
    pub subject: String,
    /// The local user.
    pub user_id: i64,
    /// The `email` claim when linked (empty if the provider sent none).
    pub email: String,
    /// When linked.
    pub created_at: Millis,
}

/// A user as the rest of the server sees it: no password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Username as registered.
    pub username: String,
}

/// A user with their password hash. Deliberately neither `Serialize` nor `Debug`.
pub struct UserWithHash {
    /// The user.
    pub user: User,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// Who logged in from where (kept with every login for the devices list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMeta {
    /// `User-Agent`, at most 256 characters.
    pub user_agent: String,
    /// The client IP as text, `unknown` when there is none.
    pub ip: String,
}

/// The `session_id` of an index entry whose session is not saved yet. A login adds its entry
/// first, so "log out everywhere" can never miss a session being created.
pub const PENDING_SESSION: &str = "pending:";

/// A cookie session in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEntry {
    /// Public handle (never the session id).
    pub device_id: String,
    /// The session-store record id. Server-side only.
    pub session_id: String,
    /// The user.
    pub user_id: i64,
    /// Login time.
    pub created_at: Millis,
    /// Last request that moved the idle timer.
    pub last_seen_at: Millis,
    /// Idle expiry (slides, never past the absolute one).
    pub expires_at: Millis,
    /// Absolute expiry.
    pub absolute_expires_at: Millis,
    /// Where it logged in from.
    pub client: ClientMeta,
    /// How the login was made.
    pub method: LoginMethod,
}

/// A new refresh-token family (one token login).
#[derive(Debug, Clone)]
pub struct NewFamily {
    /// Family id: the access tokens' `sid` and the public device handle.
    pub id: String,
    /// The user.
    pub user_id: i64,
    /// Login time.
    pub created_at: Millis,
    /// Login + the absolute lifetime; rotation never moves it.
    pub absolute_expires_at: Millis,
    /// When the first token dies unused.
    pub idle_expires_at: Millis,
    /// Scope of its access tokens (`read write` or `read`).
    pub scope: String,
    /// Access-token lifetime in seconds, if not the configured one.
    pub access_ttl_secs: Option<i64>,
    /// Where it logged in from.
    pub client: ClientMeta,
    /// How the login was made.
    pub method: LoginMethod,
}

/// A presented refresh token as the store found it, with its family.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenState {
    /// Its family.
    pub family_id: String,
    /// The family's user.
    pub user_id: i64,
    /// When it was used (rotated), if it was.
    pub used_at: Option<Millis>,
    /// When it dies unused.
    pub idle_expires_at: Millis,
    /// When the family was revoked, if it was.
    pub revoked_at: Option<Millis>,
    /// The family's absolute expiry.
    pub absolute_expires_at: Millis,
    /// The family's scope.
    pub scope: String,
    /// The family's access-token lifetime in seconds, if not the configured one.
    pub access_ttl_secs: Option<i64>,
}

/// What a rotation should do with the presented token (decided by `auth::refresh`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Mark it used and store its successor.
    Rotate {
        /// The successor's hash.
        child: TokenHash,
        /// When the successor dies unused.
        idle_expires_at: Millis,
    },
    /// It was used moments ago (grace window): report the family's live token, change nothing.
    Replay,
    /// Revoke its whole family.
    Revoke(RevokeReason),
    /// Change nothing.
    Refuse,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotated {
    /// The successor was stored.
    Rotated,
    /// Nothing changed; the family's live token is this one, if it has one.
    Replayed(Option<(TokenHash, Millis)>),
    /// The family is revoked now (it may already have been).
    Revoked,
    /// Nothing changed.
    Refused,
}

/// Why a family was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// Its owner logged out.
    Logout,
    /// A retired refresh token came back after the grace window: possible theft.
    ReuseDetected,
    /// Its owner ended it from the devices page.
    RevokedByUser,
    /// A new login under the single-session policy.
    SingleSession,
}

impl RevokeReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::ReuseDetected => "reuse_detected",
            Self::RevokedByUser => "revoked_by_user",
            Self::SingleSession => "single_session",
        }
    }
}

/// A family that can still refresh, for the devices list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyEntry {
    /// Family id.
    pub id: String,
    /// Login time.
    pub created_at: Millis,
    /// Last rotation.
    pub last_refresh_at: Millis,
    /// The earlier of its live token's idle expiry and its absolute expiry.
    pub expires_at: Millis,
    /// Where it logged in from.
    pub client: ClientMeta,
    /// How the login was made.
    pub method: LoginMethod,
}

/// A family as the lab's server view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySummary {
    /// Family id.
    pub id: String,
    /// Login time.
    pub created_at: Millis,
    /// Last rotation.
    pub last_refresh_at: Millis,
    /// When and why it was revoked.
    pub revoked: Option<(Millis, String)>,
    /// Absolute expiry.
    pub absolute_expires_at: Millis,
    /// Scope.
    pub scope: String,
    /// Refresh tokens issued in it (one per rotation).
    pub tokens: i64,
}

/// A new opaque token.
#[derive(Debug, Clone)]
pub struct NewOpaque {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// Public handle.
    pub handle: String,
    /// The user.
    pub user_id: i64,
    /// Issue time.
    pub created_at: Millis,
    /// Where it logged in from.
    pub client: ClientMeta,
}

/// A stored opaque token, with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueEntry {
    /// Public handle.
    pub handle: String,
    /// Issue time.
    pub created_at: Millis,
    /// The user.
    pub user: User,
    /// Where it logged in from.
    pub client: ClientMeta,
}

/// An access-token signing key's id and lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    /// The key id (`kid` in token headers and the JWKS).
    pub kid: String,
    /// When it was added.
    pub created_at: Millis,
    /// When it was retired; tokens it signed are refused from then on.
    pub retired_at: Option<Millis>,
}

/// A stored note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRecord {
    /// Id.
    pub id: i64,
    /// Text.
    pub text: String,
    /// Which credential wrote it.
    pub via: AuthMode,
    /// When.
    pub created_at: Millis,
}

/// Kinds of audit events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// An account was created.
    Registered,
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (wrong password or unknown user).
    LoginFailed,
    /// A logout.
    Logout,
    /// A refresh token was rotated.
    Refresh,
    /// A just-rotated refresh token came back inside the grace window.
    RefreshReplayed,
    /// A retired refresh token came back after the grace window.
    ReuseDetected,
    /// A device was revoked.
    Revoked,
    /// Every other device was revoked.
    RevokedOthers,
    /// Every device was revoked.
    LogoutEverywhere,
    /// Older logins were ended by the single-session policy.
    SingleSession,
    /// A provider account was linked to a user.
    ProviderLinked,
}

impl AuditKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::Logout => "logout",
            Self::Refresh => "refresh",
            Self::RefreshReplayed => "refresh_replayed",
            Self::ReuseDetected => "reuse_detected",
            Self::Revoked => "revoked",
            Self::RevokedOthers => "revoked_others",
            Self::LogoutEverywhere => "logout_everywhere",
            Self::SingleSession => "single_session",
            Self::ProviderLinked => "provider_linked",
        }
    }
}

/// One audit event. Never holds a secret.
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    /// When.
    pub at: Millis,
    /// Whose, if known.
    pub user_id: Option<i64>,
    /// What happened.
    pub kind: AuditKind,
    /// In which mode, when it applies.
    pub mode: Option<AuthMode>,
    /// Short, non-secret context (device handle, reason, count).
    pub detail: &'a str,
}

/// What a sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Expired session-index entries.
    pub session_entries: u64,
    /// Dead token families (with their tokens).
    pub families: u64,
    /// Expired one-time values (provider logins never finished, handoffs never picked up).
    pub one_time_values: u64,
}

/// How long what only grows is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Audit events older than this instant go.
    pub events_before: Millis,
    /// Each user keeps this many newest notes.
    pub notes_per_user: i64,
    /// Throwaway users (names starting with one of these prefixes) created before
    /// `throwaway_before` go, with everything they own. Empty: none.
    pub throwaway_prefixes: Vec<&'static str>,
    /// See `throwaway_prefixes`.
    pub throwaway_before: Millis,
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    /// Audit events.
    pub events: u64,
    /// Notes.
    pub notes: u64,
    /// Throwaway users.
    pub users: u64,
}

/// Rows and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Rows (or keys).
    pub rows: i64,
    /// Bytes of their stored values.
    pub bytes: i64,
}

/// Row counts of every table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Users.
    pub users: i64,
    /// Session-index entries.
    pub session_entries: i64,
    /// Token families.
    pub families: i64,
    /// Token families not revoked.
    pub unrevoked_families: i64,
    /// Refresh tokens.
    pub refresh_tokens: i64,
    /// Refresh tokens used (rotated).
    pub used_refresh_tokens: i64,
    /// Opaque tokens.
    pub opaque_tokens: i64,
    /// Notes.
    pub notes: i64,
    /// Audit events.
    pub audit_events: i64,
}
