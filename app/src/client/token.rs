//! Token mode in the browser: the browser keeps an access token and a refresh token under the
//! chosen storage policy ([`token_store`]), every call carries `Authorization: Bearer`
//! ([`transport::with_bearer`]), and the [`refresher`](super::refresher) renews the pair
//! silently. The server cannot see the token while it renders a page, so data loads in the
//! browser after hydration.

use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

use super::{
    Loaded, ModeClient,
    token_store::{self, StoragePolicy},
};
#[cfg(feature = "hydrate")]
use super::{refresher, transport};
use crate::{
    error::AppError,
    fns,
    wire::{TokenPair, UserView},
};

/// The token sibling of the auth client.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenClient;

impl TokenClient {
    /// Chooses where tokens are kept. Tokens kept under the old policy are dropped (they
    /// cannot move into an HttpOnly cookie), so this logs token mode out.
    pub fn set_storage_policy(policy: StoragePolicy) {
        #[cfg(feature = "hydrate")]
        refresher::forget();
        token_store::set_policy(policy);
    }

    /// Keeps a new pair under the storage policy and starts refreshing it.
    fn keep(pair: TokenPair) {
        #[cfg(feature = "hydrate")]
        refresher::accept(pair);
        #[cfg(not(feature = "hydrate"))]
        let _ = pair;
    }
}

impl ModeClient for TokenClient {
    fn activate(self) {
        #[cfg(feature = "hydrate")]
        refresher::resume();
    }

    fn load<T, F, Fut>(self, version: RwSignal<u64>, fetch: F) -> Loaded<T>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        F: Fn() -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        // Loaded in the browser only: a page request carries no token.
        Loaded::Browser(LocalResource::new(move || {
            version.track();
            let fetch = fetch.clone();
            async move { self.call(fetch).await }
        }))
    }

    /// A token the server refuses gets one silent refresh and the call one retry.
    async fn call<T, F, Fut>(self, f: F) -> Result<T, AppError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        #[cfg(feature = "hydrate")]
        {
            transport::with_bearer(async {
                let first = f().await;
                if first.as_ref().is_err_and(AppError::is_invalid_token) {
                    refresher::refresh(true).await?;
                    return f().await;
                }
                first
            })
            .await
        }
        #[cfg(not(feature = "hydrate"))]
        {
            f().await
        }
    }

    async fn login(self, username: String, password: String) -> Result<UserView, AppError> {
        let policy = token_store::policy();
        let pair = fns::token_login(username.clone(), password, policy.refresh_in_cookie()).await?;
        Self::keep(pair);
        // The name is echoed for the caller; who is logged in comes from /me.
        Ok(UserView { id: 0, username })
    }

    /// Trades the provider callback's handoff cookie for a token pair, kept under the storage
    /// policy like a password login's.
    async fn finish_provider_sign_in(self) -> Result<(), AppError> {
        let policy = token_store::policy();
        let pair = fns::provider::provider_handoff(policy.refresh_in_cookie()).await?;
        Self::keep(pair);
        Ok(())
    }

    /// Revokes the token family on the server and drops the tokens here.
    async fn logout(self) -> Result<(), AppError> {
        let refresh = token_store::load().and_then(|t| t.refresh_token);
        let result = fns::token_logout(refresh).await;
        #[cfg(feature = "hydrate")]
        refresher::forget();
        result
    }

    fn access_token(self) -> Option<String> {
        token_store::load().map(|t| t.access_token)
    }

    fn rotations(self) -> Option<u32> {
        #[cfg(feature = "hydrate")]
        {
            Some(refresher::rotations())
        }
        #[cfg(not(feature = "hydrate"))]
        {
            Some(0)
        }
    }
}
