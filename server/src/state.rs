//! The state every handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::SqlitePool;

use crate::{
    auth::{bearer::AccessTokens, refresh::RefreshTokens, session_store::RevocableStore},
    clock::Clock,
    config::Config,
    lab::LabState,
    password::PasswordHasher,
    settings::Settings,
    throttle::LoginThrottle,
};

/// Shared state: configuration, storage and the auth services. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Parsed configuration.
    pub config: Arc<Config>,
    /// The database (users, device index, refresh tokens, audit).
    pub db: SqlitePool,
    /// The tower-sessions store (same database, its own table).
    pub session_store: RevocableStore,
    /// Time, injectable for tests.
    pub clock: Arc<dyn Clock>,
    /// Argon2id on its own threads.
    pub hasher: PasswordHasher,
    /// Failed-login counters.
    pub throttle: Arc<LoginThrottle>,
    /// JWT access tokens: signing, verification and its cache.
    pub access_tokens: Arc<AccessTokens>,
    /// Refresh-token families and rotation.
    pub refresh_tokens: Arc<RefreshTokens>,
    /// Switches that can change at run time.
    pub settings: Arc<Settings>,
    /// The lab's own state (its address, experiment lock, compare boards, CSRF log).
    pub lab: Arc<LabState>,
    /// What Leptos needs to render pages and serve the site.
    pub leptos: LeptosOptions,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
