//! Bearer-token mode: JWT access tokens.
//!
//! The server signs a short-lived token (HS256) naming the user; the client sends it back in
//! `Authorization: Bearer`; the server checks the signature and the claims and needs no store
//! to do so. That is the whole appeal, and the whole catch: **a token cannot be taken back**.
//! Logout revokes the refresh-token family, but an access token already issued keeps working
//! until `exp` (`ACCESS_TOKEN_TTL_SECS`). `STRICT_TOKEN_CHECK` buys revocation back by looking
//! the family up on every request — one store access, the very cost tokens were meant to avoid.
//!
//! Validation follows RFC 8725 (JWT best practices) and RFC 9068 (access-token profile):
//! * one algorithm, HS256, fixed by the server — the token's `alg` header never chooses
//!   (`none`, HS384, RS256 are refused);
//! * `typ` must be `at+jwt`, so no other kind of JWT can pass as an access token;
//! * `iss`, `aud`, `sub`, `exp`, `iat`, `nbf`, `jti`, `sid` are all required;
//! * times are checked against the server clock with `JWT_LEEWAY_SECS` (default 5 s, at most
//!   30 s) of tolerance for clock skew, `nbf` included.
//!
//! Verified tokens are cached (by their exact text) so a token presented again skips the
//! base64 decoding, HMAC and JSON parsing; the time checks still run on every request. A
//! cached entry is exactly as trustworthy as a fresh check — same bytes, same key — and the
//! cache is emptied whenever the signing key changes.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use app::wire::BearerInfo;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use quick_cache::sync::Cache;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::AuthUser;
use super::refresh::RefreshTokens;
use crate::{
    clock::Millis, config::TokenConfig, error::ApiError, settings::Settings, timing::ServerTiming,
};

/// The `typ` header of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// How many verified tokens are remembered.
const VERIFIED_CACHE_SIZE: usize = 16_384;

/// An access token's claims. Nothing here is secret: anyone holding the token can read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer (`JWT_ISSUER`).
    pub iss: String,
    /// Audience (`JWT_AUDIENCE`).
    pub aud: String,
    /// Subject: the user id.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// Unique token id.
    pub jti: String,
    /// The refresh-token family (login) this token belongs to.
    pub sid: String,
    /// The username, so requests need no user lookup.
    pub name: String,
    /// What the token may do: `read write` or `read`.
    pub scope: String,
}

/// Whether a token's signature was checked now or found in the cache of verified tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Signature and claims checked on this request.
    Checked,
    /// Seen and verified before with the current key; only the times were checked now.
    Cached,
}

impl Verification {
    /// The `Server-Timing` description.
    pub fn label(self) -> &'static str {
        match self {
            Self::Checked => "jwt",
            Self::Cached => "jwt-cached",
        }
    }
}

/// A request authenticated by an access token.
#[derive(Debug)]
pub struct BearerAuth {
    /// The user named by `sub`/`name`.
    pub user: AuthUser,
    /// The verified claims.
    pub claims: Arc<AccessClaims>,
    /// Whether the token family was confirmed alive (strict mode).
    pub strict: bool,
    /// How the signature was established.
    pub verification: Verification,
}

impl BearerAuth {
    /// The details `/api/me` shows.
    pub fn info(&self) -> BearerInfo {
        BearerInfo {
            token_id: self.claims.jti.clone(),
            family_id: self.claims.sid.clone(),
            issued_at: self.claims.iat,
            expires_at: self.claims.exp,
            strict: self.strict,
            scope: self.claims.scope.clone(),
        }
    }
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Bumped by every rotation. A verified token is cached with the generation of the key
    /// that verified it, and a cached entry of another generation is not trusted — so a
    /// check that started before a rotation and finished after it cannot leave a token
    /// verified by the old key in the cache.
    generation: u64,
}

impl Keys {
    fn new(secret: &SecretString, generation: u64) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            generation,
        }
    }
}

/// Issues and verifies access tokens.
pub struct AccessTokens {
    keys: RwLock<Arc<Keys>>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
    leeway: i64,
    verified: Cache<Box<str>, (u64, Arc<AccessClaims>)>,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Keys and rules from the configuration.
    pub fn new(config: &TokenConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "nbf", "sub", "iss", "aud"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        // Times are checked below against the server's (injectable) clock, in one place, for
        // fresh and cached tokens alike.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Self {
            keys: RwLock::new(Arc::new(Keys::new(&config.jwt_secret, 0))),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl: config.access_ttl,
            leeway: i64::try_from(config.leeway_secs).unwrap_or(30),
            verified: Cache::new(VERIFIED_CACHE_SIZE),
        }
    }

    /// The access-token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn keys(&self) -> Arc<Keys> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The current signing key: what an attacker who stole it would hold (the lab's
    /// leaked-secret experiment forges a token with it).
    pub fn signing_key(&self) -> EncodingKey {
        self.keys().encoding.clone()
    }

    /// Replaces the signing key: every token signed with the old one stops verifying.
    pub fn rotate_secret(&self, secret: &SecretString) {
        let mut guard = match self.keys.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(Keys::new(secret, guard.generation + 1));
        drop(guard);
        self.verified.clear();
    }

    /// Signs a new access token for `user` in token family `family_id`, living `ttl` (the
    /// configured lifetime when `None`) with `scope`.
    pub fn issue(
        &self,
        user: &AuthUser,
        family_id: &str,
        now_secs: i64,
        ttl: Option<Duration>,
        scope: &str,
    ) -> Result<(String, AccessClaims), ApiError> {
        let ttl = i64::try_from(ttl.unwrap_or(self.ttl).as_secs()).unwrap_or(i64::MAX);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.id.to_string(),
            exp: now_secs.saturating_add(ttl),
            iat: now_secs,
            nbf: now_secs,
            jti: super::session::new_handle(),
            sid: family_id.to_owned(),
            name: user.username.clone(),
            scope: scope.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.keys().encoding)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing a JWT: {e}")))?;
        Ok((token, claims))
    }

    /// Verifies a token's signature, type and claims, then its times against `now_secs`.
    pub fn verify(
        &self,
        token: &str,
        now_secs: i64,
    ) -> Result<(Arc<AccessClaims>, Verification), ApiError> {
        self.verify_with(&self.keys(), token, now_secs)
    }

    /// [`Self::verify`] with the keys as they were read when the check began.
    fn verify_with(
        &self,
        keys: &Keys,
        token: &str,
        now_secs: i64,
    ) -> Result<(Arc<AccessClaims>, Verification), ApiError> {
        if let Some((generation, claims)) = self.verified.get(token)
            && generation == keys.generation
        {
            self.check_times(&claims, now_secs)?;
            return Ok((claims, Verification::Cached));
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &keys.decoding, &self.validation)
            .map_err(|e| ApiError::InvalidToken(reason(&e)))?;
        let typ_ok = data.header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
                || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(ApiError::InvalidToken("it is not an access token (typ)"));
        }
        let claims = Arc::new(data.claims);
        self.check_times(&claims, now_secs)?;
        self.verified
            .insert(token.into(), (keys.generation, Arc::clone(&claims)));
        Ok((claims, Verification::Checked))
    }

    fn check_times(&self, claims: &AccessClaims, now: i64) -> Result<(), ApiError> {
        if now >= claims.exp.saturating_add(self.leeway) {
            return Err(ApiError::InvalidToken("it has expired"));
        }
        if claims.nbf > now.saturating_add(self.leeway) {
            return Err(ApiError::InvalidToken("it is not valid yet (nbf)"));
        }
        if claims.iat > now.saturating_add(self.leeway) {
            return Err(ApiError::InvalidToken("it was issued in the future (iat)"));
        }
        Ok(())
    }
}

/// A short, non-secret reason for a refused token.
fn reason(err: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::InvalidSignature => "its signature does not match",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "its algorithm is not the one this server uses (HS256)"
        }
        ErrorKind::InvalidIssuer => "wrong issuer (iss)",
        ErrorKind::InvalidAudience => "wrong audience (aud)",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::Json(_) => "its claims are missing or malformed",
        ErrorKind::ExpiredSignature => "it has expired",
        _ => "it is not a well-formed JWT",
    }
}

/// Checks the bearer token of a request at `now_ms`; with strict checking on (for this user),
/// also asks the store that its login (refresh-token family) is still alive.
pub async fn authenticate(
    access: &AccessTokens,
    refresh: &RefreshTokens,
    settings: &Settings,
    now_ms: Millis,
    token: &str,
    timing: &ServerTiming,
) -> Result<BearerAuth, ApiError> {
    let (claims, verification) = access.verify(token, now_ms.div_euclid(1000))?;
    let user_id = claims
        .sub
        .parse::<i64>()
        .map_err(|_| ApiError::InvalidToken("its subject is not a user id"))?;
    let strict = settings.for_user(Some(user_id)).strict_token_check;
    if strict {
        let alive = timing
            .measure(
                "store",
                "family check",
                refresh.family_alive(&claims.sid, now_ms),
            )
            .await?;
        if !alive {
            return Err(ApiError::InvalidToken(
                "its login was logged out or revoked",
            ));
        }
    }
    Ok(BearerAuth {
        user: AuthUser {
            id: user_id,
            username: claims.name.clone(),
        },
        claims,
        strict,
        verification,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, generate_secret};

    fn tokens() -> AccessTokens {
        let env: std::collections::HashMap<String, String> = [
            ("JWT_SECRET", generate_secret()),
            ("REFRESH_TOKEN_SECRET", generate_secret()),
            ("SECRETS_FILE", "/nonexistent/never-written".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        AccessTokens::new(&Config::from_source(&env).unwrap().token)
    }

    fn user() -> AuthUser {
        AuthUser {
            id: 1,
            username: "alice".into(),
        }
    }

    #[test]
    fn a_check_that_straddles_a_key_rotation_leaves_nothing_trusted_in_the_cache() {
        let tokens = tokens();
        let (token, claims) = tokens
            .issue(&user(), "family", 1_000, None, "read")
            .unwrap();
        // A check begins with the old key...
        let old_keys = tokens.keys();
        // ...the key is rotated meanwhile (every old token must stop verifying)...
        tokens.rotate_secret(&SecretString::from(generate_secret()));
        // ...and the check finishes with the old key, caching its result.
        assert!(tokens.verify_with(&old_keys, &token, claims.iat).is_ok());
        // The next request must not be served from that cache entry.
        assert!(tokens.verify(&token, claims.iat).is_err());
    }

    #[test]
    fn a_token_seen_before_is_served_from_the_cache_with_its_times_still_checked() {
        let tokens = tokens();
        let (token, claims) = tokens
            .issue(&user(), "family", 1_000, None, "read")
            .unwrap();
        assert_eq!(
            tokens.verify(&token, 1_000).unwrap().1,
            Verification::Checked
        );
        assert_eq!(
            tokens.verify(&token, 1_001).unwrap().1,
            Verification::Cached
        );
        assert!(tokens.verify(&token, claims.exp + 10).is_err());
    }
}
