//! Types that cross the wire, shared by the server, the WASM client and the JSON API.
//!
//! Nothing here holds a password hash. Types that carry a password or a token (they must, to be
//! sent) have a `Debug` that hides it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A registered user, as every endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Database id.
    pub id: i64,
    /// The name as registered (uniqueness ignores case).
    pub username: String,
}

/// `POST /api/auth/register`, `/api/session/login`, `/api/token/login` body.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password, never logged.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// `POST /api/token/refresh` and `/api/token/logout` body.
///
/// Under the hardened storage policy the refresh token travels in an HttpOnly cookie instead,
/// and this field is left out.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct RefreshRequest {
    /// The opaque refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The identity provider this server signs people in with (`GET /api/oidc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderView {
    /// Its display name, for the "Sign in with …" button.
    pub name: String,
    /// Its issuer URL.
    pub issuer: String,
}

/// A provider account linked to the caller (`GET /api/oidc/links`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccount {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The email the provider gave when it was linked (may be empty).
    pub email: String,
    /// When it was linked, Unix milliseconds.
    pub linked_at: i64,
}

/// The answer to a token login or refresh (RFC 6749 §5.1 field names).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// Signed JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Opaque, single-use refresh token. Empty when it was set as an HttpOnly cookie instead.
    pub refresh_token: String,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

/// `GET /api/me`: who is calling and how they were recognised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    /// The authenticated user.
    pub user: UserView,
    /// Which mode authenticated the request, with that mode's details.
    pub auth: AuthInfo,
}

/// How the current request was authenticated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum AuthInfo {
    /// A cookie naming a server-side session.
    Session(SessionInfo),
    /// A JWT access token in the `Authorization` header.
    Bearer(BearerInfo),
    /// An opaque database token (`Authorization: Token ...`), looked up on every request.
    Opaque(OpaqueInfo),
}

impl AuthInfo {
    /// `"session"`, `"bearer"` or `"opaque"`.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Session(_) => "session",
            Self::Bearer(_) => "bearer",
            Self::Opaque(_) => "opaque",
        }
    }
}

/// Opaque-token details. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpaqueInfo {
    /// The token's public handle (its device id).
    pub handle: String,
    /// When it was issued.
    pub created_at: i64,
}

/// Session-mode details. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// When this session logged in.
    pub created_at: i64,
    /// When the session dies if unused (slides with activity).
    pub idle_expires_at: i64,
    /// When the session dies regardless of activity.
    pub absolute_expires_at: i64,
}

/// Bearer-mode details. Times are Unix seconds, as in the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BearerInfo {
    /// The token's `jti`.
    pub token_id: String,
    /// The refresh-token family (`sid` claim) this access token belongs to.
    pub family_id: String,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
    /// Whether the server confirmed the family is still alive (strict mode).
    pub strict: bool,
    /// The token's scope, e.g. `read write` or `read`.
    pub scope: String,
}

/// One place a user is logged in: a cookie session or a refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Public handle used to revoke it (never the session id or a token).
    pub id: String,
    /// Which kind of credential keeps this device logged in.
    pub kind: DeviceKind,
    /// Login time, Unix milliseconds.
    pub created_at: i64,
    /// Last request (session) or refresh (token), Unix milliseconds.
    pub last_seen_at: i64,
    /// When it dies if nothing else happens, Unix milliseconds.
    pub expires_at: i64,
    /// The browser's `User-Agent` at login.
    pub user_agent: String,
    /// The client address at login.
    pub ip: String,
    /// How the user proved who they are at login: `password`, or `provider` (an OpenID
    /// Connect provider).
    pub login: String,
    /// Whether this is the device making the request.
    pub current: bool,
}

/// What keeps a [`Device`] logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// A server-side session named by a cookie.
    Session,
    /// A refresh-token family.
    Token,
    /// An opaque database token.
    Opaque,
}

/// `GET /api/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// Live devices, newest first.
    pub devices: Vec<Device>,
}

/// How many devices a bulk revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// Number of sessions and token families revoked.
    pub revoked: u64,
}

/// A note: something a logged-in user can write (the lab's state-changing request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Database id.
    pub id: i64,
    /// The text.
    pub text: String,
    /// Which credential wrote it: `session`, `bearer` or `opaque`.
    pub via: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// `GET /api/notes`: the caller's latest notes, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteList {
    /// Up to 50 notes.
    pub notes: Vec<Note>,
}

/// `POST /api/notes` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNote {
    /// 1 to 500 characters.
    pub text: String,
}

/// `POST /api/opaque/login` answer (the style of Django REST framework's TokenAuthentication).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpaqueToken {
    /// Random, opaque; send as `Authorization: Token <token>`.
    pub token: String,
    /// Always `Token`.
    pub token_type: String,
}

impl fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpaqueToken").finish_non_exhaustive()
    }
}

/// A problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name in the request.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

/// The JSON API's error body: `{"error": code, "message": text}` (plus `fields` on 422).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub error: String,
    /// Human-readable explanation.
    pub message: String,
    /// Per-field problems, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// Input limits shared by the forms and the server.
pub mod limits {
    /// Shortest username.
    pub const USERNAME_MIN: usize = 3;
    /// Longest username.
    pub const USERNAME_MAX: usize = 32;
    /// Shortest password, in characters.
    pub const PASSWORD_MIN: usize = 8;
    /// Longest password, in characters (long enough for passphrases, short enough that a
    /// request cannot make the server hash megabytes).
    pub const PASSWORD_MAX: usize = 1024;
}

/// Checks the shape of a login request before anything else happens to it: a username or
/// password no registration could have produced is refused (422) without being hashed or
/// counted, so over-long input costs the server nothing. Says nothing about whether the
/// account exists.
pub fn validate_login(username: &str, password: &str) -> Vec<FieldError> {
    let mut problems = Vec::new();
    // Byte lengths first: bounded work even for a multi-megabyte string.
    let name = username.trim();
    if name.is_empty()
        || name.len() > 4 * limits::USERNAME_MAX
        || name.chars().count() > limits::USERNAME_MAX
    {
        problems.push(FieldError {
            field: "username".into(),
            message: format!(
                "Username must be 1 to {} characters long.",
                limits::USERNAME_MAX
            ),
        });
    }
    if password.is_empty()
        || password.len() > 4 * limits::PASSWORD_MAX
        || password.chars().count() > limits::PASSWORD_MAX
    {
        problems.push(FieldError {
            field: "password".into(),
            message: format!(
                "Password must be 1 to {} characters long.",
                limits::PASSWORD_MAX
            ),
        });
    }
    problems
}

/// Checks a registration request; returns every problem at once.
pub fn validate_registration(username: &str, password: &str) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if username.len() > 4 * limits::USERNAME_MAX || password.len() > 4 * limits::PASSWORD_MAX {
        // Too long to be worth counting characters of.
        let field = if username.len() > 4 * limits::USERNAME_MAX {
            "username"
        } else {
            "password"
        };
        problems.push(FieldError {
            field: field.into(),
            message: format!("The {field} is far too long."),
        });
        return problems;
    }
    let name_len = username.chars().count();
    if !(limits::USERNAME_MIN..=limits::USERNAME_MAX).contains(&name_len) {
        problems.push(FieldError {
            field: "username".into(),
            message: format!(
                "Username must be {} to {} characters long.",
                limits::USERNAME_MIN,
                limits::USERNAME_MAX
            ),
        });
    } else if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        problems.push(FieldError {
            field: "username".into(),
            message: "Username may use only letters a-z, digits, '_', '-' and '.'.".into(),
        });
    }
    let pass_len = password.chars().count();
    if pass_len < limits::PASSWORD_MIN {
        problems.push(FieldError {
            field: "password".into(),
            message: format!(
                "Password must be at least {} characters long.",
                limits::PASSWORD_MIN
            ),
        });
    } else if pass_len > limits::PASSWORD_MAX {
        problems.push(FieldError {
            field: "password".into(),
            message: format!(
                "Password must be at most {} characters long.",
                limits::PASSWORD_MAX
            ),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_accepts_a_unicode_passphrase() {
        assert!(validate_registration("alice", "비밀번호는 길수록 좋다").is_empty());
    }

    #[test]
    fn registration_counts_password_length_in_characters_not_bytes() {
        // 7 characters, 21 bytes: too short.
        let problems = validate_registration("alice", "비밀번호비밀번");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "password");
        // 1024 three-byte characters: allowed.
        assert!(validate_registration("alice", &"가".repeat(1024)).is_empty());
        assert_eq!(validate_registration("alice", &"가".repeat(1025)).len(), 1);
    }

    #[test]
    fn registration_reports_every_problem_at_once() {
        let problems = validate_registration("a b", "short");
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["username", "password"]);
    }

    #[test]
    fn auth_info_serialises_with_the_mode_as_a_tag() {
        let info = AuthInfo::Session(SessionInfo {
            created_at: 1,
            idle_expires_at: 2,
            absolute_expires_at: 3,
        });
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["mode"], "session");
        assert_eq!(json["absolute_expires_at"], 3);
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let creds = Credentials {
            username: "alice".into(),
            password: "hunter2hunter2".into(),
        };
        assert!(!format!("{creds:?}").contains("hunter2"));
        let pair = TokenPair {
            access_token: "eyJ.secret.sig".into(),
            token_type: "Bearer".into(),
            expires_in: 300,
            refresh_token: "rt-secret".into(),
        };
        let shown = format!("{pair:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
