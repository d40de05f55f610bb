//! The state every handler shares: configuration, the store and the services built on it.
//!
//! Only the web layer (extractors, handlers, server functions, the lab) sees this whole
//! struct; each service holds just the pieces it needs.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    accounts::Accounts,
    auth::{
        bearer::AccessTokens, keys::StoredKeys, opaque::OpaqueTokens, refresh::RefreshTokens,
        session::Sessions, tokens::Tokens,
    },
    clock::Clock,
    config::Config,
    devices::Devices,
    lab::LabState,
    notes::Notes,
    oidc::Oidc,
    settings::Settings,
    store::{Store, sessions::cache::RevocableStore},
    throttle::Throttle,
};

/// Shared state: one pointer, so cloning it (axum does, for every extractor of every request)
/// costs one atomic increment. Its parts are reached through `Deref`: `state.config`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Shares `parts`.
    pub fn new(parts: Shared) -> Self {
        Self(Arc::new(parts))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    /// Parsed configuration.
    pub config: Arc<Config>,
    /// Time, injectable for tests.
    pub clock: Arc<dyn Clock>,
    /// The storage (database and session records).
    pub store: Store,
    /// The session store tower-sessions uses: the records behind a read cache.
    pub session_store: RevocableStore,
    /// Registration and password checks.
    pub accounts: Accounts,
    /// Cookie sessions.
    pub sessions: Sessions,
    /// Listing and ending logins.
    pub devices: Devices,
    /// JWT access tokens: signing, verification and its cache.
    pub access_tokens: Arc<AccessTokens>,
    /// The signing keys' ids in the store (rotation, retirement).
    pub signing_keys: Arc<StoredKeys>,
    /// Refresh-token families and rotation.
    pub refresh_tokens: Arc<RefreshTokens>,
    /// Token logins, refreshes and logouts.
    pub tokens: Tokens,
    /// Opaque database tokens.
    pub opaque: OpaqueTokens,
    /// Sign-in with an OpenID Connect provider.
    pub oidc: Oidc,
    /// Notes.
    pub notes: Notes,
    /// Failed-login counters.
    pub throttle: Arc<Throttle>,
    /// Switches that can change at run time.
    pub settings: Arc<Settings>,
    /// The `Host` names this server answers to.
    pub hosts: crate::hosts::AllowedHosts,
    /// The lab's own state (its address, experiment lock, compare boards, CSRF log).
    pub lab: Arc<LabState>,
    /// What Leptos needs to render pages and serve the site.
    pub leptos: LeptosOptions,
    /// The built site's file names.
    pub site: crate::assets::Site,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
