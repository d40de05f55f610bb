//! The separate API server (`server --role api`): a resource server that holds no database, no
//! session store and no secret — only the URL of the app servers' JWKS.
//!
//! It is the seeds' claim made concrete: a token can be verified by anyone holding the public
//! key. It serves `GET /api/me` from the token's claims alone, with `Server-Timing` showing
//! that no store was asked. The price is the same as on the app servers without strict
//! checking, but here it cannot be bought back: a token stays valid until `exp` after its user
//! logged out, because this server has nowhere to look a logout up.
//!
//! Keys come from `JWKS_URL` at start (retried until the app servers answer) and again when a
//! token names a key it does not know — at most once per `JWKS_REFRESH_MIN_SECS`, so forged
//! key ids cause no fetch storm — and every `JWKS_RELOAD_SECS` (default the JWKS' `max-age`,
//! [`JWKS_MAX_AGE`]) so that retired keys drop out. A key retired on the app servers stops
//! verifying here within the time the app server that answers the JWKS takes to learn of it
//! (milliseconds with Redis, up to a minute without) plus `JWKS_RELOAD_SECS`. If the JWKS
//! cannot be fetched for three reload periods, the server answers 503 rather than trust keys
//! that may have been retired meanwhile (fail closed).
//!
//! Settings: `API_ADDR` (default `127.0.0.1:3030`), `JWKS_URL` (required), `JWT_ISSUER`,
//! `JWT_AUDIENCE` (default `authlab`), `JWT_LEEWAY_SECS` (default 5),
//! `JWKS_REFRESH_MIN_SECS` (default 10), `JWKS_RELOAD_SECS` (default 60).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, bail, ensure};
use axum::{
    Json, Router, extract::FromRequestParts, http::request::Parts, middleware, routing::get,
};
use serde_json::json;
use tokio::net::TcpListener;

use crate::{
    auth::{
        self,
        bearer::{AccessTokens, TokenRules},
        keys::{JWKS_MAX_AGE, JwksKeys, KeySource},
    },
    clock::{Clock, SystemClock},
    error::ApiError,
    timing::{self, ServerTiming},
};

/// Keys that could not be refreshed for this many reload periods are no longer trusted.
const STALE_AFTER_RELOADS: u32 = 3;

/// How long start-up waits for the JWKS before giving up.
const STARTUP_WAIT: Duration = Duration::from_secs(60);

/// The API server's settings.
#[derive(Debug, Clone)]
pub struct ApiServerConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Where the app servers publish their keys.
    pub jwks_url: String,
    /// What tokens must say.
    pub rules: TokenRules,
    /// How often the JWKS is fetched again regardless (`JWKS_RELOAD_SECS`, default the
    /// JWKS' own `max-age`): the bound on how long a retired key still verifies here.
    pub reload_every: Duration,
}

impl ApiServerConfig {
    /// From the environment (see the module docs).
    pub fn from_env() -> anyhow::Result<Self> {
        // A `.env` file, as the app servers read one (the environment wins).
        let _ = dotenvy::dotenv();
        let get = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let addr = get("API_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3030".into())
            .parse()
            .context("API_ADDR must be an address like 127.0.0.1:3030")?;
        let Some(jwks_url) = get("JWKS_URL") else {
            bail!("JWKS_URL is required: the app servers' /.well-known/jwks.json");
        };
        let number = |key: &str, default: u64| -> anyhow::Result<u64> {
            get(key).map_or(Ok(default), |v| {
                v.parse().with_context(|| format!("{key} must be a number"))
            })
        };
        let leeway_secs = number("JWT_LEEWAY_SECS", 5)?;
        ensure!(leeway_secs <= 30, "JWT_LEEWAY_SECS must be at most 30");
        Ok(Self {
            addr,
            jwks_url,
            rules: TokenRules {
                issuer: get("JWT_ISSUER").unwrap_or_else(|| "authlab".into()),
                audience: get("JWT_AUDIENCE").unwrap_or_else(|| "authlab".into()),
                ttl: Duration::ZERO,
                leeway_secs,
                refetch_every: Duration::from_secs(number("JWKS_REFRESH_MIN_SECS", 10)?),
            },
            reload_every: Duration::from_secs(
                number("JWKS_RELOAD_SECS", JWKS_MAX_AGE.as_secs())?.max(1),
            ),
        })
    }
}

/// A bound API server.
pub struct ApiServer {
    listener: TcpListener,
    state: Keys,
    reload_every: Duration,
}

/// The verifier and how stale its keys may grow.
#[derive(Clone)]
struct Keys {
    tokens: Arc<AccessTokens>,
    /// Keys not refreshed for this long (the JWKS unreachable for several reloads) are no
    /// longer trusted: a key retired meanwhile must not verify forever.
    max_age: Duration,
}

impl ApiServer {
    /// Fetches the keys (waiting up to a minute for the app servers) and binds.
    pub async fn build(config: ApiServerConfig) -> anyhow::Result<Self> {
        let source = Arc::new(JwksKeys::new(config.jwks_url.clone())?);
        let started = std::time::Instant::now();
        let set = loop {
            match source.load().await {
                Ok(set) => break set,
                Err(err) if started.elapsed() < STARTUP_WAIT => {
                    tracing::info!(error = format!("{err:#}"), "waiting for the JWKS");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(err) => return Err(err.context("the JWKS never answered")),
            }
        };
        ensure!(
            !set.kids().is_empty(),
            "the JWKS at {} lists no key (is JWT_ALGORITHM=HS256 on the app servers? \
             a symmetric key cannot be published)",
            config.jwks_url
        );
        let tokens = Arc::new(AccessTokens::with_keys(config.rules, set, source));
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        Ok(Self {
            listener,
            state: Keys {
                tokens,
                max_age: config.reload_every * STALE_AFTER_RELOADS,
            },
            reload_every: config.reload_every,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until stopped, fetching the keys again every `JWKS_RELOAD_SECS`.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let tokens = Arc::clone(&self.state.tokens);
        let reload_every = self.reload_every;
        tokio::spawn(async move {
            let mut every = tokio::time::interval(reload_every);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(err) = tokens.reload().await {
                    tracing::warn!(error = format!("{err:#}"), "could not refresh the JWKS");
                }
            }
        });
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(crate::startup::shutdown_signal())
            .await
            .context("serving")
    }
}

/// The API server's routes.
fn router(state: Keys) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/me", get(me))
        .layer(middleware::from_fn(timing::server_timing))
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "role": "api" }))
}

/// A caller whose bearer token verified with a published key.
struct Verified(Arc<auth::bearer::AccessClaims>);

impl FromRequestParts<Keys> for Verified {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, keys: &Keys) -> Result<Self, ApiError> {
        let token = auth::bearer_token(parts)?.ok_or(ApiError::Unauthenticated)?;
        let tokens = &keys.tokens;
        if tokens.keys_age() > keys.max_age {
            // Fail closed: better "try again" than trusting a key that may have been retired.
            tracing::warn!("the JWKS has not been refreshed for too long; refusing");
            return Err(ApiError::Busy);
        }
        let now = SystemClock.now_secs();
        let start = std::time::Instant::now();
        let (claims, verification) = tokens.verify_fresh(token, now).await?;
        if let Some(timing) = parts.extensions.get::<ServerTiming>() {
            timing.record("auth", verification.label(), start.elapsed());
        }
        Ok(Self(claims))
    }
}

/// `GET /api/me`: who the token says the caller is — from the claims, with no store.
async fn me(Verified(claims): Verified) -> Json<serde_json::Value> {
    Json(json!({
        "user_id": claims.sub.parse::<i64>().ok(),
        "username": claims.name,
        "scope": claims.scope,
        "family_id": claims.sid,
        "token_id": claims.jti,
        "expires_at": claims.exp,
        "verified_by": "the API server, with the public key from the JWKS (no store lookup)",
    }))
}
