//! Sign-in with an OpenID Connect provider: the authorization code flow with PKCE, ending in
//! this app's own credential — a cookie session or a token pair, per mode.
//!
//! ```text
//! browser            authlab                                     provider
//!   | POST start       |                                              |
//!   |----------------->| state, nonce, PKCE verifier kept server-side |
//!   |<-- 303/URL ------| (one-time value, keyed by a cookie)          |
//!   |---------------- GET /authorize?code_challenge=…&state=…&nonce=… ---------->|
//!   |<------------------------- login and consent pages ------------------------>|
//!   |<--------------- 303 /auth/oidc/callback?code=…&state=…&iss=… --------------|
//!   | GET callback     |                                              |
//!   |----------------->| takes the one-time value (single use),       |
//!   |                  | checks state and iss                         |
//!   |                  |-- POST /token code + verifier + secret ----->|
//!   |                  |<------------ ID token, access token ---------|
//!   |                  | verifies the ID token (sig, iss, aud, exp,   |
//!   |                  | nonce, azp), finds or links the local user   |
//!   |<-- session cookie (session mode), or a handoff cookie the page  |
//!   |    trades for a token pair in a JSON body (token mode)          |
//! ```
//!
//! What each side keeps afterwards: the provider keeps its own login session (its cookie on
//! its own origin) and its grant; authlab keeps only the link (issuer, subject) → user and
//! then exactly what a password login would have made. The provider's tokens are dropped
//! after the callback: no page script sees them and no authlab endpoint accepts them.

pub mod identities;
pub mod provider;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use tower_cookies::{
    Cookies,
    cookie::{Cookie, SameSite},
};

pub use self::provider::{Discovered, Exchanged, Person, ProviderError, Registration};
// The mode of the pages (`/session/…`, `/token/…`) a login ends in.
use app::mode::AuthMode as PageMode;

use crate::{
    audit::Audit,
    auth::refresh::hash,
    clock::Clock,
    error::ApiError,
    store::{AuditKind, ExternalLoginStore, User, UserStore},
};

/// The cookie that ties a login in progress to the browser that started it.
pub const FLOW_COOKIE: &str = "authlab_oidc";
/// Sent back only to the callback.
pub const FLOW_COOKIE_PATH: &str = "/auth/oidc";
/// The callback's path (registered at the provider under `PUBLIC_URL`).
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
/// The cookie a token-mode page trades for its token pair.
pub const HANDOFF_COOKIE: &str = "authlab_handoff";
/// Sent back only to the token endpoints (where the handoff is picked up).
pub const HANDOFF_COOKIE_PATH: &str = "/api/token";

/// How long a login may take at the provider.
const FLOW_LIFETIME: Duration = Duration::from_secs(600);
/// How long a token-mode page has to pick its tokens up after the callback.
const HANDOFF_LIFETIME: Duration = Duration::from_secs(60);
/// How long a discovery document is trusted before it is read again.
const DISCOVERY_LIFETIME: Duration = Duration::from_secs(3600);

const FLOW_PURPOSE: &str = "oidc-flow";
const HANDOFF_PURPOSE: &str = "oidc-handoff";

/// What a login in progress keeps on the server between the redirect and the callback.
#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    #[serde(flatten)]
    challenge: provider::Challenge,
    ending: PageMode,
    /// Set when a logged-in user is linking a provider account rather than logging in.
    link_user: Option<i64>,
}

/// The query of the provider's redirect back to the callback.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The state this app sent.
    pub state: Option<String>,
    /// RFC 9207: the issuer that answered.
    pub iss: Option<String>,
    /// An OAuth error code (`access_denied`, …) instead of a code.
    pub error: Option<String>,
    /// The provider's explanation of `error`.
    pub error_description: Option<String>,
}

/// How a callback ended badly: a status and a sentence for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status of the page.
    pub status: u16,
    /// A stable code (for tests and logs).
    pub code: &'static str,
    /// What the person reads.
    pub message: String,
}

impl Refusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(err: ApiError) -> Self {
        err.log_if_internal();
        Self {
            status: err.status_code().as_u16(),
            code: err.code(),
            message: err.message(),
        }
    }
}

impl From<ProviderError> for Refusal {
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::Unreachable(why) => {
                tracing::warn!(reason = %why, "identity provider unavailable");
                Self::new(
                    502,
                    "provider_unavailable",
                    "The identity provider could not be reached. Try again in a moment.",
                )
            }
            ProviderError::CodeRefused { code, .. } => Self::new(
                400,
                "code_refused",
                format!(
                    "The identity provider refused the sign-in code ({code}): it was used \
                     already, has expired, or does not match this login."
                ),
            ),
            ProviderError::IdToken(why) => Self::new(
                401,
                "id_token_refused",
                format!("The identity provider's ID token was refused: {why}."),
            ),
        }
    }
}

/// A callback that succeeded.
#[derive(Debug)]
pub struct Landed {
    /// The local user.
    pub user: User,
    /// The mode it ends in.
    pub ending: PageMode,
    /// A link was made to an already logged-in user (no new login).
    pub linked: bool,
    /// A local account was created for this provider account.
    pub created: bool,
    /// What the exchange returned (the lab shows it; nothing of it reaches a browser).
    pub exchanged: Exchanged,
}

/// Whether sign-in with a provider is available, and under what name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// The provider's display name.
    pub name: String,
    /// Its issuer.
    pub issuer: String,
}

/// The provider as this server knows it: its registration and, once read, its discovery
/// document (kept for an hour, and read again after a signature failure, in case its keys
/// rotated).
struct Provider {
    registration: Registration,
    /// The issuer's origin (`scheme://host[:port]`), for the pages' `form-action`.
    origin: String,
    name: String,
    http: reqwest::Client,
    discovered: RwLock<Option<(Arc<Discovered>, Instant)>>,
}

impl Provider {
    async fn get(&self) -> Result<Arc<Discovered>, ProviderError> {
        if let Some((found, at)) = self.discovered.read().await.as_ref()
            && at.elapsed() < DISCOVERY_LIFETIME
        {
            return Ok(found.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some((found, at)) = slot.as_ref()
            && at.elapsed() < DISCOVERY_LIFETIME
        {
            return Ok(found.clone());
        }
        let found = Arc::new(Discovered::discover(&self.registration, &self.http).await?);
        *slot = Some((found.clone(), Instant::now()));
        Ok(found)
    }

    async fn forget(&self) {
        *self.discovered.write().await = None;
    }
}

/// Sign-in with a provider: configuration, the flow's two halves, the token handoff.
#[derive(Clone)]
pub struct Oidc {
    provider: Option<Arc<Provider>>,
    store: Arc<dyn ExternalLoginStore>,
    users: Arc<dyn UserStore>,
    audit: Audit,
    clock: Arc<dyn Clock>,
    cookie_secure: bool,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("configured", &self.provider.is_some())
            .finish_non_exhaustive()
    }
}

/// What the server is told about its provider (`OIDC_*`), if anything.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Who this app is at the provider.
    pub registration: Registration,
    /// `OIDC_PROVIDER_NAME`: shown on the button.
    pub name: String,
}

impl Oidc {
    /// The service; `config` is `None` when no provider is configured.
    pub fn new(
        config: Option<OidcConfig>,
        store: Arc<dyn ExternalLoginStore>,
        users: Arc<dyn UserStore>,
        audit: Audit,
        clock: Arc<dyn Clock>,
        cookie_secure: bool,
    ) -> anyhow::Result<Self> {
        let provider = match config {
            Some(config) => Some(Arc::new(Provider {
                origin: origin_of(&config.registration.issuer)?,
                registration: config.registration,
                name: config.name,
                http: provider::http_client()?,
                discovered: RwLock::new(None),
            })),
            None => None,
        };
        Ok(Self {
            provider,
            store,
            users,
            audit,
            clock,
            cookie_secure,
        })
    }

    /// The provider's name and issuer, if one is configured.
    pub fn info(&self) -> Option<ProviderInfo> {
        self.provider.as_ref().map(|p| ProviderInfo {
            name: p.name.clone(),
            issuer: p.registration.issuer.clone(),
        })
    }

    /// The provider's origin, if one is configured (pages let their forms lead there).
    pub fn provider_origin(&self) -> Option<&str> {
        self.provider.as_deref().map(|p| p.origin.as_str())
    }

    fn provider(&self) -> Result<&Provider, ApiError> {
        self.provider
            .as_deref()
            .ok_or(ApiError::ProviderNotConfigured)
    }

    /// The discovered provider (the lab's steps use it directly).
    pub async fn discovered(&self) -> Result<Arc<Discovered>, ApiError> {
        self.provider()?
            .get()
            .await
            .map_err(|e| ApiError::ProviderUnavailable(e.to_string()))
    }

    /// The provider's HTTP client (redirects off, bounded in time).
    pub fn http(&self) -> Result<&reqwest::Client, ApiError> {
        Ok(&self.provider()?.http)
    }

    /// Starts a login (or, with `link_user`, the linking of a provider account to that
    /// user): keeps the state, nonce and PKCE verifier server-side under a new random key,
    /// sets that key as this browser's flow cookie, and returns the provider URL to go to.
    pub async fn start(
        &self,
        ending: PageMode,
        link_user: Option<i64>,
        cookies: &Cookies,
    ) -> Result<String, ApiError> {
        let provider = self.discovered().await?;
        let (url, challenge) = provider.authorize();
        let key = random_key();
        let flow = Flow {
            challenge,
            ending,
            link_user,
        };
        let payload = serde_json::to_string(&flow)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding a login flow: {e}")))?;
        let expires_at = self.clock.now_ms() + crate::clock::ms(FLOW_LIFETIME);
        self.store
            .put_once(&hash(&key), FLOW_PURPOSE, &payload, expires_at)
            .await?;
        cookies.add(self.cookie(
            FLOW_COOKIE,
            FLOW_COOKIE_PATH,
            key,
            FLOW_LIFETIME,
            SameSite::Lax,
        ));
        tracing::info!(
            mode = ending.segment(),
            linking = link_user.is_some(),
            "provider login started"
        );
        Ok(url)
    }

    /// The callback: checks everything, exchanges the code, verifies the ID token and finds
    /// (or creates, or links) the local user. The flow is used up whatever the outcome, so
    /// the same `state` can never be presented twice.
    pub async fn callback(
        &self,
        params: &CallbackParams,
        cookies: &Cookies,
    ) -> Result<Landed, Refusal> {
        let provider = self.provider().map_err(Refusal::from)?;
        let key = cookies.get(FLOW_COOKIE).map(|c| c.value().to_owned());
        // The cookie has done its job either way.
        cookies.add(self.cookie(
            FLOW_COOKIE,
            FLOW_COOKIE_PATH,
            String::new(),
            Duration::ZERO,
            SameSite::Lax,
        ));
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return Err(Refusal::new(
                400,
                "no_login_in_progress",
                "No sign-in was started in this browser (or it was already finished). \
                 Start again from the login page.",
            ));
        };
        let now = self.clock.now_ms();
        let flow = self
            .store
            .take_once(&hash(&key), FLOW_PURPOSE, now)
            .await
            .map_err(|e| Refusal::from(ApiError::from(e)))?
            .and_then(|payload| serde_json::from_str::<Flow>(&payload).ok())
            .ok_or_else(|| {
                Refusal::new(
                    400,
                    "login_expired_or_used",
                    "This sign-in has expired or was already used. Start again from the \
                     login page.",
                )
            })?;
        let state_ok = params
            .state
            .as_deref()
            .is_some_and(|s| provider::same_secret(s, &flow.challenge.state));
        if !state_ok {
            return Err(Refusal::new(
                400,
                "state_mismatch",
                "The provider's answer does not belong to the sign-in this browser started \
                 (its state does not match).",
            ));
        }
        let discovered = provider.get().await.map_err(Refusal::from)?;
        if let Err(why) = discovered.check_response_issuer(params.iss.as_deref()) {
            return Err(Refusal::new(
                400,
                "issuer_mismatch",
                format!("Refused: {why}."),
            ));
        }
        if let Some(error) = params.error.as_deref() {
            return Err(provider_error(error));
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Refusal::new(400, "no_code", "The provider's answer carries no code.")
            })?;
        let exchanged = match discovered
            .exchange(
                &provider.http,
                code,
                &flow.challenge.verifier,
                &flow.challenge.nonce,
            )
            .await
        {
            Ok(exchanged) => exchanged,
            Err(err) => {
                if matches!(&err, ProviderError::IdToken(_)) {
                    // Perhaps its keys rotated: the next login reads them again.
                    provider.forget().await;
                }
                tracing::info!(reason = %err, "provider login refused");
                return Err(err.into());
            }
        };
        let person = &exchanged.person;
        let (user, created, linked) = match flow.link_user {
            Some(user_id) => {
                let user =
                    identities::link(&*self.store, &*self.users, user_id, person, now).await?;
                self.audit
                    .record(now, Some(user.id), AuditKind::ProviderLinked, None, "")
                    .await;
                (user, false, true)
            }
            None => {
                let (user, created) =
                    identities::login_user(&*self.store, &*self.users, person, now).await?;
                if created {
                    self.audit
                        .record(now, Some(user.id), AuditKind::Registered, None, "provider")
                        .await;
                }
                (user, created, false)
            }
        };
        tracing::info!(
            user_id = user.id,
            created,
            linked,
            "provider login verified"
        );
        Ok(Landed {
            user,
            ending: flow.ending,
            linked,
            created,
            exchanged,
        })
    }

    /// Token mode, after the callback: keeps "this user proved who they are" for a minute
    /// under a new key, set as an HttpOnly cookie the page's next token call sends. The
    /// tokens themselves are made when the page picks this up, and travel only in that
    /// response's JSON body: never in a URL.
    pub async fn hand_off(&self, user: &User, cookies: &Cookies) -> Result<(), ApiError> {
        let key = random_key();
        let expires_at = self.clock.now_ms() + crate::clock::ms(HANDOFF_LIFETIME);
        self.store
            .put_once(
                &hash(&key),
                HANDOFF_PURPOSE,
                &user.id.to_string(),
                expires_at,
            )
            .await?;
        cookies.add(self.cookie(
            HANDOFF_COOKIE,
            HANDOFF_COOKIE_PATH,
            key,
            HANDOFF_LIFETIME,
            SameSite::Strict,
        ));
        Ok(())
    }

    /// The user a handoff cookie stands for; the handoff is used up (and the cookie cleared)
    /// whatever happens.
    pub async fn pick_up(&self, cookies: &Cookies) -> Result<User, ApiError> {
        const REFUSED: ApiError = ApiError::InvalidGrant(
            "no sign-in is waiting to be picked up in this browser (it expired or was used)",
        );
        let key = cookies.get(HANDOFF_COOKIE).map(|c| c.value().to_owned());
        cookies.add(self.cookie(
            HANDOFF_COOKIE,
            HANDOFF_COOKIE_PATH,
            String::new(),
            Duration::ZERO,
            SameSite::Strict,
        ));
        let key = key.filter(|k| !k.is_empty()).ok_or(REFUSED)?;
        let user_id = self
            .store
            .take_once(&hash(&key), HANDOFF_PURPOSE, self.clock.now_ms())
            .await?
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or(REFUSED)?;
        self.users.user_by_id(user_id).await?.ok_or(REFUSED)
    }

    /// The provider's logout URL (RP-initiated logout), returning to `back_to`, if the
    /// provider has one.
    pub async fn logout_url(&self, back_to: &str) -> Result<Option<String>, ApiError> {
        let discovered = self.discovered().await?;
        Ok(discovered.end_session().map(|endpoint| {
            let mut url = endpoint.url().clone();
            url.query_pairs_mut()
                .append_pair("client_id", discovered.client_id())
                .append_pair("post_logout_redirect_uri", back_to);
            url.to_string()
        }))
    }

    /// The provider accounts linked to a user.
    pub async fn identities_of(
        &self,
        user_id: i64,
    ) -> Result<Vec<crate::store::ExternalIdentity>, ApiError> {
        Ok(self.store.identities_of(user_id).await?)
    }

    fn cookie(
        &self,
        name: &'static str,
        path: &'static str,
        value: String,
        max_age: Duration,
        same_site: SameSite,
    ) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .secure(self.cookie_secure)
            .same_site(same_site)
            .path(path)
            .max_age(time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ))
            .build()
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> anyhow::Result<String> {
    let parsed =
        url::Url::parse(url).map_err(|e| anyhow::anyhow!("OIDC_ISSUER is not a URL: {e}"))?;
    Ok(parsed.origin().ascii_serialization())
}

/// 256 random bits, base64url: a flow or handoff key (only its SHA-256 is stored).
fn random_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The page for an error the provider sent back instead of a code. Only known codes are
/// named; the provider's own description is not shown (anyone can craft this URL).
fn provider_error(error: &str) -> Refusal {
    match error {
        "access_denied" => Refusal::new(
            403,
            "access_denied",
            "The sign-in was cancelled at the identity provider (access_denied). Nothing was \
             changed here.",
        ),
        "login_required" | "consent_required" | "interaction_required" => Refusal::new(
            401,
            "login_required",
            "The identity provider needs you to sign in there first.",
        ),
        _ => Refusal::new(
            400,
            "provider_error",
            "The identity provider refused the sign-in request.",
        ),
    }
}
