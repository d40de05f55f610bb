//! Bearer-token mode: JWT access tokens.
//!
//! The server signs a short-lived token (EdDSA by default, see `keys.rs`) naming the user; the
//! client sends it back in
//! `Authorization: Bearer`; the server checks the signature and the claims and needs no store to
//! do so. That is the whole appeal, and the whole catch: **a token cannot be taken back**.
//! Logout revokes the refresh-token family, but an access token already issued keeps working
//! until `exp` (`ACCESS_TOKEN_TTL_SECS`). `STRICT_TOKEN_CHECK` buys revocation back by looking
//! the family up on every request — one store access, the very cost tokens were meant to avoid.
//!
//! Validation follows RFC 8725 (JWT best practices) and RFC 9068 (access-token profile):
//! * one algorithm, fixed by the server (`JWT_ALGORITHM`) — the token's `alg` header never
//!   chooses (`none`, HS384, RS256, and HS256 on an EdDSA server are refused);
//! * the `kid` header must name a live key; an unknown one makes the verifier ask its key
//!   source again, at most once per `JWKS_REFRESH_MIN_SECS`, and is then refused;
//! * `typ` must be `at+jwt`, so no other kind of JWT can pass as an access token;
//! * `iss`, `aud`, `sub`, `exp`, `iat`, `nbf`, `jti`, `sid` are all required;
//! * times are checked against the server clock with `JWT_LEEWAY_SECS` (default 5 s, at most
//!   30 s) of tolerance for clock skew, `nbf` included.
//!
//! Verified tokens are cached (by their exact text) so a token presented again skips the
//! base64 decoding, signature check and JSON parsing; the time checks still run on every request. A
//! cached entry is exactly as trustworthy as a fresh check — same bytes, same key — and the
//! cache is emptied whenever the keys change (a reload that finds the same keys keeps it).

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use app::wire::BearerInfo;
use jsonwebtoken::{EncodingKey, Header, Validation};
use quick_cache::sync::Cache;
use serde::{Deserialize, Serialize};

use super::{
    AuthUser,
    keys::{KeySet, KeySource, SigningAlgorithm},
    refresh::RefreshTokens,
};
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

/// The installed keys and their generation. Bumped by every change: a verified token is
/// cached with the generation of the keys that verified it, and a cached entry of another
/// generation is not trusted — so a check that started before a key change and finished after
/// it cannot leave a token verified by the old keys in the cache.
struct Installed {
    set: KeySet,
    generation: u64,
}

/// Why a token was refused: for a key the verifier does not know it is worth asking the key
/// source again (a key added on another server), for anything else it is not.
enum Refusal {
    UnknownKey,
    Invalid(&'static str),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        ApiError::InvalidToken(match refusal {
            Refusal::UnknownKey => "it names a signing key (kid) this server does not know",
            Refusal::Invalid(why) => why,
        })
    }
}

/// What a valid access token must say, and how long one lives.
#[derive(Debug, Clone)]
pub struct TokenRules {
    /// The `iss` issued and required.
    pub issuer: String,
    /// The `aud` issued and required.
    pub audience: String,
    /// The lifetime of issued tokens.
    pub ttl: Duration,
    /// Clock skew tolerated, in seconds.
    pub leeway_secs: u64,
    /// Ask the key source about an unknown key at most this often.
    pub refetch_every: Duration,
}

impl From<&TokenConfig> for TokenRules {
    fn from(config: &TokenConfig) -> Self {
        Self {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl: config.access_ttl,
            leeway_secs: config.leeway_secs,
            refetch_every: config.key_refetch_every,
        }
    }
}

/// Issues and verifies access tokens.
pub struct AccessTokens {
    keys: RwLock<Arc<Installed>>,
    source: Arc<dyn KeySource>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
    leeway: i64,
    refetch_every: Duration,
    /// When the source was last asked. Held across the whole ask-and-install, so loads never
    /// overlap: a slow load that read the keys before a retirement cannot finish after the
    /// load that saw it and bring the retired key back.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    /// When a load last succeeded (the API server stops trusting keys it cannot refresh).
    loaded_at: RwLock<Instant>,
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
    /// A verifier (and, if `source` gives a signing key, an issuer) following `config`'s rules,
    /// with the keys `source` gives now.
    pub async fn new(rules: TokenRules, source: Arc<dyn KeySource>) -> anyhow::Result<Self> {
        let set = source.load().await?;
        Ok(Self::with_keys(rules, set, source))
    }

    /// [`Self::new`] with the first keys already loaded.
    pub fn with_keys(config: TokenRules, set: KeySet, source: Arc<dyn KeySource>) -> Self {
        let mut validation = Validation::new(set.algorithm().jose());
        validation.set_required_spec_claims(&["exp", "nbf", "sub", "iss", "aud"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        // Times are checked below against the server's (injectable) clock, in one place, for
        // fresh and cached tokens alike.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Self {
            keys: RwLock::new(Arc::new(Installed { set, generation: 0 })),
            source,
            validation,
            leeway: i64::try_from(config.leeway_secs).unwrap_or(30),
            refetch_every: config.refetch_every,
            issuer: config.issuer,
            audience: config.audience,
            ttl: config.ttl,
            // The first unknown key is looked up at once (servers started together each add a
            // first key); after that at most once per period.
            last_fetch: tokio::sync::Mutex::new(None),
            loaded_at: RwLock::new(Instant::now()),
            verified: Cache::new(VERIFIED_CACHE_SIZE),
        }
    }

    /// The access-token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn keys(&self) -> Arc<Installed> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The public keys, as `/.well-known/jwks.json` serves them.
    pub fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        self.keys().set.jwks().clone()
    }

    /// The ids of the keys that verify now, and the one that signs.
    pub fn key_ids(&self) -> (Vec<String>, Option<String>) {
        let keys = self.keys();
        (
            keys.set.kids(),
            keys.set.signer().map(|(kid, _)| kid.to_owned()),
        )
    }

    /// The header and key a token is signed with: what an attacker who stole the signing key
    /// would hold (the lab's leaked-secret experiment forges a token with it).
    pub fn signing_kit(&self) -> Option<(Header, EncodingKey)> {
        let keys = self.keys();
        let (kid, key) = keys.set.signer()?;
        let mut header = Header::new(keys.set.algorithm().jose());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(kid.to_owned());
        Some((header, key.clone()))
    }

    /// Installs the keys the source gives now (if they differ from the installed ones, every
    /// cached verification is dropped).
    pub async fn reload(&self) -> anyhow::Result<()> {
        let mut last = self.last_fetch.lock().await;
        *last = Some(Instant::now());
        let set = self.source.load().await?;
        self.install(set);
        drop(last);
        Ok(())
    }

    /// How long ago the keys were last loaded successfully.
    pub fn keys_age(&self) -> Duration {
        match self.loaded_at.read() {
            Ok(at) => at.elapsed(),
            Err(poisoned) => poisoned.into_inner().elapsed(),
        }
    }

    fn install(&self, set: KeySet) {
        match self.loaded_at.write() {
            Ok(mut at) => *at = Instant::now(),
            Err(poisoned) => *poisoned.into_inner() = Instant::now(),
        }
        let mut guard = match self.keys.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if guard.set.same_as(&set) {
            return;
        }
        *guard = Arc::new(Installed {
            set,
            generation: guard.generation + 1,
        });
        drop(guard);
        self.verified.clear();
    }

    /// Asks the key source again, unless it was asked less than `JWKS_REFRESH_MIN_SECS` ago
    /// (forged key ids must not turn into a storm of fetches). `true` if it asked.
    async fn reload_if_due(&self) -> bool {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.refetch_every) {
            return false;
        }
        *last = Some(Instant::now());
        let loaded = self.source.load().await;
        match loaded {
            Ok(set) => {
                self.install(set);
                true
            }
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "could not reload the signing keys"
                );
                false
            }
        }
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
        let (header, key) = self.signing_kit().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("this server holds no signing key"))
        })?;
        let token = jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing a JWT: {e}")))?;
        Ok((token, claims))
    }

    /// Verifies a token's signature, type and claims, then its times against `now_secs`, with
    /// the keys installed now.
    pub fn verify(
        &self,
        token: &str,
        now_secs: i64,
    ) -> Result<(Arc<AccessClaims>, Verification), ApiError> {
        Ok(self.verify_with(&self.keys(), token, now_secs)?)
    }

    /// [`Self::verify`], asking the key source again (rate-limited) when the token names a key
    /// not installed here — one added on another server, or published since the last fetch.
    pub async fn verify_fresh(
        &self,
        token: &str,
        now_secs: i64,
    ) -> Result<(Arc<AccessClaims>, Verification), ApiError> {
        match self.verify_with(&self.keys(), token, now_secs) {
            Err(Refusal::UnknownKey) if self.reload_if_due().await => {
                Ok(self.verify_with(&self.keys(), token, now_secs)?)
            }
            other => Ok(other?),
        }
    }

    /// [`Self::verify`] with the keys as they were read when the check began.
    fn verify_with(
        &self,
        keys: &Installed,
        token: &str,
        now_secs: i64,
    ) -> Result<(Arc<AccessClaims>, Verification), Refusal> {
        if let Some((generation, claims)) = self.verified.get(token)
            && generation == keys.generation
        {
            self.check_times(&claims, now_secs)?;
            return Ok((claims, Verification::Cached));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| Refusal::Invalid(reason(&e)))?;
        if header.alg != keys.set.algorithm().jose() {
            return Err(Refusal::Invalid(match keys.set.algorithm() {
                SigningAlgorithm::EdDsa => "its algorithm is not the one this server uses (EdDSA)",
                SigningAlgorithm::Hs256 => "its algorithm is not the one this server uses (HS256)",
            }));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or(Refusal::Invalid("it names no signing key (kid)"))?;
        let key = keys.set.verifier(kid).ok_or(Refusal::UnknownKey)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map_err(|e| Refusal::Invalid(reason(&e)))?;
        let typ_ok = data.header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
                || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(Refusal::Invalid("it is not an access token (typ)"));
        }
        let claims = Arc::new(data.claims);
        self.check_times(&claims, now_secs)?;
        self.verified
            .insert(token.into(), (keys.generation, Arc::clone(&claims)));
        Ok((claims, Verification::Checked))
    }

    fn check_times(&self, claims: &AccessClaims, now: i64) -> Result<(), Refusal> {
        if now >= claims.exp.saturating_add(self.leeway) {
            return Err(Refusal::Invalid("it has expired"));
        }
        if claims.nbf > now.saturating_add(self.leeway) {
            return Err(Refusal::Invalid("it is not valid yet (nbf)"));
        }
        if claims.iat > now.saturating_add(self.leeway) {
            return Err(Refusal::Invalid("it was issued in the future (iat)"));
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
            "its algorithm is not the one this server uses"
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
    let (claims, verification) = access.verify_fresh(token, now_ms.div_euclid(1000)).await?;
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
    use crate::{
        auth::keys::StaticKeys,
        config::{Config, generate_secret},
    };

    async fn tokens() -> (AccessTokens, Arc<StaticKeys>) {
        let env: std::collections::HashMap<String, String> = [
            ("JWT_SECRET", generate_secret()),
            ("REFRESH_TOKEN_SECRET", generate_secret()),
            ("SECRETS_FILE", "/nonexistent/never-written".to_owned()),
            ("JWKS_REFRESH_MIN_SECS", "0".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let config = Config::from_source(&env).unwrap().token;
        let keys = Arc::new(StaticKeys::new(config.algorithm, config.jwt_secret.clone()));
        let tokens = AccessTokens::new((&config).into(), keys.clone())
            .await
            .unwrap();
        (tokens, keys)
    }

    fn user() -> AuthUser {
        AuthUser {
            id: 1,
            username: "alice".into(),
        }
    }

    #[tokio::test]
    async fn a_check_that_straddles_a_key_change_leaves_nothing_trusted_in_the_cache() {
        let (tokens, keys) = tokens().await;
        let (token, claims) = tokens
            .issue(&user(), "family", 1_000, None, "read")
            .unwrap();
        // A check begins with the old keys...
        let old_keys = tokens.keys();
        // ...the only key is retired meanwhile (every token it signed must stop verifying)...
        let (_, Some(kid)) = tokens.key_ids() else {
            panic!("no signing key")
        };
        keys.rotate();
        keys.retire(&kid);
        tokens.reload().await.unwrap();
        // ...and the check finishes with the old keys, caching its result.
        assert!(tokens.verify_with(&old_keys, &token, claims.iat).is_ok());
        // The next request must not be served from that cache entry.
        assert!(tokens.verify(&token, claims.iat).is_err());
    }

    #[tokio::test]
    async fn a_token_seen_before_is_served_from_the_cache_with_its_times_still_checked() {
        let (tokens, _) = tokens().await;
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

    #[tokio::test]
    async fn after_a_rotation_the_new_key_signs_and_the_old_one_verifies_until_retired() {
        let (tokens, keys) = tokens().await;
        let (old, _) = tokens.issue(&user(), "f", 1_000, None, "read").unwrap();
        let (_, Some(first)) = tokens.key_ids() else {
            panic!("no signing key")
        };
        keys.rotate();
        tokens.reload().await.unwrap();
        let (new, _) = tokens.issue(&user(), "f", 1_000, None, "read").unwrap();
        let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
        assert_ne!(kid(&new), first);
        assert!(tokens.verify(&old, 1_000).is_ok());
        assert!(tokens.verify(&new, 1_000).is_ok());
        keys.retire(&first);
        tokens.reload().await.unwrap();
        assert!(tokens.verify(&old, 1_000).is_err());
        assert!(tokens.verify(&new, 1_000).is_ok());
    }

    #[tokio::test]
    async fn a_key_added_elsewhere_is_found_by_asking_the_source_again() {
        let (tokens, keys) = tokens().await;
        // Another server (same secret, same store) rotates and signs with the new key.
        keys.rotate();
        let elsewhere = AccessTokens::new((&tokens_config()).into(), keys.clone())
            .await
            .unwrap();
        let (token, _) = elsewhere.issue(&user(), "f", 1_000, None, "read").unwrap();
        // This server has not reloaded: with its installed keys the token is refused, but
        // the unknown kid makes it ask its source again, and then it is accepted.
        assert!(tokens.verify(&token, 1_000).is_err());
        assert!(tokens.verify_fresh(&token, 1_000).await.is_ok());
    }

    /// A key source that counts how often it is asked.
    struct Counting(Arc<StaticKeys>, std::sync::atomic::AtomicUsize);

    #[async_trait::async_trait]
    impl KeySource for Counting {
        async fn load(&self) -> anyhow::Result<KeySet> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.load().await
        }
    }

    #[tokio::test]
    async fn forged_key_ids_make_the_verifier_ask_its_source_at_most_once_per_period() {
        let mut config = tokens_config();
        config.key_refetch_every = Duration::from_secs(10);
        let keys = Arc::new(StaticKeys::new(config.algorithm, config.jwt_secret.clone()));
        let source = Arc::new(Counting(keys, std::sync::atomic::AtomicUsize::new(0)));
        let tokens = AccessTokens::new((&config).into(), source.clone())
            .await
            .unwrap();
        let (token, _) = tokens.issue(&user(), "f", 1_000, None, "read").unwrap();
        let (mut header, key) = tokens.signing_kit().unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                token.split('.').nth(1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let asked_at_start = source.1.load(std::sync::atomic::Ordering::SeqCst);
        for i in 0..50 {
            header.kid = Some(format!("forged-{i}"));
            let forged = jsonwebtoken::encode(&header, &claims, &key).unwrap();
            assert!(tokens.verify_fresh(&forged, 1_000).await.is_err());
        }
        // The first unknown key was looked up; the 49 after it, within the period, were not.
        assert_eq!(
            source.1.load(std::sync::atomic::Ordering::SeqCst),
            asked_at_start + 1
        );
        // Past the period, one more (and still refused).
        *tokens.last_fetch.lock().await = Instant::now().checked_sub(Duration::from_secs(11));
        header.kid = Some("forged-late".into());
        let forged = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        assert!(tokens.verify_fresh(&forged, 1_000).await.is_err());
        assert!(tokens.verify_fresh(&forged, 1_000).await.is_err());
        assert_eq!(
            source.1.load(std::sync::atomic::Ordering::SeqCst),
            asked_at_start + 2
        );
    }

    fn tokens_config() -> TokenConfig {
        let env: std::collections::HashMap<String, String> = [
            ("JWT_SECRET", generate_secret()),
            ("REFRESH_TOKEN_SECRET", generate_secret()),
            ("SECRETS_FILE", "/nonexistent/never-written".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Config::from_source(&env).unwrap().token
    }
}
